"""Sub-accounts (C5): the balance of the client's money in each currency
and the movements of one of them, filtered by period, sorted and paged"""
from .access import portal_route
from .query import PER_PAGE, QueryArgs

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
    currency = None
    if filters.currency:
        subaccount, currency = by_code[filters.currency]
        page = _page(subaccount, filters)
        pages = filters.pages(page.count)
        if filters.errors.get('page'):
            page = _page(subaccount, filters)
    partial = request.headers.get('HX-Request') == 'true'
    template = ('subaccounts/results.html' if partial
        else 'subaccounts/list.html')
    return portal.render(template, filters=filters, cards=cards,
        currency=currency, movements=page, pages=pages,
        per_page_options=PER_PAGE)


def _page(subaccount, filters):
    return subaccount.movements(start=filters.start, end=filters.end,
        order=filters.sort, direction=filters.direction,
        offset=filters.offset, limit=filters.per_page)
