"""The report layer summed (C5): income and costs per month of a year in
one currency, with their chart, and the paid documents per payment method
(the cash report); each table as XLSX or CSV, as on the page."""
import datetime
from decimal import Decimal

from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, abort

from .. import spreadsheet
from .access import portal_route
from .charts import bars
from .query import QueryArgs
from .reports import FORMATS, Choices, quarters

ZERO = Decimal(0)


class YearFilters(QueryArgs):
    "Year and currency of the monthly report"

    def __init__(self, args, choices, today):
        super().__init__(args)
        self.year = self._int('year', today.year, minimum=2000,
            maximum=today.year + 1)
        currencies = choices.currencies
        self.currency = self._choice('currency', list(currencies),
            'PLN' if 'PLN' in currencies else next(iter(currencies), None))
        self.domain = [
            ('date', '>=', datetime.date(self.year, 1, 1)),
            ('date', '<=', datetime.date(self.year, 12, 31)),
            ('currency', '=', currencies.get(self.currency, -1)),
            ]


class PeriodFilters(QueryArgs):
    "Period and currency of the cash report (this year by default)"

    def __init__(self, args, choices, today):
        super().__init__(args)
        self.start = self._date('from') or datetime.date(today.year, 1, 1)
        self.end = self._date('to') or today
        if self.start > self.end:
            self.errors['to'] = 'before_start'
            self.end = today
        currencies = choices.currencies
        self.currency = self._choice('currency', list(currencies),
            'PLN' if 'PLN' in currencies else None)
        self.domain = [('date', '>=', self.start), ('date', '<=', self.end),
            ('paid', '=', True)]
        if self.currency:
            self.domain.append(('currency', '=', currencies[self.currency]))


def month_names():
    return [gettext(f'client_portal.msg_month_{m}') for m in range(1, 13)]


def monthly_rows(Line, filters):
    """[(month name, income, costs, result)] of the twelve months and the
    year's total, the net amounts"""
    sums = Line.grouped(filters.domain, 'month')
    rows = []
    for month, name in enumerate(month_names(), 1):
        income = sums.get((month, 'income'), (0, ZERO, ZERO))[1]
        costs = sums.get((month, 'cost'), (0, ZERO, ZERO))[1]
        rows.append((name, income, costs, income - costs))
    return rows


def _today(portal):
    return portal.pool.get('portal.document').today()


@portal_route('/reports/monthly')
def monthly(request, portal):
    Line = portal.pool.get('portal.report.line')
    choices = Choices(portal.pool)
    filters = YearFilters(request.args, choices, _today(portal))
    rows = monthly_rows(Line, filters)
    currency = choices.currency_of.get(filters.currency)
    formatter = portal.formatter()
    labels = [gettext('client_portal.msg_report_income'),
        gettext('client_portal.msg_report_costs')]
    chart = bars([[r[1] for r in rows], [r[2] for r in rows]],
        [r[0][:3] for r in rows], lambda v: formatter.number(v, 0),
        [[f'{r[0]}: {label} {formatter.amount(r[k], currency)}'
                for r in rows] for k, label in ((1, labels[0]),
                (2, labels[1]))])
    years = list(range(_today(portal).year, _today(portal).year - 6, -1))
    return portal.render('reports/monthly.html', filters=filters,
        choices=choices, rows=rows, total=_sum(rows), currency=currency,
        chart=chart, legend=labels, years=years, formats=FORMATS,
        report_tab='reports/monthly')


def _sum(rows):
    return (gettext('client_portal.msg_label_total'),
        *(sum((r[k] for r in rows), ZERO) for k in (1, 2, 3)))


@portal_route('/reports/monthly.<format>')
def monthly_export(request, portal, format):
    Line = portal.pool.get('portal.report.line')
    choices = Choices(portal.pool)
    filters = YearFilters(request.args, choices, _today(portal))
    _check(format, filters)
    rows = monthly_rows(Line, filters)
    return _send(portal, format, 'monthly',
        ['month', 'income', 'costs', 'result'], rows, _sum(rows),
        f'{filters.year}_{filters.currency}', filters.currency)


def cash_rows(Line, filters, choices):
    """[(payment method, received count, received, paid out count, paid
    out)] of the paid documents, the gross amounts, by method"""
    sums = Line.grouped(filters.domain, 'payment_method')
    methods = sorted({m for m, _ in sums},
        key=lambda m: (m is None, list(choices.methods).index(m)
            if m in choices.methods else 0))
    unknown = gettext('client_portal.msg_report_no_method')
    rows = []
    for method in methods:
        received = sums.get((method, 'income'), (0, ZERO, ZERO))
        paid = sums.get((method, 'cost'), (0, ZERO, ZERO))
        rows.append((choices.methods.get(method, unknown), received[0],
                received[2], paid[0], paid[2]))
    return rows


def _cash_total(rows):
    return (gettext('client_portal.msg_label_total'),
        *(sum((r[k] for r in rows), 0 if k % 2 else ZERO)
            for k in (1, 2, 3, 4)))


@portal_route('/reports/cash')
def cash(request, portal):
    Line = portal.pool.get('portal.report.line')
    choices = Choices(portal.pool)
    filters = PeriodFilters(request.args, choices, _today(portal))
    rows = cash_rows(Line, filters, choices) if filters.currency else []
    return portal.render('reports/cash.html', filters=filters,
        choices=choices, rows=rows, total=_cash_total(rows),
        currency=choices.currency_of.get(filters.currency),
        periods=quarters(_today(portal)), formats=FORMATS,
        report_tab='reports/cash')


@portal_route('/reports/cash.<format>')
def cash_export(request, portal, format):
    Line = portal.pool.get('portal.report.line')
    choices = Choices(portal.pool)
    filters = PeriodFilters(request.args, choices, _today(portal))
    _check(format, filters)
    if not filters.currency:
        abort(HTTPStatus.BAD_REQUEST)
    rows = cash_rows(Line, filters, choices)
    return _send(portal, format, 'cash',
        ['payment_method', 'received_count', 'received', 'paid_out_count',
            'paid_out'], rows, _cash_total(rows),
        f'{filters.start}_{filters.end}_{filters.currency}', filters.currency)


def _check(format, filters):
    if format not in FORMATS:
        abort(HTTPStatus.NOT_FOUND)
    if filters.errors:
        abort(HTTPStatus.BAD_REQUEST)


def _send(portal, format, report, columns, rows, total, suffix, currency):
    """The summary's file: its columns' labels (msg_report_<column>), its
    rows and total; named and titled after the report"""
    header = [gettext(f'client_portal.msg_report_{c}') for c in columns]
    title = gettext(f'client_portal.msg_report_{report}_title')
    name = f"{gettext(f'client_portal.msg_report_{report}_filename')}" \
        f"_{suffix}.{format}"
    if format == 'csv':
        file = spreadsheet.text_file(spreadsheet.csv_lines(
                header, [*rows, total], portal.language))
    else:
        def write(book):
            sheet = book.sheet(title, header,
                [24] + [16] * (len(header) - 1))
            for row in rows:
                sheet.write(row, currency=currency)
            sheet.write(total, bold=True, currency=currency)
        file = spreadsheet.xlsx_file(write)
    return portal.file(file, name, format)
