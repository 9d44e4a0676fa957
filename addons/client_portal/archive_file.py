"""The document archive: files the firm shares with a client (contracts,
policies, statements) in folders, each with numbered versions that never
change once stored.

The record rules keep a client to its own files; which of them a portal
user may see (not hidden, and shown to every user of the client or to
that user) is portal_domain, the one place every portal route, card and
e-mail reads it from. A staff member's new version of a visible file is
announced to the client; a client's upload to its manager."""
import datetime
import hashlib

from sql import Null
from sql.aggregate import Max

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .chat import clean_body
from .ir import WEB_USER_KEY
from .mail import portal_url, send_portal_email
from .scan import check_scan
from .staff_notification import notify_staff

# Contracts and statements run larger than scans of invoices
MAX_SIZE = 25 * 1024 * 1024
NOTE_LENGTH = 1000
KINDS = [
    ('contract', "Contract"),
    ('policy', "Policy"),
    ('statement', "Statement"),
    ('other', "Other"),
    ]


def check_file(data, name):
    "The file as scan.Scan, or UserError: empty, too large, not accepted"
    if not data:
        raise UserError(gettext('client_portal.msg_archive_empty'))
    return check_scan(data, name, office=True, max_size=MAX_SIZE)


def note_error(note):
    "The message to show next to the note, or None"
    if len(note) > NOTE_LENGTH:
        return gettext('client_portal.msg_archive_note_too_long',
            length=len(note), max=NOTE_LENGTH)


