"The client's products and services: list, create, edit, quick form"
import json
import re
from decimal import Decimal

import pytest
from portal_http import read_only, text

from trytond.pool import Pool

from test_portal_contractors import invalid


def _ids(data):
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Tax = pool.get('account.tax')
    return {
        'hour': ModelData.get_id('product', 'uom_hour'),
        'month': ModelData.get_id('client_portal', 'uom_month'),
        'gram_liter': ModelData.get_id('product', 'uom_cubic_inch'),
        'tax23': Tax.search([('portal_vat_code', '=', '23'),
                ('group.kind', '=', 'sale')])[0].id,
        'np': Tax.search([('portal_vat_code', '=', 'np II'),
                ('group.kind', '=', 'sale')])[0].id,
        }


@pytest.fixture(scope='module')
def ids(data):
    return read_only(_ids, data)


@pytest.fixture
def valid(ids):
    return {'name': "Audyt umowy", 'unit': str(ids['hour']),
        'unit_price': '320,50', 'currency': 'PLN', 'tax': str(ids['tax23']),
        'gtu': 'GTU_12', 'annex15': ''}


def _product(product_id):
    product = Pool().get('portal.product')(product_id)
    return (product.client.id, product.name, product.unit_price,
        product.currency.code, product.gtu, bool(product.active))


def test_list_shows_own_products(as_a, data):
    page = text(as_a.get('products'))
    assert "Konsultacja prawna (a)" in page
    assert "Market research report (a)" in page
    assert "(b)" not in page
    found = text(as_a.get('products?q=research'))
    assert "Market research" in found and "Konsultacja" not in found
    html = as_a.get('products?sort=unit_price&dir=desc').get_data(
        as_text=True)
    names = re.findall(r'/products/\d+">([^<]+)</a>', html)
    assert names.index("Market research report (a)") < names.index(
        "Konsultacja prawna (a)")


def test_form_offers_the_curated_units_and_portal_taxes(as_a, ids):
    html = as_a.get('products/new').get_data(as_text=True)
    assert f'<option value="{ids["month"]}"' in html
    assert f'<option value="{ids["gram_liter"]}"' not in html
    assert f'<option value="{ids["np"]}"' in html
    currencies = re.search(r'<select id="currency".*?</select>', html,
        re.S).group(0)
    assert re.findall(r'value="(\w+)"', currencies) == ['EUR', 'PLN', 'USD']


def test_create_edit_deactivate(as_a, data, valid):
    response = as_a.post('products/new', valid)
    assert response.status_code == 303
    html = as_a.get('products?q=Audyt').get_data(as_text=True)
    product_id = int(re.search(r'/products/(\d+)">Audyt', html).group(1))
    assert read_only(_product, product_id) == (data.clients['a'],
        "Audyt umowy", Decimal('320.50'), 'PLN', 'GTU_12', True)
    response = as_a.post(f'products/{product_id}', dict(valid,
            name="Audyt umowy najmu", unit_price='100', currency='EUR',
            gtu=''))
    assert response.status_code == 303
    assert read_only(_product, product_id)[1:5] == (
        "Audyt umowy najmu", Decimal('100'), 'EUR', None)
    assert as_a.post(f'products/{product_id}/deactivate').status_code == 303
    assert read_only(_product, product_id)[5] is False
    assert 'Audyt' in text(as_a.get('products?show=inactive'))
    assert as_a.post(f'products/{product_id}/activate').status_code == 303
    assert read_only(_product, product_id)[5] is True


@pytest.mark.parametrize('field,value,message', [
        ('name', '', 'Fill in this field.'),
        ('unit_price', '', 'Fill in this field.'),
        ('unit_price', 'abc', 'Enter a number.'),
        ('unit_price', '-5', 'The price cannot be negative.'),
        ('unit_price', '10.555', 'Use at most 2 decimal places.'),
        ('unit_price', '1e20', 'Enter a number.'),
        ('currency', 'GBP', 'Choose one of the proposed values.'),
        ('unit', '999999', 'Choose one of the proposed values.'),
        ('tax', '', 'Choose one of the proposed values.'),
        ('tax', 'x', 'Choose one of the proposed values.'),
        ('gtu', 'GTU_99', 'Choose one of the proposed values.'),
        ])
def test_bad_input_is_shown_next_to_the_field(as_a, valid, field, value,
        message):
    form = dict(valid, name="Kept product")
    form[field] = value
    response = as_a.post('products/new', form)
    assert response.status_code == 400
    assert invalid(response, field)
    assert message in text(response)
    if field != 'name':
        assert 'value="Kept product"' in response.get_data(as_text=True)


def test_tax_without_portal_code_or_of_a_unit_outside_the_list(as_a, valid,
        ids):
    response = as_a.post('products/new', dict(valid,
            unit=str(ids['gram_liter'])))
    assert invalid(response, 'unit')


def test_post_without_csrf_is_forbidden(as_a, data, valid):
    product = data.products['a_pln']
    for path in ['products/new', f'products/{product}',
            f'products/{product}/deactivate', 'products/quick']:
        assert as_a.post(path, valid, csrf=False).status_code == 403, path


def test_other_clients_product_is_404(as_a, data, valid):
    other = data.products['b_pln']
    assert as_a.get(f'products/{other}').status_code == 404
    assert as_a.post(f'products/{other}', valid).status_code == 404
    assert as_a.post(f'products/{other}/activate').status_code == 404
    assert read_only(_product, other)[5] is True


def test_quick_form_with_htmx(as_a, valid, ids):
    form = as_a.get('products/quick', headers={'HX-Request': 'true'})
    assert 'name="qp-unit_price"' in form.get_data(as_text=True)
    response = as_a.post('products/quick', {'qp-name': 'Half',
            'qp-unit_price': '1,005', 'qp-currency': 'PLN',
            'qp-unit': str(ids['hour']), 'qp-tax': str(ids['tax23'])},
        headers={'HX-Request': 'true'})
    assert response.status_code == 200
    assert response.headers['HX-Retarget'] == '#product-quick-body'
    assert invalid(response, 'qp-unit_price')
    assert 'value="Half"' in response.get_data(as_text=True)

    quick = {'qp-' + k: v for k, v in valid.items()}
    quick['qp-currency'] = 'EUR'
    response = as_a.post('products/quick', quick,
        headers={'HX-Request': 'true'})
    assert response.status_code == 200
    event = json.loads(response.headers['HX-Trigger'])['productCreated']
    assert event == {'id': event['id'], 'name': "Audyt umowy",
        'price': '320.50', 'unit': ids['hour'], 'tax': ids['tax23'],
        'gtu': 'GTU_12', 'currency': 'EUR'}
    assert response.get_data(as_text=True) == (
        f'<option value="{event["id"]}" selected data-price="320.50" '
        f'data-unit="{ids["hour"]}" data-tax="{ids["tax23"]}" '
        'data-gtu="GTU_12" data-currency="EUR">Audyt umowy</option>')


def test_quick_form_without_javascript_and_next(as_a, valid):
    next_ = '/' + as_a.database + '/portal/invoices/new'
    quick = {'qp-' + k: v for k, v in valid.items()}
    response = as_a.post('products/quick', quick)
    assert response.status_code == 303
    response = as_a.post('products/new', dict(valid, next=next_))
    assert response.headers['Location'].endswith(next_)
