"""One leaky bucket for every process that talks to the firm's Bitrix24
(facts: BITRIX24.md §3: the limit is per portal and source address, so the
web workers, the queue workers and the cron of one host share it).

The bucket is kept as its theoretical arrival time (the generic cell rate
algorithm): a request is sent at max(now, tat - burst), and moves tat one
interval (1 / drain) on. On PostgreSQL the reservation is one UPDATE …
RETURNING in a transaction of its own, so processes reserve in turn without
holding a lock across the request. SQLite (the demo) has one writer: there
the bucket is the process's own."""
import threading
import time

from trytond import backend
from trytond.model import ModelSQL, Unique, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

_local_buckets = {}
_local_lock = threading.Lock()


class Rate(ModelSQL):
    "Bitrix24 Request Bucket"
    __name__ = 'bitrix.rate'
    __string__ = "Bitrix24 Request Bucket"

    key = fields.Char("Key", required=True)
    tat = fields.Float("Theoretical Arrival Time", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('key_unique', Unique(t, t.key), 'bitrix_bridge.msg_rate_key'),
            ]

    @classmethod
    def limiter(cls, key, drain, threshold):
        return Limiter(key, drain, threshold)

    @classmethod
    def reserve(cls, key, interval, now):
        "The bucket's theoretical arrival time before this request"
        if backend.name != 'postgresql':
            with _local_lock:
                tat = max(_local_buckets.get(key, 0.0), now)
                _local_buckets[key] = tat + interval
                return tat
        table = cls._table
        with Transaction().new_transaction() as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute(
                f'INSERT INTO "{table}" (key, tat, create_uid, create_date) '
                'VALUES (%s, 0, 0, CURRENT_TIMESTAMP) '
                'ON CONFLICT (key) DO NOTHING', (key,))
            cursor.execute(
                f'UPDATE "{table}" SET tat = GREATEST(tat, %s) + %s '
                'WHERE key = %s RETURNING tat', (now, interval, key))
            tat, = cursor.fetchone()
            transaction.commit()
        return tat - interval


class Limiter:
    "What the REST client calls before each HTTP request"

    def __init__(self, key, drain, threshold, clock=time.time,
            sleep=time.sleep):
        self.key = key
        self.interval = 1.0 / drain
        # A margin under Bitrix24's threshold, as its counter and this
        # bucket do not drain at exactly the same instants: 2 of the
        # default 50, at least 1
        margin = max(1, round(threshold * 0.04))
        self.burst = max(threshold - margin, 0) * self.interval
        self.clock = clock
        self.sleep = sleep

    def wait(self):
        Rate = Pool().get('bitrix.rate')
        now = self.clock()
        tat = Rate.reserve(self.key, self.interval, now)
        delay = tat - self.burst - now
        if delay > 0:
            self.sleep(delay)
