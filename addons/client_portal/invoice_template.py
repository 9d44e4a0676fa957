from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

LAYOUTS = [
    ('standard', "Standard"),
    ('compact', "Compact"),
    ]
# What the client may choose on an invoice; FA(3) FormaPlatnosci codes in
# the ksef module
PAYMENT_METHODS = [
    ('transfer', "Bank transfer"),
    ('cash', "Cash"),
    ('card', "Card"),
    ('compensation', "Compensation"),
    ('other', "Other"),
    ]
TAX_ROUNDINGS = [
    ('document', "VAT on the total per rate"),
    ('line', "VAT per line"),
    ]
SERIES_KINDS = [
    ('invoice', "Invoice"),
    ('proforma', "Proforma"),
    ('correction', "Correction"),
    ]


class Series(ModelSQL, ModelView):
    """Number series of the invoices clients issue

    Numbers are continuous per series and year: "<prefix><n>/<year>"."""
    __name__ = 'portal.invoice.series'

    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True)
    prefix = fields.Char("Prefix", required=True,
        help="E.g. \"FV/ALFA/\" gives FV/ALFA/1/2026, FV/ALFA/2/2026…")
    kind = fields.Selection(SERIES_KINDS, "Kind", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_prefix_unique', Unique(t, t.company, t.prefix),
                'client_portal.msg_series_prefix_unique'),
            ]

    def format_number(self, number, year):
        return f'{self.prefix}{number}/{year}'

    def take_number(self, year):
        """The next number of the series in the year. The series' row is
        locked until the transaction ends (trytond restarts a transaction
        that finds it locked), so numbers follow each other; a transaction
        that rolls back gives its number back: no gap, no duplicate."""
        Counter = Pool().get('portal.invoice.series.year')
        self.__class__.lock([self])
        counters = Counter.search([
                ('series', '=', self.id), ('year', '=', year)])
        if counters:
            counter, = counters
        else:
            counter, = Counter.create([{
                        'series': self.id, 'year': year, 'last_number': 0}])
        number = counter.last_number + 1
        Counter.write([counter], {'last_number': number})
        return number, self.format_number(number, year)


class SeriesYear(ModelSQL):
    "Last number of a series in a year"
    __name__ = 'portal.invoice.series.year'

    series = fields.Many2One(
        'portal.invoice.series', "Series", required=True, ondelete='CASCADE')
    year = fields.Integer("Year", required=True)
    last_number = fields.Integer("Last Number", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('series_year_unique', Unique(t, t.series, t.year),
                'client_portal.msg_series_year_unique'),
            ]


class Template(DeactivableMixin, ModelSQL, ModelView):
    """Invoice template

    Chosen by the managers for each client: the layout, the number series,
    the defaults of the client's invoices and the firm's bank account for
    each currency."""
    __name__ = 'portal.invoice.template'

    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True)
    layout = fields.Selection(LAYOUTS, "Layout", required=True)
    invoice_series = fields.Many2One(
        'portal.invoice.series', "Invoice Series", required=True,
        domain=[('kind', '=', 'invoice'),
            ('company', '=', Eval('company', -1))])
    proforma_series = fields.Many2One(
        'portal.invoice.series', "Proforma Series", required=True,
        domain=[('kind', '=', 'proforma'),
            ('company', '=', Eval('company', -1))])
    correction_series = fields.Many2One(
        'portal.invoice.series', "Correction Series", required=True,
        domain=[('kind', '=', 'correction'),
            ('company', '=', Eval('company', -1))])
    payment_method = fields.Selection(
        PAYMENT_METHODS, "Default Payment Method", required=True)
    payment_days = fields.Integer("Default Payment Term (days)",
        required=True, domain=[('payment_days', '>=', 0)])
    account_revenue = fields.Many2One(
        'account.account', "Revenue Account", required=True,
        domain=[('company', '=', Eval('company', -1)),
            ('type.revenue', '=', True)])
    bank_accounts = fields.One2Many(
        'portal.invoice.template.bank_account', 'template', "Bank Accounts")
    footer = fields.Text("Footer", translate=True)
    tax_rounding = fields.Selection(TAX_ROUNDINGS, "VAT Rounding",
        required=True)
    clients = fields.Many2Many(
        'portal.invoice.template-party.party', 'template', 'party',
        "Clients", domain=[('portal_client', '=', True)])

    @classmethod
    def default_layout(cls):
        return 'standard'

    @classmethod
    def default_payment_method(cls):
        return 'transfer'

    @classmethod
    def default_payment_days(cls):
        return 14

    @classmethod
    def default_tax_rounding(cls):
        return 'document'

    def bank_account_for(self, currency):
        for line in self.bank_accounts:
            if line.currency == currency:
                return line.bank_account


class TemplateBankAccount(ModelSQL, ModelView):
    "The firm's bank account printed on a template's invoices in a currency"
    __name__ = 'portal.invoice.template.bank_account'

    template = fields.Many2One(
        'portal.invoice.template', "Template", required=True,
        ondelete='CASCADE')
    currency = fields.Many2One('currency.currency', "Currency", required=True)
    bank_account = fields.Many2One(
        'bank.account', "Bank Account", required=True)


class TemplateClient(ModelSQL):
    "Invoice template a client may use"
    __name__ = 'portal.invoice.template-party.party'

    template = fields.Many2One(
        'portal.invoice.template', "Template", required=True,
        ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE')


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    portal_invoice_templates = fields.Many2Many(
        'portal.invoice.template-party.party', 'party', 'template',
        "Invoice Templates",
        states={'invisible': ~Eval('portal_client')},
        help="The invoice templates this client may use on the portal.")
