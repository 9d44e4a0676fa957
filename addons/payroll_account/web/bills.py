"""The client's payroll bills (rachunki): a new bill from a contract with
its "Calculate" step showing every component, saved as a draft or issued
(numbered, charged to the sub-account, its PDF stored); the bill's page
with all figures and the PDF; the list with filters by person and period"""
from dateutil.relativedelta import relativedelta

from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.transaction import Transaction

from client_portal.web.contractors import is_htmx
from client_portal.web.query import PER_PAGE, QueryArgs

from ..bill import PORTAL_FIELDS, STATES
from ..calculation import STEPS
from .common import form_values, own, payroll_route, render_form
from .contracts import people

SORTS = ('period_start', 'date', 'number')
ACTIONS = ('calculate', 'save', 'issue')
CODES = [code for code, _ in STEPS]


class Filters(QueryArgs):
    "Person, state and the months the bills' periods touch; sort, pages"

    def __init__(self, args, persons):
        super().__init__(args)
        self.paging(SORTS, 'period_start')
        self.filter_equal('person', 'contractor',
            {str(p): p for p in persons})
        self.filter_equal('state', 'state', {s: s for s, _ in STATES})
        start, end = self._date('period_from'), self._date('period_to')
        # The bills whose period has a day in the range
        if start is not None:
            self.domain.append(('period_end', '>=', start))
        if end is not None:
            self.domain.append(('period_start', '<=', end))

    @property
    def order(self):
        direction = self.direction.upper()
        nulls = ' NULLS LAST' if direction == 'DESC' else ' NULLS FIRST'
        return [(self.sort, direction + nulls), ('id', direction)]


def steps(values):
    "[(code, amount)] of a calculation.Bill or a stored bill, in order"
    return [(code, getattr(values, code)) for code in CODES]


def default_period(contract, today):
    "This month, within the contract's period"
    start = max(today.replace(day=1), contract.start_date)
    end = today.replace(day=1) + relativedelta(months=1, days=-1)
    if contract.end_date:
        end = min(end, contract.end_date)
    return start, max(start, end)


def _form(portal, contract, bill, form, errors, result=None, saved=None):
    return render_form(portal, 'payroll/bill_form.html', errors,
        contract=contract, bill=bill, form=form, result=result,
        steps=steps(result) if result else [], saved=saved)


# --- the list ---------------------------------------------------------------

@payroll_route('/contracts/bills')
def bills(request, portal):
    Bill = portal.pool.get('payroll.bill')
    names = people(portal)
    filters = Filters(request.args, names)
    domain = [('client', '=', portal.user.client.id), *filters.domain]
    count = Bill.search_count(domain)
    pages = filters.pages(count)
    records = Bill.search(domain, offset=filters.offset,
        limit=filters.per_page, order=filters.order)
    template = ('payroll/bills_results.html' if is_htmx(request)
        else 'payroll/bills.html')
    return portal.render(template, page='contracts', filters=filters,
        bills=records, count=count, pages=pages, people=names,
        per_page_options=PER_PAGE, saved=request.args.get('saved'))


# --- the form ---------------------------------------------------------------

@payroll_route('/contracts/<id:contract_id>/bills/new',
    methods=('GET', 'POST'))
def new_bill(request, portal, contract_id):
    Bill = portal.pool.get('payroll.bill')
    Date = portal.pool.get('ir.date')
    contract = own(portal, 'payroll.contract', contract_id)
    if request.method == 'POST':
        return _post_form(request, portal, contract, None)
    form = Bill.portal_values(None)
    start, end = default_period(contract, Date.today())
    form.update(contract=str(contract.id), period_start=start.isoformat(),
        period_end=end.isoformat())
    if contract.rate_type == 'lump_sum' and contract.amount is not None:
        form['amount'] = str(contract.amount)
    return _form(portal, contract, None, form, {})


@payroll_route('/contracts/bills/<id:bill_id>', methods=('GET', 'POST'))
def bill(request, portal, bill_id):
    Bill = portal.pool.get('payroll.bill')
    record = own(portal, 'payroll.bill', bill_id)
    if request.method == 'POST':
        if record.state != 'draft':
            abort(HTTPStatus.BAD_REQUEST)
        return _post_form(request, portal, record.contract, record)
    if record.state == 'draft':
        return _form(portal, record.contract, record,
            Bill.portal_values(record), {}, saved=request.args.get('saved'))
    return portal.render('payroll/bill.html', page='contracts',
        bill=record, steps=steps(record), saved=request.args.get('saved'))


def _post_form(request, portal, contract, record):
    "Calculate, save or issue the posted form of a new or draft bill"
    Bill = portal.pool.get('payroll.bill')
    client = portal.user.client.id
    action = request.form.get('action', '')
    if action not in ACTIONS:
        abort(HTTPStatus.BAD_REQUEST)
    form = form_values(request.form, PORTAL_FIELDS)
    # The contract is the page's, whatever was posted
    form['contract'] = str(contract.id)
    if action == 'calculate':
        # Nothing is saved: the figures of what the form holds
        result, errors = Bill.portal_preview(client, form, record)
        return _form(portal, contract, record, form, errors, result)
    saved, errors = Bill.portal_save(client, record, form)
    if errors:
        return _form(portal, contract, record, form, errors)
    if action == 'issue':
        saved, errors = Bill.portal_issue(client, saved)
        if errors:
            # Not even the draft is kept: the form says what to correct
            Transaction().rollback()
            return _form(portal, contract, record, form, errors)
        return portal.redirect(f'contracts/bills/{saved.id}', saved='issued')
    return portal.redirect(f'contracts/bills/{saved.id}', saved='updated'
        if record else 'created')


@payroll_route('/contracts/bills/<id:bill_id>.pdf')
def bill_pdf(request, portal, bill_id):
    record = own(portal, 'payroll.bill', bill_id)
    if not record.pdf:
        abort(HTTPStatus.NOT_FOUND)
    return portal.pdf(record.pdf, record.pdf_name)

