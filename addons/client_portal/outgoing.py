"""Invoices, proformas and corrections the clients issue to their own
customers, in the firm's name, from one of their sub-accounts.

They are account.invoice records of the firm (type out) whose buyer is one
of the client's contractors and whose portal_issuer is the client."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .invoice_template import PAYMENT_METHODS
from .product import GTU_CODES

KINDS = [
    (None, ""),
    ('invoice', "Invoice"),
    ('proforma', "Proforma"),
    ('correction', "Correction"),
    ]
# What the client sees, in this order of precedence
STATUSES = [
    ('draft', "Draft"),
    ('proforma', "Proforma"),
    ('issued', "Issued"),
    ('sent', "Sent"),
    ('partly_paid', "Partly paid"),
    ('paid', "Paid"),
    ('cancelled', "Cancelled"),
    ('corrected', "Corrected"),
    ]
LANGUAGES = [('pl', "Polish"), ('en', "English")]
SIDES = [(None, ""), ('before', "Before correction"),
    ('after', "After correction")]


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    portal_issuer = fields.Many2One(
        'party.party', "Issued by Client", readonly=True,
        ondelete='RESTRICT',
        help="The portal client who issued this invoice to its customer.")
    portal_subaccount = fields.Many2One(
        'portal.subaccount', "Sub-account", readonly=True,
        ondelete='RESTRICT')
    portal_template = fields.Many2One(
        'portal.invoice.template', "Template", readonly=True,
        ondelete='RESTRICT')
    portal_kind = fields.Selection(KINDS, "Client Document", readonly=True)
    portal_series = fields.Many2One(
        'portal.invoice.series', "Series", readonly=True)
    portal_sequence_number = fields.Integer("Number in Series", readonly=True)
    portal_sale_date = fields.Date("Sale Date",
        help="Date of supply or of completion of the service (P_6).")
    portal_payment_method = fields.Selection(
        [(None, "")] + PAYMENT_METHODS, "Payment Method")
    portal_due_date = fields.Date("Due Date")
    portal_language = fields.Selection(
        [(None, "")] + LANGUAGES, "Document Language")
    portal_issued_at = fields.Timestamp("Issued at", readonly=True)
    portal_proforma = fields.Many2One(
        'account.invoice', "From Proforma", readonly=True,
        ondelete='RESTRICT')
    portal_invoices = fields.One2Many(
        'account.invoice', 'portal_proforma', "Invoices from Proforma",
        readonly=True)
    portal_corrected = fields.Many2One(
        'account.invoice', "Corrected Invoice", readonly=True,
        ondelete='RESTRICT')
    portal_corrections = fields.One2Many(
        'account.invoice', 'portal_corrected', "Corrections",
        readonly=True)
    portal_correction_reason = fields.Char("Reason for Correction")
    # VAT in PLN of a foreign-currency invoice (VAT art. 31a, 106e ust. 11)
    portal_nbp_rate = fields.Numeric(
        "NBP Rate", digits=(16, 6), readonly=True)
    portal_nbp_table = fields.Char("NBP Table", readonly=True)
    portal_nbp_date = fields.Date("NBP Rate Date", readonly=True)
    portal_vat_pln = fields.Numeric(
        "VAT in PLN", digits=(16, 2), readonly=True)
    portal_status = fields.Function(
        fields.Selection(STATUSES, "Client Status"), 'get_portal_status')

    @fields.depends('portal_template')
    def _get_tax_context(self):
        context = super()._get_tax_context()
        if self.portal_template:
            context['_portal_tax_rounding'] = self.portal_template.tax_rounding
        return context

    @property
    def portal_client_document(self):
        return bool(self.portal_issuer)

    @classmethod
    def get_portal_status(cls, invoices, name):
        return {i.id: i._portal_status() for i in invoices}

    def _portal_status(self):
        if not self.portal_issuer:
            return None
        if self.state == 'cancelled':
            return 'cancelled'
        if self.portal_kind == 'proforma':
            return 'proforma' if self.number else 'draft'
        if self.state in {'draft', 'validated'}:
            return 'draft'
        if self.portal_corrections:
            return 'corrected'
        if self.state == 'paid' or self.amount_to_pay == 0:
            return 'paid'
        if self.payment_lines:
            return 'partly_paid'
        if self.portal_sent:
            return 'sent'
        return 'issued'

    @property
    def portal_sent(self):
        Email = Pool().get('portal.invoice.email')
        return bool(Email.search([
                    ('invoice', '=', self.id), ('state', '=', 'sent')],
                limit=1))


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    portal_product = fields.Many2One(
        'portal.product', "Client Product", ondelete='SET NULL')
    portal_gtu = fields.Selection(GTU_CODES, "GTU Code")
    portal_list_price = fields.Numeric(
        "Price before Discount", digits=(16, 2))
    portal_discount = fields.Numeric(
        "Discount (%)", digits=(5, 2),
        domain=['OR', ('portal_discount', '=', None),
            [('portal_discount', '>=', 0), ('portal_discount', '<', 100)]])
    portal_side = fields.Selection(SIDES, "Correction Side",
        states={'invisible': ~Eval('portal_side')})


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'

    def get_multivalue(self, name, **pattern):
        # A client's invoice rounds VAT as its template says
        # (art. 106e ust. 1 pkt 14 or ust. 10)
        if name == 'tax_rounding':
            rounding = Transaction().context.get('_portal_tax_rounding')
            if rounding:
                return rounding
        return super().get_multivalue(name, **pattern)
