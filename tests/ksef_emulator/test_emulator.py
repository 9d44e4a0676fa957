"""The KSeF emulator driven by the real `ksef-client`, as addons/ksef will.

One emulator for the module (the firm 5273184651, one KSeF token); each test
starts from the seed (reset) with no fault and no rate limit.
"""
import base64
import datetime as dt
import hashlib
import os
import subprocess
import sys
import time

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ksef_client import KsefClient, KsefClientOptions, models as m
from ksef_client.documents.fa3 import Address, FA3Invoice, InvoiceParty, \
    TaxCategory
from ksef_client.exceptions import KsefApiError, KsefHttpError, \
    KsefRateLimitError
from ksef_client.services import AuthCoordinator, OnlineSessionWorkflow
from ksef_client.utils import validate_ksef_number
from lxml import etree

from . import Emulator, dates, numbers

NIP = '5273184651'
TOKEN = 'test-token-5273184651'
SUPPLIER = '2223334443'     # a seed supplier
FA3 = m.FormCode(system_code='FA (3)', schema_version='1-0E', value='FA')
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
UPO_SCHEMA = etree.XMLSchema(etree.parse(
        os.path.join(HERE, 'schemas', 'upo-v4-3.xsd')))
UPO = {'u': 'http://upo.schematy.mf.gov.pl/KSeF/v4-3'}


@pytest.fixture(scope='module')
def emulator():
    with Emulator(nip=NIP, tokens=[TOKEN]) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def fresh(emulator):
    emulator.reset()
    emulator.set_rate_limits({})
    emulator.app.processing_delay = 0
    emulator.app.query_limit = 10_000
    yield


def options(emulator, **extra):
    return KsefClientOptions(**{'base_url': emulator.base_url,
            'timeout_seconds': 5, **extra})


@pytest.fixture(scope='module')
def auth(emulator):
    "Token authentication as addons/ksef will do it"
    with KsefClient(options(emulator)) as client:
        certificate = client.security.get_public_key_certificate_pem(
            m.PublicKeyCertificateUsage.KSEFTOKENENCRYPTION)
        return AuthCoordinator(client.auth).authenticate_with_ksef_token(
            token=TOKEN, public_certificate=certificate,
            context_identifier_type='nip', context_identifier_value=NIP,
            poll_interval_seconds=0.05, max_attempts=5)


@pytest.fixture
def client(emulator, auth):
    with KsefClient(options(emulator), access_token=auth.access_token) \
            as client:
        yield client


def open_session(client):
    certificate = client.security.get_public_key_certificate_pem(
        m.PublicKeyCertificateUsage.SYMMETRICKEYENCRYPTION)
    return OnlineSessionWorkflow(client.sessions).open_session(
        form_code=FA3, public_certificate=certificate,
        access_token=client.http_client._access_token, upo_v43=True)


def invoice_xml(number, *, seller=NIP, buyer=SUPPLIER, currency='PLN'):
    "A valid FA(3) invoice from ksef-client's builder, issued today"
    today = dates.local_day(dates.now())
    builder = (FA3Invoice.basic(number).issued_on(today).sale_date(today)
        .currency(currency)
        .seller(InvoiceParty.polish_company(nip=seller, name='Sprzedawca',
                address=Address.polish('ul. Prosta 1', '00-001 Warszawa')))
        .buyer(InvoiceParty.polish_company(nip=buyer, name='Nabywca',
                address=Address.polish('ul. Krzywa 2', '30-001 Kraków')))
        .add_goods_line('Widget', quantity=2, unit_net_price='100.00',
            tax=TaxCategory.standard_23())
        .add_service_line('Usługa', quantity=1, unit_net_price='50.00',
            tax=TaxCategory.reduced_8()))
    if currency != 'PLN':
        builder = builder.foreign_currency_rate('4.2512')
    return builder.build().to_xml(xsd_validate=True)


