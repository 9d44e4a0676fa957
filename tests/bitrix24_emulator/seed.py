"""The portal a fresh emulator starts with.

- Users: 1 Anna Admin (administrator, the webhook's user), managers 2 Marta
  Nowak, 3 Piotr Zieliński, 4 Katarzyna Wójcik.
- CRM: QUOTE_STATUS (DRAFT, SENT, RECEIVED, APPROVED = S, DECLINED = F), the
  smart process "Dokumenty Portico" (entityTypeId 1036: stages, client and
  products on) with its default category and stages DT1036_{cat}:NEW,
  :PREPARATION, :SUCCESS (S), :FAIL (F), a string user field
  UF_CRM_PORTICO_KEY (ufCrmPorticoKey) on quotes and on it, and the
  reference lists COMPANY_TYPE, CONTACT_TYPE, SOURCE, INDUSTRY.
- Feed: workgroup 12 "Klienci Portico" (members 1, 2, 3) with two Polish
  posts and one English, plus a company-wide post and an unpublished draft.
"""
import secrets

from . import dates

SPA_ENTITY_TYPE_ID = 1036
GROUP_ID = 12
USERS = [
    (1, 'Anna', 'Admin', 'anna.admin@portico.test', True, 'Administrator'),
    (2, 'Marta', 'Nowak', 'marta.nowak@portico.test', False,
        'Opiekun klienta'),
    (3, 'Piotr', 'Zieliński', 'piotr.zielinski@portico.test', False,
        'Księgowy'),
    (4, 'Katarzyna', 'Wójcik', 'katarzyna.wojcik@portico.test', False,
        'Kadry i płace'),
    ]
QUOTE_STATUSES = [('DRAFT', 'Szkic', None, '#39A8EF'),
    ('SENT', 'Wysłana do klienta', None, '#2FC6F6'),
    ('RECEIVED', 'Otrzymana', None, '#55D0E0'),
    ('APPROVED', 'Zaakceptowana', 'S', '#7BD500'),
    ('DECLINED', 'Odrzucona', 'F', '#FF5752')]
SPA_STAGES = [('NEW', 'Nowy', None, '#39A8EF'),
    ('PREPARATION', 'Przygotowanie', None, '#2FC6F6'),
    ('SUCCESS', 'Zakończony sukcesem', 'S', '#7BD500'),
    ('FAIL', 'Nieudany', 'F', '#FF5752')]
LISTS = {
    'COMPANY_TYPE': [('CUSTOMER', 'Klient'), ('SUPPLIER', 'Dostawca'),
        ('PARTNER', 'Partner'), ('OTHER', 'Inny')],
    'CONTACT_TYPE': [('CLIENT', 'Klient'), ('SUPPLIER', 'Dostawca'),
        ('PARTNER', 'Partner'), ('OTHER', 'Inny')],
    'SOURCE': [('CALL', 'Telefon'), ('EMAIL', 'E-mail'),
        ('WEB', 'Strona WWW'), ('OTHER', 'Inne')],
    'INDUSTRY': [('IT', 'Informatyka'), ('MANUFACTURING', 'Produkcja'),
        ('SERVICES', 'Usługi'), ('OTHER', 'Inna')],
    }
SCOPE = 'crm,catalog,im,log,sonet_group,placement,user'
POSTS = [
    ('Zmiana godzin pracy biura',
        'Od poniedziałku biuro pracuje w godzinach 8:00–16:00. '
        'Dokumenty można składać przez portal całą dobę.', 2, 6),
    ('Terminy rozliczeń PIT za 2025',
        'Przypominamy: zeznania roczne należy złożyć do 30 kwietnia. '
        'Prosimy o przesłanie dokumentów do 31 marca.', 3, 3),
    ('New portal features',
        'You can now upload cost invoices as PDF scans directly in the '
        'portal. Our accountants will book them within two working days.',
        2, 1),
    ]


def credentials():
    "A new local application's identifiers (§12.1)"
    return {'id': 7, 'client_id': f'local.{secrets.token_hex(7)}.'
            f'{secrets.randbelow(10 ** 8):08d}',
        'client_secret': secrets.token_urlsafe(32),
        'member_id': secrets.token_hex(16),
        'application_token': secrets.token_hex(16), 'scope': SCOPE,
        'name': 'Portico', 'version': 1, 'installed': True}


def add_status(store, entity_id, status_id, name, sort, semantics=None,
        category_id=None, color=''):
    status_row = store.next_id('status')
    store.statuses[status_row] = {'ID': str(status_row),
        'ENTITY_ID': entity_id, 'STATUS_ID': status_id, 'NAME': name,
        'NAME_INIT': name, 'SORT': str(sort), 'SYSTEM': 'Y',
        'CATEGORY_ID': None if category_id is None else str(category_id),
        'COLOR': color, 'SEMANTICS': semantics,
        'EXTRA': {'SEMANTICS': {'S': 'success', 'F': 'failure'}.get(
                semantics, 'process'), 'COLOR': color}}


