"""List methods: filter, order, select and paging (facts §2, §11.5).

Filter keys carry an operator prefix: ``>=``, ``>``, ``<=``, ``<``, ``@``
(IN), ``!@`` (NOT IN), ``%`` (contains), ``=%``/``%=`` (LIKE with % in the
value), ``!%``, ``!=%``/``!%=`` (NOT LIKE), ``=`` (default; a list means
IN), ``!=`` and ``!``. String comparisons ignore case, as the portal's MySQL
collation does. ``logic: "OR"`` with nested conditions is understood where
`nested` is allowed (crm.item.list only); elsewhere nested conditions and
LOGIC are ignored, like unknown fields of the legacy lists.

Pages are 50 rows; ``start`` is an offset; ``start=-1`` skips the count:
``total`` 0 and no ``next``.
"""
import re

from . import errors

PAGE = 50
PREFIXES = ('!=%', '!%=', '>=', '<=', '!@', '=%', '%=', '!%', '!=', '>', '<',
    '@', '%', '=', '!')


def split_key(key):
    "'>=updatedTime' -> ('>=', 'updatedTime')"
    for prefix in PREFIXES:
        if key.startswith(prefix):
            return prefix, key[len(prefix):]
    return '=', key


def _like(pattern):
    parts = [re.escape(p) for p in pattern.casefold().split('%')]
    return re.compile('.*'.join(p.replace('_', '.') for p in parts) + r'\Z',
        re.S)


def _values(value):
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else [value]


def _condition(op, getter, normalize, wanted):
    """A predicate on a record; `getter` gives a list of the record's
    values (one for a plain field), `normalize` makes them comparable"""
    if op in ('@', '!@') or (op in ('=', '!', '!=')
            and isinstance(wanted, (list, dict))):
        targets = {normalize(v) for v in _values(wanted)}
        negate = op != '@' and op != '='

        def test(record):
            found = any(normalize(v) in targets for v in getter(record))
            return found != negate
        return test
    if op in ('%', '!%', '=%', '%=', '!=%', '!%='):
        text = '' if wanted is None else str(wanted)
        matcher = _like(f'%{text}%' if op in ('%', '!%') else text)
        negate = op.startswith('!')

        def test(record):
            found = any(v is not None and matcher.match(str(v).casefold())
                for v in getter(record))
            return found != negate
        return test
    target = normalize(wanted)
    if op in ('=', '!', '!='):
        negate = op != '='

        def test(record):
            values = [normalize(v) for v in getter(record)]
            if target is None:
                found = not values or all(v is None for v in values)
            else:
                found = target in values
            return found != negate
        return test
    compare = {'>': lambda a, b: a > b, '>=': lambda a, b: a >= b,
        '<': lambda a, b: a < b, '<=': lambda a, b: a <= b}[op]

    def test(record):
        for value in getter(record):
            value = normalize(value)
            if value is None or target is None:
                continue
            try:
                if compare(value, target):
                    return True
            except TypeError:
                if compare(str(value), str(target)):
                    return True
        return False
    return test


def compile_filter(filter, resolve, nested=False, strict=False):
    """A predicate for `filter`; `resolve(field)` gives (getter, normalize)
    or None for an unknown field: an error when `strict`, else ignored"""
    if filter in (None, '', []):
        return lambda record: True
    if not isinstance(filter, dict):
        if isinstance(filter, list) and nested:
            filter = dict(enumerate(filter))
        else:
            raise errors.invalid_arg('Invalid filter: must be an array')
    tests = []
    logic = 'AND'
    for key, wanted in filter.items():
        key = str(key)
        if key.upper() == 'LOGIC':
            if nested:
                logic = str(wanted).upper()
            continue
        if isinstance(wanted, dict) and (key.isdigit() or not resolve(
                split_key(key)[1])):
            if nested:
                tests.append(compile_filter(wanted, resolve, nested, strict))
            continue
        op, field = split_key(key)
        resolved = resolve(field)
        if resolved is None:
            if strict:
                raise errors.invalid_arg(
                    f"Invalid filter: field '{field}' is not allowed in "
                    'filter')
            continue
        tests.append(_condition(op, *resolved, wanted))
    if logic == 'OR':
        return lambda record: any(t(record) for t in tests) if tests \
            else True
    return lambda record: all(t(record) for t in tests)


def order_rows(rows, order, resolve, default=None, strict=False):
    "Rows sorted by `order` {field: ASC|DESC}, stable, empty values first"
    if not order:
        order = default or {}
    if not isinstance(order, dict):
        if isinstance(order, list):
            order = {field: 'ASC' for field in order}
        else:
            raise errors.invalid_arg('Invalid order: must be an array')
    keys = []
    for field, direction in order.items():
        direction = str(direction).upper()
        if direction not in ('ASC', 'DESC'):
            raise errors.invalid_arg('Invalid order: allowed sort directions '
                'are ASC, DESC')
        resolved = resolve(field)
        if resolved is None:
            if strict:
                raise errors.invalid_arg(
                    f"Invalid order: field '{field}' is not allowed in order")
            continue
        keys.append((resolved, direction == 'DESC'))
    rows = list(rows)
    for (getter, normalize), descending in reversed(keys):
        def key(record, getter=getter, normalize=normalize):
            values = [normalize(v) for v in getter(record)]
            value = values[0] if values else None
            return (value is not None, _sortable(value))
        rows.sort(key=key, reverse=descending)
    return rows


def _sortable(value):
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def start_of(params):
    try:
        return int(float(params.get('start') or 0))
    except (TypeError, ValueError):
        return 0


def page(rows, start):
    "(page rows, total, next or None) for an offset `start`"
    if start == -1:
        return rows[:PAGE], 0, None
    start = max(start, 0)
    chunk = rows[start:start + PAGE]
    following = start + PAGE if start + PAGE < len(rows) else None
    return chunk, len(rows), following
