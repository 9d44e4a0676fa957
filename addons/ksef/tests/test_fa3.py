"""FA(3) XML of invoices and corrections: valid against the XSD for every
document type, VAT rate, currency and kind of buyer, and saying what the
invoice says"""
import datetime
import unittest
from decimal import Decimal

from ksef_client.documents.fa3 import (
    FA3InvoiceKind, PartyIdentifierKind, parse_invoice_xml)
from lxml import etree

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from client_portal.demo import create_invoice, credit, nip
from client_portal.tests.outgoing_setup import form

from .. import fa3, xsd
from ..invoice import xml_hash
from .ksef_setup import (
    RATE_FIELDS, RATES, invoice_values, line_values)

TODAY = datetime.date.today()
# facts: POLAND.md §3.4
KSEF_NUMBER = '5265877635-20250826-0100001AF629-AF'
NS = {'f': xsd.NAMESPACE}
DOCUMENTS = ['invoice', 'correction', 'correction2']
CURRENCIES = ['PLN', 'EUR', 'USD']
BUYERS = ['nip', 'eu', 'foreign', 'none']
IDENTIFIER_KINDS = {'nip': PartyIdentifierKind.NIP,
    'eu': PartyIdentifierKind.EU_VAT, 'foreign': PartyIdentifierKind.FOREIGN,
    'none': PartyIdentifierKind.NONE}


def amounts(xml):
    "Fa's totals fields of a document, as Decimal"
    root = etree.fromstring(xml)
    fa = root.find('f:Fa', NS)
    return {etree.QName(e).localname: Decimal(e.text)
        for e in fa if etree.QName(e).localname.startswith(('P_13', 'P_14',
                'P_15'))}


def text(xml, path):
    element = etree.fromstring(xml).find(path, NS)
    return element.text if element is not None else None


class BuyerIdentifierTestCase(unittest.TestCase):
    "A Tryton identifier as FA(3) Podmiot2 identification"

    def test_kinds(self):
        cases = [
            (('pl_vat', '526-587-76-35', 'PL'), ('NIP', '5265877635', None)),
            (('eu_vat', 'PL5265877635', 'PL'), ('NIP', '5265877635', None)),
            (('eu_vat', 'DE136695976', 'DE'),
                ('EU_VAT', '136695976', 'DE')),
            (('eu_vat', 'EL094259216', 'GR'),
                ('EU_VAT', '094259216', 'EL')),
            (('de_vat', '136695976', 'DE'), ('EU_VAT', '136695976', 'DE')),
            (('gb_vat', 'GB980780684', 'GB'),
                ('FOREIGN', 'GB980780684', 'GB')),
            ((None, '12-3456789', 'US'), ('FOREIGN', '123456789', 'US')),
            (('us_ein', '12-3456789', None), ('FOREIGN', '123456789', 'US')),
            ((None, '', 'PL'), ('NONE', None, None)),
            ]
        for (type_, code, country), expected in cases:
            with self.subTest(type=type_, code=code):
                identifier = fa3.buyer_identifier(type_, code, country)
                self.assertEqual((identifier.kind.name, identifier.value,
                        identifier.country_code), expected)

    def test_xsd_error_names_the_element(self):
        with self.assertRaises(xsd.XSDError) as context:
            xsd.validate(b'<Faktura xmlns="%s"><Naglowek/></Faktura>'
                % xsd.NAMESPACE.encode())
        self.assertEqual(context.exception.path, 'Faktura/Naglowek')