def _flag(fields, name, default):
    value = fields.get(name, default)
    return 'Y' if value in (True, 'Y', 'y', '1', 1, 'true') else 'N'


def add_smart_process(portal, title, entity_type_id=None, fields=None,
        user_id=1):
    "A smart process with its default category and four stages"
    store = portal.store
    fields = fields or {}
    if entity_type_id is None:
        entity_type_id = max([1028, *store.types]) + 2
        entity_type_id += entity_type_id % 2
    now = dates.iso(portal.clock())
    type_id = store.next_id('type')
    smart = {'id': type_id, 'title': title,
        'code': fields.get('code') or f'portico_{entity_type_id}',
        'entityTypeId': entity_type_id,
        'isCategoriesEnabled': _flag(fields, 'isCategoriesEnabled', 'N'),
        'isStagesEnabled': _flag(fields, 'isStagesEnabled', 'Y'),
        'isBeginCloseDatesEnabled': _flag(fields, 'isBeginCloseDatesEnabled',
            'Y'),
        'isClientEnabled': _flag(fields, 'isClientEnabled', 'Y'),
        'isLinkWithProductsEnabled': _flag(fields,
            'isLinkWithProductsEnabled', 'Y'),
        'isMycompanyEnabled': _flag(fields, 'isMycompanyEnabled', 'Y'),
        'isSourceEnabled': _flag(fields, 'isSourceEnabled', 'N'),
        'isObserversEnabled': _flag(fields, 'isObserversEnabled', 'N'),
        'isDocumentsEnabled': 'N', 'isRecyclebinEnabled': 'Y',
        'isAutomationEnabled': 'N', 'isBizProcEnabled': 'N',
        'isSetOpenPermissions': 'Y', 'isPaymentsEnabled': 'N',
        'isCountersEnabled': 'N', 'customSectionId': None,
        'createdBy': user_id, 'updatedBy': user_id, 'createdTime': now,
        'updatedTime': now}
    store.types[entity_type_id] = smart
    category_id = store.next_id('category')
    store.categories[category_id] = {'id': category_id, 'name': 'Ogólny',
        'sort': 500, 'entityTypeId': entity_type_id, 'isDefault': 'Y',
        'originId': '', 'originatorId': ''}
    for sort, (code, name, semantics, color) in enumerate(SPA_STAGES, 1):
        add_status(store, f'DYNAMIC_{entity_type_id}_STAGE_{category_id}',
            f'DT{entity_type_id}_{category_id}:{code}', name, sort * 10,
            semantics, category_id, color)
    return smart


def load(portal, app, webhook_code):
    "Fill an empty store"
    store = portal.store
    now = portal.clock()
    store.app = dict(app)
    store.webhooks = {webhook_code: {'user_id': 1, 'scope': SCOPE}}
    for user_id, name, last_name, email, admin, position in USERS:
        store.users[user_id] = {'id': user_id, 'name': name,
            'last_name': last_name, 'email': email, 'admin': admin,
            'active': True, 'lang': 'pl', 'position': position,
            'gender': 'F' if name.endswith('a') else 'M',
            'registered': dates.iso(now - 400 * 86400)}
    for sort, (code, name, semantics, color) in enumerate(QUOTE_STATUSES, 1):
        add_status(store, 'QUOTE_STATUS', code, name, sort * 10, semantics,
            color=color)
    for entity_id, rows in LISTS.items():
        for sort, (code, name) in enumerate(rows, 1):
            add_status(store, entity_id, code, name, sort * 10)
    add_smart_process(portal, 'Dokumenty Portico', SPA_ENTITY_TYPE_ID)
    key = {'type': 'string', 'title': 'Klucz Portico'}
    store.user_fields = {7: {'UF_CRM_PORTICO_KEY': dict(key)},
        SPA_ENTITY_TYPE_ID: {'UF_CRM_PORTICO_KEY': dict(key)}}
    store.groups[GROUP_ID] = {'id': GROUP_ID, 'name': 'Klienci Portico',
        'description': 'Aktualności dla klientów biura',
        'owner_id': 1, 'members': [1, 2, 3], 'visible': 'Y', 'opened': 'N',
        'created': now - 300 * 86400, 'activity': now}
    store.seq['post'] = 100
    for title, text, author, days in POSTS:
        _post(store, title, text, author, [f'SG{GROUP_ID}'],
            now - days * 86400)
    _post(store, 'Wigilia firmowa', 'Zapraszamy wszystkich pracowników na '
        'wigilię 19 grudnia.', 1, ['UA'], now - 2 * 86400)
    _post(store, 'Szkic: nowy cennik', 'Wersja robocza.', 2,
        [f'SG{GROUP_ID}'], now - 86400, status='D')


def _post(store, title, text, author, dest, when, status='P'):
    post_id = store.next_id('post')
    store.posts[post_id] = {'id': post_id, 'title': title, 'has_title': True,
        'text': text, 'author_id': author, 'dest': dest, 'tag_ids': [],
        'important': 'N', 'status': status, 'published': when,
        'updated': when}
