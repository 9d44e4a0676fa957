"""The user's queued exports: their progress, then the file, listed while
they are kept"""
import datetime
import io

from trytond.protocols.wrappers import HTTPStatus, abort

from ..export import KEPT
from .access import portal_route


def _exports(portal):
    Export = portal.pool.get('portal.export')
    since = datetime.datetime.now() - KEPT
    # The record rules keep them to the user's own
    return Export.search([('create_date', '>=', since)], limit=50)


def _selection(portal):
    Export = portal.pool.get('portal.export')
    return dict(Export.fields_get(['state'])['state']['selection'])


@portal_route('/exports')
def exports(request, portal):
    return portal.render('exports/list.html', exports=_exports(portal),
        states=_selection(portal), formatter=portal.formatter())


@portal_route('/exports/<id:export_id>')
def export(request, portal, export_id):
    export = portal.get_or_404('portal.export', export_id)
    partial = request.headers.get('HX-Request') == 'true'
    template = 'exports/status.html' if partial else 'exports/export.html'
    return portal.render(template, export=export,
        states=_selection(portal), formatter=portal.formatter())


@portal_route('/exports/<id:export_id>/download')
def download(request, portal, export_id):
    export = portal.get_or_404('portal.export', export_id)
    if export.state != 'done' or not export.file_id:
        abort(HTTPStatus.NOT_FOUND)
    return portal.file(io.BytesIO(bytes(export.file)), export.filename,
        export.format)