def wait_status(session, reference, timeout=3.0):
    "Poll the invoice's status until it is final"
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        status = session.get_invoice_status(reference)
        seen.append(status.status.code)
        if status.status.code not in (100, 150):
            return status, seen
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)


def check_upo(xml):
    document = etree.fromstring(xml)
    assert UPO_SCHEMA.validate(document), UPO_SCHEMA.error_log
    return document


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_ksef_number_checksum():
    "facts POLAND.md §3.4: CRC-8, polynomial 0x07, initial value 0"
    example = '5265877635-20250826-0100001AF629-AF'
    assert numbers.ksef_number('5265877635', dt.date(2025, 8, 26),
        '0100001AF629') == example
    assert numbers.is_valid_ksef_number(example)
    assert not numbers.is_valid_ksef_number(example[:-2] + 'AE')
    for _ in range(20):
        generated = numbers.ksef_number(NIP, dt.date.today())
        assert numbers.is_valid_ksef_number(generated)
        assert validate_ksef_number(generated).is_valid


def test_token_authentication(emulator, auth):
    assert auth.reference_number and numbers.is_reference_number(
        auth.reference_number)
    with KsefClient(options(emulator)) as client:
        refreshed = client.auth.refresh_access_token(auth.refresh_token)
        assert refreshed.access_token.token != auth.access_token
        # Tokens can be redeemed once
        with pytest.raises(KsefApiError) as error:
            client.auth.redeem_token(auth.authentication_token)
        detail = error.value.exception_response.exception \
            .exception_detail_list[0]
        assert detail.exception_code == 21301

        certificate = client.security.get_public_key_certificate_pem(
            m.PublicKeyCertificateUsage.KSEFTOKENENCRYPTION)
        coordinator = AuthCoordinator(client.auth)
        with pytest.raises(RuntimeError, match='450.*Nieprawidłowy token'):
            coordinator.authenticate_with_ksef_token(token='wrong',
                public_certificate=certificate,
                context_identifier_type='nip', context_identifier_value=NIP,
                poll_interval_seconds=0.01)
        with pytest.raises(RuntimeError, match='415'):
            coordinator.authenticate_with_ksef_token(token=TOKEN,
                public_certificate=certificate,
                context_identifier_type='nip',
                context_identifier_value='1111111111',
                poll_interval_seconds=0.01)


def self_signed(nip):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, 'Biuro Portico'),
            x509.NameAttribute(x509.ObjectIdentifier('2.5.4.97'),
                f'VATPL-{nip}'),
            ])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name)
        .issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode())


def test_xades_authentication(emulator):
    certificate, key = self_signed(NIP)
    with KsefClient(options(emulator)) as client:
        result = AuthCoordinator(client.auth).authenticate_with_xades(
            context_identifier_type='nip', context_identifier_value=NIP,
            subject_identifier_type='certificateSubject',
            certificate_pem=certificate, private_key_pem=key,
            poll_interval_seconds=0.01)
        status = client.auth.get_auth_status(result.reference_number,
            result.authentication_token)
        assert status.authentication_method_info.code == \
            'xades.qualified-seal'

        # A request changed after signing does not verify
        from ksef_client.services.auth import build_auth_token_request_xml
        from ksef_client.services.xades import sign_xades_enveloped
        challenge = client.auth.get_challenge().challenge
        signed = sign_xades_enveloped(build_auth_token_request_xml(
                challenge=challenge, context_identifier_type='nip',
                context_identifier_value=NIP), certificate, key)
        with pytest.raises(KsefApiError) as error:
            client.auth.submit_xades_auth_request(
                signed.replace(NIP, '1111111111'))
        assert error.value.exception_response.exception \
            .exception_detail_list[0].exception_code == 9105


