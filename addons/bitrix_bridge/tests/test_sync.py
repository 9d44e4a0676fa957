"""The outbound sync against the Bitrix24 emulator: a client's invoice
becomes an Offer of the client's company with its product rows in the
mapped stage; updates, retries after faults and lost answers never create a
second item; multi-value fields are rewritten, not appended; credentials
refused stop the queue and tell the accountants; the secrets stay unread."""
import datetime
from unittest import mock

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from client_portal.demo import pay
from client_portal.tests.committed import CommittedTestCase

from .. import rest
from ..limiter import Limiter
from ..sync import external_key
from client_portal.tests.outgoing_setup import form
from client_portal.tests.test_acceptance import issue_proforma

from .bridge_setup import BridgeTestCase, LINES, bridge_firm, configure, issue

TODAY = datetime.date.today()
MODULES = ['client_portal', 'ksef', 'payroll_account']


class SyncTestCase(BridgeTestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"

    @classmethod
    def build(cls):
        setup = bridge_firm(TODAY)
        configure(cls.b24.webhook_url, cls.b24.base_url)
        return setup

    def _run(self):
        "The outbox as the worker runs it: every entry due, now"
        Outbox = Pool().get('bitrix.outbox')
        Outbox.write(Outbox.search([('state', '=', 'queued')]),
            {'next_attempt_at': None})
        Outbox.process()
        return Outbox.search([])

    def _quotes(self):
        return self.b24.app.items(7)

    @with_transaction()
    def test_invoice_becomes_an_offer_with_rows_in_its_stage(self):
        pool = Pool()
        Outbox = pool.get('bitrix.outbox')
        Link = pool.get('bitrix.link')
        firm, client, template, buyer = self.setup()
        invoice = issue(firm, client, template, buyer)
        entries = self._run()
        self.assertTrue(entries)
        self.assertEqual({e.state for e in entries}, {'done'})

        company, = [c for c in self.b24.app.companies()
            if c['ORIGIN_ID'] == external_key(client)]
        self.assertEqual(company['TITLE'], client.name)
        self.assertEqual(company['ORIGINATOR_ID'], 'portico')
        quote, = self._quotes()
        self.assertEqual(quote['ufCrmPorticoKey'], external_key(invoice))
        self.assertEqual(quote['stageId'], 'SENT')
        self.assertEqual(quote['companyId'], int(company['ID']))
        self.assertEqual(quote['currencyId'], 'PLN')
        self.assertAlmostEqual(quote['opportunity'],
            float(invoice.total_amount))
        self.assertIn(invoice.number, quote['title'])
        rows = self.b24.app.product_rows('Q', quote['id'])
        self.assertEqual([(r['productName'], r['quantity'], r['taxRate'])
                for r in rows],
            [("Projekt logo", 1, 23), ("Druk ulotek", 100, 8)])
        self.assertAlmostEqual(rows[0]['price'], 1230.0)
        link, = Link.of([invoice]).values()
        self.assertEqual(link.bitrix_id, quote['id'])
        # Nothing changed: no call at all
        self.b24.app.clear_calls()
        Outbox.enqueue([invoice])
        self._run()
        self.assertEqual(self.b24.app.calls(), [])

    @with_transaction()
    def test_status_moves_the_stage_and_updates_in_place(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        firm, client, template, buyer = self.setup()
        invoice = issue(firm, client, template, buyer)
        self._run()
        quote, = self._quotes()
        pay(firm, invoice, invoice.total_amount, TODAY)
        self.assertEqual(Invoice(invoice.id).portal_status, 'paid')
        self._run()
        paid, = self._quotes()
        self.assertEqual((paid['id'], paid['stageId']),
            (quote['id'], 'APPROVED'))

    @with_transaction()
    def test_lost_answer_to_a_creation_creates_no_second_item(self):
        pool = Pool()
        Outbox = pool.get('bitrix.outbox')
        firm, client, template, buyer = self.setup()
        original = rest.Client.batch
        app = self.b24.app

        def batch(client, commands, halt=False):
            if any(c.method == 'crm.item.add' for c in commands.values()):
                # Bitrix24 creates the Offer, its answer never arrives
                app.inject('timeout_after_commit', methods=['batch'],
                    count=1, delay=3)
            return original(client, commands, halt=halt)
        with _short_timeout(), mock.patch.object(rest.Client, 'batch',
                batch):
            issue(firm, client, template, buyer)
            entries = self._run()
        waiting = [e for e in entries if e.state == 'queued']
        self.assertTrue(waiting, [(e.state, e.last_error) for e in entries])
        self.assertTrue(all(e.uncertain for e in waiting
                if e.origin.__name__ == 'account.invoice'))
        # Bitrix24 did create it
        self.assertEqual(len(self._quotes()), 1)
        app.clear_faults()
        entries = self._run()
        self.assertEqual({e.state for e in entries}, {'done'})
        self.assertEqual(len(self._quotes()), 1)
        self.assertEqual(len(Outbox.search([('state', '!=', 'done')])), 0)

    @with_transaction()
    def test_faults_are_retried_until_done(self):
        firm, client, template, buyer = self.setup()
        self.b24.app.inject('internal', methods=['batch'], count=1)
        self.b24.app.inject('query_limit', methods=['crm.company.add'],
            count=1)
        issue(firm, client, template, buyer)
        for _ in range(4):
            entries = self._run()
            if {e.state for e in entries} == {'done'}:
                break
        self.assertEqual({e.state for e in entries}, {'done'},
            [e.last_error for e in entries])
        self.assertEqual(len(self._quotes()), 1)
        self.assertEqual(len(self.b24.app.companies()), 1)

    @with_transaction()
    def test_contact_details_are_rewritten_not_appended(self):
        pool = Pool()
        Party = pool.get('party.party')
        Mechanism = pool.get('party.contact_mechanism')
        Outbox = pool.get('bitrix.outbox')
        firm, client, template, buyer = self.setup()
        Outbox.enqueue([client])
        self._run()
        for email in ['biuro@alfa.example', 'faktury@alfa.example']:
            Mechanism.delete([m for m in client.contact_mechanisms
                    if m.type == 'email'])
            Mechanism.create([{'party': client.id, 'type': 'email',
                        'value': email}])
            client = Party(client.id)
            Party.write([client], {'name': f"Alfa {email[:6]}"})
            self._run()
        company, = self.b24.app.companies()
        self.assertEqual([e['VALUE'] for e in company['EMAIL']],
            ['faktury@alfa.example'])
        self.assertTrue(company['TITLE'].startswith("Alfa faktur"))

    @with_transaction()
    def test_client_without_the_bridge_is_not_sent(self):
        pool = Pool()
        Party = pool.get('party.party')
        Outbox = pool.get('bitrix.outbox')
        firm, client, template, buyer = self.setup()
        Party.write([client], {'bitrix_sync': False})
        issue(firm, client, template, buyer)
        self.assertEqual(Outbox.search([]), [])
        self._run()
        self.assertEqual(self._quotes(), [])

    @with_transaction()
    def test_refused_credentials_stop_the_queue_and_tell_accountants(self):
        pool = Pool()
        Configuration = pool.get('bitrix.configuration')
        Notification = pool.get('res.notification')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        firm, client, template, buyer = self.setup()
        accountant, = User.create([{'login': 'ewa', 'name': "Ewa",
                    'groups': [('add', [ModelData.get_id(
                                    'account', 'group_account')])]}])
        Configuration.write([Configuration(1)], {
                'webhook_url_input': self.b24.webhook_url.replace(
                    self.b24.webhook_code, 'wrong-code')})
        issue(firm, client, template, buyer)
        entries = self._run()
        self.assertEqual({e.state for e in entries}, {'queued'})
        self.assertTrue(Configuration(1).stopped)
        self.assertNotIn('wrong-code', Configuration(1).stop_reason)
        self.assertTrue(Notification.search([('user', '=', accountant.id)]))
        # Stopped: nothing is tried
        self.b24.app.clear_calls()
        self._run()
        self.assertEqual(self.b24.app.calls(), [])
        # Corrected settings send again
        Configuration.write([Configuration(1)], {
                'webhook_url_input': self.b24.webhook_url})
        self.assertFalse(Configuration(1).stopped)
        entries = self._run()
        self.assertEqual({e.state for e in entries}, {'done'})

    @with_transaction()
    def test_deleted_draft_is_deleted_in_bitrix24(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        firm, client, template, buyer = self.setup()
        with Transaction().set_context(company=firm.company.id):
            draft = Invoice.portal_save_draft(client,
                form(firm, client, template, buyer, LINES))
        self._run()
        quote, = self._quotes()
        self.assertEqual(quote['stageId'], 'DRAFT')
        with Transaction().set_context(company=firm.company.id):
            Invoice.delete([draft])
        self._run()
        self.assertEqual(self._quotes(), [])

    @with_transaction()
    def test_products_in_the_catalog_when_the_mapping_says_so(self):
        pool = Pool()
        Mapping = pool.get('bitrix.mapping')
        Product = pool.get('portal.product')
        Tax = pool.get('account.tax')
        ModelData = pool.get('ir.model.data')
        firm, client, template, buyer = self.setup()
        Mapping.write(Mapping.search([('kind', '=', 'product'),
                    ('active', '=', False)]), {'active': True})
        tax, = Tax.search([('portal_vat_code', '=', '23'),
                ('group.kind', '=', 'sale')])
        product, = Product.create([{'company': firm.company.id,
                    'client': client.id, 'name': "Projekt logo",
                    'unit': ModelData.get_id('product', 'uom_unit'),
                    'unit_price': 1000, 'currency': firm.pln.id,
                    'tax': tax.id}])
        self._run()
        Product.write([product], {'name': "Projekt logotypu"})
        entries = self._run()
        self.assertEqual({e.state for e in entries}, {'done'})
        item, = self.b24.app.products()
        self.assertEqual(item['xmlId'], external_key(product))
        self.assertTrue(item['name'].startswith("Projekt logotypu"))

    @with_transaction()
    def test_failures_older_than_an_hour_told_to_accountants_once(self):
        pool = Pool()
        Outbox = pool.get('bitrix.outbox')
        Notification = pool.get('res.notification')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        firm, client, template, buyer = self.setup()
        accountant, = User.create([{'login': 'ewa', 'name': "Ewa",
                    'groups': [('add', [ModelData.get_id(
                                    'account', 'group_account')])]}])
        entry, = Outbox.enqueue([client])
        Outbox.write([entry], {'state': 'failed', 'last_error': "400",
                'done_at': datetime.datetime.now()
                - datetime.timedelta(minutes=30)})
        Outbox.notify_failed()
        self.assertEqual(Notification.search(
                [('user', '=', accountant.id)]), [])
        Outbox.write([entry], {'done_at': datetime.datetime.now()
                - datetime.timedelta(hours=2)})
        Outbox.notify_failed()
        Outbox.notify_failed()
        notice, = Notification.search([('user', '=', accountant.id)])
        self.assertIn('1', notice.label)

    @with_transaction()
    def test_secrets_are_read_by_nobody(self):
        pool = Pool()
        Configuration = pool.get('bitrix.configuration')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        admin, = User.create([{'login': 'kasia', 'name': "Kasia",
                    'groups': [('add', [ModelData.get_id(
                                    'account', 'group_account_admin')])]}])
        with Transaction().set_user(admin.id), check_access():
            values, = Configuration.read([1],
                ['webhook_url_input', 'webhook_set'])
            self.assertEqual((values['webhook_url_input'],
                    values['webhook_set']), (None, True))
            for name in ['webhook_url', 'client_secret', 'access_token',
                    'refresh_token', 'application_token']:
                with self.subTest(field=name):
                    with self.assertRaises(AccessError):
                        Configuration.read([1], [name])

    @with_transaction()
    def test_connection_test_reports_user_scopes_and_types(self):
        from ..configuration import check_connection
        success, text = check_connection()
        self.assertTrue(success, text)
        self.assertIn(self.b24.base_url, text)
        self.assertIn('crm', text)

    @with_transaction()
    def test_accepted_proforma_moves_to_approved(self):
        "The client's decision, no field of the document, moves the Offer"
        pool = Pool()
        Decision = pool.get('portal.document.decision')
        firm, client, _, _ = self.setup()
        _, document = issue_proforma(firm, client)
        self._run()
        quote, = [q for q in self._quotes()
            if q['ufCrmPorticoKey'] == external_key(document)]
        self.assertEqual(quote['stageId'], 'SENT')
        Decision.create([{'document': document.id, 'decision': 'accepted'}])
        self._run()
        accepted, = [q for q in self._quotes()
            if q['ufCrmPorticoKey'] == external_key(document)]
        self.assertEqual((accepted['id'], accepted['stageId']),
            (quote['id'], 'APPROVED'))


class LimiterTestCase(CommittedTestCase):
    "The shared bucket: a burst, then one request per interval"
    module = 'bitrix_bridge'
    extras = MODULES

    @classmethod
    def build(cls):
        return None

    @with_transaction()
    def test_burst_then_drain(self):
        now = [1000.0]
        slept = []

        def sleep(seconds):
            slept.append(round(seconds, 3))
            now[0] += seconds
        limiter = Limiter(f'test-{id(self)}', drain=2.0, threshold=50,
            clock=lambda: now[0], sleep=sleep)
        # threshold 50 less a margin of 2: 48 at once, and the one due now
        for _ in range(49):
            limiter.wait()
        self.assertEqual(slept, [])
        limiter.wait()
        limiter.wait()
        self.assertEqual(slept, [0.5, 0.5])
        # A small bucket keeps a margin of 1
        small = Limiter(f'test-small-{id(self)}', drain=0.5, threshold=5,
            clock=lambda: now[0], sleep=sleep)
        for _ in range(5):
            small.wait()
        small.wait()
        self.assertEqual(slept, [0.5, 0.5, 2.0])


class _short_timeout:
    "The REST client's timeout, short: the emulator holds its answer back"

    def __enter__(self):
        from .. import configuration
        original = configuration.Configuration.client

        def client(self, timeout=30.0):
            return original(self, timeout=1.0)
        self.patcher = mock.patch.object(configuration.Configuration,
            'client', client)
        self.patcher.start()

    def __exit__(self, *exc):
        self.patcher.stop()
