"""The reports page (C5): the client's documents of every kind filtered by
period, income or cost, kind, payment method, counterparty, product and
currency; totals per currency; the XLSX and CSV downloads hold exactly the
page's rows in its order with its totals. Client b never sees a's."""
import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape
from typing import NamedTuple

import openpyxl

from portal_http import Browser, in_transaction, read_only, text


def rows(response):
    "[(number, kind cell, total)] of the report table, in the page's order"
    html = response.get_data(as_text=True)
    if '<tbody>' not in html:
        return []
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    result = []
    for row in re.findall(r'<tr>(.*?)</tr>', body, re.S):
        cells = [' '.join(unescape(re.sub(r'<[^>]+>', ' ', c)).split())
            for c in re.findall(r'<td[^>]*>(.*?)</td>', row, re.S)]
        total = re.sub(r'[^\d.-]', '', cells[7].rsplit(' ', 1)[0]
            .replace('−', '-'))
        result.append((cells[1], cells[2], Decimal(total)))
    return result


def found(response):
    return int(re.search(r'Documents found: (\d+)', text(response)).group(1))


class Doc(NamedTuple):
    date: datetime.date
    number: str
    total: Decimal
    method: str
    direction: str
    paid: bool
    currency: str
    untaxed: Decimal


def expected(client, **filters):
    """The client's documents of every kind, read from the documents
    themselves (not the report layer)"""
    from trytond.pool import Pool

    def read():
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Cost = pool.get('portal.cost.invoice')
        Document = pool.get('portal.document')
        found = []
        for i in Invoice.search([('portal_issuer', '=', client),
                    ('type', '=', 'out'),
                    ('portal_kind', 'in', ['invoice', 'correction']),
                    ('state', 'in', ['posted', 'paid'])]):
            found.append(Doc(i.invoice_date, i.number, i.total_amount,
                    i.portal_payment_method, 'income', i.state == 'paid',
                    i.currency.code, i.untaxed_amount))
        for c in Cost.search([('client', '=', client),
                    ('state', 'in', ['approved', 'paid'])]):
            found.append(Doc(c.invoice_date, c.number, c.total_amount,
                    c.payment_method, 'cost', c.state == 'paid',
                    c.currency.code, c.untaxed_amount))
        for d in Document.search([('party', '=', client),
                    ('document_type', '!=', 'proforma'),
                    ('state', 'in', ['issued', 'paid'])]):
            found.append(Doc(d.date, d.number, d.total, None, 'cost',
                    d.state == 'paid', d.currency.code, d.tax_base))
        return found
    documents = read_only(read)
    if 'method' in filters:
        documents = [d for d in documents if d.method == filters['method']]
    if 'direction' in filters:
        documents = [d for d in documents
            if d.direction == filters['direction']]
    if 'start' in filters:
        documents = [d for d in documents
            if filters['start'] <= d.date <= filters['end']]
    return documents


def test_every_kind_of_the_clients_documents(as_a, data):
    response = as_a.get('reports?per_page=100')
    assert response.status_code == 200
    documents = expected(data.clients['a'])
    assert found(response) == len(documents) > 5
    listed = rows(response)
    assert sorted(n for n, _, _ in listed) == sorted(
        d.number for d in documents)
    kinds = {k for _, k, _ in listed}
    assert {'Income Sales invoice', 'Cost Cost invoice',
        'Cost Invoice from the firm'} <= kinds, kinds
    # The totals rows: per currency and direction, as the documents sum
    footer = response.get_data(as_text=True).split('<tfoot>')[1]
    totals = {}
    for label, cells in re.findall(
            r'<th scope="row" colspan="5">(.*?)</th>(.*?)</tr>', footer,
            re.S):
        kind, code = re.match(r'(\w+) in (\w{3}):', label).groups()
        totals[kind, code] = money(re.findall(
                r'<td[^>]*>(.*?)<span', cells, re.S)[2])
    assert totals == {
        (kind, code): sum(d.total for d in documents
            if d.currency == code and d.direction == direction)
        for kind, direction in [('Income', 'income'), ('Cost', 'cost')]
        for code in {d.currency for d in documents
            if d.direction == direction}}


