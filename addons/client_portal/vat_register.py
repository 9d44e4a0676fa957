"""The accountant's VAT registers as XLSX: the sales register (the firm's
posted customer invoices, the clients' own ones included) and the purchase
register (the approved cost invoices, on their receipt date, and the
firm's other supplier invoices). One row per document with the JPK_V7 row
data (facts POLAND.md §7–8); net and VAT per rate in PLN, from the
documents' invoice taxes, converted at the NBP rate the document stores;
the totals, and the totals per rate (per client too) on a second sheet."""
import datetime

from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateView, Wizard

from .vat_register_sales import (
    SalesRows, address_text, chunks, converter, tax_number)
from .vat_register_sheet import (
    OTHER, REGISTERS, ZERO, Row, natural_key, rate_code, register_xlsx,
    words)


def _payment(invoice):
    "(status, paid date) of an invoice from its payments"
    if invoice.state == 'paid':
        return 'paid', invoice.reconciled
    if invoice.payment_lines:
        return 'partly_paid', None
    return 'unpaid', None


def _rates(taxes, lines, convert):
    """{rate code: [net, VAT]} in PLN of an invoice's taxes, and the net of
    its lines without any tax"""
    rates = {}
    for tax in taxes:
        amounts = rates.setdefault(rate_code(tax.tax), [ZERO, ZERO])
        amounts[0] += convert(tax.base)
        amounts[1] += convert(tax.amount)
    untaxed = sum((l.amount for l in lines
            if l.type == 'line' and not l.taxes), ZERO)
    if untaxed:
        rates.setdefault(OTHER, [ZERO, ZERO])[0] += convert(untaxed)
    return rates


