"""The application side (facts §12): placement.bind/get/list/unbind,
app.info, profile, user.current and user.get, and what opening a
placement sends to its handler (§12.4, §12.10).

placement.bind follows §12.2 / §12.10.3: application context only (a
webhook gets 403 WRONG_AUTH_TYPE), administrators only (403 ACCESS_DENIED;
placement.list is open to any user of the application), HANDLER must be
http(s) with a dotted host (``localhost`` is refused), ``DEFAULT`` is
refused, ``CRM_*`` codes need the crm scope, OPTIONS are dropped for CRM
detail tabs and LEFT_MENU, LANG_ALL replaces TITLE, USER_ID is for
PAGE_BACKGROUND_WORKER only, REST_APP_URI and PAGE_BACKGROUND_WORKER take one
handler, the same code and handler twice is refused.
"""
import datetime as dt
import html
import json
import secrets
from urllib.parse import urlencode, urlsplit

from . import dates, filters, php
from .context import Listed
from .errors import RestError, access_denied

PLACEMENTS = {
    'crm': ['CRM_COMPANY_DETAIL_TAB', 'CRM_CONTACT_DETAIL_TAB',
        'CRM_DEAL_DETAIL_TAB', 'CRM_LEAD_DETAIL_TAB', 'CRM_QUOTE_DETAIL_TAB',
        'CRM_SMART_INVOICE_DETAIL_TAB', 'CRM_ORDER_DETAIL_TAB',
        'CRM_COMPANY_LIST_MENU', 'CRM_CONTACT_LIST_MENU',
        'CRM_DEAL_LIST_MENU', 'CRM_LEAD_LIST_MENU', 'CRM_QUOTE_LIST_MENU',
        'CRM_ANALYTICS_MENU'],
    'placement': ['LEFT_MENU', 'REST_APP_URI', 'PAGE_BACKGROUND_WORKER'],
    }
SINGLE = {'REST_APP_URI', 'PAGE_BACKGROUND_WORKER'}
LICENSE = 'pl_project'


def _available(store, scopes):
    codes = []
    if 'placement' in scopes:
        codes += PLACEMENTS['placement']
    if 'crm' in scopes:
        codes += PLACEMENTS['crm'] + [f'CRM_DYNAMIC_{t}_DETAIL_TAB'
            for t in sorted(store.types)]
    return codes


def _require_admin(call):
    if not call.is_admin:
        raise access_denied('Access denied! Administrator access required')


def _check_handler(handler):
    parts = urlsplit(handler or '')
    if parts.scheme not in ('http', 'https'):
        raise RestError('ERROR_UNSUPPORTED_PROTOCOL',
            'Unsupported event handler protocol', 400)
    if not parts.hostname or '.' not in parts.hostname:
        raise RestError('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL', 400)


def _upper(params):
    return {str(k).upper(): v for k, v in params.items()}


def placement_bind(call, params):
    call.require_app()
    _require_admin(call)
    params = _upper(params)
    code = str(params.get('PLACEMENT') or '').upper()
    handler = params.get('HANDLER') or ''
    if code == 'DEFAULT':
        raise RestError('ERROR_ARGUMENT', 'Wrong value', 400,
            argument='PLACEMENT')
    if code not in _available(call.store, call.caller.scopes):
        raise RestError('ERROR_PLACEMENT_NOT_FOUND', 'Placement not found',
            400)
    _check_handler(handler)
    user_id = int(params.get('USER_ID') or 0)
    if user_id and code != 'PAGE_BACKGROUND_WORKER':
        raise RestError('ERROR_PLACEMENT_USER_MODE',
            'User mode is not available for this placement', 400)
    bound = [b for b in call.store.placements.values()
        if b['placement'] == code]
    if code in SINGLE and bound:
        raise RestError('ERROR_PLACEMENT_MAX_COUNT', 'Placement max count: 1',
            400)
    if any(b['handler'] == handler and b['userId'] == user_id
            for b in bound):
        raise RestError('ERROR_CORE',
            'Unable to set placement handler: Handler already binded', 400)
    lang_all = params.get('LANG_ALL') if isinstance(
        params.get('LANG_ALL'), dict) else {}
    title = params.get('TITLE') or ''
    description = params.get('DESCRIPTION') or ''
    group = params.get('GROUP_NAME') or ''
    if lang_all:
        first = next(iter(lang_all.values()))
        if isinstance(first, dict):
            title = first.get('TITLE', '')
            description = first.get('DESCRIPTION', '')
            group = first.get('GROUP_NAME', '')
    options = params.get('OPTIONS') if isinstance(params.get('OPTIONS'),
        dict) else {}
    if code == 'LEFT_MENU' or code.endswith('_DETAIL_TAB'):
        options = {}
    binding_id = call.store.next_id('placement')
    call.store.placements[binding_id] = {'id': binding_id,
        'placement': code, 'handler': handler,
        'title': title or call.store.app['name'], 'description': description,
        'groupName': group, 'langAll': lang_all, 'options': options,
        'userId': user_id}
    return True


