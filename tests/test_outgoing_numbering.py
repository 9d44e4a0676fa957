"""Numbers are continuous per series and year under concurrency: 50 drafts
issued at once from several PostgreSQL connections get exactly 1..50."""
import datetime
import queue
import random
import re
import threading
import time
import traceback

import pytest
from portal_http import DB, in_transaction, read_only

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError

DRAFTS = 50
WORKERS = 5


def _drafts():
    "A client of its own, so that other tests' lists do not change"
    from client_portal.demo import create_client, load_firm, nip
    from client_portal.demo_outgoing import (
        create_contractor, create_invoice_template, editor_form as form)
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Subaccount = pool.get('portal.subaccount')
    firm = load_firm()
    client = create_client(firm, "Concurrency sp. z o.o.", nip('899287651'),
        "ul. Szybka 1", '00-001', "Warszawa", 'c@example.com', '1')
    Subaccount.create_for([client], [firm.pln])
    buyer = create_contractor(firm, client, "Odbiorca sp. z o.o.",
        "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'))
    template = create_invoice_template(firm, "Concurrency", 'CONC', [client])
    return [Invoice.portal_save_draft(client, form(
                firm, client, template, buyer,
                [("Usługa", 1, '100.00', '23')])).id
        for _ in range(DRAFTS)]


def _issue(invoice_id):
    """Issue in its own transaction, restarted as trytond's dispatcher
    does when the series' row is locked by another issue"""
    extras = {}
    for attempt in range(200):
        try:
            with Transaction().start(DB, 0, **extras) as transaction:
                Invoice = Pool().get('account.invoice')
                try:
                    Invoice.portal_issue(Invoice(invoice_id), render=False)
                    transaction.commit()
                    return attempt
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
        except backend.DatabaseOperationalError:
            # Locked by another issue (at the start or later): again
            time.sleep(random.uniform(0.005, 0.05))
    raise AssertionError(f"draft {invoice_id} never issued")


def _numbers(ids):
    Invoice = Pool().get('account.invoice')
    return [i.number for i in Invoice.browse(ids)]


@pytest.mark.skipif(backend.name != 'postgresql',
    reason="SQLite serialises every writer: no concurrent issue to test")
def test_fifty_concurrent_issues_get_1_to_50(data):
    t0 = time.monotonic()
    ids = in_transaction(_drafts)
    print('DRAFTS', time.monotonic() - t0)
    t0 = time.monotonic()
    todo = queue.Queue()
    for id_ in ids:
        todo.put(id_)
    errors, retries = [], []

    def worker():
        while True:
            try:
                id_ = todo.get_nowait()
            except queue.Empty:
                return
            try:
                retries.append(_issue(id_))
            except Exception as e:
                errors.append(''.join(traceback.format_exception(e)))
    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print('ISSUE', time.monotonic() - t0, sum(retries))
    assert not errors, errors[0]
    numbers = read_only(_numbers, ids)
    year = datetime.date.today().year
    found = sorted(int(re.match(rf'FV/CONC/(\d+)/{year}$', n).group(1))
        for n in numbers)
    assert found == list(range(1, DRAFTS + 1))
    # They did run into each other: the lock was really contended
    assert sum(retries) > 0
