"""The accountant's view of payroll bills: the XLSX of the bills ties to
the bills (each cell, the totals, the totals per client), its filters, and
the PIT-11 annual summary per contractor and contract kind"""
import datetime
import io
import unittest
from contextlib import ExitStack
from decimal import Decimal as D
from types import SimpleNamespace

import openpyxl

from client_portal.demo import create_staff
from client_portal.tests.committed import CommittedTestCase
from client_portal.tests.test_module import _as_client, _manager
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from ..annual_summary import AMOUNTS as SUMMARY_AMOUNTS
from ..account import setup_payroll_accounts
from ..bill_export import COMPONENT_CODES, COMPONENTS, bill_order, bills_xlsx
from ..calculation import ZERO, Status, YearToDate, compute
from .test_calculation import RATES_2026
from .test_contract import build as build_contracts, values as contract_values
from .test_contractor import form as contractor_form, pesel

FIXED = ['number', 'date', 'period_start', 'period_end', 'client',
    'contractor', 'pesel', 'kind', 'flat_tax']
HEADERS = {
    'pl': ["Numer", "Data", "Okres od", "Okres do", "Klient", "Wykonawca",
        "PESEL", "Rodzaj umowy", "Ryczałt"] + [pl for _, pl, _ in COMPONENTS],
    'en': ["Number", "Date", "Period from", "Period to", "Client",
        "Contractor", "PESEL", "Contract kind", "Flat tax"]
    + [en for _, _, en in COMPONENTS],
    }
SHEETS = {'pl': ["Rachunki", "Klienci"], 'en': ["Bills", "Clients"]}


def cell_decimal(value):
    "A money cell as the Decimal it was written from"
    return D(str(value)).quantize(D('0.01'))


def read_xlsx(content):
    return openpyxl.load_workbook(io.BytesIO(content), read_only=True)


def rows(sheet):
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def check_bills_xlsx(test, content, bills, language):
    """The file's sheets against the bills: headers, one row per bill in
    order, every number, the totals (Python sums and the sums of the rows)
    and the totals per client"""
    book = read_xlsx(content)
    test.assertEqual(book.sheetnames, SHEETS[language])
    data = rows(book[SHEETS[language][0]])
    header, body, total = data[0], data[1:-1], data[-1]
    test.assertEqual(header, HEADERS[language])
    bills = sorted(bills, key=bill_order)
    test.assertEqual(len(body), len(bills))
    first = len(FIXED)
    for row, bill in zip(body, bills):
        test.assertEqual(row[0], bill.number)
        test.assertEqual(row[1].date(), bill.date)
        test.assertEqual(row[2].date(), bill.period_start)
        test.assertEqual(row[3].date(), bill.period_end)
        test.assertEqual(row[4], bill.client.rec_name)
        test.assertEqual(row[5], bill.contractor.rec_name)
        test.assertEqual(row[6],
            bill.contractor.pesel or bill.contractor.passport)
        for code, value in zip(COMPONENT_CODES, row[first:]):
            test.assertIsInstance(value, (int, float))
            test.assertEqual(cell_decimal(value), getattr(bill, code), code)
    test.assertEqual(total[0], "Razem" if language == 'pl' else "Total")
    for i, code in enumerate(COMPONENT_CODES):
        of_bills = sum((getattr(b, code) for b in bills), ZERO)
        of_rows = sum((cell_decimal(r[first + i]) for r in body), ZERO)
        with test.subTest(component=code):
            test.assertEqual(cell_decimal(total[first + i]), of_bills)
            test.assertEqual(of_rows, of_bills)
    # Per client: one row per client by name, the last the totals again
    data = rows(book[SHEETS[language][1]])
    by_client, client_total = data[1:-1], data[-1]
    names = sorted({b.client.rec_name for b in bills})
    test.assertEqual([r[0] for r in by_client], names)
    for row in by_client:
        of_client = [b for b in bills if b.client.rec_name == row[0]]
        test.assertEqual(row[1], len(of_client))
        for i, code in enumerate(COMPONENT_CODES):
            test.assertEqual(cell_decimal(row[2 + i]),
                sum((getattr(b, code) for b in of_client), ZERO))
    test.assertEqual(client_total[1], len(bills))
    test.assertEqual([cell_decimal(v) for v in client_total[2:]],
        [cell_decimal(v) for v in total[first:]])
    # Money is formatted as money, dates as dates
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[SHEETS[language][0]]
    if bills:
        test.assertEqual(sheet.cell(2, first + 1).number_format, '#,##0.00')
        test.assertEqual(sheet.cell(2, 2).number_format, 'yyyy-mm-dd')
    return body


