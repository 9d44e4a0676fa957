"""Invoices sent to KSeF through the outbox, against the KSeF emulator:
accepted with a valid number and UPO, rejected and re-sent, rate limits,
no double sending, offline24 when KSeF is down, the e-mails that wait for
KSeF, the register markers and the settings' connection test.

Each step runs in a transaction of its own that commits and then runs the
queued tasks, as a portal request does on SQLite (client_portal.demo
.run_in_transaction); the class has a database of its own."""
import datetime
import threading
import time
from types import SimpleNamespace
from unittest import mock

from lxml import etree

from trytond import backend, config
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, _DBTestCase
from trytond.transaction import Transaction

from client_portal.demo import run_in_transaction
from client_portal.tests.outgoing_setup import form
from tests.ksef_emulator import Emulator, is_valid_ksef_number

from .. import client as ksef
from ..holidays import next_business_day
from .ksef_setup import MODULES, ksef_firm, patch_client_waits

FIRM_NIP = '5273184616'  # the test firm's, client_portal.demo.nip('527318465')
TOKEN = 'test-token'
UPO = {'u': 'http://upo.schematy.mf.gov.pl/KSeF/v4-3'}
LINES = [("Projekt", 1, '1000.00', '23')]


def run(func, *args, **kwargs):
    return run_in_transaction(DB_NAME, func, *args, **kwargs)


def configure(url):
    "The settings of the tests and the demo: the emulator, a token"
    Configuration = Pool().get('ksef.configuration')
    Configuration.write([Configuration(1)], {
            'environment': 'custom',
            'custom_url': url,
            'qr_url_custom': url,
            'token_input': TOKEN,
            })


