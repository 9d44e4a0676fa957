"""Accepting or declining the firm's proforma on its page (issue 12,
deliverables 3 and 6): the decision is shown and stored with the address
and the hash of the PDF served; a decline needs a reason (422, kept); a
second decision is refused (409); no such action on an invoice or another
client's proforma (404)."""
import hashlib
import re

import pytest
from portal_http import read_only, text

from trytond.pool import Pool
from trytond.transaction import Transaction


def _decisions(document_id):
    Decision = Pool().get('portal.document.decision')
    return [(d.decision, d.reason, d.ip, d.user_agent, d.pdf_hash,
            d.web_user.email) for d in Decision.search(
            [('document', '=', document_id)])]


def _pdf_hash(document_id):
    Document = Pool().get('portal.document')
    return hashlib.sha256(bytes(Document(document_id).get_pdf())).hexdigest()


def _undo(document_id):
    "The shared proforma open again for the next test (evidence aside)"
    from client_portal.demo import run_in_transaction
    from portal_http import DB

    def undo():
        Decision = Pool().get('portal.document.decision')
        table = Decision.__table__()
        Transaction().connection.cursor().execute(*table.delete(
                where=table.document == document_id))
    run_in_transaction(DB, undo)


@pytest.fixture
def proforma(data):
    yield data.proformas['a']
    _undo(data.proformas['a'])


def test_proforma_offers_both_decisions(as_a, proforma):
    page = as_a.get(f'documents/{proforma}')
    html = page.get_data(as_text=True)
    assert 'Accept the proforma' in text(page)
    assert f'documents/{proforma}/accept"' in html
    assert f'documents/{proforma}/decline"' in html
    assert 'name="reason"' in html


def test_accept_is_shown_and_stored(as_a, data, proforma, smtp):
    smtp.clear()
    response = as_a.post(f'documents/{proforma}/accept',
        headers={'User-Agent': 'Firefox/140.0'},
        environ_overrides={'REMOTE_ADDR': '203.0.113.7'})
    assert response.status_code == 303
    page = text(as_a.get(f'documents/{proforma}'))
    assert 'Accepted by Jan Kowalski on' in page
    assert 'Accept the proforma' not in page
    (decision, reason, ip, agent, pdf_hash, email), = read_only(
        _decisions, proforma)
    assert (decision, reason, ip, agent, email) == (
        'accepted', None, '203.0.113.7', 'Firefox/140.0', 'jan@alfa.example')
    assert pdf_hash == read_only(_pdf_hash, proforma)
    message = smtp.wait_for(lambda m: 'jan@alfa.example' in m['To'])
    assert 'accepted' in message['Subject']

    # Once: the other decision is refused with its message
    again = as_a.post(f'documents/{proforma}/decline', {'reason': "Jednak nie"})
    assert again.status_code == 409
    assert 'has already been accepted or declined' in text(again)
    assert len(read_only(_decisions, proforma)) == 1


def test_decline_needs_a_reason(as_a, proforma):
    response = as_a.post(f'documents/{proforma}/decline', {'reason': '  '})
    assert response.status_code == 422
    assert 'Give the reason for declining the proforma.' in text(response)
    assert read_only(_decisions, proforma) == []
    long = 'x' * 1001
    response = as_a.post(f'documents/{proforma}/decline', {'reason': long})
    assert response.status_code == 422
    textarea = re.search(r'<textarea id="decline-reason"[^>]*>([^<]*)<',
        response.get_data(as_text=True))
    assert 'is-invalid' in textarea.group(0) and textarea.group(1) == long

    response = as_a.post(f'documents/{proforma}/decline',
        {'reason': "Za wysoka cena"})
    assert response.status_code == 303
    page = text(as_a.get(f'documents/{proforma}'))
    assert 'Declined by Jan Kowalski on' in page
    assert 'Za wysoka cena' in page
    assert [d[:2] for d in read_only(_decisions, proforma)] == [
        ('declined', "Za wysoka cena")]


def test_not_a_proforma_is_404(as_a, data):
    for action in ('accept', 'decline'):
        response = as_a.post(f'documents/{data.documents["a_open"]}/{action}',
            {'reason': "x"})
        assert response.status_code == 404
    assert read_only(_decisions, data.documents['a_open']) == []
    page = text(as_a.get(f'documents/{data.documents["a_open"]}'))
    assert 'Accept the proforma' not in page


def test_other_clients_proforma_is_404(as_a, data):
    theirs = data.proformas['b']
    assert as_a.get(f'documents/{theirs}').status_code == 404
    for action in ('accept', 'decline'):
        assert as_a.post(f'documents/{theirs}/{action}',
            {'reason': "x"}).status_code == 404
    assert read_only(_decisions, theirs) == []
