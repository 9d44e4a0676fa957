"""Contracts and payroll bills through the Bitrix24 bridge, against its
emulator: an issued contract becomes an Offer of the client's company in
the mapped stage, a terminated one moves to DECLINED; a bill arrives as
the client's document (the bridge mirrors portal documents)."""
import datetime

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from bitrix_bridge.sync import external_key
from bitrix_bridge.tests.bridge_setup import (
    BridgeTestCase, bridge_firm, configure)

from ..account import setup_payroll_accounts
from ..demo import pesel
from .test_contractor import form as person_form

TODAY = datetime.date.today()
START = TODAY.replace(day=1)


class BitrixTestCase(BridgeTestCase):
    module = 'payroll_account'
    extras = ['bitrix_bridge', 'client_portal', 'ksef']

    @classmethod
    def build(cls):
        pool = Pool()
        Contractor = pool.get('payroll.contractor')
        Contract = pool.get('payroll.contract')
        Template = pool.get('payroll.contract.template')
        ModelData = pool.get('ir.model.data')
        firm, client, _, _ = bridge_firm(TODAY)
        setup_payroll_accounts(firm.company)
        pool.get('payroll.rates').copy_until(TODAY.year)
        mandate = Template(ModelData.get_id('payroll_account',
                'template_mandate'))
        Template.write([mandate], {'clients': [('add', [client.id])]})
        with Transaction().set_context(company=firm.company.id):
            person, errors = Contractor.portal_save(client, None,
                person_form(pesel=pesel(datetime.date(1990, 4, 2), '1111'),
                    voluntary_sickness='1'))
            assert not errors, errors
            contract, errors = Contract.portal_save(client, None, {
                    'contractor': str(person.id),
                    'template': str(mandate.id), 'language': 'pl',
                    'subject': "Obsługa recepcji", 'rate_type': 'lump_sum',
                    'hourly_rate': '', 'amount': '5000', 'currency': 'PLN',
                    'start_date': START.isoformat(),
                    'end_date': (START + datetime.timedelta(days=90)
                        ).isoformat(),
                    'copyright_share': ''})
            assert not errors, errors
        configure(cls.b24.webhook_url, cls.b24.base_url)
        return client, contract

    def _run(self):
        Outbox = Pool().get('bitrix.outbox')
        Outbox.write(Outbox.search([('state', '=', 'queued')]),
            {'next_attempt_at': None})
        Outbox.process()

    def _offer(self, record):
        offers = [q for q in self.b24.app.items(7)
            if q['ufCrmPorticoKey'] == external_key(record)]
        return offers[0] if offers else None

    @with_transaction()
    def test_contract_and_bill_as_offers(self):
        pool = Pool()
        Contract = pool.get('payroll.contract')
        Bill = pool.get('payroll.bill')
        Document = pool.get('portal.document')
        client, contract = self.setup()
        self._run()
        self.assertIsNone(self._offer(contract), "a draft stays in Portico")

        Contract.issue([contract])
        contract = Contract(contract.id)
        self._run()
        offer = self._offer(contract)
        self.assertEqual(offer['stageId'], 'SENT')
        self.assertIn(contract.number, offer['title'])
        self.assertAlmostEqual(offer['opportunity'], 5000.0)
        company, = [c for c in self.b24.app.companies()
            if int(c['ID']) == offer['companyId']]
        self.assertEqual(company['TITLE'], client.name)

        with Transaction().set_context(company=contract.company.id):
            bill, errors = Bill.portal_save(client, None, {
                    'contract': str(contract.id),
                    'period_start': START.isoformat(),
                    'period_end': START.isoformat(),
                    'hours': '', 'amount': '', 'target_net': '',
                    'date': START.isoformat()})
            self.assertEqual(errors, {})
            bill, errors = Bill.portal_issue(client, bill)
            self.assertEqual(errors, {})
        self._run()
        document, = Document.search([('origin', '=', str(bill))])
        offer = self._offer(document)
        self.assertIn(bill.number, offer['title'])
        self.assertAlmostEqual(offer['opportunity'], 6024.0)

        Contract.terminate([contract], TODAY, "Koniec współpracy")
        self._run()
        self.assertEqual(self._offer(contract)['stageId'], 'DECLINED')
