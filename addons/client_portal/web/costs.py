"""The client's cost invoices (C4): invoices third parties issued to the
firm for the client's costs. The list, the form with the scan (new, and
drafts or rejected invoices to fix), a page per invoice with its scan
preview and history, the scan download, submit and delete. Reads run under
the portal's record rules; writes go through the model's portal_*
methods once the record was read under them."""
import datetime
import re

from trytond.exceptions import UserError
from trytond.filestore import filestore
from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, set_max_request_size)
from trytond.transaction import Transaction, without_check_access

from ..cost_invoice_form import CostForm, Line, Lookups, max_index
from ..scan import MAX_SIZE, TYPES, check_scan
from .access import content_disposition, portal_route
from .comments import comment_thread, post_comment
from .cost_corrections import corrections_for
from .query import PER_PAGE, QueryArgs, escape_like

# The form with its scan: the scan's limit and room for the typed fields.
# trytond refuses a larger request (413) before reading its body, so a
# 50 MB upload costs nothing; a scan just over the limit gets the
# message next to its field.
MAX_REQUEST = MAX_SIZE + 1024 * 1024
ACTIONS = ('save', 'submit', 'add_line', 'recalculate')
# Buttons that show the form again without saving
REDISPLAY = ('add_line', 'recalculate', 'remove_line')
UPLOAD_ID = re.compile(
    r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')

SORTS = ('number', 'supplier', 'invoice_date', 'receipt_date', 'currency',
    'total', 'status')
ORDERS = {
    'number': ['number'],
    'supplier': ['supplier.name'],
    'invoice_date': ['invoice_date'],
    'receipt_date': ['receipt_date'],
    'currency': ['currency.code'],
    'total': ['total_amount'],
    'status': ['state'],
    }


class Filters(QueryArgs):
    """The list's query string: search, supplier, status, issue dates,
    currency, gross amount, sort and pages"""

    def __init__(self, args, currencies, suppliers, states):
        super().__init__(args)
        self.paging(SORTS, 'invoice_date')
        q = self._value('q')[:100]
        if q:
            like = f'%{escape_like(q)}%'
            self.domain.append(['OR', ('number', 'ilike', like),
                    ('supplier.name', 'ilike', like),
                    ('supplier_tax_number', 'ilike', like)])
        self.filter_equal('supplier', 'supplier',
            {str(s): s for s in suppliers})
        self.filter_equal('status', 'state', {s: s for s in states})
        self.filter_equal('currency', 'currency', currencies)
        self.filter_range('invoice_date', 'date_from', 'date_to', self._date)
        self.filter_range(
            'total_amount', 'total_min', 'total_max', self._amount)

    @property
    def order(self):
        direction = self.direction.upper()
        return [(name, direction) for name in ORDERS[self.sort]] + [
            ('id', direction)]


def choices(pool):
    "The translated selections of the cost invoice"
    CostInvoice = pool.get('portal.cost.invoice')
    names = ['kind', 'state', 'language', 'payment_method',
        'payment_status', 'entry']
    fields = CostInvoice.fields_get(names)
    return {f'{name}_labels': dict(fields[name]['selection'])
        for name in names}


def _today(portal):
    return portal.pool.get('portal.document').today()


def _own(portal, cost_id):
    "The client's cost invoice, else 404 (the rules hide the others')"
    return portal.get_or_404('portal.cost.invoice', cost_id)


# --- the list ---------------------------------------------------------------

@portal_route('/costs')
def costs(request, portal):
    pool = portal.pool
    CostInvoice = pool.get('portal.cost.invoice')
    Party = pool.get('party.party')
    Currency = pool.get('currency.currency')
    client = portal.user.client.id
    currency_of = Currency.portal_currencies()
    currencies = {c.code: c.id for c in currency_of.values()}
    with Transaction().set_context(active_test=False):
        suppliers = {p['id']: p['name'] for p in Party.search_read(
                [('portal_owner', '=', client)], fields_names=['name'],
                order=[('name', 'ASC')])}
    labels = choices(pool)
    filters = Filters(request.args, currencies, suppliers,
        labels['state_labels'])
    domain = [('client', '=', client)] + filters.domain
    count = CostInvoice.search_count(domain)
    pages = filters.pages(count)
    records = CostInvoice.search(domain, offset=filters.offset,
        limit=filters.per_page, order=filters.order)
    partial = request.headers.get('HX-Request') == 'true'
    template = 'costs/_table.html' if partial else 'costs/list.html'
    return portal.render(template, filters=filters, costs=records,
        count=count, pages=pages, currency_of=currency_of,
        currency_options=[(c, c) for c in sorted(currencies)],
        suppliers=suppliers, per_page_options=PER_PAGE,
        deleted=bool(request.args.get('deleted')), **labels)


# --- the scan of a form -----------------------------------------------------

class Upload:
    """The scan of a posted form: the file chosen now, else the one kept
    from the previous attempt of the same form. Its error goes next to the
    scan field. A valid file of a form that fails is kept in the filestore
    (keep) so that the client does not upload it again."""

    def __init__(self, portal, form=None, files=None):
        self.portal = portal
        self.scan = None
        self.error = None
        # (file id, name) of the kept file, once stored
        self.pending = None
        if form is None:
            return
        storage = files.get('scan') if files else None
        data = _read(storage)
        if data:
            # A new file replaces the kept one
            try:
                self.scan = check_scan(data, storage.filename)
            except UserError as e:
                self.error = e.message
        elif storage is not None and storage.filename:
            self.error = gettext('client_portal.msg_scan_empty')
        else:
            self._load_pending(form.get('scan_pending', ''),
                form.get('scan_pending_name', ''))

    def _prefix(self):
        """Per database and client: an id another client sends is looked
        up under the sender's prefix and is not found"""
        return (f'{self.portal.database}/cost_invoice_upload/'
            f'{self.portal.user.client.id}')

    def _load_pending(self, file_id, name):
        if not UPLOAD_ID.match(file_id or ''):
            return
        try:
            data = filestore.get(file_id, prefix=self._prefix())
            # Checked again: the content decides, not the hidden inputs
            self.scan = check_scan(data, name[:100])
        except (OSError, ValueError, UserError):
            return
        self.pending = (file_id, self.scan.name)

    def keep(self):
        """Store a new valid file for the next attempt. Called once the
        response is decided (after any rollback): the queue entry makes
        Tryton's monthly clean-up remove it after the retention delay,
        as no record refers to it (a saved record keeps its own copy)."""
        if self.scan is None or self.pending is not None:
            return
        prefix = self._prefix()
        file_id = filestore.set(self.scan.data, prefix=prefix)
        Queue = self.portal.pool.get('ir.filestore.queue')
        queue = Queue.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*queue.insert(
                [queue.create_date, queue.create_uid, queue.file_id,
                    queue.model, queue.field, queue.prefix],
                [[datetime.datetime.now(), Transaction().user, file_id,
                        'portal.cost.invoice', 'scan', prefix]]))
        self.pending = (file_id, self.scan.name)


