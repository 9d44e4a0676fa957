"""The demo's proforma and comment: the firm's proforma to the start-up,
for its user to accept or decline, and the manager's comment on one of the
start-up's own invoices"""
from trytond.pool import Pool
from trytond.transaction import Transaction

from .demo import create_invoice

PROFORMA_LINES = [
    ("Pakiet księgowy Start-up, I kwartał", 3, '900.00', '23'),
    ("Wdrożenie obiegu dokumentów w portalu", 1, '1500.00', '23'),
    ]
COMMENT = ("Dzień dobry, proszę przy następnej fakturze dla tego klienta "
    "podać numer zamówienia w uwagach – ułatwi to jego księgowość.")


def create_decisions(firm, startup):
    """(proforma document, comment): the proforma waits for the start-up's
    decision; the comment is the manager's, unread on its home page"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Document = pool.get('portal.document')
    Comment = pool.get('portal.comment')
    invoice = create_invoice(firm, startup, firm.today, PROFORMA_LINES,
        post=False)
    with Transaction().set_context(company=firm.company.id):
        Invoice.validate_invoice([invoice])
    proforma, = Document.search([('origin', '=', str(invoice))])
    own = Invoice.search([
            ('portal_issuer', '=', startup.id),
            ('portal_kind', '=', 'invoice'),
            ('number', '!=', None),
            ], order=[('invoice_date', 'ASC'), ('id', 'ASC')], limit=1)
    comment = None
    if own and startup.portal_manager:
        with Transaction().set_user(startup.portal_manager.id):
            comment = Comment.post_staff_reply(own[0], COMMENT)
    return proforma, comment
