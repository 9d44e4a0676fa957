"""The client's requests over HTTP: the list, raising one with a file, bad
input kept in the form with nothing saved, the reply, a closed request
refusing it, another client's request and files never shown, the firm's
reply e-mailed at once and shown on the home page."""
import io
import re

import pytest
from data_requests import pdf_bytes
from portal_http import in_transaction, read_only, text

from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.ir import PARTY_KEY, WEB_USER_KEY

REPLY = "Zaświadczenie jest gotowe do odbioru."


def _requests(party_id):
    Request = Pool().get('portal.request')
    return [(r.id, r.number, r.state, r.subject)
        for r in Request.search([('party', '=', party_id)],
            order=[('id', 'ASC')])]


def _events(request_id):
    Request = Pool().get('portal.request')
    return [(e.kind, e.author, e.body, e.file_name)
        for e in Request(request_id).events]


def _kind_id():
    ModelData = Pool().get('ir.model.data')
    return ModelData.get_id('client_portal', 'request_kind_certificate')


@pytest.fixture(scope='module')
def cleanup(data):
    "The cards the firm's replies left on the shared clients' home pages"
    yield

    def clean():
        Card = Pool().get('portal.notification')
        Card.delete(Card.search([
                    ('kind', 'in', ['request_reply', 'request_state'])]))
    in_transaction(clean)


def _raise(data, subject, key='a'):
    "A request of the client raised as the portal does, with no file"
    def create():
        pool = Pool()
        Request = pool.get('portal.request')
        Kind = pool.get('portal.request.kind')
        Party = pool.get('party.party')
        user_id = data.users[key][0]
        party_id = data.clients[key]
        with Transaction().set_context(**{PARTY_KEY: party_id,
                    WEB_USER_KEY: user_id}):
            return Request.portal_create(Party(party_id),
                Kind(_kind_id()), subject, '').id
    return in_transaction(create)


def _staff(request_id, method, *args, **kwargs):
    "The firm's step on the request, from the back office's model"
    def run():
        Request = Pool().get('portal.request')
        request = Request(request_id)
        if method in ('done', 'start'):
            getattr(Request, method)([request])
        else:
            getattr(request, method)(*args, **kwargs)
    in_transaction(run)


def test_the_list_shows_the_clients_requests(as_a, data):
    page = as_a.get('requests')
    assert page.status_code == 200
    numbers = {key: read_only(_requests, data.clients[key])[0][1]
        for key in ['a', 'b']}
    assert numbers['a'] in text(page)
    assert numbers['b'] not in text(page)
    html = page.get_data(as_text=True)
    assert 'portal-documents' in html and 'data-label="Deadline"' in html
    # In the main menu, the current page
    assert re.search(r'aria-current="page" href="[^"]*/portal/requests"', html)
    assert numbers['a'] in text(as_a.get('requests?tab=open'))
    assert numbers['a'] not in text(as_a.get('requests?tab=closed'))
    # An unknown tab or page shows the default list, never an error
    assert as_a.get('requests?tab=x&page=999').status_code == 200
    form = as_a.get('requests/new')
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.get_data(as_text=True)
    assert "Certificate · 3 working days" in text(form)


def test_a_new_request_with_a_pdf(as_a, data):
    response = as_a.post('requests/new', {
            'kind': str(read_only(_kind_id)),
            'subject': "  Zaświadczenie o niezaleganiu  ",
            'description': "Dla banku,\r\nna przyszły tydzień.",
            'files': [(io.BytesIO(pdf_bytes()), 'zaswiadczenie.pdf')],
            })
    assert response.status_code == 303, response.status_code
    request_id, number, state, subject = read_only(
        _requests, data.clients['a'])[-1]
    assert response.headers['Location'].endswith(
        f'/portal/requests/{request_id}?raised=1')
    assert (state, subject) == ('new', "Zaświadczenie o niezaleganiu")
    page = as_a.get(f'requests/{request_id}?raised=1')
    assert page.status_code == 200
    assert number in text(page) and f"Request {number} was sent" in text(
        page)
    assert "Dla banku,<br>na przyszły tydzień." in page.get_data(
        as_text=True)
    assert number in text(as_a.get('requests'))
    (_, _, _, name), = [e for e in read_only(_events, request_id)
        if e[0] == 'file']
    assert name == 'zaswiadczenie.pdf'

    def notified():
        Notification = Pool().get('res.notification')
        return Notification.search_count(
            [('label', 'like', f'%{number}%')])
    # Client a has no manager: the portal heads are told
    assert read_only(notified) >= 1


@pytest.mark.parametrize('field,values,message', [
        ('subject', {'subject': '   '}, "Enter the subject of the request."),
        ('kind', {'kind': '999999'}, "Choose the kind of request."),
        ('files', {'files': [(io.BytesIO(b'%PDF-' + b'0' * (11 << 20)),
                        'wielki.pdf')]},
            "wielki.pdf: The file is larger than 10 MB."),
        ('files', {'files': [(io.BytesIO(b'Just some text, no PDF.'),
                        'udawany.pdf')]},
            "udawany.pdf: The file is not a PDF, JPEG or PNG"),
        ])
