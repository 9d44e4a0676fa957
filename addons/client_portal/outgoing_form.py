"""The invoice editor's form: what the client typed, parsed, checked and
computed the way the invoice will be (net, VAT and gross per line, per rate
and in total) without writing anything. The live recalculation and the save
both use it, so what the client sees while typing is what gets saved."""
import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import without_check_access

from .form_parsing import FormParser, TypedLine
from .invoice_template import PAYMENT_METHODS
from .outgoing import LANGUAGES
from .product import GTU_CODES

# FA(3) TIlosci: up to 6 decimals
QUANTITY_EXP = Decimal('0.000001')
# Tryton's unit price digits
PRICE_EXP = Decimal('0.0001')
LINE_FIELDS = ('product', 'description', 'unit', 'quantity', 'price',
    'discount', 'tax', 'gtu')


class Tax(NamedTuple):
    id: int
    code: str
    label: str
    rate: Decimal


class Lookups(NamedTuple):
    """What the client may choose, read once per request under the rules:
    {id: …} of contractors, products, templates, taxes and units, and the
    sub-accounts {currency code: (subaccount id, currency id, digits)}"""
    contractors: dict
    products: dict
    templates: dict
    taxes: dict
    units: dict
    subaccounts: dict

    @classmethod
    def load(cls, client_id, company_id):
        """Read under the caller's access rules (the portal's: the client's
        own records); the firm's taxes and units are its settings"""
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('portal.product')
        Template = pool.get('portal.invoice.template')
        Subaccount = pool.get('portal.subaccount')
        TaxModel = pool.get('account.tax')
        contractors = {p.id: p for p in Party.search(
                [('portal_owner', '=', client_id)], order=[('name', 'ASC')])}
        products = {p['id']: p for p in Product.search_read(
                [('client', '=', client_id)],
                fields_names=['name', 'unit', 'unit_price', 'currency',
                    'tax', 'gtu', 'annex15'],
                order=[('name', 'ASC')])}
        templates = {t.id: t for t in Template.search(
                [('clients', '=', client_id)], order=[('name', 'ASC')])}
        subaccounts = {
            s.currency.code: (s.id, s.currency.id, s.currency.digits)
            for s in Subaccount.search([('client', '=', client_id)])}
        with without_check_access():
            taxes = {t.id: Tax(t.id, t.portal_vat_code,
                    t.description or t.name, t.rate or 0)
                for t in TaxModel.search([
                        ('portal_vat_code', '!=', None),
                        ('company', '=', company_id),
                        ['OR', ('group', '=', None),
                            ('group.kind', 'in', ['sale', 'both'])],
                        ])}
            units = {u.id: u for u in Product.portal_units()}
        return cls(contractors, products, templates, taxes, units,
            subaccounts)


class Line(TypedLine):
    "One line as typed, and what it computes to"

    def __init__(self, index, raw):
        super().__init__(index, raw)
        self.product = self.unit = self.tax = None
        self.description = ''
        self.quantity = self.price = self.discount = None
        self.gtu = None
        self.annex15 = False
        self.unit_price = self.net = self.vat = self.gross = None


