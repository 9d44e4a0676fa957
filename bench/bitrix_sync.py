"""The Bitrix24 bridge's outbox on PostgreSQL against the Bitrix24 emulator
(tests/bitrix24_emulator):

1. Throughput: --rounds rounds, each changing every one of --drafts
   client invoices and sending the changes through the leaky bucket, the
   emulator's and the bridge's alike. The bucket is Bitrix24's shape scaled
   down (--drain 0.5 requests/s, --burst 5 instead of 2 and 50) so that a
   few hundred invoices, 25 to a batch, are limited by the bucket and not
   by the machine; the share does not depend on the scale. Printed: the
   HTTP requests made as a share of what the bucket allows in the same time
   (burst + drain × seconds), refusals, and invoices per second.
2. Faults: --fault-changes changes (10,000 by default) while the emulator
   answers one request in five with a fault (500, 503 rate limit, HTML,
   the answer lost after the write was done), sent by a worker process
   that is killed (SIGKILL) mid-run and started again; then Bitrix24 must
   hold exactly one Offer per invoice, with its last content.

    .venv/bin/python bench/bitrix_sync.py [--drafts 300] [--rounds 3]
        [--drain 0.5] [--burst 5] [--fault-changes 10000]

A database `portico_bench_bitrix` is made from the template of
bench/generate.py (modules activated; built if missing, ~2 min).
Goal (issue: Bitrix24 bridge): ≥ 90 % of the ceiling, 0 lost, 0 doubled."""
import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, ROOT)
import common  # noqa: E402

DATABASE = 'portico_bench_bitrix'
LINES = [("Wdrożenie systemu", 8, '180.00', '23'),
    ("Licencja", 1, '1200.00', '23')]
TODAY = datetime.date.today()


