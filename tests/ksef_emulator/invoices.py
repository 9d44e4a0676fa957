"""Invoices KSeF holds: accepting one, downloading it, querying metadata.

`examine` does what KSeF does to an invoice once it is decrypted (file checks,
XML and FA(3) schema, permissions, dates, duplicates) and `store` gives an
accepted one its KSeF number, dates and UPO. Invoices of other sellers that
KSeF holds for the firm (seeds, /_control/invoices) come in through
`receive`. GET /invoices/ksef/{ksefNumber} and POST /invoices/query/metadata
follow open-api.json.
"""
import base64
import datetime as dt
import hashlib

from werkzeug.wrappers import Response

from . import auth, dates, fa3, numbers, upo
from .errors import ApiError, json_response, read_json, require_fields

MAX_SIZE = 1_000_000                 # without attachments
MAX_SIZE_WITH_ATTACHMENT = 3_000_000
INVOICE_METADATA_LIMIT = 10_000      # rows per filter set: isTruncated
UPO_LINK_LIFETIME = dt.timedelta(days=3)
SUBJECT_TYPES = {'Subject1', 'Subject2', 'Subject3', 'SubjectAuthorized'}
DATE_FIELDS = {'Issue': 'issueDate', 'Invoicing': 'invoicingDate',
    'PermanentStorage': 'permanentStorageDate'}

SUCCESS = {'code': 200, 'description': 'Sukces'}


class Rejected(Exception):
    "An invoice KSeF takes in but does not accept: its status"

    def __init__(self, code, description, *details, extensions=None):
        super().__init__(code, description)
        self.status = {'code': code, 'description': description}
        if details:
            self.status['details'] = list(details)
        if extensions:
            self.status['extensions'] = extensions


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode('ascii')


def examine(xml, *, context_nip, accepted_on, technical_correction=False):
    """The FA(3) root and metadata of an invoice KSeF would accept from
    `context_nip`; Rejected otherwise (duplicates aside: see `duplicate_of`)
    """
    if len(xml) > MAX_SIZE_WITH_ATTACHMENT:
        raise Rejected(430, 'Błąd weryfikacji pliku faktury',
            f'Rozmiar faktury {len(xml)} B przekracza dozwolony.')
    try:
        root = fa3.parse(xml)
    except fa3.InvalidInvoice as e:
        raise Rejected(450, 'Błąd weryfikacji semantyki dokumentu faktury',
            *e.args)
    meta = fa3.metadata(root)
    if meta['hasAttachment']:
        if not technical_correction:
            raise Rejected(415,
                'Brak możliwości wysyłania faktury z załącznikiem')
    elif len(xml) > MAX_SIZE:
        raise Rejected(430, 'Błąd weryfikacji pliku faktury',
            f'Rozmiar faktury {len(xml)} B przekracza 1 MB.')
    issuers = {meta['seller']['nip']}
    if meta['isSelfInvoicing']:     # the buyer issues in the seller's name
        issuers.add(meta['buyer']['identifier'].get('value'))
    if context_nip is not None and context_nip not in issuers:
        raise Rejected(410, 'Nieprawidłowy zakres uprawnień',
            f'Kontekst {context_nip} nie ma uprawnień do wystawiania faktur '
            f'sprzedawcy {meta["seller"]["nip"]}.')
    if fa3.issue_date(meta) > accepted_on:
        raise Rejected(450, 'Błąd weryfikacji semantyki dokumentu faktury',
            f'Data wystawienia faktury (P_1 = {meta["issueDate"]}) nie może '
            'być późniejsza niż data przyjęcia dokumentu do systemu KSeF.')
    return root, meta


def duplicate_of(app, meta):
    "The invoice KSeF already has with the same seller, kind and number"
    return app.store.find_invoice(meta['seller']['nip'],
        meta['rodzajFaktury'], meta['invoiceNumber'])


def duplicate(original):
    ksef_number = original['ksefNumber']
    session = original['sessionReferenceNumber']
    return Rejected(440, 'Duplikat faktury',
        f'Duplikat faktury. Faktura o numerze KSeF: {ksef_number} została '
        f'już prawidłowo przesłana do systemu w sesji: {session}',
        extensions={'originalSessionReferenceNumber': session,
            'originalKsefNumber': ksef_number})


