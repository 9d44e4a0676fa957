"""The KSeF outbox: one entry per invoice to send, written by the issue in
its own transaction, processed after the commit by the queue and every
minute by a cron that picks the entries due, so that nothing depends on a
queue task that failed (Tryton 8.0 leaves those stuck).

A run claims the due entries with a row lock that other runs skip
(PostgreSQL's FOR UPDATE SKIP LOCKED; SQLite has one writer, and runs of a
process take turns), so two workers never send the same invoice. Before an
entry whose earlier sending may have reached KSeF is sent again, KSeF is
asked for an invoice with the same hash; a duplicate (440) whose original
has our hash is adopted too: nothing is sent twice.

When KSeF cannot be reached the invoice goes offline (offline24: facts
POLAND.md §3.5) with the next business day as deadline; the entry is then
sent with offlineMode once KSeF answers."""
import datetime
import logging
from itertools import groupby


from ksef_client.exceptions import KsefApiError, KsefHttpError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from client_portal.outbox import claim_due, one_writer

from . import client as ksef
from .configuration import get_configuration
from .holidays import next_business_day

logger = logging.getLogger(__name__)

STATES = [
    ('queued', "Queued"),
    ('sent', "Sent"),
    ('done', "Accepted"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
    ]
DUE_STATES = ['queued', 'sent']
# Entries one run takes: its transaction stays short
BATCH = 50
# When to look again: at an invoice KSeF is still processing, and after
# KSeF refused the firm's credentials (staff have to act)
STATUS_DELAY = datetime.timedelta(seconds=30)
AUTH_DELAY = datetime.timedelta(minutes=15)
# Session errors after which a new session is opened: not found (21173),
# status forbids sending (21180), invoice limit reached (21155)
SESSION_ERRORS = {21173, 21180, 21155}


def sending_configured(configuration=None):
    """Whether the firm has given KSeF credentials: without them nothing
    is sent, nor waits for KSeF"""
    configuration = configuration or get_configuration()
    if configuration.authentication == 'certificate':
        return bool(configuration.certificate_set)
    return bool(configuration.token_set)


def _api_code(error):
    "The first exception code of a KSeF 4xx answer"
    if isinstance(error, KsefApiError) and error.exception_response:
        for detail in (error.exception_response.exception
                .exception_detail_list or []):
            return detail.exception_code


class Outbox(ModelSQL, ModelView):
    "KSeF Outbox"
    __name__ = 'ksef.outbox'

    invoice = fields.Many2One('account.invoice', "Invoice", required=True,
        ondelete='CASCADE', readonly=True)
    company = fields.Function(fields.Many2One('company.company', "Company"),
        'get_invoice_field', searcher='search_invoice_field')
    ksef_status = fields.Function(fields.Selection('get_ksef_statuses',
            "KSeF Status"), 'get_invoice_field')
    ksef_number = fields.Function(fields.Char("KSeF Number"),
        'get_invoice_field')
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt_at = fields.Timestamp("Next Attempt", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    uncertain = fields.Boolean("May Have Reached KSeF", readonly=True,
        help="An earlier sending got no answer: KSeF is asked for the "
        "invoice before it is sent again.")
    session_reference = fields.Char("Session Reference", readonly=True)
    element_reference = fields.Char("Invoice Reference", readonly=True,
        help="The invoice's reference number in the KSeF session.")
    offline = fields.Boolean("Offline", readonly=True,
        help="Issued offline while KSeF could not be reached: sent with "
        "offline mode.")
    deadline = fields.Date("Deadline", readonly=True,
        help="The day by which the offline invoice must reach KSeF.")
    overdue = fields.Function(fields.Boolean("Overdue"), 'get_overdue',
        searcher='search_overdue')
    corrected_hash = fields.Char("Hash of Corrected Invoice", readonly=True,
        help="A technical correction of a rejected offline invoice: the "
        "hash of the invoice it replaces.")
    sent_at = fields.Timestamp("Sent At", readonly=True)
    done_at = fields.Timestamp("Done At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._buttons.update({
                'resend': {
                    'invisible': Eval('state') != 'rejected',
                    'depends': ['state'],
                    },
                'process_now': {
                    'invisible': ~Eval('state').in_(DUE_STATES),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_offline(cls):
        return False

    @classmethod
    def default_uncertain(cls):
        return False

    @classmethod
    def get_ksef_statuses(cls):
        Invoice = Pool().get('account.invoice')
        return Invoice.fields_get(['ksef_status'])['ksef_status']['selection']

    def get_invoice_field(self, name):
        value = getattr(self.invoice, name)
        return value.id if hasattr(value, 'id') else value

    @classmethod
    def search_invoice_field(cls, name, clause):
        return [('invoice.' + clause[0],) + tuple(clause[1:])]

    def get_overdue(self, name):
        return bool(self.deadline and self.state in DUE_STATES
            and self.deadline < datetime.date.today())

    @classmethod
    def search_overdue(cls, name, clause):
        _, operator, value = clause
        overdue = [('deadline', '<', datetime.date.today()),
            ('state', 'in', DUE_STATES)]
        if (operator == '=') == bool(value):
            return overdue
        return ['OR', ('deadline', '=', None),
            ('deadline', '>=', datetime.date.today()),
            ('state', 'not in', DUE_STATES)]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('overdue', False), 'danger',
                    If(Eval('state') == 'rejected', 'warning', ''))),
            ]

    def get_rec_name(self, name):
        return self.invoice.rec_name

    # Writing entries

    @classmethod
    def enqueue(cls, invoices, corrected_hash=None):
        """An entry per invoice, in the caller's transaction; processed
        once it commits"""
        with without_check_access():
            entries = cls.create([{
                        'invoice': i.id,
                        'offline': bool(i.ksef_offline),
                        'deadline': i.ksef_deadline,
                        'corrected_hash': corrected_hash,
                        } for i in invoices])
        if entries:
            cls.__queue__.process(entries)
        return entries

    @classmethod
    @ModelView.button
    def resend(cls, entries):
        "Send the rejected invoices again (staff, after correcting them)"
        Invoice = Pool().get('account.invoice')
        Invoice.ksef_resend([e.invoice for e in entries
                if e.state == 'rejected'])

    @classmethod
    @ModelView.button
    def process_now(cls, entries):
        with without_check_access():
            cls.write([e for e in entries if e.state in DUE_STATES],
                {'next_attempt_at': None})
        cls.__queue__.process(entries)

    # Processing

    @classmethod
    def process_due(cls):
        "The cron: every entry due"
        cls.process()

    @classmethod
    def process(cls, entries=None):
        """Send the due entries (of `entries`, or all), poll those KSeF
        is processing; close the sessions once nothing waits"""
        configuration = get_configuration()
        if not sending_configured(configuration):
            return
        with one_writer():
            cls._process(configuration, entries)

    @classmethod
    def _process(cls, configuration, entries):
        with without_check_access(), Transaction().set_user(0):
            claimed = cls._claim(
                [e.id for e in entries] if entries is not None else None)
            claimed.sort(key=lambda e: (e.invoice.company.id, e.id))
            for company, group in groupby(claimed,
                    key=lambda e: e.invoice.company):
                cls._process_company(configuration, company, list(group))
            cls._close_idle(configuration)

    @classmethod
    def _claim(cls, ids=None):
        "The due entries, locked for this run; those locked by another skipped"
        return claim_due(cls, DUE_STATES, ids, BATCH)

    @classmethod
    def _process_company(cls, configuration, company, entries):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        run = _Run(configuration, company)
        settled = []
        try:
            for index, entry in enumerate(entries):
                try:
                    outcome = run.process(entry)
                except ksef.AuthenticationFailed as error:
                    cls._wait(entries[index:], gettext(
                            'ksef.msg_outbox_authentication',
                            error=str(error)), AUTH_DELAY)
                    logger.error("KSeF refused the authentication: %s",
                        error)
                    break
                except ksef.Busy as error:
                    delay = datetime.timedelta(
                        seconds=error.retry_after or ksef.backoff(1))
                    cls._wait(entries[index:], str(error), delay)
                    break
                except ksef.Ambiguous as error:
                    entry._retry(str(error), uncertain=True)
                    continue
                except ksef.Unavailable as error:
                    # Nothing gets through: every entry left goes offline
                    for other in entries[index:]:
                        if other._go_offline(str(error)):
                            settled.append(other.invoice)
                    break
                except ksef.KsefError as error:
                    outcome = entry._reject(str(error))
                except KsefHttpError as error:
                    outcome = entry._reject(ksef.describe(error))
                except Exception as error:
                    logger.exception("KSeF outbox entry %s failed", entry.id)
                    entry._retry(f'{error.__class__.__name__}: {error}')
                    continue
                if outcome:
                    settled.append(entry.invoice)
        finally:
            run.close()
        if settled:
            # Through the pool: other modules add to it (the PDF)
            Invoice.ksef_settled(Invoice.browse(list({i.id for i in settled})))

    @classmethod
    def _wait(cls, entries, error, delay):
        "Leave the entries as they are, to be tried again after delay"
        cls.write(entries, {
                'last_error': error,
                'next_attempt_at': datetime.datetime.now() + delay,
                })

    def _retry(self, error, uncertain=None):
        values = {
            'last_error': error,
            'next_attempt_at': datetime.datetime.now()
            + datetime.timedelta(seconds=ksef.backoff(self.attempts or 1)),
            }
        if uncertain is not None:
            values['uncertain'] = uncertain
        self.write([self], values)

    def _go_offline(self, error):
        """KSeF cannot be reached: the invoice is issued offline, due by the
        next business day after its issue; True when it just went offline"""
        Invoice = Pool().get('account.invoice')
        invoice = self.invoice
        self._retry(error)
        if self.offline or self.state != 'queued':
            # Already offline; or KSeF has it and its status is awaited
            return False
        deadline = next_business_day(invoice.invoice_date
            or datetime.date.today())
        self.write([self], {'offline': True, 'deadline': deadline})
        if invoice.ksef_status in {'pending', 'sent'}:
            Invoice.write([invoice], {
                    'ksef_status': 'offline',
                    'ksef_offline': True,
                    'ksef_deadline': deadline,
                    })
            return True
        return False

    def _reject(self, error):
        Invoice = Pool().get('account.invoice')
        self.write([self], {
                'state': 'rejected',
                'last_error': error,
                'next_attempt_at': None,
                'done_at': datetime.datetime.now(),
                })
        Invoice.write([self.invoice], {
                'ksef_status': 'rejected',
                'ksef_error': error,
                })
        return True

    def _accept(self, number, acquired, upo):
        Invoice = Pool().get('account.invoice')
        ksef.check_ksef_number(number)
        self.write([self], {
                'state': 'done',
                'last_error': None,
                'uncertain': False,
                'next_attempt_at': None,
                'done_at': datetime.datetime.now(),
                })
        Invoice.write([self.invoice], {
                'ksef_status': 'accepted',
                'ksef_number': number,
                'ksef_accepted_at': ksef.parse_datetime(acquired),
                'ksef_upo': upo,
                'ksef_error': None,
                })
        return True

    def _sent(self, session_reference, reference):
        Invoice = Pool().get('account.invoice')
        self.write([self], {
                'state': 'sent',
                'session_reference': session_reference,
                'element_reference': reference,
                'uncertain': False,
                'last_error': None,
                })
        if self.invoice.ksef_status == 'pending':
            Invoice.write([self.invoice], {'ksef_status': 'sent'})

    @classmethod
    def _close_idle(cls, configuration):
        "Close the open sessions once nothing waits to be sent"
        Session = Pool().get('ksef.session')
        sessions = Session.open_sessions()
        if not sessions or cls.search([('state', 'in', DUE_STATES)],
                limit=1):
            return
        now = datetime.datetime.now()
        for session in sessions:
            if (session.valid_until and session.valid_until > now
                    and session.access_valid_until
                    and session.access_valid_until > now):
                try:
                    with ksef.Connection(session.api_url,
                            session.context_nip, {}) as connection:
                        connection.use(session.tokens())
                        connection.close_session(session.reference)
                except (KsefHttpError, ksef.Unavailable) as error:
                    # KSeF closes it when it expires all the same
                    logger.info("KSeF session %s not closed: %s",
                        session.reference, error)
        Session.close(sessions)


class _Run:
    """One run's conversation with KSeF for a company: authenticated and
    the online session opened (or resumed) when first needed"""

    def __init__(self, configuration, company):
        self.configuration = configuration
        self.company = company
        self._connection = None
        self._session = None
        self._handle = None

    @property
    def connection(self):
        if self._connection is None:
            Session = Pool().get('ksef.session')
            connection = ksef.Connection.from_configuration(
                self.configuration, self.company)
            self._connection = connection
            session = Session.usable(connection.url, connection.context_nip)
            if session:
                connection.use(session.tokens())
                self._session = session
            else:
                connection.authenticate()
        return self._connection

    def handle(self):
        "The online session to send in: the stored one, else a new one"
        connection = self.connection
        if self._handle is None:
            if self._session:
                self._handle = connection.resume_session(
                    self._session.state_json())
            else:
                self._new_session()
        return self._handle

    def _new_session(self):
        Session = Pool().get('ksef.session')
        connection = self.connection
        if connection.tokens.access_valid_until and (
                connection.tokens.access_valid_until
                < datetime.datetime.now() + datetime.timedelta(minutes=5)):
            connection.authenticate()
        handle = connection.open_session()
        self._handle = handle
        self._session = Session.record(connection.url,
            connection.context_nip, handle, connection.tokens,
            ksef.parse_datetime(handle.valid_until)
            or datetime.datetime.now() + datetime.timedelta(hours=1))

    def _renew(self):
        "The stored session or tokens are no longer valid: start afresh"
        Session = Pool().get('ksef.session')
        if self._session:
            Session.close([self._session])
        self._session = self._handle = None
        self.connection.authenticate()

    def close(self):
        if self._connection is not None:
            self._connection.__exit__(None, None, None)

    def process(self, entry):
        """Move the entry on; True when its invoice reached an outcome
        (accepted, rejected)"""
        try:
            return self._process(entry)
        except KsefHttpError as error:
            if error.status_code != 401 and (
                    _api_code(error) not in SESSION_ERRORS):
                raise
        # An expired token or a session KSeF no longer has: once more
        self._renew()
        return self._process(entry)

    def _process(self, entry):
        invoice = entry.invoice
        connection = self.connection
        if entry.state == 'sent':
            status = connection.invoice_status(
                entry.session_reference, entry.element_reference)
            return self._outcome(entry, status)
        if entry.uncertain or entry.attempts:
            # An earlier sending may have got in: adopt what KSeF has
            metadata = connection.find(connection.context_nip,
                invoice.invoice_date, invoice.ksef_xml_hash)
            if metadata:
                return entry._accept(metadata.ksef_number,
                    metadata.acquisition_date,
                    self._upo(entry.session_reference, metadata.ksef_number))
        handle = self.handle()
        Outbox = entry.__class__
        Outbox.write([entry], {
                'attempts': (entry.attempts or 0) + 1,
                'session_reference': handle.reference_number,
                'sent_at': datetime.datetime.now(),
                })
        reference = connection.send(handle, invoice.ksef_xml,
            offline=entry.offline, corrected_hash=entry.corrected_hash)
        entry._sent(handle.reference_number, reference)
        status = connection.invoice_status(handle.reference_number, reference)
        return self._outcome(entry, status)

    def _upo(self, session_reference, number):
        "The invoice's UPO, or None when it cannot be had now"
        if not session_reference:
            return None
        try:
            return self.connection.upo(session_reference, number)
        except (KsefHttpError, ksef.Unavailable) as error:
            logger.warning("UPO of %s not downloaded: %s", number, error)
            return None

    def _outcome(self, entry, status):
        code = status.status.code
        if code in ksef.IN_PROGRESS:
            entry.write([entry], {'next_attempt_at':
                    datetime.datetime.now() + STATUS_DELAY})
            return False
        if code == 200:
            return entry._accept(status.ksef_number, status.acquisition_date,
                self._upo(entry.session_reference, status.ksef_number))
        extensions = status.status.extensions or {}
        original = extensions.get('originalKsefNumber')
        if code == 440 and original:
            # A duplicate: ours if KSeF's original is this very file
            if (self.connection.invoice_hash(original)
                    == entry.invoice.ksef_xml_hash):
                metadata = self.connection.find(
                    self.connection.context_nip, entry.invoice.invoice_date,
                    entry.invoice.ksef_xml_hash)
                return entry._accept(original,
                    metadata.acquisition_date if metadata else None,
                    self._upo(extensions.get(
                            'originalSessionReferenceNumber'), original))
        return entry._reject(ksef.status_text(status.status))


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('ksef.outbox|process_due', "Send Invoices to KSeF"))
