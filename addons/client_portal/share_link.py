"""Links to one document for someone without a login (the client's
accountant, a bank). Only the SHA-256 of a link's token is stored: whoever
reads the database cannot open the links; the token itself is in the URL
the client was shown once. Every page or PDF fetched through a link is
logged."""
import datetime
import hashlib
import secrets

from sql import Null
from sql.aggregate import Count

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .mail import portal_url

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 30, 7
# 256 bits: 43 URL-safe characters
TOKEN_BYTES = 32
USER_AGENT_SIZE = 255
STATES = [
    ('active', "Active"),
    ('expired', "Expired"),
    ('revoked', "Revoked"),
    ]
FETCHED = [
    ('page', "Page"),
    ('pdf', "PDF"),
    ]


def hash_token(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def validity_error(days):
    "The message to show next to the validity, or None when it is valid"
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = None
    if days is None or not MIN_DAYS <= days <= MAX_DAYS:
        return gettext('client_portal.msg_share_link_validity',
            min=MIN_DAYS, max=MAX_DAYS)


class ShareLink(ModelSQL, ModelView):
    """Share Link

    A link that opens one document, without a login, until it expires or
    is revoked"""
    __name__ = 'portal.share.link'

    document = fields.Reference("Document", selection='get_documents',
        required=True, readonly=True)
    client = fields.Many2One('party.party', "Client", required=True,
        readonly=True, ondelete='CASCADE')
    created_by = fields.Many2One('web.user', "Created By", readonly=True,
        ondelete='SET NULL',
        states={'invisible': ~Eval('created_by')})
    created_by_staff = fields.Many2One('res.user', "Created By (Staff)",
        readonly=True, ondelete='SET NULL',
        states={'invisible': ~Eval('created_by_staff')})
    token_hash = fields.Char("Token Hash", required=True, readonly=True,
        strip=False)
    expires_at = fields.Timestamp("Expires", required=True, readonly=True)
    revoked_at = fields.Timestamp("Revoked", readonly=True)
    uses = fields.One2Many('portal.share.link.use', 'link', "Uses",
        readonly=True)
    use_count = fields.Function(fields.Integer("Uses"), 'get_use_count')
    state = fields.Function(fields.Selection(STATES, "State"), 'get_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.token_hash, Index.Equality())),
                Index(t, (t.document, Index.Equality())),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'revoke': {
                    'invisible': Bool(Eval('revoked_at')),
                    'depends': ['revoked_at'],
                    },
                })

    @classmethod
    def get_documents(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_documents()]

    @classmethod
    def _get_documents(cls):
        """Models of the documents a link may share: each has the client as
        its party and a get_pdf()"""
        return ['portal.document']

    @classmethod
    def get_use_count(cls, links, name):
        pool = Pool()
        Use = pool.get('portal.share.link.use')
        use = Use.__table__()
        cursor = Transaction().connection.cursor()
        counts = dict.fromkeys((l.id for l in links), 0)
        cursor.execute(*use.select(use.link, Count(use.id),
                where=use.link.in_(list(counts)), group_by=[use.link]))
        counts.update(cursor)
        return counts

    def get_state(self, name):
        if self.revoked_at:
            return 'revoked'
        if self.expires_at <= datetime.datetime.now():
            return 'expired'
        return 'active'

    @property
    def alive(self):
        return self.state == 'active'

    @classmethod
    def validate(cls, links):
        super().validate(links)
        with without_check_access():
            for link in links:
                # A link never shares a document of another client
                party = getattr(link.document, 'party', None)
                if party != link.client:
                    raise AccessError(gettext(
                            'client_portal.msg_share_link_document'))

    @classmethod
    def create_link(cls, document, client, web_user, days, staff=None):
        """A new link to the document valid for days, and its token: the
        only time the token is known. The client's portal user creates it,
        or a member of staff (a res.user) from the back office"""
        error = validity_error(days)
        if error:
            raise UserError(error)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link, = cls.create([{
                    'document': str(document),
                    'client': client.id,
                    'created_by': web_user.id if web_user else None,
                    'created_by_staff': staff.id if staff else None,
                    'token_hash': hash_token(token),
                    'expires_at': datetime.datetime.now()
                    + datetime.timedelta(days=int(days)),
                    }])
        return link, token

    @classmethod
    def of_document(cls, document):
        "The links to the document the user may read, newest first"
        return cls.search([('document', '=', str(document))])

    @classmethod
    @ModelView.button
    def revoke(cls, links):
        cls.revoke_links(links)

    @classmethod
    def revoke_links(cls, links):
        "Revoke the links; a revoked link keeps the time it first was"
        cls.write([l for l in links if not l.revoked_at], {
                'revoked_at': datetime.datetime.now(),
                })

    @classmethod
    def resolve(cls, token):
        """The live link of the token, or None: unknown, expired and
        revoked alike. The visitor has no login, so the lookup by the
        token's hash is the only access check"""
        if not token or len(token) > 100:
            return None
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, table.client, table.document,
                where=(table.token_hash == hash_token(token))
                & (table.revoked_at == Null)
                & (table.expires_at > datetime.datetime.now()),
                limit=1))
        row = cursor.fetchone()
        if row is None:
            return None
        id_, client, document = row
        return cls(id_, client=client, document=document)

    def log_use(self, fetched, ip, user_agent):
        Use = Pool().get('portal.share.link.use')
        with without_check_access():
            Use.create([{
                        'link': self.id,
                        'used_at': datetime.datetime.now(),
                        'ip': (ip or '')[:64] or None,
                        'user_agent': (user_agent or '')[:USER_AGENT_SIZE]
                        or None,
                        'fetched': fetched,
                        }])