class File(ModelSQL, ModelView):
    """Archive File

    A document the firm shares with a client, or the client uploaded"""
    __name__ = 'portal.archive.file'
    __string__ = "Archive File"

    folder = fields.Many2One(
        'portal.archive.folder', "Folder", required=True,
        ondelete='RESTRICT')
    # The folder's client, stored for the rules and the lists
    party = fields.Many2One(
        'party.party', "Client", required=True, readonly=True,
        ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    description = fields.Text("Description")
    kind = fields.Selection(KINDS, "Kind", required=True)
    visible_to = fields.Many2Many(
        'portal.archive.file-web.user', 'file', 'web_user', "Visible to",
        domain=[('party', '=', Eval('party', -1))],
        help="The portal users who see the file; empty for every user of "
        "the client.")
    hidden = fields.Boolean(
        "Hidden", help="Withdrawn from the portal, but kept.")
    versions = fields.One2Many(
        'portal.archive.version', 'file', "Versions")
    current_version = fields.Function(fields.Many2One(
            'portal.archive.version', "Current Version"), 'get_current')
    version_number = fields.Function(
        fields.Integer("Version"), 'get_current')
    date = fields.Function(fields.Timestamp("Date"), 'get_current')
    first_viewed_at = fields.Timestamp(
        "First Viewed", readonly=True,
        help="When a user of the client first downloaded the file.")
    first_viewed_by = fields.Many2One(
        'web.user', "First Viewed By", readonly=True, ondelete='SET NULL')
    uploaded_by_client = fields.Boolean("Uploaded by the Client",
        readonly=True)
    uploaded_by = fields.Many2One(
        'web.user', "Uploaded By", readonly=True, ondelete='SET NULL',
        states={'invisible': ~Eval('uploaded_by_client', False)})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Equality()),
                    (t.folder, Index.Equality())),
                Index(t, (t.folder, Index.Equality())),
                })
        # What the client sent first, then the newest
        cls._order = [('uploaded_by_client', 'DESC'),
            ('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_kind(cls):
        return 'other'

    @classmethod
    def default_hidden(cls):
        return False

    @classmethod
    def default_uploaded_by_client(cls):
        return False

    @fields.depends('folder', '_parent_folder.party')
    def on_change_folder(self):
        self.party = self.folder.party if self.folder else None

    @classmethod
    def get_current(cls, files, names):
        "The latest version of each file: itself, its number and date"
        pool = Pool()
        Version = pool.get('portal.archive.version')
        version = Version.__table__()
        cursor = Transaction().connection.cursor()
        result = {n: dict.fromkeys((f.id for f in files)) for n in names}
        latest = version.select(version.file, Max(version.number).as_('n'),
            where=version.file.in_([f.id for f in files]),
            group_by=[version.file])
        cursor.execute(*latest.join(version, condition=(
                    (version.file == latest.file)
                    & (version.number == latest.n))).select(
                version.file, version.id, version.number, version.date))
        for file_id, version_id, number, date in cursor:
            if isinstance(date, str):
                date = datetime.datetime.fromisoformat(date)
            for name, value in [('current_version', version_id),
                    ('version_number', number), ('date', date)]:
                if name in result:
                    result[name][file_id] = value
        return result

    @classmethod
    def _with_party(cls, values):
        "The values with the folder's client as the file's"
        Folder = Pool().get('portal.archive.folder')
        values = values.copy()
        if values.get('folder'):
            values['party'] = Folder(values['folder']).party.id
        return values

    @classmethod
    def create(cls, vlist):
        # The versions created with a file are announced once the file has
        # all its values (who may see it is set after its versions), and
        # need no lock: nobody else can add to a file being created
        with Transaction().set_context(_archive_new_files=True):
            files = super().create([cls._with_party(v) for v in vlist])
        cls.versions_created([v for f in files for v in f.versions])
        return files

    @classmethod
    def versions_created(cls, versions):
        "A staff member's versions are news to the client, a client's to staff"
        cls.announce([v for v in versions if not v.web_user])
        cls.notify_staff([v for v in versions if v.web_user])

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        hidden = set()
        for files, values in zip(actions, actions):
            if values.get('hidden') is False:
                hidden.update(f.id for f in files if f.hidden)
            args.extend((files, cls._with_party(values)))
        super().write(*args)
        # A file staff show again is news to the client
        shown = [f for f in cls.browse(sorted(hidden)) if not f.hidden]
        cls.announce([f.current_version for f in shown if f.current_version])

    @classmethod
    def validate(cls, files):
        super().validate(files)
        with without_check_access():
            for file in files:
                if any(u.party != file.party for u in file.visible_to):
                    raise UserError(gettext(
                            'client_portal.msg_archive_visible_to',
                            file=file.name))

    def may_see(self, web_user):
        "Whether the portal user sees this file (as portal_domain does)"
        return not self.hidden and (not self.visible_to
            or web_user in self.visible_to)

    # --- notifications ------------------------------------------------------

    @classmethod
    def announce(cls, versions):
        """The client learns of new versions of its visible files: a card
        on its home page, and an e-mail to each user who may see the
        file"""
        Notification = Pool().get('portal.notification')
        with without_check_access():
            versions = [v for v in versions if not v.file.hidden]
            if not versions:
                return
            Notification.create([{
                        'party': v.file.party.id,
                        'kind': 'archive_file',
                        'archive_file': v.file.id,
                        } for v in versions])
            for version in versions:
                file = version.file
                for user in file.party.portal_users:
                    if user.active and user.email and file.may_see(user):
                        send_portal_email('archive_file', user.email,
                            user.portal_language or 'pl', file=file,
                            version=version,
                            link=portal_url(f'archive/files/{file.id}'))

    @classmethod
    def notify_staff(cls, versions):
        """A client's upload is announced to its manager in the back office,
        one notification per file"""
        items = []
        with without_check_access():
            for version in versions:
                file = version.file

                def label(party=file.party):
                    return gettext(
                        'client_portal.msg_archive_upload_notification',
                        client=party.rec_name)
                items.append((file.party.portal_manager, label,
                        f'{file.folder.rec_name}: {file.name}',
                        [('id', '=', file.id)]))
        notify_staff(items, 'act_archive_file_form')

    # --- the portal: under the client's record rules ------------------------

    @classmethod
    def portal_domain(cls):
        """What the portal user of the context may see of its client's
        files (the rules keep out the other clients'): shown, with a
        version, for everybody or for this user"""
        web_user = Transaction().context.get(WEB_USER_KEY) or -1
        return [
            ('hidden', '=', False),
            ('versions', '!=', None),
            ['OR',
                ('visible_to', '=', None),
                ('visible_to', '=', web_user),
                ],
            ]

    @classmethod
    def portal_search(cls, domain, **kwargs):
        "The files of the domain the portal user sees"
        return cls.search([cls.portal_domain(), domain], **kwargs)

    @classmethod
    def portal_get(cls, file_id):
        "The file if the portal user sees it, else None"
        files = cls.portal_search([('id', '=', file_id)], limit=1)
        return files[0] if files else None

    @classmethod
    def record_view(cls, files, web_user):
        "Record the first download; later downloads leave it unchanged"
        first = [f for f in files if not f.first_viewed_at]
        if first:
            cls.write(first, {
                    'first_viewed_at': datetime.datetime.now(),
                    'first_viewed_by': web_user.id,
                    })

    @classmethod
    def portal_upload(cls, folder, web_user, data, filename, note=''):
        """The client's upload into the folder: (file, {}) or
        (None, {field: message}) with nothing saved. A folder not open for
        uploads raises AccessError."""
        if not folder.client_upload:
            raise AccessError(gettext('client_portal.msg_archive_closed'))
        errors = {}
        note = clean_body(note)
        error = note_error(note)
        if error:
            errors['note'] = error
        try:
            scan = check_file(data, filename)
        except UserError as e:
            errors['file'] = e.message
        if errors:
            return None, errors
        file, = cls.create([{
                    'folder': folder.id,
                    'name': scan.name,
                    'kind': 'other',
                    'uploaded_by_client': True,
                    'uploaded_by': web_user.id,
                    'versions': [('create', [{
                                    'data': scan.data,
                                    'filename': scan.name,
                                    'note': note or None,
                                    'web_user': web_user.id,
                                    }])],
                    }])
        return file, {}


class FileWebUser(ModelSQL):
    "Archive File - Portal User"
    __name__ = 'portal.archive.file-web.user'
    __string__ = "Archive File Reader"

    file = fields.Many2One('portal.archive.file', "File", required=True,
        ondelete='CASCADE')
    web_user = fields.Many2One('web.user', "Portal User", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.file, Index.Equality())),
                Index(t, (t.web_user, Index.Equality())),
                })


