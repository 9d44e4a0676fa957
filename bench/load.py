"""Benchmark of four portal pages: the documents list
(GET /<db>/portal/documents and its variants), the home page
(GET /<db>/portal/), a document page (GET /<db>/portal/documents/<id>) and a
stored PDF download (GET /<db>/portal/documents/<id>.pdf).

Starts the portal in this process (werkzeug's threaded WSGI server serving
trytond.application.app on 127.0.0.1, HTTP/1.1 keep-alive), logs 20
different clients in (20 sessions), then (steps 1-3 and 5 against this one
process):

  1. statements per request: every request kind sent (twice, the second
     one counted) by a client with 500 documents and by the small client
     with 5; every statement executed by the request's thread is counted
     by a wrapper around psycopg's Cursor.execute (the pool's empty "check"
     statement is counted apart)
  2. EXPLAIN (ANALYZE, BUFFERS) of each page's main query as the page
     executed it (documents: the portal_document search and its count;
     home: the totals per currency; document and PDF: the document's
     lookup under the record rules), and of every other SELECT the page ran
  3. baseline: one client, one request at a time, every request kind:
     server CPU per request (median), of which in render, SQL time, latency
  4. load: --processes server processes (each its own werkzeug threaded
     server on its own port, started like the one above), and --workers
     workers (threads of a separate client process, one keep-alive
     connection and one session each) spread round-robin over their ports,
     request the four pages in a fixed mix, once per --think value (default
     1 s, then 0 s: the closed loop); requests/s, latency percentiles, per
     page and overall, errors, server CPU per request
  5. optional: cProfile of the server for sequential documents pages
     (--profile)
  6. the goals, PASS or MISS

Everything stays on 127.0.0.1; the load is bounded by --duration.
--experiment patches the servers to try a proposal or an older version
(nothing under addons/ is written); bench/ab.py compares them interleaved
in one process.
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
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# The four pages
PAGES = ['documents', 'home', 'document', 'pdf']
# Request kinds: name -> (page, path under /<db>/portal/, query string).
# {doc} is one of the session's documents (its first page of the list).
REQUESTS = {
    'first': ('documents', 'documents', {}),
    'page7': ('documents', 'documents', {'page': '7'}),
    'unpaid': ('documents', 'documents', {'tab': 'unpaid'}),
    'sort_total': ('documents', 'documents', {'sort': 'total', 'dir': 'desc'}),
    # a number fragment: a year of documents (the small client has 2)
    'search': ('documents', 'documents', {'q': 'FV/2025'}),
    'home': ('home', '', {}),
    'document': ('document', 'documents/{doc}', {}),
    # a download of a document already downloaded (no write)
    'pdf': ('pdf', 'documents/{doc}.pdf', {}),
    }
# The documents page's variants (the former VARIANTS)
VARIANTS = {k: q for k, (page, _, q) in REQUESTS.items()
    if page == 'documents'}
# Baseline and statements only: the first download of a document (it
# records first_downloaded_at: one UPDATE and a commit), and the documents
# page as htmx asks for it (the results fragment only)
EXTRA = {
    'pdf_first': ('pdf', 'documents/{doc}.pdf', {}),
    'first_htmx': ('documents', 'documents', {}),
    }
EXTRA_HEADERS = {'first_htmx': {'HX-Request': 'true'}}
# The load's mix, in the order a session walks it (20 steps): documents
# 50 % (first 4, page7 2, unpaid 2, sort_total 1, search 1), home 20 %,
# document 20 %, pdf 10 % (the document the session just looked at)
MIX = ['home', 'first', 'document', 'page7', 'document', 'pdf', 'unpaid',
    'first', 'document', 'sort_total', 'home', 'first', 'document', 'pdf',
    'search', 'home', 'unpaid', 'first', 'page7', 'home']
DOCS_PER_SESSION = 25   # the documents of the session's first page

# Goals of the issue (item 3)
GOALS = {
    'documents_cpu_ms': 15,     # documents page, server CPU median
    'think_p95_ms': 60,         # p95, 20 sessions with 1 s think time
    'saturated_rps': 100,       # pages/s, 20 sessions, no think time
    'pdf_ms': 15,               # stored PDF download, server CPU median
    }


def kind_spec(kind):
    return REQUESTS.get(kind) or EXTRA[kind]


def page_of(kind):
    return kind_spec(kind)[0]


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
# The render function the timer calls; experiments replace it here (not
# client_portal.web.render.render, which stays the timer)
RENDER = {}


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
    """CPU time of the request's thread in the page rendering: whatever
    client_portal.web.render.render is (the template engine, with the lazy
    ORM reads the template triggers), whatever its signature. The wrapper
    replaces the function in every client_portal module that holds it (a
    `from .render import render` too); experiments replace the function it
    calls (set_render)"""
    from client_portal.web import render as module
    original = module.render
    if getattr(original, 'bench_timer', False):
        return
    RENDER['function'] = original

    def render(*args, **kwargs):
        stats = getattr(_local, 'stats', None)
        started = time.thread_time()
        try:
            return RENDER['function'](*args, **kwargs)
        finally:
            if stats is not None:
                stats.render_cpu += time.thread_time() - started
    render.bench_timer = True
    render.__wrapped__ = original
    for name, other in list(sys.modules.items()):
        if other is None or not name.startswith('client_portal'):
            continue
        for attribute, value in list(vars(other).items()):
            if value is original:
                setattr(other, attribute, render)


def get_render():
    "The render function the pages use now (under the timer)"
    if 'function' in RENDER:
        return RENDER['function']
    from client_portal.web import render as module
    return module.render


def set_render(function):
    if 'function' in RENDER:
        RENDER['function'] = function
    else:
        from client_portal.web import render as module
        module.render = function


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


GENSHI_COMMIT = 'ba5505f'
# The documents page's templates, as the current code names them (and as
# ba5505f did) -> ba5505f's template the genshi experiment renders instead
GENSHI_PAGES = {
    'documents/list.html': 'documents.html',
    'documents/results.html': 'documents_results.html',
    'documents.html': 'documents.html',
    'documents_results.html': 'documents_results.html',
    }

EXPERIMENTS = {
    'gc': "gc.freeze() once the pool is loaded (what is loaded at start "
        "is no longer scanned by every full collection) and the youngest "
        "generation collected every 50,000 allocations instead of 700 "
        "(a deployment setting: gunicorn post_fork or the WSGI entry "
        "point)",
    'genshi': f"the documents page (documents.html, documents_results.html) "
        f"rendered with the Genshi templates of commit {GENSHI_COMMIT} "
        f"(bench/var/templates-genshi/) and that commit's loader "
        f"(genshi.template.TemplateLoader, Translator filter first; English, "
        f"so no translation lookup), instead of the current "
        f"client_portal.web.render.render; the handler is the current one",
    }


def apply_experiments(database, names):
    """Proposals or older versions of code outside bench/, tried by
    patching the running server (nothing is written to addons/). Returns a
    function that undoes the patches (bench/ab.py alternates them in one
    process)"""
    undo = []
    for name in names:
        if name == 'gc':
            import gc
            threshold = gc.get_threshold()
            gc.collect()
            gc.freeze()
            gc.set_threshold(50000, *threshold[1:])
            undo.append(lambda threshold=threshold: (
                    gc.unfreeze(), gc.set_threshold(*threshold)))
        elif name == 'genshi':
            undo.append(_genshi_experiment())
        else:
            raise SystemExit(f'unknown experiment {name}: '
                f'{", ".join(EXPERIMENTS)}')

    def undo_all():
        for function in reversed(undo):
            function()
    return undo_all


def extract_genshi_templates(commit=GENSHI_COMMIT):
    """The templates of `commit` (git show) into bench/var/templates-genshi
    (written atomically: spawned servers may extract at the same time)"""
    folder = os.path.join(common.BENCH, 'var', 'templates-genshi')
    os.makedirs(folder, exist_ok=True)
    prefix = 'addons/client_portal/templates/'
    names = subprocess.run(['git', '-C', common.ROOT, 'ls-tree',
            '--name-only', commit, prefix], capture_output=True, text=True,
        check=True).stdout.split()
    for path in names:
        if not path.endswith('.html'):
            continue
        content = subprocess.run(['git', '-C', common.ROOT, 'show',
                f'{commit}:{path}'], capture_output=True, check=True).stdout
        target = os.path.join(folder, os.path.basename(path))
        temporary = f'{target}.{os.getpid()}'
        with open(temporary, 'wb') as f:
            f.write(content)
        os.replace(temporary, target)
    return folder


GENSHI_NOT_ENGLISH = [0]    # strings asked for in another language


def _genshi_experiment():
    """--experiment genshi: client_portal.web.render.render replaced, for
    the documents page's templates, by ba5505f's render.render: a
    TemplateLoader over the old templates whose callback puts a Translator
    first; the Translator's gettext is ba5505f's _Gettext on its English
    path (the text as it is, no lookup)"""
    from genshi.filters import Translator
    from genshi.template import MarkupTemplate, TemplateLoader
    from trytond.transaction import Transaction
    folder = extract_genshi_templates()

    class _Gettext:
        "ba5505f render._Gettext, English only (the templates' language)"

        def __init__(self, names):
            self.names = names

        def __call__(self, text):
            if not (Transaction().language or 'en').startswith('en'):
                GENSHI_NOT_ENGLISH[0] += 1
            return text

        gettext = ugettext = __call__

        def ngettext(self, singular, plural, n):
            if not (Transaction().language or 'en').startswith('en'):
                GENSHI_NOT_ENGLISH[0] += 1
            return singular if n == 1 else plural

        ungettext = ngettext

    included = ['portal.page.head', 'portal.page.header',
        'portal.page.footer', 'portal.page.documents_results']

    def report_name(filename):
        return 'portal.page.' + os.path.splitext(
            os.path.basename(filename))[0]

    def install_translator(template):
        name = report_name(template.filename)
        translator = Translator(_Gettext([name] + [
                    n for n in included if n != name]))
        template.filters.insert(0, translator)
        template.add_directives(Translator.NAMESPACE, translator)

    loader = TemplateLoader([folder], auto_reload=False,
        default_class=MarkupTemplate, callback=install_translator,
        max_cache_size=100)
    current = get_render()

    def render(template, *args, **context):
        if template not in GENSHI_PAGES:
            return current(template, *args, **context)
        template = GENSHI_PAGES[template]
        if args:    # render(template, language, **context) (Jinja2)
            context.setdefault('language', args[0])
        partial = context.pop('partial',
            template == 'documents_results.html')
        context = genshi_context(template, context)
        return loader.load(template).generate(**context).render(
            'html', doctype=None if partial else 'html5', encoding=None)
    set_render(render)
    return lambda: set_render(current)


def genshi_context(template, context):
    """What ba5505f's templates read, from what the current handler passes
    (the names ba5505f's documents() and Portal.render passed): since the
    Jinja2 commit, `language` is render()'s argument (set by the caller
    above) and the currency codes come as `currency_options` pairs"""
    if 'currencies' not in context and 'currency_options' in context:
        context['currencies'] = [code for code, _ in
            context['currency_options']]
    # The table's rows now come formatted (web/documents.py Row): the old
    # template's format calls pass such values through, so both engines
    # render the same rows and the comparison is of the engines
    for name in ('format_date', 'format_datetime', 'format_amount'):
        if name in context:
            context[name] = _passing_strings(context[name])
    return context


def _passing_strings(format_):
    def wrapper(value, *args, **kwargs):
        if isinstance(value, str):
            return value
        return format_(value, *args, **kwargs)
    return wrapper


def start_server(database, port, experiments=()):
    import gc
    gc.callbacks.append(_gc_callback)
    common.load_config()
    os.environ['TRYTOND_DATABASE_NAMES'] = database
    install_counter()
    from trytond.application import app  # initialises the pool
    install_render_timer()
    apply_experiments(database, experiments)
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

    def get(self, kind, document=None, headers=None):
        "One request of a kind; document = (id, number)"
        _, path, query = kind_spec(kind)
        if '{doc}' in path:
            path = path.format(doc=document[0])
        headers = dict(EXTRA_HEADERS.get(kind, {}), **(headers or {}))
        return self.request('GET', self.url(path, query), headers=headers)


class Session:
    "A logged-in client: its session key and the documents it opens"

    def __init__(self, email, key, documents):
        self.email = email
        self.key = key
        self.documents = documents     # [(id, number)], newest first

    def client(self, port, database, language=None):
        client = Client(port, database)
        client.cookies = {'portal_session': self.key}
        if language:
            client.cookies['portal_lang'] = language
        return client


def page_ok(kind, response, data, document=None):
    "A 200 that is the page asked for (not a login form or an error page)"
    if response.status != 200:
        return False
    page = page_of(kind)
    if page == 'documents':
        return b'id="results"' in data
    if page == 'pdf':
        return data.startswith(b'%PDF')
    if not data.rstrip().endswith(b'</html>'):
        return False
    if page == 'document':
        return document[1].encode() in data
    return b'<form' in data or b'<main' in data    # home


def session_documents(database, emails, limit=DOCS_PER_SESSION):
    """Each client's newest documents (the first page of its list), the
    ones its session opens and downloads: {email: [(id, number)]}"""
    import psycopg
    result = {email: [] for email in emails}
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        for email, id_, number in conn.execute(
                'SELECT w.email, d.id, d.number FROM web_user w '
                'JOIN portal_document d ON d.party = w.party '
                'WHERE w.email = ANY(%s) '
                'ORDER BY w.email, d.date DESC, d.id DESC', (list(emails),)):
            if len(result[email]) < limit:
                result[email].append((id_, number))
    return result


def reset_downloads(database, document_ids):
    """The documents' first download forgotten (first_downloaded_at and _by
    back to NULL, as generate.py leaves them): every run downloads them for
    the first time again"""
    import psycopg
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        conn.execute('UPDATE portal_document SET first_downloaded_at = NULL,'
            ' first_downloaded_by = NULL WHERE id = ANY(%s) '
            'AND first_downloaded_at IS NOT NULL', (list(document_ids),))


def worker_process(ports, database, sessions, duration, warmup, offsets,
        queue, think=0, start=None):
    """Runs in a separate process (its own GIL): one thread per session,
    each a loop of keep-alive requests over the mix (with `think` seconds
    between two); the sessions are spread round-robin over the server
    ports (session i on ports[i % len(ports)]), as a reverse proxy spreads
    users over workers. sessions: [(key, [(id, number)])].
    start: time.monotonic() (system-wide) at which the warm-up begins"""
    if start is None:
        start = time.monotonic() + 0.5
    measure_from = start + warmup
    measure_to = measure_from + duration
    results = [None] * len(sessions)

    def run(index, key, documents):
        port = ports[index % len(ports)]
        client = Client(port, database)
        client.cookies = {'portal_session': key}
        rows = []
        i = offsets[index]
        opened = index     # the session's documents, in turn
        while time.monotonic() < start:
            time.sleep(0.001)
        while True:
            kind = MIX[i % len(MIX)]
            i += 1
            if kind == 'document':
                opened += 1
            document = documents[opened % len(documents)]
            began = time.monotonic()
            try:
                response, data = client.get(kind, document)
                status = response.status
                if status == 200 and not page_ok(
                        kind, response, data, document):
                    status = 597    # 200 that is not the page
                headers = response.headers
                queries = int(headers.get('X-Bench-Queries', -1))
                sql_us = int(headers.get('X-Bench-SQL-us', 0))
                cpu_us = int(headers.get('X-Bench-CPU-us', 0))
                render_us = int(headers.get('X-Bench-Render-us', 0))
            except Exception:
                status, queries, sql_us, cpu_us, render_us = 0, -1, 0, 0, 0
                client = Client(port, database)
                client.cookies = {'portal_session': key}
            ended = time.monotonic()
            if measure_from <= began < measure_to:
                rows.append((kind, (ended - began) * 1000, status,
                        queries, sql_us, cpu_us, port, render_us))
            if ended >= measure_to:
                break
            if think:
                time.sleep(think)
        results[index] = rows

    threads = [threading.Thread(target=run, args=(i, key, documents))
        for i, (key, documents) in enumerate(sessions)]
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


def median(values):
    return statistics.median(values) if values else float('nan')


def latency_line(values):
    return (f'n={len(values):6d}  p50={percentile(values, 50):7.1f}  '
        f'p95={percentile(values, 95):7.1f}  '
        f'p99={percentile(values, 99):7.1f}  '
        f'max={max(values) if values else float("nan"):7.1f} ms')


def count_queries(port, database, sessions, kinds):
    """Statements per request kind for each client; the second request of
    each pair is the one counted (the first one fills per-user caches).
    pdf_first: the document's download is forgotten before the counted
    request"""
    table = {}
    recorded = {}
    for label, session in sessions.items():
        client = session.client(port, database)
        document = session.documents[0]
        for kind in kinds:
            for attempt in range(2):
                if kind == 'pdf_first':
                    reset_downloads(database, [document[0]])
                request_id = f'{label}-{kind}-{attempt}'
                response, data = client.get(kind, document,
                    headers={'X-Bench-Id': request_id})
                if not page_ok(kind, response, data, document):
                    raise RuntimeError(f'{label} {kind}: HTTP '
                        f'{response.status}')
            table[(label, kind)] = (
                int(response.headers['X-Bench-Queries']),
                int(response.headers['X-Bench-Checks']),
                _rows_shown(data) if page_of(kind) == 'documents' else '')
            recorded[(label, kind)] = RECORDED.pop(request_id)
            RECORDED.pop(f'{label}-{kind}-0', None)
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


def _is_select(query):
    return query.lstrip().upper().startswith(('SELECT', 'WITH', '('))


def _table(query):
    found = re.findall(r'FROM "([^"]+)"', query)
    return found[0] if found else '?'


def main_queries(statements):
    "The documents page's search (with LIMIT) and count on portal_document"
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


def page_main_query(page, statements):
    """The main query of the home, document and PDF pages: (label,
    (query, params)) or None
      home      the totals per currency (Document.totals_by_currency: SUM
                over the client's issued documents)
      document  the document's lookup under the record rules
      pdf       the same lookup (get_or_404); the PDF itself is a file of
                the filestore, its id read with the invoice"""
    selects = [(q, p) for q, p in statements if _is_select(q)]
    if page == 'home':
        for query, params in selects:
            if _table(query) == 'portal_document' and 'SUM(' in \
                    query.upper():
                return 'totals per currency', (query, params)
    else:
        for query, params in selects:
            if _table(query) == 'portal_document' and 'LIMIT' in \
                    query.upper():
                return 'document lookup (rules)', (query, params)
        for query, params in selects:
            if _table(query) == 'portal_document':
                return 'portal_document read', (query, params)
    return None


def explain(database, query, params, repeat=5, text=True):
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
        'text': _explain_text(database, sql) if text else '',
        }


def _explain_text(database, sql):
    import psycopg
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        return '\n'.join(r[0] for r in conn.execute(
                'EXPLAIN (ANALYZE, BUFFERS) ' + sql))


def explain_line(result):
    return (f'{result["execution_ms"]:6.2f} ms exec, '
        f'{result["planning_ms"]:5.2f} ms plan, '
        f'{result["buffers"]:5d} buffers, '
        f'index: {", ".join(result["indexes"]) or "NONE"}'
        + (f'; seq scan: {", ".join(result["seq_scans"])}'
            if result['seq_scans'] else ''))


def baseline(port, database, session, requests_per_kind, kinds=None,
        profile=False, language=None):
    """One client, one request at a time: latency, server CPU, SQL and
    render time per request kind. pdf_first: the download is forgotten
    before each request (outside the measured request)"""
    kinds = list(kinds or REQUESTS)
    client = session.client(port, database, language)
    latencies = {k: [] for k in kinds}
    server_cpu = {k: [] for k in kinds}
    sql = {k: [] for k in kinds}
    render = {k: [] for k in kinds}
    queries = {k: [] for k in kinds}
    for i in range(requests_per_kind):
        for kind in kinds:
            document = session.documents[i % len(session.documents)]
            if kind == 'pdf_first':
                reset_downloads(database, [document[0]])
            headers = {'X-Bench-Profile': '1'} if profile else {}
            began = time.perf_counter()
            response, data = client.get(kind, document, headers=headers)
            latencies[kind].append((time.perf_counter() - began) * 1000)
            if not page_ok(kind, response, data, document):
                raise RuntimeError(f'baseline {kind}: HTTP {response.status}'
                    f' {data[:300]!r}')
            server_cpu[kind].append(
                int(response.headers['X-Bench-CPU-us']) / 1000)
            sql[kind].append(
                int(response.headers['X-Bench-SQL-us']) / 1000)
            render[kind].append(
                int(response.headers['X-Bench-Render-us']) / 1000)
            queries[kind].append(int(response.headers['X-Bench-Queries']))
    return latencies, server_cpu, sql, render, queries


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


def think_values(text):
    try:
        values = [float(v) for v in text.split(',') if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f'not seconds: {text}')
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f'not seconds: {text}')
    return values


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
        help="measured seconds of each load (0: no load)")
    parser.add_argument('--warmup', type=float, default=5)
    parser.add_argument('--think', type=think_values, default=[1.0, 0.0],
        metavar='S[,S…]', help="the loads, one after the other against the "
        "same server processes: seconds each worker waits between two "
        "requests (0: closed loop, saturation); default 1,0")
    parser.add_argument('--baseline', type=int, default=20,
        help="sequential requests per request kind for the baseline")
    parser.add_argument('--profile', type=int, default=10, metavar='N',
        help="cProfile N sequential requests per documents variant in the "
        "server (0: none); default 10")
    parser.add_argument('--experiment', action='append', default=[],
        choices=sorted(EXPERIMENTS), help="patch the servers: " + '; '.join(
            f'{k}: {v}' for k, v in EXPERIMENTS.items()))
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
        'calibration_ms_start': calibration(), 'goals': GOALS}
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
    emails = [common.client_email(i) for i in range(1, args.workers + 1)]
    documents = session_documents(database, emails + [common.SMALL_EMAIL])
    sessions = []
    for email in emails + [common.SMALL_EMAIL]:
        key = Client(port, database).login(email, common.PASSWORD)
        if not documents[email]:
            sys.exit(f'{email}: no documents')
        sessions.append(Session(email, key, documents[email]))
    small = sessions.pop()
    used = [d for s in sessions + [small] for d, _ in s.documents]
    reset_downloads(database, used)
    print(f'{len(sessions) + 1} clients logged in, one session each; each '
        f'opens and downloads its {DOCS_PER_SESSION} newest documents, whose '
        f'downloads are reset before each measurement '
        f'[{time.monotonic() - started:.1f} s]', flush=True)

    kinds = list(REQUESTS) + list(EXTRA)
    # 1. statements per request
    table, recorded = count_queries(port, database,
        {'500 docs': sessions[0], '5 docs': small}, kinds)
    print('\nSQL statements per request (steady state: the second request '
        'counted; + pool connection checks)')
    print(f'  {"page":<9} {"request":<11} {"client 500 docs":>17} '
        f'{"client 5 docs":>15}  same?')
    same = True
    figures['queries'] = {}
    for kind in kinds:
        big = table[('500 docs', kind)]
        little = table[('5 docs', kind)]
        equal = big[0] == little[0]
        same &= equal
        figures['queries'][kind] = {'page': page_of(kind), '500': big[0],
            '5': little[0], 'checks': big[1]}
        shown = lambda rows: f'[{rows:>3} docs]' if rows != '' else ' ' * 10
        print(f'  {page_of(kind):<9} {kind:<11} {big[0]:>7} (+{big[1]}) '
            f'{shown(big[2])} {little[0]:>5} (+{little[1]}) '
            f'{shown(little[2])}  {"yes" if equal else "NO"}')
    print(f'  independent of the number of documents: '
        f'{"yes" if same else "NO"}')
    for kind in kinds:
        extra = statement_difference(recorded[('500 docs', kind)],
            recorded[('5 docs', kind)])
        if extra:
            print(f'  {kind}: ' + '; '.join(extra))
            figures['queries'][kind]['difference'] = extra
    with open(os.path.join(common.BENCH, 'var', 'statements.txt'), 'w') as f:
        for (label, kind), statements in recorded.items():
            f.write(f'### {label} {kind} ({page_of(kind)}): '
                f'{len(statements)} statements\n')
            for query, params in statements:
                f.write(f'{query}  -- {params!r}\n')
    print('  (statements written to bench/var/statements.txt)')

    # 2. EXPLAIN of each page's main query, as the page executed it
    explain_main(database, recorded, figures)

    # 3. baseline: one client, sequential
    baseline(port, database, sessions[0], 2, kinds)    # warm
    gc_before = GC_TIME[0]
    latencies, server_cpu, sql, render, _ = baseline(
        port, database, sessions[0], args.baseline, kinds)
    gc_ms = (GC_TIME[0] - gc_before) * 1000 / (args.baseline * len(kinds))
    print(f'\nBaseline: one client, one request at a time '
        f'({args.baseline} per request kind; latency at the client, '
        f'server CPU (of which in render.render) and SQL time per request, '
        f'medians; load average {loadavg()})')
    figures['baseline'] = {}
    for kind in kinds:
        figures['baseline'][kind] = {'page': page_of(kind),
            'p50': percentile(latencies[kind], 50),
            'p95': percentile(latencies[kind], 95),
            'cpu_ms': median(server_cpu[kind]),
            'render_cpu_ms': median(render[kind]),
            'sql_ms': median(sql[kind])}
        print(f'  {page_of(kind):<9} {kind:<11} '
            f'{latency_line(latencies[kind])}  '
            f'cpu={median(server_cpu[kind]):5.1f} '
            f'(render {median(render[kind]):4.1f})  '
            f'sql={median(sql[kind]):5.1f} ms')
    figures['baseline_pages'] = {}
    for page in PAGES:
        mine = [k for k in REQUESTS if page_of(k) == page]
        figures['baseline_pages'][page] = {
            'kinds': mine,
            'cpu_ms': median(sum((server_cpu[k] for k in mine), [])),
            'render_cpu_ms': median(sum((render[k] for k in mine), [])),
            'sql_ms': median(sum((sql[k] for k in mine), [])),
            'p50': percentile(sum((latencies[k] for k in mine), []), 50),
            'p95': percentile(sum((latencies[k] for k in mine), []), 95)}
    print(f'  garbage collection {gc_ms:.1f} ms per request')
    figures['baseline_gc_ms'] = gc_ms

    # 4. loads, against --processes server processes of their own
    figures['loads'] = []
    if args.duration > 0 and args.think:
        run_loads(args, database, sessions, figures, used)
    profile_and_finish(args, port, database, sessions, figures, server,
        same)


def explain_main(database, recorded, figures):
    print('\nEXPLAIN (ANALYZE, BUFFERS) of the pages\' main queries as the '
        'pages sent them (client with 500 documents; median of 5)')
    figures['explain'] = {}
    texts = []
    for kind in VARIANTS:
        search, count = main_queries(recorded[('500 docs', kind)])
        for what, statement in (('search', search), ('count', count)):
            if statement is None:
                print(f'  documents {kind:<11} {what}: not found')
                continue
            result = explain(database, *statement)
            figures['explain'][f'{kind}.{what}'] = {
                k: v for k, v in result.items() if k != 'text'}
            print(f'  documents {kind:<11} {what:<6} {explain_line(result)}')
            if kind == 'first':
                texts.append((f'documents first {what}', result))
    for kind, page in (('home', 'home'), ('document', 'document'),
            ('pdf', 'pdf'), ('pdf_first', 'pdf')):
        statements = recorded[('500 docs', kind)]
        found = page_main_query(page, statements)
        selects = [(q, p) for q, p in statements if _is_select(q)]
        # every SELECT of the request, for its total and its slowest
        others = [(q, explain(database, q, p, repeat=5, text=False))
            for q, p in selects]
        total = sum(r['execution_ms'] for _, r in others)
        slowest = max(others, key=lambda o: o[1]['execution_ms'],
            default=None)
        entry = {'selects': len(selects), 'selects_ms': total}
        label = None
        if found is None:
            print(f'  {page:<9} {kind:<11} main query not found')
        else:
            label, statement = found
            result = explain(database, *statement)
            entry.update({k: v for k, v in result.items() if k != 'text'})
            entry['label'] = label
            texts.append((f'{kind}: {label}', result))
            print(f'  {page:<9} {kind:<11} {label}: {explain_line(result)}')
        if slowest is not None:
            index = [q for q, _ in selects].index(slowest[0])
            is_main = found is not None and slowest[0] == found[1][0]
            entry['slowest'] = {'table': _table(slowest[0]),
                'execution_ms': slowest[1]['execution_ms'],
                'statement': index + 1, 'main': is_main}
            print(f'  {"":<9} {"":<11} all {len(selects)} SELECTs: '
                f'{total:.2f} ms exec in all; slowest '
                f'{slowest[1]["execution_ms"]:.2f} ms: SELECT #{index + 1} '
                f'on {_table(slowest[0])}'
                + (' (the main query)' if is_main else ''))
        figures['explain'][kind] = entry
    with open(os.path.join(common.BENCH, 'var', 'explain.txt'), 'w') as f:
        for title, result in texts:
            f.write(f'### {title}\n{result["sql"]}\n\n{result["text"]}\n\n')
    print('  (SQL and plans in bench/var/explain.txt)')


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


def run_loads(args, database, sessions, figures, used):
    started = time.monotonic()
    servers, stop = start_load_servers(database, args.processes,
        args.experiment)
    ports = [port for _, _, port in servers]
    startup = time.monotonic() - started
    try:
        for think in args.think:
            reset_downloads(database, used)
            figures['loads'].append(_run_load(args, database, sessions,
                    servers, ports, startup, think))
    finally:
        stop_load_servers(servers, stop)


def _run_load(args, database, sessions, servers, ports, startup, think):
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    offsets = [(i * 7) % len(MIX) for i in range(len(sessions))]
    mix = ', '.join(f'{k} {MIX.count(k) * 100 // len(MIX)}%'
        for k in REQUESTS if k in MIX)
    print(f'\nLoad, {"think time %g s" % think if think else "no think time (closed loop)"}: '
        f'{len(servers)} server process(es) (pid:port '
        + ', '.join(f'{pid}:{port}' for _, pid, port in servers)
        + f'; started in {startup:.1f} s), {len(sessions)} concurrent '
        f'sessions (threads of one client process, keep-alive, '
        f'round-robin over the ports), mix {mix}; '
        f'{args.warmup:.0f} s warm-up + {args.duration:.0f} s measured '
        f'(load average before: {loadavg()})', flush=True)
    start = time.monotonic() + 1.5     # the client process is spawned
    measure_from = start + args.warmup
    measure_to = measure_from + args.duration
    process = context.Process(target=worker_process, args=(
            ports, database, [(s.key, s.documents) for s in sessions],
            args.duration, args.warmup, offsets, queue, think, start))
    process.start()
    # Server CPU and requests over exactly the measured window, from each
    # server process's /bench-stats (os.times() and its request counter)
    time.sleep(max(0, measure_from - time.monotonic()))
    before = [server_stats(port) for port in ports]
    pg_before = postgres_cpu(database)
    load_start = loadavg()
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
    print(f'  {"all":<20} {latency_line(values)}')
    figures = {'processes': len(servers), 'workers': len(sessions),
        'duration': args.duration, 'think': think,
        'requests': count, 'rps': rps, 'errors': len(errors),
        'p50': percentile(values, 50), 'p95': percentile(values, 95),
        'p99': percentile(values, 99), 'pages': {}, 'kinds': {},
        'servers': [], 'loadavg_start': load_start}
    for page in PAGES:
        subset = [r for r in ok if page_of(r[0]) == page]
        failed = [r for r in errors if page_of(r[0]) == page]
        queries = sorted({r[3] for r in subset})
        cpu = median([r[5] / 1000 for r in subset])
        render = median([r[7] / 1000 for r in subset])
        page_rps = (len(subset) + len(failed)) / args.duration
        print(f'  {page:<9} {page_rps:5.1f}/s '
            f'{latency_line([r[1] for r in subset])}  thread CPU median '
            f'{cpu:5.1f} ms (render {render:4.1f}); statements '
            f'{"/".join(map(str, queries))}'
            + (f'; errors {len(failed)}' if failed else ''))
        figures['pages'][page] = {'rps': page_rps,
            'p50': percentile([r[1] for r in subset], 50),
            'p95': percentile([r[1] for r in subset], 95),
            'p99': percentile([r[1] for r in subset], 99),
            'thread_cpu_ms': cpu, 'render_cpu_ms': render,
            'queries': queries, 'errors': len(failed)}
    for kind in REQUESTS:
        subset = [r for r in ok if r[0] == kind]
        if page_of(kind) == 'documents':
            print(f'    {kind:<18} {latency_line([r[1] for r in subset])}')
        figures['kinds'][kind] = {
            'p50': percentile([r[1] for r in subset], 50),
            'p95': percentile([r[1] for r in subset], 95),
            'queries': sorted({r[3] for r in subset})}
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
        figures['servers'].append({'pid': pid, 'port': port,
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
        f'= {cpu_per_request:.1f} ms per request, all pages '
        f'({server_cpu_s / wall * 100:.0f}% of one core, summed over '
        f'{len(servers)} process(es)); request thread CPU '
        f'{thread_cpu_ms:.1f} ms per request (mean), of which garbage '
        f'collection {gc_ms:.1f} ms; PostgreSQL backends '
        f'{pg_per_request:.1f} ms CPU per request; wall time in SQL calls '
        f'{sql_ms:.1f} ms per request (includes waiting for the GIL after '
        f'the reply); load generator (client process) '
        f'{client_cpu_ms:.1f} ms CPU per request; load average '
        f'{load_start} -> {load_end}', flush=True)
    figures.update({'client_cpu_ms': client_cpu_ms,
        'server_cpu_ms': cpu_per_request,
        'server_cpu_share': server_cpu_s / wall,
        'thread_cpu_ms': thread_cpu_ms, 'gc_ms': gc_ms,
        'pg_cpu_ms': pg_per_request, 'sql_wall_ms': sql_ms,
        'loadavg_end': load_end})
    return figures


def profile_and_finish(args, port, database, sessions, figures, server,
        same):
    # 5. profile of the documents page
    if args.profile:
        global PROFILE
        # wall time (time.thread_time as the timer is a system call per
        # event: it inflated a page 5 times instead of about 2.5)
        PROFILE = cProfile.Profile()
        baseline(port, database, sessions[1], args.profile, list(VARIANTS),
            profile=True)
        PROFILE.create_stats()
        out = io.StringIO()
        stats = pstats.Stats(PROFILE, stream=out)
        stats.sort_stats('cumulative').print_stats(80)
        stats.sort_stats('tottime').print_stats(40)
        path = os.path.join(common.BENCH, 'var', 'profile.txt')
        with open(path, 'w') as f:
            f.write(out.getvalue())
        stats.dump_stats(os.path.join(common.BENCH, 'var', 'profile.pstats'))
        requests = args.profile * len(VARIANTS)
        print(f'\ncProfile of {requests} sequential documents pages '
            f'({path}; wall time, inflated by the profiler, with the '
            f'waits for PostgreSQL in psycopg\'s send/poll); top own time '
            f'(ms per page):')
        def show(rows):
            for (filename, line, function), (_, calls, tottime, cumtime,
                    _) in rows:
                where = filename.split('site-packages/')[-1].split(
                    '/addons/')[-1]
                print(f'  {tottime * 1000 / requests:6.2f} own '
                    f'{cumtime * 1000 / requests:7.2f} cumulative '
                    f'{calls / requests:7.0f} calls  {where}:{line} '
                    f'{function}')
        show(sorted(stats.stats.items(), key=lambda i: -i[1][2])[:12])
        print('  the portal\'s own functions and templates, by cumulative '
            'time (ms per page):')
        show(sorted((i for i in stats.stats.items()
                    if 'client_portal' in i[0][0]),
                key=lambda i: -i[1][3])[:14])

    figures['code_end'] = code_version()
    if figures['code_end']['addons_hash'] != figures['code']['addons_hash']:
        print(f'\nWARNING: addons/ changed during the run '
            f'({figures["code"]} -> {figures["code_end"]}): the servers '
            f'started before the change ran the old code')
    figures['calibration_ms_end'] = calibration()
    print(f'\ncalibration: {figures["calibration_ms_end"]:.1f} ms CPU for '
        f'the fixed workload (load average {loadavg()})')
    summary(figures)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=2, default=str)
    server.shutdown()


def summary(figures):
    "Per page: the figures asked for, then the goals (PASS/MISS)"
    base = figures['baseline_pages']
    queries = figures['queries']
    explained = figures['explain']
    loads = figures.get('loads', [])
    print('\nSummary per page (CPU: server thread CPU per request, median '
        'of the sequential baseline; statements: client with 500 '
        'documents; main query: EXPLAIN ANALYZE execution, median of 5)')
    header = f'  {"":<34}' + ''.join(f'{p:>14}' for p in PAGES)
    print(header)

    def row(label, values):
        print(f'  {label:<34}' + ''.join(f'{v:>14}' for v in values))

    row('CPU ms median', [f'{base[p]["cpu_ms"]:.1f}' for p in PAGES])
    row('  of which render', [f'{base[p]["render_cpu_ms"]:.1f}'
            for p in PAGES])
    row('latency p50 ms, sequential', [f'{base[p]["p50"]:.1f}'
            for p in PAGES])
    statements = []
    for page in PAGES:
        counts = sorted({queries[k]['500'] for k in REQUESTS
                if page_of(k) == page})
        statements.append('/'.join(map(str, counts)))
    row('statements per request', statements)
    mains = []
    worst = max((v['execution_ms'] for k, v in explained.items()
            if '.' in k), default=float('nan'))
    for page in PAGES:
        if page == 'documents':
            search = explained.get('first.search', {}).get('execution_ms')
            count = explained.get('first.count', {}).get('execution_ms')
            mains.append(f'{search or 0:.2f}+{count or 0:.2f}')
        else:
            value = explained.get(page, {}).get('execution_ms')
            mains.append(f'{value:.2f}' if value is not None else '-')
    row('main query ms', mains)
    print(f'  (documents: search + count of "first"; the slowest variant\'s '
        f'query {worst:.2f} ms; home: totals per currency; document and pdf:'
        f' the document lookup under the record rules)')
    first = figures['baseline']['pdf_first']
    print(f'  pdf: a repeated download; the first download of a document '
        f'(it records first_downloaded_at) costs {first["cpu_ms"]:.1f} ms '
        f'CPU, {queries["pdf_first"]["500"]} statements; the documents page '
        f'as htmx asks for it (results only) '
        f'{figures["baseline"]["first_htmx"]["cpu_ms"]:.1f} ms CPU')
    for load in loads:
        label = (f'think {load["think"]:g} s' if load['think']
            else 'no think time')
        pages = load['pages']
        row(f'{label}: requests/s', [f'{pages[p]["rps"]:.1f}'
                for p in PAGES])
        row(f'{label}: p50 / p95 ms', [
                f'{pages[p]["p50"]:.0f} / {pages[p]["p95"]:.0f}'
                for p in PAGES])
        row(f'{label}: CPU ms median', [
                f'{pages[p]["thread_cpu_ms"]:.1f}' for p in PAGES])
        print(f'  {label}, all pages: {load["rps"]:.1f} requests/s, p50 '
            f'{load["p50"]:.0f} ms, p95 {load["p95"]:.0f} ms, p99 '
            f'{load["p99"]:.0f} ms, errors {load["errors"]}, server CPU '
            f'{load["server_cpu_ms"]:.1f} ms per request '
            f'({load["server_cpu_share"] * 100:.0f}% of one core over '
            f'{load["processes"]} processes)')

    print(f'\nGoals ({figures["cpus"]} cores; load average at the end '
        f'{loadavg()}):')
    results = {}

    def goal(key, text, value, ok, unit='ms'):
        verdict = 'n/a' if value is None else ('PASS' if ok else 'MISS')
        results[key] = {'value': value, 'verdict': verdict}
        shown = '-' if value is None else f'{value:.1f} {unit}'
        print(f'  {verdict:<4}  {text:<58} {shown}')

    documents_cpu = base['documents']['cpu_ms']
    goal('documents_cpu', f'documents page CPU median <= '
        f'{GOALS["documents_cpu_ms"]} ms', documents_cpu,
        documents_cpu <= GOALS['documents_cpu_ms'])
    think = [load for load in loads if load['think'] == 1]
    if think:
        load = think[0]
        goal('think_p95', f'p95 <= {GOALS["think_p95_ms"]} ms, 20 sessions,'
            ' 1 s think time (4 pages)', load['p95'],
            load['p95'] <= GOALS['think_p95_ms'] and not load['errors'])
    else:
        goal('think_p95', 'p95 <= 60 ms, 1 s think time (not run)', None,
            False)
    saturated = [load for load in loads if load['think'] == 0]
    if saturated:
        load = saturated[0]
        goal('saturated_rps', f'>= {GOALS["saturated_rps"]} pages/s '
            f'saturated ({load["processes"]} processes, {figures["cpus"]} '
            f'cores)', load['rps'],
            load['rps'] >= GOALS['saturated_rps'] and not load['errors'],
            unit='pages/s')
    else:
        goal('saturated_rps', '>= 100 pages/s saturated (not run)', None,
            False)
    pdf = figures['baseline']['pdf']['cpu_ms']
    goal('pdf', f'stored PDF download CPU median <= {GOALS["pdf_ms"]} ms',
        pdf, pdf <= GOALS['pdf_ms'])
    first = figures['baseline']['pdf_first']['cpu_ms']
    goal('pdf_first', f'  the same, first download (records it) <= '
        f'{GOALS["pdf_ms"]} ms', first, first <= GOALS['pdf_ms'])
    figures['goal_results'] = results


if __name__ == '__main__':
    main()
