"""What a PIT-11 needs per contractor and year: the issued and paid bills
summed per client, contractor, year of the bill's date and contract kind
(mandate and specific work are separate rows of the PIT-11)."""

from sql import Column
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Coalesce
from sql.functions import Extract

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.wizard import Button, StateView, Wizard

from client_portal.report_line import SummedAmounts
from client_portal.spreadsheet import xlsx_bytes

from .bill_export import (
    component_labels, component_totals, identity, user_language, words)
from .contract_template import KINDS

# The sums of the summary, in the order of its list and export
AMOUNTS = ['gross', 'under26_relief', 'kup', 'social_contractor', 'health',
    'pit', 'net']


class AnnualSummary(SummedAmounts, ModelSQL, ModelView):
    """Payroll Annual Summary

    The bills of a contractor for a client in a year and a contract kind:
    the figures of the PIT-11"""
    __name__ = 'payroll.annual.summary'
    _summed_amounts = AMOUNTS

    company = fields.Many2One('company.company', "Company", readonly=True)
    client = fields.Many2One('party.party', "Client", readonly=True)
    contractor = fields.Many2One('payroll.contractor', "Contractor",
        readonly=True)
    pesel = fields.Function(fields.Char("PESEL"), 'get_pesel')
    year = fields.Integer("Year", readonly=True)
    kind = fields.Selection(KINDS, "Contract Kind", readonly=True,
        help="Mandate contracts are income from activity performed "
        "personally; contracts for specific work are a row of their own.")
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)
    bill_count = fields.Integer("Bills", readonly=True)
    gross = fields.Numeric("Gross Income", digits=(16, 2), readonly=True)
    under26_relief = fields.Numeric("Exempt Income (under 26)",
        digits=(16, 2), readonly=True,
        help="Income exempt from tax for those under 26 (art. 21 sec. 1 "
        "pt. 148 of the PIT Act).")
    kup = fields.Numeric("Tax-deductible Costs", digits=(16, 2),
        readonly=True)
    social_contractor = fields.Numeric("Social Contributions",
        digits=(16, 2), readonly=True,
        help="The contractor's social security contributions deducted.")
    health = fields.Numeric("Health Contribution", digits=(16, 2),
        readonly=True)
    pit = fields.Numeric("Tax Advances", digits=(16, 2), readonly=True)
    net = fields.Numeric("Net Paid", digits=(16, 2), readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('year', 'DESC'), ('client', 'ASC'),
            ('contractor', 'ASC'), ('kind', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Bill = pool.get('payroll.bill')
        Contract = pool.get('payroll.contract')
        bill = Bill.__table__()
        contract = Contract.__table__()
        # trytond gives SQLite an EXTRACT function: the same SQL on both
        year = cls.year.sql_cast(Extract('YEAR', bill.date))
        keys = [bill.company, bill.client, bill.contractor, year,
            contract.kind, bill.currency]
        columns = [
            # The groups are disjoint: their smallest bill ids are unique
            Min(bill.id).as_('id'),
            bill.company.as_('company'),
            bill.client.as_('client'),
            bill.contractor.as_('contractor'),
            year.as_('year'),
            contract.kind.as_('kind'),
            bill.currency.as_('currency'),
            Count(bill.id).as_('bill_count'),
            ]
        for name in AMOUNTS:
            # Decimals are bytes in SQLite: cast before summing
            amount = getattr(Bill, name).sql_cast(Column(bill, name))
            columns.append(Sum(Coalesce(amount, 0)).as_(name))
        return (bill
            .join(contract, condition=bill.contract == contract.id)
            .select(*columns,
                where=bill.state.in_(['issued', 'paid']),
                group_by=keys))

    def get_pesel(self, name):
        return identity(self.contractor)


def summary_xlsx(summaries, language):
    """The XLSX (bytes) of the annual summaries: a row per contractor,
    client, year and kind, and the totals"""
    return xlsx_bytes(lambda book: _write_summaries(book, summaries, language))


def _write_summaries(book, summaries, language):
    w = words(language)
    sheet = book.sheet(w['summary'], [w['year'], w['client'], w['contractor'], w['pesel'],
            w['kind'], w['count']] + component_labels(language, AMOUNTS),
        [6, 30, 26, 13, 22, 8] + [14] * len(AMOUNTS))
    summaries = sorted(summaries, key=lambda s: (-s.year,
            s.client.rec_name, s.contractor.rec_name, s.kind or '', s.id))
    for summary in summaries:
        sheet.write([str(summary.year), summary.client.rec_name,
                summary.contractor.rec_name, summary.pesel or '',
                w['kinds'].get(summary.kind, summary.kind or ''),
                summary.bill_count]
            + [getattr(summary, n) for n in AMOUNTS])
    totals = component_totals(summaries, AMOUNTS)
    sheet.write([w['total'], None, None, None, None,
            sum(s.bill_count for s in summaries)]
        + [totals[n] for n in AMOUNTS], bold=True)


class ExportSummaryStart(ModelView):
    "Export Payroll Annual Summary"
    __name__ = 'payroll.annual.summary.export.start'

    year = fields.Integer("Year", required=True)
    client = fields.Many2One('party.party', "Client",
        domain=[('portal_client', '=', True)],
        help="Leave empty for all clients.")
    contractor = fields.Many2One('payroll.contractor', "Contractor",
        domain=[If(Bool(Eval('client')),
                ('client', '=', Eval('client', -1)), ())],
        help="Leave empty for all contractors.")

    @classmethod
    def default_year(cls):
        # In January the PIT-11 of the year before is due
        today = Pool().get('ir.date').today()
        return today.year - 1 if today.month <= 2 else today.year

    @fields.depends('client', 'contractor')
    def on_change_client(self):
        if self.contractor and self.contractor.client != self.client:
            self.contractor = None


class ExportSummary(Wizard):
    "Export Payroll Annual Summary"
    __name__ = 'payroll.annual.summary.export'

    start = StateView('payroll.annual.summary.export.start',
        'payroll_account.annual_summary_export_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'result', 'tryton-ok', default=True),
            ])
    result = StateView('portal.export.file',
        'client_portal.export_file_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def summaries(self):
        Summary = Pool().get('payroll.annual.summary')
        domain = [('year', '=', self.start.year)]
        if self.start.client:
            domain.append(('client', '=', self.start.client.id))
        if self.start.contractor:
            domain.append(('contractor', '=', self.start.contractor.id))
        return Summary.search(domain)

    def default_result(self, fields):
        language = user_language()
        return {
            'file': summary_xlsx(self.summaries(), language),
            'filename': '%s_%s.xlsx' % (
                words(language)['summary_file'], self.start.year),
            }
