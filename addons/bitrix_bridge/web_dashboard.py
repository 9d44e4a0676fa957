"""The dashboard's pages, which Bitrix24 shows in a frame (facts:
BITRIX24.md §12): the application's main page and the CRM card tab, both
opened by Bitrix24 with a form POST (§12.4), and the main page's actions.

    POST|GET /<db>/bitrix/app                 main page (POST from Bitrix24,
                                              later GET ?t=<session token>)
    POST|GET /<db>/bitrix/tab                 company / contact card tab
    POST     /<db>/bitrix/app/clients         add a client
    POST     /<db>/bitrix/app/invite          invite a portal user
    POST     /<db>/bitrix/app/password        generate a portal password

Who asks is decided by dashboard.py; every answer here, errors included,
may be framed by the configured portal only (CSP frame-ancestors, §12.6)
and carries no X-Frame-Options."""
import logging
import os
import re
from functools import lru_cache, wraps
from urllib.parse import quote, urlencode, urlsplit

from jinja2 import (
    Environment, FileSystemLoader, StrictUndefined, Undefined,
    select_autoescape)
from werkzeug.exceptions import HTTPException

from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from client_portal.web import render as portal_render

from . import dashboard

logger = logging.getLogger(__name__)

PREFIX = '/<database_name>/bitrix'
TEMPLATES = os.path.join(os.path.dirname(__file__), 'templates')
PATHS = re.compile(r'^/[^/]+/bitrix/(app|tab)(/[a-z]+)?/?$')
ORIGIN_KEY = 'portico.bitrix_origin'
DOCUMENTS_ON_TAB = 10

# The pages' strings in Polish; English is the source. Bitrix24's LANG
# (its own ids, §12.9) picks the language: pl, else English
POLISH = {
    'Portico': 'Portico',
    'Portal clients': 'Klienci portalu',
    'Signed in as %(name)s': 'Zalogowano jako %(name)s',
    'Client': 'Klient',
    'Portal users': 'Użytkownicy portalu',
    'Documents due': 'Dokumenty do zapłaty',
    'Bitrix24': 'Bitrix24',
    'NIP': 'NIP',
    'E-mail': 'E-mail',
    'Name': 'Nazwa',
    'No clients yet.': 'Nie masz jeszcze klientów.',
    'No portal users.': 'Brak użytkowników portalu.',
    'none': 'brak',
    '%(count)s overdue': 'po terminie: %(count)s',
    'Generate password': 'Wygeneruj hasło',
    'invited': 'zaproszony',
    'active': 'aktywny',
    'inactive': 'nieaktywny',
    'last sign-in %(date)s': 'ostatnie logowanie %(date)s',
    'not linked': 'niepowiązany',
    'company %(id)s': 'firma %(id)s',
    'contact %(id)s': 'kontakt %(id)s',
    '%(count)s waiting': 'oczekuje: %(count)s',
    '%(count)s failed': 'błędy: %(count)s',
    'up to date': 'aktualny',
    'Add a client': 'Dodaj klienta',
    'Add': 'Dodaj',
    'Invite a portal user': 'Zaproś użytkownika portalu',
    'Invite': 'Zaproś',
    'Choose a client': 'Wybierz klienta',
    'The invitation with a link to set the password is sent by e-mail.':
        'Zaproszenie z linkiem do ustawienia hasła zostanie wysłane '
        'e-mailem.',
    'Client %(name)s added.': 'Dodano klienta %(name)s.',
    'Invitation sent to %(email)s.': 'Wysłano zaproszenie do %(email)s.',
    'New password of %(email)s:': 'Nowe hasło użytkownika %(email)s:',
    'It is shown only now: give it to the client.':
        'Jest widoczne tylko teraz: przekaż je klientowi.',
    'Correct the marked fields.': 'Popraw zaznaczone pola.',
    'This portal user is not among your clients.':
        'Ten użytkownik portalu nie należy do Twoich klientów.',
    'Not a portal client': 'To nie jest klient portalu',
    'This record is not a portal client you look after.':
        'Ten rekord nie jest klientem portalu, którym się opiekujesz.',
    'Portal status': 'Stan w portalu',
    'Documents': 'Dokumenty',
    'Number': 'Numer',
    'Date': 'Data',
    'Due date': 'Termin płatności',
    'Total': 'Razem',
    'Remaining': 'Do zapłaty',
    'overdue': 'po terminie',
    'paid': 'zapłacony',
    'issued': 'wystawiony',
    'cancelled': 'anulowany',
    'No documents.': 'Brak dokumentów.',
    'Unpaid: %(count)s, overdue: %(count_overdue)s':
        'Niezapłacone: %(count)s, po terminie: %(count_overdue)s',
    'Open the dashboard': 'Otwórz panel',
    'Access refused': 'Brak dostępu',
    'Bitrix24 did not confirm who you are, or your Bitrix24 user is not '
    'a Portico staff user. Open the application again from Bitrix24.':
        'Bitrix24 nie potwierdził, kim jesteś, albo Twój użytkownik '
        'Bitrix24 nie jest pracownikiem w Portico. Otwórz aplikację '
        'ponownie z Bitrix24.',
    'Bitrix24 is not reachable': 'Bitrix24 jest nieosiągalny',
    'Portico could not check your access with Bitrix24. Try again in a '
    'moment.':
        'Portico nie mogło sprawdzić Twojego dostępu w Bitrix24. Spróbuj '
        'ponownie za chwilę.',
    'Something went wrong': 'Coś poszło nie tak',
    'The page could not be shown. Try again in a moment.':
        'Nie udało się wyświetlić strony. Spróbuj ponownie za chwilę.',
    'Page not found': 'Nie znaleziono strony',
    }
