"""The accountant's VAT registers: the rows of October 2026 (which
documents, in which order, every column of the kinds a register meets),
the totals per rate against Tryton's tax lines, the headers in Polish and
English, the client filter and who may export"""
import datetime
import io
from contextlib import ExitStack
from decimal import Decimal as D
from types import SimpleNamespace

import openpyxl

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from ..demo import create_client, create_invoice, create_staff, nip, pay
from ..demo_outgoing import create_contractor, create_invoice_template
from ..scan import check_scan
from ..vat_register_sheet import RATE_CODES, rate_code
from .committed import CommittedTestCase
from .outgoing_setup import form, outgoing_firm
from .test_cost_invoice import pdf_bytes
from .test_module import _manager

# A Monday: the demo's NBP rates cover the fourteen months before it
TODAY = datetime.date(2026, 11, 23)
FROM, TO = datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)
CENT = D('0.01')


def october(day):
    return datetime.date(2026, 10, day)


def build():
    """The firm; clients Alfa (PLN and EUR) and Beta (PLN and EUR), each
    with a template and a buyer. Sales of October: Alfa's 23 % invoice
    (GTU_12), its 8 % + 23 % one dated earlier and paid, its EUR one and
    the correction of the first; Beta's invoice in split payment; the
    firm's invoice to Alfa. Purchases: Alfa's cost invoice (paid to the
    supplier) and its correction, Beta's EUR cost invoice from Germany,
    the firm's own rent.
    Left out: a September invoice, a cancelled and a draft one, a cost
    invoice only submitted and one received in September."""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    CostInvoice = pool.get('portal.cost.invoice')
    Subaccount = pool.get('portal.subaccount')
    Party = pool.get('party.party')
    ModelData = pool.get('ir.model.data')
    firm, alfa, template, gamma = outgoing_firm(TODAY)
    beta = create_client(firm, "Beta S.A.", nip('583301245'),
        "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
    Subaccount.create_for([beta], [firm.pln, firm.eur])
    beta_template = create_invoice_template(firm, "Beta", 'BETA', [beta])
    delta = create_contractor(firm, beta, "Delta sp. z o.o.",
        "ul. Morska 5", '81-001', "Gdynia", tax_number=nip('727100423'))
    scan = check_scan(pdf_bytes(), 'faktura.pdf')
    s = SimpleNamespace(firm=firm, alfa=alfa, beta=beta, gamma=gamma,
        delta=delta)

    def issue(client, template, buyer, lines, date, gtu=None,
            annex15=False, **values):
        draft = Invoice.portal_save_draft(client, form(firm, client,
                template, buyer, lines, date=date, **values))
        if gtu or annex15:
            Line.write(list(draft.lines),
                {'portal_gtu': gtu, 'portal_annex15': annex15})
        return Invoice.portal_issue(draft, render=False)

    def cost(client, supplier, number, lines, issued, received,
            currency=None, **values):
        record = CostInvoice.portal_save(client, dict({
                    'supplier': supplier, 'number': number,
                    'kind': 'invoice', 'invoice_date': issued,
                    'sale_date': issued, 'receipt_date': received,
                    'currency': currency or firm.pln, 'language': 'pl',
                    'entry': 'lines', 'payment_method': 'transfer',
                    'payment_status': 'unpaid',
                    'due_date': issued + datetime.timedelta(days=14),
                    'note': None}, **values),
            [{'description': d, 'quantity': D(q), 'unit_price': D(p),
                    'tax': firm.purchase_taxes[t]} for d, q, p, t in lines],
            scan=scan, submit=True)
        return record

    with Transaction().set_context(company=firm.company.id,
            _skip_warnings=True):
        s.domestic = issue(alfa, template, gamma,
            [("Projekt logo", 1, '1000.00', '23')], october(5),
            gtu='GTU_12')
        s.mixed = issue(alfa, template, gamma,
            [("Projekt logo", 1, '1000.00', '23'),
                ("Druk ulotek", 100, '1.50', '8', '10')], october(2))
        pay(firm, s.mixed, s.mixed.total_amount, october(10))
        s.eur = issue(alfa, template, gamma,
            [("Consulting", 2, '500.00', '23')], october(12),
            currency='EUR')
        correction = Invoice.portal_correct(s.domestic)
        correction = Invoice.portal_save_draft(alfa, form(firm, alfa,
                template, gamma, [("Projekt logo", 1, '800.00', '23')],
                date=october(20), kind='correction',
                reason="Rabat posprzedażowy"), correction)
        s.correction = Invoice.portal_issue(correction, render=False)
        # Above 15 000 zł with an annex 15 service: split payment
        s.beta_invoice = issue(beta, beta_template, delta,
            [("Roboty budowlane", 4, '3125.00', '23')], october(5),
            annex15=True)
        s.firm_invoice = create_invoice(firm, alfa, october(15),
            [("Obsługa księgowa", 1, '1500.00', '23')])
        issue(alfa, template, gamma, [("Wrzesień", 1, '100.00', '23')],
            datetime.date(2026, 9, 30))
        cancelled = create_invoice(firm, beta, october(16),
            [("Anulowana", 1, '100.00', '23')], post=False)
        Invoice.cancel([cancelled])
        create_invoice(firm, beta, october(17),
            [("Szkic", 1, '100.00', '23')], post=False)

        hotel = create_contractor(firm, alfa, "Hotel Polonia sp. z o.o.",
            "ul. Wspólna 12", '00-681', "Warszawa",
            tax_number=nip('521038443'))
        s.cost = cost(alfa, hotel, 'FV/10/2026/H',
            [("Nocleg", 2, '150.00', '8'),
                ("Sala konferencyjna", 1, '400.00', '23')],
            october(3), october(6))
        CostInvoice.approve([s.cost])
        CostInvoice.mark_paid([s.cost])
        s.cost_correction = cost(alfa, hotel, 'FV/10/2026/H/K1',
            [("Nocleg", -1, '150.00', '8')], october(20), october(22),
            kind='correction', corrected=s.cost)
        CostInvoice.approve([s.cost_correction])
        nord = create_contractor(firm, beta, "Spedition Nord GmbH",
            "Hafenstraße 8", '20457', "Hamburg", country='DE',
            tax_number='DE136695976')
        s.cost_eur = cost(beta, nord, 'RE-2026-1041',
            [("Transport", 1, '1000.00', '23')], october(12), october(14),
            currency=firm.eur)
        CostInvoice.approve([s.cost_eur])
        cost(alfa, hotel, 'FV/10/2026/H2', [("Nocleg", 1, '150.00', '8')],
            october(13), october(15))
        september = cost(alfa, hotel, 'FV/09/2026/H',
            [("Nocleg", 1, '150.00', '8')], datetime.date(2026, 9, 25),
            datetime.date(2026, 9, 28))
        CostInvoice.approve([september])

        landlord, = Party.create([{'name': "Biurowiec Centrum sp. z o.o.",
                    'addresses': [('create', [{
                                    'street_unstructured': "ul. Złota 59",
                                    'postal_code': '00-120',
                                    'city': "Warszawa",
                                    'country': firm.countries['PL'].id}])],
                    'identifiers': [('create', [{'type': 'pl_vat',
                                    'code': nip('951234567')}])]}])
        s.rent, = Invoice.create([{
                    'type': 'in', 'company': firm.company.id,
                    'party': landlord.id,
                    'invoice_address': landlord.addresses[0].id,
                    'currency': firm.pln.id, 'reference': 'FZ/2026/10/77',
                    'invoice_date': october(9),
                    'accounting_date': october(10),
                    'account': firm.accounts.payable.id,
                    'journal': ModelData.get_id('account',
                        'journal_expense'),
                    'payment_term': firm.terms[14].id,
                    'lines': [('create', [{
                                    'type': 'line', 'description': "Najem",
                                    'quantity': 1,
                                    'unit_price': D('2000.00'),
                                    'account': firm.accounts.expense.id,
                                    'taxes': [('add', [
                                                firm.purchase_taxes['23'].id
                                                ])]}])]}])
        Invoice.update_taxes([s.rent])
        Invoice.post([s.rent])

    s.accountant = create_staff(firm, 'ksiegowa', "Księgowa",
        ['client_portal.group_portal_accountant'], 'Pass-word-2026')
    s.manager = _manager('marta', alfa, beta)
    return s


def read_sheets(content):
    """{sheet name: [{header: value}]}, the header row as the key 'header'
    of each sheet (openpyxl reads the file back)"""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheets = {}
    for name in book.sheetnames:
        data = [list(r) for r in book[name].iter_rows(values_only=True)]
        sheets[name] = [dict(zip(data[0], r)) for r in data[1:]]
        sheets[name + ':header'] = data[0]
    return sheets


def money(value):
    "A money cell as the Decimal it was written from"
    return D(str(value or 0)).quantize(CENT)


def date(value):
    return value.date() if value is not None else None


class VatRegisterTestCase(CommittedTestCase):
    "The VAT registers of a firm's October"

    @classmethod
    def build(cls):
        return build()

    def export(self, register, language='pl', client=None):
        "The wizard's file and its name"
        Wizard = Pool().get('portal.vat_register', type='wizard')
        s = self.setup()
        session_id, _, _ = Wizard.create()
        with Transaction().set_context(language=language):
            result = Wizard.execute(session_id, {'start': {
                        'company': s.firm.company.id, 'register': register,
                        'from_date': FROM, 'to_date': TO,
                        'client': client.id if client else None}},
                'result')
        Wizard.delete(session_id)
        defaults = result['view']['defaults']
        return bytes(defaults['file']), defaults['filename']

    def markers(self, *documents):
        Wizard = Pool().get('portal.vat_register', type='wizard')
        return Wizard.ksef_markers(list(documents))

    @with_transaction()
    def test_sales_register(self):
        "Which invoices, in which order, and their columns"
        s = self.setup()
        content, name = self.export('sales')
        self.assertEqual(name, 'rejestr_sprzedazy_2026-10-01_2026-10-31.xlsx')
        sheets = read_sheets(content)
        rows = sheets["Rejestr sprzedaży"]
        body, total = rows[:-1], rows[-1]
        # By issue date, then number: same day, Alfa's series before Beta's
        expected = [s.mixed, s.domestic, s.beta_invoice, s.eur,
            s.firm_invoice, s.correction]
        self.assertEqual([r["Numer faktury"] for r in body],
            [i.number for i in expected])
        self.assertEqual([r["Lp."] for r in body], [1, 2, 3, 4, 5, 6])
        markers = self.markers(*expected)
        self.assertEqual([r["Numer KSeF"] or '' for r in body],
            [markers[i] for i in expected])
        row = dict(zip([i.number for i in expected], body))

        domestic = row[s.domestic.number]
        self.assertEqual(domestic["Typ dokumentu"], 'FV')
        self.assertEqual(date(domestic["Data wystawienia"]), october(5))
        self.assertEqual(date(domestic["Data sprzedaży"]), october(5))
        self.assertEqual(domestic["Kontrahent"], "Gamma Trade sp. z o.o.")
        self.assertEqual(domestic["Kraj"], 'PL')
        self.assertEqual(domestic["NIP"], nip('526587763'))
        self.assertEqual(domestic["Adres"], "ul. Prosta 1, 00-001 Warszawa")
        self.assert_rates(domestic, {'23': ('1000.00', '230.00')})
        self.assertEqual([money(domestic[k]) for k in ["Netto razem",
                    "VAT razem", "Brutto razem", "Kwota w walucie",
                    "VAT w PLN"]],
            [D('1000.00'), D('230.00'), D('1230.00'), D('1230.00'),
                D('230.00')])
        self.assertEqual(domestic["Waluta"], 'PLN')
        for column in ["Kurs NBP", "Tabela NBP", "Data kursu", "MPP"]:
            self.assertIsNone(domestic[column], column)
        self.assertEqual(domestic["GTU"], 'GTU_12')
        self.assertEqual(date(domestic["Termin płatności"]), october(19))
        self.assertEqual(domestic["Forma płatności"], "przelew")
        self.assertEqual(domestic["Status płatności"], "niezapłacona")
        self.assertIsNone(domestic["Data zapłaty"])
        self.assertIsNone(domestic["Faktura korygowana"])
        self.assertEqual(domestic["Klient (MPK)"], "Alfa sp. z o.o.")

        mixed = row[s.mixed.number]
        # 100 × 1.50 less 10 % = 135.00 at 8 %
        self.assert_rates(mixed, {'23': ('1000.00', '230.00'),
                '8': ('135.00', '10.80')})
        self.assertEqual(money(mixed["Brutto razem"]), D('1375.80'))
        self.assertEqual(mixed["GTU"], None)
        self.assertEqual(mixed["Status płatności"], "zapłacona")
        self.assertEqual(date(mixed["Data zapłaty"]), october(10))

        eur = row[s.eur.number]
        rate = s.eur.portal_nbp_rate
        self.assertTrue(rate)
        self.assertEqual(eur["Waluta"], 'EUR')
        self.assertEqual(money(eur["Kwota w walucie"]), D('1230.00'))
        self.assertEqual(D(str(eur["Kurs NBP"])), rate.normalize())
        self.assertEqual(eur["Tabela NBP"], s.eur.portal_nbp_table)
        self.assertEqual(date(eur["Data kursu"]), s.eur.portal_nbp_date)
        net, vat = (D(1000) * rate).quantize(CENT), (D(230) * rate).quantize(
            CENT)
        self.assert_rates(eur, {'23': (net, vat)})
        self.assertEqual(money(eur["VAT w PLN"]), s.eur.portal_vat_pln)
        self.assertEqual(money(eur["VAT w PLN"]), vat)
        self.assertEqual(money(eur["Brutto razem"]), net + vat)

        correction = row[s.correction.number]
        self.assertEqual(correction["Typ dokumentu"], 'KOR')
        self.assert_rates(correction, {'23': ('-200.00', '-46.00')})
        self.assertEqual(correction["Faktura korygowana"], s.domestic.number)
        self.assertEqual(date(correction["Data faktury korygowanej"]),
            october(5))
        self.assertEqual(correction["Numer KSeF faktury korygowanej"] or '',
            markers[s.domestic])

        beta = row[s.beta_invoice.number]
        self.assertEqual((beta["Kontrahent"], beta["Klient (MPK)"],
                beta["MPP"], money(beta["Brutto razem"])),
            ("Delta sp. z o.o.", "Beta S.A.", "tak", D('15375.00')))

        # The firm's own invoice to its client: the client's cost centre
        firm = row[s.firm_invoice.number]
        self.assertEqual((firm["Typ dokumentu"], firm["Kontrahent"],
                firm["Klient (MPK)"], firm["Forma płatności"]),
            ('FV', "Alfa sp. z o.o.", "Alfa sp. z o.o.", None))
        self.assert_rates(firm, {'23': ('1500.00', '345.00')})

        self.assertEqual(total["Lp."], "Razem")
        for column in sheets["Rejestr sprzedaży:header"]:
            if column.startswith(("Netto", "VAT", "Brutto")):
                self.assertEqual(money(total[column]),
                    sum((money(r[column]) for r in body), D(0)), column)

    def assert_rates(self, row, expected):
        "The row's net and VAT per rate: the expected ones, the rest zero"
        for code in RATE_CODES:
            label = {'0 KR': "0% kraj", '0 WDT': "0% WDT",
                '0 EX': "0% eksport", 'other': "inne"}.get(
                code, code if not code[0].isdigit() else f'{code}%')
            net, vat = expected.get(code, (0, 0))
            self.assertEqual(money(row[f"Netto {label}"]), D(net), code)
            if f"VAT {label}" in row:
                self.assertEqual(money(row[f"VAT {label}"]), D(vat), code)
            else:
                self.assertEqual(D(vat), 0, code)

    @with_transaction()
    def test_purchase_register(self):
        "Cost invoices on their receipt date, and the firm's own purchases"
        Date = Pool().get('ir.date')
        s = self.setup()
        content, name = self.export('purchase')
        self.assertEqual(name, 'rejestr_zakupow_2026-10-01_2026-10-31.xlsx')
        sheets = read_sheets(content)
        header = sheets["Rejestr zakupów:header"]
        self.assertIn("Data wpływu", header)
        self.assertNotIn("GTU", header)
        body = sheets["Rejestr zakupów"][:-1]
        self.assertEqual([r["Numer faktury"] for r in body],
            ['FV/10/2026/H', 'FZ/2026/10/77', 'RE-2026-1041',
                'FV/10/2026/H/K1'])
        self.assertEqual([date(r["Data wpływu"]) for r in body],
            [october(6), october(10), october(14), october(22)])
        markers = self.markers(s.cost, s.rent, s.cost_eur,
            s.cost_correction)
        self.assertEqual([r["Numer KSeF"] or '' for r in body],
            [markers[d] for d in [s.cost, s.rent, s.cost_eur,
                    s.cost_correction]])
        cost, rent, eur, correction = body

        self.assertEqual((cost["Typ dokumentu"],
                date(cost["Data wystawienia"]), cost["Kontrahent"],
                cost["NIP"], cost["Klient (MPK)"]),
            ('FV', october(3), "Hotel Polonia sp. z o.o.", nip('521038443'),
                "Alfa sp. z o.o."))
        self.assert_rates(cost, {'8': ('300.00', '24.00'),
                '23': ('400.00', '92.00')})
        self.assertEqual(money(cost["Brutto razem"]), D('816.00'))
        self.assertEqual(
            (cost["Status płatności"], date(cost["Data zapłaty"])),
            ("zapłacona", Date.today()))

        self.assertEqual(correction["Typ dokumentu"], 'KOR')
        self.assert_rates(correction, {'8': ('-150.00', '-12.00')})
        self.assertEqual((correction["Faktura korygowana"],
                date(correction["Data faktury korygowanej"])),
            ('FV/10/2026/H', october(3)))
        self.assertEqual(correction["Status płatności"], "niezapłacona")

        rate = s.cost_eur.nbp_rate
        self.assertEqual((eur["Waluta"], eur["Kraj"], eur["Klient (MPK)"]),
            ('EUR', 'DE', "Beta S.A."))
        self.assertEqual(D(str(eur["Kurs NBP"])), rate.normalize())
        self.assertEqual(eur["Tabela NBP"], s.cost_eur.nbp_table)
        self.assert_rates(eur, {'23': ((D(1000) * rate).quantize(CENT),
                    (D(230) * rate).quantize(CENT))})
        self.assertEqual(money(eur["VAT w PLN"]), s.cost_eur.tax_pln)
        self.assertEqual(money(eur["Kwota w walucie"]), D('1230.00'))

        # Not behind a cost invoice: the firm's, no client
        self.assertEqual((rent["Kontrahent"], rent["Klient (MPK)"],
                date(rent["Data wystawienia"])),
            ("Biurowiec Centrum sp. z o.o.", None, october(9)))
        self.assert_rates(rent, {'23': ('2000.00', '460.00')})

    @with_transaction()
    def test_totals_per_rate_tie_to_the_tax_lines(self):
        """The summary's totals per rate: in PLN the tax lines of the
        invoices' moves; in a foreign currency the invoice taxes at the
        document's NBP rate (Tryton books them at its own rate of the day)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        TaxLine = pool.get('account.tax.line')
        CostInvoice = pool.get('portal.cost.invoice')
        s = self.setup()
        company = s.firm.company
        costs = {c.invoice: c for c in CostInvoice.search([])}
        period = {
            'sales': Invoice.search([('type', '=', 'out'),
                    ('state', 'in', ['posted', 'paid']),
                    ('invoice_date', '>=', FROM),
                    ('invoice_date', '<=', TO)]),
            'purchase': [i for i in Invoice.search([('type', '=', 'in'),
                        ('state', 'in', ['posted', 'paid'])])
                if FROM <= (costs[i].receipt_date if i in costs
                    else i.accounting_date) <= TO],
            }
        self.assertEqual(len(period['sales']), 6)
        self.assertEqual(len(period['purchase']), 4)
        for register, invoices in period.items():
            expected = {}

            def add(tax, net, vat):
                amounts = expected.setdefault(rate_code(tax), [D(0), D(0)])
                amounts[0] += net
                amounts[1] += vat
            for invoice in invoices:
                if invoice.currency == company.currency:
                    for line in TaxLine.search([
                                ('move_line.move', '=', invoice.move.id)]):
                        amount = line.amount
                        add(line.tax, amount if line.type == 'base' else 0,
                            amount if line.type == 'tax' else 0)
                else:
                    rate = (costs[invoice].nbp_rate if invoice in costs
                        else invoice.portal_nbp_rate)
                    for tax in invoice.taxes:
                        add(tax.tax, (tax.base * rate).quantize(CENT),
                            (tax.amount * rate).quantize(CENT))
            content, _ = self.export(register, 'en')
            summary = read_sheets(content)["Summary"]
            totals = {r["Rate"]: r for r in summary
                if r["Client (cost centre)"] == "Total"}
            with self.subTest(register=register):
                self.assertEqual(set(expected), {'23', '8'})
                for code, (net, vat) in expected.items():
                    label = f'{code}%'
                    self.assertEqual(money(totals[label]["Net"]), net, code)
                    self.assertEqual(money(totals[label]["VAT"]), vat, code)
                grand = totals["Total"]
                self.assertEqual(money(grand["Net"]),
                    sum((n for n, _ in expected.values()), D(0)))
                self.assertEqual(money(grand["VAT"]),
                    sum((v for _, v in expected.values()), D(0)))
                self.assertEqual(grand["Documents"], len(invoices))
                # Per client, adding up to the totals
                clients = [r for r in summary
                    if r["Client (cost centre)"] != "Total"]
                for label, total in totals.items():
                    if label == "Total":
                        continue
                    self.assertEqual(sum((money(r["Net"]) for r in clients
                                if r["Rate"] == label), D(0)),
                        money(total["Net"]))

    @with_transaction()
    def test_headers_in_polish_and_english(self):
        for language, register, sheet, first, last in [
                ('pl', 'sales', "Rejestr sprzedaży",
                    ["Lp.", "Typ dokumentu", "Numer faktury", "Numer KSeF",
                        "Data wystawienia", "Data sprzedaży", "Kontrahent",
                        "Kraj", "NIP", "Adres", "Netto 23%", "VAT 23%"],
                    ["GTU", "MPP", "Faktura korygowana",
                        "Data faktury korygowanej",
                        "Numer KSeF faktury korygowanej", "Termin płatności",
                        "Forma płatności", "Data zapłaty",
                        "Status płatności", "Klient (MPK)"]),
                ('en', 'sales', "Sales register",
                    ["No.", "Document type", "Invoice number", "KSeF number",
                        "Issue date", "Sale date", "Contractor", "Country",
                        "Tax ID", "Address", "Net 23%", "VAT 23%"],
                    ["GTU", "Split payment", "Corrected invoice",
                        "Corrected invoice date",
                        "Corrected invoice KSeF number", "Due date",
                        "Payment method", "Payment date", "Payment status",
                        "Client (cost centre)"]),
                ('pl', 'purchase', "Rejestr zakupów",
                    ["Lp.", "Typ dokumentu", "Numer faktury", "Numer KSeF",
                        "Data wystawienia", "Data sprzedaży", "Data wpływu"],
                    ["VAT w PLN", "Faktura korygowana"]),
                ('en', 'purchase', "Purchase register",
                    ["No.", "Document type", "Invoice number", "KSeF number",
                        "Issue date", "Sale date", "Receipt date"],
                    ["VAT in PLN", "Corrected invoice"]),
                ]:
            with self.subTest(language=language, register=register):
                content, name = self.export(register, language)
                self.assertTrue(name.startswith({
                            ('pl', 'sales'): 'rejestr_sprzedazy_',
                            ('en', 'sales'): 'sales_register_',
                            ('pl', 'purchase'): 'rejestr_zakupow_',
                            ('en', 'purchase'): 'purchase_register_',
                            }[language, register]))
                book = openpyxl.load_workbook(io.BytesIO(content))
                summary = "Podsumowanie" if language == 'pl' else "Summary"
                self.assertEqual(book.sheetnames, [sheet, summary])
                header = [c.value for c in book[sheet][1]]
                self.assertEqual(header[:len(first)], first)
                if register == 'sales':
                    self.assertEqual(header[-len(last):], last)
                else:
                    self.assertTrue(set(last) <= set(header))
                # Dates as dates, money as money, the NBP rate with its
                # decimals (in the EUR rows)
                formats = {}
                for row in book[sheet].iter_rows(min_row=2):
                    for label, cell in zip(header, row):
                        if cell.value is not None:
                            formats.setdefault(label, set()).add(
                                cell.number_format)
                issued, net, rate = {
                    'pl': ("Data wystawienia", "Netto razem", "Kurs NBP"),
                    'en': ("Issue date", "Net total", "NBP rate"),
                    }[language]
                self.assertEqual(formats[issued], {'yyyy-mm-dd'})
                self.assertEqual(formats[net], {'#,##0.00'})
                self.assertEqual(formats[rate], {'0.0000##'})

    @with_transaction()
    def test_client_filter_and_access(self):
        "One client's rows only; the accountant may export, a manager not"
        s = self.setup()
        content, _ = self.export('sales', 'en', client=s.beta)
        sheets = read_sheets(content)
        self.assertEqual([r["Invoice number"]
                for r in sheets["Sales register"][:-1]],
            [s.beta_invoice.number])
        # No per-client part: the totals only
        self.assertEqual({r["Client (cost centre)"]
                for r in sheets["Summary"]}, {"Total"})
        content, _ = self.export('sales', 'en', client=s.alfa)
        self.assertEqual([r["Invoice number"] for r in read_sheets(content)[
                    "Sales register"][:-1]],
            [i.number for i in [s.mixed, s.domestic, s.eur, s.firm_invoice,
                    s.correction]])
        content, _ = self.export('purchase', 'en', client=s.alfa)
        self.assertEqual({r["Client (cost centre)"] for r in read_sheets(
                    content)["Purchase register"][:-1]}, {"Alfa sp. z o.o."})

        for user, allowed in [(s.accountant, True), (s.manager, False)]:
            with ExitStack() as stack:
                stack.enter_context(Transaction().set_user(user.id))
                stack.enter_context(check_access())
                if allowed:
                    content, _ = self.export('purchase', 'en')
                    self.assertEqual(len(read_sheets(content)[
                                "Purchase register"]), 5)
                else:
                    with self.assertRaises(AccessError):
                        self.export('purchase', 'en')
