"""The firm, a client that issues its own invoices (client_portal's
outgoing_setup) with a contractor, and the bridge pointed at a Bitrix24
emulator, for the bridge's tests"""
from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.tests.outgoing_setup import form, outgoing_firm

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
