from trytond.tests.test_tryton import ModuleTestCase


class PayrollAccountTestCase(ModuleTestCase):
    "Test the payroll_account module"
    module = 'payroll_account'
    # Every Portico module, as deployed: the test databases are copies of
    # one activated database (scripts/testdb.py)
    extras = ['bitrix_bridge', 'client_portal']


del ModuleTestCase
