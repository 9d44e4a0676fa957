"""The portal's payroll pages: people, contracts from templates with their
PDF, and payroll bills with every component of the calculation"""
import datetime
import re

import pytest
from data_payroll import (
    P_EMAIL, P_EMAIL_PL, contract_form, payroll, person_form, pesel)
from portal_http import Browser, read_only, text

from trytond.pool import Pool

PDF = 'application/pdf'


def invalid(response, field):
    "The field is marked invalid and described by its message"
    html = response.get_data(as_text=True)
    tag = re.search(r'<(input|select|textarea)[^>]*\bid="%s"[^>]*>' % field,
        html)
    return bool(tag and 'aria-invalid="true"' in tag.group(0)
        and f'id="{field}-error"' in html)


def step(response, code):
    "The amount of a step of the calculation table, as shown"
    html = response.get_data(as_text=True)
    row = re.search(r'<tr[^>]*id="step-%s".*?<td[^>]*>(.*?)</td>' % code,
        html, re.S)
    assert row, code
    return text_of(row.group(1))


def text_of(html):
    return ' '.join(re.sub(r'<[^>]+>', ' ', html).split())


def location_id(response, pattern):
    assert response.status_code == 303, (response.status_code,
        text(response)[:500])
    match = re.search(pattern, response.headers['Location'])
    assert match, response.headers['Location']
    return int(match.group(1))


@pytest.fixture
def records(data):
    return payroll(data)


@pytest.fixture
def as_p(records):
    browser = Browser()
    browser.login(P_EMAIL)
    return browser


@pytest.fixture
def as_a2(data, records):
    "Client a's Polish user"
    browser = Browser(language='pl')
    browser.login(data.users['a2'][1])
    return browser


def _pages(records, key):
    contracts, bills = records['contracts'], records['bills']
    return ['contracts', 'contracts?state=issued', 'contracts/new',
        'contracts/people', 'contracts/people?q=Osoba',
        'contracts/people/new', f'contracts/people/{records["people"][key]}',
        'contracts/bills', 'contracts/bills?period_from=2026-01-01',
        f'contracts/{contracts[key + "_draft"]}',
        f'contracts/{contracts[key + "_issued"]}',
        f'contracts/{contracts[key + "_terminated"]}',
        f'contracts/{contracts[key + "_issued"]}/amend',
        f'contracts/{contracts[key + "_issued"]}/bills/new',
        f'contracts/bills/{bills[key + "_draft"]}']


@pytest.mark.parametrize('language', ['en', 'pl'])
def test_every_page_renders(request, records, language):
    browser = request.getfixturevalue('as_a2' if language == 'pl'
        else 'as_a')
    for path in _pages(records, 'a'):
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert f'<html lang="{language}"' in html, path
        assert ('Umowy' if language == 'pl' else 'Contracts') in text(
            response), path
    page = text(browser.get('contracts'))
    assert 'Osoba A' in page and 'Osoba B' not in page


def test_polish_pages_have_no_english_label(as_a2, records):
    from test_portal_translations import english_on
    patterns = payroll_english_labels()
    for path in _pages(records, 'a'):
        found = english_on(as_a2.get(path).get_data(as_text=True), patterns)
        assert not found, (path, found)


def payroll_english_labels():
    "The payroll catalogue's English strings that Polish changes"
    import os

    from babel.messages.pofile import read_po

    import payroll_account
    path = os.path.join(os.path.dirname(payroll_account.__file__), 'locale',
        'portal', 'pl.po')
    with open(path, 'rb') as file:
        catalogue = read_po(file, locale='pl')
    patterns = []
    for message in catalogue:
        if (isinstance(message.id, str) and message.id and message.string
                and message.string != message.id and '%(' not in message.id):
            words = re.escape(' '.join(message.id.split()))
            patterns.append((message.id, re.compile(rf'^\s*{words}\s*$')))
    return patterns


