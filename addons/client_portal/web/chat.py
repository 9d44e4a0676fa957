"""The client's chat with its manager: the conversation and its form, and
the part htmx polls every few seconds for what was written since. Seeing a
reply marks it read; the record rules keep each client to its own chat."""
import re

from trytond.protocols.wrappers import HTTPStatus, abort

from ..chat import MAX_LENGTH
from .access import portal_route

# The latest messages a page shows, and a poll returns at most
SHOWN = 100
MESSAGE_ID = re.compile(r'[0-9]{1,10}')


def _message(message):
    "What a message's bubble shows, read before it is marked read"
    return {
        'id': message.id,
        'staff': message.author == 'staff',
        'author': message.author_name or '',
        'date': message.create_date,
        'body': message.body,
        'new': message.author == 'staff' and message.read_at is None,
        }


def _conversation(portal, after=0):
    "The messages after the id as the page shows them; replies now read"
    Message = portal.pool.get('portal.chat.message')
    messages, more = Message.portal_messages(portal.party, after, SHOWN)
    shown = [_message(m) for m in messages]
    Message.portal_mark_read(portal.party, messages)
    return shown, more


def render_chat(portal, body='', errors=None, status=HTTPStatus.OK):
    Message = portal.pool.get('portal.chat.message')
    messages, more = _conversation(portal)
    return portal.render('chat/chat.html', status=status,
        messages=messages, more=more, shown=SHOWN,
        last_id=messages[-1]['id'] if messages else 0,
        manager=Message.portal_manager_name(portal.party),
        body=body, errors=errors or {}, max_length=MAX_LENGTH)


@portal_route('/chat', methods=('GET', 'POST'), readonly=False)
def chat(request, portal):
    if request.method == 'POST':
        Message = portal.pool.get('portal.chat.message')
        body = request.form.get('body', '')
        _, errors = Message.portal_post(portal.party, portal.web_user, body)
        if errors:
            return render_chat(portal, body=body, errors=errors,
                status=HTTPStatus.UNPROCESSABLE_ENTITY)
        return portal.redirect('chat')
    return render_chat(portal)


@portal_route('/chat/messages', readonly=False)
def chat_messages(request, portal):
    """The messages after ?after=<id>, appended by htmx, and the poller
    asking from the newest one on"""
    after = request.args.get('after', '')
    if not MESSAGE_ID.fullmatch(after) or int(after) > 2 ** 31 - 1:
        abort(HTTPStatus.NOT_FOUND)
    after = int(after)
    messages, _ = _conversation(portal, after)
    return portal.render('chat/messages.html', page='chat',
        messages=messages,
        last_id=messages[-1]['id'] if messages else after)