class Version(ModelSQL, ModelView):
    """Archive File Version

    One stored content of an archive file; never changed once stored"""
    __name__ = 'portal.archive.version'
    __string__ = "Archive File Version"

    file = fields.Many2One('portal.archive.file', "File", required=True,
        ondelete='CASCADE')
    number = fields.Integer("Number", readonly=True)
    data = fields.Binary("File", file_id='file_id', filename='filename',
        required=True)
    file_id = fields.Char("File ID", readonly=True)
    filename = fields.Char("File Name")
    mimetype = fields.Char("Type", readonly=True)
    size = fields.Integer("Size", readonly=True)
    sha256 = fields.Char("SHA-256", readonly=True)
    date = fields.Timestamp("Date", readonly=True)
    user = fields.Many2One('res.user', "Uploaded by Staff", readonly=True,
        ondelete='SET NULL')
    web_user = fields.Many2One('web.user', "Uploaded by Client User",
        readonly=True, ondelete='SET NULL')
    note = fields.Text("Note", size=NOTE_LENGTH)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('file_number_unique', Unique(t, t.file, t.number),
                'client_portal.msg_archive_version_unique'),
            ]
        cls._order = [('file', 'ASC'), ('number', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return f'{self.file.name} v{self.number}'

    @classmethod
    def check_modification(cls, mode, versions, values=None,
            external=False):
        super().check_modification(mode, versions, values=values,
            external=external)
        # A version is what was shared at the time: a change is a new one
        if mode == 'write':
            raise AccessError(gettext(
                    'client_portal.msg_archive_version_immutable'))

    @classmethod
    def create(cls, vlist):
        File = Pool().get('portal.archive.file')
        table = cls.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        new_files = transaction.context.get('_archive_new_files')
        if not new_files:
            # One numbering per file at a time: two uploads to a file
            # never take the same number
            File.lock(File.browse(sorted({v['file'] for v in vlist})))
        last = {}
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            scan = check_file(values.get('data'), values.get('filename'))
            file_id = values['file']
            if file_id not in last:
                cursor.execute(*table.select(Max(table.number),
                        where=(table.file == file_id)
                        & (table.number != Null)))
                last[file_id] = cursor.fetchone()[0] or 0
            last[file_id] += 1
            values.update({
                    'number': last[file_id],
                    'data': scan.data,
                    'filename': scan.name,
                    'mimetype': scan.mimetype,
                    'size': len(scan.data),
                    'sha256': hashlib.sha256(scan.data).hexdigest(),
                    'date': datetime.datetime.now(),
                    })
            if not values.get('web_user') and not transaction.context.get(
                    WEB_USER_KEY):
                values['user'] = transaction.user
        versions = super().create(vlist)
        if not new_files:
            File.versions_created(versions)
        return versions

    @classmethod
    def copy(cls, versions, default=None):
        # Numbered again in the copy's file
        default = default.copy() if default else {}
        default.setdefault('number', None)
        return super().copy(versions, default=default)


class Notification(metaclass=PoolMeta):
    __name__ = 'portal.notification'

    archive_file = fields.Many2One(
        'portal.archive.file', "Archive File", ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.append(
            ('archive_file', "New file in the archive"))

    @classmethod
    def search(cls, domain, *args, **kwargs):
        # On the portal, the card of a file the user may not see is not
        # theirs either: neither listed, nor counted, nor opened
        if Transaction().context.get(WEB_USER_KEY):
            File = Pool().get('portal.archive.file')
            domain = [domain, ['OR',
                    ('archive_file', '=', None),
                    ('archive_file', 'where', File.portal_domain()),
                    ]]
        return super().search(domain, *args, **kwargs)
