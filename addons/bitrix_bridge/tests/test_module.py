from trytond.tests.test_tryton import ModuleTestCase


class BitrixBridgeTestCase(ModuleTestCase):
    "Test the bitrix_bridge module"
    module = 'bitrix_bridge'
    # Every Portico module, as deployed: the test databases are copies of
    # one activated database (scripts/testdb.py)
    extras = ['client_portal', 'payroll_account']


del ModuleTestCase
