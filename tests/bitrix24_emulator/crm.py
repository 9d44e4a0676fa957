"""crm.item.* and the CRM's reference data: crm.type.*, crm.category.*,
crm.status.list, crm.currency.list (facts §5.1, §5.2).

crm.item.* serves quotes (7), the smart processes of crm.type.list, and
companies (4) and contacts (3). Answers wrap rows as the portal does:
``{item}``, ``{items}``, ``{fields}``, ``{types}``, ``{categories}``;
crm.item.list pages by 50 with ``total``/``next``, filters with the prefix
grammar and ``logic: "OR"`` (an unknown filter field is a 400
INVALID_ARG_VALUE), and returns ``fm`` only for ``select: ["*"]``.
"""
from . import crm_fields, dates, filters, items
from .context import Listed
from .errors import RestError, access_denied, not_found

CURRENCIES = [
    ('PLN', 'Złoty polski', '# zł', 'Y', 100),
    ('EUR', 'Euro', '# €', 'N', 200),
    ('USD', 'Dolar amerykański', '$#', 'N', 300),
    ]


def _original_uf(params):
    return str(params.get('useOriginalUfNames', 'N')).upper() == 'Y'


def _fields_param(params):
    fields = params.get('fields')
    return fields if isinstance(fields, dict) else {}


def item_add(call, params):
    entity_type_id = items.entity_type_of(params)
    item = items.create(call.portal, entity_type_id, _fields_param(params),
        call.user_id)
    return {'item': items.view(call.store, entity_type_id, item,
            original_uf=_original_uf(params))}


def item_update(call, params):
    entity_type_id = items.entity_type_of(params)
    items.specs_of(call.store, entity_type_id)
    item = items.update(call.portal, entity_type_id, params.get('id'),
        _fields_param(params), call.user_id)
    return {'item': items.view(call.store, entity_type_id, item,
            original_uf=_original_uf(params))}


def item_get(call, params):
    entity_type_id = items.entity_type_of(params)
    items.specs_of(call.store, entity_type_id)
    item = items.get(call.store, entity_type_id, params.get('id'))
    return {'item': items.view(call.store, entity_type_id, item,
            original_uf=_original_uf(params))}


def item_list(call, params):
    store = call.store
    entity_type_id = items.entity_type_of(params)
    items.specs_of(store, entity_type_id)
    resolve = items.resolver(store, entity_type_id)
    predicate = filters.compile_filter(params.get('filter'), resolve,
        nested=True, strict=True)
    rows = [i for i in items.table(store, entity_type_id).values()
        if predicate(i)]
    rows = filters.order_rows(rows, params.get('order'), resolve,
        default={'id': 'ASC'}, strict=True)
    chunk, total, following = filters.page(rows, filters.start_of(params))
    select = params.get('select')
    return Listed({'items': [items.view(store, entity_type_id, i, select,
                    _original_uf(params)) for i in chunk]},
        total, following)


def item_delete(call, params):
    entity_type_id = items.entity_type_of(params)
    items.delete(call.portal, entity_type_id, params.get('id'), call.user_id)
    return []


def fields_answer(specs, entity_type_id, original_uf=False):
    result = {}
    for name, spec in specs.items():
        key = spec['upper'] if original_uf and name.startswith('ufCrm') \
            else name
        result[key] = {'type': spec['type'], 'isRequired': spec['required'],
            'isReadOnly': spec['ro'], 'isImmutable': spec['immutable'],
            'isMultiple': spec['multiple'],
            'isDynamic': name.startswith('ufCrm'), 'title': spec['title'],
            'upperName': spec['upper']}
        if spec['type'] == 'crm_status':
            result[key]['statusType'] = spec['status_type'] or (
                'QUOTE_STATUS' if entity_type_id == crm_fields.QUOTE
                else f'DYNAMIC_{entity_type_id}_STAGE')
    return result


def item_fields(call, params):
    entity_type_id = items.entity_type_of(params)
    specs = items.specs_of(call.store, entity_type_id)
    return {'fields': fields_answer(specs, entity_type_id,
            _original_uf(params))}


# Smart-process types and categories

def type_view(smart):
    return dict(smart)


def _type_resolve(field):
    return (lambda t: [t.get(field)],
        lambda v: crm_fields.comparable({'type': 'string'}, v))


