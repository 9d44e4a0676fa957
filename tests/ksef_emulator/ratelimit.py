"""Request limits per endpoint group, answered with 429 and Retry-After.

KSeF limits each group of endpoints per second, minute and hour (the
``x-rate-limits`` of open-api.json and the group names of its 429 tables).
The emulator counts in sliding windows, one counter per group for the whole
emulator (KSeF counts per context and IP; tests have one of each). No limit
is on unless configured: `KSEF_LIMITS` are the real ones, and tests usually
set one small limit, e.g. ``{'invoiceSend': {'perSecond': 2}}``.
"""
import collections
import math
import threading
import time

WINDOWS = {'perSecond': 1, 'perMinute': 60, 'perHour': 3600}
UNITS = {'s': 'perSecond', 'min': 'perMinute', 'h': 'perHour'}
WORDS = {'perSecond': 'sekundę', 'perMinute': 'minutę', 'perHour': 'godzinę'}

# Endpoint groups and their limits in KSeF (open-api.json, KSeF API 2.6)
KSEF_LIMITS = {
    'auth': {'perSecond': 60},
    'security': {'perSecond': 60},
    'onlineSession': {'perSecond': 10, 'perMinute': 30, 'perHour': 120},
    'invoiceSend': {'perSecond': 10, 'perMinute': 30, 'perHour': 180},
    'invoiceStatus': {'perSecond': 30, 'perMinute': 120, 'perHour': 1200},
    'sessionList': {'perSecond': 5, 'perMinute': 10, 'perHour': 60},
    'sessionInvoiceList': {'perSecond': 10, 'perMinute': 20, 'perHour': 200},
    'sessionMisc': {'perSecond': 10, 'perMinute': 120, 'perHour': 1200},
    'invoiceDownload': {'perSecond': 8, 'perMinute': 16, 'perHour': 64},
    'invoiceMetadata': {'perSecond': 8, 'perMinute': 16, 'perHour': 20},
    }


class RateLimiter:

    def __init__(self, limits=None, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._hits = collections.defaultdict(collections.deque)
        self.limits = {}
        self.configure(limits or {})

    def configure(self, limits):
        "Replace the limits: {group: {'perSecond': n, ...}}; counters restart"
        for group, windows in limits.items():
            for window in windows:
                if window not in WINDOWS:
                    raise ValueError(f'unknown window {window!r} of {group!r}')
        with self._lock:
            self.limits = {g: dict(w) for g, w in limits.items() if w}
            self._hits.clear()

    def check(self, group):
        """None when a request of `group` may pass (and count it), else
        (retry_after_seconds, detail) for the 429"""
        windows = self.limits.get(group)
        if not windows:
            return None
        with self._lock:
            now = self._clock()
            waits = []
            for window, limit in windows.items():
                hits = self._hits[group, window]
                span = WINDOWS[window]
                while hits and hits[0] <= now - span:
                    hits.popleft()
                if len(hits) >= limit:
                    waits.append((hits[0] + span - now, window, limit))
            if waits:
                wait, window, limit = max(waits)
                retry_after = max(1, math.ceil(wait))
                return retry_after, (
                    f'Przekroczono limit {limit} żądań na {WORDS[window]} '
                    f'(grupa {group}). Spróbuj ponownie po {retry_after} '
                    'sekundach.')
            for window in windows:
                self._hits[group, window].append(now)
            return None


def parse(text):
    """Limits from the command line: 'invoiceSend=2/s,onlineSession=5/min'
    or 'ksef' for the real ones"""
    if text.strip().lower() == 'ksef':
        return {g: dict(w) for g, w in KSEF_LIMITS.items()}
    limits = {}
    for item in filter(None, (i.strip() for i in text.split(','))):
        group, _, rate = item.partition('=')
        count, _, unit = rate.partition('/')
        if unit not in UNITS:
            raise ValueError(f'bad rate limit {item!r}: use GROUP=N/s|min|h')
        limits.setdefault(group.strip(), {})[UNITS[unit]] = int(count)
    return limits
