"""Sub-accounts reconcile with the books: after every step of an invoice's
life (issue, partial and full payment into the sub-account, credit note
refunded from it), in PLN and in EUR, each sub-account's balance is the sum
of the posted move lines of its account (ARCHITECTURE principle 1)"""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..demo import create_client, create_invoice, credit, nip, setup_firm
from ..demo_outgoing import create_contractor
from .committed import CommittedTestCase

# A Monday: demo rates exist for the business days before it
TODAY = datetime.date(2026, 11, 23)
LINES = [("Projekt logo", 1, '1000.00', '23'),
    ("Szkolenie", 2, '150.00', 'zw')]


def day(n):
    return TODAY - datetime.timedelta(days=n)


def ledger_sum(subaccount):
    """The sub-account's money by the books: its account's posted lines,
    read straight from account.move.line"""
    Line = Pool().get('account.move.line')
    lines = Line.search([
            ('account', '=', subaccount.account.id),
            ('move.state', '=', 'posted'),
            ])
    if subaccount.currency == subaccount.company.currency:
        return sum((l.debit - l.credit for l in lines), Decimal(0))
    return sum((l.amount_second_currency for l in lines), Decimal(0))


class SubaccountTestCase(CommittedTestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"

    def _setup(self):
        return self.setup()

    @classmethod
    def build(cls):
        pool = Pool()
        Subaccount = pool.get('portal.subaccount')
        firm = setup_firm(TODAY, logo=False)
        client = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
            "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1')
        other = create_client(firm, "Beta S.A.", nip('583301245'),
            "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
        buyer = create_contractor(firm, client, "Gamma Trade sp. z o.o.",
            "ul. Prosta 1", '00-001', "Warszawa",
            tax_number=nip('526587763'))
        Subaccount.create_for([client, other], [firm.pln, firm.eur])
        subaccounts = {(s.client, s.currency.code): s
            for s in Subaccount.search([])}
        return firm, client, other, buyer, subaccounts

    def _issue(self, firm, client, buyer, date, currency):
        "An invoice the client issued to its buyer, posted"
        Invoice = Pool().get('account.invoice')
        invoice = create_invoice(firm, buyer, date, LINES, currency=currency,
            post=False)
        Invoice.write([invoice], {'portal_issuer': client.id})
        with Transaction().set_context(
                company=firm.company.id, _skip_warnings=True):
            Invoice.post([invoice])
        return Invoice(invoice.id)

    def _pay(self, firm, invoice, amount, subaccount, date):
        """A payment received into (or, negative, refunded from) it; the
        last one reconciles the invoice, as demo.pay does"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.move.line')
        with Transaction().set_context(company=firm.company.id):
            invoice.pay_invoice(amount, subaccount.payment_method, date)
            invoice = Invoice(invoice.id)
            if invoice.amount_to_pay == 0:
                Line.reconcile([l for l in invoice.lines_to_pay
                        + invoice.payment_lines if not l.reconciliation])
                Invoice.process([invoice])
        return Invoice(invoice.id)

    def assertReconciles(self, subaccounts, expected):
        Subaccount = Pool().get('portal.subaccount')
        # Read again, all at once: the balance of many is one query
        records = Subaccount.browse([s.id for s in subaccounts.values()])
        for subaccount in records:
            key = (subaccount.client, subaccount.currency.code)
            with self.subTest(subaccount=subaccount.rec_name):
                self.assertEqual(subaccount.balance, ledger_sum(subaccount))
                self.assertEqual(subaccount.balance,
                    expected.get(key, Decimal(0)))
                page = subaccount.movements()
                self.assertEqual(page.closing, subaccount.balance)
                if page.rows:
                    self.assertEqual(page.rows[-1].balance,
                        subaccount.balance)

    @with_transaction()
    def test_create_for_opens_accounts_and_payment_methods(self):
        pool = Pool()
        Subaccount = pool.get('portal.subaccount')
        Configuration = pool.get('account.configuration')
        firm, client, other, buyer, subaccounts = self._setup()
        eur = subaccounts[client, 'EUR']
        pln = subaccounts[client, 'PLN']
        self.assertEqual(eur.account.code, f'249-{client.code}-EUR')
        self.assertEqual(eur.account.name, "Subkonto Alfa sp. z o.o. EUR")
        self.assertEqual(eur.account.second_currency, firm.eur)
        self.assertIsNone(pln.account.second_currency)
        self.assertFalse(pln.account.party_required)
        self.assertEqual(eur.payment_method.debit_account, eur.account)
        self.assertEqual(eur.payment_method.credit_account, eur.account)
        self.assertEqual(eur.payment_method.journal.type, 'cash')
        # Idempotent; a configured type is used for new ones
        type_ = pln.account.type
        Configuration.write([Configuration(1)],
            {'portal_subaccount_type': type_.id})
        self.assertEqual(Subaccount.create_for([client], [firm.pln]), [])
        usd, = Subaccount.create_for([client], [firm.usd, firm.pln])
        self.assertEqual((usd.currency, usd.account.type), (firm.usd, type_))
        self.assertEqual(len(Subaccount.search([])), 5)

    @with_transaction()
    def test_balances_reconcile_through_an_invoice_life_in_pln(self):
        firm, client, other, buyer, subaccounts = self._setup()
        sub = subaccounts[client, 'PLN']
        invoice = self._issue(firm, client, buyer, day(30), firm.pln)
        total = invoice.total_amount
        self.assertEqual(total, Decimal('1530.00'))
        # Issued: the buyer owes the firm, the client has nothing yet
        self.assertReconciles(subaccounts, {})
        invoice = self._pay(firm, invoice, Decimal('500.00'), sub, day(20))
        self.assertReconciles(subaccounts, {(client, 'PLN'): Decimal('500')})
        invoice = self._pay(firm, invoice, total - 500, sub, day(10))
        self.assertEqual(invoice.state, 'paid')
        self.assertReconciles(subaccounts, {(client, 'PLN'): total})
        # The invoice is cancelled by a credit note: nothing moves until
        # the money is paid back to the buyer from the sub-account
        note = credit(firm, invoice, day(5))
        self.assertEqual(note.total_amount, -total)
        self.assertReconciles(subaccounts, {(client, 'PLN'): total})
        note = self._pay(firm, note, note.total_amount, sub, day(4))
        self.assertReconciles(subaccounts, {})
        rows = sub.movements().rows
        self.assertEqual([r.amount for r in rows],
            [Decimal('500'), Decimal('1030'), -total])
        self.assertEqual([r.balance for r in rows],
            [Decimal('500'), total, Decimal(0)])
        self.assertEqual([r.document for r in rows],
            [invoice.number, invoice.number, note.number])
        # The client's own documents are linked; the buyer is the
        # counterparty
        self.assertEqual({r.invoice for r in rows} - {None},
            {invoice.id} | ({note.id} if note.portal_issuer else set()))
        self.assertEqual({r.counterparty for r in rows}, {buyer.name})

    @with_transaction()
    def test_balances_reconcile_through_an_invoice_life_in_eur(self):
        "EUR: the balance is in euro, not in the złoty of the books"
        firm, client, other, buyer, subaccounts = self._setup()
        sub = subaccounts[client, 'EUR']
        invoice = self._issue(firm, client, buyer, day(30), firm.eur)
        total = invoice.total_amount
        self.assertReconciles(subaccounts, {})
        invoice = self._pay(firm, invoice, Decimal('200.00'), sub, day(20))
        self.assertReconciles(subaccounts, {(client, 'EUR'): Decimal('200')})
        # Books in PLN at the day's rate; the sub-account in EUR
        line, = Pool().get('account.move.line').search(
            [('account', '=', sub.account.id)])
        self.assertEqual(line.amount_second_currency, Decimal('200'))
        self.assertGreater(line.debit, Decimal('800'))
        invoice = self._pay(firm, invoice, total - 200, sub, day(10))
        self.assertEqual(invoice.state, 'paid')
        self.assertReconciles(subaccounts, {(client, 'EUR'): total})
        note = credit(firm, invoice, day(5))
        refund = Decimal('-300.00')
        note = self._pay(firm, note, refund, sub, day(4))
        self.assertReconciles(subaccounts, {(client, 'EUR'): total + refund})

    @with_transaction()
    def test_only_posted_lines_count(self):
        pool = Pool()
        Move = pool.get('account.move')
        Journal = pool.get('account.journal')
        Period = pool.get('account.period')
        firm, client, other, buyer, subaccounts = self._setup()
        sub = subaccounts[client, 'PLN']
        invoice = self._issue(firm, client, buyer, day(30), firm.pln)
        self._pay(firm, invoice, Decimal('100.00'), sub, day(20))
        journal, = Journal.search([('type', '=', 'cash')], limit=1)
        with Transaction().set_context(company=firm.company.id):
            Move.create([{
                        'company': firm.company.id,
                        'journal': journal.id,
                        'period': Period.find(firm.company, date=day(1)).id,
                        'date': day(1),
                        'lines': [('create', [
                                    {'account': sub.account.id,
                                        'debit': Decimal('999'),
                                        'credit': 0},
                                    {'account': firm.accounts.bank.id,
                                        'debit': 0,
                                        'credit': Decimal('999')},
                                    ])],
                        }])
        self.assertReconciles(subaccounts, {(client, 'PLN'): Decimal('100')})

    @with_transaction()
    def test_movements_running_balance_on_any_page_and_order(self):
        firm, client, other, buyer, subaccounts = self._setup()
        sub = subaccounts[client, 'PLN']
        amounts = [Decimal(a) for a in
            ('100', '250.50', '75', '300', '20.25', '180')]
        for n, amount in enumerate(amounts):
            invoice = self._issue(firm, client, buyer, day(60), firm.pln)
            self._pay(firm, invoice, amount, sub, day(50 - 5 * n))
        full = sub.movements()
        self.assertEqual(full.count, 6)
        balances = {r.id: r.balance for r in full.rows}
        running = Decimal(0)
        for row, amount in zip(full.rows, amounts):
            running += amount
            self.assertEqual((row.amount, row.balance), (amount, running))
        # Any page, any order: the same running balance per line
        for order in ('date', 'amount'):
            for direction in ('asc', 'desc'):
                rows = []
                for offset in range(0, 6, 4):
                    page = sub.movements(order=order, direction=direction,
                        offset=offset, limit=4)
                    self.assertEqual(page.count, 6)
                    rows += page.rows
                self.assertEqual({r.id: r.balance for r in rows}, balances)
                keys = [getattr(r, order) for r in rows]
                self.assertEqual(keys, sorted(
                        keys, reverse=direction == 'desc'))
        # A period: opening balance before it, closing at its end
        page = sub.movements(start=day(40), end=day(30))
        self.assertEqual([r.amount for r in page.rows], amounts[2:5])
        self.assertEqual(page.opening, sum(amounts[:2]))
        self.assertEqual(page.closing, sum(amounts[:5]))
        self.assertEqual(page.rows[0].balance, sum(amounts[:3]))
        # The balance chart's points: the end of each day of the period
        # with movements (the first day had one: no opening point)
        self.assertEqual(sub.daily_balances(day(40), day(30)), [
                (day(50 - 5 * n), sum(amounts[:n + 1])) for n in (2, 3, 4)])
        self.assertEqual(sub.daily_balances(day(42), day(38))[0],
            (day(42), sum(amounts[:2])))

    @with_transaction()
    def test_client_ledgers_xlsx(self):
        "Every sub-account's movements of the period and its balances"
        import io

        import openpyxl

        from ..subaccount_ledger import ledgers_xlsx
        firm, client, other, buyer, subaccounts = self._setup()
        pln, eur = subaccounts[client, 'PLN'], subaccounts[client, 'EUR']
        for amount, date in [('400', day(20)), ('150.25', day(10))]:
            invoice = self._issue(firm, client, buyer, day(30), firm.pln)
            self._pay(firm, invoice, Decimal(amount), pln, date)
        invoice = self._issue(firm, client, buyer, day(30), firm.eur)
        self._pay(firm, invoice, Decimal('99'), eur, day(15))
        content = ledgers_xlsx(list(subaccounts.values()), day(15), TODAY,
            'en')
        book = openpyxl.load_workbook(io.BytesIO(content))
        rows = list(book['Sub-accounts'].iter_rows(min_row=2,
                values_only=True))
        pln_rows = [r for r in rows if r[0] == "Alfa sp. z o.o."
            and r[1] == 'PLN']
        # Opening (the 400 before the period), the movement, closing
        self.assertEqual([(r[2].date(), r[5], r[6], r[7]) for r in pln_rows],
            [(day(15), "Opening balance", None, 400),
                (day(10), "Money received", 150.25, 550.25),
                (TODAY, "Closing balance", None, 550.25)])
        self.assertEqual(book['Sub-accounts'].cell(row=3, column=8)
            .number_format, '#,##0.00 "EUR"')
        balances = {(r[0], r[1]): r[2:] for r in book['Balances'].iter_rows(
                min_row=2, values_only=True)}
        self.assertEqual(balances["Alfa sp. z o.o.", 'PLN'],
            (400, 150.25, 0, 550.25, 1))
        self.assertEqual(balances["Alfa sp. z o.o.", 'EUR'],
            (0, 99, 0, 99, 1))
        self.assertEqual(balances["Beta S.A.", 'PLN'], (0, 0, 0, 0, 0))
        # Each closing balance is the books' balance of the sub-account
        for (name, code), figures in balances.items():
            subaccount, = [s for s in subaccounts.values()
                if s.client.rec_name == name and s.currency.code == code]
            self.assertEqual(Decimal(str(figures[3])),
                ledger_sum(subaccount))

    @with_transaction()
    def test_client_ledgers_wizard_as_a_manager(self):
        "A manager's file holds the sub-accounts of the manager's clients"
        import io

        import openpyxl

        from trytond.transaction import check_access
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Ledger = pool.get('portal.subaccount.ledger', type='wizard')
        firm, client, other, buyer, subaccounts = self._setup()
        manager, = User.create([{'name': "Marta", 'login': 'marta',
                    'groups': [('add', [ModelData.get_id('client_portal',
                                    'group_portal_manager')])],
                    'companies': [('add', [firm.company.id])],
                    'company': firm.company.id}])
        Party.write([client], {'portal_manager': manager.id})
        with Transaction().set_user(manager.id), check_access(), \
                Transaction().set_context(company=firm.company.id):
            session_id, _, _ = Ledger.create()
            result = Ledger.execute(session_id, {'start': {
                        'from_date': day(30), 'to_date': TODAY,
                        'client': None, 'currency': None}}, 'result')
        content = result['view']['defaults']['file']
        book = openpyxl.load_workbook(io.BytesIO(content))
        names = {r[0] for r in book['Balances'].iter_rows(
                min_row=2, values_only=True)}
        self.assertEqual(names, {"Alfa sp. z o.o."})
