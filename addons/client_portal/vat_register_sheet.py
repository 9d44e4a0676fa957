"""The VAT registers' spreadsheet: the register's row (a document with
the JPK_V7 row data, facts POLAND.md §7–8), its columns in Polish and
English, and the XLSX with the totals and the totals per rate (per client
too) on a second sheet. vat_register.py collects the rows."""
import datetime
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, NamedTuple

from .spreadsheet import lang_code, xlsx_bytes

ZERO = Decimal(0)
CENT = Decimal('0.01')
REGISTERS = [
    ('sales', "Sales"),
    ('purchase', "Purchase"),
    ]
OTHER = 'other'
# (FA(3) code of tax.VAT_CODES, Polish, English, has a VAT column): the
# register's rate columns in the order of the JPK_V7 fields; only 23, 8 and
# 5 % carry VAT, the others are net only as in JPK. OTHER takes what no
# code names (a tax without one, lines without a tax).
RATES = [
    ('23', "23%", "23%", True),
    ('8', "8%", "8%", True),
    ('5', "5%", "5%", True),
    ('0 KR', "0% kraj", "0% domestic", False),
    ('0 WDT', "0% WDT", "0% intra-EU supply", False),
    ('0 EX', "0% eksport", "0% export", False),
    ('zw', "zw", "exempt", False),
    ('np I', "np I", "np I", False),
    ('np II', "np II", "np II", False),
    ('oo', "oo", "oo", False),
    (OTHER, "inne", "other", True),
    ]
RATE_CODES = [r[0] for r in RATES]
# A tax without an FA(3) code, by its percentage
PERCENT_CODES = {Decimal('0.23'): '23', Decimal('0.08'): '8',
    Decimal('0.05'): '5'}
NBP_RATE_FORMAT = '0.0000##'

WORDS = {
    'pl': {
        'sheet': {'sales': "Rejestr sprzedaży",
            'purchase': "Rejestr zakupów"},
        'file': {'sales': "rejestr_sprzedazy", 'purchase': "rejestr_zakupow"},
        'summary': "Podsumowanie",
        'lp': "Lp.", 'kind': "Typ dokumentu", 'number': "Numer faktury",
        'ksef': "Numer KSeF", 'issue_date': "Data wystawienia",
        'sale_date': "Data sprzedaży", 'receipt_date': "Data wpływu",
        'contractor': "Kontrahent", 'country': "Kraj", 'tax_number': "NIP",
        'address': "Adres", 'net': "Netto", 'vat': "VAT",
        'net_total': "Netto razem", 'vat_total': "VAT razem",
        'gross_total': "Brutto razem", 'currency': "Waluta",
        'currency_amount': "Kwota w walucie", 'nbp_rate': "Kurs NBP",
        'nbp_table': "Tabela NBP", 'nbp_date': "Data kursu",
        'vat_pln': "VAT w PLN", 'gtu': "GTU", 'mpp': "MPP",
        'corrected_number': "Faktura korygowana",
        'corrected_date': "Data faktury korygowanej",
        'corrected_ksef': "Numer KSeF faktury korygowanej",
        'due_date': "Termin płatności", 'payment_method': "Forma płatności",
        'paid_date': "Data zapłaty", 'status': "Status płatności",
        'client': "Klient (MPK)", 'rate': "Stawka", 'gross': "Brutto",
        'count': "Liczba dokumentów", 'total': "Razem",
        'no_client': "(bez klienta)", 'yes': "tak",
        'statuses': {'paid': "zapłacona", 'partly_paid': "zapłacona częściowo",
            'unpaid': "niezapłacona"},
        'methods': {'transfer': "przelew", 'cash': "gotówka",
            'card': "karta", 'compensation': "kompensata",
            'other': "inna"},
        },
    'en': {
        'sheet': {'sales': "Sales register",
            'purchase': "Purchase register"},
        'file': {'sales': "sales_register", 'purchase': "purchase_register"},
        'summary': "Summary",
        'lp': "No.", 'kind': "Document type", 'number': "Invoice number",
        'ksef': "KSeF number", 'issue_date': "Issue date",
        'sale_date': "Sale date", 'receipt_date': "Receipt date",
        'contractor': "Contractor", 'country': "Country",
        'tax_number': "Tax ID", 'address': "Address", 'net': "Net",
        'vat': "VAT", 'net_total': "Net total", 'vat_total': "VAT total",
        'gross_total': "Gross total", 'currency': "Currency",
        'currency_amount': "Amount in currency", 'nbp_rate': "NBP rate",
        'nbp_table': "NBP table", 'nbp_date': "Rate date",
        'vat_pln': "VAT in PLN", 'gtu': "GTU", 'mpp': "Split payment",
        'corrected_number': "Corrected invoice",
        'corrected_date': "Corrected invoice date",
        'corrected_ksef': "Corrected invoice KSeF number",
        'due_date': "Due date", 'payment_method': "Payment method",
        'paid_date': "Payment date", 'status': "Payment status",
        'client': "Client (cost centre)", 'rate': "Rate", 'gross': "Gross",
        'count': "Documents", 'total': "Total", 'no_client': "(no client)",
        'yes': "yes",
        'statuses': {'paid': "paid", 'partly_paid': "partly paid",
            'unpaid': "unpaid"},
        'methods': {'transfer': "bank transfer", 'cash': "cash",
            'card': "card", 'compensation': "compensation",
            'other': "other"},
        },
    }


