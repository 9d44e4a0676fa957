"""Comments under the client's documents (issue 12, deliverables 2 and 6):
a thread on the page of a firm's document, an invoice the client issued, a
cost invoice and a contract; bad text kept in the form with its message;
another client's records 404; the firm's reply e-mailed at once, shown on
the home page and read once the page is seen."""
import re

import pytest
from data_payroll import payroll
from portal_http import DB, read_only, text

from trytond.pool import Pool

REPLY = "Korekta wystawiona, proszę sprawdzić."


def pages(data):
    "{kind: (model, client a's path, client b's path)}"
    contracts = payroll(data)['contracts']
    return {
        'document': ('portal.document', f'documents/{data.documents["a_open"]}',
            f'documents/{data.documents["b_open"]}'),
        'invoice': ('account.invoice', f'invoices/{data.outgoing["a_issued"]}',
            f'invoices/{data.outgoing["b_issued"]}'),
        'cost': ('portal.cost.invoice', f'costs/{data.costs["a_submitted"]}',
            f'costs/{data.costs["b_submitted"]}'),
        'contract': ('payroll.contract',
            f'contracts/{contracts["a_issued"]}',
            f'contracts/{contracts["b_issued"]}'),
        }


def _thread(model, id_):
    Comment = Pool().get('portal.comment')
    return [(c.author, c.body, c.read_at is not None) for c in Comment.search(
            [('resource', '=', f'{model},{id_}')], order=[('id', 'ASC')])]


def _reply(model, id_, body):
    "The firm's reply from the back office, as its administrator"
    from client_portal.demo import run_in_transaction

    def post():
        Comment = Pool().get('portal.comment')
        return Comment.post_staff_reply(Pool().get(model)(id_), body).id
    return run_in_transaction(DB, post, user_id=1)


def _cards(party_id):
    Notification = Pool().get('portal.notification')
    return [(n.id, n.read_at is not None) for n in Notification.search([
                ('party', '=', party_id), ('kind', '=', 'comment_reply')])]


@pytest.mark.parametrize('kind', ['document', 'invoice', 'cost', 'contract'])
def test_comment_on_each_page(as_a, data, kind):
    model, path, _ = pages(data)[kind]
    page = as_a.get(path)
    assert page.status_code == 200
    assert f'/portal/{path}/comments"' in page.get_data(
        as_text=True)
    body = f"Pytanie o {kind}: czy termin jest aktualny?"
    response = as_a.post(f'{path}/comments', {'body': body})
    assert response.status_code == 303
    assert response.headers['Location'].endswith(f'{path}#comments')
    assert body in text(as_a.get(path))
    assert read_only(_thread, model, int(path.rsplit('/', 1)[1]))[-1] == (
        'client', body, False)


@pytest.mark.parametrize('body,message', [
        ('   ', 'Write a message before sending it.'),
        ('x' * 4001, 'shorten it to 4000 at most')])
def test_bad_comment_is_kept_with_its_message(as_a, data, body, message):
    model, path, _ = pages(data)['cost']
    before = read_only(_thread, model, int(path.rsplit('/', 1)[1]))
    response = as_a.post(f'{path}/comments', {'body': body})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text(response)
    textarea = re.search(r'<textarea id="comment-body"[^>]*>([^<]*)</textarea>',
        html)
    assert 'is-invalid' in textarea.group(0)
    assert textarea.group(1) == body
    assert read_only(_thread, model, int(path.rsplit('/', 1)[1])) == before


@pytest.mark.parametrize('kind', ['document', 'invoice', 'cost', 'contract'])
def test_other_clients_pages_are_404(as_a, data, kind):
    model, _, theirs = pages(data)[kind]
    assert as_a.get(theirs).status_code == 404
    response = as_a.post(f'{theirs}/comments', {'body': "Cudzy dokument"})
    assert response.status_code == 404
    assert "Cudzy dokument" not in str(read_only(
            _thread, model, int(theirs.rsplit('/', 1)[1])))


def test_firms_invoice_is_no_invoice_page(as_a, data):
    "A firm's invoice to the client has its document page, not /invoices"
    invoice_id = read_only(lambda: Pool().get('portal.document')(
            data.documents['a_open']).origin.id)
    assert as_a.post(f'invoices/{invoice_id}/comments',
        {'body': "x"}).status_code == 404


def test_reply_is_emailed_shown_and_read(as_a, data, smtp):
    model, path, _ = pages(data)['document']
    document_id = data.documents['a_open']
    as_a.post(f'{path}/comments', {'body': "Proszę o korektę."})
    smtp.clear()
    _reply(model, document_id, REPLY)
    message = smtp.wait_for(lambda m: 'jan@alfa.example' in m['To'])
    assert 'ewa@alfa.example' in message['To']
    content = message.get_body(('plain',)).get_content()
    # The reply's text stays in the portal
    assert REPLY not in content
    assert f'https://portal.example.com/{DB}/portal/{path}' in content

    home = as_a.get('')
    assert 'New reply to your comment' in text(home)
    card, = [c for c in read_only(_cards, data.clients['a']) if not c[1]]
    opened = as_a.post(f'notifications/{card[0]}')
    assert opened.status_code == 303
    assert opened.headers['Location'].endswith(f'{path}#comments')
    page = as_a.get(path)
    assert REPLY in text(page)
    assert read_only(_thread, model, document_id)[-1] == (
        'staff', REPLY, True)
    assert all(read for _, read in read_only(_cards, data.clients['a']))


def test_reply_on_a_contract_opens_the_contract(as_a, data, smtp):
    model, path, _ = pages(data)['contract']
    contract_id = int(path.rsplit('/', 1)[1])
    smtp.clear()
    _reply(model, contract_id, REPLY)
    smtp.wait_for(lambda m: 'jan@alfa.example' in m['To'])
    card, = [c for c in read_only(_cards, data.clients['a']) if not c[1]]
    opened = as_a.post(f'notifications/{card[0]}')
    assert opened.headers['Location'].endswith(f'{path}#comments')
    assert REPLY in text(as_a.get(path))
    assert read_only(_thread, model, contract_id)[-1] == ('staff', REPLY, True)
