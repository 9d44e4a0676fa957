"""The document archive on the portal: the client's folders, the files the
firm shares with it (each file's versions, the current one by default) and
the upload into a folder the firm opened for it.

Folders are read under the client's record rules; files only through
portal.archive.file's portal_search, which also keeps out what this user
may not see: a hidden file, or one shown to other users of the client, is
the same 404 as another client's."""
from collections import Counter

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, set_max_request_size)
from trytond.transaction import Transaction

from ..archive_file import MAX_SIZE, NOTE_LENGTH
from ..scan import OFFICE_TYPES, TYPES
from .access import content_disposition, portal_route

# The file and the note: trytond refuses a larger request (413) before
# reading it; a file just over the limit gets the message next to its field
MAX_REQUEST = MAX_SIZE + 64 * 1024
ACCEPT = ','.join(list(TYPES) + list(OFFICE_TYPES))


def _file_model(portal):
    return portal.pool.get('portal.archive.file')


def _kinds(portal):
    File = _file_model(portal)
    return dict(File.fields_get(['kind'])['kind']['selection'])


def _folder(portal, folder_id):
    "The client's folder, else 404 (the rules hide the others')"
    return portal.get_or_404('portal.archive.folder', folder_id)


def _file(portal, file_id):
    "The file if this user sees it, else 404"
    file = _file_model(portal).portal_get(file_id)
    if file is None:
        abort(HTTPStatus.NOT_FOUND)
    return file


def _counts(portal, folders):
    "{folder id: (files, not yet viewed)} this user sees in the folders"
    files = _file_model(portal).portal_search(
        [('folder', 'in', [f.id for f in folders])])
    total = Counter(f.folder.id for f in files)
    new = Counter(f.folder.id for f in files if not f.first_viewed_at)
    return {f.id: (total[f.id], new[f.id]) for f in folders}


@portal_route('/archive')
def archive(request, portal):
    Folder = portal.pool.get('portal.archive.folder')
    folders = Folder.search([('parent', '=', None)])
    return portal.render('archive/index.html', folders=folders,
        counts=_counts(portal, folders))


def render_folder(portal, folder, status=HTTPStatus.OK, errors=None,
        note='', uploaded=False):
    Folder = portal.pool.get('portal.archive.folder')
    children = Folder.search([('parent', '=', folder.id)])
    files = _file_model(portal).portal_search(
        [('folder', '=', folder.id)], order=[('name', 'ASC'), ('id', 'ASC')])
    return portal.render('archive/folder.html', status=status,
        folder=folder, children=children, counts=_counts(portal, children),
        files=files, kinds=_kinds(portal), errors=errors or {}, note=note,
        uploaded=uploaded, accept=ACCEPT,
        max_size=MAX_SIZE // (1024 * 1024), note_length=NOTE_LENGTH)


@portal_route('/archive/folders/<id:folder_id>')
def folder_page(request, portal, folder_id):
    return render_folder(portal, _folder(portal, folder_id),
        uploaded=bool(request.args.get('uploaded')))


def _read(storage):
    "The uploaded bytes, at most one byte over the limit"
    if storage is None:
        return b''
    # From the start: trytond may run the handler again after a conflict
    storage.stream.seek(0)
    return storage.stream.read(MAX_SIZE + 1)


@portal_route('/archive/folders/<id:folder_id>/upload', methods=('POST',))
@set_max_request_size(MAX_REQUEST)
def upload(request, portal, folder_id):
    File = _file_model(portal)
    folder = _folder(portal, folder_id)
    note = request.form.get('note', '')[:NOTE_LENGTH + 100]
    storage = request.files.get('file')
    try:
        file, errors = File.portal_upload(folder, portal.web_user,
            _read(storage), storage.filename if storage else None, note)
    except AccessError:
        Transaction().rollback()
        return render_folder(portal, _folder(portal, folder_id),
            status=HTTPStatus.FORBIDDEN, note=note,
            errors={'folder': gettext('client_portal.msg_archive_closed')})
    except UserError as e:
        Transaction().rollback()
        errors = {'file': e.message}
    if errors:
        return render_folder(portal, _folder(portal, folder_id),
            status=HTTPStatus.UNPROCESSABLE_ENTITY, errors=errors, note=note)
    return portal.redirect(f'archive/folders/{folder.id}', uploaded=1)


@portal_route('/archive/files/<id:archive_file_id>')
def file_page(request, portal, archive_file_id):
    file = _file(portal, archive_file_id)
    return portal.render('archive/file.html', file=file,
        versions=sorted(file.versions, key=lambda v: -v.number),
        kinds=_kinds(portal))


@portal_route('/archive/files/<id:archive_file_id>/download',
    readonly=False)
def download(request, portal, archive_file_id):
    """The current version, or ?version=N; the client's first download of
    the file is recorded"""
    File = _file_model(portal)
    file = _file(portal, archive_file_id)
    number = request.args.get('version', '')
    if number:
        versions = [v for v in file.versions if str(v.number) == number]
    else:
        versions = [file.current_version] if file.current_version else []
    if not versions:
        abort(HTTPStatus.NOT_FOUND)
    version, = versions
    data = version.data
    if not data:
        abort(HTTPStatus.NOT_FOUND)
    File.record_view([file], portal.web_user)
    # Stored as read from the content at upload, never guessed now
    mimetype = version.mimetype if (version.mimetype in TYPES
        or version.mimetype in OFFICE_TYPES) else 'application/octet-stream'
    return portal.respond(Response(bytes(data), content_type=mimetype,
            headers={'Content-Disposition': content_disposition(
                    'attachment', version.filename or file.name)}))
