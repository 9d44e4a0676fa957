"""The news feed of workgroups (facts §6): log.blogpost.get/add/update/
delete and sonet_group.get.

log.blogpost.get answers only published posts the caller may see (author,
UA, U<id>, or SG<id> of a group the caller is a member of), newest activity
first, every field a string. ``POST_ID`` wins over ``LOG_RIGHTS``; a
``LOG_RIGHTS`` that is not an array is ignored and the whole visible feed
comes back, as in S. Changes fire ONLIVEFEEDPOSTADD/UPDATE/DELETE with
``data[FIELDS][POST_ID]``.
"""
from . import dates, filters
from .context import Listed
from .errors import RestError

MAX_LIMIT = 200


def _error(description):
    return RestError('', description, 400)


def _visible(store, post, user_id):
    if post['author_id'] == user_id:
        return True
    for code in post['dest']:
        if code == 'UA' or code == f'U{user_id}':
            return True
        if code.startswith('SG'):
            group = store.groups.get(int(code[2:])) if code[2:].isdigit() \
                else None
            if group and user_id in group['members']:
                return True
    return False


def _tag_ids(store, tags):
    ids = []
    for tag in tags:
        found = next((i for i, name in store.blog_tags.items()
                if name == tag), None)
        if found is None:
            found = store.next_id('blog_tag')
            store.blog_tags[found] = tag
        ids.append(found)
    return ids


def post_view(store, post):
    tag_ids = post.get('tag_ids', [])
    return {'ID': str(post['id']), 'BLOG_ID': '1',
        'PUBLISH_STATUS': post['status'], 'TITLE': post['title'],
        'AUTHOR_ID': str(post['author_id']), 'ENABLE_COMMENTS': 'Y',
        'NUM_COMMENTS': '0', 'CODE': None,
        'MICRO': 'N' if post['has_title'] else 'Y',
        'DETAIL_TEXT': post['text'],
        'DATE_PUBLISH': dates.iso(post['published']),
        'CATEGORY_ID': ','.join(str(i) for i in tag_ids),
        'HAS_SOCNET_ALL': 'Y' if 'UA' in post['dest'] else 'N',
        'HAS_TAGS': 'Y' if tag_ids else 'N', 'HAS_IMAGES': 'N',
        'HAS_PROPS': 'Y' if post['important'] == 'Y' else 'N',
        'HAS_COMMENT_IMAGES': None,
        'UF_BLOG_POST_IMPRTNT': {'FIELD_NAME': 'UF_BLOG_POST_IMPRTNT',
            'USER_TYPE_ID': 'integer',
            'VALUE': '1' if post['important'] == 'Y' else None},
        'FILES': []}


def _rights(value):
    if isinstance(value, dict):
        value = list(value.values())
    return value if isinstance(value, list) else None


def blogpost_get(call, params):
    store = call.store
    posts = [p for p in store.posts.values() if p['status'] == 'P'
        and _visible(store, p, call.user_id)]
    if params.get('POST_ID') not in (None, ''):
        posts = [p for p in posts if str(p['id']) == str(params['POST_ID'])]
    else:
        rights = _rights(params.get('LOG_RIGHTS'))
        if rights is not None:
            posts = [p for p in posts if set(p['dest']) & set(rights)]
    since = dates.parse(params.get('LOG_DATE_FROM'))
    until = dates.parse(params.get('LOG_DATE_TO'))
    posts = [p for p in posts if (since is None or p['updated'] >= since)
        and (until is None or p['updated'] <= until)]
    if params.get('FIRST_ID') not in (None, ''):
        posts = [p for p in posts if p['id'] > int(params['FIRST_ID'])]
    if params.get('LAST_ID') not in (None, ''):
        posts = [p for p in posts if p['id'] < int(params['LAST_ID'])]
    posts.sort(key=lambda p: (p['updated'], p['id']), reverse=True)
    if params.get('LIMIT') not in (None, ''):
        limit = max(1, min(int(params['LIMIT']), MAX_LIMIT))
        return [post_view(store, p) for p in posts[:limit]]
    chunk, total, following = filters.page(posts, filters.start_of(params))
    return Listed([post_view(store, p) for p in chunk], total, following)


def _destinations(params):
    dest = params.get('DEST')
    if dest in (None, '', []) and params.get('SPERM'):
        sperm = params['SPERM']
        dest = [code for codes in (sperm.values() if isinstance(sperm, dict)
                else [sperm]) for code in (codes if isinstance(codes,
                    (list, dict)) else [codes])]
    if isinstance(dest, dict):
        dest = list(dest.values())
    if isinstance(dest, str):
        dest = [dest]
    return [str(d) for d in dest] if dest else None


def _tags(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, str):
        value = value.split(',')
    return [t.strip() for t in value or [] if str(t).strip()]


