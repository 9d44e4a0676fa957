"""The client's contractors (its own customers): list, create, edit,
deactivate, and the quick form of the invoice editor. Reads and writes run
as the portal service user: the record rules hide other clients'
contractors, so their ids are 404."""
import json

from markupsafe import Markup, escape

from trytond.protocols.wrappers import HTTPStatus, Response, abort, redirect
from trytond.transaction import Transaction

from ..contractor import CONTRACTOR_FIELDS
from .access import portal_route, safe_next
from .query import PER_PAGE, QueryArgs, escape_like

SORTS = ('name', 'create_date')
# Field names of the quick forms: the invoice editor's page has its own
# fields with the plain names
QUICK_PREFIX = 'qc-'


class Filters(QueryArgs):
    "Search by name or tax number, active or deactivated, sort, pages"

    def __init__(self, args):
        super().__init__(args)
        self.paging(SORTS, 'name', 'asc')
        self.show = self._choice('show', ('active', 'inactive'), 'active')
        self.domain.append(('active', '=', self.show == 'active'))
        q = self._value('q')[:100]
        if q:
            clause = ['OR', ('name', 'ilike', f'%{escape_like(q)}%')]
            compact = ''.join(c for c in q if c.isalnum())
            if compact:
                clause.append(('identifiers.code_compact', 'ilike',
                        f'%{escape_like(compact.upper())}%'))
            self.domain.append(clause)


def form_values(form, names, prefix=''):
    "The posted fields of a form, without the prefix of the quick forms"
    return {name: form.get(prefix + name, '').strip() for name in names}


def prefixed(errors, prefix):
    return {prefix + k: v for k, v in errors.items()}


def get_any_or_404(portal, model, id_):
    "The record, deactivated or not, if the client may read it"
    with Transaction().set_context(active_test=False):
        return portal.get_or_404(model, id_)


def set_active(record, active):
    # write, not save(): save() skips the record rules
    record.__class__.write([record], {'active': active})


def quick_response(portal, option, event, payload):
    """The invoice editor's quick form succeeded: the new <option> and an
    htmx event the editor's script puts into its select"""
    response = Response(option, content_type='text/html; charset=utf-8')
    # ASCII JSON: a header holds only Latin-1
    response.headers['HX-Trigger'] = json.dumps({event: payload})
    return portal.respond(response)


def quick_errors(portal, template, target, **context):
    """The quick form again with its messages, swapped into the modal's
    body (status 200: htmx swaps no error response)"""
    response = portal.render(template, **context)
    response.headers['HX-Retarget'] = target
    response.headers['HX-Reswap'] = 'innerHTML'
    return response


def is_htmx(request):
    return request.headers.get('HX-Request') == 'true'


def _countries(portal):
    "(code, name) of the countries, named in the page's language"
    Country = portal.pool.get('country.country')
    return [(c['code'], c['name']) for c in Country.search_read(
            [], fields_names=['code', 'name'], order=[('name', 'ASC')])]


def _render_form(portal, party, form, errors, next_=None, status=None):
    return portal.render('contractors/form.html',
        status=status or (
            HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK),
        contractor=party, form=form, errors=errors, prefix='',
        countries=_countries(portal), next=next_ or '',
        page='contractors')


@portal_route('/contractors')
def contractors(request, portal):
    Party = portal.pool.get('party.party')
    filters = Filters(request.args)
    domain = [('portal_owner', '=', portal.user.client.id), *filters.domain]
    with Transaction().set_context(active_test=False):
        count = Party.search_count(domain)
        pages = filters.pages(count)
        parties = Party.search(domain, offset=filters.offset,
            limit=filters.per_page, order=filters.order)
        rows = [(p.id, Party.portal_contractor_values(p)) for p in parties]
    template = ('contractors/results.html' if is_htmx(request)
        else 'contractors/list.html')
    return portal.render(template, filters=filters, rows=rows, count=count,
        pages=pages, per_page_options=PER_PAGE,
        saved=request.args.get('saved'))


@portal_route('/contractors/new', methods=('GET', 'POST'))
def new_contractor(request, portal):
    Party = portal.pool.get('party.party')
    if request.method == 'GET':
        return _render_form(portal, None,
            Party.portal_contractor_values(None), {},
            safe_next(portal, request.args.get('next')))
    return _save_full(request, portal,
        form_values(request.form, CONTRACTOR_FIELDS))


@portal_route('/contractors/<id:contractor_id>', methods=('GET', 'POST'))
def contractor(request, portal, contractor_id):
    Party = portal.pool.get('party.party')
    party = get_any_or_404(portal, 'party.party', contractor_id)
    if party.portal_owner is None:
        # The client's own party and the firm's are readable, not here
        abort(HTTPStatus.NOT_FOUND)
    if request.method == 'GET':
        return _render_form(portal, party,
            Party.portal_contractor_values(party), {})
    form = form_values(request.form, CONTRACTOR_FIELDS)
    party, errors = Party.portal_save_contractor(
        portal.user.client.id, party, form)
    if errors:
        return _render_form(portal, party, form, errors)
    return portal.redirect('contractors', saved='updated')


@portal_route('/contractors/<id:contractor_id>/deactivate', methods=('POST',))
def deactivate_contractor(request, portal, contractor_id):
    return _set_active(portal, contractor_id, False)


@portal_route('/contractors/<id:contractor_id>/activate', methods=('POST',))
def activate_contractor(request, portal, contractor_id):
    return _set_active(portal, contractor_id, True)


def _set_active(portal, contractor_id, active):
    party = get_any_or_404(portal, 'party.party', contractor_id)
    if party.portal_owner is None:
        abort(HTTPStatus.NOT_FOUND)
    set_active(party, active)
    return portal.redirect('contractors',
        saved='activated' if active else 'deactivated')


@portal_route('/contractors/quick', methods=('GET', 'POST'))
def quick_contractor(request, portal):
    """The invoice editor's modal form (htmx); posted without JavaScript
    it behaves as the full page"""
    Party = portal.pool.get('party.party')
    context = {'countries': _countries(portal), 'prefix': QUICK_PREFIX}
    if request.method == 'GET':
        return portal.render('contractors/quick_form.html',
            form=Party.portal_contractor_values(None), errors={}, **context)
    form = form_values(request.form, CONTRACTOR_FIELDS, QUICK_PREFIX)
    if not is_htmx(request):
        return _save_full(request, portal, form)
    party, errors = Party.portal_save_contractor(
        portal.user.client.id, None, form)
    if errors:
        return quick_errors(portal, 'contractors/quick_form.html',
            '#contractor-quick-body', form=form,
            errors=prefixed(errors, QUICK_PREFIX), **context)
    option = Markup('<option value="{}" selected>{}</option>').format(
        party.id, escape(party.name))
    return quick_response(portal, option, 'contractorCreated',
        {'id': party.id, 'name': party.name})


def _save_full(request, portal, form):
    "Save a new contractor; back to the page it was asked from, if any"
    Party = portal.pool.get('party.party')
    next_ = safe_next(portal, request.form.get('next'))
    _, errors = Party.portal_save_contractor(
        portal.user.client.id, None, form)
    if errors:
        return _render_form(portal, None, form, errors, next_)
    if next_:
        return portal.respond(redirect(next_, code=HTTPStatus.SEE_OTHER))
    return portal.redirect('contractors', saved='created')
