"Sign-in, sessions, CSRF, rate limiting, password reset and invitations"
import datetime
import re
import time

from portal_http import PASSWORD, Browser, in_transaction, read_only, text

from trytond.pool import Pool


def test_login_page(browser):
    response = browser.get('login')
    assert response.status_code == 200
    assert 'Sign in' in text(response)
    assert browser.cookie('portal_csrf')
    assert response.headers['X-Frame-Options'] == 'DENY'
    assert "frame-ancestors 'none'" in response.headers[
        'Content-Security-Policy']


def test_pages_need_a_session(browser):
    for path in ['', 'documents', 'account', 'company', 'documents/1',
            'documents/1.pdf']:
        response = browser.get(path)
        assert response.status_code == 303, path
        assert '/portal/login?next=' in response.headers['Location']


def test_wrong_password_says_nothing_about_the_account(browser, data):
    known = browser.post('login', {
            'email': data.users['a'][1], 'password': 'wrong-password'})
    unknown = browser.post('login', {
            'email': 'nobody@alfa.example', 'password': 'wrong-password'})
    assert known.status_code == unknown.status_code == 401
    message = 'The e-mail or the password is not correct.'
    assert message in text(known) and message in text(unknown)
    # The form keeps what was typed, except the password
    assert 'value="nobody@alfa.example"' in unknown.get_data(as_text=True)
    assert 'wrong-password' not in unknown.get_data(as_text=True)


def test_login_sets_a_secure_session_and_logout_ends_it(data):
    browser = Browser()
    response = browser.login(data.users['a'][1])
    assert response.headers['Location'].endswith('/portal/')
    cookie = [h for h in response.headers.getlist('Set-Cookie')
        if h.startswith('portal_session=')][0]
    assert 'HttpOnly' in cookie and 'Secure' in cookie
    assert 'SameSite=Lax' in cookie
    assert browser.get('').status_code == 200
    key = browser.cookie('portal_session')

    response = browser.post('logout')
    assert response.status_code == 303
    assert browser.get('').status_code == 303
    # The old session key is gone server-side too
    other = Browser()
    other.client.set_cookie('portal_session', key, domain='localhost',
        path=f'/{other.database}')
    assert other.get('').status_code == 303


def test_login_redirects_to_next_inside_the_portal_only(browser, data):
    response = browser.post('login', {
            'email': data.users['a'][1], 'password': PASSWORD,
            'next': 'https://evil.example/phish'})
    assert response.headers['Location'].endswith('/portal/')
    browser = Browser()
    target = f'/{browser.database}/portal/documents?tab=unpaid'
    response = browser.post('login', {
            'email': data.users['a'][1], 'password': PASSWORD,
            'next': target})
    assert response.headers['Location'].endswith(target)


def test_post_without_csrf_token_is_refused(browser, data):
    browser.get('login')
    for token in [None, '0' * 64]:
        form = {'email': data.users['a'][1], 'password': PASSWORD}
        if token:
            form['csrf_token'] = token
        response = browser.post('login', form, csrf=False)
        assert response.status_code == 403
        body = response.get_data(as_text=True)
        assert 'Reload the page' in body
        assert 'Traceback' not in body
    assert browser.cookie('portal_session') is None


def test_foreign_origin_is_a_clean_403(browser, data):
    response = browser.post('login', {
            'email': data.users['a'][1], 'password': PASSWORD},
        headers={'Origin': 'https://evil.example'})
    assert response.status_code == 403


def test_rate_limit_answers_at_once_with_a_friendly_page(browser, data):
    "web_user would sleep 2**n - 1 s per failure inside the request"
    email = data.users['a2'][1]
    try:
        started = time.monotonic()
        statuses = [browser.post('login', {
                    'email': email, 'password': 'bad'}).status_code
            for _ in range(5)]
        response = browser.post('login', {
                'email': email, 'password': PASSWORD})
        elapsed = time.monotonic() - started
        assert statuses == [401] * 5
        assert response.status_code == 429
        assert 'Too many attempts' in text(response)
        # 0+1+3+7+15 s of sleeping would be 26 s
        assert elapsed < 10, elapsed
        # Other users are not affected
        Browser().login(data.users['b'][1])
    finally:
        in_transaction(_clear_attempts)