def _count(model, domain):
    return Pool().get(model).search_count(domain)


def test_person_with_bad_pesel_keeps_the_input(as_a, data):
    before = read_only(_count, 'payroll.contractor', [])
    good = pesel(datetime.date(1991, 7, 1))
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    response = as_a.post('contracts/people/new', person_form(
            first_name="Zenon", last_name="Błędny", pesel=bad))
    assert response.status_code == 400
    assert invalid(response, 'pesel')
    assert 'This PESEL is not valid' in text(response)
    html = response.get_data(as_text=True)
    assert f'value="{bad}"' in html and 'value="Błędny"' in html
    assert 'id="voluntary_sickness" name="voluntary_sickness" value="1" checked' in html
    assert read_only(_count, 'payroll.contractor', []) == before
    # In Polish the message is Polish
    polish = Browser(language='pl')
    polish.login(data.users['a2'][1])
    response = polish.post('contracts/people/new', person_form(pesel=bad))
    assert 'PESEL' in text(response) and invalid(response, 'pesel')


def test_person_is_created_and_edited(as_a):
    response = as_a.post('contracts/people/new', person_form(
            first_name="Ewa", last_name="Edytowana",
            pesel=pesel(datetime.date(1979, 1, 2), '7777')))
    assert response.status_code == 303
    page = as_a.get('contracts/people?q=Edytowana').get_data(as_text=True)
    person_id = int(re.search(
            r'/contracts/people/(\d+)">Edytowana', page).group(1))
    edit = as_a.get(f'contracts/people/{person_id}')
    assert 'value="Edytowana"' in edit.get_data(as_text=True)
    response = as_a.post(f'contracts/people/{person_id}', person_form(
            first_name="Ewa", last_name="Edytowana",
            pesel=pesel(datetime.date(1979, 1, 2), '7777'),
            pit2='1', pit2_share='1/12', city="Gdynia"))
    assert response.status_code == 303
    assert 'Gdynia' in text(as_a.get('contracts/people?q=Edytowana'))


def _journey_person(browser):
    response = browser.post('contracts/people/new', person_form(
            first_name="Marek", last_name="Przykładowy",
            pesel=pesel(datetime.date(1988, 8, 8), '2468')))
    assert response.status_code == 303
    page = browser.get('contracts/people?q=Przykładowy').get_data(
        as_text=True)
    return int(re.search(r'/contracts/people/(\d+)">', page).group(1))


