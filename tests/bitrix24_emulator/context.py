"""What a REST method handler gets: who calls, the portal, the clock."""
from . import errors


class Listed:
    "A list method's answer: `total` and `next` go to the top level (§2)"

    def __init__(self, result, total, next=None):
        self.result = result
        self.total = total
        self.next = next


class Caller:
    """Who makes a call: a webhook (kind 'webhook', §1.1) or an application
    token (kind 'app', §1.2), acting as `user_id` with `scopes`; `client`
    keys the operating-time budget (§3: per application or webhook)"""

    def __init__(self, kind, user_id, client, scopes, token=None):
        self.kind = kind
        self.user_id = user_id
        self.client = client
        self.scopes = set(scopes)
        self.token = token

    @property
    def is_app(self):
        return self.kind == 'app'


class Call:
    "One method call being carried out"

    def __init__(self, portal, caller, method, in_batch=False):
        self.portal = portal
        self.store = portal.store
        self.caller = caller
        self.method = method
        self.in_batch = in_batch

    def now(self):
        return self.portal.clock()

    @property
    def user_id(self):
        return self.caller.user_id

    @property
    def user(self):
        return self.store.users[self.caller.user_id]

    @property
    def is_admin(self):
        return bool(self.user.get('admin'))

    def require_app(self):
        "§1.1, §12.2: application context only"
        if not self.caller.is_app:
            raise errors.wrong_auth_type()

    def fire(self, event, fields, entity_type_id=None):
        "Deliver `event` to its bindings (§8), after this call"
        self.portal.events.fire(event, fields, self.caller.user_id,
            entity_type_id=entity_type_id)
