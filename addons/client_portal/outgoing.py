"""Invoices, proformas and corrections the clients issue to their own
customers, in the firm's name, from one of their sub-accounts.

They are account.invoice records of the firm (type out) whose buyer is one
of the client's contractors and whose portal_issuer is the client."""
import datetime
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from sql import Null

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, dualmethod, fields
from trytond.modules.account.exceptions import PeriodNotFoundError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)

from .invoice_template import PAYMENT_METHODS
from .party import EMAIL
from .product import GTU_CODES

KINDS = [
    (None, ""),
    ('invoice', "Invoice"),
    ('proforma', "Proforma"),
    ('correction', "Correction"),
    ]
# What the client sees, in this order of precedence
STATUSES = [
    (None, ""),
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


class _LocksError(TransactionError):
    "Several row locks missing: the restart takes them all at once"

    def __init__(self, errors):
        super().__init__()
        self.errors = errors

    def fix(self, extras):
        for error in self.errors:
            error.fix(extras)


@contextmanager
def _as_system(company):
    """The accounting a portal action needs, done as the system for the
    firm, once the caller has read the client's record under the rules"""
    with without_check_access(), Transaction().set_context(
            company=company.id):
        yield


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
    # Stored, so that the client's list filters and sorts on it; kept in
    # step on issue, payment, correction and sending
    portal_status = fields.Selection(
        STATUSES, "Client Status", readonly=True)

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
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {'portal_status'}
        t = cls.__table__()
        # A client's own invoices are a few among the firm's many: its
        # lists and reports find them by issuer and date
        cls._sql_indexes.add(Index(t, (t.portal_issuer, Index.Equality()),
                (t.invoice_date, Index.Range(order='DESC')),
                where=t.portal_issuer != Null))

    @classmethod
    def portal_refresh_status(cls, invoices):
        to_write = []
        for invoice in cls.browse([i for i in invoices if i.portal_issuer]):
            status = invoice._portal_status()
            if status != invoice.portal_status:
                to_write.extend([[invoice], {'portal_status': status}])
        if to_write:
            with without_check_access():
                cls.write(*to_write)

    @dualmethod
    def update_taxes(cls, invoices, exception=False):
        if not exception and Transaction().context.get('_portal_taxes_done'):
            # The issue writes a draft whose taxes were computed when it
            # was saved and whose lines it does not change; the check at
            # posting (exception=True) still runs
            return
        return super().update_taxes(invoices, exception=exception)

    @classmethod
    def on_modification(cls, mode, invoices, field_names=None):
        super().on_modification(mode, invoices, field_names=field_names)
        if Transaction().context.get('_portal_status_later'):
            # An issue sets the status once at its end
            return
        if mode == 'create' or (field_names and field_names
                & {'state', 'payment_lines', 'reconciled', 'number'}):
            cls.portal_refresh_status(invoices)

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

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        for name in ['portal_series', 'portal_sequence_number',
                'portal_issued_at', 'portal_proforma', 'portal_invoices',
                'portal_corrected', 'portal_corrections',
                'portal_correction_reason', 'portal_nbp_rate',
                'portal_nbp_table', 'portal_nbp_date', 'portal_vat_pln',
                'portal_emails']:
            if name in cls._fields:
                default.setdefault(name, None)
        return super().copy(invoices, default=default)

    @classmethod
    def validate(cls, invoices):
        super().validate(invoices)
        for invoice in invoices:
            if (invoice.portal_kind == 'proforma'
                    and invoice.state not in {'draft', 'cancelled'}):
                # A proforma is no tax document: it is never posted
                raise UserError(gettext(
                        'client_portal.msg_proforma_not_posted',
                        number=invoice.number or ''))

    @property
    def portal_editable(self):
        return (self.state == 'draft' and not self.number
            and bool(self.portal_issuer))

    @property
    def portal_tax_point(self):
        """The day whose previous business day's NBP rate converts the VAT:
        the sale date, or the issue date when issued before the sale
        (VAT art. 31a ust. 1 and 2)"""
        dates = [d for d in (self.invoice_date, self.portal_sale_date) if d]
        return min(dates) if dates else None

    @property
    def portal_before_lines(self):
        """What a correction of this document starts from: the lines in
        force after it (an invoice's lines, a correction's "after" lines)"""
        return [l for l in self.lines if l.type == 'line'
            and l.portal_side != 'before']

    @classmethod
    def portal_save_draft(cls, client, form, invoice=None):
        """Create or rewrite the client's draft from a valid editor form.
        The caller has read `invoice` under the portal's rules; the
        accounting fields it needs are written as the system."""
        pool = Pool()
        Party = pool.get('party.party')
        Line = pool.get('account.invoice.line')
        Template = pool.get('portal.invoice.template')
        assert form.valid
        if invoice is not None and (not invoice.portal_editable
                or invoice.portal_issuer != client):
            raise UserError(gettext('client_portal.msg_invoice_not_editable',
                    number=invoice.number or ''))
        with without_check_access():
            subaccount = pool.get('portal.subaccount')(form.subaccount)
        with _as_system(subaccount.company):
            template = Template(form.template)
            contractor = Party(form.contractor)
            if invoice is None:
                invoice = cls(company=subaccount.company, type='out',
                    portal_issuer=client, portal_kind='invoice')
                invoice.set_journal()
            invoice.party = contractor
            invoice.on_change_party()
            invoice.payment_term = None
            invoice.currency = subaccount.currency
            invoice.portal_subaccount = subaccount
            invoice.portal_template = template
            invoice.invoice_date = form.invoice_date
            invoice.portal_sale_date = form.sale_date or form.invoice_date
            invoice.portal_payment_method = form.payment_method
            invoice.portal_due_date = form.due_date
            invoice.payment_term_date = form.due_date
            invoice.portal_language = form.language
            invoice.comment = form.note or None
            if invoice.portal_kind == 'correction':
                invoice.portal_correction_reason = form.reason or None
            if invoice.id and invoice.id > 0:
                Line.delete([l for l in invoice.lines])
            invoice.lines = [cls._portal_line(template, form, line)
                for line in form.lines]
            invoice.save()
            cls.update_taxes([invoice])
        return cls(invoice.id)

    @classmethod
    def _portal_line(cls, template, form, line):
        pool = Pool()
        Line = pool.get('account.invoice.line')
        Tax = pool.get('account.tax')
        return Line(
            type='line',
            company=template.company,
            currency=form.lookups.subaccounts[form.currency][1],
            description=line.description,
            quantity=float(line.quantity),
            unit=line.unit,
            unit_price=line.unit_price,
            account=template.account_revenue,
            taxes=[Tax(line.tax)],
            portal_product=line.product,
            portal_gtu=line.gtu,
            portal_annex15=line.annex15,
            portal_list_price=line.price,
            portal_discount=line.discount,
            portal_side=('after' if form.kind == 'correction' else None),
            )

    @classmethod
    def portal_issue(cls, invoice, proforma=False, send=False, render=True):
        """Issue the client's draft: number, NBP rate, moves, stored PDF
        and e-mail, all in the caller's transaction. Raise UserError, before
        anything is written when it can be known beforehand, otherwise the
        caller rolls the transaction back."""
        pool = Pool()
        Date = pool.get('ir.date')
        Email = pool.get('portal.invoice.email')
        with without_check_access():
            company = cls(invoice.id).company
            kind = cls(invoice.id).portal_kind
        with _as_system(company), Transaction().set_context(
                _portal_status_later=True,
                _portal_taxes_done=kind != 'correction'):
            invoice = cls(invoice.id)
            cls._portal_check_issue(invoice, proforma)
            today = Date.today()
            if not invoice.invoice_date:
                invoice.invoice_date = today
            template = invoice.portal_template
            if invoice.portal_kind == 'correction':
                series = template.correction_series
            elif proforma:
                series = template.proforma_series
            else:
                series = template.invoice_series
            cls._portal_lock(invoice, series, proforma)
            if invoice.portal_kind == 'correction':
                cls._portal_add_before_lines(invoice)
                date = invoice.invoice_date
                invoice = cls(invoice.id)
                invoice.invoice_date = date
            elif proforma:
                invoice.portal_kind = 'proforma'
            invoice.portal_series = series
            cls._portal_set_rate(invoice)
            number, code = series.take_number(invoice.invoice_date.year)
            invoice.portal_sequence_number = number
            invoice.number = code
            invoice.portal_issued_at = datetime.datetime.now()
            if invoice.portal_kind != 'correction':
                # The draft's taxes are up to date: one write (each write
                # of a draft recomputes its taxes)
                cls._portal_set_vat_pln(invoice)
            invoice.save()
            if invoice.portal_kind == 'correction':
                invoice = cls(invoice.id)
                cls._portal_set_vat_pln(invoice)
                invoice.save()
            if invoice.portal_kind != 'proforma':
                cls.post([invoice])
            invoice = cls(invoice.id)
        cls.portal_refresh_status(
            [invoice] + ([invoice.portal_corrected]
                if invoice.portal_corrected else []))
        with _as_system(company):
            if render:
                cls.print_invoice([invoice])
            if send and invoice.portal_buyer_email:
                Email.queue(invoice)
        return invoice

    @staticmethod
    def _portal_set_vat_pln(invoice):
        if invoice.portal_nbp_rate:
            # VAT art. 106e ust. 11: the VAT shown in złoty, converted per
            # rate as FA(3) P_14_xW is, so that the PDF and the XML agree
            invoice.portal_vat_pln = sum(
                ((t.amount * invoice.portal_nbp_rate).quantize(
                        Decimal('0.01'), rounding=ROUND_HALF_UP)
                    for t in invoice.taxes), Decimal(0))

    @classmethod
    def _portal_lock(cls, invoice, series, proforma):
        """Take the rows an issue locks before anything else: the series,
        and for a posted document the journal's move sequence. trytond
        restarts a transaction at its first lock of a row; doing it first
        costs the restart nothing."""
        pool = Pool()
        Series = pool.get('portal.invoice.series')
        Period = pool.get('account.period')
        errors = []
        try:
            Series.lock([series])
        except TransactionError as error:
            errors.append(error)
        if not proforma:
            period = Period.find(invoice.company, date=invoice.invoice_date)
            sequence = period.move_sequence_used
            try:
                sequence.__class__.lock([sequence])
            except TransactionError as error:
                errors.append(error)
        if errors:
            raise _LocksError(errors)

    @property
    def portal_buyer_email(self):
        return self.party.email if self.party else None

    @classmethod
    def _portal_check_issue(cls, invoice, proforma):
        pool = Pool()
        Period = pool.get('account.period')

        def fail(message_id, **kwargs):
            raise UserError(gettext(
                    f'client_portal.{message_id}', **kwargs))
        if not invoice.portal_editable:
            fail('msg_invoice_not_editable', number=invoice.number or '')
        client = invoice.portal_issuer
        if client not in invoice.portal_template.clients:
            fail('msg_invoice_no_template')
        if proforma and invoice.portal_kind == 'correction':
            fail('msg_invoice_not_editable', number='')
        lines = [l for l in invoice.lines if l.type == 'line']
        if not lines:
            fail('msg_invoice_no_lines')
        if invoice.portal_kind != 'correction' and any(
                (l.quantity or 0) <= 0 for l in lines):
            fail('msg_invoice_quantity_positive')
        if invoice.portal_subaccount.currency != invoice.currency:
            fail('msg_invoice_currency_no_subaccount',
                currency=invoice.currency.code)
        if not proforma:
            try:
                Period.find(invoice.company, date=invoice.invoice_date)
            except PeriodNotFoundError:
                fail('msg_invoice_date_closed_period')

    @classmethod
    def _portal_set_rate(cls, invoice):
        pool = Pool()
        Currency = pool.get('currency.currency')
        if invoice.currency == invoice.company.currency:
            return
        corrected = invoice.portal_corrected
        if corrected and corrected.portal_nbp_rate:
            # A correction keeps the rate of the invoice it corrects
            invoice.portal_nbp_rate = corrected.portal_nbp_rate
            invoice.portal_nbp_table = corrected.portal_nbp_table
            invoice.portal_nbp_date = corrected.portal_nbp_date
            return
        rate = Currency.portal_nbp_rate(
            invoice.currency, invoice.portal_tax_point)
        invoice.portal_nbp_rate = rate.mid
        invoice.portal_nbp_table = rate.table
        invoice.portal_nbp_date = rate.date

    @classmethod
    def _portal_add_before_lines(cls, correction):
        "The corrected document's lines, negated: totals become differences"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        for line in correction.portal_corrected.portal_before_lines:
            Line.copy([line], default={
                    'invoice': correction.id,
                    'quantity': -line.quantity,
                    'portal_side': 'before',
                    'origin': str(line),
                    })

    @classmethod
    def portal_correct(cls, invoice):
        "A draft correction of an issued invoice, starting from its lines"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        if (invoice.portal_kind not in {'invoice', 'correction'}
                or invoice.state not in {'posted', 'paid'}):
            raise UserError(gettext(
                    'client_portal.msg_invoice_not_correctable',
                    number=invoice.number or ''))
        with _as_system(invoice.company):
            correction, = cls.copy([invoice], default={
                    'lines': None,
                    'portal_kind': 'correction',
                    'portal_corrected': invoice.id,
                    'invoice_date': None,
                    })
            Line.copy(invoice.portal_before_lines, default={
                    'invoice': correction.id,
                    'portal_side': 'after',
                    'origin': None,
                    })
            cls.update_taxes([correction])
        return cls(correction.id)

    @classmethod
    def portal_duplicate(cls, invoice):
        "A new draft invoice with the document's buyer, terms and lines"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        with _as_system(invoice.company):
            copy, = cls.copy([invoice], default={
                    'lines': None,
                    'portal_kind': 'invoice',
                    })
            Line.copy(invoice.portal_before_lines, default={
                    'invoice': copy.id,
                    'portal_side': None,
                    'origin': None,
                    })
            cls.update_taxes([copy])
        return cls(copy.id)

    @classmethod
    def portal_invoice_proforma(cls, proforma, send=False, render=True):
        """Turn an issued proforma into an invoice in one step: same lines,
        issued today, linked both ways"""
        pool = Pool()
        Date = pool.get('ir.date')
        Line = pool.get('account.invoice.line')
        if proforma.portal_status != 'proforma' or proforma.portal_invoices:
            raise UserError(gettext(
                    'client_portal.msg_proforma_already_invoiced',
                    number=proforma.number or ''))
        with _as_system(proforma.company):
            today = Date.today()
            invoice, = cls.copy([proforma], default={
                    'lines': None,
                    'portal_kind': 'invoice',
                    'portal_proforma': proforma.id,
                    'invoice_date': today,
                    })
            Line.copy(proforma.portal_before_lines, default={
                    'invoice': invoice.id, 'origin': None})
            cls.update_taxes([invoice])
        return cls.portal_issue(invoice, send=send, render=render)

    @classmethod
    def portal_cancel_draft(cls, invoice):
        if not invoice.portal_editable:
            raise UserError(gettext('client_portal.msg_invoice_not_editable',
                    number=invoice.number or ''))
        with _as_system(invoice.company):
            cls.cancel([invoice])

    @classmethod
    def portal_send(cls, invoice, recipient=None):
        "Queue the issued document's e-mail again, to the buyer or another"
        pool = Pool()
        Email = pool.get('portal.invoice.email')
        if invoice.portal_editable or invoice.state == 'cancelled':
            raise UserError(gettext('client_portal.msg_invoice_not_issued'))
        recipient = recipient or invoice.portal_buyer_email
        if not recipient or not EMAIL.match(recipient):
            raise UserError(gettext('client_portal.msg_invalid_email'))
        with _as_system(invoice.company):
            Email.queue(invoice, recipient)

    def portal_preview_pdf(self):
        "The draft's PDF as it would be issued, rendered and not stored"
        pool = Pool()
        PDF = pool.get('account.invoice.portal_pdf', type='report')
        with without_check_access(), Transaction().set_context(
                language=self.portal_language or 'pl'):
            _, content, _, _ = PDF.execute([self.id], {})
        return content

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
    portal_annex15 = fields.Boolean("Annex 15 Goods or Services",
        help="Listed in załącznik nr 15 of the VAT Act: over 15 000 zł "
        "the invoice must say \"mechanizm podzielonej płatności\".")
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
