"""A client never sees or changes another client's data.

The sweep requests every portal route that takes an id, with every id that
belongs to the other client, and expects 404; a new route with an id fails
this test until its ids are listed in OWNED below."""
import re

import pytest
from data_payroll import payroll
from portal_http import read_only, text

from trytond.pool import Pool
from trytond.wsgi import app

# URL argument -> what the other client owns of it
OWNED = {
    'document_id': lambda data, other: [
        id_ for key, id_ in data.documents.items()
        if key.startswith(other + '_')] + [data.proformas[other]],
    'notification_id': lambda data, other: data.notifications[other],
    'invoice_id': lambda data, other: [
        id_ for key, id_ in data.outgoing.items()
        if key.startswith(other + '_')],
    'contractor_id': lambda data, other: [
        id_ for key, id_ in data.contractors.items()
        if key.startswith(other + '_')] + [data.buyers[other]],
    'product_id': lambda data, other: [
        id_ for key, id_ in data.products.items()
        if key.startswith(other + '_')],
    # One in each state (the drafts to page through add nothing)
    'cost_id': lambda data, other: [
        id_ for key, id_ in data.costs.items()
        if key.startswith(other + '_') and not key.startswith(
            other + '_page_')],
    # payroll_account's people, contracts in each state and draft bills
    'person_id': lambda data, other: [payroll(data)['people'][other]],
    'contract_id': lambda data, other: [
        id_ for key, id_ in payroll(data)['contracts'].items()
        if key.startswith(other + '_')],
    'export_id': lambda data, other: [data.exports[other]],
    'share_id': lambda data, other: [data.share_links[other]],
    'request_id': lambda data, other: [data.requests[other]],
    'folder_id': lambda data, other: [
        id_ for key, id_ in data.archive_folders.items()
        if key.startswith(other + '_')],
    'archive_file_id': lambda data, other: [
        id_ for key, id_ in data.archive_files.items()
        if key.startswith(other + '_')],
    'bill_id': lambda data, other: [
        id_ for key, id_ in payroll(data)['bills'].items()
        if key.startswith(other + '_')],
    }
# Arguments whose records are shared by every client of the firm
SHARED = {'news_id'}
# Arguments of records reached under another argument's record, which the
# route checks first: a cost invoice's correction. The sweep pairs the other
# client's parent ids with any id of these.
NESTED = {'attachment_id': 'request_id', 'correction_id': 'cost_id'}
# Arguments that are no record: a static file's name, the unknown path, an
# export's file format, a share link's token (tests/test_portal_share.py)
NOT_IDS = {'database_name', 'name', 'path', 'format', 'token'}
# Routes other modules add to the portal, which the sweep must reach too:
# the KSeF files (ksef/web.py), payroll_account's pages (web/)
MODULE_ROUTES = ['invoices/<id:invoice_id>.xml',
    'invoices/<id:invoice_id>/upo.xml', 'documents/<id:document_id>.xml',
    'documents/<id:document_id>/upo.xml',
    'contracts/people/<id:person_id>', 'contracts/<id:contract_id>',
    'contracts/<id:contract_id>.pdf', 'contracts/<id:contract_id>/amend',
    'contracts/<id:contract_id>/terminate',
    'contracts/<id:contract_id>/bills/new', 'contracts/bills/<id:bill_id>',
    'contracts/bills/<id:bill_id>.pdf']


def portal_rules():
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith('/<database_name>/portal/'):
            yield rule


def path_of(rule, values):
    "The rule's path inside the portal with its arguments replaced"
    path = rule.rule.replace('/<database_name>/portal/', '')
    for argument, value in values.items():
        path = re.sub(r'<(\w+:)?%s>' % argument, str(value), path)
    return path


def requests(browser, rule, path):
    "(method, response) for each method of the rule"
    for method in sorted(rule.methods - {'HEAD', 'OPTIONS'}):
        if method == 'GET':
            yield method, browser.get(path)
        else:
            yield method, browser.post(path)


def test_every_id_route_is_covered():
    for rule in portal_rules():
        for argument in rule.arguments - NOT_IDS:
            assert (argument in OWNED or argument in SHARED
                or argument in NESTED), (
                f"{rule.rule}: add {argument} to the isolation sweep")


def test_the_sweep_reaches_the_modules_routes(data):
    rules = {rule.rule for rule in portal_rules()}
    for route in MODULE_ROUTES:
        assert '/<database_name>/portal/' + route in rules, route


@pytest.mark.parametrize('me,other', [('a', 'b'), ('b', 'a')])
def test_other_clients_ids_are_404_on_every_route(request, data, me, other):
    browser = request.getfixturevalue(f'as_{me}')
    checked, expected = 0, 0
    for rule in portal_rules():
        arguments = rule.arguments - {'database_name'}
        owned = [a for a in arguments if a in OWNED]
        if not owned:
            continue
        argument, = owned
        ids = OWNED[argument](data, other)
        assert ids
        expected += len(ids) * len(rule.methods - {'HEAD', 'OPTIONS'})
        nested = {a: 1 for a in arguments if NESTED.get(a) == argument}
        for id_ in ids:
            path = path_of(rule, {argument: id_, **nested})
            for method, response in requests(browser, rule, path):
                assert response.status_code == 404, (method, path)
                body = response.get_data(as_text=True)
                assert 'you do not have access to it' in text(response)
                assert 'Traceback' not in body
                checked += 1
    assert checked == expected >= 10


