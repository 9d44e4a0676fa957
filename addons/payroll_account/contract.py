"""Civil-law contracts a client makes with its contractors from a template:
drafted in the portal, issued with a number of the firm's contract series
("UZ/<n>/<year>"), the rendered text and its PDF frozen at issue. An
amendment is a new version under the same number; the old one is kept."""
import datetime
from decimal import Decimal

from client_portal.formatting import date as format_date

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from .contract_template import KINDS, render
from .contractor import message

STATES = [
    ('draft', "Draft"),
    ('issued', "Issued"),
    ('amended', "Amended"),
    ('terminated', "Terminated"),
    ]
LANGUAGES = [
    ('pl', "Polish"),
    ('en', "English"),
    ]
RATE_TYPES = [
    ('hourly', "Hourly Rate"),
    ('lump_sum', "Lump Sum"),
    ]
SERIES_PREFIX = 'UZ/'
# The terms of a contract: what the client fills and an amendment changes
TERMS = ('contractor', 'template', 'language', 'subject', 'rate_type',
    'hourly_rate', 'amount', 'currency', 'start_date', 'end_date',
    'copyright_share')
# What may still change on an issued contract
ISSUED_WRITABLE = {'state', 'terminated_on', 'termination_reason', 'pdf',
    'pdf_id'}
SUBJECT_MAX = 4000
WORDS = {
    'pl': {
        'hourly': "stawka godzinowa", 'lump_sum': "wynagrodzenie ryczałtowe",
        'draft_number': "(projekt)", 'open_end': "nieokreślony",
        # Who transfers the rights (nominative), to whom (accusative)
        'roles': {'mandate': ("Zleceniobiorca", "Zleceniodawcę"),
            'work': ("Wykonawca", "Zamawiającego")},
        'clause': (
            "Z chwilą przyjęcia utworów powstałych w wykonaniu umowy "
            "{taker} przenosi na {giver} autorskie prawa majątkowe do nich "
            "na wszystkich polach eksploatacji znanych w dniu zawarcia "
            "umowy, w szczególności określonych w art. 50 ustawy z dnia "
            "4 lutego 1994 r. o prawie autorskim i prawach pokrewnych. "
            "{share}% wynagrodzenia stanowi wynagrodzenie za przeniesienie "
            "autorskich praw majątkowych."),
        'no_clause': (
            "Umowa nie obejmuje przeniesienia autorskich praw majątkowych."),
        },
    'en': {
        'hourly': "hourly rate", 'lump_sum': "lump sum",
        'draft_number': "(draft)", 'open_end': "not fixed",
        'roles': {'mandate': ("Contractor", "Principal"),
            'work': ("Contractor", "Ordering Party")},
        'clause': (
            "On acceptance of the works made under the contract the "
            "{taker} transfers to the {giver} the author's economic rights "
            "to them in all fields of exploitation known on the day the "
            "contract is made, in particular those listed in art. 50 of the "
            "Polish Act of 4 February 1994 on Copyright and Related Rights. "
            "{share}% of the remuneration is the fee for the transfer of "
            "the author's economic rights."),
        'no_clause': (
            "The contract does not transfer any author's economic rights."),
        },
    }


def format_amount(value, language):
    "1 234,56 in Polish, 1,234.56 in English"
    if value is None:
        return ''
    text = f'{Decimal(value).quantize(Decimal("0.01")):,.2f}'
    if language == 'pl':
        text = text.replace(',', ' ').replace('.', ',')
    return text


def format_share(value, language):
    text = f'{Decimal(value or 0).normalize():f}'
    return text.replace('.', ',') if language == 'pl' else text


class Series(metaclass=PoolMeta):
    __name__ = 'portal.invoice.series'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        if ('contract', "Contract") not in cls.kind.selection:
            cls.kind.selection.append(('contract', "Contract"))
        if ('payroll_bill', "Payroll Bill") not in cls.kind.selection:
            cls.kind.selection.append(('payroll_bill', "Payroll Bill"))


