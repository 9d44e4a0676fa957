"""KSeF, the Polish national e-invoice system: the FA(3) XML of every
invoice and correction the firm issues (its own and its clients'), built with
ksef-client, validated against the FA(3) XSD and stored at issue.

Classes are registered by tryton.cfg."""

# The portal's KSeF downloads are routes on trytond's WSGI application,
# registered at import time like client_portal's own pages
from . import web

__all__ = [web]
