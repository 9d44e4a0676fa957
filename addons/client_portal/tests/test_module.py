import datetime
import time
from decimal import Decimal

from trytond.exceptions import RateLimitException
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from ..demo import (
    create_client, create_invoice, create_portal_user, credit, nip, pay,
    setup_firm)
from ..ir import PARTY_KEY, WEB_USER_KEY
from .committed import CommittedTestCase

TODAY = datetime.date(2026, 11, 23)
LINES = [("Obsługa księgowa", 1, '1000.00', '23'),
    ("Szkolenie", 2, '150.00', 'zw')]


def _clients(firm):
    a = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
        "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1')
    b = create_client(firm, "Beta S.A.", nip('583301245'),
        "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
    return a, b


def _as_client(web_user):
    "The portal's access environment (web/access.py) for a web user"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    transaction = Transaction()
    user = ModelData.get_id('client_portal', 'user_portal')
    return (transaction.set_user(user), transaction.set_context(**{
                PARTY_KEY: web_user.party.id, WEB_USER_KEY: web_user.id}),
        check_access())


def _manager(login, *clients):
    "A portal manager to whom the clients are assigned"
    pool = Pool()
    User = pool.get('res.user')
    Party = pool.get('party.party')
    ModelData = pool.get('ir.model.data')
    manager, = User.create([{
                'login': login, 'name': login.title(),
                'groups': [('add', [ModelData.get_id(
                                'client_portal', 'group_portal_manager')])],
                }])
    Party.write(list(clients), {'portal_manager': manager.id})
    return manager


class ClientPortalTestCase(CommittedTestCase, ModuleTestCase):
    "Test the client_portal module"
    module = 'client_portal'
    # Every Portico module, as deployed: the test databases are copies of
    # one activated database (scripts/testdb.py)
    extras = ['bitrix_bridge', 'payroll_account']

    @classmethod
    def build(cls):
        "The firm and its clients a and b, committed once for the class"
        firm = setup_firm(TODAY, logo=False)
        return firm, _clients(firm)

    def firm(self):
        return self.setup()

    @with_transaction()
    def test_document_follows_invoice_and_payments(self):
        "A posted invoice becomes a document that follows its payments"
        pool = Pool()
        Document = pool.get('portal.document')
        firm, (client, _) = self.firm()
        invoice = create_invoice(firm, client, TODAY, LINES)

        document, = Document.search([('origin', '=', str(invoice))])
        self.assertEqual(document.number, invoice.number)
        self.assertEqual(document.document_type, 'invoice')
        self.assertEqual(document.tax_base, Decimal('1300.00'))
        self.assertEqual(document.vat, Decimal('230.00'))
        self.assertEqual(document.total, Decimal('1530.00'))
        self.assertEqual(
            (document.paid, document.remaining, document.state),
            (Decimal(0), Decimal('1530.00'), 'issued'))
        self.assertTrue(bytes(document.get_pdf()).startswith(b'%PDF'))

        pay(firm, invoice, Decimal('530.00'), TODAY)
        document = Document(document.id)
        self.assertEqual(
            (document.paid, document.remaining, document.state),
            (Decimal('530.00'), Decimal('1000.00'), 'issued'))

        pay(firm, invoice, Decimal('1000.00'), TODAY)
        document = Document(document.id)
        self.assertEqual(
            (document.paid, document.remaining, document.state),
            (Decimal('1530.00'), Decimal(0), 'paid'))

    @with_transaction()
    def test_credit_note_document(self):
        "A corrective invoice is a credit note document"
        pool = Pool()
        Document = pool.get('portal.document')
        firm, (client, _) = self.firm()
        invoice = create_invoice(firm, client, TODAY, LINES)
        pay(firm, invoice, invoice.total_amount, TODAY)
        credit_note = credit(firm, invoice, TODAY)

        document, = Document.search([('origin', '=', str(credit_note))])
        self.assertEqual(document.document_type, 'credit_note')
        self.assertEqual(document.total, Decimal('-1530.00'))
        self.assertEqual(document.remaining, Decimal('-1530.00'))
        self.assertFalse(document.overdue)

    @with_transaction()
    def test_documents_reconcile_with_receivable(self):
        "What the documents say is due equals the client's receivable"
        pool = Pool()
        Document = pool.get('portal.document')
        Line = pool.get('account.move.line')
        firm, (client, _) = self.firm()
        for days, share in [(40, 1), (30, Decimal('0.25')), (10, 0), (5, 0)]:
            date = TODAY - datetime.timedelta(days=days)
            invoice = create_invoice(firm, client, date, LINES)
            if share:
                pay(firm, invoice, invoice.total_amount * share, date)
        credit(firm, invoice, TODAY)

        documents = Document.search([('party', '=', client.id)])
        due = sum(d.remaining for d in documents)
        lines = Line.search([
                ('party', '=', client.id),
                ('account', '=', firm.accounts.receivable.id),
                ])
        balance = sum(l.debit - l.credit for l in lines)
        self.assertEqual(due, balance)
        self.assertNotEqual(due, 0)

    @with_transaction()
    def test_overdue(self):
        "Overdue: money still owed after the due date"
        pool = Pool()
        Document = pool.get('portal.document')
        firm, (client, _) = self.firm()
        today = datetime.date.today()
        old = create_invoice(firm, client,
            today - datetime.timedelta(days=60), LINES)
        create_invoice(firm, client, today, LINES)

        overdue = Document.search([('overdue', '=', True)])
        self.assertEqual([d.number for d in overdue], [old.number])
        self.assertEqual(len(Document.search([('overdue', '=', False)])), 1)

    @with_transaction()
    def test_home_totals_add_up_to_the_receivable(self):
        "Not yet due + overdue - credit = balance = the client's receivable"
        pool = Pool()
        Document = pool.get('portal.document')
        Line = pool.get('account.move.line')
        firm, (client, other) = self.firm()
        today = datetime.date.today()

        def ago(days):
            return today - datetime.timedelta(days=days)
        # Invoices are numbered in date order
        paid = create_invoice(firm, client, ago(60), LINES)
        pay(firm, paid, paid.total_amount, ago(50))
        create_invoice(firm, client, ago(40), LINES)            # overdue
        create_invoice(firm, other, ago(40), LINES)
        partial = create_invoice(firm, client, ago(30), LINES)  # overdue
        pay(firm, partial, Decimal('530.00'), ago(20))
        create_invoice(firm, client, ago(2), LINES)   # not yet due
        credit(firm, paid, ago(1))      # open credit note: -1530.00
        user = create_portal_user(client, 'a@example.com', 'Secret-Pass-1')

        set_user, set_context, access = _as_client(user)
        with set_user, set_context, access:
            row, = Document.totals_by_currency([])
        self.assertEqual(row['currency'].id, firm.pln.id)
        self.assertEqual(
            (row['not_due'], row['overdue'], row['credit']),
            (Decimal('1530.00'), Decimal('2530.00'), Decimal('1530.00')))
        self.assertEqual(row['overdue_count'], 2)
        self.assertEqual(
            row['not_due'] + row['overdue'] - row['credit'], row['balance'])
        lines = Line.search([
                ('party', '=', client.id),
                ('account', '=', firm.accounts.receivable.id),
                ])
        self.assertEqual(
            row['balance'], sum(l.debit - l.credit for l in lines))

    @with_transaction()
    def test_overdue_notification_per_client_and_day(self):
        "Overdue documents: one notification per client and day, each once"
        pool = Pool()
        Document = pool.get('portal.document')
        Notification = pool.get('portal.notification')
        firm, (a, b) = self.firm()
        day1 = datetime.date.today() - datetime.timedelta(days=5)
        day2 = day1 + datetime.timedelta(days=1)
        # Due date: invoice date + 14 days; numbered in date order
        create_invoice(firm, b, day1 - datetime.timedelta(days=20), LINES)
        early = create_invoice(firm, a, day1 - datetime.timedelta(days=20),
            LINES)      # overdue on both days
        early2 = create_invoice(firm, a, day1 - datetime.timedelta(days=18),
            LINES)
        late = create_invoice(firm, a, day1 - datetime.timedelta(days=14),
            LINES)      # due on day 1: overdue on day 2
        not_due = create_invoice(firm, a, day2, LINES)
        Notification.delete(Notification.search([]))

        def overdue(party):
            return [(n.day, n.document_count, n.document, bool(n.read_at))
                for n in Notification.search([
                        ('party', '=', party.id), ('kind', '=', 'overdue'),
                        ], order=[('day', 'ASC')])]

        Notification.notify_overdue(day1)
        Notification.notify_overdue(day1)   # run again: nothing new
        self.assertEqual(overdue(a), [(day1, 2, None, False)])
        self.assertEqual(overdue(b), [(day1, 1, None, False)])

        Notification.notify_overdue(day2)
        # The documents overdue on both days were announced on day 1
        self.assertEqual(overdue(a),
            [(day1, 2, None, False), (day2, 1, None, False)])
        self.assertEqual(overdue(b), [(day1, 1, None, False)])
        announced = {d.origin for d in Document.search([
                    ('party', '=', a.id), ('overdue_announced', '=', True)])}
        self.assertEqual(announced, {early, early2, late})

        # Read, then a document becomes overdue the same day: the day's
        # notification counts it and is unread again
        Notification.mark_read(Notification.search([]))
        document, = Document.search([('origin', '=', str(not_due))])
        Document.write([document], {'due_date': day1})
        Notification.notify_overdue(day2)
        self.assertEqual(overdue(a),
            [(day1, 2, None, True), (day2, 2, None, False)])

    @with_transaction()
    def test_client_isolation_rules(self):
        "The service user sees only the documents of the request's client"
        pool = Pool()
        Document = pool.get('portal.document')
        Party = pool.get('party.party')
        firm, (a, b) = self.firm()
        inv_a = create_invoice(firm, a, TODAY, LINES)
        inv_b = create_invoice(firm, b, TODAY, LINES)
        user_a = create_portal_user(a, 'a@example.com', 'Secret-Pass-1')
        user_b = create_portal_user(b, 'b@example.com', 'Secret-Pass-1')
        doc_b, = Document.search([('origin', '=', str(inv_b))])
        # The firm's own party is readable (branding), its documents not
        Document.copy([doc_b], {'party': firm.company.party.id})

        # The rule cache is per process: the second client must not be
        # served the first client's cached domain.
        for web_user, invoice in [(user_a, inv_a), (user_b, inv_b),
                (user_a, inv_a)]:
            set_user, set_context, access = _as_client(web_user)
            with set_user, set_context, access:
                self.assertEqual(
                    [d.number for d in Document.search([])],
                    [invoice.number])
                self.assertEqual(
                    {p.id for p in Party.search([])},
                    {web_user.party.id, firm.company.party.id})

        set_user, set_context, access = _as_client(user_a)
        with set_user, set_context, access:
            self.assertEqual(Document.search([('id', '=', doc_b.id)]), [])
            with self.assertRaises(AccessError):
                Document.read([doc_b.id], ['number'])
            with self.assertRaises(AccessError):
                Document.write([Document(doc_b.id)], {
                        'first_downloaded_at': datetime.datetime.now()})
            with self.assertRaises(AccessError):
                Party.write([b], {'name': "Hijacked"})

    @with_transaction()
    def test_no_client_sees_nothing(self):
        "Without a client in the context the service user sees nothing"
        pool = Pool()
        Document = pool.get('portal.document')
        ModelData = pool.get('ir.model.data')
        firm, (a, _) = self.firm()
        create_invoice(firm, a, TODAY, LINES)
        transaction = Transaction()
        with transaction.set_user(
                ModelData.get_id('client_portal', 'user_portal')), \
                check_access():
            self.assertEqual(Document.search([]), [])

    @with_transaction()
    def test_staff_cannot_read_secrets(self):
        "No staff user reads password hashes or reset tokens"
        pool = Pool()
        WebUser = pool.get('web.user')
        firm, (a, _) = self.firm()
        create_portal_user(a, 'a@example.com', 'Secret-Pass-1')
        manager = _manager('manager', a)
        with Transaction().set_user(manager.id), check_access():
            self.assertTrue(WebUser.search_read([], fields_names=['email']))
            for field in ['password_hash', 'reset_password_token',
                    'email_token']:
                with self.assertRaises(AccessError):
                    WebUser.search_read([], fields_names=[field])

    @with_transaction()
    def test_manager_sees_assigned_clients(self):
        "A portal manager sees only the clients assigned to them"
        pool = Pool()
        Party = pool.get('party.party')
        Document = pool.get('portal.document')
        firm, (a, b) = self.firm()
        marta, piotr = _manager('marta', a), _manager('piotr', b)
        create_invoice(firm, a, TODAY, LINES)
        create_invoice(firm, b, TODAY, LINES)
        for manager, client in [(marta, a), (piotr, b)]:
            with Transaction().set_user(manager.id), check_access():
                clients = Party.search([('portal_client', '=', True)])
                self.assertEqual(clients, [client])
                self.assertEqual(
                    {d.party for d in Document.search([])}, {client})

    @with_transaction()
    def test_base_data_validation(self):
        "Wrong NIP, IBAN or e-mail are reported per field"
        firm, (a, _) = self.firm()
        errors = a.portal_validate_base_data({
                'tax_number': '1234567890', 'iban': 'PL00 1234',
                'email': 'not-an-email', 'country': 'PL',
                })
        self.assertEqual(
            set(errors), {'tax_number', 'iban', 'email'})
        self.assertEqual(a.portal_validate_base_data({
                    'tax_number': nip('677231994'),
                    'iban': 'PL27114020040000300201355387',
                    'email': 'ok@example.com', 'country': 'PL',
                    }), {})

    @with_transaction()
    def test_base_data_change_is_logged(self):
        "A change made by the client is applied and logged for the staff"
        pool = Pool()
        Change = pool.get('portal.party.change')
        firm, (a, _) = self.firm()
        user = create_portal_user(a, 'a@example.com', 'Secret-Pass-1')
        values = a.portal_base_data()
        values.update(city="Poznań", iban='PL27114020040000300201355387')
        set_user, set_context, access = _as_client(user)
        with set_user, set_context, access:
            changed = a.portal_write_base_data(values, user)
        self.assertEqual(set(changed), {'city', 'iban'})
        self.assertEqual(a.portal_base_data()['city'], "Poznań")
        self.assertEqual({(c.field, c.new_value) for c in Change.search([])},
            {('city', "Poznań"), ('iban', 'PL27114020040000300201355387')})

    @with_transaction()
    def test_authenticate_rate_limit_without_sleep(self):
        "Failed logins are counted and locked out, never slept on"
        pool = Pool()
        WebUser = pool.get('web.user')
        firm, (a, _) = self.firm()
        create_portal_user(a, 'a@example.com', 'Secret-Pass-1')
        self.assertTrue(WebUser.authenticate('A@example.com', 'Secret-Pass-1'))
        started = time.monotonic()
        for _ in range(5):
            self.assertIsNone(WebUser.authenticate('a@example.com', 'bad'))
        with self.assertRaises(RateLimitException):
            WebUser.authenticate('a@example.com', 'Secret-Pass-1')
        # web_user would have slept 0+1+3+7+15 s inside the request
        self.assertEqual(Transaction()._atexit, [])
        self.assertLess(time.monotonic() - started, 5)

    @with_transaction()
    def test_reset_token_single_use(self):
        "A reset token sets the password once"
        pool = Pool()
        WebUser = pool.get('web.user')
        firm, (a, _) = self.firm()
        user = create_portal_user(a, 'a@example.com', 'Secret-Pass-1')
        user.set_reset_password_token()
        user.save()
        token = user.reset_password_token
        self.assertEqual(WebUser.check_reset_token('a@example.com', token),
            user)
        self.assertFalse(WebUser.set_password_token(
                'a@example.com', 'wrong', 'New-Secret-2'))
        self.assertTrue(WebUser.set_password_token(
                'a@example.com', token, 'New-Secret-2'))
        self.assertFalse(WebUser.set_password_token(
                'a@example.com', token, 'Other-Secret-3'))
        self.assertTrue(WebUser.authenticate('a@example.com', 'New-Secret-2'))

    @with_transaction()
    def test_invalid_branding_color(self):
        "Branding colours must be hexadecimal"
        from trytond.model.exceptions import ValidationError
        firm, _ = self.firm()
        firm.company.portal_primary_color = 'red;}'
        with self.assertRaises(ValidationError):
            firm.company.save()


del ModuleTestCase
