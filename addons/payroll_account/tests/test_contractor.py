"""The client's contractors (people): PESEL, IBAN and status checks, the
portal form's messages, and the placeholders of contract templates"""
import datetime
import unittest
from contextlib import ExitStack
from decimal import Decimal

from client_portal.demo import create_client, create_portal_user, nip, \
    setup_firm
from client_portal.tests.committed import CommittedTestCase
from client_portal.tests.test_module import _as_client
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from ..contract_template import render
from ..contractor import parse_date, parse_decimal, pesel_birth_date
from ..demo import pesel

IBAN = 'PL61109010140000071219812874'


def bad_pesel(birth_date):
    "The PESEL with its check digit wrong"
    good = pesel(birth_date)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


class HelpersTestCase(unittest.TestCase):
    "No database"

    def test_pesel_birth_date(self):
        self.assertEqual(pesel_birth_date(pesel(datetime.date(2004, 3, 15))),
            datetime.date(2004, 3, 15))
        self.assertEqual(pesel_birth_date('44051401359'),
            datetime.date(1944, 5, 14))
        self.assertIsNone(pesel_birth_date(bad_pesel(
                    datetime.date(1990, 1, 1))))

    def test_render_placeholders(self):
        text = "{{ client_name }} / {{contractor_name}} {{unknown}} {{rate}}"
        self.assertEqual(
            render(text, {'client_name': "Alfa", 'contractor_name': "Jan",
                    'rate': '35,00'}),
            "Alfa / Jan {{unknown}} 35,00")
        # Only names: an expression or attribute is never evaluated
        for text in ["{{ client_name.__class__ }}", "{{ 1 + 1 }}",
                "{% for x in y %}"]:
            self.assertEqual(render(text, {'client_name': "Alfa"}), text)

    def test_parse(self):
        self.assertEqual(parse_decimal('1 234,5'), (Decimal('1234.5'), None))
        self.assertEqual(parse_decimal(''), (None, None))
        self.assertIsNone(parse_decimal('abc')[0])
        self.assertIsNotNone(parse_decimal('1.234')[1])
        self.assertEqual(parse_date('2026-12-01'),
            (datetime.date(2026, 12, 1), None))
        self.assertIsNotNone(parse_date('01.12.2026')[1])


def build_clients():
    "The firm, clients a and b with a portal user each"
    firm = setup_firm(datetime.date(2026, 11, 23), logo=False)
    firm.a = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
        "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1')
    firm.b = create_client(firm, "Beta S.A.", nip('583301245'),
        "ul. Długa 45", '80-827', "Gdańsk", 'beta@example.com', '2')
    firm.user_a = create_portal_user(firm.a, 'jan@alfa.example')
    firm.user_b = create_portal_user(firm.b, 'olga@beta.example')
    return firm


def form(**values):
    "A contractor's portal form"
    base = {'first_name': "Anna", 'last_name': "Nowak",
        'pesel': pesel(datetime.date(1990, 4, 2)), 'street': "ul. Lipowa 3",
        'postal_code': '30-001', 'city': "Kraków", 'country': 'PL',
        'tax_office': "Urząd Skarbowy Kraków-Krowodrza", 'iban': IBAN,
        'email': 'anna@example.com', 'copyright_share': '0'}
    base.update(values)
    return base


