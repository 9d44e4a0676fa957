"""Create the demo database (SQLite, from config/demo.conf) if it does not
exist, fill it with a Polish firm's demo data, and print how to use it."""
import argparse
import configparser
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ['client_portal', 'ksef', 'bitrix_bridge', 'payroll_account']
# Where `make demo` starts the KSeF emulator (tests/ksef_emulator) and the
# Bitrix24 emulator (tests/bitrix24_emulator)
KSEF_URL = 'http://127.0.0.1:8081'
BITRIX_URL = 'http://127.0.0.1:8082'
# SQLite files and the filestore: an absolute path, for trytond-admin too
os.environ.setdefault(
    'TRYTOND_DATABASE__PATH', os.path.join(ROOT, 'var', 'db'))


def database_file(config_file, name):
    config = configparser.ConfigParser()
    config.read(config_file)
    path = config.get('database', 'path',
        fallback=os.environ['TRYTOND_DATABASE__PATH'])
    return os.path.join(ROOT, path, name + '.sqlite'), config


def create(config_file, name):
    path, _ = database_file(config_file, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, 'a').close()
    admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
    env = dict(os.environ, TRYTONPASSFILE=os.path.join(
            ROOT, 'config', 'demo-admin-password'))
    subprocess.run([admin, '-c', config_file, '-d', name,
            '--email', 'admin@portico.localhost', '-u', *MODULES,
            '--activate-dependencies', '-l', 'pl'], check=True, env=env)
    fill(config_file, name)


def fill(config_file, name, ksef_url=None, bitrix_url=None):
    from trytond.config import config, update_etc
    update_etc(config_file)
    ksef_url = ksef_url or config.get('ksef', 'url', default=KSEF_URL)
    bitrix_url = bitrix_url or config.get('bitrix24', 'url',
        default=BITRIX_URL)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        pool.init()
    build(name, ksef_url, bitrix_url)


def build(name, ksef_url, bitrix_url=None):
    """The demo data, with KSeF at ksef_url and Bitrix24 at bitrix_url (the
    emulators)"""
    from bitrix_bridge.demo import configure_demo as configure_bitrix
    from client_portal.demo import build_demo, run_in_transaction
    from ksef.demo import build_ksef_demo, configure_demo
    from payroll_account.demo import build_payroll_demo
    # Before the invoices are issued: each goes to the emulator
    run_in_transaction(name, configure_demo, ksef_url)
    run_in_transaction(name, build_demo, context={'language': 'pl'})
    run_in_transaction(name, build_ksef_demo, context={'language': 'pl'})
    run_in_transaction(name, build_payroll_demo, context={'language': 'pl'})
    if bitrix_url:
        # From now on: what staff and clients change is mirrored
        run_in_transaction(name, configure_bitrix, bitrix_url)


def info(config):
    from client_portal.demo import (
        CLIENTS, DEMO_PASSWORD, STAFF_PASSWORD, USERS)
    from client_portal.demo_outgoing import STARTUP, STARTUP_USER
    listen = config.get('web', 'listen', fallback='localhost:8000')
    base = config.get('portal', 'base_url', fallback=f'http://{listen}')
    name = config.get('portal', 'database', fallback='portico')
    print(f"""
Portico demo
  Back office (Tryton web client): {base}/   database "{name}"
      admin / {open(os.path.join(ROOT, 'config', 'demo-admin-password')).read().strip()}   (everything)
      marta, piotr (managers), ewa (accountant), jan (head) / {STAFF_PASSWORD}
  Client portal: {base}/{name}/portal/""")
    for index, email, *_ in USERS:
        print(f"      {email} / {DEMO_PASSWORD}   ({CLIENTS[index][0]})")
    print(f"      {STARTUP_USER[0]} / {DEMO_PASSWORD}   ({STARTUP[0]}: "
        "issues its own invoices)")
    print("  E-mails sent by the demo are caught in var/mail/ (.eml files)\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('-c', '--config', default='config/demo.conf')
    parser.add_argument('-d', '--database', default=None)
    parser.add_argument('--force', action='store_true',
        help="drop and recreate the demo database")
    args = parser.parse_args()
    config_file = os.path.join(ROOT, args.config)
    _, config = database_file(config_file, 'x')
    name = args.database or config.get(
        'portal', 'database', fallback='portico')
    path, _ = database_file(config_file, name)
    if args.force and os.path.exists(path):
        os.remove(path)
    if not os.path.exists(path) or not os.path.getsize(path):
        started = time.monotonic()
        print(f"Creating the demo database {path} …", flush=True)
        try:
            create(config_file, name)
        except BaseException:
            if os.path.exists(path):
                os.remove(path)
            raise
        print(f"Demo database ready in {time.monotonic() - started:.0f} s")
    info(config)


if __name__ == '__main__':
    main()
