"""Invoices, proformas and corrections the client issues to its own
customers (seed 000 "Outgoing accounts"): the list, a page per document,
its PDF and what can be done with it"""
from trytond.exceptions import UserError
from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.transaction import Transaction

from ..outgoing import KINDS, STATUSES
from .access import portal_route
from .comments import comment_thread, post_comment
from .query import PER_PAGE, QueryArgs, escape_like

SORTS = ('number', 'invoice_date', 'buyer', 'status', 'currency',
    'due_date', 'total')
ORDERS = {
    'number': [('portal_sequence_number', None), ('number', None)],
    'invoice_date': [('invoice_date', None)],
    'buyer': [('party.name', None)],
    'status': [('portal_status', None)],
    'currency': [('currency.code', None)],
    'due_date': [('portal_due_date', None)],
    'total': [('total_amount_cache', None)],
    }


class Filters(QueryArgs):
    "The list's query string: search, status, kind, dates, buyer, amounts"

    def __init__(self, args, currencies, contractors):
        super().__init__(args)
        self.paging(SORTS, 'invoice_date')
        q = self._value('q')[:100]
        if q:
            like = f'%{escape_like(q)}%'
            self.domain.append(['OR', ('number', 'ilike', like),
                    ('party.name', 'ilike', like)])
        self.filter_equal('status', 'portal_status',
            {s: s for s, _ in STATUSES if s})
        self.filter_equal('kind', 'portal_kind', {k: k for k, _ in KINDS if k})
        self.filter_equal('currency', 'currency', currencies)
        self.filter_equal('buyer', 'party', {str(c): c for c in contractors})
        self.filter_range('invoice_date', 'date_from', 'date_to', self._date)
        self.filter_range(
            'total_amount', 'total_min', 'total_max', self._amount)

    @property
    def order(self):
        direction = self.direction.upper()
        order = [(name, direction) for name, _ in ORDERS[self.sort]]
        return order + [('id', direction)]


def labels(pool):
    "Translated selections of the list"
    Invoice = pool.get('account.invoice')
    fields = Invoice.fields_get(['portal_status', 'portal_kind'])
    return {
        'statuses': dict(fields['portal_status']['selection']),
        'kinds': dict(fields['portal_kind']['selection']),
        }


def _own_invoice(portal, invoice_id):
    "The client's own document, else 404 (the rules hide the others)"
    invoice = portal.get_or_404('account.invoice', invoice_id)
    if invoice.portal_issuer is None \
            or invoice.portal_issuer.id != portal.user.client.id:
        abort(HTTPStatus.NOT_FOUND)
    return invoice


@portal_route('/invoices')
def invoices(request, portal):
    pool = portal.pool
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    Currency = pool.get('currency.currency')
    client = portal.user.client.id
    currency_of = Currency.portal_currencies()
    currencies = {c.code: c.id for c in currency_of.values()}
    contractors = {p['id']: p['name'] for p in Party.search_read(
            [('portal_owner', '=', client)], fields_names=['name'],
            order=[('name', 'ASC')])}
    filters = Filters(request.args, currencies, contractors)
    domain = [('portal_issuer', '=', client)] + filters.domain
    count = Invoice.search_count(domain)
    pages = filters.pages(count)
    records = Invoice.search(domain, offset=filters.offset,
        limit=filters.per_page, order=filters.order)
    partial = request.headers.get('HX-Request') == 'true'
    template = 'invoices/results.html' if partial else 'invoices/list.html'
    return portal.render(template, filters=filters, invoices=records,
        count=count, pages=pages, currency_of=currency_of,
        currency_options=[(c, c) for c in sorted(currencies)],
        contractors=contractors, per_page_options=PER_PAGE,
        **labels(pool))


# Read-write: seeing the page marks the firm's replies to comments read
@portal_route('/invoices/<id:invoice_id>', readonly=False)
def invoice_page(request, portal, invoice_id):
    return _render_page(portal, _own_invoice(portal, invoice_id),
        preview=bool(request.args.get('preview')))