class ShareLinkUse(ModelSQL, ModelView):
    "Share Link Use"
    __name__ = 'portal.share.link.use'

    link = fields.Many2One('portal.share.link', "Link", required=True,
        readonly=True, ondelete='CASCADE')
    used_at = fields.Timestamp("When", required=True, readonly=True)
    ip = fields.Char("IP Address", readonly=True)
    user_agent = fields.Char("User Agent", readonly=True,
        size=USER_AGENT_SIZE)
    fetched = fields.Selection(FETCHED, "Fetched", required=True,
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.link, Index.Equality())))
        cls._order = [('used_at', 'DESC'), ('id', 'DESC')]


class Document(metaclass=PoolMeta):
    __name__ = 'portal.document'

    def portal_share(self):
        "The document's links and the validity choices, as its page shows"
        ShareLink = Pool().get('portal.share.link')
        return {
            'links': ShareLink.of_document(self),
            'min_days': MIN_DAYS,
            'max_days': MAX_DAYS,
            'default_days': DEFAULT_DAYS,
            }


class CreateStart(ModelView):
    "Share a Document"
    __name__ = 'portal.share.link.create.start'
    __string__ = "Share a Document"

    document = fields.Reference("Document", selection='get_documents',
        required=True, readonly=True)
    days = fields.Integer("Valid for (days)", required=True,
        domain=[('days', '>=', MIN_DAYS), ('days', '<=', MAX_DAYS)],
        help="The link stops working after this many days; it can be "
        "revoked sooner.")

    @classmethod
    def get_documents(cls):
        return Pool().get('portal.share.link').get_documents()


class CreateResult(ModelView):
    "Share a Document"
    __name__ = 'portal.share.link.create.result'
    __string__ = "Shared Document Link"

    url = fields.Char("Link", readonly=True,
        help="Shown only now: the link is not stored, only its hash.")
    expires_at = fields.Timestamp("Expires", readonly=True)


class Create(Wizard):
    """Share a Document

    Staff create a link for someone without a login, as the client does on
    the document's page; the record rules decide which documents"""
    __name__ = 'portal.share.link.create'

    start = StateView('portal.share.link.create.start',
        'client_portal.share_link_create_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create Link", 'share', 'tryton-ok', default=True),
            ])
    share = StateTransition()
    result = StateView('portal.share.link.create.result',
        'client_portal.share_link_create_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        return {
            'document': str(self.record) if self.record else None,
            'days': DEFAULT_DAYS,
            }

    def transition_share(self):
        pool = Pool()
        ShareLink = pool.get('portal.share.link')
        User = pool.get('res.user')
        # The record the wizard runs on, not the form's copy of it
        document = self.record
        link, token = ShareLink.create_link(document, document.party, None,
            self.start.days, staff=User(Transaction().user))
        self.result.url = portal_url(f'shared/{token}')
        self.result.expires_at = link.expires_at
        return 'result'

    def default_result(self, fields):
        return {
            'url': self.result.url,
            'expires_at': self.result.expires_at,
            }
