"""Sub-accounts (C5): the balance of the client's money in each currency,
its chart over the period, and the movements of one of them, filtered by
period, sorted and paged; the movements as XLSX or CSV exactly as shown"""
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, abort

from .. import spreadsheet
from .access import portal_route
from .charts import line
from .query import PER_PAGE, QueryArgs

FORMATS = ('xlsx', 'csv')

SORTS = ('date', 'amount')


class Filters(QueryArgs):
    """The movements' query string: the sub-account's currency, the period
    (from, to), sort and page. A value that cannot be used is reported next
    to its field and ignored; the form keeps what was typed."""

    def __init__(self, args, currencies):
        super().__init__(args)
        default = 'PLN' if 'PLN' in currencies else next(
            iter(currencies), None)
        self.currency = self._choice('currency', currencies, default)
        self.paging(SORTS, 'date')
        self.start = self._date('from')
        self.end = self._date('to')
        if self.start and self.end and self.start > self.end:
            self.errors['to'] = 'before_start'
            self.end = None

    @property
    def active(self):
        return bool(self.start or self.end)


def balances(pool):
    """[(sub-account, currency, balance)] of the client (the record rules
    keep it to theirs), the balances in one query"""
    Subaccount = pool.get('portal.subaccount')
    Currency = pool.get('currency.currency')
    currency_of = Currency.portal_currencies()
    subaccounts = Subaccount.search([])
    amounts = Subaccount.get_balance(subaccounts, 'balance')
    cards = [(s, currency_of[s.currency.id], amounts[s.id])
        for s in subaccounts]
    return sorted(cards, key=lambda c: (c[1].code != 'PLN', c[1].code))


@portal_route('/subaccounts')
def subaccounts(request, portal):
    cards = balances(portal.pool)
    by_code = {currency.code: (subaccount, currency)
        for subaccount, currency, _ in cards}
    filters = Filters(request.args, list(by_code))
    page = None
    pages = 1
    currency = chart = None
    if filters.currency:
        subaccount, currency = by_code[filters.currency]
        page = _page(subaccount, filters)
        pages = filters.pages(page.count)
        if filters.errors.get('page'):
            page = _page(subaccount, filters)
        chart = _chart(portal, subaccount, currency, filters)
    partial = request.headers.get('HX-Request') == 'true'
    template = ('subaccounts/results.html' if partial
        else 'subaccounts/list.html')
    return portal.render(template, filters=filters, cards=cards,
        currency=currency, movements=page, pages=pages, chart=chart,
        per_page_options=PER_PAGE, formats=FORMATS)


def _chart(portal, subaccount, currency, filters):
    "The balance over the period, at the end of each day with movements"
    points = subaccount.daily_balances(filters.start, filters.end)
    if len(points) < 2:
        return None
    formatter = portal.formatter()
    return line([b for _, b in points],
        [formatter.date(d) for d, _ in points],
        lambda v: formatter.number(v, 0))


COLUMNS = ['date', 'document', 'counterparty', 'description', 'amount',
    'balance']


@portal_route('/subaccounts/export.<format>')
def export(request, portal, format):
    if format not in FORMATS:
        abort(HTTPStatus.NOT_FOUND)
    cards = balances(portal.pool)
    by_code = {currency.code: (subaccount, currency)
        for subaccount, currency, _ in cards}
    filters = Filters(request.args, list(by_code))
    if filters.errors or not filters.currency:
        abort(HTTPStatus.BAD_REQUEST)
    subaccount, currency = by_code[filters.currency]
    movements = subaccount.movements(start=filters.start, end=filters.end,
        order=filters.sort, direction=filters.direction)
    header = [gettext(f'client_portal.msg_movement_{c}') for c in COLUMNS]
    received = gettext('client_portal.msg_movement_received')
    paid_out = gettext('client_portal.msg_movement_paid_out')
    rows = [[m.date, m.document, m.counterparty,
            m.description or (received if m.amount >= 0 else paid_out),
            m.amount, m.balance] for m in movements.rows]
    name = f"{gettext('client_portal.msg_movement_filename')}" \
        f"_{currency.code}"
    if format == 'csv':
        file = spreadsheet.text_file(
            spreadsheet.csv_lines(header, rows, portal.language))
    else:
        def write(book):
            sheet = book.sheet(
                gettext('client_portal.msg_movement_title'),
                header, [11, 20, 30, 34, 14, 14])
            for row in rows:
                sheet.write(row, currency=currency.code)
        file = spreadsheet.xlsx_file(write)
    return portal.file(file, f'{name}.{format}', format)


def _page(subaccount, filters):
    return subaccount.movements(start=filters.start, end=filters.end,
        order=filters.sort, direction=filters.direction,
        offset=filters.offset, limit=filters.per_page)
