"""Everything that talks to KSeF, through ksef-client 0.20.0 (facts:
ksef/CLIENT.md): authentication by KSeF token or XAdES, online sessions
(open, resume, send, status, close), UPO and the metadata query.

The SDK never retries; `call` does, aware of the method: a request that
changes nothing in KSeF is retried on timeouts, 5xx and 429; the sending of
an invoice only when KSeF certainly did not take it (connection refused,
429, 503), otherwise `Ambiguous` says it may have arrived. Waits honour
Retry-After, else back off exponentially with jitter.

The module constants are the waits: tests make them small."""
import dataclasses
import datetime
import logging
import time

import httpx
from cryptography.hazmat.primitives import serialization
from ksef_client import KsefClient, KsefClientOptions
from ksef_client import models as m
from ksef_client.exceptions import KsefApiError, KsefHttpError
from ksef_client.services import (
    AuthCoordinator, OnlineSessionState, OnlineSessionWorkflow, XadesKeyPair)
from ksef_client.utils import validate_ksef_number

from client_portal import outbox

logger = logging.getLogger(__name__)

FA3 = m.FormCode(system_code='FA (3)', schema_version='1-0E', value='FA')
# One HTTP request's timeout, in seconds
TIMEOUT = 30.0
# Attempts of one request after the first, and the backoff's base and cap
RETRIES = 3
BACKOFF = 1.0
BACKOFF_MAX = 30.0
# A longer Retry-After is left to the outbox's schedule
MAX_WAIT = 30.0
# The invoice status: polled every POLL_INTERVAL s for at most POLL_TIMEOUT
POLL_INTERVAL = 1.0
POLL_TIMEOUT = 20.0
# Authentication's status polling
AUTH_POLL_INTERVAL = 0.5
AUTH_POLL_ATTEMPTS = 30
# KSeF's invoice statuses still in progress
IN_PROGRESS = {100, 150}
# KSeF's certain refusals: the request was not processed
NOT_PROCESSED = {429, 503}


class KsefError(Exception):
    "KSeF answered with an error that another attempt will not change"


class Unavailable(Exception):
    "KSeF cannot be reached, or answers that it is unavailable"

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class Busy(Unavailable):
    "KSeF's rate limit (429) still holds after the retries"


class Ambiguous(Unavailable):
    "The sending got no answer: KSeF may have taken the invoice"


class AuthenticationFailed(Exception):
    "KSeF refused the firm's credentials or context"


def describe(error):
    "A KSeF error as staff read it: code, description, details"
    if isinstance(error, KsefApiError) and error.exception_response:
        exception = error.exception_response.exception
        details = [f'{d.exception_code}: {d.exception_description}'
            + (f' ({"; ".join(d.details)})' if getattr(d, 'details', None)
                else '')
            for d in (exception.exception_detail_list or [])]
        if details:
            return f'HTTP {error.status_code}: ' + '; '.join(details)
    if error.status_code == 0:
        return error.message
    return f'HTTP {error.status_code}: {error.message}'[:2000]


def status_text(status):
    "An invoice status (InvoiceStatusInfo) as staff read it"
    text = f'{status.code} {status.description}'
    if status.details:
        text += ': ' + '; '.join(status.details)
    return text


def backoff(attempt):
    "Exponential with ±20 % jitter, so that workers do not retry in step"
    return outbox.backoff(attempt, BACKOFF, BACKOFF_MAX)


def _not_sent(error):
    "Whether a failed request certainly did not reach KSeF's processing"
    if error.status_code in NOT_PROCESSED:
        return True
    cause = error.__cause__
    return error.status_code == 0 and isinstance(cause, (
            httpx.ConnectError, httpx.ConnectTimeout))


def call(func, *args, idempotent=True, **kwargs):
    """func(*args, **kwargs), retried as the method allows; raises
    Unavailable (Busy, Ambiguous) or the SDK's error of a 4xx"""
    attempt = 0
    while True:
        try:
            return func(*args, **kwargs)
        except KsefHttpError as error:
            code = error.status_code
            if code and code < 500 and code != 429:
                raise
            attempt += 1
            if not idempotent and not _not_sent(error):
                raise Ambiguous(describe(error)) from error
            wait = (error.retry_after if error.retry_after is not None
                else backoff(attempt))
            if attempt > RETRIES or wait > MAX_WAIT:
                kind = Busy if code == 429 else Unavailable
                raise kind(describe(error),
                    retry_after=error.retry_after) from error
            logger.info("KSeF: %s, retry %s in %.1f s",
                describe(error), attempt, wait)
            time.sleep(wait)


