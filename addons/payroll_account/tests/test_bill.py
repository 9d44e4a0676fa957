"""Payroll bills through the model: facts POLAND.md §6.4 to the grosz, each
status, the gross from a net, the checks of the form, numbering, the charge
of the sub-account and its reversal, the portal document, the PDF, the
year to date and the portal's isolation between clients"""
import datetime
from contextlib import ExitStack
from decimal import Decimal as D

from client_portal.tests.committed import CommittedTestCase
from client_portal.tests.test_module import _as_client
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from ..account import setup_payroll_accounts
from .test_contract import build as build_contracts, pdf_text
from .test_contract import values as contract_form
from .test_contractor import form as contractor_form, pesel

PERIOD = ('2026-11-01', '2026-11-30')
DATE = '2026-11-30'


def _contractor(firm, client, first_name, birth_date, serial, **flags):
    Contractor = Pool().get('payroll.contractor')
    record, errors = Contractor.portal_save(client, None, contractor_form(
            first_name=first_name, pesel=pesel(birth_date, serial),
            tax_resident='1',
            **{k: '1' if v is True else v for k, v in flags.items()}))
    assert not errors, errors
    return record


def _contract(firm, contractor, client=None, **changes):
    "An issued contract of the year 2026 for the contractor"
    Contract = Pool().get('payroll.contract')
    client = client or firm.a
    base = {'contractor': str(contractor.id), 'rate_type': 'lump_sum',
        'hourly_rate': '', 'amount': '5000', 'start_date': '2026-01-01',
        'end_date': '2026-12-31'}
    base.update(changes)
    record, errors = Contract.portal_save(client, None,
        contract_form(firm, **base))
    assert not errors, errors
    Contract.issue([record])
    return Contract(record.id)


def build():
    """The firm with its payroll accounts; client a (PLN sub-account) with
    a contractor of each status and an issued contract for each; client b
    (no sub-account) with one"""
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    firm = build_contracts()
    # No e-mail of the new documents
    pool.get('web.user').write([firm.user_a, firm.user_b],
        {'notify_documents': False})
    setup_payroll_accounts(firm.company)
    Subaccount.create_for([firm.a], [firm.pln])
    born = datetime.date(1990, 4, 2)
    people = {
        'a': _contractor(firm, firm.a, "Anna", born, '1111',
            voluntary_sickness=True),
        'plain': _contractor(firm, firm.a, "Bartosz", born, '2221'),
        'pit2': _contractor(firm, firm.a, "Celina", born, '3331', pit2=True,
            pit2_share='1/12', voluntary_sickness=True),
        'student': _contractor(firm, firm.a, "Dawid",
            datetime.date(2004, 5, 5), '4441', student_under_26=True),
        }
    firm.contracts = {k: _contract(firm, p) for k, p in people.items()}
    firm.contracts['work50'] = _contract(firm, people['plain'],
        template=str(firm.work.id), copyright_share='100')
    firm.contracts['work20'] = _contract(firm, people['plain'],
        template=str(firm.work.id), copyright_share='0')
    firm.contracts['hourly'] = _contract(firm, people['plain'],
        rate_type='hourly', hourly_rate='40', amount='')
    firm.contracts['b'] = _contract(firm, firm.piotr, client=firm.b)
    return firm


def form(record, **values):
    "The portal form of a bill of the contract record"
    base = {'contract': str(record.id), 'period_start': PERIOD[0],
        'period_end': PERIOD[1], 'hours': '', 'amount': '',
        'target_net': '', 'date': DATE}
    base.update(values)
    return base


