from trytond.model import ModelSQL, ModelView, fields

STATES = [
    ('queued', "Queued"),
    ('sent', "Sent"),
    ('failed', "Failed"),
    ]


class InvoiceEmail(ModelSQL, ModelView):
    """E-mail of a client's invoice to its buyer

    One per sending: queued in the transaction that issues (or re-sends)
    the invoice, sent by the queue, failed with the error kept so that the
    client sees it and can retry."""
    __name__ = 'portal.invoice.email'

    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='CASCADE')
    recipient = fields.Char("Recipient", required=True)
    language = fields.Char("Language", required=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    error = fields.Char("Error", readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    sent_at = fields.Timestamp("Sent at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0
