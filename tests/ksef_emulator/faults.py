"""Faults a test asks for through POST /_control/faults.

Modes:

- ``unavailable``: answer 503 with ``Retry-After`` (``retryAfter``, default 5)
  to every /v2 request, or only to the endpoint ``group`` given, until
  cleared or ``count`` requests have had it;
- ``timeout_after_accept``: the next invoice sent is stored and processed as
  usual (it gets its KSeF number), then the emulator waits ``delay`` seconds
  (default 0) and drops the connection without answering: the client sees a
  timeout or a reset although KSeF has the invoice;
- ``duplicate``: the next invoice sent is stored as if it had already come
  in an earlier session, and this sending is reported as KSeF reports a
  duplicate (status 440 with ``originalKsefNumber``);
- ``reject_next``: the next invoice sent is rejected with status ``code``
  (default 450) and ``details``, whatever it holds;
- ``slow``: wait ``delay`` seconds before handling each request of ``group``
  (or all), ``count`` times or until cleared.

``count`` is how many requests the fault applies to: 1 by default for the
one-shot modes, unlimited for ``unavailable`` and ``slow``.
"""
import threading

MODES = {'unavailable', 'timeout_after_accept', 'duplicate', 'reject_next',
    'slow'}
UNLIMITED_BY_DEFAULT = {'unavailable', 'slow'}


class Faults:

    def __init__(self):
        self._lock = threading.Lock()
        self._active = []

    def add(self, mode, **options):
        if mode not in MODES:
            raise ValueError(
                f'unknown fault mode {mode!r}: one of {sorted(MODES)}')
        count = options.pop('count', None)
        if count is None and mode not in UNLIMITED_BY_DEFAULT:
            count = 1
        fault = {'mode': mode, 'count': count, **options}
        with self._lock:
            self._active.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self._active.clear()

    def active(self):
        with self._lock:
            return [dict(f) for f in self._active]

    def take(self, mode, group=None):
        """The options of the first active fault of `mode` that applies to
        endpoint `group`, used up by one; None when there is none"""
        with self._lock:
            for fault in self._active:
                if fault['mode'] != mode:
                    continue
                if fault.get('group') and group != fault['group']:
                    continue
                if fault['count'] is not None:
                    fault['count'] -= 1
                    if fault['count'] <= 0:
                        self._active.remove(fault)
                return dict(fault)
        return None
