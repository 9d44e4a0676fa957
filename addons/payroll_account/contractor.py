"""The people a client pays on civil-law contracts, private to the client,
with the statuses that change a bill's contributions and tax
(facts/POLAND.md §5–6)."""
import datetime
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from stdnum import iban as stdnum_iban
from stdnum.pl import pesel as stdnum_pesel

from client_portal.party import EMAIL, find_country

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import without_check_access

PIT2_SHARES = [
    (None, ''),
    ('1/12', "1/12"),
    ('1/24', "1/24"),
    ('1/36', "1/36"),
    ]
UNDER = 26
TEXT_FIELDS = {'first_name': 100, 'last_name': 100, 'pesel': 20,
    'passport': 30, 'street': 200, 'postal_code': 20, 'city': 100,
    'tax_office': 200, 'iban': 50, 'email': 254}
BOOLEAN_FIELDS = ('student_under_26', 'other_insurance_min_wage',
    'own_employee', 'pit2', 'voluntary_sickness', 'tax_resident')
# The portal form: a flat dictionary of strings
PORTAL_FIELDS = (*TEXT_FIELDS, 'birth_date', 'citizenship', 'country',
    *BOOLEAN_FIELDS, 'pit2_share', 'copyright_share')
MAX_AMOUNT = Decimal('1e12')
IDENTITY_FIELDS = {'pesel', 'passport', 'birth_date', 'citizenship'}


def message(id_, **kwargs):
    return gettext(f'payroll_account.msg_{id_}', **kwargs)


def parse_decimal(text, digits=2):
    "(Decimal or None, message or None) of a number typed in a form"
    text = (text or '').replace(' ', '').replace('\xa0', '').replace(',', '.')
    if not text:
        return None, None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) >= MAX_AMOUNT:
        return None, gettext('client_portal.msg_field_invalid_number')
    if number != round(number, digits):
        return None, gettext('client_portal.msg_field_too_many_decimals',
            digits=digits)
    return number, None


def parse_date(text):
    "(date or None, message or None) of an ISO date typed in a form"
    if not text:
        return None, None
    try:
        date = datetime.date.fromisoformat(text)
    except ValueError:
        date = None
    if date is None or not (1900 <= date.year < 2100):
        return None, gettext('client_portal.msg_field_invalid_date')
    return date, None


def pesel_birth_date(pesel):
    "The birth date a valid PESEL encodes, else None"
    if pesel and stdnum_pesel.is_valid(pesel):
        return stdnum_pesel.get_birth_date(pesel)


