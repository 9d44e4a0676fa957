"The client portal's pages, registered on trytond's WSGI application"
from . import access, account, auth, documents, home, not_found, static
from . import invoice_editor, invoices
from . import contractors, products
from . import subaccounts
from . import costs, cost_corrections
from . import chat
from . import reports, report_summaries, exports
from . import share
from . import archive, requests

__all__ = [access, account, auth, documents, home, not_found, static,
    invoice_editor, invoices, contractors, products, subaccounts, costs,
    cost_corrections, chat, reports, report_summaries, exports, share,
    archive, requests]
