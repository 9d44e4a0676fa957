"""Payroll bills (rachunki): what a contract's work of a period costs the
client and pays the contractor (calculation.py), numbered "RA/<n>/<year>"
at issue, charged to the client's PLN sub-account in three movements (net,
ZUS, PIT), shown in the portal's documents and printed with every step.
A cancelled bill's charge is reversed."""
import dataclasses
import datetime
from decimal import Decimal

from client_portal.document import sync_documents
from client_portal.formatting import date as format_date

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.account.exceptions import PeriodNotFoundError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import calculation
from .contract import LANGUAGES
from .contractor import message

STATES = [
    ('draft', "Draft"),
    ('issued', "Issued"),
    ('paid', "Paid"),
    ('cancelled', "Cancelled"),
    ]
SERIES_PREFIX = 'RA/'
# The stored result: one field per amount of calculation.Bill
AMOUNTS = [f.name for f in dataclasses.fields(calculation.Bill)
    if f.name != 'flat_tax']
RESULT = (*AMOUNTS, 'flat_tax')
# What the calculation is made from
INPUTS = {'contract', 'period_start', 'period_end', 'hours', 'amount',
    'target_net', 'date'}
# What may still change on a bill once issued
ISSUED_WRITABLE = {'state', 'move', 'cancel_move', 'paid_date', 'pdf',
    'pdf_id'}
PORTAL_FIELDS = ('contract', 'period_start', 'period_end', 'hours',
    'amount', 'target_net', 'date')
HOURS_A_DAY = 24
# The movements of the sub-account, in the bill's language
CHARGE = {
    'pl': {'net': "Rachunek {number}: wynagrodzenie netto",
        'zus': "Rachunek {number}: składki ZUS",
        'tax': "Rachunek {number}: zaliczka PIT",
        'flat_tax': "Rachunek {number}: zryczałtowany podatek",
        'move': "Rachunek {number}",
        'cancel': "Anulowanie: {description}"},
    'en': {'net': "Bill {number}: net pay",
        'zus': "Bill {number}: ZUS contributions",
        'tax': "Bill {number}: PIT advance",
        'flat_tax': "Bill {number}: flat-rate tax",
        'move': "Bill {number}",
        'cancel': "Cancellation: {description}"},
    }


def _amount(string):
    return fields.Numeric(string, digits=(16, 2), readonly=True)


