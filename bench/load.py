"""Load test of the portal's documents page (GET /<db>/portal/documents).

Starts the portal in this process (werkzeug's threaded WSGI server serving
trytond.application.app on 127.0.0.1, HTTP/1.1 keep-alive), logs 20
different clients in (20 sessions), then (steps 1-3 and 5 against this one
process):

  1. queries per page: each page variant requested (twice, the second one
     counted) by a client with 500 documents and by the small client with 5;
     every statement executed by the request's thread is counted by a wrapper
     around psycopg's Cursor.execute (the pool's empty "check" statement is
     counted apart)
  2. EXPLAIN (ANALYZE, BUFFERS) of the page's main query (the portal_document
     search with the record rule, as the page executed it) and of its count
  3. baseline: one client, one request at a time, every variant
  4. load: --processes server processes (each its own werkzeug threaded
     server on its own port, started like the one above), and --workers
     workers (threads of a separate client process, one keep-alive
     connection and one session each) spread round-robin over their ports,
     request the page variants in a fixed mix for a warm-up then a measured
     duration; requests/s, latency percentiles, errors, server CPU per
     request (summed over the server processes), SQL time per request
  5. optional: cProfile of the server for sequential requests (--profile)

Everything stays on 127.0.0.1; the load is bounded by --duration.
--experiment patches the servers to try a proposal (nothing under addons/
is written); bench/ab.py compares them interleaved in one process.
"""
import argparse
import cProfile
import http.client
import http.cookies
import io
import json
import os
import pstats
import re
import statistics
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# Page variants: name -> query string, and the mix of the load (weights)
VARIANTS = {
    'first': {},
    'page7': {'page': '7'},
    'unpaid': {'tab': 'unpaid'},
    'sort_total': {'sort': 'total', 'dir': 'desc'},
    # a number fragment: a year of documents (the small client has 2)
    'search': {'q': 'FV/2025'},
    }
MIX = ['first'] * 8 + ['page7'] * 3 + ['unpaid'] * 4 + ['sort_total'] * 3 \
    + ['search'] * 2


# ------------------------------------------------------------ server side

class Stats:
    __slots__ = ('count', 'empty', 'sql_time', 'statements', 'render_cpu')

    def __init__(self, record=False):
        self.render_cpu = 0.0
        self.count = 0
        self.empty = 0
        self.sql_time = 0.0
        self.statements = [] if record else None


_local = threading.local()
RECORDED = {}       # X-Bench-Id -> [(query, params)]
PROFILE = None      # cProfile.Profile while --profile requests run
SERVED = [0]        # requests answered by this process (bench_app)
STATS_PATH = '/bench-stats'
GC_TIME = [0.0, 0, None]    # seconds in the cyclic GC, collections, start


def _gc_callback(phase, info):
    "Time spent in Python's cyclic garbage collector (gc.callbacks)"
    if phase == 'start':
        GC_TIME[2] = time.perf_counter()
    elif GC_TIME[2] is not None:
        GC_TIME[0] += time.perf_counter() - GC_TIME[2]
        GC_TIME[1] += 1
        GC_TIME[2] = None


def install_counter():
    "Count the statements each thread executes (psycopg Cursor.execute)"
    import psycopg
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kwargs):
        stats = getattr(_local, 'stats', None)
        if stats is None:
            return original(self, query, params, **kwargs)
        started = time.perf_counter()
        try:
            return original(self, query, params, **kwargs)
        finally:
            stats.sql_time += time.perf_counter() - started
            if query == '':
                stats.empty += 1  # psycopg_pool's check of the connection
            else:
                stats.count += 1
                if stats.statements is not None:
                    stats.statements.append((str(query), params))
    psycopg.Cursor.execute = execute


def install_render_timer():
    """CPU time of the request's thread in the template rendering
    (client_portal.web.render.render: Genshi generate and serialise, with
    the lazy ORM reads the template triggers)"""
    from client_portal.web import render as module
    original = module.render

    def render(*args, **kwargs):
        stats = getattr(_local, 'stats', None)
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            if stats is not None:
                stats.render_cpu += time.thread_time() - started
    module.render = render


def bench_app(app):
    "WSGI middleware: per-request counters returned as response headers"
    lock = threading.Lock()

    def wrapper(environ, start_response):
        if environ.get('PATH_INFO') == STATS_PATH:
            return process_stats(start_response)
        request_id = environ.get('HTTP_X_BENCH_ID')
        stats = Stats(record=bool(request_id))
        _local.stats = stats
        profile = PROFILE if environ.get('HTTP_X_BENCH_PROFILE') else None
        started = time.perf_counter()
        cpu = time.thread_time()

        def start(status, headers, exc_info=None):
            headers = list(headers) + [
                ('X-Bench-Queries', str(stats.count)),
                ('X-Bench-Checks', str(stats.empty)),
                ('X-Bench-SQL-us', str(int(stats.sql_time * 1e6))),
                ('X-Bench-App-us',
                    str(int((time.perf_counter() - started) * 1e6))),
                ('X-Bench-CPU-us',
                    str(int((time.thread_time() - cpu) * 1e6))),
                ('X-Bench-Render-us', str(int(stats.render_cpu * 1e6))),
                ]
            return start_response(status, headers, exc_info)
        try:
            if profile is not None:
                profile.enable()
            try:
                return app(environ, start)
            finally:
                if profile is not None:
                    profile.disable()
        finally:
            _local.stats = None
            with lock:
                SERVED[0] += 1
            if request_id:
                RECORDED[request_id] = stats.statements
    return wrapper


