"""PHP's view of request and answer data, as the Bitrix24 server has it.

- `parse_str`: form bodies and query strings in bracket notation
  (``fields[TITLE]=x&select[]=ID``), facts §2 and §4: every value a string,
  numeric keys integers, ``[]`` appends;
- `dumps`: json_encode of a PHP array: keys 0..n-1 in order make a JSON list,
  an empty array is ``[]`` never ``{}`` (§2 "PHP serialization quirks"), and
  ``/`` is escaped as ``\\/``;
- `build_query`: http_build_query, for the outbound event POSTs (§8).
"""
import json
import re
from urllib.parse import parse_qsl, quote

_INT_KEY = re.compile(r'-?(0|[1-9][0-9]*)\Z')


def php_key(key):
    "A PHP array key: canonical decimal strings become integers"
    if isinstance(key, str) and _INT_KEY.match(key):
        return int(key)
    return key


def _split_name(name):
    """'fields[fm][n0][value]' -> ['fields', 'fm', 'n0', 'value']; PHP turns
    '.' and ' ' of the base name into '_'"""
    start = name.find('[')
    if start <= 0:
        return [name.replace('.', '_').replace(' ', '_')] if name else []
    base = name[:start].replace('.', '_').replace(' ', '_')
    parts = [base]
    rest = name[start:]
    while rest.startswith('['):
        end = rest.find(']')
        if end < 0:
            break
        parts.append(rest[1:end])
        rest = rest[end + 1:]
    return parts


def _assign(target, parts, value):
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == '' and index > 0:
            ints = [k for k in target if isinstance(k, int)]
            part = max(ints) + 1 if ints else 0
        else:
            part = php_key(part)
        if last:
            target[part] = value
        else:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]


def as_lists(value):
    "Arrays keyed 0..n-1 in order become lists, recursively"
    if isinstance(value, dict):
        converted = {k: as_lists(v) for k, v in value.items()}
        keys = [php_key(k) for k in converted]
        if keys and keys == list(range(len(keys))):
            return list(converted.values())
        return converted
    if isinstance(value, list):
        return [as_lists(v) for v in value]
    return value


def parse_str(query):
    "PHP parse_str: a nested dict (lists where keys are 0..n-1)"
    if isinstance(query, bytes):
        query = query.decode('utf-8', 'replace')
    result = {}
    for name, value in parse_qsl(query or '', keep_blank_values=True):
        parts = _split_name(name)
        if parts:
            _assign(result, parts, value)
    return as_lists(result)


def _php_value(value):
    if isinstance(value, dict):
        if not value:
            return []
        converted = {k: _php_value(v) for k, v in value.items()}
        keys = [php_key(k) for k in converted]
        if keys == list(range(len(keys))):
            return list(converted.values())
        return {str(k): v for k, v in converted.items()}
    if isinstance(value, (list, tuple)):
        return [_php_value(v) for v in value]
    return value


def dumps(value):
    "json_encode as PHP does it (without JSON_UNESCAPED_SLASHES)"
    text = json.dumps(_php_value(value), ensure_ascii=False)
    return text.replace('/', '\\/')


def _flatten(value, prefix):
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        if value is None:
            return
        if value is True:
            value = 1
        elif value is False:
            value = 0
        yield prefix, str(value)
        return
    for key, item in items:
        yield from _flatten(item, f'{prefix}[{key}]' if prefix else str(key))


def build_query(data):
    "PHP http_build_query: bracket notation, RFC 1738 encoding"
    return '&'.join(f'{quote(k, safe="")}={quote(v, safe="")}'.replace(
            '%20', '+') for k, v in _flatten(data, ''))
