"Shared settings of the benchmark scripts (bench/generate.py, bench/load.py)"
import os
import subprocess

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
CONFIG = os.path.join(BENCH, 'trytond.conf')
FILESTORE = os.path.join(BENCH, 'var', 'filestore')
PG = {'host': '127.0.0.1', 'port': '5432', 'user': 'postgres'}
DEFAULT_DATABASE = 'portico_bench'
MODULES = ['client_portal', 'ksef', 'bitrix_bridge', 'payroll_account']

# Every portal user of the benchmark has this password
PASSWORD = 'Bench-Portal-2026'
SEED_EMAIL = 'seed@bench.example.com'
SMALL_EMAIL = 'small@bench.example.com'


def client_email(index):
    return f'client{index:03d}@bench.example.com'


def setup_environ():
    "trytond reads TRYTOND_* at import: call before importing trytond"
    os.environ['TRYTOND_CONFIG'] = CONFIG
    os.environ['TRYTOND_DATABASE__PATH'] = FILESTORE
    os.makedirs(FILESTORE, exist_ok=True)


def load_config():
    setup_environ()
    from trytond.config import update_etc
    update_etc(CONFIG)
    from trytond import config
    config.set('database', 'path', FILESTORE)
    return config


def pg_dsn(database):
    return (f"host={PG['host']} port={PG['port']} user={PG['user']} "
        f"dbname={database}")


def psql(sql, database='postgres'):
    "Run one statement with psql; returns its output (unaligned)"
    return subprocess.run(
        ['psql', '-h', PG['host'], '-p', PG['port'], '-U', PG['user'],
            '-d', database, '-Atqc', sql],
        check=True, capture_output=True, text=True).stdout.strip()


def database_exists(name):
    return psql("SELECT 1 FROM pg_database WHERE datname = "
        f"'{name}'") == '1'


COMPLETE = 'portico bench data generated'


def database_comment(name):
    return psql("SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
        f"FROM pg_database WHERE datname = '{name}'")


def modules_hash():
    """Hash of what a module update reads (models, XML data, tryton.cfg,
    translations) in addons/: a database built from other sources must be
    updated (trytond-admin -u) before it is measured"""
    import hashlib
    digest = hashlib.sha256()
    addons = os.path.join(ROOT, 'addons')
    for module in sorted(MODULES):
        top = os.path.join(addons, module)
        for folder, dirs, files in sorted(os.walk(top)):
            dirs[:] = sorted(d for d in dirs
                if d not in {'tests', 'static', 'templates', '__pycache__'})
            for name in sorted(files):
                if name.endswith(('.py', '.xml', '.cfg', '.po')):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, addons).encode())
                    with open(path, 'rb') as f:
                        digest.update(f.read())
    return digest.hexdigest()[:12]


def update_modules(database):
    "trytond-admin -u: the database's modules to the work tree's"
    import sys
    setup_environ()
    admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
    subprocess.run([admin, '-c', CONFIG, '-d', database,
            '-u', *MODULES, '--activate-dependencies', '-l', 'pl'],
        check=True, stdout=subprocess.DEVNULL)
