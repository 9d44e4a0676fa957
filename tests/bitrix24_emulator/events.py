"""Outbound events (facts §8): event.bind / event.get / event.unbind for
applications, outgoing webhooks set up "in the UI" (a control), and the
delivery itself.

A delivery is a form-encoded POST in PHP bracket notation::

    event=ONCRMQUOTEUPDATE&event_handler_id=3&data[FIELDS][ID]=12
    &ts=1724140800&auth[domain]=127.0.0.1:8080
    &auth[client_endpoint]=http://127.0.0.1:8080/rest/
    &auth[server_endpoint]=http://127.0.0.1:8080/oauth/rest/
    &auth[member_id]=...&auth[application_token]=...

(+ ``data[FIELDS][ENTITY_TYPE_ID]`` for smart-process items; applications
also get ``auth[access_token]``, ``expires_in``, ``scope``, ``status``). It
is sent from a background thread after the change, once, without retries:
a handler that fails or times out loses it, and `drop_probability` loses
some on purpose. Application bindings get nothing until the application is
installed (app.info INSTALLED). The payload carries only the id.
"""
import queue
import random
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit

from . import php
from .errors import RestError

CRM_EVENT_NAMES = {7: 'ONCRMQUOTE', 3: 'ONCRMCONTACT', 4: 'ONCRMCOMPANY'}
KNOWN = re.compile(r'''\A(
    ONCRM(QUOTE|COMPANY|CONTACT|DEAL|LEAD|DYNAMICITEM)(ADD|UPDATE|DELETE)
    | ONCRMDYNAMICITEM(ADD|UPDATE|DELETE)_[0-9]+
    | ONLIVEFEEDPOST(ADD|UPDATE|DELETE)
    | ONCRMTIMELINECOMMENTADD
    | ONAPP(INSTALL|UNINSTALL|UPDATE|PAYMENT|TEST)
    )\Z''', re.X)
TIMEOUT = 5


def crm_changed(portal, entity_type_id, action, item_id, user_id):
    "The event of a CRM item's change: quote, company, contact or SPA (§8)"
    prefix = CRM_EVENT_NAMES.get(entity_type_id)
    if prefix:
        portal.events.fire(prefix + action, {'ID': item_id}, user_id)
    else:
        portal.events.fire('ONCRMDYNAMICITEM' + action, {'ID': item_id,
                'ENTITY_TYPE_ID': entity_type_id}, user_id,
            entity_type_id=entity_type_id)


