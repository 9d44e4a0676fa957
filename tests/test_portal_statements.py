"""What a portal page costs in SQL statements: few, and the same whatever
the number of documents. What every page reads and rarely changes
(branding, languages, currencies) comes from trytond's caches, cleared
when it is written."""
import contextlib

import pytest
from portal_http import in_transaction, text

from trytond.backend.postgresql.database import LoggingCursor
from trytond.backend.sqlite.database import SQLiteCursor
from trytond.pool import Pool

LIMITS = {
    'documents': 8,
    'documents?tab=unpaid&sort=total&dir=desc': 8,
    '': 10,
    'document': 10,
    'pdf': 6,
    }


@contextlib.contextmanager
def counting(monkeypatch):
    statements = []
    for cursor in (SQLiteCursor, LoggingCursor):
        original = cursor.execute

        def execute(self, query, *args, _original=original, **kwargs):
            statements.append(str(query))
            return _original(self, query, *args, **kwargs)
        monkeypatch.setattr(cursor, 'execute', execute, raising=False)
    yield statements
    monkeypatch.undo()


def statements_of(browser, path, monkeypatch):
    "Statements of the second request: per-process caches are warm"
    assert browser.get(path).status_code == 200, path
    with counting(monkeypatch) as statements:
        response = browser.get(path)
    assert response.status_code == 200, path
    return statements


def _path(data, name):
    document = data.documents['a_partial']
    return {'document': f'documents/{document}',
        'pdf': f'documents/{document}.pdf'}.get(name, name)


@pytest.mark.parametrize('name', list(LIMITS))
def test_statements_per_page(as_a, data, monkeypatch, name):
    statements = statements_of(as_a, _path(data, name), monkeypatch)
    assert len(statements) <= LIMITS[name], '\n'.join(statements)


def test_documents_page_statements_do_not_grow_with_documents(
        as_a, as_b, data, monkeypatch):
    counts = {len(statements_of(browser, f'documents?per_page={n}',
                monkeypatch))
        for browser in (as_a, as_b) for n in (10, 100)}
    assert len(counts) == 1, counts


def _rename_portal(name):
    Company = Pool().get('company.company')
    company, = Company.search([])
    company.portal_name = name
    company.save()


def test_cached_branding_follows_a_change(as_a, data):
    assert 'Portico Test Portal' not in text(as_a.get('documents'))
    in_transaction(_rename_portal, 'Portico Test Portal')
    try:
        assert 'Portico Test Portal' in text(as_a.get('documents'))
    finally:
        in_transaction(_rename_portal, None)
    assert 'Portico Test Portal' not in text(as_a.get('documents'))


def _set_decimal_point(code, point):
    Lang = Pool().get('ir.lang')
    lang, = Lang.search([('code', '=', code)])
    old = lang.decimal_point
    lang.decimal_point = point
    lang.save()
    return old


def test_cached_number_format_follows_a_change(as_a, data):
    "English amounts use the language's separators, also after a change"
    assert '1,530.00' in text(as_a.get('documents?tab=overdue'))
    old = in_transaction(_set_decimal_point, 'en', '·')
    try:
        assert '1,530·00' in text(as_a.get('documents?tab=overdue'))
    finally:
        in_transaction(_set_decimal_point, 'en', old)
