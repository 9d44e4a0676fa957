"""The portal's one access layer.

Every portal route is declared with @portal_route. It resolves the session
cookie to the web user and so to the client (party), checks the CSRF token
of every POST, and runs the handler as the portal's service user with the
client in "_"-prefixed context keys and access checks on: the record rules
of client_portal then decide what the client can see or change. Nothing in
a handler runs as root. Errors become branded pages that never show a
traceback or an internal name."""
import datetime
import hmac
import logging
import secrets
from contextlib import contextmanager
from functools import wraps
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from sql import Literal, Null
from sql.aggregate import Count
from sql.conditionals import Coalesce
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.wsgi import wrap_file

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
# The spreadsheets the portal sends
CONTENT_TYPES = {
    'xlsx': 'application/vnd.openxmlformats-officedocument'
    '.spreadsheetml.sheet',
    'csv': 'text/csv; charset=utf-8',
    }
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
    # ASCII digits only: \d would take other scripts' digits (١٢ is 12)
    regex = '[0-9]+'

    def __init__(self, map, **kwargs):
        super().__init__(map, min=1, max=2 ** 31 - 1)


app.url_map.converters['id'] = IdConverter


class Portal:
    "What a handler knows about the request: user, client, language, URLs"

    def __init__(self, request, pool):
        self.request = request
        self.pool = pool
        self.database = pool.database_name
        self.user = None
        self._formatter = None
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
        "The firm's name, contacts and logo, cached per process"
        Company = self.pool.get('company.company')
        branding = Company.portal_branding(self.language)
        if not branding:
            return
        self.company = Company(branding['id'])
        self.firm_name = branding['firm_name']
        self.title = branding['title']
        self.has_logo = branding['has_logo']
        self.support_email = branding['support_email']
        self.support_phone = branding['support_phone']
        self.timezone = branding['timezone']

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

    def formatter(self):
        "Dates and amounts in this request's language, made once"
        if self._formatter is None:
            self._formatter = _render.Formatter(self.timezone)
        return self._formatter

    def render(self, template, status=HTTPStatus.OK, **context):
        formatter = self.formatter()
        context.update({
                'portal': self,
                'company': self.company,
                # What the session row holds: no read to show the header
                'web_user': self.user,
                'party': self.user.client if self.user else None,
                'format_date': formatter.date,
                'format_datetime': formatter.datetime,
                'format_amount': formatter.amount,
                'format_number': formatter.number,
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

    def pdf(self, content, filename, preview=False, inline=False):
        "A PDF download, or its preview framed by the portal's own pages"
        disposition = 'inline' if (preview or inline) else 'attachment'
        response = Response(bytes(content), content_type='application/pdf',
            headers={'Content-Disposition':
                f'{disposition}; filename="{filename}"'})
        if preview:
            # The one response the portal's own pages may frame
            # (no default-src: the browser's PDF viewer is a plugin that an
            # object-src or default-src would block)
            response.headers['Content-Security-Policy'] = (
                "frame-ancestors 'self'")
            response.headers['X-Frame-Options'] = 'SAMEORIGIN'
        return self.respond(response)

    def file(self, file, filename, format):
        """A spreadsheet download (an XLSX or CSV file object at its start),
        sent from the file in blocks"""
        response = Response(wrap_file(self.request.environ, file),
            content_type=CONTENT_TYPES[format], direct_passthrough=True,
            headers={'Content-Disposition':
                f'attachment; filename="{filename}"'})
        return self.respond(response)

    def get_or_404(self, model, id_):
        "The record if the client may read it, else 404, whoever owns it"
        Model = self.pool.get(model)
        records = Model.search([('id', '=', id_)], limit=1)
        if not records:
            abort(HTTPStatus.NOT_FOUND)
        return records[0]


def content_disposition(kind, name):
    "Content-Disposition with an ASCII name and the UTF-8 one (RFC 6266)"
    ascii_name = ''.join(c if 32 <= ord(c) < 127 and c not in '"\\'
        else '_' for c in name)
    return (f'{kind}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(name, safe='')}")


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


def _request_language(request, user=None):
    if user is not None and user.language:
        return user.language
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in PORTAL_LANGUAGES:
        return cookie
    best = request.accept_languages.best_match(PORTAL_LANGUAGES)
    return best or 'pl'


def _service_user(pool):
    ModelData = pool.get('ir.model.data')
    return ModelData.get_id('client_portal', 'user_portal')


@contextmanager
def client_access(pool, user, language):
    """Run as the portal service user, restricted by record rules to the
    web user's client"""
    Company = pool.get('company.company')
    transaction = Transaction()
    company = Company.portal_branding(language).get('id')
    context = {
        PARTY_KEY: user.client.id if user else None,
        WEB_USER_KEY: user.id if user else None,
        'company': company,
        # The firm's records (invoices, accounts) are the firm's company's:
        # its rules read the user's companies, the service user has none
        '_companies': (company,) if company else (),
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


class Client(NamedTuple):
    "The signed-in user's client, as the header shows it"
    id: int
    name: str
    # The manager's replies the client has not read (the chat's badge)
    chat_unread: int = 0

    @property
    def rec_name(self):
        return self.name


class SessionUser(NamedTuple):
    "The signed-in user and client as one query of the session finds them"
    id: int
    email: str
    first_name: str
    last_name: str
    language: str
    client: Client


def _session_user(pool, request):
    """The active web user of a portal client behind the session cookie,
    in one statement (sessions are infrastructure: no record rule)"""
    key = request.cookies.get(SESSION_COOKIE)
    if not key or len(key) > 128:
        return None
    Session = pool.get('web.user.session')
    WebUser = pool.get('web.user')
    Party = pool.get('party.party')
    Message = pool.get('portal.chat.message')
    session = Session.__table__()
    user = WebUser.__table__()
    party = Party.__table__()
    message = Message.__table__()
    # The chat's unread replies in the same statement: every page shows them
    unread = message.select(Count(message.id),
        where=(message.party == party.id) & (message.author == 'staff')
        & (message.read_at == Null))
    cursor = Transaction().connection.cursor()
    cursor.execute(*session
        .join(user, condition=session.user == user.id)
        .join(party, condition=user.party == party.id)
        .select(
            Coalesce(session.write_date, session.create_date),
            user.id, user.email, user.first_name, user.last_name,
            user.language, party.id, party.name, unread,
            where=(session.key == key) & (user.active == Literal(True))
            & (party.portal_client == Literal(True)),
            limit=1))
    row = cursor.fetchone()
    if row is None:
        return None
    (timestamp, user_id, email, first, last, language, party_id, name,
        chat_unread) = row
    if isinstance(timestamp, str):
        timestamp = datetime.datetime.fromisoformat(timestamp)
    if abs(timestamp - datetime.datetime.now()) > Session.timeout():
        # Expired: Session.add deletes it with the others
        return None
    if not language:
        # The client's language, as web.user.portal_language decides it
        language = WebUser(user_id).portal_language
    return SessionUser(user_id, email, first, last, language,
        Client(party_id, name, chat_unread or 0))


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
            user = _session_user(pool, request)
            if auth and user is None:
                next_ = request.full_path.rstrip('?')
                if request.method != 'GET':
                    next_ = None
                return portal.redirect('login', next=next_)
            portal.language = _request_language(request, user)
            portal.set_cookie(CSRF_COOKIE, portal.csrf_token)
            with client_access(pool, user, portal.language):
                if user is not None:
                    WebUser = pool.get('web.user')
                    Party = pool.get('party.party')
                    portal.user = user
                    # Records read only if a handler uses them
                    portal.web_user = WebUser(user.id)
                    portal.party = Party(user.client.id)
                    portal.session_key = request.cookies.get(SESSION_COOKIE)
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
            portal.language = _request_language(request)
            with client_access(pool, None, portal.language):
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
