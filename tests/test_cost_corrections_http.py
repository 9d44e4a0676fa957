"""Corrections of received cost invoices on the portal (issue 7, item 4):
the correction request e-mailed to the supplier with its PDF, in the
supplier's language; the nota korygująca only for invoices dated before
2026-02-01; bad input kept with its messages; other clients' ids are 404;
a failed delivery is recorded and sent again"""
import datetime
import io
import random
import re
import socket
import threading
import time
import traceback

import pytest
from portal_http import DB, in_transaction, read_only, text
from pypdf import PdfReader

from trytond import backend, config
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError

WRONG = "ul. Marszałkowska 48, Warszawa"
CORRECT = "ul. Marszałkowska 84/92 lok. 109, 00-514 Warszawa"


def _pdf_text(content):
    reader = PdfReader(io.BytesIO(bytes(content)))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


def _attachment(msg):
    part, = [p for p in msg.iter_attachments()
        if p.get_content_type() == 'application/pdf']
    return part


def _form(language='pl', recipient='faktury@delta.example', kind='request',
        rows=((("Adres nabywcy"), WRONG, CORRECT),), message='', **extra):
    form = {'kind': kind, 'language': language, 'recipient': recipient,
        'message': message, 'action': 'send'}
    for i, (field, wrong, correct) in enumerate(rows):
        form.update({f'items-{i}-field': field, f'items-{i}-wrong': wrong,
                f'items-{i}-correct': correct})
    form.update(extra)
    return form


def _corrections(cost_id):
    "(id, number, kind, language, recipient, state, error, attempts, sent)"
    def read():
        Correction = Pool().get('portal.cost.correction')
        return [(c.id, c.number, c.kind, c.language, c.recipient,
                c.delivery_state, c.delivery_error, c.attempts,
                bool(c.sent_at))
            for c in Correction.search([('cost_invoice', '=', cost_id)],
                order=[('id', 'ASC')])]
    return read_only(read)


def _created(cost_id, before):
    new = [c for c in _corrections(cost_id) if c[0] not in before]
    assert len(new) == 1, new
    return new[0]


def _ids(cost_id):
    return {c[0] for c in _corrections(cost_id)}


@pytest.fixture(scope='module')
def b_correction(data):
    "A correction request of client b's approved cost invoice"
    def create():
        pool = Pool()
        Correction = pool.get('portal.cost.correction')
        CostInvoice = pool.get('portal.cost.invoice')
        cost = CostInvoice(data.costs['b_approved'])
        return Correction.portal_create(cost, {
                'kind': 'request', 'language': 'pl',
                'recipient': 'faktury@delta.example', 'message': ''},
            [{'field': "NIP nabywcy", 'wrong': "1", 'correct': "2"}]).id
    return in_transaction(create, context={'company': data.company})