def prepare(drafts, url, hook):
    "The firm, a client, its drafts; the bridge pointed at url; draft ids"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from client_portal.demo import create_client, nip, setup_firm
    from client_portal.demo_outgoing import (
        create_contractor, create_invoice_template, editor_form)
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    Invoice = pool.get('account.invoice')
    firm = setup_firm(TODAY, logo=False)
    client = create_client(firm, "Bench Issuer sp. z o.o.",
        nip('677231994'), "ul. Testowa 1", '00-001', "Warszawa",
        'issuer@example.com', '1')
    Subaccount.create_for([client], [firm.pln])
    template = create_invoice_template(firm, "Bench", 'BENCH', [client])
    buyer = create_contractor(firm, client, "Odbiorca sp. z o.o.",
        "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'))
    with Transaction().set_context(company=firm.company.id):
        ids = [Invoice.portal_save_draft(client, editor_form(
                    firm, client, template, buyer, LINES)).id
            for _ in range(drafts)]
    from bitrix_bridge.tests.bridge_setup import configure
    configure(f'{url}/rest/1/{hook}/', url)
    return ids


def change(ids, count, seed, every=False):
    """count changes: a random draft's date moved (every: each draft once,
    in random order); no queue task run here"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Invoice = Pool().get('account.invoice')
    rng = random.Random(seed)
    order = rng.sample(ids, len(ids)) if every else [
        rng.choice(ids) for _ in range(count)]
    for invoice_id in order:
        invoice = Invoice(invoice_id)
        with Transaction().set_context(company=invoice.company.id):
            Invoice.write([invoice], {'invoice_date': TODAY
                    - datetime.timedelta(days=rng.randint(0, 700))})
    Transaction().tasks.clear()


def limit(drain, burst):
    "The bridge's bucket, as the emulator's"
    from trytond.pool import Pool
    Configuration = Pool().get('bitrix.configuration')
    Configuration.write([Configuration(1)],
        {'rate_drain': drain, 'rate_threshold': burst})


def in_transaction(func, *args):
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 0) as transaction:
        result = func(*args)
        transaction.tasks.clear()
        transaction.commit()
    return result


def pending():
    from trytond.pool import Pool
    return Pool().get('bitrix.outbox').search_count(
        [('state', '!=', 'done')])


def process():
    "One worker run, as the cron's, every entry due now"
    from trytond.pool import Pool
    Outbox = Pool().get('bitrix.outbox')
    Outbox.write(Outbox.search([('state', '=', 'queued')]),
        {'next_attempt_at': None})
    Outbox.process()


def drain(timeout=3600):
    "Runs until nothing is pending; the seconds it took"
    started = time.monotonic()
    while in_transaction(pending):
        in_transaction(process)
        if time.monotonic() - started > timeout:
            raise RuntimeError("the outbox did not drain")
    return time.monotonic() - started


def expected(ids):
    from trytond.pool import Pool
    from bitrix_bridge.sync import external_key
    Invoice = Pool().get('account.invoice')
    return {external_key(i): i.invoice_date.isoformat()
        for i in Invoice.browse(ids)}


def check(app, ids):
    "(lost, doubled, stale) Offers against the invoices"
    want = in_transaction(expected, ids)
    keys = [q['ufCrmPorticoKey'] for q in app.items(7)]
    doubled = len(keys) - len(set(keys))
    lost = len(set(want) - set(keys))
    stale = sum(1 for q in app.items(7)
        if not q['begindate'].startswith(want.get(q['ufCrmPorticoKey'],
                '?')))
    return lost, doubled, stale


def worker():
    "--worker: process the outbox forever (the process the bench kills)"
    common.load_config()
    os.environ['TRYTOND_DATABASE__URI'] = \
        'postgresql://postgres@127.0.0.1:5432/'
    from trytond.pool import Pool
    Pool(DATABASE).init()
    while True:
        in_transaction(process)
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--drafts', type=int, default=300)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--drain', type=float, default=0.5)
    parser.add_argument('--burst', type=int, default=5)
    parser.add_argument('--fault-changes', type=int, default=10000,
        help='0: no fault run')
    parser.add_argument('--worker', action='store_true',
        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()

    common.load_config()
    import generate
    from tests.bitrix24_emulator import Emulator
    generate.fresh_database(DATABASE)
    with Emulator() as b24:
        app = b24.app
        started = time.monotonic()
        ids = generate.run(DATABASE, prepare, args.drafts, b24.base_url,
            b24.webhook_code)
        generate.log(f'{len(ids)} drafts', started)

        # 1. Throughput with the bucket on: the first round creates the
        # Offers, the others update them
        app.set_limits(drain=args.drain, threshold=args.burst)
        in_transaction(limit, args.drain, args.burst)
        app.clear_calls()
        seconds = 0.0
        for round_ in range(args.rounds):
            in_transaction(change, ids, 0, round_, True)
            seconds += drain()
        calls = app.calls()
        requests = len([c for c in calls if not c['batch']])
        subcalls = len([c for c in calls if c['batch']]) + len(
            [c for c in calls if not c['batch'] and c['method'] != 'batch'])
        ceiling = args.rounds * args.burst + args.drain * seconds
        throttled = sum(1 for c in calls
            if c.get('error') == 'QUERY_LIMIT_EXCEEDED')
        lost, doubled, stale = check(app, ids)
        sent = args.rounds * len(ids)
        print(f"""
== throughput (the bucket: {args.drain} requests/s, burst {args.burst}, full again before each round)
  {args.rounds} rounds × {len(ids)} invoices changed and sent in {seconds:.1f} s (the changes' own time left out)
  {requests} HTTP requests = {100 * requests / ceiling:.0f} % of the {ceiling:.0f} the bucket allows; {throttled} refused
  {subcalls} calls, {subcalls / max(requests, 1):.1f} per request; {sent / seconds:.2f} invoices/s = {sent / seconds * 2 / args.drain:.1f}/s at Bitrix24's 2 requests/s
  lost {lost}, doubled {doubled}, stale {stale}""")

        if not args.fault_changes:
            return
        # 2. Faults and a killed worker
        app.set_limits(drain=2.0, threshold=10 ** 9)
        in_transaction(limit, 1000.0, 10 ** 9)
        app.clear_calls()
        for seed, fault in enumerate(['internal', 'query_limit', 'html']):
            app.inject(fault, probability=0.05, seed=seed, count=None)
        app.inject('timeout_after_commit', methods=['batch'],
            probability=0.05, seed=9, count=None, delay=1.0)
        env = dict(os.environ)
        command = [sys.executable, __file__, '--worker']
        started = time.monotonic()
        process_ = subprocess.Popen(command, env=env)
        step = max(args.fault_changes // 20, 1)
        killed = 0
        for done in range(0, args.fault_changes, step):
            in_transaction(change, ids, step, 100 + done)
            if done == args.fault_changes // 2:
                time.sleep(2)
                process_.send_signal(signal.SIGKILL)
                process_.wait()
                killed += 1
                process_ = subprocess.Popen(command, env=env)
        while in_transaction(pending):
            time.sleep(1)
            if time.monotonic() - started > 3600:
                break
        process_.send_signal(signal.SIGTERM)
        process_.wait()
        app.clear_faults()
        drain()
        seconds = time.monotonic() - started
        faults = sum(1 for c in app.calls()
            if not c['batch'] and (c['status'] or 200) >= 400)
        lost, doubled, stale = check(app, ids)
        print(f"""
== faults (1 request in 5), worker killed {killed}× mid-run
  {args.fault_changes} changes of {len(ids)} invoices in {seconds:.0f} s, {faults} requests answered with an error
  Offers in Bitrix24: {len(app.items(7))}; lost {lost}, doubled {doubled}, stale {stale}""")


if __name__ == '__main__':
    main()
