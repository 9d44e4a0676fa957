"""The staff dashboard inside Bitrix24 (facts: BITRIX24.md §12), through
trytond's WSGI application as Bitrix24's browser form POST reaches it: the
request is believed only once the configured portal accepted its token,
Marta sees her clients only, the card tab shows the linked client or
nothing, the actions run under her rules, and every page may be framed by
the portal only."""
import datetime
import re
import time
from html import unescape
from unittest import mock
from urllib.parse import urlsplit

from werkzeug.test import Client

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, with_transaction
from trytond.transaction import Transaction

from client_portal import mail
from client_portal.demo import (
    create_client, create_invoice, create_portal_user, create_staff, nip,
    setup_firm)
from client_portal.tests.committed import CommittedTestCase
from tests.bitrix24_emulator import Emulator

from .. import dashboard, web_dashboard
from ..sync import external_key

TODAY = datetime.date.today()
PASSWORD = 'Staff-Pass-2026'
MANAGER = ['client_portal.group_portal_manager']
BASE = 'https://portico.example.com'
LINES = [("Prowadzenie ksiąg", 1, '1000.00', '23')]


def _text(response):
    body = response.get_data(as_text=True)
    return ' '.join(unescape(re.sub(r'<[^>]+>', ' ', body)).split())


def _token(response):
    found = re.search(r'name="t" value="([^"]+)"',
        response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return unescape(found.group(1))


class DashboardTestCase(CommittedTestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"
    module = 'bitrix_bridge'
    extras = ['client_portal', 'ksef', 'payroll_account']

    @classmethod
    def setUpClass(cls):
        cls.b24 = Emulator()
        cls.b24.start()
        cls.addClassCleanup(cls.b24.stop)
        # Another portal, an attacker's: it accepts its own tokens only
        cls.other = Emulator()
        cls.other.start()
        cls.addClassCleanup(cls.other.stop)
        super().setUpClass()

    @classmethod
    def build(cls):
        pool = Pool()
        User = pool.get('res.user')
        Link = pool.get('bitrix.link')
        Outbox = pool.get('bitrix.outbox')
        Configuration = pool.get('bitrix.configuration')
        firm = setup_firm(TODAY, logo=False)
        marta = create_staff(firm, 'marta', "Marta Nowak", MANAGER,
            PASSWORD)
        piotr = create_staff(firm, 'piotr', "Piotr Zieliński", MANAGER,
            PASSWORD)
        # Bitrix24's administrator is a staff user without a portal role
        clerk = create_staff(firm, 'clerk', "Anna Admin", [], PASSWORD)
        User.write([clerk], {'bitrix_user_id': 1})
        User.write([marta], {'bitrix_user_id': 2})
        User.write([piotr], {'bitrix_user_id': 3})
        alfa = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
            "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1',
            manager=marta)
        gamma = create_client(firm, "Gamma S.A.", nip('113245398'),
            "ul. Długa 1", '00-001', "Warszawa", 'gamma@example.com', '2',
            manager=marta)
        beta = create_client(firm, "Beta Serwis sp. z o.o.",
            nip('526587763'), "ul. Prosta 1", '00-001', "Warszawa",
            'beta@example.com', '3', manager=piotr)
        anna = create_portal_user(alfa, 'anna@alfa.example', 'Client-Pass-1')
        bob = create_portal_user(beta, 'bob@beta.example', 'Client-Pass-2')
        # In date order: the invoices' numbering requires it
        create_invoice(firm, alfa, TODAY - datetime.timedelta(days=40),
            LINES)
        create_invoice(firm, beta, TODAY - datetime.timedelta(days=40),
            LINES)
        create_invoice(firm, alfa, TODAY, LINES)
        Link.create([
                {'origin': str(alfa), 'entity_type_id': 4, 'bitrix_id': 501},
                {'origin': str(beta), 'entity_type_id': 4, 'bitrix_id': 502},
                ])
        Outbox.create([{'origin': str(alfa), 'key': external_key(alfa),
                    'state': 'failed'}])
        Configuration.write([Configuration(1)], {
                'enabled': False,
                'portal_url': cls.b24.base_url,
                'member_id': cls.b24.oauth['member_id'],
                'client_id': cls.b24.oauth['client_id'],
                'authentication': 'webhook',
                'webhook_url_input': cls.b24.webhook_url,
                })
        return {'marta': marta.id, 'alfa': alfa.id, 'gamma': gamma.id,
            'beta': beta.id, 'anna': anna.id, 'bob': bob.id}

    def setUp(self):
        self.ids = self.setup()
        self.client = Client(web_dashboard.app)
        self.sent = []
        patcher = mock.patch.object(mail, 'send_message_transactional',
            self.sent.append)
        patcher.start()
        self.addCleanup(patcher.stop)

    # Helpers: Bitrix24 opening a placement, and our own navigation

    def url(self, path):
        return f'{BASE}/{DB_NAME}/bitrix/{path}'

    def post(self, url, **kwargs):
        return self._open('POST', url, **kwargs)

    def get(self, url, **kwargs):
        return self._open('GET', url, **kwargs)

    def _open(self, method, url, **kwargs):
        "A request to the URL's own host, as a browser sends it"
        parts = urlsplit(url)
        path = parts.path + (f'?{parts.query}' if parts.query else '')
        return self.client.open(path, method=method,
            base_url=f'{parts.scheme}://{parts.netloc}', **kwargs)

    def open(self, path, placement='DEFAULT', portal=None, **kwargs):
        "(response, form) of Bitrix24's browser POST opening a placement"
        portal = portal or self.b24
        url, form = portal.app.open_placement(self.url(path), placement,
            **kwargs)
        return self.post(url, data=form), form

    def post_open(self, path, form, domain=None):
        query = {'DOMAIN': domain or urlsplit(self.b24.base_url).netloc,
            'PROTOCOL': '0', 'LANG': 'pl', 'APP_SID': 'x'}
        return self.post(self.url(path), query_string=query,
            data=form)

    def token(self):
        response, _ = self.open('app')
        self.assertEqual(response.status_code, 200)
        return _token(response)

    def in_transaction(self, func):
        with Transaction().start(DB_NAME, 0) as transaction:
            result = func()
            transaction.commit()
            return result

    def assertRefused(self, response):
        self.assertEqual(response.status_code, 403, _text(response)[:300])
        self.assertNotIn('Traceback', response.get_data(as_text=True))
        self.assertNotIn('Alfa', _text(response))
        self.assertFramedByPortal(response)

    def assertFramedByPortal(self, response):
        csp = response.headers['Content-Security-Policy']
        self.assertIn(f"frame-ancestors 'self' {self.b24.base_url}", csp)
        self.assertNotIn('X-Frame-Options', response.headers)

    # The pages

    def test_main_page_lists_only_her_clients(self):
        response, _ = self.open('app')
        self.assertEqual(response.status_code, 200)
        self.assertFramedByPortal(response)
        text = _text(response)
        self.assertIn("Klienci portalu", text)
        self.assertIn("Alfa sp. z o.o.", text)
        self.assertIn("Gamma S.A.", text)
        self.assertNotIn("Beta", text)
        self.assertNotIn("bob@beta.example", text)
        self.assertIn("anna@alfa.example", text)
        # Alfa: two invoices unpaid, one overdue; its Bitrix24 company and
        # the failed outbox entry
        self.assertIn("Niezapłacone: 2, po terminie: 1", text)
        self.assertIn("firma 501", text)
        self.assertIn("błędy: 1", text)
        self.assertEqual(response.headers['Cache-Control'], 'no-store')

    def test_staff_without_a_portal_role_sees_no_client(self):
        response, _ = self.open('app', user_id=1, lang='en')
        self.assertEqual(response.status_code, 200)
        text = _text(response)
        self.assertIn("No clients yet.", text)
        self.assertNotIn("Alfa", text)
        self.assertNotIn("Beta", text)

    def test_page_in_english_for_an_english_user(self):
        response, _ = self.open('app', lang='en')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Portal clients", _text(response))
        # The signed token keeps the language for later navigation
        again = self.get(self.url('app'),
            query_string={'t': _token(response)})
        self.assertEqual(again.status_code, 200)
        self.assertIn("Unpaid: 2, overdue: 1", _text(again))

    def test_forged_or_foreign_tokens_are_refused(self):
        _, form = self.open('app')
        self.b24.app.clear_calls()
        self.assertRefused(self.post_open('app',
                dict(form, AUTH_ID='forged-token')))
        # Another member_id than the configured portal's
        self.assertRefused(self.post_open('app',
                dict(form, member_id='another-portal')))
        # No token at all, or a GET without a session
        self.assertRefused(self.post_open('app',
                {k: v for k, v in form.items() if k != 'AUTH_ID'}))
        self.assertRefused(self.get(self.url('app')))
        # A Bitrix24 user who is no staff user
        response, _ = self.open('app', user_id=4)
        self.assertRefused(response)

    def test_expired_token_is_refused(self):
        _, form = self.open('app')
        self.b24.app.expire_token(form['AUTH_ID'])
        self.assertRefused(self.post_open('app', form))

    def test_domain_of_the_request_is_never_called(self):
        "§12.5 pitfall 1: the check goes to the configured portal only"
        other_domain = urlsplit(self.other.base_url).netloc
        _, form = self.open('app', portal=self.other)
        self.other.app.clear_calls()
        # The attacker's own portal and token, our member_id
        forged = dict(form, member_id=self.b24.oauth['member_id'],
            SERVER_ENDPOINT=f'{self.other.base_url}/oauth/rest/')
        self.assertRefused(self.post_open('app', forged,
                domain=other_domain))
        self.assertEqual(self.other.app.calls(), [])
        # A genuine token with a DOMAIN pointing elsewhere: still checked
        # with the configured portal, and accepted
        _, form = self.open('app')
        response = self.post_open('app', form, domain=other_domain)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.other.app.calls(), [])

    def test_session_token_tampered_or_expired_is_refused(self):
        token = self.token()
        payload, signature = token.split('.')
        for forged in [payload + '.' + signature[:-2] + 'AA',
                payload[:-2] + 'xy.' + signature, token + 'x', 'x.y']:
            self.assertRefused(self.get(self.url('app'),
                    query_string={'t': forged}))
        self.assertRefused(self.post(self.url('app/clients'),
                data={'t': token[:-3], 'name': "Delta"}))

        def old():
            User = Pool().get('res.user')
            return dashboard.issue_session(User(self.ids['marta']), 'pl',
                now=time.time() - 2 * dashboard.SESSION_TTL)
        self.assertRefused(self.get(self.url('app'),
                query_string={'t': self.in_transaction(old)}))

    def test_browser_origin(self):
        "Bitrix24's POST comes with the portal's Origin; others are refused"
        url, form = self.b24.app.open_placement(self.url('app'), 'DEFAULT')
        response = self.post(url, data=form,
            headers={'Origin': self.b24.base_url})
        self.assertEqual(response.status_code, 200)
        url, form = self.b24.app.open_placement(self.url('app'), 'DEFAULT')
        self.assertRefused(self.post(url, data=form,
                headers={'Origin': 'https://evil.example'}))
        # The frame's own forms come from this site
        response = self.post(self.url('app'),
            data={'t': _token(response)}, headers={'Origin': BASE})
        self.assertEqual(response.status_code, 200)

    def test_tab_of_a_linked_company_shows_that_client(self):
        response, _ = self.open('tab', 'CRM_COMPANY_DETAIL_TAB',
            options={'ID': 501}, lang='en')
        self.assertEqual(response.status_code, 200)
        self.assertFramedByPortal(response)
        text = _text(response)
        self.assertIn("Alfa sp. z o.o.", text)
        self.assertIn("anna@alfa.example", text)
        self.assertIn("Unpaid: 2, overdue: 1", text)
        self.assertIn("overdue", text)
        self.assertEqual(response.get_data(as_text=True).count(
                'class="document"'), 2)

    def test_tab_of_a_client_she_may_not_read_shows_nothing_of_it(self):
        for placement, options in [
                ('CRM_COMPANY_DETAIL_TAB', {'ID': 502}),  # Piotr's client
                ('CRM_COMPANY_DETAIL_TAB', {'ID': 999}),  # no link
                ('CRM_CONTACT_DETAIL_TAB', {'ID': 501}),  # a company's id
                ('CRM_DEAL_DETAIL_TAB', {'ID': 501}),
                ('CRM_COMPANY_DETAIL_TAB', {'ID': 'abc'}),
                ('CRM_COMPANY_DETAIL_TAB', None),
                ]:
            response, _ = self.open('tab', placement, options=options,
                lang='en')
            self.assertEqual(response.status_code, 200)
            text = _text(response)
            self.assertIn("Not a portal client", text)
            self.assertNotIn("Beta", text)
            self.assertNotIn("Alfa", text)
            self.assertNotIn("bob@beta.example", text)

    def test_placement_options_parsed_defensively(self):
        parse = dashboard.parse_placement_options
        self.assertEqual(parse('{"ID":"8061","URI":"\\/crm\\/"}'),
            {'ID': '8061', 'URI': '/crm/'})
        for value in [None, '', 'undefined', '[1, 2]', '{"ID":', '"x"']:
            self.assertEqual(parse(value), {})
        self.assertEqual(dashboard.crm_id({'ID': ' 12 '}), 12)
        for value in ['0', '-1', '1e3', '99999999999', None]:
            self.assertIsNone(dashboard.crm_id({'ID': value}))

    # The actions

    def test_add_client(self):
        token = self.token()
        response = self.post(self.url('app/clients'), data={
                't': token, 'name': "Delta sp. z o.o.",
                'tax_number': '1234567890', 'email': 'delta@'})
        self.assertEqual(response.status_code, 422)
        self.assertFramedByPortal(response)
        body = response.get_data(as_text=True)
        self.assertIn('value="Delta sp. z o.o."', body)
        self.assertIn('value="1234567890"', body)
        self.assertEqual(body.count('is-invalid'), 2)
        response = self.post(self.url('app/clients'), data={
                't': token, 'name': "Delta sp. z o.o.",
                'tax_number': nip('779240121'), 'email': 'delta@example.com'})
        self.assertEqual(response.status_code, 200)
        self.assertIn("Dodano klienta Delta sp. z o.o.", _text(response))

        def created():
            Party = Pool().get('party.party')
            party, = Party.search([('name', '=', "Delta sp. z o.o.")])
            return (party.portal_client, party.portal_manager.id,
                party.email, party.tax_identifier.code)
        self.assertEqual(self.in_transaction(created)[:3],
            (True, self.ids['marta'], 'delta@example.com'))

    def test_invite_a_portal_user(self):
        token = self.token()
        # Piotr's client is not one she may choose
        response = self.post(self.url('app/invite'), data={
                't': token, 'client': str(self.ids['beta']),
                'email': 'new@beta.example'})
        self.assertEqual(response.status_code, 422)
        self.assertIn('value="new@beta.example"',
            response.get_data(as_text=True))
        # An address in use
        response = self.post(self.url('app/invite'), data={
                't': token, 'client': str(self.ids['gamma']),
                'email': 'anna@alfa.example'})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(self.sent, [])
        response = self.post(self.url('app/invite'), data={
                't': token, 'client': str(self.ids['gamma']),
                'email': 'ewa@gamma.example'})
        self.assertEqual(response.status_code, 200, _text(response)[:300])
        self.assertIn("ewa@gamma.example", _text(response))
        message, = self.sent
        self.assertEqual(message['To'], 'ewa@gamma.example')
        self.assertIn('set-password?', message.get_body(
                ('plain',)).get_content())

        def created():
            WebUser = Pool().get('web.user')
            user, = WebUser.search([('email', '=', 'ewa@gamma.example')])
            return user.party.id, bool(user.invitation_sent_at)
        self.assertEqual(self.in_transaction(created),
            (self.ids['gamma'], True))

    def test_generate_a_password(self):
        token = self.token()
        response = self.post(self.url('app/password'), data={
                't': token, 'user': str(self.ids['bob'])})
        self.assertEqual(response.status_code, 422)
        self.assertNotIn('id="new-password"',
            response.get_data(as_text=True))
        response = self.post(self.url('app/password'), data={
                't': token, 'user': str(self.ids['anna'])})
        self.assertEqual(response.status_code, 200)
        password = unescape(re.search(r'id="new-password">([^<]+)<',
                response.get_data(as_text=True)).group(1))
        self.assertGreaterEqual(len(password), 16)

        def check():
            WebUser = Pool().get('web.user')
            return WebUser.authenticate('anna@alfa.example', password)
        self.assertEqual(self.in_transaction(check).id, self.ids['anna'])

    def test_every_string_of_the_pages_is_in_polish(self):
        import glob
        import os
        found = set()
        for path in glob.glob(os.path.join(web_dashboard.TEMPLATES,
                    'dashboard', '*.html')):
            with open(path) as file:
                found |= set(re.findall(r"_\('([^']+)'", file.read()))
        for title, text in web_dashboard.ERRORS.values():
            found |= {title, text}
        found |= {'paid', 'issued', 'cancelled'}
        self.assertEqual(found - set(web_dashboard.POLISH), set())

    # The connection settings

    @with_transaction()
    def test_bind_placements(self):
        Configuration = Pool().get('bitrix.configuration')
        configuration = Configuration(1)
        with self.assertRaises(UserError) as raised:
            dashboard.bind_placements(configuration, BASE)
        self.assertIn('OAuth', str(raised.exception))
        tokens = self.b24.app.issue_tokens(1)
        Configuration.write([configuration], {
                'authentication': 'oauth',
                'client_secret_input': self.b24.oauth['client_secret'],
                'refresh_token_input': tokens['refresh_token'],
                'oauth_server': self.b24.base_url,
                })
        Configuration.write([configuration],
            {'access_token': tokens['access_token']})
        configuration = Configuration(1)
        self.assertEqual(dashboard.bind_placements(configuration, BASE + '/'),
            ['CRM_COMPANY_DETAIL_TAB', 'CRM_CONTACT_DETAIL_TAB'])
        # Bound already: nothing to do, no error
        self.assertEqual(dashboard.bind_placements(configuration, BASE), [])
        with configuration.client() as client:
            bindings = client.call('placement.get').result
        handler = f'{BASE}/{DB_NAME}/bitrix/tab'
        self.assertEqual(sorted((b['placement'], b['handler'], b['title'])
                for b in bindings), [
                ('CRM_COMPANY_DETAIL_TAB', handler, 'Portico'),
                ('CRM_CONTACT_DETAIL_TAB', handler, 'Portico')])