def store(app, xml, meta, *, session_reference, invoice_reference,
        invoicing_date, offline, authentication, processing_time=None,
        hash_of_corrected=None, source='sent'):
    "Give an accepted invoice its KSeF number, dates and UPO; keep it"
    processing_time = (dt.timedelta(seconds=app.processing_delay)
        if processing_time is None else processing_time)
    # KSeF: acquisition (the KSeF number) after receipt, permanent storage
    # after acquisition
    acquisition = invoicing_date + processing_time / 2 \
        + dt.timedelta(milliseconds=1)
    permanent = max(invoicing_date + processing_time,
        acquisition + dt.timedelta(milliseconds=1))
    with app.store.lock:
        while True:
            ksef_number = numbers.ksef_number(meta['seller']['nip'],
                dates.local_day(acquisition))
            if ksef_number not in app.store.invoices:
                break
        invoice = {
            'ksefNumber': ksef_number,
            'referenceNumber': invoice_reference,
            'sessionReferenceNumber': session_reference,
            'xml': xml.decode('utf-8'),
            'invoiceHash': sha256_b64(xml),
            'invoiceSize': len(xml),
            'invoicingDate': dates.api(invoicing_date),
            'acquisitionDate': dates.api(acquisition),
            'permanentStorageDate': dates.api(permanent),
            'invoicingMode': 'Offline' if offline else 'Online',
            'hashOfCorrectedInvoice': hash_of_corrected,
            'meta': meta,
            'source': source,
            }
        invoice['upo'] = upo.for_invoice(session_reference, authentication,
            invoice).decode('utf-8')
        app.store.invoices[ksef_number] = invoice
    return invoice


def receive(app, xml, *, acquired=None, offline=False, source='control'):
    """Put an invoice of any seller in KSeF as if its seller had sent it
    (seeds, /_control/invoices): validated, numbered, with a UPO"""
    acquired = acquired or dates.now()
    try:
        _, meta = examine(xml, context_nip=None,
            accepted_on=dates.local_day(acquired))
        seller = meta['seller']['nip']
        with app.store.lock:
            original = duplicate_of(app, meta)
            if original:
                raise duplicate(original)
            # Sent a second before, stored (and visible) at `acquired`
            invoice = store(app, xml, meta,
                session_reference=numbers.reference_number('SO', acquired),
                invoice_reference=numbers.reference_number('EE', acquired),
                invoicing_date=acquired - dt.timedelta(seconds=1),
                offline=offline, processing_time=dt.timedelta(seconds=1),
                authentication={'contextNip': seller, 'tokenReference':
                    auth.token_reference(f'seller:{seller}')},
                source=source)
    except Rejected as e:
        raise ValueError(e.status)
    app.store.save()
    return invoice


def visible_to(invoice, nip):
    "Whether the context `nip` may read the invoice (a party to it)"
    meta = invoice['meta']
    parties = {meta['seller']['nip'], meta['buyer']['identifier'].get('value')}
    parties.update(t['identifier'].get('value', '').split('-')[0]
        for t in meta['thirdSubjects'])
    if meta.get('authorizedSubject'):
        parties.add(meta['authorizedSubject']['nip'])
    return nip in parties


def available(invoice):
    "KSeF shows an invoice once it is permanently stored"
    return dates.parse(invoice['permanentStorageDate']) <= dates.now()


def download(app, request, ksefNumber):
    token = auth.require(app, request)
    if not numbers.is_valid_ksef_number(ksefNumber):
        raise ApiError(21405, f'Nieprawidłowy numer KSeF: {ksefNumber}.')
    with app.store.lock:
        invoice = app.store.invoices.get(ksefNumber)
    if invoice is None or not visible_to(invoice, token['contextNip']):
        raise ApiError(21164,
            f'Faktura o numerze KSeF {ksefNumber} nie została znaleziona.')
    if not available(invoice):
        raise ApiError(21165, f'Faktura o numerze KSeF {ksefNumber} została '
            'przetworzona, ale nie jest jeszcze dostępna do pobrania. '
            'Spróbuj ponownie później.')
    return Response(invoice['xml'].encode('utf-8'), mimetype='application/xml',
        headers={'x-ms-meta-hash': invoice['invoiceHash']})


