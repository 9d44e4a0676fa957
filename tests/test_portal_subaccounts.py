"""The sub-accounts page (C5): balances per currency, the movements of one
sub-account filtered by period, sorted, paged, updated by htmx; and the
home page's tiles. Client b never sees client a's money."""
import datetime
import re
from decimal import Decimal
from html import unescape

from portal_http import text

# data_outgoing paid 500 into each PLN sub-account; data_subaccounts paid
# two invoices in instalments (771 + 1410) into a's and refunded 246 in
# full; data_costs charged an approved cost invoice of 123 to a's and b's
# PLN sub-accounts and to a's EUR one, and b's of January 2026 another 123
A_PLN = Decimal('2558.00')
A_PLN_COUNT = 16
A_EUR = Decimal('177.00')
B_PLN = Decimal('254.00')
COST = Decimal('-123.00')


def amount(value):
    "An amount as an English page formats it"
    return Decimal(re.sub(r'[^\d.-]', '', value.replace('−', '-')))


def movements(response):
    """The movements table's rows as dicts of the cells' text, and the link
    of the document cell"""
    html = response.get_data(as_text=True)
    if '<tbody>' not in html:
        return []
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    rows = []
    for row in re.findall(r'<tr>(.*?)</tr>', body, re.S):
        cells = [' '.join(unescape(re.sub(r'<[^>]+>', ' ', c)).split())
            for c in re.findall(r'<td[^>]*>(.*?)</td>', row, re.S)]
        link = re.search(r'href="[^"]*/portal/(invoices/\d+)"', row)
        rows.append(dict(zip(('date', 'document', 'counterparty',
                        'description', 'amount', 'balance'), cells),
                link=link.group(1) if link else None))
    return rows


def found(response):
    return int(re.search(r'Movements found: (\d+)', text(response)).group(1))


def cards(response):
    "{currency code: balance} of the balance cards"
    return {code: amount(value) for code, value in re.findall(
            r'Sub-account (\w{3})\D*?([\d,]*\d\.\d{2})',
            text(response))}


def test_balances_and_movements(as_a, data):
    response = as_a.get('subaccounts')
    assert response.status_code == 200
    assert cards(response) == {'PLN': A_PLN, 'EUR': A_EUR}
    # PLN is shown first, newest first, with its running balance
    assert found(response) == A_PLN_COUNT
    rows = movements(response)
    assert len(rows) == A_PLN_COUNT
    assert amount(rows[0]['balance']) == A_PLN
    assert 'Movements of the PLN sub-account' in text(response)
    # The refund left the sub-account after the credit note, and the
    # approved cost invoice's charge
    refund, = [r for r in rows if amount(r['amount']) < COST]
    assert [amount(r['amount']) for r in rows].count(COST) == 1
    assert refund['document'] == data.subaccount_invoices['credit_note']
    assert amount(refund['amount']) == Decimal('-246.00')
    # The client's issued invoices link to their page; the buyer shows
    issued = [r for r in rows
        if r['document'] in data.subaccount_invoices['issued']]
    assert len(issued) == 12
    assert {r['link'] for r in issued} == {
        f'invoices/{i}' for i in data.subaccount_invoice_ids}
    assert {r['counterparty'] for r in issued} == {"Gamma Trade sp. z o.o."}


def test_eur_sub_account(as_a, data):
    response = as_a.get('subaccounts?currency=EUR')
    rows = movements(response)
    assert [(r['document'], amount(r['amount']), amount(r['balance']))
        for r in rows][0] == (
        data.subaccount_invoices['eur'], Decimal('300.00'), A_EUR)
    assert [amount(r['amount']) for r in rows][1:] == [COST]
    assert 'Movements of the EUR sub-account' in text(response)


def test_running_balance_is_the_same_in_any_order_and_page(as_a):
    def balances(**query):
        rows = []
        for page in (1, 2):
            rows += movements(as_a.get('subaccounts', query_string=dict(
                        query, per_page=10, page=page)))
        return {(r['date'], r['document'], r['amount']): r['balance']
            for r in rows}
    newest = balances()
    assert len(newest) == A_PLN_COUNT
    assert balances(sort='date', dir='asc') == newest
    assert balances(sort='amount', dir='asc') == newest
    assert balances(sort='amount', dir='desc') == newest


def test_sort(as_a):
    by_amount = [amount(r['amount']) for r in movements(
            as_a.get('subaccounts?sort=amount&dir=asc'))]
    assert by_amount == sorted(by_amount)
    assert by_amount[0] == Decimal('-246.00')
    by_amount = [amount(r['amount']) for r in movements(
            as_a.get('subaccounts?sort=amount&dir=desc'))]
    assert by_amount == sorted(by_amount, reverse=True)
    oldest = movements(as_a.get('subaccounts?sort=date&dir=asc'))
    assert amount(oldest[0]['amount']) == Decimal('101.00')
    assert amount(oldest[0]['balance']) == Decimal('101.00')
    assert amount(oldest[-1]['balance']) == A_PLN


def test_pagination(as_a):
    first = as_a.get('subaccounts?per_page=10')
    second = as_a.get('subaccounts?per_page=10&page=2')
    assert len(movements(first)) == 10 and len(movements(second)) == 6
    assert found(second) == A_PLN_COUNT
    # The page links keep the other values of the query
    links = re.findall(r'href="[^"]*subaccounts\?([^"]*page=2[^"]*)"',
        first.get_data(as_text=True))
    assert links and all('per_page=10' in unescape(l) for l in links)
    # Past the last page: the last page, not an error
    late = as_a.get('subaccounts?per_page=10&page=99')
    assert late.status_code == 200
    assert movements(late) == movements(second)


