"""The Bitrix24 outbox (facts: BITRIX24.md §3, §4, §9, §10): every change
of a mirrored record writes an entry in the transaction of the change; the
queue processes it after the commit and a cron every minute picks up what
is due, with the outbox's own states and retry schedule (Tryton 8.0 leaves
a failed queue task stuck).

A run claims the due entries (client_portal.outbox.claim_due: two workers
never take the same entry) and sends each record once, as it is now: later
changes of a record being sent wait in entries of their own, so none is
lost. Items travel in batches of up to 50 calls; a record is created only
after its external key was looked up (Bitrix24 has no idempotency key,
§10.1), and a record whose content did not change since it was last sent
costs no call (sending.py)."""
import datetime
import logging
from collections import OrderedDict
from weakref import WeakKeyDictionary

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from client_portal.outbox import backoff, claim_due, one_writer

from . import rest
from .configuration import get_configuration
from .sending import Outcome, Run
from .sync import Synced

logger = logging.getLogger(__name__)

STATES = [
    ('queued', "Pending"),
    ('done', "Done"),
    ('failed', "Failed"),
    ]
ACTIONS = [
    ('upsert', "Create or Update"),
    ('delete', "Delete"),
    ]
# Entries one run claims: at most a few batches, the transaction stays short
CLAIM = 200
# After this many attempts a retryable error is a failure staff look at
MAX_ATTEMPTS = 8
# When Bitrix24 refused the credentials or moved: staff have to act
STOP_DELAY = datetime.timedelta(minutes=15)
FAILED_NOTICE = datetime.timedelta(hours=1)
# Records this transaction queued already: one entry each
_queued = WeakKeyDictionary()