def create_post(portal, author_id, title, text, dest, tags=(),
        important='N'):
    "A published post; fires ONLIVEFEEDPOSTADD"
    store = portal.store
    for code in dest:
        if code.startswith('SG') and (not code[2:].isdigit()
                or int(code[2:]) not in store.groups):
            raise _error(f'Destination {code} is not found.')
    now = portal.clock()
    post_id = store.next_id('post')
    store.posts[post_id] = {'id': post_id, 'title': title or '',
        'has_title': bool(title), 'text': text, 'author_id': int(author_id),
        'dest': list(dest), 'tag_ids': _tag_ids(store, tags),
        'important': important,
        'status': 'P', 'published': now, 'updated': now}
    _touch_groups(portal, dest, now)
    portal.events.fire('ONLIVEFEEDPOSTADD', {'POST_ID': post_id}, author_id)
    return post_id


def _touch_groups(portal, dest, now):
    for code in dest:
        if code.startswith('SG') and code[2:].isdigit():
            group = portal.store.groups.get(int(code[2:]))
            if group:
                group['activity'] = now


def change_post(portal, post_id, user_id, title=None, text=None, dest=None):
    "Edit a post (new activity: it moves to the top); fires UPDATE"
    post = portal.store.posts.get(int(post_id))
    if post is None:
        raise _error('Post not found.')
    if title is not None:
        post['title'] = title
        post['has_title'] = bool(title)
    if text is not None:
        post['text'] = text
    if dest is not None:
        post['dest'] = list(dest)
    post['updated'] = portal.clock()
    portal.events.fire('ONLIVEFEEDPOSTUPDATE', {'POST_ID': post['id']},
        user_id)
    return post['id']


def remove_post(portal, post_id, user_id):
    if portal.store.posts.pop(int(post_id), None) is None:
        raise _error('Post not found.')
    portal.events.fire('ONLIVEFEEDPOSTDELETE', {'POST_ID': int(post_id)},
        user_id)


def blogpost_add(call, params):
    text = params.get('POST_MESSAGE')
    if not text:
        raise _error('Message text is empty.')
    author = call.user_id
    if params.get('USER_ID') not in (None, '') and call.is_admin:
        author = int(params['USER_ID'])
    return create_post(call.portal, author, params.get('POST_TITLE'), text,
        _destinations(params) or ['UA'], _tags(params.get('TAGS')),
        'Y' if params.get('IMPORTANT') == 'Y' else 'N')


def _own_post(call, params):
    try:
        post = call.store.posts.get(int(params.get('POST_ID')))
    except (TypeError, ValueError):
        post = None
    if post is None:
        raise _error('Wrong post ID.')
    if post['author_id'] != call.user_id and not call.is_admin:
        raise _error('No permissions to edit the post.')
    return post


def blogpost_update(call, params):
    post = _own_post(call, params)
    return change_post(call.portal, post['id'], call.user_id,
        params.get('POST_TITLE'), params.get('POST_MESSAGE'),
        _destinations(params))


def blogpost_delete(call, params):
    post = _own_post(call, params)
    remove_post(call.portal, post['id'], call.user_id)
    return True


def group_view(group):
    return {'ID': str(group['id']), 'SITE_ID': 's1', 'NAME': group['name'],
        'DESCRIPTION': group['description'],
        'DATE_CREATE': dates.iso(group['created']),
        'DATE_UPDATE': dates.iso(group['created']), 'ACTIVE': 'Y',
        'VISIBLE': group['visible'], 'OPENED': group['opened'],
        'CLOSED': 'N', 'SUBJECT_ID': '1',
        'OWNER_ID': str(group['owner_id']), 'KEYWORDS': '',
        'NUMBER_OF_MEMBERS': str(len(group['members'])),
        'DATE_ACTIVITY': dates.iso(group['activity']),
        'SUBJECT_NAME': 'Grupy robocze', 'PROJECT': 'N',
        'IS_EXTRANET': 'N'}


def _group_resolve(field):
    field = str(field).upper()
    return (lambda g: [group_view(g).get(field)],
        lambda v: None if v in (None, '') else str(v).casefold())


def group_get(call, params):
    everything = params.get('IS_ADMIN') == 'Y' and call.is_admin
    groups = [g for _, g in sorted(call.store.groups.items())
        if everything or g['visible'] == 'Y'
        or call.user_id in g['members']]
    predicate = filters.compile_filter(params.get('FILTER'), _group_resolve)
    groups = [g for g in groups if predicate(g)]
    groups = filters.order_rows(groups, params.get('ORDER'), _group_resolve)
    chunk, total, following = filters.page(groups, filters.start_of(params))
    return Listed([group_view(g) for g in chunk], total, following)


METHODS = {
    'log.blogpost.get': (blogpost_get, 'log'),
    'log.blogpost.add': (blogpost_add, 'log'),
    'log.blogpost.update': (blogpost_update, 'log'),
    'log.blogpost.delete': (blogpost_delete, 'log'),
    'sonet_group.get': (group_get, 'sonet_group'),
    }
