"""KSeF numbers in client_portal's VAT registers: each document's number or
JPK_V7 marker as this module keeps it (facts POLAND.md §7), on the issued
invoices and on the cost invoices received through KSeF."""
from trytond.pool import PoolMeta


class VatRegister(metaclass=PoolMeta):
    __name__ = 'portal.vat_register'

    @classmethod
    def ksef_markers(cls, documents):
        """The KSeF number; DI for an invoice issued offline still without
        one; BFK for an invoice issued or received outside KSeF; empty for
        an invoice still on its way to KSeF, which has none of them yet
        (the file cannot be filed before its number comes)"""
        markers = super().ksef_markers(documents)
        for document in documents:
            markers[document] = document.ksef_register_marker or ''
        return markers
