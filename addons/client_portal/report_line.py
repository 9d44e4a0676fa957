"""The report layer (C5): every document a client's reports cover, of
whatever kind, as the rows of one SQL view. A module whose documents
belong in the reports extends `_kind_queries` with a select of the same
columns; the portal's reports, their exports and the staff's reports read
this view only, so a new kind appears in all of them at once.

Amounts are signed as the documents hold them (a correction that lowers an
invoice is negative); the direction says whose money it is for the client:
income (what the client sold) or cost (what the client bought, the firm's
invoices and payroll bills included)."""
import datetime
from decimal import Decimal
from typing import NamedTuple

from sql import Cast, Column, Literal, Null, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Case
from sql.functions import Extract
from sql.operators import Concat

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .invoice_template import PAYMENT_METHODS
from .subaccount import _decimal

KINDS = [
    ('sale_invoice', "Sales invoice"),
    ('sale_correction', "Sales correction"),
    ('cost_invoice', "Cost invoice"),
    ('cost_correction', "Cost correction"),
    ('firm_invoice', "Invoice from the firm"),
    ('firm_credit_note', "Credit note from the firm"),
    ('payroll_bill', "Payroll bill"),
    ]
DIRECTIONS = [
    ('income', "Income"),
    ('cost', "Cost"),
    ]
# A row's id is its document's id times this, plus its query's index:
# unique across the kinds, and a document's row is found from its id
KIND_SLOTS = 16
# The columns a report row reads, in this order
ROW_COLUMNS = ['id', 'date', 'kind', 'direction', 'number', 'counterparty',
    'currency', 'untaxed', 'tax', 'total', 'payment_method', 'paid',
    'origin']


class SummedAmounts:
    """An SQL view of sums: the amounts named in _summed_amounts read back
    to the grosz (SQLite sums Numeric columns as floats)"""
    __slots__ = ()
    _summed_amounts = ()

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        for row in rows:
            for name in cls._summed_amounts:
                if row.get(name) is not None:
                    row[name] = _money(row[name])
        return rows


class Row(NamedTuple):
    "A report row as the pages and the files show it"
    id: int
    date: datetime.date
    kind: str
    direction: str
    number: str
    counterparty: str
    currency: str
    untaxed: Decimal
    tax: Decimal
    total: Decimal
    payment_method: str | None
    paid: bool
    origin: str


