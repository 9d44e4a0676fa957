"""Corrections of received cost invoices as the law allows them in 2026
(issue 7, item 4): correction requests to the supplier, and the nota
korygująca only for invoices dated before 2026-02-01; their numbering,
validation, PDF in Polish and English, e-mail and who sees them"""
import datetime
import io
from contextlib import ExitStack
from decimal import Decimal
from unittest import mock

from pypdf import PdfReader

from trytond import config
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .. import cost_correction
from .committed import CommittedTestCase, capture_mail
from ..demo import create_client, create_portal_user, nip, setup_firm
from ..demo_outgoing import create_contractor
from .test_module import _as_client

TODAY = datetime.date(2026, 11, 23)
SUPPLIER_NIP = nip('521038443')
ITEMS = [
    {'field': "Adres nabywcy", 'wrong': "ul. Marszałkowska 48, Warszawa",
        'correct': "ul. Marszałkowska 84/92 lok. 109, 00-514 Warszawa"},
    {'field': "NIP nabywcy", 'wrong': "527-318-46-50",
        'correct': "5273184650"},
    ]


def pdf_text(content):
    reader = PdfReader(io.BytesIO(bytes(content)))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


class CostCorrectionTestCase(CommittedTestCase):
    "Correction requests and notes of approved cost invoices"

    def setUp(self):
        # E-mails of the approvals' notifications: built, not sent
        self.sent = capture_mail(self)

    def _setup(self):
        return self.setup()

    @classmethod
    def build(cls):
        """The firm; client a with a Polish supplier writing in Polish and
        client b; cost invoices of a: approved before the repeal (January
        2026) and after it, one submitted only"""
        pool = Pool()
        Subaccount = pool.get('portal.subaccount')
        Counter = pool.get('portal.cost.correction.counter')
        # The numbers' lock restarts the transaction the first time: taken
        # now, the restart does not build the firm twice
        Counter.lock()
        firm = setup_firm(TODAY, logo=False)
        firm.a = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
            "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1')
        firm.b = create_client(firm, "Beta S.A.", nip('583301245'),
            "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
        Subaccount.create_for([firm.a, firm.b], [firm.pln])
        firm.supplier = create_contractor(firm, firm.a,
            "Hotel Polonia sp. z o.o.", "ul. Wspólna 12", '00-681',
            "Warszawa", tax_number=SUPPLIER_NIP,
            email='faktury@polonia.example', lang='pl')
        firm.supplier_en = create_contractor(firm, firm.a,
            "Müller Logistik GmbH", "Hafenstraße 8", '20457', "Hamburg",
            country='DE', tax_number='DE136695976',
            email='ap@mueller.example', lang='en')
        firm.user = create_portal_user(firm.a, 'jan@alfa.example')
        firm.user_b = create_portal_user(firm.b, 'olga@beta.example')
        with Transaction().set_context(company=firm.company.id):
            firm.old = cls._cost(firm, 'FV/7/2026',
                datetime.date(2026, 1, 20), datetime.date(2026, 1, 15))
            firm.new = cls._cost(firm, 'FV/301/2026',
                datetime.date(2026, 2, 1), None)
            firm.submitted = cls._cost(firm, 'FV/302/2026',
                datetime.date(2026, 11, 2), None, approve=False)
        return firm

    @classmethod
    def _cost(cls, firm, number, invoice_date, sale_date, approve=True,
            supplier=None):
        CostInvoice = Pool().get('portal.cost.invoice')
        cost = CostInvoice.portal_save(firm.a, {
                'supplier': supplier or firm.supplier,
                'number': number, 'kind': 'invoice',
                'invoice_date': invoice_date, 'sale_date': sale_date,
                'receipt_date': invoice_date + datetime.timedelta(days=2),
                'currency': firm.pln, 'language': 'pl', 'entry': 'lines',
                'payment_method': 'transfer', 'payment_status': 'unpaid',
                'due_date': None, 'note': None,
                }, [{'description': "Nocleg", 'quantity': Decimal(2),
                    'unit_price': Decimal('150.00'),
                    'tax': firm.purchase_taxes['8']}],
            submit=False)
        # Submitted without a scan: the portal's checks are not tested here
        CostInvoice.write([cost], {'state': 'submitted'})
        if approve:
            CostInvoice.approve([cost])
        return CostInvoice(cost.id)

    def _create(self, firm, cost, kind='request', language='pl',
            items=ITEMS, recipient='faktury@polonia.example', message=''):
        Correction = Pool().get('portal.cost.correction')
        return Correction.portal_create(cost, {
                'kind': kind, 'language': language, 'recipient': recipient,
                'message': message}, items, actor=firm.user)

    @with_transaction()
    def test_numbering_continuous_per_kind_and_year(self):
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        Date = pool.get('ir.date')
        firm = self._setup()
        year = Date.today().year
        with Transaction().set_context(company=firm.company.id):
            numbers = [self._create(firm, firm.new).number
                for _ in range(3)]
            self.assertEqual(numbers,
                [f'WK/{n}/{year}' for n in (1, 2, 3)])
            # Notes have their own series
            note = self._create(firm, firm.old, kind='note')
            self.assertEqual((note.number, note.sequence),
                (f'NK/1/{year}', 1))
            self.assertEqual(self._create(firm, firm.old).number,
                f'WK/4/{year}')
            # A new year starts again at 1, the other years go on
            self.assertEqual(Correction.take_number(
                    firm.company, 'request', year + 1),
                (1, f'WK/1/{year + 1}'))
            self.assertEqual(Correction.take_number(
                    firm.company, 'request', year),
                (5, f'WK/5/{year}'))
            self.assertEqual(Correction.take_number(
                    firm.company, 'note', year),
                (2, f'NK/2/{year}'))

    @with_transaction()
    def test_note_only_for_invoices_dated_before_the_repeal(self):
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        CostInvoice = pool.get('portal.cost.invoice')
        firm = self._setup()
        with Transaction().set_context(company=firm.company.id):
            self.assertEqual(Correction.kinds_allowed(firm.old),
                ['request', 'note'])
            # Dated on 1 February 2026: the day art. 106k was repealed
            self.assertEqual(firm.new.invoice_date,
                datetime.date(2026, 2, 1))
            self.assertEqual(Correction.kinds_allowed(firm.new),
                ['request'])
            self.assertEqual(Correction.kinds_allowed(firm.submitted), [])
            with self.assertRaisesRegex(UserError,
                    r'before 1 February 2026.*correction request'):
                self._create(firm, firm.new, kind='note')
            with self.assertRaisesRegex(UserError, 'not approved'):
                self._create(firm, firm.submitted)
            self.assertFalse(Correction.search([]))
            note = self._create(firm, firm.old, kind='note')
            request = self._create(firm, firm.new)
            self.assertEqual((note.kind, request.kind), ('note', 'request'))
            # Recorded in the cost invoices' history, by the portal user
            for cost, action, number in [(firm.old, 'note', note.number),
                    (firm.new, 'correction_request', request.number)]:
                event = CostInvoice(cost.id).events[-1]
                self.assertEqual((event.action, event.web_user),
                    (action, firm.user))
                self.assertIn(number, event.changes)

    @with_transaction()
    def test_validation(self):
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        firm = self._setup()
        good = {'kind': 'request', 'language': 'pl',
            'recipient': 'faktury@polonia.example', 'message': ''}

        def errors(values=None, items=ITEMS, cost=firm.new):
            return Correction.portal_errors(cost, {**good, **(values or {})},
                items)
        with Transaction().set_context(company=firm.company.id):
            self.assertEqual(errors(), {})
            self.assertEqual(set(errors(items=[])), {'items'})
            self.assertEqual(set(errors({'recipient': 'faktury@'})),
                {'recipient'})
            self.assertEqual(set(errors({'language': 'de'})), {'language'})
            self.assertEqual(set(errors({'kind': 'invoice'})), {'kind'})
            self.assertEqual(set(errors({'kind': 'note'})), {'kind'})
            self.assertEqual(errors({'kind': 'note'}, cost=firm.old), {})
            self.assertEqual(set(errors({'message': 'x' * 4001})),
                {'message'})
            found = errors(items=[
                    {'field': '', 'wrong': 'a', 'correct': 'b'},
                    {'field': 'NIP', 'wrong': '', 'correct': '123'},
                    {'field': 'NIP', 'wrong': '123', 'correct': ''},
                    {'field': 'Nazwa', 'wrong': 'Alfa  SP', 'correct':
                        'alfa sp'},
                    {'field': 'Nazwa', 'wrong': 'x' * 1001, 'correct': 'y'},
                    ])
            self.assertEqual(set(found), {(0, 'field'), (1, 'wrong'),
                    (2, 'correct'), (3, 'correct'), (4, 'wrong')})
            self.assertIn('both', found[1, 'wrong'])
            self.assertIn('differ', found[3, 'correct'])

            # Refused as a whole: nothing is numbered or saved
            with self.assertRaisesRegex(UserError, 'at least one'):
                self._create(firm, firm.new, items=[])
            with self.assertRaisesRegex(UserError, 'e-mail'):
                self._create(firm, firm.new, recipient='nobody')
            self.assertFalse(Correction.search([]))
            # Values are stripped
            record = self._create(firm, firm.new, items=[
                    {'field': ' NIP nabywcy ', 'wrong': ' 1 ',
                        'correct': '2 '}],
                recipient=' faktury@polonia.example ')
            self.assertEqual(record.recipient, 'faktury@polonia.example')
            item, = record.items
            self.assertEqual((item.field, item.wrong, item.correct),
                ('NIP nabywcy', '1', '2'))
            self.assertEqual(record.number.split('/')[:2], ['WK', '1'])

    @with_transaction()
    def test_defaults_from_the_supplier(self):
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        firm = self._setup()
        with Transaction().set_context(company=firm.company.id):
            self.assertEqual(Correction.portal_defaults(firm.new), {
                    'kind': 'request', 'language': 'pl',
                    'recipient': 'faktury@polonia.example', 'message': ''})
            foreign = self._cost(firm, 'RE-2026-12',
                datetime.date(2026, 3, 2), None, supplier=firm.supplier_en)
            values = Correction.portal_defaults(foreign)
            self.assertEqual((values['language'], values['recipient']),
                ('en', 'ap@mueller.example'))

    @with_transaction()
    def test_pdf_in_both_languages_and_kinds(self):
        firm = self._setup()
        company = firm.company.party
        with Transaction().set_context(company=firm.company.id):
            request_pl = self._create(firm, firm.new,
                message="Prosimy o szybką korektę.")
            note_pl = self._create(firm, firm.old, kind='note')
            request_en = self._create(firm, firm.new, language='en')
            note_en = self._create(firm, firm.old, kind='note',
                language='en')
            common = [company.name, f"NIP: {company.tax_identifier.code}",
                "Hotel Polonia sp. z o.o.",
                f"NIP: {firm.new.supplier_tax_number}", "ul. Wspólna 12",
                "Alfa sp. z o.o.", "5273184650",
                "Marszałkowska 84/92 lok. 109", "527-318-46-50",
                "ul. Marszałkowska 48, Warszawa"]
            cases = [
                (request_pl, ["Wezwanie do korekty faktury",
                        "Nabywca (wzywający)", "Sprzedawca (wystawca faktury)",
                        "Numer faktury FV/301/2026",
                        "Data wystawienia faktury 01.02.2026",
                        "Treść korygowana (błędna)", "Treść prawidłowa",
                        "Dotyczy kosztów klienta: Alfa sp. z o.o.",
                        "Prosimy o szybką korektę.",
                        "wystawienie faktury korygującej",
                        "strefa@portico-demo.pl"]),
                (note_pl, ["NOTA KORYGUJĄCA", "Wystawca noty (nabywca)",
                        "Numer faktury FV/7/2026",
                        "Data wystawienia faktury 20.01.2026",
                        "Data sprzedaży 15.01.2026", "art. 106k",
                        "Dotyczy kosztów klienta: Alfa sp. z o.o.",
                        "Akceptacja wystawcy faktury"]),
                (request_en, ["Request for a corrective invoice",
                        "Buyer (requesting party)",
                        "Invoice number FV/301/2026",
                        "Date of sale same as the issue date",
                        "Wrong content (as on the invoice)",
                        "Correct content",
                        "Concerns the costs of client: Alfa sp. z o.o.",
                        "Please issue a corrective invoice"]),
                (note_en, ["NOTA KORYGUJĄCA", "Correction note",
                        "Issuer of the note (buyer)",
                        "Invoice number FV/7/2026",
                        "Date of sale 15.01.2026",
                        "Concerns the costs of client"]),
                ]
            for record, expected in cases:
                with self.subTest(number=record.number,
                        language=record.language):
                    text = pdf_text(record.pdf)
                    self.assertTrue(bytes(record.pdf).startswith(b'%PDF'))
                    for phrase in [record.number, *common, *expected]:
                        self.assertIn(phrase, text)
            # The other language's words are not on the document
            self.assertNotIn("Wezwanie", pdf_text(request_en.pdf))
            self.assertNotIn("Request for", pdf_text(request_pl.pdf))
            self.assertNotIn("NOTA KORYGUJĄCA", pdf_text(request_pl.pdf))

    @with_transaction()
    def test_email_delivery_failure_and_resend(self):
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        firm = self._setup()
        sender = config.get('email', 'from')
        config.set('email', 'from', 'Portico <noreply@portico.test>')
        self.addCleanup(config.set, 'email', 'from', sender)
        with Transaction().set_context(company=firm.company.id):
            record = self._create(firm, firm.new)
            self.assertEqual((record.delivery_state, record.attempts),
                ('queued', 0))
            with self.assertRaisesRegex(UserError, 'already waiting'):
                Correction.portal_resend(record)
            sent = []
            with mock.patch.object(cost_correction, 'send_message',
                    lambda msg, strict: sent.append(msg)):
                Correction.deliver([record])
            record = Correction(record.id)
            self.assertEqual((record.delivery_state, record.attempts,
                    record.delivery_error), ('sent', 1, None))
            self.assertTrue(record.sent_at)
            msg, = sent
            self.assertEqual(msg['To'], 'faktury@polonia.example')
            # From the firm, the invoice's buyer, at the portal's address
            self.assertEqual(str(msg['From']), f'"{firm.company.party.name}" '
                '<noreply@portico.test>')
            self.assertEqual(msg['Reply-To'], 'strefa@portico-demo.pl')
            self.assertEqual(str(msg['Subject']),
                f"Wezwanie do korekty faktury FV/301/2026 "
                f"({record.number})")
            plain = ' '.join(msg.get_body(('plain',)).get_content().split())
            self.assertIn("Szanowni Państwo", plain)
            self.assertIn("Powinno być: 5273184650", plain)
            attachment, = msg.iter_attachments()
            self.assertEqual(attachment.get_filename(),
                record.number.replace('/', '-') + '.pdf')
            self.assertIn("Wezwanie do korekty faktury",
                pdf_text(attachment.get_content()))

            # Sent again: the SMTP server refuses it this time
            Correction.portal_resend(record)
            self.assertEqual(Correction(record.id).delivery_state, 'queued')

            def refuse(msg, strict):
                raise OSError("550 mailbox unavailable")
            with mock.patch.object(cost_correction, 'send_message', refuse):
                Correction.deliver([record])
            record = Correction(record.id)
            self.assertEqual((record.delivery_state, record.attempts,
                    record.delivery_error),
                ('failed', 2, "550 mailbox unavailable"))
            Correction.resend([record])
            with mock.patch.object(cost_correction, 'send_message',
                    lambda msg, strict: sent.append(msg)):
                Correction.deliver([record])
            record = Correction(record.id)
            self.assertEqual((record.delivery_state, record.attempts,
                    record.delivery_error), ('sent', 3, None))

            # An English note to a foreign supplier
            note = self._create(firm, firm.old, kind='note', language='en',
                recipient='ap@mueller.example')
            with mock.patch.object(cost_correction, 'send_message',
                    lambda msg, strict: sent.append(msg)):
                Correction.deliver([note])
            msg = sent[-1]
            self.assertEqual(str(msg['Subject']),
                f"Correction note (nota korygująca) {note.number} to "
                "invoice FV/7/2026")
            self.assertIn("Dear Sir or Madam",
                msg.get_body(('plain',)).get_content())

    @with_transaction()
    def test_kept_and_seen_by_its_client_only(self):
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        firm = self._setup()
        with Transaction().set_context(company=firm.company.id):
            record = self._create(firm, firm.new)
            with self.assertRaisesRegex(UserError, 'never copied'):
                Correction.delete([record])
            with self.assertRaisesRegex(UserError, 'never copied'):
                Correction.copy([record])
        with ExitStack() as stack:
            for manager in _as_client(firm.user):
                stack.enter_context(manager)
            self.assertEqual(Correction.search([]), [record])
            self.assertEqual(len(Correction(record.id).items), 2)
        with ExitStack() as stack:
            for manager in _as_client(firm.user_b):
                stack.enter_context(manager)
            self.assertEqual(Correction.search([]), [])
