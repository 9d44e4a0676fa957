"""Authentication: challenge, KSeF token or XAdES signature, status, tokens.

The flow of open-api.json as ``ksef-client`` drives it: POST /auth/challenge;
POST /auth/ksef-token (``token|timestampMs`` encrypted with RSA-OAEP/SHA-256)
or POST /auth/xades-signature (a signed ``AuthTokenRequest``), both answered
202 with an operation token; GET /auth/{ref} with that token until status
200; POST /auth/token/redeem (once) for the access and refresh tokens;
POST /auth/token/refresh with the refresh token.

As KSeF does, a wrong token or an unknown context is not a 400: the operation
is accepted and its status says why it failed (450, 415). The emulator
decides at once, so the first status poll already has the outcome.

The emulator knows KSeF tokens (configured) and context NIPs (the firm's and
any others given); a token opens the contexts it is configured for. XAdES
accepts any certificate, self-signed included (as the TEST environment), once
the signature verifies (xmldsig.py); the signer is taken to hold every
permission in the emulator's contexts.
"""
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets

from cryptography import x509
from lxml import etree

from . import dates, numbers, xmldsig
from .errors import ApiError, Unauthorized, json_response, read_json, \
    require_fields

AUTH_NAMESPACES = ('http://ksef.mf.gov.pl/auth/token/2.0',
    'http://ksef.mf.gov.pl/auth/token/2.1')
DS = 'http://www.w3.org/2000/09/xmldsig#'
SCHEMA_2_1 = os.path.join(os.path.dirname(__file__), 'schemas',
    'schemat_auth_v2-1.xsd')
ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier('2.5.4.97')

CHALLENGE_LIFETIME = dt.timedelta(minutes=10)
OPERATION_TOKEN_LIFETIME = dt.timedelta(minutes=15)

IN_PROGRESS = {'code': 100, 'description': 'Uwierzytelnianie w toku'}
SUCCEEDED = {'code': 200,
    'description': 'Uwierzytelnianie zakończone sukcesem'}
BAD_TOKEN = 'Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego ' \
    'tokenu'
BAD_CERTIFICATE = 'Uwierzytelnianie zakończone niepowodzeniem z powodu ' \
    'błędu certyfikatu'
METHODS = {
    'Token': {'category': 'Token', 'code': 'token.ksef',
        'displayName': 'Token KSeF'},
    'QualifiedSeal': {'category': 'XadesSignature',
        'code': 'xades.qualified-seal',
        'displayName': 'Pieczęć kwalifikowana'},
    'QualifiedSignature': {'category': 'XadesSignature',
        'code': 'xades.qualified-signature',
        'displayName': 'Podpis kwalifikowany'},
    }

_schema_2_1 = None


def token_reference(token):
    """The reference number KSeF gives a KSeF token, which the UPO quotes
    (NumerReferencyjnyTokenaKSeF); derived from the token so it is stable"""
    digest = hashlib.sha256(token.encode('utf-8')).hexdigest().upper()
    body = f'20260101-TK-{digest[:10]}-{digest[10:20]}'
    return f'{body}-{numbers.checksum(body)}'


def _bearer(app, kind, **claims):
    "A JWT-shaped bearer token, remembered by the store"
    now = dates.now()
    lifetime = {
        'operation': OPERATION_TOKEN_LIFETIME,
        'access': dt.timedelta(seconds=app.access_token_ttl),
        'refresh': dt.timedelta(seconds=app.refresh_token_ttl),
        }[kind]
    valid_until = now + lifetime
    payload = {
        'token-type': {'operation': 'OperationToken',
            'access': 'ContextToken', 'refresh': 'RefreshToken'}[kind],
        'context-identifier-type': 'Nip',
        'context-identifier-value': claims.get('contextNip'),
        'operation-reference-number': claims.get('operation'),
        'jti': secrets.token_hex(8),
        'iat': int(now.timestamp()),
        'exp': int(valid_until.timestamp()),
        'iss': 'ksef-emulator', 'aud': 'ksef-emulator',
        }

    def part(data):
        return base64.urlsafe_b64encode(
            json.dumps(data).encode()).rstrip(b'=').decode()
    unsigned = f'{part({"alg": "HS256", "typ": "JWT"})}.{part(payload)}'
    signature = base64.urlsafe_b64encode(hmac.digest(
            app.secret, unsigned.encode(), 'sha256')).rstrip(b'=').decode()
    token = f'{unsigned}.{signature}'
    with app.store.lock:
        app.store.tokens[token] = {
            'kind': kind, 'validUntil': dates.api(valid_until), **claims}
    return {'token': token, 'validUntil': dates.api(valid_until)}


