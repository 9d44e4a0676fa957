"""Chats (facts §7): im.chat.add, im.message.add, im.dialog.messages.get.

DIALOG_ID is ``chat<id>``, ``sg<groupId>`` (the group's chat, made on first
use) or ``<userId>`` (the private chat of the caller and that user). A
message goes as the caller; ``SYSTEM=Y`` makes a system message (author 0).
im.dialog.messages.get answers newest first: without cursor the last
LIMIT (default 20, at most 50); with LAST_ID the LIMIT before it; with
FIRST_ID the LIMIT after it (FIRST_ID=0: from the first message) — the
forward polling cursor.
"""
from . import dates
from .errors import RestError

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
COLORS = ['#df532d', '#728f7a', '#4ba984', '#ab7761', '#29619b']


def _error(code, description):
    return RestError(code, description, 400)


def _new_chat(store, now, users, owner, title, kind='CHAT', description='',
        entity_type='', entity_id='', color=''):
    chat_id = store.next_id('chat')
    store.chats[chat_id] = {'id': chat_id, 'type': kind, 'title': title,
        'description': description, 'owner': owner,
        'users': sorted(set(users)), 'entity_type': entity_type,
        'entity_id': entity_id, 'color': color, 'created': now}
    return store.chats[chat_id]


def resolve_dialog(portal, user_id, dialog_id, join=False):
    """The chat `dialog_id` means for `user_id`; `join` adds the user (a
    manager stepping into a client's chat)"""
    store = portal.store
    dialog = str(dialog_id or '').strip()
    if not dialog:
        raise _error('DIALOG_ID_EMPTY', "Dialog ID can't be empty")
    if dialog.lower().startswith('chat') and dialog[4:].isdigit():
        chat = store.chats.get(int(dialog[4:]))
        if chat is None:
            raise _error('ACCESS_ERROR', 'You do not have access to the '
                'specified dialog')
    elif dialog.lower().startswith('sg') and dialog[2:].isdigit():
        group = store.groups.get(int(dialog[2:]))
        if group is None:
            raise _error('ACCESS_ERROR', 'You do not have access to the '
                'specified dialog')
        chat = next((c for c in store.chats.values()
                if c['entity_type'] == 'SONET_GROUP'
                and c['entity_id'] == str(group['id'])), None)
        if chat is None:
            chat = _new_chat(store, portal.clock(), group['members'],
                group['owner_id'], group['name'], entity_type='SONET_GROUP',
                entity_id=str(group['id']))
    elif dialog.isdigit():
        other = int(dialog)
        if other not in store.users:
            raise _error('USER_ID_EMPTY', 'Recipient identifier is not '
                'specified when sending a message in a one-on-one chat')
        pair = sorted({user_id, other})
        chat = next((c for c in store.chats.values()
                if c['type'] == 'PRIVATE' and c['users'] == pair), None)
        if chat is None:
            chat = _new_chat(store, portal.clock(), pair, user_id, '',
                kind='PRIVATE')
    else:
        raise _error('DIALOG_ID_EMPTY', "Dialog ID can't be empty")
    if user_id not in chat['users']:
        if not join:
            raise _error('ACCESS_ERROR', 'You do not have access to the '
                'specified dialog')
        chat['users'] = sorted(set(chat['users']) | {user_id})
    return chat


def post_message(portal, chat, author_id, text, system=False):
    store = portal.store
    message_id = store.next_id('message')
    store.messages[message_id] = {'id': message_id, 'chat_id': chat['id'],
        'author_id': 0 if system else author_id, 'date': portal.clock(),
        'text': text, 'params': None,
        'read_by': [] if system else [author_id]}
    return message_id


def message_add(call, params):
    chat = resolve_dialog(call.portal, call.user_id, params.get('DIALOG_ID'))
    text = params.get('MESSAGE')
    if text in (None, ''):
        raise _error('MESSAGE_EMPTY', "Message can't be empty")
    return post_message(call.portal, chat, call.user_id, str(text),
        system=str(params.get('SYSTEM', 'N')).upper() == 'Y')


def chat_add(call, params):
    users = params.get('USERS') or []
    if isinstance(users, dict):
        users = list(users.values())
    if not isinstance(users, list):
        users = [users]
    try:
        users = [int(u) for u in users]
    except (TypeError, ValueError):
        raise _error('USERS_EMPTY', 'Wrong user list')
    unknown = [u for u in users if u not in call.store.users]
    if unknown:
        raise _error('USERS_EMPTY', f'User {unknown[0]} not found')
    kind = str(params.get('TYPE') or 'CHAT').upper()
    title = params.get('TITLE') or ''
    chat = _new_chat(call.store, call.now(), users + [call.user_id],
        int(params.get('OWNER_ID') or call.user_id), title,
        kind='OPEN' if kind == 'OPEN' else 'CHAT',
        description=params.get('DESCRIPTION') or '',
        entity_type=params.get('ENTITY_TYPE') or '',
        entity_id=str(params.get('ENTITY_ID') or ''),
        color=params.get('COLOR') or '')
    creator = call.user
    post_message(call.portal, chat, call.user_id,
        f'{creator["name"]} {creator["last_name"]} utworzył(a) czat '
        f'„{title}”', system=True)
    if params.get('MESSAGE'):
        post_message(call.portal, chat, call.user_id,
            str(params['MESSAGE']))
    return chat['id']


def _user(user):
    return {'id': user['id'], 'name': f'{user["name"]} {user["last_name"]}',
        'first_name': user['name'], 'last_name': user['last_name'],
        'work_position': user.get('position', ''),
        'color': COLORS[user['id'] % len(COLORS)], 'avatar': '',
        'gender': user.get('gender') or 'M', 'birthday': '',
        'extranet': False, 'network': False, 'bot': False,
        'connector': False, 'external_auth_id': 'default',
        'status': 'online', 'idle': False, 'last_activity_date': False,
        'mobile_last_date': False, 'departments': [1], 'absent': False,
        'phones': {'work_phone': '', 'personal_mobile': '',
            'personal_phone': ''}}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def dialog_messages(call, params):
    chat = resolve_dialog(call.portal, call.user_id, params.get('DIALOG_ID'))
    limit = _int(params.get('LIMIT')) or DEFAULT_LIMIT
    limit = max(1, min(limit, MAX_LIMIT))
    messages = sorted((m for m in call.store.messages.values()
            if m['chat_id'] == chat['id']), key=lambda m: m['id'])
    first, last = _int(params.get('FIRST_ID')), _int(params.get('LAST_ID'))
    if first is not None:
        chosen = [m for m in messages if m['id'] > first][:limit]
    elif last is not None:
        chosen = [m for m in messages if m['id'] < last][-limit:]
    else:
        chosen = messages[-limit:]
    answer = []
    for message in reversed(chosen):
        answer.append({'id': message['id'], 'chat_id': chat['id'],
            'author_id': message['author_id'],
            'date': dates.iso(message['date']), 'text': message['text'],
            'unread': call.user_id not in message['read_by'],
            'uuid': None, 'replaces': [], 'params': message['params'],
            'disappearing_date': None})
        if call.user_id not in message['read_by']:
            message['read_by'].append(call.user_id)
    authors = sorted({m['author_id'] for m in chosen if m['author_id']})
    return {'chat_id': chat['id'], 'messages': answer,
        'users': [_user(call.store.users[a]) for a in authors
            if a in call.store.users],
        'files': []}


METHODS = {
    'im.message.add': (message_add, 'im'),
    'im.chat.add': (chat_add, 'im'),
    'im.dialog.messages.get': (dialog_messages, 'im'),
    }