def test_request_reaches_the_supplier_in_polish_with_the_pdf(
        data, smtp, as_a):
    cost_id = data.costs['a_approved']
    number = data.cost_numbers['a_approved']
    page = as_a.get(f'costs/{cost_id}/correction')
    assert page.status_code == 200, page.status_code
    body = page.get_data(as_text=True)
    # The supplier's e-mail and language; dated after the repeal: no note
    assert 'value="faktury@delta.example"' in body
    assert re.search(r'<option value="pl" selected>', body)
    assert '<input type="hidden" name="kind" value="request">' in body
    assert 'value="note"' not in body
    assert "Portico Centrum Usług Księgowych sp. z o.o." in text(page)

    before = _ids(cost_id)
    response = as_a.post(f'costs/{cost_id}/correction', _form(
            rows=[("Adres nabywcy", WRONG, CORRECT),
                ("Termin płatności", "01.12.2026", "15.12.2026")],
            message="Prosimy o fakturę korygującą w KSeF."))
    assert response.status_code == 303, response.status_code
    assert response.headers['Location'].endswith(
        f'/portal/costs/{cost_id}?correction=sent')
    (correction_id, code, kind, language, recipient, state, error,
        attempts, sent) = _created(cost_id, before)
    assert re.fullmatch(rf'WK/\d+/{datetime.date.today().year}', code)
    assert (kind, language, recipient) == (
        'request', 'pl', 'faktury@delta.example')

    msg = smtp.wait_for(lambda m: code in str(m['Subject']))
    assert msg['To'] == 'faktury@delta.example'
    assert 'noreply@portico.test' in msg['From']
    assert str(msg['Subject']) == (
        f"Wezwanie do korekty faktury {number} ({code})")
    plain = ' '.join(msg.get_body(('plain',)).get_content().split())
    assert "Szanowni Państwo" in plain
    assert f"Jest (błędnie): {WRONG}" in plain
    assert f"Powinno być: {CORRECT}" in plain
    assert "Alfa Usługi sp. z o.o." in plain
    attachment = _attachment(msg)
    assert attachment.get_filename() == code.replace('/', '-') + '.pdf'
    pdf = _pdf_text(attachment.get_content())
    for phrase in ["Wezwanie do korekty faktury", code, number,
            "Delta Budowa sp. z o.o.", "Treść korygowana (błędna)",
            "Treść prawidłowa", WRONG, CORRECT, "Termin płatności",
            "01.12.2026", "15.12.2026",
            "Dotyczy kosztów klienta: Alfa Usługi sp. z o.o.",
            "Prosimy o fakturę korygującą w KSeF."]:
        assert phrase in pdf, phrase
    assert (state, error, attempts, sent) == ('sent', None, 1, True)

    # The PDF as it was sent, and the list with its delivery
    download = as_a.get(
        f'costs/{cost_id}/corrections/{correction_id}/pdf')
    assert download.status_code == 200
    assert download.content_type == 'application/pdf'
    assert _pdf_text(download.data) == pdf
    listed = text(as_a.get(f'costs/{cost_id}/correction'))
    assert f"{code} Correction Request" in listed
    assert "faktury@delta.example Sent" in listed
    # The cost invoice's page, where the form leads back
    page = text(as_a.get(response.headers['Location']))
    assert "The correction was generated and is being e-mailed" in page
    assert f"{code} Correction Request" in page


def test_request_in_english_to_another_address(data, smtp, as_a):
    cost_id = data.costs['a_eur']
    number = data.cost_numbers['a_eur']
    before = _ids(cost_id)
    response = as_a.post(f'costs/{cost_id}/correction', _form(
            language='en', recipient='ap@mueller.example',
            rows=[("Buyer's name", "Portico sp. z o.o.",
                    "Portico Centrum Usług Księgowych sp. z o.o.")]))
    assert response.status_code == 303, response.status_code
    _, code, *_ = _created(cost_id, before)
    msg = smtp.wait_for(lambda m: code in str(m['Subject']))
    assert msg['To'] == 'ap@mueller.example'
    assert str(msg['Subject']) == (
        f"Request for a corrective invoice: invoice {number} ({code})")
    assert "Dear Sir or Madam" in msg.get_body(('plain',)).get_content()
    pdf = _pdf_text(_attachment(msg).get_content())
    for phrase in ["Request for a corrective invoice", "Buyer's name",
            "Wrong content (as on the invoice)", "Portico sp. z o.o.",
            "Correct content", "Müller Logistik GmbH",
            "Concerns the costs of client: Alfa Usługi sp. z o.o."]:
        assert phrase in pdf, phrase
    assert "Wezwanie" not in pdf


def test_note_only_for_an_invoice_dated_before_the_repeal(
        data, smtp, as_a, as_b):
    old_cost = data.costs['b_old']
    body = as_b.get(f'costs/{old_cost}/correction').get_data(as_text=True)
    assert 'type="radio" name="kind" id="kind-note" value="note"' in body
    before = _ids(old_cost)
    response = as_b.post(f'costs/{old_cost}/correction', _form(
            kind='note', rows=[("NIP nabywcy", "527-318-46-15",
                    "527-318-46-16")]))
    assert response.status_code == 303, response.status_code
    _, code, kind, *_ = _created(old_cost, before)
    assert kind == 'note' and code.startswith('NK/')
    msg = smtp.wait_for(lambda m: code in str(m['Subject']))
    assert str(msg['Subject']) == (
        f"Nota korygująca {code} do faktury FV/STARA/1/2026")
    pdf = _pdf_text(_attachment(msg).get_content())
    for phrase in ["NOTA KORYGUJĄCA", "art. 106k", "Wystawca noty (nabywca)",
            "Data wystawienia faktury 20.01.2026", "527-318-46-15",
            "527-318-46-16", "Akceptacja wystawcy faktury"]:
        assert phrase in pdf, phrase

    # Dated after 31 January 2026: refused with the reason
    cost_id = data.costs['a_approved']
    before = _ids(cost_id)
    refused = as_a.post(f'costs/{cost_id}/correction', _form(kind='note'))
    assert refused.status_code == 422
    assert "before 1 February 2026" in text(refused)
    assert _ids(cost_id) == before


