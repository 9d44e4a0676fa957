"""Contracts mirrored into Bitrix24 when the bridge is installed: an Offer
of the client's company per contract, staged by its state. Payroll bills
need nothing here: they are portal documents, which the bridge mirrors."""
from trytond.pool import PoolMeta

from bitrix_bridge.sync import Payload, Synced, client_link, money


class Contract(Synced, metaclass=PoolMeta):
    __name__ = 'payroll.contract'
    _bitrix_kinds = [('contract', "Civil-law contract")]

    def bitrix_kind(self):
        # A draft is the client's work in progress
        return 'contract' if self.state != 'draft' else None

    def bitrix_status(self):
        return self.state

    def bitrix_client(self):
        return self.client

    def bitrix_dependencies(self):
        return [self.client]

    def bitrix_payload(self, mapping, links):
        fields = dict(client_link(self.client, links),
            title=f'Umowa {self.number} — {self.contractor.rec_name}',
            currencyId=self.currency.code,
            opportunity=money(self.amount if self.rate_type == 'lump_sum'
                else 0),
            isManualOpportunity='Y',
            comments=self.subject or '',
            begindate=self.start_date.isoformat())
        if self.end_date:
            fields['closedate'] = self.end_date.isoformat()
        return Payload(mapping.entity_type_id, fields, rows=[])