def fake_bill(id_, number, sequence, date, client, contractor, gross,
        status=Status(), amount=None):
    values = compute(D(gross), RATES_2026, status, YearToDate(), amount)
    return SimpleNamespace(id=id_, number=number, sequence=sequence,
        date=date, period_start=date.replace(day=1), period_end=date,
        client=client, contractor=contractor,
        contract=SimpleNamespace(kind=status.kind), **values.as_dict())


class XlsxTestCase(unittest.TestCase):
    "bills_xlsx alone (no database)"

    def setUp(self):
        alfa = SimpleNamespace(id=1, rec_name="Alfa sp. z o.o.")
        beta = SimpleNamespace(id=2, rec_name="Beta S.A.")
        anna = SimpleNamespace(rec_name="Anna Nowak", pesel='90010112345',
            passport=None)
        jan = SimpleNamespace(rec_name="Jan Lis", pesel=None,
            passport='XY123')
        nov, dec = datetime.date(2026, 11, 30), datetime.date(2026, 12, 31)
        # Given out of order: RA/10 comes after RA/9 on the same day
        self.bills = [
            fake_bill(4, 'RA/10/2026', 10, dec, alfa, anna, '5000.00'),
            fake_bill(3, 'RA/9/2026', 9, dec, beta, jan, '1234.56',
                Status(kind='work', copyright_share=D(50))),
            fake_bill(1, 'RA/1/2026', 1, nov, alfa, jan, '150.00',
                amount=D(150)),
            fake_bill(2, 'RA/2/2026', 2, nov, alfa, anna, '3333.33',
                Status(voluntary_sickness=True)),
            ]

    def test_polish_and_english(self):
        for language in ['pl', 'en']:
            with self.subTest(language=language):
                body = check_bills_xlsx(self, bills_xlsx(self.bills,
                        language), self.bills, language)
                self.assertEqual([r[0] for r in body], ['RA/1/2026',
                        'RA/2/2026', 'RA/9/2026', 'RA/10/2026'])
        body = rows(read_xlsx(bills_xlsx(self.bills, 'pl_PL'))["Rachunki"])
        # A foreigner's passport stands for the PESEL
        self.assertEqual(body[1][6], 'XY123')
        self.assertEqual(body[1][8], "tak")  # 150 zł: the flat tax
        self.assertEqual(body[3][7], "Umowa o dzieło")

    def test_no_bills(self):
        body = check_bills_xlsx(self, bills_xlsx([], 'en'), [], 'en')
        self.assertEqual(body, [])


