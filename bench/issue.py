"""Issuing the clients' own invoices, on PostgreSQL: issues per second
without and with the PDF, and the invoice editor's live recalculation.

    .venv/bin/python bench/issue.py [--drafts 300] [--pdf 20] [--recalc 300]

1. A database `portico_bench_issue` made from the template of
   bench/generate.py (modules activated; built if missing, ~2 min): the
   demo firm, one client with PLN and EUR sub-accounts, a template, a
   contractor, a portal user, and --drafts + --pdf drafts of three lines.
2. Issue, one transaction per draft as a portal request does, one after
   the other: --drafts drafts without rendering the PDF (number, NBP rate,
   moves, status), then --pdf drafts with it (WeasyPrint, stored).
3. The editor's recalculation (POST /invoices/recalculate, 10 lines, as
   htmx sends it while the client types), --recalc times in-process:
   wall time per request, p50 and p95.

Goals (issue "Clients issue their own invoices…"): ≥ 20 issues/s without
the PDF; recalculation p95 ≤ 50 ms."""
import argparse
import datetime
import os
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), 'tests'))
import common  # noqa: E402

DATABASE = 'portico_bench_issue'
EMAIL = 'issuer@bench.example.com'
LINES = [("Wdrożenie systemu", 8, '180.00', '23'),
    ("Licencja", 1, '1200.00', '23'), ("Szkolenie", 1, '900.00', 'zw')]


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def prepare(drafts):
    "The firm, the client and its drafts; returns (client id, draft ids)"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from client_portal.demo import (
        create_client, create_portal_user, nip, setup_firm)
    from client_portal.demo_outgoing import (
        create_contractor, create_invoice_template, editor_form)
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    Invoice = pool.get('account.invoice')
    firm = setup_firm(datetime.date.today(), logo=False)
    client = create_client(firm, "Bench Issuer sp. z o.o.",
        nip('677231994'), "ul. Testowa 1", '00-001', "Warszawa",
        'issuer@example.com', '1')
    Subaccount.create_for([client], [firm.pln, firm.eur])
    template = create_invoice_template(firm, "Bench", 'BENCH', [client])
    buyer = create_contractor(firm, client, "Odbiorca sp. z o.o.",
        "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'))
    create_portal_user(client, EMAIL, common.PASSWORD)
    with Transaction().set_context(company=firm.company.id):
        ids = [Invoice.portal_save_draft(client, editor_form(
                    firm, client, template, buyer, LINES)).id
            for _ in range(drafts)]
    return client.id, template.id, buyer.id, ids


def issue(ids, render, database=DATABASE):
    """Issue each draft in its own transaction, restarted as the portal's
    dispatcher does when it first meets a lock; returns the seconds taken.
    Without the PDF the queued tasks after commit (trytond's own
    print_invoice, the e-mail, the KSeF outbox) are not run: they are not
    the issue."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    from trytond.worker import run_task
    started = time.perf_counter()
    for invoice_id in ids:
        extras = {}
        while True:
            with Transaction().start(database, 0, **extras) as transaction:
                Invoice = Pool().get('account.invoice')
                try:
                    Invoice.portal_issue(Invoice(invoice_id), render=render)
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    continue
                transaction.commit()
            while transaction.tasks:
                task = transaction.tasks.pop()
                if render:
                    run_task(database, task)
            break
    return time.perf_counter() - started


def recalculation(template_id, buyer_id, count):
    "Wall time of each recalculation request, in ms"
    from portal_http import Browser
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 0, readonly=True):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Tax = pool.get('account.tax')
        unit = ModelData.get_id('product', 'uom_hour')
        taxes = [t.id for t in Tax.search([
                    ('portal_vat_code', 'in', ['23', '8', 'zw']),
                    ('group.kind', '=', 'sale')])]
    browser = Browser(DATABASE)
    browser.login(EMAIL, common.PASSWORD)
    form = {
        'contractor': str(buyer_id), 'template': str(template_id),
        'currency': 'PLN', 'kind': 'invoice'}
    for i in range(10):
        form.update({
                f'lines-{i}-description': f"Pozycja {i + 1}",
                f'lines-{i}-quantity': str(i + 1),
                f'lines-{i}-price': f'{100 + i * 7.25:.2f}',
                f'lines-{i}-tax': str(taxes[i % len(taxes)]),
                f'lines-{i}-unit': str(unit),
                })
    times = []
    for n in range(count + 20):
        form['lines-0-quantity'] = str(1 + n % 9)
        started = time.perf_counter()
        response = browser.post('invoices/recalculate', data=form,
            headers={'HX-Request': 'true'})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        if n >= 20:     # warm-up: caches, compiled templates
            times.append(elapsed)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--drafts', type=int, default=300)
    parser.add_argument('--pdf', type=int, default=20)
    parser.add_argument('--recalc', type=int, default=300)
    args = parser.parse_args()

    common.load_config()
    import generate
    generate.fresh_database(DATABASE)
    started = time.monotonic()
    client_id, template_id, buyer_id, ids = generate.run(
        DATABASE, prepare, args.drafts + args.pdf)
    generate.log(f'{len(ids)} drafts', started)

    plain = issue(ids[:args.drafts], render=False)
    with_pdf = issue(ids[args.drafts:], render=True)
    times = recalculation(template_id, buyer_id, args.recalc)

    rate = args.drafts / plain
    pdf_rate = args.pdf / with_pdf if args.pdf else float('nan')
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(f"""
== issue (PostgreSQL, one process, one transaction per issue)
  without PDF: {args.drafts} in {plain:.1f} s = {rate:.1f} issues/s ({1000 / rate:.1f} ms each)
  with PDF:    {args.pdf} in {with_pdf:.1f} s = {pdf_rate:.1f} issues/s ({1000 / pdf_rate:.0f} ms each)
== recalculation (POST /invoices/recalculate, 10 lines, {args.recalc} requests)
  p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(times):.1f} ms
== goals
  {'PASS' if rate >= 20 else 'MISS'}  ≥ 20 issues/s without PDF ({rate:.1f})
  {'PASS' if p95 <= 50 else 'MISS'}  recalculation p95 ≤ 50 ms ({p95:.1f} ms)""")


if __name__ == '__main__':
    main()
