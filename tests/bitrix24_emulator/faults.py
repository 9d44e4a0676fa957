"""Faults a test injects (facts §2, §3, §11.4).

- ``query_limit``: 503 QUERY_LIMIT_EXCEEDED "Too many requests";
- ``operation_time_limit``: 429 OPERATION_TIME_LIMIT;
- ``internal``: 500 INTERNAL_SERVER_ERROR as JSON;
- ``html``: a text/html page from "the gateway", status ``status`` (502 by
  default, or 500);
- ``overload``: 503 OVERLOAD_LIMIT;
- ``expired_token``: 401 expired_token, whatever the credentials;
- ``timeout_after_commit``: the call is carried out (an add creates its
  item), then the answer waits ``delay`` seconds (default 5), or with
  ``close=True`` the connection is closed without an answer;
- ``moved``: the portal moved to ``localhost`` (same port, same server): the
  old host answers every REST call with 302 to the same path on the new one,
  until cleared (``count`` does not apply).

``methods`` limits a fault to those REST methods (case-insensitive; the
method of the HTTP request, ``batch`` for a batch). A fault naming a method
also fails that method's calls inside a batch, as a per-command error,
except ``html``, ``timeout_after_commit`` and ``moved``, which are about
the whole HTTP answer. ``count`` is how many calls get it (default 1;
None: until cleared); with ``probability`` each matching call gets it at that
chance, drawn from ``random.Random(seed)``, and ``count`` defaults to
unlimited.
"""
import random
import threading

from . import errors

KINDS = ('query_limit', 'operation_time_limit', 'internal', 'html',
    'overload', 'timeout_after_commit', 'expired_token', 'moved')
WHOLE_ANSWER = {'html', 'timeout_after_commit', 'moved'}
UNSET = object()


def error_of(kind):
    "The RestError a JSON fault answers with"
    return {
        'query_limit': errors.query_limit,
        'operation_time_limit': errors.operation_time_limit,
        'internal': errors.internal,
        'overload': errors.overload,
        'expired_token': errors.expired_token,
        }[kind]()


def html_page(status):
    reason = {500: 'Internal Server Error', 502: 'Bad Gateway',
        503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out'}.get(
        status, 'Error')
    return (f'<html>\r\n<head><title>{status} {reason}</title></head>\r\n'
        f'<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n'
        '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n')


class Faults:

    def __init__(self):
        self._lock = threading.Lock()
        self._active = []

    def inject(self, fault, methods=None, count=UNSET, probability=None,
            seed=None, **options):
        if fault not in KINDS:
            raise ValueError(f'unknown fault {fault!r}: one of {KINDS}')
        if isinstance(methods, str):
            methods = [methods]
        if count is UNSET:
            count = None if probability is not None or fault == 'moved' \
                else 1
        entry = {'fault': fault, 'count': count,
            'methods': [m.lower() for m in methods] if methods else None,
            'probability': probability, 'options': options,
            'random': random.Random(seed)}
        with self._lock:
            self._active.append(entry)
        return self._public(entry)

    @staticmethod
    def _public(entry):
        return {k: v for k, v in entry.items() if k != 'random'}

    def active(self):
        with self._lock:
            return [self._public(e) for e in self._active]

    def clear(self):
        with self._lock:
            self._active.clear()

    def moved(self):
        with self._lock:
            return any(e['fault'] == 'moved' for e in self._active)

    def take(self, method, in_batch=False):
        """The first fault that hits this call of `method` (used up by one),
        as (kind, options), or None"""
        with self._lock:
            for entry in self._active:
                kind = entry['fault']
                if kind == 'moved':
                    continue
                if in_batch and (kind in WHOLE_ANSWER
                        or not entry['methods']):
                    continue
                if entry['methods'] and method not in entry['methods']:
                    continue
                if entry['probability'] is not None and \
                        entry['random'].random() >= entry['probability']:
                    continue
                if entry['count'] is not None:
                    entry['count'] -= 1
                    if entry['count'] <= 0:
                        self._active.remove(entry)
                return kind, dict(entry['options'])
        return None