def process_stats(start_response):
    """GET /bench-stats: this server process's CPU time (os.times) and the
    number of requests it has answered, so that the load can sum them over
    the server processes"""
    times = os.times()
    body = json.dumps({'pid': os.getpid(), 'requests': SERVED[0],
            'cpu': times.user + times.system, 'time': time.monotonic(),
            'gc_s': GC_TIME[0], 'gc_count': GC_TIME[1],
            }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
            ('Content-Length', str(len(body)))])
    return [body]


EXPERIMENTS = {
    'i18n': "template strings translated once per process and language "
        "(_Gettext memoised) (proposal 1)",
    'gc': "gc.freeze() once the pool is loaded (what is loaded at start "
        "is no longer scanned by every full collection) and the youngest "
        "generation collected every 50,000 allocations instead of 700 "
        "(proposal 5; a deployment setting: gunicorn post_fork or the WSGI "
        "entry point)",
    'rows': "the 25 table rows of documents_results.html built by one "
        "Python function (escaped strings joined, returned as Markup) "
        "instead of ~40 Genshi events and 13 expressions per row; the rest "
        "of the page stays Genshi (proposal 2)",
    'today': "portal.document.today() memoised per transaction, so that "
        "get_overdue does not run ir.date.today() for every issued row "
        "(no measurable effect since load_branding reads the company's "
        "timezone)",
    }


def apply_experiments(database, names):
    """Proposals for code outside bench/, tried by patching the running
    server (nothing is written to addons/). Returns a function that undoes
    the patches (bench/ab.py alternates them in one process)"""
    import weakref
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(database)
    undo = []
    for name in names:
        if name == 'i18n':
            from client_portal.web import render
            saved = {k: render._Gettext.__dict__[k]
                for k in ('__call__', 'gettext', 'ugettext')}

            def gettext(self, text, original=saved['__call__'], memo={}):
                key = (Transaction().language, tuple(self.names), text)
                try:
                    return memo[key]
                except KeyError:
                    value = memo[key] = original(self, text)
                    return value
            render._Gettext.__call__ = gettext
            render._Gettext.gettext = render._Gettext.ugettext = gettext
            undo.append(lambda saved=saved, cls=render._Gettext: [
                    setattr(cls, k, v) for k, v in saved.items()])
        elif name == 'gc':
            import gc
            threshold = gc.get_threshold()
            gc.collect()
            gc.freeze()
            gc.set_threshold(50000, *threshold[1:])
            undo.append(lambda threshold=threshold: (
                    gc.unfreeze(), gc.set_threshold(*threshold)))
        elif name == 'rows':
            undo.append(_rows_experiment())
        elif name == 'today':
            Document = pool.get('portal.document')
            memo = weakref.WeakKeyDictionary()
            own = 'today' in Document.__dict__
            saved = Document.__dict__.get('today')

            def today(cls, original=Document.today.__func__, memo=memo):
                transaction = Transaction()
                key = transaction.context.get('company')
                cache = memo.setdefault(transaction, {})
                if key not in cache:
                    cache[key] = original(cls)
                return cache[key]
            Document.today = classmethod(today)
            undo.append(lambda cls=Document, own=own, saved=saved: (
                    setattr(cls, 'today', saved) if own
                    else delattr(cls, 'today')))
        else:
            raise SystemExit(f'unknown experiment {name}: '
                f'{", ".join(EXPERIMENTS)}')

    def undo_all():
        for function in reversed(undo):
            function()
    return undo_all


ROW_LOOP = re.compile(r'<tr py:for="d in documents".*?</tr>', re.S)


def _rows_experiment():
    """--experiment rows: documents_results.html with its row loop replaced
    by ${bench_rows(documents)} (a copy under bench/var/templates-rows,
    searched before addons/), and bench_rows added to the context"""
    from genshi.core import Markup, escape
    from genshi.template import MarkupTemplate, TemplateLoader
    from client_portal.web import render as module
    folder = os.path.join(common.BENCH, 'var', 'templates-rows')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(module.TEMPLATES, 'documents_results.html')) as f:
        source = f.read()
    loop = ROW_LOOP.findall(source)
    cells = ROW_CELL.findall(loop[0]) if len(loop) == 1 else []
    source, found = ROW_LOOP.subn('${bench_rows(documents)}', source)
    known = {'number', 'date', 'due_date', 'document_type', 'currency',
        'tax_base', 'vat', 'total', 'paid', 'remaining',
        'first_downloaded_at'}
    if found != 1 or not cells or not {n for n, _ in cells} <= known:
        raise SystemExit('--experiment rows: the row loop of '
            'documents_results.html was not found')
    with open(os.path.join(folder, 'documents_results.html'), 'w') as f:
        f.write(source)
    loader = TemplateLoader([folder, module.TEMPLATES], auto_reload=False,
        default_class=MarkupTemplate, callback=module._install_translator,
        max_cache_size=100)
    saved = module.loader, module.render
    module.loader = lambda: loader
    original = module.render

    def render(template, partial=False, **context):
        if 'documents' in context:
            context['bench_rows'] = _row_builder(context, Markup, escape,
                module, cells)
        return original(template, partial=partial, **context)
    module.render = render

    def undo():
        module.loader, module.render = saved
    return undo