def parse_datetime(value):
    "A KSeF timestamp as a naive UTC datetime, as Tryton stores them"
    if not value:
        return None
    value = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    if value.tzinfo:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def check_ksef_number(number):
    "Refuse a KSeF number whose format or CRC-8 is wrong (facts §3.4)"
    if not number or not validate_ksef_number(number).is_valid:
        raise KsefError(f'KSeF returned an invalid KSeF number: {number!r}')
    return number


@dataclasses.dataclass
class Tokens:
    access_token: str
    access_valid_until: datetime.datetime
    refresh_token: str = None
    refresh_valid_until: datetime.datetime = None


class Connection:
    """One conversation with KSeF as the firm: authenticated once, then
    any number of calls; a context manager that closes the HTTP client"""

    def __init__(self, api_url, context_nip, secrets, *, qr_url=None,
            authentication='token', certificate_format='pkcs12',
            timeout=None):
        if not api_url:
            raise AuthenticationFailed("No KSeF address is set.")
        if not context_nip:
            raise AuthenticationFailed("No context NIP: set the firm's NIP "
                "or the context NIP in the KSeF settings.")
        self.api_url = api_url
        self.context_nip = context_nip
        self.options = KsefClientOptions(base_url=api_url, base_qr_url=qr_url,
            timeout_seconds=timeout or TIMEOUT)
        self._secrets = secrets
        self.authentication = authentication
        self.certificate_format = certificate_format
        self.client = KsefClient(self.options)
        self.tokens = None

    @classmethod
    def from_configuration(cls, configuration, company=None):
        return cls(configuration.api_url,
            configuration.get_context_nip(company),
            configuration.get_secrets(), qr_url=configuration.qr_url,
            authentication=configuration.authentication,
            certificate_format=configuration.certificate_format)

    @property
    def url(self):
        return self.options.normalized_base_url()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

    # Authentication

    def use(self, tokens):
        "Work with tokens obtained earlier"
        self.tokens = tokens

    def authenticate(self):
        """Authenticate as the context NIP; the tokens. Raises
        AuthenticationFailed when KSeF refuses, Unavailable when it cannot
        be reached"""
        coordinator = AuthCoordinator(self.client.auth)
        try:
            if self.authentication == 'certificate':
                result = self._authenticate_xades(coordinator)
            else:
                token = self._secrets.get('token')
                if not token:
                    raise AuthenticationFailed(
                        "No KSeF token is stored in the KSeF settings.")
                certificate = call(
                    self.client.security.get_public_key_certificate_pem,
                    m.PublicKeyCertificateUsage.KSEFTOKENENCRYPTION)
                result = call(coordinator.authenticate_with_ksef_token,
                    token=token, public_certificate=certificate,
                    context_identifier_type='nip',
                    context_identifier_value=self.context_nip,
                    poll_interval_seconds=AUTH_POLL_INTERVAL,
                    max_attempts=AUTH_POLL_ATTEMPTS)
        except KsefHttpError as error:
            raise AuthenticationFailed(describe(error)) from error
        except (RuntimeError, TimeoutError, ValueError) as error:
            # The authentication's status was not 200 (e.g. 450: wrong
            # token, 415: unknown context), or the secrets do not load
            raise AuthenticationFailed(str(error)) from error
        tokens = result.tokens
        self.tokens = Tokens(tokens.access_token.token,
            parse_datetime(tokens.access_token.valid_until),
            tokens.refresh_token.token,
            parse_datetime(tokens.refresh_token.valid_until))
        return self.tokens

    def _authenticate_xades(self, coordinator):
        secrets = self._secrets
        certificate = secrets.get('certificate')
        if not certificate:
            raise AuthenticationFailed(
                "No certificate is stored in the KSeF settings.")
        password = secrets.get('certificate_password') or None
        if self.certificate_format == 'pkcs12':
            pair = XadesKeyPair.from_pkcs12_bytes(
                pkcs12_bytes=bytes(certificate), pkcs12_password=password)
            certificate_pem, key_pem = (
                pair.certificate_pem, pair.private_key_pem)
        else:
            key = serialization.load_pem_private_key(
                bytes(secrets.get('private_key') or b''),
                password.encode('utf-8') if password else None)
            key_pem = key.private_bytes(serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode('ascii')
            certificate_pem = bytes(certificate).decode('ascii')
        return call(coordinator.authenticate_with_xades,
            context_identifier_type='nip',
            context_identifier_value=self.context_nip,
            subject_identifier_type='certificateSubject',
            certificate_pem=certificate_pem, private_key_pem=key_pem,
            poll_interval_seconds=AUTH_POLL_INTERVAL,
            max_attempts=AUTH_POLL_ATTEMPTS)

    @property
    def access_token(self):
        return self.tokens.access_token

    # Online sessions

    def open_session(self):
        certificate = call(
            self.client.security.get_public_key_certificate_pem,
            m.PublicKeyCertificateUsage.SYMMETRICKEYENCRYPTION)
        return call(OnlineSessionWorkflow(self.client.sessions).open_session,
            form_code=FA3, public_certificate=certificate,
            access_token=self.access_token, upo_v43=True)

    def resume_session(self, state_json):
        return OnlineSessionWorkflow(self.client.sessions).resume_session(
            OnlineSessionState.from_json(state_json),
            access_token=self.access_token)

    def session_open(self, handle):
        "Whether KSeF still takes invoices in the session"
        status = call(self.client.sessions.get_session_status,
            handle.reference_number, access_token=self.access_token)
        return status.status.code == 100

    def send(self, handle, xml, *, offline=False, corrected_hash=None):
        "Send the invoice; its reference number in the session"
        answer = call(handle.send_invoice, bytes(xml),
            offline_mode=True if offline else None,
            hash_of_corrected_invoice=corrected_hash, idempotent=False)
        return answer.reference_number

    def invoice_status(self, session_reference, reference, poll=True):
        """The invoice's status in the session, polled until final unless
        POLL_TIMEOUT passes (then the last one, still in progress)"""
        deadline = time.monotonic() + POLL_TIMEOUT
        while True:
            status = call(self.client.sessions.get_session_invoice_status,
                session_reference, reference,
                access_token=self.access_token)
            if (not poll or status.status.code not in IN_PROGRESS
                    or time.monotonic() + POLL_INTERVAL > deadline):
                return status
            time.sleep(POLL_INTERVAL)

    def upo(self, session_reference, ksef_number):
        "The invoice's UPO (XML bytes) from the session it was sent in"
        return call(self.client.sessions.get_session_invoice_upo_by_ksef,
            session_reference, ksef_number, access_token=self.access_token)

    def close_session(self, session_reference):
        call(self.client.sessions.close_online_session, session_reference,
            self.access_token)

    # What KSeF already has

    def find(self, seller_nip, issue_date, invoice_hash):
        """The metadata of the invoice KSeF holds with this hash, issued by
        the seller on issue_date, or None"""
        start = datetime.datetime.combine(issue_date, datetime.time.min)
        end = start + datetime.timedelta(days=1)
        filters = m.InvoiceQueryFilters(
            subject_type=m.InvoiceQuerySubjectType.SUBJECT1,
            date_range=m.InvoiceQueryDateRange(
                date_type=m.InvoiceQueryDateType.ISSUE,
                from_=start.isoformat(), to=end.isoformat()),
            seller_nip=seller_nip)
        offset = 0
        while True:
            page = call(self.client.invoices.query_invoice_metadata,
                filters, access_token=self.access_token, page_offset=offset,
                page_size=100)
            for metadata in page.invoices:
                if metadata.invoice_hash == invoice_hash:
                    return metadata
            if not page.has_more:
                return None
            offset += 1

    def invoice_hash(self, ksef_number):
        "The SHA-256 (Base64) of the invoice KSeF holds under ksef_number"
        content = call(self.client.invoices.get_invoice_bytes, ksef_number,
            access_token=self.access_token)
        return content.sha256_base64