def build():
    """Clients a (manager Marta) and b; a's contractors Anna (a mandate by
    the hour and a contract for specific work) and Ewa (a 150 zł mandate:
    the flat tax), b's Piotr (a lump-sum mandate); bills of November and
    December 2026 issued (one paid, one cancelled, one left a draft)"""
    pool = Pool()
    Contract = pool.get('payroll.contract')
    Contractor = pool.get('payroll.contractor')
    Bill = pool.get('payroll.bill')
    Subaccount = pool.get('portal.subaccount')
    firm = build_contracts()
    setup_payroll_accounts(firm.company)
    Subaccount.create_for([firm.a, firm.b], [firm.pln])
    firm.manager = _manager('marta', firm.a)
    firm.accountant = create_staff(firm, 'konto', "Konto",
        ['client_portal.group_portal_accountant'], 'Pass-word-2026')
    firm.ewa, _ = Contractor.portal_save(firm.a, None, contractor_form(
            first_name="Ewa", last_name="Lis",
            pesel=pesel(datetime.date(1985, 6, 7))))

    def contract(client, contractor, **changes):
        changes = {'contractor': str(contractor.id),
            'start_date': '2026-11-01', 'end_date': '2026-12-31',
            **changes}
        record, errors = Contract.portal_save(client, None,
            contract_values(firm, **changes))
        assert not errors, errors
        Contract.issue([record])
        return record
    lump = {'rate_type': 'lump_sum', 'hourly_rate': ''}
    hourly = contract(firm.a, firm.anna)
    work = contract(firm.a, firm.anna, template=str(firm.work.id),
        amount='2000', copyright_share='50', **lump)
    small = contract(firm.a, firm.ewa, amount='150', **lump)
    piotr = contract(firm.b, firm.piotr, amount='3000', **lump)

    def bill(contract, start, end, date, **values):
        record, = Bill.create([{'company': firm.company.id,
                    'contract': contract.id,
                    'period_start': datetime.date(2026, *start),
                    'period_end': datetime.date(2026, *end),
                    'date': datetime.date(2026, *date), **values}])
        return record
    firm.bills = [
        bill(hourly, (11, 1), (11, 30), (11, 30), hours=D(100)),
        bill(piotr, (11, 1), (11, 30), (11, 25)),
        bill(hourly, (12, 1), (12, 31), (12, 31), hours=D(80)),
        bill(work, (12, 1), (12, 15), (12, 15)),
        bill(small, (12, 1), (12, 10), (12, 10)),
        ]
    cancelled = bill(piotr, (12, 1), (12, 31), (12, 31))
    Bill.issue(firm.bills + [cancelled])
    Bill.pay(firm.bills[:1], datetime.date(2026, 12, 5))
    Bill.cancel([cancelled])
    firm.draft = bill(work, (12, 16), (12, 31), (12, 31))
    return firm


def _staff(user):
    stack = ExitStack()
    stack.enter_context(Transaction().set_user(user.id))
    stack.enter_context(check_access())
    return stack


