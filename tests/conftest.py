"""HTTP tests of the portal, in-process through trytond's WSGI application,
on the database backend given by TRYTOND_DATABASE__URI (SQLite by default,
PostgreSQL in the second run of scripts/test.sh). E-mails go through a real
SMTP server started here."""
import datetime
import os
import sys
from decimal import Decimal

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# Importing trytond's test tools selects the test database (DB_NAME) and
# starts the pool; it must come before any other trytond import that reads
# the configuration.
from trytond.tests import test_tryton  # noqa: E402
from trytond import config  # noqa: E402
from trytond.pool import Pool  # noqa: E402

from scripts.mailsink import MailSink  # noqa: E402
from portal_http import DB, PASSWORD, Browser, in_transaction  # noqa: E402


def pytest_collection_modifyitems(items):
    # The browser tests run their own server and database: keep them last
    items.sort(key=lambda item: 'browser' in item.nodeid)


@pytest.fixture(scope='session')
def smtp():
    with MailSink() as sink:
        config.set('email', 'uri', f'smtp://127.0.0.1:{sink.port}')
        config.set('email', 'from', 'Portico <noreply@portico.test>')
        yield sink


@pytest.fixture(scope='session')
def data(smtp):
    "Two clients with users, documents in every state, and news"
    if not config.has_section('portal'):
        config.add_section('portal')
    config.set('portal', 'base_url', 'https://portal.example.com')
    # A copy of the run's activated database when scripts/test.sh built
    # one (PORTICO_TEST_BASE), else every module activated here
    from scripts import testdb
    testdb.install(locks=False)
    test_tryton.activate_module(testdb.MODULES)
    from client_portal.demo import run_in_transaction
    with testdb.lock_on_demand():
        result = run_in_transaction(DB, _build, context={'language': 'en'})
    smtp.clear()
    yield result
    if test_tryton.backend.name != 'sqlite':
        test_tryton.drop_db()


def _load_polish():
    "What trytond-admin -l pl does: make Polish translatable, load pl.po"
    import client_portal
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    polish, = Lang.search([('code', '=', 'pl')])
    if polish.translatable:
        return      # loaded when the modules were activated
    Lang.write([polish], {'translatable': True})
    Translation.translation_import('pl', 'client_portal', os.path.join(
            os.path.dirname(client_portal.__file__), 'locale', 'pl.po'))


class Data(dict):
    __getattr__ = dict.__getitem__


