"""A real Portico server for the browser tests.

Session fixtures:

* ``portal``: a trytond server (``trytond -c <config>`` in its own process
  group) on a free port, serving a database filled with the demo data of
  ``client_portal.demo.build_demo``. The backend is SQLite, or PostgreSQL when
  ``TRYTOND_DATABASE__URI`` is a ``postgresql://`` URI (a uniquely named
  database, dropped at the end). Mail goes to a ``scripts.mailsink.MailSink``.
  The database is created with ``trytond-admin -l pl`` and filled in
  subprocesses, so this process never imports a pool.
* ``browser``: headless Debian Chromium through Playwright.

With ``PORTICO_TEST_BASE`` (set by scripts/test.sh, see scripts/testdb.py)
the database starts as a copy of the run's activated database instead of
``trytond-admin``. Building the demo takes about 90 s (every invoice PDF is
rendered). With
``PORTICO_TEST_CACHE=<dir>`` the built database is kept, keyed by a hash of
the modules' sources, the trytond version and today's date (the demo data is
relative to today), and copied on later runs: the SQLite file and its
filestore, or for PostgreSQL a template database ``portico_cache_<key>``
(``CREATE DATABASE ... TEMPLATE``) plus a copy of its filestore.
"""
import datetime
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.mailsink import MailSink  # noqa: E402
from scripts.testdb import MODULES  # noqa: E402, every module of addons/

BIN = Path(sys.executable).parent
ADDONS = ROOT / 'addons'
ARTIFACTS = ROOT / 'test-artifacts'
CHROMIUM = os.environ.get('PORTICO_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update',
    '--no-first-run']
ADMIN_PASSWORD = 'Portico-Test-Admin-2026'
SERVER_START_TIMEOUT = 120
CACHE_PREFIX = 'portico_cache_'

FILL_SCRIPT = textwrap.dedent('''\
    import sys
    from trytond.config import update_etc
    update_etc(sys.argv[1])
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    name = sys.argv[2]
    Pool.start()
    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        pool.init()
    from scripts.demo import build
    from scripts.testdb import lock_on_demand
    with lock_on_demand():
        build(name, sys.argv[3], sys.argv[4])
    ''')


def _log(message):
    # -q hides nothing written to the terminal of the controlling process
    print(f'[portico] {message}', file=sys.stderr, flush=True)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def cache_key():
    """Hash of what the built database depends on: the sources of the
    activated modules (client_portal including demo.py, locale/*.po,
    templates), the trytond version and today's date."""
    import trytond
    digest = hashlib.sha256()
    digest.update(trytond.__version__.encode())
    digest.update(datetime.date.today().isoformat().encode())
    for module in MODULES:
        base = ADDONS / module
        files = sorted(
            p for p in base.rglob('*')
            if p.is_file() and '__pycache__' not in p.parts
            and (p.suffix in {'.py', '.xml', '.html', '.po'}
                or p.name == 'tryton.cfg'))
        for path in files:
            digest.update(str(path.relative_to(ADDONS)).encode())
            digest.update(b'\0')
            digest.update(path.read_bytes())
            digest.update(b'\0')
    return digest.hexdigest()[:24]


def _run(args, what, env, timeout=900):
    started = time.monotonic()
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(
            f'{what} failed ({result.returncode}):\n'
            f'{result.stdout[-3000:]}\n{result.stderr[-6000:]}')
    _log(f'{what}: {time.monotonic() - started:.1f} s')


