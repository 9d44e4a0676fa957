"""The sales register's rows: the firm's posted customer invoices of a
period (the clients' own invoices and corrections, and the firm's), as the
wizard portal.vat_register writes them, a chunk of invoices at a time in
the register's order. A year holds tens of thousands of invoices: a chunk's
columns come from a few grouped queries, what repeats (parties, addresses,
tax identifiers, taxes, currencies, exchange rates) is read once, and the
rare documents whose values take Tryton's own rules (a credit note of
several invoices, a delegated reconciliation, a split-payment candidate,
a line without tax, an amount not cached) are asked of their records."""
from collections import defaultdict

from sql import Literal, Null
from sql.operators import Exists

from trytond.model import fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .vat_register_sheet import OTHER, ZERO, Row, natural_key, rate_code
from .vat_register_sheet import round_cent

# Invoices read, marked with their KSeF numbers and written before the next
# ones are read: the memory of a chunk, never of the period
CHUNK = 250
LINE_ORIGIN = 'account.invoice.line'
INVOICE_COLUMNS = ['id', 'number', 'invoice_date', 'currency', 'party',
    'invoice_address', 'party_tax_identifier', 'state', 'portal_kind',
    'portal_sale_date', 'portal_payment_method', 'portal_due_date',
    'payment_term_date', 'portal_issuer', 'portal_corrected',
    'portal_nbp_rate', 'portal_nbp_table', 'portal_nbp_date', 'portal_vat_pln',
    'total_amount_cache', 'untaxed_amount_cache', 'tax_amount_cache']


def address_text(address):
    if not address:
        return None
    city = ' '.join(filter(None, [address.postal_code, address.city]))
    return ', '.join(filter(None, [address.street_single_line, city])) or None


def tax_number(identifier):
    if not identifier:
        return None
    return getattr(identifier, 'code_compact', None) or identifier.code


def converter(rate, currency, company, date):
    """Amounts in the document's currency to PLN: at its NBP rate, else (no
    rate stored or found) as Tryton's books convert them on its date"""
    pool = Pool()
    Currency = pool.get('currency.currency')
    if currency == company.currency:
        return lambda amount: amount
    if rate:
        return lambda amount: round_cent(amount * rate)

    def convert(amount):
        with Transaction().set_context(date=date):
            return Currency.compute(currency, amount, company.currency,
                round=True)
    return convert


def _same(amount):
    "An amount in the company's currency (converter's)"
    return amount


