"""The HTTP tests' sub-account movements: client a's PLN sub-account gets
two issued invoices paid in instalments and an invoice refunded after its
credit note; its EUR sub-account one payment. Runs after build_outgoing
(which opened the sub-accounts and paid 500 PLN into each PLN one)."""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.demo import create_invoice, credit
from client_portal.demo_outgoing import editor_form as form

LINES = [("Projekt strony", 1, '2000.00', '23')]
# Instalments of each issued invoice, with distinct amounts to sort on
INSTALMENTS = [
    [Decimal(a) for a in ('101.00', '112.00', '123.00', '134.00',
            '145.00', '156.00')],
    [Decimal(a) for a in ('207.50', '218.50', '229.50', '240.50',
            '251.50', '262.50')],
    ]


def build_subaccounts(firm, a, b):
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.move.line')
    Party = pool.get('party.party')
    Subaccount = pool.get('portal.subaccount')
    Template = pool.get('portal.invoice.template')
    today = datetime.date.today()

    def day(n):
        return today - datetime.timedelta(days=n)
    subaccounts = {(s.client.id, s.currency.code): s
        for s in Subaccount.search([('client', 'in', [a.id, b.id])])}
    pln, eur = subaccounts[a.id, 'PLN'], subaccounts[a.id, 'EUR']
    template, = Template.search([('clients', '=', a.id)])
    buyer, = Party.search([('portal_owner', '=', a.id)],
        order=[('id', 'ASC')], limit=1)
    issued = []
    with Transaction().set_context(company=firm.company.id,
            _skip_warnings=True):
        for start, amounts in zip((90, 60), INSTALMENTS):
            invoice = Invoice.portal_issue(Invoice.portal_save_draft(a, form(
                        firm, a, template, buyer, LINES, date=day(start))))
            for k, amount in enumerate(amounts):
                invoice.pay_invoice(amount, pln.payment_method,
                    day(start - 1 - 4 * k))
            issued.append(invoice)
        # Paid in full, cancelled by a credit note, paid back to the buyer;
        # today: the firm's own series (demo invoices) must stay in order
        refunded = create_invoice(firm, buyer, today,
            [("Konsultacja", 1, '200.00', '23')], post=False)
        Invoice.write([refunded], {'portal_issuer': a.id})
        Invoice.post([refunded])
        refunded.pay_invoice(refunded.total_amount, pln.payment_method,
            today)
        refunded = Invoice(refunded.id)
        Line.reconcile([l for l in refunded.lines_to_pay
                + refunded.payment_lines if not l.reconciliation])
        Invoice.process([refunded])
        note = credit(firm, refunded, today)
        note.pay_invoice(note.total_amount, pln.payment_method, today)
        eur_invoice, = Invoice.search([('portal_issuer', '=', a.id),
                ('currency', '=', firm.eur.id), ('state', '=', 'posted')],
            order=[('id', 'ASC')], limit=1)
        eur_invoice.pay_invoice(Decimal('300.00'), eur.payment_method,
            day(3))
    subaccounts = Subaccount.browse([s.id for s in subaccounts.values()])
    key = {a.id: 'a', b.id: 'b'}
    return {
        'subaccounts': {f'{key[s.client.id]}_{s.currency.code}': s.id
            for s in subaccounts},
        'subaccount_balances': {
            f'{key[s.client.id]}_{s.currency.code}': s.balance
            for s in subaccounts},
        'subaccount_counts': {
            f'{key[s.client.id]}_{s.currency.code}': s.movements().count
            for s in subaccounts},
        'subaccount_invoices': {
            'issued': [i.number for i in issued],
            'refunded': refunded.number,
            'credit_note': note.number,
            'eur': eur_invoice.number,
            },
        'subaccount_invoice_ids': [i.id for i in issued],
        }
