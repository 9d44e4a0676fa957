"""Corrections of the client's received cost invoices (issue 7, item 4):
the form that generates a correction request to the supplier (or, for an
invoice dated before 2026-02-01, a nota korygująca), its PDF, and sending
its e-mail again. The rows of wrong data are added and removed by posting
the form, so that it works without JavaScript. Records are read under the
portal's record rules; the model's portal_* methods write."""
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, abort, redirect
from trytond.transaction import Transaction, without_check_access

from ..cost_correction import CORRIGIBLE_STATES, ITEM_FIELDS, LIMITS
from .access import portal_route, safe_next

VALUES = ('kind', 'language', 'recipient', 'message')
ACTIONS = ('send', 'add_item')
# A form's rows beyond this are not read: a datum per row is plenty
MAX_ROWS = 50
# What is typically wrong on a received invoice, in the document's
# language: the firm is the buyer, so its data come first
SUGGESTIONS = {
    'pl': ["Nazwa nabywcy", "Adres nabywcy", "NIP nabywcy",
        "Nazwa sprzedawcy", "Adres sprzedawcy", "NIP sprzedawcy",
        "Numer faktury", "Data wystawienia", "Data sprzedaży",
        "Nazwa towaru lub usługi", "Termin płatności",
        "Numer rachunku bankowego"],
    'en': ["Buyer's name", "Buyer's address", "Buyer's tax number (NIP)",
        "Seller's name", "Seller's address", "Seller's tax number",
        "Invoice number", "Issue date", "Date of sale",
        "Name of the goods or service", "Due date", "Bank account number"],
    }


class Row:
    "One posted row of wrong data, with the messages of its fields"

    def __init__(self, index, values):
        self.index = index
        self.values = values
        self.errors = {}

    def value(self, name):
        return self.values.get(name, '')

    @property
    def blank(self):
        return not any(self.values.get(n) for n in ITEM_FIELDS)


class CorrectionForm:
    """The posted form: the values, the rows typed (blank ones dropped),
    and the messages next to each field once validated"""

    def __init__(self, raw, remove=None):
        self.raw = raw
        self.values = {name: (raw.get(name) or '').strip()
            for name in VALUES}
        self.rows = [r for r in _rows(raw)
            if not r.blank and str(r.index) != remove]
        self.errors = {}

    def validate(self, Correction, cost_invoice):
        "Check with the model's rules; True when nothing is refused"
        errors = Correction.portal_errors(
            cost_invoice, self.values, self.item_values())
        for key, message in errors.items():
            if isinstance(key, tuple):
                position, name = key
                self.rows[position].errors[name] = message
            else:
                self.errors[key] = message
        return not errors

    def item_values(self):
        return [{n: row.value(n) for n in ITEM_FIELDS} for row in self.rows]

    @property
    def has_errors(self):
        return bool(self.errors or any(r.errors for r in self.rows))

    def display_rows(self, add=False):
        "The typed rows, and an empty one when asked or when none is left"
        rows = list(self.rows)
        if add or not rows:
            rows.append(Row(max([_max_index(self.raw)]
                        + [r.index for r in rows]) + 1, {}))
        return rows


def _rows(raw):
    "The rows of the posted fields items-<index>-<name>, in index order"
    rows = {}
    for key, value in raw.items():
        parts = key.split('-')
        if (len(parts) != 3 or parts[0] != 'items'
                or not parts[1].isdigit() or parts[2] not in ITEM_FIELDS
                or len(parts[1]) > 4):
            continue
        rows.setdefault(int(parts[1]), {})[parts[2]] = (value or '').strip()
    return [Row(i, rows[i]) for i in sorted(rows)[:MAX_ROWS]]


def _max_index(raw):
    return max((r.index for r in _rows(raw)), default=-1)


class Entry(NamedTuple):
    "A correction as the list of a cost invoice shows it"
    id: int
    number: str
    kind: str
    kind_label: str
    date: object
    recipient: str
    state: str
    state_label: str
    error: str
    attempts: int
    sent_at: object
    pdf_path: str
    resend_path: str

    @property
    def can_resend(self):
        return self.state != 'queued'


def labels(Correction):
    "The translated selections of a correction"
    fields = Correction.fields_get(['kind', 'language', 'delivery_state'])
    return {name: dict(fields[name]['selection'])
        for name in ('kind', 'language', 'delivery_state')}


def corrections_for(cost_invoice):
    """The cost invoice's correction requests and notes, newest first, as
    templates/costs/_corrections.html lists them; read under the caller's
    rules (a portal page sees its client's only)"""
    Correction = Pool().get('portal.cost.correction')
    names = labels(Correction)
    records = Correction.search([('cost_invoice', '=', cost_invoice.id)],
        order=[('id', 'DESC')])
    base = f'costs/{cost_invoice.id}/corrections'
    return [Entry(
            id=r.id, number=r.number or '', kind=r.kind,
            kind_label=names['kind'].get(r.kind, r.kind), date=r.date,
            recipient=r.recipient, state=r.delivery_state,
            state_label=names['delivery_state'].get(
                r.delivery_state, r.delivery_state),
            error=r.delivery_error or '', attempts=r.attempts or 0,
            sent_at=r.sent_at,
            pdf_path=f'{base}/{r.id}/pdf',
            resend_path=f'{base}/{r.id}/resend')
        for r in records]


# --- reading under the rules ------------------------------------------------