def test_send_valid_invoice(emulator, client):
    emulator.app.processing_delay = 0.3
    xml = invoice_xml('FV/2026/11/1')
    session = open_session(client)
    sent = session.send_invoice(xml)
    status, seen = wait_status(session, sent.reference_number)
    assert seen[0] in (100, 150) and seen[-1] == 200
    assert status.status.description == 'Sukces'
    assert status.invoice_number == 'FV/2026/11/1'
    assert status.invoice_hash == sha256_b64(xml)
    assert status.invoicing_mode == m.InvoicingMode.ONLINE
    number = status.ksef_number
    assert numbers.is_valid_ksef_number(number)
    assert validate_ksef_number(number).is_valid
    assert number.startswith(f'{NIP}-{dates.local_day(dates.now()):%Y%m%d}-')
    assert (dates.parse(status.invoicing_date)
        < dates.parse(status.acquisition_date)
        < dates.parse(status.permanent_storage_date))

    # The UPO of the invoice, by reference and by KSeF number
    upo = session.get_invoice_upo_by_ref(sent.reference_number)
    assert upo == session.get_invoice_upo_by_ksef(number)
    document = check_upo(upo)
    assert document.findtext('u:Dokument/u:NumerKSeFDokumentu',
        namespaces=UPO) == number
    assert document.findtext('u:Dokument/u:SkrotDokumentu',
        namespaces=UPO) == sha256_b64(xml)
    assert document.findtext('u:NumerReferencyjnySesji',
        namespaces=UPO) == session.reference_number
    assert document.findtext('u:Uwierzytelnienie/u:IdKontekstu/u:Nip',
        namespaces=UPO) == NIP

    # The session: open, then closed and processed with its UPO
    assert session.get_status().status.code == 100
    session.close()
    closed = session.get_status()
    assert closed.status.code == 200
    assert (closed.invoice_count, closed.successful_invoice_count,
        closed.failed_invoice_count) == (1, 1, 0)
    page, = closed.upo.pages
    session_upo = check_upo(session.get_upo(page.reference_number))
    assert session_upo.findtext('u:OpisPotwierdzenia/'
        'u:CalkowitaLiczbaDokumentow', namespaces=UPO) == '1'
    with httpx.Client() as http:    # the "pre-signed" link, no token
        linked = http.get(page.download_url)
        assert linked.content == session.get_upo(page.reference_number)
        assert linked.headers['x-ms-meta-hash'] == sha256_b64(linked.content)

    # Downloaded by its number: the very bytes sent
    downloaded = client.invoices.get_invoice_bytes(number,
        access_token=client.http_client._access_token)
    assert downloaded.content == xml
    assert downloaded.sha256_base64 == sha256_b64(xml)

    # A closed session takes no more invoices
    with pytest.raises(KsefApiError) as error:
        session.send_invoice(invoice_xml('FV/2026/11/2'))
    assert error.value.exception_response.exception.exception_detail_list[
        0].exception_code == 21180


@pytest.mark.parametrize('name, change, code', [
        ('schema', lambda x: x.replace(b'<P_2>FV/X/1</P_2>', b''), 450),
        ('not XML', lambda x: x[:-20], 450),
        ('BOM', lambda x: b'\xef\xbb\xbf' + x, 450),
        ('other seller', lambda x: invoice_xml('FV/X/1', seller=SUPPLIER,
                buyer=NIP), 410),
        ])
def test_invalid_invoice_rejected(client, name, change, code):
    session = open_session(client)
    sent = session.send_invoice(change(invoice_xml('FV/X/1')))
    status, _ = wait_status(session, sent.reference_number)
    assert status.status.code == code, status.status
    assert status.ksef_number is None
    assert status.status.details
    if name == 'schema':
        assert 'P_2' in ' '.join(status.status.details)
    failed = session.list_failed_invoices(page_size=10)
    assert [i.reference_number for i in failed.invoices] == [
        sent.reference_number]
    session.close()
    assert session.get_status().status.code == 445


def test_corrupted_sending_refused(client):
    "Hashes and sizes the request declares are checked on arrival"
    from ksef_client.services.crypto import build_send_invoice_request
    session = open_session(client)
    request = build_send_invoice_request(invoice_xml('FV/X/2'),
        session.encryption_data.key, session.encryption_data.iv)
    payload = request.to_dict()
    payload['encryptedInvoiceSize'] += 1
    response = client.http_client.request('POST',
        f'/sessions/online/{session.reference_number}/invoices',
        json=payload, expected_status={400})
    assert response.json()['exception']['exceptionDetailList'][0][
        'exceptionCode'] == 21402


