"""The head's management report (C5, seed 001: "an itemized report on
income and expenses for any period in both absolute and relative terms"):
per client, then per manager, the income and costs of a period beside
those of the period before it and of the same period a year earlier.

The figures are the net amounts of the report layer (portal.report.line)
in each document's currency, a row per currency: nothing is converted, so
every sum is exact to the grosz."""
import datetime
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from sql import Column
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case, NullIf
from sql.functions import Abs
from sql.operators import Or

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .report_line import SummedAmounts

ONE_DAY = datetime.timedelta(days=1)
# The periods of a row: the chosen one and the two it is compared with
PERIODS = ['', 'previous_', 'year_ago_']
FIGURES = ['income', 'costs', 'result']
# The changes: (suffix, the period compared with)
CHANGES = [('_change', 'previous_'), ('_change_year', 'year_ago_')]
AMOUNTS = ([p + f for p in PERIODS for f in FIGURES]
    + [f + s for s, _ in CHANGES for f in FIGURES])
# The changes in %: {field: (the change, its base)}
PERCENTS = {f'{f}{s}_percent': (f + s, p + f)
    for s, p in CHANGES for f in FIGURES}
PERCENT = Decimal('0.01')


def default_period(today):
    "The month of today: the period the report opens with"
    start = today.replace(day=1)
    return start, start + relativedelta(months=1) - ONE_DAY


def comparison_periods(from_date, to_date):
    """The periods a period is compared with: the one just before it, of
    the same length, and the same one a year earlier. Whole months are
    compared with whole months: November with October, not with 2 to 31
    October."""
    year = relativedelta(years=1)
    if (from_date <= to_date and from_date.day == 1
            and (to_date + ONE_DAY).day == 1):
        months = ((to_date.year - from_date.year) * 12
            + to_date.month - from_date.month + 1)
        previous = (from_date - relativedelta(months=months),
            from_date - ONE_DAY)
        # The end of the month, even in a February of a leap year
        year_ago = (from_date - year, to_date + ONE_DAY - year - ONE_DAY)
    else:
        length = to_date - from_date + ONE_DAY
        previous = (from_date - length, from_date - ONE_DAY)
        year_ago = (from_date - year, to_date - year)
    return previous, year_ago


def percent(change, base):
    """change relative to base in %, to the hundredth; relative to the
    base's size, so a loss that shrinks is a positive change; None when
    there is no base"""
    if not base:
        return None
    return (change * 100 / abs(base)).quantize(PERCENT,
        rounding=ROUND_HALF_UP)


