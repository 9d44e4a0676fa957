"""Requests (cases) a portal client raises with the firm: a report, a
certificate, the early closure of a service, a question.

Each request gets a number of one strict sequence (no gap, never twice),
the client's manager as the responsible, and a deadline the kind's service
time in working days away (Polish public holidays are no working days). Every step is a row of its history
(request_event.py), written as the request changes: whoever changes the
state or the responsible, from whichever screen, leaves a trace. A client's
entries tell the responsible manager in the back office; the firm's replies
and state changes tell the client on the portal and by e-mail at once."""
import datetime
from collections import defaultdict

from sql.aggregate import Max

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Workflow, fields,
    sequence_ordered)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .chat import body_error, clean_body
from .ir import WEB_USER_KEY
from .holidays import add_working_days
from .mail import portal_url, send_portal_email
from .scan import check_scan
from .staff_notification import notify_staff

SUBJECT_SIZE = 200
STATES = [
    ('new', "New"),
    ('in_progress', "In Progress"),
    ('waiting', "Waiting for the Client"),
    ('done', "Done"),
    ('rejected', "Rejected"),
    ]
OPEN = ('new', 'in_progress', 'waiting')
CLOSED = ('done', 'rejected')
# A change made inside this context tells nobody: the reply that comes with
# it does (one e-mail for "here is the answer, now it is your turn")
SILENT = '_portal_request_silent'
# The reason of a rejection, written with the state change it explains
NOTE = '_portal_request_note'


def today():
    "The firm's day, as the portal's documents count it"
    return Pool().get('portal.document').today()


def actor():
    """Who acts, as the history records it: the portal's web user, or the
    back office's user"""
    transaction = Transaction()
    web_user = transaction.context.get(WEB_USER_KEY)
    if web_user:
        return {'author': 'client', 'web_user': web_user}
    return {'author': 'staff', 'user': transaction.user or None}