def test_the_other_clients_documents_never_appear(as_a, as_b, data):
    a_numbers = {n for n, _, _ in rows(as_a.get('reports?per_page=100'))}
    b_response = as_b.get('reports?per_page=100')
    b_numbers = {n for n, _, _ in rows(b_response)}
    assert b_numbers == {d.number for d in expected(data.clients['b'])}
    only_a = a_numbers - b_numbers
    assert only_a
    page = text(b_response)
    assert not [n for n in only_a if n in page]
    # The export of b: b's rows only
    export = as_b.get('reports/export.csv')
    assert export.status_code == 200
    numbers = {r[1] for r in csv.reader(io.StringIO(
                export.get_data(as_text=True).lstrip('\ufeff')))}
    assert not only_a & numbers


def _filters(data):
    today = data.today
    start = today.replace(day=1) - datetime.timedelta(days=90)
    return start, today


def test_export_is_exactly_the_filtered_page(as_a, data):
    start, end = _filters(data)
    query = (f'from={start.isoformat()}&to={end.isoformat()}'
        '&method=transfer&sort=total&dir=asc')
    page = as_a.get(f'reports?{query}&per_page=100')
    assert page.status_code == 200
    shown = rows(page)
    documents = expected(data.clients['a'], method='transfer',
        start=start, end=end)
    assert len(shown) == len(documents) > 1
    assert [t for _, _, t in shown] == sorted(t for _, _, t in shown)

    xlsx = as_a.get(f'reports/export.xlsx?{query}')
    assert xlsx.status_code == 200
    assert xlsx.headers['Content-Type'].startswith(
        'application/vnd.openxmlformats')
    assert 'attachment' in xlsx.headers['Content-Disposition']
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    header, body = values[0], values[1:]
    assert header[:3] == ('Date', 'Number', 'Kind')
    data_rows = [r for r in body if r[0] != 'Total']
    assert [(r[1], Decimal(str(r[9]))) for r in data_rows] == [
        (n, t) for n, _, t in shown]
    assert all(isinstance(r[0], datetime.datetime) for r in data_rows)
    assert sheet.cell(row=2, column=10).number_format.endswith('"PLN"') \
        or data_rows[0][6] != 'PLN'
    totals = [r for r in body if r[0] == 'Total']
    assert totals
    for total in totals:
        currency, direction = total[6], total[3]
        assert Decimal(str(total[9])).quantize(Decimal('0.01')) == sum(
            Decimal(str(r[9])) for r in data_rows
            if r[6] == currency and r[3] == direction).quantize(
                Decimal('0.01'))

    file = as_a.get(f'reports/export.csv?{query}')
    assert file.status_code == 200
    assert file.headers['Content-Type'].startswith('text/csv')
    lines = list(csv.reader(io.StringIO(
                file.get_data(as_text=True).lstrip('\ufeff'))))
    assert lines[0][:2] == ['Date', 'Number']
    csv_rows = [r for r in lines[1:] if r[0] != 'Total']
    assert [(r[1], Decimal(r[9])) for r in csv_rows] == [
        (n, t) for n, _, t in shown]
    assert len([r for r in lines[1:] if r[0] == 'Total']) == len(totals)


def test_polish_export(data):
    browser = Browser(language='pl')
    browser.login('ewa@alfa.example')
    file = browser.get('reports/export.csv?direction=income')
    assert file.status_code == 200
    assert 'raport.csv' in file.headers['Content-Disposition']
    lines = list(csv.reader(io.StringIO(
                file.get_data(as_text=True).lstrip('\ufeff')), delimiter=';'))
    assert lines[0][:3] == ['Data', 'Numer', 'Rodzaj']
    # Decimal comma, dates ISO
    assert re.fullmatch(r'-?\d+,\d{2}', lines[1][9]), lines[1]
    assert re.fullmatch(r'\d{4}-\d{2}-\d{2}', lines[1][0])
    assert len(lines) - 1 == len(expected(data.clients['a'],
            direction='income')) + len({r[6] for r in lines[1:]})
    xlsx = browser.get('reports/export.xlsx?direction=income')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.cell(row=1, column=9).value == 'VAT'
    assert sheet.title == 'Dokumenty'


