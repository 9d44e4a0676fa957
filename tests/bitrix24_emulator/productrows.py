"""crm.item.productrow.* (facts §5.2 "Product rows").

``set`` replaces all rows of the owner. ``price`` is per unit with discount
and tax; the emulator derives ``priceExclusive`` (without tax), ``priceNetto``
(without tax and discount) and ``priceBrutto`` (with tax, without discount)
from it. After every change the owner's ``opportunity`` becomes
sum(price × quantity) and ``taxValue`` the tax in it, unless
``isManualOpportunity`` is Y; when they change, the owner's UPDATE event
fires.
"""
from . import crm_fields, events, filters
from .context import Listed
from .errors import RestError

ROW_FIELDS = {
    'id': 'integer', 'ownerId': 'integer', 'ownerType': 'string',
    'productId': 'integer', 'productName': 'string', 'price': 'double',
    'priceAccount': 'double', 'priceExclusive': 'double',
    'priceNetto': 'double', 'priceBrutto': 'double', 'quantity': 'double',
    'discountTypeId': 'integer', 'discountRate': 'double',
    'discountSum': 'double', 'taxRate': 'double', 'taxIncluded': 'char',
    'customized': 'char', 'measureCode': 'integer', 'measureName': 'string',
    'sort': 'integer', 'xmlId': 'string', 'type': 'integer',
    'storeId': 'integer',
    }
READ_ONLY = {'id', 'priceAccount', 'priceNetto', 'priceBrutto', 'customized',
    'type'}


def owner_code(entity_type_id):
    "§5.1: Q for quotes, T + lower-case hex for a smart process"
    return crm_fields.OWNER_CODES.get(entity_type_id) or \
        f'T{entity_type_id:x}'


def owner_type_id(code):
    code = str(code or '').upper()
    for type_id, short in crm_fields.OWNER_CODES.items():
        if short == code:
            return type_id
    if code.startswith('T'):
        try:
            return int(code[1:], 16)
        except ValueError:
            pass
    raise RestError('ENTITY_TYPE_NOT_SUPPORTED',
        f'Entity type {code} is not supported', 400)


def rows_of(store, entity_type_id, owner_id):
    code = owner_code(entity_type_id)
    return sorted((r for r in store.product_rows.values()
            if r['ownerType'] == code and r['ownerId'] == owner_id),
        key=lambda r: (r['sort'], r['id']))


def drop_owner(store, entity_type_id, owner_id):
    for row in rows_of(store, entity_type_id, owner_id):
        del store.product_rows[row['id']]


def recompute(store, entity_type_id, item):
    rows = rows_of(store, entity_type_id, item['id'])
    item['opportunity'] = round(sum(r['price'] * r['quantity']
            for r in rows), 2)
    item['taxValue'] = round(sum((r['price'] - r['priceExclusive'])
            * r['quantity'] for r in rows), 2)


def _number(value, default):
    if value in (None, ''):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RestError('100', f'Invalid numeric value "{value}"', 400)


def _row(store, row_id, code, owner_id, data, sort):
    price = _number(data.get('price'), 0.0)
    quantity = _number(data.get('quantity'), 1.0)
    tax_rate = _number(data.get('taxRate'), None)
    rate = tax_rate or 0.0
    discount_type = int(_number(data.get('discountTypeId'), 2))
    exclusive = price / (1 + rate / 100)
    if discount_type == 1:
        discount_sum = _number(data.get('discountSum'), 0.0)
        netto = exclusive + discount_sum
        discount_rate = discount_sum / netto * 100 if netto else 0.0
    else:
        discount_rate = _number(data.get('discountRate'), 0.0)
        netto = exclusive / (1 - discount_rate / 100) \
            if discount_rate < 100 else exclusive
        discount_sum = netto - exclusive
    product_id = int(_number(data.get('productId'), 0))
    name = data.get('productName')
    if not name and product_id in store.products:
        name = store.products[product_id]['name']
    return {
        'id': row_id, 'ownerId': owner_id, 'ownerType': code,
        'productId': product_id, 'productName': name or '',
        'price': price, 'priceAccount': price,
        'priceExclusive': round(exclusive, 2), 'priceNetto': round(netto, 2),
        'priceBrutto': round(netto * (1 + rate / 100), 2),
        'quantity': quantity, 'discountTypeId': discount_type,
        'discountRate': round(discount_rate, 2),
        'discountSum': round(discount_sum, 2), 'taxRate': tax_rate,
        'taxIncluded': 'Y' if data.get('taxIncluded') in (
            'Y', True, '1', 1) else 'N',
        'customized': 'Y',
        'measureCode': int(_number(data.get('measureCode'), 796)),
        'measureName': data.get('measureName') or 'szt.',
        'sort': int(_number(data.get('sort'), sort)),
        'xmlId': data.get('xmlId'), 'type': 1, 'storeId': None,
        }


def _owner(call, code, owner_id):
    "The owner item (its type id and the item) of a product row"
    from . import items
    store = call.store
    entity_type_id = owner_type_id(code)
    specs = crm_fields.fields_of(store, entity_type_id)
    if specs is None or 'opportunity' not in specs or not \
            crm_fields.enabled(store, entity_type_id, specs['opportunity']):
        raise RestError('OWNER_NOT_FOUND', 'Owner was not found', 400)
    try:
        item = items.get(store, entity_type_id, owner_id)
    except RestError:
        raise RestError('OWNER_NOT_FOUND', 'Owner was not found', 400)
    return entity_type_id, item


