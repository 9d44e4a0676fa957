"""The emulator as a WSGI application: routing, request parsing, the
envelope, authentication (facts §1, §2, §11.1–3).

- ``/rest/{user_id}/{code}/{method}[.json]``: an incoming webhook. A wrong
  code or user answers 401 NO_AUTH_FOUND "Wrong authorization data" (of the
  variants §1.1 lists, the one the portal's own CRM tutorials show).
- ``/rest/{method}[.json]`` with ``auth=``, ``access_token=`` or
  ``Authorization: Bearer``: an application's OAuth token; none or an
  unknown one → 401 NO_AUTH_FOUND, an expired one → 401 expired_token.
- Method names are case-insensitive. The body is JSON only with
  Content-Type application/json (invalid JSON: no parameters), otherwise
  PHP parse_str bracket notation; query parameters are merged in, the body
  winning.
- ``/oauth/token/`` and ``/oauth/rest/app.info`` play the authorization
  server (oauth.bitrix.info) on the same host.
- Before a REST call: the ``moved`` fault (302 to the new host),
  require_https (400 INVALID_REQUEST), the leaky bucket (503), credentials,
  the injected faults; after it: ``timeout_after_commit``.
"""
import json
import logging
import re
import socket
import threading
import traceback
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from . import control, errors, faults, php, placement
from .context import Caller
from .portal import Portal, caller_for_webhook

log = logging.getLogger('bitrix24_emulator')

WEBHOOK_PATH = re.compile(r'\A/rest/([0-9]+)/([^/]+)/([^/]+?)/?\Z')
TOKEN_PATH = re.compile(r'\A/rest/([^/]+?)/?\Z')
MOVED_HOSTS = {'127.0.0.1': 'localhost', 'localhost': '127.0.0.1'}


def _method_name(raw):
    name = raw.lower()
    for suffix in ('.json', '.xml'):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def json_response(body, status=200, headers=None):
    return Response(php.dumps(body), status=status, headers=headers,
        content_type='application/json; charset=utf-8')


def error_response(error):
    return json_response(error.body(), error.status)


def request_params(request):
    "Query merged with the body as the portal reads them (§2)"
    params = php.parse_str(request.query_string)
    if not isinstance(params, dict):
        params = {}
    data = request.get_data(cache=True)
    if request.mimetype == 'application/json':
        try:
            body = json.loads(data) if data.strip() else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
    elif request.mimetype == 'multipart/form-data':
        body = php.parse_str(urlencode(list(request.form.items(multi=True))))
    else:
        body = php.parse_str(data)
    if isinstance(body, dict):
        params.update(body)
    return params


