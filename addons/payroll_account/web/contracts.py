"""The client's contracts with its people: the list, the form from a
template with its PDF preview (saved as a draft or issued), the contract's
page with its text, stored PDF, amendment, termination and bills"""
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.transaction import Transaction

from client_portal.web.contractors import is_htmx
from client_portal.web.comments import comment_thread, post_comment
from client_portal.web.query import PER_PAGE, QueryArgs, escape_like

from ..contract import STATES, TERMS
from ..contractor import message, parse_date
from .common import form_values, own, payroll_route, render_form

SORTS = ('date', 'number', 'start_date')
FORM_ACTIONS = ('preview', 'save', 'issue')
REASON_MAX = 2000


class Filters(QueryArgs):
    "State, person, search by number or subject; sort and pages"

    def __init__(self, args, people):
        super().__init__(args)
        self.paging(SORTS, 'date')
        self.filter_equal('state', 'state', {s: s for s, _ in STATES})
        self.filter_equal('person', 'contractor', {str(p): p for p in people})
        q = self._value('q')[:100]
        if q:
            like = f'%{escape_like(q)}%'
            self.domain.append(['OR', ('number', 'ilike', like),
                    ('subject', 'ilike', like)])

    @property
    def order(self):
        direction = self.direction.upper()
        nulls = ' NULLS LAST' if direction == 'DESC' else ' NULLS FIRST'
        return [(self.sort, direction + nulls), ('id', direction)]


def people(portal):
    "{id: name} of the client's people, for the selects"
    Contractor = portal.pool.get('payroll.contractor')
    return {c.id: c.name for c in Contractor.search(
            [('client', '=', portal.user.client.id)])}


def form_context(portal):
    "The choices of the contract form: the client's templates and people"
    pool = portal.pool
    Template = pool.get('payroll.contract.template')
    Currency = pool.get('currency.currency')
    client = portal.user.client.id
    # The rules show the templates the managers allowed for the client
    templates = [t for t in Template.search([], order=[('name', 'ASC')])
        if t.allowed_for(client)]
    return {
        'templates': [(str(t.id), t.name) for t in templates],
        'people': [(str(i), n) for i, n in people(portal).items()],
        'currencies': sorted({(c.code, c.code)
                for c in Currency.portal_currencies().values()}),
        }


def _form(portal, contract, form, errors, amend=False, error=None):
    return render_form(portal, 'payroll/contract_form.html', errors,
        contract=contract, form=form, amend=amend, error=error,
        **form_context(portal))


def _action(request, choices):
    action = request.form.get('action', '')
    if action not in choices:
        abort(HTTPStatus.BAD_REQUEST)
    return action


def _preview(portal, contract, form, amend=False):
    "The form's contract as a PDF shown by the browser, or the form again"
    Contract = portal.pool.get('payroll.contract')
    pdf, errors = Contract.preview_pdf(portal.user.client.id, form)
    if errors:
        return _form(portal, contract, form, errors, amend=amend)
    return portal.pdf(pdf, 'preview.pdf', inline=True)


def _issue_failed(portal, contract, form, error, amend=False):
    "An issue refused by the model: undo what was written, say why"
    Transaction().rollback()
    return _form(portal, contract, form, {}, amend=amend, error=error)


# --- the list ---------------------------------------------------------------

@payroll_route('/contracts')
def contracts(request, portal):
    Contract = portal.pool.get('payroll.contract')
    names = people(portal)
    filters = Filters(request.args, names)
    domain = [('client', '=', portal.user.client.id), *filters.domain]
    count = Contract.search_count(domain)
    pages = filters.pages(count)
    records = Contract.search(domain, offset=filters.offset,
        limit=filters.per_page, order=filters.order)
    template = ('payroll/contracts_results.html' if is_htmx(request)
        else 'payroll/contracts.html')
    return portal.render(template, page='contracts', filters=filters,
        contracts=records, count=count, pages=pages, people=names,
        per_page_options=PER_PAGE, saved=request.args.get('saved'))


# --- the form ---------------------------------------------------------------

@payroll_route('/contracts/new', methods=('GET', 'POST'))
def new_contract(request, portal):
    Contract = portal.pool.get('payroll.contract')
    if request.method == 'GET':
        form = Contract.portal_values(None)
        # "New contract" from a person's row
        if request.args.get('person', '').isdigit():
            form['contractor'] = request.args['person']
        return _form(portal, None, form, {})
    return _post_form(request, portal, None)