def test_product_and_counterparty(as_a, data):
    from trytond.pool import Pool

    def set_product(product):
        """A product on the first line of a's first issued invoice (by SQL:
        a posted invoice's lines are read-only)"""
        from trytond.transaction import Transaction
        Line = Pool().get('account.invoice.line')
        line, = Line.search([('invoice.portal_issuer', '=', data.clients['a']),
                ('invoice.state', 'in', ['posted', 'paid'])],
            order=[('id', 'ASC')], limit=1)
        table = Line.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.portal_product], [product],
                where=table.id == line.id))
        return line.invoice.number
    product = data.products['a_pln']
    number = in_transaction(set_product, product)
    try:
        response = as_a.get(f'reports?product={product}&per_page=100')
        assert [n for n, _, _ in rows(response)] == [number]
    finally:
        in_transaction(set_product, None)
    # Case-insensitive, part of the name: the buyer Gamma Trade's
    listed = rows(as_a.get('reports?counterparty=gAmMa&per_page=100'))
    every = rows(as_a.get('reports?per_page=100'))
    assert 0 < len(listed) < len(every)


def test_bad_filters(as_a, as_b, data):
    response = as_a.get('reports?from=2026-12-01&to=2026-01-01&method=cheque')
    assert response.status_code == 200
    page = text(response)
    assert 'The end of the period is before its start.' in page
    assert 'Choose a value from the list.' in page
    assert 'value="cheque"' not in response.get_data(as_text=True)
    # Another client's product is no choice of b's
    def a_product():
        from trytond.pool import Pool
        Product = Pool().get('portal.product')
        return Product.search([('client', '=', data.clients['a'])],
            limit=1)[0].id
    product = read_only(a_product)
    response = as_b.get(f'reports?product={product}')
    assert 'Choose a value from the list.' in text(response)
    assert as_a.get('reports/export.csv?from=nonsense').status_code == 400
    assert as_a.get('reports/export.pdf').status_code == 404


def _cells(response, css):
    html = response.get_data(as_text=True)
    table = html.split(f'class="table table-sm align-middle {css}', 1)[1]
    body = table.split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    return [[' '.join(unescape(re.sub(r'<[^>]+>', ' ', c)).split())
            for c in re.findall(r'<t[hd][^>]*>(.*?)</t[hd]>', row, re.S)]
        for row in re.findall(r'<tr>(.*?)</tr>', body, re.S)]


def money(cell):
    return Decimal(re.sub(r'[^\d.-]', '', cell.replace('−', '-')))


def test_income_and_costs_by_month(as_a, data):
    year = data.today.year
    response = as_a.get(f'reports/monthly?year={year}&currency=PLN')
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<svg' in html and '<rect' in html
    table = _cells(response, 'portal-monthly')
    assert [r[0] for r in table][:2] == ['January', 'February']
    # Each month's net income and costs: the PLN documents of the month
    documents = expected(data.clients['a'],
        start=datetime.date(year, 1, 1), end=datetime.date(year, 12, 31))
    for month, row in enumerate(table, 1):
        for column, direction in ((1, 'income'), (2, 'cost')):
            assert money(row[column]) == sum(d.untaxed for d in documents
                if d.date.month == month and d.currency == 'PLN'
                and d.direction == direction), (row, direction)
    income = sum(money(r[1]) for r in table)
    assert income
    file = as_a.get(f'reports/monthly.csv?year={year}&currency=PLN')
    lines = list(csv.reader(io.StringIO(
                file.get_data(as_text=True).lstrip('\ufeff'))))
    assert lines[0] == ['Month', 'Income', 'Costs', 'Result']
    assert len(lines) == 14
    assert Decimal(lines[13][1]) == income
    assert [Decimal(l[3]) for l in lines[1:13]] == [
        money(r[3]) for r in table]
    xlsx = as_a.get(f'reports/monthly.xlsx?year={year}&currency=PLN')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert Decimal(str(sheet.cell(row=14, column=2).value)).quantize(
        Decimal('0.01')) == income
    assert as_a.get('reports/monthly?year=1800').status_code == 200
    assert 'Choose a value from the list.' in text(
        as_a.get('reports/monthly?currency=XYZ'))


