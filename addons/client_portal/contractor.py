"""The client's contractors: its own customers, party records private to
the client (portal_owner), edited in the portal as one flat form over the
party, its address, tax identifier and e-mail."""
from stdnum import get_cc_module
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.pl import nip as stdnum_nip

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .party import address_errors, email_errors

CONTRACTOR_FIELDS = ['name', 'street', 'postal_code', 'city', 'country',
    'consumer', 'tax_number', 'email', 'language']
LANGUAGES = ('pl', 'en')
# Types of a contractor's tax number: a Polish NIP, an EU VAT number with
# its country prefix, another country's VAT number Tryton knows, or free
TAX_TYPES = {'pl_vat', 'eu_vat', None}
# ISO country code -> VAT prefix where they differ
VAT_PREFIXES = {'GR': 'EL'}
TAX_NUMBER_MAX = 30


def parse_tax_number(country, number):
    """(identifier type, code, error message) of a tax number typed for a
    contractor in a country (ISO code)"""
    if country == 'PL':
        if stdnum_nip.is_valid(number):
            return 'pl_vat', stdnum_nip.compact(number), None
        return None, None, gettext('client_portal.msg_invalid_nip')
    prefix = VAT_PREFIXES.get(country, country)
    if country.lower() in stdnum_eu_vat.MEMBER_STATES:
        code = ''.join(c for c in number if c.isalnum()).upper()
        if not code[:2].isalpha():
            code = prefix + code
        if code[:2] != prefix or not stdnum_eu_vat.is_valid(code):
            return None, None, gettext('client_portal.msg_invalid_eu_vat',
                prefix=prefix)
        return 'eu_vat', stdnum_eu_vat.compact(code), None
    if len(number) > TAX_NUMBER_MAX:
        return None, None, gettext('client_portal.msg_too_long')
    # A country whose VAT number python-stdnum checks: Tryton's type
    type_ = f'{country.lower()}_vat'
    Identifier = Pool().get('party.identifier')
    module = get_cc_module(country.lower(), 'vat')
    if module and type_ in dict(Identifier.get_types()):
        if not module.is_valid(number):
            return None, None, gettext(
                'client_portal.msg_invalid_tax_number')
        return type_, module.compact(number), None
    return None, number, None


class Contractor(metaclass=PoolMeta):
    __name__ = 'party.party'

    portal_consumer = fields.Boolean("Consumer",
        states={'invisible': ~Eval('portal_owner')},
        help="The client's customer is a consumer without a tax number.")

    @classmethod
    def default_portal_consumer(cls):
        return False

    def _portal_contractor_identifier(self):
        for identifier in self.identifiers:
            if identifier.type in TAX_TYPES:
                return identifier

    @classmethod
    def portal_contractor_values(cls, party):
        "The contractor as a flat dictionary of strings (the portal form)"
        if party is None:
            return {'name': '', 'street': '', 'postal_code': '', 'city': '',
                'country': 'PL', 'consumer': '', 'tax_number': '',
                'email': '', 'language': 'pl'}
        # The records' lists are read for every party of a search at once
        address = party.addresses[0] if party.addresses else None
        identifier = party._portal_contractor_identifier()
        email = next((m.value for m in party.contact_mechanisms
                if m.type == 'email'), '')
        return {
            'name': party.name or '',
            'street': (address.street_unstructured or '') if address else '',
            'postal_code': (address.postal_code or '') if address else '',
            'city': (address.city or '') if address else '',
            'country': (address.country.code or '')
            if address and address.country else '',
            'consumer': '1' if party.portal_consumer else '',
            'tax_number': identifier.code if identifier else '',
            'email': email,
            'language': party.lang.code
            if party.lang and party.lang.code in LANGUAGES else 'pl',
            }

    @classmethod
    def portal_clean_contractor(cls, values):
        "The form's values stripped, with the defaults of empty choices"
        values = {k: str(values.get(k) or '').strip()
            for k in CONTRACTOR_FIELDS}
        values['country'] = values['country'].upper() or 'PL'
        values['consumer'] = '1' if values['consumer'] else ''
        values['language'] = values['language'] or 'pl'
        return values

    @classmethod
    def portal_validate_contractor(cls, client, party, values):
        """{field: message} of the cleaned values; fills
        values['_tax'] with the (type, code) to store"""
        errors = {**email_errors(values), **address_errors(values)}
        if not values['name']:
            errors['name'] = gettext('client_portal.msg_field_required')
        elif len(values['name']) > 200:
            errors['name'] = gettext('client_portal.msg_too_long')
        if values['language'] not in LANGUAGES:
            errors['language'] = gettext('client_portal.msg_invalid_choice')
        number = values['tax_number']
        values['_tax'] = (None, None)
        if values['consumer']:
            if number:
                errors['tax_number'] = gettext(
                    'client_portal.msg_contractor_consumer_tax_number')
        elif not number:
            errors['tax_number'] = gettext(
                'client_portal.msg_contractor_tax_number_required')
        elif 'country' not in errors:
            type_, code, error = parse_tax_number(values['country'], number)
            if error:
                errors['tax_number'] = error
            else:
                values['_tax'] = (type_, code)
                other = cls._portal_same_tax_number(client, party, code)
                if other:
                    errors['tax_number'] = gettext(
                        'client_portal.msg_contractor_duplicate',
                        name=other.name)
        return errors

    @classmethod
    def _portal_same_tax_number(cls, client, party, code):
        "Another contractor of the client with this tax number"
        others = cls.search([
                ('portal_owner', '=', getattr(client, 'id', client)),
                ('id', '!=', party.id if party else -1),
                ('identifiers.code_compact', '=', code),
                ], limit=1)
        return others[0] if others else None

    @classmethod
    def portal_save_contractor(cls, client, party, values):
        """Validate and write a contractor of the client (party None: a new
        one). Returns (party, {field: message}); nothing is written when
        there is an error, and the caller's transaction holds all writes."""
        pool = Pool()
        Lang = pool.get('ir.lang')
        Identifier = pool.get('party.identifier')
        values = cls.portal_clean_contractor(values)
        errors = cls.portal_validate_contractor(client, party, values)
        if errors:
            return party, errors
        with Transaction().set_context(active_test=False):
            lang, = Lang.search([('code', '=', values['language'])])
        # create and write, not save(): save() skips the record rules
        fields = {'name': values['name'], 'lang': lang.id,
            'portal_consumer': bool(values['consumer'])}
        if party is None:
            party, = cls.create([{
                        'portal_owner': getattr(client, 'id', client),
                        **fields}])
        else:
            cls.write([party], fields)
        party._portal_write_address(values)
        party._portal_write_contact('email', values['email'])
        type_, code = values['_tax']
        identifier = party._portal_contractor_identifier()
        if identifier and code:
            if (identifier.type, identifier.code_compact) != (type_, code):
                Identifier.write([identifier], {'type': type_, 'code': code})
        elif identifier:
            Identifier.delete([identifier])
        elif code:
            Identifier.create([
                    {'party': party.id, 'type': type_, 'code': code}])
        return cls(party.id), {}
