"""The home page: what is due, overdue and owed to the client as figures
that add up; overdue documents as one notification a day."""
import datetime
import re
from decimal import Decimal

from portal_http import Browser, in_transaction, read_only, text
from test_portal_statements import statements_of

from trytond.pool import Pool


def _totals(party_id):
    "The home tiles' figures and the documents' remaining amounts"
    pool = Pool()
    Document = pool.get('portal.document')
    documents = Document.search([
            ('party', '=', party_id), ('state', '=', 'issued')])
    remaining = {}
    for document in documents:
        code = document.currency.code
        remaining[code] = remaining.get(code, Decimal(0)) + document.remaining
    totals = Document.totals_by_currency([('party', '=', party_id)])
    return remaining, [
        {k: (v.code if k == 'currency' else v) for k, v in row.items()}
        for row in totals]


def test_three_figures_add_up_to_the_balance(data):
    remaining, totals = read_only(_totals, data.clients['a'])
    assert {r['currency'] for r in totals} == set(remaining)
    for row in totals:
        assert row['not_due'] >= 0 and row['overdue'] >= 0
        assert row['credit'] >= 0
        assert row['not_due'] + row['overdue'] - row['credit'] \
            == row['balance'] == remaining[row['currency']]
    pln, = [r for r in totals if r['currency'] == 'PLN']
    # Client a has overdue and not yet due invoices
    assert pln['overdue'] > 0 and pln['not_due'] > 0


def _amount(value):
    return Decimal(value.replace('\xa0', '').replace(' ', '').replace(
            ',', '').replace('zł', '').replace('PLN', ''))


def test_home_tile_shows_the_figures(as_a, data):
    html = as_a.get('').get_data(as_text=True)
    _, totals = read_only(_totals, data.clients['a'])
    pln, = [r for r in totals if r['currency'] == 'PLN']
    page = text(as_a.get(''))
    for label in ['Not yet due', 'Overdue', 'Credit in your favour',
            'Balance to pay']:
        assert label in page, label
    assert 'tab=overdue&amp;currency=PLN' in html
    tile = page[page.index('PLN Not yet due'):]
    figures = re.findall(r'-?[\d,]+\.\d{2}', tile)[:4]
    not_due, overdue, credit, balance = [_amount(f) for f in figures]
    # The credit is shown subtracted (its sign may stand before the symbol)
    assert (not_due, overdue, abs(credit), balance) == (
        pln['not_due'], pln['overdue'], pln['credit'], pln['balance'])


def _notifications(party_id):
    Notification = Pool().get('portal.notification')
    return [(n.kind, n.document.id if n.document else None,
            n.document_count, n.read_at is not None)
        for n in Notification.search([('party', '=', party_id)])]


def test_overdue_documents_are_one_notification_a_day(as_a, data):
    overdue = [n for n in read_only(_notifications, data.clients['a'])
        if n[0] == 'overdue']
    assert len(overdue) == 1, overdue
    kind, document, count, _ = overdue[0]
    assert document is None and count >= 2
    # The cron runs again: nothing new is announced twice
    in_transaction(_notify_overdue)
    assert read_only(_notifications, data.clients['a']).count(
        overdue[0]) == 1
    assert len([n for n in read_only(_notifications, data.clients['a'])
            if n[0] == 'overdue']) == 1
    # A document that becomes overdue later the same day joins it
    due_date = in_transaction(_make_overdue, data.documents['a_open'])
    try:
        in_transaction(_notify_overdue)
        overdue = [n for n in read_only(_notifications, data.clients['a'])
            if n[0] == 'overdue']
        assert len(overdue) == 1 and overdue[0][2] == count + 1, overdue
        page = text(as_a.get(''))
        assert f'{count + 1} documents became overdue' in page
    finally:
        in_transaction(_restore, data.documents['a_open'], due_date,
            data.clients['a'], count)


def _notify_overdue():
    Pool().get('portal.notification').notify_overdue()


