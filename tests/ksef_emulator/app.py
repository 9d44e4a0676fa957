"""The emulator as a WSGI application: its state, routes and dispatch.

Every /v2 request goes, in order, through the injected faults (slow,
unavailable), the rate limit of its endpoint group, then its handler; KSeF's
error answers come from the exceptions of errors.py. /storage serves the
"pre-signed" UPO links without token or limits, /invoice the QR code's
verification page (verification.py); /_control is control.py.
"""
import logging
import os
import secrets
import socket
import time
import traceback

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import auth, control, errors, invoices, seed, sessions, verification
from .faults import Faults
from .keys import KeyPair
from .ratelimit import RateLimiter
from .store import Store

log = logging.getLogger('ksef_emulator')

DEFAULT_NIP = '5273184651'

# path, methods, endpoint group (rate limits, faults), handler
ROUTES = [
    ('/v2/security/public-key-certificates', ['GET'], 'security',
        auth.public_key_certificates),
    ('/v2/auth/challenge', ['POST'], 'auth', auth.challenge),
    ('/v2/auth/ksef-token', ['POST'], 'auth', auth.ksef_token),
    ('/v2/auth/xades-signature', ['POST'], 'auth', auth.xades_signature),
    ('/v2/auth/token/redeem', ['POST'], 'auth', auth.redeem),
    ('/v2/auth/token/refresh', ['POST'], 'auth', auth.refresh),
    ('/v2/auth/<referenceNumber>', ['GET'], 'auth', auth.status),
    ('/v2/sessions/online', ['POST'], 'onlineSession',
        sessions.open_session),
    ('/v2/sessions/online/<referenceNumber>/invoices', ['POST'],
        'invoiceSend', sessions.send_invoice),
    ('/v2/sessions/online/<referenceNumber>/close', ['POST'],
        'onlineSession', sessions.close_session),
    ('/v2/sessions/<referenceNumber>', ['GET'], 'sessionMisc',
        sessions.session_status),
    ('/v2/sessions/<referenceNumber>/invoices', ['GET'],
        'sessionInvoiceList', sessions.session_invoices),
    ('/v2/sessions/<referenceNumber>/invoices/failed', ['GET'],
        'sessionInvoiceList', sessions.failed_invoices),
    ('/v2/sessions/<referenceNumber>/invoices/<invoiceReferenceNumber>',
        ['GET'], 'invoiceStatus', sessions.invoice_status),
    ('/v2/sessions/<referenceNumber>/invoices/<invoiceReferenceNumber>/upo',
        ['GET'], 'sessionMisc', sessions.invoice_upo_by_reference),
    ('/v2/sessions/<referenceNumber>/invoices/ksef/<ksefNumber>/upo',
        ['GET'], 'sessionMisc', sessions.invoice_upo_by_ksef_number),
    ('/v2/sessions/<referenceNumber>/upo/<upoReferenceNumber>', ['GET'],
        'sessionMisc', sessions.session_upo),
    ('/v2/invoices/ksef/<ksefNumber>', ['GET'], 'invoiceDownload',
        invoices.download),
    ('/v2/invoices/query/metadata', ['POST'], 'invoiceMetadata',
        invoices.query_metadata),
    ('/storage/<referenceNumber>/<any("invoice-upo", "session-upo"):kind>'
        '/<name>.xml', ['GET'], None, sessions.storage_upo),
    ('/invoice/<nip>/<day>/<digest>', ['GET'], None,
        verification.invoice_page),
    ('/_control/health', ['GET'], None, control.health),
    ('/_control/faults', ['GET', 'POST', 'DELETE'], None, control.faults),
    ('/_control/reset', ['POST'], None, control.reset),
    ('/_control/invoices', ['GET', 'POST'], None, control.invoice_list),
    ('/_control/invoices/<ksefNumber>/xml', ['GET'], None,
        control.invoice_xml),
    ('/_control/rate-limits', ['GET', 'POST'], None, control.rate_limits),
    ('/_control/config', ['POST'], None, control.config),
    ]


def _token_contexts(tokens, nips):
    """{token: set of context NIPs}: a list of tokens opens every context;
    a mapping names each token's"""
    if isinstance(tokens, str):
        tokens = [tokens]
    if isinstance(tokens, dict):
        return {token: set(contexts or nips)
            for token, contexts in tokens.items()}
    return {token: set(nips) for token in tokens}


class App:

    def __init__(self, nip=DEFAULT_NIP, tokens=('portico-demo-token',), *,
            nips=(), data_dir=None, seed=True, seed_dir=None,
            rate_limits=None, processing_delay=0.0, query_limit=None,
            access_token_ttl=900, refresh_token_ttl=7 * 24 * 3600):
        self.nip = nip
        self.tokens = _token_contexts(tokens, [nip, *nips])
        self.nips = sorted({nip, *nips, *(n for contexts
                    in self.tokens.values() for n in contexts)})
        self.keys = (KeyPair.in_directory(data_dir) if data_dir
            else KeyPair.shared())
        self.secret = secrets.token_bytes(32)
        self.store = Store(data_dir)
        self.faults = Faults()
        self.limiter = RateLimiter(rate_limits)
        self.processing_delay = processing_delay
        self.query_limit = query_limit or invoices.INVOICE_METADATA_LIMIT
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.seed = seed
        self.seed_dir = seed_dir
        self.url_map = Map([Rule(path, methods=methods, endpoint=index)
                for index, (path, methods, _, _) in enumerate(ROUTES)],
            strict_slashes=False)
        if not self.store.load():
            self._seed()
        self.store.save()

    def _seed(self):
        if self.seed:
            seed.load(self, self.seed_dir)

    def reset(self, seed=True):
        "Back to the start: no sessions, only the seed invoices"
        self.store.clear_data()
        self.faults.clear()
        self.limiter.configure(self.limiter.limits)
        if seed:
            self._seed()
        self.store.save()

    def dispatch(self, request):
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            index, args = adapter.match()
        except NotFound:
            return errors.not_found(request)
        except MethodNotAllowed as e:
            return e.get_response(request.environ)
        path, _, group, handler = ROUTES[index]
        if path.startswith('/v2/'):
            slow = self.faults.take('slow', group)
            if slow:
                time.sleep(float(slow.get('delay', 1)))
            down = self.faults.take('unavailable', group)
            if down:
                return errors.unavailable(request,
                    int(down.get('retryAfter', 5)))
            limited = self.limiter.check(group)
            if limited:
                retry_after, detail = limited
                return errors.too_many_requests(request, detail, retry_after)
        try:
            return handler(self, request, **args)
        except (errors.ApiError, errors.Unauthorized) as e:
            return e.response(request)

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except sessions.DropConnection:
            # Unanswered: the client times out or sees the connection reset
            connection = environ.get('werkzeug.socket')
            if connection is not None:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            response = Response(status=204)
        except Exception:
            log.error('%s %s failed:\n%s', request.method, request.path,
                traceback.format_exc())
            response = errors.json_response(errors.problem(request,
                    'Internal Server Error', 500,
                    'Błąd emulatora KSeF (szczegóły w jego logu).'), 500,
                mimetype=errors.PROBLEM_JSON)
        return response(environ, start_response)


def data_directory(path):
    "A data directory made absolute, created when missing"
    path = os.path.abspath(path)
    os.makedirs(path, exist_ok=True)
    return path
