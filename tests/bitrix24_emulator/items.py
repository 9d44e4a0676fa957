"""CRM items: quotes (7), smart-process items, companies (4) and contacts
(3) in one shape, shared by crm.item.* (camelCase, facts §5.2), the legacy
crm.company.* / crm.contact.* (UPPER names, strings, §5.3) and the controls.

Unknown and read-only fields are silently ignored (§5.2). Stages follow the
item's category (SPA) or QUOTE_STATUS; a stage change sets previousStageId,
movedTime and movedBy. Every change fires its event (§8) — REST changes
too, so a bridge sees its own writes come back (``updatedBy`` tells).
"""
from . import crm_fields, events, productrows
from .crm_fields import COMPANY, CONTACT, QUOTE
from .errors import RestError

CURRENCIES = ('PLN', 'EUR', 'USD')
LEGACY_MULTI = ('PHONE', 'EMAIL', 'WEB', 'IM', 'LINK')


def specs_of(store, entity_type_id):
    specs = crm_fields.fields_of(store, entity_type_id)
    if specs is None:
        if entity_type_id == 5:
            raise RestError('ENTITY_TYPE_NOT_SUPPORTED',
                'Entity type 5 is not supported', 400)
        raise RestError('NOT_FOUND', 'Smart process not found', 400)
    return specs


def entity_type_of(params):
    value = params.get('entityTypeId', params.get('ENTITY_TYPE_ID'))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RestError('NOT_FOUND', 'Smart process not found', 400)


def table(store, entity_type_id):
    return store.items.setdefault(entity_type_id, {})


def get(store, entity_type_id, item_id, description='Element not found'):
    try:
        item = table(store, entity_type_id).get(int(item_id))
    except (TypeError, ValueError):
        item = None
    if item is None:
        raise RestError('NOT_FOUND', description, 400)
    return item


def _has_stages(store, entity_type_id):
    smart = store.types.get(entity_type_id)
    return entity_type_id == QUOTE or bool(
        smart and smart.get('isStagesEnabled') == 'Y')


def stage_entity(entity_type_id, category_id):
    if entity_type_id == QUOTE:
        return 'QUOTE_STATUS'
    return f'DYNAMIC_{entity_type_id}_STAGE_{category_id}'


def stages(store, entity_type_id, category_id):
    "The stage rows of a category, in order"
    entity = stage_entity(entity_type_id, category_id)
    return sorted((s for s in store.statuses.values()
            if s['ENTITY_ID'] == entity), key=lambda s: int(s['SORT']))


def default_category(store, entity_type_id):
    for category in store.categories.values():
        if category['entityTypeId'] == entity_type_id \
                and category['isDefault'] == 'Y':
            return category['id']


def _spec_for(specs, key, upper):
    "The field `key` names: camelCase, or UPPER when `upper` (legacy)"
    if upper:
        for spec in specs.values():
            if spec['upper'] == key:
                return spec
        return None
    spec = specs.get(key)
    if spec is None and key.startswith('UF_CRM_'):
        # useOriginalUfNames=Y (§5.2) or a client sending UPPER UF names
        for candidate in specs.values():
            if candidate['upper'] == key and candidate['name'].startswith(
                    'ufCrm'):
                return candidate
    return spec


def _assign(store, entity_type_id, item, fields, specs, upper):
    for key, value in fields.items():
        spec = _spec_for(specs, str(key), upper)
        if spec is None or spec['ro'] or spec['type'] == 'crm_multifield':
            continue
        if not crm_fields.enabled(store, entity_type_id, spec):
            continue
        item[spec['name']] = crm_fields.read(spec, value)


def _invalid(title):
    return RestError('CRM_FIELD_ERROR_VALUE_NOT_VALID',
        f'Invalid value of field "{title}"', 400)


def _settle(portal, entity_type_id, item, old, user_id):
    "Stages, links and amounts made consistent after a change"
    store = portal.store
    if _has_stages(store, entity_type_id):
        if entity_type_id != QUOTE:
            categories = {c['id'] for c in store.categories.values()
                if c['entityTypeId'] == entity_type_id}
            if item.get('categoryId') is None:
                item['categoryId'] = default_category(store, entity_type_id)
            elif item['categoryId'] not in categories:
                raise _invalid('Lejek')
        rows = stages(store, entity_type_id, item.get('categoryId'))
        by_id = {s['STATUS_ID']: s for s in rows}
        moved_category = old is not None and old.get('categoryId') != \
            item.get('categoryId')
        if not item.get('stageId') or (moved_category
                and item['stageId'] == old.get('stageId')):
            item['stageId'] = rows[0]['STATUS_ID']
        elif item['stageId'] not in by_id:
            raise _invalid('Etap')
        previous = old.get('stageId') if old else None
        if previous != item['stageId']:
            item['previousStageId'] = previous or ''
            item['movedTime'] = item['updatedTime']
            item['movedBy'] = user_id
        semantics = by_id[item['stageId']]['SEMANTICS'] or 'P'
        item['stageSemanticId'] = semantics
        if entity_type_id == QUOTE:
            item['closed'] = 'Y' if semantics in ('S', 'F') else 'N'
    if 'currencyId' in item and item['currencyId'] is not None and \
            item['currencyId'] not in CURRENCIES:
        raise _invalid('Waluta')
    for single, many in (('contactId', 'contactIds'),
            ('companyId', 'companyIds')):
        # The single link is the first of the list; setting it alone puts
        # it first
        if many not in item:
            continue
        many_changed = old is None or item.get(many) != old.get(many)
        single_changed = old is None or item.get(single) != old.get(single)
        if single_changed and item.get(single) and not (
                many_changed and item.get(many)):
            item[many] = [item[single]] + [i for i in item[many]
                if i != item[single]]
        item[single] = item[many][0] if item[many] else None
    if item.get('isManualOpportunity') != 'Y' and 'opportunity' in item \
            and productrows.rows_of(store, entity_type_id, item['id']):
        productrows.recompute(store, entity_type_id, item)


