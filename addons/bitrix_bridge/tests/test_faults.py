"""Nothing lost, nothing doubled: two hundred changes to the clients'
invoices pushed through the outbox while the Bitrix24 emulator answers one
request in five with a fault (errors, rate limits, HTML pages, answers lost
after the write was done), and a worker that dies in the middle of a batch;
at the end Bitrix24 holds exactly one Offer per invoice, with its last
content. Each step runs in a transaction of its own that commits, as the
queue worker's do; the class has a database of its own. bench/
bitrix_sync.py pushes 10,000 changes with a worker process killed."""
import datetime
import random
from unittest import mock

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from client_portal.demo import run_in_transaction
from client_portal.tests.outgoing_setup import form

from .. import rest
from ..sync import external_key
from .bridge_setup import BridgeTestCase, LINES, bridge_firm, configure

TODAY = datetime.date.today()
DRAFTS = 20
CHANGES = 200


class Killed(BaseException):
    "The worker process dies: nothing after it runs, its transaction is lost"


def run(func, *args):
    def step():
        try:
            return func(*args)
        finally:
            # The queue's own tasks: this test is the worker
            Transaction().tasks.clear()
    return run_in_transaction(DB_NAME, step)


class FaultTestCase(BridgeTestCase):
    @classmethod
    def build(cls):
        Invoice = Pool().get('account.invoice')
        firm, client, template, buyer = bridge_firm(TODAY)
        with Transaction().set_context(company=firm.company.id):
            drafts = [Invoice.portal_save_draft(client,
                    form(firm, client, template, buyer, LINES))
                for _ in range(DRAFTS)]
        configure(cls.b24.webhook_url, cls.b24.base_url)
        return [d.id for d in drafts]

    def _change(self, ids, rng, count):
        "count changes: a draft's date moved, in the portal's transaction"
        Invoice = Pool().get('account.invoice')
        for _ in range(count):
            invoice = Invoice(rng.choice(ids))
            with Transaction().set_context(company=invoice.company.id):
                Invoice.write([invoice], {'invoice_date': TODAY
                        - datetime.timedelta(days=rng.randint(0, 400))})

    def _process(self):
        Outbox = Pool().get('bitrix.outbox')
        Outbox.write(Outbox.search([('state', '=', 'queued')]),
            {'next_attempt_at': None})
        Outbox.process()

    def _expected(self, ids):
        Invoice = Pool().get('account.invoice')
        return {external_key(i): i.invoice_date.isoformat()
            for i in Invoice.browse(ids)}

    def _pending(self):
        Outbox = Pool().get('bitrix.outbox')
        return Outbox.search_count([('state', '!=', 'done')])

    def test_no_change_lost_none_doubled(self):
        ids = self.setup()
        rng = random.Random(2026)
        app = self.b24.app
        app.set_limits(threshold=100000)
        app.inject('internal', probability=0.05, seed=1, count=None)
        app.inject('query_limit', probability=0.05, seed=2, count=None)
        app.inject('html', probability=0.05, seed=3, count=None)
        app.inject('timeout_after_commit', methods=['batch'],
            probability=0.05, seed=4, count=None, delay=0.8)
        original = rest.Client.batch
        batches = [0]

        def batch(client, commands, halt=False):
            result = original(client, commands, halt=halt)
            batches[0] += 1
            if batches[0] == 3:
                # Bitrix24 did the batch; the worker dies before it commits
                raise Killed()
            return result
        with mock.patch.object(rest.Client, 'batch', batch), \
                mock.patch('bitrix_bridge.configuration.Configuration'
                    '.client', _short_client()):
            done = 0
            killed = False
            while done < CHANGES:
                run(self._change, ids, rng, 25)
                done += 25
                try:
                    run(self._process)
                except Killed:
                    killed = True
            self.assertTrue(killed)
            app.clear_faults()
            for _ in range(10):
                run(self._process)
                if not run(self._pending):
                    break
        self.assertEqual(run(self._pending), 0)

        expected = run(self._expected, ids)
        quotes = app.items(7)
        keys = [q['ufCrmPorticoKey'] for q in quotes]
        self.assertEqual(len(keys), len(set(keys)), "an Offer doubled")
        self.assertEqual(set(keys), set(expected), "an Offer lost")
        for quote in quotes:
            self.assertTrue(quote['begindate'].startswith(
                    expected[quote['ufCrmPorticoKey']]),
                (quote['begindate'], expected[quote['ufCrmPorticoKey']]))


def _short_client():
    "The REST client with a short timeout: lost answers cost half a second"
    from ..configuration import Configuration
    original = Configuration.client

    def client(self, timeout=30.0):
        return original(self, timeout=0.5)
    return client
