"""The errors of Bitrix24 REST calls, one class per reaction of the sync.

`error_from` turns an error answer (§2: `{"error", "error_description"}`
plus an HTTP status) into one of them. The codes come from the system
error table (§2), the authentication tables (§1.1, §1.2) and the CRM
methods (§5.2). `retryable` says whether trying the same request later can
help; the client has already retried what it could (rest.Client)."""
import re
from urllib.parse import urlsplit

# Credentials, scope, plan or application context are broken: nothing works
# until staff act, the queue stops (§1.1, §1.2; PORTAL_DELETED §2)
AUTH_CODES = {
    'NO_AUTH_FOUND', 'INVALID_CREDENTIALS', 'INVALID_TOKEN',
    'INSUFFICIENT_SCOPE', 'INVALID_SCOPE', 'USER_ACCESS_ERROR',
    'AUTHORIZATION_ERROR', 'WRONG_AUTH_TYPE', 'INVALID_GRANT',
    'INVALID_CLIENT', 'PAYMENT_REQUIRED', 'METHOD_CONFIRM_WAITING',
    'METHOD_CONFIRM_DENIED', 'APPLICATION_NOT_FOUND', 'PORTAL_DELETED',
    }
# ACCESS_DENIED is an authentication error only with the plan text (§1.2);
# crm.item.* also answer ACCESS_DENIED for one record's permissions (§5.2)
PLAN_TEXT = re.compile(r'only on commercial plans', re.I)
NOT_FOUND_CODES = {'NOT_FOUND', 'OWNER_NOT_FOUND'}
# Legacy CRM answers an empty or numeric code with a "… not found" text
NOT_FOUND_TEXT = re.compile(r'\bnot (been )?found\b', re.I)
UNAVAILABLE_CODES = {'INTERNAL_SERVER_ERROR', 'ERROR_UNEXPECTED_ANSWER'}


class Bitrix24Error(Exception):
    "An error answer or a failed request of one REST method"
    retryable = False

    def __init__(self, code, description, status=None, method=None):
        self.code = code
        self.description = description
        self.status = status
        self.method = method
        super().__init__(self._message())

    def _message(self):
        code = self.code if self.code not in (None, '') else '(no code)'
        status = f' [HTTP {self.status}]' if self.status else ''
        method = f'{self.method}: ' if self.method else ''
        return f'{method}{code}: {self.description}{status}'

    def __repr__(self):
        return f'{type(self).__name__}({self._message()!r})'


class QueryLimitExceeded(Bitrix24Error):
    "503 QUERY_LIMIT_EXCEEDED: the portal's leaky bucket is full (§3)"
    retryable = True


class OperationTimeLimit(Bitrix24Error):
    """429 OPERATION_TIME_LIMIT: this method used up its run time over ten
    minutes; `reset_at` (unix time) is when the oldest minute drops out (§3)"""
    retryable = True

    def __init__(self, code, description, status=None, method=None,
            reset_at=None):
        self.reset_at = reset_at
        super().__init__(code, description, status, method)


class Overloaded(Bitrix24Error):
    "503 OVERLOAD_LIMIT: blocked by Bitrix24 support, only they lift it (§3)"


class AuthError(Bitrix24Error):
    "The credentials, scope, plan or application context are refused"


class ExpiredToken(Bitrix24Error):
    "401 expired_token: a refreshed access token will do (§1.2)"
    retryable = True


class Unavailable(Bitrix24Error):
    """Bitrix24 could not be reached or did not answer properly: a 5xx,
    a body that is not JSON, a connection error or a timeout. `reached` is
    False when the request certainly never got to the server"""
    retryable = True

    def __init__(self, code, description, status=None, method=None,
            reached=True):
        self.reached = reached
        super().__init__(code, description, status, method)


class Ambiguous(Bitrix24Error):
    """A write that is not idempotent (an *.add, or a batch holding one)
    failed in a way that leaves open whether Bitrix24 applied it (§10.1).
    Sending it again may duplicate the record: the caller looks it up by
    its external key first, so this is not `retryable`"""


class Moved(Bitrix24Error):
    """302: the portal moved to another address (§1.2). Never followed:
    staff confirm the new address (§12.5 pitfall 4). `location` is the
    Location header with the secrets masked, `base_url` its scheme and
    host"""

    def __init__(self, location, status=302, method=None):
        self.location = location
        parts = urlsplit(location)
        self.base_url = (f'{parts.scheme}://{parts.netloc}'
            if parts.scheme and parts.netloc else None)
        super().__init__('MOVED', f'moved to {location}', status, method)


class NotFound(Bitrix24Error):
    "The record is not there (NOT_FOUND, OWNER_NOT_FOUND, 'Element not found')"


class InvalidRequest(Bitrix24Error):
    "Any other refusal (4xx): the same request will be refused again"


def error_from(body, status=None, method=None):
    """The error of an answer `body` (a dict holding `error`) with HTTP
    `status`; `status` is None for a batch's sub-call (§4)"""
    error = body.get('error')
    description = body.get('error_description')
    if isinstance(error, dict):
        # REST v3: {"error": {"code", "message", "validation"}} (§2)
        description = error.get('message', description)
        error = error.get('code')
    code = '' if error is None else str(error)
    description = '' if description is None else str(description)
    upper = code.upper()
    if upper == 'QUERY_LIMIT_EXCEEDED':
        return QueryLimitExceeded(code, description, status, method)
    if upper == 'OPERATION_TIME_LIMIT' or status == 429:
        time = body.get('time')
        reset_at = time.get('operating_reset_at') if isinstance(
            time, dict) else None
        return OperationTimeLimit(code, description, status, method,
            reset_at=float(reset_at) if reset_at is not None else None)
    if upper == 'OVERLOAD_LIMIT':
        return Overloaded(code, description, status, method)
    if upper == 'EXPIRED_TOKEN':
        return ExpiredToken(code, description, status, method)
    if (upper in AUTH_CODES or status == 401
            or (upper == 'ACCESS_DENIED' and PLAN_TEXT.search(description))):
        return AuthError(code, description, status, method)
    if upper in NOT_FOUND_CODES or (
            (code == '' or code.isdigit()) and NOT_FOUND_TEXT.search(
                description)):
        return NotFound(code, description, status, method)
    if upper in UNAVAILABLE_CODES or (status or 0) >= 500:
        return Unavailable(code, description, status, method)
    return InvalidRequest(code, description, status, method)
