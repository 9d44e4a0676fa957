"""Cost invoices: what clients register with its scan, the amounts in the
invoice's currency and in PLN, the accountants' approval that posts the
firm's supplier invoice and charges the client's sub-account, rejection,
history, notifications and who sees what"""
import datetime
import io
import logging
import unittest
from contextlib import ExitStack
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction, check_access

from .committed import CommittedTestCase, capture_mail
from ..demo import create_client, create_portal_user, nip, setup_firm
from ..demo_outgoing import create_contractor
from ..scan import MAX_SIZE, check_scan
from .test_module import _as_client, _manager
from .test_subaccount import ledger_sum

# A Monday: the demo has NBP rates for the business days before it
TODAY = datetime.date(2026, 11, 23)


def day(n):
    return TODAY - datetime.timedelta(days=n)


def pdf_bytes(password=None):
    "A real one-page PDF, protected when a password is given"
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if password:
        writer.encrypt(password)
    data = io.BytesIO()
    writer.write(data)
    return data.getvalue()


def image_bytes(kind):
    from PIL import Image
    data = io.BytesIO()
    Image.new('RGB', (24, 16), (200, 30, 30)).save(data, kind)
    return data.getvalue()


class Tax:
    "A VAT rate, as compute_amounts reads it"

    def __init__(self, rate):
        self.rate = rate


def _portal(web_user):
    stack = ExitStack()
    for manager in _as_client(web_user):
        stack.enter_context(manager)
    return stack


class ScanAndAmountTestCase(unittest.TestCase):
    "Uploads and sums: no firm needed"

    @classmethod
    def setUpClass(cls):
        activate_module('client_portal')

    @with_transaction()
    def test_scan_type_from_the_content(self):
        pdf = check_scan(pdf_bytes(), 'Faktura 12.PDF')
        self.assertEqual((pdf.mimetype, pdf.name),
            ('application/pdf', 'Faktura 12.pdf'))
        # The name says JPEG, the content is PNG: the content wins
        png = check_scan(image_bytes('PNG'), 'C:\\skany\\paragon.jpg')
        self.assertEqual((png.mimetype, png.name),
            ('image/png', 'paragon.png'))
        jpeg = check_scan(image_bytes('JPEG'), 'zdjecie')
        self.assertEqual((jpeg.mimetype, jpeg.name),
            ('image/jpeg', 'zdjecie.jpg'))

    @with_transaction()
    def test_scan_refused(self):
        # pypdf warns about the damaged file it is given
        pypdf_logger = logging.getLogger('pypdf')
        self.addCleanup(pypdf_logger.setLevel, pypdf_logger.level)
        pypdf_logger.setLevel(logging.ERROR)
        pdf = pdf_bytes()
        cases = [
            ("text named .pdf", b'Faktura VAT 1/2026\n', 'not a PDF'),
            ("empty", b'', 'Attach'),
            ("encrypted PDF", pdf_bytes(password='tajne'), 'password'),
            ("corrupt PDF", pdf[:12] + b'\x00garbage' * 20, 'damaged'),
            ("truncated PNG", image_bytes('PNG')[:30], 'damaged'),
            ("over 10 MB", pdf + b'\n%' + b'0' * (MAX_SIZE - len(pdf)),
                'larger than 10 MB'),
            ]
        for label, data, message in cases:
            with self.subTest(label):
                with self.assertRaisesRegex(UserError, message):
                    check_scan(data, 'faktura.pdf')
        # Exactly 10 MB is accepted
        self.assertTrue(check_scan(
                pdf + b'\n%' + b'0' * (MAX_SIZE - len(pdf) - 2), 'a.pdf'))

    @with_transaction()
    def test_net_per_line_vat_on_the_total_per_rate_half_up(self):
        CostInvoice = Pool().get('portal.cost.invoice')
        vat23, vat5 = Tax(Decimal('0.23')), Tax(Decimal('0.05'))
        untaxed, vat, total, rates = CostInvoice.compute_amounts([
                # 3 × 10.33 at 23%: 7.13 on the total (7.14 line by line)
                (Decimal(1), Decimal('10.33'), vat23),
                (Decimal(1), Decimal('10.33'), vat23),
                (Decimal(1), Decimal('10.33'), vat23),
                # 0.5 × 0.25 = 0.125 → 0.13 (half-up, not half-even);
                # 0.50 at 5% = 0.025 → 0.03
                (Decimal('0.5'), Decimal('0.25'), vat5),
                (Decimal(1), Decimal('0.37'), vat5),
                ])
        self.assertEqual(rates[vat23], (Decimal('30.99'), Decimal('7.13')))
        self.assertEqual(rates[vat5], (Decimal('0.50'), Decimal('0.03')))
        self.assertEqual((untaxed, vat, total),
            (Decimal('31.49'), Decimal('7.16'), Decimal('38.65')))


