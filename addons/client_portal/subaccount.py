from trytond.model import ModelSQL, ModelView, Unique, fields


class Subaccount(ModelSQL, ModelView):
    """Sub-account of a client in one currency

    The client's money held by the firm in that currency: payments received
    for the invoices the client issued land on it, refunds and charges
    leave it. It is a view of the posted move lines of its own account,
    never a second set of books."""
    __name__ = 'portal.subaccount'

    company = fields.Many2One('company.company', "Company", required=True)
    client = fields.Many2One(
        'party.party', "Client", required=True, ondelete='RESTRICT',
        domain=[('portal_client', '=', True)])
    currency = fields.Many2One('currency.currency', "Currency", required=True)
    account = fields.Many2One(
        'account.account', "Account", required=True, ondelete='RESTRICT',
        help="The ledger account whose posted lines are the sub-account.")
    payment_method = fields.Many2One(
        'account.invoice.payment.method', "Payment Method",
        ondelete='RESTRICT',
        help="Payments of the client's invoices received into the "
        "sub-account.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('client_currency_unique', Unique(t, t.client, t.currency),
                'client_portal.msg_subaccount_unique'),
            ]

    def get_rec_name(self, name):
        return f'{self.client.rec_name} · {self.currency.code}'
