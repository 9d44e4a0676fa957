"""The controls over HTTP, for the demo and browser tests in another
process: ``POST /_control/<name>`` with a JSON object of the keyword
arguments of the App method of that name answers its result as JSON
(``GET`` with query arguments works for the ones that only read).

Names: reset, items, product_rows, companies, contacts, products,
timeline_comments, calls, clear_calls, set_limits, inject, clear_faults,
set_stage, update_item, add_post, edit_post, delete_post, reply,
chat_messages, add_user, add_webhook, add_outgoing_webhook,
events_delivered, wait_events, set_event_delivery, issue_user_token,
issue_tokens, expire_token, set_installed, open_placement; and ``health``
(the portal's URLs and credentials).
"""
import json

from werkzeug.wrappers import Response

from .errors import RestError

CONTROLS = ('reset', 'items', 'product_rows', 'companies', 'contacts',
    'products', 'timeline_comments', 'calls', 'clear_calls', 'set_limits',
    'inject', 'clear_faults', 'set_stage', 'update_item', 'add_post',
    'edit_post', 'delete_post', 'reply', 'chat_messages', 'add_user',
    'add_webhook', 'add_outgoing_webhook', 'events_delivered', 'wait_events',
    'set_event_delivery', 'issue_user_token', 'issue_tokens', 'expire_token',
    'set_installed', 'open_placement')


def _answer(body, status=200):
    return Response(json.dumps(body, ensure_ascii=False), status=status,
        content_type='application/json; charset=utf-8')


def health(app):
    return {'ok': True, 'base_url': app.base_url,
        'webhook_url': f'{app.base_url}/rest/1/{app.webhook_code}/',
        'webhook_code': app.webhook_code, 'oauth': app.oauth,
        'oauth_token_url': f'{app.base_url}/oauth/token/',
        'server_endpoint': f'{app.base_url}/oauth/rest/'}


def handle(app, request, name):
    name = name.strip('/')
    if name == 'health':
        return _answer(health(app))
    if name not in CONTROLS:
        return _answer({'error': f'unknown control {name!r}'}, 404)
    if request.method == 'POST':
        data = request.get_data()
        try:
            kwargs = json.loads(data) if data.strip() else {}
        except ValueError as e:
            return _answer({'error': f'invalid JSON: {e}'}, 400)
        if not isinstance(kwargs, dict):
            return _answer({'error': 'a JSON object is expected'}, 400)
    elif request.method == 'GET':
        kwargs = dict(request.args)
    else:
        return _answer({'error': 'use POST'}, 405)
    try:
        result = getattr(app, name)(**kwargs)
    except RestError as e:
        return _answer(e.body(), 400)
    except (TypeError, ValueError, KeyError) as e:
        return _answer({'error': f'{type(e).__name__}: {e}'}, 400)
    return _answer(list(result) if isinstance(result, tuple) else result)
