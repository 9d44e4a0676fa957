import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sql import Cast, Column, Null
from sql.aggregate import Sum
from sql.conditionals import Case

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access

DOCUMENT_TYPES = [
    ('invoice', "Invoice"),
    ('credit_note', "Credit Note"),
    ('proforma', "Proforma"),
    ('payroll_bill', "Payroll Bill"),
    ]
STATES = [
    ('issued', "Issued"),
    ('paid', "Paid"),
    ('cancelled', "Cancelled"),
    ]
# Columns of the portal's documents table; also the allowed sort keys.
AMOUNT_FIELDS = ['tax_base', 'vat', 'total', 'paid', 'remaining']


class Document(ModelSQL, ModelView):
    """Financial document issued to a portal client

    The portal's read model of what the firm issued to the client: one row
    per invoice, credit note, proforma or payroll bill, derived from the
    source document (the origin) and kept in step with its payments."""
    __name__ = 'portal.document'
    _rec_name = 'number'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Client", required=True, readonly=True,
        ondelete='RESTRICT')
    number = fields.Char("Number", required=True, readonly=True)
    document_type = fields.Selection(
        DOCUMENT_TYPES, "Type", required=True, readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    due_date = fields.Date("Due Date", readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    tax_base = fields.Numeric(
        "Tax Base", digits=(16, 2), required=True, readonly=True)
    vat = fields.Numeric("VAT", digits=(16, 2), required=True, readonly=True)
    total = fields.Numeric(
        "Total", digits=(16, 2), required=True, readonly=True)
    paid = fields.Numeric(
        "Paid", digits=(16, 2), required=True, readonly=True)
    remaining = fields.Numeric(
        "Remaining", digits=(16, 2), required=True, readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True)
    first_downloaded_at = fields.Timestamp(
        "First Downloaded", readonly=True,
        help="When the client first downloaded the PDF.")
    first_downloaded_by = fields.Many2One(
        'web.user', "First Downloaded By", readonly=True,
        ondelete='SET NULL')
    # Set by the daily overdue notification: a document is announced once
    overdue_announced = fields.Boolean("Overdue Announced", readonly=True)
    overdue = fields.Function(
        fields.Boolean("Overdue"), 'get_overdue', searcher='search_overdue')
    manager = fields.Function(
        fields.Many2One('res.user', "Manager"), 'get_manager',
        searcher='search_manager')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Equality()),
                    (t.date, Index.Range(order='DESC'))),
                Index(t, (t.party, Index.Equality()),
                    (t.number, Index.Similarity())),
                Index(t, (t.origin, Index.Equality())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_origin(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        models = cls._get_origin()
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in models]

    @classmethod
    def _get_origin(cls):
        "Models whose records become portal documents"
        return ['account.invoice']

    @classmethod
    def today(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        Company = pool.get('company.company')
        transaction = Transaction()
        # The firm's timezone from the cached branding: ir.date would read
        # the company on every portal page
        branding = Company.portal_branding(transaction.language)
        if branding and branding['id'] == transaction.context.get('company'):
            timezone = branding['timezone']
            return Date.today(
                timezone=ZoneInfo(timezone) if timezone else None)
        return Date.today()

    @classmethod
    def portal_row_extras(cls):
        "Fields other modules add to the rows of the documents table"
        return []

    @staticmethod
    def is_overdue(state, remaining, due_date, today):
        "Money the client owes after the due date (never a credit)"
        return bool(state == 'issued' and remaining > 0
            and due_date and due_date < today)

    @classmethod
    def overdue_domain(cls, today):
        "The documents is_overdue holds for, as a search domain"
        return [
            ('state', '=', 'issued'),
            ('remaining', '>', 0),
            ('due_date', '<', today),
            ]

    def get_overdue(self, name):
        return self.is_overdue(
            self.state, self.remaining, self.due_date, self.today())

    @classmethod
    def search_overdue(cls, name, clause):
        _, operator, value = clause
        if (operator == '=') == bool(value):
            return cls.overdue_domain(cls.today())
        return ['OR',
            ('state', '!=', 'issued'),
            ('remaining', '<=', 0),
            ('due_date', '=', None),
            ('due_date', '>=', cls.today()),
            ]

    def get_manager(self, name):
        return self.party.portal_manager

    @classmethod
    def search_manager(cls, name, clause):
        return [('party.portal_manager',) + tuple(clause[1:])]

    def portal_details(self):
        """What the document's PDF says beyond its header figures, as plain
        values: lines, VAT per rate, payment details and the documents it
        corrects. The caller holds this document (read under the client's
        rules); its origin is read like an attribute of it."""
        if not self.origin or not hasattr(self.origin, 'get_portal_details'):
            return None
        with without_check_access():
            return self.origin.get_portal_details()

    @property
    def pdf_filename(self):
        return f'{self.number.replace("/", "_")}.pdf'

    def get_pdf(self):
        "The PDF stored when the document was issued"
        if self.origin and hasattr(self.origin, 'get_portal_pdf'):
            return self.origin.get_portal_pdf()

    @classmethod
    def record_download(cls, documents, web_user):
        "Record the first download; later downloads leave it unchanged"
        now = datetime.datetime.now()
        first = [d for d in documents if not d.first_downloaded_at]
        if first:
            cls.write(first, {
                    'first_downloaded_at': now,
                    'first_downloaded_by': web_user.id,
                    })

    @classmethod
    def search_values(cls, domain, fields_names, offset=0, limit=None,
            order=None):
        """Values of the stored fields of the documents a search finds, in
        its order, as dicts: the ids by the search (record rules applied),
        then the columns of those ids, without the ORM's work per row and
        field that a page of 25 rows would pay twice"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*cls.search(domain, offset=offset, limit=limit,
                order=order, query=True))
        ids = [id_ for id_, in cursor]
        if not ids:
            return []
        columns = [table.id]
        for name in fields_names:
            column = Column(table, name)
            if backend.name == 'sqlite':
                # How trytond tells SQLite which type to return
                column = column.as_(
                    f'{name} [{cls._fields[name].sql_type().base}]')
            columns.append(column)
        cursor.execute(*table.select(*columns, where=table.id.in_(ids)))
        names = ['id', *fields_names]
        rows = {row[0]: dict(zip(names, row)) for row in cursor}
        return [rows[id_] for id_ in ids]

    @classmethod
    def outstanding_columns(cls, table, today):
        """What clients owe and are owed, as SQL over the rows of table
        (this model's): the condition of the documents that count (issued,
        not settled) and {name: aggregate} of not_due, overdue, credit
        (positive), overdue_count and balance = not_due + overdue - credit.
        The home page's totals and the staff's outstanding report group
        them their own way."""
        remaining = table.remaining
        if backend.name == 'sqlite':
            # SQLite stores a Decimal as bytes, which compare greater than
            # any number: a credit note would count as owed (as
            # fields.Numeric does in its domains)
            remaining = Cast(remaining, cls.remaining.sql_type().base)
        owed = remaining > 0
        # A document without a due date (a payroll bill) is never overdue:
        # without the test for NULL it would be counted nowhere
        overdue = owed & (table.due_date != Null) & (table.due_date < today)
        not_due = Sum(Case((owed & ~overdue, remaining), else_=0))
        overdue_amount = Sum(Case((overdue, remaining), else_=0))
        credit = Sum(Case((remaining < 0, -remaining), else_=0))
        condition = (table.state == 'issued') & (remaining != 0)
        return condition, {
            # Owed, due date not passed (or none)
            'not_due': not_due,
            'overdue': overdue_amount,
            # Open credit notes: what the firm owes the client
            'credit': credit,
            'overdue_count': Sum(Case((overdue, 1), else_=0)),
            'balance': not_due + overdue_amount - credit,
            }

    @classmethod
    def totals_by_currency(cls, domain):
        """What the client owes and is owed per currency, as three figures
        that add up: not yet due + overdue - credit = balance. One grouped
        query under the access rules."""
        pool = Pool()
        Currency = pool.get('currency.currency')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        query = cls.search(domain, query=True, order=[])
        condition, columns = cls.outstanding_columns(table, cls.today())
        cursor.execute(*table.select(
                table.currency,
                columns['not_due'], columns['overdue'], columns['credit'],
                columns['overdue_count'],
                where=table.id.in_(query) & condition,
                group_by=[table.currency]))
        currencies = Currency.portal_currencies()
        result = []
        for currency_id, not_due, overdue_amount, credit, overdue_count \
                in cursor:
            currency = currencies[currency_id]

            def amount(value):
                return Decimal(str(value or 0)).quantize(
                    Decimal(1).scaleb(-currency.digits))
            row = {
                'currency': currency,
                'not_due': amount(not_due),
                'overdue': amount(overdue_amount),
                'credit': amount(credit),
                'overdue_count': overdue_count or 0,
                }
            row['balance'] = row['not_due'] + row['overdue'] - row['credit']
            result.append(row)
        result.sort(key=lambda r: r['currency'].code)
        return result


class DocumentReport(Report):
    "Stored PDF of a portal document"
    __name__ = 'portal.document.report'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Document = pool.get('portal.document')
        document = Document(ids[0])
        # Read under the caller's access rights before returning content
        Document.read([document.id], ['number'])
        return ('pdf', document.get_pdf(), False, document.number)


def sync_documents(origins):
    """Create or update the portal documents of the origins (records whose
    model implements _portal_document_values) and notify the clients of
    the new ones."""
    pool = Pool()
    Document = pool.get('portal.document')
    Notification = pool.get('portal.notification')
    if not origins:
        return []
    keys = [str(o) for o in origins]
    existing = {}
    for sub in _chunks(keys):
        for document in Document.search([('origin', 'in', sub)]):
            existing[str(document.origin)] = document
    to_create, to_write = [], []
    for origin in origins:
        values = origin._portal_document_values()
        document = existing.get(str(origin))
        if values is None:
            continue
        if document:
            changed = {k: v for k, v in values.items()
                if getattr(document, k) != v
                and not (isinstance(getattr(document, k), ModelSQL)
                    and getattr(document, k).id == v)}
            if changed:
                to_write.extend(([document], changed))
        else:
            values['origin'] = str(origin)
            to_create.append(values)
    if to_write:
        Document.write(*to_write)
    created = Document.create(to_create) if to_create else []
    Notification.notify_new_documents(created)
    return created


def _chunks(values, size=500):
    for i in range(0, len(values), size):
        yield values[i:i + size]