class BillTestCase(CommittedTestCase):
    "Payroll bills of the contracts"
    module = 'payroll_account'

    @classmethod
    def build(cls):
        return build()

    def _draft(self, firm, key='a', client=None, **values):
        Bill = Pool().get('payroll.bill')
        bill, errors = Bill.portal_save(client or firm.a, None,
            form(firm.contracts[key], **values))
        self.assertEqual(errors, {})
        return bill

    def _issued(self, firm, key='a', **values):
        Bill = Pool().get('payroll.bill')
        bill = self._draft(firm, key, **values)
        bill, errors = Bill.portal_issue(firm.a, bill)
        self.assertEqual(errors, {})
        return bill

    def _balance(self, firm):
        Subaccount = Pool().get('portal.subaccount')
        subaccount, = Subaccount.search([('client', '=', firm.a.id)])
        return Subaccount(subaccount.id).balance, subaccount

    @with_transaction()
    def test_example_a(self):
        "Facts §6.4 A: zlecenie 5 000, full ZUS with sickness, no PIT-2"
        firm = self.setup()
        bill = self._draft(firm)
        self.assertEqual(bill.state, 'draft')
        self.assertEqual(bill.contractor, firm.contracts['a'].contractor)
        self.assertEqual(bill.amount, D('5000'))
        self.assertEqual(bill.language, 'pl')
        self.assertEqual(bill.currency.code, 'PLN')
        expected = {
            'gross': '5000.00', 'pension_contractor': '488.00',
            'disability_contractor': '75.00', 'sickness': '122.50',
            'social_contractor': '685.50', 'health_base': '4314.50',
            'health': '388.31', 'kup_normal': '862.90', 'kup': '862.90',
            'tax_base': '3452', 'pit': '414', 'net': '3512.19',
            'pension_payer': '488.00', 'disability_payer': '325.00',
            'accident': '83.50', 'labour_fund': '122.50', 'fgsp': '5.00',
            'payer_contributions': '1024.00', 'payer_total_cost': '6024.00',
            'zus_total': '2097.81',
            }
        for name, amount in expected.items():
            with self.subTest(name=name):
                self.assertEqual(getattr(bill, name), D(amount))
        self.assertFalse(bill.flat_tax)
        # The same once issued (with the year to date of then)
        bill, errors = Pool().get('payroll.bill').portal_issue(firm.a, bill)
        self.assertEqual(errors, {})
        self.assertEqual((bill.net, bill.payer_total_cost),
            (D('3512.19'), D('6024.00')))

    @with_transaction()
    def test_statuses(self):
        firm = self.setup()
        cases = [
            # contract, net, pit, payer's total cost
            ('plain', '3611.67', '426', '6024.00'),
            ('pit2', '3812.19', '114', '6024.00'),
            ('student', '5000.00', '0', '5000.00'),
            ('work50', '4700.00', '300', '5000.00'),
            ('work20', '4520.00', '480', '5000.00'),
            ]
        for key, net, pit, total in cases:
            with self.subTest(key=key):
                bill = self._draft(firm, key)
                self.assertEqual((bill.net, bill.pit, bill.payer_total_cost),
                    (D(net), D(pit), D(total)))
        plain = self._draft(firm, 'plain', period_start='2026-10-01',
            period_end='2026-10-31')
        self.assertEqual((plain.social_contractor, plain.health),
            (D('563.00'), D('399.33')))
        work = self._draft(firm, 'work50', period_start='2026-10-01',
            period_end='2026-10-31')
        self.assertEqual((work.kup_copyright, work.tax_base),
            (D('2500.00'), D('2500')))

    @with_transaction()
    def test_hours_and_target_net(self):
        firm = self.setup()
        bill = self._draft(firm, 'hourly', hours='12.5')
        self.assertEqual((bill.rate, bill.amount, bill.gross),
            (D('40'), D('500.00'), D('500.00')))
        # The gross of a net: 3 512,19 is example A's
        bill = self._draft(firm, 'a', target_net='3512,19',
            period_start='2026-10-01', period_end='2026-10-31')
        self.assertEqual((bill.gross, bill.net), (D('5000.00'), D('3512.19')))
        Bill = Pool().get('payroll.bill')
        result, errors = Bill.portal_preview(firm.a, form(
                firm.contracts['plain'], target_net='3611.67'))
        self.assertEqual(errors, {})
        self.assertEqual(result.gross, D('5000.00'))

    @with_transaction()
    def test_bad_input(self):
        pool = Pool()
        Bill = pool.get('payroll.bill')
        Contract = pool.get('payroll.contract')
        Template = pool.get('payroll.contract.template')
        firm = self.setup()
        existing = self._draft(firm, 'plain')
        terminated = _contract(firm, firm.contracts['a'].contractor)
        Contract.terminate([terminated], datetime.date(2026, 12, 31))
        old = _contract(firm, firm.contracts['a'].contractor)
        Contract.amend(old, {'amount': D('6000')})
        other, = Template.create([{'name': "Inna", 'kind': 'other',
                    'clients': [('add', [firm.a.id])],
                    'versions': [('create', [{'text_pl': "Umowa",
                                    'text_en': "Contract"}])]}])
        other = _contract(firm, firm.contracts['a'].contractor,
            template=str(other.id))
        a, hourly = firm.contracts['a'], firm.contracts['hourly']
        cases = [
            (terminated, {}, 'contract', "terminated"),
            (old, {}, 'contract', "amended"),
            (other, {}, 'contract', None),
            (firm.contracts['b'], {}, 'contract', None),
            (a, {'contract': 'x'}, 'contract', None),
            (a, {'period_start': '2025-12-01'}, 'period_start', None),
            (a, {'period_end': '2027-01-31'}, 'period_end', None),
            (a, {'period_end': '2026-10-31'}, 'period_end', None),
            (firm.contracts['plain'], {'period_start': '2026-11-30',
                    'period_end': '2026-12-15'}, 'period_start',
                existing.number or "("),
            (a, {'hours': '0'}, 'hours', None),
            (a, {'hours': '-3'}, 'hours', None),
            (a, {'hours': '720.01'}, 'hours', "720"),
            (hourly, {}, 'hours', None),
            (a, {'amount': '0'}, 'amount', None),
            (a, {'amount': '-100'}, 'amount', None),
            (a, {'target_net': '0'}, 'target_net', None),
            (a, {'date': '2026-10-31'}, 'date', None),
            (a, {'date': '2030-01-15', 'period_end': '2026-12-31'}, 'date',
                "2030"),
            (a, {'period_start': ''}, 'period_start', None),
            (a, {'hours': 'abc'}, 'hours', None),
            ]
        for contract, changes, field, text in cases:
            with self.subTest(contract=contract.rec_name, changes=changes):
                bill, errors = Bill.portal_save(firm.a, None,
                    form(contract, **changes))
                self.assertIsNone(bill)
                self.assertIn(field, errors)
                if text:
                    self.assertIn(text, errors[field])
        self.assertEqual(Bill.search([]), [existing])
        # 24 hours a day of the period is the ceiling
        self._draft(firm, 'a', hours='720')
        # The back office raises the same checks
        with self.assertRaises(ValidationError):
            Bill.create([{'company': firm.company.id, 'client': firm.a.id,
                        'contract': a.id,
                        'period_start': datetime.date(2026, 11, 10),
                        'period_end': datetime.date(2026, 11, 1)}])
        # Issued: read-only, not deleted
        bill = self._issued(firm, 'plain', period_start='2026-10-01',
            period_end='2026-10-31')
        _, errors = Bill.portal_save(firm.a, bill, form(a))
        self.assertIn('state', errors)
        with self.assertRaises(Exception):
            Bill.write([bill], {'hours': D(1)})
        with self.assertRaises(Exception):
            Bill.delete([bill])

    @with_transaction()
    def test_issue_numbers_and_charges_the_subaccount(self):
        pool = Pool()
        Bill = pool.get('payroll.bill')
        firm = self.setup()
        before, subaccount = self._balance(firm)
        first = self._issued(firm, 'a')
        second = self._issued(firm, 'pit2')
        self.assertEqual((first.number, second.number),
            ('RA/1/2026', 'RA/2/2026'))
        self.assertEqual(first.series.kind, 'payroll_bill')
        self.assertEqual(first.state, 'issued')
        self.assertEqual(first.date, datetime.date(2026, 11, 30))
        # Net + ZUS + PIT is the payer's total cost
        self.assertEqual(first.net + first.zus_total + first.pit,
            first.payer_total_cost)
        move = first.move
        self.assertEqual(move.state, 'posted')
        self.assertEqual(move.date, first.date)
        self.assertEqual(move.origin, first)
        charged = sorted((l.description, l.credit) for l in move.lines
            if l.account == subaccount.account)
        self.assertEqual(charged, [
                ("Rachunek RA/1/2026: składki ZUS", D('2097.81')),
                ("Rachunek RA/1/2026: wynagrodzenie netto", D('3512.19')),
                ("Rachunek RA/1/2026: zaliczka PIT", D('414.00')),
                ])
        config = pool.get('account.configuration')(1)
        debits = {l.account: l.debit for l in move.lines
            if l.account != subaccount.account}
        self.assertEqual(debits, {
                config.payroll_net_account: D('3512.19'),
                config.payroll_zus_account: D('2097.81'),
                config.payroll_tax_account: D('414.00'),
                })
        after, _ = self._balance(firm)
        self.assertEqual(before - after,
            first.payer_total_cost + second.payer_total_cost)
        # The client's movements name the bill
        rows = subaccount.movements().rows
        self.assertIn("Rachunek RA/2/2026: zaliczka PIT",
            [r.description for r in rows])
        # Paid
        Bill.pay([first], datetime.date(2026, 12, 5))
        first = Bill(first.id)
        self.assertEqual((first.state, first.paid_date),
            ('paid', datetime.date(2026, 12, 5)))

    @with_transaction()
    def test_student_charge_is_the_net_only(self):
        firm = self.setup()
        before, subaccount = self._balance(firm)
        bill = self._issued(firm, 'student')
        lines = [l for l in bill.move.lines
            if l.account == subaccount.account]
        self.assertEqual([(l.description, l.credit) for l in lines],
            [("Rachunek RA/1/2026: wynagrodzenie netto", D('5000.00'))])
        self.assertEqual(before - self._balance(firm)[0], D('5000.00'))

    @with_transaction()
    def test_cancel_reverses_the_charge(self):
        Bill = Pool().get('payroll.bill')
        Document = Pool().get('portal.document')
        firm = self.setup()
        before, _ = self._balance(firm)
        bill = self._issued(firm, 'a')
        self.assertEqual(before - self._balance(firm)[0], D('6024.00'))
        Bill.cancel([bill])
        bill = Bill(bill.id)
        self.assertEqual(bill.state, 'cancelled')
        self.assertEqual(bill.cancel_move.state, 'posted')
        self.assertEqual(self._balance(firm)[0], before)
        self.assertTrue(all(l.description.startswith("Anulowanie: ")
                for l in bill.cancel_move.lines))
        document, = Document.search([('origin', '=', str(bill))])
        self.assertEqual((document.state, document.remaining),
            ('cancelled', D(0)))
        # Cancelled is final; the period is free again
        with self.assertRaises(Exception):
            Bill.pay([bill])
        self._draft(firm, 'a')

    @with_transaction()
    def test_portal_document_and_pdf(self):
        Bill = Pool().get('payroll.bill')
        Document = Pool().get('portal.document')
        firm = self.setup()
        bill = self._issued(firm, 'a')
        document, = Document.search([('origin', '=', str(bill))])
        self.assertEqual(
            (document.document_type, document.number, document.party,
                document.date, document.due_date, document.tax_base,
                document.vat, document.total, document.paid,
                document.remaining, document.state),
            # Charged to the sub-account at issue: nothing left to pay
            ('payroll_bill', 'RA/1/2026', firm.a, bill.date, None,
                D('5000.00'), D(0), D('6024.00'), D('6024.00'), D(0),
                'issued'))
        self.assertEqual(bytes(document.get_pdf()), bytes(bill.pdf))
        # Among the client's costs in its reports (client_portal's report
        # layer), as the payer's total cost
        Line = Pool().get('portal.report.line')
        line, = Line.search([('origin', '=', str(document))])
        self.assertEqual((line.client, line.kind, line.direction,
                line.number, line.untaxed, line.total, line.paid),
            (firm.a, 'payroll_bill', 'cost', 'RA/1/2026', D('5000.00'),
                D('6024.00'), False))
        Bill.pay([bill])
        document = Document(document.id)
        self.assertEqual((document.state, document.paid, document.remaining),
            ('paid', D('6024.00'), D(0)))
        self.assertEqual(Line.search([('id', '=', line.id),
                    ('paid', '=', True)]), [line])
        text = pdf_text(bill.pdf)
        for expected in ["RACHUNEK", "RA/1/2026", "Alfa sp. z o.o.",
                "Anna Nowak", bill.contractor.pesel, "UZ/1/2026",
                "01.11.2026 – 30.11.2026", "Wynagrodzenie ryczałtowe",
                "5 000,00", "488,00", "75,00", "122,50", "685,50",
                "4 314,50", "388,31", "862,90", "3 452,00", "414,00",
                "3 512,19", "325,00", "83,50", "5,00", "1 024,00",
                "6 024,00", "PL61 1090 1014 0000 0712 1981 2874",
                "Podpis zleceniobiorcy", "DO WYPŁATY"]:
            with self.subTest(expected=expected):
                self.assertIn(expected, text)
        # English, by the hour
        bill = self._draft(firm, 'hourly', hours='10')
        Bill.write([bill], {'language': 'en'})
        text = pdf_text(Bill(bill.id).render_pdf())
        for expected in ["BILL (RACHUNEK)", "DRAFT", "10 h × 40.00 PLN",
                "NET TO PAY", "TOTAL COST TO THE PAYER"]:
            with self.subTest(expected=expected):
                self.assertIn(expected, text)

    @with_transaction()
    def test_year_to_date_copyright_cap(self):
        "Two bills crossing the 120 000 zł cap of the 50 % costs"
        firm = self.setup()
        first = self._issued(firm, 'work50', amount='200000',
            period_start='2026-01-01', period_end='2026-01-31',
            date='2026-01-31')
        self.assertEqual(first.kup_copyright, D('100000.00'))
        second = self._draft(firm, 'work50', amount='100000',
            period_start='2026-02-01', period_end='2026-02-28',
            date='2026-02-28')
        self.assertEqual(second.kup_copyright, D('20000.00'))
        self.assertEqual(second.kup_normal, D('12000.00'))

    @with_transaction()
    def test_no_subaccount(self):
        Bill = Pool().get('payroll.bill')
        firm = self.setup()
        bill = self._draft(firm, 'b', client=firm.b)
        _, errors = Bill.portal_issue(firm.b, bill)
        self.assertIn("PLN", errors['contract'])
        with self.assertRaises(UserError):
            Bill.issue([bill])
        self.assertEqual(Bill(bill.id).state, 'draft')
        # Another client's bill is not issued for it
        _, errors = Bill.portal_issue(firm.a, bill)
        self.assertIn('contract', errors)

    @with_transaction()
    def test_seen_by_its_client_only(self):
        Bill = Pool().get('payroll.bill')
        firm = self.setup()
        issued = self._issued(firm, 'a')
        with ExitStack() as stack:
            for manager in _as_client(firm.user_a):
                stack.enter_context(manager)
            self.assertEqual(Bill.search([]), [issued])
            # The client drafts and issues through the rules
            draft = self._draft(firm, 'plain')
            bill, errors = Bill.portal_issue(firm.a, draft)
            self.assertEqual(errors, {})
            self.assertEqual(bill.number, 'RA/2/2026')
            self.assertTrue(bill.get_portal_pdf())
        with ExitStack() as stack:
            for manager in _as_client(firm.user_b):
                stack.enter_context(manager)
            self.assertEqual(Bill.search([]), [])
            # Another client's contract is refused, not revealed
            _, errors = Bill.portal_save(firm.b, None,
                form(firm.contracts['a']))
            self.assertIn('contract', errors)
            result, errors = Bill.portal_preview(firm.b,
                form(firm.contracts['a']))
            self.assertIsNone(result)
            self.assertIn('contract', errors)
