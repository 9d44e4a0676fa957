"""KSeF online sessions opened by the outbox, kept across runs while KSeF
still takes invoices in them, with the access tokens they were opened with.

The session's state holds its AES key and the tokens let anyone act as the
firm in KSeF: ir.model.field.access (session.xml) forbids every user to read
them; only the module reads them, as the system."""
import datetime

from trytond.model import ModelSQL, ModelView, fields
from trytond.transaction import Transaction, without_check_access

from .client import Tokens

STATES = [
    ('open', "Open"),
    ('closed', "Closed"),
    ]
# A session or token about to expire is not reused: what is sent in it must
# be sent, and its status read, before then
MARGIN = datetime.timedelta(minutes=2)
SECRETS = ['session_state', 'access_token', 'refresh_token']


class Session(ModelSQL, ModelView):
    "KSeF Online Session"
    __name__ = 'ksef.session'

    api_url = fields.Char("KSeF API", required=True, readonly=True)
    context_nip = fields.Char("Context NIP", required=True, readonly=True)
    reference = fields.Char("Reference Number", readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    valid_until = fields.Timestamp("Valid Until", readonly=True)
    closed_at = fields.Timestamp("Closed At", readonly=True)
    access_valid_until = fields.Timestamp(
        "Access Token Valid Until", readonly=True)
    # The secrets: never in a view, readable by nobody
    session_state = fields.Text("Session State (stored)")
    access_token = fields.Text("Access Token (stored)")
    refresh_token = fields.Text("Refresh Token (stored)")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def _secrets(cls, session):
        with Transaction().set_user(0), without_check_access():
            record = cls(session.id)
            return {name: getattr(record, name) for name in SECRETS}

    @classmethod
    def usable(cls, api_url, context_nip, now=None):
        """The open session of this KSeF and context that can still be used
        (its tokens included), or None"""
        now = now or datetime.datetime.now()
        with without_check_access():
            sessions = cls.search([
                    ('api_url', '=', api_url),
                    ('context_nip', '=', context_nip),
                    ('state', '=', 'open'),
                    ('valid_until', '>', now + MARGIN),
                    ('access_valid_until', '>', now + MARGIN),
                    ], limit=1)
        return sessions[0] if sessions else None

    def tokens(self):
        secrets = self._secrets(self)
        return Tokens(secrets['access_token'], self.access_valid_until,
            secrets['refresh_token'])

    def state_json(self):
        return self._secrets(self)['session_state']

    @classmethod
    def record(cls, api_url, context_nip, handle, tokens, valid_until):
        "Keep the session just opened, and the tokens it was opened with"
        with Transaction().set_user(0), without_check_access():
            session, = cls.create([{
                        'api_url': api_url,
                        'context_nip': context_nip,
                        'reference': handle.reference_number,
                        'valid_until': valid_until,
                        'access_valid_until': tokens.access_valid_until,
                        'session_state': handle.get_state().to_json(),
                        'access_token': tokens.access_token,
                        'refresh_token': tokens.refresh_token,
                        }])
        return session

    @classmethod
    def close(cls, sessions):
        "Mark closed, and forget the key and tokens"
        with Transaction().set_user(0), without_check_access():
            cls.write(list(sessions), {
                    'state': 'closed',
                    'closed_at': datetime.datetime.now(),
                    'session_state': None,
                    'access_token': None,
                    'refresh_token': None,
                    })

    @classmethod
    def open_sessions(cls):
        with without_check_access():
            return cls.search([('state', '=', 'open')])
