"""The firm, a client issuing in PLN, EUR and USD, and buyers of every FA(3)
kind, for the ksef tests; invoices built as records, without the issue, so
that many documents cost little"""
import datetime
from decimal import Decimal

from unittest import mock

from trytond.pool import Pool

from client_portal.demo_outgoing import create_contractor
from client_portal.tests.outgoing_setup import outgoing_firm

# Every Portico module, as deployed: the test databases are copies of one
# activated database (scripts/testdb.py)
MODULES = ['ksef', 'bitrix_bridge', 'payroll_account']
# FA(3) P_12 codes, and the totals field each one fills (facts §4)
RATE_FIELDS = {
    '23': 'P_13_1', '8': 'P_13_2', '5': 'P_13_3', '0 KR': 'P_13_6_1',
    '0 WDT': 'P_13_6_2', '0 EX': 'P_13_6_3', 'zw': 'P_13_7',
    'np I': 'P_13_8', 'np II': 'P_13_9', 'oo': 'P_13_10'}
RATES = list(RATE_FIELDS)
NBP_RATES = {'EUR': Decimal('4.2650'), 'USD': Decimal('3.9210')}
# The KSeF client's waits in tests: short polls and timeouts, one quick retry
FAST_CLIENT = {'POLL_INTERVAL': 0.05, 'POLL_TIMEOUT': 3, 'RETRIES': 1,
    'BACKOFF': 0.05, 'BACKOFF_MAX': 0.1, 'MAX_WAIT': 2, 'TIMEOUT': 2,
    'AUTH_POLL_INTERVAL': 0.05}


def patch_client_waits(testcase):
    "Short KSeF client waits for the test case class, undone after it"
    from .. import client
    for name, value in FAST_CLIENT.items():
        patcher = mock.patch.object(client, name, value)
        patcher.start()
        testcase.addClassCleanup(patcher.stop)


class Setup:
    "What the tests need, as attributes"

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def ksef_firm(today):
    """The firm, the client Alfa (sub-accounts in PLN, EUR and USD, its
    template) and one buyer of each kind: nip, eu, foreign, none"""
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    Party = pool.get('party.party')
    Identifier = pool.get('party.identifier')
    firm, client, template, buyer = outgoing_firm(today)
    Subaccount.create_for([client], [firm.usd])
    eu = create_contractor(firm, client, "Müller Logistik GmbH",
        "Hafenstraße 8", '20457', "Hamburg", country='DE',
        tax_number='DE136695976')
    foreign = create_contractor(firm, client, "Acme Robotics Inc.",
        "1 Market Street", '94105', "San Francisco", country='US')
    # What the portal stores for a country without a VAT number type
    Identifier.create([{'party': foreign.id, 'type': None,
                'code': '12-3456789'}])
    consumer = create_contractor(firm, client, "Jan Kowalski",
        "ul. Lipowa 3", '90-001', "Łódź")
    Party.write([consumer], {'portal_consumer': True})
    return Setup(firm=firm, client=client, template=template,
        buyers={'nip': buyer, 'eu': eu, 'foreign': foreign,
            'none': consumer},
        currencies={'PLN': firm.pln, 'EUR': firm.eur, 'USD': firm.usd})


def line_values(setup, currency, buyer, rates, quantity=1, side=None,
        prices=None):
    """An invoice line per VAT code: "<code> service", quantity × a price
    of its own; the 23 % line has a discount, the 8 % one is GTU_12 and in
    annex 15"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    unit = ModelData.get_id('product', 'uom_unit')
    firm = setup.firm
    values = []
    for index, code in enumerate(rates):
        tax = next(t for t in firm.taxes.values()
            if t.portal_vat_code == code)
        price = (prices or {}).get(code, Decimal('100.00') + 10 * index)
        line = {
            'type': 'line',
            'description': f"Usługa {code}",
            'quantity': float(quantity),
            'unit': unit,
            'unit_price': price,
            'account': firm.accounts.revenue.id,
            'taxes': [('add', [tax.id])],
            'currency': setup.currencies[currency].id,
            'company': firm.company.id,
            'invoice_type': 'out',
            'party': buyer.id,
            'portal_side': side,
            }
        if code == '23':
            line.update(portal_list_price=price, portal_discount=Decimal(10),
                unit_price=price * Decimal('0.9'))
        if code == '8':
            line.update(portal_gtu='GTU_12', portal_annex15=True)
        values.append(line)
    return values


def invoice_values(setup, number, currency, buyer, lines, client=True,
        date=None, **values):
    "An out invoice of the firm, a client's one when client is true"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    firm = setup.firm
    date = date or firm.today
    result = {
        'type': 'out',
        'company': firm.company.id,
        'number': number,
        'party': buyer.id,
        'invoice_address': buyer.address_get(type='invoice').id,
        'currency': setup.currencies[currency].id,
        'invoice_date': date,
        'account': firm.accounts.receivable.id,
        'journal': ModelData.get_id('account', 'journal_revenue'),
        'lines': [('create', lines)],
        }
    if client:
        rate = NBP_RATES.get(currency)
        result.update({
                'portal_issuer': setup.client.id,
                'portal_template': setup.template.id,
                'portal_kind': 'invoice',
                'portal_sale_date': date - datetime.timedelta(days=1),
                'portal_payment_method': 'transfer',
                'portal_due_date': date + datetime.timedelta(days=14),
                'portal_nbp_rate': rate,
                'portal_nbp_table': '226/A/NBP/2026' if rate else None,
                'portal_nbp_date': (date - datetime.timedelta(days=1)
                    if rate else None),
                })
    else:
        result['payment_term'] = firm.terms[14].id
    result.update(values)
    return result
