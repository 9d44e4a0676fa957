"""The chat between a portal client and its manager at the firm.

Messages are stored here whether or not the firm's Bitrix24 is connected:
without it the chat works between the portal and the back office. Every
creation ends in chat_posted, the hook a relay extends; here it tells the
other side (the manager by a Tryton notification, the client by a portal
notification card). Replies the client has not read for EMAIL_DELAY are
e-mailed by a cron, once."""
import datetime
import re
from collections import defaultdict

from sql import Null

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .authored import ToTheFirm
from .mail import client_recipients, portal_url, send_portal_email
from .staff_notification import notify_staff

MAX_LENGTH = 4000
EMAIL_DELAY = datetime.timedelta(minutes=10)
AUTHORS = [
    ('client', "Client"),
    ('staff', "Staff"),
    ]
# What may change once a message is written: who read it and when
MUTABLE = {'read_at', 'emailed'}


def clean_body(body):
    "The text as stored: line ends of any browser as \\n, trimmed"
    return re.sub(r'\r\n?', '\n', body or '').strip()


def body_error(body):
    "The message to show next to the field, or None for a valid text"
    if not body:
        return gettext('client_portal.msg_chat_empty')
    if len(body) > MAX_LENGTH:
        return gettext('client_portal.msg_chat_too_long',
            length=len(body), max=MAX_LENGTH)


