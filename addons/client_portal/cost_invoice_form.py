"""The cost invoice form of the portal: what the client typed, parsed,
checked and computed the way the cost invoice will be saved (net, VAT and
gross per rate and in total, and the PLN values at the NBP rate), without
writing anything. The page shows what CostInvoice.compute_amounts gives,
the method the model's save uses, so what the client sees is what is
saved. Errors map a field name (lines as lines-N-name) to its message."""
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .cost_invoice import ENTRIES, KINDS, PAYMENT_STATUSES
from .form_parsing import LINE_KEY, MAX_LINES, FormParser, TypedLine
from .invoice_template import PAYMENT_METHODS
from .outgoing import LANGUAGES

# The line's quantity and price digits (portal.cost.invoice.line)
QUANTITY_EXP = Decimal('0.0001')
PRICE_EXP = Decimal('0.0001')
CENT = Decimal('0.01')
# A proforma is offered in the select so that the refusal can explain why
# (VAT art. 106b: a proforma is no invoice and no cost)
KIND_CHOICES = [k for k, _ in KINDS] + ['proforma']
LINE_FIELDS = ('product', 'description', 'quantity', 'price', 'tax')
NUMBER_MAX = 100
NOTE_MAX = 2000
DESCRIPTION_MAX = 1000


class Tax(NamedTuple):
    "A purchase VAT rate the client may choose"
    id: int
    code: str
    label: str
    rate: Decimal


class Lookups(NamedTuple):
    """What the client may choose, read once per request under the
    portal's rules: {id: …} of suppliers (the client's contractors),
    products, purchase taxes and the invoices a correction may correct,
    and the sub-account currencies {code: (currency id, digits)}"""
    suppliers: dict
    products: dict
    taxes: dict
    currencies: dict
    corrigible: dict

    @classmethod
    def load(cls, client_id, record=None):
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('portal.product')
        Subaccount = pool.get('portal.subaccount')
        CostInvoice = pool.get('portal.cost.invoice')
        suppliers = {p.id: p for p in Party.search(
                [('portal_owner', '=', client_id)], order=[('name', 'ASC')])}
        if record is not None and record.supplier \
                and record.supplier.id not in suppliers:
            # Deactivated since the draft was saved: it stays choosable
            suppliers[record.supplier.id] = record.supplier
        products = {p['id']: p for p in Product.search_read(
                [('client', '=', client_id)], fields_names=['name'],
                order=[('name', 'ASC')])}
        currencies = {
            s.currency.code: (s.currency.id, s.currency.digits)
            for s in Subaccount.search([('client', '=', client_id)])}
        corrigible = {c.id: c for c in CostInvoice.search([
                    ('client', '=', client_id),
                    ('kind', '=', 'invoice'),
                    ('state', 'in', ['approved', 'paid']),
                    ], order=[('invoice_date', 'DESC'), ('id', 'DESC')])}
        # The firm's purchase rates are its settings, not the client's
        taxes = {t.id: Tax(t.id, t.portal_vat_code, t.description or t.name,
                t.rate or Decimal(0))
            for t in Product.portal_taxes('purchase')}
        return cls(suppliers, products, taxes, currencies, corrigible)


class Line(TypedLine):
    "One line (or, in totals entry, one VAT rate) as typed"

    def __init__(self, index, raw):
        super().__init__(index, raw)
        self.product = self.tax = None
        self.description = ''
        self.quantity = self.price = None
        self.net = None