def test_contract_and_bill_journey(as_p, as_a, records):
    template = records['templates']['mandate']
    person = _journey_person(as_p)
    form = contract_form(person, template)

    # The preview is the PDF, and saves nothing
    response = as_p.post('contracts/new', dict(form, action='preview'))
    assert response.status_code == 200
    assert response.headers['Content-Type'] == PDF
    assert response.get_data().startswith(b'%PDF')
    assert 'inline' in response.headers['Content-Disposition']
    assert read_only(_count, 'payroll.contract',
        [('client', '=', records['client_p'])]) == 0
    # A bad rate stays in the form with its message
    response = as_p.post('contracts/new', dict(form, action='issue',
            rate_type='hourly', hourly_rate='10'))
    assert response.status_code == 400 and invalid(response, 'hourly_rate')
    assert 'value="10"' in response.get_data(as_text=True)

    contract_id = location_id(as_p.post('contracts/new',
            dict(form, action='issue')), r'/contracts/(\d+)\?saved=issued')
    page = text(as_p.get(f'contracts/{contract_id}'))
    number = re.search(r'UZ/\d+/\d{4}', page).group(0)
    assert 'Marek Przykładowy' in page and 'Issued' in page
    pdf = as_p.get(f'contracts/{contract_id}.pdf')
    assert pdf.status_code == 200 and pdf.headers['Content-Type'] == PDF
    assert pdf.get_data().startswith(b'%PDF')
    assert 'attachment' in pdf.headers['Content-Disposition']
    assert number in text(as_p.get('contracts?state=issued'))

    # A bill of 5 000 zł gross: facts §6.4 example A
    new = f'contracts/{contract_id}/bills/new'
    assert as_p.get(new).status_code == 200
    bill = {'period_start': '2026-01-01', 'period_end': '2026-01-31',
        'amount': '5000', 'target_net': '', 'date': '', 'hours': ''}
    response = as_p.post(new, dict(bill, action='calculate'))
    assert response.status_code == 200, text(response)[:800]
    assert step(response, 'gross') == '5,000.00'
    assert step(response, 'social_contractor') == '685.50'
    assert step(response, 'health') == '388.31'
    assert step(response, 'pit') == '414.00'
    assert step(response, 'net') == '3,512.19'
    assert step(response, 'payer_total_cost') == '6,024.00'
    assert read_only(_count, 'payroll.bill',
        [('client', '=', records['client_p'])]) == 0
    # Bad input: a period outside the contract
    response = as_p.post(new, dict(bill, action='issue',
            period_start='2025-12-01'))
    assert response.status_code == 400 and invalid(response, 'period_start')
    assert 'value="2025-12-01"' in response.get_data(as_text=True)

    bill_id = location_id(as_p.post(new, dict(bill, action='issue')),
        r'/contracts/bills/(\d+)\?saved=issued')
    response = as_p.get(f'contracts/bills/{bill_id}')
    page = text(response)
    assert re.search(r'RA/\d+/2026', page)
    assert step(response, 'net') == '3,512.19'
    assert step(response, 'payer_contributions') == '1,024.00'
    pdf = as_p.get(f'contracts/bills/{bill_id}.pdf')
    assert pdf.status_code == 200 and pdf.get_data().startswith(b'%PDF')
    polish = Browser(language='pl')
    polish.login(P_EMAIL_PL)
    response = polish.get(f'contracts/bills/{bill_id}')
    assert '<html lang="pl"' in response.get_data(as_text=True)
    assert step(response, 'net') == '3 512,19'
    assert 'Do wypłaty' in text(response)
    # The contract lists its bill; the bills list filters by person, period
    assert re.search(r'RA/\d+/2026', text(as_p.get(f'contracts/{contract_id}')))
    assert re.search(r'RA/\d+/2026', text(as_p.get(
                f'contracts/bills?person={person}&period_from=2026-01-01'
                '&period_to=2026-01-31')))
    assert 'No bills match' in text(as_p.get(
            'contracts/bills?period_from=2026-06-01'))
    # The same period again overlaps
    response = as_p.post(new, dict(bill, action='save'))
    assert response.status_code == 400 and invalid(response, 'period_start')

    # Another client gets 404 on every one of these URLs
    for path in [f'contracts/{contract_id}', f'contracts/{contract_id}.pdf',
            f'contracts/{contract_id}/amend', new,
            f'contracts/bills/{bill_id}', f'contracts/bills/{bill_id}.pdf',
            f'contracts/people/{person}']:
        assert as_a.get(path).status_code == 404, path
    for path in [f'contracts/{contract_id}', f'contracts/{contract_id}/amend',
            f'contracts/{contract_id}/terminate', new,
            f'contracts/bills/{bill_id}', f'contracts/people/{person}']:
        assert as_a.post(path, {'action': 'issue'}).status_code == 404, path


