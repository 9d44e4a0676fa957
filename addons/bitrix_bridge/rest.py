"""The Bitrix24 REST client of the bridge: plain Python on httpx, no Tryton.

A webhook (§1.1) or OAuth tokens (§1.2) authenticate; single calls go as
JSON (§2), `batch` as bracket-notation commands (§4). Retries follow the
method (§9 reason 1, §10.1): the leaky bucket (503 QUERY_LIMIT_EXCEEDED)
is waited out with exponential back-off, the per-method time budget (429)
until its reset when that is near, an expired token is refreshed once;
5xx, timeouts and answers that are not JSON are retried only for reads and
idempotent writes, while an *.add that got no clear answer raises
Ambiguous. Redirects are never followed (§1.2, §12.5 pitfall 4). The
webhook code and the tokens are masked in every message."""
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import httpx

from .encoding import (  # noqa: F401 (the module's helpers live here too)
    build_query, mask, parse_datetime, to_date, to_decimal, to_json)
from .errors import (  # noqa: F401
    Ambiguous, AuthError, Bitrix24Error, ExpiredToken, InvalidRequest,
    Moved, NotFound, OperationTimeLimit, Overloaded, QueryLimitExceeded,
    Unavailable, error_from)

logger = logging.getLogger(__name__)

TIMEOUT = 30.0
# The longest single wait before giving up (§3: a 429 resets within ten
# minutes, which is the outbox's business, not a request's)
MAX_WAIT = 60.0
# QUERY_LIMIT_EXCEEDED: back-off from BACKOFF doubling up to BACKOFF_MAX
RETRIES = 5
BACKOFF = 0.5
BACKOFF_MAX = 8.0
# 5xx, timeouts, broken bodies of idempotent calls: a few attempts more
UNAVAILABLE_RETRIES = 3
# Waits for an operating-time reset; operating_reset_at is whole seconds
OPERATING_RETRIES = 2
RESET_MARGIN = 1.0
PAGE = 50  # fixed page size of list methods (§2)
BATCH_MAX = 50  # commands per batch (§4)
OAUTH_SERVER = 'https://oauth.bitrix.info/rest/'  # west region (§1.2)
METHOD = re.compile(r'^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$')
BATCH_KEY = re.compile(r'^[A-Za-z0-9_]+$')

# Where list methods keep their rows (§2) and the id for keyset paging:
# (key of the rows in `result` or None for a bare array, id field or None
# for offset paging with `next`)
LISTS = {
    'crm.item.list': ('items', 'id'),
    'crm.type.list': ('types', None),
    'crm.category.list': ('categories', None),
    'crm.item.productrow.list': ('productRows', None),
    'crm.company.list': (None, 'ID'),
    'crm.contact.list': (None, 'ID'),
    'crm.deal.list': (None, 'ID'),
    'crm.lead.list': (None, 'ID'),
    'crm.status.list': (None, None),
    'sonet_group.get': (None, None),
    'log.blogpost.get': (None, None),
    }

# Methods that may be sent again after a timeout or a 5xx (§9 reason 1):
# reads, and writes that set a state rather than add to it
IDEMPOTENT_ENDINGS = {'get', 'list', 'fields', 'update', 'delete'}
IDEMPOTENT_METHODS = {
    'crm.item.productrow.set',  # replaces all rows of the owner (§5.2)
    'app.info', 'profile', 'scope', 'crm.duplicate.findbycomm',
    }
IDEMPOTENT_PREFIXES = ('placement.', 'user.')


def is_idempotent(method):
    "Whether `method` may be repeated; anything unknown may not (§10.1)"
    method = method.lower()
    ending = method.rsplit('.', 1)[-1]
    if ending == 'add':
        return False
    return (ending in IDEMPOTENT_ENDINGS or method in IDEMPOTENT_METHODS
        or method.startswith(IDEMPOTENT_PREFIXES))


class Command(NamedTuple):
    "One call of a batch"
    method: str
    params: dict = {}


@dataclass
class Response:
    "The envelope of a successful call (§2)"
    result: Any
    total: int | None = None
    next: int | None = None
    time: dict | None = None


