"""The firm's Bitrix24 connection: an inbound webhook, or a local OAuth
application (facts: BITRIX24.md §1). The webhook URL (its code is the
credential), the client secret, the tokens and the events' application
token are secrets no staff user reads back (client_portal.secret); only the
bridge reads them, as the system."""
import datetime

from sql import For

from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateView, Wizard

from client_portal.secret import SecretInputs

from . import rest

AUTHENTICATIONS = [
    ('webhook', "Inbound webhook"),
    ('oauth', "OAuth application"),
    ]
SECRETS = ['webhook_url', 'client_secret', 'access_token', 'refresh_token',
    'application_token']


class Configuration(SecretInputs, ModelSingleton, ModelSQL, ModelView):
    __name__ = 'bitrix.configuration'
    __string__ = "Bitrix24 Configuration"
    _secret_flags = {
        'webhook_set': ['webhook_url'],
        'oauth_set': ['client_secret', 'refresh_token'],
        'application_token_set': ['application_token'],
        }

    enabled = fields.Boolean("Synchronise",
        help="Send the portal's changes to Bitrix24 and read its answers.")
    portal_url = fields.Char("Portal Address",
        help="The firm's Bitrix24, e.g. https://firm.bitrix24.pl (the "
        "emulator's address in the tests and the demo).")
    member_id = fields.Char("Member ID",
        help="The portal's id (member_id), which stays when the portal "
        "is renamed; the embedded pages accept this portal only.")
    authentication = fields.Selection(AUTHENTICATIONS, "Authentication",
        required=True)
    # The secrets themselves: never in a view, readable by nobody
    webhook_url = fields.Char("Webhook URL (stored)", strip=False)
    client_secret = fields.Char("Client Secret (stored)", strip=False)
    access_token = fields.Char("Access Token (stored)", strip=False)
    refresh_token = fields.Char("Refresh Token (stored)", strip=False)
    application_token = fields.Char(
        "Application Token (stored)", strip=False)
    # What the form shows instead: write-only inputs and whether it is set
    webhook_url_input = fields.Function(fields.Char("Webhook URL",
            states={'invisible': Eval('authentication') != 'webhook'},
            help="https://<portal>/rest/<user>/<code>/ — typed once, "
            "stored and never shown again."),
        'get_input', setter='set_input')
    webhook_set = fields.Function(fields.Boolean("Webhook Stored",
            states={'invisible': Eval('authentication') != 'webhook'}),
        'get_set')
    client_id = fields.Char("Client ID",
        states={'invisible': Eval('authentication') != 'oauth'})
    client_secret_input = fields.Function(fields.Char("Client Secret",
            states={'invisible': Eval('authentication') != 'oauth'}),
        'get_input', setter='set_input')
    refresh_token_input = fields.Function(fields.Char("Refresh Token",
            states={'invisible': Eval('authentication') != 'oauth'},
            help="From the application's installation; replaced at each "
            "refresh."),
        'get_input', setter='set_input')
    oauth_set = fields.Function(fields.Boolean("Application Stored",
            states={'invisible': Eval('authentication') != 'oauth'}),
        'get_set')
    oauth_server = fields.Char("Authorization Server",
        states={'invisible': Eval('authentication') != 'oauth'},
        help="Where tokens are refreshed; taken from here only, never from "
        "an answer.")
    token_refreshed_at = fields.Timestamp("Token Refreshed", readonly=True)
    application_token_input = fields.Function(
        fields.Char("Application Token",
            help="The token Bitrix24 shows for the outbound events' "
            "webhook; events carrying another one are refused."),
        'get_input', setter='set_input')
    application_token_set = fields.Function(
        fields.Boolean("Application Token Stored"), 'get_set')
    key_field = fields.Char("External Key Field", required=True,
        help="The item user field holding Portico's key (looked up before "
        "an item is created again).")
    originator = fields.Char("Originator", required=True,
        help="ORIGINATOR_ID of the companies and contacts Portico creates.")
    news_group = fields.Char("News Workgroup",
        help="The id of the Bitrix24 workgroup whose posts the portal shows "
        "as news, e.g. 12; empty: none.")
    rate_drain = fields.Float("Requests per Second", required=True,
        help="Bitrix24's leaky bucket: 2 on most plans, 5 on Enterprise.")
    rate_threshold = fields.Integer("Burst", required=True,
        help="Bitrix24's leaky bucket threshold: 50, or 250 on Enterprise.")
    reconciled_until = fields.Timestamp("Reconciled Until", readonly=True,
        help="The items Bitrix24 changed after this are read again by the "
        "next reconciliation.")
    stopped = fields.Boolean("Queue Stopped", readonly=True,
        help="Bitrix24 refused the credentials or moved: nothing is sent "
        "until the settings are corrected and saved.")
    stop_reason = fields.Text("Why Stopped", readonly=True,
        states={'invisible': ~Eval('stopped')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'test_connection': {},
                'bind_placements': {
                    'invisible': Eval('authentication') != 'oauth',
                    'depends': ['authentication'],
                    },
                })

    @classmethod
    def default_enabled(cls):
        return False

    @classmethod
    def default_authentication(cls):
        return 'webhook'

    @classmethod
    def default_oauth_server(cls):
        return 'https://oauth.bitrix.info'

    @classmethod
    def default_key_field(cls):
        return 'ufCrmPorticoKey'

    @classmethod
    def default_originator(cls):
        return 'portico'

    @classmethod
    def default_rate_drain(cls):
        return 2.0

    @classmethod
    def default_rate_threshold(cls):
        return 50

    @classmethod
    def default_stopped(cls):
        return False

    @classmethod
    def write(cls, *args):
        # Corrected settings restart a stopped queue
        actions = iter(args)
        args = []
        for records, values in zip(actions, actions):
            if set(values) - {'stopped', 'stop_reason', 'access_token',
                    'refresh_token', 'token_refreshed_at',
                    'reconciled_until'}:
                values = dict(values, stopped=False, stop_reason=None)
            args.extend((records, values))
        super().write(*args)

    @classmethod
    @ModelView.button_action('bitrix_bridge.wizard_test_connection')
    def test_connection(cls, configurations):
        pass

    @classmethod
    @ModelView.button
    def bind_placements(cls, configurations):
        """Bind the client's tab to Bitrix24's company and contact cards,
        served at the portal's address ([portal] base_url)"""
        from trytond.config import config
        from .dashboard import bind_placements
        base_url = config.get('portal', 'base_url', default='')
        if not base_url:
            raise UserError(gettext('bitrix_bridge.msg_bind_no_base_url'))
        bind_placements(get_configuration(), base_url)

    @classmethod
    def get_secrets(cls):
        """The stored secrets, read as the system: for the bridge's own
        code, never for a view or an RPC call"""
        with Transaction().set_user(0), without_check_access():
            configuration = cls(1)
            return {name: getattr(configuration, name) for name in SECRETS}

    @classmethod
    def stop(cls, reason):
        "Stop the queue until staff correct the settings"
        with without_check_access():
            super().write([cls(1)], {'stopped': True, 'stop_reason': reason})

    def client(self, timeout=30.0):
        "A REST client for the settings, throttled by the shared bucket"
        Limiter = Pool().get('bitrix.rate')
        secrets = self.get_secrets()
        limiter = Limiter.limiter(self.portal_url or '', self.rate_drain,
            self.rate_threshold)
        if self.authentication == 'webhook':
            return rest.Client(webhook_url=secrets['webhook_url'],
                limiter=limiter, timeout=timeout)
        return rest.Client(base_url=self.portal_url,
            token=_StoredTokens(self, secrets), limiter=limiter,
            timeout=timeout)

    @property
    def sending(self):
        "Whether the bridge talks to Bitrix24 now: set up and not stopped"
        return self.configured and not self.stopped

    @property
    def configured(self):
        if not self.enabled or not self.portal_url:
            return False
        if self.authentication == 'webhook':
            return bool(self.webhook_set)
        return bool(self.client_id and self.oauth_set)


