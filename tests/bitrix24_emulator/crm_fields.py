"""The fields of the CRM objects the emulator holds (facts §5.1–5.3):
camelCase names for crm.item.*, UPPER names for the legacy methods and
crm.item.fields' ``upperName``, types, and how values are read and written.

Internally an item keeps `integer`-like values as ints, `double` as floats,
Y/N flags as 'Y'/'N', `datetime` as ISO strings in portal time and `date` as
'YYYY-MM-DD'; multi-fields (PHONE, EMAIL, ...) in ``_fm``.
"""
import re

from . import dates
from .errors import RestError

QUOTE, CONTACT, COMPANY = 7, 3, 4
INTEGER_TYPES = {'integer', 'user', 'crm_company', 'crm_contact',
    'crm_category', 'crm_deal', 'crm_lead'}
MULTIFIELD_TYPES = ('PHONE', 'EMAIL', 'WEB', 'IM', 'LINK')
# Short codes of §5.1 (productrow ownerType), for the types held here
OWNER_CODES = {1: 'L', 2: 'D', 3: 'C', 4: 'CO', 7: 'Q', 31: 'SI'}
NAMES = {1: 'LEAD', 2: 'DEAL', 3: 'CONTACT', 4: 'COMPANY', 7: 'QUOTE',
    31: 'SMART_INVOICE'}


def F(name, type, title, upper=None, ro=False, multiple=False,
        required=False, immutable=False, flag=None, status_type=None):
    return {'name': name, 'type': type, 'title': title,
        'upper': upper or camel_to_upper(name), 'ro': ro,
        'multiple': multiple, 'required': required, 'immutable': immutable,
        'flag': flag, 'status_type': status_type}


def camel_to_upper(name):
    return re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', name).upper()


def uf_camel(field_name):
    """UF_CRM_... as crm.item names it (§5.2 "Naming"): UF_CRM_3_DIGIT ->
    ufCrm3Digit, UF_CRM_3_1747309727 -> ufCrm3_1747309727, mixed letters and
    digits (UF_CRM_3_DIGIT10, UF_CRM_1747309879) -> ufCrm_<rest>"""
    rest = field_name[len('UF_CRM_'):]
    parts = rest.split('_')
    mixed = any(re.search(r'[A-Z]', p) and re.search(r'[0-9]', p)
        for p in parts)
    prefix, words = 'ufCrm', parts
    if parts[0].isdigit() and len(parts) > 1:
        prefix, words = f'ufCrm{parts[0]}', parts[1:]
    if mixed or (len(words) == 1 and words[0].isdigit()
            and prefix == 'ufCrm'):
        return f'ufCrm_{rest}'
    if len(words) == 1 and words[0].isdigit():
        return f'{prefix}_{words[0]}'
    return prefix + ''.join(w.capitalize() for w in words)


_COMMON = [
    F('id', 'integer', 'ID', ro=True),
    F('title', 'string', 'Nazwa'),
    F('createdBy', 'user', 'Utworzony przez', ro=True),
    F('updatedBy', 'user', 'Zmodyfikowany przez', ro=True),
    F('movedBy', 'user', 'Przeniesiony przez', ro=True, flag='stages'),
    F('createdTime', 'datetime', 'Utworzono', ro=True),
    F('updatedTime', 'datetime', 'Zmodyfikowano', ro=True),
    F('movedTime', 'datetime', 'Przeniesiono', ro=True, flag='stages'),
    F('categoryId', 'crm_category', 'Lejek', immutable=True,
        flag='categories'),
    F('opened', 'boolean', 'Dostępny dla wszystkich'),
    F('stageId', 'crm_status', 'Etap', flag='stages'),
    F('previousStageId', 'crm_status', 'Poprzedni etap', ro=True,
        flag='stages'),
    F('begindate', 'date', 'Data rozpoczęcia', flag='dates'),
    F('closedate', 'date', 'Data zakończenia', flag='dates'),
    F('companyId', 'crm_company', 'Firma', flag='client'),
    F('contactId', 'crm_contact', 'Kontakt', flag='client'),
    F('contactIds', 'crm_contact', 'Kontakty', multiple=True, flag='client'),
    F('opportunity', 'double', 'Kwota', flag='products'),
    F('isManualOpportunity', 'boolean', 'Kwota ręczna', flag='products'),
    F('taxValue', 'double', 'Podatek', flag='products'),
    F('currencyId', 'crm_currency', 'Waluta', flag='products'),
    F('mycompanyId', 'crm_company', 'Moja firma', flag='mycompany'),
    F('sourceId', 'crm_status', 'Źródło', flag='source',
        status_type='SOURCE'),
    F('sourceDescription', 'text', 'Opis źródła', flag='source'),
    F('assignedById', 'user', 'Odpowiedzialny'),
    F('observers', 'user', 'Obserwatorzy', multiple=True, flag='observers'),
    F('stageSemanticId', 'string', 'Semantyka etapu', ro=True,
        flag='stages'),
    F('entityTypeId', 'integer', 'Typ obiektu', ro=True),
    ]