@dataclass
class BatchResult:
    """A batch's answer (§4), by the caller's keys: the results of the
    commands that succeeded, a Bitrix24Error for each that failed, and
    `skipped` the commands not run because an earlier one failed (halt)"""
    results: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    nexts: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    time: dict | None = None


def _keyed(value):
    "A batch part by string key: PHP sends keys 0..n as a list (§2)"
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return value if isinstance(value, dict) else {}


class OAuthTokens:
    """The token provider of an OAuth application (§1.2): `access_token()`
    is the current token, `refresh()` trades the refresh token for a new
    pair and returns the new access token. Both tokens change on every
    refresh; the caller stores them from `access` and `refresh_token`.
    `server_endpoint` is the authorization server from the configuration,
    its REST address ('https://oauth.bitrix.info/rest/') or its root: never
    one from a request or a response (§12.5 pitfall 2)"""

    def __init__(self, access_token, refresh_token, client_id,
            client_secret, server_endpoint=OAUTH_SERVER, timeout=TIMEOUT):
        self.access = access_token
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.server_endpoint = server_endpoint
        self.timeout = timeout
        self.expires = None
        # The token answer without the tokens: member_id, scope, user_id…
        self.info = {}

    def __repr__(self):
        return (f'<OAuthTokens {self.client_id} at '
            f'{self.server_endpoint}>')

    def access_token(self):
        return self.access

    def _secrets(self):
        return [self.access, self.refresh_token, self.client_secret]

    def refresh(self):
        "A new token pair from the authorization server (§1.2 Refresh)"
        url = urljoin(self.server_endpoint, '/oauth/token/')
        method = 'oauth/token'
        params = {
            'grant_type': 'refresh_token',
            'client_id': self.client_id,
            'client_secret': self.client_secret,
            'refresh_token': self.refresh_token,
            }
        try:
            response = httpx.get(url, params=params, timeout=self.timeout,
                follow_redirects=False)
        except httpx.TransportError as error:
            raise Unavailable('connection', mask(
                    f'{type(error).__name__}: {error}', self._secrets()),
                None, method) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get('error'):
            error = error_from(data, response.status_code, method)
            error.description = mask(error.description, self._secrets())
            error.args = (error._message(),)
            raise error
        if (not isinstance(data, dict) or response.status_code != 200
                or not data.get('access_token')
                or not data.get('refresh_token')):
            raise Unavailable('not_json', 'no token pair in a '
                f'{response.headers.get("content-type", "")} answer',
                response.status_code, method)
        self.access = data['access_token']
        self.refresh_token = data['refresh_token']
        self.expires = data.get('expires')
        self.info = {k: v for k, v in data.items()
            if k not in {'access_token', 'refresh_token'}}
        return self.access


