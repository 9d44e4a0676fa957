"""The accountant's XLSX of payroll bills: one row per bill with every
component of the calculation, totals computed here (not formulas, so the
file's numbers are the ones the bills hold), and the totals per client."""
import datetime

from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateView, Wizard

from client_portal.spreadsheet import lang_code, xlsx_bytes

from .calculation import ZERO

# (code, Polish, English): every Numeric component of calculation.Bill, in
# the order of the printed rachunek
COMPONENTS = [
    ('gross', "Przychód (brutto)", "Gross"),
    ('social_base', "Podstawa składek społecznych",
        "Social contributions base"),
    ('pension_base', "Podstawa emerytalna (w limicie)",
        "Pension base (within the cap)"),
    ('pension_contractor', "Emerytalna (zleceniobiorca)",
        "Pension (contractor)"),
    ('disability_contractor', "Rentowa (zleceniobiorca)",
        "Disability (contractor)"),
    ('sickness', "Chorobowa", "Sickness"),
    ('social_contractor', "Składki społeczne (zleceniobiorca)",
        "Social contributions (contractor)"),
    ('health_base', "Podstawa składki zdrowotnej",
        "Health contribution base"),
    ('health', "Składka zdrowotna", "Health contribution"),
    ('kup_base', "Podstawa kosztów", "Costs base"),
    ('kup_normal', "Koszty 20%", "Costs 20%"),
    ('kup_copyright', "Koszty 50% (prawa autorskie)",
        "Costs 50% (copyright)"),
    ('kup', "Koszty uzyskania przychodu", "Tax-deductible costs"),
    ('under26_relief', "Przychód zwolniony (do 26 lat)",
        "Exempt income (under 26)"),
    ('tax_base', "Podstawa opodatkowania", "Tax base"),
    ('tax_before_reduction', "Podatek przed pomniejszeniem",
        "Tax before reduction"),
    ('tax_reduction', "Kwota zmniejszająca (PIT-2)",
        "Tax-reducing amount (PIT-2)"),
    ('pit', "Zaliczka na podatek", "Income tax advance"),
    ('net', "Do wypłaty", "Net to pay"),
    ('pension_payer', "Emerytalna (płatnik)", "Pension (payer)"),
    ('disability_payer', "Rentowa (płatnik)", "Disability (payer)"),
    ('accident', "Wypadkowa", "Accident"),
    ('labour_fund', "Fundusz Pracy", "Labour Fund"),
    ('fgsp', "FGŚP", "Guaranteed Benefits Fund (FGŚP)"),
    ('payer_contributions', "Składki płatnika", "Payer's contributions"),
    ('payer_total_cost', "Koszt płatnika razem", "Total cost to the payer"),
    ]
COMPONENT_CODES = [c for c, _, _ in COMPONENTS]

WORDS = {
    'pl': {
        'bills': "Rachunki", 'clients': "Klienci", 'number': "Numer",
        'date': "Data", 'period_start': "Okres od", 'period_end': "Okres do",
        'client': "Klient", 'contractor': "Wykonawca", 'pesel': "PESEL",
        'kind': "Rodzaj umowy", 'flat_tax': "Ryczałt", 'count': "Liczba",
        'year': "Rok", 'total': "Razem", 'yes': "tak",
        'file': "rachunki", 'summary': "PIT-11", 'summary_file': "pit-11",
        'kinds': {'mandate': "Umowa zlecenie", 'work': "Umowa o dzieło",
            'other': "Inna"},
        },
    'en': {
        'bills': "Bills", 'clients': "Clients", 'number': "Number",
        'date': "Date", 'period_start': "Period from",
        'period_end': "Period to", 'client': "Client",
        'contractor': "Contractor", 'pesel': "PESEL",
        'kind': "Contract kind", 'flat_tax': "Flat tax", 'count': "Count",
        'year': "Year", 'total': "Total", 'yes': "yes",
        'file': "bills", 'summary': "PIT-11", 'summary_file': "pit-11",
        'kinds': {'mandate': "Mandate contract",
            'work': "Contract for specific work", 'other': "Other"},
        },
    }


def words(language):
    return WORDS[lang_code(language)]


def component_labels(language, codes=COMPONENT_CODES):
    labels = {c: (pl, en) for c, pl, en in COMPONENTS}
    return [labels[c][lang_code(language) == 'en'] for c in codes]


def user_language():
    return Transaction().language or 'en'


def bill_order(bill):
    "By date then number (the sequence: RA/10 after RA/9), then id"
    return (bill.date or datetime.date.min, bill.sequence or 0,
        bill.number or '', bill.id or 0)


def component_totals(records, codes=COMPONENT_CODES):
    "{code: Decimal sum} of the records' values"
    return {code: sum((getattr(r, code) or ZERO for r in records), ZERO)
        for code in codes}