def metadata_of(invoice):
    "InvoiceMetadata of open-api.json"
    meta = invoice['meta']
    result = {
        'ksefNumber': invoice['ksefNumber'],
        'invoiceNumber': meta['invoiceNumber'],
        'issueDate': meta['issueDate'],
        'invoicingDate': invoice['invoicingDate'],
        'acquisitionDate': invoice['acquisitionDate'],
        'permanentStorageDate': invoice['permanentStorageDate'],
        'seller': meta['seller'],
        'buyer': meta['buyer'],
        'netAmount': meta['netAmount'],
        'grossAmount': meta['grossAmount'],
        'vatAmount': meta['vatAmount'],
        'currency': meta['currency'],
        'invoicingMode': invoice['invoicingMode'],
        'invoiceType': meta['invoiceType'],
        'formCode': meta['formCode'],
        'isSelfInvoicing': meta['isSelfInvoicing'],
        'hasAttachment': meta['hasAttachment'],
        'invoiceHash': invoice['invoiceHash'],
        'thirdSubjects': meta['thirdSubjects'],
        }
    if invoice.get('hashOfCorrectedInvoice'):
        result['hashOfCorrectedInvoice'] = invoice['hashOfCorrectedInvoice']
    if meta.get('authorizedSubject'):
        result['authorizedSubject'] = meta['authorizedSubject']
    return result


def _add_months(value, months):
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    for day in range(value.day, 27, -1):
        try:
            return value.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return value.replace(year=year, month=month, day=min(value.day, 28))


def _integer(value, name, default, low, high=None):
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(21405, f"Parametr '{name}' musi być liczbą.")
    if number < low or (high is not None and number > high):
        bounds = f'{low}..{high}' if high is not None else f'>= {low}'
        raise ApiError(21405, f"Parametr '{name}' musi mieścić się w zakresie "
            f'{bounds}.')
    return number


def _subject_matches(meta, subject, nip):
    if subject == 'Subject1':
        return meta['seller']['nip'] == nip
    if subject == 'Subject2':
        identifier = meta['buyer']['identifier']
        return identifier['type'] == 'Nip' and identifier.get('value') == nip
    if subject == 'Subject3':
        return any(t['identifier'].get('value', '').split('-')[0] == nip
            for t in meta['thirdSubjects'])
    authorized = meta.get('authorizedSubject')
    return bool(authorized) and authorized['nip'] == nip


def _filters(body):
    "Predicates for the optional filters of InvoiceQueryFilters"
    tests = []
    if body.get('ksefNumber'):
        tests.append(lambda i, m: i['ksefNumber'] == body['ksefNumber'])
    if body.get('invoiceNumber'):
        tests.append(lambda i, m: m['invoiceNumber'] == body['invoiceNumber'])
    if body.get('sellerNip'):
        tests.append(lambda i, m: m['seller']['nip'] == body['sellerNip'])
    if body.get('buyerIdentifier'):
        wanted = body['buyerIdentifier']
        tests.append(lambda i, m: (
                m['buyer']['identifier']['type'] == wanted.get('type')
                and (not wanted.get('value')
                    or m['buyer']['identifier'].get('value')
                    == wanted['value'])))
    if body.get('currencyCodes'):
        tests.append(lambda i, m: m['currency'] in body['currencyCodes'])
    if body.get('invoicingMode'):
        tests.append(lambda i, m: i['invoicingMode'] == body['invoicingMode'])
    if body.get('isSelfInvoicing') is not None:
        tests.append(lambda i, m: m['isSelfInvoicing']
            == body['isSelfInvoicing'])
    if body.get('formType'):
        tests.append(lambda i, m: m['formCode']['value'] == body['formType'])
    if body.get('invoiceTypes'):
        tests.append(lambda i, m: m['invoiceType'] in body['invoiceTypes'])
    if body.get('hasAttachment') is not None:
        tests.append(lambda i, m: m['hasAttachment'] == body['hasAttachment'])
    amount = body.get('amount')
    if amount:
        field = {'Brutto': 'grossAmount', 'Netto': 'netAmount',
            'Vat': 'vatAmount'}.get(amount.get('type'))
        if field is None:
            raise ApiError(21405, "Pole 'amount.type' musi mieć wartość "
                'Brutto, Netto lub Vat.')
        tests.append(lambda i, m: (
                (amount.get('from') is None or m[field] >= amount['from'])
                and (amount.get('to') is None or m[field] <= amount['to'])))
    return tests


