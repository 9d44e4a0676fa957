"The financial documents the firm issued to the client (seed 004)"
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, abort

from ..document import AMOUNT_FIELDS, DOCUMENT_TYPES
from .access import portal_route
from .acceptance import decide, decision_context
from .comments import comment_thread, post_comment
from .query import PER_PAGE, QueryArgs, escape_like

TABS = ('all', 'unpaid', 'paid', 'overdue')
SORTS = ('number', 'date', 'due_date', 'document_type', 'currency',
    'tax_base', 'vat', 'total', 'paid', 'remaining', 'first_downloaded_at')
COLUMNS = ('number', 'date', 'due_date', 'document_type', 'currency',
    *AMOUNT_FIELDS, 'first_downloaded_at')


def labels():
    "Column labels in the request's language (message.xml)"
    return {name: gettext(f'client_portal.msg_label_{name}')
        for name in COLUMNS}


def tab_labels():
    return {name: gettext(f'client_portal.msg_tab_{name}') for name in TABS}


def document_types(pool):
    "Document type labels, translated like the field's selection"
    Document = pool.get('portal.document')
    selection = Document.fields_get(['document_type'])['document_type']
    return dict(selection['selection'])


class Filters(QueryArgs):
    """The table's query string, parsed. A value that cannot be used is
    dropped from the search and reported next to its field; the form
    keeps what was typed."""

    def __init__(self, args, currencies):
        super().__init__(args)
        self.tab = self._choice('tab', TABS, 'all')
        self.paging(SORTS, 'date')
        q = args.get('q', '').strip()[:100]
        if q:
            self.domain.append(('number', 'ilike', f'%{escape_like(q)}%'))
        type_ = self._choice(
            'type', [t for t, _ in DOCUMENT_TYPES], None)
        if type_:
            self.domain.append(('document_type', '=', type_))
        currency = self._choice('currency', list(currencies), None)
        if currency:
            self.domain.append(('currency', '=', currencies[currency]))
        for name in ('date', 'due_date'):
            start = self._date(f'{name}_from')
            end = self._date(f'{name}_to')
            if start:
                self.domain.append((name, '>=', start))
            if end:
                self.domain.append((name, '<=', end))
        for name in AMOUNT_FIELDS:
            low = self._amount(f'{name}_min')
            high = self._amount(f'{name}_max')
            if low is not None:
                self.domain.append((name, '>=', low))
            if high is not None:
                self.domain.append((name, '<=', high))
        downloaded = self._choice('downloaded', ('yes', 'no'), None)
        if downloaded:
            self.domain.append(('first_downloaded_at',
                    '!=' if downloaded == 'yes' else '=', None))
        if self.tab == 'unpaid':
            # Money the client still owes; an open credit note is the
            # firm's debt and is listed under "all"
            self.domain.extend([('state', '=', 'issued'), ('remaining', '>', 0)])
        elif self.tab == 'paid':
            self.domain.append(('state', '=', 'paid'))
        elif self.tab == 'overdue':
            self.domain.append(('overdue', '=', True))

    @property
    def order(self):
        direction = self.direction.upper()
        if self.sort == 'currency':
            return [('currency.code', direction), ('id', direction)]
        return [(self.sort, direction), ('id', direction)]


ROW_FIELDS = ['number', 'date', 'due_date', 'document_type', 'currency',
    'state', *AMOUNT_FIELDS, 'first_downloaded_at']


class Row:
    """A row of the documents table, formatted once: the table's cells
    read plain attributes instead of records' fields"""
    __slots__ = ('id', 'number', 'date', 'due_date', 'document_type',
        'currency', 'overdue', 'first_downloaded_at', 'extras',
        *AMOUNT_FIELDS)

    def __init__(self, values, currency, formatter, overdue, extras=()):
        self.id = values['id']
        # Document.portal_row_extras: what other modules show, as read
        self.extras = {name: values[name] for name in extras}
        self.number = values['number']
        self.date = formatter.date(values['date'])
        self.due_date = formatter.date(values['due_date'])
        self.document_type = values['document_type']
        self.currency = currency
        self.overdue = overdue
        for name in AMOUNT_FIELDS:
            setattr(self, name, formatter.amount(values[name], currency))
        self.first_downloaded_at = formatter.datetime(
            values['first_downloaded_at'])


