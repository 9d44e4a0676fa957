"""The client's requests (cases): the list, the form that raises one with
its files, the request's page with its history and the reply form, the
files' downloads. Reads run under the portal's record rules: another
client's request or file is a 404."""
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, set_max_request_size)
from trytond.transaction import Transaction, without_check_access

from ..chat import MAX_LENGTH, body_error, clean_body
from ..request import CLOSED, OPEN, SUBJECT_SIZE
from ..scan import MAX_SIZE, TYPES, check_scan
from .access import content_disposition, portal_route
from .query import QueryArgs

# The files one form may carry, each up to the scan's limit; trytond
# refuses a larger request (413) before reading it, a file just over the
# limit gets its message next to the field
MAX_FILES = 5
MAX_REQUEST = MAX_FILES * MAX_SIZE + 1024 * 1024
TABS = {
    'all': [],
    'open': [('state', 'in', list(OPEN))],
    'closed': [('state', 'in', list(CLOSED))],
    }


class Filters(QueryArgs):
    "The list's query string: the tab (open, closed, all) and the pages"

    def __init__(self, args):
        super().__init__(args)
        self.paging(('date',), 'date')
        self.tab = self._choice('tab', list(TABS), 'all')
        self.domain.extend(TABS[self.tab])

    @property
    def order(self):
        return [('create_date', 'DESC'), ('id', 'DESC')]


@portal_route('/requests')
def requests(request, portal):
    Request = portal.pool.get('portal.request')
    filters = Filters(request.args)
    count = Request.search_count(filters.domain)
    pages = filters.pages(count)
    records = Request.search(filters.domain, offset=filters.offset,
        limit=filters.per_page, order=filters.order)
    return portal.render('requests/list.html', filters=filters,
        requests=records, count=count, pages=pages, tabs=list(TABS))


def _read_files(storages):
    """The uploaded files checked by their content, and the errors of the
    others (name: reason); an empty file input sends one nameless part"""
    storages = [s for s in storages if s is not None and s.filename]
    if len(storages) > MAX_FILES:
        return [], [gettext('client_portal.msg_request_too_many_files',
                max=MAX_FILES)]
    files, errors = [], []
    for storage in storages:
        # From the start: trytond may run the handler again after a
        # conflict
        storage.stream.seek(0)
        data = storage.stream.read(MAX_SIZE + 1)
        try:
            files.append(check_scan(data, storage.filename))
        except UserError as e:
            errors.append(gettext('client_portal.msg_request_file',
                    name=storage.filename[:100], error=e.message))
    return files, errors


def _render_new(portal, values, errors, status=HTTPStatus.OK):
    Request = portal.pool.get('portal.request')
    return portal.render('requests/new.html', status=status,
        kinds=Request.portal_kinds(), values=values, errors=errors,
        max_files=MAX_FILES, max_size=MAX_SIZE // (1024 * 1024),
        subject_size=SUBJECT_SIZE, max_length=MAX_LENGTH,
        accept=','.join(list(TYPES) + list(TYPES.values())))


@portal_route('/requests/new', methods=('GET', 'POST'))
@set_max_request_size(MAX_REQUEST)
def new_request(request, portal):
    Request = portal.pool.get('portal.request')
    if request.method != 'POST':
        return _render_new(portal, {'kind': request.args.get('kind', '')},
            {})
    values = {
        'kind': request.form.get('kind', '').strip()[:20],
        'subject': ' '.join(request.form.get('subject', '').split()),
        'description': clean_body(request.form.get('description', '')),
        }
    errors = {}
    kinds = {str(k.id): k for k in Request.portal_kinds()}
    kind = kinds.get(values['kind'])
    if kind is None:
        errors['kind'] = gettext('client_portal.msg_request_kind')
    if not values['subject']:
        errors['subject'] = gettext('client_portal.msg_request_subject')
    elif len(values['subject']) > SUBJECT_SIZE:
        errors['subject'] = gettext(
            'client_portal.msg_request_subject_too_long',
            length=len(values['subject']), max=SUBJECT_SIZE)
    if len(values['description']) > MAX_LENGTH:
        errors['description'] = gettext(
            'client_portal.msg_request_description_too_long',
            length=len(values['description']), max=MAX_LENGTH)
    files, file_errors = _read_files(request.files.getlist('files'))
    if file_errors:
        errors['files'] = file_errors
    if errors:
        return _render_new(portal, values, errors,
            status=HTTPStatus.UNPROCESSABLE_ENTITY)
    record = Request.portal_create(portal.party, kind, values['subject'],
        values['description'], files)
    return portal.redirect(f'requests/{record.id}', raised=1)