ROW_CELL = re.compile(
    r'<td data-label="\$\{labels\[\'(\w+)\'\]\}"(?: class="([^"]*)")?>')


def _row_builder(context, Markup, escape, module, cells):
    """The <tr> of each document, as documents_results.html writes it:
    cells = [(column, class)] in the template's order"""
    names = [module.report_name('documents_results.html')]
    names += [n for n in getattr(module, 'INCLUDED', []) if n not in names]
    gettext = module._Gettext(names)

    def escape(value, markup_escape=escape):
        "A plain str: Markup + str would escape the str"
        return str(markup_escape(value))
    overdue_text = escape(gettext('overdue'))
    pdf_text = escape(gettext('PDF'))
    labels = {k: escape(v) for k, v in context['labels'].items()}
    types = context['document_types']
    url = context['portal'].url
    date, amount = context['format_date'], context['format_amount']
    datetime_ = context['format_datetime']

    def value(d, name, overdue):
        if name == 'number':
            return (f'<a href="{escape(url("documents/%s" % d.id))}">'
                f'{escape(d.number)}</a>')
        if name == 'date':
            return escape(date(d.date))
        if name == 'due_date':
            return escape(date(d.due_date)) + (
                f'<span class="badge text-bg-danger ms-1">{overdue_text}'
                '</span>' if overdue else '')
        if name == 'document_type':
            return escape(types[d.document_type])
        if name == 'currency':
            return escape(d.currency.code)
        if name == 'first_downloaded_at':
            return (escape(datetime_(d.first_downloaded_at))
                if d.first_downloaded_at else '—')
        return escape(amount(getattr(d, name), d.currency))
    prefixes = [(name, f'<td data-label="{labels[name]}"'
            + (f' class="{css}">' if css else '>')) for name, css in cells]

    def rows(documents):
        out = []
        for d in documents:
            overdue = d.overdue
            out.append(f'<tr class="{"table-danger" if overdue else ""}">')
            for name, prefix in prefixes:
                out.append(prefix + value(d, name, overdue) + '</td>')
            out.append('<td class="portal-download"><a class="btn btn-sm '
                'btn-outline-primary" href="'
                f'{escape(url("documents/%s.pdf" % d.id))}" download="">'
                f'{pdf_text}</a></td></tr>')
        return Markup(''.join(out))
    return rows


def start_server(database, port, experiments=()):
    import gc
    gc.callbacks.append(_gc_callback)
    common.load_config()
    os.environ['TRYTOND_DATABASE_NAMES'] = database
    install_counter()
    from trytond.application import app  # initialises the pool
    apply_experiments(database, experiments)
    install_render_timer()
    import logging
    from werkzeug.serving import WSGIRequestHandler, make_server
    logging.getLogger('werkzeug').setLevel(logging.ERROR)

    class Handler(WSGIRequestHandler):
        protocol_version = 'HTTP/1.1'   # keep-alive

        def log_request(self, *args, **kwargs):
            pass

    server = make_server('127.0.0.1', port, bench_app(app), threaded=True,
        request_handler=Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True,
        name='wsgi-server')
    thread.start()
    return server


def server_process(database, experiments, ready, stop):
    """A load server: its own process (own GIL, own trytond pool and
    connection pool), started exactly like the in-process one, on a port
    of its own (chosen by the system)"""
    try:
        server = start_server(database, 0, experiments)
    except BaseException as exception:
        ready.put((os.getpid(), None, repr(exception)))
        raise
    ready.put((os.getpid(), server.server_port, None))
    stop.wait()
    server.shutdown()


def server_stats(port):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    try:
        connection.request('GET', STATS_PATH)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


# ------------------------------------------------------------ client side

