"""Values to and from Bitrix24: the JSON bodies of single calls, the PHP
bracket notation of batch commands (§4), money (§10.5) and dates (§10.4)."""
import datetime
import json
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

# Where an empty value means "clear the field" in a batch command: the
# `fields` of add/update, which take "" for it (§4, §10.3 `observers: ""`)
CLEARABLE = 'fields'


def json_default(value):
    """What json.dumps cannot encode on its own. A Decimal becomes a JSON
    number: money has at most 15 significant digits, whose float prints
    back as the same digits. Times must carry their offset (§10.4)"""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        return _datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f'{type(value).__name__} is not JSON serializable')


def to_json(payload):
    "The body of a single call: exact types survive, unlike in batch (§4)"
    return json.dumps(payload, default=json_default,
        ensure_ascii=False).encode('utf-8')


def _datetime(value):
    if value.tzinfo is None or value.utcoffset() is None:
        # How Bitrix24 reads a time without offset is not documented
        raise ValueError(f'{value!r} has no UTC offset (§10.4)')
    return value.isoformat(timespec='seconds')


def _scalar(value):
    "One value of a batch command, as PHP's http_build_query prints it"
    if isinstance(value, bool):
        # PHP prints true/false as 1/0; Y/N fields take 'Y'/'N' strings
        return '1' if value else '0'
    if isinstance(value, Decimal):
        return format(value, 'f')
    if isinstance(value, float):
        return format(Decimal(repr(value)), 'f')
    if isinstance(value, datetime.datetime):
        return _datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (int, str)):
        return str(value)
    raise TypeError(f'{type(value).__name__} cannot go in a batch command')


def build_query(params):
    """`params` in PHP http_build_query bracket notation (§4):
    `{'fields': {'title': 'X', 'contactIds': [5]}}` gives
    `fields[title]=X&fields[contactIds][0]=5`. Keys keep their brackets as
    written in §4; values are fully percent-encoded, so `$result[k][id]`
    references reach the server's parse_str intact.

    Batch commands lose types (§4), so:
    - True/False are sent as 1/0, as PHP does;
    - None and empty lists/dicts have no form in the notation (PHP drops
      them). Under `fields` they are sent as "", the documented way to
      clear a field; anywhere else (a filter, the product rows) dropping
      them would change the meaning, so they raise ValueError: send such a
      call on its own, as JSON."""
    pairs = []
    for key, value in params.items():
        _flatten(pairs, quote(str(key), safe=''), value,
            clearable=str(key) == CLEARABLE)
    return '&'.join(f'{k}={quote(v, safe="")}' for k, v in pairs)


def _flatten(pairs, prefix, value, clearable, depth=0):
    empty = value is None or (isinstance(value, (dict, list, tuple))
        and not value)
    if empty:
        if clearable and depth > 0:
            pairs.append((prefix, ''))
            return
        raise ValueError(f'{prefix}: None and empty lists cannot be sent '
            'in a batch command (§4); send the call on its own')
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        pairs.append((prefix, _scalar(value)))
        return
    for key, item in items:
        _flatten(pairs, f'{prefix}[{quote(str(key), safe="")}]', item,
            clearable, depth + 1)


def to_decimal(value, digits=2):
    """Money from Bitrix24: legacy methods send strings ("19999.99"),
    crm.item and product rows JSON floats (999.99); through str() both keep
    their printed digits (§10.5). None and "" are None"""
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        raise TypeError('a bool is not an amount')
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits),
        rounding=ROUND_HALF_UP)


def parse_datetime(value):
    """An aware datetime from Bitrix24's ISO 8601 with the portal's offset
    (§10.4); None and "" are None. A time without an offset raises
    ValueError: which time zone Bitrix24 meant is not documented"""
    if value is None or value == '':
        return None
    if isinstance(value, datetime.datetime):
        result = value
    else:
        result = datetime.datetime.fromisoformat(str(value))
    if result.tzinfo is None or result.utcoffset() is None:
        raise ValueError(f'{value!r} has no UTC offset (§10.4)')
    return result


def to_date(value):
    """The date of a `date` field: Bitrix24 sends it as 00:00 UTC of that
    date in the portal's offset ("2024-06-18T02:00:00+02:00"), so the date
    is taken in UTC, never from the string's prefix, which a negative
    offset breaks (§10.4). A plain "YYYY-MM-DD" is that date"""
    if value is None or value == '':
        return None
    if isinstance(value, str) and len(value) == 10:
        return datetime.date.fromisoformat(value)
    return parse_datetime(value).astimezone(datetime.timezone.utc).date()


def mask(text, secrets):
    "`text` with each secret (webhook code, tokens) replaced by ***"
    text = str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, '***')
    return text