_QUOTE = [
    F('quoteNumber', 'string', 'Numer oferty'),
    F('closed', 'boolean', 'Zamknięta'),
    F('dealId', 'crm_deal', 'Deal'),
    F('leadId', 'crm_lead', 'Lead'),
    F('comments', 'text', 'Komentarz'),
    F('content', 'text', 'Treść'),
    F('terms', 'text', 'Warunki'),
    F('actualDate', 'date', 'Ważna do'),
    ]
_SPA = [F('xmlId', 'string', 'Kod zewnętrzny')]
_ORIGIN = [
    F('originatorId', 'string', 'Zewnętrzne źródło'),
    F('originId', 'string', 'Identyfikator w źródle'),
    F('originVersion', 'string', 'Wersja w źródle'),
    ]
_LEGACY_COMMON = [
    F('id', 'integer', 'ID', ro=True),
    F('createdBy', 'user', 'Utworzony przez', upper='CREATED_BY_ID',
        ro=True),
    F('updatedBy', 'user', 'Zmodyfikowany przez', upper='MODIFY_BY_ID',
        ro=True),
    F('createdTime', 'datetime', 'Utworzono', upper='DATE_CREATE', ro=True),
    F('updatedTime', 'datetime', 'Zmodyfikowano', upper='DATE_MODIFY',
        ro=True),
    F('opened', 'boolean', 'Dostępny dla wszystkich'),
    F('assignedById', 'user', 'Odpowiedzialny'),
    F('comments', 'text', 'Komentarz'),
    F('fm', 'crm_multifield', 'Dane kontaktowe', multiple=True),
    ]
_COMPANY = [
    F('title', 'string', 'Nazwa firmy', required=True),
    F('typeId', 'crm_status', 'Typ firmy', upper='COMPANY_TYPE',
        status_type='COMPANY_TYPE'),
    F('industry', 'crm_status', 'Branża', status_type='INDUSTRY'),
    F('employees', 'crm_status', 'Pracownicy', status_type='EMPLOYEES'),
    F('revenue', 'double', 'Roczny przychód'),
    F('currencyId', 'crm_currency', 'Waluta'),
    F('isMyCompany', 'boolean', 'Moja firma'),
    ]
_CONTACT = [
    F('honorific', 'crm_status', 'Zwrot grzecznościowy',
        status_type='HONORIFIC'),
    F('name', 'string', 'Imię'),
    F('secondName', 'string', 'Drugie imię'),
    F('lastName', 'string', 'Nazwisko'),
    F('post', 'string', 'Stanowisko'),
    F('typeId', 'crm_status', 'Typ kontaktu', status_type='CONTACT_TYPE'),
    F('sourceId', 'crm_status', 'Źródło', status_type='SOURCE'),
    F('birthdate', 'date', 'Data urodzenia'),
    F('export', 'boolean', 'Uwzględnij w eksporcie'),
    F('companyId', 'crm_company', 'Firma'),
    F('companyIds', 'crm_company', 'Firmy', multiple=True),
    ]


def _user_fields(store, entity_type_id):
    return [F(uf_camel(name), spec['type'], spec['title'], upper=name,
            multiple=spec.get('multiple', False))
        for name, spec in store.user_fields.get(entity_type_id, {}).items()]


