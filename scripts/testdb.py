"""The activated database every test starts from, built once per run.

Activating the modules (the account stack under client_portal) takes minutes,
so scripts/test.sh builds one activated database per backend, with every
module of addons/ and Polish loaded as `trytond-admin -l pl` would, and each
test database is a copy of it: `CREATE DATABASE … TEMPLATE` on PostgreSQL, a
file copy on SQLite. PORTICO_TEST_BASE names it: a database name on
PostgreSQL, the path of the .sqlite file on SQLite.

    python scripts/testdb.py build               build PORTICO_TEST_BASE
    python scripts/testdb.py drop                drop it (PostgreSQL)
    python scripts/testdb.py unittest -v NAMES   unittest on copies of it

The backend is TRYTOND_DATABASE__URI's. In a test process, install() makes
trytond's test tools (trytond.tests.test_tryton.create_db, behind
ModuleTestCase, activate_module and the scenarios' activate_modules) copy the
base instead of creating an empty database: the modules asked for are then
already activated. Without PORTICO_TEST_BASE the tests activate their
modules themselves, as trytond's tooling does.
"""
import contextlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDONS = ROOT / 'addons'
# Every module of the repository: a new module is part of the base at once
MODULES = sorted(p.parent.name for p in ADDONS.glob('*/tryton.cfg'))
LANGUAGES = ['pl']


def base():
    return os.environ.get('PORTICO_TEST_BASE') or None


def _log(message):
    print(f'[testdb] {message}', file=sys.stderr, flush=True)


def _kind():
    uri = os.environ.get('TRYTOND_DATABASE__URI') or 'sqlite://'
    return 'postgresql' if uri.startswith('postgres') else 'sqlite'


def build():
    "Create the base: every module activated, Polish translations loaded"
    name = base()
    assert name, 'PORTICO_TEST_BASE is not set'
    started = time.monotonic()
    if _kind() == 'sqlite':
        path = Path(name).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        os.environ['TRYTOND_DATABASE__PATH'] = str(path.parent)
        os.environ['DB_NAME'] = path.stem
    else:
        os.environ['DB_NAME'] = name
    os.environ.pop('DB_CACHE', None)
    from trytond.tests import test_tryton
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    test_tryton.drop_db()
    test_tryton.create_db()
    with Transaction().start(test_tryton.DB_NAME, 0) as transaction:
        # Translatable before activation: activating loads their .po files
        Lang = Pool().get('ir.lang')
        Lang.write(Lang.search([('code', 'in', LANGUAGES)]),
            {'translatable': True})
        transaction.commit()
    test_tryton.activate_module(MODULES)
    from trytond import backend
    backend.Database(test_tryton.DB_NAME).close()
    _log(f'{_kind()} base {name} with {" ".join(MODULES)} + '
        f'{" ".join(LANGUAGES)}: {time.monotonic() - started:.1f} s')


def drop():
    name = base()
    if name and _kind() == 'postgresql':
        import psycopg
        from psycopg import sql
        uri = os.environ['TRYTOND_DATABASE__URI'].rstrip('/') + '/postgres'
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)')
                .format(sql.Identifier(name)))
    elif name and os.path.exists(name):
        os.remove(name)


def clone(name):
    "Create the database name as a copy of the base"
    from trytond import backend
    from trytond.transaction import Transaction
    source = base()
    if backend.name == 'postgresql':
        for attempt in range(20):
            try:
                with Transaction().start(
                        None, 0, close=True, autocommit=True) as transaction:
                    transaction.database.create(
                        transaction.connection, name, source)
                return
            except backend.DatabaseOperationalError as e:
                # "source database is being accessed by other users"
                if 'other users' not in str(e) or attempt == 19:
                    raise
                time.sleep(0.5)
    else:
        import sqlite3
        database = backend.Database()
        database.connect()
        connection = database.get_connection(autocommit=True)
        try:
            database.create(connection, name)
        finally:
            database.put_connection(connection)
            database.close()
        database = backend.Database(name).connect()
        target = database.get_connection()
        try:
            with sqlite3.connect(source) as origin:
                origin.backup(target)
            origin.close()
        finally:
            database.put_connection(target)
            database.close()