def _build():
    from client_portal.demo import (
        create_client, create_invoice, create_news, create_portal_user,
        credit, nip, pay, setup_firm)
    pool = Pool()
    Document = pool.get('portal.document')
    Notification = pool.get('portal.notification')
    News = pool.get('portal.news')
    today = datetime.date.today()
    _load_polish()
    firm = setup_firm(today)
    a = create_client(firm, "Alfa Usługi sp. z o.o.", nip('677231994'),
        "ul. Wielicka 28", '30-552', "Kraków", 'biuro@alfa.example', '1')
    b = create_client(firm, "Beta Handel S.A.", nip('583301245'),
        "ul. Długa 45", '80-827', "Gdańsk", 'biuro@beta.example', '2')
    lines = [("Obsługa księgowa", 1, '1000.00', '23'),
        ("Szkolenie BHP", 2, '150.00', 'zw')]

    def day(n):
        return today - datetime.timedelta(days=n)
    invoices = {}
    invoices['a_paid'] = create_invoice(firm, a, day(60), lines)
    invoices['b_paid'] = create_invoice(firm, b, day(58), lines)
    invoices['a_partial'] = create_invoice(firm, a, day(45), lines)
    invoices['a_overdue'] = create_invoice(firm, a, day(40), lines)
    invoices['b_overdue'] = create_invoice(firm, b, day(39), lines)
    invoices['a_eur'] = create_invoice(firm, a, day(20),
        [("Consulting for an EU client", 3, '700.00', '23')],
        currency=firm.eur)
    invoices['a_open'] = create_invoice(firm, a, day(2), lines,
        term_days=30)
    invoices['b_open'] = create_invoice(firm, b, day(1), lines,
        term_days=30)
    pay(firm, invoices['a_paid'], invoices['a_paid'].total_amount, day(50))
    pay(firm, invoices['b_paid'], invoices['b_paid'].total_amount, day(50))
    pay(firm, invoices['a_partial'], Decimal('500.00'), day(40))
    invoices['a_credit'] = credit(firm, invoices['a_paid'], day(1))

    users = {
        'a': create_portal_user(a, 'jan@alfa.example', PASSWORD,
            "Jan", "Kowalski", 'en'),
        'a2': create_portal_user(a, 'ewa@alfa.example', PASSWORD,
            "Ewa", "Nowak", 'pl'),
        'b': create_portal_user(b, 'olga@beta.example', PASSWORD,
            "Olga", "Wiśniewska", 'en'),
        }
    users['a2'].notify_documents = False
    users['a2'].save()
    create_news(firm, [(1, "Nowość", "Treść.", "News", "Text.")])
    Notification.notify_overdue()
    documents = {key: Document.search([('origin', '=', str(inv))])[0].id
        for key, inv in invoices.items()}
    result = Data(
        today=today,
        company=firm.company.id,
        clients={'a': a.id, 'b': b.id},
        users={k: (u.id, u.email) for k, u in users.items()},
        documents=documents,
        numbers={k: inv.number for k, inv in invoices.items()},
        nips={'a': a.portal_base_data()['tax_number'],
            'b': b.portal_base_data()['tax_number']},
        notifications={
            key: [n.id for n in Notification.search([('party', '=', pid)])]
            for key, pid in [('a', a.id), ('b', b.id)]},
        news=[n.id for n in News.search([])],
        )
    # The clients' own invoicing: sub-accounts, contractors and products,
    # templates and documents
    from data_outgoing import build_outgoing
    result.update(build_outgoing(firm, a, b))
    from data_contractors import build_contractors
    result.update(build_contractors(firm, a, b))
    from data_subaccounts import build_subaccounts
    result.update(build_subaccounts(firm, a, b))
    from data_costs import build as build_costs
    result.update(build_costs(firm, result))
    result.update(build_exports(a, b, users))
    result.update(build_share_links(a, b, users, documents))
    last = _last_notification()
    from data_archive import build_archive
    from data_decisions import build_decisions
    from data_requests import build_requests
    result.update(build_decisions(firm, a, b))
    result.update(build_archive(a, b, users))
    result.update(build_requests(a, b, users))
    # Their steps' cards (a proforma, files, replies) would push the ones
    # the home page's tests read off its first cards; each test makes the
    # cards it checks
    _drop_notifications_after(last)
    return result


def _last_notification():
    Notification = Pool().get('portal.notification')
    last = Notification.search([], order=[('id', 'DESC')], limit=1)
    return last[0].id if last else 0


def _drop_notifications_after(last):
    Notification = Pool().get('portal.notification')
    Notification.delete(Notification.search([('id', '>', last)]))


@pytest.fixture(autouse=True, scope='module')
def notifications_as_found(request):
    """Each HTTP test module leaves the clients' notification cards as it
    found them: the home page shows the latest few, and the cards one
    module's steps make would push out those another module checks"""
    if os.path.dirname(str(request.node.path)) != os.path.join(ROOT, 'tests'):
        # The browser tests' own server and the emulators' tests
        yield
        return
    request.getfixturevalue('data')
    last = in_transaction(_last_notification)
    yield
    in_transaction(_drop_notifications_after, last)


def build_exports(a, b, users):
    "A finished export of each client's first user, for the isolation sweep"
    Export = Pool().get('portal.export')
    exports = Export.create([{'web_user': users[key].id, 'client': client.id,
                'report': 'reports', 'format': 'csv', 'query': '{}',
                'language': 'en', 'state': 'done', 'rows_total': 1,
                'rows_done': 1, 'file': b'Date,Number\r\n',
                'filename': 'report.csv'}
            for key, client in [('a', a), ('b', b)]])
    return {'exports': {'a': exports[0].id, 'b': exports[1].id}}


def build_share_links(a, b, users, documents):
    "A share link of each client's paid document, for the isolation sweep"
    pool = Pool()
    ShareLink = pool.get('portal.share.link')
    Document = pool.get('portal.document')
    links = {key: ShareLink.create_link(
            Document(documents[f'{key}_paid']), client, users[key], 7)[0].id
        for key, client in [('a', a), ('b', b)]}
    return {'share_links': links}


@pytest.fixture
def browser(data):
    return Browser()


@pytest.fixture
def as_a(data):
    browser = Browser()
    browser.login(data.users['a'][1])
    return browser


@pytest.fixture
def as_b(data):
    browser = Browser()
    browser.login(data.users['b'][1])
    return browser