def require(app, request, kind='access'):
    "The record of the request's bearer token of `kind`, or a 401"
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        raise Unauthorized()
    with app.store.lock:
        record = app.store.tokens.get(token.strip())
    if record is None or record['kind'] != kind:
        raise Unauthorized('Nieprawidłowy token.')
    if dates.parse(record['validUntil']) < dates.now():
        raise Unauthorized('Token wygasł.')
    return record


def public_key_certificates(app, request):
    return json_response(app.keys.public_key_certificates())


def challenge(app, request):
    now = dates.now()
    value = numbers.reference_number('CR', now)
    timestamp_ms = int(now.timestamp() * 1000)
    with app.store.lock:
        for old in [c for c, r in app.store.challenges.items()
                if r['issued'] + CHALLENGE_LIFETIME < now]:
            del app.store.challenges[old]
        app.store.challenges[value] = {
            'timestampMs': timestamp_ms, 'issued': now, 'used': False}
    return json_response({
            'challenge': value,
            'timestamp': dates.api(now),
            'timestampMs': timestamp_ms,
            'clientIp': request.remote_addr or '127.0.0.1',
            })


def _take_challenge(app, value):
    "The challenge record, used up; 21111 when unknown, used or expired"
    with app.store.lock:
        record = app.store.challenges.get(value)
        if (record is None or record['used']
                or record['issued'] + CHALLENGE_LIFETIME < dates.now()):
            raise ApiError(21111)
        record['used'] = True
        return record


def _start(app, method, context_nip, status, **extra):
    "An authentication operation with its outcome; the 202 answer"
    now = dates.now()
    reference = numbers.reference_number('AU', now)
    operation = {
        'referenceNumber': reference,
        'startDate': dates.api(now),
        'authenticationMethod': method,
        'contextNip': context_nip,
        'status': status,
        'redeemed': False,
        'lastTokenRefreshDate': None,
        'refreshTokenValidUntil': None,
        **extra,
        }
    with app.store.lock:
        app.store.operations[reference] = operation
    token = _bearer(app, 'operation', operation=reference,
        contextNip=context_nip)
    return json_response({
            'referenceNumber': reference,
            'authenticationToken': token,
            }, 202)


def _failed(code, description, detail):
    return {'code': code, 'description': description, 'details': [detail]}


def ksef_token(app, request):
    body = read_json(request)
    require_fields(body, 'challenge', 'contextIdentifier', 'encryptedToken')
    key_id = body.get('publicKeyId')
    if key_id and key_id != app.keys.public_key_id:
        raise ApiError(21470,
            f'Klucz o identyfikatorze {key_id} nie jest wspierany.')
    context = body['contextIdentifier']
    if not isinstance(context, dict) or not context.get('value'):
        raise ApiError(21405, "Pole 'contextIdentifier' jest nieprawidłowe.")
    try:
        encrypted = base64.b64decode(body['encryptedToken'], validate=True)
    except (binascii.Error, TypeError):
        raise ApiError(21405, "Pole 'encryptedToken' nie jest w Base64.")
    record = _take_challenge(app, body['challenge'])
    context_nip = context['value']

    status = SUCCEEDED
    token = None
    try:
        token, _, timestamp = app.keys.decrypt(encrypted).decode(
            'utf-8').rpartition('|')
    except (ValueError, UnicodeDecodeError):
        status = _failed(450, BAD_TOKEN, 'Nieprawidłowy token')
    else:
        if token not in app.tokens:
            status = _failed(450, BAD_TOKEN, 'Nieprawidłowy token')
        elif timestamp != str(record['timestampMs']):
            status = _failed(450, BAD_TOKEN, 'Nieprawidłowy czas tokena')
        elif (context.get('type') != 'Nip'
                or context_nip not in app.tokens[token]):
            status = _failed(415,
                'Uwierzytelnianie zakończone niepowodzeniem',
                'Brak przypisanych uprawnień')
    return _start(app, 'Token', context_nip, status,
        tokenReference=token_reference(token) if token else None)


def _auth_schema():
    global _schema_2_1
    if _schema_2_1 is None:
        _schema_2_1 = etree.XMLSchema(etree.parse(SCHEMA_2_1))
    return _schema_2_1