class Outbox(ModelSQL, ModelView):
    "Bitrix24 Outbox"
    __name__ = 'bitrix.outbox'
    __string__ = "Bitrix24 Outbox"

    origin = fields.Reference("Record", selection='get_origins',
        required=True, readonly=True)
    # The record's key: what Bitrix24 holds of a deleted record is found
    # by it (a Reference to a deleted record reads as none)
    key = fields.Char("Record Key", required=True, readonly=True)
    action = fields.Selection(ACTIONS, "Action", required=True,
        readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt_at = fields.Timestamp("Next Attempt", readonly=True)
    last_error = fields.Text("Bitrix24 Error", readonly=True)
    uncertain = fields.Boolean("May Exist in Bitrix24", readonly=True,
        help="An attempt got no answer: it may have created the record, "
        "which is looked up before it is created.")
    done_at = fields.Timestamp("Done At", readonly=True)
    notified = fields.Boolean("Staff Notified", readonly=True)
    link = fields.Function(fields.Many2One('bitrix.link', "Bitrix24 Record"),
        'get_link')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._buttons.update({
                'retry': {
                    'invisible': Eval('state') == 'done',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_action(cls):
        return 'upsert'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_uncertain(cls):
        return False

    @classmethod
    def default_notified(cls):
        return False

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        names = [n for n, M in pool.iterobject() if issubclass(M, Synced)]
        return [(None, '')] + [(n, Model.get_name(n)) for n in sorted(names)]

    def get_link(self, name):
        Link = Pool().get('bitrix.link')
        link = Link.search([('origin', '=', self.key)], limit=1)
        return link[0].id if link else None

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'failed', 'danger',
                    If(Eval('last_error'), 'warning', ''))),
            ]

    def get_rec_name(self, name):
        return self.origin.rec_name if self.origin else self.key

    # Writing entries

    @classmethod
    def enqueue(cls, records, action='upsert'):
        """An entry per record to mirror, in the caller's transaction;
        processed once it commits"""
        Link = Pool().get('bitrix.link')
        configuration = get_configuration()
        if not configuration.enabled or not records:
            return []
        transaction = Transaction()
        queued = _queued.setdefault(transaction, {})
        if action == 'delete':
            # Only what Bitrix24 holds
            linked = Link.of(records)
            records = [r for r in records if str(r) in linked]
        else:
            records = [r for r in records if r.bitrix_enabled()]
        values = []
        with without_check_access(), transaction.set_user(0):
            for record in records:
                # Once per transaction while the entry waits: it is sent
                # as the record is when it is processed
                entry = queued.get((str(record), action))
                if entry is not None and cls(entry).state == 'queued':
                    continue
                values.append({'origin': str(record), 'key': str(record),
                        'action': action})
            if not values:
                return []
            entries = cls.create(values)
        for entry in entries:
            queued[(entry.key, entry.action)] = entry.id
        cls.__queue__.process(entries)
        return entries

    @classmethod
    @ModelView.button
    def retry(cls, entries):
        "Staff: try the entries again now"
        with without_check_access():
            cls.write([e for e in entries if e.state != 'done'], {
                    'state': 'queued',
                    'attempts': 0,
                    'next_attempt_at': None,
                    'notified': False,
                    })
        cls.__queue__.process(entries)

    # Processing

    @classmethod
    def process_due(cls):
        "The cron: every entry due"
        cls.process()

    @classmethod
    def process(cls, entries=None):
        configuration = get_configuration()
        if not configuration.sending:
            return
        ids = [e.id for e in entries] if entries is not None else None
        with one_writer():
            cls._process(configuration, ids)

    @classmethod
    def _process(cls, configuration, ids):
        with without_check_access(), Transaction().set_user(0):
            claimed = claim_due(cls, ['queued'], ids, CLAIM)
            if not claimed:
                return
            with configuration.client() as client:
                run = Run(configuration, client)
                try:
                    cls._send(run, claimed)
                except (rest.AuthError, rest.Moved) as error:
                    cls._stop(configuration, error)
                    cls._wait(claimed, str(error), STOP_DELAY)

    @classmethod
    def _send(cls, run, entries):
        "Send each record once; settle every claimed entry"
        by_origin = OrderedDict()
        for entry in entries:
            by_origin.setdefault(entry.key, []).append(entry)
        # Entries the run does not reach (it stopped) stay as they were
        for outcomes in run.send([(key, group[-1].action)
                    for key, group in by_origin.items()]):
            done = []
            for key, outcome in outcomes.items():
                if outcome.done:
                    done.extend(by_origin[key])
                else:
                    cls._settle(by_origin[key], outcome)
            if done:
                cls._settle(done, Outcome(done=True))

    @classmethod
    def _settle(cls, entries, outcome):
        now = datetime.datetime.now()
        if outcome.done:
            cls.write(entries, {
                    'state': 'done', 'done_at': now, 'last_error': None,
                    'uncertain': False, 'next_attempt_at': None,
                    })
            return
        attempts = max(e.attempts for e in entries) + 1
        if not outcome.retryable or attempts >= MAX_ATTEMPTS:
            cls.write(entries, {
                    'state': 'failed', 'done_at': now,
                    'last_error': outcome.error, 'attempts': attempts,
                    'uncertain': outcome.uncertain or any(
                        e.uncertain for e in entries),
                    })
            return
        delay = outcome.retry_at - now if outcome.retry_at else (
            datetime.timedelta(seconds=backoff(attempts, 5, 600)))
        cls.write(entries, {
                'attempts': attempts,
                'last_error': outcome.error,
                'next_attempt_at': now + delay,
                'uncertain': outcome.uncertain or any(
                    e.uncertain for e in entries),
                })

    @classmethod
    def _wait(cls, entries, error, delay):
        cls.write(entries, {
                'last_error': error,
                'next_attempt_at': datetime.datetime.now() + delay,
                })

    @classmethod
    def _stop(cls, configuration, error):
        "Credentials refused or portal moved: stop and tell the staff"
        Configuration = Pool().get('bitrix.configuration')
        if isinstance(error, rest.Moved):
            reason = gettext('bitrix_bridge.msg_stopped_moved',
                location=error.location)
        else:
            reason = gettext('bitrix_bridge.msg_stopped_auth',
                error=str(error))
        logger.error("Bitrix24 queue stopped: %s", reason)
        Configuration.stop(reason)
        cls._notify_accountants(gettext('bitrix_bridge.msg_notice_stopped'),
            reason)

    @classmethod
    def notify_failed(cls):
        "The cron: failures older than an hour, told to the accountants once"
        entries = cls.search([
                ('state', '=', 'failed'),
                ('notified', '=', False),
                ('done_at', '<', datetime.datetime.now() - FAILED_NOTICE),
                ])
        if not entries:
            return
        cls._notify_accountants(
            gettext('bitrix_bridge.msg_notice_failed', count=len(entries)),
            '; '.join(sorted({e.rec_name for e in entries})[:10]))
        with without_check_access():
            cls.write(entries, {'notified': True})

    @classmethod
    def _notify_accountants(cls, label, description):
        pool = Pool()
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        User = pool.get('res.user')
        group = ModelData.get_id('account', 'group_account')
        users = User.search([('groups', '=', group)])
        # The notification opens the outbox: its ir.action, not the window
        action = ActWindow(ModelData.get_id(
                'bitrix_bridge', 'act_outbox_form')).action
        with without_check_access():
            Notification.create([{
                        'user': u.id,
                        'label': label,
                        'description': (description or '')[:250],
                        'action': action.id,
                        } for u in users])


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('bitrix.outbox|process_due', "Send to Bitrix24"),
                ('bitrix.outbox|notify_failed',
                    "Tell Accountants of Bitrix24 Failures"),
                ])

