"""The client accepts or declines a proforma the firm issued.

A decision is evidence: who decided, when, from which address and browser,
and the SHA-256 of the PDF the portal served the client at that moment
(the same bytes as Document.get_pdf()), so that what was accepted can be
shown later. It is written once and never changed; a proforma is decided
once. The firm's manager is told in the back office, the client's users
get a confirmation by e-mail."""
import datetime
import hashlib

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from .chat import clean_body
from .mail import client_recipients, portal_url, send_portal_email
from .staff_notification import notify_staff

DECISIONS = [
    ('accepted', "Accepted"),
    ('declined', "Declined"),
    ]
ACCEPTANCE = [('none', "Not Decided")] + DECISIONS
REASON_SIZE = 1000
USER_AGENT_SIZE = 255


def pdf_hash(document):
    "SHA-256 of the PDF the portal serves for the document, or None"
    content = document.get_pdf()
    if content:
        return hashlib.sha256(bytes(content)).hexdigest()


class DecisionError(UserError):
    pass


class Decision(ModelSQL, ModelView):
    "Proforma Decision"
    __name__ = 'portal.document.decision'
    __string__ = "Proforma Decision"

    document = fields.Many2One(
        'portal.document', "Document", required=True, readonly=True,
        ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Client", required=True, readonly=True,
        ondelete='CASCADE')
    decision = fields.Selection(
        DECISIONS, "Decision", required=True, readonly=True)
    reason = fields.Text(
        "Reason", readonly=True, size=REASON_SIZE,
        states={'invisible': Eval('decision') != 'declined'})
    web_user = fields.Many2One(
        'web.user', "Portal User", readonly=True, ondelete='SET NULL')
    decided_at = fields.Timestamp("When", required=True, readonly=True)
    ip = fields.Char("IP Address", readonly=True)
    user_agent = fields.Char(
        "User Agent", readonly=True, size=USER_AGENT_SIZE)
    pdf_hash = fields.Char(
        "PDF SHA-256", readonly=True,
        help="The SHA-256 of the PDF the client was shown when deciding.")
    decided_by = fields.Function(fields.Char("By"), 'get_decided_by')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.document, Index.Equality()),
                (t.id, Index.Range(order='DESC'))))
        cls._order = [('decided_at', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return self.document.rec_name

    def get_decided_by(self, name):
        # The client's own user, as its side and the firm see it
        with without_check_access():
            if self.web_user:
                return self.web_user.full_name or self.web_user.email

    @staticmethod
    def reason_error(decision, reason):
        "The message next to the reason, or None"
        if decision == 'declined' and not reason:
            return gettext('client_portal.msg_decision_reason_required')
        if reason and len(reason) > REASON_SIZE:
            return gettext('client_portal.msg_decision_reason_too_long',
                length=len(reason), max=REASON_SIZE)

    @classmethod
    def check_modification(cls, mode, decisions, values=None,
            external=False):
        super().check_modification(mode, decisions, values=values,
            external=external)
        if mode in {'write', 'delete'}:
            raise AccessError(gettext('client_portal.msg_decision_immutable'))

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Document = pool.get('portal.document')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('document'):
            # Read under the caller's rules: another client's document
            # raises AccessError here
            document = Document(values['document'])
            values['party'] = document.party.id
            values.setdefault('decided_at', datetime.datetime.now())
            # The PDF as served now, whatever was given
            values['pdf_hash'] = pdf_hash(document)
        return values

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Document = pool.get('portal.document')
        documents = Document.browse({v['document'] for v in vlist
                if v.get('document')})
        # Two clicks at once must not both decide
        with without_check_access():
            Document.lock(documents)
        decisions = super().create(vlist)
        cls.decided(decisions)
        return decisions

    @classmethod
    def validate(cls, decisions):
        super().validate(decisions)
        for decision in decisions:
            decision.check_decision()

    def check_decision(self):
        document = self.document
        error = (self.reason_error(self.decision, self.reason)
            or document.decision_error(exclude=self))
        if error:
            raise DecisionError(error)

    @classmethod
    def decided(cls, decisions):
        """Called once decisions are created: the hook the Bitrix24 bridge
        extends; tells the firm and confirms to the client"""
        items = []
        for decision in decisions:
            document, party = decision.document, decision.party

            def label(decision=decision, party=party, document=document):
                return gettext(
                    f'client_portal.msg_decision_{decision.decision}'
                    '_notification',
                    client=party.rec_name, number=document.number)
            with without_check_access():
                manager = party.portal_manager
            items.append((manager, label, decision.reason or '',
                    [('document', '=', document.id)]))
        notify_staff(items, 'act_decision_form')
        with without_check_access():
            for decision in decisions:
                recipients, language = client_recipients(decision.party)
                if not recipients:
                    continue
                document = decision.document
                send_portal_email('decision', recipients, language,
                    party=decision.party, document=document,
                    decision=decision.decision, reason=decision.reason,
                    decided_by=decision.decided_by or '',
                    date=decision.decided_at,
                    link=portal_url(f'documents/{document.id}'))

    @classmethod
    def portal_decide(cls, document, decision, reason, web_user, ip=None,
            user_agent=None):
        """(decision, {}) or (None, {field: error}): the client's decision
        on the proforma, from the portal"""
        error = document.decision_error()
        if error:
            return None, {'decision': error}
        reason = clean_body(reason)
        error = cls.reason_error(decision, reason)
        if error:
            return None, {'reason': error}
        record, = cls.create([{
                    'document': document.id,
                    'decision': decision,
                    'reason': reason or None,
                    'web_user': web_user.id,
                    'ip': (ip or '')[:64] or None,
                    'user_agent': (user_agent or '')[:USER_AGENT_SIZE]
                    or None,
                    }])
        return record, {}


class Document(metaclass=PoolMeta):
    __name__ = 'portal.document'

    decisions = fields.One2Many(
        'portal.document.decision', 'document', "Decisions", readonly=True)
    acceptance = fields.Function(fields.Selection(
            ACCEPTANCE, "Acceptance",
            help="The client's decision on the proforma."),
        'get_acceptance')

    @classmethod
    def get_acceptance(cls, documents, name):
        Decision = Pool().get('portal.document.decision')
        result = {d.id: 'none' for d in documents}
        # Newest last: the latest decision wins
        for decision in Decision.search([
                    ('document', 'in', [d.id for d in documents]),
                    ], order=[('id', 'ASC')]):
            result[decision.document.id] = decision.decision
        return result

    @property
    def latest_decision(self):
        Decision = Pool().get('portal.document.decision')
        decisions = Decision.search([('document', '=', self.id)],
            order=[('id', 'DESC')], limit=1)
        return decisions[0] if decisions else None

    def decision_error(self, exclude=None):
        """Why the client cannot decide on this document now, or None: only
        an issued proforma, once, with its PDF"""
        Decision = Pool().get('portal.document.decision')
        if self.document_type != 'proforma':
            return gettext('client_portal.msg_decision_not_proforma',
                number=self.number)
        if self.state != 'issued':
            return gettext('client_portal.msg_decision_state',
                number=self.number)
        domain = [('document', '=', self.id)]
        if exclude is not None:
            domain.append(('id', '!=', exclude.id))
        with without_check_access():
            if Decision.search(domain, limit=1):
                return gettext('client_portal.msg_decision_already',
                    number=self.number)
        if not self.get_pdf():
            return gettext('client_portal.msg_decision_no_pdf',
                number=self.number)