def test_bad_input_is_422_with_messages_next_to_what_was_typed(
        data, smtp, as_a):
    cost_id = data.costs['a_approved']
    before = _ids(cost_id)
    response = as_a.post(f'costs/{cost_id}/correction', _form(
            recipient='faktury@', rows=[
                ("Adres nabywcy", WRONG, ""),
                ("", "stary", "nowy"),
                ("NIP", "123", " 123 ")],
            message="Pilne"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    page = text(response)
    assert "Enter a valid e-mail address." in page
    assert "Give both the wrong and the correct content." in page
    assert "Name the datum that is wrong" in page
    assert "The correct content must differ from the wrong one." in page
    assert 'value="faktury@"' in body
    assert WRONG in body and '>Pilne</textarea>' in body
    assert 'id="recipient-error"' in body
    assert 'id="items-0-correct-error"' in body
    assert 'id="items-1-field-error"' in body
    assert 'id="items-2-correct-error"' in body
    # Nothing typed at all
    empty = as_a.post(f'costs/{cost_id}/correction', _form(rows=[]))
    assert empty.status_code == 422
    assert "List at least one wrong datum" in text(empty)
    assert as_a.post(f'costs/{cost_id}/correction',
        _form(language='de')).status_code == 422
    assert as_a.post(f'costs/{cost_id}/correction',
        _form(action='delete')).status_code == 400
    assert _ids(cost_id) == before


def test_rows_are_added_and_removed_without_javascript(data, as_a):
    cost_id = data.costs['a_approved']
    before = _ids(cost_id)
    added = as_a.post(f'costs/{cost_id}/correction', _form(
            action='add_item'))
    assert added.status_code == 200
    body = added.get_data(as_text=True)
    assert 'name="items-0-field" value="Adres nabywcy"' in body
    assert 'name="items-1-field" value=""' in body
    removed = as_a.post(f'costs/{cost_id}/correction', _form(
            rows=[("Adres nabywcy", WRONG, CORRECT),
                ("Data sprzedaży", "01.11.2026", "02.11.2026")],
            remove_item='0'))
    assert removed.status_code == 200
    body = removed.get_data(as_text=True)
    assert 'name="items-0-field"' not in body
    assert 'name="items-1-field" value="Data sprzedaży"' in body
    assert _ids(cost_id) == before


def test_only_approved_cost_invoices_of_the_client(
        data, as_a, as_b, b_correction):
    b_cost = data.costs['b_approved']
    a_cost = data.costs['a_approved']
    # Another client's cost invoice or correction: 404 on every route
    for path in [f'costs/{b_cost}/correction',
            f'costs/{b_cost}/corrections/{b_correction}/pdf',
            f'costs/{a_cost}/corrections/{b_correction}/pdf']:
        assert as_a.get(path).status_code == 404, path
    for path in [f'costs/{b_cost}/correction',
            f'costs/{b_cost}/corrections/{b_correction}/resend',
            f'costs/{a_cost}/corrections/{b_correction}/resend']:
        assert as_a.post(path, _form()).status_code == 404, path
    assert _ids(b_cost) == {b_correction}
    # Its own client reads it, under its own cost invoice only
    assert as_b.get(f'costs/{b_cost}/corrections/{b_correction}/pdf'
        ).status_code == 200
    assert as_b.get(f'costs/{data.costs["b_submitted"]}/corrections/'
        f'{b_correction}/pdf').status_code == 404
    # Not approved: nothing to correct yet
    for key in ['a_draft', 'a_submitted', 'a_rejected']:
        response = as_a.get(f'costs/{data.costs[key]}/correction')
        assert response.status_code == 403, key
        assert "Only an approved or paid cost invoice" in text(response)
        assert as_a.post(f'costs/{data.costs[key]}/correction',
            _form()).status_code == 403
    # The form's token is checked
    assert as_a.post(f'costs/{a_cost}/correction', _form(),
        csrf=False).status_code == 403


def test_failed_delivery_is_recorded_and_sent_again(data, smtp, as_a):
    cost_id = data.costs['a_approved']
    before = _ids(cost_id)
    uri = config.get('email', 'uri')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = sock.getsockname()[1]
    config.set('email', 'uri', f'smtp://127.0.0.1:{closed}')
    try:
        response = as_a.post(f'costs/{cost_id}/correction', _form(
                recipient='ksiegowosc@delta.example'))
    finally:
        config.set('email', 'uri', uri)
    # The delivery failed, the client's action did not
    assert response.status_code == 303, response.status_code
    (correction_id, code, _, _, _, state, error, attempts,
        sent) = _created(cost_id, before)
    assert state == 'failed' and error and attempts == 1 and not sent
    assert not [m for m in smtp.messages if code in str(m['Subject'])]
    form_page = f'costs/{cost_id}/correction'
    listed = as_a.get(form_page)
    assert f"ksiegowosc@delta.example Failed {error}" in text(listed)

    response = as_a.post(
        f'costs/{cost_id}/corrections/{correction_id}/resend',
        {'next': f'/{as_a.database}/portal/{form_page}'})
    assert response.status_code == 303
    assert response.headers['Location'].endswith(
        f'/portal/{form_page}?correction=resent')
    msg = smtp.wait_for(lambda m: code in str(m['Subject']))
    assert msg['To'] == 'ksiegowosc@delta.example'
    assert WRONG in _pdf_text(_attachment(msg).get_content())
    (*_, state, error, attempts, sent), = [
        c for c in _corrections(cost_id) if c[0] == correction_id]
    assert (state, error, attempts, sent) == ('sent', None, 2, True)
    after = as_a.get(f'{form_page}?correction=resent')
    assert "The e-mail is being sent again." in text(after)
    # A target outside the portal is ignored
    response = as_a.post(
        f'costs/{cost_id}/corrections/{correction_id}/resend',
        {'next': 'https://evil.example/'})
    assert response.headers['Location'].endswith(
        f'/portal/costs/{cost_id}?correction=resent')


CONCURRENT = 12
WORKERS = 4


def _create_concurrently(data, cost_id):
    """One correction request in its own transaction, restarted as
    trytond's dispatcher does when the counter's row is locked by
    another; returns the number of restarts"""
    extras = {}
    for attempt in range(200):
        try:
            with Transaction().start(DB, 0, context={
                        'company': data.company}, **extras) as transaction:
                pool = Pool()
                Correction = pool.get('portal.cost.correction')
                CostInvoice = pool.get('portal.cost.invoice')
                try:
                    Correction.portal_create(CostInvoice(cost_id), {
                            'kind': 'request', 'language': 'pl',
                            'recipient': 'faktury@delta.example',
                            'message': ''},
                        [{'field': "NIP nabywcy", 'wrong': "1",
                                'correct': "2"}])
                    transaction.commit()
                    # The e-mails are not the point here
                    transaction.tasks.clear()
                    return attempt
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
        except backend.DatabaseOperationalError:
            time.sleep(random.uniform(0.005, 0.05))
    raise AssertionError("never created")


@pytest.mark.skipif(backend.name != 'postgresql',
    reason="SQLite serialises every writer: no concurrent numbering")
def test_concurrent_requests_get_continuous_numbers(data):
    cost_id = data.costs['a_eur']
    before = {c[1] for c in _corrections(cost_id)}
    errors, restarts = [], []

    def worker(count):
        for _ in range(count):
            try:
                restarts.append(_create_concurrently(data, cost_id))
            except Exception as e:
                errors.append(''.join(traceback.format_exception(e)))
    threads = [threading.Thread(target=worker,
            args=(CONCURRENT // WORKERS,)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    year = datetime.date.today().year
    numbers = sorted(int(re.fullmatch(rf'WK/(\d+)/{year}', n).group(1))
        for n in {c[1] for c in _corrections(cost_id)} - before)
    assert len(numbers) == CONCURRENT
    # Continuous with the numbers taken before, none twice
    last = read_only(_last_number, data.company, year)
    assert numbers == list(range(last - CONCURRENT + 1, last + 1))


def _last_number(company, year):
    Counter = Pool().get('portal.cost.correction.counter')
    counter, = Counter.search([('company', '=', company),
            ('kind', '=', 'request'), ('year', '=', year)])
    return counter.last_number