def placement_get(call, params):
    call.require_app()
    _require_admin(call)
    return [{'placement': b['placement'], 'userId': b['userId'],
            'handler': b['handler'], 'options': b['options'],
            'title': b['title'], 'description': b['description'],
            'langAll': b['langAll']}
        for b in call.store.placements.values()]


def placement_list(call, params):
    call.require_app()
    scope = _upper(params).get('SCOPE')
    scopes = {scope} if scope else call.caller.scopes
    return _available(call.store, scopes)


def placement_unbind(call, params):
    call.require_app()
    _require_admin(call)
    params = _upper(params)
    code = str(params.get('PLACEMENT') or '').upper()
    handler = params.get('HANDLER')
    user_id = params.get('USER_ID')
    gone = [i for i, b in call.store.placements.items()
        if b['placement'] == code and (not handler or b['handler'] == handler)
        and (user_id in (None, '') or b['userId'] == int(user_id))]
    for binding_id in gone:
        del call.store.placements[binding_id]
    # §12.2: n = rows found + rows deleted
    return {'count': 2 * len(gone)}


# Who calls: app.info, profile, users

def app_info(call, params):
    "§12.5 option A; a webhook gets its scope (S:rest_provider.php)"
    app = call.store.app
    if not call.caller.is_app:
        return {'SCOPE': sorted(call.caller.scopes), 'LICENSE': LICENSE}
    return {'ID': app['id'], 'CODE': app['client_id'],
        'VERSION': app['version'], 'STATUS': 'L',
        'INSTALLED': bool(app['installed']), 'PAYMENT_EXPIRED': 'N',
        'DAYS': None, 'LANGUAGE_ID': 'pl', 'LICENSE': LICENSE,
        'LICENSE_TYPE': 'project', 'LICENSE_FAMILY': 'project'}


def _offset(now):
    return int(dt.datetime.fromtimestamp(now, dates.PORTAL_TZ).utcoffset(
        ).total_seconds())


def profile(call, params):
    user = call.user
    return {'ID': str(user['id']), 'ADMIN': bool(user.get('admin')),
        'NAME': user['name'], 'LAST_NAME': user['last_name'],
        'PERSONAL_GENDER': user.get('gender', ''), 'TIME_ZONE': '',
        'TIME_ZONE_OFFSET': _offset(call.now())}


def user_view(user):
    return {'ID': str(user['id']), 'XML_ID': '', 'ACTIVE': bool(
            user.get('active', True)), 'NAME': user['name'],
        'LAST_NAME': user['last_name'], 'SECOND_NAME': '',
        'EMAIL': user['email'], 'LAST_LOGIN': None,
        'DATE_REGISTER': user.get('registered'), 'IS_ONLINE': 'N',
        'TIME_ZONE': '', 'TIME_ZONE_OFFSET': '0',
        'PERSONAL_GENDER': user.get('gender', ''), 'PERSONAL_PHOTO': '',
        'WORK_POSITION': user.get('position', ''), 'UF_DEPARTMENT': [1],
        'USER_TYPE': 'employee'}


def user_current(call, params):
    return user_view(call.user)


def _user_resolve(field):
    field = str(field).upper()
    if field == 'ACTIVE':
        return (lambda u: ['Y' if u.get('active', True) else 'N'],
            lambda v: 'Y' if v in (True, 'Y', '1', 1, 'true') else 'N')
    return (lambda u: [user_view(u).get(field)],
        lambda v: None if v in (None, '') else str(v).casefold())


def user_get(call, params):
    given = params.get('FILTER') or params.get('filter')
    if not isinstance(given, dict):
        given = {k: v for k, v in params.items() if str(k).upper() not in (
                'SORT', 'ORDER', 'ADMIN_MODE', 'START', 'FILTER', 'AUTH')}
    known = set(user_view({'id': 0, 'name': '', 'last_name': '',
                'email': ''}))
    predicate = filters.compile_filter(given, lambda f: _user_resolve(f)
        if str(f).upper() in known else None)
    users = [u for _, u in sorted(call.store.users.items()) if predicate(u)]
    chunk, total, following = filters.page(users, filters.start_of(params))
    return Listed([user_view(u) for u in chunk], total, following)


# Opening a placement (§12.4, §12.10.1)

def placement_form(portal, handler_url, placement, options=None, user_id=2,
        newer_fields=True, lang=None):
    """(url, form) of the browser's POST to a placement handler: the query
    DOMAIN, PROTOCOL, LANG, APP_SID, and the body fields of §12.4;
    PLACEMENT_OPTIONS a JSON string with string ids, omitted when empty"""
    store = portal.store
    user = store.users[int(user_id)]
    token = portal.tokens.issue(user['id'])
    app_sid = secrets.token_hex(16)
    query = {'DOMAIN': portal.domain,
        'PROTOCOL': '1' if portal.base_url.startswith('https:') else '0',
        'LANG': lang or user.get('lang', 'pl'), 'APP_SID': app_sid}
    url = handler_url + ('&' if '?' in handler_url else '?') + \
        urlencode(query)
    form = {'AUTH_ID': token['access_token'], 'AUTH_EXPIRES': '3600',
        'REFRESH_ID': token['refresh_token']}
    if newer_fields:
        form['SERVER_ENDPOINT'] = f'{portal.base_url}/oauth/rest/'
    form.update({'member_id': store.app['member_id'], 'status': 'L',
        'PLACEMENT': placement})
    if options:
        form['PLACEMENT_OPTIONS'] = php.dumps({k: str(v)
                if isinstance(v, (int, float)) and not isinstance(v, bool)
                else v for k, v in options.items()})
    if newer_fields:
        form['APPLICATION_TOKEN'] = store.app['application_token']
        form['APPLICATION_SCOPE'] = store.app['scope']
    return url, form


