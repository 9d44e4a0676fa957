"""Parsing of the portal's document forms (the client's invoices, its cost
invoices): each field as typed, an error message per field, and the lines
posted as lines-<n>-<field>. The forms subclass FormParser with their
own line class, fields and messages."""
import datetime
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from trytond.i18n import gettext

MAX_LINES = 100
MAX_AMOUNT = Decimal('1e12')
LINE_KEY = re.compile(r'^lines-(\d+)-(\w+)$')


class TypedLine:
    "One line as typed; a form's line class adds what it computes"
    # The fields whose emptiness makes a blank line, ignored
    FILLED = ('product', 'description', 'quantity', 'price')

    def __init__(self, index, raw):
        self.index = index
        self.raw = raw
        self.errors = {}

    @property
    def blank(self):
        return not any((self.raw.get(k) or '').strip() for k in self.FILLED)

    def value(self, name):
        return self.raw.get(name) or ''


class FormParser:
    """What a form needs from self: raw (the posted fields), errors (a
    dictionary), and for the lines LINE_CLASS, LINE_FIELDS, NO_LINES (the
    message id) and _parse_line(line)"""
    LINE_CLASS = TypedLine
    LINE_FIELDS = ()
    NO_LINES = 'msg_invoice_no_lines'

    def _value(self, name):
        return (self.raw.get(name) or '').strip()

    def _error(self, name, message_id, **kwargs):
        self.errors.setdefault(
            name, gettext(f'client_portal.{message_id}', **kwargs))

    def _required(self, name, required):
        value = self._value(name)
        if not value and required:
            self._error(name, 'msg_field_required')
        return value

    def _choice(self, name, choices, required=True):
        value = self._required(name, required)
        if not value:
            return None
        if value not in choices:
            self._error(name, 'msg_invalid_choice')
            return None
        return value

    def _id(self, name, records, required=True):
        value = self._required(name, required)
        if not value:
            return None
        try:
            id_ = int(value)
        except ValueError:
            id_ = None
        if id_ not in records:
            self._error(name, 'msg_invalid_choice')
            return None
        return id_

    def _date(self, name, required=True):
        value = self._required(name, required)
        if not value:
            return None
        try:
            date = datetime.date.fromisoformat(value)
        except ValueError:
            date = None
        if date is None or not (2006 <= date.year < 2050):
            self._error(name, 'msg_field_invalid_date')
            return None
        return date

    def _number(self, line, name, exp, error):
        "A line's decimal field, at most exp's decimals, else an error"
        value = line.value(name).strip().replace(' ', '').replace(
            '\xa0', '').replace(',', '.')
        if not value:
            error(name, 'msg_field_required')
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() \
                or abs(number) >= MAX_AMOUNT:
            error(name, 'msg_field_invalid_number')
            return None
        if number != number.quantize(exp, rounding=ROUND_HALF_UP):
            error(name, 'msg_field_too_many_decimals',
                digits=-exp.as_tuple().exponent)
            return None
        return number

    def _parse_lines(self):
        "The posted lines but the blank and the removed one, each parsed"
        rows = defaultdict(dict)
        for key, value in self.raw.items():
            match = LINE_KEY.match(key)
            if match and match.group(2) in self.LINE_FIELDS:
                index = int(match.group(1))
                if index < 10 * MAX_LINES:
                    rows[index][match.group(2)] = value
        removed = self._value('remove_line')
        lines = [self.LINE_CLASS(i, rows[i]) for i in sorted(rows)
            if str(i) != removed]
        lines = [l for l in lines if not l.blank]
        if len(lines) > MAX_LINES:
            self._error('lines', 'msg_invoice_too_many_lines',
                count=MAX_LINES)
            lines = lines[:MAX_LINES]
        for line in lines:
            self._parse_line(line)
        self.lines = lines
        if not lines:
            self._error('lines', self.NO_LINES)