class VatRegisterStart(ModelView):
    "VAT Registers"
    __name__ = 'portal.vat_register.start'
    __string__ = "VAT Registers"

    company = fields.Many2One('company.company', "Company", required=True)
    register = fields.Selection(REGISTERS, "Register", required=True,
        help="Sales: the customer invoices issued in the period. Purchase: "
        "the supplier invoices received in the period.")
    from_date = fields.Date("From Date", required=True,
        domain=[If(Bool(Eval('to_date')),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To Date", required=True,
        domain=[If(Bool(Eval('from_date')),
                ('to_date', '>=', Eval('from_date')), ())])
    client = fields.Many2One('party.party', "Client",
        domain=[('portal_client', '=', True)],
        help="Only the documents of this client; leave empty for the whole "
        "firm.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_register(cls):
        return 'sales'

    @classmethod
    def default_from_date(cls):
        # The month whose JPK_V7 is due: the previous one
        first = Pool().get('ir.date').today().replace(day=1)
        return (first - datetime.timedelta(days=1)).replace(day=1)

    @classmethod
    def default_to_date(cls):
        first = Pool().get('ir.date').today().replace(day=1)
        return first - datetime.timedelta(days=1)


class VatRegister(SalesRows, Wizard):
    "VAT Registers"
    __name__ = 'portal.vat_register'

    start = StateView('portal.vat_register.start',
        'client_portal.vat_register_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'result', 'tryton-ok', default=True),
            ])
    result = StateView('portal.export.file',
        'client_portal.export_file_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_result(self, fields):
        language = Transaction().language or 'en'
        start = self.start
        # The wizard is the accountants' and the head's, who see every
        # client's documents: read as the system, for the firm only
        with without_check_access():
            rows = self.rows(start.register, start.company,
                start.from_date, start.to_date, start.client)
            content = register_xlsx(rows, start.register, language,
                per_client=not start.client)
        return {
            'file': content,
            'filename': '%s_%s_%s.xlsx' % (
                words(language)['file'][start.register],
                start.from_date.isoformat(), start.to_date.isoformat()),
            }

    @classmethod
    def ksef_markers(cls, documents):
        """{document: its KSeF number or JPK_V7 marker} of account.invoice
        and portal.cost.invoice records. Without the ksef module every
        invoice is issued outside KSeF: BFK (facts POLAND.md §7)."""
        return {d: 'BFK' for d in documents}

    @classmethod
    def rows(cls, register, company, from_date, to_date, client=None):
        """The register's Rows of the period in the register's order, built
        and marked with their KSeF numbers a chunk at a time as they are
        read: a year's are never all in memory"""
        if register == 'sales':
            return cls.sales_rows(company, from_date, to_date, client)
        return cls.purchase_rows(company, from_date, to_date, client)

    @classmethod
    def _set_ksef(cls, rows):
        documents = set()
        for row in rows:
            documents.add(row.document)
            documents.update(d for d, _, _ in row.corrected)
        markers = cls.ksef_markers(list(documents))
        for row in rows:
            row.ksef = markers.get(row.document, '')
            row.corrected_ksef = ', '.join(filter(None,
                    (markers.get(d) for d, _, _ in row.corrected)))

    # --- invoices (the sales rows: vat_register_sales.py) --------------

    @staticmethod
    def _kind(invoice, corrected):
        if (invoice.portal_kind == 'correction' or corrected
                or invoice.total_amount < 0):
            return 'KOR'
        return 'FV'

    @staticmethod
    def _corrected_invoices(invoice):
        "A client's correction names its invoice; the firm's credit notes"
        if invoice.portal_corrected:
            return [invoice.portal_corrected]
        return invoice.portal_corrected_invoices

    @classmethod
    def _invoice_rate(cls, invoice):
        """(rate, NBP table, rate date) converting a foreign-currency invoice
        to PLN: the one stored at issue; a correction's is the corrected
        invoice's; else, as the firm's own PDF and FA(3) convert, the rate
        of the last day before the issue date"""
        if invoice.currency == invoice.company.currency:
            return None
        if invoice.portal_nbp_rate:
            return (invoice.portal_nbp_rate, invoice.portal_nbp_table,
                invoice.portal_nbp_date)
        for original in cls._corrected_invoices(invoice):
            rate = cls._invoice_rate(original)
            if rate:
                return rate
        return cls._pln_rate(invoice)

    @staticmethod
    def _pln_rate(invoice):
        """(rate, NBP table, rate date) of the last day before the invoice's
        issue date, None without one"""
        Rate = Pool().get('currency.currency.rate')
        pln_rate = invoice.portal_pln_rate
        if pln_rate:
            mid, date = pln_rate
            rates = Rate.search([
                    ('currency', '=', invoice.currency.id),
                    ('date', '=', date),
                    ], limit=1)
            return mid, rates[0].nbp_table if rates else None, date
        return None

    # --- purchases -------------------------------------------------------

    @classmethod
    def purchase_rows(cls, company, from_date, to_date, client=None):
        """The approved (or paid) cost invoices received in the period, and
        the firm's other posted supplier invoices booked in it, a chunk at
        a time in the register's order"""
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Invoice = pool.get('account.invoice')
        domain = [
            ('company', '=', company.id),
            ('state', 'in', ['approved', 'paid']),
            ('receipt_date', '>=', from_date),
            ('receipt_date', '<=', to_date),
            ]
        if client:
            domain.append(('client', '=', client.id))
        keys = cls._cost_keys(domain)
        if not client:
            # The firm's own purchases belong to no client
            keys += cls._supplier_keys(company, from_date, to_date)
        # Row's sort key; stable, as the rows were sorted once they were
        # all built: costs first, each in the order of its search
        keys.sort(key=lambda k: k[:3])
        for chunk in chunks(keys):
            costs = {c.id: c for c in CostInvoice.browse(
                    [k[2] for k in chunk if k[3] == 'cost'])}
            invoices = {i.id: i for i in Invoice.browse(
                    [k[2] for k in chunk if k[3] == 'invoice'])}
            rows = [cls._cost_row(costs[id_]) if kind == 'cost'
                else cls._supplier_row(invoices[id_])
                for _, _, id_, kind in chunk]
            cls._set_ksef(rows)
            yield from rows

    @staticmethod
    def _cost_keys(domain):
        "[(receipt date, natural key, id, 'cost')] of the cost invoices"
        CostInvoice = Pool().get('portal.cost.invoice')
        cost = CostInvoice.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*CostInvoice.search(domain, query=True))
        ids = [r[0] for r in cursor]
        keys = {}
        for chunk in chunks(ids):
            cursor.execute(*cost.select(cost.id, cost.receipt_date,
                    cost.number, where=fields.SQL_OPERATORS['in'](
                        cost.id, chunk)))
            keys.update((id_, (date, natural_key(number), id_, 'cost'))
                for id_, date, number in cursor)
        return [keys[i] for i in ids]

    @staticmethod
    def _supplier_keys(company, from_date, to_date):
        """[(booking date, natural key, id, 'invoice')] of the firm's
        posted supplier invoices booked in the period that no cost invoice
        stands behind"""
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Invoice = pool.get('account.invoice')
        invoice = Invoice.__table__()
        cost = CostInvoice.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*Invoice.search([
                    ('company', '=', company.id),
                    ('type', '=', 'in'),
                    ('state', 'in', ['posted', 'paid']),
                    ['OR',
                        [('accounting_date', '>=', from_date),
                            ('accounting_date', '<=', to_date)],
                        [('accounting_date', '=', None),
                            ('invoice_date', '>=', from_date),
                            ('invoice_date', '<=', to_date)]],
                    ], query=True))
        ids = [r[0] for r in cursor]
        keys = {}
        for chunk in chunks(ids):
            cursor.execute(*cost.select(cost.invoice, where=cost.id.in_(
                        CostInvoice.search([('invoice', 'in', chunk)],
                            order=[], query=True))))
            behind_costs = {r[0] for r in cursor}
            cursor.execute(*invoice.select(invoice.id,
                    invoice.accounting_date, invoice.invoice_date,
                    invoice.reference, invoice.number,
                    where=fields.SQL_OPERATORS['in'](invoice.id, chunk)))
            keys.update((id_, (booked or issued,
                        natural_key(reference or number), id_, 'invoice'))
                for id_, booked, issued, reference, number in cursor
                if id_ not in behind_costs)
        return [keys[i] for i in ids if i in keys]

    @classmethod
    def _cost_row(cls, cost):
        invoice = cost.invoice
        foreign = cost.currency != cost.company.currency
        rate = (cost.nbp_rate, cost.nbp_table, cost.nbp_date) \
            if foreign and cost.nbp_rate else None
        convert = converter(rate and rate[0], cost.currency, cost.company,
            cost.receipt_date)
        supplier = cost.supplier
        address = supplier.address_get(type='invoice')
        corrected = [cost.corrected] if cost.corrected else []
        row = Row(
            document=cost,
            date=cost.receipt_date,
            kind='KOR' if cost.kind == 'correction' else 'FV',
            number=cost.number,
            issue_date=cost.invoice_date,
            sale_date=cost.sale_date or cost.invoice_date,
            receipt_date=cost.receipt_date,
            contractor=supplier.name,
            country=address.country.code if address and address.country
            else None,
            tax_number=tax_number(supplier.tax_identifier)
            or cost.supplier_tax_number,
            address=address_text(address),
            # The firm's posted supplier invoice: the amounts Tryton booked
            rates=_rates(invoice.taxes, invoice.lines, convert),
            currency=cost.currency.code,
            currency_amount=cost.total_amount,
            stored_vat_pln=cost.tax_pln if rate else None,
            due_date=cost.due_date,
            payment_method=cost.payment_method,
            paid_date=cost.paid_date,
            # Paid to the supplier, not charged to the client's sub-account
            status='paid' if cost.state == 'paid' else 'unpaid',
            client=cost.client,
            )
        row.nbp_rate, row.nbp_table, row.nbp_date = rate or (None,) * 3
        row.corrected = [(c, c.number, c.invoice_date) for c in corrected]
        return row

    @classmethod
    def _supplier_row(cls, invoice):
        "A supplier invoice of the firm itself, booked on its accounting date"
        rate = cls._invoice_rate(invoice)
        convert = converter(rate and rate[0], invoice.currency,
            invoice.company, invoice.invoice_date)
        corrected = cls._corrected_invoices(invoice)
        status, paid_date = _payment(invoice)
        address = invoice.invoice_address or invoice.party.address_get(
            type='invoice')
        booked = invoice.accounting_date or invoice.invoice_date
        row = Row(
            document=invoice,
            date=booked,
            kind=cls._kind(invoice, corrected),
            number=invoice.reference or invoice.number,
            issue_date=invoice.invoice_date,
            sale_date=invoice.invoice_date,
            receipt_date=booked,
            contractor=invoice.party.name,
            country=address.country.code if address and address.country
            else None,
            tax_number=tax_number(invoice.party_tax_identifier
                or invoice.party.tax_identifier),
            address=address_text(address),
            rates=_rates(invoice.taxes, invoice.lines, convert),
            currency=invoice.currency.code,
            currency_amount=invoice.total_amount,
            due_date=invoice.portal_payment_due,
            paid_date=paid_date,
            status=status,
            )
        row.nbp_rate, row.nbp_table, row.nbp_date = rate or (None,) * 3
        row.corrected = [(c, c.reference or c.number, c.invoice_date)
            for c in corrected]
        return row
