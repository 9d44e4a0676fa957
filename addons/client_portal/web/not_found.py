"Any other path under the portal: its branded 404, in the visitor's language"
from trytond.protocols.wrappers import HTTPStatus, abort

from .access import portal_route


# Without it, trytond's OPTIONS route for every path answers a GET here
# with a bare English 405
@portal_route('/<path:path>', methods=('GET', 'POST'), auth=False)
def not_found(request, portal, path):
    abort(HTTPStatus.NOT_FOUND)
