"""The Bitrix24 bridge's journey against its emulator, through the portal:
a client's cost invoice mirrored as an Offer, moved by its manager in
Bitrix24 to the approved stage: Bitrix24's own event (as the emulator
delivers it) reaches the events endpoint and the client's page says
"Approved"; a workgroup post on the client's home page; a chat message to
Bitrix24 and the manager's reply back on the client's chat page. The
journey's client is its own (the shared clients a and b stay as other
tests expect them), and the bridge is switched off again at the end. The
client's invoice becoming an Offer with its rows is the invoicing browser
journey's (tests/browser)."""
import datetime
from decimal import Decimal

import pytest
from portal_http import DB, PASSWORD, Browser, in_transaction, text

from tests.bitrix24_emulator import Emulator

MANAGER = 2             # Marta, of the emulator's seed
EMAIL = 'iga@gamma.example'
# Nobody listens there: the delivered event is replayed to the endpoint
HANDLER = 'http://127.0.0.1:9/bitrix/events'


def _set_up(company_id, url, webhook, token):
    from trytond.pool import Pool
    from client_portal.demo import (
        create_client, create_portal_user, load_firm, nip)
    from client_portal.demo_outgoing import create_contractor
    pool = Pool()
    User = pool.get('res.user')
    Configuration = pool.get('bitrix.configuration')
    Subaccount = pool.get('portal.subaccount')
    CostInvoice = pool.get('portal.cost.invoice')
    ModelData = pool.get('ir.model.data')
    firm = load_firm()
    manager, = User.create([{'login': 'marta.bitrix', 'name': "Marta Nowak",
                'bitrix_user_id': MANAGER,
                'companies': [('add', [company_id])], 'company': company_id,
                'groups': [('add', [
                            ModelData.get_id('account', 'group_account'),
                            ModelData.get_id('client_portal',
                                'group_portal_manager')])]}])
    client = create_client(firm, "Gamma Studio sp. z o.o.",
        nip('951235120'), "ul. Polna 7", '60-101', "Poznań",
        'biuro@gamma.example', '3', manager=manager)
    Subaccount.create_for([client], [firm.pln])
    create_portal_user(client, EMAIL, PASSWORD, "Iga", "Gamma", 'en')
    supplier = create_contractor(firm, client, "Hotel Polonia sp. z o.o.",
        "ul. Wspólna 12", '00-681', "Warszawa", tax_number=nip('521038443'))
    Configuration.write([Configuration(1)], {
            'enabled': True, 'portal_url': url,
            'authentication': 'webhook', 'webhook_url_input': webhook,
            'application_token_input': token, 'news_group': '12'})
    today = datetime.date.today()
    cost = CostInvoice.portal_save(client, {
            'supplier': supplier, 'number': 'FV/77/2026', 'kind': 'invoice',
            'invoice_date': today, 'sale_date': today, 'receipt_date': today,
            'currency': firm.pln, 'language': 'pl', 'entry': 'lines',
            'payment_method': 'transfer', 'payment_status': 'unpaid',
            'due_date': None, 'note': None,
            }, [{'description': "Nocleg", 'quantity': Decimal(2),
                'unit_price': Decimal('150.00'),
                'tax': firm.purchase_taxes['8']}], submit=False)
    CostInvoice.write([cost], {'state': 'submitted'})
    return manager.id, client.id, cost.id


def _switch_off(manager_id):
    "The shared database as the other tests expect it: no bridge"
    from trytond.pool import Pool
    pool = Pool()
    Configuration = pool.get('bitrix.configuration')
    News = pool.get('portal.news')
    User = pool.get('res.user')
    Configuration.write([Configuration(1)], {'enabled': False})
    News.write(News.search([('bitrix_post_id', '!=', None)]),
        {'active': False})
    User.write([User(manager_id)], {'active': False})


def _run(model, method):
    from trytond.pool import Pool
    getattr(Pool().get(model), method)()


def _state(cost_id):
    from trytond.pool import Pool
    return Pool().get('portal.cost.invoice')(cost_id).state


@pytest.fixture(scope='module')
def journey(data):
    with Emulator() as b24:
        binding = b24.app.add_outgoing_webhook(HANDLER, ['ONCRMQUOTEUPDATE'])
        manager_id, client_id, cost_id = in_transaction(_set_up,
            data.company, b24.base_url, b24.webhook_url,
            binding['application_token'])
        try:
            # The queue ran after the commit: the cost invoice is mirrored
            in_transaction(_run, 'bitrix.outbox', 'process_due')
            yield b24, cost_id
        finally:
            in_transaction(_switch_off, manager_id)


@pytest.fixture
def as_client(journey):
    browser = Browser()
    browser.login(EMAIL)
    return browser


def test_stage_set_in_bitrix24_approves_the_cost_invoice(journey,
        as_client):
    b24, cost_id = journey
    offer, = [o for o in b24.app.items(7) if 'FV/77/2026' in o['title']]
    assert offer['stageId'] == 'SENT'
    delivered = len(b24.app.events_delivered())
    b24.app.set_stage(7, offer['id'], 'RECEIVED', user_id=MANAGER)
    assert b24.app.wait_events(delivered + 1, timeout=5)
    event = b24.app.events_delivered()[-1]
    assert event['event'] == 'ONCRMQUOTEUPDATE'
    # Bitrix24's POST, as it was sent, to the endpoint; processed after
    # the commit
    response = Browser().client.post(f'/{DB}/bitrix/events',
        data=event['form'])
    assert response.status_code == 200
    assert in_transaction(_state, cost_id) == 'approved'
    page = as_client.get(f'costs/{cost_id}')
    assert page.status_code == 200
    assert 'Approved' in text(page)


def test_workgroup_post_on_the_home_page(journey, as_client):
    in_transaction(_run, 'portal.news', 'import_bitrix')
    home = text(as_client.get(''))
    assert 'New portal features' in home or \
        'Terminy rozliczeń PIT za 2025' in home, home


def test_chat_goes_to_bitrix24_and_the_reply_comes_back(journey, as_client):
    b24, _ = journey
    response = as_client.post('chat', data={'body': "Czy bilans jest gotowy?"})
    assert response.status_code in {200, 303}
    # The relay ran after the commit: the message is in the client's chat
    chats = [m for m in b24.app.calls() if m['method'] == 'im.message.add']
    assert chats and 'Czy bilans jest gotowy?' in \
        chats[-1]['params']['MESSAGE']
    dialog = chats[-1]['params']['DIALOG_ID']
    b24.app.reply(dialog, "Tak, w załączniku.", MANAGER)
    in_transaction(_run, 'portal.chat.message', 'bitrix_fetch')
    page = text(as_client.get('chat'))
    assert 'Tak, w załączniku.' in page