def words(language):
    return WORDS[lang_code(language)]


def round_cent(amount):
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_code(tax):
    "The register's rate column of a Tryton tax"
    if tax is None:
        return OTHER
    if tax.portal_vat_code in RATE_CODES:
        return tax.portal_vat_code
    if tax.type == 'percentage' and tax.rate is not None:
        return PERCENT_CODES.get(tax.rate, OTHER)
    return OTHER


def natural_key(number):
    "FV/ALFA/10/2026 after FV/ALFA/9/2026"
    return [(0, int(p), '') if p.isdigit() else (1, 0, p)
        for p in re.split(r'(\d+)', number or '') if p]


@dataclass
class Row:
    "A document as the register shows it; amounts in PLN unless named"
    document: object
    date: datetime.date
    kind: str
    number: str
    issue_date: datetime.date
    sale_date: datetime.date
    contractor: str
    country: str
    tax_number: str
    address: str
    # {rate code: [net, VAT]}
    rates: dict
    currency: str
    currency_amount: Decimal
    receipt_date: datetime.date = None
    nbp_rate: Decimal = None
    nbp_table: str = None
    nbp_date: datetime.date = None
    # Stored on the document (VAT art. 106e ust. 11), else the VAT total
    stored_vat_pln: Decimal = None
    gtu: str = None
    mpp: bool = False
    # [(document, number, date)] of the documents a correction corrects
    corrected: list = field(default_factory=list)
    due_date: datetime.date = None
    payment_method: str = None
    paid_date: datetime.date = None
    status: str = 'unpaid'
    client: object = None
    ksef: str = ''
    corrected_ksef: str = ''

    @property
    def net(self):
        return sum((n for n, _ in self.rates.values()), ZERO)

    @property
    def vat(self):
        return sum((v for _, v in self.rates.values()), ZERO)

    @property
    def gross(self):
        return self.net + self.vat

    @property
    def vat_pln(self):
        if self.stored_vat_pln is not None:
            return self.stored_vat_pln
        return self.vat

    @property
    def client_name(self):
        return self.client.rec_name if self.client else None

    @property
    def corrected_number(self):
        return ', '.join(n for _, n, _ in self.corrected if n) or None

    @property
    def corrected_date(self):
        dates = [d for _, _, d in self.corrected if d]
        return min(dates) if dates else None

    def sort_key(self):
        return (self.date, natural_key(self.number), self.document.id)


def add_rates(totals, rates):
    "Add a row's {rate code: [net, VAT]} to totals"
    for code, (net, vat) in rates.items():
        total = totals.setdefault(code, [ZERO, ZERO])
        total[0] += net
        total[1] += vat


def in_rate_order(totals):
    "{rate code: [net, VAT]} in the order of RATES"
    return {c: totals[c] for c in RATE_CODES if c in totals}


def rate_label(code, language):
    for key, pl, en, _ in RATES:
        if key == code:
            return pl if lang_code(language) == 'pl' else en


class Column(NamedTuple):
    label: str
    width: int
    # The row's cell: str, date, int, Decimal or None (an empty cell)
    value: Callable
    # 'total': summed in the last row; 'rate': an exchange rate
    kind: str = None