def xades_signature(app, request):
    data = request.get_data()
    try:
        document = etree.fromstring(data, etree.XMLParser(
                resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        raise ApiError(21001)
    namespace = etree.QName(document).namespace
    if (etree.QName(document).localname != 'AuthTokenRequest'
            or namespace not in AUTH_NAMESPACES):
        raise ApiError(9101)
    signatures = document.findall(f'{{{DS}}}Signature')
    if not signatures:
        raise ApiError(9102)
    if len(signatures) > 1:
        raise ApiError(9103)
    signature, = signatures
    if namespace == AUTH_NAMESPACES[1]:
        # The schema has no place for the signature: check the request as
        # it was before it was signed
        unsigned = etree.fromstring(etree.tostring(document))
        unsigned.remove(unsigned.find(f'{{{DS}}}Signature'))
        schema = _auth_schema()
        if not schema.validate(unsigned):
            raise ApiError(21401, str(schema.error_log.last_error))
    encoded = signature.findtext(f'.//{{{DS}}}X509Certificate')
    try:
        certificate = x509.load_der_x509_certificate(
            base64.b64decode(''.join((encoded or '').split())))
    except ValueError:
        raise ApiError(21115)
    try:
        xmldsig.verify(document, certificate)
    except xmldsig.InvalidXmlSignature as e:
        raise ApiError(9105, str(e))
    ns = {'a': namespace}
    _take_challenge(app, document.findtext('a:Challenge', namespaces=ns))
    context_nip = document.findtext('a:ContextIdentifier/a:Nip',
        namespaces=ns)
    if context_nip is None:
        raise ApiError(21117,
            'Emulator obsługuje wyłącznie kontekst typu Nip.')

    now = dates.now()
    if not (certificate.not_valid_before_utc <= now
            <= certificate.not_valid_after_utc):
        status = _failed(460, BAD_CERTIFICATE, 'Nieważny certyfikat')
    elif context_nip not in app.nips:
        status = _failed(415, 'Uwierzytelnianie zakończone niepowodzeniem',
            'Brak przypisanych uprawnień')
    else:
        status = SUCCEEDED
    seal = bool(certificate.subject.get_attributes_for_oid(
            ORGANIZATION_IDENTIFIER))
    return _start(app, 'QualifiedSeal' if seal else 'QualifiedSignature',
        context_nip, status,
        documentHash=base64.b64encode(
            hashlib.sha256(data).digest()).decode('ascii'))


def _operation(app, reference):
    with app.store.lock:
        operation = app.store.operations.get(reference)
    if operation is None:
        raise ApiError(21304, f'Operacja uwierzytelniania o numerze '
            f'referencyjnym {reference} nie została znaleziona.')
    return operation


def status(app, request, referenceNumber):
    token = require(app, request, 'operation')
    if token['operation'] != referenceNumber:
        raise Unauthorized('Token nie dotyczy tej operacji.')
    operation = _operation(app, referenceNumber)
    return json_response({
            'startDate': operation['startDate'],
            'authenticationMethod': operation['authenticationMethod'],
            'authenticationMethodInfo': METHODS[
                operation['authenticationMethod']],
            'status': operation['status'],
            'isTokenRedeemed': operation['redeemed'],
            'lastTokenRefreshDate': operation['lastTokenRefreshDate'],
            'refreshTokenValidUntil': operation['refreshTokenValidUntil'],
            })


def redeem(app, request):
    token = require(app, request, 'operation')
    operation = _operation(app, token['operation'])
    reference = operation['referenceNumber']
    with app.store.lock:
        if operation['redeemed']:
            raise ApiError(21301, f'Tokeny dla operacji uwierzytelniania '
                f'{reference} zostały już pobrane.')
        if operation['status']['code'] != 200:
            raise ApiError(21301, f'Status uwierzytelniania '
                f'({operation["status"]["code"]}) nie pozwala na pobranie '
                'tokenów.')
        operation['redeemed'] = True
    claims = {'operation': reference, 'contextNip': operation['contextNip']}
    access = _bearer(app, 'access', **claims)
    refresh_token = _bearer(app, 'refresh', **claims)
    operation['refreshTokenValidUntil'] = refresh_token['validUntil']
    return json_response({'accessToken': access,
            'refreshToken': refresh_token})


def refresh(app, request):
    token = require(app, request, 'refresh')
    operation = _operation(app, token['operation'])
    operation['lastTokenRefreshDate'] = dates.api(dates.now())
    return json_response({'accessToken': _bearer(app, 'access',
                operation=operation['referenceNumber'],
                contextNip=operation['contextNip'])})


def authentication_of(app, token):
    """What the UPO says of how the session's opener authenticated
    (Uwierzytelnienie): the context and the token or the signed document"""
    operation = _operation(app, token['operation'])
    return {
        'contextNip': operation['contextNip'],
        'tokenReference': operation.get('tokenReference'),
        'documentHash': operation.get('documentHash'),
        }