ERRORS = {
    HTTPStatus.FORBIDDEN: ('Access refused',
        'Bitrix24 did not confirm who you are, or your Bitrix24 user is not '
        'a Portico staff user. Open the application again from Bitrix24.'),
    HTTPStatus.SERVICE_UNAVAILABLE: ('Bitrix24 is not reachable',
        'Portico could not check your access with Bitrix24. Try again in a '
        'moment.'),
    HTTPStatus.NOT_FOUND: ('Page not found',
        'The page could not be shown. Try again in a moment.'),
    HTTPStatus.INTERNAL_SERVER_ERROR: ('Something went wrong',
        'The page could not be shown. Try again in a moment.'),
    }


@lru_cache(maxsize=None)
def environment(language):
    "The pages' Jinja2 environment: the portal's set-up, our templates"
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(['html']),
        undefined=StrictUndefined if portal_render.strict() else Undefined,
        extensions=['jinja2.ext.i18n'],
        auto_reload=False, cache_size=-1,
        trim_blocks=True, lstrip_blocks=True)
    env.policies['ext.i18n.trimmed'] = True
    env.install_gettext_translations(portal_render.Catalogue(
            POLISH if language == 'pl' else {}), newstyle=True)
    env.globals['language'] = language
    return env


def page_language(value):
    """Bitrix24's LANG (§12.4, §12.9) as the pages' language: Polish when
    it says so or says nothing, English for any other language"""
    return 'pl' if (value or 'pl').lower() == 'pl' else 'en'


def security_headers(origin):
    """Framed by the portal only (§12.6); no X-Frame-Options, which could
    not name it. The pages need no script"""
    ancestors = "'self'" + (f' {origin}' if origin else '')
    return {
        'Content-Security-Policy': (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'none'; form-action 'self'; base-uri 'none'; "
            f"object-src 'none'; frame-ancestors {ancestors}"),
        'X-Content-Type-Options': 'nosniff',
        # Links carry the session token: it never leaves the site
        'Referrer-Policy': 'same-origin',
        'Cache-Control': 'no-store',
        }


class Page:
    "What a template knows: language, URLs, the session token"

    def __init__(self, request, database, origin, language, token=None,
            user=None):
        self.request = request
        self.database = database
        self.origin = origin
        self.language = language
        self.token = token
        self.user = user
        self._formatter = None

    def url(self, path='', **query):
        url = (f'{self.request.script_root}/{quote(self.database)}'
            f'/bitrix/{path.lstrip("/")}').rstrip('/')
        query = {k: v for k, v in query.items() if v not in (None, '')}
        if self.token:
            query['t'] = self.token
        return url + ('?' + urlencode(query) if query else '')

    def action(self, path):
        "A form's action: the token goes in the form, not in the URL"
        return (f'{self.request.script_root}/{quote(self.database)}'
            f'/bitrix/{path.lstrip("/")}')

    def static(self, name):
        "The portal's own static files (Bootstrap)"
        return (f'{self.request.script_root}/{quote(self.database)}'
            f'/portal/static/{name}')

    def crm_url(self, link):
        "The CRM card of a link, opened in the whole Bitrix24 window"
        kind = 'company' if link.entity_type_id == dashboard.COMPANY else (
            'contact')
        return f'{self.origin}/crm/{kind}/details/{link.bitrix_id}/'

    def formatter(self):
        if self._formatter is None:
            self._formatter = portal_render.Formatter()
        return self._formatter

    def render(self, template, status=HTTPStatus.OK, **context):
        formatter = self.formatter() if self.user else None
        context.update(page=self,
            format_date=formatter.date if formatter else str,
            format_datetime=formatter.datetime if formatter else str,
            format_amount=formatter.amount if formatter else str)
        html = environment(self.language).get_template(
            f'dashboard/{template}').render(context)
        return respond(Response(html, status=status,
                content_type='text/html; charset=utf-8'), self.origin)


