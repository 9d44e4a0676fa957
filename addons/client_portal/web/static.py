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
    Company = portal.pool.get('company.company')
    branding = Company.portal_branding(portal.language)
    primary = branding.get('primary_color') or '#0b5394'
    accent = branding.get('accent_color') or '#f1c232'
    # Text and links in the firm's colour stay readable on white and on
    # the footer's grey: a light brand colour is darkened for them
    text = readable(primary, '#f4f6f8')
    css = (
        ':root{--portal-primary:%s;--portal-accent:%s;--portal-text:%s;'
        '--portal-on-primary:%s;--bs-primary:%s;--bs-link-color:%s;'
        '--bs-link-color-rgb:%s;--bs-link-hover-color:%s;'
        '--bs-link-hover-color-rgb:%s}'
        % (primary, accent, text, on_colour(primary), primary, text,
            _rgb(text), text, _rgb(text)))
    response = portal.respond(Response(css, content_type='text/css'))
    response.headers['Cache-Control'] = 'public, max-age=300'
    return response


def _channels(colour):
    return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]


def _rgb(colour):
    return ','.join(str(c) for c in _channels(colour))


def luminance(colour):
    "WCAG relative luminance of #rrggbb"
    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour, background='#ffffff', ratio=4.5):
    "The colour, darkened until its text reads on the background (WCAG AA)"
    channels = _channels(colour)
    while contrast('#%02x%02x%02x' % tuple(channels), background) < ratio \
            and any(channels):
        channels = [int(c * 0.9) for c in channels]
    return '#%02x%02x%02x' % tuple(channels)


def on_colour(colour):
    "White or black text, whichever reads better (one always reaches 4.5:1)"
    return '#ffffff' if contrast('#ffffff', colour) >= contrast(
        '#000000', colour) else '#000000'