class ContractorTestCase(CommittedTestCase):
    "Contractors private to their client"
    module = 'payroll_account'

    @classmethod
    def build(cls):
        return build_clients()

    @with_transaction()
    def test_portal_save_and_compact(self):
        Contractor = Pool().get('payroll.contractor')
        firm = self.setup()
        number = pesel(datetime.date(1990, 4, 2))
        record, errors = Contractor.portal_save(firm.a, None, form(
                pesel=f' {number[:5]} {number[5:]} ',
                iban='PL61 1090 1014 0000 0712 1981 2874'))
        self.assertEqual(errors, {})
        self.assertEqual(record.client, firm.a)
        self.assertEqual(record.pesel, number)
        self.assertEqual(record.iban, IBAN)
        self.assertEqual(record.birth_date, datetime.date(1990, 4, 2))
        self.assertEqual(record.rec_name, "Anna Nowak")
        self.assertEqual(Contractor.portal_values(record)['pesel'], number)
        # The same person twice for the client
        _, errors = Contractor.portal_save(firm.a, None, form())
        self.assertIn('pesel', errors)
        # Another client may have her too
        _, errors = Contractor.portal_save(firm.b, None, form())
        self.assertEqual(errors, {})

    @with_transaction()
    def test_portal_errors_write_nothing(self):
        Contractor = Pool().get('payroll.contractor')
        firm = self.setup()
        old = datetime.date(1980, 1, 1)
        cases = [
            (form(pesel=bad_pesel(old)), 'pesel'),
            (form(pesel='123'), 'pesel'),
            (form(iban='PL61109010140000071219812875'), 'iban'),
            (form(copyright_share='100.01'), 'copyright_share'),
            (form(copyright_share='-1'), 'copyright_share'),
            (form(pesel=pesel(old), student_under_26='1'),
                'student_under_26'),
            (form(pesel='', passport='AB1234567'), 'pesel'),
            (form(first_name=''), 'first_name'),
            (form(email='anna@'), 'email'),
            ]
        for values, field in cases:
            with self.subTest(field=field, values=values):
                record, errors = Contractor.portal_save(firm.a, None, values)
                self.assertIsNone(record)
                self.assertIn(field, errors)
        self.assertEqual(Contractor.search([]), [])

    @with_transaction()
    def test_foreigner_with_passport(self):
        Contractor = Pool().get('payroll.contractor')
        firm = self.setup()
        record, errors = Contractor.portal_save(firm.a, None, form(
                pesel='', passport='FX1234567', birth_date='2003-06-30',
                citizenship='UA', student_under_26='1', pit2='1'))
        self.assertEqual(errors, {})
        self.assertEqual(record.citizenship.code, 'UA')
        self.assertEqual(record.pit2_share, '1/12')
        self.assertTrue(record.under_26(datetime.date(2029, 6, 29)))
        self.assertFalse(record.under_26(datetime.date(2029, 6, 30)))

    @with_transaction()
    def test_back_office_validation(self):
        Contractor = Pool().get('payroll.contractor')
        firm = self.setup()
        values = {'client': firm.a.id, 'first_name': "Jan",
            'last_name': "Kowalski", 'pesel': pesel(datetime.date(1985, 7, 1))}
        for bad in [{'pesel': bad_pesel(datetime.date(1985, 7, 1))},
                {'iban': 'PL00109010140000071219812874'},
                {'copyright_share': Decimal('101')},
                {'student_under_26': True}]:
            with self.subTest(bad=bad), self.assertRaises(ValidationError):
                Contractor.create([{**values, **bad}])
        record, = Contractor.create([values])
        self.assertEqual(record.birth_date, datetime.date(1985, 7, 1))
        # A contractor of a client only
        with self.assertRaises(ValidationError):
            Contractor.create([{**values, 'client': firm.company.party.id}])

    @with_transaction()
    def test_seen_by_its_client_only(self):
        Contractor = Pool().get('payroll.contractor')
        firm = self.setup()
        record, _ = Contractor.portal_save(firm.a, None, form())
        with ExitStack() as stack:
            for manager in _as_client(firm.user_a):
                stack.enter_context(manager)
            self.assertEqual(Contractor.search([]), [record])
            # The portal writes through the rules
            found, errors = Contractor.portal_save(
                firm.a, Contractor(record.id), form(last_name="Nowak-Lis"))
            self.assertEqual(errors, {})
            self.assertEqual(found.last_name, "Nowak-Lis")
        with ExitStack() as stack:
            for manager in _as_client(firm.user_b):
                stack.enter_context(manager)
            self.assertEqual(Contractor.search([]), [])