class Client:
    "One keep-alive HTTP connection with its cookies"

    def __init__(self, port, database):
        self.port = port
        self.database = database
        self.cookies = {}
        self.connection = http.client.HTTPConnection(
            '127.0.0.1', port, timeout=60)

    def url(self, path, query=None):
        url = f'/{self.database}/portal/{path}'
        if query:
            url += '?' + urllib.parse.urlencode(query)
        return url

    def request(self, method, url, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers['Cookie'] = '; '.join(
                f'{k}={v}' for k, v in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        for attempt in range(2):
            try:
                self.connection.request(method, url, body, headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                if attempt:
                    raise
        for header in response.headers.get_all('Set-Cookie') or []:
            cookie = http.cookies.SimpleCookie(header)
            for name, morsel in cookie.items():
                if morsel['max-age'] == '0' or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response, data

    def login(self, email, password):
        self.request('GET', self.url('login'))
        response, _ = self.request('POST', self.url('login'), body={
                'email': email, 'password': password,
                'csrf_token': self.cookies.get('portal_csrf', ''),
                })
        if response.status != 303 or 'portal_session' not in self.cookies:
            raise RuntimeError(
                f'login of {email} failed: HTTP {response.status}')
        return self.cookies['portal_session']


def page_ok(response, data):
    return response.status == 200 and b'id="results"' in data


def worker_process(ports, database, sessions, duration, warmup, offsets,
        queue, think=0, start=None):
    """Runs in a separate process (its own GIL): one thread per session,
    each a closed loop of keep-alive requests over the variant mix; the
    sessions are spread round-robin over the server ports (session i on
    ports[i % len(ports)]), as a reverse proxy spreads users over workers.
    start: time.monotonic() (system-wide) at which the warm-up begins"""
    if start is None:
        start = time.monotonic() + 0.5
    measure_from = start + warmup
    measure_to = measure_from + duration
    results = [None] * len(sessions)

    def run(index, session):
        port = ports[index % len(ports)]
        client = Client(port, database)
        client.cookies = {'portal_session': session}
        rows = []
        i = offsets[index]
        while time.monotonic() < start:
            time.sleep(0.001)
        while True:
            variant = MIX[i % len(MIX)]
            i += 1
            url = client.url('documents', VARIANTS[variant])
            began = time.monotonic()
            try:
                response, data = client.request('GET', url)
                status = response.status
                if status == 200 and not page_ok(response, data):
                    status = 597    # 200 without the documents table
                queries = int(response.headers.get('X-Bench-Queries', -1))
                sql_us = int(response.headers.get('X-Bench-SQL-us', 0))
                cpu_us = int(response.headers.get('X-Bench-CPU-us', 0))
            except Exception:
                status, queries, sql_us, cpu_us = 0, -1, 0, 0
                client = Client(port, database)
                client.cookies = {'portal_session': session}
            ended = time.monotonic()
            if measure_from <= began < measure_to:
                rows.append((variant, (ended - began) * 1000, status,
                        queries, sql_us, cpu_us, port))
            if ended >= measure_to:
                break
            if think:
                time.sleep(think)
        results[index] = rows

    threads = [threading.Thread(target=run, args=(i, s))
        for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    # this client process's own CPU over the measured window: it shares
    # the machine's cores with the servers
    time.sleep(max(0, measure_from - time.monotonic()))
    before = os.times()
    time.sleep(max(0, measure_to - time.monotonic()))
    after = os.times()
    client_cpu = (after.user - before.user + after.system - before.system)
    for thread in threads:
        thread.join()
    queue.put(([row for rows in results for row in rows], client_cpu))


# ------------------------------------------------------------ measurements

def percentile(values, p):
    if not values:
        return float('nan')
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


def latency_line(values):
    return (f'n={len(values):6d}  p50={percentile(values, 50):7.1f}  '
        f'p95={percentile(values, 95):7.1f}  '
        f'p99={percentile(values, 99):7.1f}  '
        f'max={max(values) if values else float("nan"):7.1f} ms')


def count_queries(port, database, sessions, names):
    """Statements per page variant for each client; the second request of
    each pair is the one counted (the first one fills per-user caches)"""
    table = {}
    recorded = {}
    for label, session in sessions.items():
        client = Client(port, database)
        client.cookies = {'portal_session': session}
        for variant in names:
            for attempt in range(2):
                request_id = f'{label}-{variant}-{attempt}'
                response, data = client.request(
                    'GET', client.url('documents', VARIANTS[variant]),
                    headers={'X-Bench-Id': request_id})
                if not page_ok(response, data):
                    raise RuntimeError(f'{label} {variant}: HTTP '
                        f'{response.status}')
            table[(label, variant)] = (
                int(response.headers['X-Bench-Queries']),
                int(response.headers['X-Bench-Checks']),
                _rows_shown(data))
            recorded[(label, variant)] = RECORDED.pop(request_id)
    return table, recorded


def statement_difference(big, little):
    """The tables read by one client's page and not (as often) by the
    other's: tells a per-row statement from a data-dependent one"""
    from collections import Counter

    def tables(statements):
        return Counter(
            (re.findall(r'FROM "([^"]+)"', str(q)) or ['?'])[0]
            for q, _ in statements)
    big, little = tables(big), tables(little)
    return [f'{n:+d} on {t} for the client with 500 documents'
        for t in sorted(set(big) | set(little))
        for n in [big[t] - little[t]] if n]


def _rows_shown(data):
    "The number of documents the page says it found (-1: not found)"
    match = re.search(rb'role="status"[^>]*>(.*?)</p>', data, re.S)
    if match:
        text = re.sub(rb'<[^>]*>', b'', match.group(1)).decode()
        numbers = re.findall(r'\d[\d\s\u00a0]*', text)
        if numbers:
            return int(re.sub(r'\D', '', numbers[-1]))
    return -1


def main_queries(statements):
    "The page's search (with LIMIT) and count on portal_document"
    search = count = None
    for query, params in statements:
        if 'FROM "portal_document"' not in query:
            continue
        if query.lstrip().upper().startswith('SELECT COUNT') or \
                'COUNT(' in query.upper().split('FROM')[0]:
            count = count or (query, params)
        elif 'LIMIT' in query.upper() and search is None:
            search = (query, params)
    return search, count


def explain(database, query, params, repeat=5):
    "EXPLAIN (ANALYZE, BUFFERS) a statement as psycopg sent it"
    import psycopg
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        sql = psycopg.ClientCursor(conn).mogrify(query, params)
        times, plan = [], None
        for _ in range(repeat):
            cursor = conn.execute(
                'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' + sql)
            result = cursor.fetchone()[0][0]
            times.append(result['Execution Time'])
            plan = result
    nodes = []

    def walk(node):
        nodes.append(node)
        for child in node.get('Plans', []):
            walk(child)
    walk(plan['Plan'])
    indexes = sorted({n['Index Name'] for n in nodes if 'Index Name' in n})
    seq_scans = sorted({n['Relation Name'] for n in nodes
            if n['Node Type'] == 'Seq Scan'})
    buffers = plan['Plan'].get('Shared Hit Blocks', 0) + plan['Plan'].get(
        'Shared Read Blocks', 0)
    return {
        'sql': sql,
        'execution_ms': statistics.median(times),
        'planning_ms': plan['Planning Time'],
        'indexes': indexes,
        'seq_scans': seq_scans,
        'buffers': buffers,
        'rows': plan['Plan'].get('Actual Rows'),
        'text': _explain_text(database, sql),
        }


def _explain_text(database, sql):
    import psycopg
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        return '\n'.join(r[0] for r in conn.execute(
                'EXPLAIN (ANALYZE, BUFFERS) ' + sql))


# Baseline only: the first page as htmx asks for it (HX-Request: the
# results fragment without the layout and the filter form)
BASELINE_EXTRA = {'first_htmx': ({}, {'HX-Request': 'true'})}


def baseline(port, database, session, requests_per_variant, profile=False):
    "One client, one request at a time: latency per variant"
    client = Client(port, database)
    client.cookies = {'portal_session': session}
    variants = {v: (q, {}) for v, q in VARIANTS.items()}
    if not profile:
        variants.update(BASELINE_EXTRA)
    latencies = {v: [] for v in variants}
    server_cpu = {v: [] for v in variants}
    sql = {v: [] for v in variants}
    render = {v: [] for v in variants}
    for i in range(requests_per_variant):
        for variant, (query, headers) in variants.items():
            headers = dict(headers)
            if profile:
                headers['X-Bench-Profile'] = '1'
            began = time.perf_counter()
            response, data = client.request(
                'GET', client.url('documents', query), headers=headers)
            latencies[variant].append((time.perf_counter() - began) * 1000)
            if not page_ok(response, data):
                raise RuntimeError(f'baseline {variant}: {response.status}')
            server_cpu[variant].append(
                int(response.headers['X-Bench-CPU-us']) / 1000)
            sql[variant].append(
                int(response.headers['X-Bench-SQL-us']) / 1000)
            render[variant].append(
                int(response.headers['X-Bench-Render-us']) / 1000)
    return latencies, server_cpu, sql, render


def postgres_cpu(database):
    "CPU seconds used so far by the server's PostgreSQL backends"
    import psycopg
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()", (database,))]
    ticks = os.sysconf('SC_CLK_TCK')
    total = 0
    for pid in pids:
        try:
            with open(f'/proc/{pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def code_version():
    """The portal code measured: git commit, whether addons/ differs from
    it, and a hash of addons/ (Python, XML, templates) that tells whether
    the code changed during the run (others commit while we measure)"""
    import hashlib
    import subprocess

    def git(*args):
        try:
            return subprocess.run(['git', '-C', common.ROOT, *args],
                capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return '?'
    digest = hashlib.sha256()
    addons = os.path.join(common.ROOT, 'addons')
    for folder, dirs, files in sorted(os.walk(addons)):
        dirs[:] = sorted(d for d in dirs
            if d not in {'tests', '__pycache__', 'static'})
        for name in sorted(files):
            if name.endswith(('.py', '.xml', '.html', '.cfg', '.po')):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, addons).encode())
                with open(path, 'rb') as f:
                    digest.update(f.read())
    return {'commit': git('rev-parse', '--short', 'HEAD'),
        'addons_modified': bool(git('status', '--porcelain', '--',
                    'addons')),
        'addons_hash': digest.hexdigest()[:12]}


def calibration(repeat=7):
    """CPU milliseconds of a fixed pure-Python workload (median of 7): the
    machine's speed at the time, to compare CPU figures of runs made while
    the shared machine was more or less busy"""
    def work():
        table = {}
        for i in range(60000):
            table[str(i)] = i * i
        return sum(v for k, v in table.items() if k.endswith('7'))
    times = []
    for _ in range(repeat):
        started = time.thread_time()
        work()
        times.append((time.thread_time() - started) * 1000)
    return statistics.median(times)


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-d', '--database', default=common.DEFAULT_DATABASE)
    parser.add_argument('--port', type=int, default=8765)
    parser.add_argument('--processes', type=int, default=2,
        help="server processes of the load (step 4), each its own "
        "threaded server on its own port; the workers are spread over "
        "them round-robin (production: one gunicorn worker per core); "
        "steps 1-3 and the profile use the in-process server")
    parser.add_argument('--workers', type=int, default=20,
        help="concurrent workers, one session (client) each")
    parser.add_argument('--duration', type=float, default=30,
        help="measured seconds")
    parser.add_argument('--warmup', type=float, default=5)
    parser.add_argument('--think', type=float, default=0,
        help="seconds each worker waits between two requests (0: closed "
        "loop, the load of the brief)")
    parser.add_argument('--baseline', type=int, default=20,
        help="sequential requests per variant for the baseline")
    parser.add_argument('--profile', type=int, default=0, metavar='N',
        help="cProfile N sequential requests per variant in the server")
    parser.add_argument('--experiment', action='append', default=[],
        choices=sorted(EXPERIMENTS), help="try a proposal by patching the "
        "server: " + '; '.join(f'{k}: {v}' for k, v in EXPERIMENTS.items()))
    parser.add_argument('--json', metavar='FILE',
        help="also write the figures to FILE")
    args = parser.parse_args()
    database = args.database
    if not common.database_exists(database) or not \
            common.database_comment(database).startswith(common.COMPLETE):
        sys.exit(f'{database}: no benchmark data (run bench/generate.py)')
    if args.processes < 1:
        parser.error('--processes must be at least 1')
    figures = {'database': database, 'experiments': args.experiment,
        'data': common.database_comment(database),
        'cpus': os.cpu_count(), 'loadavg_start': loadavg(),
        'calibration_ms_start': calibration()}
    print(f'calibration: {figures["calibration_ms_start"]:.1f} ms CPU for '
        f'the fixed workload (load average {loadavg()})', flush=True)
    figures['code'] = code_version()
    print('code: commit {commit}{modified}, addons/ hash {addons_hash}'
        .format(modified=' + modified addons/' if figures['code'][
                    'addons_modified'] else '', **figures['code']),
        flush=True)

    started = time.monotonic()
    server = start_server(database, args.port, args.experiment)
    port = server.server_port
    print(f'portal serving {database} on http://127.0.0.1:{port} '
        f'(in-process werkzeug threaded server, HTTP/1.1) '
        f'[{time.monotonic() - started:.1f} s]', flush=True)
    for name in args.experiment:
        print(f'  EXPERIMENT {name}: {EXPERIMENTS[name]}')

    # Sessions: 20 different clients with 500 documents, and the small one
    started = time.monotonic()
    sessions = []
    for index in range(1, args.workers + 1):
        client = Client(port, database)
        sessions.append(client.login(common.client_email(index),
                common.PASSWORD))
    small = Client(port, database).login(common.SMALL_EMAIL, common.PASSWORD)
    print(f'{len(sessions) + 1} clients logged in, one session each '
        f'[{time.monotonic() - started:.1f} s]', flush=True)

    # 1. statements per page
    table, recorded = count_queries(port, database,
        {'500 docs': sessions[0], '5 docs': small}, list(VARIANTS))
    print('\nSQL statements per documents page (steady state; + pool '
        'connection checks)')
    print(f'  {"variant":<11} {"client 500 docs":>17} {"client 5 docs":>15}'
        f'  same?')
    same = True
    figures['queries'] = {}
    for variant in VARIANTS:
        big = table[('500 docs', variant)]
        little = table[('5 docs', variant)]
        equal = big[0] == little[0]
        same &= equal
        figures['queries'][variant] = {'500': big[0], '5': little[0],
            'checks': big[1]}
        print(f'  {variant:<11} {big[0]:>7} (+{big[1]}) [{big[2]:>3} docs]'
            f' {little[0]:>5} (+{little[1]}) [{little[2]:>2} docs]'
            f'  {"yes" if equal else "NO"}')
    print(f'  independent of the number of documents: '
        f'{"yes" if same else "NO"}')
    for variant in VARIANTS:
        extra = statement_difference(recorded[('500 docs', variant)],
            recorded[('5 docs', variant)])
        if extra:
            print(f'  {variant}: ' + '; '.join(extra))
            figures['queries'][variant]['difference'] = extra
    with open(os.path.join(common.BENCH, 'var', 'statements.txt'), 'w') as f:
        for (label, variant), statements in recorded.items():
            f.write(f'### {label} {variant}: {len(statements)} statements\n')
            for query, params in statements:
                f.write(f'{query}  -- {params!r}\n')
    print('  (statements written to bench/var/statements.txt)')

    # 2. EXPLAIN of the page's main queries, as the page executed them
    print('\nEXPLAIN (ANALYZE, BUFFERS) of the page\'s portal_document '
        'queries (client with 500 documents; median of 5)')
    figures['explain'] = {}
    for variant in VARIANTS:
        search, count = main_queries(recorded[('500 docs', variant)])
        for kind, statement in (('search', search), ('count', count)):
            if statement is None:
                print(f'  {variant:<11} {kind}: not found')
                continue
            result = explain(database, *statement)
            figures['explain'][f'{variant}.{kind}'] = {
                k: v for k, v in result.items() if k != 'text'}
            print(f'  {variant:<11} {kind:<6} {result["execution_ms"]:6.2f}'
                f' ms exec, {result["planning_ms"]:5.2f} ms plan, '
                f'{result["buffers"]:5d} buffers, '
                f'index: {", ".join(result["indexes"]) or "NONE"}'
                + (f'; seq scan: {", ".join(result["seq_scans"])}'
                    if result['seq_scans'] else ''))
            if variant == 'first' and kind == 'search':
                first_plan = result
    with open(os.path.join(common.BENCH, 'var', 'explain.txt'), 'w') as f:
        f.write(first_plan['sql'] + '\n\n' + first_plan['text'] + '\n')
    print('  (SQL and plan of "first" in bench/var/explain.txt)')

    # 3. baseline: one client, sequential
    baseline(port, database, sessions[0], 3)    # warm
    gc_before = GC_TIME[0]
    latencies, server_cpu, sql, render = baseline(
        port, database, sessions[0], args.baseline)
    gc_ms = (GC_TIME[0] - gc_before) * 1000 / (
        args.baseline * (len(VARIANTS) + len(BASELINE_EXTRA)))
    print(f'\nBaseline: one client, one request at a time '
        f'({args.baseline} per variant; latency at the client, '
        f'server CPU (of which in render.render) and SQL time per request, '
        f'medians; load average {loadavg()})')
    figures['baseline'] = {}
    everything = []
    for variant in latencies:
        values = latencies[variant]
        if variant in VARIANTS:
            everything += values
        figures['baseline'][variant] = {
            'p50': percentile(values, 50), 'p95': percentile(values, 95),
            'cpu_ms': statistics.median(server_cpu[variant]),
            'render_cpu_ms': statistics.median(render[variant]),
            'sql_ms': statistics.median(sql[variant])}
        print(f'  {variant:<11} {latency_line(values)}  '
            f'cpu={statistics.median(server_cpu[variant]):5.1f} '
            f'(render {statistics.median(render[variant]):4.1f})  '
            f'sql={statistics.median(sql[variant]):5.1f} ms')
    print(f'  {"all":<11} {latency_line(everything)}  (the 5 variants; '
        f'garbage collection {gc_ms:.1f} ms per request)')
    figures['baseline']['all'] = {'p50': percentile(everything, 50),
        'p95': percentile(everything, 95), 'gc_ms': gc_ms}

    # 4. load, against --processes server processes of its own
    if args.duration > 0:
        run_load(args, database, sessions, figures)
    profile_and_finish(args, port, database, sessions, figures, server,
        same)


def start_load_servers(database, count, experiments):
    """count server processes (spawned: a fresh interpreter each, nothing
    inherited from this process's threads and connections); returns
    [(process, pid, port)] and the event that stops them"""
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    ready = context.Queue()
    stop = context.Event()
    processes = [context.Process(target=server_process,
            args=(database, experiments, ready, stop), daemon=True)
        for _ in range(count)]
    for process in processes:
        process.start()
    by_pid = {p.pid: p for p in processes}
    servers = []
    for _ in processes:
        pid, port, error = ready.get(timeout=300)
        if error:
            stop.set()
            raise RuntimeError(f'load server {pid} failed: {error}')
        servers.append((by_pid[pid], pid, port))
    servers.sort(key=lambda s: s[2])
    return servers, stop


def stop_load_servers(servers, stop):
    stop.set()
    for process, _, _ in servers:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()     # one of ours, by its own handle
            process.join()


def run_load(args, database, sessions, figures):
    started = time.monotonic()
    servers, stop = start_load_servers(database, args.processes,
        args.experiment)
    ports = [port for _, _, port in servers]
    try:
        _run_load(args, database, sessions, figures, servers, ports,
            time.monotonic() - started)
    finally:
        stop_load_servers(servers, stop)


def _run_load(args, database, sessions, figures, servers, ports, startup):
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    offsets = [(i * 7) % len(MIX) for i in range(len(sessions))]
    print(f'\nLoad: {len(servers)} server process(es) (pid:port '
        + ', '.join(f'{pid}:{port}' for _, pid, port in servers)
        + f'; started in {startup:.1f} s), {len(sessions)} concurrent '
        f'workers (threads of one client process, keep-alive, one session '
        f'each, round-robin over the ports), mix '
        + ', '.join(f'{v} {MIX.count(v) * 100 // len(MIX)}%'
            for v in VARIANTS)
        + (f'; think time {args.think:g} s' if args.think else
            '; no think time (closed loop)')
        + f'; {args.warmup:.0f} s warm-up + {args.duration:.0f} s measured '
        f'(load average before: {loadavg()})', flush=True)
    start = time.monotonic() + 1.5     # the client process is spawned
    measure_from = start + args.warmup
    measure_to = measure_from + args.duration
    process = context.Process(target=worker_process, args=(
            ports, database, sessions, args.duration, args.warmup, offsets,
            queue, args.think, start))
    process.start()
    # Server CPU and requests over exactly the measured window, from each
    # server process's /bench-stats (os.times() and its request counter)
    time.sleep(max(0, measure_from - time.monotonic()))
    before = [server_stats(port) for port in ports]
    pg_before = postgres_cpu(database)
    time.sleep(max(0, measure_to - time.monotonic()))
    after = [server_stats(port) for port in ports]
    pg_after = postgres_cpu(database)
    load_end = loadavg()
    rows, client_cpu_s = queue.get(
        timeout=args.duration + args.warmup + 120)
    process.join()
    count = len(rows)
    errors = [r for r in rows if r[2] != 200]
    ok = [r for r in rows if r[2] == 200]
    values = [r[1] for r in ok]
    rps = count / args.duration
    print(f'  requests {count}, {rps:.1f} requests/s, errors {len(errors)}'
        + (f' (statuses {sorted({r[2] for r in errors})})' if errors else ''))
    print(f'  latency   {latency_line(values)}')
    figures['load'] = {'processes': len(servers), 'workers': len(sessions),
        'duration': args.duration, 'think': args.think,
        'requests': count, 'rps': rps, 'errors': len(errors),
        'p50': percentile(values, 50), 'p95': percentile(values, 95),
        'p99': percentile(values, 99), 'variants': {}, 'servers': []}
    for variant in VARIANTS:
        subset = [r for r in ok if r[0] == variant]
        queries = sorted({r[3] for r in subset})
        print(f'  {variant:<9} {latency_line([r[1] for r in subset])}  '
            f'queries {"/".join(map(str, queries))}')
        figures['load']['variants'][variant] = {
            'p50': percentile([r[1] for r in subset], 50),
            'p95': percentile([r[1] for r in subset], 95),
            'queries': queries}
    server_cpu_s = served = gc_s = 0
    for (_, pid, port), b, a in zip(servers, before, after):
        gc_s += a['gc_s'] - b['gc_s']
        cpu = a['cpu'] - b['cpu']
        requests = a['requests'] - b['requests']
        wall = a['time'] - b['time']
        subset = [r[1] for r in ok if r[6] == port]
        server_cpu_s += cpu
        served += requests
        print(f'  server {pid} (port {port}): {requests} requests answered '
            f'in the window, CPU {cpu:.1f} s = {cpu / wall * 100:.0f}% of '
            f'one core, {cpu * 1000 / max(requests, 1):.1f} ms per request;'
            f' p95 {percentile(subset, 95):.0f} ms')
        figures['load']['servers'].append({'pid': pid, 'port': port,
            'requests': requests, 'cpu_s': cpu, 'wall_s': wall,
            'p95': percentile(subset, 95)})
    wall = args.duration
    cpu_per_request = server_cpu_s * 1000 / max(served, 1)
    pg_per_request = (pg_after - pg_before) * 1000 / max(served, 1)
    sql_ms = statistics.mean(r[4] for r in ok) / 1000 if ok else 0
    thread_cpu_ms = statistics.mean(r[5] for r in ok) / 1000 if ok else 0
    gc_ms = gc_s * 1000 / max(served, 1)
    client_cpu_ms = client_cpu_s * 1000 / max(count, 1)
    print(f'  server processes CPU {server_cpu_s:.1f} s over {wall:.0f} s '
        f'= {cpu_per_request:.1f} ms per request '
        f'({server_cpu_s / wall * 100:.0f}% of one core, summed over '
        f'{len(servers)} process(es)); request thread CPU '
        f'{thread_cpu_ms:.1f} ms per request, of which garbage collection '
        f'{gc_ms:.1f} ms; PostgreSQL backends '
        f'{pg_per_request:.1f} ms CPU per request; wall time in SQL calls '
        f'{sql_ms:.1f} ms per request (includes waiting for the GIL after '
        f'the reply); load generator (client process) '
        f'{client_cpu_ms:.1f} ms CPU per request; load average after: '
        f'{load_end}')
    figures['load'].update({'client_cpu_ms': client_cpu_ms,
        'server_cpu_ms': cpu_per_request,
        'server_cpu_share': server_cpu_s / wall,
        'thread_cpu_ms': thread_cpu_ms, 'gc_ms': gc_ms,
        'pg_cpu_ms': pg_per_request, 'sql_wall_ms': sql_ms,
        'loadavg_end': load_end,
        'queries_during_load': {v: figures['load']['variants'][v]['queries']
            for v in VARIANTS}})


def profile_and_finish(args, port, database, sessions, figures, server,
        same):
    # 5. profile
    if args.profile:
        global PROFILE
        PROFILE = cProfile.Profile()
        baseline(port, database, sessions[1], args.profile, profile=True)
        out = io.StringIO()
        stats = pstats.Stats(PROFILE, stream=out)
        stats.sort_stats('cumulative').print_stats(60)
        path = os.path.join(common.BENCH, 'var', 'profile.txt')
        with open(path, 'w') as f:
            f.write(out.getvalue())
        stats.dump_stats(os.path.join(common.BENCH, 'var', 'profile.pstats'))
        print(f'\ncProfile of {args.profile * len(VARIANTS)} sequential '
            f'requests: {path}')

    figures['code_end'] = code_version()
    if figures['code_end']['addons_hash'] != figures['code']['addons_hash']:
        print(f'\nWARNING: addons/ changed during the run '
            f'({figures["code"]} -> {figures["code_end"]}): the servers '
            f'started before the change ran the old code')
    figures['calibration_ms_end'] = calibration()
    print(f'\ncalibration: {figures["calibration_ms_end"]:.1f} ms CPU for '
        f'the fixed workload (load average {loadavg()})')
    load = figures.get('load')
    if load:
        goal = load['p95'] <= 60 and not load['errors']
        counts = figures['queries']
        print(f'\nGoal p95 <= 60 ms under this load ({load["processes"]} '
            f'process(es), {load["workers"]} workers, think '
            f'{load["think"]:g} s): {"MET" if goal else "NOT MET"} '
            f'(p95 {load["p95"]:.0f} ms); statements per page: client '
            f'with 500 documents '
            f'{"/".join(map(str, sorted({c["500"] for c in counts.values()})))}'
            f', with 5 '
            f'{"/".join(map(str, sorted({c["5"] for c in counts.values()})))}'
            f' ({"the same" if same else "see the differences above"})')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=2, default=str)
    server.shutdown()


if __name__ == '__main__':
    main()
