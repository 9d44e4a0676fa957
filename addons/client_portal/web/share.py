"""Share links: the client creates and revokes them on the document's page;
whoever holds one opens that document's summary and PDF without a login,
and nothing else.

A token that is unknown, expired or revoked gets one and the same page with
status 404: the page never tells whether a guessed token exists."""
from contextlib import contextmanager
from types import SimpleNamespace

from trytond.protocols.wrappers import HTTPStatus

from ..mail import portal_url
from ..share_link import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, validity_error
from .access import client_access, portal_route
from .documents import document_types, labels

# The link's URL must not leak to the sites the PDF or page links to, nor
# stay in a shared computer's cache
SHARED_HEADERS = {
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Robots-Tag': 'noindex, nofollow',
    }


def _form(portal, document, days, errors, status=HTTPStatus.OK, **extra):
    return portal.render('share/share.html', status=status,
        document=document, days=days, errors=errors,
        min_days=MIN_DAYS, max_days=MAX_DAYS,
        document_types=document_types(portal.pool), **extra)


@portal_route('/documents/<id:document_id>/share', methods=('POST',))
def share(request, portal, document_id):
    ShareLink = portal.pool.get('portal.share.link')
    document = portal.get_or_404('portal.document', document_id)
    days = request.form.get('days', '').strip()[:10]
    error = validity_error(days)
    if error:
        return _form(portal, document, days, {'days': error},
            status=HTTPStatus.BAD_REQUEST)
    link, token = ShareLink.create_link(
        document, portal.party, portal.web_user, int(days))
    # Shown on this response only: the token is not stored. Built from the
    # configured address, as e-mail links are, never from the request's
    # Host header
    return _form(portal, document, DEFAULT_DAYS, {}, link=link,
        url=portal_url(f'shared/{token}'))


@portal_route('/shares/<id:share_id>/revoke', methods=('POST',))
def revoke(request, portal, share_id):
    ShareLink = portal.pool.get('portal.share.link')
    link = portal.get_or_404('portal.share.link', share_id)
    ShareLink.revoke_links([link])
    return portal.redirect(f'documents/{link.document.id}', shared='revoked')


@contextmanager
def _shared(portal, token):
    """The live link of the token and its document, or (None, None), with
    the document read as its client: under the client's record rules"""
    ShareLink = portal.pool.get('portal.share.link')
    link = ShareLink.resolve(token)
    if link is None:
        yield None, None
        return
    owner = SimpleNamespace(id=None, client=SimpleNamespace(id=link.client.id))
    with client_access(portal.pool, owner, portal.language):
        documents = portal.pool.get(link.document.__name__).search(
            [('id', '=', link.document.id)], limit=1)
        yield link, (documents[0] if documents else None)


def _headers(response):
    response.headers.update(SHARED_HEADERS)
    return response


def _gone(portal):
    return _headers(portal.render('share/gone.html',
            status=HTTPStatus.NOT_FOUND))


@portal_route('/shared/<token>', auth=False, readonly=False)
def shared(request, portal, token):
    with _shared(portal, token) as (link, document):
        if document is None:
            return _gone(portal)
        link.log_use('page', request.remote_addr, request.user_agent.string)
        Currency = portal.pool.get('currency.currency')
        return _headers(portal.render('share/shared.html',
                document=document, token=token, labels=labels(),
                currency=Currency.portal_currencies()[document.currency.id],
                document_types=document_types(portal.pool)))


@portal_route('/shared/<token>.pdf', auth=False, readonly=False)
def shared_pdf(request, portal, token):
    with _shared(portal, token) as (link, document):
        if document is None:
            return _gone(portal)
        content = document.get_pdf()
        if not content:
            return _gone(portal)
        link.log_use('pdf', request.remote_addr, request.user_agent.string)
        # Not the client's first download: the document's record stays
        return _headers(portal.pdf(content, document.pdf_filename))
