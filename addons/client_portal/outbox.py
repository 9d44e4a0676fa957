"""What the modules' outboxes share (KSeF, Bitrix24): each keeps its own
entries, states and retry schedule, so that nothing depends on a queue task
that failed (Tryton 8.0 leaves those stuck); a run claims the entries due
with a row lock other runs skip, so two workers never send the same entry."""
import contextlib
import datetime
import random
import threading

from sql import For
from sql.conditionals import Coalesce

from trytond import backend
from trytond.transaction import Transaction

_sqlite_lock = threading.Lock()


def one_writer():
    "SQLite has one writer: the runs of a process take turns there"
    if backend.name == 'sqlite':
        return _sqlite_lock
    return contextlib.nullcontext()


def claim_due(Model, due_states, ids=None, limit=50):
    """The entries of Model in due_states whose next_attempt_at has come
    (of ids, or all), oldest first, locked for this transaction; those
    another run holds are skipped (PostgreSQL's FOR UPDATE SKIP LOCKED)"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    where = (table.state.in_(due_states)
        & (Coalesce(table.next_attempt_at, datetime.datetime.min)
            <= datetime.datetime.now()))
    if ids is not None:
        if not ids:
            return []
        where &= table.id.in_(list(ids))
    query = table.select(table.id, where=where, order_by=[table.id.asc],
        limit=limit)
    if backend.name == 'postgresql':
        query.for_ = For('UPDATE')
        sql, params = tuple(query)
        cursor.execute(sql + ' SKIP LOCKED', params)
    else:
        cursor.execute(*query)
    return Model.browse([r[0] for r in cursor])


def backoff(attempt, base=1.0, maximum=30.0):
    """Seconds before the attempt-th retry: exponential with ±20 % jitter,
    so that workers do not retry in step"""
    wait = min(maximum, base * 2 ** (max(attempt, 1) - 1))
    return wait * random.uniform(0.8, 1.2)
