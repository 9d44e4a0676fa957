"""The KSeF column of client_portal's VAT registers: each document's KSeF
number or JPK_V7 marker as this module keeps it (facts POLAND.md §7)"""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from client_portal.demo import nip
from client_portal.demo_outgoing import create_contractor
from client_portal.tests.committed import CommittedTestCase
from client_portal.tests.outgoing_setup import form

from .ksef_setup import MODULES, ksef_firm

TODAY = datetime.date.today()
# facts POLAND.md §3.4
ACCEPTED = '5265877635-20250826-0100001AF629-AF'
RECEIVED = '5210384400-20261005-0100002B1234-5C'
LINES = [("Projekt", 1, '1000.00', '23')]


class VatRegisterMarkersTestCase(CommittedTestCase):
    "KSeF numbers and markers of issued and received invoices"
    module = 'ksef'
    extras = MODULES[1:]

    @classmethod
    def build(cls):
        return ksef_firm(TODAY)

    def _issue(self, setup):
        Invoice = Pool().get('account.invoice')
        draft = Invoice.portal_save_draft(setup.client, form(setup.firm,
                setup.client, setup.template, setup.buyers['nip'], LINES))
        return Invoice.portal_issue(draft, render=False)

    @with_transaction()
    def test_markers(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        CostInvoice = pool.get('portal.cost.invoice')
        Received = pool.get('ksef.received.invoice')
        Register = pool.get('portal.vat_register', type='wizard')
        setup = self.setup()
        firm = setup.firm
        with Transaction().set_context(company=firm.company.id):
            accepted = self._issue(setup)
            Invoice.write([accepted], {'ksef_number': ACCEPTED,
                    'ksef_status': 'accepted'})
            offline = self._issue(setup)
            Invoice.write([offline], {'ksef_status': 'offline',
                    'ksef_offline': True})
            pending = self._issue(setup)
            correction = Invoice.portal_correct(accepted)
            correction = Invoice.portal_save_draft(setup.client, form(firm,
                    setup.client, setup.template, setup.buyers['nip'],
                    [("Projekt", 1, '900.00', '23')], kind='correction',
                    reason="Rabat"), correction)
            correction = Invoice.portal_issue(correction, render=False)
            Party.write([setup.client], {'ksef_send': False})
            outside = self._issue(setup)

            supplier = create_contractor(firm, setup.client, "Hotel Polonia",
                "ul. Wspólna 12", '00-681', "Warszawa",
                tax_number=nip('521038443'))
            costs = [CostInvoice.portal_save(setup.client, {
                        'supplier': supplier, 'number': number,
                        'kind': 'invoice', 'invoice_date': TODAY,
                        'receipt_date': TODAY, 'currency': firm.pln,
                        'language': 'pl', 'entry': 'lines',
                        'payment_method': 'transfer',
                        'payment_status': 'unpaid'},
                    [{'description': "Nocleg", 'quantity': Decimal(1),
                            'unit_price': Decimal('100.00'),
                            'tax': firm.purchase_taxes['8']}])
                for number in ['FV/1/H', 'FV/2/H']]
            received, = Received.create([{'company': firm.company.id,
                        'ksef_number': RECEIVED}])
            CostInvoice.write([costs[0]], {'ksef_received': received.id})
            by_ksef, by_hand = CostInvoice.browse(costs)

        self.assertEqual(outside.ksef_status, 'none')
        self.assertEqual(pending.ksef_status, 'pending')
        markers = Register.ksef_markers(
            [accepted, offline, pending, outside, by_ksef, by_hand])
        self.assertEqual(markers, {
                accepted: ACCEPTED,
                # offline24 still without a number: DI, not OFF (failure
                # mode, which the outbox does not use)
                offline: 'DI',
                # On its way: nothing to file yet
                pending: '',
                outside: 'BFK',
                by_ksef: RECEIVED,
                by_hand: 'BFK',
                })

        # In the register: the row's marker, and a correction's the number
        # of the invoice it corrects
        first = TODAY.replace(day=1)
        rows = {r.document: r for r in Register.rows('sales', firm.company,
                first, TODAY)}
        self.assertEqual(rows[accepted].ksef, ACCEPTED)
        self.assertEqual(rows[offline].ksef, 'DI')
        self.assertEqual(rows[outside].ksef, 'BFK')
        self.assertEqual(rows[correction].corrected_ksef, ACCEPTED)
