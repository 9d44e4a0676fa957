"""Dates are day-first in both languages: a Polish firm's English-speaking
clients would misread 11/12/2026."""
import re

from portal_http import in_transaction, text

from trytond.pool import Pool

US_DATE = re.compile(r'\b\d{1,2}/\d{1,2}/\d{4}\b')


def _invoice_date(document_id):
    return Pool().get('portal.document')(document_id).date


def test_english_pages_show_day_first_dates(as_a, data):
    date = in_transaction(_invoice_date, data.documents['a_overdue'])
    for path in ['documents', f'documents/{data.documents["a_overdue"]}']:
        page = text(as_a.get(path))
        assert date.strftime('%d.%m.%Y') in page, path
        assert not US_DATE.search(page), (path, US_DATE.findall(page))


def _english_email(document_id):
    from client_portal.mail import build_message
    document = Pool().get('portal.document')(document_id)
    msg = build_message('new_document', 'en', document=document,
        link='https://x/doc')
    return (document.date, msg.get_body(('html',)).get_content(),
        msg.get_body(('plain',)).get_content())


def test_english_emails_show_day_first_dates(data):
    date, html, plain = in_transaction(
        _english_email, data.documents['a_overdue'])
    for body in (html, plain):
        assert date.strftime('%d.%m.%Y') in body
        assert not US_DATE.search(body), US_DATE.findall(body)
