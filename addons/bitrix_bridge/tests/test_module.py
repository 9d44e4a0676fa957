from trytond.tests.test_tryton import ModuleTestCase


class BitrixBridgeTestCase(ModuleTestCase):
    "Test the bitrix_bridge module"
    module = 'bitrix_bridge'


del ModuleTestCase