def _render_page(portal, invoice, status=HTTPStatus.OK, error=None,
        preview=False):
    pool = portal.pool
    Email = pool.get('portal.invoice.email')
    emails = Email.search([('invoice', '=', invoice.id)])
    currency = pool.get('currency.currency').portal_currencies()[
        invoice.currency.id]
    return portal.render('invoices/invoice.html', status=status,
        invoice=invoice, currency=currency, emails=emails,
        history=history(invoice, emails), preview=preview, error=error,
        thread=comment_thread(portal, invoice), **labels(pool))


def history(invoice, emails):
    "What happened to the document, oldest first: (when, kind, values)"
    events = [(invoice.create_date, 'created', {})]
    if invoice.portal_issued_at:
        events.append((invoice.portal_issued_at, 'issued',
                {'number': invoice.number}))
    for email in emails:
        if email.sent_at:
            events.append((email.sent_at, 'sent',
                    {'recipient': email.recipient}))
        elif email.state == 'failed':
            events.append((email.write_date or email.create_date, 'failed',
                    {'recipient': email.recipient, 'error': email.error}))
    for line in invoice.payment_lines:
        events.append((line.create_date, 'payment',
                {'date': line.date, 'amount': abs(
                        line.amount_second_currency
                        if line.second_currency else
                        line.debit - line.credit)}))
    for correction in invoice.portal_corrections:
        if correction.portal_issued_at:
            events.append((correction.portal_issued_at, 'corrected',
                    {'number': correction.number, 'id': correction.id}))
    for other in invoice.portal_invoices:
        if other.portal_issued_at:
            events.append((other.portal_issued_at, 'invoiced',
                    {'number': other.number, 'id': other.id}))
    if invoice.state == 'cancelled':
        events.append((invoice.write_date, 'cancelled', {}))
    return sorted(events, key=lambda e: e[0])


@portal_route('/invoices/<id:invoice_id>/comments', methods=('POST',))
def invoice_comment(request, portal, invoice_id):
    return post_comment(request, portal, 'account.invoice', invoice_id,
        lambda record: invoice_page(request, portal, record.id))


@portal_route('/invoices/<id:invoice_id>.pdf')
def invoice_pdf(request, portal, invoice_id):
    "The stored PDF of an issued document, or a draft's preview"
    invoice = _own_invoice(portal, invoice_id)
    if invoice.portal_editable:
        content = invoice.portal_preview_pdf()
    else:
        content = invoice.get_portal_pdf()
    if not content:
        abort(HTTPStatus.NOT_FOUND)
    filename = (invoice.number or f'draft-{invoice.id}').replace('/', '-')
    return portal.pdf(content, f'{filename}.pdf',
        preview=bool(request.args.get('preview')),
        inline=bool(request.args.get('inline')))


def _action(portal, invoice_id, method, *args, **kwargs):
    """Run a document action; a refused one leaves everything as it was
    and shows the page with the message"""
    Invoice = portal.pool.get('account.invoice')
    invoice = _own_invoice(portal, invoice_id)
    try:
        result = getattr(Invoice, method)(invoice, *args, **kwargs)
    except UserError as e:
        Transaction().rollback()
        return _render_page(portal, _own_invoice(portal, invoice_id),
            status=HTTPStatus.UNPROCESSABLE_ENTITY, error=e.message)
    target = result if result is not None else invoice
    return portal.redirect(f'invoices/{target.id}')


@portal_route('/invoices/<id:invoice_id>/cancel', methods=('POST',))
def cancel(request, portal, invoice_id):
    return _action(portal, invoice_id, 'portal_cancel_draft')


@portal_route('/invoices/<id:invoice_id>/duplicate', methods=('POST',))
def duplicate(request, portal, invoice_id):
    return _action(portal, invoice_id, 'portal_duplicate')


@portal_route('/invoices/<id:invoice_id>/correct', methods=('POST',))
def correct(request, portal, invoice_id):
    return _action(portal, invoice_id, 'portal_correct')


@portal_route('/invoices/<id:invoice_id>/invoice', methods=('POST',))
def invoice_proforma(request, portal, invoice_id):
    return _action(portal, invoice_id, 'portal_invoice_proforma',
        send=bool(request.form.get('send')))


@portal_route('/invoices/<id:invoice_id>/send', methods=('POST',))
def send(request, portal, invoice_id):
    "Send the issued document again, to the buyer or another address"
    return _action(portal, invoice_id, 'portal_send',
        request.form.get('recipient', '').strip() or None)