class ComparisonContext(ModelView):
    "Income and Costs Period"
    __name__ = 'portal.report.comparison.context'
    __string__ = "Income and Costs Period"

    from_date = fields.Date("From Date", required=True,
        domain=[If(Eval('from_date') & Eval('to_date'),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To Date", required=True,
        domain=[If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')), ())])
    previous_from_date = fields.Date("Previous Period From", readonly=True)
    previous_to_date = fields.Date("Previous Period To", readonly=True)
    year_ago_from_date = fields.Date("Year Ago From", readonly=True)
    year_ago_to_date = fields.Date("Year Ago To", readonly=True)

    @classmethod
    def default_from_date(cls):
        return default_period(Pool().get('ir.date').today())[0]

    @classmethod
    def default_to_date(cls):
        return default_period(Pool().get('ir.date').today())[1]

    def _periods(self):
        if self.from_date and self.to_date:
            return comparison_periods(self.from_date, self.to_date)
        return (None, None), (None, None)

    @fields.depends('from_date', 'to_date')
    def on_change_with_previous_from_date(self):
        return self._periods()[0][0]

    @fields.depends('from_date', 'to_date')
    def on_change_with_previous_to_date(self):
        return self._periods()[0][1]

    @fields.depends('from_date', 'to_date')
    def on_change_with_year_ago_from_date(self):
        return self._periods()[1][0]

    @fields.depends('from_date', 'to_date')
    def on_change_with_year_ago_to_date(self):
        return self._periods()[1][1]


def _order_percent(name):
    "Order by a change in % as percent() computes it, in SQL"
    change, base = PERCENTS[name]

    @classmethod
    def order(cls, tables):
        table, _ = tables[None]
        # 100.0: SQLite divides integers as integers
        return [Column(table, change) * 100.0
            / NullIf(Abs(Column(table, base)), 0)]
    return order


class ComparisonMixin(SummedAmounts):
    """The figures of a row: income, costs and result of the period, of
    the previous one and of the year before, and their changes"""
    __slots__ = ()
    _summed_amounts = AMOUNTS

    company = fields.Many2One('company.company', "Company", readonly=True)
    manager = fields.Many2One('res.user', "Manager", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)

    income = fields.Numeric("Income", digits=(16, 2), readonly=True,
        help="Net sales in the period.")
    costs = fields.Numeric("Costs", digits=(16, 2), readonly=True,
        help="Net costs in the period: cost invoices, the firm's invoices "
        "and payroll bills.")
    result = fields.Numeric("Result", digits=(16, 2), readonly=True,
        help="Income - costs.")
    previous_income = fields.Numeric("Previous Income", digits=(16, 2),
        readonly=True, help="The income of the period before, as long.")
    previous_costs = fields.Numeric("Previous Costs", digits=(16, 2),
        readonly=True, help="The costs of the period before, as long.")
    previous_result = fields.Numeric("Previous Result", digits=(16, 2),
        readonly=True, help="The result of the period before, as long.")
    year_ago_income = fields.Numeric("Income a Year Ago", digits=(16, 2),
        readonly=True)
    year_ago_costs = fields.Numeric("Costs a Year Ago", digits=(16, 2),
        readonly=True)
    year_ago_result = fields.Numeric("Result a Year Ago", digits=(16, 2),
        readonly=True)

    income_change = fields.Numeric("Income Change", digits=(16, 2),
        readonly=True, help="Income - previous income.")
    costs_change = fields.Numeric("Costs Change", digits=(16, 2),
        readonly=True, help="Costs - previous costs.")
    result_change = fields.Numeric("Result Change", digits=(16, 2),
        readonly=True, help="Result - previous result.")
    income_change_year = fields.Numeric("Income Change on a Year",
        digits=(16, 2), readonly=True, help="Income - income a year ago.")
    costs_change_year = fields.Numeric("Costs Change on a Year",
        digits=(16, 2), readonly=True, help="Costs - costs a year ago.")
    result_change_year = fields.Numeric("Result Change on a Year",
        digits=(16, 2), readonly=True, help="Result - result a year ago.")

    income_change_percent = fields.Function(fields.Numeric(
            "Income Change (%)", digits=(16, 2),
            help="The income change relative to the previous income; "
            "empty when there was none."), 'get_percent')
    costs_change_percent = fields.Function(fields.Numeric(
            "Costs Change (%)", digits=(16, 2),
            help="The costs change relative to the previous costs; "
            "empty when there were none."), 'get_percent')
    result_change_percent = fields.Function(fields.Numeric(
            "Result Change (%)", digits=(16, 2),
            help="The result change relative to the size of the previous "
            "result (a smaller loss is a rise); empty when it was 0."),
        'get_percent')
    income_change_year_percent = fields.Function(fields.Numeric(
            "Income Change on a Year (%)", digits=(16, 2),
            help="The income change relative to the income a year ago; "
            "empty when there was none."), 'get_percent')
    costs_change_year_percent = fields.Function(fields.Numeric(
            "Costs Change on a Year (%)", digits=(16, 2),
            help="The costs change relative to the costs a year ago; "
            "empty when there were none."), 'get_percent')
    result_change_year_percent = fields.Function(fields.Numeric(
            "Result Change on a Year (%)", digits=(16, 2),
            help="The result change relative to the size of the result a "
            "year ago (a smaller loss is a rise); empty when it was 0."),
        'get_percent')

    order_income_change_percent = _order_percent('income_change_percent')
    order_costs_change_percent = _order_percent('costs_change_percent')
    order_result_change_percent = _order_percent('result_change_percent')
    order_income_change_year_percent = _order_percent(
        'income_change_year_percent')
    order_costs_change_year_percent = _order_percent(
        'costs_change_year_percent')
    order_result_change_year_percent = _order_percent(
        'result_change_year_percent')

    @classmethod
    def periods(cls):
        """[(from, to)] of the context's period, the previous one and the
        year-ago one; the current month without a context"""
        context = Transaction().context
        from_date, to_date = context.get('from_date'), context.get('to_date')
        if not from_date or not to_date:
            from_date, to_date = default_period(
                Pool().get('ir.date').today())
        previous, year_ago = comparison_periods(from_date, to_date)
        return [(from_date, to_date), previous, year_ago]

    @classmethod
    def _figures(cls, sums, keys):
        """The view's columns from a query of keys and the income and costs
        sums of each period (named as the fields): results and changes
        derived from them"""
        def figure(period, name):
            if name == 'result':
                return (Column(sums, period + 'income')
                    - Column(sums, period + 'costs'))
            return Column(sums, period + name)
        columns = [sums.id.as_('id')] + [Column(sums, k).as_(k) for k in keys]
        for period in PERIODS:
            for name in FIGURES:
                columns.append(figure(period, name).as_(period + name))
        for suffix, period in CHANGES:
            for name in FIGURES:
                columns.append((figure('', name) - figure(period, name)
                        ).as_(name + suffix))
        return sums.select(*columns)

    @classmethod
    def get_percent(cls, rows, names):
        result = {}
        for name in names:
            change, base = PERCENTS[name]
            result[name] = {r.id: percent(getattr(r, change), getattr(r, base))
                for r in rows}
        return result


class Comparison(ComparisonMixin, ModelSQL, ModelView):
    """Income and Costs

    A client's income and costs in a currency, in a period and in the two
    it is compared with"""
    __name__ = 'portal.report.comparison'
    __string__ = "Income and Costs"

    client = fields.Many2One('party.party', "Client", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('client', 'ASC'), ('currency', 'ASC'), ('id', 'ASC')]

    @classmethod
    def sums_query(cls):
        """The income and costs of each period per client and currency,
        from the report layer; a row for whoever had a document in one of
        the periods"""
        pool = Pool()
        ReportLine = pool.get('portal.report.line')
        Party = pool.get('party.party')
        line = ReportLine.__table__()
        party = Party.__table__()
        untaxed = ReportLine.untaxed.sql_cast(line.untaxed)
        columns = [
            # The groups are disjoint: their smallest ids are unique
            Min(line.id).as_('id'),
            line.company.as_('company'),
            line.client.as_('client'),
            party.portal_manager.as_('manager'),
            line.currency.as_('currency'),
            ]
        periods = []
        for period, (start, end) in zip(PERIODS, cls.periods()):
            within = (line.date >= start) & (line.date <= end)
            periods.append(within)
            for name, direction in [('income', 'income'), ('costs', 'cost')]:
                columns.append(Sum(Case(
                            (within & (line.direction == direction),
                                untaxed),
                            else_=0)).as_(period + name))
        return line.join(party, condition=line.client == party.id
            ).select(*columns, where=Or(periods),
                group_by=[line.company, line.client, party.portal_manager,
                    line.currency])

    @classmethod
    def table_query(cls):
        return cls._figures(cls.sums_query(),
            ['company', 'client', 'manager', 'currency'])


class ComparisonManager(ComparisonMixin, ModelSQL, ModelView):
    """Income and Costs per Manager

    The income and costs of the clients a manager looks after, summed per
    currency; the clients without a manager as a row of their own"""
    __name__ = 'portal.report.comparison.manager'
    __string__ = "Income and Costs per Manager"

    client_count = fields.Integer("Clients", readonly=True,
        help="The clients with a document in one of the periods.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('manager', 'ASC'), ('currency', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        Comparison = Pool().get('portal.report.comparison')
        clients = Comparison.sums_query()
        sums = [Sum(Column(clients, p + n)).as_(p + n)
            for p in PERIODS for n in ['income', 'costs']]
        keys = [clients.company, clients.manager, clients.currency]
        query = clients.select(
            Min(clients.id).as_('id'), *(k.as_(k.name) for k in keys),
            Count(clients.id).as_('client_count'), *sums,
            group_by=keys)
        return cls._figures(query,
            ['company', 'manager', 'currency', 'client_count'])
