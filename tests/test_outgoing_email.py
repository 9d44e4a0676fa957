"""E-mails of the documents clients issue to their buyers: the stored PDF
attached, the document's language, the client named; a failed delivery is
recorded and a retry sends it (issue 6, point 9)"""
import io
import socket

from portal_http import in_transaction, read_only
from pypdf import PdfReader

from trytond import config
from trytond.pool import Pool


def _pdf_text(part):
    reader = PdfReader(io.BytesIO(part.get_content()))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


def _attachment(msg):
    parts = [p for p in msg.iter_attachments()
        if p.get_content_type() == 'application/pdf']
    assert len(parts) == 1
    return parts[0]


def _emails(invoice_id):
    def read():
        Email = Pool().get('portal.invoice.email')
        return [(e.id, e.recipient, e.language, e.state, e.error,
                e.attempts, e.sent_at)
            for e in Email.search([('invoice', '=', invoice_id)],
                order=[('id', 'ASC')])]
    return read_only(read)


def _english_invoice(data):
    "An invoice of client a issued in English (committed)"
    def issue():
        from client_portal.demo import load_firm
        from client_portal.demo_outgoing import editor_form as form
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Template = pool.get('portal.invoice.template')
        firm = load_firm()
        client = Party(data.clients['a'])
        draft = Invoice.portal_save_draft(client, form(firm, client,
                Template(data.templates['a']), Party(data.buyers['a']),
                [("Brand workshop", 2, '750.00', '23')], language='en'))
        return Invoice.portal_issue(draft).id
    return in_transaction(issue, context={
            'company': data.company, 'language': 'en'})


def test_sent_in_polish_with_the_pdf(data, smtp, as_a):
    invoice_id = data.outgoing['a_issued']
    number = data.outgoing_numbers['a_issued']
    response = as_a.post(f'invoices/{invoice_id}/send', {})
    assert response.status_code == 303, response.status_code
    msg = smtp.wait_for(lambda m: number in str(m['Subject']))
    assert msg['To'] == 'buyer@gamma.example'
    # From the firm's address, under the portal's title
    assert 'noreply@portico.test' in msg['From']
    assert 'Portico' in msg['From']
    assert str(msg['Subject']) == (
        f"Faktura {number} od Alfa Usługi sp. z o.o.")
    html = msg.get_body(('html',)).get_content()
    plain = msg.get_body(('plain',)).get_content()
    for body in (html, plain):
        assert "Alfa Usługi sp. z o.o." in body
        assert "w imieniu swojego partnera" in body
        assert number in body
    attachment = _attachment(msg)
    assert attachment.get_filename() == number.replace('/', '-') + '.pdf'
    text = _pdf_text(attachment)
    assert "Faktura VAT" in text and number in text
    assert "Wystawiono w imieniu partnera: Alfa Usługi" in text
    (_, recipient, language, state, error, attempts, sent_at), = (
        _emails(invoice_id)[-1:])
    assert (recipient, language, state, error, attempts) == (
        'buyer@gamma.example', 'pl', 'sent', None, 1)
    assert sent_at


def test_sent_in_english_to_another_address(data, smtp, as_a):
    invoice_id = _english_invoice(data)
    response = as_a.post(f'invoices/{invoice_id}/send',
        {'recipient': 'accounts@gamma.example'})
    assert response.status_code == 303, response.status_code
    msg = smtp.wait_for(lambda m: m['To'] == 'accounts@gamma.example')
    subject = str(msg['Subject'])
    assert subject.startswith("Invoice FV/ALFA/")
    assert subject.endswith(" from Alfa Usługi sp. z o.o.")
    plain = msg.get_body(('plain',)).get_content()
    assert ("is issued by Portico Centrum Usług Księgowych sp. z o.o. on "
        "behalf of its partner Alfa Usługi sp. z o.o.") in ' '.join(
        plain.split())
    text = _pdf_text(_attachment(msg))
    assert "VAT invoice" in text
    assert "Issued for partner: Alfa Usługi" in text
    assert "Brand workshop" in text
    (*_, language, state, _, _, _), = _emails(invoice_id)
    assert (language, state) == ('en', 'sent')


def test_failure_is_recorded_and_a_retry_sends(data, smtp, as_a):
    invoice_id = data.outgoing['a_eur']
    number = data.outgoing_numbers['a_eur']
    earlier = {e[0] for e in _emails(invoice_id)}
    smtp.clear()
    uri = config.get('email', 'uri')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = sock.getsockname()[1]
    config.set('email', 'uri', f'smtp://127.0.0.1:{closed}')
    try:
        response = as_a.post(f'invoices/{invoice_id}/send', {})
    finally:
        config.set('email', 'uri', uri)
    # The delivery failed, the client's action did not
    assert response.status_code == 303, response.status_code
    (email_id, _, _, state, error, attempts, sent_at), = [
        e for e in _emails(invoice_id) if e[0] not in earlier]
    assert state == 'failed'
    assert error and attempts == 1 and sent_at is None
    assert not [m for m in smtp.messages if number in str(m['Subject'])]

    def retry():
        Email = Pool().get('portal.invoice.email')
        Email.retry(Email.browse([email_id]))
    in_transaction(retry)
    msg = smtp.wait_for(lambda m: number in str(m['Subject']))
    assert "Faktura VAT" in _pdf_text(_attachment(msg))
    (_, _, _, state, error, attempts, sent_at), = [
        e for e in _emails(invoice_id) if e[0] == email_id]
    assert (state, error, attempts) == ('sent', None, 2)
    assert sent_at
