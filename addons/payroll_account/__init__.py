"Civil-law contracts and payroll bills (rachunki) of portal clients"

# The portal's pages are routes on trytond's WSGI application, registered
# at import time like client_portal's (classes are registered by tryton.cfg)
from . import web

__all__ = [web]
