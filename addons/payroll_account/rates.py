"""A year's payroll parameters (minimum wage, ZUS, KUP, PIT) kept as a
record: staff add the next year by copying the last and editing it."""
import dataclasses

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import ValidationError

from . import calculation

# Rates are fractions (0.0976), shown as percentages by the views
RATE_DIGITS = (16, 6)
AMOUNT_DIGITS = (16, 2)


def _rate(string, help=None):
    return fields.Numeric(string, digits=RATE_DIGITS, required=True,
        help=help)


def _amount(string, help=None):
    return fields.Numeric(string, digits=AMOUNT_DIGITS, required=True,
        help=help)


class Rates(ModelSQL, ModelView):
    "Payroll Rates"
    __name__ = 'payroll.rates'

    year = fields.Integer("Year", required=True)
    minimum_wage = _amount("Minimum Wage", help="Monthly minimum wage.")
    minimum_hourly_rate = _amount("Minimum Hourly Rate",
        help="The lowest hourly rate of a mandate contract "
        "(umowa zlecenie).")
    pension_rate_contractor = _rate("Pension (Contractor)",
        help="Pension contribution (emerytalna) of the contractor.")
    pension_rate_payer = _rate("Pension (Payer)",
        help="Pension contribution (emerytalna) of the payer.")
    disability_rate_contractor = _rate("Disability (Contractor)",
        help="Disability contribution (rentowa) of the contractor.")
    disability_rate_payer = _rate("Disability (Payer)",
        help="Disability contribution (rentowa) of the payer.")
    sickness_rate = _rate("Sickness",
        help="Sickness contribution (chorobowa), voluntary on a mandate "
        "contract.")
    accident_rate = _rate("Accident",
        help="Accident contribution (wypadkowa) of the payer.")
    labour_fund_rate = _rate("Labour Fund",
        help="Labour Fund (Fundusz Pracy), due only when the month's base "
        "reaches the minimum wage.")
    fgsp_rate = _rate("FGSP",
        help="Guaranteed Employee Benefits Fund (FGŚP).")
    fgsp_minimum_wage_condition = fields.Boolean(
        "FGSP Only from Minimum Wage",
        help="Charge the FGŚP, like the Labour Fund, only when the month's "
        "base reaches the minimum wage.")
    health_rate = _rate("Health",
        help="Health contribution (zdrowotna) of the contractor, not "
        "deductible from the tax.")
    kup_rate = _rate("Costs",
        help="Standard tax-deductible costs (KUP).")
    kup_copyright_rate = _rate("Copyright Costs",
        help="Tax-deductible costs on copyright fees (KUP 50 %).")
    kup_copyright_annual_cap = _amount("Copyright Costs Annual Cap",
        help="The most copyright costs a contractor may deduct in a year.")
    pit_rate = _rate("Income Tax",
        help="Rate of the income tax advance (PIT).")
    monthly_tax_reduction = _amount("Monthly Tax Reduction",
        help="Tax-reducing amount a month for a contractor who filed "
        "PIT-2 with a share of 1/12.")
    flat_tax_threshold = _amount("Flat Tax Threshold",
        help="Contracts of at most this amount pay the flat tax.")
    flat_tax_rate = _rate("Flat Tax",
        help="Final flat tax of small contracts.")
    nonresident_tax_rate = _rate("Non-Resident Tax",
        help="Flat withholding tax of contractors not resident in Poland "
        "(tax treaties are not applied).")
    pension_base_annual_cap = _amount("Pension Base Annual Cap",
        help="Annual cap on the base of the pension and disability "
        "contributions.")
    under26_limit = _amount("Under-26 Annual Limit",
        help="Annual income exempt from tax for contractors under 26 on a "
        "mandate contract.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('year_unique', Unique(t, t.year),
                'payroll_account.msg_rates_year_unique'),
            ]
        cls._order = [('year', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return str(self.year)

    @classmethod
    def search_rec_name(cls, name, clause):
        # A search box's "2026" or "%2026%" is the year
        year = str(clause[2] or '').strip('%')
        return [('year', '=', int(year) if year.isdigit() else -1)]

    @classmethod
    def for_date(cls, date):
        "The record of date's year; an error when there is none"
        records = cls.search([('year', '=', date.year)], limit=1)
        if not records:
            raise UserError(gettext('payroll_account.msg_rates_missing',
                    year=date.year))
        return records[0]

    @classmethod
    def copy_until(cls, year):
        """The latest year's record copied to each following year up to
        year, as staff add a year (to be checked against that year's law)"""
        latest, = cls.search([], order=[('year', 'DESC')], limit=1)
        while latest.year < year:
            latest, = cls.copy([latest])

    @classmethod
    def copy(cls, records, default=None):
        # Copying is how the next year is added
        default = dict(default or {})
        default.setdefault('year', lambda data: data['year'] + 1)
        return super().copy(records, default=default)

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        rates = {f.name for f in dataclasses.fields(calculation.Rates)
            if isinstance(cls._fields.get(f.name), fields.Numeric)
            and cls._fields[f.name].digits == RATE_DIGITS}
        if field_names is not None:
            rates &= set(field_names)
        for record in records:
            for name in sorted(rates):
                value = getattr(record, name)
                if value is not None and not 0 <= value <= 1:
                    raise ValidationError(gettext(
                            'payroll_account.msg_rates_rate_range',
                            year=record.year,
                            **cls.__names__(name)))

    def parameters(self):
        "The calculation.Rates the engine computes with"
        return calculation.Rates(**{f.name: getattr(self, f.name)
                for f in dataclasses.fields(calculation.Rates)})
