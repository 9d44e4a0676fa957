"""KSeF numbers in client_portal's VAT registers: each document's number or
JPK_V7 marker as this module keeps it (facts POLAND.md §7), on the issued
invoices and on the cost invoices received through KSeF."""
from collections import defaultdict

from trytond.pool import Pool, PoolMeta

# The columns each model's ksef_register_marker getter reads: read with the
# marker, they are the records' values when the getter runs, instead of
# every column of each record loaded for it
MARKER_COLUMNS = {
    'account.invoice': [
        'ksef_number', 'ksef_offline', 'ksef_status', 'state'],
    }


class VatRegister(metaclass=PoolMeta):
    __name__ = 'portal.vat_register'

    @classmethod
    def ksef_markers(cls, documents):
        """The KSeF number; DI for an invoice issued offline still without
        one; BFK for an invoice issued or received outside KSeF; empty for
        an invoice still on its way to KSeF, which has none of them yet
        (the file cannot be filed before its number comes)"""
        pool = Pool()
        markers = super().ksef_markers(documents)
        by_model = defaultdict(list)
        for document in documents:
            by_model[document.__name__].append(document)
        for name, records in by_model.items():
            # One read per model, the getter's columns with it: through the
            # records, the getter would load every column of the documents
            values = {v['id']: v['ksef_register_marker']
                for v in pool.get(name).read([r.id for r in records],
                    MARKER_COLUMNS.get(name, []) + ['ksef_register_marker'])}
            for record in records:
                markers[record] = values[record.id] or ''
        return markers
