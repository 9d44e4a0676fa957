"""Sending issued invoices to KSeF through the outbox, on PostgreSQL, against
the KSeF emulator (tests/ksef_emulator) with KSeF's own rate limits: invoices
sent per minute, and the share of the issue spent building and validating
the FA(3) XML.

    .venv/bin/python bench/ksef_send.py [--count 40] [--unlimited 100]

1. A database `portico_bench_ksef` made from the template of
   bench/generate.py (modules activated; built if missing, ~2 min): the
   demo firm, one client, a contractor with a Polish NIP, --count +
   --unlimited drafts of three lines (23 % and zw).
2. The emulator in this process (a thread), the firm's KSeF settings
   pointing at it with a KSeF token.
3. Issue --count drafts, one transaction each (number, NBP rate, FA(3)
   XML built with ksef-client and validated against the XSD, moves,
   outbox entry; the XML's share is the time inside `fa3.build`), and send
   them with KSeF's limits on (invoiceSend 10/s, 30/min, 180/h; sessions
   30/min): the outbox processed as the cron and the queue do, until every
   invoice is accepted.
4. The same for --unlimited more with the limits off, which measures the
   sending code and the emulator alone.

Goal: none set by the issue; KSeF's own 30 invoices/min per online session
is the ceiling with the limits on."""
import argparse
import datetime
import os
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, ROOT)
import common  # noqa: E402
from issue import issue  # noqa: E402

DATABASE = 'portico_bench_ksef'
LINES = [("Wdrożenie systemu", 8, '180.00', '23'),
    ("Licencja", 1, '1200.00', '23'), ("Szkolenie", 1, '900.00', 'zw')]
TOKEN = 'bench-token'


def prepare(drafts, url):
    "The firm, the client, its drafts, KSeF settings; the draft ids"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from client_portal.demo import create_client, nip, setup_firm
    from client_portal.demo_outgoing import (
        create_contractor, create_invoice_template, editor_form)
    from ksef.demo import configure_demo
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    Invoice = pool.get('account.invoice')
    firm = setup_firm(datetime.date.today(), logo=False)
    client = create_client(firm, "Bench Issuer sp. z o.o.",
        nip('677231994'), "ul. Testowa 1", '00-001', "Warszawa",
        'issuer@example.com', '1')
    Subaccount.create_for([client], [firm.pln])
    template = create_invoice_template(firm, "Bench", 'BENCH', [client])
    buyer = create_contractor(firm, client, "Odbiorca sp. z o.o.",
        "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'))
    configure_demo(url, token=TOKEN)
    with Transaction().set_context(company=firm.company.id):
        return [Invoice.portal_save_draft(client, editor_form(
                    firm, client, template, buyer, LINES)).id
            for _ in range(drafts)]


def send(ids):
    """Run the outbox, as the cron does, until the invoices are accepted;
    returns (seconds, runs, statuses)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    started = time.perf_counter()
    runs = 0
    while True:
        with Transaction().start(DATABASE, 0) as transaction:
            Outbox = Pool().get('ksef.outbox')
            Outbox.process()
            transaction.commit()
        runs += 1
        with Transaction().start(DATABASE, 0, readonly=True):
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Outbox = pool.get('ksef.outbox')
            statuses = [i.ksef_status for i in Invoice.browse(ids)]
            waiting = Outbox.search([('state', 'in', ['queued', 'sent'])],
                order=[('next_attempt_at', 'ASC NULLS FIRST')], limit=1)
            due = waiting[0].next_attempt_at if waiting else None
        if all(s in {'accepted', 'rejected'} for s in statuses):
            return time.perf_counter() - started, runs, statuses
        if due:
            # What the cron would do a minute later, without the minute
            time.sleep(min(max(
                        (due - datetime.datetime.now()).total_seconds(), 0),
                    60))


def unlimit_status_delay():
    "Poll the status at once: the emulator decides without delay"
    from ksef import outbox
    outbox.STATUS_DELAY = datetime.timedelta(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--count', type=int, default=40,
        help='invoices sent with KSeF\'s rate limits on')
    parser.add_argument('--unlimited', type=int, default=100,
        help='invoices sent with the limits off')
    args = parser.parse_args()

    common.load_config()
    import generate
    from tests.ksef_emulator import Emulator, ratelimit
    generate.fresh_database(DATABASE)
    from ksef import fa3

    inside = []
    build = fa3.build

    def timed_build(invoice):
        started = time.perf_counter()
        try:
            return build(invoice)
        finally:
            inside.append(time.perf_counter() - started)
    fa3.build = timed_build
    unlimit_status_delay()

    total = args.count + args.unlimited
    from client_portal.demo import FIRM_NIP
    with Emulator(nip=FIRM_NIP, tokens=[TOKEN],
            rate_limits=ratelimit.parse('ksef'), seed=False) as emulator:
        started = time.monotonic()
        ids = generate.run(DATABASE, prepare, total, emulator.base_url)
        generate.log(f'{len(ids)} drafts', started)
        # Each batch issued just before it is sent: the outbox sends
        # whatever is due
        first, second = ids[:args.count], ids[args.count:]
        issued = issue(first, render=False, database=DATABASE)
        limited, limited_runs, statuses = send(first)
        emulator.set_rate_limits({})
        issued += issue(second, render=False, database=DATABASE)
        unlimited, _, more = send(second) if second \
            else (float('nan'), 0, [])
        received = len(emulator.invoices())

    xml = sum(inside)
    accepted = statuses.count('accepted') + more.count('accepted')
    print(f"""
== issue (PostgreSQL, one process, one transaction per issue)
  {total} in {issued:.1f} s = {1000 * issued / total:.1f} ms each
  FA(3) XML built and validated: {1000 * xml / len(inside):.1f} ms each, {100 * xml / issued:.0f} % of the issue
== sending through the outbox to the emulator
  KSeF's limits on:  {args.count} in {limited:.1f} s = {60 * args.count / limited:.1f} invoices/min ({limited_runs} runs)
  limits off:        {args.unlimited} in {unlimited:.1f} s = {60 * args.unlimited / unlimited:.1f} invoices/min
  accepted {accepted} of {total}; the emulator holds {received} (no double)""")


if __name__ == '__main__':
    main()
