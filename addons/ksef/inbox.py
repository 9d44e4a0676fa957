"""The KSeF inbox: invoices addressed to the firm's NIP, fetched by a cron
(and by staff on demand) with ksef-client's metadata query.

The cursor is KSeF's permanent-storage high-water mark (HWM): every query
asks for the invoices permanently stored from the cursor up to the HWM
(`restrictToPermanentStorageHwmDate`), and KSeF guarantees that no invoice
is stored later with an earlier date. The cursor moves to the HWM only once
the whole range is read, so a run that fails leaves it where it was: the
next run reads the range again and the invoices kept already (unique KSeF
number) are not downloaded again. Paging is by pageOffset within a range
fixed by the first page's HWM; a truncated answer (KSeF's 10 000-row cap)
narrows the range to start at the last invoice read."""
import datetime
import logging

from ksef_client.exceptions import KsefHttpError
from ksef_client.models import (
    InvoiceQueryDateRange, InvoiceQueryDateType, InvoiceQueryFilters,
    InvoiceQuerySubjectType)
from ksef_client.utils.datetime_parsing import try_parse_api_datetime

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import StateTransition, Wizard

from .configuration import get_configuration
from . import client as ksef
from .invoice import xml_hash

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# ksef-client refuses ranges over 100 days; KSeF takes 3 months
WINDOW = datetime.timedelta(days=90)
# Where a new cursor starts
FIRST_RUN_DAYS = 30


class InboxError(Exception):
    "A run that cannot go on (the cursor stays)"


def utc(timestamp):
    "A naive UTC timestamp (as Tryton stores it) as an aware one"
    return timestamp.replace(tzinfo=datetime.timezone.utc)


def naive_utc(text):
    "A KSeF date-time as a naive UTC timestamp"
    value = try_parse_api_datetime(text)
    if value is None:
        raise InboxError(f"Invalid KSeF date: {text!r}")
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def api_date(timestamp):
    return utc(timestamp).isoformat(timespec='microseconds')