def _defaults(portal, entity_type_id, specs, item_id, user_id):
    store = portal.store
    now = crm_fields.dates.iso(portal.clock())
    item = {}
    for name, spec in specs.items():
        if spec['type'] == 'crm_multifield':
            continue
        item[name] = [] if spec['multiple'] else None
        if name.startswith('ufCrm') and spec['type'] == 'string':
            item[name] = ''
    item.update(id=item_id, entityTypeId=entity_type_id, createdBy=user_id,
        updatedBy=user_id, createdTime=now, updatedTime=now,
        assignedById=user_id, opened='N', _fm=[])
    if 'opportunity' in specs:
        item.update(opportunity=0.0, isManualOpportunity='N', taxValue=0.0,
            currencyId='PLN')
    smart = store.types.get(entity_type_id)
    if smart and smart.get('isBeginCloseDatesEnabled') == 'Y':
        today = crm_fields.dates.to_day(now)
        week = crm_fields.dates.to_day(crm_fields.dates.iso(
                portal.clock() + 7 * 86400))
        item.update(begindate=today, closedate=week)
    if entity_type_id in (COMPANY, CONTACT):
        item.update(opened='Y')
        if entity_type_id == CONTACT:
            item.update(export='Y')
        else:
            item.update(isMyCompany='N', currencyId='PLN', revenue=0.0)
    return item


def create(portal, entity_type_id, fields, user_id, upper=False):
    "A new item from a client's `fields`; fires its ADD event"
    store = portal.store
    specs = specs_of(store, entity_type_id)
    if not isinstance(fields, dict):
        fields = {}
    with store.lock:
        item_id = store.next_id(f'item{entity_type_id}')
        item = _defaults(portal, entity_type_id, specs, item_id, user_id)
        _assign(store, entity_type_id, item, fields, specs, upper)
        if upper:
            _legacy_multifields(store, item, fields, add_only=True)
        else:
            _item_multifields(store, item, fields.get('fm'))
        _settle(portal, entity_type_id, item, None, user_id)
        smart = store.types.get(entity_type_id)
        if smart and not item.get('title'):
            item['title'] = f'{smart["title"]} #{item_id}'
        if entity_type_id == QUOTE and not item.get('quoteNumber'):
            item['quoteNumber'] = str(item_id)
        table(store, entity_type_id)[item_id] = item
    events.crm_changed(portal, entity_type_id, 'ADD', item_id, user_id)
    return item


def update(portal, entity_type_id, item_id, fields, user_id, upper=False):
    "Change an item (only the fields given); fires its UPDATE event"
    store = portal.store
    specs = specs_of(store, entity_type_id)
    with store.lock:
        item = get(store, entity_type_id, item_id)
        old = dict(item)
        changed = dict(item)
        if not isinstance(fields, dict):
            fields = {}
        _assign(store, entity_type_id, changed, fields, specs, upper)
        changed['updatedTime'] = crm_fields.dates.iso(portal.clock())
        changed['updatedBy'] = user_id
        changed['_fm'] = [dict(m) for m in item.get('_fm', [])]
        if upper:
            _legacy_multifields(store, changed, fields)
        else:
            _item_multifields(store, changed, fields.get('fm'))
        _settle(portal, entity_type_id, changed, old, user_id)
        item.clear()
        item.update(changed)
    events.crm_changed(portal, entity_type_id, 'UPDATE', item['id'], user_id)
    return item


def delete(portal, entity_type_id, item_id, user_id):
    store = portal.store
    specs_of(store, entity_type_id)
    with store.lock:
        item = get(store, entity_type_id, item_id)
        del table(store, entity_type_id)[item['id']]
        productrows.drop_owner(store, entity_type_id, item['id'])
    events.crm_changed(portal, entity_type_id, 'DELETE', item['id'], user_id)


# Multi-fields (§5.3): legacy PHONE/EMAIL/... and crm.item `fm`

def _new_multifield(store, type_id, value_type, value):
    return {'id': store.next_id('multifield'), 'typeId': type_id,
        'valueType': value_type or ('WORK' if type_id in ('PHONE', 'EMAIL',
                'WEB') else 'OTHER'), 'value': str(value)}


def _entries(value):
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else []