class ReportLine(ModelSQL, ModelView):
    """Report Line

    One document of a client in its reports: a sale, a cost, a document
    of the firm, whatever module issued it"""
    __name__ = 'portal.report.line'

    company = fields.Many2One('company.company', "Company", readonly=True)
    client = fields.Many2One('party.party', "Client", readonly=True)
    kind = fields.Selection(KINDS, "Kind", readonly=True)
    direction = fields.Selection(DIRECTIONS, "Direction", readonly=True)
    number = fields.Char("Number", readonly=True)
    date = fields.Date("Date", readonly=True)
    counterparty = fields.Many2One('party.party', "Counterparty",
        readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)
    untaxed = fields.Numeric("Net", digits=(16, 2), readonly=True)
    tax = fields.Numeric("VAT", digits=(16, 2), readonly=True)
    total = fields.Numeric("Gross", digits=(16, 2), readonly=True)
    payment_method = fields.Selection([(None, "")] + PAYMENT_METHODS,
        "Payment Method", readonly=True)
    paid = fields.Boolean("Paid", readonly=True)
    origin = fields.Reference("Document", selection='get_origins',
        readonly=True)
    product = fields.Function(fields.Many2One('portal.product', "Product"),
        'get_product', searcher='search_product')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_origins(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [(m, IrModel.get_name(m))
            for m in ['account.invoice', 'portal.cost.invoice',
                'portal.document']]

    @classmethod
    def table_query(cls):
        return Union(*cls._kind_queries(), all_=True)

    @classmethod
    def _kind_queries(cls):
        "The selects of the kinds, each with the columns of `_columns`"
        return [cls._sales_query(), cls._costs_query(),
            cls._documents_query()]

    @classmethod
    def _columns(cls, table, index, **columns):
        """The view's columns in their order, from a document table: id
        from the table's and the query's index, the others given"""
        def cast(name, value):
            field = cls._fields[name]
            return field.sql_cast(value) if value is Null else value
        names = ['company', 'client', 'kind', 'direction', 'number', 'date',
            'counterparty', 'currency', 'untaxed', 'tax', 'total',
            'payment_method', 'paid', 'origin']
        return [(table.id * KIND_SLOTS + index).as_('id')] + [
            cast(n, columns[n]).as_(n) for n in names]

    @staticmethod
    def _reference(model, table):
        return Concat(model + ',', Cast(table.id, 'VARCHAR'))

    @classmethod
    def _sales_query(cls):
        "The invoices and corrections the client issued (income)"
        invoice = Pool().get('account.invoice').__table__()
        return invoice.select(*cls._columns(invoice, 0,
                company=invoice.company,
                client=invoice.portal_issuer,
                kind=Case((invoice.portal_kind == 'correction',
                        'sale_correction'), else_='sale_invoice'),
                direction=Literal('income'),
                number=invoice.number,
                date=invoice.invoice_date,
                counterparty=invoice.party,
                currency=invoice.currency,
                untaxed=invoice.untaxed_amount_cache,
                tax=invoice.tax_amount_cache,
                total=invoice.total_amount_cache,
                payment_method=invoice.portal_payment_method,
                paid=Case((invoice.state == 'paid', True), else_=False),
                origin=cls._reference('account.invoice', invoice)),
            where=(invoice.type == 'out')
            & (invoice.portal_issuer != Null)
            & invoice.portal_kind.in_(['invoice', 'correction'])
            & invoice.state.in_(['posted', 'paid']))

    @classmethod
    def _costs_query(cls):
        "The cost invoices approved for the client (costs)"
        cost = Pool().get('portal.cost.invoice').__table__()
        return cost.select(*cls._columns(cost, 1,
                company=cost.company,
                client=cost.client,
                kind=Case((cost.kind == 'correction', 'cost_correction'),
                    else_='cost_invoice'),
                direction=Literal('cost'),
                number=cost.number,
                date=cost.invoice_date,
                counterparty=cost.supplier,
                currency=cost.currency,
                untaxed=cost.untaxed_amount,
                tax=cost.tax_amount,
                total=cost.total_amount,
                payment_method=cost.payment_method,
                paid=Case((cost.state == 'paid', True), else_=False),
                origin=cls._reference('portal.cost.invoice', cost)),
            where=cost.state.in_(['approved', 'paid']))

    @classmethod
    def _documents_query(cls):
        """The firm's documents to the client (costs): its invoices and
        credit notes, and what other modules issue through the portal's
        documents (payroll bills); proformas are no cost"""
        pool = Pool()
        document = pool.get('portal.document').__table__()
        company = pool.get('company.company').__table__()
        kind = Case((document.document_type == 'invoice', 'firm_invoice'),
            (document.document_type == 'credit_note', 'firm_credit_note'),
            else_=document.document_type)
        return document.join(company,
            condition=document.company == company.id
            ).select(*cls._columns(document, 2,
                company=document.company,
                client=document.party,
                kind=kind,
                direction=Literal('cost'),
                number=document.number,
                date=document.date,
                counterparty=company.party,
                currency=document.currency,
                untaxed=document.tax_base,
                tax=document.vat,
                total=document.total,
                payment_method=Null,
                paid=Case((document.state == 'paid', True), else_=False),
                origin=cls._reference('portal.document', document)),
            where=(document.document_type != 'proforma')
            & document.state.in_(['issued', 'paid']))

    @classmethod
    def get_product(cls, lines, name):
        # Only searched (a document has many products): no value to show
        return {l.id: None for l in lines}

    @classmethod
    def search_product(cls, name, clause):
        """The rows of the documents with a line of the product (the
        client's own products: on its sales and its cost invoices)"""
        pool = Pool()
        line = pool.get('account.invoice.line').__table__()
        cost_line = pool.get('portal.cost.invoice.line').__table__()
        _, operator, value = clause[:3]
        if operator not in ('=', 'in'):
            raise ValueError(f"product: unsupported operator {operator}")
        ids = [value] if operator == '=' else list(value)
        sales = line.select(line.invoice * KIND_SLOTS,
            where=line.portal_product.in_(ids or [-1]))
        costs = cost_line.select(cost_line.cost_invoice * KIND_SLOTS + 1,
            where=cost_line.product.in_(ids or [-1]))
        return [('id', 'in', Union(sales, costs))]

    @classmethod
    def _aggregate(cls, domain, columns):
        """The search of domain (its joins, conditions and record rules, so
        that the database narrows each kind's select to the client's rows)
        selecting columns(main table) = (keys, aggregates), grouped by the
        keys"""
        query = cls.search(domain, order=[], query=True)
        main = query.columns[0].expression.table
        keys, aggregates = columns(main)
        query.columns = keys + aggregates
        query.group_by = keys
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return cursor

    @classmethod
    def totals(cls, domain):
        """{(currency id, direction): (count, untaxed, tax, total)} of the
        rows the domain finds (the record rules apply), one grouped query"""
        cursor = cls._aggregate(domain, lambda t: (
                [t.currency, t.direction],
                [Count(t.id)] + [Sum(cls._fields[n].sql_cast(Column(t, n)))
                    for n in ('untaxed', 'tax', 'total')]))
        return {(currency, direction): (count, *map(_money, amounts))
            for currency, direction, count, *amounts in cursor}

    @classmethod
    def grouped(cls, domain, key):
        """{(key, direction): (count, untaxed, total)} of the rows the domain
        finds: key is 'month' (of the date) or 'payment_method'"""
        def columns(table):
            column = (Extract('MONTH', table.date) if key == 'month'
                else table.payment_method)
            return [column, table.direction], [Count(table.id),
                Sum(cls.untaxed.sql_cast(table.untaxed)),
                Sum(cls.total.sql_cast(table.total))]
        cursor = cls._aggregate(domain, columns)
        return {(int(k) if key == 'month' else k, direction): (
                count, _money(untaxed), _money(total))
            for k, direction, count, untaxed, total in cursor}

    @classmethod
    def rows(cls, domain, order, offset=None, limit=None, chunk=1000):
        """The Rows the domain finds in the order, read by one query that is
        the search's own (its joins, order, record rules) with the row's
        columns: the page and its export are the same rows by construction.
        Read in chunks, so that an export of every row streams."""
        pool = Pool()
        Party = pool.get('party.party')
        Currency = pool.get('currency.currency')
        query = cls.search(domain, order=order, offset=offset, limit=limit,
            query=True)
        # The search's main table (the view), the one its id comes from
        main = query.columns[0].expression.table
        query.columns = [Column(main, n).as_(n) for n in ROW_COLUMNS]
        codes = {c.id: c.code for c in Currency.portal_currencies().values()}
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        names = Transaction().connection.cursor()
        cursor.execute(*query)
        while True:
            values = cursor.fetchmany(chunk)
            if not values:
                break
            ids = list({v[5] for v in values if v[5]})
            names.execute(*party.select(party.id, party.name,
                    where=party.id.in_(ids or [-1])))
            counterparty = dict(names)
            for (id_, date, kind, direction, number, counterparty_id,
                    currency, untaxed, tax, total, method, paid,
                    origin) in values:
                if isinstance(date, str):
                    date = datetime.date.fromisoformat(date)
                yield Row(id_, date, kind, direction, number or '',
                    counterparty.get(counterparty_id, ''),
                    codes.get(currency, ''), _money(untaxed), _money(tax),
                    _money(total), method, bool(paid), origin)


def _money(value):
    return _decimal(value).quantize(Decimal('0.01'))
