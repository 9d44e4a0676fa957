"The home page and the financial documents table, page and PDF (seed 004)"
import io
import re
from decimal import Decimal

import pytest
from portal_http import in_transaction, read_only, text
from pypdf import PdfReader

from trytond.pool import Pool


def rows(response):
    "Document numbers listed in the table, in order"
    html = response.get_data(as_text=True)
    table = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0] \
        if '<tbody>' in html else ''
    return re.findall(r'/documents/\d+">([^<]+)</a>', table)


def amount(value):
    "An amount as the page formats it, in either language"
    value = re.sub(r'[^\d,.-]', '', value)
    if re.search(r',\d{2}$', value):
        value = value.replace('.', '').replace(',', '.')
    return Decimal(value.replace(',', ''))


def count(response):
    return int(re.search(r'Documents found: (\d+)', text(response)).group(1))


def test_home_shows_news_notifications_and_what_is_due(as_a, data):
    response = as_a.get('')
    assert response.status_code == 200
    page = text(response)
    assert 'Welcome, Jan' in page
    assert 'News' in page and 'Notifications' in page
    # Overdue documents are one notification of the day, not one each
    assert re.search(r'\d+ documents? became overdue', page), page
    # What is due per currency: PLN and EUR tiles
    assert page.count('Not yet due') == 2
    assert data.numbers['b_overdue'] not in page


def test_polish_pages_and_formats(data):
    "A user who chose Polish gets Polish pages, numbers and dates"
    from portal_http import Browser
    browser = Browser()
    browser.login(data.users['a2'][1])
    page = text(browser.get('documents?currency=PLN&tab=overdue'))
    for word in ['Dokumenty', 'Numer', 'Termin płatności', 'Do zapłaty',
            'Po terminie', 'Wyloguj się', 'Znalezione dokumenty']:
        assert word in page, word
    # 1 530,00 with a (non-breaking) space between thousands
    assert re.search(r'1[\s\xa0]530,00', page)
    assert data.today.strftime('%d.%m.%Y') in text(browser.get(''))\
        or 'Dzień dobry, Ewa' in text(browser.get(''))


def test_table_has_every_column(as_a):
    page = text(as_a.get('documents'))
    for column in ['Number', 'Date', 'Due date', 'Type', 'Currency',
            'Tax base', 'VAT', 'Total', 'Paid', 'Remaining', 'Downloaded']:
        assert column in page


def own_count(party_id):
    return Pool().get('portal.document').search_count(
        [('party', '=', party_id)])


def test_tabs(as_a, data):
    everything = as_a.get('documents')
    unpaid = as_a.get('documents?tab=unpaid')
    paid = as_a.get('documents?tab=paid')
    overdue = as_a.get('documents?tab=overdue')
    assert count(everything) == read_only(own_count, data.clients['a'])
    assert set(rows(paid)) == {data.numbers['a_paid']}
    assert data.numbers['a_partial'] in rows(unpaid)
    assert data.numbers['a_paid'] not in rows(unpaid)
    assert set(rows(overdue)) == {data.numbers['a_overdue'],
        data.numbers['a_partial'], data.numbers['a_eur']}
    # Open credit notes are neither: the firm owes them to the client
    credits = len(rows(as_a.get('documents?type=credit_note&remaining_max=-0.01')))
    # Nor are the firm's proformas: no debt until the invoice (data_decisions)
    proformas = len(rows(as_a.get('documents?type=proforma')))
    assert count(unpaid) + count(paid) + credits + proformas == count(
        everything)
    assert data.numbers['a_credit'] not in rows(unpaid)


def test_search_by_number(as_a, data):
    number = data.numbers['a_eur']
    response = as_a.get('documents', query_string={'q': number})
    assert rows(response) == [number]
    # LIKE wildcards are searched literally
    assert rows(as_a.get('documents', query_string={'q': '%'})) == []


def test_filters_on_every_column(as_a, data):
    def listed(**query):
        return set(rows(as_a.get('documents', query_string=query)))
    assert listed(currency='EUR') == {data.numbers['a_eur']}
    assert listed(type='credit_note') == {data.numbers['a_credit']}
    assert data.numbers['a_credit'] not in listed(type='invoice')
    assert listed(total_min='2000', currency='EUR') == {data.numbers['a_eur']}
    assert listed(remaining_max='-0.01') == {data.numbers['a_credit']}
    assert listed(paid_min='500', paid_max='500') == {
        data.numbers['a_partial']}
    assert listed(tax_base_min='1300', tax_base_max='1300', vat_min='230',
        vat_max='230', currency='PLN') >= {data.numbers['a_overdue']}
    today = data.today.isoformat()
    assert listed(date_from=today) == set()
    assert data.numbers['a_paid'] in listed(date_to=(
        data.today.replace(day=1) if data.today.day > 1
        else data.today).isoformat()) | listed(due_date_to=today)
    assert listed(downloaded='yes') | listed(downloaded='no') == listed()