class RequestKind(
        DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "Request Kind"
    __name__ = 'portal.request.kind'
    __string__ = "Request Kind"

    name = fields.Char("Name", required=True, translate=True)
    service_days = fields.Integer(
        "Service Time", required=True,
        domain=[('service_days', '>=', 0)],
        help="The working days (Monday to Friday) the firm takes to handle "
        "a request of this kind: its deadline.")
    description = fields.Text(
        "Description", translate=True,
        help="Shown to the client who chooses the kind.")

    @classmethod
    def default_service_days(cls):
        return 5


class Request(Workflow, ModelSQL, ModelView):
    "Client Request"
    __name__ = 'portal.request'
    __string__ = "Request"
    _rec_name = 'number'

    number = fields.Char("Number", readonly=True)
    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE',
        domain=[('portal_client', '=', True)],
        states={'readonly': Eval('id', -1) >= 0})
    kind = fields.Many2One(
        'portal.request.kind', "Kind", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0})
    subject = fields.Char(
        "Subject", required=True, size=SUBJECT_SIZE,
        states={'readonly': Eval('id', -1) >= 0})
    description = fields.Text(
        "Description", states={'readonly': Eval('id', -1) >= 0})
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    responsible = fields.Many2One(
        'res.user', "Responsible", ondelete='SET NULL',
        states={'readonly': Eval('state').in_(list(CLOSED))},
        help="The staff member who handles the request; by default the "
        "client's manager.")
    deadline = fields.Date("Deadline", readonly=True)
    closed_at = fields.Timestamp("Closed", readonly=True)
    web_user = fields.Many2One(
        'web.user', "Raised By", readonly=True, ondelete='SET NULL')
    events = fields.One2Many(
        'portal.request.event', 'request', "History", readonly=True)
    overdue = fields.Function(
        fields.Boolean("Overdue",
            help="Open after its deadline."),
        'get_overdue', searcher='search_overdue')
    days_overdue = fields.Function(
        fields.Integer("Days Overdue"), 'get_days_overdue')
    last_update = fields.Function(
        fields.Timestamp("Last Update"), 'get_last_update')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Equality()), (t.id, Index.Range())),
                Index(t, (t.responsible, Index.Equality()),
                    (t.state, Index.Equality(cardinality='low'))),
                # The overdue: open ones past their deadline
                Index(t, (t.deadline, Index.Range()),
                    where=t.state.in_(OPEN)),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('new', 'in_progress'), ('new', 'waiting'),
            ('in_progress', 'waiting'), ('waiting', 'in_progress'),
            } | {(s, c) for s in OPEN for c in CLOSED}
        opened = Eval('state').in_(list(OPEN))
        cls._buttons.update({
                'take': {
                    'invisible': ~opened,
                    'depends': ['state'],
                    },
                'start': {
                    'invisible': ~Eval('state').in_(['new', 'waiting']),
                    'depends': ['state'],
                    },
                'wait': {
                    'invisible': ~Eval('state').in_(['new', 'in_progress']),
                    'depends': ['state'],
                    },
                'done': {
                    'invisible': ~opened,
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': ~opened,
                    'depends': ['state'],
                    },
                'reply': {
                    'invisible': ~opened,
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'new'

    @fields.depends('party')
    def on_change_party(self):
        if self.party and self.party.portal_manager:
            self.responsible = self.party.portal_manager

    @property
    def is_open(self):
        return self.state in OPEN

    def get_overdue(self, name):
        return bool(self.state in OPEN and self.deadline
            and self.deadline < today())

    @classmethod
    def search_overdue(cls, name, clause):
        _, operator, value = clause[:3]
        date = today()
        if (operator == '=') == bool(value):
            return [('deadline', '<', date), ('state', 'in', list(OPEN))]
        return ['OR', ('deadline', '>=', date), ('deadline', '=', None),
            ('state', 'not in', list(OPEN))]

    def get_days_overdue(self, name):
        if self.get_overdue(name):
            return (today() - self.deadline).days

    @classmethod
    def get_last_update(cls, requests, name):
        "When the history last moved, read for all the requests at once"
        Event = Pool().get('portal.request.event')
        event = Event.__table__()
        cursor = Transaction().connection.cursor()
        result = {r.id: r.create_date for r in requests}
        cursor.execute(*event.select(event.request, Max(event.create_date),
                where=event.request.in_(list(result)),
                group_by=[event.request]))
        for request_id, date in cursor:
            if isinstance(date, str):
                date = datetime.datetime.fromisoformat(date)
            result[request_id] = date
        return result

    @classmethod
    def _new_values(cls, values):
        "The number, deadline and responsible of a request being created"
        pool = Pool()
        Sequence = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')
        Kind = pool.get('portal.request.kind')
        Party = pool.get('party.party')
        values = values.copy()
        with without_check_access():
            sequence = Sequence(ModelData.get_id(
                    'client_portal', 'sequence_portal_request'))
            # The strict sequence locks its row until the commit: a number
            # is taken once and a rollback gives it back, leaving no gap
            values['number'] = sequence.get()
            kind = Kind(values['kind'])
            values['deadline'] = add_working_days(
                today(), kind.service_days or 0)
            if 'responsible' not in values:
                manager = Party(values['party']).portal_manager
                values['responsible'] = manager.id if manager else None
        values.setdefault('state', 'new')
        if actor()['author'] == 'client':
            values['web_user'] = actor()['web_user']
        return values

    @classmethod
    def create(cls, vlist):
        Event = Pool().get('portal.request.event')
        requests = super().create([cls._new_values(v) for v in vlist])
        # The first line of each history: raised, by whom
        Event.create([{
                    'request': r.id,
                    'kind': 'state',
                    'new_state': r.state,
                    **actor(),
                    } for r in requests])
        return requests

    @classmethod
    def copy(cls, requests, default=None):
        # A request is the client's, with its own history: never copied
        if requests:
            raise UserError(gettext('client_portal.msg_request_copy'))
        return super().copy(requests, default=default)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'write' and 'state' in values:
            values['closed_at'] = (datetime.datetime.now()
                if values['state'] in CLOSED else None)
        return values

    @classmethod
    def on_write(cls, requests, values):
        """The history of every change of state or responsible, whoever
        makes it: the rows are written after the change"""
        callbacks = super().on_write(requests, values)
        if not {'state', 'responsible'} & set(values):
            return callbacks
        before = {r.id: (r.state, r.responsible.id if r.responsible
                else None) for r in requests}
        context = Transaction().context
        who = actor()
        note = context.get(NOTE)

        def record():
            Event = Pool().get('portal.request.event')
            rows = []
            for request in cls.browse(list(before)):
                state, responsible = before[request.id]
                if request.state != state:
                    rows.append({'request': request.id, 'kind': 'state',
                            'old_state': state, 'new_state': request.state,
                            'body': note, **who})
                new_responsible = (request.responsible.id
                    if request.responsible else None)
                if new_responsible != responsible:
                    rows.append({'request': request.id,
                            'kind': 'assignment',
                            'old_responsible': responsible,
                            'new_responsible': new_responsible, **who})
            Event.create(rows)
        callbacks.append(record)
        return callbacks

    # --- the back office's buttons ------------------------------------------

    @classmethod
    @ModelView.button
    def take(cls, requests):
        "The current user becomes responsible"
        user = Transaction().user
        cls.write([r for r in requests
                if r.is_open and (not r.responsible
                    or r.responsible.id != user)],
            {'responsible': user})

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def start(cls, requests):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('waiting')
    def wait(cls, requests):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, requests):
        pass

    @classmethod
    @ModelView.button_action('client_portal.wizard_request_reject')
    def reject(cls, requests):
        pass

    @classmethod
    def do_reject(cls, requests, reason):
        """Refuse the open requests with the reason the client reads, kept
        in the history with the change"""
        reason = clean_body(reason)
        if not reason:
            raise UserError(gettext('client_portal.msg_request_reason'))
        with Transaction().set_context(**{NOTE: reason}):
            cls.write([r for r in requests if r.is_open],
                {'state': 'rejected'})

    @classmethod
    @ModelView.button_action('client_portal.wizard_request_reply')
    def reply(cls, requests):
        pass

    # --- messages, from either side ------------------------------------------

    def check_open(self):
        if not self.is_open:
            raise UserError(gettext('client_portal.msg_request_closed',
                    number=self.number))

    def add_message(self, body, files=()):
        """The message (and files, scan.Scan) of whoever acts; refused on a
        closed request. A client who answers a request waiting for it gives
        it back to the firm."""
        Event = Pool().get('portal.request.event')
        self.check_open()
        who = actor()
        if who['author'] == 'client' and self.state == 'waiting':
            # Not the staff's button: the client's answer is the reason
            self.__class__.write([self], {'state': 'in_progress'})
        return Event.create([{'request': self.id, 'kind': 'message',
                    'body': body, **who}]
            + [Event.file_values(self, f, who) for f in files])

    def post_staff_reply(self, body, files=(), wait=False):
        """The current user's reply; wait: the request then waits for the
        client's answer, which the one e-mail of the reply tells"""
        self.check_open()
        if wait and self.state != 'waiting':
            with Transaction().set_context(**{SILENT: True}):
                self.__class__.wait([self])
        return self.add_message(body, files)

    # --- telling the other side ----------------------------------------------

    @classmethod
    def announce(cls, events):
        """Called once history rows are written: the client's new requests
        and messages go to the responsible, the firm's messages and state
        changes to the client, an assignment to the one assigned"""
        by_request = defaultdict(list)
        for event in events:
            by_request[event.request].append(event)
        to_staff, to_client, assigned = [], [], []
        silent = Transaction().context.get(SILENT)
        for request, rows in by_request.items():
            told = [e for e in rows if e.kind == 'message'
                or (e.kind == 'state' and e.old_state)]
            if rows[0].author == 'client':
                if any(e.kind == 'message' or (e.kind == 'state'
                            and not e.old_state) for e in rows):
                    to_staff.append((request, rows))
            elif told and not silent:
                to_client.append((request, told))
            assigned.extend((request, e) for e in rows
                if e.kind == 'assignment' and e.new_responsible
                and e.new_responsible.id != Transaction().user)
        with without_check_access():
            cls._notify_staff(to_staff, assigned)
            cls._notify_client(to_client)

    @classmethod
    def _notify_staff(cls, raised, assigned):
        """A Tryton notification opening the request: to its responsible
        (the portal heads when there is none), and to whom it is assigned"""
        items = []

        def item(user, request, message, description):
            def label():
                return gettext(f'client_portal.{message}',
                    number=request.number, client=request.party.rec_name)
            items.append((user, label, description,
                    [('id', '=', request.id)]))
        for request, rows in raised:
            messages = [e for e in rows if e.kind == 'message']
            if messages:
                item(request.responsible, request,
                    'msg_request_notification_reply', messages[-1].body)
            else:
                item(request.responsible, request,
                    'msg_request_notification_new', request.subject)
        for request, event in assigned:
            item(event.new_responsible, request,
                'msg_request_notification_assigned', request.subject)
        notify_staff(items, 'act_request_form')

    @classmethod
    def _notify_client(cls, told):
        """A card on the client's home page (one unread per request and
        kind) and an e-mail at once to its active users with an address"""
        pool = Pool()
        Card = pool.get('portal.notification')
        if not told:
            return
        kinds = {}
        for request, rows in told:
            replied = any(e.kind == 'message' for e in rows)
            kinds[request] = 'request_reply' if replied else 'request_state'
        waiting = {(c.request.id, c.kind) for c in Card.search([
                    ('request', 'in', [r.id for r in kinds]),
                    ('read_at', '=', None),
                    ])}
        Card.create([{'party': r.party.id, 'kind': k, 'request': r.id}
                for r, k in kinds.items() if (r.id, k) not in waiting])
        for request, rows in told:
            messages = [e for e in rows if e.kind == 'message']
            for user in request.party.portal_users:
                if not (user.active and user.email):
                    continue
                send_portal_email('request_update', user.email,
                    user.portal_language or 'pl', request=request,
                    reply=messages[-1] if messages else None,
                    author=messages[-1].author_name if messages else None,
                    note=rows[-1].body if rows[-1].kind == 'state' else None,
                    link=portal_url(f'requests/{request.id}'))

    # --- the portal: under the client's record rules -------------------------

    @classmethod
    def portal_kinds(cls):
        "The kinds a client may choose, in order"
        Kind = Pool().get('portal.request.kind')
        return Kind.search([])

    @classmethod
    def portal_create(cls, party, kind, subject, description, files=()):
        "The client's request with its files; its number is taken now"
        Event = Pool().get('portal.request.event')
        request, = cls.create([{
                    'party': party.id,
                    'kind': kind.id,
                    'subject': subject,
                    'description': description or None,
                    }])
        if files:
            who = actor()
            Event.create([Event.file_values(request, f, who) for f in files])
        return request

    def portal_responsible_name(self):
        "The name of the staff member handling it, as the client sees it"
        with without_check_access():
            responsible = self.__class__(self.id).responsible
            return responsible.rec_name if responsible else None

    def portal_mark_read(self):
        "The client saw the request: its cards are read"
        Card = Pool().get('portal.notification')
        Card.mark_read(Card.search([
                    ('request', '=', self.id),
                    ('read_at', '=', None),
                    ]))


class ReplyStart(ModelView):
    "Request Reply"
    __name__ = 'portal.request.reply.start'
    __string__ = "Reply to a Request"

    body = fields.Text("Message", required=True,
        help="The client reads it on the portal and by e-mail at once.")
    file = fields.Binary("File", filename='file_name',
        help="A PDF, JPEG or PNG of at most 10 MB.")
    file_name = fields.Char("File Name")
    wait = fields.Boolean("Wait for the Client",
        help="The request then waits for the client's answer.")


class Reply(Wizard):
    "Reply to a Request"
    __name__ = 'portal.request.reply'

    start = StateView('portal.request.reply.start',
        'client_portal.request_reply_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    def transition_send(self):
        body = clean_body(self.start.body)
        error = body_error(body)
        if error:
            raise UserError(error)
        files = []
        if self.start.file:
            files.append(check_scan(bytes(self.start.file),
                    self.start.file_name))
        self.record.post_staff_reply(body, files, wait=self.start.wait)
        return 'end'


class RejectStart(ModelView):
    "Reject Request"
    __name__ = 'portal.request.reject.start'
    __string__ = "Reject Request"

    reason = fields.Text("Reason", required=True,
        help="The client reads it on the portal and by e-mail.")


class Reject(Wizard):
    "Reject Request"
    __name__ = 'portal.request.reject'

    start = StateView('portal.request.reject.start',
        'client_portal.request_reject_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reject", 'reject', 'tryton-ok', default=True),
            ])
    reject = StateTransition()

    def transition_reject(self):
        Request = Pool().get('portal.request')
        Request.do_reject([r for r in self.records if r.is_open],
            self.start.reason)
        return 'end'


class Notification(metaclass=PoolMeta):
    __name__ = 'portal.notification'

    request = fields.Many2One(
        'portal.request', "Request", ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.extend([
                ('request_reply', "New reply to a request"),
                ('request_state', "Request status changed"),
                ])
