"""Online (interactive) sessions: open, send, close, statuses and UPO.

As in KSeF, sending answers 202 at once with the invoice's reference number;
whether the invoice was accepted is told by its status in the session. The
emulator processes it on arrival but shows the outcome only after
``processing_delay`` seconds (0 by default), with status 100/150 until then,
so a client has to poll as it does with KSeF. A closed session's status turns
to 200 with its UPO once all its invoices are processed.
"""
import base64
import binascii
import datetime as dt
import time

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from werkzeug.wrappers import Response

from . import auth, dates, fa3, invoices, numbers, upo
from .errors import ApiError, json_response, read_json, require_fields
from .invoices import Rejected

SESSION_LIFETIME = dt.timedelta(hours=12)
MAX_INVOICES = 10_000

OPEN = {'code': 100, 'description': 'Sesja interaktywna otwarta'}
CLOSED = {'code': 170, 'description': 'Sesja interaktywna zamknięta'}
PROCESSED = {'code': 200,
    'description': 'Sesja interaktywna przetworzona pomyślnie'}
KEY_ERROR = {'code': 415,
    'description': 'Błąd odszyfrowania dostarczonego klucza'}
NOTHING_SENT = {'code': 440, 'description': 'Sesja anulowana',
    'details': ['Nie przesłano faktur']}
ALL_FAILED = {'code': 445,
    'description': 'Błąd weryfikacji, brak poprawnych faktur'}
RECEIVED = {'code': 100,
    'description': 'Faktura przyjęta do dalszego przetwarzania'}
PROCESSING = {'code': 150, 'description': 'Trwa przetwarzanie'}


class DropConnection(Exception):
    "Leave the request unanswered: the server closes the connection"


def _decode(value, name):
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ApiError(21405, f"Pole '{name}' nie jest w Base64.")


def _session(app, token, reference):
    "The token's context's session `reference`, or a 21173"
    with app.store.lock:
        session = app.store.sessions.get(reference)
    if session is None or session['contextNip'] != token['contextNip']:
        raise ApiError(21173, f'Sesja o numerze referencyjnym {reference} '
            'nie została odnaleziona.')
    return session


def _state(session, now=None):
    "open, closed (explicitly or by expiry) or broken (undecryptable key)"
    now = now or dates.now()
    if session['keyError']:
        return 'broken'
    if session['closedAt'] or dates.parse(session['validUntil']) < now:
        return 'closed'
    return 'open'


def _touch(session):
    session['dateUpdated'] = dates.api(dates.now())


def open_session(app, request):
    token = auth.require(app, request)
    body = read_json(request)
    require_fields(body, 'formCode', 'encryption')
    form = body['formCode']
    if not isinstance(form, dict) or {k: form.get(k)
            for k in fa3.FORM_CODE} != fa3.FORM_CODE:
        raise ApiError(21405, 'Wskazany kod formularza nie jest wspierany.')
    encryption = body['encryption']
    if not isinstance(encryption, dict):
        raise ApiError(21405, "Pole 'encryption' musi być obiektem.")
    require_fields(encryption, 'encryptedSymmetricKey', 'initializationVector')
    key_id = encryption.get('publicKeyId')
    if key_id and key_id != app.keys.public_key_id:
        raise ApiError(21470,
            f'Klucz o identyfikatorze {key_id} nie jest wspierany.')
    iv = _decode(encryption['initializationVector'], 'initializationVector')
    if len(iv) != 16:
        raise ApiError(21405, 'Wektor inicjalizujący musi mieć 16 bajtów.')
    encrypted_key = _decode(encryption['encryptedSymmetricKey'],
        'encryptedSymmetricKey')
    try:
        key = app.keys.decrypt(encrypted_key)
        key_error = len(key) != 32
    except ValueError:
        key, key_error = b'', True

    now = dates.now()
    reference = numbers.reference_number('SO', now)
    session = {
        'referenceNumber': reference,
        'contextNip': token['contextNip'],
        'authentication': auth.authentication_of(app, token),
        'formCode': fa3.FORM_CODE,
        'key': base64.b64encode(key).decode('ascii'),
        'iv': base64.b64encode(iv).decode('ascii'),
        'keyError': key_error,
        'dateCreated': dates.api(now),
        'dateUpdated': dates.api(now),
        'validUntil': dates.api(now + SESSION_LIFETIME),
        'closedAt': None,
        'invoices': [],
        'upoReferenceNumber': None,
        'upo': None,
        }
    with app.store.lock:
        app.store.sessions[reference] = session
    app.store.save()
    return json_response({'referenceNumber': reference,
            'validUntil': session['validUntil']}, 201)


