from trytond.tests.test_tryton import ModuleTestCase


class PayrollAccountTestCase(ModuleTestCase):
    "Test the payroll_account module"
    module = 'payroll_account'


del ModuleTestCase
