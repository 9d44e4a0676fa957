"""The KSeF inbox against the emulator: invoices addressed to the firm are
fetched page by page with no gap and no double whatever the runs do, kept
once, parsed into the right client's draft cost invoice by the allocation
rules, or left for a manager; corrections link to what they correct."""
import dataclasses
import datetime as dt
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

from ksef_client.clients.invoices import InvoicesClient
from ksef_client.documents.fa3 import (
    Address, FA3Invoice, InvoiceParty, TaxCategory, ThirdPartyRole)
from ksef_client.exceptions import KsefHttpError
from lxml import etree

from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction

from client_portal.demo import create_client, nip
from client_portal.demo_outgoing import create_contractor
from client_portal.tests.committed import committed_setup
from tests.ksef_emulator import Emulator
from tests.ksef_emulator.seed import (
    BAJT, LINGUA, PAPIERNIK, correction_of, default_invoices)

from .. import xsd
from ..invoice import xml_hash
from .ksef_setup import MODULES, ksef_firm, patch_client_waits

TODAY = dt.date.today()
WARSAW = ZoneInfo('Europe/Warsaw')
FIRM_NIP = nip('527318465')
NS = {'f': xsd.NAMESPACE}
OTHER = InvoiceParty.polish_company(nip=nip('725100310'),
    name='Drukarnia Offset Sp. z o.o.',
    address=Address.polish('ul. Drukarzy 3', '92-001 Łódź'))


def firm_party(**fields):
    party = InvoiceParty.polish_company(nip=FIRM_NIP,
        name='Portico Centrum Usług Księgowych sp. z o.o.',
        address=Address.polish('ul. Marszałkowska 84/92', '00-514 Warszawa'))
    return dataclasses.replace(party, **fields)


def invoice_xml(number, seller=BAJT, buyer=None, lines=None, currency='PLN',
        recipient=None, description=None, days=1):
    "An FA(3) invoice of `seller` to the firm, built by ksef-client"
    issued = TODAY - dt.timedelta(days=days)
    builder = (FA3Invoice.basic(number).issued_on(issued).sale_date(issued)
        .seller(seller).buyer(buyer or firm_party()))
    if currency != 'PLN':
        builder = builder.currency(currency).foreign_currency_rate('4.2512')
    for description_, quantity, price, tax in lines or [
            ('Usługa', 1, '100.00', TaxCategory.standard_23())]:
        builder = builder.add_service_line(description_, quantity=quantity,
            unit_net_price=price, tax=tax)
    if recipient:
        builder = builder.add_party(recipient, ThirdPartyRole.RECIPIENT)
    if description:
        builder = builder.additional_description(*description)
    builder = builder.payment_due(issued + dt.timedelta(days=14))
    return builder.build().to_xml(xsd_validate=True)


def stated(xml):
    "{P_13_x, P_14_x, P_15: Decimal} of a document"
    fa = etree.fromstring(xml).find('f:Fa', NS)
    return {etree.QName(e).localname: Decimal(e.text) for e in fa
        if etree.QName(e).localname.startswith(('P_13', 'P_14', 'P_15'))}


class CountingDownloads:
    """Wraps the download: counts it, and when asked fails every download
    of the n-th invoice (a retry does not get it through)"""

    def __init__(self, fail_at=None):
        self.calls = []
        self.fail_at = fail_at
        self.failing = None
        self.original = InvoicesClient.get_invoice_bytes

    def __call__(self, client, ksef_number, **kwargs):
        self.calls.append(ksef_number)
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            self.failing = ksef_number
        if ksef_number == self.failing:
            raise KsefHttpError(503, 'Service Unavailable')
        return self.original(client, ksef_number, **kwargs)

    def patch(self):
        return mock.patch.object(InvoicesClient, 'get_invoice_bytes',
            autospec=True, side_effect=self)


