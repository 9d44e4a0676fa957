"""Create the benchmark database: a firm, 200 portal clients with 500
documents each (100,000 portal documents) plus a seed client (the 20 real
invoices everything is cloned from) and a small client (5 documents).

Phases (each one timed):
  1. template  a database with the modules activated (trytond-admin -l pl,
               ~2 min) kept as <name>_tpl and reused by the next runs
  2. create    CREATE DATABASE <name> TEMPLATE <name>_tpl
  3. orm       the firm (demo.setup_firm, fiscal years and rates back two
               years), 202 clients, 20 invoices of the seed client created
               and posted (a stored PDF each, PLN and EUR) and some paid or
               partly paid, then a portal web user per client
  4. clone     bench/clone.sql: INSERT ... SELECT over generate_series of
               100,005 invoices cloned from the seed ones: account_invoice,
               lines, line taxes, invoice taxes, posting moves and move
               lines, payment moves, lines and reconciliations, the
               invoice-payment links, portal_document and its
               portal_notification; id sequences advanced with setval, the
               invoice and move sequences with the numbers used
  5. analyze   VACUUM ANALYZE
  6. verify    a sample of cloned documents compared with what the ORM
               computes from their invoices (Invoice._portal_document_values)

A database is only reused when it carries the comment written at the end
(COMMENT ON DATABASE); an interrupted run is rebuilt next time.
"""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# The seed invoices: integer quantities and integer unit prices, so that
# every VAT amount (23 %, 8 %, 5 %, 0 %) is exact to the grosz and a clone
# whose unit prices are other integers has exactly the amounts the ORM
# would compute (no rounding difference between line and invoice taxes).
SEED_SERVICES = [
    # description, unit price, VAT code, unit
    ("Obsługa księgowa – pełna księgowość", 1800, '23', 'uom_unit'),
    ("Obsługa kadrowo-płacowa (za pracownika)", 95, '23', 'uom_unit'),
    ("Doradztwo prawne", 350, '23', 'uom_hour'),
    ("Wirtualne biuro – adres do doręczeń", 149, '23', 'uom_unit'),
    ("Szkolenie BHP online", 120, 'zw', 'uom_unit'),
    ("Catering na spotkanie zarządu", 640, '8', 'uom_unit'),
    ("Publikacja branżowa (e-book)", 89, '5', 'uom_unit'),
    ("Usługa doradcza dla kontrahenta z UE", 2100, '0', 'uom_unit'),
    ]
SEED_INVOICES = 20
CITIES = [
    ('00-001', 'Warszawa'), ('30-001', 'Kraków'), ('50-001', 'Wrocław'),
    ('60-001', 'Poznań'), ('80-001', 'Gdańsk'), ('90-001', 'Łódź'),
    ]


def log(message, started=None):
    if started is not None:
        message += f' ({time.monotonic() - started:.1f} s)'
    print(message, flush=True)


def create_template(template):
    "A database with the modules activated, reused across runs"
    common.setup_environ()
    common.psql(f'CREATE DATABASE "{template}"')
    passfile = os.path.join(common.BENCH, 'var', 'admin-password')
    with open(passfile, 'w') as f:
        f.write('bench-admin\n')
    admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
    try:
        subprocess.run([admin, '-c', common.CONFIG, '-d', template,
                '--email', 'admin@bench.example.com',
                '-u', *common.MODULES, '--activate-dependencies',
                '-l', 'pl'],
            check=True, env=dict(os.environ, TRYTONPASSFILE=passfile),
            stdout=subprocess.DEVNULL)
    except BaseException:
        common.psql(f'DROP DATABASE IF EXISTS "{template}"')
        raise
    common.psql(f"COMMENT ON DATABASE \"{template}\" IS "
        f"'modules {common.modules_hash()}'")