def _amounts_changed(call, entity_type_id, item):
    "Recompute the owner's amounts; an UPDATE event when they moved"
    if item.get('isManualOpportunity') == 'Y':
        return
    before = (item.get('opportunity'), item.get('taxValue'))
    recompute(call.store, entity_type_id, item)
    if before != (item['opportunity'], item['taxValue']):
        item['updatedTime'] = crm_fields.dates.iso(call.now())
        item['updatedBy'] = call.user_id
        events.crm_changed(call.portal, entity_type_id, 'UPDATE', item['id'],
            call.user_id)


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RestError('100', f'Required parameter "{name}" is missing', 400)


def product_row_set(call, params):
    code = str(params.get('ownerType') or '').upper()
    owner_id = _int(params.get('ownerId'), 'ownerId')
    entity_type_id, item = _owner(call, code, owner_id)
    code = owner_code(entity_type_id)
    given = params.get('productRows') or []
    if isinstance(given, dict):
        given = list(given.values())
    if not isinstance(given, list):
        raise RestError('100', 'Expected iterable value for "productRows"',
            400)
    drop_owner(call.store, entity_type_id, owner_id)
    rows = []
    for index, data in enumerate(given):
        if not isinstance(data, dict):
            continue
        row = _row(call.store, call.store.next_id('productrow'), code,
            owner_id, data, (index + 1) * 10)
        call.store.product_rows[row['id']] = row
        rows.append(row)
    _amounts_changed(call, entity_type_id, item)
    return {'productRows': rows_of(call.store, entity_type_id, owner_id)}


def _resolve(field):
    kind = ROW_FIELDS.get(str(field))
    if kind is None:
        return None
    spec = {'type': {'char': 'boolean', 'string': 'string'}.get(kind, kind)}
    return (lambda row: [row.get(field)],
        lambda v: crm_fields.comparable(spec, v))


def product_row_list(call, params):
    predicate = filters.compile_filter(params.get('filter'), _resolve,
        strict=True)
    rows = [r for r in call.store.product_rows.values() if predicate(r)]
    rows = filters.order_rows(rows, params.get('order'), _resolve,
        default={'sort': 'ASC', 'id': 'ASC'}, strict=True)
    chunk, total, following = filters.page(rows,
        filters.start_of(params))
    return Listed({'productRows': chunk}, total, following)


def _get_row(call, row_id):
    try:
        row = call.store.product_rows.get(int(row_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise RestError('NOT_FOUND', 'Product row not found', 400)
    return row


def product_row_get(call, params):
    return {'productRow': _get_row(call, params.get('id'))}


def product_row_add(call, params):
    fields = params.get('fields') or {}
    if not isinstance(fields, dict):
        fields = {}
    entity_type_id, item = _owner(call, fields.get('ownerType'),
        _int(fields.get('ownerId'), 'ownerId'))
    code = owner_code(entity_type_id)
    count = len(rows_of(call.store, entity_type_id, item['id']))
    row = _row(call.store, call.store.next_id('productrow'), code,
        item['id'], fields, (count + 1) * 10)
    call.store.product_rows[row['id']] = row
    _amounts_changed(call, entity_type_id, item)
    return {'productRow': row}


def product_row_update(call, params):
    row = _get_row(call, params.get('id'))
    fields = params.get('fields') or {}
    if not isinstance(fields, dict):
        fields = {}
    data = {k: v for k, v in row.items() if k not in READ_ONLY}
    data.update({k: v for k, v in fields.items()
            if k in ROW_FIELDS and k not in READ_ONLY
            and k not in ('ownerId', 'ownerType')})
    entity_type_id, item = _owner(call, row['ownerType'], row['ownerId'])
    updated = _row(call.store, row['id'], row['ownerType'], row['ownerId'],
        data, row['sort'])
    row.clear()
    row.update(updated)
    _amounts_changed(call, entity_type_id, item)
    return {'productRow': row}


def product_row_delete(call, params):
    row = _get_row(call, params.get('id'))
    del call.store.product_rows[row['id']]
    entity_type_id, item = _owner(call, row['ownerType'], row['ownerId'])
    _amounts_changed(call, entity_type_id, item)
    return []


def product_row_fields(call, params):
    return {'fields': {name: {'type': kind, 'isRequired': name in (
                    'ownerId', 'ownerType'),
                'isReadOnly': name in READ_ONLY, 'isImmutable': False,
                'isMultiple': False, 'isDynamic': False, 'title': name}
            for name, kind in ROW_FIELDS.items()}}


METHODS = {
    'crm.item.productrow.set': (product_row_set, 'crm'),
    'crm.item.productrow.list': (product_row_list, 'crm'),
    'crm.item.productrow.get': (product_row_get, 'crm'),
    'crm.item.productrow.add': (product_row_add, 'crm'),
    'crm.item.productrow.update': (product_row_update, 'crm'),
    'crm.item.productrow.delete': (product_row_delete, 'crm'),
    'crm.item.productrow.fields': (product_row_fields, 'crm'),
    }
