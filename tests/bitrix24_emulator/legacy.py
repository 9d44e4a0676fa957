"""The legacy CRM methods still current (facts §5.3): crm.company.*,
crm.contact.*, crm.duplicate.findbycomm, crm.timeline.comment.*.

Parameter names are case-insensitive (the legacy service upper-cases them);
ids and values come back as strings, money with two decimals; errors have
an empty code. PHONE/EMAIL/WEB/IM entries without an ID are appended on
update (the duplicate trap of §5.3); with an ID they overwrite it, or
delete it with DELETE=Y or an empty VALUE. Lists take ORIGINATOR_ID /
ORIGIN_ID and the other fields in the filter (exact PHONE/EMAIL matches),
ignore unknown fields and do not know LOGIC.
"""
import re

from . import crm_fields, dates, filters, items
from .context import Listed
from .crm_fields import COMPANY, CONTACT, QUOTE
from .errors import RestError, legacy

ENTITY_NAMES = {'CONTACT': CONTACT, 'COMPANY': COMPANY}


def _upper(params):
    return {str(k).upper(): v for k, v in params.items()}


def _id(params):
    value = params.get('ID')
    try:
        return int(value)
    except (TypeError, ValueError):
        raise legacy('ID is not defined or invalid.')


def _fields(params):
    fields = params.get('FIELDS')
    if not isinstance(fields, dict):
        raise legacy("Parameter 'fields' must be array.")
    return {str(k).upper(): v for k, v in fields.items()}


def _existing(call, entity_type_id, item_id):
    try:
        return items.get(call.store, entity_type_id, item_id)
    except RestError:
        raise legacy('Not found')


def methods_for(entity_type_id, prefix):
    "crm.<prefix>.add/update/get/list/delete/fields for companies/contacts"

    def add(call, params):
        params = _upper(params)
        item = items.create(call.portal, entity_type_id, _fields(params),
            call.user_id, upper=True)
        return item['id']

    def update(call, params):
        params = _upper(params)
        item_id = _id(params)
        _existing(call, entity_type_id, item_id)
        items.update(call.portal, entity_type_id, item_id, _fields(params),
            call.user_id, upper=True)
        return True

    def get(call, params):
        params = _upper(params)
        item = _existing(call, entity_type_id, _id(params))
        return items.legacy_view(call.store, entity_type_id, item, full=True)

    def list_(call, params):
        params = _upper(params)
        resolve = items.resolver(call.store, entity_type_id, upper=True)
        predicate = filters.compile_filter(params.get('FILTER'), resolve)
        rows = [i for i in items.table(call.store, entity_type_id).values()
            if predicate(i)]
        rows = filters.order_rows(rows, params.get('ORDER'), resolve,
            default={'ID': 'ASC'})
        chunk, total, following = filters.page(rows,
            filters.start_of({'start': params.get('START')}))
        return Listed([items.legacy_view(call.store, entity_type_id, i,
                    params.get('SELECT')) for i in chunk], total, following)

    def delete(call, params):
        params = _upper(params)
        item_id = _id(params)
        _existing(call, entity_type_id, item_id)
        items.delete(call.portal, entity_type_id, item_id, call.user_id)
        return True

    def fields(call, params):
        specs = items.specs_of(call.store, entity_type_id)
        result = {}
        for spec in specs.values():
            if spec['type'] == 'crm_multifield':
                continue
            result[spec['upper']] = {'type': spec['type'] if spec['type']
                    != 'boolean' else 'char',
                'isRequired': spec['required'], 'isReadOnly': spec['ro'],
                'isImmutable': False, 'isMultiple': spec['multiple'],
                'isDynamic': spec['upper'].startswith('UF_'),
                'title': spec['title']}
        for type_id in items.LEGACY_MULTI[:4]:
            result[type_id] = {'type': 'crm_multifield', 'isRequired': False,
                'isReadOnly': False, 'isImmutable': False,
                'isMultiple': True, 'isDynamic': False, 'title': type_id}
        return result

    return {f'crm.{prefix}.add': (add, 'crm'),
        f'crm.{prefix}.update': (update, 'crm'),
        f'crm.{prefix}.get': (get, 'crm'),
        f'crm.{prefix}.list': (list_, 'crm'),
        f'crm.{prefix}.delete': (delete, 'crm'),
        f'crm.{prefix}.fields': (fields, 'crm')}


