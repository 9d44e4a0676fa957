"The client portal's pages, registered on trytond's WSGI application"
from . import access, account, auth, documents, home, not_found, static

__all__ = [access, account, auth, documents, home, not_found, static]