def test_ids_that_do_not_exist_are_404(as_a):
    for path in ['documents/999999999', 'documents/999999999.pdf',
            'documents/0', 'news/999999999']:
        assert as_a.get(path).status_code == 404, path
    assert as_a.post('notifications/999999999').status_code == 404


# Beyond the database's integer, negative, not a number
BAD_IDS = ['99999999999999999999', '2147483648', '-1', '1e3', '١٢']


@pytest.mark.parametrize('bad', BAD_IDS)
def test_ids_a_route_cannot_hold_are_404_on_every_route(as_a, bad):
    for rule in portal_rules():
        arguments = rule.arguments - NOT_IDS
        if not arguments:
            continue
        path = path_of(rule, {argument: bad for argument in arguments})
        for method, response in requests(as_a, rule, path):
            assert response.status_code == 404, (method, path)
            assert 'Traceback' not in response.get_data(as_text=True)


def test_lists_filters_and_totals_hold_only_own_documents(as_a, data):
    others = [n for k, n in data.numbers.items() if k.startswith('b_')]
    pages = [as_a.get('documents?per_page=100'),
        as_a.get('documents?tab=paid'), as_a.get('documents?tab=overdue'),
        as_a.get('')]
    for number in others:
        pages.append(as_a.get('documents', query_string={'q': number}))
    for response in pages:
        page = text(response)
        for number in others:
            assert number not in page
    assert 'Beta Handel' not in text(as_a.get('company'))


def _file_text(response):
    "The text of a page, a CSV or every cell of an XLSX"
    if response.headers['Content-Type'].startswith('application/vnd'):
        import io

        import openpyxl
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
        return ' '.join(str(v) for sheet in book for row in
            sheet.iter_rows(values_only=True) for v in row if v is not None)
    return response.get_data(as_text=True)


@pytest.mark.parametrize('me,other', [('a', 'b'), ('b', 'a')])
def test_reports_and_exports_hold_only_own_rows(request, data, me, other):
    "Every report page and file, unfiltered and filtered"
    from test_portal_reports import expected
    browser = request.getfixturevalue(f'as_{me}')
    mine = {d.number for d in expected(data.clients[me])}
    others = {d.number for d in expected(data.clients[other])} - mine
    assert others
    year = data.today.year
    for path in ['reports?per_page=100', 'reports/export.csv',
            'reports/export.xlsx', 'reports/export.csv?direction=cost',
            'reports/export.xlsx?method=transfer&sort=counterparty',
            f'reports/monthly?year={year}', f'reports/monthly.csv?year={year}',
            'reports/cash', 'reports/cash.xlsx?currency=PLN',
            'subaccounts?per_page=100', 'subaccounts/export.csv',
            'subaccounts/export.xlsx']:
        response = browser.get(path)
        assert response.status_code == 200, path
        content = _file_text(response)
        assert not [n for n in others if n in content], path


def test_reading_another_clients_notification_does_not_mark_it(as_a, data):
    notification = data.notifications['b'][0]
    as_a.post(f'notifications/{notification}')
    assert read_only(_read_at, notification) is None


def _read_at(notification_id):
    return Pool().get('portal.notification')(notification_id).read_at


def test_session_of_one_client_is_not_reused_for_another(data, as_a, as_b):
    "Alternating requests: the per-process rule cache keeps them apart"
    for _ in range(2):
        a_page = text(as_a.get('documents?per_page=100'))
        b_page = text(as_b.get('documents?per_page=100'))
        assert data.numbers['a_eur'] in a_page
        assert data.numbers['a_eur'] not in b_page
        assert data.numbers['b_open'] in b_page
        assert data.numbers['b_open'] not in a_page


@pytest.mark.parametrize('language,message', [
        ('en', 'you do not have access to it'),
        ('pl', 'brak do niej dostępu')])
@pytest.mark.parametrize('method', ['GET', 'HEAD'])
def test_unknown_portal_path_is_the_branded_404(data, language, message,
        method):
    from portal_http import Browser
    browser = Browser(language=language)
    for path in ['no-such-page', 'documents/1/extra', 'static/../x']:
        response = browser.client.open(browser.url(path), method=method,
            headers={'Accept-Language': language},
            base_url='https://localhost')
        assert response.status_code == 404, (path, response.status_code)
        assert response.headers['Content-Type'].startswith('text/html')
        if method == 'GET':
            assert message in text(response), text(response)
            assert f'<html lang="{language}"' in response.get_data(
                as_text=True)


def test_paths_outside_the_portal_keep_trytons_behaviour(data):
    from portal_http import Browser
    browser = Browser()
    response = browser.client.get(f'/{browser.database}/no-such-path')
    assert response.status_code == 405
    assert 'you do not have access' not in response.get_data(as_text=True)
