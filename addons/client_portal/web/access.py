"""The portal's one access layer.

Every portal route is declared with @portal_route. It resolves the session
cookie to the web user and so to the client (party), checks the CSRF token
of every POST, and runs the handler as the portal's service user with the
client in "_"-prefixed context keys and access checks on: the record rules
of client_portal then decide what the client can see or change. Nothing in
a handler runs as root. Errors become branded pages that never show a
traceback or an internal name."""
import hmac
import logging
import secrets
from contextlib import contextmanager
from functools import wraps
from urllib.parse import quote, unquote, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from trytond import config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, redirect, with_pool, with_transaction)
from trytond.transaction import Transaction, check_access
from trytond.wsgi import app

from ..ir import PARTY_KEY, WEB_USER_KEY
from ..web_user import PORTAL_LANGUAGES
from . import render as _render

logger = logging.getLogger(__name__)

SESSION_COOKIE = 'portal_session'
CSRF_COOKIE = 'portal_csrf'
LANG_COOKIE = 'portal_lang'
PREFIX = '/<database_name>/portal'
SECURITY_HEADERS = {
    'Content-Security-Policy': (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'; object-src 'none'"),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    }


class IdConverter(IntegerConverter):
    """A record id: a positive integer the database can hold. A URL with
    any other number matches no page and gets the portal's 404, never a
    database error"""

    def __init__(self, map, **kwargs):
        super().__init__(map, min=1, max=2 ** 31 - 1)


app.url_map.converters['id'] = IdConverter


class Portal:
    "What a handler knows about the request: user, client, language, URLs"

    def __init__(self, request, pool):
        self.request = request
        self.pool = pool
        self.database = pool.database_name
        self.web_user = None
        self.party = None
        self.company = None
        self.language = None
        self.csrf_token = _csrf_token(request)
        self._set_cookies = {}
        self.title = self.firm_name = 'Portico'
        self.has_logo = False
        self.support_email = self.support_phone = None
        self.timezone = None

    def load_branding(self):
        "The firm's name, contacts and whether it has a logo: one read"
        if self.company is None:
            return
        Company = self.pool.get('company.company')
        # The logo's size, not its bytes: the page only links to it
        with Transaction().set_context({'company.company.logo': 'size'}):
            values, = Company.read([self.company.id], [
                    'portal_name', 'portal_support_email',
                    'portal_support_phone', 'logo', 'party.name', 'timezone'])
        self.firm_name = values['party.']['name']
        self.title = values['portal_name'] or self.firm_name
        self.has_logo = bool(values['logo'])
        self.support_email = values['portal_support_email']
        self.support_phone = values['portal_support_phone']
        self.timezone = values['timezone']

    def url(self, path='', **query):
        url = f'{self.request.script_root}/{quote(self.database)}/portal/'
        url += path.lstrip('/')
        if query:
            from urllib.parse import urlencode
            query = {k: v for k, v in query.items() if v not in (None, '')}
            if query:
                url += '?' + urlencode(query)
        return url

    def static(self, name):
        return self.url('static/' + name)

    def render(self, template, status=HTTPStatus.OK, **context):
        formatter = _render.Formatter(self.timezone)
        context.update({
                'portal': self,
                'company': self.company,
                'web_user': self.web_user,
                'party': self.party,
                'format_date': formatter.date,
                'format_datetime': formatter.datetime,
                'format_amount': formatter.amount,
                })
        context.setdefault('page', template.split('/')[0])
        html = _render.render(template, self.language, **context)
        return self.respond(Response(
                html, status=status, content_type='text/html; charset=utf-8'))

    def redirect(self, path, **query):
        "303 See Other: after a POST the browser follows with a GET"
        return self.respond(redirect(
                self.url(path, **query), code=HTTPStatus.SEE_OTHER))

    def respond(self, response):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        response.headers.setdefault('Cache-Control', 'no-store')
        for name, (value, max_age) in self._set_cookies.items():
            set_cookie(response, self.database, name, value, max_age)
        return response

    def set_cookie(self, name, value, max_age=None):
        self._set_cookies[name] = (value, max_age)

    def get_or_404(self, model, id_):
        "The record if the client may read it, else 404, whoever owns it"
        Model = self.pool.get(model)
        records = Model.search([('id', '=', id_)], limit=1)
        if not records:
            abort(HTTPStatus.NOT_FOUND)
        return records[0]


def _csrf_token(request):
    token = request.cookies.get(CSRF_COOKIE, '')
    if len(token) != 64:
        token = secrets.token_hex(32)
    return token


def set_cookie(response, database, name, value, max_age=None):
    secure = config.getboolean('portal', 'secure_cookies', default=True)
    if value is None:
        response.delete_cookie(
            name, path=f'/{database}', secure=secure, httponly=True,
            samesite='Lax')
    else:
        response.set_cookie(
            name, value, max_age=max_age, path=f'/{database}',
            secure=secure, httponly=True, samesite='Lax')


def _check_csrf(request):
    sent = request.form.get('csrf_token', '') or request.headers.get(
        'X-CSRF-Token', '')
    cookie = request.cookies.get(CSRF_COOKIE, '')
    if not cookie or not sent or not hmac.compare_digest(sent, cookie):
        abort(HTTPStatus.FORBIDDEN)


def _request_language(request, web_user=None):
    if web_user is not None and web_user.portal_language:
        return web_user.portal_language
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in PORTAL_LANGUAGES:
        return cookie
    best = request.accept_languages.best_match(PORTAL_LANGUAGES)
    return best or 'pl'


def _company(pool):
    Company = pool.get('company.company')
    companies = Company.search([], limit=1, order=[('id', 'ASC')])
    return companies[0] if companies else None


def _service_user(pool):
    ModelData = pool.get('ir.model.data')
    return ModelData.get_id('client_portal', 'user_portal')


@contextmanager
def client_access(pool, web_user, company, language):
    """Run as the portal service user, restricted by record rules to the
    web user's client"""
    transaction = Transaction()
    context = {
        PARTY_KEY: web_user.party.id if web_user and web_user.party else None,
        WEB_USER_KEY: web_user.id if web_user else None,
        'company': company.id if company else None,
        'language': language,
        }
    with transaction.set_user(_service_user(pool)), \
            transaction.set_context(**context), \
            check_access():
        yield


def _module_activated(pool):
    try:
        pool.get('portal.document')
    except KeyError:
        return False
    return True


def _session_user(pool, request):
    Session = pool.get('web.user.session')
    key = request.cookies.get(SESSION_COOKIE)
    if not key:
        return None
    user = Session.get_user(key)
    if user and user.active and user.party and user.party.portal_client:
        return user
    return None


def portal_route(rule, methods=('GET',), auth=True, readonly=None):
    """Declare a portal page. The handler is called as
    handler(request, portal, **url_values) inside the client's access
    environment (or an anonymous one when auth is False). Ids in the
    rule are written <id:name>."""
    if '<int:' in rule:
        raise ValueError(f"{rule}: write ids as <id:name>")

    def decorator(func):
        @wraps(func)
        def handler(request, pool, **kwargs):
            if not _module_activated(pool):
                abort(HTTPStatus.NOT_FOUND)
            if request.method == 'POST':
                _check_csrf(request)
            portal = Portal(request, pool)
            portal.company = _company(pool)
            web_user = _session_user(pool, request)
            if auth and web_user is None:
                next_ = request.full_path.rstrip('?')
                if request.method != 'GET':
                    next_ = None
                return portal.redirect('login', next=next_)
            portal.language = _request_language(request, web_user)
            portal.set_cookie(CSRF_COOKIE, portal.csrf_token)
            with client_access(pool, web_user, portal.company,
                    portal.language):
                if web_user is not None:
                    WebUser = pool.get('web.user')
                    portal.web_user = WebUser(web_user.id)
                    portal.party = portal.web_user.party
                    portal.session_key = request.cookies.get(SESSION_COOKIE)
                if portal.company is not None:
                    Company = pool.get('company.company')
                    portal.company = Company(portal.company.id)
                    portal.load_branding()
                try:
                    return func(request, portal, **kwargs)
                except AccessError:
                    abort(HTTPStatus.NOT_FOUND)

        endpoint = with_pool(_errors(
                with_transaction(readonly=readonly)(handler)))
        app.route(PREFIX + rule, methods=set(methods))(endpoint)
        return func
    return decorator


ERROR_MESSAGES = {
    HTTPStatus.BAD_REQUEST: 'msg_error_bad_request',
    HTTPStatus.UNAUTHORIZED: 'msg_error_unauthorized',
    HTTPStatus.FORBIDDEN: 'msg_error_forbidden',
    HTTPStatus.NOT_FOUND: 'msg_error_not_found',
    HTTPStatus.METHOD_NOT_ALLOWED: 'msg_error_method',
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: 'msg_error_too_large',
    HTTPStatus.TOO_MANY_REQUESTS: 'msg_error_rate_limited',
    HTTPStatus.INTERNAL_SERVER_ERROR: 'msg_error_internal',
    HTTPStatus.SERVICE_UNAVAILABLE: 'msg_error_unavailable',
    }


def _errors(func):
    "Turn every failure into a clean error page with the right status"
    @wraps(func)
    def wrapper(request, pool, **kwargs):
        try:
            return func(request, pool, **kwargs)
        except RateLimitException:
            status = HTTPStatus.TOO_MANY_REQUESTS
        except HTTPException as e:
            if e.code in {301, 302, 303, 307, 308} and e.response:
                return e.response
            status = HTTPStatus(e.code or 500)
        except Exception:
            logger.exception("portal request %s failed", request.path)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
        return error_page(request, pool, status)
    return wrapper


def error_page(request, pool, status):
    message_id = ERROR_MESSAGES.get(status, ERROR_MESSAGES[500])
    try:
        with Transaction().start(pool.database_name, 0, readonly=True):
            portal = Portal(request, pool)
            portal.company = _company(pool)
            portal.language = _request_language(request)
            with client_access(pool, None, portal.company, portal.language):
                portal.load_branding()
                return portal.render(
                    'error.html', status=status, status_code=int(status),
                    message=gettext('client_portal.' + message_id))
    except Exception:
        logger.exception("portal error page failed")
        return Response(
            f'<!DOCTYPE html><title>{int(status)}</title>'
            f'<p>{int(status)} {HTTPStatus(status).phrase}</p>',
            status=status,
            content_type='text/html; charset=utf-8',
            headers=SECURITY_HEADERS)


def safe_next(portal, next_):
    "Only a path inside this portal is accepted as a redirect target"
    if not next_:
        return None
    parts = urlsplit(next_)
    prefix = f'{portal.request.script_root}/{portal.database}/portal/'
    if (parts.scheme or parts.netloc or next_.startswith('//')
            or not unquote(parts.path).startswith(prefix)):
        return None
    return next_


def _wsgi_app_with_http_errors(wsgi_app):
    """trytond 8.0 aborts a foreign Origin with 403 outside its dispatch,
    so the exception escapes and servers answer 500: answer the 403."""
    @wraps(wsgi_app)
    def wrapper(environ, start_response):
        try:
            return wsgi_app(environ, start_response)
        except HTTPException as e:
            return e.get_response(environ)(environ, start_response)
    return wrapper


app.wsgi_app = _wsgi_app_with_http_errors(app.wsgi_app)
