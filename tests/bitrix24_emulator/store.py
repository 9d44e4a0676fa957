"""What the portal holds: users, CRM, catalog, feed, chats, bindings, tokens.

In memory behind one lock (every REST call runs under it). Records are
JSON-ready dicts keyed by integer ids. With a data directory the state is
written to ``state.json`` after every call that may have changed it
(atomically) and read back on start, so the demo keeps its portal across
restarts; JSON object keys come back as strings and are turned back into
integers where they are digits.

What is not state, and is not kept: the call log, delivered events, the
limits' counters and injected faults.
"""
import json
import os
import threading

from .php import php_key

STATE_FILE = 'state.json'
COLLECTIONS = (
    'seq',          # name -> last id given
    'app',          # the local application: client_id, secret, member_id...
    'users', 'webhooks', 'access_tokens', 'refresh_tokens',
    'types',        # entityTypeId -> smart process type (crm.type.*)
    'categories',   # id -> category (crm.category.*)
    'statuses',     # id -> crm.status row (stages, QUOTE_STATUS, ...)
    'user_fields',  # entityTypeId -> {FIELD_NAME: {type, title}}
    'items',        # entityTypeId -> id -> item (camelCase, crm.item)
    'product_rows', 'timeline', 'products',
    'groups', 'posts', 'blog_tags', 'chats', 'messages',
    'event_bindings', 'placements',
    )


def _restore(value):
    "JSON's string keys back to integer ids"
    if isinstance(value, dict):
        return {php_key(k): _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


class Store:

    def __init__(self, directory=None):
        self.lock = threading.RLock()
        self.directory = directory
        self.clear()

    def clear(self):
        with self.lock:
            for name in COLLECTIONS:
                setattr(self, name, {})

    def next_id(self, name, start=1):
        "A new id of the sequence `name` (first `start`)"
        with self.lock:
            value = max(self.seq.get(name, start - 1) + 1, start)
            self.seq[name] = value
            return value

    @property
    def path(self):
        if self.directory:
            return os.path.join(self.directory, STATE_FILE)

    def load(self):
        "Whether a saved state was there"
        if not self.path or not os.path.exists(self.path):
            return False
        with open(self.path, encoding='utf-8') as f:
            state = json.load(f)
        with self.lock:
            for name in COLLECTIONS:
                setattr(self, name, _restore(state.get(name, {})))
            # Tokens are opaque strings, not ids: keep their keys as written
            self.access_tokens = state.get('access_tokens', {})
            self.refresh_tokens = state.get('refresh_tokens', {})
            self.webhooks = state.get('webhooks', {})
        return True

    def save(self):
        if not self.path:
            return
        # Under the lock: two calls must not write their states out of order
        with self.lock:
            text = json.dumps({name: getattr(self, name)
                    for name in COLLECTIONS}, ensure_ascii=False, indent=1)
            os.makedirs(self.directory, exist_ok=True)
            temporary = f'{self.path}.{os.getpid()}.tmp'
            with open(temporary, 'w', encoding='utf-8') as f:
                f.write(text)
            os.replace(temporary, self.path)