def inbox_firm(url):
    "The firm, Alfa (ksef_setup), Beta with a code, Gamma; KSeF at url"
    pool = Pool()
    Configuration = pool.get('ksef.configuration')
    Party = pool.get('party.party')
    Subaccount = pool.get('portal.subaccount')
    setup = ksef_firm(TODAY)
    firm = setup.firm
    assert firm.company.party.tax_identifier.code_compact == FIRM_NIP
    beta = create_client(firm, "Beta S.A.", nip('583301245'),
        "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
    Party.write([beta], {'code': 'BETA-01'})
    gamma = create_client(firm, "Gamma Studio sp. z o.o.",
        nip('946210357'), "ul. Piotrkowska 120", '90-006', "Łódź",
        'gamma@example.com', '3')
    Subaccount.create_for([beta, gamma], [firm.pln, firm.eur])
    configuration = Configuration(1)
    configuration.environment = 'custom'
    configuration.custom_url = url
    configuration.qr_url_custom = url
    configuration.token_input = 'test-token'
    configuration.save()
    setup.beta, setup.gamma = beta, gamma
    return setup


class InboxTestCase(_DBTestCase):
    "The KSeF inbox"
    module = MODULES[0]
    extras = MODULES[1:]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        patch_client_waits(cls)
        cls.ksef = Emulator(nip=FIRM_NIP, tokens=['test-token'], seed=False)
        cls.ksef.start()
        cls.addClassCleanup(cls.ksef.stop)
        cls.shared = committed_setup(inbox_firm, cls.ksef.base_url)

    def setUp(self):
        self.ksef.reset(seed=False)
        self.ksef.clear_faults()
        self.minutes = 0

    def add(self, xml, minutes_ago=None):
        "KSeF holds `xml` for the firm, stored some minutes ago (in order)"
        if minutes_ago is None:
            self.minutes += 1
            minutes_ago = 500 - self.minutes
        return self.ksef.add_invoice(xml,
            acquired=dt.datetime.now(dt.timezone.utc)
            - dt.timedelta(minutes=minutes_ago))

    def setup_firm(self):
        "The set-up committed for the class, in this test's transaction"
        return self.shared()

    def fetch(self, setup, **kwargs):
        Cursor = Pool().get('ksef.inbox.cursor')
        with Transaction().set_context(company=setup.firm.company.id):
            return Cursor.fetch([setup.firm.company], **kwargs)

    def received(self, number=None):
        Received = Pool().get('ksef.received.invoice')
        if number:
            record, = Received.search([('number', '=', number)])
            return record
        return Received.search([], order=[('id', 'ASC')])

    def assert_cost_matches(self, received, xml):
        "The cost invoice's lines and totals are the document's"
        cost = received.cost_invoice
        amounts = stated(xml)
        net = sum((v for k, v in amounts.items() if k.startswith('P_13')),
            Decimal(0))
        vat = sum((v for k, v in amounts.items() if k.startswith('P_14')
                and not k.endswith('W')), Decimal(0))
        self.assertEqual(
            (cost.untaxed_amount, cost.tax_amount, cost.total_amount),
            (net, vat, amounts['P_15']))
        self.assertEqual(
            (received.untaxed_amount, received.tax_amount,
                received.total_amount), (net, vat, amounts['P_15']))
        self.assertEqual(sum(l.amount for l in cost.lines), net)

    @with_transaction()
    def test_paging_overlaps_failures_and_duplicates(self):
        "25 invoices in pages of 10: none missed, none twice, however run"
        pool = Pool()
        Cursor = pool.get('ksef.inbox.cursor')
        Received = pool.get('ksef.received.invoice')
        setup = self.setup_firm()
        for index in range(25):
            self.add(invoice_xml(f'FV/{index + 1}/P'))
        held = {i['ksefNumber'] for i in self.ksef.invoices()}

        # KSeF's cap reached at 12 rows: the range is narrowed, not cut
        self.ksef.app.query_limit = 12
        downloads = CountingDownloads()
        try:
            with downloads.patch():
                self.assertEqual(self.fetch(setup, page_size=10), 25)
        finally:
            self.ksef.app.query_limit = 10_000
        received = self.received()
        self.assertEqual({r.ksef_number for r in received}, held)
        self.assertEqual(sorted(downloads.calls), sorted(held))
        self.assertTrue(all(r.state == 'unallocated' for r in received))
        cursor, = Cursor.search([])
        self.assertIsNone(cursor.last_error)
        hwm = cursor.fetched_to
        self.assertGreater(hwm, max(r.stored_at for r in received))

        # A run failing in the middle: what it kept stays, the cursor too
        later = [self.add(invoice_xml(f'FV/{index + 1}/L'), minutes_ago=0)
            for index in range(5)]
        downloads = CountingDownloads(fail_at=3)
        with downloads.patch():
            self.assertEqual(self.fetch(setup, page_size=10), 2)
        cursor = Cursor(cursor.id)
        self.assertEqual(cursor.fetched_to, hwm)
        self.assertIn('503', cursor.last_error)
        self.assertEqual(len(self.received()), 27)

        # The next run: the other three, each downloaded once
        downloads = CountingDownloads()
        with downloads.patch():
            self.assertEqual(self.fetch(setup, page_size=10), 3)
        self.assertEqual(len(downloads.calls), 3)
        self.assertEqual({r.ksef_number for r in self.received()},
            held | {i['ksefNumber'] for i in later})
        cursor = Cursor(cursor.id)
        self.assertIsNone(cursor.last_error)
        self.assertGreater(cursor.fetched_to, hwm)

        # Overlapping runs (the cursor an hour back, then a run at once):
        # nothing is downloaded or kept twice
        Cursor.write([cursor], {
                'fetched_to': cursor.fetched_to - dt.timedelta(hours=9)})
        downloads = CountingDownloads()
        with downloads.patch():
            self.assertEqual(self.fetch(setup, page_size=10), 0)
            self.assertEqual(self.fetch(setup, page_size=10), 0)
        self.assertEqual(downloads.calls, [])
        self.assertEqual(len(self.received()), 30)

        # KSeF down: the run records it and leaves the cursor
        before = Cursor(cursor.id).fetched_to
        self.ksef.fault('unavailable', count=50)
        self.assertEqual(self.fetch(setup), 0)
        self.ksef.clear_faults()
        self.assertTrue(Cursor(cursor.id).last_error)
        self.assertEqual(Cursor(cursor.id).fetched_to, before)

        # The same KSeF number twice is refused by the database
        first = self.received()[0]
        with self.assertRaises(SQLConstraintError):
            Received.create([{'company': setup.firm.company.id,
                        'ksef_number': first.ksef_number}])

    @with_transaction()
    def test_allocation_rules(self):
        "Every kind of rule, in sequence order, then the clients' own ids"
        pool = Pool()
        Rule = pool.get('ksef.allocation.rule')
        CostInvoice = pool.get('portal.cost.invoice')
        Party = pool.get('party.party')
        setup = self.setup_firm()
        alfa, beta, gamma = setup.client, setup.beta, setup.gamma
        kiosk = InvoiceParty.polish_company(nip=nip('113000231'),
            name='Kiosk Alfa', address=Address.polish('ul. Mała 1',
                '30-001 Kraków'))
        Rule.create([
                {'sequence': 1, 'kind': 'supplier',
                    'value': BAJT.identifier.value, 'client': alfa.id},
                {'sequence': 2, 'kind': 'customer_number',
                    'value': 'k-0042 ', 'client': beta.id},
                {'sequence': 3, 'kind': 'buyer_id',
                    'value': 'PORTICO-EXPORT-7', 'client': gamma.id},
                {'sequence': 4, 'kind': 'description', 'key': 'Klient',
                    'value': 'Kawiarnia Pod Arkadami', 'client': beta.id},
                {'sequence': 5, 'kind': 'recipient_nip',
                    'value': kiosk.identifier.value, 'client': alfa.id},
                {'sequence': 6, 'kind': 'recipient_name',
                    'value': 'Pracownia Gamma', 'client': gamma.id},
                # Later in sequence than the supplier rule: never reached
                # for Bajt's invoices
                {'sequence': 9, 'kind': 'supplier',
                    'value': BAJT.identifier.value, 'client': gamma.id},
                ])
        eur_lines = [('Tłumaczenie', 12, '25.00', TaxCategory.standard_23()),
            ('Korekta tekstu', 3, '40.00', TaxCategory.standard_23())]
        documents = {
            # number: (xml, client expected)
            'B/1': (invoice_xml('B/1', lines=[
                        ('Abonament IT', 1, '800.00',
                            TaxCategory.standard_23()),
                        ('Podręcznik', 2, '89.00', TaxCategory.reduced_5()),
                        ('Szkolenie', 1, '300.00', TaxCategory.reduced_8()),
                        ]), alfa),
            'P/1': (invoice_xml('P/1', seller=PAPIERNIK,
                    buyer=firm_party(customer_number='K-0042')), beta),
            'L/1': (invoice_xml('L/1', seller=LINGUA, currency='EUR',
                    buyer=firm_party(buyer_id='PORTICO-EXPORT-7'),
                    lines=eur_lines), gamma),
            'P/2': (invoice_xml('P/2', seller=PAPIERNIK,
                    description=('Klient', 'Kawiarnia  pod Arkadami')), beta),
            'O/1': (invoice_xml('O/1', seller=OTHER, recipient=kiosk), alfa),
            'O/2': (invoice_xml('O/2', seller=OTHER,
                    recipient=InvoiceParty.without_tax_id(
                        name='Pracownia Gamma')), gamma),
            # No rule: the recipient's NIP is Gamma's, the customer number
            # Beta's code
            'O/3': (invoice_xml('O/3', seller=OTHER,
                    recipient=InvoiceParty.polish_company(
                        nip=gamma.tax_identifier.code_compact,
                        name=gamma.name, address=Address.polish(
                            'ul. Piotrkowska 120', '90-006 Łódź'))), gamma),
            'O/4': (invoice_xml('O/4', seller=OTHER,
                    buyer=firm_party(customer_number='BETA-01')), beta),
            # Nothing to go by: waits for a manager
            'O/5': (invoice_xml('O/5', seller=OTHER), None),
            }
        stored = {number: self.add(xml)
            for number, (xml, _) in documents.items()}
        self.assertEqual(self.fetch(setup), len(documents))

        for number, (xml, client) in documents.items():
            with self.subTest(number=number):
                received = self.received(number)
                if client is None:
                    self.assertEqual((received.state, received.client,
                            received.cost_invoice),
                        ('unallocated', None, None))
                    continue
                self.assertEqual((received.state, received.client),
                    ('allocated', client))
                cost = received.cost_invoice
                self.assertEqual(
                    (cost.client, cost.state, cost.number, cost.kind,
                        cost.from_ksef, cost.ksef_number,
                        cost.ksef_register_marker),
                    (client, 'draft', number, 'invoice', True,
                        stored[number]['ksefNumber'],
                        stored[number]['ksefNumber']))
                # The receipt date is the day KSeF accepted it
                accepted = dt.datetime.fromisoformat(
                    stored[number]['acquisitionDate'])
                self.assertEqual(cost.ksef_received_at,
                    accepted.astimezone(dt.timezone.utc).replace(
                        tzinfo=None))
                self.assertEqual(cost.receipt_date,
                    accepted.astimezone(WARSAW).date())
                self.assertEqual(cost.supplier.portal_owner, client)
                self.assertEqual(cost.supplier.tax_identifier.code_compact,
                    received.seller_nip)
                self.assert_cost_matches(received, xml)
        # The supplier rule of sequence 1 won over the one of sequence 9
        self.assertEqual(self.received('B/1').rule.sequence, 1)
        self.assertIsNone(self.received('O/3').rule)
        bajt = self.received('B/1').cost_invoice
        self.assertEqual(
            [(l.description, l.quantity, l.unit_price, l.tax.portal_vat_code)
                for l in bajt.lines],
            [('Abonament IT', 1, Decimal('800.00'), '23'),
                ('Podręcznik', 2, Decimal('89.00'), '5'),
                ('Szkolenie', 1, Decimal('300.00'), '8')])
        self.assertEqual((bajt.due_date, bajt.payment_method),
            (TODAY + dt.timedelta(days=13), 'transfer'))
        euro = self.received('L/1').cost_invoice
        self.assertEqual(euro.currency.code, 'EUR')
        self.assertTrue(euro.nbp_rate)

        # The client submits it without a scan: its XML is the original
        CostInvoice.portal_submit(bajt)
        self.assertEqual(CostInvoice(bajt.id).state, 'submitted')
        self.assertEqual(CostInvoice.search([('from_ksef', '=', True)],
                count=True), len(documents) - 1)
        self.assertEqual(CostInvoice.search([('ksef_number', '=',
                        stored['B/1']['ksefNumber'])]), [bajt])
        # A hand-registered cost invoice still needs its scan
        manual, = CostInvoice.create([{
                    'company': setup.firm.company.id, 'client': alfa.id,
                    'supplier': bajt.supplier.id, 'number': 'R/1',
                    'invoice_date': TODAY, 'receipt_date': TODAY,
                    'currency': setup.firm.pln.id,
                    'lines': [('create', [{'quantity': 1,
                                    'unit_price': Decimal(10),
                                    'tax': setup.firm.purchase_taxes[
                                        '23'].id}])],
                    }])
        self.assertTrue(manual.portal_needs_scan())
        self.assertFalse(bajt.portal_needs_scan())
        self.assertEqual(manual.ksef_register_marker, 'BFK')
        self.assertTrue(Party.search([('portal_owner', '=', gamma.id),
                    ('identifiers.code_compact', '=',
                        LINGUA.identifier.value)]))

    @with_transaction()
    def test_queue_corrections_and_errors(self):
        """The manual allocation queue, a correction linked to its invoice,
        a hand-registered invoice linked, and documents that cannot be
        read kept with the error"""
        pool = Pool()
        Received = pool.get('ksef.received.invoice')
        Rule = pool.get('ksef.allocation.rule')
        CostInvoice = pool.get('portal.cost.invoice')
        Allocate = pool.get('ksef.received.invoice.allocate', type='wizard')
        setup = self.setup_firm()
        alfa = setup.client
        seeded, service = default_invoices(FIRM_NIP, TODAY)
        service_xml = seeded[0][0]
        first = self.add(service_xml)
        kor_xml = correction_of(service, first['ksefNumber'], TODAY)
        # An invoice the client typed in before KSeF delivered it
        supplier = create_contractor(setup.firm, alfa, PAPIERNIK.name,
            'ul. Papiernicza 12', '90-001', 'Łódź',
            tax_number=PAPIERNIK.identifier.value)
        number = f'FV/P/{TODAY - dt.timedelta(days=5):%Y/%m}/77'
        typed, = CostInvoice.create([{
                    'company': setup.firm.company.id, 'client': alfa.id,
                    'supplier': supplier.id, 'number': number,
                    'supplier_tax_number': supplier.tax_identifier.code,
                    'invoice_date': TODAY, 'receipt_date': TODAY,
                    'currency': setup.firm.pln.id,
                    }])
        self.add(seeded[1][0])
        broken = self.add(invoice_xml('X/1', seller=OTHER))
        seven = self.add(invoice_xml('X/7', seller=OTHER, lines=[
                    ('Książka', 1, '50.00', TaxCategory.reduced_7())]))
        good = self.add(invoice_xml('X/2', seller=OTHER))
        # KSeF answers the download of X/1 with XML that does not parse
        bad = b'<?xml version="1.0"?><Faktura><Fa><P_2>X/1</Fa></Faktura>'
        with self.ksef.app.store.lock:
            stored = self.ksef.app.store.invoices[broken['ksefNumber']]
            stored['xml'] = bad.decode()
            stored['invoiceHash'] = xml_hash(bad)
        Rule.create([{'kind': 'supplier', 'value': OTHER.identifier.value,
                    'client': alfa.id}])
        self.assertEqual(self.fetch(setup), 5)

        # The document that does not parse: kept, with the error
        record, = Received.search([('ksef_number', '=',
                    broken['ksefNumber'])])
        self.assertEqual((record.state, record.cost_invoice), ('error', None))
        self.assertIn('FA(3)', record.error)
        self.assertEqual(bytes(record.xml), bad)
        # A rate the firm has no purchase tax of: error, nothing made
        record, = Received.search([('ksef_number', '=', seven['ksefNumber'])])
        self.assertEqual((record.state, record.cost_invoice), ('error', None))
        self.assertIn('"7"', record.error)
        self.assertFalse(CostInvoice.search([('number', '=', 'X/7')]))
        # ... which did not stop the run
        self.assertEqual(self.received('X/2').state, 'allocated')
        self.assertEqual(self.received('X/2').cost_invoice.receipt_date,
            self.received('X/2').receipt_date)
        self.assertEqual(good['ksefNumber'],
            self.received('X/2').ksef_number)

        # The queue: nothing to go by; a manager allocates the first one
        # and makes a rule of it
        queue = Received.search([('state', '=', 'unallocated')])
        self.assertEqual({r.number for r in queue},
            {service.invoice_number, number})
        invoice = self.received(service.invoice_number)
        with Transaction().set_context(active_model=Received.__name__,
                active_ids=[invoice.id], active_id=invoice.id):
            session_id, _, _ = Allocate.create()
            wizard = Allocate(session_id)
            defaults = wizard.default_start(None)
            self.assertEqual(defaults['seller_nip'], BAJT.identifier.value)
            wizard.start.client = alfa
            wizard.start.create_rule = True
            wizard.transition_allocate()
        invoice = Received(invoice.id)
        self.assertEqual((invoice.state, invoice.client), ('allocated', alfa))
        self.assert_cost_matches(invoice, service_xml)
        rule, = Rule.search([('kind', '=', 'supplier'),
                ('value', '=', BAJT.identifier.value)])
        self.assertEqual(rule.client, alfa)

        # The hand-registered invoice: linked, not duplicated
        papiernik = self.received(number)
        with Transaction().set_context(active_model=Received.__name__,
                active_ids=[papiernik.id], active_id=papiernik.id):
            session_id, _, _ = Allocate.create()
            wizard = Allocate(session_id)
            wizard.start.client = setup.beta
            wizard.start.create_rule = False
            wizard.transition_allocate()
        papiernik = Received(papiernik.id)
        self.assertEqual(
            (papiernik.state, papiernik.cost_invoice, papiernik.client),
            ('allocated', typed, alfa))
        self.assertEqual(CostInvoice.search([('number', '=', number)]),
            [typed])
        self.assertTrue(CostInvoice(typed.id).from_ksef)

        # The correction arrives: the new rule allocates it, linked to the
        # invoice it corrects, its lines the differences
        kor = self.add(kor_xml, minutes_ago=0)
        self.assertEqual(self.fetch(setup), 1)
        correction, = Received.search([('ksef_number', '=',
                    kor['ksefNumber'])])
        self.assertEqual(
            (correction.state, correction.invoice_type,
                correction.corrected_ksef_number, correction.corrected),
            ('allocated', 'KOR', first['ksefNumber'], invoice))
        cost = correction.cost_invoice
        self.assertEqual(
            (cost.kind, cost.corrected, cost.ksef_corrected),
            ('correction', invoice.cost_invoice, invoice))
        self.assertEqual(cost.total_amount, Decimal('-98.40'))
        self.assert_cost_matches(correction, kor_xml)
        self.assertEqual(
            sorted((l.quantity, l.unit_price) for l in cost.lines),
            [(-1, Decimal('800')), (1, Decimal('720'))])