class InvoiceForm(FormParser):
    """The editor's values. `errors` maps a field name (lines as
    lines-N-name) to its message; a value that cannot be used stays as
    typed in `raw` so that the form shows it again."""
    LINE_CLASS = Line
    LINE_FIELDS = LINE_FIELDS
    NO_LINES = 'msg_invoice_no_lines'

    def __init__(self, raw, lookups, kind='invoice', today=None):
        self.raw = {k: v for k, v in raw.items()}
        self.lookups = lookups
        self.kind = kind
        self.today = today or datetime.date.today()
        self.errors = {}
        self.contractor = self.template = self.subaccount = None
        self.currency = None
        self.digits = 2
        self.language = None
        self.invoice_date = self.sale_date = self.due_date = None
        self.payment_method = None
        self.note = ''
        self.reason = ''
        self.send = bool(self.raw.get('send'))
        self.lines = []
        self._parse()
        self._compute()

    # Parsing
    def _parse(self):
        lookups = self.lookups
        self.contractor = self._id('contractor', lookups.contractors)
        self.template = self._id('template', lookups.templates)
        currency = self._value('currency')
        if currency not in lookups.subaccounts:
            self._error('currency', 'msg_invoice_currency_no_subaccount',
                currency=currency or '—')
        else:
            self.currency = currency
            self.subaccount, _, self.digits = lookups.subaccounts[currency]
        self.language = self._choice('language', dict(LANGUAGES))
        self.payment_method = self._choice(
            'payment_method', dict(PAYMENT_METHODS))
        self.invoice_date = self._date('invoice_date')
        self.sale_date = self._date('sale_date', required=False)
        self.due_date = self._date('due_date')
        self.note = self._value('note')
        if len(self.note) > 2000:
            self._error('note', 'msg_too_long')
        self.reason = self._value('reason')
        if len(self.reason) > 250:
            self._error('reason', 'msg_too_long')
        self._check_dates()
        self._parse_lines()

    def _check_dates(self):
        issued, sale = self.invoice_date, self.sale_date
        if issued and issued > self.today:
            self._error('invoice_date', 'msg_invoice_date_future')
        if issued and sale and issued < sale - datetime.timedelta(days=60):
            # VAT art. 106i ust. 7
            self._error('invoice_date', 'msg_invoice_date_too_early')
        if issued and self.due_date and self.due_date < issued:
            self._error('due_date', 'msg_invoice_due_before_issue')

    def _parse_line(self, line):
        lookups = self.lookups

        def error(name, message_id, **kwargs):
            line.errors.setdefault(name, gettext(
                    f'client_portal.{message_id}', **kwargs))

        product = line.value('product').strip()
        if product:
            try:
                line.product = int(product)
            except ValueError:
                pass
            if line.product not in lookups.products:
                line.product = None
                error('product', 'msg_invalid_choice')
        line.description = line.value('description').strip()[:1000]
        if not line.description:
            if line.product:
                line.description = lookups.products[line.product]['name']
            else:
                error('description', 'msg_field_required')
        unit = line.value('unit').strip()
        try:
            line.unit = int(unit) if unit else None
        except ValueError:
            line.unit = None
        if line.unit not in lookups.units:
            line.unit = None
            error('unit', 'msg_field_required' if not unit
                else 'msg_invalid_choice')
        line.quantity = self._number(line, 'quantity', QUANTITY_EXP, error)
        if line.quantity is not None:
            if self.kind == 'correction':
                if line.quantity < 0:
                    error('quantity', 'msg_invoice_quantity_negative')
            elif line.quantity <= 0:
                error('quantity', 'msg_invoice_quantity_positive')
        exp = Decimal(1).scaleb(-self.digits)
        line.price = self._number(line, 'price', exp, error)
        if line.price is not None and line.price < 0:
            error('price', 'msg_invoice_price_negative')
        if line.value('discount').strip():
            line.discount = self._number(
                line, 'discount', Decimal('0.01'), error)
            if line.discount is not None and not (
                    0 <= line.discount < 100):
                error('discount', 'msg_invoice_discount_range')
        tax = line.value('tax').strip()
        try:
            line.tax = int(tax) if tax else None
        except ValueError:
            line.tax = None
        if line.tax not in lookups.taxes:
            line.tax = None
            error('tax', 'msg_field_required' if not tax
                else 'msg_invalid_choice')
        gtu = line.value('gtu').strip()
        if gtu and gtu not in dict(GTU_CODES):
            error('gtu', 'msg_invalid_choice')
        line.gtu = gtu or None
        if line.product:
            line.annex15 = bool(lookups.products[line.product].get('annex15'))
        for name, message in line.errors.items():
            self.errors[f'lines-{line.index}-{name}'] = message

    # Computing
    def _compute(self):
        "Net, VAT and gross as Tryton will post them, rounded half-up"
        template = self.lookups.templates.get(self.template)
        per_line = template is not None and template.tax_rounding == 'line'
        exp = Decimal(1).scaleb(-self.digits)
        rates = {}
        for line in self.lines:
            if line.quantity is None or line.price is None:
                continue
            discount = line.discount or Decimal(0)
            line.unit_price = (line.price * (1 - discount / 100)).quantize(
                PRICE_EXP, rounding=ROUND_HALF_UP)
            line.net = (line.quantity * line.unit_price).quantize(
                exp, rounding=ROUND_HALF_UP)
            if line.tax is None:
                continue
            tax = self.lookups.taxes[line.tax]
            exact = line.net * tax.rate
            line.vat = exact.quantize(exp, rounding=ROUND_HALF_UP)
            line.gross = line.net + line.vat
            row = rates.setdefault(tax.id, {
                    'tax': tax, 'net': Decimal(0), 'exact': Decimal(0),
                    'vat': Decimal(0)})
            row['net'] += line.net
            row['exact'] += exact
            row['vat'] += line.vat
        for row in rates.values():
            if not per_line:
                # VAT of the sum of net values per rate (art. 106e ust. 1
                # pkt 14); per line is the art. 106e ust. 10 option
                row['vat'] = row['exact'].quantize(exp, rounding=ROUND_HALF_UP)
            row['gross'] = row['net'] + row['vat']
        self.rates = sorted(rates.values(), key=lambda r: -r['tax'].rate)
        self.net = sum((r['net'] for r in self.rates), Decimal(0))
        self.vat = sum((r['vat'] for r in self.rates), Decimal(0))
        self.gross = self.net + self.vat

    @property
    def valid(self):
        return not self.errors

    def line_rows(self, minimum=1):
        "Lines to show in the editor: the typed ones plus empty rows"
        rows = list(self.lines)
        next_index = max((l.index for l in rows), default=-1) + 1
        while len(rows) < minimum or self.raw.get('add_line'):
            rows.append(Line(next_index, {}))
            next_index += 1
            if len(rows) >= minimum:
                break
        return rows
