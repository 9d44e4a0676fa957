"""The firm, a client that issues its own invoices (client_portal's
outgoing_setup) with a contractor, and the bridge pointed at a Bitrix24
emulator, for the bridge's tests"""
from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.tests.committed import CommittedTestCase
from client_portal.tests.outgoing_setup import form, outgoing_firm
from tests.bitrix24_emulator import Emulator

LINES = [("Projekt logo", 1, '1000.00', '23'),
    ("Druk ulotek", 100, '1.50', '8')]


def configure(webhook_url, portal_url, enabled=True):
    Configuration = Pool().get('bitrix.configuration')
    Configuration.write([Configuration(1)], {
            'enabled': enabled,
            'portal_url': portal_url,
            'authentication': 'webhook',
            'webhook_url_input': webhook_url,
            })


def bridge_firm(today):
    "(firm, client, template, buyer); the bridge is configured after it"
    return outgoing_firm(today)


def issue(firm, client, template, buyer, lines=LINES, **values):
    "A client's invoice, issued from the portal's editor"
    Invoice = Pool().get('account.invoice')
    with Transaction().set_context(company=firm.company.id):
        draft = Invoice.portal_save_draft(
            client, form(firm, client, template, buyer, lines, **values))
        return Invoice.portal_issue(draft)


class BridgeTestCase(CommittedTestCase):
    """Tests of the bridge against a Bitrix24 emulator of the class
    (`cls.b24`, started before build() runs), emptied before each test;
    its leaky bucket out of the way unless a test sets it"""
    module = 'bitrix_bridge'
    # Every Portico module, as deployed (scripts/testdb.py)
    extras = ['client_portal', 'ksef', 'payroll_account']

    @classmethod
    def setUpClass(cls):
        cls.b24 = Emulator()
        cls.b24.start()
        cls.addClassCleanup(cls.b24.stop)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.b24.app.reset()
        self.b24.app.set_limits(threshold=10000)
