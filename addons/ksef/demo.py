"""The demo's KSeF: the emulator of tests/ksef_emulator, which `make demo`
and the browser tests start before the demo data is built, so that the
demo's invoices are sent to it and come back with their KSeF numbers."""
from trytond.pool import Pool

from client_portal.demo import FIRM_NIP

# What `python -m tests.ksef_emulator` accepts by default
DEMO_TOKEN = 'portico-demo-token'
# The demo firm's NIP: the emulator's context and the buyer of the invoices
# it holds
DEMO_NIP = FIRM_NIP


def configure_demo(url, token=DEMO_TOKEN):
    """Point the KSeF settings at the emulator listening on url: its API
    and the verification links (KOD I) its page answers"""
    Configuration = Pool().get('ksef.configuration')
    configuration = Configuration(1)
    configuration.environment = 'custom'
    configuration.custom_url = url
    configuration.qr_url_custom = url
    configuration.authentication = 'token'
    configuration.token_input = token
    configuration.save()


def build_ksef_demo():
    """After the demo data: the allocation rules of the invoices the
    emulator holds for the firm (its seed), then the inbox's first run.
    The invoice with a recipient no rule names waits for a manager."""
    from client_portal.demo import CLIENTS
    from client_portal.demo_outgoing import STARTUP
    pool = Pool()
    Party = pool.get('party.party')
    Rule = pool.get('ksef.allocation.rule')
    Cursor = pool.get('ksef.inbox.cursor')
    client = {p.name: p for p in Party.search([
                ('name', 'in', [CLIENTS[0][0], STARTUP[0]])])}
    Rule.create([{
                'kind': 'customer_number', 'value': 'K-0042',
                'client': client[CLIENTS[0][0]].id,
                }, {
                'kind': 'buyer_id', 'value': 'PORTICO-EXPORT-7',
                'client': client[STARTUP[0]].id,
                }])
    Cursor.fetch()
