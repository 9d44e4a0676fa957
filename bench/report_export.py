"""Reports and exports on the benchmark database (bench/generate.py: 200
clients × 500 documents, 100,000 rows of the report layer):

  client    a client's full-history XLSX and CSV, through the portal's
            export route (logged in, its record rules), time and size
  firm      every row of the report layer as XLSX and CSV, the file the
            staff's and the queue's exports write: time and peak extra RSS
            (the process's high-water mark, reset before each export)
  register  the accountant's sales VAT register (the wizard's XLSX) of
            last month and of the year, time and peak extra RSS
  pages     the report pages of a client with 500 documents, sequential
            requests in this process: p50 / p95 wall time

Goals: 100k-row XLSX <= 10 s and <= 150 MB extra RSS; the report pages
within the portal's page budget (p95 <= 60 ms, bench/README.md).

    .venv/bin/python bench/report_export.py [--database portico_bench]
        [--only firm|register|pages]
"""
import argparse
import datetime
import functools
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MB = 1024 * 1024


def rss_peak_reset():
    "Reset the high-water mark of the resident set (Linux clear_refs 5)"
    with open('/proc/self/clear_refs', 'w') as file:
        file.write('5')


def rss():
    "(current, peak) resident set in bytes"
    values = {}
    with open('/proc/self/status') as file:
        for line in file:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                values[key] = int(value.split()[0]) * 1024
    return values['VmRSS'], values['VmHWM']


def measured(label, func):
    "Run func, print its time, file size and peak extra RSS; the result"
    import gc
    gc.collect()
    rss_peak_reset()
    before, _ = rss()
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    _, peak = rss()
    size = len(result) if isinstance(result, bytes) else None
    print(f'  {label:<38} {elapsed:7.2f} s  peak +{(peak - before) / MB:6.1f}'
        f' MB' + (f'  {size / MB:6.2f} MB file' if size else ''))
    return elapsed, (peak - before) / MB, result


def firm_exports(database):
    "Every row of the report layer as XLSX and CSV, as the system"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from client_portal.web.reports import build_file
    figures = {}
    with Transaction().start(database, 0, readonly=True):
        pool = Pool()
        Line = pool.get('portal.report.line')
        count = Line.search_count([])
        print(f'  report layer rows: {count}')
        for format in ('xlsx', 'csv'):
            def export():
                file, _ = build_file(pool, {}, format, 'pl')
                with file:
                    return file.read()
            elapsed, peak, content = measured(
                f'{count} rows, {format.upper()}', export)
            figures[format] = (count, elapsed, peak)
            if format == 'xlsx':
                check_xlsx(content, count)
    return figures


def check_xlsx(content, count):
    "The file holds the rows and the totals (opened, rows counted)"
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = sum(1 for _ in book.active.iter_rows(values_only=True))
    assert rows >= count + 1, (rows, count)


def register(database, year):
    """The sales VAT register the accountant's wizard writes: of the month
    before this one, what accountants run most, and of a whole year, the
    goal's (<= 30 s, <= 150 MB extra RSS)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    first = datetime.date.today().replace(day=1)
    month_end = first - datetime.timedelta(days=1)
    periods = [
        (f'sales register {month_end:%Y-%m}, XLSX',
            month_end.replace(day=1), month_end),
        (f'sales register {year}, XLSX',
            datetime.date(year, 1, 1), datetime.date(year, 12, 31)),
        ]
    # The wizard keeps its session in a table: rolled back at the end
    with Transaction().start(database, 0, context={'language': 'pl'}) as tx:
        pool = Pool()
        Wizard = pool.get('portal.vat_register', type='wizard')
        Company = pool.get('company.company')
        company, = Company.search([], limit=1)
        for label, from_date, to_date in periods:
            session_id, _, _ = Wizard.create()

            def export():
                with Transaction().set_context(company=company.id):
                    result = Wizard.execute(session_id, {'start': {
                                'company': company.id, 'register': 'sales',
                                'from_date': from_date, 'to_date': to_date,
                                'client': None}}, 'result')
                return bytes(result['view']['defaults']['file'])
            elapsed, peak, _ = measured(label, export)
        tx.rollback()
    ok = elapsed <= 30 and peak <= 150
    print(f"  {'PASS' if ok else 'MISS'}  sales register {year} <= 30 s and"
        f" <= 150 MB extra RSS ({elapsed:.2f} s, {peak:.1f} MB)")
    return elapsed, peak


def client_pages(database, email, repeat):
    """A client's report pages and full-history exports through the
    portal's routes, in this process"""
    from werkzeug.test import Client

    from trytond.wsgi import app
    client = Client(app)
    # The portal's cookies are Secure: the requests say https
    get = functools.partial(client.get, base_url='https://localhost')
    base = f'/{database}/portal/'
    get(base + 'login')
    csrf = client.get_cookie('portal_csrf', domain='localhost',
        path=f'/{database}').value
    response = client.post(base + 'login', base_url='https://localhost',
        data={'email': email, 'password': common.PASSWORD,
            'csrf_token': csrf})
    assert response.status_code == 303, response.status_code
    figures = {}
    for format in ('xlsx', 'csv'):
        start = time.perf_counter()
        response = get(base + f'reports/export.{format}')
        content = response.get_data()
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        print(f'  client full history, {format.upper():<17}'
            f' {elapsed:7.2f} s  {len(content) / 1024:8.1f} KB')
        figures[f'client_{format}'] = elapsed
    year = datetime.date.today().year
    for page in ['reports', 'reports?sort=total&dir=desc&page=3',
            'reports?method=transfer&per_page=100',
            f'reports/monthly?year={year}', 'reports/cash']:
        times = []
        for n in range(repeat + 2):
            start = time.perf_counter()
            response = get(base + page)
            response.get_data()
            if n >= 2:      # the first requests warm the caches
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, (page, response.status_code)
        times.sort()
        p50 = times[len(times) // 2] * 1000
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))] * 1000
        print(f'  page {page:<44} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms')
        figures[page] = p95
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', default=common.DEFAULT_DATABASE)
    parser.add_argument('--repeat', type=int, default=30)
    parser.add_argument('--only', choices=['firm', 'register', 'pages'],
        help="run this part only")
    args = parser.parse_args()
    common.load_config()
    from trytond.pool import Pool
    Pool.start()
    Pool(args.database).init()
    if args.only in {None, 'firm'}:
        print('== firm-wide exports (the 100k-row files)')
        firm = firm_exports(args.database)
    if args.only in {None, 'register'}:
        print('== accountant: sales VAT register')
        year = datetime.date.today().year
        register(args.database, year)
    if args.only in {None, 'pages'}:
        print('== a client with 500 documents')
        pages = client_pages(args.database, common.client_email(1),
            args.repeat)
    goals = []
    if args.only in {None, 'firm'}:
        count, xlsx_time, xlsx_peak = firm['xlsx']
        goals += [
            (f'{count}-row XLSX <= 10 s ({xlsx_time:.2f} s)',
                xlsx_time <= 10),
            (f'{count}-row XLSX <= 150 MB extra RSS ({xlsx_peak:.1f} MB)',
                xlsx_peak <= 150)]
    if args.only in {None, 'pages'}:
        worst = max(v for k, v in pages.items()
            if not k.startswith('client_'))
        # The pages' p95 are in milliseconds
        goals.append((f'report pages p95 <= 60 ms (worst'
                f' {worst:.1f} ms)', worst <= 60))
    if goals:
        print('== goals')
    for goal, ok in goals:
        print(f"  {'PASS' if ok else 'MISS'}  {goal}")


if __name__ == '__main__':
    main()