class Events:

    def __init__(self, portal):
        self.portal = portal
        self._lock = threading.Lock()
        self._delivered = []
        self._done = threading.Condition(self._lock)
        self._queue = queue.Queue()
        self._thread = None
        self.set_delivery()

    def set_delivery(self, drop_probability=0.0, seed=None):
        with self._lock:
            self.drop_probability = float(drop_probability or 0.0)
            self._random = random.Random(seed)

    def clear(self):
        with self._lock:
            self._delivered.clear()

    def delivered(self):
        with self._lock:
            return [dict(d) for d in self._delivered]

    def wait(self, count, timeout=5.0):
        "Whether `count` deliveries were made (or lost) within `timeout`"
        with self._done:
            return self._done.wait_for(
                lambda: len(self._delivered) >= count, timeout)

    def fire(self, event, fields, user_id, entity_type_id=None):
        names = {event}
        if entity_type_id is not None:
            names.add(f'{event}_{entity_type_id}')
        store = self.portal.store
        with store.lock:
            bindings = [dict(b) for b in store.event_bindings.values()
                if b['event'] in names and not b.get('offline')
                and (b['kind'] == 'webhook' or store.app.get('installed'))]
            payloads = [(b['handler'], self._payload(b, fields, user_id))
                for b in bindings]
        for handler, payload in payloads:
            self._queue.put((handler, payload))
        if payloads:
            self._start()

    def _payload(self, binding, fields, user_id):
        portal = self.portal
        app = portal.store.app
        auth = {'domain': portal.domain,
            'client_endpoint': f'{portal.base_url}/rest/',
            'server_endpoint': f'{portal.base_url}/oauth/rest/',
            'member_id': app['member_id']}
        if binding['kind'] == 'app':
            token = portal.tokens.issue(binding.get('auth_type') or user_id)
            auth = {'access_token': token['access_token'],
                'expires': str(token['expires']), 'expires_in': '3600',
                'scope': app['scope'], **auth, 'status': 'L',
                'application_token': app['application_token']}
        else:
            auth['application_token'] = binding['application_token']
        return {'event': binding['event'],
            'event_handler_id': str(binding['id']),
            'data': {'FIELDS': fields}, 'ts': str(int(portal.clock())),
            'auth': auth}

    def _start(self):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run,
                    name='bitrix24-emulator-events', daemon=True)
                self._thread.start()

    def _run(self):
        while True:
            handler, payload = self._queue.get()
            body = php.build_query(payload)
            record = {'url': handler, 'event': payload['event'],
                'form': dict(parse_qsl(body, keep_blank_values=True)),
                'data': php.parse_str(body), 'status': None, 'error': None}
            with self._lock:
                dropped = self._random.random() < self.drop_probability
            if dropped:
                record['error'] = 'dropped'
            else:
                self._post(handler, body, record)
            with self._done:
                self._delivered.append(record)
                self._done.notify_all()

    @staticmethod
    def _post(handler, body, record):
        request = urllib.request.Request(handler, data=body.encode('ascii'),
            method='POST',
            headers={'Content-Type': 'application/x-www-form-urlencoded',
                'User-Agent': 'Bitrix24 Webhook Engine'})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                record['status'] = answer.status
        except urllib.error.HTTPError as e:
            record['status'] = e.code
        except Exception as e:      # lost, as Bitrix24 loses it (no retry)
            record['error'] = f'{type(e).__name__}: {e}'


# event.* methods (§8): application context only

def _check_handler(handler):
    parts = urlsplit(handler or '')
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise RestError('ERROR_HANDLER_URL_MISMATCH', 'Wrong handler URL',
            400)


def event_bind(call, params):
    call.require_app()
    event = str(params.get('event') or params.get('EVENT') or '').upper()
    handler = params.get('handler') or params.get('HANDLER') or ''
    if not KNOWN.match(event):
        raise RestError('ERROR_EVENT_NOT_FOUND', 'Event not found', 400)
    _check_handler(handler)
    offline = str(params.get('event_type') or 'online').lower() == 'offline'
    auth_type = int(params.get('auth_type') or 0)
    if (offline or auth_type not in (0, call.user_id)) and not call.is_admin:
        raise RestError('ACCESS_DENIED', 'Access denied', 403)
    store = call.store
    for binding in store.event_bindings.values():
        if binding['kind'] == 'app' and binding['event'] == event and \
                binding['handler'] == handler and \
                binding.get('auth_type', 0) == auth_type:
            raise RestError('ERROR_CORE', 'Handler already binded', 400)
    binding_id = store.next_id('event_binding')
    store.event_bindings[binding_id] = {'id': binding_id, 'kind': 'app',
        'event': event, 'handler': handler, 'auth_type': auth_type,
        'offline': offline}
    return True


def event_get(call, params):
    call.require_app()
    return [{'event': b['event'], 'handler': b['handler'],
            'auth_type': str(b.get('auth_type', 0)),
            'offline': 1 if b.get('offline') else 0}
        for b in call.store.event_bindings.values() if b['kind'] == 'app']


def event_unbind(call, params):
    call.require_app()
    event = str(params.get('event') or params.get('EVENT') or '').upper()
    handler = params.get('handler') or params.get('HANDLER')
    gone = [i for i, b in call.store.event_bindings.items()
        if b['kind'] == 'app' and b['event'] == event
        and (not handler or b['handler'] == handler)]
    for binding_id in gone:
        del call.store.event_bindings[binding_id]
    return {'count': len(gone)}


METHODS = {
    'event.bind': (event_bind, None),
    'event.get': (event_get, None),
    'event.unbind': (event_unbind, None),
    }