class CostInvoiceTestCase(CommittedTestCase):
    "Registration, approval, rejection and the sub-account charge"

    def setUp(self):
        # The e-mails the notifications build, instead of sending them
        self.sent = capture_mail(self)

    def _setup(self):
        # with_transaction runs a test again when it needs a lock
        self.sent.clear()
        return self.setup()

    @classmethod
    def build(cls):
        """The firm; client a with PLN and EUR sub-accounts, a supplier and
        a portal user; client b with a PLN sub-account and its supplier"""
        pool = Pool()
        Subaccount = pool.get('portal.subaccount')
        firm = setup_firm(TODAY, logo=False)
        a = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
            "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1')
        b = create_client(firm, "Beta S.A.", nip('583301245'),
            "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
        Subaccount.create_for([a], [firm.pln, firm.eur])
        Subaccount.create_for([b], [firm.pln])
        supplier_tax = nip('521038443')
        firm.a, firm.b = a, b
        firm.supplier = create_contractor(firm, a, "Hotel Polonia sp. z o.o.",
            "ul. Wspólna 12", '00-681', "Warszawa", tax_number=supplier_tax)
        firm.supplier_b = create_contractor(firm, b,
            "Hotel Polonia sp. z o.o.", "ul. Wspólna 12", '00-681',
            "Warszawa", tax_number=supplier_tax)
        firm.user = create_portal_user(a, 'jan@alfa.example', first_name="Jan",
            last_name="Kowalczyk", language='pl')
        firm.subaccounts = {(s.client, s.currency.code): s
            for s in Subaccount.search([])}
        firm.scan = check_scan(pdf_bytes(), 'faktura.pdf')
        return firm

    def _save(self, firm, number='FV/11/2026', lines=None, client=None,
            supplier=None, currency=None, days=10, record=None, submit=False,
            actor=None, scan=True, **values):
        CostInvoice = Pool().get('portal.cost.invoice')
        tax = firm.purchase_taxes
        values = dict({
                'supplier': supplier or firm.supplier,
                'number': number,
                'kind': 'invoice',
                'invoice_date': day(days),
                'sale_date': day(days),
                'receipt_date': day(days - 2),
                'currency': currency or firm.pln,
                'language': 'pl',
                'entry': 'lines',
                'payment_method': 'transfer',
                'payment_status': 'unpaid',
                'due_date': day(days - 14),
                'note': None,
                }, **values)
        if lines is None:
            lines = [("Nocleg", 2, '150.00', '8'),
                ("Sala konferencyjna", 1, '400.00', '23')]
        lines = [{'description': d, 'quantity': Decimal(q),
                'unit_price': Decimal(p), 'tax': tax[t]}
            for d, q, p, t in lines]
        return CostInvoice.portal_save(client or firm.a, values, lines,
            scan=firm.scan if scan else None, record=record, submit=submit,
            actor=actor)

    def _balance(self, firm, client, currency):
        Subaccount = Pool().get('portal.subaccount')
        subaccount = Subaccount(firm.subaccounts[client, currency].id)
        self.assertEqual(subaccount.balance, ledger_sum(subaccount))
        return subaccount.balance

    @with_transaction()
    def test_register_amounts_scan_once_and_duplicates(self):
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Rate = pool.get('currency.currency.rate')
        firm = self._setup()
        with Transaction().set_context(company=firm.company.id):
            cost = self._save(firm, lines=[
                    ("Nocleg", 2, '150.00', '8'),
                    ("Paliwo", 3, '10.33', '23'),
                    ("Sala konferencyjna", 1, '400.00', '23'),
                    ("Szkolenie", 1, '99.99', 'zw')])
            self.assertEqual(cost.state, 'draft')
            self.assertEqual(cost.company, firm.company)
            tax_number = firm.supplier.tax_identifier.code
            self.assertEqual(cost.supplier_tax_number, tax_number)
            # 23%: 430.99 → 99.13; 8%: 300.00 → 24.00; zw: 99.99
            self.assertEqual(
                (cost.untaxed_amount, cost.tax_amount, cost.total_amount),
                (Decimal('830.98'), Decimal('123.13'), Decimal('954.11')))
            self.assertEqual(
                sorted(l.amount for l in cost.lines),
                [Decimal('30.99'), Decimal('99.99'), Decimal('300.00'),
                    Decimal('400.00')])
            self.assertIsNone(cost.nbp_rate)
            self.assertIsNone(cost.untaxed_pln)
            self.assertEqual(bytes(cost.scan), firm.scan.data)
            self.assertEqual((cost.scan_name, cost.scan_type),
                ('faktura.pdf', 'application/pdf'))

            # EUR, sold on a Monday and invoiced on the Wednesday: the
            # rate of the Friday before the tax point (VAT art. 31a)
            eur = self._save(firm, 'INV-2026-77', currency=firm.eur,
                lines=[("Freight", 1, '1000.00', '23')],
                invoice_date=day(5), sale_date=day(7))
            self.assertEqual(eur.tax_point, day(7))
            friday = day(10)
            self.assertEqual(friday.weekday(), 4)
            rate, = Rate.search([('currency', '=', firm.eur.id),
                    ('date', '=', friday)])
            self.assertEqual((eur.nbp_date, eur.nbp_table, eur.nbp_rate),
                (friday, rate.nbp_table, rate.nbp_mid))
            self.assertEqual(
                (eur.untaxed_amount, eur.tax_amount, eur.total_amount),
                (Decimal('1000.00'), Decimal('230.00'), Decimal('1230.00')))
            self.assertEqual(eur.untaxed_pln,
                (1000 * rate.nbp_mid).quantize(Decimal('0.01')))
            self.assertEqual(eur.tax_pln,
                (230 * rate.nbp_mid).quantize(Decimal('0.01')))

            # The same bytes are stored once, whoever uploads them
            other = self._save(firm, 'FV/12/2026', client=firm.b,
                supplier=firm.supplier_b)
            self.assertTrue(cost.scan_id)
            self.assertEqual(
                {cost.scan_id, eur.scan_id, other.scan_id}, {cost.scan_id})
            # Another scan for one of them: its own file; the shared one
            # stays with the others; back to the first, shared again
            png = check_scan(image_bytes('PNG'), 'skan.png')
            firm.scan, pdf = png, firm.scan
            other = self._save(firm, 'FV/12/2026', client=firm.b,
                supplier=firm.supplier_b, record=other)
            self.assertNotEqual(other.scan_id, cost.scan_id)
            self.assertEqual((bytes(other.scan), other.scan_type),
                (png.data, 'image/png'))
            self.assertEqual(bytes(CostInvoice(cost.id).scan), pdf.data)
            firm.scan = pdf
            other = self._save(firm, 'FV/12/2026', client=firm.b,
                supplier=firm.supplier_b, record=other)
            self.assertEqual(other.scan_id, cost.scan_id)

            # Duplicates: the same supplier tax number and number at the
            # firm, whichever client registered it
            self.assertEqual(CostInvoice.find_duplicate(
                    firm.company, tax_number, ' FV/11/2026 '), cost)
            self.assertEqual(CostInvoice.find_duplicate(
                    firm.company, tax_number, 'FV/12/2026'), other)
            self.assertIsNone(CostInvoice.find_duplicate(
                    firm.company, tax_number, 'FV/11/2026', exclude=cost))
            self.assertIsNone(CostInvoice.find_duplicate(
                    firm.company, nip('526587763'), 'FV/11/2026'))
            self.assertIsNone(CostInvoice.find_duplicate(
                    firm.company, None, 'FV/11/2026'))

            # Not submitted without its scan; a draft may be deleted
            bare = self._save(firm, 'FV/13/2026', scan=False)
            with self.assertRaises(UserError):
                CostInvoice.portal_submit(bare)
            self.assertEqual(CostInvoice(bare.id).state, 'draft')
            CostInvoice.portal_delete(bare)
            self.assertFalse(CostInvoice.search([('id', '=', bare.id)]))

    @with_transaction()
    def test_approval_posts_and_charges_the_subaccount(self):
        "PLN cost, its correction, then a EUR cost on the EUR sub-account"
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        MoveLine = pool.get('account.move.line')
        Configuration = pool.get('account.configuration')
        firm = self._setup()
        a = firm.a
        cost_account = Configuration(1).portal_cost_account
        self.assertEqual(cost_account, firm.accounts.expense)
        with Transaction().set_context(company=firm.company.id):
            cost = self._save(firm, submit=True)
            self.assertEqual(cost.state, 'submitted')
            self.assertEqual(self._balance(firm, a, 'PLN'), 0)
            CostInvoice.approve([cost])
            cost = CostInvoice(cost.id)
            self.assertEqual(cost.state, 'approved')
            self.assertEqual(cost.total_amount, Decimal('816.00'))
            self.assertEqual(cost.subaccount, firm.subaccounts[a, 'PLN'])
            self.assertTrue(cost.approved_at)
            self.assertEqual(cost.approved_by.id, Transaction().user)

            invoice = cost.invoice
            self.assertEqual(invoice.type, 'in')
            self.assertEqual(invoice.move.state, 'posted')
            # Paid at once from the sub-account
            self.assertEqual(invoice.state, 'paid')
            self.assertEqual(invoice.party, firm.supplier)
            self.assertEqual(invoice.reference, 'FV/11/2026')
            self.assertEqual(invoice.accounting_date, day(8))
            self.assertEqual(invoice.total_amount, Decimal('816.00'))
            self.assertEqual(invoice.tax_amount, Decimal('116.00'))
            lines = {}
            for line in invoice.move.lines:
                lines.setdefault(line.account.code, Decimal(0))
                lines[line.account.code] += line.debit - line.credit
            # Input VAT on 221, the net on the clients' cost account, the
            # supplier's debt on 202 (settled by the payment)
            self.assertEqual(firm.accounts.vat_input.code, '221')
            self.assertEqual(lines, {
                    '221': Decimal('116.00'),
                    cost_account.code: Decimal('700.00'),
                    firm.accounts.payable.code: Decimal('-816.00'),
                    })
            self.assertEqual(self._balance(firm, a, 'PLN'),
                Decimal('-816.00'))
            self.assertEqual(self._balance(firm, a, 'EUR'), 0)
            charge, = MoveLine.search([
                    ('account', '=', firm.subaccounts[a, 'PLN'].account.id)])
            self.assertEqual((charge.debit, charge.credit, charge.date),
                (0, Decimal('816.00'), day(8)))

            # The supplier's correction: one night less and a cheaper room
            correction = self._save(firm, 'FV/11/2026/K1', kind='correction',
                corrected=cost, lines=[("Nocleg", -1, '150.00', '8'),
                    ("Sala konferencyjna", 1, '-50.00', '23')], days=3,
                submit=True)
            self.assertEqual(correction.total_amount, Decimal('-223.50'))
            CostInvoice.approve([correction])
            correction = CostInvoice(correction.id)
            self.assertEqual(correction.state, 'approved')
            self.assertEqual(correction.invoice.total_amount,
                Decimal('-223.50'))
            self.assertEqual(correction.invoice.move.state, 'posted')
            self.assertEqual(list(CostInvoice(cost.id).corrections),
                [correction])
            self.assertEqual(self._balance(firm, a, 'PLN'),
                Decimal('-592.50'))

            # In euro: charged to the EUR sub-account, in euro
            eur = self._save(firm, 'INV-2026-77', currency=firm.eur,
                lines=[("Freight", 1, '1000.00', '23')], submit=True)
            CostInvoice.approve([eur])
            eur = CostInvoice(eur.id)
            self.assertEqual(eur.subaccount, firm.subaccounts[a, 'EUR'])
            self.assertEqual(eur.invoice.currency, firm.eur)
            self.assertEqual(self._balance(firm, a, 'EUR'),
                Decimal('-1230.00'))
            self.assertEqual(self._balance(firm, a, 'PLN'),
                Decimal('-592.50'))

            # Registered as already paid by the firm: paid at approval
            paid = self._save(firm, 'FV/20/2026', payment_status='paid',
                submit=True)
            CostInvoice.approve([paid])
            self.assertEqual(CostInvoice(paid.id).state, 'paid')

    @with_transaction()
    def test_reject_fix_resubmit_approve_with_history(self):
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Notification = pool.get('portal.notification')
        Reject = pool.get('portal.cost.invoice.reject', type='wizard')
        firm = self._setup()
        user = firm.user
        with Transaction().set_context(company=firm.company.id):
            cost = self._save(firm, actor=user, submit=True)
            # A second submit of the same form is refused
            with self.assertRaises(UserError):
                CostInvoice.portal_submit(cost, actor=user)
            with self.assertRaisesRegex(UserError, 'reason'):
                CostInvoice.do_reject([cost], '  ')
            self.assertEqual(CostInvoice(cost.id).state, 'submitted')

            # The back office's wizard
            session_id, _, _ = Reject.create()
            with Transaction().set_context(
                    active_model='portal.cost.invoice', active_id=cost.id,
                    active_ids=[cost.id]):
                Reject.execute(session_id, {'start': {
                            'reason': "Brak pieczątki na skanie"}},
                    'reject')
            Reject.delete(session_id)
            cost = CostInvoice(cost.id)
            self.assertEqual(cost.state, 'rejected')
            self.assertEqual(cost.reject_reason, "Brak pieczątki na skanie")
            notification, = Notification.search([('party', '=', firm.a.id)])
            self.assertEqual((notification.kind, notification.cost_invoice),
                ('cost_rejected', cost))
            message, = self.sent
            self.assertEqual(message['To'], 'jan@alfa.example')
            self.assertIn('FV/11/2026', message['Subject'])
            self.assertIn("Brak pieczątki na skanie",
                message.get_body(('plain',)).get_content())
            self.assertIn(f'/portal/costs/{cost.id}',
                message.get_body(('plain',)).get_content())

            # The client fixes it and submits it again
            cost = self._save(firm, 'FV/11/2026/A', record=cost, actor=user,
                lines=[("Nocleg", 2, '150.00', '8'),
                    ("Sala konferencyjna", 1, '450.00', '23')],
                note="Poprawiony numer", submit=True)
            self.assertEqual(cost.state, 'submitted')
            self.assertIsNone(cost.reject_reason)
            self.assertEqual(cost.total_amount, Decimal('877.50'))
            CostInvoice.approve([cost])
            cost = CostInvoice(cost.id)
            self.assertEqual(cost.state, 'approved')
            self.assertEqual(
                [n.kind for n in Notification.search(
                        [('party', '=', firm.a.id)], order=[('id', 'ASC')])],
                ['cost_rejected', 'cost_approved'])
            self.assertEqual(len(self.sent), 2)
            self.assertIn('FV/11/2026/A', self.sent[1]['Subject'])

            # Editing, submitting or deleting after approval is refused
            with self.assertRaises(UserError):
                self._save(firm, 'FV/11/2026/B', record=cost, actor=user)
            with self.assertRaises(UserError):
                CostInvoice.portal_submit(cost, actor=user)
            with self.assertRaises(UserError):
                CostInvoice.portal_delete(cost)
            with self.assertRaises(UserError):
                CostInvoice.delete([cost])
            cost = CostInvoice(cost.id)
            self.assertEqual((cost.number, cost.state),
                ('FV/11/2026/A', 'approved'))

            CostInvoice.mark_paid([cost])
            cost = CostInvoice(cost.id)
            self.assertEqual((cost.state, cost.payment_status),
                ('paid', 'paid'))
            self.assertTrue(cost.paid_date)

            # Every step: who, and what changed
            admin = Transaction().user
            history = [(e.action, e.web_user, e.user and e.user.id)
                for e in cost.events]
            self.assertEqual(history, [
                    ('created', user, None),
                    ('submitted', user, None),
                    ('rejected', None, admin),
                    ('updated', user, None),
                    ('submitted', user, None),
                    ('approved', None, admin),
                    ('paid', None, admin),
                    ])
            rejected, updated = cost.events[2], cost.events[3]
            self.assertEqual(rejected.reason, "Brak pieczątki na skanie")
            self.assertEqual(updated.actor, 'jan@alfa.example')
            changes = updated.changes.splitlines()
            self.assertIn("Supplier's Invoice Number: FV/11/2026 → "
                "FV/11/2026/A", changes)
            self.assertIn("Note: — → Poprawiony numer", changes)
            self.assertIn("Lines", changes)
            self.assertIn("Gross: 816.00 → 877.50", changes)

    @with_transaction()
    def test_approval_refused(self):
        "No sub-account in the currency, a closed period, an unapproved "
        "corrected invoice: refused, nothing posted"
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Invoice = pool.get('account.invoice')
        Period = pool.get('account.period')
        firm = self._setup()
        with Transaction().set_context(company=firm.company.id):
            usd = self._save(firm, 'USD/1', currency=firm.usd, submit=True)
            eur_b = self._save(firm, 'EUR/1', currency=firm.eur, submit=True,
                client=firm.b, supplier=firm.supplier_b)
            for cost, currency in [(usd, 'USD'), (eur_b, 'EUR')]:
                with self.subTest(currency=currency):
                    with self.assertRaisesRegex(UserError,
                            'no sub-account in that currency'):
                        CostInvoice.approve([cost])
                    self.assertEqual(CostInvoice(cost.id).state, 'submitted')

            # A correction of an invoice not approved yet
            pending = self._save(firm, 'FV/1', submit=True)
            correction = self._save(firm, 'FV/1/K', kind='correction',
                corrected=pending, lines=[("Nocleg", -1, '150.00', '8')],
                submit=True)
            with self.assertRaises(UserError):
                CostInvoice.approve([correction])

            # Received in a closed period
            period = Period.find(firm.company, date=day(100))
            Period.close([period])
            late = self._save(firm, 'FV/2', days=102, submit=True)
            with self.assertRaisesRegex(UserError, 'no open accounting'):
                CostInvoice.approve([late])
            self.assertEqual(CostInvoice(late.id).state, 'submitted')
            self.assertEqual(Invoice.search([('type', '=', 'in')]), [])
            self.assertEqual(self._balance(firm, firm.a, 'PLN'), 0)

    @with_transaction()
    def test_who_sees_which_cost_invoices(self):
        "Managers their clients', the accountant all, a client its own"
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Event = pool.get('portal.cost.invoice.event')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        firm = self._setup()
        manager = _manager('anna', firm.a)
        accountant, = User.create([{
                    'login': 'ewa', 'name': "Ewa",
                    'groups': [('add', [ModelData.get_id('client_portal',
                                    'group_portal_accountant')])],
                    }])
        User.write([manager, accountant], {
                'companies': [('add', [firm.company.id])],
                'company': firm.company.id})
        with Transaction().set_context(company=firm.company.id):
            mine = self._save(firm, 'A/1', submit=True)
            theirs = self._save(firm, 'B/1', client=firm.b,
                supplier=firm.supplier_b, submit=True)
        with Transaction().set_user(manager.id), check_access():
            self.assertEqual(CostInvoice.search([]), [mine])
            self.assertEqual(
                {e.cost_invoice for e in Event.search([])}, {mine})
            with self.assertRaises(AccessError):
                CostInvoice.read([theirs.id], ['number'])
            with self.assertRaises(AccessError):
                CostInvoice.approve([CostInvoice(theirs.id)])
            CostInvoice.approve([CostInvoice(mine.id)])
        self.assertEqual(CostInvoice(mine.id).state, 'approved')
        self.assertEqual(CostInvoice(theirs.id).state, 'submitted')
        with Transaction().set_user(accountant.id), check_access():
            self.assertEqual(set(CostInvoice.search([])), {mine, theirs})
        # Another manager with the same groups, in the same process: the
        # record rules' cached domain is the user's own
        other = _manager('bartek', firm.b)
        User.write([other], {
                'companies': [('add', [firm.company.id])],
                'company': firm.company.id})
        with Transaction().set_user(other.id), check_access():
            self.assertEqual(CostInvoice.search([]), [theirs])
        with Transaction().set_user(manager.id), check_access():
            self.assertEqual(CostInvoice.search([]), [mine])
        with _portal(firm.user):
            self.assertEqual(CostInvoice.search([]), [mine])
            with self.assertRaises(AccessError):
                CostInvoice.read([theirs.id], ['number'])