class Client:
    """A connection to one portal, either by `webhook_url`
    ('https://x.bitrix24.pl/rest/1/code/') or by `base_url` and `token`, an
    OAuthTokens-like provider. `limiter.wait()` runs before every HTTP
    request (a shared leaky bucket, §3); `sleep` and `clock` are time.sleep
    and time.time unless tests pass theirs; `max_wait` is the longest single
    wait before giving up"""

    def __init__(self, webhook_url=None, base_url=None, token=None,
            limiter=None, timeout=TIMEOUT, sleep=time.sleep, clock=time.time,
            max_wait=MAX_WAIT):
        if bool(webhook_url) == bool(base_url):
            raise ValueError('give either webhook_url or base_url')
        self._code = None
        self._provider = None
        if webhook_url:
            parts = [p for p in urlsplit(webhook_url).path.split('/') if p]
            if len(parts) < 3 or parts[-3] != 'rest':
                raise ValueError('a webhook URL ends in /rest/<user>/<code>/')
            self._code = parts[-1]
            self._root = webhook_url.rstrip('/') + '/'
        else:
            if token is None:
                raise ValueError('base_url needs a token provider')
            self._provider = token
            self._root = base_url.rstrip('/') + '/rest/'
        self._limiter = limiter
        self._sleep = sleep
        self._clock = clock
        self.max_wait = max_wait
        self._token = None
        self._http = httpx.Client(timeout=timeout, follow_redirects=False,
            headers={'Accept': 'application/json'})

    def __repr__(self):
        return f'<Client {self._mask(self._root)}>'

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._http.close()

    def _mask(self, text):
        secrets = [self._code, self._token]
        if self._provider is not None:
            secrets.append(getattr(self._provider, 'refresh_token', None))
        return mask(text, [s for s in secrets if isinstance(s, str)])

    def call(self, method, params=None):
        "One method with `params` as a JSON body (§2)"
        data = self._send(method, params or {}, is_idempotent(method))
        return Response(data['result'], data.get('total'), data.get('next'),
            data.get('time'))

    def batch(self, commands, halt=False):
        """Up to 50 `commands` ({key: Command}) in one HTTP request, which
        counts once toward the leaky bucket (§3, §4). A later command may
        refer to an earlier result as '$result[key][item][id]'. The caller
        chunks longer lists: each chunk is its own request"""
        if len(commands) > BATCH_MAX:
            raise ValueError(f'{len(commands)} commands: a batch takes at '
                f'most {BATCH_MAX} (§4)')
        if not commands:
            return BatchResult()
        keys = {}
        cmd = {}
        for key, command in commands.items():
            name = str(key)
            if not BATCH_KEY.match(name) or name in keys:
                raise ValueError(f'batch key {key!r}: letters, digits, _')
            self._check_method(command.method)
            keys[name] = key
            query = build_query(command.params or {})
            cmd[name] = f'{command.method}?{query}' if query else (
                command.method)
        idempotent = all(is_idempotent(c.method) for c in commands.values())
        data = self._send('batch', {'halt': 1 if halt else 0, 'cmd': cmd},
            idempotent)
        inner = data['result'] if isinstance(data['result'], dict) else {}
        out = BatchResult(time=data.get('time'))
        failed = _keyed(inner.get('result_error'))
        results = _keyed(inner.get('result'))
        for name, key in keys.items():
            method = commands[key].method
            if name in failed:
                body = failed[name]
                if not isinstance(body, dict):
                    body = {'error': '', 'error_description': str(body)}
                error = error_from(body, None, method)
                out.errors[key] = self._masked(error)
            elif name in results:
                out.results[key] = results[name]
            else:
                out.skipped.append(key)
        for part, target in [('result_total', out.totals),
                ('result_next', out.nexts), ('result_time', out.times)]:
            for name, value in _keyed(inner.get(part)).items():
                if name in keys:
                    target[keys[name]] = value
        return out

    def list_all(self, method, params=None):
        """Every row of a list method, page after page. Where LISTS names
        an id, keyset paging (§2): start=-1 (no COUNT), order by id and a
        `>id` filter from the last row, until a page is short; otherwise
        offset paging with `next`. The rows are unwrapped as LISTS says"""
        self._check_method(method)
        wrapper, key = LISTS.get(method.lower(), (None, None))
        params = dict(params or {})
        if key is None:
            return self._offset_pages(method, wrapper, params)
        order = params.get('order')
        if order and ({k.lower(): str(v).upper() for k, v in order.items()}
                != {key.lower(): 'ASC'}):
            raise ValueError(f'{method}: keyset paging orders by {key} ASC')
        select = params.get('select')
        if select and '*' not in select and key.lower() not in {
                str(s).lower() for s in select}:
            params['select'] = [*select, key]
        params['order'] = {key: 'ASC'}
        params['start'] = -1
        return self._keyset_pages(method, wrapper, key, params)

    def _keyset_pages(self, method, wrapper, key, params):
        base = dict(params.pop('filter', None) or {})
        last = None
        while True:
            where = dict(base)
            if last is not None:
                where[f'>{key}'] = last
            page = dict(params, filter=where) if where else params
            rows = self._rows(method, wrapper, self.call(method, page))
            yield from rows
            if len(rows) < PAGE:
                return
            last = rows[-1][key]

    def _offset_pages(self, method, wrapper, params):
        start = params.pop('start', 0)
        while True:
            response = self.call(method, dict(params, start=start))
            yield from self._rows(method, wrapper, response)
            if response.next is None:
                return
            start = response.next

    @staticmethod
    def _rows(method, wrapper, response):
        rows = response.result
        if wrapper is not None and isinstance(rows, dict):
            rows = rows.get(wrapper)
        if not isinstance(rows, list):
            raise ValueError(f'{method}: rows not found in the result; '
                'LISTS tells where they are')
        return rows

    @staticmethod
    def _check_method(method):
        if not METHOD.match(method or ''):
            raise ValueError(f'not a method name: {method!r}')

    def _masked(self, error):
        error.description = self._mask(error.description)
        if isinstance(error, Moved):
            error.location = self._mask(error.location)
        error.args = (error._message(),)
        return error

    def _send(self, method, params, idempotent):
        "POST with the retries of the module's docstring"
        self._check_method(method)
        limits = unavailable = operating = 0
        refreshed = False
        while True:
            try:
                return self._request(method, params)
            except QueryLimitExceeded as error:
                if limits >= RETRIES:
                    raise
                delay = min(BACKOFF * 2 ** limits, BACKOFF_MAX, self.max_wait)
                limits += 1
                reason = error
            except OperationTimeLimit as error:
                delay = self._until_reset(error)
                if delay is None or operating >= OPERATING_RETRIES:
                    raise
                operating += 1
                reason = error
            except ExpiredToken:
                if self._provider is None or refreshed:
                    raise
                # §1.2: refresh, then repeat the call once
                self._provider.refresh()
                refreshed = True
                continue
            except Unavailable as error:
                if not idempotent:
                    if not error.reached:
                        raise
                    raise self._masked(Ambiguous(error.code,
                            error.description, error.status,
                            method)) from error
                if unavailable >= UNAVAILABLE_RETRIES:
                    raise
                delay = min(BACKOFF * 2 ** unavailable, BACKOFF_MAX,
                    self.max_wait)
                unavailable += 1
                reason = error
            logger.info('%s, again in %.1f s', reason, delay)
            self._sleep(delay)

    def _until_reset(self, error):
        "The wait for a 429's operating_reset_at, None if too far (§3)"
        if error.reset_at is None:
            return None
        wait = error.reset_at - self._clock()
        if wait > self.max_wait:
            return None
        return min(max(wait, 0.0) + RESET_MARGIN, self.max_wait)

    def _request(self, method, params):
        "One HTTP attempt: the answer's envelope or a Bitrix24Error"
        payload = dict(params)
        if self._provider is not None:
            # The documented way: `auth` among the parameters (§1.2)
            self._token = self._provider.access_token()
            payload['auth'] = self._token
        content = to_json(payload)
        if self._limiter is not None:
            self._limiter.wait()
        try:
            response = self._http.post(self._root + method, content=content,
                headers={'Content-Type': 'application/json'})
        except (httpx.ConnectError, httpx.ConnectTimeout,
                httpx.PoolTimeout) as error:
            raise self._masked(Unavailable('connection',
                    f'{type(error).__name__}: {error}', None, method,
                    reached=False)) from None
        except httpx.TimeoutException as error:
            raise self._masked(Unavailable('timeout',
                    f'{type(error).__name__}: {error}', None,
                    method)) from None
        except httpx.TransportError as error:
            raise self._masked(Unavailable('connection',
                    f'{type(error).__name__}: {error}', None,
                    method)) from None
        status = response.status_code
        if 300 <= status < 400:
            raise self._masked(Moved(response.headers.get('location', ''),
                    status, method))
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # An HTML page of a gateway or of an overloaded portal (§2)
            kind = response.headers.get('content-type', '') or 'no'
            raise self._masked(Unavailable('not_json',
                    f'{kind} body instead of JSON', status, method))
        if data.get('error') is not None or status >= 400:
            if data.get('error') is None:
                data = dict(data, error='')
            raise self._masked(error_from(data, status, method))
        if 'result' not in data:
            raise self._masked(Unavailable('not_json',
                    'JSON without a result', status, method))
        return data
