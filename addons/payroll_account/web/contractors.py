"""The client's contractors paid on civil-law contracts (people, not the
invoicing contractors of client_portal): list, new and edit, under
portal/contracts/people"""
from client_portal.web.contractors import is_htmx
from client_portal.web.query import PER_PAGE, QueryArgs, escape_like

from ..contractor import PIT2_SHARES, PORTAL_FIELDS
from .common import form_values, own, payroll_route, render_form

SORTS = ('last_name', 'create_date')


class Filters(QueryArgs):
    "Search by name, PESEL or passport; sort; pages"

    def __init__(self, args):
        super().__init__(args)
        self.paging(SORTS, 'last_name', 'asc')
        q = self._value('q')[:100]
        if q:
            like = f'%{escape_like(q)}%'
            self.domain.append(['OR', ('first_name', 'ilike', like),
                    ('last_name', 'ilike', like), ('pesel', 'ilike', like),
                    ('passport', 'ilike', like)])

    @property
    def order(self):
        direction = self.direction.upper()
        if self.sort == 'last_name':
            return [('last_name', direction), ('first_name', direction),
                ('id', direction)]
        return super().order


def countries(portal):
    "(code, name) of the countries, named in the page's language"
    Country = portal.pool.get('country.country')
    return [(c['code'], c['name']) for c in Country.search_read(
            [], fields_names=['code', 'name'], order=[('name', 'ASC')])]


def _form(portal, person, form, errors):
    return render_form(portal, 'payroll/person_form.html', errors,
        person=person, form=form, countries=countries(portal),
        pit2_options=[(code, code) for code, _ in PIT2_SHARES if code])


@payroll_route('/contracts/people')
def people(request, portal):
    Contractor = portal.pool.get('payroll.contractor')
    filters = Filters(request.args)
    domain = [('client', '=', portal.user.client.id), *filters.domain]
    count = Contractor.search_count(domain)
    pages = filters.pages(count)
    persons = Contractor.search(domain, offset=filters.offset,
        limit=filters.per_page, order=filters.order)
    template = ('payroll/people_results.html' if is_htmx(request)
        else 'payroll/people.html')
    return portal.render(template, page='contracts', filters=filters,
        persons=persons, count=count, pages=pages,
        per_page_options=PER_PAGE, saved=request.args.get('saved'))


@payroll_route('/contracts/people/new', methods=('GET', 'POST'))
def new_person(request, portal):
    Contractor = portal.pool.get('payroll.contractor')
    if request.method == 'GET':
        return _form(portal, None, Contractor.portal_values(None), {})
    form = form_values(request.form, PORTAL_FIELDS)
    person, errors = Contractor.portal_save(
        portal.user.client.id, None, form)
    if errors:
        return _form(portal, None, form, errors)
    return portal.redirect('contracts/people', saved='created')


@payroll_route('/contracts/people/<id:person_id>', methods=('GET', 'POST'))
def person(request, portal, person_id):
    Contractor = portal.pool.get('payroll.contractor')
    record = own(portal, 'payroll.contractor', person_id)
    if request.method == 'GET':
        return _form(portal, record, Contractor.portal_values(record), {})
    form = form_values(request.form, PORTAL_FIELDS)
    record, errors = Contractor.portal_save(
        portal.user.client.id, record, form)
    if errors:
        return _form(portal, record, form, errors)
    return portal.redirect('contracts/people', saved='updated')
