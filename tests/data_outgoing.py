"""The HTTP tests' documents that clients a and b issue to their own
customers: sub-accounts, a template each, contractors, and drafts, issued
invoices (one partly paid), a proforma, an EUR invoice and a correction"""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.demo import nip
from client_portal.demo_outgoing import (
    create_contractor, create_invoice_template, editor_form as form)

LINES = [("Projekt logo", 1, '1000.00', '23'),
    ("Druk ulotek", 100, '1.50', '8')]


def build_outgoing(firm, a, b):
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Subaccount = pool.get('portal.subaccount')
    today = datetime.date.today()
    Subaccount.create_for([a, b], [firm.pln, firm.eur])
    templates = {
        'a': create_invoice_template(firm, "Alfa standard", 'ALFA', [a]),
        'b': create_invoice_template(firm, "Beta", 'BETA', [b]),
        }
    buyers = {
        'a': create_contractor(firm, a, "Gamma Trade sp. z o.o.",
            "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'),
            email='buyer@gamma.example'),
        'b': create_contractor(firm, b, "Omega Serwis s.c.",
            "ul. Polna 7", '60-101', "Poznań", tax_number=nip('779213004'),
            email='buyer@omega.example'),
        }
    clients = {'a': a, 'b': b}
    outgoing = {}
    with Transaction().set_context(company=firm.company.id):
        for key in ('a', 'b'):
            client, template, buyer = (
                clients[key], templates[key], buyers[key])

            def draft(lines=LINES, **values):
                return Invoice.portal_save_draft(client, form(
                        firm, client, template, buyer, lines, **values))
            outgoing[f'{key}_draft'] = draft()
            issued = Invoice.portal_issue(draft())
            outgoing[f'{key}_issued'] = issued
            subaccount, = Subaccount.search([
                    ('client', '=', client.id),
                    ('currency', '=', firm.pln.id)])
            issued.pay_invoice(Decimal('500.00'), subaccount.payment_method,
                today)
            outgoing[f'{key}_proforma'] = Invoice.portal_issue(
                draft(), proforma=True)
            outgoing[f'{key}_eur'] = Invoice.portal_issue(draft(
                    [("Consulting", 2, '500.00', '23')], currency='EUR'))
            corrected = Invoice.portal_issue(draft())
            correction = Invoice.portal_correct(corrected)
            correction = Invoice.portal_save_draft(client, form(
                    firm, client, template, buyer,
                    [("Projekt logo", 1, '800.00', '23'), LINES[1]],
                    kind='correction', reason="Rabat"), correction)
            outgoing[f'{key}_corrected'] = corrected
            outgoing[f'{key}_correction'] = Invoice.portal_issue(correction)
    return {
        'outgoing': {k: i.id for k, i in outgoing.items()},
        'outgoing_numbers': {k: i.number for k, i in outgoing.items()},
        'templates': {k: t.id for k, t in templates.items()},
        'buyers': {k: p.id for k, p in buyers.items()},
        }
