"""Polish public holidays (ustawa o dniach wolnych od pracy, with 24
December free since 2025): the days a deadline in working days skips
besides Saturdays and Sundays."""
import datetime
import functools

# (month, day) free every year
FIXED = [(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11),
    (12, 25), (12, 26)]
# Christmas Eve is free from 2025 on
CHRISTMAS_EVE_FROM = 2025


def easter(year):
    "Easter Sunday of the Gregorian calendar (the anonymous algorithm)"
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


@functools.lru_cache(maxsize=32)
def public_holidays(year):
    sunday = easter(year)
    days = {datetime.date(year, m, d) for m, d in FIXED}
    if year >= CHRISTMAS_EVE_FROM:
        days.add(datetime.date(year, 12, 24))
    # Easter Monday and Corpus Christi; Easter and Pentecost are Sundays
    days.add(sunday + datetime.timedelta(days=1))
    days.add(sunday + datetime.timedelta(days=60))
    return frozenset(days)


def is_working_day(date):
    return date.weekday() < 5 and date not in public_holidays(date.year)


def add_working_days(start, days):
    "The day `days` working days after start"
    date = start
    while days > 0:
        date += datetime.timedelta(days=1)
        if is_working_day(date):
            days -= 1
    return date