class App(Portal):

    def __init__(self, **options):
        super().__init__(**options)
        self._stopping = threading.Event()

    # The REST entry

    def _moved(self, request):
        "302 to the same path on the new host while the `moved` fault lasts"
        host, _, port = request.host.partition(':')
        new = MOVED_HOSTS.get(host)
        if new is None or not self.faults.moved() or \
                host != self.base_url.split('://')[1].split(':')[0]:
            return None
        location = f'{request.scheme}://{new}{":" + port if port else ""}' \
            f'{request.full_path.rstrip("?")}'
        return Response('', status=302, headers={'Location': location},
            content_type='text/html; charset=UTF-8')

    def _caller(self, request, params, webhook):
        if webhook:
            caller = caller_for_webhook(self.store, *webhook)
            if caller is None:
                raise errors.no_auth()
        else:
            token = params.get('auth') or params.get('access_token')
            header = request.headers.get('Authorization', '')
            if not token and header.lower().startswith('bearer '):
                token = header[7:].strip()
            record, problem = self.tokens.lookup(token)
            if problem == 'expired':
                raise errors.expired_token()
            if record is None:
                raise errors.no_auth()
            caller = Caller('app', record['user_id'],
                self.store.app['client_id'],
                self.store.app['scope'].split(','), token)
        user = self.store.users.get(caller.user_id)
        if user is None or not user.get('active', True):
            raise errors.RestError('authorization_error',
                'Unable to authorize user', 401)
        return caller

    def rest(self, request, method, webhook):
        moved = self._moved(request)
        if moved is not None:
            return moved
        params = request_params(request)
        scheme = request.headers.get('X-Forwarded-Proto', request.scheme)
        fault, reached = None, False
        try:
            if self.require_https and scheme != 'https':
                raise errors.https_required()
            if not self.limits.take(request.remote_addr or '-'):
                raise errors.query_limit()
            caller = self._caller(request, params, webhook)
            fault = self.faults.take(method)
            if fault and fault[0] == 'html':
                status = int(fault[1].get('status', 502))
                self.record(method, params, status, 'html')
                return Response(faults.html_page(status), status=status,
                    content_type='text/html')
            if fault and fault[0] != 'timeout_after_commit':
                raise faults.error_of(fault[0])
            reached = True
            outcome = self.execute(caller, method, params)
        except errors.RestError as e:
            if not reached:
                self.record(method, params, e.status, e.code)
            return error_response(e)
        finally:
            if reached and self.changes_state(method):
                self.store.save()
        response = json_response(outcome)
        if fault and fault[0] == 'timeout_after_commit':
            return self._late(request, response, fault[1])
        return response

    def _late(self, request, response, options):
        "The call is done; the answer comes late, or never (close=True)"
        if options.get('close'):
            connection = request.environ.get('werkzeug.socket')
            self._stopping.wait(float(options.get('delay', 0)))
            if connection is not None:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise _DropConnection()
        self._stopping.wait(float(options.get('delay', 5)))
        return response

    def stop(self):
        "Let delayed answers go (the server is stopping)"
        self._stopping.set()

    # The authorization server

    def oauth_token(self, request):
        params = php.parse_str(request.query_string)
        if request.method == 'POST':
            params.update(request_params(request))
        status, body = self.tokens.refresh(params)
        self.store.save()
        return Response(json.dumps(body), status=status,
            content_type='application/json')

    def oauth_app_info(self, request):
        params = request_params(request)
        token = params.get('auth') or params.get('access_token')
        header = request.headers.get('Authorization', '')
        if not token and header.lower().startswith('bearer '):
            token = header[7:].strip()
        status, body = self.tokens.server_app_info(token)
        return json_response(body, status)

    def placement_page(self, request):
        args = request.args
        try:
            options = json.loads(args['options']) if args.get('options') \
                else None
            page = placement.placement_page(self, args['handler'],
                args.get('placement', 'DEFAULT'), options,
                int(args.get('user_id', 2)),
                args.get('newer_fields', '1') not in ('0', 'false'),
                args.get('lang'))
        except (KeyError, ValueError) as e:
            return Response(f'Bad request: {e}', status=400,
                content_type='text/plain; charset=utf-8')
        self.store.save()
        return Response(page, content_type='text/html; charset=utf-8')

    def dispatch(self, request):
        path = request.path
        match = WEBHOOK_PATH.match(path)
        if match:
            return self.rest(request, _method_name(match.group(3)),
                (match.group(1), match.group(2)))
        match = TOKEN_PATH.match(path)
        if match:
            return self.rest(request, _method_name(match.group(1)), None)
        if path.rstrip('/') == '/oauth/token':
            return self.oauth_token(request)
        if _method_name(path.rstrip('/')) == '/oauth/rest/app.info':
            return self.oauth_app_info(request)
        if path.startswith('/_control/'):
            return control.handle(self, request, path[len('/_control/'):])
        if path.rstrip('/') == '/_placement':
            return self.placement_page(request)
        if path.startswith('/rest/'):
            return error_response(errors.method_not_found())
        return Response('Not found', status=404, content_type='text/plain')

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except _DropConnection:
            response = Response(status=204)
        except Exception:
            log.error('%s %s failed:\n%s', request.method, request.path,
                traceback.format_exc())
            response = error_response(errors.internal())
        return response(environ, start_response)


class _DropConnection(Exception):
    "The connection was closed without an answer"
