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
        with without_check_access():
            emails = cls.browse(emails)
            held = {e for e in emails if e.ksef_held}
        emails = [e for e in emails if e not in held]
        if emails:
            super().deliver(emails)

    @property
    def ksef_held(self):
        "Whether the e-mail waits for KSeF's answer on its invoice"
        return (self.invoice.ksef_status in WAITING
            and sending_configured())

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
