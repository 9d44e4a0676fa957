"The clients' contractors and products: validation and privacy"
import datetime
from contextlib import ExitStack
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..contractor import parse_tax_number
from ..demo import create_portal_user, nip, setup_firm
from .test_module import _as_client, _clients, _manager
from .committed import CommittedTestCase

TODAY = datetime.date(2026, 11, 23)
DELTA = {'name': "Delta sp. z o.o.", 'street': "ul. Mostowa 5",
    'postal_code': '31-001', 'city': "Kraków", 'country': 'PL',
    'tax_number': nip('634001346'), 'email': 'delta@example.com',
    'language': 'pl'}


def _portal(web_user):
    stack = ExitStack()
    for manager in _as_client(web_user):
        stack.enter_context(manager)
    return stack


class ContractorTestCase(CommittedTestCase):
    "Test the clients' contractors and products"

    @classmethod
    def build(cls):
        "The firm and its clients a and b, committed once for the class"
        firm = setup_firm(TODAY, logo=False)
        return firm, _clients(firm)

    def test_tax_numbers(self):
        "NIP, EU VAT numbers with or without prefix, other countries"
        self.assertEqual(parse_tax_number('PL', 'PL 526-587-76-35'),
            ('pl_vat', '5265877635', None))
        self.assertEqual(parse_tax_number('DE', '136 695 976'),
            ('eu_vat', 'DE136695976', None))
        self.assertEqual(parse_tax_number('GR', 'EL094259216'),
            ('eu_vat', 'EL094259216', None))
        for country, number in [('PL', '5265877636'), ('DE', '136695977'),
                ('DE', 'FR40303265045'), ('FR', 'DE136695976')]:
            type_, code, error = parse_tax_number(country, number)
            self.assertIsNone(code, (country, number))
            self.assertTrue(error)

    @with_transaction()
    def test_other_countries(self):
        "A known VAT number is checked, an unknown kind kept as typed"
        self.assertEqual(parse_tax_number('GB', 'GB 980 7806 84'),
            ('gb_vat', '980780684', None))
        self.assertTrue(parse_tax_number('GB', 'GB980780685')[2])
        self.assertEqual(parse_tax_number('US', '12-3456789'),
            (None, '12-3456789', None))

    @with_transaction()
    def test_save_contractor(self):
        "Party, address, identifier and e-mail written together"
        pool = Pool()
        Party = pool.get('party.party')
        firm, (client, _) = self.setup()
        party, errors = Party.portal_save_contractor(client, None, DELTA)
        self.assertEqual(errors, {})
        self.assertEqual(party.portal_owner, client)
        values = Party.portal_contractor_values(party)
        identifier, = party.identifiers
        self.assertEqual((identifier.type, identifier.code_compact),
            ('pl_vat', DELTA['tax_number']))
        self.assertEqual(values['tax_number'], identifier.code)
        self.assertEqual((values['city'], values['email'], values['language']),
            ("Kraków", 'delta@example.com', 'pl'))

        # To an EU company: the identifier changes kind
        party, errors = Party.portal_save_contractor(client, party, dict(
                DELTA, country='DE', tax_number='136695976', email=''))
        self.assertEqual(errors, {})
        identifier, = party.identifiers
        self.assertEqual((identifier.type, identifier.code),
            ('eu_vat', 'DE136695976'))
        self.assertEqual(party.email, '')

    @with_transaction()
    def test_consumer_and_errors(self):
        "A consumer has no tax number; bad input writes nothing"
        pool = Pool()
        Party = pool.get('party.party')
        firm, (client, _) = self.setup()
        count = Party.search_count([])
        party, errors = Party.portal_save_contractor(client, None, dict(
                DELTA, name="Anna", tax_number='', consumer='1'))
        self.assertEqual(errors, {})
        self.assertTrue(party.portal_consumer)
        self.assertEqual(party.identifiers, ())

        for values, field in [
                (dict(DELTA, tax_number='1234567890'), 'tax_number'),
                (dict(DELTA, tax_number=''), 'tax_number'),
                (dict(DELTA, consumer='1'), 'tax_number'),
                (dict(DELTA, country='DE', tax_number='DE1'), 'tax_number'),
                (dict(DELTA, name=' '), 'name'),
                (dict(DELTA, email='x@'), 'email'),
                (dict(DELTA, country='ZZ'), 'country'),
                (dict(DELTA, language='fr'), 'language'),
                ]:
            result, errors = Party.portal_save_contractor(
                client, None, values)
            self.assertIsNone(result)
            self.assertIn(field, errors, values)
        self.assertEqual(Party.search_count([]), count + 1)

    @with_transaction()
    def test_privacy_by_rules(self):
        "A client sees and changes only its own contractors and products"
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('portal.product')
        Address = pool.get('party.address')
        ModelData = pool.get('ir.model.data')
        firm, (a, b) = self.setup()
        user_a = create_portal_user(a, 'a@example.com', 'Pass-word-26', "A",
            "A", 'en')
        user_b = create_portal_user(b, 'b@example.com', 'Pass-word-26', "B",
            "B", 'en')
        product_values = {'name': "Doradztwo",
            'unit': str(ModelData.get_id('product', 'uom_hour')),
            'unit_price': '150.00', 'currency': 'PLN',
            'tax': str(firm.taxes['23'].id)}
        with Transaction().set_context(company=firm.company.id):
            with _portal(user_a):
                delta, errors = Party.portal_save_contractor(
                    a.id, None, DELTA)
                self.assertEqual(errors, {})
                product, errors = Product.portal_save_product(
                    a.id, None, product_values)
                self.assertEqual(errors, {})
                self.assertEqual(product.unit_price, Decimal('150.00'))
                self.assertEqual(Party.search(
                        [('portal_owner', '=', a.id)]), [delta])
            with _portal(user_b):
                self.assertEqual(Party.search([('id', '=', delta.id)]), [])
                self.assertEqual(Address.search(
                        [('party', '=', delta.id)]), [])
                self.assertEqual(Product.search([]), [])
                with self.assertRaises(AccessError):
                    Party.write([Party(delta.id)], {'name': "Stolen"})
                with self.assertRaises(AccessError):
                    Product.write([Product(product.id)], {'name': "Stolen"})
                # Nor can b file a contractor under a
                with self.assertRaises(AccessError):
                    Party.portal_save_contractor(a.id, None, dict(
                            DELTA, tax_number=nip('777000111')))

    @with_transaction()
    def test_managers_see_their_clients_contractors(self):
        "Managers see the contractors and products of their clients only"
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('portal.product')
        ModelData = pool.get('ir.model.data')
        firm, (a, b) = self.setup()
        manager = _manager('anna', a)
        with Transaction().set_context(company=firm.company.id):
            mine, _ = Party.portal_save_contractor(a, None, DELTA)
            theirs, _ = Party.portal_save_contractor(b, None, DELTA)
            values = {'name': "X",
                'unit': str(ModelData.get_id('product', 'uom_unit')),
                'unit_price': '1', 'currency': 'PLN',
                'tax': str(firm.taxes['23'].id)}
            own_product, _ = Product.portal_save_product(a, None, values)
            Product.portal_save_product(b, None, values)
        with Transaction().set_user(manager.id), \
                Transaction().set_context(company=firm.company.id,
                    _check_access=True):
            ids = {p.id for p in Party.search([('portal_owner', '!=', None)])}
            self.assertIn(mine.id, ids)
            self.assertNotIn(theirs.id, ids)
            self.assertEqual(Product.search([]), [own_product])

