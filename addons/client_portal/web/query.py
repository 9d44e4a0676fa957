"""A table's query string, parsed for the portal's tables (documents,
invoices, sub-account movements): a value that cannot be used is dropped
from the search and reported next to its field; the form keeps what was
typed, and links keep the other values."""
import datetime
from decimal import Decimal, InvalidOperation

MAX_AMOUNT = Decimal('1e14')
PER_PAGE = (10, 25, 50, 100)


def escape_like(value):
    return (value.replace('\\', '\\\\').replace('%', '\\%')
        .replace('_', '\\_'))


class QueryArgs:
    "Parsing helpers and links of a table's query string"

    def __init__(self, args):
        self.raw = {k: v for k, v in args.items()}
        self.errors = {}
        self.domain = []

    def paging(self, sorts, default_sort, default_direction='desc'):
        self.sort = self._choice('sort', sorts, default_sort)
        self.direction = self._choice(
            'dir', ('asc', 'desc'), default_direction)
        self.per_page = self._int('per_page', 25, allowed=PER_PAGE)
        self.page = self._int('page', 1, minimum=1, maximum=10 ** 6)

    def pages(self, count):
        "The number of pages; a page past the last shows the last"
        pages = max(1, -(-count // self.per_page))
        if self.page > pages:
            self.errors['page'] = 'invalid'
            self.page = pages
        return pages

    @property
    def order(self):
        "The sorted column, then the id for a stable order"
        direction = self.direction.upper()
        return [(self.sort, direction), ('id', direction)]

    @property
    def offset(self):
        return (self.page - 1) * self.per_page

    def _value(self, name):
        return self.raw.get(name, '').strip()

    def _choice(self, name, choices, default):
        value = self._value(name)
        if not value:
            return default
        if value not in choices:
            self.errors[name] = 'invalid'
            return default
        return value

    def _int(self, name, default, minimum=None, maximum=None, allowed=None):
        value = self._value(name)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            number = None
        if (number is None or (allowed and number not in allowed)
                or (minimum is not None and number < minimum)
                or (maximum is not None and number > maximum)):
            self.errors[name] = 'invalid'
            return default
        return number

    def _date(self, name):
        value = self._value(name)
        if not value:
            return None
        try:
            date = datetime.date.fromisoformat(value)
        except ValueError:
            date = None
        if date is None or not (1900 <= date.year <= 2200):
            self.errors[name] = 'invalid'
            return None
        return date

    def _amount(self, name):
        value = self._value(name).replace(' ', '').replace(',', '.')
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() \
                or abs(amount) >= MAX_AMOUNT:
            self.errors[name] = 'invalid'
            return None
        return amount

    def filter_equal(self, name, field, values):
        "Search field = values[v] for the value v of name, if one of them"
        value = self._choice(name, list(values), None)
        if value:
            self.domain.append((field, '=', values[value]))

    def filter_range(self, field, low, high, parse):
        "Search field between the values of low and high, either optional"
        start, end = parse(low), parse(high)
        if start is not None:
            self.domain.append((field, '>=', start))
        if end is not None:
            self.domain.append((field, '<=', end))

    def query(self, **changes):
        "The query string with some values changed, for links"
        values = {k: v for k, v in self.raw.items()
            if v and k not in self.errors}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, '')}

    def sort_query(self, column):
        direction = 'asc'
        if self.sort == column and self.direction == 'asc':
            direction = 'desc'
        return self.query(sort=column, dir=direction, page=None)

    def page_numbers(self, pages):
        "First, last and the pages around the current one"
        around = range(max(1, self.page - 2), min(pages, self.page + 2) + 1)
        return sorted(set(around) | {1, pages})

    @property
    def active(self):
        ignored = {'tab', 'sort', 'dir', 'page', 'per_page'}
        return any(v for k, v in self.raw.items()
            if k not in ignored and k not in self.errors)