def identity(contractor):
    return contractor.pesel or contractor.passport or ''


def bills_xlsx(bills, language):
    """The XLSX (bytes) of the bills: sheet Rachunki/Bills, a row per bill
    by date and number and the totals; sheet Klienci/Clients, the totals
    per client"""
    w = words(language)
    labels = component_labels(language)
    bills = sorted(bills, key=bill_order)
    return xlsx_bytes(lambda book: _write_bills(book, bills, w, labels))


def _write_bills(book, bills, w, labels):
    sheet = book.sheet(w['bills'], [w['number'], w['date'], w['period_start'],
            w['period_end'], w['client'], w['contractor'], w['pesel'],
            w['kind'], w['flat_tax']] + labels,
        [14, 11, 11, 11, 30, 26, 13, 22, 8] + [14] * len(labels))
    for bill in bills:
        kind = bill.contract.kind if bill.contract else None
        sheet.write([bill.number or '', bill.date, bill.period_start,
                bill.period_end, bill.client.rec_name,
                bill.contractor.rec_name, identity(bill.contractor),
                w['kinds'].get(kind, kind or ''),
                w['yes'] if bill.flat_tax else '']
            + [getattr(bill, c) or ZERO for c in COMPONENT_CODES])
    totals = component_totals(bills)
    sheet.write([w['total']] + [None] * 8
        + [totals[c] for c in COMPONENT_CODES], bold=True)

    sheet = book.sheet(w['clients'], [w['client'], w['count']] + labels,
        [30, 8] + [14] * len(labels))
    clients = {}
    for bill in bills:
        clients.setdefault(bill.client.id, []).append(bill)
    for of_client in sorted(clients.values(),
            key=lambda b: (b[0].client.rec_name, b[0].client.id)):
        sums = component_totals(of_client)
        sheet.write([of_client[0].client.rec_name, len(of_client)]
            + [sums[c] for c in COMPONENT_CODES])
    sheet.write([w['total'], len(bills)]
        + [totals[c] for c in COMPONENT_CODES], bold=True)


def bill_domain(from_date, to_date, client=None, contractor=None):
    "The issued and paid bills dated in the period, of the client/contractor"
    domain = [
        ('state', 'in', ['issued', 'paid']),
        ('date', '>=', from_date),
        ('date', '<=', to_date),
        ]
    if client:
        domain.append(('client', '=', getattr(client, 'id', client)))
    if contractor:
        domain.append(
            ('contractor', '=', getattr(contractor, 'id', contractor)))
    return domain


class ExportStart(ModelView):
    "Export Payroll Bills"
    __name__ = 'payroll.bill.export.start'

    from_date = fields.Date("From Date", required=True,
        domain=[If(Bool(Eval('to_date')),
                ('from_date', '<=', Eval('to_date')), ())],
        help="The first issue date of the bills exported.")
    to_date = fields.Date("To Date", required=True,
        domain=[If(Bool(Eval('from_date')),
                ('to_date', '>=', Eval('from_date')), ())],
        help="The last issue date of the bills exported.")
    client = fields.Many2One('party.party', "Client",
        domain=[('portal_client', '=', True)],
        help="Leave empty for all clients.")
    contractor = fields.Many2One('payroll.contractor', "Contractor",
        domain=[If(Bool(Eval('client')),
                ('client', '=', Eval('client', -1)), ())],
        help="Leave empty for all contractors.")

    @classmethod
    def default_from_date(cls):
        return Pool().get('ir.date').today().replace(day=1)

    @classmethod
    def default_to_date(cls):
        today = Pool().get('ir.date').today()
        next_month = (today.replace(day=28) + datetime.timedelta(days=4))
        return next_month - datetime.timedelta(days=next_month.day)

    @fields.depends('client', 'contractor')
    def on_change_client(self):
        if self.contractor and self.contractor.client != self.client:
            self.contractor = None


class Export(Wizard):
    "Export Payroll Bills"
    __name__ = 'payroll.bill.export'

    start = StateView('payroll.bill.export.start',
        'payroll_account.bill_export_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'result', 'tryton-ok', default=True),
            ])
    result = StateView('portal.export.file',
        'client_portal.export_file_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def bills(self):
        Bill = Pool().get('payroll.bill')
        return Bill.search(bill_domain(self.start.from_date,
                self.start.to_date, self.start.client, self.start.contractor),
            order=[('date', 'ASC'), ('sequence', 'ASC'), ('id', 'ASC')])

    def default_result(self, fields):
        language = user_language()
        w = words(language)
        return {
            'file': bills_xlsx(self.bills(), language),
            'filename': '%s_%s_%s.xlsx' % (w['file'],
                self.start.from_date.isoformat(),
                self.start.to_date.isoformat()),
            }
