"""What each client owes the firm and is owed by it (C5, C8): the
manager's overdue documents and outstanding balances per client, the
figures of the client's home page (Document.totals_by_currency) for every
client at once."""
from sql.aggregate import Min

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If

from .report_line import SummedAmounts

AMOUNTS = ['not_due', 'overdue', 'credit', 'balance']


class Outstanding(SummedAmounts, ModelSQL, ModelView):
    """Outstanding Balance

    The documents a client has not settled in a currency: owed and not
    yet due, overdue, the open credit notes and the balance"""
    __name__ = 'portal.report.outstanding'
    _summed_amounts = AMOUNTS
    __string__ = "Outstanding Balance"

    company = fields.Many2One('company.company', "Company", readonly=True)
    client = fields.Many2One('party.party', "Client", readonly=True)
    manager = fields.Many2One('res.user', "Manager", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)
    not_due = fields.Numeric("Not Yet Due", digits=(16, 2), readonly=True,
        help="Owed by the client, the due date not passed (or none).")
    overdue = fields.Numeric("Overdue", digits=(16, 2), readonly=True,
        help="Owed by the client after the due date.")
    overdue_count = fields.Integer("Overdue Documents", readonly=True)
    credit = fields.Numeric("Credit", digits=(16, 2), readonly=True,
        help="Open credit notes: what the firm owes the client.")
    balance = fields.Numeric("Balance", digits=(16, 2), readonly=True,
        help="Not yet due + overdue - credit: what the client has to pay "
        "(negative: what it is to be refunded).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('client', 'ASC'), ('currency', 'ASC'), ('id', 'ASC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree/field[@name="overdue"]', 'visual',
                If(Eval('overdue_count', 0) > 0, 'danger', '')),
            ]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Document = pool.get('portal.document')
        Party = pool.get('party.party')
        document = Document.__table__()
        party = Party.__table__()
        condition, columns = Document.outstanding_columns(
            document, Document.today())
        keys = [document.company, document.party, party.portal_manager,
            document.currency]
        return document.join(party,
            condition=document.party == party.id
            ).select(
                # The groups are disjoint: their smallest ids are unique
                Min(document.id).as_('id'),
                document.company.as_('company'),
                document.party.as_('client'),
                party.portal_manager.as_('manager'),
                document.currency.as_('currency'),
                *(columns[n].as_(n) for n in AMOUNTS + ['overdue_count']),
                where=condition,
                group_by=keys)