def respond(response, origin):
    for key, value in security_headers(origin).items():
        response.headers[key] = value
    response.headers.pop('X-Frame-Options', None)
    return response


def _language(request):
    return page_language(request.args.get('LANG'))


def error_page(request, database, status, origin=None, language=None):
    "An error page in the pages' look, never a traceback"
    title, text = ERRORS.get(status, ERRORS[HTTPStatus.INTERNAL_SERVER_ERROR])
    page = Page(request, database, origin, language or _language(request))
    return page.render('error.html', status=status, title=title, text=text,
        status_code=int(status))


def _origin_of(pool):
    "The configured portal's origin, read in a transaction of its own"
    try:
        with Transaction().start(pool.database_name, 0, readonly=True):
            return dashboard.portal_origin()
    except Exception:
        logger.exception("dashboard: reading the portal's address failed")
        return None


def _foreign_origin(request, portal):
    """A browser's Origin that is neither this site (its host, as trytond
    compares it) nor the portal: a page elsewhere posting here. AUTH_ID and
    the session token stay the proof; this refuses the obvious early"""
    origin = (request.environ.get(ORIGIN_KEY) or '').lower()
    if not origin or origin == 'null' or origin == (portal or '').lower():
        return False
    return urlsplit(origin).netloc != (request.host or '').lower()


def dashboard_route(rule, methods, readonly=None):
    """A dashboard page: handler(request, page) -> Response, run in a
    transaction as the system until the handler switches to the staff
    user (dashboard.as_staff); Refused answers 403, Unreachable 503"""
    def decorator(func):
        @wraps(func)
        def in_transaction(request, pool):
            try:
                pool.get('bitrix.configuration')
            except KeyError:
                return error_page(request, pool.database_name,
                    HTTPStatus.NOT_FOUND)
            origin = dashboard.portal_origin()
            language = _language(request)
            try:
                if _foreign_origin(request, origin):
                    raise dashboard.Refused('foreign origin')
                page = Page(request, pool.database_name, origin, language)
                return func(request, page)
            except dashboard.Refused as refused:
                logger.info('dashboard %s refused: %s', request.path,
                    refused)
                status = HTTPStatus.FORBIDDEN
            except dashboard.Unreachable:
                status = HTTPStatus.SERVICE_UNAVAILABLE
            except Exception:
                # trytond's with_pool turns it into a bare 500: log it here
                logger.exception('dashboard %s failed', request.path)
                raise
            return error_page(request, pool.database_name, status, origin,
                language)

        transactional = with_pool(
            with_transaction(readonly=readonly)(in_transaction))

        @wraps(func)
        def endpoint(request, database_name):
            try:
                return transactional(request, database_name)
            except HTTPException as error:
                status = HTTPStatus(error.code or 500)
            except Exception:
                logger.exception('dashboard %s failed', request.path)
                status = HTTPStatus.INTERNAL_SERVER_ERROR
            origin = None
            if database_name in Pool.database_list():
                origin = _origin_of(Pool(database_name))
            return error_page(request, database_name, status, origin)

        app.route(PREFIX + rule, methods=set(methods))(endpoint)
        return func
    return decorator


def _with_origin_aside(wsgi_app):
    """trytond refuses a request whose Origin is another site's before any
    route runs; Bitrix24's form POST is exactly that (§12.4). For the
    dashboard's paths only, the Origin is set aside for the route to judge
    (_foreign_origin); these routes use no cookie, so trytond's guard has
    nothing to protect there"""
    @wraps(wsgi_app)
    def wrapper(environ, start_response):
        if 'HTTP_ORIGIN' in environ and PATHS.match(
                environ.get('PATH_INFO', '')):
            environ[ORIGIN_KEY] = environ.pop('HTTP_ORIGIN')
        return wsgi_app(environ, start_response)
    return wrapper


