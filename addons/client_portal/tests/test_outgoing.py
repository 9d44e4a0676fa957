"Invoices, proformas and corrections clients issue to their own customers"
import datetime
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .outgoing_setup import form, outgoing_firm
from .committed import CommittedTestCase

TODAY = datetime.date.today()
LINES = [("Projekt logo", 1, '1000.00', '23'), ("Druk ulotek", 100, '1.50',
        '8', '10')]


class OutgoingTestCase(CommittedTestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"

    @classmethod
    def build(cls):
        "The firm and a client ready to issue (outgoing_setup), once"
        return outgoing_firm(TODAY)

    def _issue(self, firm, client, template, buyer, lines=LINES, **kwargs):
        Invoice = Pool().get('account.invoice')
        draft = Invoice.portal_save_draft(
            client, form(firm, client, template, buyer, lines, **kwargs))
        return Invoice.portal_issue(draft)

    @with_transaction()
    def test_form_computes_as_tryton_posts(self):
        "The editor's totals are the posted invoice's, per rate and total"
        firm, client, template, buyer = self.setup()
        typed = form(firm, client, template, buyer, LINES)
        self.assertTrue(typed.valid, typed.errors)
        invoice = self._issue(firm, client, template, buyer)
        self.assertEqual(typed.net, invoice.untaxed_amount)
        self.assertEqual(typed.vat, invoice.tax_amount)
        self.assertEqual(typed.gross, invoice.total_amount)
        # 1000 at 23% and 100 x 1.50 less 10% = 135.00 at 8%
        self.assertEqual(invoice.untaxed_amount, Decimal('1135.00'))
        self.assertEqual(invoice.tax_amount, Decimal('240.80'))
        self.assertEqual([r['vat'] for r in typed.rates],
            [Decimal('230.00'), Decimal('10.80')])

    @with_transaction()
    def test_vat_rounding_per_total_or_per_line(self):
        "3 × 10.33 at 23%: 7.13 on the total, 7.14 line by line (§1.3)"
        pool = Pool()
        Template = pool.get('portal.invoice.template')
        firm, client, template, buyer = self.setup()
        lines = [("Usługa", 1, '10.33', '23')] * 3
        invoice = self._issue(firm, client, template, buyer, lines)
        self.assertEqual(invoice.tax_amount, Decimal('7.13'))
        Template.write([template], {'tax_rounding': 'line'})
        typed = form(firm, client, template, buyer, lines)
        self.assertEqual(typed.vat, Decimal('7.14'))
        invoice = self._issue(firm, client, template, buyer, lines)
        self.assertEqual(invoice.tax_amount, Decimal('7.14'))

    @with_transaction()
    def test_issue_numbers_posts_and_stores_the_pdf(self):
        firm, client, template, buyer = self.setup()
        first = self._issue(firm, client, template, buyer)
        second = self._issue(firm, client, template, buyer)
        year = TODAY.year
        self.assertEqual([first.number, second.number],
            [f'FV/ALFA/1/{year}', f'FV/ALFA/2/{year}'])
        self.assertEqual(first.state, 'posted')
        self.assertEqual(first.portal_status, 'issued')
        self.assertEqual(first.portal_issuer, client)
        self.assertTrue(first.move)
        self.assertEqual(first.invoice_report_format, 'pdf')
        self.assertTrue(bytes(first.invoice_report_cache).startswith(b'%PDF'))

    @with_transaction()
    def test_issued_document_is_not_editable(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        firm, client, template, buyer = self.setup()
        invoice = self._issue(firm, client, template, buyer)
        with self.assertRaises(UserError):
            Invoice.portal_save_draft(client,
                form(firm, client, template, buyer, LINES), invoice)
        with self.assertRaises(UserError):
            Invoice.portal_issue(invoice)

    @with_transaction()
    def test_bad_input_is_reported_per_field(self):
        firm, client, template, buyer = self.setup()
        typed = form(firm, client, template, buyer, [])
        self.assertIn('lines', typed.errors)
        typed = form(firm, client, template, buyer, [
                ("Zero", 0, '10.00', '23'),
                ("Minus", -1, '10.00', '23'),
                ("Grosze", 1, '10.001', '23')])
        self.assertEqual(
            {k for k in typed.errors if k.startswith('lines-')},
            {'lines-0-quantity', 'lines-1-quantity', 'lines-2-price'})
        typed = form(firm, client, template, buyer, LINES, currency='USD')
        self.assertIn('currency', typed.errors)
        sale = TODAY + datetime.timedelta(days=61)
        typed = form(firm, client, template, buyer, LINES,
            sale_date=sale.isoformat())
        self.assertIn('invoice_date', typed.errors)
        typed = form(firm, client, template, buyer, LINES,
            invoice_date='2026-02-30')
        self.assertIn('invoice_date', typed.errors)

    @with_transaction()
    def test_no_template_no_issue(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Template = pool.get('portal.invoice.template')
        firm, client, template, buyer = self.setup()
        draft = Invoice.portal_save_draft(
            client, form(firm, client, template, buyer, LINES))
        Template.write([template], {'clients': [('remove', [client.id])]})
        with self.assertRaises(UserError):
            Invoice.portal_issue(draft)
        self.assertEqual(Invoice(draft.id).state, 'draft')
        self.assertIsNone(Invoice(draft.id).number)

    @with_transaction()
    def test_proforma_then_invoice(self):
        "A proforma: own series, not posted; one step to a linked invoice"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        firm, client, template, buyer = self.setup()
        draft = Invoice.portal_save_draft(
            client, form(firm, client, template, buyer, LINES))
        proforma = Invoice.portal_issue(draft, proforma=True)
        self.assertEqual(proforma.number, f'PF/ALFA/1/{TODAY.year}')
        self.assertEqual(proforma.portal_status, 'proforma')
        self.assertEqual(proforma.state, 'draft')
        self.assertIsNone(proforma.move)
        self.assertTrue(proforma.invoice_report_cache)
        invoice = Invoice.portal_invoice_proforma(proforma)
        self.assertEqual(invoice.number, f'FV/ALFA/1/{TODAY.year}')
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.portal_proforma, proforma)
        self.assertEqual(list(Invoice(proforma.id).portal_invoices),
            [invoice])
        self.assertEqual(invoice.total_amount, proforma.total_amount)
        # Only the invoice is in the books
        self.assertEqual([m.origin for m in Move.search([])
                if m.origin == proforma], [])
        self.assertEqual(len([m for m in Move.search([])
                    if m.origin == invoice]), 1)
        with self.assertRaises(UserError):
            Invoice.portal_invoice_proforma(Invoice(proforma.id))
        # Not even staff can post it (the transaction is then rolled back)
        with self.assertRaises(UserError):
            Invoice.post([Invoice(proforma.id)])

    @with_transaction()
    def test_correction_before_after_difference(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        firm, client, template, buyer = self.setup()
        invoice = self._issue(firm, client, template, buyer)
        correction = Invoice.portal_correct(invoice)
        self.assertEqual(correction.portal_kind, 'correction')
        self.assertEqual(correction.portal_corrected, invoice)
        # The client lowers the first line's price
        typed = form(firm, client, template, buyer, [
                ("Projekt logo", 1, '800.00', '23'), LINES[1]],
            kind='correction', reason="Rabat posprzedażowy")
        correction = Invoice.portal_save_draft(client, typed, correction)
        correction = Invoice.portal_issue(correction)
        self.assertEqual(correction.number, f'KOR/ALFA/1/{TODAY.year}')
        self.assertEqual(correction.untaxed_amount, Decimal('-200.00'))
        self.assertEqual(correction.tax_amount, Decimal('-46.00'))
        self.assertEqual(correction.total_amount, Decimal('-246.00'))
        sides = sorted((l.portal_side, l.amount) for l in correction.lines)
        self.assertEqual(sides, [
                ('after', Decimal('135.00')), ('after', Decimal('800.00')),
                ('before', Decimal('-1000.00')),
                ('before', Decimal('-135.00'))])
        self.assertEqual(Invoice(invoice.id).portal_status, 'corrected')
        self.assertEqual(correction.portal_correction_reason,
            "Rabat posprzedażowy")

        # A correction of the correction starts from its "after" lines
        again = Invoice.portal_correct(correction)
        self.assertEqual(sorted(l.amount for l in again.lines),
            [Decimal('135.00'), Decimal('800.00')])
        again = Invoice.portal_issue(again)
        self.assertEqual(again.number, f'KOR/ALFA/2/{TODAY.year}')
        self.assertEqual(again.total_amount, Decimal(0))

    @with_transaction()
    def test_duplicate_and_cancel(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        firm, client, template, buyer = self.setup()
        invoice = self._issue(firm, client, template, buyer)
        copy = Invoice.portal_duplicate(invoice)
        self.assertEqual(copy.portal_status, 'draft')
        self.assertIsNone(copy.number)
        self.assertEqual(len(copy.lines), 2)
        Invoice.portal_cancel_draft(copy)
        self.assertEqual(Invoice(copy.id).portal_status, 'cancelled')
        with self.assertRaises(UserError):
            Invoice.portal_cancel_draft(invoice)

    @with_transaction()
    def test_foreign_currency_vat_in_pln(self):
        "EUR: the VAT also in PLN at the NBP rate before the tax point"
        pool = Pool()
        Rate = pool.get('currency.currency.rate')
        firm, client, template, buyer = self.setup()
        invoice = self._issue(firm, client, template, buyer,
            [("Consulting", 2, '500.00', '23')], currency='EUR')
        rate, = Rate.search([
                ('currency', '=', firm.eur.id),
                ('date', '<', invoice.portal_tax_point),
                ], order=[('date', 'DESC')], limit=1)
        self.assertEqual(invoice.portal_nbp_date, rate.date)
        self.assertEqual(invoice.portal_nbp_table, rate.nbp_table)
        self.assertEqual(invoice.portal_nbp_rate, rate.nbp_mid)
        self.assertEqual(invoice.portal_vat_pln,
            (Decimal('230.00') * rate.nbp_mid).quantize(Decimal('0.01')))

    @with_transaction()
    def test_missing_nbp_rate_blocks_issue(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Rate = pool.get('currency.currency.rate')
        firm, client, template, buyer = self.setup()
        Rate.delete(Rate.search([('currency', '=', firm.eur.id)]))
        draft = Invoice.portal_save_draft(client, form(
                firm, client, template, buyer, LINES, currency='EUR'))
        with self.assertRaises(UserError):
            Invoice.portal_issue(draft)
        Transaction().rollback()

