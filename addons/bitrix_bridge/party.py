"""Clients and their contractors as Bitrix24 companies (a consumer as a
contact), through the legacy methods (facts: BITRIX24.md §5.3) with
ORIGINATOR_ID/ORIGIN_ID as Portico's key."""
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from .mapping import CONTACT
from .sync import Payload, Synced


class Party(Synced, metaclass=PoolMeta):
    __name__ = 'party.party'
    _bitrix_kinds = [
        ('client', "Client"),
        ('contractor', "Client's contractor"),
        ]

    bitrix_sync = fields.Boolean("Mirror to Bitrix24",
        states={'invisible': ~Eval('portal_client')},
        help="The client's records are sent to the firm's Bitrix24.")

    @classmethod
    def default_bitrix_sync(cls):
        return True

    def bitrix_kind(self):
        if self.portal_client:
            return 'client'
        if self.portal_owner:
            return 'contractor'
        return None

    def bitrix_status(self):
        return 'consumer' if self.portal_consumer else None

    def bitrix_client(self):
        return self if self.portal_client else self.portal_owner

    def bitrix_payload(self, mapping, links):
        fields = {}
        if mapping.entity_type_id == CONTACT:
            first, _, last = (self.name or '').rpartition(' ')
            fields.update(NAME=first or last, LAST_NAME=last if first else '')
        else:
            fields.update(TITLE=self.name,
                COMPANY_TYPE='CUSTOMER' if self.portal_client else 'PARTNER')
        for name, type_ in [('EMAIL', 'email'), ('PHONE', 'phone')]:
            mechanism = self.contact_mechanism_get({type_})
            fields[name] = [{'VALUE': mechanism.value, 'VALUE_TYPE': 'WORK'}
                ] if mechanism else []
        notes = []
        if self.tax_identifier:
            notes.append(f'{self.tax_identifier.type_string}: '
                f'{self.tax_identifier.code}')
        address = self.address_get()
        if address:
            notes.append(address.full_address.replace('\n', ', '))
        if self.portal_owner:
            notes.append(f'Kontrahent klienta {self.portal_owner.rec_name}')
        fields['COMMENTS'] = '\n'.join(notes)
        return Payload(mapping.entity_type_id, fields)