app.wsgi_app = _with_origin_aside(app.wsgi_app)


# The pages

def _session(request, page):
    """The staff user of the request: a placement POST's AUTH_ID checked
    with Bitrix24, else the signed token `t`; the page then carries a
    token of its own"""
    token = request.form.get('t') or request.args.get('t')
    if request.method == 'POST' and 'AUTH_ID' in request.form:
        user = dashboard.verify_placement(request.form)
        language = page.language
    elif token:
        session, user = dashboard.read_session(token)
        language = session.language
    else:
        raise dashboard.Refused('no credentials')
    page.language = language
    page.user = user
    page.token = dashboard.issue_session(user, language)
    return user


def _main(page, status=HTTPStatus.OK, **context):
    "The main page: the staff user's clients and the forms"
    with dashboard.as_staff(page.user, page.language):
        parties = dashboard.clients(page.user)
        states = dashboard.overview(parties)
        context.setdefault('values', {})
        context.setdefault('errors', {})
        context.setdefault('form', None)
        context.setdefault('notice', None)
        context.setdefault('password', None)
        return page.render('app.html', status=status, states=states,
            **context)


# Bitrix24's POST opening a page is any site's to send: it only reads
# (§12.5 pitfall 5)
@dashboard_route('/app', methods=('GET', 'POST'), readonly=True)
def main_page(request, page):
    _session(request, page)
    return _main(page)


@dashboard_route('/tab', methods=('GET', 'POST'), readonly=True)
def tab(request, page):
    "A company or contact card's tab: that client's portal status"
    user = _session(request, page)
    # Only Bitrix24's POST names the card (§12.4)
    placement = request.form.get('PLACEMENT', '')
    options = dashboard.parse_placement_options(
        request.form.get('PLACEMENT_OPTIONS'))
    entity_type_id = dashboard.TABS.get(placement.upper())
    bitrix_id = dashboard.crm_id(options)
    with dashboard.as_staff(user, page.language):
        party = None
        if entity_type_id and bitrix_id:
            party = dashboard.client_for_crm(user, entity_type_id,
                bitrix_id)
        state = None
        if party is not None:
            state, = dashboard.overview([party], documents=DOCUMENTS_ON_TAB)
        return page.render('tab.html', state=state)


def _action(request, page):
    "An action's staff user: only a signed token, which is also the CSRF"
    token = request.form.get('t')
    if not token:
        raise dashboard.Refused('no session')
    session, user = dashboard.read_session(token)
    page.language = session.language
    page.user = user
    page.token = dashboard.issue_session(user, session.language)
    return user


def _id(value):
    value = (value or '').strip()
    return int(value) if value.isdigit() and int(value) < 2 ** 31 else None


@dashboard_route('/app/clients', methods=('POST',))
def add_client(request, page):
    user = _action(request, page)
    values = {k: request.form.get(k, '')[:500]
        for k in ['name', 'tax_number', 'email']}
    with dashboard.as_staff(user, page.language):
        party, errors = dashboard.add_client(user, values)
    if errors:
        return _main(page, HTTPStatus.UNPROCESSABLE_ENTITY, form='client',
            values=values, errors=errors)
    return _main(page, notice=('success', 'Client %(name)s added.',
            {'name': party.name}))


@dashboard_route('/app/invite', methods=('POST',))
def invite(request, page):
    user = _action(request, page)
    values = {'client': request.form.get('client', '')[:20],
        'email': request.form.get('email', '')[:500]}
    with dashboard.as_staff(user, page.language):
        web_user, errors = dashboard.invite(user, _id(values['client']),
            values['email'])
    if errors:
        return _main(page, HTTPStatus.UNPROCESSABLE_ENTITY, form='invite',
            values=values, errors=errors)
    return _main(page, notice=('success', 'Invitation sent to %(email)s.',
            {'email': web_user.email}))


@dashboard_route('/app/password', methods=('POST',))
def password(request, page):
    user = _action(request, page)
    with dashboard.as_staff(user, page.language):
        web_user, password = dashboard.new_password(user,
            _id(request.form.get('user')))
    if web_user is None:
        return _main(page, HTTPStatus.UNPROCESSABLE_ENTITY, notice=(
                'danger', 'This portal user is not among your clients.', {}))
    return _main(page, password=(web_user.email, password))