class Contract(Workflow, ModelSQL, ModelView):
    """Payroll Contract

    A mandate contract (umowa zlecenie), a contract for specific work
    (umowa o dzieło) or another civil-law contract of a client with one of
    its contractors"""
    __name__ = 'payroll.contract'

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One('company.company', "Company", required=True,
        states=_draft)
    client = fields.Many2One('party.party', "Client", required=True,
        ondelete='RESTRICT', domain=[('portal_client', '=', True)],
        states=_draft)
    contractor = fields.Many2One('payroll.contractor', "Contractor",
        required=True, ondelete='RESTRICT',
        domain=[('client', '=', Eval('client', -1))], states=_draft)
    template = fields.Many2One('payroll.contract.template', "Template",
        required=True, ondelete='RESTRICT', states=_draft)
    template_version = fields.Many2One(
        'payroll.contract.template.version', "Template Version",
        readonly=True, ondelete='RESTRICT',
        help="The text the contract was issued from.")
    kind = fields.Selection(KINDS, "Kind", readonly=True)
    language = fields.Selection(LANGUAGES, "Language", required=True,
        states=_draft)
    subject = fields.Text("Subject", required=True, states=_draft)
    rate_type = fields.Selection(RATE_TYPES, "Remuneration", required=True,
        states=_draft)
    hourly_rate = fields.Numeric("Hourly Rate", digits=(16, 2),
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('rate_type') == 'hourly',
            'invisible': Eval('rate_type') != 'hourly',
            })
    amount = fields.Numeric("Amount", digits=(16, 2),
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('rate_type') == 'lump_sum',
            'invisible': Eval('rate_type') != 'lump_sum',
            })
    currency = fields.Many2One('currency.currency', "Currency",
        required=True, states=_draft)
    start_date = fields.Date("Start Date", required=True, states=_draft)
    end_date = fields.Date("End Date", states=_draft,
        domain=[If(Bool(Eval('end_date')) & Bool(Eval('start_date')),
                ('end_date', '>=', Eval('start_date')), ())])
    copyright_share = fields.Numeric("Copyright Share (%)", digits=(5, 2),
        required=True, states=_draft,
        help="The share of the remuneration paid for the transfer of "
        "copyright (50 % costs).")
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    series = fields.Many2One('portal.invoice.series', "Series",
        readonly=True)
    sequence = fields.Integer("Number in Series", readonly=True)
    number = fields.Char("Number", readonly=True)
    version = fields.Integer("Version", required=True, readonly=True,
        help="1 for the contract, 2… for its amendments.")
    previous = fields.Many2One('payroll.contract', "Amends", readonly=True,
        ondelete='RESTRICT')
    date = fields.Date("Date", readonly=True,
        help="The day the contract was issued.")
    issued_at = fields.Timestamp("Issued at", readonly=True)
    terminated_on = fields.Date("Terminated on",
        states={
            'readonly': Eval('state') != 'issued',
            'invisible': ~Eval('state').in_(['issued', 'terminated']),
            })
    termination_reason = fields.Text("Termination Reason",
        states={
            'readonly': Eval('state') != 'issued',
            'invisible': ~Eval('state').in_(['issued', 'terminated']),
            })
    text = fields.Text("Text", readonly=True,
        help="The template's text with the contract's values, as issued.")
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
            ('number_version_unique',
                Unique(t, t.company, t.number, t.version),
                'payroll_account.msg_contract_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.client, Index.Equality())),
                Index(t, (t.contractor, Index.Equality())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'issued'),
            ('issued', 'amended'),
            ('issued', 'terminated'),
            }
        cls._buttons.update({
                'issue': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'terminate_button': {
                    'invisible': Eval('state') != 'issued',
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
    def default_version(cls):
        return 1

    @classmethod
    def default_language(cls):
        return 'pl'

    @classmethod
    def default_rate_type(cls):
        return 'hourly'

    @classmethod
    def default_copyright_share(cls):
        return Decimal(0)

    @classmethod
    def default_currency(cls):
        Currency = Pool().get('currency.currency')
        currencies = Currency.search([('code', '=', 'PLN')], limit=1)
        return currencies[0].id if currencies else None

    @fields.depends('contractor', 'copyright_share')
    def on_change_contractor(self):
        if self.contractor:
            self.copyright_share = self.contractor.copyright_share

    @fields.depends('template')
    def on_change_with_kind(self):
        return self.template.kind if self.template else None

    def get_rec_name(self, name):
        if not self.number:
            return f'({self.id})'
        if self.version and self.version > 1:
            return f'{self.number} v{self.version}'
        return self.number

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    def get_pdf_name(self, name):
        number = (self.number or str(self.id)).replace('/', '-')
        if self.version and self.version > 1:
            number += f'-v{self.version}'
        return f'{number}.pdf'

    # --- validation --------------------------------------------------------

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('template'):
            Template = Pool().get('payroll.contract.template')
            with without_check_access():
                values['kind'] = Template(values['template']).kind
        return values

    def minimum_hourly_rate(self):
        "The year's minimum hourly rate of the start date (raises UserError)"
        Rates = Pool().get('payroll.rates')
        with without_check_access():
            return Rates.for_date(self.start_date).minimum_hourly_rate

    def field_errors(self):
        """{field: message} of the contract's terms; the back office raises
        the first, the portal shows each next to its field"""
        errors = {}
        template, client = self.template, self.client
        if template and client and not template.allowed_for(client):
            errors['template'] = message('contract_template_not_allowed',
                template=template.rec_name)
        if self.contractor and client:
            with without_check_access():
                owner = self.contractor.__class__(self.contractor.id).client
            if owner.id != client.id:
                errors['contractor'] = message('contract_contractor_other')
        kind = template.kind if template else self.kind
        if self.rate_type == 'hourly':
            rate = self.hourly_rate
            if rate is None:
                errors['hourly_rate'] = gettext(
                    'client_portal.msg_field_required')
            elif rate <= 0:
                errors['hourly_rate'] = message('contract_amount_positive')
            elif (kind == 'mandate' and self.start_date
                    and (not self.currency or self.currency.code == 'PLN')):
                # The minimum is in złoty; a contract in another currency
                # is checked by the staff
                try:
                    minimum = self.minimum_hourly_rate()
                except UserError as error:
                    errors['start_date'] = error.message
                else:
                    if rate < minimum:
                        errors['hourly_rate'] = message(
                            'contract_rate_below_minimum',
                            minimum=format_amount(minimum, 'pl'),
                            year=self.start_date.year)
        elif self.rate_type == 'lump_sum':
            if self.amount is None:
                errors['amount'] = gettext('client_portal.msg_field_required')
            elif self.amount <= 0:
                errors['amount'] = message('contract_amount_positive')
        if (self.start_date and self.end_date
                and self.end_date < self.start_date):
            errors['end_date'] = message('contract_end_before_start')
        share = self.copyright_share
        if share is not None and not (0 <= share <= 100):
            errors['copyright_share'] = message('copyright_share_range')
        return errors

    @classmethod
    def validate_fields(cls, contracts, field_names):
        super().validate_fields(contracts, field_names)
        # The terms are checked while drafted and again at issue
        if field_names is not None and not (set(field_names) & (
                    set(TERMS) | {'client'})):
            return
        for contract in contracts:
            if contract.state == 'draft':
                errors = contract.field_errors()
                if errors:
                    raise ValidationError(next(iter(errors.values())))

    @classmethod
    def check_modification(cls, mode, contracts, values=None,
            external=False):
        super().check_modification(
            mode, contracts, values=values, external=external)
        if mode == 'delete':
            for contract in contracts:
                if contract.state != 'draft':
                    raise AccessError(message('contract_delete_draft',
                            contract=contract.rec_name))
        elif mode == 'write' and set(values) - ISSUED_WRITABLE:
            for contract in contracts:
                if contract.state != 'draft':
                    raise AccessError(message('contract_not_draft',
                            contract=contract.rec_name))

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        for name in ['series', 'sequence', 'number', 'previous', 'date',
                'issued_at', 'terminated_on', 'termination_reason', 'text',
                'pdf', 'pdf_id', 'template_version']:
            default.setdefault(name, None)
        default.setdefault('version', 1)
        default.setdefault('state', 'draft')
        return super().copy(contracts, default=default)

    # --- the text ------------------------------------------------------------

    def placeholder_values(self):
        "{placeholder: text} in the contract's language"
        language = self.language or 'pl'
        words = WORDS.get(language, WORDS['pl'])
        client, contractor = self.client, self.contractor
        address = client.address_get() if client else None
        identifier = client.tax_identifier if client else None
        rate = self.hourly_rate if self.rate_type == 'hourly' else self.amount
        share = self.copyright_share or Decimal(0)
        kind = self.template.kind if self.template else self.kind
        taker, giver = words['roles'].get(kind, words['roles']['work'])
        clause = (words['clause'].format(share=format_share(share, language),
                taker=taker, giver=giver)
            if share > 0 else words['no_clause'])
        return {
            'client_name': client.name if client else '',
            'client_tax_number': identifier.code if identifier else '',
            'client_address': (', '.join(
                    address.full_address.splitlines()) if address else ''),
            'contractor_name': contractor.name if contractor else '',
            'contractor_pesel': (contractor.pesel or contractor.passport
                or '') if contractor else '',
            'contractor_address': (', '.join(contractor.address_lines)
                if contractor else ''),
            'subject': self.subject or '',
            'rate': format_amount(rate, language),
            'rate_type': words.get(self.rate_type, ''),
            'amount': format_amount(self.amount, language)
            if self.rate_type == 'lump_sum' else '',
            'currency': self.currency.code if self.currency else '',
            'start': format_date(self.start_date),
            'end': (format_date(self.end_date) if self.end_date
                else words['open_end']),
            'copyright_share': format_share(share, language),
            'number': self.number or words['draft_number'],
            'date': format_date(self.date or Pool().get('ir.date').today()),
            'copyright_clause': clause,
            }

    def render_text(self):
        "The template version's text with the contract's values"
        version = self.template_version or (
            self.template.current_version if self.template else None)
        if not version:
            return ''
        with without_check_access():
            version = version.__class__(version.id) if version.id else version
            return render(version.text(self.language),
                self.placeholder_values())

    def render_pdf(self):
        "The contract's PDF, rendered now (also for an unsaved contract)"
        Report = Pool().get('payroll.contract.pdf', type='report')
        return Report.render_pdf([self])

    # --- issue, amend, terminate -----------------------------------------

    @classmethod
    def contract_series(cls, company):
        """The company's first series of kind contract; "UZ/" is made the
        first time one is needed"""
        Series = Pool().get('portal.invoice.series')
        domain = [('company', '=', company.id), ('kind', '=', 'contract')]
        with without_check_access():
            series = Series.search(domain, order=[('id', 'ASC')], limit=1)
            if not series:
                # Two first issues at once would make it twice
                Series.lock()
                series = Series.search(
                    domain, order=[('id', 'ASC')], limit=1)
            if not series:
                series = Series.create([{
                            'company': company.id, 'name': "Umowy",
                            'prefix': SERIES_PREFIX, 'kind': 'contract',
                            }])
        return series[0]

    def _issue_check(self):
        if self.state != 'draft':
            raise AccessError(message('contract_not_draft',
                    contract=self.rec_name))
        errors = self.field_errors()
        if errors:
            raise ValidationError(next(iter(errors.values())))
        if not self.template.current_version:
            raise UserError(message('contract_no_template_text',
                    template=self.template.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('issued')
    def issue(cls, contracts):
        """Number (a new contract) or keep the number (an amendment),
        freeze the template's version, render the text and the PDF"""
        Date = Pool().get('ir.date')
        for contract in contracts:
            contract._issue_check()
        for contract in contracts:
            values = {
                'date': Date.today(),
                'issued_at': datetime.datetime.now(),
                'template_version': (contract.template_version
                    or contract.template.current_version).id,
                }
            if not contract.number:
                with Transaction().set_context(
                        company=contract.company.id):
                    series = cls.contract_series(contract.company)
                    with without_check_access():
                        sequence, number = series.take_number(
                            values['date'].year)
                values.update(series=series.id, sequence=sequence,
                    number=number)
            cls.write([contract], values)
            contract = cls(contract.id)
            cls.write([contract], {'text': contract.render_text()})
            contract = cls(contract.id)
            cls.write([contract], {'pdf': contract.render_pdf()})

    @classmethod
    def amend(cls, contract, values):
        """A new version of the issued contract with values changed, issued
        under the same number; the old one is kept, state amended"""
        if contract.state != 'issued':
            raise AccessError(message('contract_not_issued',
                    contract=contract.rec_name))
        terms = {name: getattr(contract, name) for name in TERMS}
        for name, value in terms.items():
            if isinstance(value, ModelSQL):
                terms[name] = value.id
        terms.update(values)
        new, = cls.create([{
                    **terms,
                    'company': contract.company.id,
                    'client': contract.client.id,
                    'number': contract.number,
                    'series': contract.series.id if contract.series else None,
                    'sequence': contract.sequence,
                    'version': contract.version + 1,
                    'previous': contract.id,
                    # The amendment keeps the text the contract was made from
                    'template_version': (contract.template_version.id
                        if terms.get('template') == contract.template.id
                        else None),
                    }])
        cls.issue([new])
        cls._amended([contract])
        return cls(new.id)

    @classmethod
    @Workflow.transition('amended')
    def _amended(cls, contracts):
        pass

    @classmethod
    def terminate(cls, contracts, date=None, reason=None):
        """End the issued contracts on the date (else the one filled, else
        today), for the reason given"""
        Date = Pool().get('ir.date')
        for contract in contracts:
            if contract.state != 'issued':
                raise AccessError(message('contract_not_issued',
                        contract=contract.rec_name))
        values = {}
        if date is not None:
            values['terminated_on'] = date
        if reason is not None:
            values['termination_reason'] = reason
        if values:
            cls.write(contracts, values)
        contracts = cls.browse(contracts)
        undated = [c for c in contracts if not c.terminated_on]
        if undated:
            cls.write(undated, {'terminated_on': Date.today()})
        cls._terminated(cls.browse(contracts))

    @classmethod
    @Workflow.transition('terminated')
    def _terminated(cls, contracts):
        pass

    @classmethod
    @ModelView.button
    def terminate_button(cls, contracts):
        "The back office ends the contracts on their termination date"
        cls.terminate(contracts)
