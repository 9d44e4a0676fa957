"""batch (facts §4; S:rest_provider.php methodsBatch, S:rest_util.php).

``cmd`` is an object or a list of ``"method?query"`` strings, the query in
bracket notation; ``halt`` stops after the first failing command (later ones
are simply absent). Commands past the 50th get ERROR_BATCH_LENGTH_EXCEEDED,
a nested batch ERROR_BATCH_METHOD_NOT_ALLOWED; the batch itself answers 200.
``$result[key][field]...`` refers to an earlier successful command: a whole
value becomes the raw referenced value (even an array or an int), a
reference inside a longer string is replaced only by a string value;
anything unresolved stays as written. Each command runs with the caller's
auth and counts against its own method's operating time; the batch counts
once in the leaky bucket.
"""
import re

from . import php
from .errors import RestError

MAX_COMMANDS = 50
NOT_IN_BATCH = {'batch', 'download', 'upload'}
REFERENCE = re.compile(r'\$result\[([^\]]+)\]((?:\[[^\]]*\])*)')
_MISSING = object()


def _follow(results, key, path):
    key = php.php_key(key)
    if key not in results:
        return _MISSING
    value = results[key]
    for part in re.findall(r'\[([^\]]*)\]', path):
        if isinstance(value, dict):
            if part in value:
                value = value[part]
            elif php.php_key(part) in value:
                value = value[php.php_key(part)]
            else:
                return _MISSING
        elif isinstance(value, list) and part.isdigit() and \
                int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def substitute(value, results):
    "References to earlier results replaced, as processBatchElement does"
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if not isinstance(value, str) or '$result[' not in value:
        return value
    whole = REFERENCE.fullmatch(value)
    if whole:
        found = _follow(results, whole.group(1), whole.group(2))
        return value if found is _MISSING else found

    def embedded(match):
        found = _follow(results, match.group(1), match.group(2))
        return found if isinstance(found, str) else match.group(0)
    return REFERENCE.sub(embedded, value)


def _commands(cmd):
    if isinstance(cmd, dict):
        return list(cmd.items())
    if isinstance(cmd, list):
        return list(enumerate(cmd))
    return []


def _truthy(value):
    "PHP (bool): '0', '' and 0 are false, even 'false' is true"
    return value not in (None, False, 0, '0', '', [], {})


def batch(call, params):
    params = {str(k).upper(): v for k, v in params.items()}
    halt = _truthy(params.get('HALT'))
    results, failures, totals, nexts, times = {}, {}, {}, {}, {}
    for index, (key, command) in enumerate(_commands(params.get('CMD'))):
        key = php.php_key(key)
        try:
            if index >= MAX_COMMANDS:
                raise RestError('ERROR_BATCH_LENGTH_EXCEEDED',
                    'Max batch length exceeded', 400)
            path, _, query = str(command).partition('?')
            method = path.strip().strip('/').lower()
            for suffix in ('.json', '.xml'):
                if method.endswith(suffix):
                    method = method[:-len(suffix)]
            if method in NOT_IN_BATCH:
                call.portal.record(method, {}, 405,
                    'ERROR_BATCH_METHOD_NOT_ALLOWED', in_batch=True)
                raise RestError('ERROR_BATCH_METHOD_NOT_ALLOWED',
                    'Method is not allowed for batch usage', 405)
            sub_params = substitute(php.parse_str(query), results)
            outcome = call.portal.execute(call.caller, method, sub_params,
                in_batch=True)
        except RestError as e:
            failures[key] = e.body()
            if halt:
                break
            continue
        results[key] = outcome['result']
        times[key] = outcome['time']
        if 'total' in outcome:
            totals[key] = outcome['total']
        if 'next' in outcome:
            nexts[key] = outcome['next']
    return {'result': results, 'result_error': failures,
        'result_total': totals, 'result_next': nexts, 'result_time': times}


METHODS = {'batch': (batch, None)}