class Bill(Workflow, ModelSQL, ModelView):
    """Payroll Bill

    A rachunek: the work of a period under a mandate contract or a contract
    for specific work, with the contractor's and the payer's contributions,
    the tax and the net pay"""
    __name__ = 'payroll.bill'

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One('company.company', "Company", required=True,
        states=_draft)
    client = fields.Many2One('party.party', "Client", required=True,
        ondelete='RESTRICT', domain=[('portal_client', '=', True)],
        states=_draft)
    contract = fields.Many2One('payroll.contract', "Contract", required=True,
        ondelete='RESTRICT',
        domain=[
            ('client', '=', Eval('client', -1)),
            ('state', '=', 'issued'),
            ],
        states=_draft)
    contractor = fields.Many2One('payroll.contractor', "Contractor",
        readonly=True, ondelete='RESTRICT',
        help="The contract's contractor.")
    number = fields.Char("Number", readonly=True)
    series = fields.Many2One('portal.invoice.series', "Series",
        readonly=True)
    sequence = fields.Integer("Number in Series", readonly=True)
    date = fields.Date("Date", states=_draft,
        help="The day the bill is issued (today when empty): its year "
        "gives the rates and the year to date.")
    period_start = fields.Date("Period Start", required=True, states=_draft)
    period_end = fields.Date("Period End", required=True, states=_draft)
    hours = fields.Numeric("Hours", digits=(16, 2), states=_draft,
        help="The hours worked, required on a contract paid by the hour.")
    rate = fields.Numeric("Hourly Rate", digits=(16, 2), readonly=True,
        help="The contract's hourly rate.")
    amount = fields.Numeric("Amount", digits=(16, 2), states=_draft,
        help="The remuneration before contributions and tax: the lump sum "
        "(the contract's by default), or the hours times the rate.")
    target_net = fields.Numeric("Target Net", digits=(16, 2), states=_draft,
        help="When given, the gross is the one that pays this net.")
    language = fields.Selection(LANGUAGES, "Language", required=True,
        states=_draft)
    currency = fields.Many2One('currency.currency', "Currency",
        required=True, readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)

    gross = _amount("Gross")
    social_base = _amount("Social Contributions Base")
    pension_base = _amount("Pension Base")
    pension_contractor = _amount("Pension (Contractor)")
    disability_contractor = _amount("Disability (Contractor)")
    sickness = _amount("Sickness")
    social_contractor = _amount("Social Contributions (Contractor)")
    health_base = _amount("Health Contribution Base")
    health = _amount("Health Contribution")
    kup_base = _amount("Costs Base")
    kup_normal = _amount("Costs 20 %")
    kup_copyright = _amount("Costs 50 % (Copyright)")
    kup = _amount("Tax-Deductible Costs")
    under26_relief = _amount("Income Exempt (Under 26)")
    tax_base = _amount("Tax Base")
    tax_before_reduction = _amount("Tax before Reduction")
    tax_reduction = _amount("Tax Reduction (PIT-2)")
    pit = _amount("Income Tax")
    flat_tax = fields.Boolean("Flat Tax", readonly=True,
        help="The final flat tax of a small contract or a non-resident.")
    net = _amount("Net")
    pension_payer = _amount("Pension (Payer)")
    disability_payer = _amount("Disability (Payer)")
    accident = _amount("Accident")
    labour_fund = _amount("Labour Fund")
    fgsp = _amount("FGSP")
    payer_contributions = _amount("Payer's Contributions")
    payer_total_cost = _amount("Total Cost")
    zus_total = fields.Function(fields.Numeric("ZUS Total", digits=(16, 2),
            help="The contractor's social and health contributions and the "
            "payer's: one movement of the sub-account."),
        'get_zus_total')

    move = fields.Many2One('account.move', "Move", readonly=True,
        ondelete='RESTRICT', help="The charge of the client's sub-account.")
    cancel_move = fields.Many2One('account.move', "Cancellation Move",
        readonly=True, ondelete='RESTRICT')
    paid_date = fields.Date("Paid on", readonly=True)
    pdf = fields.Binary("PDF", file_id='pdf_id', filename='pdf_name',
        readonly=True)
    pdf_id = fields.Char("PDF ID", readonly=True)
    pdf_name = fields.Function(fields.Char("PDF Name"), 'get_pdf_name')

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.company, t.number),
                'payroll_account.msg_bill_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.client, Index.Equality())),
                Index(t, (t.contract, Index.Equality())),
                Index(t, (t.contractor, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'issued'),
            ('issued', 'paid'),
            ('draft', 'cancelled'),
            ('issued', 'cancelled'),
            }
        cls._buttons.update({
                'issue': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'pay_button': {
                    'invisible': Eval('state') != 'issued',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'issued']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_language(cls):
        return 'pl'

    @classmethod
    def default_currency(cls):
        Currency = Pool().get('currency.currency')
        currencies = Currency.search([('code', '=', 'PLN')], limit=1)
        return currencies[0].id if currencies else None

    @classmethod
    def default_flat_tax(cls):
        return False

    @fields.depends('contract', 'amount', '_parent_contract.rate_type',
        '_parent_contract.amount', '_parent_contract.hourly_rate',
        '_parent_contract.client', '_parent_contract.language',
        '_parent_contract.contractor', '_parent_contract.currency')
    def on_change_contract(self):
        contract = self.contract
        if contract:
            self.client = contract.client
            self.contractor = contract.contractor
            self.language = contract.language
            self.currency = contract.currency
            self.rate = (contract.hourly_rate
                if contract.rate_type == 'hourly' else None)
            if contract.rate_type == 'lump_sum' and self.amount is None:
                self.amount = contract.amount

    def get_rec_name(self, name):
        return self.number or f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    def get_zus_total(self, name):
        if self.gross is None:
            return None
        return (self.social_contractor + self.health
            + self.payer_contributions)

    def get_pdf_name(self, name):
        return f'{(self.number or str(self.id)).replace("/", "-")}.pdf'

    # --- the calculation ---------------------------------------------------

    @property
    def calculation_date(self):
        "The bill's date, today for a draft without one"
        return self.date or Pool().get('ir.date').today()

    def status(self):
        "The calculation.Status of the contractor and the contract"
        contract, person = self.contract, self.contractor or (
            self.contract.contractor if self.contract else None)
        on = self.calculation_date
        under_26 = person.under_26(on)
        return calculation.Status(
            kind=contract.kind,
            # The status holds only while the birth date says under 26
            student_under_26=bool(person.student_under_26 and under_26),
            other_insurance_min_wage=bool(person.other_insurance_min_wage),
            own_employee=bool(person.own_employee),
            pit2=bool(person.pit2),
            pit2_share=calculation.PIT2_SHARES[person.pit2_share or '1/12'],
            voluntary_sickness=bool(person.voluntary_sickness),
            copyright_share=contract.copyright_share or Decimal(0),
            resident=bool(person.tax_resident),
            under26_pit_relief=(under_26
                and contract.kind == calculation.MANDATE),
            )

    def year_to_date(self):
        """calculation.YearToDate of the contractor's issued and paid bills
        of the year dated up to this one (the month's for the monthly
        limits), this bill excluded"""
        on = self.calculation_date
        person = self.contractor or self.contract.contractor
        domain = [
            ('contractor', '=', person.id),
            ('state', 'in', ['issued', 'paid']),
            ('date', '>=', datetime.date(on.year, 1, 1)),
            ('date', '<=', on),
            ]
        if self.id is not None and self.id >= 0:
            domain.append(('id', '!=', self.id))
        with without_check_access():
            bills = self.__class__.search(domain, order=[('date', 'ASC')])
        ytd = calculation.YearToDate()
        for bill in bills:
            ytd = dataclasses.replace(ytd,
                kup_copyright=ytd.kup_copyright + bill.kup_copyright,
                pension_base=ytd.pension_base + bill.pension_base,
                under26_relieved=ytd.under26_relieved + bill.under26_relief)
            if (bill.date.year, bill.date.month) == (on.year, on.month):
                ytd = dataclasses.replace(ytd,
                    month_base=ytd.month_base + bill.social_base,
                    month_tax_reduction=(
                        ytd.month_tax_reduction + bill.tax_reduction))
        return ytd

    def base_amount(self):
        "The gross the work gives: hours × rate, else the amount"
        contract = self.contract
        if contract.rate_type == 'hourly':
            if self.hours is None:
                return None
            return calculation.round_grosz(self.hours * contract.hourly_rate)
        return self.amount if self.amount is not None else contract.amount

    def calculation(self):
        """The calculation.Bill of the bill's current values (raises
        UserError when the year has no rates)"""
        Rates = Pool().get('payroll.rates')
        contract = self.contract
        with without_check_access():
            rates = Rates.for_date(self.calculation_date).parameters()
        status = self.status()
        ytd = self.year_to_date()
        # Art. 30 ust. 1 pkt 5a: the amount the contract states
        contract_amount = (contract.amount
            if contract.rate_type == 'lump_sum' else None)
        if self.target_net:
            gross = calculation.gross_for_net(self.target_net, rates,
                status, ytd, contract_amount)
        else:
            gross = self.base_amount()
        return calculation.compute(gross, rates, status, ytd,
            contract_amount)

    def calculated_values(self):
        "{field: value} to store of calculation()"
        result = self.calculation()
        values = {name: getattr(result, name) for name in RESULT}
        if self.contract.rate_type == 'hourly':
            values['rate'] = self.contract.hourly_rate
            if not self.target_net and self.hours is not None:
                values['amount'] = result.gross
        else:
            values['rate'] = None
            if self.amount is None or self.target_net:
                values['amount'] = result.gross
        return values

    # --- validation --------------------------------------------------------

    @classmethod
    def preprocess_values(cls, mode, values):
        # The contractor, rate, currency of the contract; the lump sum
        # when none is given
        values = super().preprocess_values(mode, values)
        if values.get('contract'):
            Contract = Pool().get('payroll.contract')
            with without_check_access():
                contract = Contract(values['contract'])
                values['contractor'] = contract.contractor.id
                values['currency'] = contract.currency.id
                values['rate'] = (contract.hourly_rate
                    if contract.rate_type == 'hourly' else None)
                if mode == 'create':
                    values.setdefault('client', contract.client.id)
                    values.setdefault('language', contract.language)
                    if (contract.rate_type == 'lump_sum'
                            and values.get('amount') is None):
                        values['amount'] = contract.amount
        return values

    def field_errors(self):
        """{field: message} of the bill's input; the back office raises the
        first, the portal shows each next to its field"""
        with without_check_access():
            return self._field_errors()

    def _field_errors(self):
        errors = {}
        required = gettext('client_portal.msg_field_required')
        contract = self.contract
        if contract:
            contract = contract.__class__(contract.id)
        if not contract:
            errors['contract'] = required
        elif self.client and contract.client.id != self.client.id:
            errors['contract'] = message('bill_contract_other')
        elif contract.state != 'issued':
            errors['contract'] = message(
                {'terminated': 'bill_contract_terminated',
                    'amended': 'bill_contract_amended'}.get(
                    contract.state, 'bill_contract_not_issued'),
                contract=contract.rec_name)
        elif contract.kind not in {calculation.MANDATE, calculation.WORK}:
            errors['contract'] = message('bill_contract_kind',
                contract=contract.rec_name)
        elif contract.currency.code != 'PLN':
            errors['contract'] = message('bill_contract_currency',
                contract=contract.rec_name, currency=contract.currency.code)
        start, end = self.period_start, self.period_end
        if not start:
            errors['period_start'] = required
        if not end:
            errors['period_end'] = required
        if start and end and end < start:
            errors['period_end'] = message('bill_period_end_before_start')
        elif start and end and contract and 'contract' not in errors:
            outside = message('bill_period_outside',
                start=format_date(contract.start_date),
                end=format_date(contract.end_date) if contract.end_date
                else '…')
            if start < contract.start_date:
                errors['period_start'] = outside
            elif contract.end_date and end > contract.end_date:
                errors['period_end'] = outside
            else:
                other = self._overlapping()
                if other:
                    errors['period_start'] = message('bill_period_overlap',
                        bill=other.rec_name)
        if self.hours is not None:
            if self.hours <= 0:
                errors['hours'] = message('bill_hours_positive')
            elif start and end and end >= start:
                days = (end - start).days + 1
                if self.hours > HOURS_A_DAY * days:
                    errors['hours'] = message('bill_hours_too_many',
                        days=days, hours=HOURS_A_DAY * days)
        elif contract and contract.rate_type == 'hourly':
            errors['hours'] = message('bill_hours_required')
        if (self.amount is not None and self.amount <= 0
                and not (contract and contract.rate_type == 'hourly')):
            errors['amount'] = message('bill_amount_positive')
        if self.target_net is not None and self.target_net <= 0:
            errors['target_net'] = message('bill_target_net_positive')
        if self.date and start and self.date < start:
            errors['date'] = message('bill_date_before_period')
        if 'date' not in errors:
            Rates = Pool().get('payroll.rates')
            try:
                Rates.for_date(self.calculation_date)
            except UserError as error:
                errors['date'] = error.message
        return errors

    def _overlapping(self):
        "Another bill, not cancelled, of the contract with a common day"
        contract = self.contract
        # An amended contract's versions share the number and the periods
        if contract.number:
            domain = [('contract.number', '=', contract.number),
                ('contract.company', '=', contract.company.id)]
        else:
            domain = [('contract', '=', contract.id)]
        domain += [
            ('state', '!=', 'cancelled'),
            ('period_start', '<=', self.period_end),
            ('period_end', '>=', self.period_start),
            ]
        if self.id is not None and self.id >= 0:
            domain.append(('id', '!=', self.id))
        others = self.__class__.search(domain, limit=1)
        return others[0] if others else None

    @classmethod
    def validate_fields(cls, bills, field_names):
        super().validate_fields(bills, field_names)
        if field_names is not None and not (
                set(field_names) & (INPUTS | {'client'})):
            return
        for bill in bills:
            if bill.state == 'draft':
                errors = bill.field_errors()
                if errors:
                    raise ValidationError(next(iter(errors.values())))

    @classmethod
    def on_modification(cls, mode, bills, field_names=None):
        super().on_modification(mode, bills, field_names=field_names)
        # A draft's figures follow its input, unless they were written too
        if mode in {'create', 'write'} and (field_names is None
                or (set(field_names) & INPUTS
                    and not set(field_names) & set(AMOUNTS))):
            for bill in bills:
                if bill.state == 'draft':
                    cls.write([bill], bill.calculated_values())

    @classmethod
    def check_modification(cls, mode, bills, values=None, external=False):
        super().check_modification(
            mode, bills, values=values, external=external)
        if mode == 'delete':
            for bill in bills:
                if bill.state != 'draft':
                    raise AccessError(message('bill_delete_draft',
                            bill=bill.rec_name))
        elif mode == 'write' and set(values) - ISSUED_WRITABLE:
            for bill in bills:
                if bill.state != 'draft':
                    raise AccessError(message('bill_not_draft',
                            bill=bill.rec_name))

    @classmethod
    def copy(cls, bills, default=None):
        default = default.copy() if default else {}
        for name in ['series', 'sequence', 'number', 'date', 'move',
                'cancel_move', 'paid_date', 'pdf', 'pdf_id']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        return super().copy(bills, default=default)

    # --- issue, pay, cancel ---------------------------------------------

    @classmethod
    def bill_series(cls, company):
        """The company's first series of kind payroll_bill; "RA/" is made
        the first time one is needed"""
        Series = Pool().get('portal.invoice.series')
        domain = [('company', '=', company.id), ('kind', '=', 'payroll_bill')]
        with without_check_access():
            series = Series.search(domain, order=[('id', 'ASC')], limit=1)
            if not series:
                # Two first issues at once would make it twice
                Series.lock()
                series = Series.search(
                    domain, order=[('id', 'ASC')], limit=1)
            if not series:
                series = Series.create([{
                            'company': company.id, 'name': "Rachunki",
                            'prefix': SERIES_PREFIX, 'kind': 'payroll_bill',
                            }])
        return series[0]

    def subaccount(self):
        "The client's PLN sub-account, else None"
        Subaccount = Pool().get('portal.subaccount')
        with without_check_access():
            found = Subaccount.search([
                    ('client', '=', self.client.id),
                    ('currency.code', '=', 'PLN'),
                    ], limit=1)
        return found[0] if found else None

    def issue_errors(self):
        """{field: message} of what stops the draft's issue: its input, the
        sub-account to charge, the accounting period of its date"""
        Period = Pool().get('account.period')
        if self.state != 'draft':
            return {'state': message('bill_not_draft', bill=self.rec_name)}
        errors = self.field_errors()
        if errors:
            return errors
        if not self.subaccount():
            errors['contract'] = message('bill_no_subaccount',
                client=self.client.rec_name)
        with without_check_access():
            try:
                Period.find(self.company, date=self.calculation_date)
            except PeriodNotFoundError:
                errors['date'] = message('bill_closed_period',
                    date=format_date(self.calculation_date))
        return errors

    @classmethod
    @ModelView.button
    @Workflow.transition('issued')
    def issue(cls, bills):
        """Date (today when empty), compute with the year to date of now,
        number, charge the sub-account, render and store the PDF"""
        Date = Pool().get('ir.date')
        for bill in bills:
            errors = bill.issue_errors()
            if errors:
                raise UserError(next(iter(errors.values())))
        for bill in bills:
            date = bill.date or Date.today()
            bill.date = date
            values = {'date': date, **bill.calculated_values()}
            with Transaction().set_context(company=bill.company.id), \
                    without_check_access():
                series = cls.bill_series(bill.company)
                sequence, number = series.take_number(date.year)
            values.update(series=series.id, sequence=sequence,
                number=number)
            cls.write([bill], values)
            bill = cls(bill.id)
            move = bill._charge(bill.subaccount())
            cls.write([bill], {'move': move.id, 'state': 'issued'})
            bill = cls(bill.id)
            cls.write([bill], {'pdf': bill.render_pdf()})
        sync_documents(cls.browse(bills))

    def _charge_lines(self, accounts):
        "[(amount, words key, debit account)] of the charge, none of zero"
        lines = [
            (self.net, 'net', accounts['net']),
            (self.zus_total, 'zus', accounts['zus']),
            (self.pit, 'flat_tax' if self.flat_tax else 'tax',
                accounts['tax']),
            ]
        return [l for l in lines if l[0]]

    def _charge(self, subaccount):
        """The posted move crediting the sub-account with the net, the ZUS
        and the tax, each against its payable account"""
        pool = Pool()
        Move = pool.get('account.move')
        Period = pool.get('account.period')
        Configuration = pool.get('account.configuration')
        ModelData = pool.get('ir.model.data')
        words = CHARGE.get(self.language, CHARGE['pl'])
        with without_check_access(), Transaction().set_context(
                company=self.company.id):
            accounts = Configuration(1).payroll_accounts(self.company)
            lines = []
            for amount, key, account in self._charge_lines(accounts):
                description = words[key].format(number=self.number)
                for line_account, debit, credit in [
                        (subaccount.account, 0, amount),
                        (account, amount, 0)]:
                    lines.append({
                            'account': line_account.id,
                            'debit': Decimal(debit),
                            'credit': Decimal(credit),
                            'description': description,
                            'party': (self.client.id
                                if line_account.party_required else None),
                            })
            move, = Move.create([{
                        'company': self.company.id,
                        'journal': ModelData.get_id(
                            'account', 'journal_miscellaneous'),
                        'period': Period.find(
                            self.company, date=self.date).id,
                        'date': self.date,
                        'origin': str(self),
                        'description': words['move'].format(
                            number=self.number),
                        'lines': [('create', lines)],
                        }])
            Move.post([move])
        return move

    @classmethod
    def pay(cls, bills, date=None):
        "Mark the issued bills paid on the date (today)"
        Date = Pool().get('ir.date')
        for bill in bills:
            if bill.state != 'issued':
                raise AccessError(message('bill_not_issued',
                        bill=bill.rec_name))
        cls.write(bills, {'paid_date': date or Date.today()})
        cls._paid(bills)
        sync_documents(cls.browse(bills))

    @classmethod
    @Workflow.transition('paid')
    def _paid(cls, bills):
        pass

    @classmethod
    @ModelView.button
    def pay_button(cls, bills):
        cls.pay(bills)

    @classmethod
    @ModelView.button
    def cancel(cls, bills):
        "Cancel drafts, and issued bills with their charge reversed"
        Date = Pool().get('ir.date')
        for bill in bills:
            if bill.state not in {'draft', 'issued'}:
                raise AccessError(message('bill_not_cancellable',
                        bill=bill.rec_name))
        issued = [b for b in bills if b.state == 'issued']
        for bill in issued:
            if bill.move:
                cls.write([bill],
                    {'cancel_move': bill._reverse(Date.today()).id})
        cls._cancelled(bills)
        if issued:
            sync_documents(cls.browse(issued))

    @classmethod
    @Workflow.transition('cancelled')
    def _cancelled(cls, bills):
        pass

    def _reverse(self, today):
        """The posted move reversing the charge, on the day of the
        cancellation (the charge's day if later)"""
        pool = Pool()
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        Period = pool.get('account.period')
        words = CHARGE.get(self.language, CHARGE['pl'])
        with without_check_access(), Transaction().set_context(
                company=self.company.id):
            move = Move(self.move.id)
            date = max(today, move.date)
            cancel = move.cancel(default={
                    'date': date,
                    'period': Period.find(self.company, date=date).id,
                    'description': words['cancel'].format(
                        description=move.description),
                    'lines.description': lambda data: words['cancel'].format(
                        description=data['description']),
                    }, reversal=True)
            Move.post([cancel])
            # Each payable line with its reversal
            for line in move.lines:
                if line.account.reconcile and not line.reconciliation:
                    pair = [l for l in cancel.lines
                        if l.origin == line and not l.reconciliation]
                    Line.reconcile([line] + pair)
        return cancel

    # --- documents and the PDF --------------------------------------------

    def _portal_document_values(self):
        if self.state not in {'issued', 'paid', 'cancelled'} or not self.number:
            return
        total = self.payer_total_cost
        # Charged to the client's sub-account at issue: the client owes
        # nothing more (a cancelled bill's charge is reversed)
        paid = total if self.state != 'cancelled' else Decimal(0)
        return {
            'company': self.company.id,
            'party': self.client.id,
            'number': self.number,
            'document_type': 'payroll_bill',
            'date': self.date,
            'due_date': None,
            'currency': self.currency.id,
            'tax_base': self.gross,
            'vat': Decimal(0),
            'total': total,
            'paid': paid,
            'remaining': Decimal(0),
            'state': self.state,
            }

    def get_portal_pdf(self):
        "The PDF stored at issue"
        with without_check_access():
            pdf = self.__class__(self.id).pdf
        return bytes(pdf) if pdf else None

    def render_pdf(self):
        "The bill's PDF, rendered now"
        Report = Pool().get('payroll.bill.pdf', type='report')
        return Report.render_pdf([self])


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['payroll.bill']


class Document(metaclass=PoolMeta):
    __name__ = 'portal.document'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['payroll.bill']
