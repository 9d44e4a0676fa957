"""The firm's KSeF settings: which KSeF it talks to, as whom, and how.

The KSeF token, the certificate, its private key and password are secrets:
ir.model.field.access (configuration.xml) forbids every user to read or
write them, so no staff user can read them back, not even an administrator.
They are typed in through write-only fields whose setter stores them as the
system, and only this module's code reads them, as the system
(Configuration.get_secrets)."""
from ksef_client.config import KsefEnvironment, KsefQrEnvironment
from stdnum.pl import nip as stdnum_nip

from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateView, Wizard

from client_portal.secret import SecretInputs

ENVIRONMENTS = [
    ('test', "Test"),
    ('demo', "Demo"),
    ('production', "Production"),
    ('custom', "Custom (emulator)"),
    ]
# API base URLs of the official environments (ksef-client's own constants)
API_URLS = {
    'test': KsefEnvironment.TEST.value,
    'demo': KsefEnvironment.DEMO.value,
    'production': KsefEnvironment.PROD.value,
    }
AUTHENTICATIONS = [
    ('token', "KSeF token"),
    ('certificate', "Certificate (XAdES)"),
    ]
CERTIFICATE_FORMATS = [
    ('pkcs12', "PKCS#12 (.p12, .pfx)"),
    ('pem', "PEM certificate and private key"),
    ]
# FA(3) TypKorekty: when the correction takes effect in the VAT records
CORRECTION_TYPES = [
    ('1', "At the date of the corrected invoice"),
    ('2', "At the date of the correction"),
    ('3', "Other"),
    ]
SECRETS = ['token', 'certificate', 'private_key', 'certificate_password']


class Configuration(SecretInputs, ModelSingleton, ModelSQL, ModelView):
    __name__ = 'ksef.configuration'
    __string__ = "KSeF Configuration"
    _secret_flags = {
        'token_set': ['token'], 'certificate_set': ['certificate']}

    environment = fields.Selection(ENVIRONMENTS, "Environment",
        required=True,
        help="The KSeF the invoices are sent to; \"Custom\" is any other "
        "address, such as the KSeF emulator of the tests and the demo.")
    custom_url = fields.Char("Custom API URL",
        states={
            'invisible': Eval('environment') != 'custom',
            'required': Eval('environment') == 'custom',
            },
        help="E.g. http://127.0.0.1:8081 (\"/v2\" is added when missing).")
    context_nip = fields.Char("Context NIP",
        help="The NIP the firm acts for in KSeF; the firm's own NIP when "
        "empty.")
    authentication = fields.Selection(AUTHENTICATIONS, "Authentication",
        required=True)
    # The secrets themselves: never in a view, readable by nobody
    token = fields.Char("KSeF Token (stored)", strip=False)
    certificate = fields.Binary("Certificate (stored)")
    private_key = fields.Binary("Private Key (stored)")
    certificate_password = fields.Char(
        "Certificate Password (stored)", strip=False)
    # What the form shows instead: write-only inputs and whether it is set
    token_input = fields.Function(fields.Char("KSeF Token",
            states={'invisible': Eval('authentication') != 'token'},
            help="Typed once; it is stored and never shown again."),
        'get_input', setter='set_input')
    token_set = fields.Function(fields.Boolean("Token Stored",
            states={'invisible': Eval('authentication') != 'token'}),
        'get_set')
    certificate_format = fields.Selection(
        CERTIFICATE_FORMATS, "Certificate Format", required=True,
        states={'invisible': Eval('authentication') != 'certificate'})
    certificate_input = fields.Function(fields.Binary("Certificate",
            states={'invisible': Eval('authentication') != 'certificate'},
            help="The PKCS#12 file, or the PEM certificate."),
        'get_input', setter='set_input')
    private_key_input = fields.Function(fields.Binary("Private Key",
            states={'invisible': (Eval('authentication') != 'certificate')
                | (Eval('certificate_format') != 'pem')},
            help="The PEM private key of the certificate."),
        'get_input', setter='set_input')
    certificate_password_input = fields.Function(
        fields.Char("Certificate Password",
            states={'invisible': Eval('authentication') != 'certificate'}),
        'get_input', setter='set_input')
    certificate_set = fields.Function(fields.Boolean("Certificate Stored",
            states={'invisible': Eval('authentication') != 'certificate'}),
        'get_set')
    qr_url_test = fields.Char("QR Host (Test)", required=True)
    qr_url_demo = fields.Char("QR Host (Demo)", required=True)
    qr_url_production = fields.Char("QR Host (Production)", required=True)
    qr_url_custom = fields.Char("QR Host (Custom)",
        states={'required': Eval('environment') == 'custom'},
        help="The verification links' host of the custom environment.")
    # Facts: POLAND.md §3.1
    send_consumer = fields.Boolean("Send Invoices to Consumers",
        help="Invoices to consumers (no tax number) are outside the KSeF "
        "obligation; tick to issue them in KSeF all the same.")
    send_foreign = fields.Boolean("Send Invoices to Foreign Buyers",
        help="Invoices to buyers identified by an EU VAT number or a "
        "foreign tax number are issued in KSeF and delivered to the buyer "
        "outside it.")
    cash_accounting = fields.Boolean("Cash Accounting",
        help="The firm settles VAT by the cash method (\"metoda kasowa\", "
        "FA(3) P_16).")
    correction_type = fields.Selection(
        CORRECTION_TYPES, "Correction Type", required=True,
        help="When corrections take effect in the VAT records "
        "(FA(3) TypKorekty).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'test_connection': {},
                })

    @classmethod
    @ModelView.button_action('ksef.wizard_test_connection')
    def test_connection(cls, configurations):
        pass

    @classmethod
    def default_environment(cls):
        return 'test'

    @classmethod
    def default_authentication(cls):
        return 'token'

    @classmethod
    def default_certificate_format(cls):
        return 'pkcs12'

    @classmethod
    def default_qr_url_test(cls):
        return KsefQrEnvironment.TEST.value

    @classmethod
    def default_qr_url_demo(cls):
        return KsefQrEnvironment.DEMO.value

    @classmethod
    def default_qr_url_production(cls):
        return KsefQrEnvironment.PROD.value

    @classmethod
    def default_send_consumer(cls):
        return False

    @classmethod
    def default_send_foreign(cls):
        return True

    @classmethod
    def default_cash_accounting(cls):
        return False

    @classmethod
    def default_correction_type(cls):
        return '2'

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        if field_names is None or 'context_nip' in field_names:
            for configuration in configurations:
                nip = configuration.context_nip
                if nip and not stdnum_nip.is_valid(nip):
                    raise ValidationError(gettext(
                            'ksef.msg_configuration_context_nip', nip=nip))

    @property
    def api_url(self):
        if self.environment == 'custom':
            return self.custom_url
        return API_URLS[self.environment]

    @property
    def qr_url(self):
        return getattr(self, f'qr_url_{self.environment}')

    def get_context_nip(self, company):
        "The NIP KSeF sessions are opened for: the setting or the firm's"
        # fa3 reads the settings: imported here, not at the top
        from .fa3 import seller_nip
        if self.context_nip:
            return stdnum_nip.compact(self.context_nip)
        return seller_nip(company)

    @classmethod
    def get_secrets(cls):
        """The stored secrets, read as the system: for the module's own code
        that authenticates to KSeF, never for a view or an RPC call"""
        with Transaction().set_user(0), without_check_access():
            configuration = cls(1)
            return {name: getattr(configuration, name) for name in SECRETS}


