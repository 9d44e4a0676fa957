"Static files, the firm's logo and its colours"
import mimetypes
import os

from werkzeug.utils import safe_join

from trytond.protocols.wrappers import HTTPStatus, Response, abort

from .access import portal_route

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'static')
MAX_AGE = 24 * 3600


@portal_route('/static/<path:name>', auth=False)
def static(request, portal, name):
    path = safe_join(STATIC, name)
    if path is None or not os.path.isfile(path):
        abort(HTTPStatus.NOT_FOUND)
    with open(path, 'rb') as fp:
        content = fp.read()
    mimetype = mimetypes.guess_type(path)[0] or 'application/octet-stream'
    response = portal.respond(Response(content, content_type=mimetype))
    response.headers['Cache-Control'] = f'public, max-age={MAX_AGE}'
    return response


@portal_route('/logo', auth=False)
def logo(request, portal):
    company = portal.company
    if company is None or not company.logo:
        abort(HTTPStatus.NOT_FOUND)
    image, mimetype, _, _ = company.get_logo(480, 160)
    response = portal.respond(Response(bytes(image), content_type=mimetype))
    response.headers['Cache-Control'] = f'public, max-age={MAX_AGE}'
    return response


@portal_route('/branding.css', auth=False)
def branding(request, portal):
    "The firm's colours as CSS variables (no inline style: strict CSP)"
    company = portal.company
    primary = (company.portal_primary_color if company else None) \
        or '#0b5394'
    accent = (company.portal_accent_color if company else None) or '#f1c232'
    css = (
        ':root{--portal-primary:%s;--portal-accent:%s;'
        '--bs-primary:%s;--bs-link-color:%s;--bs-link-hover-color:%s}'
        % (primary, accent, primary, primary, primary))
    response = portal.respond(Response(css, content_type='text/css'))
    response.headers['Cache-Control'] = 'public, max-age=300'
    return response