def _check_send_request(body):
    require_fields(body, 'invoiceHash', 'invoiceSize', 'encryptedInvoiceHash',
        'encryptedInvoiceSize', 'encryptedInvoiceContent')
    for name in ('invoiceSize', 'encryptedInvoiceSize'):
        if (not isinstance(body[name], int) or isinstance(body[name], bool)
                or body[name] < 1):
            raise ApiError(21405, f"Pole '{name}' musi być liczbą >= 1.")
    for name in ('invoiceHash', 'encryptedInvoiceHash',
            'hashOfCorrectedInvoice'):
        value = body.get(name)
        if value is not None and (not isinstance(value, str)
                or len(value) != 44 or len(_decode(value, name)) != 32):
            raise ApiError(21405,
                f"Pole '{name}' musi być skrótem SHA-256 w Base64.")


def _check_technical_correction(app, corrected_hash):
    "Rules of KSeF's technical correction of a rejected (offline) invoice"
    with app.store.lock:
        earlier = [s for s in app.store.submissions.values()
            if s['invoiceHash'] == corrected_hash]
        corrections = [i for i in app.store.invoices.values()
            if i.get('hashOfCorrectedInvoice') == corrected_hash]
    if any(s['status']['code'] == 200 for s in earlier):
        raise ApiError(21167, 'Nie można wysłać korekty technicznej do '
            'prawidłowo przetworzonej faktury.')
    if corrections:
        raise ApiError(21166, 'Faktura posiada już przetworzoną prawidłowo '
            'korektę techniczną.')