def _read(storage):
    "The uploaded bytes, at most one byte over the limit"
    if storage is None:
        return b''
    # From the start: trytond may run the handler again after a conflict
    storage.stream.seek(0)
    return storage.stream.read(MAX_SIZE + 1)


# --- the form ---------------------------------------------------------------

def defaults(portal, lookups):
    "A new cost invoice's form: received today, to pay by transfer"
    currency = ('PLN' if 'PLN' in lookups.currencies
        else next(iter(sorted(lookups.currencies)), ''))
    return {
        'kind': 'invoice',
        'entry': 'lines',
        'currency': currency,
        'language': portal.language if portal.language in ('pl', 'en')
        else 'pl',
        'receipt_date': _today(portal).isoformat(),
        'payment_method': 'transfer',
        'payment_status': 'unpaid',
        }


def form_of(record):
    "The form's values of a saved cost invoice"
    raw = {
        'supplier': str(record.supplier.id),
        'number': record.number or '',
        'kind': record.kind,
        'corrected': str(record.corrected.id) if record.corrected else '',
        'invoice_date': _iso(record.invoice_date),
        'sale_date': _iso(record.sale_date),
        'receipt_date': _iso(record.receipt_date),
        'currency': record.currency.code,
        'language': record.language,
        'entry': record.entry,
        'payment_method': record.payment_method,
        'payment_status': record.payment_status,
        'due_date': _iso(record.due_date),
        'note': record.note or '',
        }
    for i, line in enumerate(record.lines):
        values = {
            'product': str(line.product.id) if line.product else '',
            'description': line.description or '',
            'quantity': _plain(line.quantity),
            'price': _plain(line.unit_price),
            'tax': str(line.tax.id) if line.tax else '',
            }
        if record.entry == 'totals':
            # One line of quantity 1 per rate: its price is the net
            values['price'] = _plain(line.quantity * line.unit_price)
        for key, value in values.items():
            raw[f'lines-{i}-{key}'] = value
    return raw


