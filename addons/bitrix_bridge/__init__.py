"""Bitrix24 bridge: mirrors the portal's clients, contractors, documents,
invoices and cost invoices into the firm's Bitrix24 CRM through an outbox
(facts: BITRIX24.md).

Classes are registered by tryton.cfg."""