def chunks(items, size=CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _in(column, ids):
    return fields.SQL_OPERATORS['in'](column, ids)


def _origin_line(origin):
    "The id of the invoice line an invoice line's origin names, else None"
    model, _, id_ = (origin or '').partition(',')
    if model == LINE_ORIGIN and id_.isdigit():
        return int(id_)


class _Known:
    """What the invoices of a register share, read once for the whole
    period: {id: value} per kind, loaded a chunk's new ids at a time so
    that Tryton reads them together"""

    def __init__(self, company):
        self.company = company
        self.currency = company.currency.id
        # {id: (party, name, portal client)}
        self.parties = {}
        self.party_numbers = {}
        self.party_addresses = {}
        self.addresses = {}
        self.identifiers = {}
        # {id: (currency, code)}
        self.currencies = {}
        self.rate_codes = {}
        # {(currency id, invoice date): (rate, NBP table, rate date)}
        self.rates = {}

    @staticmethod
    def _load(known, model, ids, value):
        pool = Pool()
        new = sorted({i for i in ids if i is not None} - known.keys())
        for record in pool.get(model).browse(new):
            known[record.id] = value(record)

    def load(self, invoices, taxes):
        "The parties, addresses, identifiers and taxes of a chunk"
        self._load(self.parties, 'party.party',
            [i['party'] for i in invoices]
            + [i['portal_issuer'] for i in invoices],
            lambda p: (p, p.name, p.portal_client))
        self._load(self.addresses, 'party.address',
            [i['invoice_address'] for i in invoices], lambda a: (
                a.country.code if a.country else None, address_text(a)))
        self._load(self.identifiers, 'party.identifier',
            [i['party_tax_identifier'] for i in invoices], tax_number)
        self._load(self.currencies, 'currency.currency',
            [i['currency'] for i in invoices], lambda c: (c, c.code))
        self._load(self.rate_codes, 'account.tax',
            [t for v in taxes.values() for t, _, _ in v], rate_code)

    def rate_code(self, tax):
        return self.rate_codes[tax] if tax is not None else rate_code(None)

    def tax_number(self, invoice):
        if invoice['party_tax_identifier']:
            return self.identifiers[invoice['party_tax_identifier']]
        party = invoice['party']
        if party not in self.party_numbers:
            self.party_numbers[party] = tax_number(
                self.parties[party][0].tax_identifier)
        return self.party_numbers[party]

    def address(self, invoice):
        "(country code, text) of the invoice's address"
        if invoice['invoice_address']:
            return self.addresses[invoice['invoice_address']]
        party = invoice['party']
        if party not in self.party_addresses:
            address = self.parties[party][0].address_get(type='invoice')
            self.party_addresses[party] = (
                address.country.code if address and address.country
                else None, address_text(address))
        return self.party_addresses[party]


class _Chunk:
    "A chunk's invoices and what their rows read, a few queries for all"

    def __init__(self, ids):
        pool = Pool()
        self.Invoice = Invoice = pool.get('account.invoice')
        self.ids = ids
        self.cursor = Transaction().connection.cursor()
        invoice = Invoice.__table__()
        self.cursor.execute(*invoice.select(
                *[getattr(invoice, c) for c in INVOICE_COLUMNS],
                where=_in(invoice.id, ids)))
        self.invoices = {r[0]: dict(zip(INVOICE_COLUMNS, r))
            for r in self.cursor}
        self.records = dict(zip(ids, Invoice.browse(ids)))
        self._read_taxes(pool)
        self._read_lines(pool)
        self._read_lines_to_pay(pool)
        self._read_corrected(pool)

    def _read_taxes(self, pool):
        tax = pool.get('account.invoice.tax').__table__()
        self.taxes = defaultdict(list)
        self.cursor.execute(*tax.select(tax.invoice, tax.tax, tax.base,
                tax.amount, where=_in(tax.invoice, self.ids),
                order_by=[tax.id]))
        for invoice, tax_id, base, amount in self.cursor:
            self.taxes[invoice].append((tax_id, base, amount))

    def _read_lines(self, pool):
        """Their lines: the GTU codes, annex 15 and net without tax of the
        lines of type line, the origins of all"""
        Line = pool.get('account.invoice.line')
        line = Line.__table__()
        line_tax = pool.get('account.invoice.line-account.tax').__table__()
        self.gtu = defaultdict(set)
        self.origins = defaultdict(list)
        self.annex15 = set()
        untaxed = defaultdict(list)
        self.cursor.execute(*line.select(line.id, line.invoice, line.type,
                line.portal_gtu, line.origin, line.portal_annex15,
                Exists(line_tax.select(Literal(1),
                        where=(line_tax.line == line.id)
                        & (line_tax.tax != Null))),
                where=_in(line.invoice, self.ids), order_by=[line.id]))
        for id_, invoice, type_, gtu, origin, annex15, taxed in self.cursor:
            if _origin_line(origin) is not None:
                self.origins[invoice].append(_origin_line(origin))
            if type_ != 'line':
                continue
            if gtu:
                self.gtu[invoice].add(gtu)
            if annex15:
                self.annex15.add(invoice)
            if not taxed:
                untaxed[invoice].append(id_)
        # Tryton computes a line's amount
        amounts = {l.id: l.amount
            for l in Line.browse([i for v in untaxed.values() for i in v])}
        self.untaxed = {i: sum((amounts[l] for l in v), ZERO)
            for i, v in untaxed.items()}

    def _read_lines_to_pay(self, pool):
        """Their lines to pay, as Tryton's invoice finds them: maturity,
        reconciliation and its date; and which have payment lines"""
        MoveLine = pool.get('account.move.line')
        move_line = MoveLine.__table__()
        reconciliation = pool.get(
            'account.move.reconciliation').__table__()
        payment = pool.get('account.invoice-account.move.line').__table__()
        to_pay = self.Invoice._query_lines_to_pay(self.ids)
        self.to_pay = defaultdict(list)
        self.cursor.execute(*to_pay
            .join(move_line, condition=move_line.id == to_pay.line)
            .join(reconciliation, 'LEFT',
                condition=reconciliation.id == move_line.reconciliation)
            .select(to_pay.invoice, move_line.maturity_date,
                move_line.reconciliation, reconciliation.date,
                reconciliation.delegate_to))
        for invoice, maturity, reconciled, date, delegated in self.cursor:
            self.to_pay[invoice].append(
                (maturity, reconciled, date, delegated))
        self.cursor.execute(*payment.select(payment.invoice,
                where=_in(payment.invoice, self.ids)
                & (payment.line != Null),
                group_by=[payment.invoice]))
        self.paying = {r[0] for r in self.cursor}

    def _read_corrected(self, pool):
        """{invoice: [(invoice it corrects, its number, its date)]}: a
        client's correction names its invoice, the firm's credit note has
        it as its lines' origin"""
        Invoice = self.Invoice
        invoice = Invoice.__table__()
        line = pool.get('account.invoice.line').__table__()
        origins = sorted({o for v in self.origins.values() for o in v})
        of_line = {}
        for ids in chunks(origins):
            self.cursor.execute(*line.select(line.id, line.invoice,
                    where=_in(line.id, ids)))
            of_line.update(self.cursor)
        self.corrected = {}
        for id_, values in self.invoices.items():
            if values['portal_corrected']:
                self.corrected[id_] = [values['portal_corrected']]
                continue
            corrected = []
            for origin in self.origins.get(id_, []):
                if origin not in of_line:
                    # A line gone: Tryton's record says
                    corrected = None
                    break
                of = of_line[origin]
                if of and of != id_ and of not in corrected:
                    corrected.append(of)
            if corrected is None or len(corrected) > 1:
                # In the order of its lines: Tryton's
                corrected = [c.id
                    for c in Invoice(id_).portal_corrected_invoices]
            self.corrected[id_] = corrected
        wanted = sorted({c for v in self.corrected.values() for c in v})
        dated = {}
        for ids in chunks(wanted):
            self.cursor.execute(*invoice.select(invoice.id, invoice.number,
                    invoice.invoice_date, where=_in(invoice.id, ids)))
            dated.update((r[0], r[1:]) for r in self.cursor)
        others = Invoice.browse([c for c in wanted if c not in self.records])
        records = dict(self.records, **{r.id: r for r in others})
        self.corrected = {i: [(records[c],) + dated[c] for c in v]
            for i, v in self.corrected.items()}

    def reconciled(self, id_):
        "The date the invoice was paid in full (Invoice.get_reconciled)"
        lines = self.to_pay.get(id_)
        if not lines or not all(r for _, r, _, _ in lines):
            return None
        if any(d for _, _, _, d in lines):
            # Alone: a record of the chunk would compute it for them all
            return self.Invoice(id_).reconciled
        return max(d for _, _, d, _ in lines)

    def due_date(self, values):
        "Invoice.portal_payment_due"
        if values['portal_due_date']:
            return values['portal_due_date']
        dates = [m for m, _, _, _ in self.to_pay.get(values['id'], []) if m]
        return min(dates) if dates else (
            values['payment_term_date'] or values['invoice_date'])

    def total_amount(self, values):
        if (values['total_amount_cache'] is not None
                and values['untaxed_amount_cache'] is not None
                and values['tax_amount_cache'] is not None):
            return values['total_amount_cache']
        return self.Invoice(values['id']).total_amount


class SalesRows:
    "The sales register's rows of the wizard portal.vat_register"

    @classmethod
    def sales_rows(cls, company, from_date, to_date, client=None):
        """The Rows of the firm's posted customer invoices issued in the
        period, the clients' own invoices and corrections and the firm's
        invoices, in the register's order, a chunk at a time"""
        Invoice = Pool().get('account.invoice')
        domain = [
            ('company', '=', company.id),
            ('type', '=', 'out'),
            ('state', 'in', ['posted', 'paid']),
            ('invoice_date', '>=', from_date),
            ('invoice_date', '<=', to_date),
            ['OR', ('portal_kind', '=', None),
                ('portal_kind', 'in', ['invoice', 'correction'])],
            ]
        if client:
            domain.append(['OR', ('portal_issuer', '=', client.id),
                    [('portal_issuer', '=', None),
                        ('party', '=', client.id)]])
        known = _Known(company)
        for ids in chunks(cls._sales_order(Invoice, domain)):
            rows = cls._sales_chunk(_Chunk(ids), known)
            cls._set_ksef(rows)
            yield from rows

    @staticmethod
    def _sales_order(Invoice, domain):
        """The ids of the invoices of domain in the register's order (Row's
        sort key): issue date, the number's natural order, id"""
        invoice = Invoice.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*invoice.select(invoice.id, invoice.invoice_date,
                invoice.number, where=invoice.id.in_(
                    Invoice.search(domain, order=[], query=True))))
        keys = sorted(cursor, key=lambda r: (r[1], natural_key(r[2]), r[0]))
        return [k[0] for k in keys]

    @classmethod
    def _sales_chunk(cls, chunk, known):
        invoices = [chunk.invoices[i] for i in chunk.ids]
        known.load(invoices, chunk.taxes)
        split = {i.id: i.portal_pdf_split_payment
            for i in chunk.Invoice.browse(sorted(chunk.annex15))}
        return [cls._sales_row(chunk, known, v, split.get(v['id'], False))
            for v in invoices]

    @classmethod
    def _sales_row(cls, chunk, known, invoice, mpp):
        id_ = invoice['id']
        party, name, portal_client = known.parties[invoice['party']]
        corrected = chunk.corrected[id_]
        rate = cls._sales_rate(chunk, known, invoice, corrected)
        currency, code = known.currencies[invoice['currency']]
        if invoice['currency'] == known.currency:
            convert = _same
        else:
            convert = converter(rate and rate[0], currency, known.company,
                invoice['invoice_date'])
        total = chunk.total_amount(invoice)
        if invoice['state'] == 'paid':
            status, paid_date = 'paid', chunk.reconciled(id_)
        else:
            status = 'partly_paid' if id_ in chunk.paying else 'unpaid'
            paid_date = None
        country, address = known.address(invoice)
        rates = {}
        for tax, base, amount in chunk.taxes.get(id_, []):
            amounts = rates.setdefault(known.rate_code(tax), [ZERO, ZERO])
            amounts[0] += convert(base)
            amounts[1] += convert(amount)
        if chunk.untaxed.get(id_):
            rates.setdefault(OTHER, [ZERO, ZERO])[0] += convert(
                chunk.untaxed[id_])
        issuer = invoice['portal_issuer']
        row = Row(
            document=chunk.records[id_],
            date=invoice['invoice_date'],
            kind='KOR' if (invoice['portal_kind'] == 'correction'
                or corrected or total < 0) else 'FV',
            number=invoice['number'],
            issue_date=invoice['invoice_date'],
            sale_date=invoice['portal_sale_date'] or invoice['invoice_date'],
            contractor=name,
            country=country,
            tax_number=known.tax_number(invoice),
            address=address,
            rates=rates,
            currency=code,
            currency_amount=total,
            stored_vat_pln=invoice['portal_vat_pln'] if rate else None,
            gtu=', '.join(sorted(chunk.gtu.get(id_, ()))) or None,
            mpp=mpp,
            due_date=chunk.due_date(invoice),
            payment_method=invoice['portal_payment_method'],
            paid_date=paid_date,
            status=status,
            client=known.parties[issuer][0] if issuer else (
                party if portal_client else None),
            )
        row.nbp_rate, row.nbp_table, row.nbp_date = rate or (None,) * 3
        row.corrected = corrected
        return row

    @classmethod
    def _sales_rate(cls, chunk, known, invoice, corrected):
        """The invoice's (rate, NBP table, rate date) as _invoice_rate finds
        it; without one stored nor a corrected invoice, the rate depends on
        the currency and the day only: found once per day"""
        if invoice['currency'] == known.currency:
            return None
        if invoice['portal_nbp_rate']:
            return (invoice['portal_nbp_rate'], invoice['portal_nbp_table'],
                invoice['portal_nbp_date'])
        if corrected:
            # Alone: a record of the chunk would read the chunk's invoices
            return cls._invoice_rate(chunk.Invoice(invoice['id']))
        key = invoice['currency'], invoice['invoice_date']
        if key not in known.rates:
            # An invoice of that currency and day, which is all the rate
            # reads: not every column of one of them
            known.rates[key] = cls._pln_rate(chunk.Invoice(
                    currency=known.currencies[invoice['currency']][0],
                    company=known.company,
                    invoice_date=invoice['invoice_date']))
        return known.rates[key]
