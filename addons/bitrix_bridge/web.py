"""The endpoint of Bitrix24's outbound events (facts: BITRIX24.md §8): a
form-encoded POST in PHP bracket notation, whose auth[application_token] is
compared in constant time with the token the settings hold. It is answered
at once: the event is only written down (event.py processes it after the
commit), because Bitrix24 does not retry and gives slow handlers a lower
priority."""
import hmac

from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.wsgi import app

# The events of the items the bridge writes: quotes carry only their id,
# smart-process events their entityTypeId too (§8)
QUOTE_EVENTS = {'ONCRMQUOTEADD', 'ONCRMQUOTEUPDATE', 'ONCRMQUOTEDELETE'}
ITEM_EVENTS = {'ONCRMDYNAMICITEMADD', 'ONCRMDYNAMICITEMUPDATE',
    'ONCRMDYNAMICITEMDELETE'}


def _entity_type(name, form):
    if name in QUOTE_EVENTS:
        return 7
    if name.split('_')[0] in ITEM_EVENTS:
        value = form.get('data[FIELDS][ENTITY_TYPE_ID]', '')
        if value.isdigit():
            return int(value)
    return None


@app.route('/<database_name>/bitrix/events', methods={'POST'})
@with_pool
@with_transaction()
def events(request, pool):
    try:
        Configuration = pool.get('bitrix.configuration')
        Event = pool.get('bitrix.event')
    except KeyError:
        # The bridge is not activated in this database
        abort(HTTPStatus.NOT_FOUND)
    stored = Configuration.get_secrets()['application_token'] or ''
    token = request.form.get('auth[application_token]', '')
    if not stored or not hmac.compare_digest(
            token.encode('utf-8'), stored.encode('utf-8')):
        abort(HTTPStatus.FORBIDDEN)
    name = request.form.get('event', '').upper()
    bitrix_id = request.form.get('data[FIELDS][ID]', '')
    entity_type_id = _entity_type(name, request.form)
    if not bitrix_id.isdigit():
        abort(HTTPStatus.BAD_REQUEST)
    if entity_type_id is not None and not name.endswith('DELETE'):
        Event.receive(name, entity_type_id, int(bitrix_id))
    return Response('OK', content_type='text/plain')
