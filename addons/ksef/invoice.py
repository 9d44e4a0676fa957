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
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import PoolMeta
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
    'ksef_number', 'ksef_error'}


def xml_hash(xml):
    "SHA-256 of the document, Base64: how KSeF identifies an invoice file"
    return base64.b64encode(hashlib.sha256(xml).digest()).decode('ascii')


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    ksef_xml = fields.Binary("FA(3) XML", readonly=True,
        file_id='ksef_xml_id', store_prefix='ksef',
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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= KSEF_FIELDS

    @classmethod
    def default_ksef_status(cls):
        return 'none'

    def get_ksef_xml_name(self, name):
        number = (self.number or str(self.id)).replace('/', '_')
        return f'{number}.xml'

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        for name in KSEF_FIELDS - {'ksef_status'}:
            default.setdefault(name, None)
        default.setdefault('ksef_status', 'none')
        return super().copy(invoices, default=default)

    @classmethod
    def check_modification(cls, mode, invoices, values=None, external=False):
        super().check_modification(
            mode, invoices, values=values, external=external)
        if mode == 'write' and values.keys() & {'ksef_xml', 'ksef_xml_hash'}:
            for invoice in invoices:
                if invoice.ksef_xml_hash:
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
        to_write = []
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
        if to_write:
            # The lines do not change: a draft's taxes need no recomputing
            # (client_portal's update_taxes), posting still checks them
            with without_check_access(), Transaction().set_context(
                    _portal_taxes_done=True):
                cls.write(*to_write)

    @classmethod
    def _post(cls, invoices):
        # Numbered first, as posting does: the XML carries the number, and
        # it is stored before the rest of the issue (moves, the PDF)
        cls.set_number(invoices)
        cls.ksef_prepare([i for i in cls.browse(invoices)
                if i.ksef_required])
        super()._post(invoices)
