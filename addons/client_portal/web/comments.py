"""Comments under the client's documents: the thread a page shows
(comment_thread, called by each page's handler) and the posts that add to
it. One helper serves every kind of record: each page's module adds the
route of its comments beside the page (documents, invoices, costs,
payroll_account's contracts), as the page renders them again when a
comment is refused."""
from trytond.protocols.wrappers import HTTPStatus, abort

from ..chat import MAX_LENGTH


def comment_thread(portal, resource):
    """What templates/comments/_thread.html shows under the record; the
    firm's replies are read once shown. After a refused post, the text
    sent and its error (post_comment)."""
    Comment = portal.pool.get('portal.comment')
    form = getattr(portal, 'comment_form', None) or {}
    return {
        'comments': Comment.portal_thread(resource),
        'action': Comment.resource_path(resource) + '/comments',
        'body': form.get('body', ''),
        'errors': form.get('errors', {}),
        'max_length': MAX_LENGTH,
        }


def post_comment(request, portal, model, id_, render):
    """The client's comment on the record of model with id_, if the record
    is the client's own (else 404, before anything); render(record) gives
    its page, shown again with the text and its error when refused"""
    Comment = portal.pool.get('portal.comment')
    resource = portal.get_or_404(model, id_)
    client = Comment.resource_client(resource)
    if client is None or client.id != portal.user.client.id:
        abort(HTTPStatus.NOT_FOUND)
    body = request.form.get('body', '')
    _, errors = Comment.portal_post(resource, portal.web_user, body)
    if errors:
        portal.comment_form = {'body': body, 'errors': errors}
        response = render(resource)
        response.status_code = HTTPStatus.UNPROCESSABLE_ENTITY
        return response
    return portal.redirect(Comment.resource_path(resource) + '#comments')
