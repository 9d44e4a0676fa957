"""The firm's proformas: an invoice to a portal client that the firm
validates (and does not post yet) is shown to the client as a proforma,
which the client can accept or decline (acceptance.py).

Its PDF is rendered once, at validation, and stored apart from the
invoice's own: the invoice posted later gets its VAT invoice PDF, while
the proforma's stays what the client saw and decided on. The portal
document of the proforma becomes the invoice's when it is posted (one
origin, one document); back to draft or cancelled, the proforma is
cancelled. A proforma is no debt: it counts nothing to pay."""
import datetime
from decimal import Decimal

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    portal_proforma_number = fields.Char("Proforma Number", readonly=True,
        states={'invisible': ~Eval('portal_proforma_number')},
        help="Given when the invoice is first validated, from the "
        "proformas' own sequence.")
    portal_proforma_pdf = fields.Binary("Proforma PDF", readonly=True)
    portal_proforma_at = fields.Timestamp(
        "Proforma Issued", readonly=True,
        help="When the client was shown the validated invoice as a "
        "proforma on the portal.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {
            'portal_proforma_number', 'portal_proforma_pdf',
            'portal_proforma_at'}

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('portal_proforma_number', None)
        default.setdefault('portal_proforma_pdf', None)
        default.setdefault('portal_proforma_at', None)
        return super().copy(invoices, default=default)

    def _portal_proforma_state(self):
        """The state of the firm's proforma on the portal: 'issued' while
        the invoice is validated, 'cancelled' once it is back to draft or
        cancelled after it was shown; None for any other invoice"""
        with without_check_access():
            if (self.type != 'out' or self.portal_issuer or self.number
                    or not self.party.portal_client):
                return None
            if self.state == 'validated':
                return 'issued'
            if self.portal_proforma_at:
                return 'cancelled'

    @property
    def portal_firm_proforma(self):
        return self._portal_proforma_state() == 'issued'

    @property
    def portal_issued(self):
        return (super().portal_issued
            or self._portal_proforma_state() is not None)

    @property
    def portal_pdf_title(self):
        if self.portal_firm_proforma:
            return 'proforma'
        return super().portal_pdf_title

    @property
    def portal_pdf_draft(self):
        if self.portal_firm_proforma:
            return False
        return super().portal_pdf_draft

    def _portal_document_values(self):
        pool = Pool()
        Date = pool.get('ir.date')
        state = self._portal_proforma_state()
        if state is None:
            return super()._portal_document_values()
        return {
            'company': self.company.id,
            'party': self.party.id,
            'number': self.portal_proforma_number,
            'document_type': 'proforma',
            'date': self.invoice_date or Date.today(),
            'due_date': self.portal_payment_due,
            'currency': self.currency.id,
            'tax_base': self.untaxed_amount,
            'vat': self.tax_amount,
            'total': self.total_amount,
            'paid': Decimal(0),
            'remaining': Decimal(0),
            'state': state,
            }

    def get_portal_pdf(self):
        if self._portal_proforma_state() is not None:
            with without_check_access():
                values, = self.read([self.id], ['portal_proforma_pdf'])
            return values['portal_proforma_pdf']
        return super().get_portal_pdf()

    @classmethod
    def validate_invoice(cls, invoices):
        cls._number_portal_proformas(invoices)
        super().validate_invoice(invoices)
        cls.print_portal_proforma(
            [i for i in cls.browse(invoices) if i.portal_firm_proforma])

    @classmethod
    def _number_portal_proformas(cls, invoices):
        """The number of the proformas these invoices become, from their
        own strict sequence: before the validation, which shows them on
        the portal; once (validated again, a proforma keeps its number)"""
        pool = Pool()
        Sequence = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')
        with without_check_access():
            unnumbered = [i for i in invoices
                if i.state == 'draft' and i.type == 'out'
                and not i.portal_issuer and not i.number
                and i.party.portal_client and not i.portal_proforma_number]
            if not unnumbered:
                return
            sequence = Sequence(ModelData.get_id(
                    'client_portal', 'sequence_portal_proforma'))
            for invoice in unnumbered:
                invoice.portal_proforma_number = sequence.get()
            cls.save(unnumbered)

    @classmethod
    def print_portal_proforma(cls, invoices):
        "Render and store the proformas' PDF, as the client sees it"
        pool = Pool()
        PDF = pool.get('account.invoice.portal_pdf', type='report')
        if not invoices:
            return
        now = datetime.datetime.now()
        for invoice in invoices:
            with Transaction().set_context(
                    language=invoice.portal_report_language):
                _, content, _, _ = PDF.execute([invoice.id], {})
            invoice.portal_proforma_pdf = content
            invoice.portal_proforma_at = now
        cls.save(invoices)

    @classmethod
    def _post(cls, invoices):
        Document = Pool().get('portal.document')
        Notification = Pool().get('portal.notification')
        with without_check_access():
            proformas = Document.search([
                    ('origin', 'in', [str(i) for i in invoices]),
                    ('document_type', '=', 'proforma'),
                    ])
        super()._post(invoices)
        # The proforma's document is now the invoice's: a new document for
        # the client, announced as the other invoices are
        with without_check_access():
            invoiced = [d for d in Document.browse(proformas)
                if d.document_type != 'proforma']
            if invoiced:
                Notification.notify_new_documents(invoiced)
