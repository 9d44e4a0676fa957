"""The client portal's pages of payroll_account: the client's contractors
(people), their contracts and payroll bills, under portal/contracts.
Importing this package registers the routes on trytond's WSGI application
and the templates and strings with the portal's (client_portal/web/render)."""
import os

from client_portal.web.render import register_pages

ROOT = os.path.dirname(os.path.dirname(__file__))

register_pages(os.path.join(ROOT, 'templates'),
    os.path.join(ROOT, 'locale', 'portal'),
    menu=[('contracts', 'Contracts')])

from . import bills, contractors, contracts  # noqa: E402

__all__ = [bills, contractors, contracts]
