"""The editor of the client's invoices, proformas and corrections: new and
draft documents, the live recalculation and the line rows (htmx), save,
preview and issue. Without JavaScript every button posts the whole form and
the page comes back computed the same way."""
import datetime

from trytond.exceptions import UserError
from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.transaction import Transaction

from ..outgoing_form import InvoiceForm, Line, Lookups
from .access import portal_route

ACTIONS = ('save', 'preview', 'issue', 'proforma', 'add_line',
    'remove_line', 'recalculate')


def load_lookups(portal):
    "What the client may choose, read under the portal's rules"
    return Lookups.load(portal.user.client.id, portal.company.id)


def defaults(portal, lookups, currency=None):
    "A new document's form: today, the first template, its terms"
    today = _today(portal)
    template = next(iter(lookups.templates.values()), None)
    if currency not in lookups.subaccounts:
        currency = ('PLN' if 'PLN' in lookups.subaccounts
            else next(iter(sorted(lookups.subaccounts)), ''))
    days = template.payment_days if template else 14
    return {
        'template': str(template.id) if template else '',
        'currency': currency,
        'language': portal.language if portal.language in ('pl', 'en')
        else 'pl',
        'invoice_date': today.isoformat(),
        'sale_date': today.isoformat(),
        'payment_method': template.payment_method if template else 'transfer',
        'due_date': (today + datetime.timedelta(days=days)).isoformat(),
        'send': '1',
        }


def form_of(invoice):
    "The editor's values of a saved draft"
    raw = {
        'contractor': str(invoice.party.id),
        'template': str(invoice.portal_template.id)
        if invoice.portal_template else '',
        'currency': invoice.currency.code,
        'language': invoice.portal_language or '',
        'invoice_date': _iso(invoice.invoice_date),
        'sale_date': _iso(invoice.portal_sale_date),
        'payment_method': invoice.portal_payment_method or '',
        'due_date': _iso(invoice.portal_due_date),
        'note': invoice.comment or '',
        'reason': invoice.portal_correction_reason or '',
        'send': '1',
        }
    lines = [l for l in invoice.lines
        if l.type == 'line' and l.portal_side != 'before']
    for i, line in enumerate(lines):
        price = line.portal_list_price
        if price is None:
            price = line.unit_price
        values = {
            'product': line.portal_product.id if line.portal_product else '',
            'description': line.description or '',
            'unit': line.unit.id if line.unit else '',
            'quantity': _plain(line.quantity),
            'price': _plain(price),
            'discount': _plain(line.portal_discount)
            if line.portal_discount else '',
            'tax': line.taxes[0].id if line.taxes else '',
            'gtu': line.portal_gtu or '',
            }
        for key, value in values.items():
            raw[f'lines-{i}-{key}'] = str(value)
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


def _today(portal):
    Document = portal.pool.get('portal.document')
    return Document.today()


def _fill_from_products(raw, lookups):
    """A line with a product and nothing typed takes the product's name,
    unit, price, VAT rate and GTU code (the same with or without JS)"""
    raw = dict(raw)
    for key, value in list(raw.items()):
        if not key.endswith('-product') or not value.strip():
            continue
        try:
            product = lookups.products.get(int(value))
        except ValueError:
            continue
        if not product:
            continue
        prefix = key[:-len('product')]
        for name, field in [('description', 'name'), ('unit', 'unit'),
                ('price', 'unit_price'), ('tax', 'tax'), ('gtu', 'gtu')]:
            if not (raw.get(prefix + name) or '').strip():
                value = product[field]
                raw[prefix + name] = '' if value is None else _plain(value) \
                    if name == 'price' else str(value)
    return raw


def make_form(portal, raw, lookups, kind):
    raw = _fill_from_products(raw, lookups)
    return InvoiceForm(raw, lookups, kind=kind, today=_today(portal))


def render_editor(portal, form, invoice=None, error=None, status=None):
    lookups = form.lookups
    return portal.render('invoices/editor.html',
        status=status or (HTTPStatus.UNPROCESSABLE_ENTITY if form.errors
            and _action_of(form.raw) not in ('add_line', 'remove_line',
                'recalculate') else HTTPStatus.OK),
        form=form, invoice=invoice, error=error,
        rows=_rows(form),
        contractors=lookups.contractors, products=lookups.products,
        templates=lookups.templates, taxes=lookups.taxes,
        units=lookups.units, currencies=sorted(lookups.subaccounts),
        **choices(portal))


def choices(portal):
    "Translated selections of the editor"
    Invoice = portal.pool.get('account.invoice')
    Line = portal.pool.get('account.invoice.line')
    fields = Invoice.fields_get(['portal_payment_method', 'portal_language'])
    line_fields = Line.fields_get(['portal_gtu'])
    return {
        'payment_methods': [s for s in
            fields['portal_payment_method']['selection'] if s[0]],
        'languages': [s for s in
            fields['portal_language']['selection'] if s[0]],
        'gtu_codes': [s for s in line_fields['portal_gtu']['selection']
            if s[0]],
        }


