"""The product catalog (facts §5.3 "Products"): catalog.catalog.list (one
catalog, iblockId 25) and catalog.product.add/update/get/list/delete.

Writing products needs an administrator (else 400 "Access Denied" with the
catalog's numeric code). catalog.product.list needs ``select`` with id and
iblockId and ``filter.iblockId``, as the portal does. Prices: the catalog
keeps only the product's own ``purchasingPrice`` / ``purchasingCurrency``;
sale prices live in catalog.price.* on the portal, which the emulator does
not have — product rows carry their own ``price``.
"""
from . import crm_fields, dates, filters
from .context import Listed
from .errors import RestError

IBLOCK_ID = 25
PRODUCT_FIELDS = {
    'id': 'integer', 'iblockId': 'integer', 'name': 'string',
    'active': 'char', 'code': 'string', 'xmlId': 'string',
    'detailText': 'string', 'detailTextType': 'string',
    'previewText': 'string', 'previewTextType': 'string', 'sort': 'integer',
    'iblockSectionId': 'integer', 'measure': 'integer', 'vatId': 'integer',
    'vatIncluded': 'char', 'purchasingPrice': 'double',
    'purchasingCurrency': 'string', 'quantity': 'double', 'type': 'integer',
    'available': 'char', 'createdBy': 'integer', 'modifiedBy': 'integer',
    'dateCreate': 'datetime', 'timestampX': 'datetime',
    }
READ_ONLY = {'id', 'createdBy', 'modifiedBy', 'dateCreate', 'timestampX',
    'available', 'type'}


def _zero(description):
    return RestError('0', description, 400)


def _access_denied():
    return RestError('200040300040', 'Access Denied', 400)


def catalog_list(call, params):
    catalogs = [{'id': IBLOCK_ID, 'iblockId': IBLOCK_ID,
            'iblockTypeId': 'CRM_PRODUCT_CATALOG', 'lid': 's1',
            'name': 'Katalog produktów CRM', 'productIblockId': None,
            'skuPropertyId': None, 'subscription': 'N', 'vatId': None,
            'yandexExport': 'N'}]
    return Listed({'catalogs': catalogs}, 1)


def _spec(field):
    kind = PRODUCT_FIELDS[field]
    return {'type': {'char': 'boolean'}.get(kind, kind)}


def _write(product, fields):
    for key, value in fields.items():
        if key in PRODUCT_FIELDS and key not in READ_ONLY:
            spec = dict(_spec(key), title=key, multiple=False)
            product[key] = crm_fields.read(spec, value) if value not in (
                None, '') else None


def product_add(call, params):
    if not call.is_admin:
        raise _access_denied()
    fields = params.get('fields')
    if not isinstance(fields, dict):
        raise _zero('Required fields: iblockId, name')
    missing = [f for f in ('iblockId', 'name') if not fields.get(f)]
    if missing:
        raise _zero('Required fields: ' + ', '.join(missing))
    if str(fields['iblockId']) != str(IBLOCK_ID):
        raise RestError('200040300000', 'Iblock Not Found', 400)
    now = dates.iso(call.now())
    product_id = call.store.next_id('product', start=101)
    product = {name: None for name in PRODUCT_FIELDS}
    product.update(id=product_id, active='Y', sort=500, vatIncluded='N',
        quantity=0.0, type=1, available='Y', measure=5,
        detailTextType='text', previewTextType='text',
        createdBy=call.user_id, modifiedBy=call.user_id, dateCreate=now,
        timestampX=now)
    _write(product, fields)
    call.store.products[product_id] = product
    return {'element': dict(product)}


def _product(call, params):
    try:
        product = call.store.products.get(int(params.get('id')))
    except (TypeError, ValueError):
        product = None
    if product is None:
        raise RestError('200040300050', 'Product does not exist', 400)
    return product


def product_update(call, params):
    if not call.is_admin:
        raise _access_denied()
    product = _product(call, params)
    fields = params.get('fields')
    if isinstance(fields, dict):
        _write(product, fields)
    product['modifiedBy'] = call.user_id
    product['timestampX'] = dates.iso(call.now())
    return {'element': dict(product)}


def product_get(call, params):
    return {'product': dict(_product(call, params))}


def product_delete(call, params):
    if not call.is_admin:
        raise _access_denied()
    product = _product(call, params)
    del call.store.products[product['id']]
    return True


def _resolve(field):
    if field not in PRODUCT_FIELDS:
        return None
    spec = _spec(field)
    return (lambda p: [p.get(field)],
        lambda v: crm_fields.comparable(spec, v))


def product_list(call, params):
    select = params.get('select')
    if isinstance(select, dict):
        select = list(select.values())
    select = select if isinstance(select, list) else []
    missing = [f for f in ('id', 'iblockId') if f not in select]
    if missing:
        raise _zero('Required select fields: ' + ', '.join(missing))
    given = params.get('filter')
    if not isinstance(given, dict):
        raise _zero('Incorrect filter format' if given else
            'Required filter fields: iblockId')
    if 'iblockId' not in given:
        raise _zero('Required filter fields: iblockId')
    predicate = filters.compile_filter(given, _resolve)
    rows = [p for p in call.store.products.values() if predicate(p)]
    rows = filters.order_rows(rows, params.get('order'), _resolve,
        default={'id': 'ASC'})
    chunk, total, following = filters.page(rows, filters.start_of(params))
    wanted = [f for f in select if f in PRODUCT_FIELDS]
    return Listed({'products': [{f: p.get(f) for f in wanted}
                for p in chunk]}, total, following)


METHODS = {
    'catalog.catalog.list': (catalog_list, 'catalog'),
    'catalog.product.add': (product_add, 'catalog'),
    'catalog.product.update': (product_update, 'catalog'),
    'catalog.product.get': (product_get, 'catalog'),
    'catalog.product.list': (product_list, 'catalog'),
    'catalog.product.delete': (product_delete, 'catalog'),
    }