def _currencies(pool):
    "{id: currency} of the cached currencies"
    Currency = pool.get('currency.currency')
    return Currency.portal_currencies()


@portal_route('/documents')
def documents(request, portal):
    Document = portal.pool.get('portal.document')
    currency_of = _currencies(portal.pool)
    currencies = {c.code: c.id for c in currency_of.values()}
    filters = Filters(request.args, currencies)
    count = Document.search_count(filters.domain)
    pages = max(1, -(-count // filters.per_page))
    if filters.page > pages:
        filters.errors['page'] = 'invalid'
        filters.page = pages
    extras = Document.portal_row_extras()
    values = Document.search_values(filters.domain, ROW_FIELDS + extras,
        offset=(filters.page - 1) * filters.per_page,
        limit=filters.per_page, order=filters.order)
    formatter = portal.formatter()
    today = Document.today()
    records = [Row(v, currency_of[v['currency']], formatter,
            Document.is_overdue(
                v['state'], v['remaining'], v['due_date'], today), extras)
        for v in values]
    partial = request.headers.get('HX-Request') == 'true'
    template = 'documents/results.html' if partial else 'documents/list.html'
    return portal.render(template, filters=filters,
        currency_of=currency_of,
        documents=records, count=count, pages=pages,
        currency_options=[(c, c) for c in sorted(currencies)],
        per_page_options=PER_PAGE, tabs=TABS, columns=COLUMNS,
        amount_fields=AMOUNT_FIELDS, labels=labels(), tab_labels=tab_labels(),
        document_types=document_types(portal.pool))


# Read-write: seeing the page marks the firm's replies to comments read
@portal_route('/documents/<id:document_id>', readonly=False)
def document(request, portal, document_id):
    Document = portal.pool.get('portal.document')
    document = portal.get_or_404('portal.document', document_id)
    details = document.portal_details()
    corrected = {}
    if details and details['corrects']:
        # Linked only when the client may open them (the record rules)
        corrected = {d.origin and str(d.origin): d.id
            for d in Document.search([('origin', 'in',
                        [c['origin'] for c in details['corrects']])])}
    return portal.render('documents/document.html', document=document,
        details=details, corrected=corrected,
        currency=_currencies(portal.pool)[document.currency.id],
        labels=labels(), document_types=document_types(portal.pool),
        thread=comment_thread(portal, document),
        decision=decision_context(portal, document))


@portal_route('/documents/<id:document_id>.pdf', readonly=False)
def document_pdf(request, portal, document_id):
    Document = portal.pool.get('portal.document')
    document = portal.get_or_404('portal.document', document_id)
    content = document.get_pdf()
    if not content:
        abort(HTTPStatus.NOT_FOUND)
    preview = bool(request.args.get('preview'))
    # Shown inside the document's page is not downloaded by the client
    if not preview:
        Document.record_download([document], portal.web_user)
    return portal.pdf(content, document.pdf_filename, preview=preview,
        inline=bool(request.args.get('inline')))


def _page(request, portal):
    "The document's page again, for a refused comment or decision"
    return lambda record: document(request, portal, record.id)


@portal_route('/documents/<id:document_id>/comments', methods=('POST',))
def document_comment(request, portal, document_id):
    return post_comment(request, portal, 'portal.document', document_id,
        _page(request, portal))


@portal_route('/documents/<id:document_id>/accept', methods=('POST',))
def accept(request, portal, document_id):
    return decide(request, portal, document_id, 'accepted',
        _page(request, portal))


@portal_route('/documents/<id:document_id>/decline', methods=('POST',))
def decline(request, portal, document_id):
    return decide(request, portal, document_id, 'declined',
        _page(request, portal))