def _normal(type_id, value):
    if type_id == 'PHONE':
        return re.sub(r'[^0-9]', '', str(value))
    return str(value).strip().casefold()


def duplicate_findbycomm(call, params):
    "§5.3 ③; a type with 20 matches or more ends the answer"
    params = _upper(params)
    type_id = str(params.get('TYPE') or '').upper()
    if type_id not in ('PHONE', 'EMAIL'):
        raise legacy('Communication type is not supported')
    values = params.get('VALUES') or []
    if isinstance(values, dict):
        values = list(values.values())
    if not isinstance(values, list):
        values = [values]
    if len(values) > 20:
        raise legacy('Too many values: 20 at most')
    wanted = {_normal(type_id, v) for v in values if v not in (None, '')}
    kinds = ['LEAD', 'CONTACT', 'COMPANY']
    if params.get('ENTITY_TYPE'):
        kinds = [str(params['ENTITY_TYPE']).upper()]
    result = {}
    for kind in kinds:
        entity_type_id = ENTITY_NAMES.get(kind)
        if entity_type_id is None:
            continue
        found = [i['id'] for _, i in sorted(items.table(call.store,
                    entity_type_id).items())
            if any(m['typeId'] == type_id and _normal(type_id, m['value'])
                in wanted for m in i.get('_fm', []))]
        if found:
            result[kind] = found
            if len(found) >= 20:
                break
    return result


def _timeline_owner(call, entity_type, entity_id):
    entity_type = str(entity_type or '').lower()
    known = {'company': COMPANY, 'contact': CONTACT, 'quote': QUOTE}
    entity_type_id = known.get(entity_type)
    if entity_type.startswith('dynamic_'):
        try:
            entity_type_id = int(entity_type[len('dynamic_'):])
        except ValueError:
            pass
    if entity_type_id is None or crm_fields.fields_of(call.store,
            entity_type_id) is None:
        raise RestError('NOT_FOUND', 'Entity type not found', 400)
    items.get(call.store, entity_type_id, entity_id)
    return entity_type


def timeline_comment_add(call, params):
    "§5.3: the key must be lower-case `fields` (crm 23.100.0)"
    fields = params.get('fields')
    if not isinstance(fields, dict):
        raise legacy("Parameter 'fields' must be array.")
    fields = {str(k).upper(): v for k, v in fields.items()}
    for name in ('ENTITY_ID', 'ENTITY_TYPE', 'COMMENT'):
        if fields.get(name) in (None, ''):
            raise legacy(f'Required field {name} is missing.')
    entity_type = _timeline_owner(call, fields['ENTITY_TYPE'],
        fields['ENTITY_ID'])
    comment_id = call.store.next_id('timeline')
    call.store.timeline[comment_id] = {'ID': str(comment_id),
        'CREATED': dates.iso(call.now()),
        'ENTITY_ID': str(int(fields['ENTITY_ID'])),
        'ENTITY_TYPE': entity_type, 'AUTHOR_ID': str(call.user_id),
        'COMMENT': str(fields['COMMENT']), 'FILES': []}
    call.fire('ONCRMTIMELINECOMMENTADD', {'ID': comment_id})
    return comment_id


def timeline_comment_list(call, params):
    params = _upper(params)
    predicate = filters.compile_filter(params.get('FILTER'),
        lambda f: (lambda c: [c.get(str(f).upper())],
            lambda v: None if v in (None, '') else str(v).casefold()))
    rows = [dict(c) for _, c in sorted(call.store.timeline.items())
        if predicate(c)]
    chunk, total, following = filters.page(rows,
        filters.start_of({'start': params.get('START')}))
    return Listed(chunk, total, following)


METHODS = {
    **methods_for(COMPANY, 'company'),
    **methods_for(CONTACT, 'contact'),
    'crm.duplicate.findbycomm': (duplicate_findbycomm, 'crm'),
    'crm.timeline.comment.add': (timeline_comment_add, 'crm'),
    'crm.timeline.comment.list': (timeline_comment_list, 'crm'),
    }
