"""Polish public holidays and business days, for the offline invoices'
deadline (facts: POLAND.md §3.5: the next business day after the issue).

Computed here (the `holidays` package is not a dependency): the statutory
list of the Act of 18 January 1951 on public holidays, with the Easter-based
ones and Christmas Eve (a holiday since 2025)."""
import datetime
import functools

# (month, day) of the fixed-date holidays
FIXED = [(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11),
    (12, 25), (12, 26)]


def easter(year):
    "Easter Sunday of the Gregorian calendar (Meeus/Jones/Butcher)"
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


@functools.lru_cache(maxsize=32)
def polish_holidays(year):
    "The public holidays (days off work) of the year"
    days = {datetime.date(year, month, day) for month, day in FIXED}
    if year >= 2025:
        days.add(datetime.date(year, 12, 24))
    sunday = easter(year)
    days.add(sunday)
    # Easter Monday, Pentecost Sunday, Corpus Christi
    for offset in (1, 49, 60):
        days.add(sunday + datetime.timedelta(days=offset))
    return frozenset(days)


def is_business_day(day):
    return day.weekday() < 5 and day not in polish_holidays(day.year)


def next_business_day(day):
    "The first business day after day"
    day += datetime.timedelta(days=1)
    while not is_business_day(day):
        day += datetime.timedelta(days=1)
    return day
