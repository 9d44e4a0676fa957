"""Accepting or declining a proforma: the firm's validated invoice is the
client's proforma; a decision records who, when, from where and the hash
of the PDF the client was served; once per proforma, a reason on decline,
never on another document; the firm is told and the client gets a
confirmation"""
import datetime
import hashlib
from unittest import mock

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .. import acceptance as acceptance_module
from ..acceptance import REASON_SIZE
from .test_cost_correction import pdf_text
from ..demo import create_invoice, create_portal_user, setup_firm
from .committed import CommittedTestCase
from .test_chat import _portal, _staff
from .test_module import LINES, _clients, _manager

TODAY = datetime.date(2026, 11, 23)


def issue_proforma(firm, client, lines=LINES):
    "The firm's proforma to the client: its invoice validated, not posted"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Document = pool.get('portal.document')
    invoice = create_invoice(firm, client, TODAY, lines, post=False)
    with Transaction().set_context(company=firm.company.id):
        Invoice.validate_invoice([invoice])
    document, = Document.search([('origin', '=', str(invoice))])
    return invoice, document


class AcceptanceTestCase(CommittedTestCase):
    "Test the clients' decisions on the firm's proformas"

    @classmethod
    def build(cls):
        """Clients a and b with a user and a proforma each, a posted invoice
        of a; a's manager Anna"""
        pool = Pool()
        Document = pool.get('portal.document')
        firm = setup_firm(TODAY, logo=False)
        a, b = _clients(firm)
        users = {
            'a': create_portal_user(a, 'jan@alfa.example',
                first_name="Jan", last_name="Kowalski"),
            'b': create_portal_user(b, 'olga@beta.example'),
            }
        proformas = {key: issue_proforma(firm, client)
            for key, client in [('a', a), ('b', b)]}
        invoice = create_invoice(firm, a, TODAY, LINES)
        posted, = Document.search([('origin', '=', str(invoice))])
        manager = _manager('anna', a)
        return firm, a, users, proformas, posted, manager

    def setUp(self):
        super().setUp()
        self.sent = []
        patcher = mock.patch.object(acceptance_module, 'send_portal_email',
            side_effect=lambda *args, **context:
            self.sent.append((args[0], args[1], context)))
        patcher.start()
        self.addCleanup(patcher.stop)

    def _decide(self, user, document, decision='accepted', reason=''):
        Decision = Pool().get('portal.document.decision')
        with _portal(user):
            return Decision.portal_decide(document, decision, reason, user,
                '203.0.113.9', 'Firefox/140.0')

    @with_transaction()
    def test_validated_invoice_is_a_proforma_with_its_own_pdf(self):
        _, a, _, proformas, _, _ = self.setup()
        invoice, document = proformas['a']
        self.assertEqual((document.document_type, document.state,
                document.party), ('proforma', 'issued', a))
        # Of the proformas' own sequence, given at the validation
        self.assertRegex(document.number, r'^PF/\d{4}/\d{4}$')
        self.assertEqual(document.number, invoice.portal_proforma_number)
        # A proforma is no debt
        self.assertEqual((document.paid, document.remaining), (0, 0))
        self.assertEqual(document.total, invoice.total_amount)
        text = pdf_text(document.get_pdf())
        # Titled a proforma, with its number
        self.assertIn('proforma', text.lower())
        self.assertIn(document.number, text)
        self.assertNotIn('None', text)
        self.assertEqual(document.acceptance, 'none')

    @with_transaction()
    def test_decision_records_who_when_where_and_the_pdf(self):
        pool = Pool()
        ResNotification = pool.get('res.notification')
        firm, a, users, proformas, _, manager = self.setup()
        _, document = proformas['a']
        before = datetime.datetime.now()
        decision, errors = self._decide(users['a'], document)
        self.assertEqual(errors, {})
        self.assertEqual((decision.document, decision.party,
                decision.decision, decision.web_user, decision.ip,
                decision.user_agent),
            (document, a, 'accepted', users['a'], '203.0.113.9',
                'Firefox/140.0'))
        self.assertTrue(before <= decision.decided_at
            <= datetime.datetime.now())
        self.assertEqual(decision.pdf_hash,
            hashlib.sha256(bytes(document.get_pdf())).hexdigest())
        self.assertEqual(decision.decided_by, "Jan Kowalski")
        self.assertEqual(document.__class__(document.id).acceptance,
            'accepted')
        notification, = ResNotification.search([('user', '=', manager.id)])
        self.assertIn(document.number, notification.label)
        (name, to, context), = self.sent
        self.assertEqual((name, to, context['decision']),
            ('decision', 'jan@alfa.example', 'accepted'))
        # The firm reads it; nobody changes it
        with _staff(manager):
            Decision = pool.get('portal.document.decision')
            self.assertEqual(Decision.search([]), [decision])
            with self.assertRaises(AccessError):
                Decision.write([decision], {'decision': 'declined'})
            with self.assertRaises(AccessError):
                Decision.delete([decision])

    @with_transaction()
    def test_second_decision_refused(self):
        Decision = Pool().get('portal.document.decision')
        _, _, users, proformas, _, _ = self.setup()
        _, document = proformas['a']
        self._decide(users['a'], document)
        decision, errors = self._decide(users['a'], document, 'declined',
            "Za drogo")
        self.assertIsNone(decision)
        self.assertIn('decision', errors)
        self.assertEqual(Decision.search_count([]), 1)
        with self.assertRaises(UserError):
            Decision.create([{'document': document.id,
                        'decision': 'declined', 'reason': "Za drogo"}])

    @with_transaction()
    def test_decline_needs_a_reason(self):
        Decision = Pool().get('portal.document.decision')
        _, _, users, proformas, _, _ = self.setup()
        _, document = proformas['a']
        for reason in ['', ' \r\n', 'x' * (REASON_SIZE + 1)]:
            decision, errors = self._decide(users['a'], document,
                'declined', reason)
            self.assertIsNone(decision)
            self.assertIn('reason', errors)
        self.assertEqual(Decision.search_count([]), 0)
        decision, errors = self._decide(users['a'], document, 'declined',
            "Za drogo\r\nProszę o rabat")
        self.assertEqual(decision.reason, "Za drogo\nProszę o rabat")
        self.assertEqual(document.__class__(document.id).acceptance,
            'declined')
        # Refused by the model too, whoever creates it
        _, other = self.setup()[3]['b']
        with self.assertRaises(UserError):
            Decision.create([{'document': other.id,
                        'decision': 'declined'}])

    @with_transaction()
    def test_not_a_proforma_or_not_open_refused(self):
        pool = Pool()
        Decision = pool.get('portal.document.decision')
        Invoice = pool.get('account.invoice')
        firm, _, users, proformas, posted, _ = self.setup()
        decision, errors = self._decide(users['a'], posted)
        self.assertIsNone(decision)
        self.assertIn('decision', errors)
        with self.assertRaises(UserError):
            Decision.create([{'document': posted.id,
                        'decision': 'accepted'}])
        # Back to draft, the proforma is cancelled
        invoice, document = proformas['a']
        with Transaction().set_context(company=firm.company.id):
            Invoice.draft([invoice])
        document = document.__class__(document.id)
        self.assertEqual(document.state, 'cancelled')
        decision, errors = self._decide(users['a'], document)
        self.assertIn('decision', errors)

    @with_transaction()
    def test_other_clients_proforma(self):
        _, _, users, proformas, _, _ = self.setup()
        with self.assertRaises(AccessError):
            self._decide(users['a'], proformas['b'][1])

    @with_transaction()
    def test_posted_proforma_becomes_the_invoice(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Notification = pool.get('portal.notification')
        firm, a, users, proformas, _, _ = self.setup()
        invoice, document = proformas['a']
        self._decide(users['a'], document)
        proforma_pdf = document.get_pdf()
        with Transaction().set_context(company=firm.company.id,
                _skip_warnings=True):
            Invoice.post([invoice])
        invoice = Invoice(invoice.id)
        document = document.__class__(document.id)
        self.assertEqual((document.document_type, document.number),
            ('invoice', invoice.number))
        self.assertNotEqual(document.get_pdf(), proforma_pdf)
        self.assertEqual(invoice.portal_proforma_pdf, proforma_pdf)
        self.assertTrue(Notification.search([('document', '=', document.id),
                    ('kind', '=', 'new_document')], order=[('id', 'DESC')]))
