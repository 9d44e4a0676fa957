"""The clients' products in the Bitrix24 catalog, when the mapping asks
for catalog products (facts: BITRIX24.md §5.3; an administrator's webhook)."""
from trytond.pool import PoolMeta

from .sync import Payload, Synced


class Product(Synced, metaclass=PoolMeta):
    __name__ = 'portal.product'
    _bitrix_kinds = [('product', "Client's product")]

    def bitrix_kind(self):
        return 'product'

    def bitrix_client(self):
        return self.client

    def bitrix_payload(self, mapping, links):
        return Payload(mapping.entity_type_id, {
                'name': f'{self.name} ({self.client.rec_name})',
                'active': 'Y' if getattr(self, 'active', True) else 'N',
                })