class CostForm(FormParser):
    """The cost invoice form's values. A value that cannot be used stays
    as typed in `raw` so that the form shows it again; once valid,
    record_values() and line_values() are what CostInvoice.portal_save
    takes."""
    LINE_CLASS = Line
    LINE_FIELDS = LINE_FIELDS
    NO_LINES = 'msg_cost_no_lines'

    def __init__(self, raw, lookups, client_id, company, today,
            record=None):
        self.raw = {k: v for k, v in raw.items()}
        self.lookups = lookups
        self.client_id = client_id
        self.company = company
        self.today = today
        self.record = record
        self.errors = {}
        self.kind = self.entry = self.currency = None
        self.digits = 2
        self.supplier = None
        self.invoice_date = self.sale_date = self.receipt_date = None
        # The client's own registration of the same invoice, for the link
        self.duplicate = None
        self.lines = []
        self.rates = []
        self.net = self.vat = self.gross = Decimal(0)
        self.pln = None
        self._parse()
        self._compute()
        self._check_duplicate()

    @property
    def valid(self):
        return not self.errors

    @property
    def correction(self):
        return self.kind == 'correction'

    def line_values(self):
        "The lines as portal_save creates them (a valid form)"
        values = []
        for line in self.lines:
            if self.entry == 'totals':
                values.append({
                        'description': None, 'product': None,
                        'quantity': Decimal(1), 'unit_price': line.price,
                        'tax': line.tax})
            else:
                values.append({
                        'description': line.description or None,
                        'product': line.product,
                        'quantity': line.quantity,
                        'unit_price': line.price, 'tax': line.tax})
        return values

    # Parsing
    def _text(self, name, limit, required=False):
        value = self._value(name)
        if required and not value:
            self._error(name, 'msg_field_required')
        elif len(value) > limit:
            self._error(name, 'msg_too_long')
        return value

    def _parse(self):
        lookups = self.lookups
        self.supplier = self._id('supplier', lookups.suppliers)
        self.number = self._text('number', NUMBER_MAX, required=True)
        self.kind = self._choice('kind', KIND_CHOICES)
        if self.kind == 'proforma':
            self._error('kind', 'msg_cost_proforma')
        self.corrected = None
        if self.kind == 'correction':
            self.corrected = self._id('corrected', lookups.corrigible,
                required=False)
            if self.corrected is None:
                self.errors.pop('corrected', None)
                self._error('corrected',
                    'msg_cost_correction_needs_invoice')
        currency = self._value('currency')
        if currency not in lookups.currencies:
            self._error('currency', 'msg_cost_currency_no_subaccount',
                currency=currency or '—')
        else:
            self.currency = currency
            _, self.digits = lookups.currencies[currency]
        self.language = self._choice('language', dict(LANGUAGES))
        self.entry = self._choice('entry', dict(ENTRIES)) or 'lines'
        self.payment_method = self._choice(
            'payment_method', dict(PAYMENT_METHODS))
        self.payment_status = self._choice(
            'payment_status', dict(PAYMENT_STATUSES))
        self.invoice_date = self._date('invoice_date')
        self.sale_date = self._date('sale_date', required=False)
        self.receipt_date = self._date('receipt_date')
        self.due_date = self._date('due_date', required=False)
        self.note = self._text('note', NOTE_MAX)
        self._check_dates()
        self._parse_lines()

    def _check_dates(self):
        issued, received = self.invoice_date, self.receipt_date
        # The supplier issued and the client received it: both happened
        for name, date in [('invoice_date', issued),
                ('receipt_date', received)]:
            if date and date > self.today:
                self._error(name, 'msg_cost_date_future')
        if issued and received and received < issued:
            self._error('receipt_date', 'msg_cost_receipt_before_issue')
        if issued and self.due_date and self.due_date < issued:
            self._error('due_date', 'msg_invoice_due_before_issue')

    def _parse_line(self, line):
        lookups = self.lookups

        def error(name, message_id, **kwargs):
            line.errors.setdefault(name, gettext(
                    f'client_portal.{message_id}', **kwargs))

        if self.entry == 'lines':
            product = line.value('product').strip()
            if product:
                try:
                    line.product = int(product)
                except ValueError:
                    pass
                if line.product not in lookups.products:
                    line.product = None
                    error('product', 'msg_invalid_choice')
            line.description = line.value('description').strip()
            if len(line.description) > DESCRIPTION_MAX:
                error('description', 'msg_too_long')
            if not line.description:
                if line.product:
                    line.description = lookups.products[
                        line.product]['name']
                else:
                    error('description', 'msg_field_required')
            line.quantity = self._number(
                line, 'quantity', QUANTITY_EXP, error)
            # A correction's lines are the differences: they may lower
            if (line.quantity is not None and not self.correction
                    and line.quantity <= 0):
                error('quantity', 'msg_cost_quantity_positive')
            line.price = self._number(line, 'price', PRICE_EXP, error)
        else:
            # Totals per VAT rate: the net of the rate as one line
            line.quantity = Decimal(1)
            line.price = self._number(
                line, 'price', Decimal(1).scaleb(-self.digits), error)
        if (line.price is not None and not self.correction
                and line.price < 0):
            error('price', 'msg_invoice_price_negative')
        tax = line.value('tax').strip()
        try:
            line.tax = int(tax) if tax else None
        except ValueError:
            line.tax = None
        if line.tax not in lookups.taxes:
            line.tax = None
            error('tax', 'msg_field_required' if not tax
                else 'msg_invalid_choice')
        for name, message in line.errors.items():
            self.errors[f'lines-{line.index}-{name}'] = message

    def record_values(self):
        "The header as portal_save sets it on the record (a valid form)"
        pool = Pool()
        Party = pool.get('party.party')
        Currency = pool.get('currency.currency')
        CostInvoice = pool.get('portal.cost.invoice')
        currency_id, _ = self.lookups.currencies[self.currency]
        return {
            'supplier': Party(self.supplier),
            'number': self.number,
            'kind': self.kind,
            'corrected': CostInvoice(self.corrected)
            if self.corrected else None,
            'invoice_date': self.invoice_date,
            'sale_date': self.sale_date,
            'receipt_date': self.receipt_date,
            'currency': Currency(currency_id),
            'language': self.language,
            'entry': self.entry,
            'payment_method': self.payment_method,
            'payment_status': self.payment_status,
            'due_date': self.due_date,
            'note': self.note or None,
            }

    # Computing
    def _compute(self):
        """Net, VAT and gross per rate and in total as the model computes
        them, and the PLN values at the NBP rate of a foreign currency"""
        CostInvoice = Pool().get('portal.cost.invoice')
        taxes = self.lookups.taxes
        for line in self.lines:
            if line.quantity is not None and line.price is not None:
                line.net = (line.quantity * line.price).quantize(
                    CENT, rounding=ROUND_HALF_UP)
        computable = [(l.quantity, l.price, taxes[l.tax])
            for l in self.lines if l.net is not None and l.tax is not None]
        self.net, self.vat, self.gross, rates = (
            CostInvoice.compute_amounts(computable))
        self.rates = sorted(({'tax': tax, 'net': net, 'vat': vat,
                    'gross': net + vat} for tax, (net, vat) in rates.items()),
            key=lambda r: (-r['tax'].rate, r['tax'].label))
        self._compute_pln()

    def _compute_pln(self):
        "VAT art. 31a: the NBP rate of the day before the tax point"
        if not self.currency or self.currency == 'PLN':
            return
        dates = [d for d in (self.invoice_date, self.sale_date) if d]
        if not dates:
            return
        tax_point = min(dates)
        corrected = self.lookups.corrigible.get(self.corrected)
        if corrected is not None and corrected.nbp_rate:
            # A correction keeps the corrected invoice's rate, as saved
            rate, table, date = (corrected.nbp_rate, corrected.nbp_table,
                corrected.nbp_date)
        else:
            pool = Pool()
            Currency = pool.get('currency.currency')
            currency_id, _ = self.lookups.currencies[self.currency]
            try:
                found = Currency.portal_nbp_rate(
                    Currency(currency_id), tax_point)
            except UserError as e:
                self.errors.setdefault('currency', e.message)
                return
            rate, table, date = found.mid, found.table, found.date
        net = (self.net * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        vat = (self.vat * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        self.pln = {'rate': rate, 'table': table, 'date': date,
            'net': net, 'vat': vat, 'gross': net + vat}

    def _check_duplicate(self):
        """The same supplier's tax number and invoice number registered
        before: the client's own is linked, another client's is only
        mentioned (its data is not the client's to see)"""
        if not self.supplier or not self.number or self.company is None:
            return
        supplier = self.lookups.suppliers[self.supplier]
        identifier = supplier.tax_identifier
        tax_number = identifier.code if identifier else None
        if not tax_number:
            return
        CostInvoice = Pool().get('portal.cost.invoice')
        found = CostInvoice.find_duplicate(self.company, tax_number,
            self.number, exclude=self.record)
        if found is None:
            return
        with without_check_access(), Transaction().set_context(
                _check_access=False):
            own = CostInvoice(found.id).client.id == self.client_id
        if own:
            self.duplicate = found.id
            self._error('number', 'msg_cost_duplicate',
                number=self.number, tax_number=tax_number)
        else:
            self._error('number', 'msg_cost_duplicate_other',
                number=self.number, tax_number=tax_number)

    def line_rows(self):
        "The typed lines, or one empty row to type into"
        rows = list(self.lines)
        if not rows:
            rows.append(Line(max_index(self.raw) + 1, {}))
        return rows


def max_index(raw):
    "The highest line index of the posted fields, -1 without lines"
    indexes = [int(m.group(1)) for m in map(LINE_KEY.match, raw)
        if m and int(m.group(1)) < 10 * MAX_LINES]
    return max(indexes, default=-1)
