"The clients' products and services, private to each client"
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

# JPK_V7 GTU markers (facts: POLAND.md §3.2, §4)
GTU_CODES = [(None, "")] + [
    (f'GTU_{n:02d}', f'GTU_{n:02d}') for n in range(1, 14)]
# The currencies of the clients' sub-accounts and so of their products
PORTAL_CURRENCIES = ('PLN', 'EUR', 'USD')
# Units a client's product may be sold in: (module, ir.model.data id)
UNITS = [('product', 'uom_unit'), ('product', 'uom_hour'),
    ('product', 'uom_day'), ('client_portal', 'uom_month'),
    ('product', 'uom_kilogram'), ('product', 'uom_gram'),
    ('product', 'uom_meter'), ('product', 'uom_kilometer'),
    ('product', 'uom_square_meter'), ('product', 'uom_cubic_meter'),
    ('product', 'uom_liter')]
PRODUCT_FIELDS = ['name', 'unit', 'unit_price', 'currency', 'tax', 'gtu',
    'annex15']
PRICE_MAX = Decimal('1e12')


class Product(DeactivableMixin, ModelSQL, ModelView):
    """Product or service of a client

    What the client sells to its own customers: private to the client,
    offered on its invoices' lines."""
    __name__ = 'portal.product'

    company = fields.Many2One('company.company', "Company", required=True)
    client = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE',
        domain=[('portal_client', '=', True)])
    name = fields.Char("Name", required=True)
    unit = fields.Many2One('product.uom', "Unit", required=True)
    unit_price = fields.Numeric(
        "Net Unit Price", digits=(16, 2), required=True)
    currency = fields.Many2One('currency.currency', "Currency", required=True)
    tax = fields.Many2One(
        'account.tax', "VAT Rate", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('portal_vat_code', '!=', None),
            ])
    gtu = fields.Selection(GTU_CODES, "GTU Code")
    annex15 = fields.Boolean("Annex 15",
        help="Listed in załącznik nr 15 of the VAT Act (split payment).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_annex15(cls):
        return False

    @classmethod
    def portal_units(cls):
        "The units offered to clients, in the order of the list"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Uom = pool.get('product.uom')
        return Uom.browse([ModelData.get_id(m, i) for m, i in UNITS])

    @classmethod
    def portal_currencies(cls):
        "{code: PortalCurrency} a product may be priced in"
        Currency = Pool().get('currency.currency')
        return {c.code: c for c in Currency.portal_currencies().values()
            if c.code in PORTAL_CURRENCIES}

    @classmethod
    def portal_taxes(cls, kind='sale'):
        """The company's taxes that have a portal VAT code (firm settings)
        and may be used on sales (kind 'sale') or purchases ('purchase')"""
        Tax = Pool().get('account.tax')
        with without_check_access():
            return Tax.search([
                    ('company', '=', Transaction().context.get('company')),
                    ('portal_vat_code', '!=', None),
                    ('parent', '=', None),
                    ['OR',
                        ('group', '=', None),
                        ('group.kind', 'in', [kind, 'both']),
                        ],
                    ], order=[('sequence', 'ASC'), ('id', 'ASC')])

    @classmethod
    def portal_product_values(cls, product):
        "The product as a flat dictionary of strings (the portal form)"
        if product is None:
            pln = cls.portal_currencies().get('PLN')
            return {'name': '', 'unit': str(cls.portal_units()[0].id),
                'unit_price': '', 'currency': pln.code if pln else '',
                'tax': '', 'gtu': '', 'annex15': ''}
        return {
            'name': product.name,
            'unit': str(product.unit.id),
            'unit_price': str(product.unit_price),
            'currency': product.currency.code,
            'tax': str(product.tax.id),
            'gtu': product.gtu or '',
            'annex15': '1' if product.annex15 else '',
            }

    @classmethod
    def portal_validate_product(cls, values):
        """{field: message} of the form's values; fills values['_parsed']
        with what to write"""
        errors, parsed = {}, {}
        name = values['name']
        if not name:
            errors['name'] = gettext('client_portal.msg_field_required')
        elif len(name) > 200:
            errors['name'] = gettext('client_portal.msg_too_long')
        parsed['name'] = name
        units = {str(u.id): u.id for u in cls.portal_units()}
        if values['unit'] not in units:
            errors['unit'] = gettext('client_portal.msg_invalid_choice')
        parsed['unit'] = units.get(values['unit'])
        currency = cls.portal_currencies().get(values['currency'])
        if currency is None:
            errors['currency'] = gettext('client_portal.msg_invalid_choice')
        else:
            parsed['currency'] = currency.id
        price, error = _price(values['unit_price'],
            currency.digits if currency else 2)
        if error:
            errors['unit_price'] = error
        parsed['unit_price'] = price
        taxes = {str(t.id): t.id for t in cls.portal_taxes()}
        if values['tax'] not in taxes:
            errors['tax'] = gettext('client_portal.msg_invalid_choice')
        parsed['tax'] = taxes.get(values['tax'])
        if values['gtu'] not in {c for c, _ in GTU_CODES if c}:
            if values['gtu']:
                errors['gtu'] = gettext('client_portal.msg_invalid_choice')
        parsed['gtu'] = values['gtu'] or None
        parsed['annex15'] = bool(values['annex15'])
        values['_parsed'] = parsed
        return errors

    @classmethod
    def portal_save_product(cls, client, product, values):
        """Validate and write a product of the client (product None: a new
        one). Returns (product, {field: message}); nothing is written when
        there is an error."""
        values = {k: str(values.get(k) or '').strip() for k in PRODUCT_FIELDS}
        errors = cls.portal_validate_product(values)
        if errors:
            return product, errors
        parsed = values['_parsed']
        if product is None:
            product, = cls.create([{
                        'company': Transaction().context.get('company'),
                        'client': getattr(client, 'id', client),
                        **parsed}])
        else:
            cls.write([product], parsed)
        return cls(product.id), {}


def _price(text, digits):
    "(price, error message) of a price typed in the currency's digits"
    text = text.replace(' ', '').replace('\xa0', '').replace(',', '.')
    if not text:
        return None, gettext('client_portal.msg_field_required')
    try:
        price = Decimal(text)
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or abs(price) >= PRICE_MAX:
        return None, gettext('client_portal.msg_field_invalid_number')
    if price < 0:
        return None, gettext('client_portal.msg_invoice_price_negative')
    if -price.normalize().as_tuple().exponent > digits:
        return None, gettext('client_portal.msg_field_too_many_decimals',
            digits=digits)
    return price, None