def register_columns(register, language):
    "The register's Columns"
    w = words(language)
    purchase = register == 'purchase'

    def rate_value(code, index):
        return lambda r: r.rates.get(code, (ZERO, ZERO))[index]
    columns = [
        Column(w['lp'], 6, None),
        Column(w['kind'], 8, lambda r: r.kind),
        Column(w['number'], 20, lambda r: r.number),
        Column(w['ksef'], 38, lambda r: r.ksef),
        Column(w['issue_date'], 11, lambda r: r.issue_date),
        Column(w['sale_date'], 11, lambda r: r.sale_date),
        ]
    if purchase:
        columns.append(
            Column(w['receipt_date'], 11, lambda r: r.receipt_date))
    columns += [
        Column(w['contractor'], 30, lambda r: r.contractor),
        Column(w['country'], 6, lambda r: r.country),
        Column(w['tax_number'], 14, lambda r: r.tax_number),
        Column(w['address'], 34, lambda r: r.address),
        ]
    for code, _, _, with_vat in RATES:
        label = rate_label(code, language)
        columns.append(Column(f"{w['net']} {label}", 13,
                rate_value(code, 0), 'total'))
        if with_vat:
            columns.append(Column(f"{w['vat']} {label}", 12,
                    rate_value(code, 1), 'total'))
    columns += [
        Column(w['net_total'], 14, lambda r: r.net, 'total'),
        Column(w['vat_total'], 13, lambda r: r.vat, 'total'),
        Column(w['gross_total'], 14, lambda r: r.gross, 'total'),
        Column(w['currency'], 7, lambda r: r.currency),
        Column(w['currency_amount'], 14, lambda r: r.currency_amount),
        Column(w['nbp_rate'], 9, lambda r: r.nbp_rate, 'rate'),
        Column(w['nbp_table'], 16, lambda r: r.nbp_table),
        Column(w['nbp_date'], 11, lambda r: r.nbp_date),
        Column(w['vat_pln'], 13, lambda r: r.vat_pln, 'total'),
        ]
    if not purchase:
        # GTU and split payment are the seller's markers (JPK_V7 sales rows)
        columns += [
            Column(w['gtu'], 10, lambda r: r.gtu),
            Column(w['mpp'], 6, lambda r: w['yes'] if r.mpp else None),
            ]
    columns += [
        Column(w['corrected_number'], 20, lambda r: r.corrected_number),
        Column(w['corrected_date'], 11, lambda r: r.corrected_date),
        Column(w['corrected_ksef'], 38, lambda r: r.corrected_ksef or None),
        Column(w['due_date'], 11, lambda r: r.due_date),
        Column(w['payment_method'], 14,
            lambda r: w['methods'].get(r.payment_method, r.payment_method)),
        Column(w['paid_date'], 11, lambda r: r.paid_date),
        Column(w['status'], 16, lambda r: w['statuses'][r.status]),
        Column(w['client'], 30, lambda r: r.client_name),
        ]
    return columns


def register_xlsx(rows, register, language, per_client=True):
    """The XLSX (bytes) of the register's rows, an iterable of Rows in the
    register's order (Row.sort_key) read once as they are written: the
    register with its totals row, then the totals per rate, per client
    before the firm's when per_client"""
    return xlsx_bytes(lambda book: _write_register(
            book, rows, register, language, per_client))


class _Totals:
    """The summary's figures, added up row by row as the register is
    written: per rate of the firm and of each client, and the firm's"""

    def __init__(self, per_client):
        self.per_client = per_client
        self.rates = {}
        # {client id or None: [sort key, label, {rate code: [net, VAT]}]}
        self.clients = {}
        self.net = self.vat = ZERO
        self.count = 0

    def add(self, row, no_client):
        add_rates(self.rates, row.rates)
        self.net += row.net
        self.vat += row.vat
        self.count += 1
        if self.per_client:
            client = row.client
            key = client.id if client else None
            if key not in self.clients:
                self.clients[key] = [
                    (client is None, client.rec_name if client else '',
                        client.id if client else 0),
                    client.rec_name if client else no_client, {}]
            add_rates(self.clients[key][2], row.rates)

    def per_clients(self):
        "[(label, {rate code: [net, VAT]})] of the clients in their order"
        return [(label, rates) for _, label, rates in sorted(
                self.clients.values(), key=lambda c: c[0])]


def _write_register(book, rows, register, language, per_client):
    w = words(language)
    columns = register_columns(register, language)
    sheet = book.sheet(w['sheet'][register], [c.label for c in columns],
        [c.width for c in columns])
    # The shared writer formats every Decimal as money; an NBP rate has
    # four to six decimals
    rate_format = book.book.add_format({'num_format': NBP_RATE_FORMAT})
    totals = [ZERO if c.kind == 'total' else None for c in columns]
    summed = _Totals(per_client)
    for lp, row in enumerate(rows, 1):
        values = [lp] + [c.value(row) for c in columns[1:]]
        for i, column in enumerate(columns):
            if column.kind == 'total':
                totals[i] += values[i]
            elif column.kind == 'rate' and values[i] is not None:
                # Before the rest of the row: the writer goes row by row
                sheet.sheet.write_number(sheet.row, i, float(values[i]),
                    rate_format)
                values[i] = None
        sheet.write(values)
        summed.add(row, w['no_client'])
    sheet.write([w['total']] + totals[1:], bold=True)

    summary = book.sheet(w['summary'],
        [w['client'], w['rate'], w['net'], w['vat'], w['gross'], w['count']],
        [30, 16, 14, 13, 14, 10])

    def write_rates(label, rates, bold=False):
        for code, (net, vat) in in_rate_order(rates).items():
            summary.write([label, rate_label(code, language), net, vat,
                    net + vat, None], bold=bold)
    for label, rates in summed.per_clients():
        write_rates(label, rates)
    write_rates(w['total'], summed.rates, bold=True)
    summary.write([w['total'], w['total'], summed.net, summed.vat,
            summed.net + summed.vat, summed.count], bold=True)
