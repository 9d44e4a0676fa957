from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pyson import Eval

# JPK_V7 GTU markers (facts: POLAND.md §3.2, §4)
GTU_CODES = [(None, "")] + [
    (f'GTU_{n:02d}', f'GTU_{n:02d}') for n in range(1, 14)]


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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]
