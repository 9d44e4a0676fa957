"""Sub-accounts: the money a client holds at the firm in one currency,
as the posted move lines of a ledger account of its own (ARCHITECTURE
principle 1). Money in (payments of the client's invoices) debits the
account, money out (refunds, charges) credits it."""
import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sql import Null, Window
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce

from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class Movement(NamedTuple):
    "A posted line of a sub-account, as the client's movements show it"
    id: int
    date: datetime.date
    document: str
    # The client's own invoice, which the portal links to
    invoice: int | None
    # The client's cost invoice charged by this line, linked likewise
    cost: int | None
    counterparty: str
    description: str
    # Signed, in the sub-account's currency: money in is positive
    amount: Decimal
    balance: Decimal


class Movements(NamedTuple):
    "A page of movements"
    rows: list
    count: int
    opening: Decimal
    closing: Decimal


class Document(NamedTuple):
    id: int
    number: str
    party: int
    issuer: int
    # A cost invoice's supplier invoice: the supplier's number and the
    # client's cost invoice (id, client)
    reference: str | None = None
    cost: tuple | None = None


class Subaccount(ModelSQL, ModelView):
    """Sub-account of a client in one currency

    The client's money held by the firm in that currency: payments received
    for the invoices the client issued land on it, refunds and charges
    leave it. It is a view of the posted move lines of its own account,
    never a second set of books."""
    __name__ = 'portal.subaccount'

    company = fields.Many2One('company.company', "Company", required=True)
    client = fields.Many2One(
        'party.party', "Client", required=True, ondelete='RESTRICT',
        domain=[('portal_client', '=', True)])
    currency = fields.Many2One('currency.currency', "Currency", required=True)
    account = fields.Many2One(
        'account.account', "Account", required=True, ondelete='RESTRICT',
        help="The ledger account whose posted lines are the sub-account.")
    payment_method = fields.Many2One(
        'account.invoice.payment.method', "Payment Method",
        ondelete='RESTRICT',
        help="Payments of the client's invoices received into the "
        "sub-account.")
    balance = fields.Function(fields.Numeric(
            "Balance", digits=(16, 2),
            help="In the sub-account's currency, from posted lines."),
        'get_balance')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('client_currency_unique', Unique(t, t.client, t.currency),
                'client_portal.msg_subaccount_unique'),
            ]
        cls._order = [
            ('client', 'ASC'), ('currency', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        return f'{self.client.rec_name} · {self.currency.code}'

    @classmethod
    def _amount_column(cls, line, currency_is_company):
        "A line's signed amount in the sub-account's currency"
        if currency_is_company:
            return Coalesce(line.debit, 0) - Coalesce(line.credit, 0)
        return Coalesce(line.amount_second_currency, 0)

    @classmethod
    def get_balance(cls, subaccounts, name):
        """Sum of the posted lines of each sub-account's account, in one
        query: an account with a second currency (a foreign sub-account)
        sums that currency, the others the company's. No record is read, so
        the home page's tiles cost this query only."""
        pool = Pool()
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        Currency = pool.get('currency.currency')
        line, move, account = (
            Line.__table__(), Move.__table__(), Account.__table__())
        cursor = Transaction().connection.cursor()
        result = {s.id: Decimal(0) for s in subaccounts}
        accounts = {s.account.id: s for s in subaccounts}
        if not accounts:
            return result
        amount = Case((account.second_currency == Null,
                cls._amount_column(line, True)),
            else_=cls._amount_column(line, False))
        cursor.execute(*line.join(move, condition=line.move == move.id
                ).join(account, condition=line.account == account.id
                ).select(
                line.account, Sum(amount),
                where=line.account.in_(list(accounts))
                & (move.state == 'posted'),
                group_by=[line.account]))
        digits = {c.id: c.digits for c in Currency.portal_currencies().values()}
        for account_id, total in cursor:
            subaccount = accounts[account_id]
            exp = Decimal(1).scaleb(-digits.get(subaccount.currency.id, 2))
            result[subaccount.id] = _decimal(total).quantize(
                exp, rounding=ROUND_HALF_UP)
        return result

    @classmethod
    def create_for(cls, clients, currencies):
        """Open the clients' missing sub-accounts in the currencies: each
        with its ledger account (type from the accounting configuration,
        else the firm's latest asset type that is not receivable: cash in
        the demo chart) and a payment method (cash journal) into it.
        Returns the sub-accounts created."""
        pool = Pool()
        Account = pool.get('account.account')
        AccountType = pool.get('account.account.type')
        Method = pool.get('account.invoice.payment.method')
        Configuration = pool.get('account.configuration')
        ModelData = pool.get('ir.model.data')
        Company = pool.get('company.company')
        existing = {(s.client.id, s.currency.id) for s in cls.search([
                    ('client', 'in', [c.id for c in clients])])}
        created = []
        with without_check_access():
            company = Company(Transaction().context.get('company')
                or Company.search([], limit=1)[0].id)
            type_ = Configuration(1).portal_subaccount_type
            if not type_:
                type_, = AccountType.search([
                        ('company', '=', company.id),
                        ('statement', '=', 'balance'),
                        ('assets', '=', True),
                        ('receivable', '=', False),
                        ], order=[('id', 'DESC')], limit=1)
            journal = ModelData.get_id('account', 'journal_cash')
            for client in clients:
                for currency in currencies:
                    if (client.id, currency.id) in existing:
                        continue
                    code = client.code or str(client.id)
                    foreign = currency != company.currency
                    account, = Account.create([{
                                'company': company.id,
                                'code': f'249-{code}-{currency.code}',
                                'name': f'Subkonto {client.name} '
                                f'{currency.code}',
                                'type': type_.id,
                                'second_currency': (
                                    currency.id if foreign else None),
                                }])
                    method, = Method.create([{
                                'company': company.id,
                                'name': f'Subkonto {client.name} '
                                f'{currency.code}',
                                'journal': journal,
                                'debit_account': account.id,
                                'credit_account': account.id,
                                }])
                    created.append({
                            'company': company.id,
                            'client': client.id,
                            'currency': currency.id,
                            'account': account.id,
                            'payment_method': method.id,
                            })
            return cls.create(created)

    def movements(self, start=None, end=None, order='date', direction='asc',
            offset=0, limit=None):
        """The posted lines of the period as a Movements page: rows in the
        order asked, the total count, and the balances at the start and
        the end of the period. Each row's running balance follows the
        date (then the line), whatever the page and the order: it is
        summed by the database over the whole period, after the opening
        balance of everything before it.

        Read by SQL: the caller has read this sub-account under the record
        rules, and its lines are its own content."""
        cursor = Transaction().connection.cursor()
        line, move, posted, amount, where, opening = self._period_lines(
            start, end)
        cursor.execute(*posted.select(Count(line.id), Sum(amount),
                where=where))
        count, total = cursor.fetchone()
        window = Window([], order_by=[move.date.asc, line.id.asc])
        period = posted.select(
            line.id.as_('id'), move.date.as_('date'),
            amount.as_('amount'),
            Sum(amount, window=window).as_('running'),
            line.move.as_('move'), move.origin.as_('origin'),
            move.number.as_('number'),
            Coalesce(line.description, move.description).as_('description'),
            line.party.as_('party'),
            where=where)
        column = period.amount if order == 'amount' else period.date
        if direction == 'desc':
            order_by = [column.desc, period.id.desc]
        else:
            order_by = [column.asc, period.id.asc]
        cursor.execute(*period.select(
                period.id, period.date, period.amount, period.running,
                period.move, period.origin, period.number,
                period.description, period.party,
                order_by=order_by, offset=offset or None, limit=limit))
        lines = cursor.fetchall()
        documents = self._documents(lines)
        parties = self._party_names(
            {l[8] for l in lines if l[8]}
            | {d.party for d in documents.values() if d.party})
        rows = []
        for (id_, date, amount_, running, move_id, origin, number,
                description, party) in lines:
            document = documents.get(move_id)
            if isinstance(date, str):
                date = datetime.date.fromisoformat(date)
            cost = (document.cost[0] if document and document.cost
                and document.cost[1] == self.client.id else None)
            if document and document.cost:
                document = document._replace(number=document.reference)
            rows.append(Movement(
                    id=id_, date=date,
                    document=(document.number if document else number) or '',
                    invoice=(document.id if document
                        and document.issuer == self.client.id else None),
                    cost=cost,
                    counterparty=parties.get(
                        document.party if document else party, ''),
                    description=description or '',
                    amount=self.currency.round(_decimal(amount_)),
                    balance=self.currency.round(
                        opening + _decimal(running))))
        return Movements(rows, count,
            self.currency.round(opening),
            self.currency.round(opening + _decimal(total)))

    def daily_balances(self, start=None, end=None):
        """[(date, balance at the end of that day)] of the days of the period
        with a posted line, the first being the balance before the period
        (on its first day) when it has a start: the balance chart's points.
        Summed per day by the database."""
        cursor = Transaction().connection.cursor()
        _, move, posted, amount, where, balance = self._period_lines(
            start, end)
        points = [(start, self.currency.round(balance))] if start else []
        cursor.execute(*posted.select(move.date, Sum(amount),
                where=where, group_by=[move.date], order_by=[move.date.asc]))
        for date, total in cursor:
            if isinstance(date, str):
                date = datetime.date.fromisoformat(date)
            balance += _decimal(total)
            if points and points[-1][0] == date:
                points.pop()
            points.append((date, self.currency.round(balance)))
        return points

    def _period_lines(self, start, end):
        """(line, move, posted lines, signed amount, condition of the
        period's lines, balance before the period) of the sub-account"""
        pool = Pool()
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        line, move = Line.__table__(), Move.__table__()
        amount = self._amount_column(line, not self._foreign)
        posted = line.join(move, condition=line.move == move.id)
        where = (line.account == self.account.id) & (move.state == 'posted')
        opening = Decimal(0)
        if start:
            cursor = Transaction().connection.cursor()
            cursor.execute(*posted.select(
                    Sum(amount), where=where & (move.date < start)))
            opening = _decimal(cursor.fetchone()[0])
            where &= move.date >= start
        if end:
            where &= move.date <= end
        return line, move, posted, amount, where, opening

    @property
    def _foreign(self):
        return self.currency != self.company.currency

    @classmethod
    def _documents(cls, lines):
        """{move id: Document} of the invoices behind the moves: the move's
        origin, else an invoice reconciled with one of the move's lines
        (a payment recorded by a statement)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        by_move = {}
        for _, _, _, _, move_id, origin, *_ in lines:
            model, _, id_ = (origin or '').partition(',')
            if model == 'account.invoice' and id_.isdigit():
                by_move[move_id] = int(id_)
        others = list({l[4] for l in lines} - set(by_move))
        invoice = Invoice.__table__()
        if others:
            own, paired = Line.__table__(), Line.__table__()
            cursor.execute(*own.join(paired, condition=(
                        paired.reconciliation == own.reconciliation)
                    & (paired.move != own.move))
                .join(invoice, condition=invoice.move == paired.move)
                .select(own.move, invoice.id,
                    where=own.move.in_(others)
                    & (own.reconciliation != Null)))
            for move_id, invoice_id in cursor:
                by_move.setdefault(move_id, invoice_id)
        if not by_move:
            return {}
        ids = list(set(by_move.values()))
        cursor.execute(*invoice.select(
                invoice.id, invoice.number, invoice.party,
                invoice.portal_issuer, invoice.reference,
                where=invoice.id.in_(ids)))
        invoices = {r[0]: Document(*r) for r in cursor}
        cost = pool.get('portal.cost.invoice').__table__()
        cursor.execute(*cost.select(cost.invoice, cost.id, cost.client,
                where=cost.invoice.in_(ids)))
        for invoice_id, cost_id, client in cursor:
            invoices[invoice_id] = invoices[invoice_id]._replace(
                cost=(cost_id, client))
        return {m: invoices[i] for m, i in by_move.items() if i in invoices}

    @classmethod
    def _party_names(cls, ids):
        Party = Pool().get('party.party')
        if not ids:
            return {}
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*party.select(party.id, party.name,
                where=party.id.in_(list(ids))))
        return dict(cursor)


def _decimal(value):
    """An amount as the backend returns it as a Decimal (SQLite gives a
    float, an int or, through a sub-query, the stored text)"""
    if value is None:
        return Decimal(0)
    if isinstance(value, bytes):
        value = value.decode()
    return value if isinstance(value, Decimal) else Decimal(str(value))


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'

    portal_subaccount_type = fields.Many2One(
        'account.account.type', "Sub-account Type",
        help="The type of the ledger accounts opened for clients' "
        "sub-accounts.")
