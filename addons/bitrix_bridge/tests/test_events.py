"""Back from Bitrix24: a cost invoice's Offer moved to the approved stage by
a manager in Bitrix24 approves it (as the manager's staff user), by the
event or, when the event was lost, by the reconciliation; the bridge's own
writes coming back as events change nothing; a Bitrix24 user who is no
staff user changes nothing."""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from client_portal.demo import create_portal_user, nip
from client_portal.demo_outgoing import create_contractor

from .bridge_setup import BridgeTestCase, bridge_firm, configure

TODAY = datetime.date.today()
MANAGER = 2     # a manager of the emulator's seed


def submitted_cost(firm, client):
    "A cost invoice the client submitted for approval"
    pool = Pool()
    CostInvoice = pool.get('portal.cost.invoice')
    supplier = create_contractor(firm, client, "Hotel Polonia sp. z o.o.",
        "ul. Wspólna 12", '00-681', "Warszawa", tax_number=nip('521038443'))
    with Transaction().set_context(company=firm.company.id):
        cost = CostInvoice.portal_save(client, {
                'supplier': supplier, 'number': 'FV/11/2026',
                'kind': 'invoice', 'invoice_date': TODAY,
                'sale_date': TODAY, 'receipt_date': TODAY,
                'currency': firm.pln, 'language': 'pl', 'entry': 'lines',
                'payment_method': 'transfer', 'payment_status': 'unpaid',
                'due_date': None, 'note': None,
                }, [{'description': "Nocleg", 'quantity': Decimal(2),
                    'unit_price': Decimal('150.00'),
                    'tax': firm.purchase_taxes['8']}], submit=False)
        CostInvoice.write([cost], {'state': 'submitted'})
    return CostInvoice(cost.id)


class EventTestCase(BridgeTestCase):
    @classmethod
    def build(cls):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Subaccount = pool.get('portal.subaccount')
        firm, client, template, buyer = bridge_firm(TODAY)
        Subaccount.create_for([client], [firm.pln])
        create_portal_user(client, 'jan@alfa.example')
        manager, = User.create([{'login': 'marta', 'name': "Marta",
                    'bitrix_user_id': MANAGER,
                    'companies': [('add', [firm.company.id])],
                    'company': firm.company.id,
                    'groups': [('add', [
                                ModelData.get_id('account', 'group_account'),
                                ModelData.get_id('client_portal',
                                    'group_portal_manager')])]}])
        client.portal_manager = manager
        client.save()
        configure(cls.b24.webhook_url, cls.b24.base_url)
        return firm, client

    def _sync(self):
        pool = Pool()
        Outbox = pool.get('bitrix.outbox')
        Event = pool.get('bitrix.event')
        for Model in [Outbox, Event]:
            Model.write(Model.search([('state', '=', 'queued')]),
                {'next_attempt_at': None})
            Model.process()

    def _offer(self):
        offer, = self.b24.app.items(7)
        return offer

    @with_transaction()
    def test_approved_in_bitrix24_by_its_event(self):
        pool = Pool()
        Event = pool.get('bitrix.event')
        firm, client = self.setup()
        cost = submitted_cost(firm, client)
        self._sync()
        offer = self._offer()
        self.assertEqual(offer['stageId'], 'SENT')
        # The manager moves the Offer; Bitrix24's event reaches the endpoint
        self.b24.app.set_stage(7, offer['id'], 'RECEIVED', user_id=MANAGER)
        event = Event.receive('ONCRMQUOTEUPDATE', 7, offer['id'])
        self._sync()
        cost = cost.__class__(cost.id)
        self.assertEqual(cost.state, 'approved', Event(event.id).result)
        self.assertEqual(cost.approved_by.login, 'marta')
        self.assertIn('marta'.title(), Event(event.id).result)
        # The approval went out again: the same stage, nothing else
        self.assertEqual(self._offer()['stageId'], 'RECEIVED')
        echo = Event.receive('ONCRMQUOTEUPDATE', 7, offer['id'])
        self._sync()
        self.assertEqual(Event(echo.id).state, 'done')
        self.assertEqual(cost.__class__(cost.id).state, 'approved')

    @with_transaction()
    def test_lost_event_is_caught_by_the_reconciliation(self):
        pool = Pool()
        Event = pool.get('bitrix.event')
        firm, client = self.setup()
        cost = submitted_cost(firm, client)
        self._sync()
        offer = self._offer()
        self.b24.app.set_stage(7, offer['id'], 'DECLINED', user_id=MANAGER)
        Event.reconcile()
        cost = cost.__class__(cost.id)
        self.assertEqual(cost.state, 'rejected')
        self.assertTrue(cost.reject_reason)
        # Nothing new: a second run leaves everything as it is
        Event.reconcile()
        self.assertEqual(cost.__class__(cost.id).state, 'rejected')

    @with_transaction()
    def test_bitrix24_user_without_staff_user_changes_nothing(self):
        pool = Pool()
        Event = pool.get('bitrix.event')
        firm, client = self.setup()
        cost = submitted_cost(firm, client)
        self._sync()
        offer = self._offer()
        self.b24.app.set_stage(7, offer['id'], 'RECEIVED', user_id=3)
        event = Event.receive('ONCRMQUOTEUPDATE', 7, offer['id'])
        self._sync()
        self.assertEqual(cost.__class__(cost.id).state, 'submitted')
        self.assertIn('3', Event(event.id).result)

    @with_transaction()
    def test_event_of_an_item_the_bridge_did_not_make(self):
        pool = Pool()
        Event = pool.get('bitrix.event')
        event = Event.receive('ONCRMQUOTEUPDATE', 7, 987654)
        self._sync()
        self.assertEqual(Event(event.id).state, 'done')