# Read-write: seeing the page marks the firm's replies to comments read
@payroll_route('/contracts/<id:contract_id>', methods=('GET', 'POST'),
    readonly=False)
def contract(request, portal, contract_id):
    Contract = portal.pool.get('payroll.contract')
    record = own(portal, 'payroll.contract', contract_id)
    if request.method == 'POST':
        if record.state != 'draft':
            abort(HTTPStatus.BAD_REQUEST)
        return _post_form(request, portal, record)
    if record.state == 'draft':
        return _form(portal, record, Contract.portal_values(record), {})
    return _detail(request, portal, record)


def _post_form(request, portal, record):
    "Preview, save or issue the posted form of a new or draft contract"
    Contract = portal.pool.get('payroll.contract')
    action = _action(request, FORM_ACTIONS)
    form = form_values(request.form, TERMS)
    if action == 'preview':
        return _preview(portal, record, form)
    saved, errors = Contract.portal_save(portal.user.client.id, record, form)
    if errors:
        return _form(portal, record, form, errors)
    if action == 'issue':
        try:
            Contract.issue([saved])
        except UserError as e:
            return _issue_failed(portal, record, form, e.message)
        return portal.redirect(f'contracts/{saved.id}', saved='issued')
    return portal.redirect(f'contracts/{saved.id}', saved='updated'
        if record else 'created')


# --- an issued contract -----------------------------------------------------

def _detail(request, portal, record, terminate_form=None, errors=None):
    Contract = portal.pool.get('payroll.contract')
    Bill = portal.pool.get('payroll.bill')
    versions = Contract.search([
            ('client', '=', portal.user.client.id),
            ('number', '=', record.number),
            ], order=[('version', 'ASC')])
    bills = Bill.search([('contract', 'in', [v.id for v in versions])],
        order=[('period_start', 'DESC'), ('id', 'DESC')])
    return portal.render('payroll/contract.html', page='contracts',
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK,
        contract=record, versions=versions, bills=bills,
        saved=request.args.get('saved'), errors=errors or {},
        terminate_form=terminate_form or {'date': '', 'reason': ''},
        thread=comment_thread(portal, record))


@payroll_route('/contracts/<id:contract_id>/comments', methods=('POST',))
def contract_comment(request, portal, contract_id):
    return post_comment(request, portal, 'payroll.contract', contract_id,
        lambda record: _detail(request, portal, record))


@payroll_route('/contracts/<id:contract_id>.pdf')
def contract_pdf(request, portal, contract_id):
    record = own(portal, 'payroll.contract', contract_id)
    if not record.pdf:
        abort(HTTPStatus.NOT_FOUND)
    return portal.pdf(record.pdf, record.pdf_name)


@payroll_route('/contracts/<id:contract_id>/amend', methods=('GET', 'POST'))
def amend(request, portal, contract_id):
    Contract = portal.pool.get('payroll.contract')
    record = own(portal, 'payroll.contract', contract_id)
    if record.state != 'issued':
        # Only the contract in force is amended
        if request.method == 'POST':
            abort(HTTPStatus.BAD_REQUEST)
        return portal.redirect(f'contracts/{record.id}')
    if request.method == 'GET':
        return _form(portal, record, Contract.portal_values(record), {},
            amend=True)
    action = _action(request, ('preview', 'amend'))
    form = form_values(request.form, TERMS)
    if action == 'preview':
        return _preview(portal, record, form, amend=True)
    try:
        new, errors = Contract.portal_amend(
            portal.user.client.id, record, form)
    except UserError as e:
        return _issue_failed(portal, record, form, e.message, amend=True)
    if errors:
        return _form(portal, record, form, errors, amend=True)
    return portal.redirect(f'contracts/{new.id}', saved='amended')


@payroll_route('/contracts/<id:contract_id>/terminate', methods=('POST',))
def terminate(request, portal, contract_id):
    Contract = portal.pool.get('payroll.contract')
    record = own(portal, 'payroll.contract', contract_id)
    if record.state != 'issued':
        abort(HTTPStatus.BAD_REQUEST)
    form = form_values(request.form, ('date', 'reason'))
    errors = {}
    date, error = parse_date(form['date'])
    if error:
        errors['date'] = error
    elif date and date < record.start_date:
        errors['date'] = message('contract_end_before_start')
    if len(form['reason']) > REASON_MAX:
        errors['reason'] = gettext('client_portal.msg_too_long')
    if errors:
        return _detail(request, portal, record, form, errors)
    Contract.terminate([record], date=date, reason=form['reason'] or None)
    return portal.redirect(f'contracts/{record.id}', saved='terminated')
