"""The buyer's e-mail of a client's invoice waits for KSeF: an invoice
does not exist legally before KSeF accepts it (or it is issued offline), so
its e-mail stays queued while the invoice is pending or sent, and
Invoice.ksef_settled sends it on."""
from trytond.pool import PoolMeta
from trytond.transaction import without_check_access

from .outbox import sending_configured

WAITING = {'pending', 'sent'}


class InvoiceEmail(metaclass=PoolMeta):
    __name__ = 'portal.invoice.email'

    @classmethod
    def deliver(cls, emails):
        # Nothing waits for KSeF without credentials: the settings are
        # read once for the batch, not per e-mail
        if sending_configured():
            with without_check_access():
                emails = cls.browse(emails)
                emails = [e for e in emails
                    if e.invoice.ksef_status not in WAITING]
        if emails:
            super().deliver(emails)

    @classmethod
    def ksef_release(cls, invoices):
        "Send the e-mails of the invoices that waited for KSeF"
        with without_check_access():
            emails = cls.search([
                    ('invoice', 'in', [i.id for i in invoices]),
                    ('state', '=', 'queued'),
                    ])
        if emails:
            cls.__queue__.deliver(emails)
        return emails
