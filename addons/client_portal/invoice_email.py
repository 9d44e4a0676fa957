import datetime
import logging
from email.headerregistry import Address
from email.utils import parseaddr

from trytond import config
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.sendmail import send_message
from trytond.transaction import without_check_access

logger = logging.getLogger(__name__)

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
        cls._buttons.update({
                'retry': {
                    'invisible': Eval('state') != 'failed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def queue(cls, invoice, recipient=None):
        """Record the e-mail of the issued document to the recipient (the
        buyer by default) and send it from the queue once the caller's
        transaction commits"""
        recipient = recipient or invoice.portal_buyer_email
        with without_check_access():
            email, = cls.create([{
                        'invoice': invoice.id,
                        'recipient': recipient,
                        'language': invoice.portal_language or 'pl',
                        }])
        cls.__queue__.deliver([email])
        return email

    @classmethod
    @ModelView.button
    def retry(cls, emails):
        "Send the failed e-mails again"
        failed = [e for e in emails if e.state == 'failed']
        if failed:
            with without_check_access():
                cls.write(failed, {'state': 'queued'})
            cls.__queue__.deliver(failed)

    @classmethod
    def deliver(cls, emails):
        """Send the queued e-mails, each on its own: the outcome (sent, or
        failed with the SMTP error) is written, never raised, so that one
        bad address does not hold the others back"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        with without_check_access():
            emails = [e for e in cls.browse(emails) if e.state == 'queued']
            for email in emails:
                try:
                    msg = email._build()
                    # Not the transactional variant: the state must say
                    # what the SMTP server answered
                    send_message(msg, strict=True)
                except Exception as e:
                    logger.warning("invoice e-mail %s failed", email.id,
                        exc_info=True)
                    cls.write([email], {
                            'state': 'failed',
                            'error': str(e)[:500] or e.__class__.__name__,
                            'attempts': (email.attempts or 0) + 1,
                            })
                else:
                    cls.write([email], {
                            'state': 'sent',
                            'error': None,
                            'attempts': (email.attempts or 0) + 1,
                            'sent_at': datetime.datetime.now(),
                            })
            Invoice.portal_refresh_status(list({e.invoice for e in emails}))

    def _build(self):
        "The message in the document's language, with its stored PDF"
        from .mail import build_message
        pool = Pool()
        Company = pool.get('company.company')
        invoice = self.invoice
        language = self.language or 'pl'
        msg = build_message('outgoing_invoice', language, invoice=invoice,
            client=invoice.portal_issuer, kind=invoice.portal_kind
            or 'invoice', amount_due=invoice.portal_pdf_amount_due)
        branding = Company.portal_branding(language)
        _, address = parseaddr(config.get('email', 'from'))
        msg['From'] = Address(branding.get('title') or '',
            addr_spec=address) if address else config.get('email', 'from')
        if branding.get('support_email'):
            msg['Reply-To'] = branding['support_email']
        msg['To'] = self.recipient
        filename = (invoice.number or f'draft-{invoice.id}').replace('/', '-')
        msg.add_attachment(bytes(self._pdf()), maintype='application',
            subtype='pdf', filename=f'{filename}.pdf')
        return msg

    def _pdf(self):
        """The PDF stored at issue; one rendered and stored now when the
        document was issued without it"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        content = self.invoice.get_portal_pdf()
        if content is None:
            Invoice.print_invoice([self.invoice])
            content = Invoice(self.invoice.id).get_portal_pdf()
        return content


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    portal_emails = fields.One2Many(
        'portal.invoice.email', 'invoice', "E-mails", readonly=True)

    @classmethod
    def view_attributes(cls):
        # The back office's page of a client's document and its e-mails
        return super().view_attributes() + [
            ('/form/notebook/page[@id="portal_outgoing"]', 'states', {
                    'invisible': ~Eval('portal_issuer'),
                    }),
            ]

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('portal_emails', None)
        return super().copy(invoices, default=default)