def _make_overdue(document_id):
    "The due date passes (the read model's date moved for the test)"
    Document = Pool().get('portal.document')
    document = Document(document_id)
    due_date = document.due_date
    Document.write([document], {
            'due_date': datetime.date.today() - datetime.timedelta(days=1)})
    return due_date


def _restore(document_id, due_date, party_id, count):
    "The document and the day's notification as the other tests expect"
    pool = Pool()
    Document = pool.get('portal.document')
    Notification = pool.get('portal.notification')
    Document.write([Document(document_id)], {
            'due_date': due_date, 'overdue_announced': False})
    notifications = Notification.search([
            ('party', '=', party_id), ('kind', '=', 'overdue')])
    Notification.write(notifications, {'document_count': count})


def test_overdue_card_in_polish(data):
    "The card's count takes the Polish plural form (1, 2-4, 5+)"
    browser = Browser(language='pl')
    browser.login(data.users['a2'][1])
    page = text(browser.get(''))
    (count,), = [[int(c)] for c in re.findall(
                r'(\d+) dokument(?: jest|y są|ów jest) po terminie', page)]
    form = ('dokument jest' if count == 1
        else 'dokumenty są' if count % 10 in (2, 3, 4)
        and count % 100 not in (12, 13, 14)
        else 'dokumentów jest')
    assert f'{count} {form} po terminie' in page, page
    assert 'Oznacz wszystkie jako przeczytane' in page


def test_opening_the_overdue_notification_goes_to_the_overdue_tab(
        as_a, data):
    notification_id = read_only(_overdue_notification, data.clients['a'])
    response = as_a.post(f'notifications/{notification_id}')
    assert response.status_code == 303
    assert response.headers['Location'].endswith('documents?tab=overdue')


def _overdue_notification(party_id):
    Notification = Pool().get('portal.notification')
    notification, = Notification.search([
            ('party', '=', party_id), ('kind', '=', 'overdue')])
    return notification.id


def test_mark_all_as_read_touches_only_own_notifications(as_a, as_b, data):
    b_before = read_only(_notifications, data.clients['b'])
    assert any(not read for *_, read in b_before)
    assert 'Mark all as read' in text(as_a.get(''))
    response = as_a.post('notifications/read-all')
    assert response.status_code == 303
    assert all(read for *_, read in
        read_only(_notifications, data.clients['a']))
    assert read_only(_notifications, data.clients['b']) == b_before
    assert 'Mark all as read' not in text(as_a.get(''))
    # Without the CSRF token nothing happens
    assert as_b.post('notifications/read-all', csrf=False
        ).status_code == 403
    assert read_only(_notifications, data.clients['b']) == b_before


def _add_notifications(party_id, count):
    "New document notifications for the client's documents"
    pool = Pool()
    Document = pool.get('portal.document')
    Notification = pool.get('portal.notification')
    documents = Document.search([('party', '=', party_id)])
    return [n.id for n in Notification.create([{
                    'party': party_id, 'kind': 'new_document',
                    'document': documents[i % len(documents)].id,
                    } for i in range(count)])]


def _delete_notifications(ids):
    Notification = Pool().get('portal.notification')
    Notification.delete(Notification.browse(ids))


def test_home_statements_do_not_grow_with_notifications(
        as_a, data, monkeypatch):
    """The cards are read in one go: the documents' numbers, not the rows,
    and no query for a kind of record no card links to"""
    before = statements_of(as_a, '', monkeypatch)
    added = in_transaction(_add_notifications, data.clients['a'], 8)
    try:
        after = statements_of(as_a, '', monkeypatch)
    finally:
        in_transaction(_delete_notifications, added)
    # A kind of card costs one query at most, whatever the number of cards
    assert len(after) <= len(before), '\n'.join(after)
    documents = [s for s in after if 'FROM "portal_document"' in s
        and 'SUM(' not in s]
    assert len(documents) == 1, documents
    # Only their numbers, not every column of the documents
    assert '"number"' in documents[0], documents[0]
    assert '"total"' not in documents[0], documents[0]
