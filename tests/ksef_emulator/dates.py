"""Dates as KSeF writes and reads them.

The API answers in UTC with an explicit offset; the UPO writes local Polish
time with milliseconds (as in the official examples); query filters accept
`Z`, an explicit offset, or no offset, which means Europe/Warsaw local time
(open-api.json, InvoiceQueryFilters.dateRange).
"""
import datetime as dt
import re
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo('Europe/Warsaw')


def now():
    return dt.datetime.now(dt.timezone.utc)


def api(value):
    "2025-07-11T12:23:56.015430+00:00"
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec='microseconds')


def upo(value):
    "2025-09-16T11:05:40.841+02:00"
    return value.astimezone(WARSAW).isoformat(timespec='milliseconds')


def local_day(value):
    "The Polish calendar day of an instant (the date in a KSeF number)"
    return value.astimezone(WARSAW).date()


def parse(text):
    """An ISO 8601 date-time of a request or of the store, timezone-aware.
    Raises ValueError on anything else."""
    if not isinstance(text, str) or 'T' not in text:
        raise ValueError(f'not an ISO 8601 date-time: {text!r}')
    text = text.strip()
    if text.endswith(('Z', 'z')):
        text = text[:-1] + '+00:00'
    # KSeF writes 7 fraction digits; fromisoformat takes at most 6
    head, sep, rest = text.partition('.')
    if sep:
        digits = re.match(r'\d*', rest).group()
        zone = rest[len(digits):]
        text = f'{head}.{(digits + "000000")[:6]}{zone}'
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=WARSAW)
    return value


def start_of_day(day):
    "A calendar date as the instant its Polish day begins"
    return dt.datetime.combine(day, dt.time(), tzinfo=WARSAW)
