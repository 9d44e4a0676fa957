"The client's contractors: list, create, edit, deactivate, quick form"
import json
import re

import pytest
from portal_http import read_only, text

from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.demo import nip

VALID = {'name': "Sigma Druk sp. z o.o.", 'street': "ul. Krótka 2",
    'postal_code': '00-950', 'city': "Warszawa", 'country': 'PL',
    'tax_number': nip('951000772'), 'email': 'sigma@druk.example',
    'language': 'pl'}


def invalid(response, field):
    "The field is marked invalid and described by its message"
    html = response.get_data(as_text=True)
    tag = re.search(r'<(input|select)[^>]*\bid="%s"[^>]*>' % field, html)
    described = tag and re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    return bool(tag and 'aria-invalid="true"' in tag.group(0)
        and described and f'{field}-error' in described.group(1).split()
        and f'id="{field}-error"' in html)


def _contractor(party_id, company):
    "The contractor as the portal reads it (the language is per company)"
    Party = Pool().get('party.party')
    with Transaction().set_context(company=company):
        return Party.portal_contractor_values(Party(party_id))


def _owner(party_id):
    return Pool().get('party.party')(party_id).portal_owner.id


def test_list_shows_own_contractors_sorted_and_searchable(as_a, data):
    page = text(as_a.get('contractors'))
    assert "Delta Budowa sp. z o.o." in page
    assert "Müller Logistik GmbH" in page
    assert "Omega Serwis" not in page           # client b's
    names = re.findall(r'href="[^"]*/contractors/\d+">([^<]+)</a>',
        as_a.get('contractors?sort=name&dir=desc').get_data(as_text=True))
    assert names == sorted(names, reverse=True) and len(names) >= 4
    found = text(as_a.get('contractors?q=136695976'))
    assert "Müller" in found and "Delta" not in found
    found = text(as_a.get('contractors', query_string={'q': 'delta'}))
    assert "Delta Budowa" in found and "Müller" not in found
    paged = as_a.get('contractors?per_page=10&page=99')
    assert paged.status_code == 200
    assert 'Contractors found:' in text(paged)


def test_htmx_search_returns_the_results_only(as_a):
    response = as_a.get('contractors?q=Delta',
        headers={'HX-Request': 'true'})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="results">')
    assert '<html' not in html


def test_create_edit_and_deactivate(as_a, data):
    response = as_a.post('contractors/new', VALID)
    assert response.status_code == 303
    assert 'saved=created' in response.headers['Location']
    page = as_a.get('contractors?q=Sigma').get_data(as_text=True)
    party_id = int(re.search(r'/contractors/(\d+)">Sigma', page).group(1))
    assert read_only(_owner, party_id) == data.clients['a']
    values = read_only(_contractor, party_id, data.company)
    assert values['tax_number'].replace('-', '') == VALID['tax_number']
    assert values['email'] == VALID['email']

    edit = as_a.get(f'contractors/{party_id}')
    assert 'value="Sigma Druk sp. z o.o."' in edit.get_data(as_text=True)
    changed = dict(VALID, name="Sigma Druk S.A.", country='DE',
        tax_number='813110004', language='en', email='')
    response = as_a.post(f'contractors/{party_id}', changed)
    assert response.status_code == 303
    values = read_only(_contractor, party_id, data.company)
    assert (values['name'], values['country'], values['tax_number'],
        values['language'], values['email']) == (
        "Sigma Druk S.A.", 'DE', 'DE813110004', 'en', '')

    assert as_a.post(f'contractors/{party_id}/deactivate').status_code == 303
    assert 'Sigma' not in text(as_a.get('contractors'))
    assert 'Sigma' in text(as_a.get('contractors?show=inactive'))
    assert as_a.get(f'contractors/{party_id}').status_code == 200
    assert as_a.post(f'contractors/{party_id}/activate').status_code == 303
    assert 'Sigma' in text(as_a.get('contractors'))


def test_consumer_has_no_tax_number(as_a):
    response = as_a.post('contractors/new', dict(VALID,
            name="Jan Konsument", tax_number='', consumer='1'))
    assert response.status_code == 303
    assert 'consumer' in text(as_a.get('contractors?q=Konsument'))


@pytest.mark.parametrize('field,value,message', [
        ('name', '', 'Fill in this field.'),
        ('name', 'x' * 201, 'This value is too long.'),
        ('tax_number', '1234567890', 'not a valid Polish tax number'),
        ('tax_number', '', "Enter the buyer's tax number"),
        ('email', 'not-an-email', 'Enter a valid e-mail address.'),
        ('country', 'XX', 'Choose a country from the list.'),
        ('language', 'de', 'Choose one of the proposed values.'),
        ('postal_code', '1' * 21, 'This value is too long.'),
        ])
def test_bad_input_is_shown_next_to_the_field(as_a, field, value, message):
    form = dict(VALID, name="Kept Name sp. j.")
    form[field] = value
    response = as_a.post('contractors/new', form)
    assert response.status_code == 400
    assert invalid(response, field)
    assert message in text(response)
    html = response.get_data(as_text=True)
    # The form keeps what was typed
    assert f'value="{VALID["street"]}"' in html
    if field != 'name':
        assert 'value="Kept Name sp. j."' in html


