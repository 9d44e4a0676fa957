"""KSeF on the invoice's PDF: the verification code KOD I (facts:
POLAND.md §3.6) as a QR code with the KSeF number, or "OFFLINE" while there
is none, under it; and a new PDF once KSeF accepts the invoice, the one the
buyer may already hold kept when it was issued offline."""
import base64

from ksef_client.config import KsefClientOptions
from ksef_client.services.qr import generate_qr_png
from ksef_client.services.verification_link import VerificationLinkService

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.transaction import Transaction, without_check_access

from client_portal.outgoing_report import Verification

from . import fa3
from .configuration import get_configuration

# Printed under the code while KSeF has given the invoice no number
OFFLINE = 'OFFLINE'


def verification_url(qr_url, nip, issue_date, xml_hash):
    """The KOD I link of an invoice: the QR host, the seller's NIP, the
    issue date (P_1) and the SHA-256 of the XML file (Base64 or Base64URL),
    built by ksef-client"""
    # The API address is not used: the QR host is given
    options = KsefClientOptions(base_url=qr_url, base_qr_url=qr_url)
    return VerificationLinkService(options).build_invoice_verification_url(
        nip, issue_date, xml_hash)


def qr_data_uri(url):
    "The QR code of url as a PNG data: URI"
    # 4 pixels per module: sharp at the printed size, a small PDF
    png = generate_qr_png(url, box_size=4, border=2)
    return 'data:image/png;base64,' + base64.b64encode(png).decode('ascii')


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    # In the table, not the file store: the store's clean-up would delete
    # the file of the PDF it was copied from, the same file
    ksef_offline_pdf = fields.Binary("Offline PDF", readonly=True,
        filename='ksef_offline_pdf_name',
        help="The PDF issued in offline mode, as the buyer received it "
        "before KSeF gave the invoice its number.")
    ksef_offline_pdf_name = fields.Function(
        fields.Char("Offline PDF File Name"), 'get_ksef_offline_pdf_name')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Kept when KSeF accepts a posted invoice
        cls._check_modify_exclude |= {'ksef_offline_pdf'}

    def get_ksef_offline_pdf_name(self, name):
        number = (self.number or str(self.id)).replace('/', '-')
        return f'{number}-offline.pdf'

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('ksef_offline_pdf', None)
        return super().copy(invoices, default=default)

    @property
    def ksef_verification_url(self):
        "The KOD I link of the stored XML, None without one"
        if not self.ksef_xml_hash:
            return None
        nip = fa3.seller_nip(self.company, self.tax_identifier)
        return verification_url(get_configuration().qr_url, nip,
            self.invoice_date, self.ksef_xml_hash)

    @property
    def portal_pdf_verification(self):
        url = self.ksef_verification_url
        if not url:
            return super().portal_pdf_verification
        return Verification(image=qr_data_uri(url),
            caption=self.ksef_number or OFFLINE, link=url)

    @classmethod
    def ksef_settled(cls, invoices):
        """Render again the stored PDF of the accepted invoices, with their
        KSeF number under the code; an offline invoice's first PDF is kept
        as what the buyer received"""
        accepted = [i for i in invoices
            if i.ksef_status == 'accepted' and i.ksef_number]
        to_write = []
        for invoice in accepted:
            pdf = invoice.get_portal_pdf()
            if not pdf:
                continue
            values = {
                'invoice_report_cache': None,
                'invoice_report_format': None,
                }
            if invoice.ksef_offline and not invoice.ksef_offline_pdf:
                values['ksef_offline_pdf'] = pdf
            to_write.extend([[invoice], values])
        if to_write:
            with without_check_access():
                cls.write(*to_write)
                # print_invoice renders the invoices without a stored one,
                # as the firm whose header and logo they carry
                for invoice in cls.browse(sum(to_write[::2], [])):
                    with Transaction().set_context(
                            company=invoice.company.id):
                        cls.print_invoice([invoice])
        super().ksef_settled(invoices)
