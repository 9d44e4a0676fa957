"""The shipped 2026 rates are the facts' (the engine's tests use them by
hand), the next year is added by copying, a missing year is an error"""
import datetime
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import _DBTestCase, with_transaction

from .test_calculation import RATES_2026


class RatesTestCase(_DBTestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"
    module = 'payroll_account'

    @with_transaction()
    def test_2026(self):
        Rates = Pool().get('payroll.rates')
        rates = Rates.for_date(datetime.date(2026, 3, 31))
        self.assertEqual(rates.year, 2026)
        self.assertEqual(rates.parameters(), RATES_2026)

    @with_transaction()
    def test_copy_next_year(self):
        Rates = Pool().get('payroll.rates')
        rates = Rates.for_date(datetime.date(2026, 1, 1))
        next_year, = Rates.copy([rates])
        self.assertEqual(next_year.year, 2027)
        self.assertEqual(next_year.rec_name, '2027')
        self.assertEqual(next_year.parameters(), RATES_2026)
        self.assertEqual(Rates.for_date(datetime.date(2027, 12, 31)),
            next_year)

    @with_transaction()
    def test_year_unique(self):
        Rates = Pool().get('payroll.rates')
        rates = Rates.for_date(datetime.date(2026, 1, 1))
        Rates.copy([rates])
        with self.assertRaises(UserError):
            Rates.copy([rates])

    @with_transaction()
    def test_missing_year(self):
        Rates = Pool().get('payroll.rates')
        with self.assertRaises(UserError) as cm:
            Rates.for_date(datetime.date(2031, 6, 1))
        self.assertIn('2031', cm.exception.message)

    @with_transaction()
    def test_rate_range(self):
        Rates = Pool().get('payroll.rates')
        rates = Rates.for_date(datetime.date(2026, 1, 1))
        with self.assertRaises(ValidationError) as cm:
            Rates.write([rates], {'health_rate': Decimal('9')})
        self.assertIn('2026', cm.exception.message)

    @with_transaction()
    def test_search_rec_name(self):
        Rates = Pool().get('payroll.rates')
        rates = Rates.for_date(datetime.date(2026, 1, 1))
        self.assertEqual(Rates.search([('rec_name', 'ilike', '%2026%')]),
            [rates])
        self.assertEqual(Rates.search([('rec_name', 'ilike', 'x')]), [])