class TestConnectionResult(ModelView):
    "KSeF Connection Test"
    __name__ = 'ksef.configuration.test_connection.result'

    success = fields.Boolean("Succeeded", readonly=True)
    result = fields.Text("Result", readonly=True)


class TestConnection(Wizard):
    """Authenticate to KSeF with the settings, opening nothing, and say
    what was reached or what failed"""
    __name__ = 'ksef.configuration.test_connection'

    start = StateView('ksef.configuration.test_connection.result',
        'ksef.configuration_test_connection_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        success, result = check_connection()
        return {'success': success, 'result': result}


def check_connection():
    """(success, text): the environment's URL, the context NIP, whether
    the authentication succeeded and until when the access token is valid,
    or the error"""
    # The client imports the settings' module: imported here
    from . import client as ksef
    pool = Pool()
    Company = pool.get('company.company')
    configuration = get_configuration()
    company_id = Transaction().context.get('company')
    companies = [Company(company_id)] if company_id else Company.search(
        [], limit=1)
    company = companies[0] if companies else None
    lines = [gettext('ksef.msg_test_environment',
            environment=configuration.environment,
            url=configuration.api_url or '')]
    try:
        with ksef.Connection.from_configuration(
                configuration, company) as connection:
            lines.append(gettext('ksef.msg_test_context',
                    nip=connection.context_nip))
            tokens = connection.authenticate()
    except (ksef.AuthenticationFailed, ksef.Unavailable,
            ksef.KsefError) as error:
        lines.append(gettext('ksef.msg_test_failed', error=str(error)))
        return False, '\n'.join(lines)
    lines.append(gettext('ksef.msg_test_succeeded',
            valid_until=tokens.access_valid_until.isoformat(sep=' ',
                timespec='seconds') if tokens.access_valid_until else '?'))
    return True, '\n'.join(lines)


def get_configuration():
    "The settings as the system: issuing reads them for any user"
    with without_check_access():
        return Pool().get('ksef.configuration')(1)