def test_eu_vat_number_is_checked_for_the_country(as_a):
    for number in ['DE123', 'FR40303265045', 'XX136695976']:
        response = as_a.post('contractors/new', dict(VALID,
                country='DE', tax_number=number))
        assert response.status_code == 400, number
        assert invalid(response, 'tax_number')
        assert 'not a valid EU VAT number' in text(response)


def test_consumer_with_a_tax_number_and_duplicates_are_refused(as_a, data):
    response = as_a.post('contractors/new', dict(VALID, consumer='1'))
    assert response.status_code == 400
    assert 'A consumer has no tax number' in text(response)
    response = as_a.post('contractors/new', dict(VALID,
            name="Delta again", tax_number=nip('634001346')))
    assert response.status_code == 400
    assert 'You already have a contractor with this tax number: ' \
        'Delta Budowa sp. z o.o.' in text(response)


def test_same_tax_number_is_allowed_for_another_client(as_a, as_b):
    "Each client's contractors are its own: both may sell to one buyer"
    shared = dict(VALID, name="Shared Buyer", tax_number=nip('555000111'))
    assert as_a.post('contractors/new', shared).status_code == 303
    assert as_b.post('contractors/new', shared).status_code == 303


def test_post_without_csrf_is_forbidden(as_a, data):
    contractor = data.contractors['a_pl']
    for path in ['contractors/new', f'contractors/{contractor}',
            f'contractors/{contractor}/deactivate', 'contractors/quick']:
        assert as_a.post(path, VALID, csrf=False).status_code == 403, path


def test_other_clients_contractor_is_404(as_a, data):
    other = data.contractors['b_pl']
    assert as_a.get(f'contractors/{other}').status_code == 404
    assert as_a.post(f'contractors/{other}', VALID).status_code == 404
    assert as_a.post(f'contractors/{other}/deactivate').status_code == 404
    # The client's own party and the firm's are no contractors
    assert as_a.get(f'contractors/{data.clients["a"]}').status_code == 404


def test_new_page_returns_to_next(as_a):
    next_ = '/' + as_a.database + '/portal/invoices/new'
    page = as_a.get('contractors/new', query_string={'next': next_})
    assert f'name="next" value="{next_}"' in page.get_data(as_text=True)
    response = as_a.post('contractors/new', dict(VALID, name="Next Co",
            tax_number=nip('777000111'), next=next_))
    assert response.status_code == 303
    assert response.headers['Location'].endswith(next_)
    response = as_a.post('contractors/new', dict(VALID, name="Evil Co",
            tax_number=nip('777000222'), next='https://evil.example/'))
    assert 'evil' not in response.headers['Location']


def test_quick_form_with_htmx(as_a):
    form = as_a.get('contractors/quick', headers={'HX-Request': 'true'})
    html = form.get_data(as_text=True)
    assert 'hx-post=' in html and 'name="qc-name"' in html
    assert '<html' not in html

    response = as_a.post('contractors/quick', {'qc-name': '',
            'qc-country': 'PL', 'qc-tax_number': '123', 'qc-city': 'Łódź'},
        headers={'HX-Request': 'true'})
    assert response.status_code == 200
    assert response.headers['HX-Retarget'] == '#contractor-quick-body'
    assert response.headers['HX-Reswap'] == 'innerHTML'
    assert invalid(response, 'qc-name') and invalid(response, 'qc-tax_number')
    assert 'value="Łódź"' in response.get_data(as_text=True)

    quick = {'qc-' + k: v for k, v in VALID.items()}
    quick.update({'qc-name': 'Quick & Co "PL"',
            'qc-tax_number': nip('888000111')})
    response = as_a.post('contractors/quick', quick,
        headers={'HX-Request': 'true'})
    assert response.status_code == 200
    event = json.loads(response.headers['HX-Trigger'])['contractorCreated']
    assert event['name'] == 'Quick & Co "PL"'
    assert response.get_data(as_text=True) == (
        f'<option value="{event["id"]}" selected>'
        'Quick &amp; Co &#34;PL&#34;</option>')


def test_quick_form_without_javascript(as_a):
    quick = {'qc-' + k: v for k, v in VALID.items()}
    quick.update({'qc-name': "No JS sp. z o.o.",
            'qc-tax_number': nip('888000222')})
    response = as_a.post('contractors/quick', quick)
    assert response.status_code == 303
    quick['qc-email'] = 'bad'
    response = as_a.post('contractors/quick', quick)
    assert response.status_code == 400
    assert invalid(response, 'email')       # the full page's form


def test_polish_messages(data):
    from portal_http import Browser
    browser = Browser(language='pl')
    browser.login(data.users['a2'][1])
    response = browser.post('contractors/new', dict(VALID,
            tax_number='1234567890'))
    assert 'Nieprawidłowy numer NIP' in text(response)
    response = browser.post('contractors/new', dict(VALID,
            country='DE', tax_number='DE1'))
    assert 'To nie jest prawidłowy numer VAT UE' in text(response)