def test_offline_invoice(client):
    session = open_session(client)
    sent = session.send_invoice(invoice_xml('FV/OFF/1'), offline_mode=True)
    status, _ = wait_status(session, sent.reference_number)
    assert status.status.code == 200
    assert status.invoicing_mode == m.InvoicingMode.OFFLINE
    upo = check_upo(session.get_invoice_upo_by_ref(sent.reference_number))
    assert upo.findtext('u:Dokument/u:TrybWysylki', namespaces=UPO) == \
        'Offline'


def query(client, subject='Subject2', **kwargs):
    return client.invoices.query_invoice_metadata_by_date_range(
        subject_type=subject, date_type='PermanentStorage',
        date_from=dates.api(dates.now() - dt.timedelta(days=30)),
        access_token=client.http_client._access_token, **kwargs)


def test_metadata_query_paging(emulator, client):
    # The seed: 4 invoices to the firm (one EUR, one KOR); 12 more
    for index in range(12):
        emulator.add_invoice(invoice_xml(f'FV/IN/{index}', seller=SUPPLIER,
                buyer=NIP), acquired=dates.now()
            - dt.timedelta(minutes=30 - index))
    first = query(client, page_size=10, page_offset=0)
    second = query(client, page_size=10, page_offset=1)
    assert (len(first.invoices), first.has_more, first.is_truncated) == (
        10, True, False)
    assert (len(second.invoices), second.has_more) == (6, False)
    rows = first.invoices + second.invoices
    assert len({r.ksef_number for r in rows}) == 16
    stored = [r.permanent_storage_date for r in rows]
    assert stored == sorted(stored)
    assert first.permanent_storage_hwm_date
    assert all(r.buyer.identifier.value == NIP for r in rows)
    assert {r.currency for r in rows} == {'PLN', 'EUR'}
    assert sum(r.invoice_type == m.InvoiceType.KOR for r in rows) == 1
    assert all(validate_ksef_number(r.ksef_number).is_valid for r in rows)

    iterated = list(client.invoices.iter_invoice_metadata_by_date_range(
            subject_type='Subject2', date_type='PermanentStorage',
            date_from=dates.api(dates.now() - dt.timedelta(days=30)),
            access_token=client.http_client._access_token, page_size=10))
    assert [r.ksef_number for r in iterated] == [r.ksef_number for r in rows]

    descending = query(client, page_size=250, sort_order='Desc')
    assert [r.ksef_number for r in descending.invoices] == [
        r.ksef_number for r in reversed(rows)]
    # The firm sold nothing yet
    assert query(client, subject='Subject1').invoices == []

    # KSeF's cap on one filter set (10 000 rows), made small
    emulator.app.query_limit = 15
    capped = query(client, page_size=10, page_offset=1)
    assert (len(capped.invoices), capped.has_more, capped.is_truncated) == (
        5, True, True)


def test_metadata_filters_and_date_range(client):
    eur = client.invoices.query_invoice_metadata(m.InvoiceQueryFilters(
            subject_type=m.InvoiceQuerySubjectType.SUBJECT2,
            date_range=m.InvoiceQueryDateRange(
                date_type=m.InvoiceQueryDateType.ISSUE,
                from_=dates.api(dates.now() - dt.timedelta(days=30))),
            currency_codes=['EUR']),
        access_token=client.http_client._access_token)
    assert [i.currency for i in eur.invoices] == ['EUR']
    assert eur.permanent_storage_hwm_date is None
    # More than 3 months: refused (ksef-client checks 100 days first)
    with pytest.raises(KsefApiError) as error:
        client.http_client.request('POST', '/invoices/query/metadata', json={
                'subjectType': 'Subject2',
                'dateRange': {'dateType': 'Issue',
                    'from': '2026-01-01T00:00:00',
                    'to': '2026-04-15T00:00:00'}})
    assert error.value.exception_response.exception.exception_detail_list[
        0].exception_code == 21405