_PAGE = '''<!DOCTYPE html>
<html lang="pl"><head><meta charset="utf-8">
<title>Bitrix24: {title}</title></head>
<body>
<div id="workarea">
<iframe name="{frame}" id="app-frame" src="about:blank"
 allow="geolocation *; microphone *; camera *; autoplay *;"
 style="width: 100%; height: 600px; border: 0"></iframe>
</div>
<form id="app-form" method="POST" action="{action}" target="{frame}">
{inputs}
</form>
<script>
// The portal page of an application (§12.4, §12.7): it posts the form into
// the frame, then answers the BX24 library's messages
// "<cmd>:<json>:<callbackId>:<APP_SID>" only from the handler's origin with
// this APP_SID; every accepted message is kept in window.b24Messages
window.b24Messages = [];
(function () {{
  var origin = {origin}, sid = {sid}, init = {init};
  var frame = document.getElementById('app-frame');
  window.addEventListener('message', function (event) {{
    if (event.origin !== origin || typeof event.data !== 'string') return;
    var text = event.data, first = text.indexOf(':');
    var parts = text.split(':');
    if (first < 0 || parts.length < 4 || parts[parts.length - 1] !== sid)
      return;
    var command = text.slice(0, first);
    var callback = parts[parts.length - 2];
    var args = text.slice(first + 1, text.length - sid.length
      - callback.length - 2);
    var data = null;
    try {{ data = args ? JSON.parse(args) : null; }} catch (e) {{}}
    window.b24Messages.push({{command: command, data: data}});
    var result;
    if (command === 'getInitData') {{
      result = init;
    }} else if (command === 'resizeWindow' && data) {{
      if (data.width) frame.style.width = /%$/.test(String(data.width))
        ? data.width : data.width + 'px';
      if (data.height) frame.style.height = data.height + 'px';
      result = data;
    }} else if (command === 'setInstallFinish') {{
      fetch('/_control/set_installed', {{method: 'POST',
        headers: {{'Content-Type': 'application/json'}},
        body: '{{"installed": true}}'}});
      init.INSTALL = false;
      result = {{}};
    }}
    if (callback && event.source) {{
      event.source.postMessage(callback + ':' + (result === undefined
        ? '' : JSON.stringify(result)), origin);
    }}
  }});
  document.getElementById('app-form').submit();
}})();
</script>
</body></html>
'''


def placement_page(portal, handler_url, placement, options=None, user_id=2,
        newer_fields=True, lang=None):
    "The portal page that opens a placement in its frame (§12.10.1, 5)"
    url, form = placement_form(portal, handler_url, placement, options,
        user_id, newer_fields, lang)
    query = dict(p.split('=', 1) for p in url.split('?', 1)[1].split('&'))
    handler = urlsplit(handler_url)
    origin = f'{handler.scheme}://{handler.netloc}'
    user = portal.store.users[int(user_id)]
    init = {'LANG': lang or user.get('lang', 'pl'),
        'PROTOCOL': int(query['PROTOCOL']), 'DOMAIN': portal.domain,
        'PATH': '/rest/', 'AUTH_ID': form['AUTH_ID'],
        'AUTH_EXPIRES': 3600, 'REFRESH_ID': form['REFRESH_ID'],
        'MEMBER_ID': form['member_id'], 'FIRST_RUN': False,
        'IS_ADMIN': bool(user.get('admin')),
        'INSTALL': not portal.store.app.get('installed'),
        'USER_OPTIONS': [], 'APP_OPTIONS': [], 'PLACEMENT': placement,
        'PLACEMENT_OPTIONS': options or {}}
    frame = f'{portal.domain}|{query["PROTOCOL"]}|{query["APP_SID"]}'
    inputs = '\n'.join(
        f'<input type="hidden" name="{html.escape(k)}" '
        f'value="{html.escape(str(v))}">' for k, v in form.items())
    return _PAGE.format(title=html.escape(placement),
        frame=html.escape(frame), action=html.escape(url), inputs=inputs,
        origin=json.dumps(origin), sid=json.dumps(query['APP_SID']),
        init=json.dumps(init, ensure_ascii=False).replace('</', '<\\/'))


METHODS = {
    'placement.bind': (placement_bind, 'placement'),
    'placement.get': (placement_get, 'placement'),
    'placement.list': (placement_list, 'placement'),
    'placement.unbind': (placement_unbind, 'placement'),
    'app.info': (app_info, None),
    'profile': (profile, None),
    'user.current': (user_current, 'user'),
    'user.get': (user_get, 'user'),
    }
