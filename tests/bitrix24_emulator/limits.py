"""The cloud portal's limits (facts §3).

- Leaky bucket per client IP: each HTTP request to /rest adds 1 (a batch is
  one request), the counter drains `drain` per second; a request that would
  take it above `threshold` is refused with 503 QUERY_LIMIT_EXCEEDED and is
  not counted.
- Operating time per method and per client (a webhook or an application),
  kept in ten one-minute buckets: once a method's total is over
  `operating_limit` seconds, its next call gets 429 OPERATION_TIME_LIMIT until
  `operating_reset_at`, when the oldest bucket drops out; other methods keep
  working. Each call adds `method_cost[method]` seconds (default
  DEFAULT_COST: the emulator's own run time is too small to matter); the
  outer `batch` is not counted, its calls count against their own methods.

Time is the injectable `clock` (unix seconds), so tests need not sleep.
"""
import threading

DEFAULT_COST = 0.01
WINDOW_MINUTES = 10


class Limits:

    def __init__(self, clock, drain=2.0, threshold=50,
            operating_limit=480.0, method_cost=None):
        self._lock = threading.Lock()
        self.clock = clock
        self.defaults = dict(drain=drain, threshold=threshold,
            operating_limit=operating_limit, method_cost=method_cost)
        self.reset()

    def reset(self):
        "Defaults back, counters emptied"
        with self._lock:
            self._buckets = {}      # ip -> (level, time)
            self._operating = {}    # (client, method) -> {minute: seconds}
            self.method_cost = {}
        self.configure(**self.defaults)

    def configure(self, drain=None, threshold=None, operating_limit=None,
            method_cost=None):
        with self._lock:
            if drain is not None:
                self.drain = float(drain)
            if threshold is not None:
                self.threshold = float(threshold)
            if operating_limit is not None:
                self.operating_limit = float(operating_limit)
            if method_cost is not None:
                self.method_cost = {k.lower(): float(v)
                    for k, v in method_cost.items()}

    def settings(self):
        return {'drain': self.drain, 'threshold': self.threshold,
            'operating_limit': self.operating_limit,
            'method_cost': dict(self.method_cost)}

    def bucket_level(self, ip):
        with self._lock:
            return self._drained(ip, self.clock())

    def _drained(self, ip, now):
        level, since = self._buckets.get(ip, (0.0, now))
        return max(0.0, level - (now - since) * self.drain)

    def take(self, ip):
        "Whether one more request from `ip` may pass (and count it)"
        with self._lock:
            now = self.clock()
            level = self._drained(ip, now)
            if level + 1 > self.threshold:
                self._buckets[ip] = (level, now)
                return False
            self._buckets[ip] = (level + 1, now)
            return True

    def _window(self, client, method, now):
        minute = int(now // 60)
        buckets = self._operating.setdefault((client, method), {})
        for old in [m for m in buckets if m <= minute - WINDOW_MINUTES]:
            del buckets[old]
        return buckets, minute

    def _reset_at(self, buckets, now):
        if buckets:
            return (min(buckets) + WINDOW_MINUTES) * 60
        return int(now) + WINDOW_MINUTES * 60

    def blocked(self, client, method):
        "None, or operating_reset_at when `method` is over its budget"
        with self._lock:
            now = self.clock()
            buckets, _ = self._window(client, method, now)
            if sum(buckets.values()) > self.operating_limit:
                return self._reset_at(buckets, now)
        return None

    def spend(self, client, method):
        "Count one call of `method`: (operating, operating_reset_at)"
        with self._lock:
            now = self.clock()
            buckets, minute = self._window(client, method, now)
            cost = self.method_cost.get(method, self.method_cost.get(
                    '*', DEFAULT_COST))
            buckets[minute] = buckets.get(minute, 0.0) + cost
            return round(sum(buckets.values()), 6), self._reset_at(
                buckets, now)
