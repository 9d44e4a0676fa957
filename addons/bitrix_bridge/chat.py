"""The portal chat relayed through Bitrix24's chat (facts: BITRIX24.md §7),
by polling: each client's conversation is a Bitrix24 chat with the client's
manager; the portal's messages go there with im.message.add and the
manager's replies are read with im.dialog.messages.get from a cursor. Why
polling (§7 ①) and not a bot: it needs no public address, works with the
inbound webhook the bridge already has, and costs one call per open
conversation and minute from the shared bucket; a bot (②, ③) needs a
public URL or an API Bitrix24 calls new. Without a connection the chat
stays local (client_portal/chat.py)."""
import datetime
import logging

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from client_portal.outbox import one_writer

from . import rest
from .configuration import get_configuration

logger = logging.getLogger(__name__)
# Messages not relayed after this long are left to staff (the error shows)
RELAY_DAYS = 7


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    bitrix_chat_id = fields.Integer("Bitrix24 Chat", readonly=True,
        help="The Bitrix24 chat of the client's portal conversation.")
    bitrix_chat_cursor = fields.Integer("Bitrix24 Chat Cursor",
        readonly=True)


class ChatMessage(metaclass=PoolMeta):
    __name__ = 'portal.chat.message'

    bitrix_message_id = fields.Integer("Bitrix24 Message", readonly=True)
    bitrix_error = fields.Char("Bitrix24 Error", readonly=True)

    @classmethod
    def check_modification(cls, mode, messages, values=None, external=False):
        # The relay's own fields may change, what was said may not
        if mode == 'write' and values:
            values = {k: v for k, v in values.items()
                if not k.startswith('bitrix_')}
        super().check_modification(mode, messages, values=values,
            external=external)

    @classmethod
    def chat_posted(cls, messages):
        super().chat_posted(messages)
        configuration = get_configuration()
        relay = [m for m in messages if m.bitrix_message_id is None]
        if relay and configuration.configured:
            cls.__queue__.bitrix_relay(relay)

    @classmethod
    def bitrix_cron(cls):
        "The cron: what waits to be relayed, and the managers' replies"
        cls.bitrix_relay()
        cls.bitrix_fetch()

    @classmethod
    def bitrix_relay(cls, messages=None):
        "The messages not yet in Bitrix24 (of `messages`, or all recent)"
        configuration = get_configuration()
        if not configuration.sending:
            return
        domain = [('bitrix_message_id', '=', None),
            ('create_date', '>', datetime.datetime.now()
                - datetime.timedelta(days=RELAY_DAYS))]
        if messages is not None:
            domain.append(('id', 'in', [m.id for m in messages]))
        with one_writer(), without_check_access(), \
                Transaction().set_user(0):
            pending = cls.search(domain, order=[('id', 'ASC')])
            if not pending:
                return
            with configuration.client() as client:
                for message in pending:
                    try:
                        message._relay(client)
                    except (rest.AuthError, rest.Moved) as error:
                        logger.error("Bitrix24 chat relay: %s", error)
                        return
                    except rest.Bitrix24Error as error:
                        cls.write([message], {'bitrix_error': str(error)})

    def _relay(self, client):
        chat_id = self._chat(client)
        if not chat_id:
            return
        text = f'[b]{self.author_name}[/b]: {self.body}'
        try:
            bitrix_id = client.call('im.message.add', {
                    'DIALOG_ID': f'chat{chat_id}', 'MESSAGE': text}).result
        except rest.Ambiguous:
            # No answer: the message may be there; look before sending again
            bitrix_id = _find(client, chat_id, text)
            if bitrix_id is None:
                raise
        self.write([self], {'bitrix_message_id': int(bitrix_id),
                'bitrix_error': None})

    def _chat(self, client):
        "The client's Bitrix24 chat, opened with its manager when missing"
        Party = Pool().get('party.party')
        party = self.party
        if party.bitrix_chat_id:
            return party.bitrix_chat_id
        manager = party.portal_manager
        if not manager or not manager.bitrix_user_id:
            self.write([self], {'bitrix_error': gettext(
                        'bitrix_bridge.msg_chat_no_manager')})
            return None
        chat_id = int(client.call('im.chat.add', {
                    'USERS': [manager.bitrix_user_id], 'TYPE': 'CHAT',
                    'TITLE': f'Portico: {party.rec_name}',
                    }).result)
        Party.write([party], {'bitrix_chat_id': chat_id})
        return chat_id

    @classmethod
    def bitrix_fetch(cls):
        """The managers' replies in the clients' Bitrix24 chats since each
        chat's cursor, stored as staff replies (and so announced to the
        client); the bridge's own messages are recognised by their id"""
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        configuration = get_configuration()
        if not configuration.sending:
            return
        with one_writer(), without_check_access(), \
                Transaction().set_user(0):
            parties = Party.search([('bitrix_chat_id', '!=', None)])
            if not parties:
                return
            with configuration.client() as client:
                for party in parties:
                    params = {'DIALOG_ID': f'chat{party.bitrix_chat_id}',
                        'LIMIT': 50}
                    if party.bitrix_chat_cursor:
                        params['FIRST_ID'] = party.bitrix_chat_cursor
                    try:
                        result = client.call('im.dialog.messages.get',
                            params).result
                    except rest.Bitrix24Error as error:
                        logger.warning("Bitrix24 chat of %s: %s",
                            party.rec_name, error)
                        continue
                    rows = sorted(result.get('messages') or [],
                        key=lambda m: int(m['id']))
                    if not rows:
                        continue
                    known = {m.bitrix_message_id for m in cls.search([
                                ('bitrix_message_id', 'in',
                                    [int(r['id']) for r in rows])])}
                    replies = []
                    for row in rows:
                        if int(row['id']) in known or not int(
                                row.get('author_id') or 0):
                            continue
                        users = User.search([('bitrix_user_id', '=',
                                    int(row['author_id']))], limit=1)
                        replies.append({
                                'party': party.id, 'author': 'staff',
                                'user': users[0].id if users else None,
                                'body': row.get('text') or '',
                                'bitrix_message_id': int(row['id']),
                                })
                    if replies:
                        cls.create(replies)
                    Party.write([party], {
                            'bitrix_chat_cursor': int(rows[-1]['id'])})


def _find(client, chat_id, text):
    "The id of the chat's last message with text, if Bitrix24 holds it"
    result = client.call('im.dialog.messages.get', {
            'DIALOG_ID': f'chat{chat_id}', 'LIMIT': 20}).result
    for row in result.get('messages') or []:
        if row.get('text') == text:
            return int(row['id'])
    return None


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('portal.chat.message|bitrix_cron',
                "Relay the Portal Chat through Bitrix24"))
