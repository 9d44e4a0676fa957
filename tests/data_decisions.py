"""The HTTP tests' proformas: one the firm issued to each of clients a and
b (its invoice validated, not posted), for accepting and declining, and
for the isolation sweep"""
import datetime

from trytond.pool import Pool
from trytond.transaction import Transaction

LINES = [("Wdrożenie systemu kadrowego", 1, '2400.00', '23')]


def build_decisions(firm, a, b):
    from client_portal.demo import create_invoice
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Document = pool.get('portal.document')
    # Yesterday's: the documents' tests find nothing dated today
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    proformas = {}
    for key, client in [('a', a), ('b', b)]:
        invoice = create_invoice(firm, client, yesterday, LINES,
            post=False)
        with Transaction().set_context(company=firm.company.id):
            Invoice.validate_invoice([invoice])
        document, = Document.search([('origin', '=', str(invoice))])
        proformas[key] = document.id
    return {'proformas': proformas}
