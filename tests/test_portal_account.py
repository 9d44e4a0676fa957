"The user's account page and the client's base data"
import re

from portal_http import PASSWORD, Browser, in_transaction, read_only, text

from trytond.pool import Pool


def test_account_page_shows_client_read_only(as_a, data):
    response = as_a.get('account')
    html = response.get_data(as_text=True)
    assert re.search(r'id="client" value="Alfa Usługi sp. z o.o." '
        r'readonly', html)
    assert re.search(r'id="login" value="jan@alfa.example" readonly', html)
    # Neither is a form field: nothing to post
    assert 'name="email"' not in html


def test_update_names_language_and_notifications(as_a, data):
    response = as_a.post('account', {
            'action': 'profile', 'first_name': 'Janek',
            'last_name': 'Kowalski', 'language': 'pl',
            'email': 'attacker@evil.example'})
    assert response.status_code == 303
    user = read_only(_user, data.users['a'][0])
    assert (user['first_name'], user['language'], user['notify']) == (
        'Janek', 'pl', False)
    assert user['email'] == 'jan@alfa.example'
    page = as_a.get('')
    assert 'lang="pl"' in page.get_data(as_text=True)
    as_a.post('account', {
            'action': 'profile', 'first_name': 'Jan',
            'last_name': 'Kowalski', 'language': 'en',
            'notify_documents': '1'})


def _user(user_id):
    user = Pool().get('web.user')(user_id)
    return {'first_name': user.first_name, 'language': user.language,
        'notify': user.notify_documents, 'email': user.email}


def test_profile_errors_keep_what_was_typed(as_a):
    response = as_a.post('account', {
            'action': 'profile', 'first_name': 'x' * 101,
            'last_name': 'Still here', 'language': 'klingon'})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'This value is too long.' in text(response)
    assert 'value="Still here"' in html
    assert 'Choose one of the proposed values.' in text(response)


def invalid(response, field):
    "The field is marked invalid and has its message next to it"
    html = response.get_data(as_text=True)
    return bool(re.search(
            r'class="form-control is-invalid" id="%s"' % field, html))


def test_password_change(data):
    "A Polish user: messages are checked by where they stand"
    browser = Browser()
    browser.login(data.users['a2'][1])
    response = browser.post('account', {
            'action': 'password', 'current_password': 'wrong',
            'new_password': 'Next-Password-5', 'confirm': 'Next-Password-5'})
    assert response.status_code == 400
    assert invalid(response, 'current_password')
    assert 'Obecne hasło jest nieprawidłowe.' in text(response)
    response = browser.post('account', {
            'action': 'password', 'current_password': PASSWORD,
            'new_password': 'Next-Password-5', 'confirm': 'Next-Pass'})
    assert response.status_code == 400
    assert invalid(response, 'confirm')
    assert not invalid(response, 'current_password')
    response = browser.post('account', {
            'action': 'password', 'current_password': PASSWORD,
            'new_password': 'Next-Password-5', 'confirm': 'Next-Password-5'})
    assert response.status_code == 303
    assert Browser().login(data.users['a2'][1], 'Next-Password-5')
    browser.post('account', {
            'action': 'password', 'current_password': 'Next-Password-5',
            'new_password': PASSWORD, 'confirm': PASSWORD})


def test_company_data_rejects_bad_input_and_saves_nothing(as_b, data):
    before = read_only(_base_data, data.clients['b'])
    response = as_b.post('company', dict(before,
            tax_number='1234567890', iban='PL00 0000 0000',
            email='not an email', city='Sopot', country='ZZ'))
    assert response.status_code == 400
    page = text(response)
    assert 'not a valid Polish tax number' in page
    assert 'not a valid IBAN' in page
    assert 'valid e-mail' in page
    assert 'Choose a country' in page
    html = response.get_data(as_text=True)
    assert 'value="Sopot"' in html and 'value="1234567890"' in html
    assert read_only(_base_data, data.clients['b']) == before


def test_company_data_change_is_saved_and_shown_to_staff(as_b, data):
    before = read_only(_base_data, data.clients['b'])
    response = as_b.post('company', dict(before,
            street='ul. Nowa 1', city='Gdynia',
            iban='PL27 1140 2004 0000 3002 0135 5387'))
    assert response.status_code == 303
    after = read_only(_base_data, data.clients['b'])
    assert after['city'] == 'Gdynia'
    assert after['iban'].replace(' ', '') == 'PL27114020040000300201355387'
    changes = read_only(_changes, data.clients['b'])
    assert ('city', before['city'], 'Gdynia') in changes
    assert ('street', before['street'], 'ul. Nowa 1') in changes
    assert 'Saved' in text(as_b.get('company?saved=1'))


def test_iban_of_another_party_is_refused(as_b, data):
    before = read_only(_base_data, data.clients['b'])
    firm_iban = read_only(_firm_iban)
    response = as_b.post('company', dict(before, iban=firm_iban))
    assert response.status_code == 400
    assert 'already registered' in text(response)


def _base_data(party_id):
    data = Pool().get('party.party')(party_id).portal_base_data()
    data.pop('name')
    return data


def _changes(party_id):
    Change = Pool().get('portal.party.change')
    return [(c.field, c.old_value, c.new_value)
        for c in Change.search([('party', '=', party_id)])]


def _firm_iban():
    Company = Pool().get('company.company')
    company, = Company.search([])
    Account = Pool().get('bank.account')
    account = Account.search([('owners', '=', company.party.id)])[0]
    return account.numbers[0].number


def test_language_switch_for_visitors(browser):
    response = browser.post('language', {'language': 'pl',
            'next': f'/{browser.database}/portal/login'})
    assert response.status_code == 303
    assert browser.cookie('portal_lang') == 'pl'
    assert 'lang="pl"' in browser.get('login').get_data(as_text=True)
    browser.post('language', {'language': 'en'})
    in_transaction(lambda: None)
