from collections import defaultdict
from decimal import Decimal

from trytond.cache import Cache
from trytond.model import fields
from trytond.modules.company import CompanyReport
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from . import formatting
from .document import sync_documents
from .pdf import html_to_pdf, logo_data_uri

# Fields whose change can move an invoice's state or paid amount
_PAYMENT_FIELDS = {'state', 'payment_lines', 'move', 'reconciled'}


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    _portal_details_cache = Cache(
        'account.invoice.portal_details', context=False)
    portal_first_downloaded_at = fields.Function(
        fields.Timestamp("First Downloaded by Client"),
        'get_portal_first_downloaded_at')

    @property
    def portal_issued(self):
        "The invoice is shown to the client on the portal"
        return (self.type == 'out' and self.party.portal_client
            and self.state in {'posted', 'paid', 'cancelled'}
            and bool(self.number))

    @classmethod
    def _post(cls, invoices):
        super()._post(invoices)
        to_issue = [i for i in invoices if i.portal_issued]
        if to_issue:
            # Rendered once, at issue, and stored: never re-rendered later
            cls.print_invoice(to_issue)
            sync_documents(to_issue)

    @classmethod
    def on_modification(cls, mode, invoices, field_names=None):
        super().on_modification(mode, invoices, field_names=field_names)
        cls._portal_details_cache.clear()
        if (mode == 'write' and field_names
                and field_names & _PAYMENT_FIELDS):
            sync_documents([i for i in cls.browse(invoices)
                    if i.portal_issued])

    @classmethod
    def print_invoice(cls, invoices):
        pool = Pool()
        PDF = pool.get('account.invoice.portal_pdf', type='report')
        own = [i for i in invoices
            if i.type == 'out' and not i.invoice_report_cache]
        for invoice in own:
            with Transaction().set_context(
                    language=invoice.portal_report_language):
                _, content, _, _ = PDF.execute([invoice.id], {})
            invoice.invoice_report_format = 'pdf'
            invoice.invoice_report_cache = cls.invoice_report_cache.cast(
                content)
        cls.save(own)
        super().print_invoice([i for i in invoices if i not in own])

    def get_portal_pdf(self):
        # One read of the two columns, not of the whole invoice first;
        # like reading an attribute of the record, without access checks:
        # the caller holds the record
        with without_check_access():
            values, = self.read([self.id], [
                    'invoice_report_format', 'invoice_report_cache'])
        if values['invoice_report_format'] == 'pdf':
            return values['invoice_report_cache']

    @classmethod
    def get_portal_first_downloaded_at(cls, invoices, name):
        pool = Pool()
        Document = pool.get('portal.document')
        result = {i.id: None for i in invoices}
        documents = Document.search([
                ('origin', 'in', [str(i) for i in invoices]),
                ])
        for document in documents:
            result[document.origin.id] = document.first_downloaded_at
        return result

    @property
    def portal_payment_due(self):
        "The due date the client chose, else the earliest maturity"
        if self.portal_due_date:
            return self.portal_due_date
        dates = [l.maturity_date for l in self.lines_to_pay
            if l.maturity_date]
        return min(dates) if dates else (
            self.payment_term_date or self.invoice_date)

    def _portal_document_values(self):
        if not self.portal_issued:
            return
        total = self.total_amount
        if self.state == 'paid':
            paid = total
        elif self.state == 'cancelled':
            paid = Decimal(0)
        else:
            paid = total - self.amount_to_pay
        paid = self.currency.round(paid)
        if self.state == 'cancelled':
            state = 'cancelled'
        elif self.state == 'paid' or paid == total:
            state = 'paid'
        else:
            state = 'issued'
        return {
            'company': self.company.id,
            'party': self.party.id,
            'number': self.number,
            'document_type': 'credit_note' if total < 0 else 'invoice',
            'date': self.invoice_date,
            'due_date': self.portal_payment_due,
            'currency': self.currency.id,
            'tax_base': self.untaxed_amount,
            'vat': self.tax_amount,
            'total': total,
            'paid': paid,
            'remaining': self.currency.round(
                total - paid if state == 'issued' else Decimal(0)),
            'state': state,
            }

    def get_portal_details(self):
        """The invoice's lines, VAT summary and payment details as values;
        an issued invoice does not change, so they are cached"""
        transaction = Transaction()
        key = (transaction.database.name, self.id, transaction.language)
        details = self._portal_details_cache.get(key)
        if details is None:
            details = self._portal_details_cache.set(
                key, self._get_portal_details())
        return details

    def _get_portal_details(self):
        credit = self.total_amount < 0
        return {
            'lines': [{
                    'description': (line.description
                        or (line.product.rec_name if line.product else '')),
                    'unit': line.unit.symbol if line.unit else '',
                    'quantity': line.quantity,
                    'quantity_digits': line.unit.digits if line.unit else 2,
                    'unit_price': line.unit_price,
                    'amount': line.amount,
                    'taxes': ', '.join(t.description or t.name
                        for t in line.taxes),
                    } for line in self.lines if line.type == 'line'],
            'taxes': [{'rate': rate, 'base': base, 'amount': amount,
                    'total': base + amount}
                for rate, base, amount in self.portal_tax_rows],
            'payment_term': (self.payment_term.rec_name
                if self.payment_term else None),
            'bank_accounts': ([] if credit
                else self.portal_company_bank_accounts),
            'transfer_title': None if credit else self.number,
            'refund': credit,
            'corrects': [{'origin': str(i), 'number': i.number,
                    'date': i.invoice_date}
                for i in self.portal_corrected_invoices],
            'comment': self.comment,
            }

    @property
    def portal_corrected_invoices(self):
        "The invoices a corrective invoice corrects, from its lines' origins"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        corrected = []
        for line in self.lines:
            origin = line.origin
            if isinstance(origin, Line) and origin.invoice \
                    and origin.invoice != self \
                    and origin.invoice not in corrected:
                corrected.append(origin.invoice)
        return corrected

    @property
    def portal_tax_rows(self):
        "Net and VAT per rate, as art. 106e requires them on the invoice"
        rows = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for tax in self.taxes:
            key = tax.tax.description if tax.tax else tax.description
            rows[key][0] += tax.base
            rows[key][1] += tax.amount
        return [(k, v[0], v[1]) for k, v in sorted(rows.items())]

    @property
    def portal_pln_rate(self):
        """NBP mid rate of the last business day before the invoice date
        (VAT art. 31a), as (rate, date), for invoices in another currency"""
        pool = Pool()
        Rate = pool.get('currency.currency.rate')
        if self.currency == self.company.currency or not self.invoice_date:
            return None
        rates = Rate.search([
                ('currency', '=', self.currency.id),
                ('date', '<', self.invoice_date),
                ], order=[('date', 'DESC')], limit=1)
        if not rates:
            return None
        rate, = rates
        # Tryton stores how much of the currency one unit of the company
        # currency buys; the NBP publishes the inverse.
        return (Decimal(1) / rate.rate).quantize(Decimal('0.0001')), rate.date

    @property
    def portal_company_bank_accounts(self):
        "IBANs of the firm for this currency, else all of its accounts"
        pool = Pool()
        Account = pool.get('bank.account')
        accounts = Account.search([
                ('owners', '=', self.company.party.id),
                ])
        same = [a for a in accounts if a.currency == self.currency]
        return [n.number for a in (same or accounts) for n in a.numbers
            if n.type == 'iban']


class InvoiceReport(CompanyReport):
    "Polish VAT invoice as PDF"
    __name__ = 'account.invoice.portal_pdf'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['logo'] = logo_data_uri
        # Day-first in every language (Tryton's English is 11/16/2026)
        context['format_date'] = (
            lambda value, lang=None, *args, **kwargs: formatting.date(value))
        return context

    @classmethod
    def convert(cls, report, data, timeout=5 * 60, retry=5):
        return 'pdf', html_to_pdf(data)