class Message(ToTheFirm, ModelSQL, ModelView):
    "Chat Message"
    __name__ = 'portal.chat.message'

    party = fields.Many2One(
        'party.party', "Client", required=True, readonly=True,
        ondelete='CASCADE', domain=[('portal_client', '=', True)])
    author = fields.Selection(AUTHORS, "Author", required=True, readonly=True)
    web_user = fields.Many2One(
        'web.user', "Portal User", readonly=True, ondelete='SET NULL',
        states={'invisible': Eval('author') != 'client'})
    user = fields.Many2One(
        'res.user', "Staff User", readonly=True, ondelete='SET NULL',
        states={'invisible': Eval('author') != 'staff'})
    body = fields.Text(
        "Message", required=True, readonly=True, size=MAX_LENGTH, strip=True)
    read_at = fields.Timestamp(
        "Read", readonly=True,
        help="When the other side read the message.")
    emailed = fields.Boolean(
        "E-mailed", readonly=True,
        help="The client was told of this unread reply by e-mail.")
    date = fields.Function(fields.Timestamp("Date"), 'get_date')
    author_name = fields.Function(fields.Char("By"), 'get_author_name')
    manager = fields.Function(
        fields.Many2One('res.user', "Portal Manager"),
        'get_manager', searcher='search_manager')
    unread = fields.Function(
        fields.Boolean("Unread",
            help="A client's message nobody at the firm has read yet."),
        'get_unread', searcher='search_unread')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Equality()), (t.id, Index.Range())),
                # The cron's and the badges' unread messages
                Index(t, (t.party, Index.Equality()),
                    (t.author, Index.Equality(cardinality='low')),
                    where=t.read_at == Null),
                })
        cls._order = [
            ('unread', 'DESC'), ('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'mark_read': {
                    'invisible': ~Eval('unread', False),
                    'depends': ['unread'],
                    },
                'reply': {},
                })

    @staticmethod
    def default_emailed():
        return False

    @classmethod
    def check_modification(cls, mode, messages, values=None, external=False):
        super().check_modification(mode, messages, values=values,
            external=external)
        # What was said stays as it was said
        if mode == 'write' and set(values) - MUTABLE:
            raise AccessError(gettext('client_portal.msg_chat_immutable'))

    @classmethod
    def create(cls, vlist):
        messages = super().create(vlist)
        cls.chat_posted(messages)
        return messages

    @classmethod
    def chat_posted(cls, messages):
        """Called once messages are created: the hook a relay extends (the
        Bitrix24 bridge, BITRIX24.md §7). A client's message is announced to
        its manager in the back office, a reply to the client on the portal.
        A relay that stores the messages it receives marks them with a field
        of its own, so as not to send them back."""
        cls._notify_staff([m for m in messages if m.author == 'client'])
        cls._notify_clients([m for m in messages if m.author == 'staff'])

    @classmethod
    def _notify_staff(cls, messages):
        """One Tryton notification per client to its manager, opening the
        client's chat"""
        by_party = defaultdict(list)
        for message in messages:
            by_party[message.party].append(message)
        items = []
        for party, posted in by_party.items():
            def label(party=party):
                return gettext('client_portal.msg_chat_notification',
                    client=party.rec_name)
            with without_check_access():
                manager = party.portal_manager
            items.append((manager, label, posted[-1].body,
                    [('party', '=', party.id)]))
        notify_staff(items, 'act_chat_message_form')

    @classmethod
    def _notify_clients(cls, messages):
        """A card on the client's home page; one unread card per client
        however many replies"""
        pool = Pool()
        Notification = pool.get('portal.notification')
        parties = {m.party.id for m in messages}
        if not parties:
            return
        with without_check_access():
            waiting = {n.party.id for n in Notification.search([
                        ('party', 'in', list(parties)),
                        ('kind', '=', 'chat_reply'),
                        ('read_at', '=', None),
                        ])}
            Notification.create([{'party': p, 'kind': 'chat_reply'}
                    for p in sorted(parties - waiting)])

    @classmethod
    @ModelView.button
    def mark_read(cls, messages):
        "The firm read the client's messages"
        cls.write([m for m in messages if m.unread], {
                'read_at': datetime.datetime.now(),
                })

    @classmethod
    @ModelView.button_action('client_portal.wizard_chat_reply')
    def reply(cls, messages):
        pass

    @classmethod
    def post_staff_reply(cls, party, body):
        """The current user's reply to the client; it answers, so marks
        read what the client wrote before"""
        body = clean_body(body)
        error = body_error(body)
        if error:
            raise UserError(error)
        message, = cls.create([{
                    'party': party.id,
                    'author': 'staff',
                    'user': Transaction().user,
                    'body': body,
                    }])
        cls.mark_read(cls.search([
                    ('party', '=', party.id),
                    ('id', '<', message.id),
                    ('unread', '=', True),
                    ]))
        return message

    # --- the portal: under the client's record rules ------------------------

    @classmethod
    def portal_post(cls, party, web_user, body):
        "(message, {}) or (None, {'body': error}) for the client's text"
        body = clean_body(body)
        error = body_error(body)
        if error:
            return None, {'body': error}
        message, = cls.create([{
                    'party': party.id,
                    'author': 'client',
                    'web_user': web_user.id,
                    'body': body,
                    }])
        return message, {}

    @classmethod
    def portal_messages(cls, party, after=0, limit=100):
        """The client's messages oldest first, and whether some were left
        out: the latest ones, or those following the id after (a poll
        continues from the last one it got)"""
        domain = [('party', '=', party.id)]
        if after:
            domain.append(('id', '>', after))
            return cls.search(domain, order=[('id', 'ASC')], limit=limit), \
                False
        messages = cls.search(domain, order=[('id', 'DESC')],
            limit=limit + 1)
        more = len(messages) > limit
        return list(reversed(messages[:limit])), more

    @classmethod
    def portal_mark_read(cls, party, messages):
        """The client saw the replies: they are read, and so is the
        notification card of the chat"""
        pool = Pool()
        Notification = pool.get('portal.notification')
        replies = [m for m in messages
            if m.author == 'staff' and m.read_at is None]
        if not replies:
            return
        cls.write(replies, {'read_at': datetime.datetime.now()})
        Notification.mark_read(Notification.search([
                    ('party', '=', party.id),
                    ('kind', '=', 'chat_reply'),
                    ('read_at', '=', None),
                    ]))

    @classmethod
    def portal_unread_count(cls, party):
        "The replies the client has not seen, for the menu's badge"
        return cls.search_count([
                ('party', '=', party.id),
                ('author', '=', 'staff'),
                ('read_at', '=', None),
                ])

    @classmethod
    def portal_manager_name(cls, party):
        "The name of the client's manager, shown above the conversation"
        with without_check_access():
            manager = party.__class__(party.id).portal_manager
            return manager.rec_name if manager else None

    # --- the cron -----------------------------------------------------------

    @classmethod
    def email_unread_replies(cls, now=None):
        """Cron: one e-mail per client whose replies stayed unread for
        EMAIL_DELAY, to its active users with an address, in the language
        most of them use. Each reply is e-mailed once."""
        if now is None:
            now = datetime.datetime.now()
        replies = cls.search([
                ('author', '=', 'staff'),
                ('read_at', '=', None),
                ('emailed', '=', False),
                ('create_date', '<=', now - EMAIL_DELAY),
                ], order=[('id', 'ASC')])
        by_party = defaultdict(list)
        for reply in replies:
            by_party[reply.party].append(reply)
        sent = []
        for party, unread in by_party.items():
            recipients, language = client_recipients(party)
            if not recipients:
                # Nobody to tell: the replies wait on the portal
                continue
            sent.append(send_portal_email('chat_reply', recipients, language,
                    party=party, count=len(unread),
                    author=unread[-1].author_name, link=portal_url('chat')))
        cls.write(replies, {'emailed': True})
        return sent


class ReplyStart(ModelView):
    "Chat Reply"
    __name__ = 'portal.chat.reply.start'

    party = fields.Many2One(
        'party.party', "Client", required=True,
        domain=[('portal_client', '=', True)])
    body = fields.Text(
        "Message", required=True, size=MAX_LENGTH,
        help="The client sees it in the portal's chat.")


class Reply(Wizard):
    "Reply in the Chat"
    __name__ = 'portal.chat.reply'

    start = StateView('portal.chat.reply.start',
        'client_portal.chat_reply_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    def default_start(self, fields):
        record = self.record
        if record is None:
            return {}
        if self.model.__name__ == 'portal.chat.message':
            return {'party': record.party.id}
        if self.model.__name__ == 'party.party' and record.portal_client:
            return {'party': record.id}
        return {}

    def transition_send(self):
        Message = Pool().get('portal.chat.message')
        Message.post_staff_reply(self.start.party, self.start.body)
        return 'end'


class Notification(metaclass=PoolMeta):
    __name__ = 'portal.notification'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.append(('chat_reply', "New reply in the chat"))


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('portal.chat.message|email_unread_replies',
                "E-mail Portal Clients of Unread Chat Replies"))
