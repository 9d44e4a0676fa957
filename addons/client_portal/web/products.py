"""The client's products and services: list, create, edit, deactivate,
and the quick form of the invoice editor, under the same record rules as
the contractors (web/contractors.py, whose helpers these pages share)."""
from markupsafe import Markup

from trytond.protocols.wrappers import HTTPStatus, redirect
from trytond.transaction import Transaction

from ..product import GTU_CODES, PRODUCT_FIELDS
from .access import portal_route, safe_next
from .contractors import (
    form_values, get_any_or_404, is_htmx, prefixed, quick_errors,
    quick_response, set_active)
from .query import PER_PAGE, QueryArgs, escape_like

SORTS = ('name', 'unit_price', 'create_date')
QUICK_PREFIX = 'qp-'


class Filters(QueryArgs):
    "Search by name, active or deactivated, sort, pages"

    def __init__(self, args):
        super().__init__(args)
        self.paging(SORTS, 'name', 'asc')
        self.show = self._choice('show', ('active', 'inactive'), 'active')
        self.domain.append(('active', '=', self.show == 'active'))
        q = self._value('q')[:100]
        if q:
            self.domain.append(('name', 'ilike', f'%{escape_like(q)}%'))


def choices(pool):
    "(value, label) of what the product form offers"
    Product = pool.get('portal.product')
    return {
        'units': [(u.id, u.name) for u in Product.portal_units()],
        'currencies': [(c, c) for c in sorted(Product.portal_currencies())],
        'taxes': [(t.id, t.description or t.name)
            for t in Product.portal_taxes()],
        'gtu_codes': [(c, c) for c, _ in GTU_CODES if c],
        }


def _render_form(portal, product, form, errors, next_=None):
    return portal.render('products/form.html',
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK,
        product=product, form=form, errors=errors, prefix='',
        next=next_ or '', page='products', **choices(portal.pool))


@portal_route('/products')
def products(request, portal):
    Product = portal.pool.get('portal.product')
    filters = Filters(request.args)
    domain = [('client', '=', portal.user.client.id), *filters.domain]
    with Transaction().set_context(active_test=False):
        count = Product.search_count(domain)
        pages = filters.pages(count)
        records = Product.search(domain, offset=filters.offset,
            limit=filters.per_page, order=filters.order)
    formatter = portal.formatter()
    currencies = portal.pool.get('currency.currency').portal_currencies()
    rows = [{
            'id': p.id,
            'name': p.name,
            'unit': p.unit.symbol or p.unit.name,
            'price': formatter.amount(p.unit_price,
                currencies[p.currency.id]),
            'tax': p.tax.description or p.tax.name,
            'gtu': p.gtu or '',
            } for p in records]
    template = ('products/results.html' if is_htmx(request)
        else 'products/list.html')
    return portal.render(template, filters=filters, rows=rows, count=count,
        pages=pages, per_page_options=PER_PAGE,
        saved=request.args.get('saved'))


@portal_route('/products/new', methods=('GET', 'POST'))
def new_product(request, portal):
    Product = portal.pool.get('portal.product')
    if request.method == 'GET':
        return _render_form(portal, None, Product.portal_product_values(None),
            {}, safe_next(portal, request.args.get('next')))
    return _save_full(request, portal,
        form_values(request.form, PRODUCT_FIELDS))


@portal_route('/products/<id:product_id>', methods=('GET', 'POST'))
def product(request, portal, product_id):
    Product = portal.pool.get('portal.product')
    product = get_any_or_404(portal, 'portal.product', product_id)
    if request.method == 'GET':
        return _render_form(portal, product,
            Product.portal_product_values(product), {})
    form = form_values(request.form, PRODUCT_FIELDS)
    product, errors = Product.portal_save_product(
        portal.user.client.id, product, form)
    if errors:
        return _render_form(portal, product, form, errors)
    return portal.redirect('products', saved='updated')


@portal_route('/products/<id:product_id>/deactivate', methods=('POST',))
def deactivate_product(request, portal, product_id):
    set_active(get_any_or_404(portal, 'portal.product', product_id), False)
    return portal.redirect('products', saved='deactivated')


@portal_route('/products/<id:product_id>/activate', methods=('POST',))
def activate_product(request, portal, product_id):
    set_active(get_any_or_404(portal, 'portal.product', product_id), True)
    return portal.redirect('products', saved='activated')


@portal_route('/products/quick', methods=('GET', 'POST'))
def quick_product(request, portal):
    """The invoice editor's modal form (htmx); posted without JavaScript
    it behaves as the full page"""
    Product = portal.pool.get('portal.product')
    context = {'prefix': QUICK_PREFIX, **choices(portal.pool)}
    if request.method == 'GET':
        return portal.render('products/quick_form.html',
            form=Product.portal_product_values(None), errors={}, **context)
    form = form_values(request.form, PRODUCT_FIELDS, QUICK_PREFIX)
    if not is_htmx(request):
        return _save_full(request, portal, form)
    product, errors = Product.portal_save_product(
        portal.user.client.id, None, form)
    if errors:
        return quick_errors(portal, 'products/quick_form.html',
            '#product-quick-body', form=form,
            errors=prefixed(errors, QUICK_PREFIX), **context)
    data = {
        'id': product.id,
        'name': product.name,
        'price': str(product.unit_price),
        'unit': product.unit.id,
        'tax': product.tax.id,
        'gtu': product.gtu or '',
        'currency': product.currency.code,
        }
    option = Markup('<option value="{id}" selected data-price="{price}" '
        'data-unit="{unit}" data-tax="{tax}" data-gtu="{gtu}" '
        'data-currency="{currency}">{name}</option>').format(**data)
    return quick_response(portal, option, 'productCreated', data)


def _save_full(request, portal, form):
    "Save a new product; back to the page it was asked from, if any"
    Product = portal.pool.get('portal.product')
    next_ = safe_next(portal, request.form.get('next'))
    _, errors = Product.portal_save_product(
        portal.user.client.id, None, form)
    if errors:
        return _render_form(portal, None, form, errors, next_)
    if next_:
        return portal.respond(redirect(next_, code=HTTPStatus.SEE_OTHER))
    return portal.redirect('products', saved='created')