def test_payments_by_method(as_a, data):
    start = data.today.replace(month=1, day=1) - datetime.timedelta(
        days=365)
    query = f'from={start.isoformat()}&to={data.today.isoformat()}'
    response = as_a.get(f'reports/cash?{query}&currency=PLN')
    assert response.status_code == 200
    table = _cells(response, 'portal-cash')
    paid = [d for d in expected(data.clients['a'], start=start,
            end=data.today) if d.paid and d.currency == 'PLN']
    assert paid
    labels = {'transfer': 'Bank transfer', 'cash': 'Cash', 'card': 'Card',
        'compensation': 'Compensation', 'other': 'Other', None: 'Not stated'}
    assert {r[0]: (int(r[1]), money(r[2]), int(r[3]), money(r[4]))
        for r in table} == {labels[m]: (
            len([d for d in paid if d.method == m
                    and d.direction == 'income']),
            sum(d.total for d in paid if d.method == m
                and d.direction == 'income'),
            len([d for d in paid if d.method == m and d.direction == 'cost']),
            sum(d.total for d in paid if d.method == m
                and d.direction == 'cost'))
        for m in {d.method for d in paid}}
    file = as_a.get(f'reports/cash.csv?{query}&currency=PLN')
    lines = list(csv.reader(io.StringIO(
                file.get_data(as_text=True).lstrip('\ufeff'))))
    assert [l[0] for l in lines[1:-1]] == [r[0] for r in table]
    assert lines[-1][0] == 'Total'
    assert int(lines[-1][1]) + int(lines[-1][3]) == len(paid)
    assert as_a.get(f'reports/cash.csv?{query}&currency=XYZ'
        ).status_code == 400


def test_a_large_export_is_queued_and_offered_when_ready(as_a, as_b, data):
    from trytond import config
    every = as_a.get('reports/export.csv?sort=number&dir=asc')
    assert every.status_code == 200
    threshold = config.get('portal', 'export_queue_rows')
    config.set('portal', 'export_queue_rows', '3')
    try:
        response = as_a.get('reports/export.csv?sort=number&dir=asc')
    finally:
        config.set('portal', 'export_queue_rows', threshold or '10000')
    # Without a worker the task ran right after the request's commit
    assert response.status_code == 303
    path = response.headers['Location'].split('/portal/', 1)[1]
    page = as_a.get(path)
    assert page.status_code == 200
    assert 'Ready' in text(page) and 'Download report.csv' in text(page)
    export_id = path.split('/')[1]
    file = as_a.get(f'exports/{export_id}/download')
    assert file.status_code == 200
    assert file.get_data() == every.get_data()
    assert 'report.csv' in text(as_a.get('exports'))
    # Another client's user: not found, and not listed
    assert as_b.get(path).status_code == 404
    assert as_b.get(f'exports/{export_id}/download').status_code == 404
    assert f'exports/{export_id}' not in as_b.get('exports').get_data(
        as_text=True)


def test_report_pages_in_polish(data):
    browser = Browser(language='pl')
    browser.login('ewa@alfa.example')
    for path in ['reports', 'reports/monthly', 'reports/cash', 'exports',
            'subaccounts']:
        response = browser.get(path)
        assert response.status_code == 200, path
    page = text(browser.get('reports?per_page=100'))
    assert 'Znalezione dokumenty' in page or 'Znaleziono' in page, page
    assert re.search(r'Przychód w PLN: \d+ dokument', page), page
