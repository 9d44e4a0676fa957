"""What the portal shows of KSeF: the state of an invoice in KSeF on the
client's invoice and document pages (portal_ksef, which client_portal's
templates read when it is defined), and the KSeF number in the client's
financial documents (portal.document), kept in step when KSeF gives it"""
from collections import namedtuple

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from client_portal.document import sync_documents

# status: pending, sent, accepted, rejected or offline; error: KSeF's reason
# for a rejection; deadline: when an offline invoice must reach KSeF;
# has_xml, has_upo: the files the client can download
PortalKsef = namedtuple('PortalKsef', ['status', 'number', 'accepted_at',
        'error', 'deadline', 'has_xml', 'has_upo'])


def portal_ksef(invoice):
    "The invoice's PortalKsef, None when it is not for KSeF"
    if invoice.ksef_status == 'none':
        return None
    return PortalKsef(status=invoice.ksef_status,
        number=invoice.ksef_number, accepted_at=invoice.ksef_accepted_at,
        error=invoice.ksef_error, deadline=invoice.ksef_deadline,
        has_xml=bool(invoice.ksef_xml_hash),
        has_upo=bool(invoice.ksef_upo_id))


class Document(metaclass=PoolMeta):
    __name__ = 'portal.document'

    ksef_number = fields.Char("KSeF Number", readonly=True,
        help="The number KSeF gave the invoice when it accepted it.")

    @classmethod
    def portal_row_extras(cls):
        return super().portal_row_extras() + ['ksef_number']

    @property
    def portal_ksef(self):
        """The PortalKsef of the document's invoice, None for another
        document. The caller holds the document: its origin is read like
        an attribute of it."""
        Invoice = Pool().get('account.invoice')
        if not isinstance(self.origin, Invoice):
            return None
        with without_check_access():
            return portal_ksef(Invoice(self.origin.id))


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @property
    def portal_ksef(self):
        "The client's own invoice in KSeF, as its PortalKsef"
        return portal_ksef(self)

    def _portal_document_values(self):
        values = super()._portal_document_values()
        if values is not None:
            values['ksef_number'] = self.ksef_number
        return values

    @classmethod
    def ksef_settled(cls, invoices):
        sync_documents([i for i in invoices if i.portal_issued])
        super().ksef_settled(invoices)