def fresh_database(database):
    """`database` made anew from the template with the modules activated
    (built, or rebuilt when the modules changed), its pool loaded; on
    PostgreSQL, for the benchmarks of one feature (bench/issue.py,
    bench/ksef_send.py)"""
    os.environ['TRYTOND_DATABASE__URI'] = \
        'postgresql://postgres@127.0.0.1:5432/'
    template = common.DEFAULT_DATABASE + '_tpl'
    modules = common.modules_hash()
    if common.database_exists(template) and \
            common.database_comment(template) != f'modules {modules}':
        common.psql(f'DROP DATABASE "{template}" WITH (FORCE)')
    if not common.database_exists(template):
        started = time.monotonic()
        create_template(template)
        log(f'template {template} built', started)
    common.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    common.psql(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    from trytond.pool import Pool
    Pool(database).init()


# ---------------------------------------------------------------- ORM phase

def run(database, func, *args, lock_tables=()):
    """demo.run_in_transaction, but with the tables that posting locks
    (account_journal_period …) locked from the start, so that the
    transaction is not restarted after work was done"""
    from trytond.transaction import Transaction, TransactionError
    from trytond.worker import run_task
    extras = {'_lock_tables': list(lock_tables)} if lock_tables else {}
    while True:
        with Transaction().start(database, 0, context={'language': 'pl'},
                **extras) as transaction:
            try:
                result = func(*args)
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                log(f'  (restarted: {extras})')
                continue
            transaction.commit()
        while transaction.tasks:
            run_task(database, transaction.tasks.pop())
        return result


def build_firm(today):
    "The firm (demo.setup_firm) and fiscal years back to two years ago"
    from trytond.transaction import Transaction
    from client_portal import demo
    from trytond.pool import Pool
    Rate = Pool().get('currency.currency.rate')
    firm = demo.setup_firm(today, logo=False)
    # Exchange rates for the two years of documents (setup_firm makes 14
    # months): business days, as NBP table A publishes them
    rng = random.Random(2024)
    earliest = min(r.date for r in Rate.search([]))
    day = today - datetime.timedelta(days=2 * 366)
    rates = []
    while day < earliest:
        if day.weekday() < 5:
            for currency, mid in [(firm.eur, demo.PLN_PER_EUR),
                    (firm.usd, demo.PLN_PER_USD)]:
                quote = mid * (1 + Decimal(rng.randint(-150, 150)) / 10000)
                rates.append({'currency': currency.id, 'date': day,
                        'rate': (1 / quote).quantize(Decimal('0.000001'))})
        day += datetime.timedelta(days=1)
    Rate.create(rates)
    first = (today - datetime.timedelta(days=2 * 366)).year
    have = {(today - datetime.timedelta(days=14 * 31)).year, today.year}
    with Transaction().set_context(company=firm.company.id):
        demo.create_fiscal_years(firm.company,
            [y for y in range(first, today.year + 1) if y < min(have)])
    return firm.company.id


def load_firm(today):
    from client_portal import demo
    return demo.load_firm(today)


def create_clients(today, clients):
    """The seed, small and benchmark clients, as demo.create_client makes
    them, in one create call"""
    from trytond.pool import Pool
    from client_portal import demo
    pool = Pool()
    Party = pool.get('party.party')
    Lang = pool.get('ir.lang')
    firm = load_firm(today)
    lang, = Lang.search([('code', '=', 'pl')])
    country = firm.countries['PL'].id
    rows = [
        ("Bench Seed sp. z o.o.", demo.nip('111000001'), 'ul. Wzorcowa 1',
            '00-950', 'Warszawa', common.SEED_EMAIL, '+48 22 000 00 01'),
        ("Bench Small Jan Mały", demo.nip('111000002'), 'ul. Krótka 5',
            '00-951', 'Warszawa', common.SMALL_EMAIL, '+48 22 000 00 02'),
        ]
    for index in range(1, clients + 1):
        postal_code, city = CITIES[index % len(CITIES)]
        rows.append((f"Klient Testowy {index:03d} sp. z o.o.",
                demo.nip(f'2{index:08d}'), f'ul. Testowa {index}',
                postal_code, city, common.client_email(index),
                f'+48 600 {index:03d} 000'))
    parties = Party.create([{
                'name': name,
                'portal_client': True,
                'lang': lang.id,
                'addresses': [('create', [{
                                'street_unstructured': street,
                                'postal_code': postal_code,
                                'city': city,
                                'country': country,
                                }])],
                'identifiers': [('create', [{
                                'type': 'pl_vat', 'code': tax_number}])],
                'contact_mechanisms': [('create', [
                            {'type': 'email', 'value': email},
                            {'type': 'phone', 'value': phone},
                            ])],
                } for name, tax_number, street, postal_code, city, email,
            phone in rows])
    return [p.id for p in parties]


def create_seed_invoices(today, seed_id):
    """The seed client's invoices, created and posted through the ORM (one
    stored PDF each), in PLN and EUR, some paid and some partly paid"""
    from trytond.pool import Pool
    from client_portal import demo
    pool = Pool()
    Party = pool.get('party.party')
    firm = load_firm(today)
    seed = Party(seed_id)
    rng = random.Random(2026)
    dates = sorted(today - datetime.timedelta(days=rng.randint(3, 300))
        for _ in range(SEED_INVOICES))
    invoices = []
    for n, date in enumerate(dates):
        picks = rng.sample(SEED_SERVICES, rng.randint(1, 3))
        lines = [(desc, rng.choice([1, 1, 2, 3, 5]), str(price), vat, unit)
            for desc, price, vat, unit in picks]
        currency = firm.eur if n % 4 == 3 else firm.pln
        invoice = demo.create_invoice(firm, seed, date, lines,
            currency=currency, term_days=(7, 14, 30)[n % 3])
        invoices.append(invoice)
    for n, invoice in enumerate(invoices):
        date = invoice.invoice_date
        age = (today - date).days
        if n % 5 in {0, 1} and age > 20:
            demo.pay(firm, invoice, invoice.total_amount,
                date + datetime.timedelta(days=10))
        elif n % 5 == 2 and age > 10:
            demo.pay(firm, invoice,
                (invoice.total_amount * Decimal('0.4')).quantize(
                    Decimal('0.01')), date + datetime.timedelta(days=5))
    return [i.id for i in invoices]


def create_users(party_ids, emails):
    """A portal web user per client, created after the invoices (no
    new-document e-mails); one password hash (argon2, ~0.1 s) is set
    through the ORM and copied to the others."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    WebUser = Pool().get('web.user')
    users = WebUser.create([{
                'party': p, 'email': e, 'email_valid': True,
                'language': 'pl', 'notify_documents': False}
            for p, e in zip(party_ids, emails)])
    users[0].password = common.PASSWORD
    users[0].save()
    table = WebUser.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.update([table.password_hash],
            [users[0].password_hash],
            where=table.id.in_([u.id for u in users[1:]])))
    return len(users)


def build_orm(name, today, clients):
    started = time.monotonic()
    run(name, build_firm, today, lock_tables=[
            'account_configuration', 'account_fiscalyear', 'account_period'])
    log('  firm, chart, taxes, fiscal years', started)
    started = time.monotonic()
    party_ids = run(name, create_clients, today, clients)
    log(f'  {len(party_ids)} clients', started)
    started = time.monotonic()
    run(name, create_seed_invoices, today, party_ids[0],
        lock_tables=['account_journal_period', 'ir_sequence_strict'])
    log(f'  {SEED_INVOICES} seed invoices posted (PDF), some paid', started)
    started = time.monotonic()
    emails = [common.SEED_EMAIL, common.SMALL_EMAIL] + [
        common.client_email(i) for i in range(1, clients + 1)]
    count = run(name, create_users, party_ids, emails)
    log(f'  {count} portal web users', started)
    return run(name, ids_for_sql, today, party_ids)


def ids_for_sql(today, party_ids):
    firm = load_firm(today)
    return {
        'company': firm.company.id,
        'seed': party_ids[0],
        'small': party_ids[1],
        'clients': party_ids[2:],
        'pln': firm.pln.id,
        'eur': firm.eur.id,
        'terms': {d: t.id for d, t in firm.terms.items()},
        }


# -------------------------------------------------------------- clone phase

def clone_sql(conn, ids, today, per_client, small_count):
    """Clone the seed client's posted invoices to per_client invoices for
    every client (small_count for the small client) with SQL"""
    from psycopg.types.json import Jsonb
    cur = conn.cursor()
    timings = []

    def step(name, sql, params=None):
        started = time.monotonic()
        cur.execute(sql, params)
        rows = cur.rowcount
        timings.append((name, rows, time.monotonic() - started))
        log(f'  {name}: {rows} rows', started)

    with open(os.path.join(common.BENCH, 'clone.sql')) as f:
        script = f.read()
    params = {
        'seed': ids['seed'],
        'small': ids['small'],
        'clients': ids['clients'],
        'per_client': per_client,
        'small_count': small_count,
        'today': today,
        'terms': Jsonb({str(k): v for k, v in ids['terms'].items()}),
        }
    for block in script.split('\n-- @step '):
        if not block.strip() or block.startswith('--'):
            continue
        name, sql = block.split('\n', 1)
        step(name.strip(), sql, params)
    return timings


def orm_phase(name, today, clients):
    common.load_config()
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        pool.init()
    started = time.monotonic()
    log('ORM: firm, clients, users, seed invoices …')
    ids = build_orm(name, today, clients)
    log('ORM phase done', started)
    from trytond.backend import Database
    Database(name).close()
    return ids


def verify(name, sample=60):
    """Read a sample of cloned documents back through the ORM: the values
    that client_portal would write for their invoice now
    (Invoice._portal_document_values, from the invoice, its lines, taxes
    and move lines) must equal the cloned portal_document row, and the
    invoice's taxes recomputed by account_invoice must equal the cloned
    invoice taxes. Returns the number of differences."""
    common.load_config()
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(name)
    differences = 0
    with Transaction().start(name, 0, readonly=True,
            context={'language': 'pl'}) as transaction:
        pool.init()
        Document = pool.get('portal.document')
        Company = pool.get('company.company')
        cursor = transaction.connection.cursor()
        # Every kind of clone: state x partly paid x currency, many clients
        cursor.execute("""
            SELECT id FROM (
                SELECT d.id, row_number() OVER (
                    PARTITION BY d.state, d.paid > 0, d.currency
                    ORDER BY md5(d.id::text)) AS r
                FROM portal_document d) x
            WHERE r <= %s ORDER BY id""", (sample // 6 + 1,))
        ids = [r for r, in cursor]
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            for document in Document.browse(ids):
                invoice = document.origin
                values = invoice._portal_document_values()
                for key, value in values.items():
                    stored = getattr(document, key)
                    stored = getattr(stored, 'id', stored)
                    if stored != value:
                        differences += 1
                        log(f'  document {document.id} {key}: '
                            f'{stored!r} != {value!r}')
                computed = {(t.tax.id, t.base, t.amount)
                    for t in invoice._get_taxes().values()}
                stored = {(t.tax.id, t.base, t.amount)
                    for t in invoice.taxes}
                if computed != stored:
                    differences += 1
                    log(f'  invoice {invoice.id} taxes: {stored} != '
                        f'{computed}')
                balance = sum((line.debit - line.credit)
                    for line in invoice.move.lines)
                if balance:
                    differences += 1
                    log(f'  move {invoice.move.id} unbalanced: {balance}')
    log(f'  {len(ids)} sampled documents checked against their invoices '
        f'through the ORM: {differences} differences')
    return differences


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-d', '--database', default=common.DEFAULT_DATABASE)
    parser.add_argument('--clients', type=int, default=200)
    parser.add_argument('--documents', type=int, default=500,
        help="documents per client")
    parser.add_argument('--small', type=int, default=5,
        help="documents of the small client")
    parser.add_argument('--regenerate', action='store_true',
        help="drop the database if it exists")
    parser.add_argument('--sql-only', action='store_true',
        help=argparse.SUPPRESS)  # development: rerun the clone phase
    parser.add_argument('--retemplate', action='store_true',
        help="also recreate the template database (modules activated)")
    args = parser.parse_args()
    name = args.database
    template = name + '_tpl'
    total = time.monotonic()

    today = datetime.date.today()
    if args.sql_only:
        pass
    elif common.database_exists(name):
        done = common.database_comment(name)
        if not args.regenerate and done.startswith(common.COMPLETE):
            modules = common.modules_hash()
            if f'modules {modules}' not in done:
                # addons/ changed since: new fields and XML records (e.g.
                # messages) must be in the database, else the page runs
                # extra statements looking them up
                started = time.monotonic()
                log(f'database {name}: addons/ changed, updating the '
                    'modules (trytond-admin -u) …')
                common.update_modules(name)
                done = done.split(', modules ')[0] + f', modules {modules}'
                common.psql(f'COMMENT ON DATABASE "{name}" IS \'{done}\'')
                if common.database_exists(template):
                    common.psql(f'DROP DATABASE "{template}" WITH (FORCE)')
                log(f'database {name} updated (template dropped, rebuilt '
                    'by the next --regenerate)', started)
            log(f'database {name} exists ({done}): nothing to do '
                '(--regenerate to rebuild it)')
            return
        if not done.startswith(common.COMPLETE):
            log(f'database {name} is incomplete: rebuilding it')
        common.psql(f'DROP DATABASE "{name}" WITH (FORCE)')
    if args.retemplate and common.database_exists(template):
        common.psql(f'DROP DATABASE "{template}" WITH (FORCE)')
    modules = common.modules_hash()
    if not args.sql_only:
        if common.database_exists(template) and \
                common.database_comment(template) != f'modules {modules}':
            log(f'template {template} built from other addons/: dropped')
            common.psql(f'DROP DATABASE "{template}" WITH (FORCE)')
        if not common.database_exists(template):
            started = time.monotonic()
            log(f'template {template}: activating '
                f'{", ".join(common.MODULES)} (trytond-admin) …')
            create_template(template)
            log(f'template {template} ready', started)
        started = time.monotonic()
        common.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        log(f'database {name} created from {template}', started)

    ids_file = os.path.join(common.BENCH, 'var', f'{name}.ids.json')
    if not args.sql_only:
        try:
            ids = orm_phase(name, today, args.clients)
        except BaseException:
            log(f'failed: dropping {name}')
            common.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            raise
        with open(ids_file, 'w') as f:
            json.dump(ids, f)
    else:
        with open(ids_file) as f:
            ids = json.load(f)

    import psycopg
    started = time.monotonic()
    log('SQL: cloning the seed invoices …')
    with psycopg.connect(common.pg_dsn(name)) as conn:
        clone_sql(conn, ids, today, args.documents, args.small)
        conn.commit()
    log('SQL phase done', started)

    started = time.monotonic()
    with psycopg.connect(common.pg_dsn(name), autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE')
    log('VACUUM ANALYZE', started)
    started = time.monotonic()
    log('verify: cloned rows read back through the ORM …')
    if verify(name):
        sys.exit(f'{name}: the cloned rows differ from what the ORM computes')
    log('verify done', started)
    common.psql(f"COMMENT ON DATABASE \"{name}\" IS '{common.COMPLETE} "
        f"on {today.isoformat()}: {args.clients} clients x {args.documents} "
        f"documents, modules {modules}'")
    count = common.psql(
        'SELECT count(*) FROM portal_document', database=name)
    log(f'{name}: {count} portal documents, '
        f'{args.clients + 2} clients with a portal user '
        f'(password {common.PASSWORD})', total)


if __name__ == '__main__':
    main()