def _legacy_multifields(store, item, fields, add_only=False):
    """Entries with an ID overwrite it (or delete it: DELETE=Y or an empty
    VALUE); entries without an ID are appended (§5.3)"""
    for type_id in LEGACY_MULTI:
        for entry in _entries(fields.get(type_id)):
            if not isinstance(entry, dict):
                continue
            value = entry.get('VALUE', '')
            existing = None
            if not add_only and entry.get('ID') not in (None, ''):
                existing = next((m for m in item['_fm']
                        if str(m['id']) == str(entry['ID'])), None)
            if existing is not None:
                if entry.get('DELETE') == 'Y' or value in ('', None):
                    item['_fm'].remove(existing)
                else:
                    existing['value'] = str(value)
                    if entry.get('VALUE_TYPE'):
                        existing['valueType'] = entry['VALUE_TYPE']
            elif value not in ('', None) and entry.get('DELETE') != 'Y':
                item['_fm'].append(_new_multifield(store, type_id,
                        entry.get('VALUE_TYPE'), value))


def _item_multifields(store, item, fm):
    """crm.item `fm`: a list adds; an object's "n…" keys add, numeric keys
    update that record, or delete it with an empty value (§5.3)"""
    if not fm:
        return
    if isinstance(fm, list):
        fm = {f'n{i}': v for i, v in enumerate(fm)}
    if not isinstance(fm, dict):
        return
    for key, entry in fm.items():
        if not isinstance(entry, dict):
            continue
        value = entry.get('value', '')
        existing = next((m for m in item['_fm'] if str(m['id']) == str(key)),
            None)
        if existing is not None:
            if value in ('', None):
                item['_fm'].remove(existing)
            else:
                existing['value'] = str(value)
                if entry.get('valueType'):
                    existing['valueType'] = entry['valueType']
        elif str(key).startswith('n') and value not in ('', None):
            item['_fm'].append(_new_multifield(store,
                    str(entry.get('typeId', 'PHONE')).upper(),
                    entry.get('valueType'), value))


# Views

def view(store, entity_type_id, item, select=None, original_uf=False):
    "An item as crm.item.get / list answer it"
    specs = specs_of(store, entity_type_id)
    if isinstance(select, dict):
        select = list(select.values())
    if isinstance(select, str):
        select = [select]
    everything = not select or '*' in select
    wanted = set(select or [])
    result = {}
    for name, spec in specs.items():
        if spec['type'] == 'crm_multifield':
            if everything and select:
                result['fm'] = [dict(m) for m in item.get('_fm', [])]
            continue
        if not (everything or name in wanted or spec['upper'] in wanted
                or name == 'id' or (name.startswith('ufCrm')
                    and 'ufCrm*' in wanted)):
            continue
        value = item.get(name)
        if not crm_fields.enabled(store, entity_type_id, spec):
            value = None
        key = spec['upper'] if original_uf and name.startswith('ufCrm') \
            else name
        result[key] = crm_fields.write(spec, value)
    return result


def legacy_view(store, entity_type_id, item, select=None, full=False):
    "A company or contact as crm.company.get / list answer it (strings)"
    specs = specs_of(store, entity_type_id)
    if isinstance(select, dict):
        select = list(select.values())
    if isinstance(select, str):
        select = [select]
    select = [str(s).upper() for s in (select or [])]
    standard = full or not select or '*' in select
    user_fields = full or 'UF_*' in select
    result = {}
    for name, spec in specs.items():
        if spec['type'] == 'crm_multifield':
            continue
        is_uf = spec['upper'].startswith('UF_')
        if not (spec['upper'] in select or name == 'id'
                or (is_uf and user_fields) or (not is_uf and standard)):
            continue
        result[spec['upper']] = crm_fields.legacy(spec, item.get(name))
    present = {m['typeId'] for m in item.get('_fm', [])}
    if standard:
        for type_id in ('PHONE', 'EMAIL', 'IM'):
            result[f'HAS_{type_id}'] = 'Y' if type_id in present else 'N'
    for type_id in LEGACY_MULTI:
        if type_id in select or (full and type_id in present):
            result[type_id] = [{'ID': str(m['id']),
                    'VALUE_TYPE': m['valueType'], 'VALUE': m['value'],
                    'TYPE_ID': type_id}
                for m in item.get('_fm', []) if m['typeId'] == type_id]
    return result


# Filters

def resolver(store, entity_type_id, upper=False):
    "`resolve(field)` for filters.py over items"
    specs = specs_of(store, entity_type_id)

    def resolve(field):
        field = str(field)
        if upper and field.upper() in LEGACY_MULTI:
            type_id = field.upper()
            return (lambda item: [m['value'] for m in item.get('_fm', [])
                    if m['typeId'] == type_id],
                lambda v: None if v in (None, '') else str(v))
        spec = _spec_for(specs, field.upper() if upper else field, upper)
        if spec is None or spec['type'] == 'crm_multifield':
            return None
        name = spec['name']

        def getter(item):
            value = item.get(name)
            if not crm_fields.enabled(store, entity_type_id, spec):
                value = None
            return list(value) if isinstance(value, list) else [value]
        return getter, lambda v: crm_fields.comparable(spec, v)
    return resolve