class Contractor(DeactivableMixin, ModelSQL, ModelView):
    """Payroll Contractor

    A natural person working for one client on civil-law contracts"""
    __name__ = 'payroll.contractor'

    client = fields.Many2One('party.party', "Client", required=True,
        ondelete='RESTRICT', domain=[('portal_client', '=', True)])
    first_name = fields.Char("First Name", required=True)
    last_name = fields.Char("Last Name", required=True)
    pesel = fields.Char("PESEL",
        help="The Polish personal number; foreigners without one give "
        "their passport, birth date and citizenship.")
    passport = fields.Char("Passport",
        states={'required': ~Eval('pesel')})
    citizenship = fields.Many2One('country.country', "Citizenship",
        ondelete='RESTRICT', states={'required': ~Eval('pesel')})
    birth_date = fields.Date("Birth Date",
        states={
            'required': ~Eval('pesel'),
            'readonly': Bool(Eval('pesel')),
            },
        help="Read from the PESEL when one is given.")
    street = fields.Char("Street")
    postal_code = fields.Char("Postal Code")
    city = fields.Char("City")
    country = fields.Many2One('country.country', "Country",
        ondelete='RESTRICT')
    tax_office = fields.Char("Tax Office",
        help="The tax office (urząd skarbowy) the PIT-11 goes to.")
    iban = fields.Char("IBAN", help="The account the net pay goes to.")
    email = fields.Char("E-mail")

    student_under_26 = fields.Boolean("Student under 26",
        help="A pupil or student under 26: no ZUS on a mandate contract.")
    other_insurance_min_wage = fields.Boolean(
        "Other Insurance (Minimum Wage)",
        help="Insured elsewhere (e.g. employed) on at least the minimum "
        "wage: only the health contribution on a mandate contract.")
    own_employee = fields.Boolean("Client's Own Employee",
        help="Employed by the client: the contract counts as employment "
        "for ZUS, and the flat tax of small contracts does not apply.")
    pit2 = fields.Boolean("PIT-2 Filed",
        help="The contractor asked for the monthly tax-reducing amount.")
    pit2_share = fields.Selection(PIT2_SHARES, "PIT-2 Share",
        states={
            'invisible': ~Eval('pit2'),
            'required': Bool(Eval('pit2')),
            })
    voluntary_sickness = fields.Boolean("Voluntary Sickness Insurance")
    copyright_share = fields.Numeric("Copyright Share (%)", digits=(5, 2),
        required=True,
        help="The usual share of the pay for the transfer of copyright, on "
        "which the 50 % costs apply.")
    tax_resident = fields.Boolean("Polish Tax Resident")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.client, Index.Equality())))
        cls._order = [('last_name', 'ASC'), ('first_name', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def default_copyright_share(cls):
        return Decimal(0)

    @classmethod
    def default_tax_resident(cls):
        return True

    @classmethod
    def default_country(cls):
        country = find_country('PL')
        return country.id if country else None

    @classmethod
    def default_citizenship(cls):
        return cls.default_country()

    @fields.depends('pesel', 'birth_date')
    def on_change_pesel(self):
        self.birth_date = pesel_birth_date(self.pesel) or self.birth_date

    @property
    def name(self):
        return ' '.join(filter(None, [self.first_name, self.last_name]))

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('first_name', operator, value),
            ('last_name', operator, value),
            ('pesel', operator, value),
            ]

    @property
    def address_lines(self):
        "The address as printed: street, postal code and city, country"
        lines = [self.street or '',
            ' '.join(filter(None, [self.postal_code, self.city]))]
        if self.country and self.country.code != 'PL':
            lines.append(self.country.name)
        return [l for l in lines if l]

    def under_26(self, on_date):
        "Whether the contractor is not yet 26 on the date (before the birthday)"
        if not self.birth_date:
            return False
        return on_date < self.birth_date + relativedelta(years=UNDER)

    # --- validation --------------------------------------------------------

    @classmethod
    def preprocess_values(cls, mode, values):
        # PESEL and IBAN stored compact; the birth date is the PESEL's
        values = super().preprocess_values(mode, values)
        pesel = values.get('pesel')
        if pesel:
            if stdnum_pesel.is_valid(pesel):
                values['pesel'] = stdnum_pesel.compact(pesel)
                values['birth_date'] = pesel_birth_date(pesel)
            else:
                values['pesel'] = pesel.strip()
        if values.get('iban') and stdnum_iban.is_valid(values['iban']):
            values['iban'] = stdnum_iban.compact(values['iban'])
        return values

    def field_errors(self, today=None):
        """{field: message} of what can not be stored; the back office
        raises the first, the portal shows them next to the fields"""
        errors = {}
        if self.pesel and not stdnum_pesel.is_valid(self.pesel):
            errors['pesel'] = message('invalid_pesel')
        elif not self.pesel and not (
                self.passport and self.birth_date and self.citizenship):
            errors['pesel'] = message('contractor_identity')
        if self.iban and not stdnum_iban.is_valid(self.iban):
            errors['iban'] = message('invalid_iban')
        if self.email and not EMAIL.match(self.email):
            errors['email'] = gettext('client_portal.msg_invalid_email')
        share = self.copyright_share
        if share is not None and not (0 <= share <= 100):
            errors['copyright_share'] = message('copyright_share_range')
        if self.pit2 and not self.pit2_share:
            errors['pit2_share'] = message('pit2_share_required')
        if self.student_under_26 and self.birth_date:
            today = today or Pool().get('ir.date').today()
            if not self.under_26(today):
                errors['student_under_26'] = message('student_over_26',
                    name=self.name)
        return errors

    @classmethod
    def validate_fields(cls, contractors, field_names):
        super().validate_fields(contractors, field_names)
        # Only what was written: a student who turned 26 since does not
        # stop the record's other changes
        touched = None
        if field_names is not None:
            touched = set(field_names)
            if touched & IDENTITY_FIELDS:
                touched.add('pesel')
            if touched & {'pesel', 'birth_date'}:
                touched.add('student_under_26')
            if 'pit2' in touched:
                touched.add('pit2_share')
        for contractor in contractors:
            for field, text in contractor.field_errors().items():
                if touched is None or field in touched:
                    raise ValidationError(text)

    # --- portal --------------------------------------------------------

    @classmethod
    def portal_values(cls, contractor):
        "The contractor as the portal's flat form of strings"
        if contractor is None:
            values = {k: '' for k in PORTAL_FIELDS}
            values.update(country='PL', citizenship='PL', tax_resident='1',
                copyright_share='0')
            return values
        values = {k: getattr(contractor, k) or '' for k in TEXT_FIELDS}
        values.update({k: '1' if getattr(contractor, k) else ''
                for k in BOOLEAN_FIELDS})
        values.update(
            birth_date=(contractor.birth_date.isoformat()
                if contractor.birth_date else ''),
            citizenship=(contractor.citizenship.code
                if contractor.citizenship else ''),
            country=contractor.country.code if contractor.country else '',
            pit2_share=contractor.pit2_share or '',
            copyright_share=str(contractor.copyright_share or 0))
        return values

    @classmethod
    def portal_clean(cls, values):
        "The form's values as stripped strings, booleans as '1' or ''"
        values = {k: str(values.get(k) or '').strip() for k in PORTAL_FIELDS}
        for name in BOOLEAN_FIELDS:
            values[name] = '1' if values[name] else ''
        for name in ('country', 'citizenship'):
            values[name] = values[name].upper()
        values['country'] = values['country'] or 'PL'
        values['iban'] = values['iban'].replace(' ', '').upper()
        values['pesel'] = values['pesel'].replace(' ', '')
        if values['pit2'] and not values['pit2_share']:
            values['pit2_share'] = '1/12'
        if not values['pit2']:
            values['pit2_share'] = ''
        return values

    @classmethod
    def _portal_typed(cls, values, errors):
        "The stored values of the cleaned form; errors filled on the way"
        typed = {}
        for name, size in TEXT_FIELDS.items():
            if len(values[name]) > size:
                errors[name] = gettext('client_portal.msg_too_long')
            typed[name] = values[name] or None
        for name in ('first_name', 'last_name'):
            if not values[name]:
                errors[name] = gettext('client_portal.msg_field_required')
        for name in BOOLEAN_FIELDS:
            typed[name] = bool(values[name])
        for name in ('country', 'citizenship'):
            country = find_country(values[name]) if values[name] else None
            if values[name] and not country:
                errors[name] = gettext('client_portal.msg_invalid_country')
            typed[name] = country.id if country else None
        if (values['pit2_share']
                and values['pit2_share'] not in dict(PIT2_SHARES)):
            errors['pit2_share'] = gettext('client_portal.msg_invalid_choice')
        typed['pit2_share'] = values['pit2_share'] or None
        typed['birth_date'], error = parse_date(values['birth_date'])
        if error:
            errors['birth_date'] = error
        share, error = parse_decimal(values['copyright_share'])
        if error:
            errors['copyright_share'] = error
        typed['copyright_share'] = share if share is not None else Decimal(0)
        if typed['pesel'] and stdnum_pesel.is_valid(typed['pesel']):
            typed['pesel'] = stdnum_pesel.compact(typed['pesel'])
            typed['birth_date'] = pesel_birth_date(typed['pesel'])
        if typed['iban'] and stdnum_iban.is_valid(typed['iban']):
            typed['iban'] = stdnum_iban.compact(typed['iban'])
        return typed

    @classmethod
    def portal_validate(cls, client, values, contractor=None):
        """{field: message} of the cleaned values (portal_clean) for the
        client's contractor (None: a new one); values['_typed'] gets the
        values to store"""
        errors = {}
        typed = cls._portal_typed(values, errors)
        client_id = getattr(client, 'id', client)
        if contractor is not None and contractor.client.id != client_id:
            errors['client'] = message('contractor_other_client')
        record = cls(client=client_id, **typed)
        for name, text in record.field_errors().items():
            errors.setdefault(name, text)
        if typed['pesel'] and 'pesel' not in errors:
            with without_check_access():
                others = cls.search([
                        ('client', '=', client_id),
                        ('pesel', '=', typed['pesel']),
                        ('id', '!=', contractor.id if contractor else -1),
                        ], limit=1)
            if others:
                errors['pesel'] = message('contractor_pesel_duplicate',
                    name=others[0].name)
        values['_typed'] = typed
        return errors

    @classmethod
    def portal_save(cls, client, contractor, values):
        """Validate and store a contractor of the client (None: a new one).
        Returns (contractor, {field: message}); nothing is written when
        there is an error."""
        values = cls.portal_clean(values)
        errors = cls.portal_validate(client, values, contractor)
        if errors:
            return contractor, errors
        typed = values['_typed']
        # create and write, not save(): save() skips the record rules
        if contractor is None:
            contractor, = cls.create([{
                        'client': getattr(client, 'id', client), **typed}])
        else:
            cls.write([contractor], typed)
        return cls(contractor.id), {}
