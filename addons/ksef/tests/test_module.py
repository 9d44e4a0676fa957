from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from client_portal.tests.committed import CommittedTestCase

from .ksef_setup import MODULES, ksef_firm
from .test_fa3 import TODAY, FA3Tests


class KsefTestCase(CommittedTestCase, FA3Tests, ModuleTestCase):
    "Test the ksef module; the FA(3) documents' tests come from test_fa3"
    module = 'ksef'
    # Every Portico module, as deployed: the test databases are copies of
    # one activated database (scripts/testdb.py)
    extras = MODULES[1:]

    @classmethod
    def build(cls):
        "The firm, its client and buyers (ksef_setup), once for the class"
        return ksef_firm(TODAY)

    def _staff(self, login, group):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user, = User.create([{'login': login, 'name': login.title(),
                    'groups': [('add', [
                                ModelData.get_id('account', group)])]}])
        return user

    @with_transaction()
    def test_secrets_are_read_by_nobody(self):
        """The KSeF token and the certificate are typed in, stored, and
        never read back by a staff user, an administrator included; only
        the module reads them, as the system"""
        pool = Pool()
        Configuration = pool.get('ksef.configuration')
        admin = self._staff('kasia', 'group_account_admin')
        accountant = self._staff('marek', 'group_account')
        transaction = Transaction()
        with transaction.set_user(admin.id), check_access():
            Configuration.write([Configuration(1)], {
                    'token_input': 'SECRET-TOKEN',
                    'certificate_input': b'PKCS12-BYTES',
                    'certificate_password_input': 'p4ss',
                    })
            configuration, = Configuration.read([1], [
                    'token_input', 'token_set', 'certificate_set'])
            self.assertEqual(
                (configuration['token_input'], configuration['token_set'],
                    configuration['certificate_set']),
                (None, True, True))
            for name in ['token', 'certificate', 'certificate_password',
                    'private_key']:
                with self.subTest(field=name):
                    with self.assertRaises(AccessError):
                        Configuration.read([1], [name])
                    with self.assertRaises(AccessError):
                        Configuration.search([(name, '!=', None)])
                    with self.assertRaises(AccessError):
                        Configuration.write(
                            [Configuration(1)], {name: 'x'})
        with transaction.set_user(accountant.id), check_access():
            with self.assertRaises(AccessError):
                Configuration.read([1], ['token'])
            # Reading the settings is allowed, changing them is not
            Configuration.read([1], ['environment'])
            with self.assertRaises(AccessError):
                Configuration.write([Configuration(1)],
                    {'token_input': 'OTHER'})
        secrets = Configuration.get_secrets()
        self.assertEqual(secrets['token'], 'SECRET-TOKEN')
        self.assertEqual(bytes(secrets['certificate']), b'PKCS12-BYTES')
        self.assertEqual(secrets['certificate_password'], 'p4ss')
        # An empty input keeps what is stored
        Configuration.write([Configuration(1)], {'token_input': ''})
        self.assertEqual(Configuration.get_secrets()['token'], 'SECRET-TOKEN')

    @with_transaction()
    def test_environments(self):
        "API and QR hosts per environment; the custom one for the emulator"
        pool = Pool()
        Configuration = pool.get('ksef.configuration')
        configuration = Configuration(1)
        self.assertEqual(configuration.environment, 'test')
        self.assertEqual(configuration.api_url,
            'https://api-test.ksef.mf.gov.pl')
        self.assertEqual(configuration.qr_url,
            'https://qr-test.ksef.mf.gov.pl')
        configuration.environment = 'production'
        self.assertEqual(configuration.qr_url, 'https://qr.ksef.mf.gov.pl')
        configuration.environment = 'custom'
        configuration.custom_url = 'http://127.0.0.1:8081'
        configuration.qr_url_custom = 'http://127.0.0.1:8081/qr'
        configuration.context_nip = '526-587-76-35'
        configuration.save()
        configuration = Configuration(1)
        self.assertEqual(configuration.api_url, 'http://127.0.0.1:8081')
        self.assertEqual(configuration.qr_url, 'http://127.0.0.1:8081/qr')
        self.assertEqual(configuration.get_context_nip(None), '5265877635')
        configuration.context_nip = '5265877636'
        with self.assertRaises(ValidationError):
            configuration.save()

    @with_transaction()
    def test_clients_send_by_default(self):
        pool = Pool()
        Party = pool.get('party.party')
        party, = Party.create([{'name': "Alfa"}])
        self.assertTrue(party.ksef_send)


del ModuleTestCase
