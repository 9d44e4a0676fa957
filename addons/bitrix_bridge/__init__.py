"""Bitrix24 bridge: mirrors the portal's clients, contractors, documents,
invoices and cost invoices into the firm's Bitrix24 CRM through an outbox
(facts: BITRIX24.md).

Classes are registered by tryton.cfg."""

# The endpoint of Bitrix24's events is a route on trytond's WSGI
# application, registered at import time like client_portal's pages
from . import web, web_dashboard

__all__ = [web, web_dashboard]
