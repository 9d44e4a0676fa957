# Routes are registered on trytond's global WSGI map at import time
# (Tryton 8.0 has no router registry), so importing the web package is
# what publishes the portal.
from . import web

__all__ = [web]
