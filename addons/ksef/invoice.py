"""KSeF on account.invoice: the FA(3) XML of an issued invoice or
correction, stored with it at issue (ARCHITECTURE.md principle 3), its hash,
and where it stands in KSeF.

The XML is built, validated against the FA(3) XSD and stored while the
invoice is posted, in the issuing transaction: an invalid document stops the
issue with the field at fault, and nothing is stored. Once stored it never
changes; the sending increment fills the status, number and error."""
import base64
import hashlib

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import fa3
from .configuration import get_configuration

STATUSES = [
    ('none', "Not for KSeF"),
    ('pending', "Pending"),
    ('sent', "Sent"),
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ('offline', "Offline"),
    ]
# Written after the invoice is posted: by the issue, then by the sending
KSEF_FIELDS = {'ksef_xml', 'ksef_xml_id', 'ksef_xml_hash', 'ksef_status',
    'ksef_number', 'ksef_error', 'ksef_accepted_at', 'ksef_upo',
    'ksef_upo_id', 'ksef_offline', 'ksef_deadline'}


def xml_hash(xml):
    "SHA-256 of the document, Base64: how KSeF identifies an invoice file"
    return base64.b64encode(hashlib.sha256(xml).digest()).decode('ascii')


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    ksef_xml = fields.Binary("FA(3) XML", readonly=True,
        file_id='ksef_xml_id',
        filename='ksef_xml_name')
    ksef_xml_id = fields.Char("FA(3) XML ID", readonly=True)
    ksef_xml_name = fields.Function(
        fields.Char("FA(3) XML File Name"), 'get_ksef_xml_name')
    ksef_xml_hash = fields.Char("FA(3) XML Hash", readonly=True,
        help="SHA-256 of the stored XML in Base64, as KSeF identifies "
        "the document.")
    ksef_status = fields.Selection(
        STATUSES, "KSeF Status", required=True, readonly=True)
    ksef_number = fields.Char("KSeF Number", readonly=True,
        help="The number KSeF gave the invoice when it accepted it.")
    ksef_error = fields.Text("KSeF Error", readonly=True)
    ksef_accepted_at = fields.Timestamp("KSeF Acceptance Date",
        readonly=True,
        help="When KSeF accepted the invoice (its acquisition date).")
    ksef_upo = fields.Binary("UPO", readonly=True, file_id='ksef_upo_id',
        filename='ksef_upo_name',
        help="KSeF's official receipt (UPO) of the invoice.")
    ksef_upo_id = fields.Char("UPO ID", readonly=True)
    ksef_upo_name = fields.Function(
        fields.Char("UPO File Name"), 'get_ksef_upo_name')
    ksef_offline = fields.Boolean("Issued Offline", readonly=True,
        help="Issued in offline mode while KSeF could not be reached.")
    ksef_deadline = fields.Date("KSeF Deadline", readonly=True,
        help="The day by which an offline invoice must reach KSeF.")
    ksef_outbox = fields.One2Many('ksef.outbox', 'invoice', "KSeF Outbox",
        readonly=True)
    ksef_register_marker = fields.Function(fields.Char(
            "KSeF Register Marker",
            help="What the VAT registers (JPK_V7) show: the KSeF number, "
            "DI for an offline invoice still without one, BFK for an "
            "invoice issued outside KSeF."),
        'get_ksef_register_marker')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= KSEF_FIELDS | {'ksef_outbox'}
        cls._buttons.update({
                'ksef_resend': {
                    'invisible': Eval('ksef_status') != 'rejected',
                    'depends': ['ksef_status'],
                    },
                })

    @classmethod
    def default_ksef_status(cls):
        return 'none'

    def get_ksef_xml_name(self, name):
        number = (self.number or str(self.id)).replace('/', '_')
        return f'{number}.xml'

    def get_ksef_upo_name(self, name):
        number = (self.number or str(self.id)).replace('/', '_')
        return f'UPO_{number}.xml'

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        for name in KSEF_FIELDS - {'ksef_status'}:
            default.setdefault(name, None)
        default.setdefault('ksef_status', 'none')
        default.setdefault('ksef_offline', False)
        default.setdefault('ksef_outbox', None)
        return super().copy(invoices, default=default)

    @classmethod
    def check_modification(cls, mode, invoices, values=None, external=False):
        super().check_modification(
            mode, invoices, values=values, external=external)
        if mode == 'write' and values.keys() & {'ksef_xml', 'ksef_xml_hash'}:
            for invoice in invoices:
                if invoice.ksef_xml_hash and not (
                        Transaction().context.get('_ksef_rebuild')
                        and invoice.ksef_status == 'rejected'):
                    raise AccessError(gettext(
                            'ksef.msg_ksef_xml_immutable',
                            invoice=invoice.rec_name))

    @property
    def ksef_corrected(self):
        "The invoices this one corrects"
        return fa3.corrected_invoices(self)

    @property
    def ksef_required(self):
        """Whether the invoice goes to KSeF: an issued sales invoice or
        correction of a firm with a Polish NIP, for a client who sends,
        except to consumers and foreign buyers when the settings say so
        (facts: POLAND.md §3.1). Proformas never do."""
        if self.type != 'out' or self.portal_kind == 'proforma':
            return False
        if not fa3.seller_nip(self.company, self.tax_identifier):
            return False
        if any(c.ksef_xml_hash for c in self.ksef_corrected):
            # A correction of a structured invoice is structured too
            return True
        client = self.portal_issuer or self.party
        if not client.ksef_send:
            return False
        configuration = get_configuration()
        kind = fa3.buyer_kind(fa3.invoice_buyer_identifier(self))
        if kind == 'none':
            return bool(configuration.send_consumer)
        if kind in {'eu', 'foreign'}:
            return bool(configuration.send_foreign)
        return True

    @classmethod
    def ksef_prepare(cls, invoices):
        """Build the FA(3) XML of each invoice, validate it against the
        FA(3) XSD and store it with its hash, pending for KSeF. An invoice
        whose XML is stored keeps it. An invalid document raises UserError
        naming the field at fault, before anything is written."""
        pool = Pool()
        Outbox = pool.get('ksef.outbox')
        to_write, prepared = [], []
        for invoice in invoices:
            if invoice.ksef_xml_hash:
                continue
            try:
                xml = fa3.build(invoice)
            except fa3.FA3Error as error:
                raise UserError(gettext('ksef.msg_fa3_invalid',
                        invoice=invoice.rec_name, field=error.field,
                        error=error.message)) from error
            to_write.extend([[invoice], {
                        'ksef_xml': xml,
                        'ksef_xml_hash': xml_hash(xml),
                        'ksef_status': 'pending',
                        'ksef_error': None,
                        }])
            prepared.append(invoice)
        if to_write:
            # The lines do not change: a draft's taxes need no recomputing
            # (client_portal's update_taxes), posting still checks them
            with without_check_access(), Transaction().set_context(
                    _portal_taxes_done=True):
                cls.write(*to_write)
            # Sent from the outbox once the issue commits
            Outbox.enqueue(cls.browse(prepared),
                corrected_hash=Transaction().context.get(
                    '_ksef_corrected_hash'))

    @classmethod
    def _post(cls, invoices):
        # Numbered first, as posting does: the XML carries the number, and
        # it is stored before the rest of the issue (moves, the PDF)
        cls.set_number(invoices)
        cls.ksef_prepare([i for i in cls.browse(invoices)
                if i.ksef_required])
        super()._post(invoices)

    def get_ksef_register_marker(self, name):
        """Facts POLAND.md §7: the KSeF number; DI for an offline24 or
        unavailability invoice still without it; BFK for one issued outside
        KSeF. Failure mode (OFF) is not modelled: never given. None while
        the invoice waits for KSeF online (pending, sent, rejected)."""
        if self.ksef_number:
            return self.ksef_number
        if self.ksef_offline or self.ksef_status == 'offline':
            return 'DI'
        if self.ksef_status == 'none' and self.state in {'posted', 'paid'}:
            return 'BFK'
        return None

    @classmethod
    @ModelView.button
    def ksef_resend(cls, invoices):
        """Send rejected invoices again, once corrected: their XML is built
        anew; an invoice issued offline is sent as a technical correction
        of the rejected one (facts §3.5)"""
        pool = Pool()
        Outbox = pool.get('ksef.outbox')
        invoices = [i for i in cls.browse(invoices)
            if i.ksef_status == 'rejected']
        for invoice in invoices:
            rejected_hash = invoice.ksef_xml_hash
            with without_check_access(), Transaction().set_context(
                    _ksef_rebuild=True, _portal_taxes_done=True):
                Outbox.write([e for e in invoice.ksef_outbox
                        if e.state == 'rejected'], {'state': 'cancelled'})
                cls.write([invoice], {
                        'ksef_xml': None, 'ksef_xml_hash': None,
                        'ksef_error': None})
            with Transaction().set_context(
                    _ksef_corrected_hash=rejected_hash
                    if invoice.ksef_offline else None):
                cls.ksef_prepare([cls(invoice.id)])

    @classmethod
    def ksef_settled(cls, invoices):
        """Called, as the system, when invoices reach an outcome in KSeF for
        now (accepted, offline, rejected): what waited for it goes on, the
        e-mails to the buyers first"""
        pool = Pool()
        Email = pool.get('portal.invoice.email')
        Email.ksef_release(invoices)