def _clear_attempts():
    Attempt = Pool().get('web.user.authenticate.attempt')
    Attempt.delete(Attempt.search([]))


def _reset_link(message):
    body = message.get_body(('plain', 'html')).get_content()
    url = re.search(r'https://portal\.example\.com/\S+?/portal/'
        r'set-password\?[^"\s<>]+', body).group(0)
    return url.replace('&amp;', '&')


def test_password_reset_by_email(browser, data, smtp):
    email = data.users['b'][1]
    smtp.clear()
    response = browser.post('reset-password', {'email': email})
    assert response.status_code == 200
    assert 'we have sent it a link' in text(response)
    message = smtp.wait_for(lambda m: m['To'] == email)
    assert 'Reset your password' in message['Subject']
    link = _reset_link(message)
    path = link.split('portal.example.com', 1)[1]

    page = browser.get(path)
    assert page.status_code == 200 and 'Set your password' in text(page)
    token = re.search(r'name="token" value="([^"]+)"',
        page.get_data(as_text=True)).group(1)

    # Bad input keeps the user on the form with a message per field
    response = browser.post('set-password', {
            'email': email, 'token': token,
            'password': 'short', 'confirm': 'other'})
    assert response.status_code == 400
    assert 'at least 10 characters' in text(response)
    assert 'not the same' in text(response)

    new = 'Brand-New-Pass-7'
    response = browser.post('set-password', {
            'email': email, 'token': token,
            'password': new, 'confirm': new})
    assert response.status_code == 303
    assert Browser().login(email, new)

    # The link works once
    response = browser.post('set-password', {
            'email': email, 'token': token,
            'password': 'Another-Pass-8', 'confirm': 'Another-Pass-8'})
    assert response.status_code == 400
    assert 'already been used' in text(response)
    in_transaction(_set_password, data.users['b'][0], PASSWORD)


def test_reset_for_unknown_email_sends_nothing(browser, smtp):
    smtp.clear()
    response = browser.post('reset-password', {
            'email': 'stranger@example.com'})
    assert response.status_code == 200
    assert 'we have sent it a link' in text(response)
    time.sleep(0.5)
    assert smtp.messages == []


def test_expired_reset_link(browser, data):
    email = data.users['a2'][1]
    token = in_transaction(_expired_token, data.users['a2'][0])
    response = browser.get('set-password', query_string={
            'email': email, 'token': token})
    assert response.status_code == 400
    assert 'has expired' in text(response)


def _expired_token(user_id):
    WebUser = Pool().get('web.user')
    user = WebUser(user_id)
    user.set_reset_password_token()
    user.reset_password_token_expire = (
        datetime.datetime.now() - datetime.timedelta(minutes=1))
    user.save()
    return user.reset_password_token


def _set_password(user_id, password):
    WebUser = Pool().get('web.user')
    user = WebUser(user_id)
    user.password = password
    user.save()


def test_invitation_lets_a_new_user_set_a_password(data, smtp):
    user_id = in_transaction(_invite, data.clients['a'])
    message = smtp.wait_for(lambda m: m['To'] == 'new@alfa.example')
    assert 'Your access to' in message['Subject']
    body = message.get_body(('html',)).get_content()
    assert 'Alfa Usługi sp. z o.o.' in body
    path = _reset_link(message).split('portal.example.com', 1)[1]

    browser = Browser()
    page = browser.get(path)
    assert page.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"',
        page.get_data(as_text=True)).group(1)
    response = browser.post('set-password', {
            'email': 'new@alfa.example', 'token': token,
            'password': 'Welcome-Aboard-9', 'confirm': 'Welcome-Aboard-9'})
    assert response.status_code == 303
    assert Browser().login('new@alfa.example', 'Welcome-Aboard-9')
    assert read_only(lambda: Pool().get('web.user')(user_id).email_valid)


def _invite(party_id):
    WebUser = Pool().get('web.user')
    user, = WebUser.create([{
                'party': party_id, 'email': 'new@alfa.example',
                'language': 'en'}])
    WebUser.send_invitation([user])
    return user.id
