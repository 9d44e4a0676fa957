"""The portal's downloads of KSeF files: the FA(3) XML stored at issue and
KSeF's receipt (UPO), of the client's own invoices and of the firm's
documents to the client, and the FA(3) XML of a cost invoice received
through KSeF. Each is found as its page finds it, so a client
never gets another client's file: 404."""
from trytond.protocols.wrappers import HTTPStatus, Response, abort
from trytond.transaction import without_check_access

from client_portal.web.access import portal_route
from client_portal.web.costs import _own as _own_cost
from client_portal.web.invoices import _own_invoice

XML = 'application/xml'


def _activated(portal):
    "The ksef module is activated in the portal's database"
    Invoice = portal.pool.get('account.invoice')
    if 'ksef_xml' not in Invoice._fields:
        abort(HTTPStatus.NOT_FOUND)


def _download(portal, invoice, field):
    """The invoice's stored file of field (ksef_xml or ksef_upo) as an XML
    attachment, 404 without one. The caller holds the invoice: its files
    are read like its PDF, without access checks."""
    with without_check_access():
        values, = invoice.read([invoice.id], [field, f'{field}_name'])
    return _attachment(portal, values[field], values[f'{field}_name'])


def _attachment(portal, content, filename):
    "An XML file to download, 404 without one"
    if not content:
        abort(HTTPStatus.NOT_FOUND)
    filename = filename.replace('"', '')
    return portal.respond(Response(bytes(content), content_type=XML,
            headers={'Content-Disposition':
                f'attachment; filename="{filename}"'}))


def _document_invoice(portal, document_id):
    "The invoice behind one of the client's documents, else 404"
    _activated(portal)
    document = portal.get_or_404('portal.document', document_id)
    Invoice = portal.pool.get('account.invoice')
    if not isinstance(document.origin, Invoice):
        abort(HTTPStatus.NOT_FOUND)
    return document.origin


@portal_route('/invoices/<id:invoice_id>.xml')
def invoice_xml(request, portal, invoice_id):
    "The FA(3) XML of the client's own invoice"
    _activated(portal)
    return _download(portal, _own_invoice(portal, invoice_id), 'ksef_xml')


@portal_route('/invoices/<id:invoice_id>/upo.xml')
def invoice_upo(request, portal, invoice_id):
    "KSeF's receipt (UPO) of the client's own invoice"
    _activated(portal)
    return _download(portal, _own_invoice(portal, invoice_id), 'ksef_upo')


@portal_route('/documents/<id:document_id>.xml')
def document_xml(request, portal, document_id):
    "The FA(3) XML of an invoice the firm issued to the client"
    return _download(
        portal, _document_invoice(portal, document_id), 'ksef_xml')


@portal_route('/documents/<id:document_id>/upo.xml')
def document_upo(request, portal, document_id):
    "KSeF's receipt (UPO) of an invoice the firm issued to the client"
    return _download(
        portal, _document_invoice(portal, document_id), 'ksef_upo')


@portal_route('/costs/<id:cost_id>.xml')
def cost_xml(request, portal, cost_id):
    "The FA(3) XML of a cost invoice the firm received through KSeF"
    _activated(portal)
    cost = _own_cost(portal, cost_id)
    if not cost.ksef_received:
        abort(HTTPStatus.NOT_FOUND)
    # The client holds the cost invoice: its received document is read
    # like an attribute of it
    Received = portal.pool.get('ksef.received.invoice')
    with without_check_access():
        values, = Received.read(
            [cost.ksef_received.id], ['xml', 'xml_name'])
    return _attachment(portal, values['xml'], values['xml_name'])