def test_bad_input_is_refused_with_the_form_kept(as_a, data, field, values,
        message):
    before = read_only(_requests, data.clients['a'])
    form = {'kind': str(read_only(_kind_id)),
        'subject': "Raport kwartalny", 'description': "Opis zostaje"}
    form.update(values)
    response = as_a.post('requests/new', form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    assert error and message in error.group(1), html
    assert 'aria-invalid="true"' in html
    assert "Opis zostaje</textarea>" in html
    if field != 'subject':
        assert 'value="Raport kwartalny"' in html
    if field != 'kind':
        assert re.search(r'<option value="%s" selected>' % form['kind'],
            html)
    assert read_only(_requests, data.clients['a']) == before


def test_a_reply_appears_in_the_history(as_a, data):
    request_id = _raise(data, "Pytanie o termin")
    empty = as_a.post(f'requests/{request_id}/reply', {'body': '  '})
    assert empty.status_code == 422
    assert 'id="body-error"' in empty.get_data(as_text=True)
    response = as_a.post(f'requests/{request_id}/reply', {
            'body': "Dodaję umowę.",
            'files': [(io.BytesIO(pdf_bytes()), 'umowa.pdf')]})
    assert response.status_code == 303
    page = as_a.get(f'requests/{request_id}?replied=1')
    assert "Dodaję umowę." in text(page)
    assert "Your answer was sent." in text(page)
    assert "umowa.pdf" in text(page) and "Jan Kowalski" in text(page)
    assert [e[0] for e in read_only(_events, request_id)] == [
        'state', 'message', 'file']


def test_a_closed_request_takes_no_reply(as_a, data):
    request_id = _raise(data, "Do zamknięcia")
    _staff(request_id, 'done')
    page = as_a.get(f'requests/{request_id}')
    assert page.status_code == 200
    assert f'requests/{request_id}/reply' not in page.get_data(as_text=True)
    assert "This request is closed" in text(page)
    before = read_only(_events, request_id)
    response = as_a.post(f'requests/{request_id}/reply',
        {'body': "Jeszcze jedno"})
    assert response.status_code == 409
    assert "is closed and can no longer be answered" in text(response)
    assert read_only(_events, request_id) == before


def test_files_download_and_another_clients_are_404(as_a, data):
    own, other = data.requests['a'], data.requests['b']
    own_file, other_file = data.request_files['a'], data.request_files['b']
    response = as_a.get(f'requests/{own}/files/{own_file}')
    assert response.status_code == 200
    assert response.content_type == 'application/pdf'
    assert response.headers['Content-Disposition'].startswith(
        'attachment; filename="umowa.pdf"')
    assert response.get_data()[:5] == b'%PDF-'
    for path in [f'requests/{other}', f'requests/{other}/files/{other_file}',
            f'requests/{own}/files/{other_file}',
            f'requests/{other}/files/{own_file}',
            # A history row that is no file
            f'requests/{own}/files/{own_file - 1}']:
        assert as_a.get(path).status_code == 404, path
    assert as_a.post(f'requests/{other}/reply',
        {'body': "Cudze"}).status_code == 404


def test_the_firms_reply_is_emailed_and_on_the_home_page(as_a, data, smtp,
        cleanup):
    request_id = _raise(data, "Wyciąg z subkonta")
    number = read_only(_requests, data.clients['a'])[-1][1]
    smtp.clear()
    _staff(request_id, 'post_staff_reply', REPLY, wait=True)
    mail = smtp.wait_for(lambda m: m['To'] == 'jan@alfa.example'
        and number in str(m['Subject']))
    plain = mail.get_body(('plain',)).get_content()
    assert REPLY in plain
    assert (f'https://portal.example.com/{as_a.database}/portal/requests/'
        f'{request_id}') in plain
    assert "Waiting for your answer" in plain
    # Ewa, the client's other user, is told too
    smtp.wait_for(lambda m: m['To'] == 'ewa@alfa.example'
        and number in str(m['Subject']))
    home = as_a.get('')
    assert f"New reply to your request {number}" in text(home)
    # Seeing the request reads its card
    def unread():
        Card = Pool().get('portal.notification')
        return Card.search_count([('request', '=', request_id),
                ('read_at', '=', None)])
    assert read_only(unread) == 1
    as_a.get(f'requests/{request_id}')
    assert read_only(unread) == 0
    # Done: the client is told again
    _staff(request_id, 'done')
    smtp.wait_for(lambda m: m['To'] == 'jan@alfa.example'
        and f"Request {number}: Completed" in str(m['Subject']))
    assert f"Your request changed status {number}" in text(as_a.get(''))
