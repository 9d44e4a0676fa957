import re

from stdnum import iban as stdnum_iban
from stdnum.pl import nip as stdnum_nip

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access

EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$')


# Checks shared by the client's base data and its contractors' forms
def email_errors(values, name='email'):
    "{name: message} when the e-mail address typed is not valid"
    email = values.get(name, '').strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        return {name: gettext('client_portal.msg_invalid_email')}
    return {}


def find_country(code):
    "The country of an ISO code, or None"
    Country = Pool().get('country.country')
    code = (code or '').strip().upper()
    countries = Country.search([('code', '=', code)], limit=1) if code else []
    return countries[0] if countries else None


def address_errors(values):
    "{field: message} of the flat address fields of a portal form"
    errors = {}
    if values.get('country', '').strip() and not find_country(
            values['country']):
        errors['country'] = gettext('client_portal.msg_invalid_country')
    for name, size in [('street', 200), ('city', 200), ('postal_code', 20)]:
        if len(values.get(name, '')) > size:
            errors[name] = gettext('client_portal.msg_too_long')
    return errors

# The client's base data as the portal shows it: a flat form over party,
# address, contact mechanisms, tax identifier and bank account.
BASE_DATA_FIELDS = [
    'street', 'postal_code', 'city', 'country',
    'email', 'phone', 'tax_number', 'iban']


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    portal_client = fields.Boolean(
        "Portal Client", help="The party can use the firm's client portal.")
    portal_manager = fields.Many2One(
        'res.user', "Portal Manager", ondelete='RESTRICT',
        states={'invisible': ~Eval('portal_client', False)},
        help="The staff member who looks after this client.")
    portal_users = fields.One2Many(
        'web.user', 'party', "Portal Users",
        states={'invisible': ~Eval('portal_client', False)})
    portal_owner = fields.Many2One(
        'party.party', "Contractor of Client", ondelete='CASCADE',
        domain=[('portal_client', '=', True)],
        states={'invisible': Eval('portal_client', False)},
        help="The portal client whose customer this party is; "
        "private to that client.")
    portal_contractors = fields.One2Many(
        'party.party', 'portal_owner', "Contractors",
        states={'invisible': ~Eval('portal_client', False)})
    portal_subaccounts = fields.One2Many(
        'portal.subaccount', 'client', "Sub-accounts",
        states={'invisible': ~Eval('portal_client', False)})
    portal_changes = fields.One2Many(
        'portal.party.change', 'party', "Changes Made in the Portal",
        readonly=True,
        states={'invisible': ~Eval('portal_client', False)})

    @classmethod
    def default_portal_client(cls):
        return False

    @classmethod
    def on_modification(cls, mode, parties, field_names=None):
        super().on_modification(mode, parties, field_names=field_names)
        # The firm's name is part of the portal's branding
        if mode != 'create':
            Pool().get('company.company')._portal_branding_cache.clear()

    def portal_base_data(self):
        "Return the base data as a dictionary of strings"
        address = self.address_get()
        tax = self._portal_tax_identifier()
        account = self._portal_bank_account()
        return {
            'name': self.name,
            'street': (address.street_unstructured or '') if address else '',
            'postal_code': (address.postal_code or '') if address else '',
            'city': (address.city or '') if address else '',
            'country': (address.country.code or '')
            if address and address.country else '',
            'email': self.email or '',
            'phone': self.phone or '',
            'tax_number': tax.code if tax else '',
            'iban': account.numbers[0].number
            if account and account.numbers else '',
            }

    def _portal_tax_identifier(self):
        for identifier in self.identifiers:
            if identifier.type in {'pl_vat', 'eu_vat'}:
                return identifier

    def _portal_bank_account(self):
        pool = Pool()
        Account = pool.get('bank.account')
        accounts = Account.search([('owners', '=', self.id)], limit=1)
        return accounts[0] if accounts else None

    def portal_validate_base_data(self, values):
        "Return a dictionary of field name to error message"
        errors = {**email_errors(values), **address_errors(values)}
        tax_number = values.get('tax_number', '').strip()
        country = values.get('country', '').strip().upper()
        foreign = bool(country and country != 'PL' and find_country(country))
        # A Polish NIP is checked; a foreign company's number is kept as is
        if tax_number and not foreign and not stdnum_nip.is_valid(tax_number):
            errors['tax_number'] = gettext('client_portal.msg_invalid_nip')
        elif len(tax_number) > 20:
            errors['tax_number'] = gettext('client_portal.msg_too_long')
        iban = values.get('iban', '').strip()
        if iban and not stdnum_iban.is_valid(iban):
            errors['iban'] = gettext('client_portal.msg_invalid_iban')
        elif iban and self._portal_iban_taken(stdnum_iban.compact(iban)):
            errors['iban'] = gettext('client_portal.msg_iban_taken')
        if len(values.get('phone', '')) > 200:
            errors['phone'] = gettext('client_portal.msg_too_long')
        return errors

    def _portal_iban_taken(self, iban):
        """IBANs are unique: tell whether another party has this one (the
        client can not search other parties' accounts, so this runs
        without access checks and returns only a yes or no)"""
        pool = Pool()
        Number = pool.get('bank.account.number')
        with without_check_access():
            numbers = Number.search([
                    ('number_compact', '=', iban),
                    ('account.owners', '!=', self.id),
                    ], limit=1)
        return bool(numbers)

    def portal_write_base_data(self, values, web_user):
        """Apply the changed base data and log every change for the staff.
        The caller validated the values with portal_validate_base_data."""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        BankAccount = pool.get('bank.account')
        BankNumber = pool.get('bank.account.number')
        Change = pool.get('portal.party.change')

        old = self.portal_base_data()
        new = {k: (values.get(k) or '').strip() for k in BASE_DATA_FIELDS}
        new['country'] = new['country'].upper()
        # Identifiers are stored formatted: compare them compacted
        compact = {'tax_number': stdnum_nip.compact, 'iban': stdnum_iban.compact}
        for name, func in compact.items():
            old[name] = func(old[name]) if old.get(name) else ''
            new[name] = func(new[name]) if new[name] else ''
        changed = [k for k in BASE_DATA_FIELDS if new[k] != old.get(k, '')]
        if not changed:
            return []

        if {'street', 'postal_code', 'city', 'country'} & set(changed):
            self._portal_write_address(new)
        for type_ in ['email', 'phone']:
            if type_ in changed:
                self._portal_write_contact(type_, new[type_])
        # create and write, not save(): save() skips the record rules
        if 'tax_number' in changed:
            identifier = self._portal_tax_identifier()
            if identifier and new['tax_number']:
                Identifier.write([identifier], {
                        'type': 'pl_vat', 'code': new['tax_number']})
            elif identifier:
                Identifier.delete([identifier])
            elif new['tax_number']:
                Identifier.create([{'party': self.id, 'type': 'pl_vat',
                            'code': new['tax_number']}])
        if 'iban' in changed:
            account = self._portal_bank_account()
            if account and account.numbers and new['iban']:
                BankNumber.write([account.numbers[0]],
                    {'number': new['iban']})
            elif account and not new['iban']:
                BankAccount.delete([account])
            elif new['iban']:
                if not account:
                    account, = BankAccount.create([{
                                'owners': [('add', [self.id])]}])
                BankNumber.create([{'account': account.id, 'type': 'iban',
                            'number': new['iban']}])
        Change.create([{
                    'party': self.id,
                    'web_user': web_user.id,
                    'field': name,
                    'old_value': old.get(name, ''),
                    'new_value': new[name],
                    } for name in changed])
        return changed

    def _portal_write_address(self, values):
        "Write the flat address fields of a portal form on the address"
        Address = Pool().get('party.address')
        country = find_country(values['country'])
        fields = {
            'street_unstructured': values['street'],
            'postal_code': values['postal_code'],
            'city': values['city'],
            'country': country.id if country else None,
            }
        address = self.address_get()
        if address:
            Address.write([address], fields)
        else:
            Address.create([{'party': self.id, **fields}])

    def _portal_write_contact(self, type_, value):
        "Set, change or remove the party's contact mechanism of a type"
        ContactMechanism = Pool().get('party.contact_mechanism')
        mechanisms = ContactMechanism.search([
                ('party', '=', self.id), ('type', '=', type_)], limit=1)
        if mechanisms and value:
            ContactMechanism.write(mechanisms, {'value': value})
        elif mechanisms:
            ContactMechanism.delete(mechanisms)
        elif value:
            ContactMechanism.create([
                    {'party': self.id, 'type': type_, 'value': value}])


class PartyChange(ModelSQL, ModelView):
    "Change of a client's base data made in the portal"
    __name__ = 'portal.party.change'

    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='CASCADE')
    web_user = fields.Many2One(
        'web.user', "Portal User", ondelete='SET NULL', readonly=True)
    field = fields.Selection([
            ('street', "Street"),
            ('postal_code', "Postal Code"),
            ('city', "City"),
            ('country', "Country"),
            ('email', "E-mail"),
            ('phone', "Phone"),
            ('tax_number', "Tax Number"),
            ('iban', "Bank Account"),
            ], "Field", readonly=True, required=True)
    old_value = fields.Char("Old Value", readonly=True)
    new_value = fields.Char("New Value", readonly=True)
    date = fields.Function(fields.Timestamp("Date"), 'get_date')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('create_date', 'DESC'))

    def get_date(self, name):
        return self.create_date