def query_metadata(app, request):
    token = auth.require(app, request)
    nip = token['contextNip']
    args = request.args
    page_offset = _integer(args.get('pageOffset'), 'pageOffset', 0, 0)
    page_size = _integer(args.get('pageSize'), 'pageSize', 10, 10, 250)
    order = args.get('sortOrder', 'Asc')
    if order not in ('Asc', 'Desc'):
        raise ApiError(21405, "Parametr 'sortOrder' musi mieć wartość Asc "
            'lub Desc.')
    body = read_json(request)
    require_fields(body, 'subjectType', 'dateRange')
    if body['subjectType'] not in SUBJECT_TYPES:
        raise ApiError(21405, "Pole 'subjectType' ma nieznaną wartość "
            f"{body['subjectType']!r}.")
    date_range = body['dateRange']
    if not isinstance(date_range, dict):
        raise ApiError(21405, "Pole 'dateRange' musi być obiektem.")
    require_fields(date_range, 'dateType', 'from')
    field = DATE_FIELDS.get(date_range['dateType'])
    if field is None:
        raise ApiError(21405, "Pole 'dateRange.dateType' musi mieć wartość "
            'Issue, Invoicing lub PermanentStorage.')
    now = dates.now()
    try:
        start = dates.parse(date_range['from'])
        end = dates.parse(date_range['to']) if date_range.get('to') else now
    except ValueError as e:
        raise ApiError(21405, f'Nieprawidłowa data w dateRange: {e}')
    if end < start:
        raise ApiError(21405,
            "Data 'dateRange.to' jest wcześniejsza niż 'dateRange.from'.")
    # At most 3 months, in UTC or in Warsaw time
    if all(end > _add_months(start.astimezone(zone), 3)
            for zone in (dt.timezone.utc, dates.WARSAW)):
        raise ApiError(21405,
            'Zakres dat nie może przekraczać 3 miesięcy.')
    hwm = None
    if field == 'permanentStorageDate':
        hwm = min(end, now)
        if date_range.get('restrictToPermanentStorageHwmDate'):
            if start > hwm:
                raise ApiError(21183, 'Parametr dateRange.from jest '
                    'późniejszy niż PermanentStorageHwmDate przy włączonym '
                    'restrictToPermanentStorageHwmDate.')
            end = hwm

    tests = _filters(body)
    rows = []
    with app.store.lock:
        invoices = list(app.store.invoices.values())
    for invoice in invoices:
        meta = invoice['meta']
        if not available(invoice):
            continue
        if not _subject_matches(meta, body['subjectType'], nip):
            continue
        if field == 'issueDate':
            day = dt.date.fromisoformat(meta['issueDate'])
            key = dates.start_of_day(day)
            if not (dates.local_day(start) <= day <= dates.local_day(end)):
                continue
        else:
            key = dates.parse(invoice[field])
            if not (start <= key <= end):
                continue
        if all(test(invoice, meta) for test in tests):
            rows.append((key, invoice['ksefNumber'], invoice))
    rows.sort(key=lambda row: row[:2], reverse=order == 'Desc')

    # KSeF returns at most `limit` rows of a filter set: the page that
    # reaches the limit says isTruncated, and the client narrows the range
    limit = app.query_limit
    first = page_offset * page_size
    last = min(first + page_size, limit)
    page = rows[first:last] if first < limit else []
    truncated = len(rows) > limit and last >= limit
    answer = {
        'hasMore': len(rows) > last,
        'isTruncated': truncated,
        'invoices': [metadata_of(row[2]) for row in page],
        }
    if hwm is not None:
        answer['permanentStorageHwmDate'] = dates.api(hwm)
    return json_response(answer)
