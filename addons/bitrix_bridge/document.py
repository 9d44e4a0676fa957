"""The firm's documents of a client (invoices, credit notes, proformas,
payroll bills) as Offers of the client's company, staged by their state
or, for a proforma, by the client's decision."""
from trytond.pool import Pool, PoolMeta

from .sync import Payload, Synced, client_link, money, product_rows


class Document(Synced, metaclass=PoolMeta):
    __name__ = 'portal.document'
    _bitrix_kinds = [('document', "Firm's document")]

    def bitrix_kind(self):
        return 'document'

    def bitrix_status(self):
        # An open proforma the client accepted or declined moves to the
        # decision's stage
        if (self.document_type == 'proforma' and self.state == 'issued'
                and self.acceptance in {'accepted', 'declined'}):
            return self.acceptance
        return self.state

    def bitrix_client(self):
        return self.party

    def bitrix_dependencies(self):
        return [self.party]

    @classmethod
    def _bitrix_ignored_fields(cls):
        # The first download is the client's, not a change of the document
        return super()._bitrix_ignored_fields() | {
            'first_downloaded_at', 'first_downloaded_by',
            'overdue_announced'}

    def bitrix_payload(self, mapping, links):
        types = dict(self.fields_get(['document_type'])['document_type'][
                'selection'])
        lines = getattr(self.origin, 'lines', None) or []
        fields = dict(client_link(self.party, links),
            title=f'{types.get(self.document_type)} {self.number}',
            currencyId=self.currency.code,
            opportunity=money(self.total),
            isManualOpportunity='Y',
            begindate=self.date.isoformat(),
            closedate=(self.due_date or self.date).isoformat())
        return Payload(mapping.entity_type_id, fields,
            rows=product_rows(lines))


class Decision(metaclass=PoolMeta):
    __name__ = 'portal.document.decision'

    @classmethod
    def decided(cls, decisions):
        super().decided(decisions)
        Outbox = Pool().get('bitrix.outbox')
        # The decision is no field of the document: its stage changes
        # without a write that Synced would see
        Outbox.enqueue(list({d.document for d in decisions}))
