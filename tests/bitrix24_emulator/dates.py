"""Dates as the portal writes them: ISO 8601 with the portal's offset, the
portal being in Europe/Warsaw (+01:00 in winter, +02:00 in summer), facts
§2 `time` and §10.4.

A `date` field comes back as the datetime of 00:00 UTC of that day in the
portal's offset ("2024-06-18T02:00:00+02:00"), as S:rest_util.php
ConvertDate does (§10.4).
"""
import datetime as dt
from zoneinfo import ZoneInfo

PORTAL_TZ = ZoneInfo('Europe/Warsaw')


def iso(timestamp):
    "A unix time as the portal writes it"
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, PORTAL_TZ).isoformat(
        timespec='seconds')


def iso_date(day):
    "A 'YYYY-MM-DD' date field as the REST answers give it"
    if not day:
        return None
    midnight = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)
    return midnight.astimezone(PORTAL_TZ).isoformat(timespec='seconds')


def parse(value):
    """A unix time from what clients send: ISO 8601 with or without offset
    (without: portal time), 'YYYY-MM-DD', or the site format
    'DD.MM.YYYY[ HH:MM:SS]'; None when it is none of them"""
    if value is None or value == '' or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        moment = None
        for pattern in ('%d.%m.%Y %H:%M:%S', '%d.%m.%Y'):
            try:
                moment = dt.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PORTAL_TZ)
    return moment.timestamp()


def to_day(value):
    """The day ('YYYY-MM-DD') a client means by a date value: a bare date
    as is, a datetime by its UTC day (the way date fields are written)"""
    if value is None or value == '':
        return None
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    timestamp = parse(text)
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date(
        ).isoformat()