def test_download_by_number(emulator, client):
    token = client.http_client._access_token
    seeded = emulator.invoices()
    eur, = [i for i in seeded if i['currency'] == 'EUR']
    content = client.invoices.get_invoice(eur['ksefNumber'],
        access_token=token)
    assert '<KodWaluty>EUR</KodWaluty>' in content.content
    assert '<KursWalutyZ>' in content.content
    assert content.sha256_base64 == eur['invoiceHash']
    kor, = [i for i in seeded if i['invoiceType'] == 'Kor']
    corrected = client.invoices.get_invoice(kor['ksefNumber'],
        access_token=token).content
    assert f'<NrKSeFFaKorygowanej>{seeded[0]["ksefNumber"]}' in corrected

    missing = numbers.ksef_number(SUPPLIER, dt.date.today())
    with pytest.raises(KsefApiError) as error:
        client.invoices.get_invoice(missing, access_token=token)
    assert error.value.exception_response.exception.exception_detail_list[
        0].exception_code == 21164
    # An invoice between two others is not the firm's to read
    other = emulator.add_invoice(invoice_xml('FV/OTHER/1', seller=SUPPLIER,
            buyer='3334445554'))
    with pytest.raises(KsefApiError):
        client.invoices.get_invoice(other['ksefNumber'], access_token=token)


def test_qr_verification_page(emulator):
    "KOD I built by ksef-client with the emulator as QR host"
    from ksef_client.services.verification_link import \
        VerificationLinkService
    invoice = emulator.invoices()[0]
    links = VerificationLinkService(options(emulator,
            base_qr_url=emulator.base_url))
    url = links.build_invoice_verification_url(invoice['seller']['nip'],
        invoice['issueDate'], invoice['invoiceHash'])
    page = httpx.get(url)
    assert page.status_code == 200 and invoice['ksefNumber'] in page.text
    assert httpx.get(url[:-3] + 'AAA').status_code == 404


def test_problem_details_on_request(emulator, auth):
    with KsefClient(options(emulator, custom_headers={
                'X-Error-Format': 'problem-details'}),
            access_token=auth.access_token) as client:
        with pytest.raises(KsefApiError) as error:
            client.invoices.get_invoice(
                numbers.ksef_number(SUPPLIER, dt.date.today()),
                access_token=auth.access_token)
    problem = error.value.problem
    assert isinstance(problem, m.BadRequestProblemDetails)
    assert problem.errors[0].code == 21164


def test_rate_limit(emulator, client):
    emulator.set_rate_limits({'invoiceMetadata': {'perSecond': 2}})
    query(client)
    query(client)
    with pytest.raises(KsefRateLimitError) as error:
        query(client)
    assert error.value.status_code == 429
    assert error.value.retry_after == 1
    assert isinstance(error.value.problem, m.TooManyRequestsResponse)
    # Other groups are not limited
    client.invoices.get_invoice(emulator.invoices()[0]['ksefNumber'],
        access_token=client.http_client._access_token)
    time.sleep(1.05)
    query(client)


def test_unavailable(emulator, client):
    emulator.fault('unavailable', retryAfter=7, count=2)
    for _ in range(2):
        with pytest.raises(KsefHttpError) as error:
            open_session(client)
        assert (error.value.status_code, error.value.retry_after) == (503, 7)
    open_session(client)


