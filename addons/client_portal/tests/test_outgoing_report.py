"""The PDF of the documents clients issue to their own customers (VAT Act
art. 106e, facts/POLAND.md §1-4), in Polish and English, and the back
office's access to those documents and to the invoice templates"""
import datetime
import io
import os
import re
import unittest
from decimal import Decimal
from unittest.mock import patch

from pypdf import PdfReader

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction, check_access

from ..demo import create_client, create_invoice, iban, nip, setup_firm
from .committed import CommittedTestCase
from ..ir import PARTY_KEY
from ..outgoing_report import amount_in_words

TODAY = datetime.date.today()
NBP_DATE = TODAY - datetime.timedelta(days=1)
ZW_BASIS = "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT"


def _ref(module, fs_id):
    return Pool().get('ir.model.data').get_id(module, fs_id)


def _load_polish():
    "What trytond-admin -l pl does: make Polish translatable, load pl.po"
    import client_portal
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    polish, = Lang.search([('code', '=', 'pl')])
    if not polish.translatable:
        Lang.write([polish], {'translatable': True})
        Translation.translation_import('pl', 'client_portal', os.path.join(
                os.path.dirname(client_portal.__file__), 'locale', 'pl.po'))


class Setup:
    "A firm, a client with a contractor, a template with its series"

    def __init__(self, layout='standard', manager=None):
        pool = Pool()
        Tax = pool.get('account.tax')
        Party = pool.get('party.party')
        Series = pool.get('portal.invoice.series')
        Template = pool.get('portal.invoice.template')
        BankAccount = pool.get('bank.account')
        _load_polish()
        self.firm = firm = setup_firm(TODAY, logo=False)
        taxes = firm.taxes
        for key, code in [('23', '23'), ('8', '8'), ('5', '5'),
                ('0', '0 KR'), ('zw', 'zw')]:
            taxes[key].portal_vat_code = code
        taxes['zw'].portal_exemption_basis = ZW_BASIS
        Tax.save(list(taxes.values()))
        taxes['np'], = Tax.create([{
                    'name': "VAT np (usługi UE)", 'description': "np",
                    'type': 'percentage', 'rate': Decimal(0),
                    'company': firm.company.id,
                    'invoice_account': firm.accounts.vat_output.id,
                    'credit_note_account': firm.accounts.vat_output.id,
                    'portal_vat_code': 'np II',
                    }])
        self.client = create_client(firm, "Alfa Studio sp. z o.o.",
            nip('677231994'), "ul. Wielicka 28", '30-552', "Kraków",
            'alfa@example.com', '1', manager=manager)
        self.buyer, = Party.create([{
                    'name': "Gamma Trade sp. z o.o.",
                    'portal_owner': self.client.id,
                    'addresses': [('create', [{
                                    'street_unstructured': "ul. Prosta 1",
                                    'postal_code': '00-001',
                                    'city': "Warszawa",
                                    'country': firm.countries['PL'].id,
                                    }])],
                    'identifiers': [('create', [{
                                    'type': 'pl_vat',
                                    'code': nip('526587763')}])],
                    }])
        series = {kind: Series.create([{
                        'company': firm.company.id, 'name': kind,
                        'prefix': f'{prefix}/ALFA/', 'kind': kind}])[0]
            for kind, prefix in [('invoice', 'FV'), ('proforma', 'PF'),
                ('correction', 'KOR')]}
        self.series = series
        # The template's own EUR account, not one of the firm's
        self.eur_iban = iban('10901014', '0000071219899999')
        eur_account, = BankAccount.create([{
                    'owners': [('add', [firm.company.party.id])],
                    'currency': firm.eur.id,
                    'numbers': [('create', [{
                                    'type': 'iban',
                                    'number': self.eur_iban}])],
                    }])
        self.template, = Template.create([{
                    'company': firm.company.id, 'name': "Alfa",
                    'layout': layout,
                    'invoice_series': series['invoice'].id,
                    'proforma_series': series['proforma'].id,
                    'correction_series': series['correction'].id,
                    'account_revenue': firm.accounts.revenue.id,
                    'footer': "Dziękujemy za zakupy w Alfa Studio.",
                    'bank_accounts': [('create', [{
                                    'currency': firm.eur.id,
                                    'bank_account': eur_account.id}])],
                    'clients': [('add', [self.client.id])],
                    }])

    def invoice(self, lines, currency=None, kind='invoice', language='pl',
            post=True, nbp_rate=None, client=None, **values):
        """A client's document; lines are (description, quantity, price,
        tax key[, line values])"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        firm = self.firm
        currency = currency or firm.pln
        series = self.series[kind]
        invoice_lines = []
        for line in lines:
            extra = line[4] if len(line) > 4 else {}
            invoice_lines.append(dict({
                        'type': 'line',
                        'description': line[0],
                        'quantity': line[1],
                        'unit_price': Decimal(line[2]),
                        'unit': _ref('product', 'uom_unit'),
                        'account': firm.accounts.revenue.id,
                        'currency': currency.id,
                        'taxes': [('add', [firm.taxes[line[3]].id])],
                        }, **extra))
        with Transaction().set_context(company=firm.company.id):
            invoice, = Invoice.create([dict({
                            'type': 'out',
                            'company': firm.company.id,
                            'party': self.buyer.id,
                            'invoice_address': self.buyer.addresses[0].id,
                            'party_tax_identifier': (
                                self.buyer.identifiers[0].id),
                            'currency': currency.id,
                            'invoice_date': TODAY,
                            'account': firm.accounts.receivable.id,
                            'journal': _ref('account', 'journal_revenue'),
                            'portal_issuer': (client or self.client).id,
                            'portal_template': self.template.id,
                            'portal_kind': kind,
                            'portal_sale_date': TODAY,
                            'portal_payment_method': 'transfer',
                            'portal_due_date': (
                                TODAY + datetime.timedelta(days=14)),
                            'portal_language': language,
                            'lines': [('create', invoice_lines)],
                            }, **values)])
            Invoice.update_taxes([invoice])
            invoice = Invoice(invoice.id)
            if post:
                number, code = series.take_number(TODAY.year)
                invoice.number = code
                if nbp_rate:
                    invoice.portal_nbp_rate = nbp_rate
                    invoice.portal_nbp_table = '226/A/NBP/2026'
                    invoice.portal_nbp_date = NBP_DATE
                    invoice.portal_vat_pln = (
                        invoice.tax_amount * nbp_rate).quantize(
                        Decimal('0.01'))
                invoice.save()
                if kind != 'proforma':
                    Invoice.post([invoice])
        return Invoice(invoice.id)


def pdf_text(invoice, language=None):
    "The text of the document's PDF, rendered in its (or this) language"
    pool = Pool()
    PDF = pool.get('account.invoice.portal_pdf', type='report')
    with Transaction().set_context(
            language=language or invoice.portal_language):
        _, content, _, _ = PDF.execute([invoice.id], {})
    return _text(content)


def _text(content):
    reader = PdfReader(io.BytesIO(bytes(content)))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


def _amount(text):
    "Amounts as the PDF writes them, whatever the grouping space"
    return re.sub(r'(?<=\d)[\s\u00a0\u202f](?=\d{3}\b)', '', text)


class OutgoingReportTestCase(CommittedTestCase):

    @classmethod
    def build(cls):
        "The firm, a client, its contractor and template, once"
        return Setup()

    @with_transaction()
    def test_eur_invoice_two_rates_vat_in_pln(self):
        "EUR, 23% and 8%: VAT in PLN at the NBP rate with its table"
        setup = self.setup()
        invoice = setup.invoice([
                ("Consulting", 2, '500.00', '23'),
                ("Druk ulotek", 100, '1.50', '8', {
                        'portal_list_price': Decimal('1.50'),
                        'portal_discount': Decimal('10'),
                        'unit_price': Decimal('1.35')}),
                ], currency=setup.firm.eur, nbp_rate=Decimal('4.2537'))
        # 1000.00 at 23% = 230.00; 135.00 at 8% = 10.80
        self.assertEqual(invoice.tax_amount, Decimal('240.80'))
        self.assertEqual(invoice.portal_vat_pln, Decimal('1024.29'))
        text = _amount(pdf_text(invoice))
        self.assertIn("Faktura VAT", text)
        self.assertIn(invoice.number, text)
        self.assertIn("Wystawiono w imieniu partnera: Alfa Studio", text)
        self.assertIn("Gamma Trade sp. z o.o.", text)
        self.assertIn("Portico Centrum Usług Księgowych", text)
        for value in ["23%", "8%", "230,00", "10,80", "1000,00", "135,00",
                "1375,80", "10,00%", "EUR"]:
            self.assertIn(value, text)
        self.assertIn("VAT w PLN: 1024,29 PLN", text)
        self.assertIn(
            f"Kurs NBP nr 226/A/NBP/2026 z dnia "
            f"{NBP_DATE.strftime('%d.%m.%Y')}: 4,2537", text)
        self.assertIn("Słownie: tysiąc trzysta siedemdziesiąt pięć euro, "
            "osiemdziesiąt centów", text)
        # The template's EUR account, its footer
        self.assertIn(setup.eur_iban[-4:], text.replace(' ', ''))
        self.assertIn("Dziękujemy za zakupy w Alfa Studio.", text)
        self.assertIn("Data sprzedaży", text)
        self.assertNotIn("Nie jest fakturą VAT", text)

        english = _amount(pdf_text(invoice, 'en'))
        self.assertIn("VAT invoice", english)
        self.assertIn("Issued for partner: Alfa Studio", english)
        self.assertIn("VAT in PLN: 1,024.29 PLN", english)
        self.assertIn(f"NBP rate no. 226/A/NBP/2026 of "
            f"{NBP_DATE.strftime('%d.%m.%Y')}: 4.2537", english)
        self.assertIn("In words: one thousand, three hundred and "
            "seventy-five euro, eighty cents", english)

    @with_transaction()
    def test_stored_pdf_in_the_document_language(self):
        "The PDF stored at issue speaks the document's language"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        setup = self.setup()
        invoice = setup.invoice(
            [("Projekt logo", 1, '1000.00', '23')], language='en')
        Invoice.print_invoice([invoice])
        text = _text(Invoice(invoice.id).get_portal_pdf())
        self.assertIn("VAT invoice", text)
        self.assertIn("In words: one thousand, two hundred and thirty "
            "zlotys, zero groszy", text)
        self.assertIn("Payment method: bank transfer", text)

    @with_transaction()
    def test_proforma(self):
        "Proforma: its own title and \"not a VAT invoice\", not posted"
        setup = self.setup()
        proforma = setup.invoice(
            [("Projekt logo", 1, '1000.00', '23')], kind='proforma')
        self.assertEqual(proforma.state, 'draft')
        self.assertTrue(proforma.number.startswith('PF/ALFA/'))
        text = pdf_text(proforma)
        self.assertIn("Faktura proforma", text)
        self.assertIn("Nie jest fakturą VAT", text)
        self.assertNotIn("Faktura VAT ", text.replace(
                "Nie jest fakturą VAT", ""))
        self.assertIn(proforma.number, text)
        english = pdf_text(proforma, 'en')
        self.assertIn("Proforma invoice", english)
        self.assertIn("This is not a VAT invoice", english)

    @with_transaction()
    def test_draft_preview(self):
        "A draft renders as a preview, marked as not issued"
        setup = self.setup()
        setup.template.layout = 'compact'
        setup.template.save()
        draft = setup.invoice(
            [("Projekt logo", 1, '1000.00', '23')], post=False)
        text = pdf_text(draft)
        self.assertIn("Projekt dokumentu, niewystawiony", text)
        self.assertIn("Do zapłaty: 1 230,00 zł".replace(' ', ''),
            text.replace(' ', '').replace('\u00a0', ''))

    @with_transaction()
    def test_correction_before_after_difference(self):
        "Correction: corrected number and date, reason, before, after, "
        "differences per rate and in total, the KSeF number once known"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        setup = self.setup()
        original = setup.invoice([
                ("Projekt logo", 1, '1000.00', '23'),
                ("Druk ulotek", 100, '1.50', '8')])
        correction = setup.invoice([
                ("Projekt logo", -1, '1000.00', '23',
                    {'portal_side': 'before'}),
                ("Druk ulotek", -100, '1.50', '8',
                    {'portal_side': 'before'}),
                ("Projekt logo", 1, '800.00', '23',
                    {'portal_side': 'after'}),
                ("Druk ulotek", 100, '1.50', '8',
                    {'portal_side': 'after'}),
                ], kind='correction', portal_corrected=original.id,
            portal_correction_reason="Rabat posprzedażny")
        # 200.00 less at 23%: 46.00 less VAT, 246.00 to refund
        self.assertEqual(correction.total_amount, Decimal('-246.00'))
        with patch.object(Invoice, 'ksef_number',
                '5273184650-20261123-0100A0B1C2D3-4E', create=True):
            text = _amount(pdf_text(correction))
        self.assertIn("Faktura korygująca", text)
        self.assertIn(correction.number, text)
        self.assertIn(f"Korekta faktury nr {original.number} z dnia "
            f"{TODAY.strftime('%d.%m.%Y')}", text)
        self.assertIn("5273184650-20261123-0100A0B1C2D3-4E", text)
        self.assertIn("Przyczyna korekty: Rabat posprzedażny", text)
        before = text.index("Przed korektą")
        after = text.index("Po korekcie")
        difference = text.index("Różnica")
        self.assertLess(before, after)
        self.assertLess(after, difference)
        # Before: 1000 + 150 net, 230 + 12 VAT; after: 800 + 150, 184 + 12
        self.assertIn("1392,00", text[before:after])
        self.assertIn("1146,00", text[after:difference])
        self.assertIn("-200,00", text[difference:])
        self.assertIn("-46,00", text[difference:])
        self.assertIn("-246,00", text[difference:])
        self.assertIn("Do zwrotu: 246,00", text)
        self.assertIn("Słownie: dwieście czterdzieści sześć złotych, "
            "zero groszy", text)
        english = pdf_text(correction, 'en')
        self.assertIn(f"Corrects invoice no. {original.number}", english)
        self.assertIn("Before correction", english)
        self.assertIn("After correction", english)
        self.assertIn("Difference", english)
        self.assertIn("Reason for correction: Rabat posprzedażny", english)

    @with_transaction()
    def test_reverse_charge_and_exemption_basis(self):
        "np with reverse charge wording; zw with its legal basis"
        setup = self.setup()
        invoice = setup.invoice([
                ("Doradztwo dla klienta z UE", 1, '2000.00', 'np'),
                ("Szkolenie", 1, '500.00', 'zw'),
                ])
        text = pdf_text(invoice)
        self.assertIn("Odwrotne obciążenie", text)
        self.assertIn(f"Podstawa zwolnienia z VAT: {ZW_BASIS}", text)
        for code in [" np ", " zw "]:
            self.assertIn(code, text)
        self.assertNotIn("mechanizm podzielonej płatności", text.lower())
        english = pdf_text(invoice, 'en')
        self.assertIn("Reverse charge (odwrotne obciążenie)", english)
        self.assertIn(f"Basis of the VAT exemption: {ZW_BASIS}", english)

    @with_transaction()
    def test_split_payment_over_15000_with_annex_15(self):
        "MPP: over 15 000 zł due and an annex 15 line; not below, not "
        "without such a line"
        setup = self.setup()
        annex = {'portal_annex15': True}
        over = setup.invoice([("Stal zbrojeniowa", 1, '12300.00', '23',
                    annex)])   # 15 129.00 due
        self.assertIn("Mechanizm podzielonej płatności", pdf_text(over))
        below = setup.invoice([("Stal zbrojeniowa", 1, '12000.00', '23',
                    annex)])   # 14 760.00 due
        self.assertNotIn("podzielonej płatności", pdf_text(below))
        plain = setup.invoice([("Doradztwo", 1, '20000.00', '23')])
        self.assertNotIn("podzielonej płatności", pdf_text(plain))
        # In euro, the threshold is in złoty at the NBP rate
        eur = setup.invoice([("Stal", 1, '3000.00', '23', annex)],
            currency=setup.firm.eur, nbp_rate=Decimal('4.30'))
        self.assertIn("podzielonej płatności", pdf_text(eur))

    @with_transaction()
    def test_firm_invoice_in_euro_unchanged(self):
        "The firm's own invoices keep their layout and VAT in PLN"
        setup = self.setup()
        invoice = create_invoice(setup.firm, setup.client, TODAY,
            [("Consulting", 3, '700.00', '23')], currency=setup.firm.eur)
        rate, _ = invoice.portal_pln_rate
        text = _amount(pdf_text(invoice, 'pl'))
        self.assertIn("Faktura VAT", text)
        self.assertNotIn("w imieniu partnera", text)
        vat_pln = (invoice.tax_amount * rate).quantize(Decimal('0.01'))
        self.assertEqual(invoice.portal_firm_vat_pln, vat_pln)
        self.assertIn(f"{vat_pln:.2f}".replace('.', ',') + " PLN", text)

    def test_amount_in_words(self):
        self.assertEqual(amount_in_words(Decimal('1230.00'), 'PLN', 'pl'),
            "tysiąc dwieście trzydzieści złotych, zero groszy")
        self.assertEqual(amount_in_words(Decimal('-21.01'), 'PLN', 'pl'),
            "dwadzieścia jeden złotych, jeden grosz")
        self.assertEqual(amount_in_words(Decimal('2.05'), 'EUR', 'en'),
            "two euro, five cents")
        # A currency num2words does not name
        self.assertEqual(amount_in_words(Decimal('12.30'), 'CHF', 'pl'),
            "dwanaście CHF 30/100")


class OutgoingBackOfficeTestCase(unittest.TestCase):
    "Who sees the clients' documents and templates"

    @classmethod
    def setUpClass(cls):
        activate_module('client_portal')

    @with_transaction()
    def test_manager_sees_assigned_clients_documents(self):
        pool = Pool()
        User = pool.get('res.user')
        Invoice = pool.get('account.invoice')
        ModelData = pool.get('ir.model.data')
        manager, other = User.create([{
                    'login': login, 'name': login,
                    'groups': [('add', [ModelData.get_id(
                                    'client_portal',
                                    'group_portal_manager')])],
                    } for login in ['anna', 'piotr']])
        setup = Setup(manager=manager)
        beta = create_client(setup.firm, "Beta S.A.", nip('583301245'),
            "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2',
            manager=other)
        company = setup.firm.company
        User.write([manager, other], {
                'companies': [('add', [company.id])], 'company': company.id})
        own = setup.invoice([("Logo", 1, '100.00', '23')], post=False)
        foreign = setup.invoice([("Logo", 1, '100.00', '23')],
            post=False, client=beta)
        firm_invoice = create_invoice(setup.firm, beta, TODAY,
            [("Obsługa księgowa", 1, '1000.00', '23')], post=False)
        with Transaction().set_user(manager.id), check_access():
            found = Invoice.search([('portal_issuer', '!=', None)])
            self.assertEqual(found, [own])
            self.assertEqual(Invoice.search([('id', '=', foreign.id)]), [])
            # The firm's own invoices stay as they were for managers
            self.assertEqual(
                Invoice.search([('id', '=', firm_invoice.id)]),
                [firm_invoice])
            # Tryton's own Cancel button on an erroneous draft
            Invoice.cancel([Invoice(own.id)])
        self.assertEqual(Invoice(own.id).state, 'cancelled')
        self.assertEqual(Invoice(own.id).portal_status, 'cancelled')

    @with_transaction()
    def test_portal_reads_own_documents_lines_and_templates(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Template = pool.get('portal.invoice.template')
        Party = pool.get('party.party')
        ModelData = pool.get('ir.model.data')
        setup = Setup()
        beta = create_client(setup.firm, "Beta S.A.", nip('583301245'),
            "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
        draft = setup.invoice([("Logo", 1, '100.00', '23')], post=False)
        other = setup.invoice([("Logo", 1, '100.00', '23')], post=False,
            client=beta)
        self.assertEqual(
            Party(setup.client.id).portal_invoice_templates,
            (setup.template,))
        portal = ModelData.get_id('client_portal', 'user_portal')
        transaction = Transaction()
        # The firm's company, as the company rules need it (the portal
        # service user has none of its own)
        company = {'company': setup.firm.company.id,
            '_companies': [setup.firm.company.id]}
        with transaction.set_user(portal), transaction.set_context(
                **company, **{PARTY_KEY: setup.client.id}), check_access():
            self.assertEqual(Invoice.search([]), [draft])
            self.assertEqual(
                {l.invoice for l in Line.search([])}, {draft})
            self.assertEqual(Line.search([('invoice', '=', other.id)]), [])
            self.assertEqual(Template.search([]), [setup.template])
        with transaction.set_user(portal), transaction.set_context(
                **company, **{PARTY_KEY: beta.id}), check_access():
            self.assertEqual(Template.search([]), [])
            self.assertEqual(Invoice.search([]), [other])