def _timeline(record):
    """What the history shows, oldest first; the firm's users are read for
    their names only"""
    with without_check_access():
        handlers = {e.id: e.new_responsible.rec_name
            for e in record.__class__(record.id).events
            if e.kind == 'assignment' and e.new_responsible}
    return [{
            'id': e.id,
            'kind': e.kind,
            'staff': e.author == 'staff',
            'author': e.author_name or '',
            'date': e.create_date,
            'body': e.body or '',
            'old_state': e.old_state,
            'new_state': e.new_state,
            'file_name': e.file_name,
            'file_size': e.file_size or 0,
            'responsible': handlers.get(e.id),
            } for e in record.events]


def render_request(portal, record, body='', errors=None,
        status=HTTPStatus.OK, **extra):
    for flag in ('raised', 'replied', 'closed'):
        extra.setdefault(flag, None)
    page = portal.render('requests/request.html', status=status,
        record=record, events=_timeline(record),
        responsible=record.portal_responsible_name(),
        body=body, errors=errors or {}, max_files=MAX_FILES,
        max_size=MAX_SIZE // (1024 * 1024), max_length=MAX_LENGTH,
        accept=','.join(list(TYPES) + list(TYPES.values())), **extra)
    # Read once shown: the cards of this request
    record.portal_mark_read()
    return page


@portal_route('/requests/<id:request_id>', readonly=False)
def request_page(request, portal, request_id):
    record = portal.get_or_404('portal.request', request_id)
    return render_request(portal, record,
        raised=bool(request.args.get('raised')),
        replied=bool(request.args.get('replied')))


@portal_route('/requests/<id:request_id>/reply', methods=('POST',))
@set_max_request_size(MAX_REQUEST)
def reply(request, portal, request_id):
    Request = portal.pool.get('portal.request')
    record = portal.get_or_404('portal.request', request_id)
    body = clean_body(request.form.get('body', ''))
    if not record.is_open:
        return render_request(portal, record, body=body,
            status=HTTPStatus.CONFLICT,
            closed=gettext('client_portal.msg_request_closed',
                number=record.number))
    errors = {}
    error = body_error(body)
    if error:
        errors['body'] = error
    files, file_errors = _read_files(request.files.getlist('files'))
    if file_errors:
        errors['files'] = file_errors
    if errors:
        return render_request(portal, record, body=body, errors=errors,
            status=HTTPStatus.UNPROCESSABLE_ENTITY)
    try:
        Request(record.id).add_message(body, files)
    except UserError as e:
        # Closed meanwhile by the firm
        Transaction().rollback()
        return render_request(portal, Request(record.id), body=body,
            status=HTTPStatus.CONFLICT, closed=e.message)
    return portal.redirect(f'requests/{record.id}', replied=1)


@portal_route('/requests/<id:request_id>/files/<id:attachment_id>')
def request_file(request, portal, request_id, attachment_id):
    """A file of the request as it was uploaded, with the type read from
    its content then"""
    record = portal.get_or_404('portal.request', request_id)
    Event = portal.pool.get('portal.request.event')
    events = Event.search([
            ('id', '=', attachment_id),
            ('request', '=', record.id),
            ('kind', '=', 'file'),
            ], limit=1)
    if not events or not events[0].file_id:
        abort(HTTPStatus.NOT_FOUND)
    event, = events
    data = event.file
    if not data:
        abort(HTTPStatus.NOT_FOUND)
    mimetype = event.file_type if event.file_type in TYPES \
        else 'application/octet-stream'
    return portal.respond(Response(bytes(data), content_type=mimetype,
            headers={
                'Content-Disposition': content_disposition('attachment',
                    event.file_name or 'file'),
                'X-Content-Type-Options': 'nosniff',
                }))