class InboxCursor(ModelSQL, ModelView):
    "KSeF Inbox"
    __name__ = 'ksef.inbox.cursor'

    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='CASCADE')
    fetched_to = fields.Timestamp("Fetched Up To",
        help="KSeF's permanent-storage date up to which every invoice "
        "addressed to the firm has been fetched; the next run starts there.")
    last_run = fields.Timestamp("Last Run", readonly=True)
    last_received = fields.Integer("Received in Last Run", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_unique', Unique(t, t.company),
                'ksef.msg_inbox_cursor_unique'),
            ]
        cls._buttons.update({
                'fetch_now': {},
                })

    def get_rec_name(self, name):
        return self.company.rec_name

    @classmethod
    def get_cursor(cls, company):
        "The company's cursor, created at the first run"
        with without_check_access():
            cursors = cls.search([('company', '=', company.id)], limit=1)
            if cursors:
                return cursors[0]
            cursor = cls(company=company, fetched_to=(
                    datetime.datetime.utcnow()
                    - datetime.timedelta(days=FIRST_RUN_DAYS)))
            cursor.save()
            return cursor

    @classmethod
    def fetch(cls, companies=None, page_size=PAGE_SIZE):
        """Fetch what KSeF holds for each company (every company by
        default); the number of invoices received. A run KSeF fails is
        recorded on the cursor (last_error) and leaves it in place."""
        Company = Pool().get('company.company')
        if companies is None:
            with without_check_access():
                companies = Company.search([])
        received = 0
        # A system job, whoever starts it ("Fetch Now" of staff included)
        with without_check_access():
            for company in companies:
                cursor = cls.get_cursor(company)
                cls.lock([cursor])
                cursor = cls(cursor.id)
                received += cursor.run(page_size)
        return received

    @classmethod
    def cron_fetch(cls):
        cls.fetch()

    @classmethod
    @ModelView.button
    def fetch_now(cls, cursors):
        cls.fetch([c.company for c in cursors])

    def run(self, page_size=PAGE_SIZE):
        "One run for the cursor's company; the number of invoices received"
        self.last_run = datetime.datetime.utcnow()
        self.last_received = 0
        try:
            with Transaction().set_context(company=self.company.id):
                self._run(page_size)
        except (KsefHttpError, InboxError, ksef.Unavailable,
                ksef.AuthenticationFailed, RuntimeError, TimeoutError,
                ValueError) as exception:
            logger.warning("KSeF inbox of %s: %s", self.company.rec_name,
                exception, exc_info=True)
            self.last_error = gettext('ksef.msg_inbox_failed',
                error=str(exception) or exception.__class__.__name__)
        else:
            self.last_error = None
        self.save()
        return self.last_received

    def _run(self, page_size):
        configuration = get_configuration()
        with ksef.Connection.from_configuration(
                configuration, self.company) as connection:
            connection.authenticate()
            start = self.fetched_to or (datetime.datetime.utcnow()
                - datetime.timedelta(days=FIRST_RUN_DAYS))
            while True:
                end = start + WINDOW
                last = end >= datetime.datetime.utcnow()
                hwm = self._read_range(connection, start,
                    None if last else end, page_size)
                # Saved range by range: a later failure keeps what is done
                self.fetched_to = start = max(start, hwm)
                self.save()
                if last:
                    break

    def _read_range(self, connection, start, end, page_size):
        """Receive every invoice stored from start to end (None: up to
        the HWM); the HWM reached"""
        page = 0
        hwm = None
        while True:
            answer = ksef.call(
                connection.client.invoices.query_invoice_metadata,
                self._filters(start, end),
                access_token=connection.access_token,
                page_offset=page, page_size=page_size, sort_order='Asc')
            if hwm is None:
                # The range of every following page: fixed, so that pages
                # do not shift under invoices stored meanwhile
                hwm = end = naive_utc(answer.permanent_storage_hwm_date) \
                    if answer.permanent_storage_hwm_date else end
            for metadata in answer.invoices:
                self._receive(connection, metadata)
            if answer.is_truncated and answer.invoices:
                # KSeF's cap: narrow the range to what is not read yet
                start = naive_utc(answer.invoices[-1].permanent_storage_date)
                page = 0
                continue
            if not answer.has_more:
                break
            page += 1
        return hwm if hwm is not None else start

    @staticmethod
    def _filters(start, end):
        return InvoiceQueryFilters(
            subject_type=InvoiceQuerySubjectType.SUBJECT2,
            date_range=InvoiceQueryDateRange(
                date_type=InvoiceQueryDateType.PERMANENTSTORAGE,
                from_=api_date(start),
                to=api_date(end) if end else None,
                restrict_to_permanent_storage_hwm_date=True))

    def _receive(self, connection, metadata):
        "Download and keep an invoice not kept yet"
        Received = Pool().get('ksef.received.invoice')
        number = metadata.ksef_number
        with without_check_access():
            if Received.search([('ksef_number', '=', number)], limit=1):
                return
        content = ksef.call(connection.client.invoices.get_invoice_bytes,
            number, access_token=connection.access_token)
        xml = content.content
        if content.sha256_base64 and content.sha256_base64 != xml_hash(xml):
            # Damaged on the way: read again by the next run
            raise InboxError(gettext('ksef.msg_inbox_hash', number=number))
        with without_check_access():
            Received.receive(self.company, number, xml,
                acquired_at=naive_utc(metadata.acquisition_date),
                stored_at=naive_utc(metadata.permanent_storage_date))
        self.last_received += 1


class Fetch(Wizard):
    "Fetch from KSeF"
    __name__ = 'ksef.inbox.fetch'

    start = StateTransition()

    def transition_start(self):
        Cursor = Pool().get('ksef.inbox.cursor')
        Cursor.fetch()
        return 'end'

    def end(self):
        return 'reload'


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('ksef.inbox.cursor|cron_fetch', "Fetch Invoices from KSeF"))
