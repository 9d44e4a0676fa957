"""The portal: its state, the method table, how one call is carried out,
and the controls tests steer it with (also served at /_control, see
control.py).

A call (`execute`) checks the method (404 ERROR_METHOD_NOT_FOUND), the scope
(403 insufficient_scope), the method's operating-time budget (429), runs the
handler under the store's lock and answers ``{result, time, total?, next?}``
(§2); the `time` object carries the method's ``operating`` and
``operating_reset_at`` (§3).
"""
import secrets
import threading
import time

from . import (batch, catalog, chat, crm, errors, events, faults, feed, items,
    legacy, placement, productrows, seed)
from .context import Call, Caller, Listed
from .events import Events
from .limits import Limits
from .oauth import Tokens
from .placement import placement_form
from .store import Store

DEFAULT_WEBHOOK_CODE = 'portico-demo-hook'
METHODS = {**crm.METHODS, **productrows.METHODS, **legacy.METHODS,
    **catalog.METHODS, **feed.METHODS, **chat.METHODS, **placement.METHODS,
    **batch.METHODS, **events.METHODS,
    'scope': (lambda call, params: sorted(call.caller.scopes), None),
    'server.time': (lambda call, params: items.crm_fields.dates.iso(
            call.now()), None),
    }
READ_ONLY = ('.get', '.list', '.fields', '.current', '.info', 'profile',
    'findbycomm', 'scope', 'server.time')