def send_invoice(app, request, referenceNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    state = _state(session)
    if state != 'open':
        code = KEY_ERROR['code'] if state == 'broken' else CLOSED['code']
        raise ApiError(21180, f'Status sesji {code} uniemożliwia wysyłkę '
            'faktur.')
    if len(session['invoices']) >= MAX_INVOICES:
        raise ApiError(21155, f'Sesja o numerze referencyjnym '
            f'{referenceNumber} osiągnęła dozwolony limit liczby faktur '
            f'{MAX_INVOICES}.')
    body = read_json(request)
    _check_send_request(body)
    encrypted = _decode(body['encryptedInvoiceContent'],
        'encryptedInvoiceContent')
    if len(encrypted) != body['encryptedInvoiceSize']:
        raise ApiError(21402,
            'Długość treści nie zgadza się z rozmiarem pliku.')
    if invoices.sha256_b64(encrypted) != body['encryptedInvoiceHash']:
        raise ApiError(21403, 'Skrót treści nie zgadza się ze skrótem pliku.')
    corrected = body.get('hashOfCorrectedInvoice')
    if corrected:
        _check_technical_correction(app, corrected)

    now = dates.now()
    submission = {
        'referenceNumber': numbers.reference_number('EE', now),
        'sessionReferenceNumber': referenceNumber,
        'ordinalNumber': None,      # on arrival in the session, below
        'invoiceHash': body['invoiceHash'],
        'invoiceNumber': None,
        'invoicingDate': dates.api(now),
        'readyAt': dates.api(now + dt.timedelta(
                seconds=app.processing_delay)),
        'invoicingMode': 'Offline' if body.get('offlineMode') else 'Online',
        'ksefNumber': None,
        'status': None,
        }
    submission['status'] = _process(app, session, submission, encrypted, body,
        now)
    with app.store.lock:
        submission['ordinalNumber'] = len(session['invoices']) + 1
        app.store.submissions[submission['referenceNumber']] = submission
        session['invoices'].append(submission['referenceNumber'])
        _touch(session)
    app.store.save()

    timeout = app.faults.take('timeout_after_accept', 'invoiceSend')
    if timeout:
        time.sleep(float(timeout.get('delay', 0)))
        raise DropConnection()
    return json_response({'referenceNumber': submission['referenceNumber']},
        202)


def _process(app, session, submission, encrypted, body, now):
    "What KSeF makes of the invoice: its final status (and the invoice kept)"
    rejection = app.faults.take('reject_next', 'invoiceSend')
    if rejection:
        code = int(rejection.get('code', 450))
        return {'code': code,
            'description': rejection.get('description',
                'Błąd weryfikacji semantyki dokumentu faktury'),
            'details': rejection.get('details')
            or ['Odrzucenie wymuszone przez /_control/faults (reject_next).']}
    try:
        xml = _decrypt(session, encrypted)
        if (len(xml) != body['invoiceSize']
                or invoices.sha256_b64(xml) != body['invoiceHash']):
            raise Rejected(430, 'Błąd weryfikacji pliku faktury',
                'Skrót lub rozmiar odszyfrowanej faktury nie zgadza się z '
                'invoiceHash/invoiceSize.')
        offline = bool(body.get('offlineMode'))
        _, meta = invoices.examine(xml, context_nip=session['contextNip'],
            accepted_on=dates.local_day(now),
            technical_correction=bool(body.get('hashOfCorrectedInvoice')))
        submission['invoiceNumber'] = meta['invoiceNumber']
        # Checking for a duplicate and keeping the invoice are one step, so
        # that two sendings at once cannot both get through
        with app.store.lock:
            original = invoices.duplicate_of(app, meta)
            if original:
                raise invoices.duplicate(original)
            if app.faults.take('duplicate', 'invoiceSend'):
                # As if an earlier sending, in another session, had got in
                earlier = now - dt.timedelta(minutes=1)
                raise invoices.duplicate(invoices.store(app, xml, meta,
                        session_reference=numbers.reference_number('SO',
                            earlier),
                        invoice_reference=numbers.reference_number('EE',
                            earlier),
                        invoicing_date=earlier, offline=offline,
                        processing_time=dt.timedelta(seconds=1),
                        authentication=session['authentication']))
            invoice = invoices.store(app, xml, meta,
                session_reference=session['referenceNumber'],
                invoice_reference=submission['referenceNumber'],
                invoicing_date=now, offline=offline,
                authentication=session['authentication'],
                hash_of_corrected=body.get('hashOfCorrectedInvoice'))
    except Rejected as e:
        return e.status
    submission['ksefNumber'] = invoice['ksefNumber']
    # Final once permanently stored: a client that saw 200 can download it
    submission['readyAt'] = invoice['permanentStorageDate']
    return dict(invoices.SUCCESS)


def _decrypt(session, encrypted):
    "AES-256-CBC with PKCS#7 padding, with the session's key"
    try:
        decryptor = Cipher(algorithms.AES(base64.b64decode(session['key'])),
            modes.CBC(base64.b64decode(session['iv']))).decryptor()
        padded = decryptor.update(encrypted) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise Rejected(435, 'Błąd odszyfrowania pliku')


def close_session(app, request, referenceNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    state = _state(session)
    if state != 'open':
        code = KEY_ERROR['code'] if state == 'broken' else CLOSED['code']
        raise ApiError(21180,
            f'Status sesji {code} uniemożliwia jej zamknięcie.')
    with app.store.lock:
        session['closedAt'] = dates.api(dates.now())
        _touch(session)
    app.store.save()
    return Response(status=204)


def _ready(submission, now):
    return dates.parse(submission['readyAt']) <= now


def _submissions(app, session):
    with app.store.lock:
        return [app.store.submissions[r] for r in session['invoices']]


def _accepted_invoices(app, session):
    with app.store.lock:
        return [app.store.invoices[s['ksefNumber']]
            for s in _submissions(app, session) if s['ksefNumber']]


def _upo_link(request, path):
    return {'url': f'{request.host_url}storage/{path}',
        'expires': dates.api(dates.now() + invoices.UPO_LINK_LIFETIME)}


def session_status(app, request, referenceNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    now = dates.now()
    state = _state(session, now)
    submissions = _submissions(app, session)
    ready = [s for s in submissions if _ready(s, now)]
    answer = {
        'dateCreated': session['dateCreated'],
        'dateUpdated': session['dateUpdated'],
        'validUntil': session['validUntil'],
        'invoiceCount': len(submissions),
        'successfulInvoiceCount': sum(
            1 for s in ready if s['status']['code'] == 200),
        'failedInvoiceCount': sum(
            1 for s in ready if s['status']['code'] >= 400),
        }
    if state == 'broken':
        answer['status'] = KEY_ERROR
    elif state == 'open':
        answer['status'] = OPEN
    elif len(ready) < len(submissions):
        answer['status'] = CLOSED
    elif not submissions:
        answer['status'] = NOTHING_SENT
    elif not answer['successfulInvoiceCount']:
        answer['status'] = ALL_FAILED
    else:
        answer['status'] = PROCESSED
        _make_session_upo(app, session)
        link = _upo_link(request, f'{referenceNumber}/session-upo/'
            f'{session["upoReferenceNumber"]}.xml')
        answer['upo'] = {'pages': [{
                    'referenceNumber': session['upoReferenceNumber'],
                    'downloadUrl': link['url'],
                    'downloadUrlExpirationDate': link['expires'],
                    }]}
    return json_response(answer)


def _make_session_upo(app, session):
    with app.store.lock:
        if session['upo'] is None:
            session['upoReferenceNumber'] = numbers.reference_number('EU',
                dates.now())
            session['upo'] = upo.for_session(session['referenceNumber'],
                session['authentication'],
                _accepted_invoices(app, session)).decode('utf-8')
            app.store.save()


def _submission_view(app, request, submission, now):
    "SessionInvoiceStatusResponse of open-api.json"
    view = {
        'ordinalNumber': submission['ordinalNumber'],
        'referenceNumber': submission['referenceNumber'],
        'invoiceHash': submission['invoiceHash'],
        'invoicingDate': submission['invoicingDate'],
        }
    if submission['invoiceNumber']:
        view['invoiceNumber'] = submission['invoiceNumber']
    if not _ready(submission, now):
        half = (dates.parse(submission['invoicingDate'])
            + (dates.parse(submission['readyAt'])
                - dates.parse(submission['invoicingDate'])) / 2)
        view['status'] = RECEIVED if now < half else PROCESSING
        return view
    view['invoicingMode'] = submission['invoicingMode']
    view['status'] = submission['status']
    if submission['ksefNumber']:
        with app.store.lock:
            invoice = app.store.invoices[submission['ksefNumber']]
        link = _upo_link(request, f'{submission["sessionReferenceNumber"]}'
            f'/invoice-upo/{invoice["ksefNumber"]}.xml')
        view.update({
                'ksefNumber': invoice['ksefNumber'],
                'acquisitionDate': invoice['acquisitionDate'],
                'permanentStorageDate': invoice['permanentStorageDate'],
                'upoDownloadUrl': link['url'],
                'upoDownloadUrlExpirationDate': link['expires'],
                })
    return view


def _submission(app, session, reference):
    with app.store.lock:
        submission = app.store.submissions.get(reference)
    if (submission is None
            or submission['sessionReferenceNumber']
            != session['referenceNumber']):
        raise ApiError(21405, f'Faktura o numerze referencyjnym {reference} '
            f'nie została znaleziona w sesji {session["referenceNumber"]}.')
    return submission


def invoice_status(app, request, referenceNumber, invoiceReferenceNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    submission = _submission(app, session, invoiceReferenceNumber)
    return json_response(_submission_view(app, request, submission,
            dates.now()))


def _continuation(request):
    token = request.headers.get('x-continuation-token')
    if not token:
        return 0
    try:
        return int(base64.b64decode(token).decode('ascii'))
    except (ValueError, binascii.Error):
        raise ApiError(21405, 'Nieprawidłowy token kontynuacji.')


def session_invoices(app, request, referenceNumber, failed=False):
    "GET /sessions/{ref}/invoices[/failed], paged by x-continuation-token"
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    size = request.args.get('pageSize', '10')
    if not size.isdigit() or not 10 <= int(size) <= 1000:
        raise ApiError(21405,
            "Parametr 'pageSize' musi mieścić się w zakresie 10..1000.")
    now = dates.now()
    views = [_submission_view(app, request, s, now)
        for s in _submissions(app, session)]
    if failed:
        views = [v for v in views if v['status']['code'] >= 400]
    start = _continuation(request)
    end = start + int(size)
    answer = {'invoices': views[start:end]}
    if end < len(views):
        answer['continuationToken'] = base64.b64encode(
            str(end).encode()).decode('ascii')
    return json_response(answer)


def failed_invoices(app, request, referenceNumber):
    return session_invoices(app, request, referenceNumber, failed=True)


def _xml(data):
    return Response(data, mimetype='application/xml',
        headers={'x-ms-meta-hash': invoices.sha256_b64(data)})


def _upo_not_found(detail):
    return ApiError(21178, detail)


def invoice_upo_by_reference(app, request, referenceNumber,
        invoiceReferenceNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    submission = _submission(app, session, invoiceReferenceNumber)
    if not submission['ksefNumber'] or not _ready(submission, dates.now()):
        raise _upo_not_found(f'UPO faktury {invoiceReferenceNumber} nie '
            'zostało znalezione.')
    with app.store.lock:
        return _xml(app.store.invoices[submission['ksefNumber']]['upo']
            .encode('utf-8'))


def _invoice_of_session(app, session, ksef_number):
    with app.store.lock:
        invoice = app.store.invoices.get(ksef_number)
    if (invoice is None
            or invoice['sessionReferenceNumber'] != session['referenceNumber']
            or not invoices.available(invoice)):
        raise _upo_not_found(f'UPO o numerze KSeF {ksef_number} i numerze '
            f'referencyjnym sesji {session["referenceNumber"]} nie zostało '
            'znalezione.')
    return invoice


def invoice_upo_by_ksef_number(app, request, referenceNumber, ksefNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    invoice = _invoice_of_session(app, session, ksefNumber)
    return _xml(invoice['upo'].encode('utf-8'))


def session_upo(app, request, referenceNumber, upoReferenceNumber):
    token = auth.require(app, request)
    session = _session(app, token, referenceNumber)
    if session['upo'] is None or (session['upoReferenceNumber']
            != upoReferenceNumber):
        raise _upo_not_found(f'UPO o numerze referencyjnym '
            f'{upoReferenceNumber} dla sesji {referenceNumber} nie zostało '
            'znalezione.')
    return _xml(session['upo'].encode('utf-8'))


def storage_upo(app, request, referenceNumber, kind, name):
    """The pre-signed UPO links of the statuses (no token, no limits, as the
    real storage links)"""
    with app.store.lock:
        session = app.store.sessions.get(referenceNumber)
        invoice = app.store.invoices.get(name)
    if session is None:
        raise ApiError(21173, f'Sesja o numerze referencyjnym '
            f'{referenceNumber} nie została odnaleziona.')
    if kind == 'session-upo' and session['upoReferenceNumber'] == name:
        return _xml(session['upo'].encode('utf-8'))
    if (kind == 'invoice-upo' and invoice
            and invoice['sessionReferenceNumber'] == referenceNumber):
        return _xml(invoice['upo'].encode('utf-8'))
    raise _upo_not_found(f'UPO {name} nie zostało znalezione.')