def _cost(portal, cost_id):
    "The client's cost invoice, else 404 (the rules hide the others')"
    return portal.get_or_404('portal.cost.invoice', cost_id)


def _correction(portal, cost, correction_id):
    "A correction of that cost invoice of the client, else 404"
    correction = portal.get_or_404('portal.cost.correction', correction_id)
    if correction.cost_invoice.id != cost.id:
        abort(HTTPStatus.NOT_FOUND)
    return correction


def _refused(portal, cost, error, status):
    "The cost invoice's page with the message; nothing was changed"
    # Late: web/costs.py may import this module for its page
    from . import costs
    Transaction().rollback()
    return costs.render_page(portal, _cost(portal, cost.id), status=status,
        error=error)


# --- the form ---------------------------------------------------------------

def _firm(cost):
    """The buyer the invoice must name, as the form reminds it: the firm's
    name, address and NIP (settings the portal user does not read)"""
    with without_check_access():
        party = cost.company.party
        address = party.address_get()
        identifier = party.tax_identifier
        return {
            'name': party.name,
            'address': ', '.join(address.full_address.splitlines())
            if address else '',
            'tax_number': identifier.code if identifier else '',
            }


def _defaults(Correction, cost):
    # The supplier's language and e-mail: its contact data, read once the
    # cost invoice was read under the rules
    with without_check_access():
        return Correction.portal_defaults(cost.__class__(cost.id))


def render_form(portal, cost, form, rows, error=None, status=None):
    Correction = portal.pool.get('portal.cost.correction')
    names = labels(Correction)
    kinds = Correction.kinds_allowed(cost)
    if status is None:
        status = (HTTPStatus.UNPROCESSABLE_ENTITY
            if form.has_errors or error else HTTPStatus.OK)
    language = form.values.get('language')
    return portal.render('costs/correction.html', status=status,
        cost=cost, form=form, rows=rows, error=error,
        kinds=[(k, names['kind'][k]) for k in kinds],
        languages=list(names['language'].items()),
        firm=_firm(cost), limits=LIMITS,
        suggestions=SUGGESTIONS.get(language, SUGGESTIONS['pl']),
        corrections=corrections_for(cost), page='costs')


def _form_action(request):
    if request.form.get('remove_item'):
        return 'remove_item'
    action = request.form.get('action', 'send')
    if action not in ACTIONS:
        abort(HTTPStatus.BAD_REQUEST)
    return action


def _not_corrigible(portal, cost):
    return _refused(portal, cost, gettext(
            'client_portal.msg_cost_correction_not_approved',
            number=cost.number), HTTPStatus.FORBIDDEN)


@portal_route('/costs/<id:cost_id>/correction', methods=('GET', 'POST'))
def correction(request, portal, cost_id):
    Correction = portal.pool.get('portal.cost.correction')
    cost = _cost(portal, cost_id)
    if cost.state not in CORRIGIBLE_STATES:
        return _not_corrigible(portal, cost)
    if request.method == 'GET':
        form = CorrectionForm(_defaults(Correction, cost))
        return render_form(portal, cost, form, form.display_rows())
    action = _form_action(request)
    form = CorrectionForm(request.form,
        remove=request.form.get('remove_item'))
    if action in ('add_item', 'remove_item'):
        return render_form(portal, cost, form,
            form.display_rows(add=action == 'add_item'),
            status=HTTPStatus.OK)
    if not form.validate(Correction, cost):
        return render_form(portal, cost, form, form.display_rows())
    try:
        Correction.portal_create(cost, form.values, form.item_values(),
            actor=portal.web_user)
    except UserError as e:
        Transaction().rollback()
        cost = _cost(portal, cost_id)
        return render_form(portal, cost, form, form.display_rows(),
            error=e.message, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    return portal.redirect(f'costs/{cost.id}', correction='sent')


# --- a correction ----------------------------------------------------------

@portal_route('/costs/<id:cost_id>/corrections/<id:correction_id>/pdf')
def correction_pdf(request, portal, cost_id, correction_id):
    "The PDF as it was sent to the supplier"
    correction = _correction(portal, _cost(portal, cost_id), correction_id)
    content = correction.pdf if correction.pdf_id else None
    if not content:
        abort(HTTPStatus.NOT_FOUND)
    return portal.pdf(content, correction.pdf_name,
        inline=bool(request.args.get('inline')))


@portal_route('/costs/<id:cost_id>/corrections/<id:correction_id>/resend',
    methods=('POST',))
def resend(request, portal, cost_id, correction_id):
    "Send the e-mail again; back to the page the button was on"
    Correction = portal.pool.get('portal.cost.correction')
    cost = _cost(portal, cost_id)
    correction = _correction(portal, cost, correction_id)
    try:
        Correction.portal_resend(correction)
    except UserError as e:
        return _refused(portal, cost, e.message, HTTPStatus.CONFLICT)
    next_ = safe_next(portal, request.form.get('next'))
    if next_:
        return portal.respond(redirect(
                _with_flash(next_, 'resent'), code=HTTPStatus.SEE_OTHER))
    return portal.redirect(f'costs/{cost.id}', correction='resent')


def _with_flash(url, flash):
    "The URL with ?correction=<flash>, in place of any earlier one"
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query)
        if k != 'correction'] + [('correction', flash)]
    return urlunsplit(parts._replace(query=urlencode(query)))
