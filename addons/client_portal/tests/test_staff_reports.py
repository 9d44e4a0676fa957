"""The staff's reports in the back office (C5, C8): the clients' documents
of every kind, the outstanding balances per client and the head's income
and costs per period, absolute and relative, per client and per manager;
a manager sees the assigned clients only"""
import datetime
from contextlib import ExitStack
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from ..comparison import comparison_periods, default_period, percent
from ..demo import (
    create_client, create_invoice, create_staff, credit, nip, pay, setup_firm)
from ..demo_outgoing import (
    create_contractor, create_invoice_template, editor_form)
from ..scan import check_scan
from .committed import CommittedTestCase
from .test_cost_invoice import pdf_bytes

TODAY = datetime.date.today()
# The documents' dates: in the month of today, in the month before and in
# the same month a year earlier; two months ago is in none of them
CURRENT = TODAY
PREVIOUS = TODAY - relativedelta(months=1)
YEAR_AGO = TODAY - relativedelta(years=1)
OUTSIDE = TODAY - relativedelta(months=2)
PERIOD = default_period(TODAY)
PASSWORD = 'Pass-word-2026'
D = Decimal


def build():
    """The firm; clients a and c looked after by Anna, b by Piotr. a sells
    (in PLN and EUR) and has an approved cost invoice; the firm invoices
    all three. Everything is issued in date order, as the numbering
    requires."""
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    Invoice = pool.get('account.invoice')
    CostInvoice = pool.get('portal.cost.invoice')
    firm = setup_firm(TODAY, logo=False)
    manager = ['client_portal.group_portal_manager']
    firm.anna = create_staff(firm, 'anna', "Anna Nowak", manager, PASSWORD)
    firm.piotr = create_staff(firm, 'piotr', "Piotr Lis", manager, PASSWORD)
    firm.head = create_staff(firm, 'szef', "Jan Szef",
        ['client_portal.group_portal_head'], PASSWORD)
    firm.a = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
        "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1',
        manager=firm.anna)
    firm.b = create_client(firm, "Beta S.A.", nip('583301245'),
        "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2',
        manager=firm.piotr)
    firm.c = create_client(firm, "Cyfra sp. z o.o.", nip('946210357'),
        "ul. Piotrkowska 120", '90-006', "Łódź", 'cyfra@example.com', '3',
        manager=firm.anna)
    Subaccount.create_for([firm.a], [firm.pln, firm.eur])
    template = create_invoice_template(firm, "Alfa", 'ALFA', [firm.a])
    buyer = create_contractor(firm, firm.a, "Gamma Trade sp. z o.o.",
        "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'))
    supplier = create_contractor(firm, firm.a, "Hotel Polonia sp. z o.o.",
        "ul. Wspólna 12", '00-681', "Warszawa", tax_number=nip('521038443'))

    def sell(date, lines, currency='PLN'):
        draft = Invoice.portal_save_draft(firm.a, editor_form(firm, firm.a,
                template, buyer, lines, currency=currency, date=date))
        return Invoice.portal_issue(draft)

    def bill(client, date, net):
        return create_invoice(firm, client, date, [("Obsługa", 1, net, '23')])

    # Past documents have past due dates: no mistake to warn about here
    with Transaction().set_context(
            company=firm.company.id, _skip_warnings=True):
        sell(YEAR_AGO, [("Projekt", 1, '1000.00', '23')])
        firm.a_year_ago = bill(firm.a, YEAR_AGO, '400.00')
        bill(firm.b, YEAR_AGO, '800.00')
        bill(firm.b, OUTSIDE, '300.00')
        sell(PREVIOUS, [("Projekt", 1, '800.00', '23')])
        firm.a_previous = bill(firm.a, PREVIOUS, '450.00')
        # 1000 at 23% and 100 × 1.50 less 10% at 8%: 1135.00 net
        sell(CURRENT, [("Projekt logo", 1, '1000.00', '23'),
                ("Druk ulotek", 100, '1.50', '8', '10')])
        sell(CURRENT, [("Consulting", 2, '100.00', '23')], currency='EUR')
        cost = CostInvoice.portal_save(firm.a, {
                'supplier': supplier, 'number': 'FV/7/2026',
                'kind': 'invoice', 'invoice_date': CURRENT,
                'sale_date': CURRENT, 'receipt_date': CURRENT,
                'currency': firm.pln, 'language': 'pl', 'entry': 'lines',
                'payment_method': 'transfer', 'payment_status': 'unpaid',
                'due_date': CURRENT + datetime.timedelta(days=14),
                'note': None,
                }, [{'description': d, 'quantity': D(q), 'unit_price': D(p),
                    'tax': firm.purchase_taxes[t]}
                for d, q, p, t in [("Nocleg", 2, '150.00', '8'),
                    ("Sala konferencyjna", 1, '400.00', '23')]],
            scan=check_scan(pdf_bytes(), 'faktura.pdf'), submit=True)
        CostInvoice.approve([cost])
        bill(firm.a, CURRENT, '450.00')
        bill(firm.b, CURRENT, '1000.00')
        bill(firm.c, CURRENT, '100.00')
    return firm


def _staff(user):
    "The back office as the user: the user's groups and record rules"
    stack = ExitStack()
    stack.enter_context(Transaction().set_user(user.id))
    stack.enter_context(check_access())
    return stack


def _period():
    return Transaction().set_context(from_date=PERIOD[0], to_date=PERIOD[1])


# The fields of a comparison row, in the order of the expected tuples
FIGURES = ['income', 'costs', 'result',
    'previous_income', 'previous_costs', 'previous_result',
    'year_ago_income', 'year_ago_costs', 'year_ago_result',
    'income_change', 'costs_change', 'result_change',
    'income_change_percent', 'costs_change_percent', 'result_change_percent',
    'income_change_year', 'costs_change_year', 'result_change_year',
    'income_change_year_percent', 'costs_change_year_percent',
    'result_change_year_percent']


def _figures(*values):
    return tuple(None if v is None else D(v) for v in values)


class StaffReportsTestCase(CommittedTestCase):
    "The staff's reports over a firm with documents in three periods"

    @classmethod
    def build(cls):
        return build()

    def _rows(self, model, key):
        "{(key's record, currency code): figures} of the rows found"
        Model = Pool().get(model)
        return {(getattr(r, key), r.currency.code): tuple(
                getattr(r, n) for n in FIGURES)
            for r in Model.search([])}

    def test_periods_compared_and_percent(self):
        "Whole months with whole months, other periods by their length"
        d = datetime.date
        self.assertEqual(default_period(d(2026, 2, 14)),
            (d(2026, 2, 1), d(2026, 2, 28)))
        cases = [
            ((d(2026, 11, 1), d(2026, 11, 30)),
                (d(2026, 10, 1), d(2026, 10, 31)),
                (d(2025, 11, 1), d(2025, 11, 30))),
            # A quarter: the quarter before
            ((d(2026, 1, 1), d(2026, 3, 31)),
                (d(2025, 10, 1), d(2025, 12, 31)),
                (d(2025, 1, 1), d(2025, 3, 31))),
            # February of a leap year, and the February after it
            ((d(2028, 2, 1), d(2028, 2, 29)),
                (d(2028, 1, 1), d(2028, 1, 31)),
                (d(2027, 2, 1), d(2027, 2, 28))),
            ((d(2029, 2, 1), d(2029, 2, 28)),
                (d(2029, 1, 1), d(2029, 1, 31)),
                (d(2028, 2, 1), d(2028, 2, 29))),
            # Ten days: the ten days before
            ((d(2026, 11, 10), d(2026, 11, 19)),
                (d(2026, 10, 31), d(2026, 11, 9)),
                (d(2025, 11, 10), d(2025, 11, 19))),
            ]
        for period, previous, year_ago in cases:
            with self.subTest(period=period):
                self.assertEqual(comparison_periods(*period),
                    (previous, year_ago))
        # To the hundredth, half up; against the size of the base; none
        # without a base
        self.assertEqual(percent(D('0.01'), D('8.00')), D('0.13'))
        self.assertEqual(percent(D('-200.00'), D('-800.00')), D('-25.00'))
        self.assertEqual(percent(D('100.00'), D('-400.00')), D('25.00'))
        self.assertIsNone(percent(D('5.00'), D('0.00')))

    @with_transaction()
    def test_income_and_costs_per_client(self):
        "Each client's figures and changes, to the grosz, per currency"
        pool = Pool()
        Comparison = pool.get('portal.report.comparison')
        firm = self.setup()
        with _period():
            rows = self._rows('portal.report.comparison', 'client')
        self.assertEqual(set(rows), {(firm.a, 'PLN'), (firm.a, 'EUR'),
                (firm.b, 'PLN'), (firm.c, 'PLN')})
        # a: sales 1135.00 / 800.00 / 1000.00; costs 450.00 + the cost
        # invoice's 700.00 / 450.00 / 400.00
        self.assertEqual(rows[firm.a, 'PLN'], _figures(
                '1135.00', '1150.00', '-15.00',
                '800.00', '450.00', '350.00',
                '1000.00', '400.00', '600.00',
                '335.00', '700.00', '-365.00',
                # 41.875 %, 155.555… %, -104.285… %
                '41.88', '155.56', '-104.29',
                '135.00', '750.00', '-615.00',
                '13.50', '187.50', '-102.50'))
        # Nothing before in EUR: no relative change
        self.assertEqual(rows[firm.a, 'EUR'], _figures(
                '200.00', '0', '200.00', '0', '0', '0', '0', '0', '0',
                '200.00', '0', '200.00', None, None, None,
                '200.00', '0', '200.00', None, None, None))
        # b: 1000.00 of costs now, none the month before, 800.00 a year
        # ago; its invoice of two months ago is in no period
        self.assertEqual(rows[firm.b, 'PLN'], _figures(
                '0', '1000.00', '-1000.00', '0', '0', '0',
                '0', '800.00', '-800.00',
                '0', '1000.00', '-1000.00', None, None, None,
                '0', '200.00', '-200.00', None, '25.00', '-25.00'))
        self.assertEqual(rows[firm.c, 'PLN'][:3],
            _figures('0', '100.00', '-100.00'))
        a, = Comparison.search([('client', '=', firm.a.id),
                ('currency', '=', firm.pln.id)])
        self.assertEqual(a.manager, firm.anna)

        # Without a context: the current month, the same rows
        self.assertEqual(self._rows('portal.report.comparison', 'client'),
            rows)
        # An earlier period: the previous month's figures become current
        with Transaction().set_context(
                from_date=PERIOD[0] - relativedelta(months=1),
                to_date=PERIOD[0] - datetime.timedelta(days=1)):
            earlier = self._rows('portal.report.comparison', 'client')
        self.assertEqual(earlier[firm.a, 'PLN'][:3],
            _figures('800.00', '450.00', '350.00'))
        # … and the invoice of two months ago is the previous period's
        self.assertEqual(earlier[firm.b, 'PLN'][:6],
            _figures('0', '0', '0', '0', '300.00', '-300.00'))

        # Sorted by a change in %: as the column shows it
        with _period():
            found = Comparison.search([],
                order=[('result_change_year_percent', 'ASC'), ('id', 'ASC')])
            values = [r.result_change_year_percent for r in found
                if r.result_change_year_percent is not None]
        self.assertEqual(values, sorted(values))
        self.assertEqual(values, [D('-102.50'), D('-25.00')])

    @with_transaction()
    def test_income_and_costs_per_manager(self):
        "A manager's row sums the clients looked after, per currency"
        firm = self.setup()
        with _period():
            rows = self._rows('portal.report.comparison.manager', 'manager')
            ComparisonManager = Pool().get('portal.report.comparison.manager')
            counts = {(r.manager, r.currency.code): r.client_count
                for r in ComparisonManager.search([])}
        self.assertEqual(counts, {(firm.anna, 'PLN'): 2,
                (firm.anna, 'EUR'): 1, (firm.piotr, 'PLN'): 1})
        # a and c
        self.assertEqual(rows[firm.anna, 'PLN'], _figures(
                '1135.00', '1250.00', '-115.00',
                '800.00', '450.00', '350.00',
                '1000.00', '400.00', '600.00',
                '335.00', '800.00', '-465.00',
                # 41.875 %, 177.777… %, -132.857… %
                '41.88', '177.78', '-132.86',
                '135.00', '850.00', '-715.00',
                # -119.166… %
                '13.50', '212.50', '-119.17'))
        with _period():
            per_client = self._rows('portal.report.comparison', 'client')
        self.assertEqual(rows[firm.anna, 'EUR'], per_client[firm.a, 'EUR'])
        self.assertEqual(rows[firm.piotr, 'PLN'], per_client[firm.b, 'PLN'])

    @with_transaction()
    def test_managers_see_their_clients_only(self):
        "Every report: Anna a and c, Piotr b, the head all of them"
        pool = Pool()
        Comparison = pool.get('portal.report.comparison')
        ComparisonManager = pool.get('portal.report.comparison.manager')
        Outstanding = pool.get('portal.report.outstanding')
        ReportLine = pool.get('portal.report.line')
        firm = self.setup()
        a, b, c = firm.a, firm.b, firm.c
        with _period():
            b_row, = Comparison.search([('client', '=', b.id)])
        lines = {client: ReportLine.search_count([('client', '=', client.id)])
            for client in [a, b, c]}
        self.assertTrue(all(lines.values()))
        for user, clients in [(firm.anna, {a, c}), (firm.piotr, {b}),
                (firm.head, {a, b, c})]:
            with self.subTest(user=user.login), _period(), _staff(user):
                self.assertEqual(
                    {r.client for r in Comparison.search([])}, clients)
                self.assertEqual(
                    {r.client for r in Outstanding.search([])}, clients)
                self.assertEqual(
                    {r.client for r in ReportLine.search([])}, clients)
                self.assertEqual(ReportLine.search_count([]),
                    sum(lines[c] for c in clients))
                managers = {r.manager
                    for r in ComparisonManager.search([])}
                self.assertEqual(managers, {firm.anna, firm.piotr}
                    if user == firm.head else {user})
        with _period(), _staff(firm.anna):
            with self.assertRaises(AccessError):
                Comparison.read([b_row.id], ['income'])

    @with_transaction()
    def test_client_documents_tabs(self):
        "The tabs of Reports ▸ Client Documents split the rows as named"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActionWindow = pool.get('ir.action.act_window')
        ReportLine = pool.get('portal.report.line')
        firm = self.setup()
        action = ActionWindow(ModelData.get_id(
                'client_portal', 'act_report_line_form'))
        tabs = {d.name: PYSONDecoder().decode(d.domain) if d.domain else []
            for d in action.act_window_domains}
        pay(firm, firm.a_year_ago, firm.a_year_ago.total_amount, TODAY)
        self.assertEqual(list(tabs), ['All', 'Income', 'Costs', 'Unpaid'])
        with _staff(firm.anna):
            found = {name: ReportLine.search(domain)
                for name, domain in tabs.items()}
        self.assertEqual({l.direction for l in found['Income']}, {'income'})
        self.assertEqual({l.direction for l in found['Costs']}, {'cost'})
        self.assertEqual(sorted(found['Income'] + found['Costs']),
            sorted(found['All']))
        paid = [l for l in found['All'] if l.paid]
        self.assertEqual([l.number for l in paid], [firm.a_year_ago.number])
        self.assertEqual(sorted(found['Unpaid'] + paid), sorted(found['All']))
        # The cost invoice a registered as unpaid to its supplier
        self.assertIn('cost_invoice', {l.kind for l in found['Unpaid']})

    @with_transaction()
    def test_outstanding_is_the_home_page_totals(self):
        "Per client and currency, the figures of totals_by_currency"
        pool = Pool()
        Document = pool.get('portal.document')
        Outstanding = pool.get('portal.report.outstanding')
        firm = self.setup()
        # a: an open credit note (its invoice paid); c: a document without
        # a due date, as a payroll bill is
        pay(firm, firm.a_previous, firm.a_previous.total_amount, TODAY)
        credit(firm, firm.a_previous, TODAY)
        Document.create([{
                    'company': firm.company.id, 'party': firm.c.id,
                    'number': 'RACH/1/2026', 'document_type': 'payroll_bill',
                    'date': TODAY, 'due_date': None,
                    'currency': firm.pln.id, 'tax_base': D('500.00'),
                    'vat': D(0), 'total': D('500.00'), 'paid': D(0),
                    'remaining': D('500.00'), 'state': 'issued',
                    }])
        names = ['not_due', 'overdue', 'overdue_count', 'credit', 'balance']
        expected = {
            # 553.50 now; 492.00 a year ago; the credit note's 553.50
            firm.a: ('553.50', '492.00', 1, '553.50', '492.00'),
            # 1230.00 now; 984.00 a year and 369.00 two months ago
            firm.b: ('1230.00', '1353.00', 2, '0', '2583.00'),
            # 123.00 and the 500.00 without a due date
            firm.c: ('623.00', '0', 0, '0', '623.00'),
            }
        for client, figures in expected.items():
            with self.subTest(client=client.name):
                row, = Outstanding.search([('client', '=', client.id)])
                total, = Document.totals_by_currency(
                    [('party', '=', client.id)])
                self.assertEqual((row.currency, row.manager),
                    (firm.pln, client.portal_manager))
                self.assertEqual(
                    tuple(getattr(row, n) for n in names),
                    tuple(total[n] for n in names))
                self.assertEqual(tuple(getattr(row, n) for n in names),
                    tuple(v if isinstance(v, int) else D(v)
                        for v in figures))
                documents = Document.search([('party', '=', client.id),
                        ('state', '=', 'issued')])
                self.assertEqual(row.balance,
                    sum(d.remaining for d in documents))
        overdue, = Outstanding.search([('overdue_count', '>', 1)])
        self.assertEqual(overdue.client, firm.b)