def test_period_filter(as_a, data):
    day = data.today - datetime.timedelta(days=70)
    end = data.today - datetime.timedelta(days=40)
    response = as_a.get('subaccounts', query_string={
            'from': day.isoformat(), 'to': end.isoformat(),
            'sort': 'date', 'dir': 'asc'})
    rows = movements(response)
    # Instalments on days 89, 85, … 69 and 59, 55, … 39
    assert [amount(r['amount']) for r in rows] == [Decimal(a) for a in (
            '156.00', '207.50', '218.50', '229.50', '240.50', '251.50')]
    page = text(response)
    opening = Decimal('101.00') + 112 + 123 + 134 + 145
    assert re.search(r'Balance at the start of the period: \D*615\.00',
        page)
    assert amount(rows[0]['balance']) == opening + Decimal('156.00')
    # The form keeps the period
    html = response.get_data(as_text=True)
    assert f'value="{day.isoformat()}"' in html
    assert f'value="{end.isoformat()}"' in html


def test_bad_input_is_reported_next_to_the_field(as_a):
    response = as_a.get('subaccounts?from=2026-13-45&to=yesterday')
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('Enter a valid date.') == 2
    assert 'id="f-from" name="from" value="2026-13-45"' in html
    assert 'aria-invalid="true"' in html
    # Ignored: every movement is listed
    assert found(response) == A_PLN_COUNT
    reversed_ = as_a.get('subaccounts?from=2026-06-30&to=2026-06-01')
    assert 'The end of the period is before its start.' in text(reversed_)
    for query in ('currency=XYZ', 'sort=balance', 'dir=up', 'per_page=7',
            'page=-1', 'page=abc'):
        response = as_a.get(f'subaccounts?{query}')
        assert response.status_code == 200, query
        assert 'could not be used' in text(response), query
        assert found(response) == A_PLN_COUNT, query


def test_htmx_partial(as_a):
    full = as_a.get('subaccounts?per_page=10')
    partial = as_a.get('subaccounts?per_page=10',
        headers={'HX-Request': 'true'})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert '<header' not in html and '<html' not in html
    assert 'Sub-account PLN' not in html
    assert movements(partial) == movements(full)
    # The form works without JavaScript too: a plain GET with its fields
    form = full.get_data(as_text=True)
    assert 'hx-get=' in form and 'method="get"' in form


def test_home_shows_the_balances(as_a, as_b):
    page = as_a.get('')
    assert cards(page) == {'PLN': A_PLN, 'EUR': A_EUR}
    assert '/portal/subaccounts?currency=EUR' in page.get_data(as_text=True)
    assert cards(as_b.get('')) == {'PLN': B_PLN, 'EUR': Decimal('0.00')}


def test_client_b_sees_only_its_own(as_b, data):
    response = as_b.get('subaccounts')
    assert cards(response) == {'PLN': B_PLN, 'EUR': Decimal('0.00')}
    page = text(response)
    for number in [*data.subaccount_invoices['issued'],
            data.subaccount_invoices['credit_note'],
            data.subaccount_invoices['eur']]:
        assert number not in page
    rows = movements(response)
    # Newest first: the payment, then the two cost invoices' charges
    assert [amount(r['amount']) for r in rows] == [
        Decimal('500.00'), COST, COST]
    assert rows[0]['document'] == data.outgoing_numbers['b_issued']
    # A charge shows the supplier's number and links the cost invoice
    assert rows[-1]['document'] == data.cost_numbers['b_old']
    assert f'/portal/costs/{data.costs["b_old"]}"' in response.get_data(
        as_text=True)
    assert movements(as_b.get('subaccounts?currency=EUR')) == []


def test_login_required(browser):
    response = browser.get('subaccounts')
    assert response.status_code == 303
    assert '/login' in response.headers['Location']


def test_balance_chart_and_export_as_shown(as_a, as_b, data):
    import csv
    import io

    import openpyxl
    start = (data.today - datetime.timedelta(days=70)).isoformat()
    query = f'currency=PLN&from={start}&sort=amount&dir=asc'
    response = as_a.get(f'subaccounts?{query}&per_page=100')
    html = response.get_data(as_text=True)
    # The balance over the period: a line through the end of each day
    assert '<polyline' in html and 'Balance of the PLN sub-account' in html
    shown = movements(response)
    assert len(shown) == found(response) > 3
    file = as_a.get(f'subaccounts/export.csv?{query}')
    assert file.status_code == 200
    lines = list(csv.reader(io.StringIO(
                file.get_data(as_text=True).lstrip('\ufeff'))))
    assert lines[0] == ['Date', 'Document', 'Counterparty', 'Details',
        'Amount', 'Balance']
    assert [(l[1] or '—', Decimal(l[4]), Decimal(l[5])) for l in lines[1:]] \
        == [(m['document'], amount(m['amount']), amount(m['balance']))
            for m in shown]
    xlsx = as_a.get(f'subaccounts/export.xlsx?{query}')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [Decimal(str(v[4])) for v in values] == [
        amount(m['amount']) for m in shown]
    assert sheet.cell(row=2, column=5).number_format.endswith('"PLN"')
    # b's export is b's sub-account: none of a's documents
    other = as_b.get('subaccounts/export.csv?currency=PLN')
    assert other.status_code == 200
    a_documents = {m['document'] for m in shown} - {'—'}
    assert not a_documents & {l.split(',')[1] for l in other.get_data(
                as_text=True).splitlines()[1:]}
    # A currency the client has no sub-account in, a bad date
    assert as_b.get('subaccounts/export.csv?currency=GBP').status_code == 400
    assert as_a.get('subaccounts/export.csv?from=x').status_code == 400
    assert as_a.get('subaccounts/export.ods').status_code == 404