class _StoredTokens:
    """OAuth tokens kept in the settings. A refresh runs under the settings'
    row lock in a transaction of its own and stores both new tokens before
    they are used (the refresh token is replaced at each refresh, facts
    §1.2); a process that waited for the lock takes the tokens another one
    stored instead of refreshing again."""

    def __init__(self, configuration, secrets):
        self.configuration = configuration
        self.tokens = rest.OAuthTokens(
            server_endpoint=configuration.oauth_server,
            client_id=configuration.client_id,
            client_secret=secrets['client_secret'],
            access_token=secrets['access_token'],
            refresh_token=secrets['refresh_token'])

    def access_token(self):
        return self.tokens.access_token()

    def refresh(self):
        if backend.name != 'postgresql':
            # SQLite (the demo) has one writer: refreshes are serialized,
            # and stored with the caller's transaction
            return self._refresh()
        with Transaction().new_transaction() as transaction, \
                transaction.set_user(0), without_check_access():
            Configuration = Pool().get('bitrix.configuration')
            table = Configuration.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(table.id,
                    where=table.id == 1, for_=For('UPDATE')))
            token = self._refresh()
            transaction.commit()
        return token

    def _refresh(self):
        Configuration = Pool().get('bitrix.configuration')
        used = self.tokens.refresh_token
        stored = Configuration.get_secrets()
        if stored['refresh_token'] != used:
            # Another process refreshed while this one waited for the lock
            self.tokens.access = stored['access_token']
            self.tokens.refresh_token = stored['refresh_token']
            return stored['access_token']
        token = self.tokens.refresh()
        with without_check_access():
            Configuration.write([Configuration(1)], {
                    'access_token': token,
                    'refresh_token': self.tokens.refresh_token,
                    'token_refreshed_at': datetime.datetime.now(),
                    })
        return token