class FA3Tests:
    """The documents of one firm, built, issued and read back.

    A mixin: test_module's KsefTestCase runs these in its activated
    database, so that the module is activated once for all its tests"""

    def _matrix(self, setup):
        """Every document type × origin × currency × buyer, each document
        with a line of every VAT code: {key: invoice}"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        plans, keys = [], []
        for currency in CURRENCIES:
            for kind in BUYERS:
                buyer = setup.buyers[kind]
                number = f'{currency}/{kind}'
                keys.append((currency, kind))
                plans.append(invoice_values(setup, f'FV/{number}', currency,
                        buyer, line_values(setup, currency, buyer, RATES)))
                plans.append(invoice_values(setup, f'FF/{number}', currency,
                        buyer, line_values(setup, currency, buyer, RATES),
                        client=False))
        documents = {}
        created = Invoice.create(plans)
        for (currency, kind), client, firm_ in zip(
                keys, created[::2], created[1::2]):
            documents[('client', 'invoice', currency, kind)] = client
            documents[('firm', 'invoice', currency, kind)] = firm_
        # The clients' corrections: the corrected lines as they stood
        # (negated, "before") and as they are now ("after"); then a
        # correction of the correction
        for step, (kind_from, kind_to, after) in enumerate([
                    ('invoice', 'correction', 2),
                    ('correction', 'correction2', 3)]):
            plans, keys = [], []
            for (origin, document, currency, kind), corrected in list(
                    documents.items()):
                if origin != 'client' or document != kind_from:
                    continue
                buyer = setup.buyers[kind]
                before = after - 1
                lines = (line_values(setup, currency, buyer, RATES,
                        quantity=-before, side='before')
                    + line_values(setup, currency, buyer, RATES,
                        quantity=after, side='after'))
                keys.append((currency, kind))
                plans.append(invoice_values(setup,
                        f'KOR{step}/{currency}/{kind}', currency, buyer,
                        lines, portal_kind='correction',
                        portal_corrected=corrected.id,
                        portal_correction_reason="Zmiana ilości"))
            for (currency, kind), correction in zip(
                    keys, Invoice.create(plans)):
                documents[('client', kind_to, currency, kind)] = correction
        # The firm's credit notes (Tryton's credit: the lines negated, with
        # the credited lines as origin), then a credit of the credit note
        for kind_from, kind_to in [('invoice', 'correction'),
                ('correction', 'correction2')]:
            originals = [(key, i) for key, i in documents.items()
                if key[0] == 'firm' and key[1] == kind_from]
            notes = Invoice.credit([i for _, i in originals],
                invoice_date=TODAY)
            for ((_, _, currency, kind), _), note in zip(originals, notes):
                note.number = f'FK/{kind_to}/{currency}/{kind}'
                documents[('firm', kind_to, currency, kind)] = note
            Invoice.save(notes)
        return {k: Invoice(i.id) for k, i in documents.items()}

    @with_transaction()
    def test_matrix_is_valid_and_says_what_the_invoice_says(self):
        """Invoice, correction and correction of a correction, the firm's
        and a client's, × PLN/EUR/USD × Polish NIP, EU VAT, foreign number
        and consumer, each with all ten VAT codes"""
        setup = self.setup()
        # The portal statuses are of no interest here: set once, not per write
        with Transaction().set_context(company=setup.firm.company.id,
                _portal_status_later=True):
            documents = self._matrix(setup)
        self.assertEqual(len(documents),
            2 * len(DOCUMENTS) * len(CURRENCIES) * len(BUYERS))
        for key, invoice in sorted(documents.items()):
            origin, document, currency, kind = key
            with self.subTest(key=key):
                xml = fa3.build(invoice)
                parsed = parse_invoice_xml(xml)
                totals = amounts(xml)
                self.assertEqual(parsed.invoice_number, invoice.number)
                self.assertEqual(parsed.currency, currency)
                self.assertEqual(parsed.buyer.identifier.kind,
                    IDENTIFIER_KINDS[kind])
                self.assertEqual(totals['P_15'], invoice.total_amount)
                self.assertEqual(
                    sum(v for k, v in totals.items()
                        if k.startswith(('P_13', 'P_14'))
                        and not k.endswith('W')),
                    totals['P_15'])
                by_code = self._booked(invoice)
                for code, field in RATE_FIELDS.items():
                    self.assertEqual(totals[field], by_code[code][0], code)
                self.assertEqual(totals['P_14_1'], by_code['23'][1])
                if currency == 'PLN':
                    self.assertNotIn('P_14_1W', totals)
                else:
                    rate = self._rate(invoice)
                    self.assertEqual(totals['P_14_1W'],
                        (totals['P_14_1'] * rate).quantize(Decimal('0.01')))
                if document == 'invoice':
                    self.assertEqual(parsed.kind, FA3InvoiceKind.BASIC)
                    self.assertFalse(parsed.corrected_invoices)
                else:
                    self.assertEqual(parsed.kind, FA3InvoiceKind.CORRECTION)
                    corrected, = parsed.corrected_invoices
                    self.assertEqual(corrected.invoice_number,
                        invoice.ksef_corrected[0].number)
                    self.assertIsNone(corrected.ksef_number)
                    self.assertEqual(text(xml, 'f:Fa/f:DaneFaKorygowanej/'
                            'f:NrKSeFN'), '1')
                    self.assertEqual(text(xml, 'f:Fa/f:TypKorekty'), '2')
                before = [l for l in parsed.lines if l.before_correction]
                if origin == 'client' and document != 'invoice':
                    self.assertEqual(len(before), len(RATES))
                    self.assertEqual(text(xml, 'f:Fa/f:PrzyczynaKorekty'),
                        "Zmiana ilości")
                else:
                    self.assertFalse(before)
        self._each_rate_alone(setup)

    def _each_rate_alone(self, setup):
        """Each VAT code alone fills its own totals field and the wordings
        it needs; over 15 000 zł with an annex 15 line, split payment"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        buyer = setup.buyers['nip']
        plans = [invoice_values(setup, f'FV/ONE/{code}', 'PLN', buyer,
                line_values(setup, 'PLN', buyer, [code]))
            for code in RATES]
        plans.append(invoice_values(setup, 'FV/MPP', 'PLN', buyer,
                line_values(setup, 'PLN', buyer, ['8'],
                    prices={'8': Decimal('15000.00')})))
        # 3 × 10.33 at 23 %: 7.13 on the total, the rows' VAT adds up to it
        lines = line_values(setup, 'PLN', buyer, ['23'] * 3)
        for line in lines:
            line.update(unit_price=Decimal('10.33'), portal_list_price=None,
                portal_discount=None)
        plans.append(invoice_values(setup, 'FV/ROUND', 'PLN', buyer, lines))
        with Transaction().set_context(company=setup.firm.company.id,
                _portal_status_later=True):
            *invoices, rounded = Invoice.create(plans)
        xml = fa3.build(rounded)
        self.assertEqual(rounded.tax_amount, Decimal('7.13'))
        self.assertEqual(amounts(xml)['P_14_1'], Decimal('7.13'))
        self.assertEqual(sum(l.effective_vat_amount
                for l in parse_invoice_xml(xml).lines), Decimal('7.13'))
        annotations = 'f:Fa/f:Adnotacje/'
        for code, invoice in zip(RATES + ['MPP'], invoices):
            with self.subTest(code=code):
                xml = fa3.build(invoice)
                fields = {k for k in amounts(xml) if k != 'P_15'}
                reverse = text(xml, annotations + 'f:P_18')
                exempt = text(xml, annotations + 'f:Zwolnienie/f:P_19A')
                split = text(xml, annotations + 'f:P_18A')
                if code == 'MPP':
                    self.assertEqual(split, '1')
                    continue
                self.assertEqual(split, '2')
                vat_field = RATE_FIELDS[code].replace('P_13', 'P_14')
                self.assertEqual(fields, {RATE_FIELDS[code], vat_field}
                    if code in {'23', '8', '5'} else {RATE_FIELDS[code]})
                self.assertEqual(text(xml, 'f:Fa/f:FaWiersz/f:P_12'), code)
                self.assertEqual(reverse,
                    '1' if code in {'oo', 'np II'} else '2')
                self.assertEqual(exempt,
                    "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT"
                    if code == 'zw' else None)

    def _booked(self, invoice):
        "(net, VAT) per FA(3) code as Tryton booked them"
        result = {code: [Decimal(0), Decimal(0)] for code in RATES}
        for tax_line in invoice.taxes:
            result[tax_line.tax.portal_vat_code][0] += tax_line.base
            result[tax_line.tax.portal_vat_code][1] += tax_line.amount
        return result

    def _rate(self, invoice):
        if invoice.portal_nbp_rate:
            return invoice.portal_nbp_rate
        corrected = invoice.ksef_corrected
        while corrected:
            invoice = corrected[0]
            corrected = invoice.ksef_corrected
        return invoice.portal_pln_rate[0]

    def _issue(self, setup, lines, buyer='nip', **kwargs):
        "A client's invoice issued on the portal, without its PDF"
        Invoice = Pool().get('account.invoice')
        proforma = kwargs.pop('proforma', False)
        draft = Invoice.portal_save_draft(setup.client, form(setup.firm,
                setup.client, setup.template, setup.buyers[buyer], lines,
                **kwargs))
        return Invoice.portal_issue(draft, proforma=proforma, render=False)

    @with_transaction()
    def test_issue_stores_the_xml_once(self):
        """A client's EUR invoice with two rates and its correction, the
        firm's invoice and its credit note: each XML stored at issue with
        its hash, never rebuilt nor rewritten; a proforma has none"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        setup = self.setup()
        firm = setup.firm
        with Transaction().set_context(company=firm.company.id):
            invoice = self._issue(setup, [("Projekt", 1, '1000.00', '23'),
                    ("Szkolenie", 2, '150.00', 'zw')], currency='EUR')
            xml = bytes(invoice.ksef_xml)
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.ksef_status, 'pending')
            self.assertEqual(invoice.ksef_xml_hash, xml_hash(xml))
            xsd.validate(xml)
            totals = amounts(xml)
            self.assertEqual(totals['P_13_1'], Decimal('1000.00'))
            self.assertEqual(totals['P_14_1'], Decimal('230.00'))
            self.assertEqual(totals['P_13_7'], Decimal('300.00'))
            # The VAT in złoty the PDF shows, at the issue's NBP rate
            self.assertEqual(totals['P_14_1W'], invoice.portal_vat_pln)
            self.assertEqual(text(xml, 'f:Fa/f:FaWiersz/f:KursWaluty'),
                str(invoice.portal_nbp_rate.normalize()))
            self.assertEqual(text(xml, 'f:Fa/f:Adnotacje/f:Zwolnienie/'
                    'f:P_19A'), "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT")

            # Posting and preparing again change nothing; nobody rewrites
            Invoice.post([invoice])
            Invoice.ksef_prepare([Invoice(invoice.id)])
            invoice = Invoice(invoice.id)
            self.assertEqual(bytes(invoice.ksef_xml), xml)
            with self.assertRaises(AccessError):
                Invoice.write([invoice], {'ksef_xml': b'<Faktura/>'})

            # Accepted by KSeF (the sending increment writes it)
            Invoice.write([invoice], {'ksef_number': KSEF_NUMBER,
                    'ksef_status': 'accepted'})
            correction = Invoice.portal_correct(invoice)
            correction = Invoice.portal_save_draft(setup.client, form(
                    firm, setup.client, setup.template, setup.buyers['nip'],
                    [("Projekt", 1, '800.00', '23'),
                        ("Szkolenie", 2, '150.00', 'zw')],
                    currency='EUR', kind='correction', reason="Rabat"),
                correction)
            correction = Invoice.portal_issue(correction, render=False)
            xml = bytes(correction.ksef_xml)
            parsed = parse_invoice_xml(xml)
            self.assertEqual(parsed.kind, FA3InvoiceKind.CORRECTION)
            self.assertEqual(parsed.correction_reason, "Rabat")
            corrected, = parsed.corrected_invoices
            self.assertEqual((corrected.invoice_number, corrected.issue_date,
                    corrected.ksef_number),
                (invoice.number, invoice.invoice_date, KSEF_NUMBER))
            self.assertEqual(text(xml, 'f:Fa/f:DaneFaKorygowanej/f:NrKSeF'),
                '1')
            self.assertEqual(
                [(l.description, l.before_correction)
                    for l in parsed.lines],
                [("Projekt", True), ("Szkolenie", True),
                    ("Projekt", False), ("Szkolenie", False)])
            totals = amounts(xml)
            self.assertEqual((totals['P_13_1'], totals['P_14_1'],
                    totals['P_13_7'], totals['P_15']),
                (Decimal('-200.00'), Decimal('-46.00'), Decimal('0.00'),
                    Decimal('-246.00')))
            # The correction keeps the corrected invoice's rate
            self.assertEqual(totals['P_14_1W'], correction.portal_vat_pln)
            self.assertIsNone(etree.fromstring(xml).find('f:Fa/f:Platnosc',
                    NS))

            proforma = self._issue(setup, [("Projekt", 1, '100.00', '23')],
                proforma=True)
            self.assertEqual(proforma.ksef_status, 'none')
            self.assertIsNone(proforma.ksef_xml)

            own = create_invoice(firm, setup.client, TODAY,
                [("Obsługa księgowa", 1, '1000.00', '23')])
            self.assertEqual(own.ksef_status, 'pending')
            xml = bytes(own.ksef_xml)
            parsed = parse_invoice_xml(xml)
            self.assertEqual(parsed.kind, FA3InvoiceKind.BASIC)
            # The client Alfa, as outgoing_setup creates it
            self.assertEqual(parsed.buyer.identifier.value, nip('677231994'))
            self.assertEqual(text(xml, 'f:Fa/f:Platnosc/f:TerminPlatnosci/'
                    'f:Termin'),
                (TODAY + datetime.timedelta(days=14)).isoformat())
            note = credit(firm, own, TODAY)
            parsed = parse_invoice_xml(bytes(note.ksef_xml))
            self.assertEqual(parsed.kind, FA3InvoiceKind.CORRECTION)
            self.assertEqual(parsed.corrected_invoices[0].invoice_number,
                own.number)
            self.assertEqual(amounts(bytes(note.ksef_xml))['P_15'],
                Decimal('-1230.00'))

    @with_transaction()
    def test_who_goes_to_ksef(self):
        """Consumers only when the settings say so; foreign buyers by
        default; nothing of a client who does not send"""
        pool = Pool()
        Configuration = pool.get('ksef.configuration')
        Party = pool.get('party.party')
        setup = self.setup()
        lines = [("Konsultacja", 1, '100.00', '23')]
        with Transaction().set_context(company=setup.firm.company.id):
            consumer = self._issue(setup, lines, buyer='none')
            self.assertEqual(consumer.ksef_status, 'none')
            self.assertIsNone(consumer.ksef_xml_hash)
            foreign = self._issue(setup, lines, buyer='foreign')
            self.assertEqual(foreign.ksef_status, 'pending')
            self.assertEqual(text(bytes(foreign.ksef_xml),
                    'f:Podmiot2/f:DaneIdentyfikacyjne/f:NrID'), '123456789')

            configuration = Configuration(1)
            configuration.send_consumer = True
            configuration.send_foreign = False
            configuration.save()
            consumer = self._issue(setup, lines, buyer='none')
            self.assertEqual(text(bytes(consumer.ksef_xml),
                    'f:Podmiot2/f:DaneIdentyfikacyjne/f:BrakID'), '1')
            foreign = self._issue(setup, lines, buyer='eu')
            self.assertEqual(foreign.ksef_status, 'none')

            Party.write([setup.client], {'ksef_send': False})
            invoice = self._issue(setup, lines)
            self.assertEqual(invoice.ksef_status, 'none')

    @with_transaction()
    def test_invalid_document_is_refused(self):
        "The field at fault is named, and nothing is posted nor stored"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        setup = self.setup()
        buyer = setup.buyers['nip']
        with Transaction().set_context(company=setup.firm.company.id):
            draft = Invoice.portal_save_draft(setup.client, form(setup.firm,
                    setup.client, setup.template, buyer,
                    [("Projekt", 1, '100.00', '23')]))
            Party.write([buyer], {'name': ''})
            with self.assertRaises(UserError) as context:
                Invoice.portal_issue(draft, render=False)
            self.assertIn('Podmiot2/DaneIdentyfikacyjne/Nazwa',
                context.exception.message)
            draft = Invoice(draft.id)
            self.assertEqual(draft.state, 'draft')
            self.assertIsNone(draft.ksef_xml)
            self.assertEqual(draft.ksef_status, 'none')

            # What the XSD refuses is named by its path in the document
            Party.write([buyer], {'name': "Gamma Trade sp. z o.o."})
            draft = Invoice.portal_save_draft(setup.client, form(setup.firm,
                    setup.client, setup.template, buyer,
                    [("Projekt " + 'x' * 600, 1, '100.00', '23')]))
            Invoice.write([draft], {'number': 'FV/ALFA/X'})
            with self.assertRaises(fa3.FA3Error) as context:
                fa3.build(draft)
            self.assertEqual(context.exception.field,
                'Faktura/Fa/FaWiersz/P_7')
