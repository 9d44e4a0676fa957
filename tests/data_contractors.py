"""The HTTP tests' contractors and products of clients a and b: a Polish
company with a NIP, an EU company with a VAT number, a consumer, and
products in PLN and EUR at 23% and exempt (zw)"""
from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.demo import nip

CONTRACTORS = {
    'pl': {'name': "Delta Budowa sp. z o.o.", 'street': "ul. Mostowa 5",
        'postal_code': '31-001', 'city': "Kraków", 'country': 'PL',
        'tax_number': nip('634001346'), 'email': 'faktury@delta.example',
        'language': 'pl'},
    'eu': {'name': "Müller Logistik GmbH", 'street': "Hafenstraße 8",
        'postal_code': '20457', 'city': "Hamburg", 'country': 'DE',
        'tax_number': 'DE136695976', 'email': 'ap@mueller.example',
        'language': 'en'},
    'consumer': {'name': "Anna Zielińska", 'street': "ul. Kwiatowa 3/4",
        'postal_code': '02-001', 'city': "Warszawa", 'country': 'PL',
        'consumer': '1', 'language': 'pl'},
    }
PRODUCTS = {
    'pln': ("Konsultacja prawna", 'uom_hour', '250.00', 'PLN', '23'),
    'eur': ("Market research report", 'uom_unit', '1200.00', 'EUR', '23'),
    'zw': ("Szkolenie otwarte", 'uom_day', '900.00', 'PLN', 'zw'),
    }


def build_contractors(firm, a, b):
    "Each client's contractors and products, saved as the portal saves them"
    pool = Pool()
    Party = pool.get('party.party')
    Product = pool.get('portal.product')
    ModelData = pool.get('ir.model.data')
    contractors, products = {}, {}
    with Transaction().set_context(company=firm.company.id):
        for key, client in [('a', a), ('b', b)]:
            for kind, values in CONTRACTORS.items():
                party, errors = Party.portal_save_contractor(
                    client, None, values)
                assert not errors, errors
                contractors[f'{key}_{kind}'] = party.id
            for kind, (name, unit, price, currency, vat) in PRODUCTS.items():
                product, errors = Product.portal_save_product(client, None, {
                        'name': f'{name} ({key})',
                        'unit': str(ModelData.get_id('product', unit)),
                        'unit_price': price,
                        'currency': currency,
                        'tax': str(firm.taxes[vat].id),
                        'gtu': 'GTU_12' if kind == 'pln' else '',
                        })
                assert not errors, errors
                products[f'{key}_{kind}'] = product.id
    return {'contractors': contractors, 'products': products}
