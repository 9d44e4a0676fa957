"""What comes back from Bitrix24 (facts: BITRIX24.md §8): its outbound
events and a periodic reconciliation, because events carry only an id, are
not retried and can be lost.

The events endpoint (web.py) checks the application token and only writes
an entry here, answered at once; the queue (after the commit) and a cron
every minute process the entries: the item is read back, and a stage a
Bitrix24 user set is turned into the record's status through the mappings
(a cost invoice moved to the "approved" stage is approved, as the Bitrix24
user's staff user). Our own writes come back as events too: an item whose
stage is the one last sent or read is left alone, so nothing loops. The
reconciliation lists the items updated since its cursor (updatedTime) and
handles those whose stage differs from the link's."""
import datetime
import logging

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import (
    Transaction, check_access, without_check_access)

from client_portal.outbox import backoff, claim_due, one_writer

from . import rest
from .configuration import get_configuration
from .mapping import COMPANY, CONTACT, PRODUCT

logger = logging.getLogger(__name__)

STATES = [
    ('queued', "Pending"),
    ('done', "Done"),
    ('failed', "Failed"),
    ]
MAX_ATTEMPTS = 5
# The reconciliation reads again what changed shortly before its cursor:
# Bitrix24's clock and commit order are not ours
OVERLAP = datetime.timedelta(minutes=5)


class Event(ModelSQL, ModelView):
    "Bitrix24 Event"
    __name__ = 'bitrix.event'
    __string__ = "Bitrix24 Event"

    name = fields.Char("Event", required=True, readonly=True)
    entity_type_id = fields.Integer("Entity Type", readonly=True)
    bitrix_id = fields.Integer("Bitrix24 ID", required=True, readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt_at = fields.Timestamp("Next Attempt", readonly=True)
    result = fields.Text("Result", readonly=True)
    done_at = fields.Timestamp("Done At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'failed', 'danger', '')),
            ]

    @classmethod
    def receive(cls, name, entity_type_id, bitrix_id):
        "An event Bitrix24 delivered: kept, processed after the commit"
        with without_check_access(), Transaction().set_user(0):
            event, = cls.create([{'name': name,
                        'entity_type_id': entity_type_id,
                        'bitrix_id': bitrix_id}])
        cls.__queue__.process([event])
        return event

    @classmethod
    def process_due(cls):
        "The cron: every event due"
        cls.process()

    @classmethod
    def process(cls, events=None):
        configuration = get_configuration()
        if not configuration.sending:
            return
        ids = [e.id for e in events] if events is not None else None
        with one_writer(), without_check_access(), \
                Transaction().set_user(0):
            claimed = claim_due(cls, ['queued'], ids)
            if not claimed:
                return
            with configuration.client() as client:
                for event in claimed:
                    event._process(client)

    def _process(self, client):
        now = datetime.datetime.now()
        try:
            result = apply_item(client, self.entity_type_id, self.bitrix_id)
        except (rest.AuthError, rest.Moved) as error:
            self.write([self], {'result': str(error),
                    'next_attempt_at': now + datetime.timedelta(minutes=15)})
            return
        except rest.Bitrix24Error as error:
            attempts = self.attempts + 1
            failed = not error.retryable or attempts >= MAX_ATTEMPTS
            self.write([self], {
                    'attempts': attempts, 'result': str(error),
                    'state': 'failed' if failed else 'queued',
                    'done_at': now if failed else None,
                    'next_attempt_at': now + datetime.timedelta(
                        seconds=backoff(attempts, 5, 600)),
                    })
            return
        self.write([self], {'state': 'done', 'result': result,
                'done_at': now})

    @classmethod
    def reconcile(cls):
        """The cron: the mapped items updated in Bitrix24 since the last
        run, their stages applied as events' are"""
        pool = Pool()
        Mapping = pool.get('bitrix.mapping')
        Configuration = pool.get('bitrix.configuration')
        configuration = get_configuration()
        if not configuration.sending:
            return
        types = {m.entity_type_id for m in Mapping.search([])
            if m.entity_type_id not in {COMPANY, CONTACT, PRODUCT}}
        since = configuration.reconciled_until
        latest = since
        with one_writer(), without_check_access(), \
                Transaction().set_user(0), configuration.client() as client:
            for entity_type_id in sorted(types):
                where = {}
                if since:
                    where['>updatedTime'] = (since - OVERLAP).isoformat()
                for item in client.list_all('crm.item.list', {
                            'entityTypeId': entity_type_id,
                            'select': ['id', 'stageId', 'updatedTime',
                                'updatedBy', 'movedBy'],
                            'filter': where}):
                    apply_item(client, entity_type_id, int(item['id']),
                        item)
                    updated = rest.parse_datetime(item['updatedTime'])
                    updated = updated.astimezone().replace(tzinfo=None)
                    if latest is None or updated > latest:
                        latest = updated
            if latest != since:
                Configuration.write([Configuration(1)],
                    {'reconciled_until': latest})


def apply_item(client, entity_type_id, bitrix_id, item=None):
    """Apply the stage of a Bitrix24 item to its record; what was done, as
    a line for staff"""
    pool = Pool()
    Link = pool.get('bitrix.link')
    Mapping = pool.get('bitrix.mapping')
    User = pool.get('res.user')
    links = Link.search([('entity_type_id', '=', entity_type_id),
            ('bitrix_id', '=', bitrix_id)], limit=1)
    if not links:
        return gettext('bitrix_bridge.msg_event_not_ours')
    link, = links
    if item is None or 'stageId' not in item:
        try:
            item = client.call('crm.item.get', {
                    'entityTypeId': entity_type_id, 'id': bitrix_id,
                    }).result['item']
        except rest.NotFound:
            return gettext('bitrix_bridge.msg_event_deleted')
    stage = item.get('stageId')
    if not stage or stage == link.stage_id:
        # Our own write coming back, or nothing that concerns a status
        return gettext('bitrix_bridge.msg_event_unchanged')
    record = link.origin
    Link.write([link], {'stage_id': stage})
    statuses = [m.status for m in Mapping.search([
                ('kind', '=', record.bitrix_kind()),
                ('entity_type_id', '=', entity_type_id),
                ('stage_id', '=', stage),
                ('status', '!=', None),
                ])]
    if len(statuses) != 1:
        return gettext('bitrix_bridge.msg_event_no_status', stage=stage)
    bitrix_user = item.get('movedBy') or item.get('updatedBy')
    users = User.search([('bitrix_user_id', '=', bitrix_user)], limit=1) \
        if bitrix_user else []
    if not users:
        return gettext('bitrix_bridge.msg_event_no_user', user=bitrix_user)
    status, = statuses
    company = getattr(record, 'company', None)
    transaction = Transaction()
    # As the staff user the Bitrix24 user is, with that user's rights
    try:
        with transaction.set_user(users[0].id), transaction.set_context(
                company=company.id if company else None), check_access():
            done = record.bitrix_set_status(status)
    except (AccessError, UserError) as error:
        return gettext('bitrix_bridge.msg_event_status_refused',
            status=status, error=error.message)
    if not done:
        return gettext('bitrix_bridge.msg_event_status_refused',
            status=status, error='')
    return gettext('bitrix_bridge.msg_event_applied', status=status,
        user=users[0].rec_name)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('bitrix.event|process_due', "Read Bitrix24 Events"),
                ('bitrix.event|reconcile', "Reconcile with Bitrix24"),
                ])