def test_draft_amend_and_terminate(as_p, records):
    template = records['templates']['mandate']
    page = as_p.get('contracts/people').get_data(as_text=True)
    person = int(re.search(r'/contracts/people/(\d+)">', page).group(1))
    form = contract_form(person, template, subject="Umowa do zmiany",
        start_date='2026-03-01')
    draft_id = location_id(as_p.post('contracts/new',
            dict(form, action='save')), r'/contracts/(\d+)\?saved=created')
    # A draft opens as its form and saves again
    edit = as_p.get(f'contracts/{draft_id}')
    assert 'Umowa do zmiany' in edit.get_data(as_text=True)
    location_id(as_p.post(f'contracts/{draft_id}',
            dict(form, subject="Umowa zmieniona", action='save')),
        r'/contracts/(\d+)\?saved=updated')
    location_id(as_p.post(f'contracts/{draft_id}',
            dict(form, subject="Umowa zmieniona", action='issue')),
        r'/contracts/(\d+)\?saved=issued')
    # Issued: amend makes version 2 under the same number
    amend = as_p.get(f'contracts/{draft_id}/amend')
    assert 'value="5000"' in amend.get_data(as_text=True)
    new_id = location_id(as_p.post(f'contracts/{draft_id}/amend',
            dict(form, amount='6000', action='amend')),
        r'/contracts/(\d+)\?saved=amended')
    assert new_id != draft_id
    page = text(as_p.get(f'contracts/{new_id}'))
    assert 'v2' in page and '6,000.00' in page
    assert 'Amended' in text(as_p.get(f'contracts/{draft_id}'))
    assert as_p.post(f'contracts/{draft_id}/terminate',
        {'date': ''}).status_code == 400
    # Terminate: a bad date stays with its message
    response = as_p.post(f'contracts/{new_id}/terminate',
        {'date': '2026-02-01', 'reason': "Za wcześnie"})
    assert response.status_code == 400 and invalid(response, 'date')
    response = as_p.post(f'contracts/{new_id}/terminate',
        {'date': '2026-06-30', 'reason': "Koniec projektu"})
    assert response.status_code == 303
    page = text(as_p.get(f'contracts/{new_id}'))
    assert 'Terminated' in page and 'Koniec projektu' in page
    # A terminated contract can not be billed
    response = as_p.post(f'contracts/{new_id}/bills/new', {
            'action': 'calculate', 'period_start': '2026-04-01',
            'period_end': '2026-04-30', 'amount': '100'})
    assert response.status_code == 400
    assert 'terminated' in text(response)


def test_posts_without_csrf_are_refused(as_a, records):
    contracts, bills = records['contracts'], records['bills']
    for path in ['contracts/new', 'contracts/people/new',
            f'contracts/people/{records["people"]["a"]}',
            f'contracts/{contracts["a_draft"]}',
            f'contracts/{contracts["a_issued"]}/amend',
            f'contracts/{contracts["a_issued"]}/terminate',
            f'contracts/{contracts["a_issued"]}/bills/new',
            f'contracts/bills/{bills["a_draft"]}']:
        response = as_a.post(path, {'action': 'save'}, csrf=False)
        assert response.status_code == 403, path


def test_malformed_posts_are_400(as_a, records):
    contracts = records['contracts']
    for path in ['contracts/new', f'contracts/{contracts["a_draft"]}',
            f'contracts/{contracts["a_issued"]}/bills/new']:
        assert as_a.post(path, {'action': 'nonsense'}).status_code == 400
    # An issued contract's page is no form
    assert as_a.post(f'contracts/{contracts["a_issued"]}',
        {'action': 'save'}).status_code == 400


def test_draft_bill_is_calculated_and_saved_again(as_a, records):
    path = f'contracts/bills/{records["bills"]["a_draft"]}'
    form = {'period_start': '2026-01-01', 'period_end': '2026-01-31',
        'amount': '5000', 'target_net': '', 'date': '', 'hours': ''}
    response = as_a.post(path, dict(form, action='calculate'))
    assert response.status_code == 200, text(response)[:800]
    assert step(response, 'net') == '3,512.19'
    # Gross from a target net
    response = as_a.post(path, dict(form, action='calculate',
            target_net='3512.19'))
    assert step(response, 'gross') == '5,000.00'
    response = as_a.post(path, dict(form, action='save', amount='4000'))
    assert response.status_code == 303
    assert 'value="4000' in as_a.get(path).get_data(as_text=True)
    as_a.post(path, dict(form, action='save'))
