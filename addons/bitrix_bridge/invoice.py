"""The invoices, corrections and proformas a client issues to its own
customers, as Offers of the client's company staged by their status."""
from trytond.pool import PoolMeta

from .sync import Payload, Synced, client_link, money, product_rows


class Invoice(Synced, metaclass=PoolMeta):
    __name__ = 'account.invoice'
    _bitrix_kinds = [
        ('outgoing', "Client's invoice"),
        ('proforma', "Client's proforma"),
        ]

    def bitrix_kind(self):
        if not self.portal_issuer:
            return None
        return 'proforma' if self.portal_kind == 'proforma' else 'outgoing'

    def bitrix_status(self):
        return self.portal_status

    def bitrix_client(self):
        return self.portal_issuer

    def bitrix_dependencies(self):
        return [self.portal_issuer]

    def bitrix_payload(self, mapping, links):
        number = self.number or 'projekt'
        fields = dict(client_link(self.portal_issuer, links),
            title=f'{number} — {self.party.rec_name}',
            currencyId=self.currency.code,
            opportunity=money(self.total_amount),
            isManualOpportunity='Y',
            comments=f'Nabywca: {self.party.rec_name}',
            begindate=(self.invoice_date or self.create_date.date()
                ).isoformat())
        if self.portal_due_date:
            fields['closedate'] = self.portal_due_date.isoformat()
        return Payload(mapping.entity_type_id, fields,
            rows=product_rows(self.lines))
