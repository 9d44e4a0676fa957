"""The cost invoices clients register, as Offers of the client's company
staged by their approval state."""
from trytond.i18n import gettext
from trytond.pool import PoolMeta

from .sync import Payload, Synced, client_link, money, product_rows


class CostInvoice(Synced, metaclass=PoolMeta):
    __name__ = 'portal.cost.invoice'
    _bitrix_kinds = [('cost_invoice', "Cost invoice")]

    def bitrix_kind(self):
        return 'cost_invoice'

    def bitrix_status(self):
        return self.state

    def bitrix_client(self):
        return self.client

    def bitrix_dependencies(self):
        return [self.client]

    def bitrix_payload(self, mapping, links):
        fields = dict(client_link(self.client, links),
            title=f'Koszt {self.number} — {self.supplier.rec_name}',
            currencyId=self.currency.code,
            opportunity=money(self.total_amount),
            isManualOpportunity='Y',
            comments=f'Dostawca: {self.supplier.rec_name}',
            begindate=self.invoice_date.isoformat())
        if self.due_date:
            fields['closedate'] = self.due_date.isoformat()
        return Payload(mapping.entity_type_id, fields,
            rows=product_rows(self.lines))

    def bitrix_set_status(self, status):
        "Approved, rejected or paid in Bitrix24, as in the back office"
        if self.state == 'submitted' and status == 'approved':
            self.__class__.approve([self])
        elif self.state == 'submitted' and status == 'rejected':
            self.__class__.do_reject([self],
                gettext('bitrix_bridge.msg_cost_rejected_in_bitrix'))
        elif self.state == 'approved' and status == 'paid':
            self.__class__.mark_paid([self])
        else:
            return False
        return True