def _rows(form):
    "The typed lines, and one empty row to type into when asked or none"
    rows = list(form.lines)
    next_index = max([l.index for l in rows]
        + [_max_index(form.raw)], default=-1) + 1
    if not rows or _action_of(form.raw) == 'add_line':
        rows.append(Line(next_index, {}))
    return rows


def _max_index(raw):
    indexes = [int(k.split('-')[1]) for k in raw
        if k.startswith('lines-') and k.split('-')[1].isdigit()]
    return max(indexes, default=-1)


def _action_of(raw):
    if raw.get('remove_line'):
        return 'remove_line'
    return raw.get('action', 'save')


def _action(request):
    action = _action_of(request.form)
    if action not in ACTIONS:
        abort(HTTPStatus.BAD_REQUEST)
    return action


def _submit(portal, request, form, invoice):
    """Save the draft and, when asked, issue it; an issue that fails rolls
    everything back and shows the draft as typed with the message"""
    Invoice = portal.pool.get('account.invoice')
    action = _action(request)
    if action in ('add_line', 'remove_line', 'recalculate') \
            or not form.valid:
        return render_editor(portal, form, invoice)
    client = portal.party
    try:
        invoice = Invoice.portal_save_draft(client, form, invoice)
        if action in ('issue', 'proforma'):
            invoice = Invoice.portal_issue(invoice,
                proforma=action == 'proforma', send=form.send)
    except UserError as e:
        Transaction().rollback()
        if invoice is not None:
            invoice = Invoice(invoice.id)
        return render_editor(portal, form,
            invoice if invoice and invoice.id and invoice.id > 0 else None,
            error=e.message, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    if action == 'preview':
        return portal.redirect(f'invoices/{invoice.id}', preview=1)
    return portal.redirect(f'invoices/{invoice.id}')


@portal_route('/invoices/new', methods=('GET', 'POST'), readonly=False)
def new_invoice(request, portal):
    lookups = load_lookups(portal)
    if request.method == 'GET':
        raw = defaults(portal, lookups, request.args.get('currency'))
        form = make_form(portal, raw, lookups, 'invoice')
        form.errors.clear()
        return render_editor(portal, form)
    form = make_form(portal, request.form, lookups, 'invoice')
    return _submit(portal, request, form, None)


@portal_route('/invoices/<id:invoice_id>/edit', methods=('GET', 'POST'),
    readonly=False)
def edit_invoice(request, portal, invoice_id):
    invoice = portal.get_or_404('account.invoice', invoice_id)
    if not invoice.portal_issuer:
        abort(HTTPStatus.NOT_FOUND)
    if not invoice.portal_editable:
        return portal.redirect(f'invoices/{invoice.id}')
    lookups = load_lookups(portal)
    kind = invoice.portal_kind or 'invoice'
    if request.method == 'GET':
        form = make_form(portal, form_of(invoice), lookups, kind)
        form.errors.clear()
        return render_editor(portal, form, invoice)
    form = make_form(portal, request.form, lookups, kind)
    return _submit(portal, request, form, invoice)


@portal_route('/invoices/recalculate', methods=('POST',), readonly=True)
def recalculate(request, portal):
    """The computed cells and totals of the typed form, swapped in by
    htmx while the client types; nothing is written"""
    lookups = load_lookups(portal)
    kind = request.form.get('kind')
    if kind not in ('invoice', 'correction'):
        kind = 'invoice'
    form = make_form(portal, request.form, lookups, kind)
    return portal.render('invoices/computed.html', form=form,
        rows=form.lines, taxes=lookups.taxes)


@portal_route('/invoices/line', methods=('POST',), readonly=True)
def line_row(request, portal):
    """One line row: a new empty one (index given), or the row whose
    product was just chosen, filled from the product"""
    lookups = load_lookups(portal)
    index = request.form.get('index')
    if index is None:
        # "Add line": the row after the last one of the form
        index = _max_index(request.form) + 1
    try:
        index = int(index)
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST)
    if not 0 <= index < 1000:
        abort(HTTPStatus.BAD_REQUEST)
    prefix = f'lines-{index}-'
    raw = {k[len(prefix):]: v for k, v in request.form.items()
        if k.startswith(prefix)}
    if raw.get('product'):
        # The product chosen replaces what the row held
        raw = {'product': raw['product'], 'quantity': raw.get('quantity')
            or '1'}
    filled = _fill_from_products(
        {prefix + k: v for k, v in raw.items()}, lookups)
    line = Line(index, {k[len(prefix):]: v for k, v in filled.items()})
    form = make_form(portal, {**filled, 'currency': request.form.get(
                'currency', ''), 'template': request.form.get(
                'template', '')}, lookups, 'invoice')
    computed = {l.index: l for l in form.lines}
    return portal.render('invoices/line.html', line=computed.get(index, line),
        form=form, products=lookups.products, taxes=lookups.taxes,
        units=lookups.units, **choices(portal))