class Backend:
    "Create, copy and drop the test database"

    def __init__(self, uri, data_path):
        self.uri = uri
        self.data_path = data_path
        self.kind = 'postgresql' if uri.startswith('postgres') else 'sqlite'
        if self.kind == 'postgresql':
            self.name = f'portico_test_{os.getpid()}_{int(time.time())}'
        else:
            self.name = 'portico'
        self.created = False

    def filestore(self, name=None):
        return self.data_path / (name or self.name)

    # PostgreSQL helpers
    def _pg(self):
        import psycopg
        parts = urllib.parse.urlsplit(self.uri)
        conninfo = urllib.parse.urlunsplit(parts._replace(path='/postgres'))
        return psycopg.connect(conninfo, autocommit=True)

    def _pg_exists(self, name):
        with self._pg() as conn:
            return conn.execute(
                'SELECT 1 FROM pg_database WHERE datname = %s',
                (name,)).fetchone() is not None

    def _pg_create(self, name, template='template0'):
        from psycopg import sql
        query = sql.SQL('CREATE DATABASE {} TEMPLATE {} ENCODING {}').format(
            sql.Identifier(name), sql.Identifier(template),
            sql.Literal('UTF8'))
        for attempt in range(10):
            try:
                with self._pg() as conn:
                    conn.execute(query)
                return
            except Exception as e:
                # "source database is being accessed by other users"
                if 'accessed by other users' not in str(e) or attempt == 9:
                    raise
                time.sleep(1)

    def _pg_drop(self, name):
        from psycopg import sql
        with self._pg() as conn:
            conn.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)')
                .format(sql.Identifier(name)))

    def create_empty(self):
        self.data_path.mkdir(parents=True, exist_ok=True)
        if self.kind == 'postgresql':
            self._pg_create(self.name)
        else:
            (self.data_path / f'{self.name}.sqlite').touch()
        self.created = True

    def copy_base(self, base):
        "Start from the run's activated database (scripts/testdb.py)"
        self.data_path.mkdir(parents=True, exist_ok=True)
        if self.kind == 'postgresql':
            self._pg_create(self.name, base)
        else:
            shutil.copyfile(base, self.data_path / f'{self.name}.sqlite')
        self.created = True

    def point_ksef(self, url):
        "Send a cached database's invoices to this run's KSeF emulator"
        self._execute('UPDATE ksef_configuration SET custom_url = {0}, '
            'qr_url_custom = {0}', (url, url))

    def point_bitrix(self, url, hook):
        "Mirror a cached database's changes into this run's Bitrix24"
        webhook = f'{url}/rest/1/{hook}/'
        query = ('UPDATE bitrix_configuration SET portal_url = {0}, '
            'webhook_url = {0}')
        self._execute(query, (url, webhook))

    def _execute(self, query, params):
        "query ({0} for each parameter's placeholder) on the database"
        if self.kind == 'postgresql':
            import psycopg
            parts = urllib.parse.urlsplit(self.uri)
            conninfo = urllib.parse.urlunsplit(
                parts._replace(path='/' + self.name))
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(query.replace('{0}', '%s'), params)
        else:
            import sqlite3
            with sqlite3.connect(
                    self.data_path / f'{self.name}.sqlite') as conn:
                conn.execute(query.replace('{0}', '?'), params)

    # The cache
    def restore(self, cache_dir, key):
        "Copy the cached database, if any; True when done"
        if self.kind == 'sqlite':
            db = cache_dir / f'portico-{key}.sqlite'
            files = cache_dir / f'portico-{key}.filestore'
            if not (db.is_file() and files.is_dir()):
                return False
            self.data_path.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(db, self.data_path / f'{self.name}.sqlite')
            shutil.copytree(files, self.filestore())
            self.created = True
            return True
        template = CACHE_PREFIX + key
        files = cache_dir / f'portico-{key}.pg-filestore'
        if not (files.is_dir() and self._pg_exists(template)):
            return False
        self.data_path.mkdir(parents=True, exist_ok=True)
        self._pg_create(self.name, template)
        self.created = True
        shutil.copytree(files, self.filestore())
        return True

    def store(self, cache_dir, key):
        "Keep the freshly built database for later runs"
        cache_dir.mkdir(parents=True, exist_ok=True)
        suffix = f'.tmp{os.getpid()}'
        files = self.filestore()
        if self.kind == 'sqlite':
            targets = [
                (self.data_path / f'{self.name}.sqlite',
                    cache_dir / f'portico-{key}.sqlite'),
                (files, cache_dir / f'portico-{key}.filestore'),
                ]
        else:
            template = CACHE_PREFIX + key
            if not self._pg_exists(template):
                self._pg_create(template, self.name)
            self._drop_stale_templates(template)
            targets = [(files, cache_dir / f'portico-{key}.pg-filestore')]
        for source, target in targets:
            tmp = target.with_name(target.name + suffix)
            if source == files and not source.exists():
                source.mkdir(parents=True)    # nothing in the filestore
            if source.is_dir():
                shutil.copytree(source, tmp)
                if target.exists():
                    shutil.rmtree(tmp)
                    continue
                os.rename(tmp, target)
            else:
                # SQLite's backup API: a consistent copy, WAL included
                import sqlite3
                with sqlite3.connect(source) as src, \
                        sqlite3.connect(tmp) as dst:
                    src.backup(dst)
                src.close()
                dst.close()
                os.replace(tmp, target)
        # Cached files of other keys are stale
        for path in cache_dir.glob('portico-*'):
            if key not in path.name and '.tmp' not in path.name:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def _drop_stale_templates(self, keep):
        with self._pg() as conn:
            names = [r[0] for r in conn.execute(
                    "SELECT datname FROM pg_database "
                    "WHERE datname LIKE %s", (CACHE_PREFIX + '%',))]
        for name in names:
            if name != keep:
                try:
                    self._pg_drop(name)
                except Exception as e:  # in use by another run
                    _log(f'could not drop stale template {name}: {e}')

    def drop(self):
        if self.created and self.kind == 'postgresql':
            self._pg_drop(self.name)


