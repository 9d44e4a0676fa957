"""Comments on a portal document: a thread between the client and the firm
under one record the client sees (a document the firm issued, an invoice
the client issued, a cost invoice, a contract of payroll_account).

The client is taken from the record when a comment is written, so the
record rules of the thread are those of its client. A client's comment is
announced to the client's manager in the back office; a reply of the firm
to the client by a card on the portal's home page and an e-mail at once."""
import datetime
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
from .chat import AUTHORS, MAX_LENGTH, body_error, clean_body
from .mail import client_recipients, portal_url, send_portal_email
from .staff_notification import notify_staff

# What may change once a comment is written: when the other side read it
MUTABLE = {'read_at'}


class Comment(ToTheFirm, ModelSQL, ModelView):
    "Comment on a Portal Document"
    __name__ = 'portal.comment'
    __string__ = "Comment on a Document"

    resource = fields.Reference(
        "Document", selection='get_resources', required=True,
        readonly=True)
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
        "Comment", required=True, readonly=True, size=MAX_LENGTH, strip=True)
    read_at = fields.Timestamp(
        "Read", readonly=True,
        help="When the other side read the comment.")
    date = fields.Function(fields.Timestamp("Date"), 'get_date')
    author_name = fields.Function(fields.Char("By"), 'get_author_name')
    manager = fields.Function(
        fields.Many2One('res.user', "Portal Manager"),
        'get_manager', searcher='search_manager')
    unread = fields.Function(
        fields.Boolean("Unread",
            help="A client's comment nobody at the firm has read yet."),
        'get_unread', searcher='search_unread')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.resource, Index.Equality()),
                    (t.id, Index.Range())),
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

    @classmethod
    def get_resources(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [(m, IrModel.get_name(m))
            for m in cls._get_resources()]

    @classmethod
    def _get_resources(cls):
        """{model: (field of its client, its page on the portal)}: the
        records a thread can be about; other modules add theirs"""
        return {
            'portal.document': ('party', 'documents/{}'),
            # The invoices the client issues to its own customers
            'account.invoice': ('portal_issuer', 'invoices/{}'),
            'portal.cost.invoice': ('client', 'costs/{}'),
            }

    @classmethod
    def resource_client(cls, resource):
        """The portal client of the record, read under the caller's access
        (a record it may not read raises AccessError); None for a record
        of no client (a firm's invoice has no portal_issuer)"""
        name, _ = cls._get_resources().get(resource.__name__, (None, None))
        if name is None:
            return None
        resource = resource.__class__(resource.id)
        return getattr(resource, name)

    @classmethod
    def resource_path(cls, resource):
        "The record's page in the portal, from the portal's root"
        _, path = cls._get_resources()[resource.__name__]
        return path.format(resource.id)

    @classmethod
    def check_modification(cls, mode, comments, values=None, external=False):
        super().check_modification(mode, comments, values=values,
            external=external)
        # What was said stays as it was said
        if mode == 'delete' or (mode == 'write' and set(values) - MUTABLE):
            raise AccessError(gettext('client_portal.msg_comment_immutable'))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('resource'):
            # The client is the record's, whatever was given: the record
            # rules then refuse a comment on another client's record
            resource = values['resource']
            if isinstance(resource, str):
                resource = resource.split(',')
            if isinstance(resource, (list, tuple)):
                model, id_ = resource
                resource = Pool().get(model)(int(id_))
            client = cls.resource_client(resource)
            if client is None:
                raise AccessError(
                    gettext('client_portal.msg_comment_no_client'))
            values['party'] = client.id
        return values

    @classmethod
    def create(cls, vlist):
        comments = super().create(vlist)
        cls._notify_staff([c for c in comments if c.author == 'client'])
        cls._notify_clients([c for c in comments if c.author == 'staff'])
        return comments

    @classmethod
    def _notify_staff(cls, comments):
        "One notification per record to the client's manager"
        by_resource = defaultdict(list)
        for comment in comments:
            by_resource[comment.resource].append(comment)
        items = []
        for resource, posted in by_resource.items():
            with without_check_access():
                title = resource.__class__(resource.id).rec_name
            party = posted[-1].party

            def label(party=party, title=title):
                return gettext('client_portal.msg_comment_notification',
                    client=party.rec_name, document=title)
            with without_check_access():
                manager = party.portal_manager
            items.append((manager, label, posted[-1].body,
                    [('resource', '=', str(resource))]))
        notify_staff(items, 'act_comment_form')

    @classmethod
    def _notify_clients(cls, comments):
        """A card on the client's home page and an e-mail at once to its
        active users, per reply; the reply's text stays in the portal, as
        the chat's"""
        Notification = Pool().get('portal.notification')
        if not comments:
            return
        with without_check_access():
            Notification.create([dict(cls._card_links(c.resource),
                        party=c.party.id, kind='comment_reply',
                        comment=c.id)
                    for c in comments])
            for comment in comments:
                recipients, language = client_recipients(comment.party)
                if not recipients:
                    continue
                resource = comment.resource.__class__(comment.resource.id)
                send_portal_email('comment_reply', recipients, language,
                    party=comment.party, title=resource.rec_name,
                    author=comment.author_name,
                    link=portal_url(cls.resource_path(resource)))

    @staticmethod
    def _card_links(resource):
        "The card's document or cost invoice: its number shows on the card"
        if resource.__name__ == 'portal.document':
            return {'document': resource.id}
        if resource.__name__ == 'portal.cost.invoice':
            return {'cost_invoice': resource.id}
        return {}

    @classmethod
    @ModelView.button
    def mark_read(cls, comments):
        "The firm read the client's comments"
        cls.write([c for c in comments if c.unread], {
                'read_at': datetime.datetime.now(),
                })

    @classmethod
    @ModelView.button_action('client_portal.wizard_comment_reply')
    def reply(cls, comments):
        pass

    @classmethod
    def post_staff_reply(cls, resource, body):
        """The current user's reply under the record; it answers, so marks
        read what the client wrote before"""
        body = clean_body(body)
        error = body_error(body)
        if error:
            raise UserError(error)
        comment, = cls.create([{
                    'resource': str(resource),
                    'author': 'staff',
                    'user': Transaction().user,
                    'body': body,
                    }])
        cls.mark_read(cls.search([
                    ('resource', '=', str(resource)),
                    ('id', '<', comment.id),
                    ('unread', '=', True),
                    ]))
        return comment

    # --- the portal: under the client's record rules ------------------------

    @classmethod
    def portal_post(cls, resource, web_user, body):
        "(comment, {}) or (None, {'body': error}) for the client's text"
        body = clean_body(body)
        error = body_error(body)
        if error:
            return None, {'body': error}
        comment, = cls.create([{
                    'resource': str(resource),
                    'author': 'client',
                    'web_user': web_user.id,
                    'body': body,
                    }])
        return comment, {}

    @classmethod
    def portal_thread(cls, resource):
        """The record's comments oldest first; the firm's replies and the
        cards announcing them are read once the client sees them"""
        Notification = Pool().get('portal.notification')
        comments = cls.search([('resource', '=', str(resource))],
            order=[('id', 'ASC')])
        shown = [{
                'id': c.id,
                'staff': c.author == 'staff',
                'author': c.author_name or '',
                'date': c.create_date,
                'body': c.body,
                'new': c.author == 'staff' and c.read_at is None,
                } for c in comments]
        replies = [c for c in comments
            if c.author == 'staff' and not c.read_at]
        # A page shown by a read-only request (a refused action's) leaves
        # them for the next view
        if replies and not Transaction().readonly:
            cls.write(replies, {'read_at': datetime.datetime.now()})
            Notification.mark_read(Notification.search([
                        ('kind', '=', 'comment_reply'),
                        ('comment', 'in', [c.id for c in replies]),
                        ('read_at', '=', None),
                        ]))
        return shown


class ReplyStart(ModelView):
    "Comment Reply"
    __name__ = 'portal.comment.reply.start'
    __string__ = "Reply to a Comment"

    resource = fields.Reference(
        "Document", selection='get_resources', required=True, readonly=True)
    body = fields.Text(
        "Comment", required=True, size=MAX_LENGTH,
        help="The client sees it under the document and gets an e-mail.")

    @classmethod
    def get_resources(cls):
        return Pool().get('portal.comment').get_resources()


class Reply(Wizard):
    "Reply to a Comment"
    __name__ = 'portal.comment.reply'

    start = StateView('portal.comment.reply.start',
        'client_portal.comment_reply_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    def default_start(self, fields):
        Comment = Pool().get('portal.comment')
        record = self.record
        if record is None:
            return {}
        if self.model.__name__ == 'portal.comment':
            return {'resource': str(record.resource)}
        if self.model.__name__ in Comment._get_resources():
            return {'resource': str(record)}
        return {}

    def transition_send(self):
        Comment = Pool().get('portal.comment')
        Comment.post_staff_reply(self.start.resource, self.start.body)
        return 'end'


class Notification(metaclass=PoolMeta):
    __name__ = 'portal.notification'

    comment = fields.Many2One(
        'portal.comment', "Comment", ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.append(
            ('comment_reply', "New reply to a comment"))


class Document(metaclass=PoolMeta):
    __name__ = 'portal.document'

    comments = fields.One2Many(
        'portal.comment', 'resource', "Comments", readonly=True)