def test_timeout_after_accept_then_duplicate(emulator, auth):
    "KSeF stored the invoice although the client saw no answer"
    xml = invoice_xml('FV/TIMEOUT/1')
    emulator.fault('timeout_after_accept', delay=0.6)
    with KsefClient(options(emulator, timeout_seconds=0.3),
            access_token=auth.access_token) as client:
        session = open_session(client)
        with pytest.raises(KsefHttpError) as error:
            session.send_invoice(xml)
    assert error.value.status_code == 0     # no HTTP answer
    stored, = [i for i in emulator.invoices()
        if i['invoiceNumber'] == 'FV/TIMEOUT/1']
    assert stored['invoiceHash'] == sha256_b64(xml)

    with KsefClient(options(emulator), access_token=auth.access_token) \
            as client:
        # Sent again, as is or rebuilt (another hash): a duplicate
        session = open_session(client)
        for again in (xml, invoice_xml('FV/TIMEOUT/1')):
            sent = session.send_invoice(again)
            status, _ = wait_status(session, sent.reference_number)
            assert status.status.code == 440
            assert status.status.extensions['originalKsefNumber'] == \
                stored['ksefNumber']
            assert status.ksef_number is None
    assert len([i for i in emulator.invoices()
            if i['invoiceNumber'] == 'FV/TIMEOUT/1']) == 1


def test_duplicate_and_reject_faults(emulator, client):
    session = open_session(client)
    emulator.fault('duplicate')
    sent = session.send_invoice(invoice_xml('FV/DUP/1'))
    status, _ = wait_status(session, sent.reference_number)
    assert status.status.code == 440
    original = status.status.extensions['originalKsefNumber']
    assert any(i['ksefNumber'] == original for i in emulator.invoices())

    emulator.fault('reject_next', code=450, details=['Błędny NIP nabywcy'])
    sent = session.send_invoice(invoice_xml('FV/REJ/1'))
    status, _ = wait_status(session, sent.reference_number)
    assert (status.status.code, status.status.details) == (
        450, ['Błędny NIP nabywcy'])
    sent = session.send_invoice(invoice_xml('FV/REJ/1'))
    assert wait_status(session, sent.reference_number)[0].status.code == 200


def test_control_endpoints(emulator):
    with httpx.Client(base_url=emulator.base_url) as http:
        assert http.get('/_control/health').json()['invoices'] == 4
        added = http.post('/_control/invoices', content=invoice_xml(
                'FV/CTL/1', seller=SUPPLIER, buyer=NIP),
            headers={'Content-Type': 'application/xml'})
        assert added.status_code == 201
        assert numbers.is_valid_ksef_number(added.json()['ksefNumber'])
        assert len(http.get('/_control/invoices',
                params={'buyerNip': NIP}).json()) == 5
        assert http.post('/_control/faults',
            json={'mode': 'nonsense'}).status_code == 400
        assert http.post('/_control/faults', json={'mode': 'unavailable',
                'group': 'invoiceDownload'}).status_code == 201
        assert http.post('/_control/rate-limits', json={
                'invoiceSend': {'perSecond': 3}}).json() == {
            'invoiceSend': {'perSecond': 3}}
        assert http.post('/_control/reset', json={'seed': False}).json() == {
            'invoices': 0}
        assert http.get('/_control/faults').json() == []


def test_persistence(tmp_path):
    "With a data directory, keys and invoices survive a restart"
    with Emulator(nip=NIP, tokens=[TOKEN], data_dir=str(tmp_path)) as first:
        added = first.add_invoice(invoice_xml('FV/KEEP/1', seller=SUPPLIER,
                buyer=NIP))
        key_id = first.app.keys.public_key_id
    with Emulator(nip=NIP, tokens=[TOKEN], data_dir=str(tmp_path)) as second:
        assert second.app.keys.public_key_id == key_id
        numbers_kept = [i['ksefNumber'] for i in second.invoices()]
        assert added['ksefNumber'] in numbers_kept
        assert len(numbers_kept) == 5


def test_seed_directory(tmp_path):
    "The invoices of a seed directory, in name order, up to now"
    for index in range(2):
        (tmp_path / f'{index}.xml').write_bytes(invoice_xml(f'FV/SEED/{index}',
                seller=SUPPLIER, buyer=NIP))
    with Emulator(nip=NIP, tokens=[TOKEN], seed_dir=str(tmp_path)) as ksef:
        seeded = ksef.invoices()
    assert [i['invoiceNumber'] for i in seeded] == ['FV/SEED/0', 'FV/SEED/1']
    assert {i['source'] for i in seeded} == {'seed'}