class OutboxTestCase(_DBTestCase):
    module = 'ksef'
    extras = MODULES[1:]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        patch_client_waits(cls)
        cls.emulator = Emulator(nip=FIRM_NIP, tokens=[TOKEN])
        cls.emulator.start()

        def setup():
            setup = ksef_firm(datetime.date.today())
            configure(cls.emulator.base_url)
            return SimpleNamespace(
                firm=SimpleNamespace(company=SimpleNamespace(
                        id=setup.firm.company.id)),
                client=setup.client.id, template=setup.template.id,
                buyer=setup.buyers['nip'].id)
        cls.ids = run(setup)

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        super().tearDownClass()

    def setUp(self):
        self.emulator.reset(seed=False)
        self.emulator.clear_faults()
        self.emulator.set_rate_limits({})

    # Helpers

    def issue(self, lines=LINES, fail=False, send=False):
        "A client's invoice issued on the portal; its id"
        return run(self._issue, lines, fail, send)

    def _issue(self, lines=LINES, fail=False, send=False):
        "The issue, in the caller's transaction"
        ids = self.ids
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        client = Party(ids.client)
        with Transaction().set_context(company=ids.firm.company.id):
            draft = Invoice.portal_save_draft(client, form(ids.firm,
                    client, SimpleNamespace(id=ids.template),
                    SimpleNamespace(id=ids.buyer), lines))
            invoice = Invoice.portal_issue(draft, render=False, send=send)
        if fail:
            raise RuntimeError("the issue fails after the XML")
        return invoice.id

    def read(self, invoice_id):
        def read():
            invoice = Pool().get('account.invoice')(invoice_id)
            entries = [(e.state, e.offline, e.attempts, e.last_error)
                for e in invoice.ksef_outbox]
            return SimpleNamespace(
                number=invoice.number,
                status=invoice.ksef_status,
                ksef_number=invoice.ksef_number,
                accepted_at=invoice.ksef_accepted_at,
                upo=bytes(invoice.ksef_upo) if invoice.ksef_upo else None,
                error=invoice.ksef_error,
                offline=invoice.ksef_offline,
                deadline=invoice.ksef_deadline,
                invoice_date=invoice.invoice_date,
                hash=invoice.ksef_xml_hash,
                marker=invoice.ksef_register_marker,
                entries=entries)
        return run(read)

    def process(self):
        "A run of the cron: every entry due, now"
        def process():
            Outbox = Pool().get('ksef.outbox')
            outbox = Outbox.search([('state', 'in', ['queued', 'sent'])])
            Outbox.write(outbox, {'next_attempt_at': None})
            Outbox.process_due()
        run(process)

    def sent(self, number):
        "What KSeF holds under the invoice number"
        return [i for i in self.emulator.invoices()
            if i['invoiceNumber'] == number]

    def assertAccepted(self, invoice, offline=False):
        self.assertEqual(invoice.status, 'accepted', invoice)
        self.assertTrue(is_valid_ksef_number(invoice.ksef_number))
        self.assertTrue(invoice.ksef_number.startswith(FIRM_NIP))
        self.assertEqual(invoice.marker, invoice.ksef_number)
        self.assertIsInstance(invoice.accepted_at, datetime.datetime)
        upo = etree.fromstring(invoice.upo)
        self.assertEqual(etree.QName(upo).namespace, UPO['u'])
        self.assertEqual(upo.findtext('.//u:NumerKSeFDokumentu', namespaces=UPO),
            invoice.ksef_number)
        held, = self.sent(invoice.number)
        self.assertEqual(held['ksefNumber'], invoice.ksef_number)
        self.assertEqual(held['invoiceHash'], invoice.hash)
        self.assertEqual(held['invoicingMode'],
            'Offline' if offline else 'Online')

    # Tests

    def test_issue_is_sent_and_accepted(self):
        """The issue writes the outbox entry in its transaction; once it
        commits the entry is sent, and the invoice gets its number, its
        acceptance date and its UPO; a failed issue leaves no entry"""
        invoice = self.read(self.issue())
        self.assertAccepted(invoice)
        self.assertEqual(invoice.entries, [('done', False, 1, None)])

        def count():
            return Pool().get('ksef.outbox').search_count([])
        before = run(count)
        with self.assertRaises(RuntimeError):
            self.issue(fail=True)
        self.assertEqual(run(count), before)

    def test_rejected_then_sent_again(self):
        "KSeF's error is kept; staff send it again and it is accepted"
        self.emulator.fault('reject_next', code=450,
            details=['Błędny NIP nabywcy'])
        invoice_id = self.issue()
        invoice = self.read(invoice_id)
        self.assertEqual(invoice.status, 'rejected')
        self.assertIn('450', invoice.error)
        self.assertIn('Błędny NIP nabywcy', invoice.error)
        self.assertIsNone(invoice.marker)
        self.assertEqual(invoice.entries[0][0], 'rejected')

        def resend():
            Invoice = Pool().get('account.invoice')
            Invoice.ksef_resend([Invoice(invoice_id)])
        run(resend)
        invoice = self.read(invoice_id)
        self.assertAccepted(invoice)
        self.assertEqual(sorted(e[0] for e in invoice.entries),
            ['cancelled', 'done'])

    def test_rate_limit_is_honoured(self):
        """429 with Retry-After: a long one is left to the outbox's
        schedule, a short one waited for"""
        self.emulator.set_rate_limits({'invoiceSend': {'perMinute': 1}})
        first = self.read(self.issue())
        self.assertAccepted(first)
        invoice_id = self.issue()
        invoice = self.read(invoice_id)
        self.assertEqual(invoice.status, 'pending')
        state, offline, attempts, error = invoice.entries[0]
        self.assertEqual((state, offline), ('queued', False))
        self.assertIn('429', error)

        def next_attempt():
            entry, = Pool().get('ksef.outbox').search(
                [('invoice', '=', invoice_id)])
            return entry.next_attempt_at
        self.assertGreater(run(next_attempt), datetime.datetime.now()
            + datetime.timedelta(seconds=30))

        # One request a second, the second's slot taken: KSeF says wait 1 s
        self.emulator.set_rate_limits({'invoiceSend': {'perSecond': 1}})
        self.emulator.app.limiter.check('invoiceSend')
        waits = []
        sleep = time.sleep

        def wait(seconds):
            waits.append(seconds)
            sleep(seconds)
        with mock.patch.object(ksef.time, 'sleep', side_effect=wait):
            self.process()
        self.assertIn(1, waits)
        self.assertAccepted(self.read(invoice_id))

    def test_timeout_after_accept_is_not_sent_twice(self):
        "No answer, but KSeF has it: found by its hash, adopted"
        self.emulator.fault('timeout_after_accept', delay=3)
        invoice_id = self.issue()
        invoice = self.read(invoice_id)
        self.assertEqual(invoice.status, 'pending')
        self.assertEqual(len(self.sent(invoice.number)), 1)
        self.process()
        invoice = self.read(invoice_id)
        self.assertAccepted(invoice)
        self.assertEqual(invoice.entries[0][:2], ('done', False))

    def test_duplicate_of_our_own_is_adopted(self):
        "440 whose original has our hash: accepted with its number"
        self.emulator.fault('duplicate')
        invoice = self.read(self.issue())
        self.assertEqual(invoice.status, 'accepted')
        held, = self.sent(invoice.number)
        self.assertEqual(invoice.ksef_number, held['ksefNumber'])
        self.assertEqual(invoice.marker, held['ksefNumber'])

    def test_offline_when_ksef_is_down(self):
        """KSeF unavailable: offline, due the next business day; sent with
        offline mode once it is back"""
        self.emulator.fault('unavailable')
        invoice_id = self.issue()
        invoice = self.read(invoice_id)
        self.assertEqual((invoice.status, invoice.offline),
            ('offline', True))
        self.assertEqual(invoice.deadline,
            next_business_day(invoice.invoice_date))
        self.assertEqual(invoice.marker, 'DI')
        self.assertEqual(invoice.entries[0][:2], ('queued', True))

        def waiting():
            Outbox = Pool().get('ksef.outbox')
            return [(e.deadline, e.overdue) for e in Outbox.search(
                    [('offline', '=', True), ('state', '=', 'queued')])]
        self.assertIn((invoice.deadline, False), run(waiting))

        self.emulator.clear_faults()
        self.process()
        invoice = self.read(invoice_id)
        self.assertAccepted(invoice, offline=True)
        self.assertTrue(invoice.offline)

    def test_emulator_stopped(self):
        "Connection refused is unavailability too"
        self.emulator.stop()
        try:
            invoice_id = self.issue()
            self.assertEqual(self.read(invoice_id).status, 'offline')
        finally:
            self.emulator.start()
        self.process()
        self.assertAccepted(self.read(invoice_id), offline=True)

    def test_email_waits_for_ksef(self):
        "The buyer's e-mail stays queued while pending, sent once settled"
        self.emulator.fault('unavailable')
        sent = []
        get = config.get

        def states(invoice_id):
            Email = Pool().get('portal.invoice.email')
            return [e.state for e in Email.search(
                    [('invoice', '=', invoice_id)])]

        def hold_then_release(invoice_id):
            pool = Pool()
            Email = pool.get('portal.invoice.email')
            Invoice = pool.get('account.invoice')
            invoice = Invoice(invoice_id)
            Invoice.write([invoice], {'ksef_status': 'pending'})
            emails = Email.search([('invoice', '=', invoice_id)])
            Email.write(emails, {'state': 'queued'})
            Email.deliver(emails)
            held = [e.state for e in Email.browse(emails)]
            Invoice.write([invoice], {'ksef_status': 'accepted'})
            Invoice.ksef_settled([invoice])
            return held

        with mock.patch('client_portal.invoice_email.send_message',
                side_effect=lambda msg, **kw: sent.append(msg['To'])), \
                mock.patch.object(config, 'get', side_effect=lambda *a, **k: (
                        'portal@firm.example' if a[:2] == ('email', 'from')
                        else get(*a, **k))):
            invoice_id = self.issue(send=True)
            # Went offline at once: settled, and the e-mail went
            self.assertEqual(run(states, invoice_id), ['sent'])
            self.assertEqual(sent, ['buyer@gamma.example'])
            # Pending: held, then released by ksef_settled
            self.assertEqual(run(hold_then_release, invoice_id), ['queued'])
            self.assertEqual(run(states, invoice_id), ['sent'])
            self.assertEqual(len(sent), 2)
        self.emulator.clear_faults()
        self.process()

    def test_two_runs_do_not_send_twice(self):
        "Two workers at once: each entry is sent by one of them"
        self.emulator.fault('unavailable')
        invoice_ids = [self.issue(), self.issue()]
        self.emulator.clear_faults()
        self.emulator.fault('slow', delay=0.2, count=4)
        errors = []

        def due():
            Outbox = Pool().get('ksef.outbox')
            Outbox.write(Outbox.search([('state', '=', 'queued')]),
                {'next_attempt_at': None})
        run(due)

        def worker():
            try:
                run(lambda: Pool().get('ksef.outbox').process_due())
            except backend.DatabaseOperationalError as error:
                # A serialisation failure: the cron runs it again
                errors.append(error)
        if backend.name == 'postgresql':
            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            worker()
            worker()
        self.process()
        for invoice_id in invoice_ids:
            invoice = self.read(invoice_id)
            self.assertAccepted(invoice, offline=True)

    def test_markers(self):
        "BFK for an invoice outside KSeF; the number, DI: above"
        ids = self.ids

        def firm_invoice():
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Party = pool.get('party.party')
            client = Party(ids.client)
            Party.write([client], {'ksef_send': False})
            try:
                with Transaction().set_context(
                        company=ids.firm.company.id):
                    draft = Invoice.portal_save_draft(client, form(ids.firm,
                            client, SimpleNamespace(id=ids.template),
                            SimpleNamespace(id=ids.buyer), LINES))
                    invoice = Invoice.portal_issue(draft, render=False)
                    draft2 = Invoice.portal_save_draft(client, form(
                            ids.firm, client,
                            SimpleNamespace(id=ids.template),
                            SimpleNamespace(id=ids.buyer), LINES))
                    return (invoice.ksef_status, invoice.ksef_register_marker,
                        draft2.ksef_register_marker)
            finally:
                Party.write([client], {'ksef_send': True})
        self.assertEqual(run(firm_invoice), ('none', 'BFK', None))

    def test_authentication_refused_stops_the_queue(self):
        "A wrong token: nothing sent, the entry waits with the error"
        def token(value):
            Configuration = Pool().get('ksef.configuration')
            Configuration.write([Configuration(1)], {'token_input': value})
        run(token, 'wrong-token')
        try:
            invoice_id = self.issue()
            invoice = self.read(invoice_id)
        finally:
            run(token, TOKEN)
        self.assertEqual(invoice.status, 'pending')
        state, offline, attempts, error = invoice.entries[0]
        self.assertEqual((state, offline, attempts), ('queued', False, 0))
        self.assertIn('authentication', error)
        self.process()
        self.assertAccepted(self.read(invoice_id))

    def test_connection(self):
        "The settings' button: what was reached, or the error"
        from ..configuration import check_connection

        def check():
            return check_connection()
        success, text = run(check)
        self.assertTrue(success, text)
        self.assertIn(self.emulator.base_url, text)
        self.assertIn(FIRM_NIP, text)

        def wizard():
            pool = Pool()
            Wizard = pool.get('ksef.configuration.test_connection',
                type='wizard')
            session_id, _, _ = Wizard.create()
            result = Wizard(session_id).execute(session_id, {}, 'start')
            Wizard.delete(session_id)
            return result['view']['defaults']
        self.assertTrue(run(wizard)['success'])

        self.emulator.stop()
        try:
            success, text = run(check)
        finally:
            self.emulator.start()
        self.assertFalse(success)
        self.assertIn('Failed', text)