def type_list(call, params):
    predicate = filters.compile_filter(params.get('filter'), _type_resolve)
    types = [type_view(t) for _, t in sorted(call.store.types.items())
        if predicate(t)]
    types = filters.order_rows(types, params.get('order'), _type_resolve)
    chunk, total, following = filters.page(types, filters.start_of(params))
    return Listed({'types': chunk}, total, following)


def _type_by_id(store, type_id):
    for smart in store.types.values():
        if str(smart['id']) == str(type_id):
            return smart
    raise not_found('Smart process not found')


def type_get(call, params):
    return {'type': type_view(_type_by_id(call.store, params.get('id')))}


def type_get_by_entity_type_id(call, params):
    smart = call.store.types.get(items.entity_type_of(params))
    if smart is None:
        raise not_found('Smart process not found')
    return {'type': type_view(smart)}


def type_add(call, params):
    "An administrator creates a smart process (default category and stages)"
    from . import seed
    if not call.is_admin:
        raise access_denied()
    fields = _fields_param(params)
    if not fields.get('title'):
        raise RestError('CRM_FIELD_ERROR_REQUIRED',
            'Field "Title" is required', 400)
    entity_type_id = fields.get('entityTypeId')
    smart = seed.add_smart_process(call.portal, fields.get('title'),
        int(entity_type_id) if entity_type_id else None, fields,
        call.user_id)
    return {'type': type_view(smart)}


def category_view(category):
    return {k: category[k] for k in ('id', 'name', 'sort', 'entityTypeId',
            'isDefault', 'originId', 'originatorId')}


def _categories_of(call, params):
    entity_type_id = items.entity_type_of(params)
    smart = call.store.types.get(entity_type_id)
    if smart is None or smart.get('isStagesEnabled') != 'Y':
        raise RestError('NOT_FOUND', 'Categories are not supported by '
            'this entity type', 400)
    return sorted((c for c in call.store.categories.values()
            if c['entityTypeId'] == entity_type_id),
        key=lambda c: (c['sort'], c['id']))


def category_list(call, params):
    rows = [category_view(c) for c in _categories_of(call, params)]
    return Listed({'categories': rows}, len(rows))


def category_get(call, params):
    for category in _categories_of(call, params):
        if str(category['id']) == str(params.get('id')):
            return {'category': category_view(category)}
    raise not_found('Category not found')


# Statuses and currencies (legacy rows of strings)

def _status_resolve(field):
    field = str(field).upper()
    return (lambda s: [s.get(field)],
        lambda v: None if v in (None, '') else str(v))


def status_list(call, params):
    predicate = filters.compile_filter(params.get('filter'), _status_resolve)
    rows = [s for s in call.store.statuses.values() if predicate(s)]
    rows = filters.order_rows(rows, params.get('order'), lambda f: (
            lambda s: [int(s[str(f).upper()]) if str(f).upper() in (
                'SORT', 'ID') else s.get(str(f).upper())], lambda v: v),
        default={'SORT': 'ASC'})
    chunk, total, following = filters.page(rows, filters.start_of(params))
    return Listed([dict(s) for s in chunk], total, following)


def currency_list(call, params):
    return [{'CURRENCY': code, 'AMOUNT_CNT': '1',
            'AMOUNT': '1.0000' if base == 'Y' else None, 'SORT': str(sort),
            'BASE': base, 'FULL_NAME': name, 'LID': 'pl',
            'FORMAT_STRING': fmt, 'DEC_POINT': ',', 'THOUSANDS_SEP': ' ',
            'DECIMALS': '2', 'DATE_UPDATE': dates.iso(call.now())}
        for code, name, fmt, base, sort in CURRENCIES]


METHODS = {
    'crm.item.add': (item_add, 'crm'),
    'crm.item.update': (item_update, 'crm'),
    'crm.item.get': (item_get, 'crm'),
    'crm.item.list': (item_list, 'crm'),
    'crm.item.delete': (item_delete, 'crm'),
    'crm.item.fields': (item_fields, 'crm'),
    'crm.type.list': (type_list, 'crm'),
    'crm.type.get': (type_get, 'crm'),
    'crm.type.getbyentitytypeid': (type_get_by_entity_type_id, 'crm'),
    'crm.type.add': (type_add, 'crm'),
    'crm.category.list': (category_list, 'crm'),
    'crm.category.get': (category_get, 'crm'),
    'crm.status.list': (status_list, 'crm'),
    'crm.currency.list': (currency_list, 'crm'),
    }