def install(locks=True):
    """In a test process: test databases are copies of the base and, with
    locks, transactions take their locks on demand (see lock_on_demand)."""
    if locks:
        _patch_locks()
        _ON_DEMAND.append(True)
    _cache_module_imports()
    if not base():
        return
    from trytond.tests import test_tryton
    from trytond.pool import Pool
    if getattr(test_tryton.create_db, 'portico', False):
        return
    create_db = test_tryton.create_db

    def create_db_from_base(name=test_tryton.DB_NAME, lang='en'):
        if test_tryton.db_exist(name):
            return create_db(name, lang)
        clone(name)
        Pool(name).init()

    create_db_from_base.portico = True
    test_tryton.create_db = create_db_from_base
    _scenarios_on_base()


def _cache_module_imports():
    """trytond's import_module looks a module up among every installed
    distribution's entry points on each call (a third of a millisecond);
    ModuleTestCase's checks call it tens of thousands of times through
    isregisteredby. A module once imported stays imported: remember it."""
    import functools
    from trytond.tools import misc
    if not hasattr(misc.import_module, 'cache_info'):
        misc.import_module = functools.cache(misc.import_module)


def _scenarios_on_base():
    """trytond.tests.tools.activate_modules, as the scenarios call it, for a
    database copied from the base: the modules asked for are activated
    already, and clicking "activate" on them is refused."""
    from trytond.tests import tools

    def activate_modules(modules, *setup):
        from proteus import Model, Wizard
        if isinstance(modules, str):
            modules = [modules]
        cache_name = '-'.join(sorted(modules))
        if setup_name := '|'.join(tools._func_name(f) for f in setup):
            cache_name += f'--{setup_name}'
        if tools.restore_db_cache(cache_name):
            return tools._get_config()
        tools.drop_create()
        cfg = tools._get_config()
        Module = Model.get('ir.module')
        records = Module.find([('name', 'in', modules)])
        assert len(records) == len(modules), (
            f"Not found: {', '.join(set(modules) - {r.name for r in records})}")
        records = [r for r in records if r.state != 'activated']
        if records:
            Module.click(records, 'activate')
            Wizard('ir.module.activate_upgrade').execute('upgrade')
        for func in setup:
            func(config=cfg)
        tools.backup_db_cache(cache_name)
        return cfg

    tools.activate_modules = activate_modules


_ON_DEMAND = []


@contextlib.contextmanager
def lock_on_demand():
    """trytond wants a transaction to take its table and record locks when it
    starts: asked for one later, it raises, and the caller (with_transaction
    in the module tests, run_in_transaction in demo.py) rolls back and runs
    the whole function again with that lock. setup_firm asks for one lock
    after another (on PostgreSQL each model with a unique constraint locks
    its table), so each module test ran its body four or five times. A test
    database belongs to one process: within this block a transaction takes
    a lock when asked. The portal's own requests keep trytond's behaviour."""
    _patch_locks()
    _ON_DEMAND.append(True)
    try:
        yield
    finally:
        _ON_DEMAND.pop()


def _patch_locks():
    from trytond.transaction import Transaction
    if getattr(Transaction.lock_table, 'portico', False):
        return
    original_table = Transaction.lock_table
    original_records = Transaction.lock_records

    def lock_table(self, table):
        if not _ON_DEMAND:
            return original_table(self, table)
        if table not in self._locked_tables:
            self.database.lock(self.connection, table)
            self._locked_tables.add(table)

    def lock_records(self, table, ids):
        if not _ON_DEMAND:
            return original_records(self, table, ids)
        if table not in self._locked_tables:
            if missing := (set(ids) - self._locked_records[table]):
                self.database.lock_records(self.connection, table, missing)
                self._locked_records[table].update(missing)

    lock_table.portico = lock_records.portico = True
    Transaction.lock_table = lock_table
    Transaction.lock_records = lock_records


def main(argv):
    command, *args = argv or ['']
    if command == 'build':
        build()
    elif command == 'drop':
        drop()
    elif command == 'unittest':
        sys.path.insert(0, str(ROOT))
        from trytond.tests import test_tryton  # noqa: F401, selects DB_NAME
        install()
        import unittest
        unittest.main(module=None, argv=['python -m unittest', *args])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