def test_command_line(tmp_path):
    port_file = tmp_path / 'port'
    process = subprocess.Popen([sys.executable, '-m', 'tests.ksef_emulator',
            '--port', '0', '--nip', NIP, '--data', str(tmp_path / 'data'),
            '--port-file', str(port_file), '--quiet'], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text().strip():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        port = int(port_file.read_text())
        line = process.stdout.readline()
        assert f'http://127.0.0.1:{port}' in line
        health = httpx.get(f'http://127.0.0.1:{port}/_control/health').json()
        assert (health['nip'], health['invoices']) == (NIP, 4)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert (tmp_path / 'data' / 'state.json').exists()


def test_answers_follow_open_api(emulator):
    """Every JSON answer of a whole run, checked against open-api.json:
    required fields, no unknown field, types, enums, patterns, dates"""
    from .openapi_check import Spec, find_spec
    path = find_spec()
    if not path:
        pytest.skip('open-api.json not found (shared/facts/ksef/)')
    spec = Spec(path)
    recorded = []

    def record(response):
        response.read()
        recorded.append(response)
    emulator.set_rate_limits({'invoiceDownload': {'perSecond': 1}})
    with KsefClient(options(emulator)) as client:
        client.http_client._client.event_hooks['response'] = [record]
        certificate = client.security.get_public_key_certificate_pem(
            m.PublicKeyCertificateUsage.KSEFTOKENENCRYPTION)
        auth = AuthCoordinator(client.auth).authenticate_with_ksef_token(
            token=TOKEN, public_certificate=certificate,
            context_identifier_type='nip', context_identifier_value=NIP,
            poll_interval_seconds=0.01)
        client.auth.refresh_access_token(auth.refresh_token)
        with pytest.raises(KsefApiError):       # 400, ExceptionResponse
            client.auth.redeem_token(auth.authentication_token)
        token = auth.access_token
        with pytest.raises(KsefApiError):       # 401
            client.sessions.get_session_status(
                numbers.reference_number('SO', dates.now()),
                access_token='nonsense')
        session = OnlineSessionWorkflow(client.sessions).open_session(
            form_code=FA3, public_certificate=certificate,
            access_token=token)
        good = session.send_invoice(invoice_xml('FV/API/1'))
        bad = session.send_invoice(b'<Faktura/>')
        for sent in (good, bad):
            wait_status(session, sent.reference_number)
        session.list_invoices(page_size=10)
        session.list_failed_invoices(page_size=10)
        session.close()
        session.get_status()
        client.invoices.query_invoice_metadata_by_date_range(
            subject_type='Subject2', date_type='PermanentStorage',
            date_from=dates.api(dates.now() - dt.timedelta(days=30)),
            access_token=token, page_size=10)
        client.invoices.query_invoice_metadata_by_date_range(
            subject_type='Subject1', date_type='Invoicing',
            date_from=dates.api(dates.now() - dt.timedelta(days=1)),
            access_token=token)
        missing = numbers.ksef_number(SUPPLIER, dt.date.today())
        for headers in ({}, {'X-Error-Format': 'problem-details'}):
            for _ in range(2):                  # 400 then 429
                with pytest.raises(KsefHttpError):
                    client.http_client.request('GET',
                        f'/invoices/ksef/{missing}', access_token=token,
                        headers=headers)
    problems = []
    checked = set()
    for response in recorded:
        request = response.request
        media = response.headers.get('content-type', '')
        if 'json' not in media:
            continue
        problems += spec.check_response(request.method, request.url.path,
            response.status_code, media, response.json())
        checked.add((request.method, response.status_code))
    assert not problems, '\n'.join(problems)
    assert {400, 401, 429} <= {status for _, status in checked}
    assert len(recorded) > 20
