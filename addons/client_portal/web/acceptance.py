"""The client accepts or declines a proforma on its page (the routes are
the document page's, web/documents.py). What was decided
shows there (decision_context, called by the page's handler); a document
that is no proforma has no such routes (404), a proforma no longer open or
already decided is refused with its message (409), a decline without a
reason keeps the form with the message next to the field (422)."""
from trytond.protocols.wrappers import HTTPStatus, abort

from ..acceptance import REASON_SIZE


def decision_context(portal, document):
    "What templates/documents/_decision.html shows of the document"
    form = getattr(portal, 'decision_form', None) or {}
    latest = document.latest_decision
    return {
        'latest': latest and {
            'decision': latest.decision,
            'name': latest.decided_by or '',
            'date': latest.decided_at,
            'reason': latest.reason or '',
            },
        'open': (not latest and document.document_type == 'proforma'
            and document.decision_error() is None),
        'reason': form.get('reason', ''),
        'errors': form.get('errors', {}),
        'max_length': REASON_SIZE,
        }


def decide(request, portal, document_id, decision, render):
    """The client's decision on its proforma; render(document) gives the
    document's page, shown again with the message when refused"""
    Decision = portal.pool.get('portal.document.decision')
    document = portal.get_or_404('portal.document', document_id)
    if document.document_type != 'proforma':
        abort(HTTPStatus.NOT_FOUND)
    reason = request.form.get('reason', '') if decision == 'declined' else ''
    _, errors = Decision.portal_decide(document, decision, reason,
        portal.web_user, request.remote_addr, request.user_agent.string)
    if errors:
        portal.decision_form = {'reason': reason, 'errors': errors}
        response = render(document)
        response.status_code = (HTTPStatus.UNPROCESSABLE_ENTITY
            if 'reason' in errors else HTTPStatus.CONFLICT)
        return response
    return portal.redirect(f'documents/{document.id}#decision')