def _write_config(path, uri, data_path, port, mail_port, database, www):
    path.write_text(textwrap.dedent(f'''\
        [database]
        uri = {uri}
        path = {data_path}

        [web]
        listen = 127.0.0.1:{port}
        root = {www}

        [email]
        uri = smtp://127.0.0.1:{mail_port}
        from = Portico Test <noreply@portico.localhost>

        [queue]
        worker = False

        [portal]
        base_url = http://127.0.0.1:{port}
        secure_cookies = False
        database = {database}
        '''))


class Portal:
    "What the tests need to know about the running portal"

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def url(self, path='', **query):
        url = f'{self.base_url}/{self.database}/portal/{path.lstrip("/")}'
        if query:
            url += '?' + urllib.parse.urlencode(query)
        return url

    def server_log(self):
        return self.log_path.read_text(errors='replace')


def _wait_for_server(process, url, log_path):
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f'trytond exited with {process.returncode}:\n'
                + log_path.read_text(errors='replace')[-6000:])
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f'trytond did not answer {url} within '
        f'{SERVER_START_TIMEOUT} s:\n'
        + log_path.read_text(errors='replace')[-6000:])


def _stop(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(15)


@pytest.fixture(scope='session')
def mail_sink():
    sink = MailSink(port=0).start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope='session')
def ksef_emulator():
    "The KSeF the demo's invoices go to, for the whole session"
    from tests.ksef_emulator import Emulator
    from ksef.demo import DEMO_NIP, DEMO_TOKEN
    with Emulator(nip=DEMO_NIP, tokens=[DEMO_TOKEN]) as emulator:
        yield emulator


@pytest.fixture(scope='session')
def bitrix_emulator():
    "The firm's Bitrix24, the demo's changes are mirrored into"
    from tests.bitrix24_emulator import Emulator
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope='session')
def portal(tmp_path_factory, mail_sink, ksef_emulator, bitrix_emulator):
    started = time.monotonic()
    tmp = tmp_path_factory.mktemp('portico')
    uri = os.environ.get('TRYTOND_DATABASE__URI') or 'sqlite://'
    backend = Backend(uri, tmp / 'db')
    www = tmp / 'www'
    www.mkdir()
    port = _free_port()
    config = tmp / 'trytond.conf'
    _write_config(config, uri, backend.data_path, port, mail_sink.port,
        backend.name, www)
    env = dict(os.environ, TRYTOND_DATABASE__URI=uri,
        TRYTONPASSFILE=str(tmp / 'admin-password'),
        PYTHONDONTWRITEBYTECODE='1')
    env.pop('TRYTOND_CONFIG', None)
    (tmp / 'admin-password').write_text(ADMIN_PASSWORD + '\n')

    cache_dir = os.environ.get('PORTICO_TEST_CACHE')
    cache_dir = Path(cache_dir).resolve() if cache_dir else None
    key = cache_key() if cache_dir else None
    process = None
    cached = False
    try:
        if cache_dir is not None:
            cached = backend.restore(cache_dir, key)
        if cached:
            _log(f'{backend.kind} database {backend.name} copied from the '
                f'cache {key}')
            backend.point_ksef(ksef_emulator.base_url)
            backend.point_bitrix(bitrix_emulator.base_url,
                bitrix_emulator.webhook_code)
        else:
            base = os.environ.get('PORTICO_TEST_BASE')
            if base:
                backend.copy_base(base)
                _log(f'{backend.kind} database {backend.name} copied from '
                    f'the activated database {base}')
            else:
                backend.create_empty()
                _run([str(BIN / 'trytond-admin'), '-c', str(config),
                        '-d', backend.name,
                        '--email', 'admin@portico.localhost',
                        '-u', *MODULES, '--activate-dependencies', '-l', 'pl'],
                    'trytond-admin', env)
            _run([sys.executable, '-c', FILL_SCRIPT, str(config),
                    backend.name, ksef_emulator.base_url,
                    bitrix_emulator.base_url], 'build_demo', env)
            # Files edited during the build: the database matches neither
            # key, keep it out of the cache
            if cache_dir is not None and cache_key() == key:
                backend.store(cache_dir, key)
        log_path = tmp / 'trytond.log'
        with open(log_path, 'wb') as log:
            process = subprocess.Popen(
                [str(BIN / 'trytond'), '-c', str(config), '-d', backend.name],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        base_url = f'http://127.0.0.1:{port}'
        _wait_for_server(process,
            f'{base_url}/{backend.name}/portal/login', log_path)
        _log(f'portal ready on {base_url} ({backend.kind}, '
            f'{"cached" if cached else "built"}) in '
            f'{time.monotonic() - started:.1f} s')
        ARTIFACTS.mkdir(exist_ok=True)
        yield Portal(base_url=base_url, database=backend.name,
            backend=backend.kind, log_path=log_path, mail=mail_sink,
            config=config, cached=cached)
    finally:
        if process is not None:
            _stop(process)
        try:
            backend.drop()
        except Exception as e:
            _log(f'could not drop {backend.name}: {e}')


@pytest.fixture(scope='session')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