def _plain(value):
    if value is None:
        return ''
    text = format(value, 'f')
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    return text


def _iso(date):
    return date.isoformat() if date else ''


def make_form(portal, raw, lookups, record=None):
    return CostForm(raw, lookups, portal.user.client.id, portal.company,
        _today(portal), record=record)


def _action(request):
    if request.form.get('remove_line'):
        return 'remove_line'
    action = request.form.get('action', 'save')
    if action not in ACTIONS:
        abort(HTTPStatus.BAD_REQUEST)
    return action


def _rows(form, action):
    "The typed lines, and an empty row when asked or when there is none"
    rows = list(form.lines)
    if not rows or action == 'add_line':
        rows.append(Line(max(max_index(form.raw),
                    max((l.index for l in rows), default=-1)) + 1, {}))
    return rows


def render_form(portal, form, upload, record=None, action=None,
        error=None, status=None):
    lookups = form.lookups
    if status is None:
        failed = form.errors or upload.error or error
        status = (HTTPStatus.UNPROCESSABLE_ENTITY
            if failed and action not in REDISPLAY else HTTPStatus.OK)
    # After any rollback: the kept file's queue entry must stay
    upload.keep()
    return portal.render('costs/form.html', status=status,
        form=form, upload=upload, record=record, error=error,
        rows=_rows(form, action), suppliers=lookups.suppliers,
        products=lookups.products, taxes=lookups.taxes,
        currencies=sorted(lookups.currencies),
        corrigible=lookups.corrigible,
        max_size=MAX_SIZE // (1024 * 1024), **choices(portal.pool))


def _post(request, portal, record):
    """Save (and submit when asked) a valid form; otherwise, or when the
    save is refused, the form again with every value typed and the scan
    kept"""
    CostInvoice = portal.pool.get('portal.cost.invoice')
    action = _action(request)
    if action in ('save', 'submit'):
        # One save at a time (trytond restarts the request holding the
        # lock): a double click's second request waits for the first and
        # finds its invoice as a duplicate instead of saving it again
        CostInvoice.lock()
    lookups = Lookups.load(portal.user.client.id, record)
    form = make_form(portal, request.form, lookups, record)
    upload = Upload(portal, request.form, request.files)
    has_scan = upload.scan is not None or bool(record and record.scan_id)
    if action == 'submit' and not has_scan and not upload.error:
        upload.error = gettext('client_portal.msg_cost_scan_missing')
    if action in REDISPLAY or form.errors or upload.error:
        return render_form(portal, form, upload, record, action)
    try:
        saved = CostInvoice.portal_save(portal.party, form.record_values(),
            form.line_values(), scan=upload.scan, record=record,
            actor=portal.web_user)
        if action == 'submit':
            CostInvoice.portal_submit(saved, actor=portal.web_user)
    except UserError as e:
        Transaction().rollback()
        if record is not None:
            record = CostInvoice(record.id)
        return render_form(portal, form, upload, record, action,
            error=e.message)
    return portal.redirect(f'costs/{saved.id}',
        saved='submitted' if action == 'submit' else 'draft')


@portal_route('/costs/new', methods=('GET', 'POST'))
@set_max_request_size(MAX_REQUEST)
def new_cost(request, portal):
    if request.method == 'POST':
        return _post(request, portal, None)
    lookups = Lookups.load(portal.user.client.id)
    raw = defaults(portal, lookups)
    if request.args.get('entry') == 'totals':
        raw['entry'] = 'totals'
    form = make_form(portal, raw, lookups)
    form.errors.clear()
    return render_form(portal, form, Upload(portal), status=HTTPStatus.OK)


@portal_route('/costs/<id:cost_id>/edit', methods=('GET', 'POST'))
@set_max_request_size(MAX_REQUEST)
def edit_cost(request, portal, cost_id):
    record = _own(portal, cost_id)
    if not record.editable:
        return render_page(portal, record, status=HTTPStatus.FORBIDDEN,
            error=gettext('client_portal.msg_cost_not_editable',
                number=record.number))
    if request.method == 'POST':
        return _post(request, portal, record)
    lookups = Lookups.load(portal.user.client.id, record)
    form = make_form(portal, form_of(record), lookups, record)
    form.errors.clear()
    form.duplicate = None
    return render_form(portal, form, Upload(portal), record,
        status=HTTPStatus.OK)


@portal_route('/costs/recalculate', methods=('POST',))
def recalculate(request, portal):
    """The totals of the typed form, swapped in by htmx while the client
    types; nothing is written"""
    lookups = Lookups.load(portal.user.client.id)
    form = make_form(portal, request.form, lookups)
    return portal.render('costs/_totals.html', form=form)


# --- the page ---------------------------------------------------------------

def page_lines(record):
    """The lines and the VAT per rate of a saved cost invoice, read once
    the record was read under the rules (the firm's taxes are settings
    the portal user does not read)"""
    CostInvoice = record.__class__
    with without_check_access():
        lines = [{
                'description': l.description or '',
                'product': l.product.name if l.product else '',
                'quantity': l.quantity,
                'quantity_digits': _decimals(l.quantity),
                'unit_price': l.unit_price,
                'net': l.amount,
                'tax': l.tax.description or l.tax.name if l.tax else '',
                } for l in CostInvoice(record.id).lines]
        _, _, _, rates = CostInvoice.compute_amounts(
            [(l.quantity, l.unit_price, l.tax)
                for l in CostInvoice(record.id).lines])
        rates = sorted(({'label': tax.description or tax.name,
                    'rate': tax.rate or 0, 'net': net, 'vat': vat,
                    'gross': net + vat}
                for tax, (net, vat) in rates.items()),
            key=lambda r: (-r['rate'], r['label']))
    return lines, rates


def _decimals(number):
    "The decimals a quantity needs: 2 shows as 2, 1.5 as 1.5"
    exponent = number.normalize().as_tuple().exponent if number else 0
    return max(0, -exponent)


def history(pool, record):
    """Who did what and when, oldest first; the back office's users are
    read for their names only"""
    Event = pool.get('portal.cost.invoice.event')
    labels = dict(Event.fields_get(['action'])['action']['selection'])
    with without_check_access():
        return [{
                'date': e.create_date,
                'kind': e.action,
                'action': labels.get(e.action, e.action),
                'actor': e.actor or '',
                'changes': e.changes or '',
                'reason': e.reason or '',
                } for e in Event.search([('cost_invoice', '=', record.id)])]


def render_page(portal, record, status=HTTPStatus.OK, error=None,
        saved=None):
    pool = portal.pool
    currency_of = pool.get('currency.currency').portal_currencies()
    lines, rates = page_lines(record)
    entry = None
    if record.subaccount and record.state in ('approved', 'paid'):
        entry = {
            'currency': currency_of[record.subaccount.currency.id],
            # The charge leaves the sub-account; a correction that lowers
            # the cost gives it back
            'amount': -(record.total_amount or 0),
            'date': record.receipt_date,
            }
    return portal.render('costs/page.html', status=status, cost=record,
        currency=currency_of[record.currency.id], lines=lines, rates=rates,
        events=history(pool, record), entry=entry, error=error,
        saved=saved, corrections=corrections_for(record),
        thread=comment_thread(portal, record), **choices(pool))


# Read-write: seeing the page marks the firm's replies to comments read
@portal_route('/costs/<id:cost_id>', readonly=False)
def cost_page(request, portal, cost_id):
    saved = request.args.get('saved')
    return render_page(portal, _own(portal, cost_id),
        saved=saved if saved in ('draft', 'submitted') else None)


@portal_route('/costs/<id:cost_id>/comments', methods=('POST',))
def cost_comment(request, portal, cost_id):
    return post_comment(request, portal, 'portal.cost.invoice', cost_id,
        lambda record: cost_page(request, portal, record.id))


@portal_route('/costs/<id:cost_id>/scan')
def cost_scan(request, portal, cost_id):
    """The scan as it was uploaded; ?inline=1 for the page's preview. The
    type is the one read from the content at upload, never guessed."""
    record = _own(portal, cost_id)
    if not record.scan_id:
        abort(HTTPStatus.NOT_FOUND)
    data = record.scan
    if not data:
        abort(HTTPStatus.NOT_FOUND)
    mimetype = record.scan_type if record.scan_type in TYPES \
        else 'application/octet-stream'
    inline = bool(request.args.get('inline'))
    name = record.scan_name or f'scan{TYPES.get(mimetype, "")}'
    response = Response(bytes(data), content_type=mimetype, headers={
            'Content-Disposition': content_disposition(
                'inline' if inline else 'attachment', name),
            'X-Content-Type-Options': 'nosniff',
            })
    if inline:
        # The one response the page may frame (the PDF preview); no
        # default-src: the browser's PDF viewer would be blocked
        response.headers['Content-Security-Policy'] = (
            "frame-ancestors 'self'")
        response.headers['X-Frame-Options'] = 'SAMEORIGIN'
    return portal.respond(response)


def _refused(portal, record, error, status):
    "A refused action changed nothing: the page again with the message"
    Transaction().rollback()
    return render_page(portal, _own(portal, record.id), status=status,
        error=error)


@portal_route('/costs/<id:cost_id>/submit', methods=('POST',))
def submit_cost(request, portal, cost_id):
    CostInvoice = portal.pool.get('portal.cost.invoice')
    record = _own(portal, cost_id)
    try:
        CostInvoice.portal_submit(record, actor=portal.web_user)
    except UserError as e:
        return _refused(portal, record, e.message,
            HTTPStatus.UNPROCESSABLE_ENTITY if record.editable
            else HTTPStatus.FORBIDDEN)
    return portal.redirect(f'costs/{record.id}', saved='submitted')


@portal_route('/costs/<id:cost_id>/delete', methods=('POST',))
def delete_cost(request, portal, cost_id):
    "A draft never submitted may go; anything else stays"
    CostInvoice = portal.pool.get('portal.cost.invoice')
    record = _own(portal, cost_id)
    try:
        CostInvoice.portal_delete(record)
    except UserError as e:
        return _refused(portal, record, e.message, HTTPStatus.FORBIDDEN)
    return portal.redirect('costs', deleted=1)
