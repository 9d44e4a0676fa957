"""A document's page says what its PDF says: lines, VAT per rate, payment
details, what a correction corrects, and the stored PDF itself."""
import io
import re

from portal_http import Browser, read_only, text
from pypdf import PdfReader

from trytond.pool import Pool
from trytond.transaction import Transaction


def _pdf_text(response):
    assert response.status_code == 200
    assert response.content_type == 'application/pdf'
    return ' '.join(p.extract_text() for p in PdfReader(
            io.BytesIO(response.get_data())).pages)


def test_document_page_shows_lines_vat_and_payment(as_a, data):
    page = text(as_a.get(f'documents/{data.documents["a_overdue"]}'))
    # The lines of the test invoices (tests/conftest.py)
    for expected in ['Obsługa księgowa', 'Szkolenie BHP',
            'Net unit price', 'VAT summary', '1,000.00', '150.00',
            '300.00', 'Bank transfer', 'Title of the transfer',
            data.numbers['a_overdue']]:
        assert expected in page, expected
    assert re.search(r'23\s*%', page), page
    # The firm's bank account for the payment (demo firm: PL IBAN)
    assert re.search(r'PL\d{2}[\d ]{20,}', page), page


def test_correction_page_names_the_invoice_it_corrects(as_a, data):
    response = as_a.get(f'documents/{data.documents["a_credit"]}')
    html = response.get_data(as_text=True)
    page = text(response)
    corrected = data.numbers['a_paid']
    assert f'corrects invoice {corrected}' in page
    # Linked: the client may open the corrected invoice
    assert f'documents/{data.documents["a_paid"]}"' in html
    assert 'To be refunded' in page
    assert 'Title of the transfer' not in page


def test_pdf_is_previewed_on_the_page_without_counting_a_download(
        as_a, data):
    document_id = data.documents['a_open']
    html = as_a.get(f'documents/{document_id}').get_data(as_text=True)
    match = re.search(r'<iframe[^>]+src="([^"]+)"[^>]*title="[^"]+"', html)
    assert match, 'no titled iframe of the PDF'
    url = match.group(1).replace('&amp;', '&')
    assert url.endswith(f'documents/{document_id}.pdf?preview=1')
    preview = as_a.get(url)
    assert data.numbers['a_open'] in _pdf_text(preview)
    assert preview.headers['Content-Disposition'].startswith('inline')
    assert preview.headers['X-Frame-Options'] == 'SAMEORIGIN'
    assert "frame-ancestors 'self'" in preview.headers[
        'Content-Security-Policy']
    assert read_only(_downloaded, document_id) is None
    # Every other response keeps refusing to be framed
    page = as_a.get(f'documents/{document_id}')
    assert page.headers['X-Frame-Options'] == 'DENY'
    assert "frame-ancestors 'none'" in page.headers[
        'Content-Security-Policy']


def _downloaded(document_id):
    return Pool().get('portal.document')(document_id).first_downloaded_at


def test_other_clients_page_and_preview_are_404(as_b, data):
    document_id = data.documents['a_open']
    assert as_b.get(f'documents/{document_id}').status_code == 404
    assert as_b.get(f'documents/{document_id}.pdf?preview=1'
        ).status_code == 404
    assert read_only(_downloaded, document_id) is None
    assert as_b.get(f'documents/{data.documents["a_credit"]}'
        ).status_code == 404


def test_correction_page_in_polish(data):
    browser = Browser(language='pl')
    browser.login(data.users['a2'][1])
    page = text(browser.get(f'documents/{data.documents["a_credit"]}'))
    corrected = data.numbers['a_paid']
    for expected in [f'Ta korekta koryguje fakturę {corrected}', 'Pozycje',
            'Podsumowanie VAT', 'Cena jedn. netto', 'Zwrot', 'Do zwrotu',
            'Termin zwrotu']:
        assert expected in page, expected
    assert 'Tytuł przelewu' not in page


def test_credit_note_pdf_is_worded_as_a_refund(as_a, data):
    pdf = _pdf_text(as_a.get(
            f'documents/{data.documents["a_credit"]}.pdf?preview=1'))
    assert re.search(r'To be refunded|Do zwrotu', pdf), pdf
    assert not re.search(r'Total due|Do zapłaty', pdf), pdf
    assert not re.search(r'Title of the transfer|Tytuł przelewu', pdf), pdf
    corrected = data.numbers['a_paid']
    assert re.search(
        rf'(Corrects invoice no\.|Korekta faktury nr) {re.escape(corrected)}',
        pdf), pdf


def _render(document_id, language):
    "The invoice PDF of the document rendered again, in a language"
    pool = Pool()
    Report = pool.get('account.invoice.portal_pdf', type='report')
    invoice = pool.get('portal.document')(document_id).origin
    with Transaction().set_context(language=language):
        _, content, _, _ = Report.execute([invoice.id], {})
    return ' '.join(p.extract_text()
        for p in PdfReader(io.BytesIO(bytes(content))).pages)


def test_credit_note_pdf_is_a_refund_in_both_languages(data):
    corrected = data.numbers['a_paid']
    english = read_only(_render, data.documents['a_credit'], 'en')
    for expected in ['To be refunded: ', 'Refund due',
            'Refund method: bank transfer',
            f'Corrects invoice no. {corrected} of ']:
        assert expected in english, english
    for unexpected in ['Total due', 'Title of the transfer', 'Payment',
            'Due date']:
        assert unexpected not in english, english
    polish = read_only(_render, data.documents['a_credit'], 'pl')
    for expected in ['Do zwrotu: ', 'Termin zwrotu', 'Sposób zwrotu: przelew',
            f'Korekta faktury nr {corrected} z dnia ']:
        assert expected in polish, polish
    for unexpected in ['Do zapłaty', 'Tytuł przelewu', 'Termin płatności']:
        assert unexpected not in polish, polish


def test_invoice_pdf_in_english_asks_for_payment_day_first(data):
    english = read_only(_render, data.documents['a_open'], 'en')
    date = read_only(_date, data.documents['a_open'])
    for expected in ['Total due: ', 'Due date', 'Payment method: bank transfer',
            'Title of the transfer', date.strftime('%d.%m.%Y')]:
        assert expected in english, english
    assert 'To be refunded' not in english
    assert not re.search(r'\b\d{1,2}/\d{1,2}/\d{4}\b', english), english


def test_invoice_pdf_dates_are_day_first(as_a, data):
    pdf = _pdf_text(as_a.get(
            f'documents/{data.documents["a_open"]}.pdf?preview=1'))
    date = read_only(_date, data.documents['a_open'])
    assert date.strftime('%d.%m.%Y') in pdf, pdf
    assert not re.search(r'\b\d{1,2}/\d{1,2}/\d{4}\b', pdf), pdf
    assert re.search(r'Total due|Do zapłaty', pdf)


def _date(document_id):
    return Pool().get('portal.document')(document_id).date