def get_configuration():
    "The settings as the system: the bridge reads them for any user"
    with without_check_access():
        return Pool().get('bitrix.configuration')(1)


class TestConnectionResult(ModelView):
    "Bitrix24 Connection Test"
    __name__ = 'bitrix.configuration.test_connection.result'
    __string__ = "Bitrix24 Connection Test"

    success = fields.Boolean("Succeeded", readonly=True)
    result = fields.Text("Result", readonly=True)


class TestConnection(Wizard):
    "Call Bitrix24 with the settings and say what the bridge can reach"
    __name__ = 'bitrix.configuration.test_connection'

    start = StateView('bitrix.configuration.test_connection.result',
        'bitrix_bridge.configuration_test_connection_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        success, result = check_connection()
        return {'success': success, 'result': result}


def check_connection():
    """(success, text): the user the bridge acts as, the scopes granted,
    the CRM types it can write, or the error"""
    configuration = get_configuration()
    lines = [gettext('bitrix_bridge.msg_test_portal',
            url=configuration.portal_url or '')]
    try:
        with configuration.client(timeout=10.0) as client:
            profile = client.call('profile').result
            lines.append(gettext('bitrix_bridge.msg_test_user',
                    user=' '.join(filter(None, [profile.get('NAME'),
                                profile.get('LAST_NAME')])) or '?',
                    id=profile.get('ID'),
                    admin=profile.get('ADMIN')))
            scopes = client.call('scope').result
            lines.append(gettext('bitrix_bridge.msg_test_scopes',
                    scopes=', '.join(scopes)))
            types = client.call('crm.type.list').result.get('types', [])
            lines.append(gettext('bitrix_bridge.msg_test_types',
                    types=', '.join(['7 (Offer)'] + [
                            f"{t['entityTypeId']} ({t['title']})"
                            for t in types])))
    except rest.Bitrix24Error as error:
        lines.append(gettext('bitrix_bridge.msg_test_failed',
                error=str(error)))
        return False, '\n'.join(lines)
    return True, '\n'.join(lines)