class Portal:

    def __init__(self, *, data_dir=None, webhook_code=DEFAULT_WEBHOOK_CODE,
            require_https=False, drain=2.0, threshold=50,
            operating_limit=480.0, method_cost=None, clock=None,
            access_ttl=3600):
        self.clock = clock or time.time
        self.store = Store(data_dir)
        self.limits = Limits(self.clock, drain, threshold, operating_limit,
            method_cost)
        self.faults = faults.Faults()
        self.events = Events(self)
        self.tokens = Tokens(self, access_ttl)
        self.methods = dict(METHODS)
        self.require_https = require_https
        self.base_url = 'http://127.0.0.1'
        self.webhook_code = webhook_code
        self._calls = []
        self._calls_lock = threading.Lock()
        if self.store.load():
            self.store.webhooks.setdefault(webhook_code,
                {'user_id': 1, 'scope': seed.SCOPE})
        else:
            seed.load(self, seed.credentials(), webhook_code)
        self.store.save()

    @property
    def domain(self):
        "The portal's host (with the port), as DOMAIN and auth[domain] say"
        return self.base_url.split('://', 1)[1]

    @property
    def oauth(self):
        app = self.store.app
        return {k: app[k] for k in ('client_id', 'client_secret',
                'member_id', 'application_token')}

    # One call

    def record(self, method, params, status, error, in_batch=False):
        "A line of the call log (auth parameters left out)"
        entry = {'method': method, 'params': {k: v for k, v in params.items()
                if k not in ('auth', 'access_token')},
            'status': status, 'error': error, 'batch': in_batch}
        with self._calls_lock:
            self._calls.append(entry)
        return entry

    def execute(self, caller, method, params, in_batch=False):
        "Carry out one method call: {result, time, total?, next?}"
        entry = self.record(method, params, None, None, in_batch)
        start, begun = self.clock(), time.perf_counter()
        counted = method != 'batch'
        spent = None
        try:
            found = self.methods.get(method)
            if found is None:
                raise errors.method_not_found()
            handler, scope = found
            if scope and scope not in caller.scopes:
                raise errors.insufficient_scope()
            if in_batch:
                fault = self.faults.take(method, in_batch=True)
                if fault:
                    raise faults.error_of(fault[0])
            if counted:
                reset_at = self.limits.blocked(caller.client, method)
                if reset_at is not None:
                    raise errors.operation_time_limit(time={
                            'operating_reset_at': reset_at})
            try:
                with self.store.lock:
                    value = handler(Call(self, caller, method, in_batch),
                        params)
            finally:
                if counted:
                    spent = self.limits.spend(caller.client, method)
        except errors.RestError as e:
            entry.update(status=e.status, error=e.code)
            raise
        processing = time.perf_counter() - begun
        finish = max(self.clock(), start + processing)
        operating, reset_at = spent or (0, int(start) + 600)
        outcome = {'result': value.result if isinstance(value, Listed)
            else value}
        if isinstance(value, Listed):
            if value.next is not None:
                outcome['next'] = value.next
            if value.total is not None:
                outcome['total'] = value.total
        outcome['time'] = {'start': start, 'finish': finish,
            'duration': finish - start, 'processing': processing,
            'date_start': items.crm_fields.dates.iso(start),
            'date_finish': items.crm_fields.dates.iso(finish),
            'operating_reset_at': reset_at, 'operating': operating}
        entry.update(status=200)
        return outcome

    def changes_state(self, method):
        return not method.endswith(READ_ONLY)

    # Controls (the same names at POST /_control/<name>)

    def reset(self):
        "Empty state, seeded again; faults cleared; limits back to defaults"
        app = dict(self.store.app, installed=True)
        with self.store.lock:
            self.store.clear()
            seed.load(self, app, self.webhook_code)
            self.store.save()
        self.faults.clear()
        self.limits.reset()
        self.events.clear()
        self.events.set_delivery()
        self.clear_calls()

    def _saved(self, value):
        self.store.save()
        return value

    def items(self, entity_type_id):
        with self.store.lock:
            return [items.view(self.store, entity_type_id, i) for _, i in
                sorted(items.table(self.store, int(entity_type_id)).items())]

    def product_rows(self, owner_type, owner_id):
        "Rows of an owner: `owner_type` 'Q', 'T40c', or an entityTypeId"
        if isinstance(owner_type, int) or str(owner_type).isdigit():
            owner_type = productrows.owner_code(int(owner_type))
        entity_type_id = productrows.owner_type_id(owner_type)
        with self.store.lock:
            return [dict(r) for r in productrows.rows_of(self.store,
                    entity_type_id, int(owner_id))]

    def _legacy(self, entity_type_id):
        with self.store.lock:
            return [items.legacy_view(self.store, entity_type_id, i,
                    full=True) for _, i in sorted(items.table(
                        self.store, entity_type_id).items())]

    def companies(self):
        return self._legacy(items.COMPANY)

    def contacts(self):
        return self._legacy(items.CONTACT)

    def products(self):
        with self.store.lock:
            return [dict(p) for _, p in sorted(self.store.products.items())]

    def timeline_comments(self):
        with self.store.lock:
            return [dict(c) for _, c in sorted(self.store.timeline.items())]

    def calls(self):
        with self._calls_lock:
            return [dict(c) for c in self._calls]

    def clear_calls(self):
        with self._calls_lock:
            self._calls.clear()

    def set_limits(self, drain=None, threshold=None, operating_limit=None,
            method_cost=None):
        self.limits.configure(drain, threshold, operating_limit, method_cost)
        return self.limits.settings()

    def inject(self, fault, methods=None, count=faults.UNSET,
            probability=None, seed=None, **options):
        return self.faults.inject(fault, methods, count, probability, seed,
            **options)

    def clear_faults(self):
        self.faults.clear()

    def update_item(self, entity_type_id, item_id, fields, user_id=1):
        "A Bitrix24 user changes an item (events delivered as for REST)"
        with self.store.lock:
            item = items.update(self, int(entity_type_id), item_id, fields,
                int(user_id))
            return self._saved(items.view(self.store, int(entity_type_id),
                    item))

    def set_stage(self, entity_type_id, item_id, stage_id, user_id=1):
        "A Bitrix24 user moves an item to another stage"
        return self.update_item(entity_type_id, item_id,
            {'stageId': stage_id}, user_id)

    def add_post(self, group_id, title, text, author_id=1, lang=None):
        "A feed post in a workgroup; `lang` is kept as the post's tag"
        with self.store.lock:
            return self._saved(feed.create_post(self, int(author_id), title,
                    text, [f'SG{int(group_id)}'], [lang] if lang else []))

    def edit_post(self, post_id, title=None, text=None):
        with self.store.lock:
            post = self.store.posts.get(int(post_id)) or {}
            return self._saved(feed.change_post(self, post_id,
                    post.get('author_id', 1), title, text))

    def delete_post(self, post_id):
        with self.store.lock:
            post = self.store.posts.get(int(post_id)) or {}
            feed.remove_post(self, post_id, post.get('author_id', 1))
            self._saved(None)

    def reply(self, dialog_id, text, author_id):
        "A Bitrix24 user (a manager) writes into a chat; the message id"
        with self.store.lock:
            dialog = chat.resolve_dialog(self, int(author_id), dialog_id,
                join=True)
            return self._saved(chat.post_message(self, dialog,
                    int(author_id), text))

    def chat_messages(self, chat_id):
        with self.store.lock:
            return [dict(m) for _, m in sorted(self.store.messages.items())
                if m['chat_id'] == int(chat_id)]

    def add_user(self, id, name, last_name, email, admin=False):
        with self.store.lock:
            self.store.users[int(id)] = {'id': int(id), 'name': name,
                'last_name': last_name, 'email': email, 'admin': bool(admin),
                'active': True, 'lang': 'pl', 'position': '', 'gender': '',
                'registered': items.crm_fields.dates.iso(self.clock())}
            return self._saved(dict(self.store.users[int(id)]))

    def add_webhook(self, code, user_id=1, scope=seed.SCOPE):
        "Another incoming webhook (e.g. with fewer scopes)"
        with self.store.lock:
            self.store.webhooks[code] = {'user_id': int(user_id),
                'scope': scope if isinstance(scope, str) else ','.join(scope)}
            self._saved(None)
        return f'{self.base_url}/rest/{int(user_id)}/{code}/'

    def add_outgoing_webhook(self, handler, events):
        """An outgoing webhook as set up in the portal's UI (§8): `events`
        go to `handler` with its own application_token"""
        with self.store.lock:
            token = secrets.token_hex(16)
            ids = []
            for event in [events] if isinstance(events, str) else events:
                binding_id = self.store.next_id('event_binding')
                self.store.event_bindings[binding_id] = {'id': binding_id,
                    'kind': 'webhook', 'event': event.upper(),
                    'handler': handler, 'application_token': token,
                    'offline': False}
                ids.append(binding_id)
            return self._saved({'ids': ids, 'application_token': token})

    def events_delivered(self):
        return self.events.delivered()

    def wait_events(self, count, timeout=5.0):
        "Whether `count` events were delivered (or lost) within `timeout`"
        return self.events.wait(int(count), float(timeout))

    def set_event_delivery(self, drop_probability=0.0, seed=None):
        self.events.set_delivery(drop_probability, seed)

    def issue_user_token(self, user_id):
        "An access token of the application for this user"
        return self.issue_tokens(user_id)['access_token']

    def issue_tokens(self, user_id=1):
        "A token pair, as /oauth/token/ answers it"
        with self.store.lock:
            return self._saved(self.tokens.issue(int(user_id)))

    def expire_token(self, token):
        with self.store.lock:
            self.tokens.expire(token)
            self._saved(None)

    def set_installed(self, installed=True):
        "app.info INSTALLED (BX24.installFinish sets it, §12.8)"
        with self.store.lock:
            self.store.app['installed'] = bool(installed)
            self._saved(None)

    def open_placement(self, handler_url, placement, options=None,
            user_id=2, newer_fields=True, lang=None):
        "(url, form) of the browser's POST opening a placement (§12.4)"
        with self.store.lock:
            return self._saved(placement_form(self, handler_url,
                    placement, options, user_id, newer_fields, lang))


def caller_for_webhook(store, user_id, code):
    "The Caller of /rest/{user_id}/{code}/, or None"
    hook = store.webhooks.get(code)
    if hook is None or str(hook['user_id']) != str(user_id):
        return None
    return Caller('webhook', hook['user_id'], f'webhook:{code}',
        hook['scope'].split(','))