class BillExportTestCase(CommittedTestCase):
    "The accountant's export and annual summary of real bills"
    module = 'payroll_account'

    @classmethod
    def build(cls):
        return build()

    def _export(self, language, **start):
        "The file of the export wizard run with the start values"
        Export = Pool().get('payroll.bill.export', type='wizard')
        session_id, _, _ = Export.create()
        start = {'from_date': datetime.date(2026, 11, 1),
            'to_date': datetime.date(2026, 12, 31), 'client': None,
            'contractor': None, **start}
        with Transaction().set_context(language=language):
            result = Export.execute(session_id, {'start': start}, 'result')
        Export.delete(session_id)
        defaults = result['view']['defaults']
        return bytes(defaults['file']), defaults['filename']

    @with_transaction()
    def test_export_ties_to_the_bills(self):
        firm = self.setup()
        bills = [b for b in firm.bills]
        self.assertEqual({b.state for b in bills}, {'issued', 'paid'})
        for language in ['pl', 'en']:
            with self.subTest(language=language):
                content, name = self._export(language)
                self.assertEqual(name, {'pl': 'rachunki', 'en': 'bills'}[
                        language] + '_2026-11-01_2026-12-31.xlsx')
                body = check_bills_xlsx(self, content, bills, language)
                # By date, then number; the cancelled and draft left out
                self.assertEqual([r[0] for r in body], [b.number for b in
                        sorted(bills, key=lambda b: (b.date, b.sequence))])
        # A period holds the bills dated in it
        content, _ = self._export('en',
            from_date=datetime.date(2026, 12, 1))
        check_bills_xlsx(self, content,
            [b for b in bills if b.date.month == 12], 'en')

    @with_transaction()
    def test_filters(self):
        firm = self.setup()
        for start, expected in [
                ({'client': firm.a.id}, [b for b in firm.bills
                        if b.client == firm.a]),
                ({'client': firm.b.id}, [b for b in firm.bills
                        if b.client == firm.b]),
                ({'contractor': firm.anna.id}, [b for b in firm.bills
                        if b.contractor == firm.anna]),
                ({'client': firm.a.id, 'contractor': firm.ewa.id},
                    [b for b in firm.bills if b.contractor == firm.ewa]),
                ({'client': firm.b.id, 'contractor': firm.anna.id}, []),
                ]:
            with self.subTest(start=start):
                self.assertTrue(expected or 'client' in start)
                content, _ = self._export('en', **start)
                body = check_bills_xlsx(self, content, expected, 'en')
                self.assertEqual(len(body), len(expected))

    @with_transaction()
    def test_annual_summary_sums_the_bills(self):
        Summary = Pool().get('payroll.annual.summary')
        firm = self.setup()
        summaries = Summary.search([])
        expected = {}
        for bill in firm.bills:
            key = (bill.client, bill.contractor, bill.date.year,
                bill.contract.kind)
            expected.setdefault(key, []).append(bill)
        self.assertEqual(
            sorted((s.client.id, s.contractor.id, s.year, s.kind)
                for s in summaries),
            sorted((c.id, p.id, y, k) for c, p, y, k in expected))
        for summary in summaries:
            bills = expected[(summary.client, summary.contractor,
                    summary.year, summary.kind)]
            with self.subTest(contractor=summary.contractor.rec_name,
                    kind=summary.kind):
                self.assertEqual(summary.bill_count, len(bills))
                self.assertEqual(summary.pesel, summary.contractor.pesel)
                self.assertEqual(summary.company, firm.company)
                for name in SUMMARY_AMOUNTS:
                    value = getattr(summary, name)
                    self.assertIsInstance(value, D)
                    self.assertEqual(value,
                        sum((getattr(b, name) for b in bills), ZERO), name)
        # Anna's mandate and specific work are rows of their own
        anna = {s.kind: s for s in Summary.search(
                [('contractor', '=', firm.anna.id)])}
        self.assertEqual(set(anna), {'mandate', 'work'})
        self.assertEqual(anna['mandate'].bill_count, 2)
        self.assertTrue(Summary.search([('gross', '>', D('3000'))]))

        # The export: a row per summary, the totals the sums
        Export = Pool().get('payroll.annual.summary.export', type='wizard')
        session_id, _, _ = Export.create()
        with Transaction().set_context(language='pl'):
            result = Export.execute(session_id, {'start': {
                        'year': 2026, 'client': None, 'contractor': None}},
                'result')
        defaults = result['view']['defaults']
        self.assertEqual(defaults['filename'], 'pit-11_2026.xlsx')
        data = rows(read_xlsx(bytes(defaults['file']))["PIT-11"])
        self.assertEqual(data[0][:6], ["Rok", "Klient", "Wykonawca",
                "PESEL", "Rodzaj umowy", "Liczba"])
        self.assertEqual(len(data), len(summaries) + 2)
        self.assertEqual(data[-1][0], "Razem")
        self.assertEqual(data[-1][5], len(firm.bills))
        for i, name in enumerate(SUMMARY_AMOUNTS):
            self.assertEqual(cell_decimal(data[-1][6 + i]),
                sum((getattr(b, name) for b in firm.bills), ZERO))
            self.assertEqual(
                sum((cell_decimal(r[6 + i]) for r in data[1:-1]), ZERO),
                cell_decimal(data[-1][6 + i]))

    @with_transaction()
    def test_summary_access(self):
        """A manager sees the assigned clients' summaries, the accountant
        all, the portal nothing"""
        Summary = Pool().get('payroll.annual.summary')
        firm = self.setup()
        with _staff(firm.manager):
            self.assertEqual({s.client for s in Summary.search([])},
                {firm.a})
            # The bills' export is the accountants' and the heads'
            with self.assertRaises(AccessError):
                self._export('en')
        with _staff(firm.accountant):
            self.assertEqual({s.client for s in Summary.search([])},
                {firm.a, firm.b})
            content, _ = self._export('en')
            check_bills_xlsx(self, content, firm.bills, 'en')
        with ExitStack() as stack:
            for manager in _as_client(firm.user_a):
                stack.enter_context(manager)
            with self.assertRaises(AccessError):
                Summary.search([])