def test_sort_and_pagination(as_a):
    by_total = as_a.get('documents?sort=total&dir=asc')
    totals = [amount(t) for t in re.findall(r'portal-amount">([^<]*)</td>',
            by_total.get_data(as_text=True))[2::5]]
    assert totals == sorted(totals)
    first = rows(as_a.get('documents?per_page=10&sort=number&dir=asc'))
    assert first == sorted(first)
    page1 = rows(as_a.get('documents?per_page=10&page=1'))
    assert 5 < len(page1) <= 10
    # Past the last page: the last page, with the value flagged
    response = as_a.get('documents?per_page=10&page=99')
    assert response.status_code == 200
    assert rows(response) == page1


@pytest.mark.parametrize('query', [
        'page=abc', 'page=-1', 'page=99999999999999999999', 'per_page=7',
        'sort=password_hash', 'dir=sideways', 'tab=secret',
        'type=payslip', 'currency=XXX', 'date_from=2026-13-45',
        'due_date_to=yesterday', 'total_min=1e999', 'vat_max=NaN',
        'paid_min=%27;DROP TABLE portal_document;--', 'downloaded=maybe',
        'q=' + 'x' * 5000, 'remaining_min=1,2,3',
        ])
def test_bad_parameters_are_reported_never_500(as_a, query):
    response = as_a.get('documents?' + query)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'Traceback' not in body
    if not query.startswith('q='):
        assert 'could not be used and were ignored' in text(response)
    # The page still lists the client's documents
    if not query.startswith('q='):
        assert rows(response)


def test_htmx_request_gets_the_results_only(as_a):
    response = as_a.get('documents?tab=unpaid',
        headers={'HX-Request': 'true'})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="results"')
    assert '<nav' in body or 'documents' in body
    assert '<html' not in body


def test_document_page(as_a, data):
    document_id = data.documents['a_partial']
    response = as_a.get(f'documents/{document_id}')
    assert response.status_code == 200
    page = text(response)
    assert data.numbers['a_partial'] in page
    assert 'This document is overdue.' in page
    assert 'Download PDF' in page


def test_pdf_download_is_stored_and_recorded(as_a, data):
    key = 'a_overdue'
    document_id = data.documents[key]
    assert read_only(_downloaded, document_id) is None

    response = as_a.get(f'documents/{document_id}.pdf')
    assert response.status_code == 200
    assert response.content_type == 'application/pdf'
    assert 'attachment' in response.headers['Content-Disposition']
    content = response.get_data()
    pdf = PdfReader(io.BytesIO(content))
    pdf_text = ' '.join(page.extract_text() for page in pdf.pages)
    assert data.numbers[key] in pdf_text
    assert data.nips['a'] in pdf_text
    assert re.search(r'1[\s,.\xa0]?530[.,]00', pdf_text), pdf_text

    first = read_only(_downloaded, document_id)
    assert first is not None
    again = as_a.get(f'documents/{document_id}.pdf')
    assert again.get_data() == content, "the stored PDF is not re-rendered"
    assert read_only(_downloaded, document_id) == first
    assert 'Downloaded' in text(as_a.get(f'documents/{document_id}'))


def _downloaded(document_id):
    Document = Pool().get('portal.document')
    return Document(document_id).first_downloaded_at


def test_eur_invoice_pdf_shows_vat_in_pln(as_a, data):
    response = as_a.get(f'documents/{data.documents["a_eur"]}.pdf')
    pdf_text = ' '.join(p.extract_text() for p in PdfReader(
            io.BytesIO(response.get_data())).pages)
    # In the client's language: VAT in PLN / VAT w PLN, at the NBP rate
    assert re.search(r'VAT (in|w) PLN', pdf_text)
    assert 'NBP' in pdf_text


def test_new_document_is_emailed_to_users_who_want_it(data, smtp):
    smtp.clear()
    number = in_transaction(_issue_invoice, data.clients['a'])
    message = smtp.wait_for(lambda m: number in m['Subject']
        and m['To'] == 'jan@alfa.example')
    body = message.get_body(('html',)).get_content()
    assert 'https://portal.example.com/' in body
    # A plain-text alternative for mail readers that show no HTML
    assert message.get_content_type() == 'multipart/alternative'
    plain = message.get_body(('plain',)).get_content()
    assert number in plain and 'https://portal.example.com/' in plain
    assert '<' not in plain
    # ewa@alfa.example turned the e-mails off; Beta's user is not told
    recipients = {m['To'] for m in smtp.messages if number in m['Subject']}
    assert 'ewa@alfa.example' not in recipients
    assert not any(r.endswith('beta.example') for r in recipients)


def _issue_invoice(party_id):
    from client_portal.demo import create_invoice, load_firm
    Party = Pool().get('party.party')
    firm = load_firm()
    invoice = create_invoice(firm, Party(party_id),
        firm.today, [("Doradztwo", 1, '100.00', '23')])
    return invoice.number