def fields_of(store, entity_type_id):
    "{camelName: spec} of an entity type the portal has, else None"
    if entity_type_id == COMPANY:
        specs = _LEGACY_COMMON + _COMPANY + _ORIGIN
    elif entity_type_id == CONTACT:
        specs = _LEGACY_COMMON + _CONTACT + _ORIGIN
    elif entity_type_id == QUOTE:
        specs = [s for s in _COMMON if s['name'] != 'categoryId'] + _QUOTE
        specs = [dict(s, upper='STATUS_ID') if s['name'] == 'stageId'
            else s for s in specs]
    elif entity_type_id in store.types:
        specs = _COMMON + _SPA
    else:
        return None
    return {s['name']: s for s in specs + _user_fields(store, entity_type_id)}


def enabled(store, entity_type_id, spec):
    "Whether a field is on for its type (SPA flags, §5.2 'SPA fields')"
    flag = spec['flag']
    smart = store.types.get(entity_type_id)
    if flag is None or smart is None:
        return True
    key = {'stages': 'isStagesEnabled', 'categories': 'isCategoriesEnabled',
        'dates': 'isBeginCloseDatesEnabled', 'client': 'isClientEnabled',
        'products': 'isLinkWithProductsEnabled',
        'mycompany': 'isMycompanyEnabled', 'source': 'isSourceEnabled',
        'observers': 'isObserversEnabled'}[flag]
    return smart.get(key) == 'Y' or (flag == 'categories'
        and smart.get('isStagesEnabled') == 'Y')


def _invalid(spec):
    return RestError('CRM_FIELD_ERROR_VALUE_NOT_VALID',
        f'Invalid value of field "{spec["title"]}"', 400)


def _scalar(spec, value):
    kind = spec['type']
    if value is None or (value == '' and kind != 'string' and kind != 'text'):
        return None
    if kind in INTEGER_TYPES:
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise _invalid(spec)
    if kind == 'double':
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _invalid(spec)
    if kind == 'boolean':
        return 'Y' if value in (True, 1, 'Y', 'y', '1', 'true') else 'N'
    if kind == 'datetime':
        timestamp = dates.parse(value)
        if timestamp is None:
            raise _invalid(spec)
        return dates.iso(timestamp)
    if kind == 'date':
        day = dates.to_day(value)
        if day is None:
            raise _invalid(spec)
        return day
    if isinstance(value, (dict, list)):
        raise _invalid(spec)
    return str(value)


def read(spec, value):
    "A value a client sent for a field, as the item keeps it"
    if spec['multiple']:
        if value is None or value == '':
            return []
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            # §5.2 crm.item.add errors: 400 `100`
            raise RestError('100', 'Expected iterable value for multiple '
                f'field "{spec["name"]}".', 400)
        return [v for v in (_scalar(spec, v) for v in value)
            if v is not None]
    return _scalar(spec, value)


def write(spec, value):
    "A kept value as crm.item answers it (ints, floats, ISO dates)"
    if spec['type'] == 'date':
        return dates.iso_date(value)
    if spec['multiple']:
        return list(value or [])
    return value


def legacy(spec, value):
    "A kept value as the legacy methods answer it: strings (§2)"
    if value is None:
        return None
    if spec['multiple']:
        return [legacy(dict(spec, multiple=False), v) for v in value]
    if spec['type'] == 'date':
        return dates.iso_date(value)
    if spec['type'] == 'double':
        return f'{value:.2f}'
    return str(value)


def comparable(spec, value):
    "A kept or filter value in a form filters compare"
    if value is None or value == '':
        return None
    kind = spec['type']
    try:
        if kind in INTEGER_TYPES:
            return int(float(value))
        if kind == 'double':
            return float(value)
    except (TypeError, ValueError):
        return str(value).casefold()
    if kind == 'boolean':
        return 'Y' if value in (True, 1, 'Y', 'y', '1', 'true') else 'N'
    if kind == 'date':
        return dates.to_day(value) or str(value)
    if kind == 'datetime':
        timestamp = dates.parse(value)
        return timestamp if timestamp is not None else str(value)
    return str(value).casefold()
