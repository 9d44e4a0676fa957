"""The document archive: versions, first view, per-user visibility, record
rules, client uploads, content checks, notifications and e-mails"""
import datetime
import io
import zipfile
from unittest import mock

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .. import archive_file
from ..demo import create_portal_user, setup_firm
from ..scan import check_scan
from .committed import CommittedTestCase, capture_mail
from .test_chat import _portal, _staff
from .test_cost_invoice import pdf_bytes
from .test_module import _clients, _manager

TODAY = datetime.date(2026, 11, 23)
DOCX = ('application/vnd.openxmlformats-officedocument'
    '.wordprocessingml.document')


def _entry(name):
    "A ZIP entry of a fixed date: the same package, byte for byte"
    return zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))


def docx_bytes():
    "The smallest package Word declares as a document"
    data = io.BytesIO()
    with zipfile.ZipFile(data, 'w') as package:
        package.writestr(_entry('[Content_Types].xml'),
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats'
            '-officedocument.wordprocessingml.document.main+xml"/></Types>')
        package.writestr(_entry('word/document.xml'), '<w:document/>')
    return data.getvalue()


def odt_bytes():
    data = io.BytesIO()
    with zipfile.ZipFile(data, 'w') as package:
        package.writestr(_entry('mimetype'),
            'application/vnd.oasis.opendocument.text')
        package.writestr(_entry('content.xml'), '<office:document-content/>')
    return data.getvalue()


class ArchiveTestCase(CommittedTestCase):
    "Test the document archive the firm shares with its clients"

    def setUp(self):
        self.sent = capture_mail(self)

    @classmethod
    def build(cls):
        """The firm; client a with users Jan and Ewa, its manager Anna and
        folders of contracts (closed) and uploads (open); client b with a
        user, no manager and an open folder"""
        Folder = Pool().get('portal.archive.folder')
        firm = setup_firm(TODAY, logo=False)
        a, b = _clients(firm)
        users = {
            'a': create_portal_user(a, 'jan@alfa.example', None, "Jan",
                "Kowalski", 'en'),
            'a2': create_portal_user(a, 'ewa@alfa.example', None, "Ewa",
                "Nowak", 'pl'),
            'b': create_portal_user(b, 'olga@beta.example', None, "Olga",
                "Wiśniewska", 'pl'),
            }
        manager = _manager('anna', a)
        folders = dict(zip(['contracts', 'uploads', 'b'], Folder.create([
                        {'party': a.id, 'name': "Umowy"},
                        {'party': a.id, 'name': "Od klienta",
                            'client_upload': True},
                        {'party': b.id, 'name': "Od klienta",
                            'client_upload': True},
                        ])))
        return a, b, users, manager, folders

    def _file(self, folder, name="Umowa", versions=1, **values):
        File = Pool().get('portal.archive.file')
        file, = File.create([{'folder': folder.id, 'name': name,
                    'kind': 'contract', 'versions': [('create', [
                                {'data': pdf_bytes(), 'filename': f'v{n}.pdf'}
                                for n in range(versions)])], **values}])
        return file

    def _cards(self, file):
        Card = Pool().get('portal.notification')
        return Card.search([('archive_file', '=', file.id)])

    @with_transaction()
    def test_versions_are_numbered_and_immutable(self):
        pool = Pool()
        Version = pool.get('portal.archive.version')
        a, _, _, manager, folders = self.setup()
        file = self._file(folders['contracts'])
        self.assertEqual(file.party, a)
        with _staff(manager):
            second, third = Version.create([
                    {'file': file.id, 'data': docx_bytes(),
                        'filename': 'aneks.pdf', 'note': "Aneks"},
                    {'file': file.id, 'data': pdf_bytes(),
                        'filename': 'C:\\umowy\\umowa.pdf'},
                    ])
        self.assertEqual([v.number for v in file.versions], [3, 2, 1])
        file = file.__class__(file.id)
        self.assertEqual((file.current_version, file.version_number),
            (third, 3))
        # Typed from the content: the name gets the type's extension
        self.assertEqual((second.filename, second.mimetype, second.size),
            ('aneks.docx', DOCX, len(docx_bytes())))
        self.assertEqual(third.filename, 'umowa.pdf')
        self.assertEqual(len(second.sha256), 64)
        self.assertEqual((second.user, second.web_user), (manager, None))
        self.assertEqual(bytes(second.data), docx_bytes())
        with self.assertRaises(AccessError):
            Version.write([second], {'note': "Inny"})
        with self.assertRaises(AccessError):
            Version.write([second], {'data': pdf_bytes()})
        # A version of another file starts again from 1
        self.assertEqual(self._file(folders['contracts'], "Polisa")
            .version_number, 1)

    @with_transaction()
    def test_first_view_is_set_once(self):
        File = Pool().get('portal.archive.file')
        _, _, users, _, folders = self.setup()
        file = self._file(folders['contracts'])
        self.assertIsNone(file.first_viewed_at)
        with _portal(users['a']):
            File.record_view([File(file.id)], users['a'])
        first = File(file.id).first_viewed_at
        self.assertIsNotNone(first)
        with _portal(users['a2']):
            File.record_view([File(file.id)], users['a2'])
        file = File(file.id)
        self.assertEqual((file.first_viewed_at, file.first_viewed_by),
            (first, users['a']))

    @with_transaction()
    def test_portal_sees_only_what_the_user_may(self):
        "Hidden files, files shown to other users, empty files are out"
        File = Pool().get('portal.archive.file')
        _, _, users, _, folders = self.setup()
        shared = self._file(folders['contracts'], "Wspólna")
        hidden = self._file(folders['contracts'], "Ukryta", hidden=True)
        jan = self._file(folders['contracts'], "Dla Jana",
            visible_to=[('add', [users['a'].id])])
        empty = self._file(folders['contracts'], "Bez wersji", versions=0)
        with _portal(users['a']):
            self.assertEqual(set(File.portal_search([])), {shared, jan})
            self.assertEqual(File.portal_get(jan.id), jan)
        with _portal(users['a2']):
            self.assertEqual(File.portal_search([]), [shared])
            for other in [hidden, jan, empty]:
                self.assertIsNone(File.portal_get(other.id))
            # The rules alone let the client read them: the portal's
            # search is what narrows them
            self.assertEqual(len(File.search([])), 4)
        # Shown only to a user of its own client
        with self.assertRaises(UserError):
            self._file(folders['contracts'], "Obca",
                visible_to=[('add', [users['b'].id])])

    @with_transaction()
    def test_rules_keep_clients_and_managers_to_their_own(self):
        pool = Pool()
        File = pool.get('portal.archive.file')
        Folder = pool.get('portal.archive.folder')
        Version = pool.get('portal.archive.version')
        _, _, users, manager, folders = self.setup()
        of_a = self._file(folders['contracts'])
        of_b = self._file(folders['b'])
        with _portal(users['b']):
            self.assertEqual(File.search([]), [of_b])
            self.assertEqual(Folder.search([]), [folders['b']])
            with self.assertRaises(AccessError):
                File.read([of_a.id], ['name'])
            with self.assertRaises(AccessError):
                Version.read([v.id for v in of_a.versions], ['data'])
            self.assertEqual(
                Folder.search([('id', '=', folders['uploads'].id)]), [])
        with _staff(manager):
            self.assertEqual(File.search([]), [of_a])
            with self.assertRaises(AccessError):
                File.read([of_b.id], ['name'])
        # Even handed a's folder, b cannot file into it
        with _portal(users['b']):
            with self.assertRaises(AccessError):
                File.portal_upload(Folder(folders['uploads'].id),
                    users['b'], pdf_bytes(), 'x.pdf')
        # A subfolder stays with its parent's client
        with self.assertRaises(UserError):
            Folder.create([{'party': folders['b'].party.id, 'name': "X",
                        'parent': folders['contracts'].id}])

    @with_transaction()
    def test_client_uploads_only_into_open_folders(self):
        pool = Pool()
        File = pool.get('portal.archive.file')
        Folder = pool.get('portal.archive.folder')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        a, _, users, manager, folders = self.setup()
        with _portal(users['a']):
            with self.assertRaises(AccessError):
                File.portal_upload(Folder(folders['contracts'].id),
                    users['a'], pdf_bytes(), 'umowa.pdf')
            file, errors = File.portal_upload(Folder(folders['uploads'].id),
                users['a'], docx_bytes(), 'Wniosek.docx', "  Do podpisu \r\n")
        self.assertEqual(errors, {})
        version, = file.versions
        self.assertEqual((file.name, file.party, file.uploaded_by_client,
                file.uploaded_by), ('Wniosek.docx', a, True, users['a']))
        self.assertEqual((version.web_user, version.user, version.note,
                version.mimetype), (users['a'], None, "Do podpisu", DOCX))
        self.assertEqual(File.search([('folder', '=', folders['contracts'])]),
            [])
        # The manager is told; the client is not told of its own upload
        notification, = Notification.search([('user', '=', manager.id)])
        self.assertIn(a.name, notification.label)
        self.assertIn('Wniosek.docx', notification.description)
        self.assertEqual(self._cards(file), [])
        self.assertEqual(self.sent, [])
        # b has no manager: the heads are
        with _portal(users['b']):
            File.portal_upload(Folder(folders['b'].id), users['b'],
                pdf_bytes(), 'skan.pdf')
        heads = User.search([('groups', '=', ModelData.get_id(
                        'client_portal', 'group_portal_head'))])
        self.assertTrue(heads)
        for head in heads:
            self.assertEqual(
                Notification.search_count([('user', '=', head.id)]), 1)

    @with_transaction()
    def test_content_is_checked(self):
        "Office files are accepted; disguised, empty or large ones are not"
        File = Pool().get('portal.archive.file')
        Folder = Pool().get('portal.archive.folder')
        _, _, users, _, folders = self.setup()
        folder = Folder(folders['uploads'].id)

        def upload(data, name, note=''):
            with _portal(users['a']):
                return File.portal_upload(folder, users['a'], data, name,
                    note)
        file, _ = upload(odt_bytes(), 'pismo')
        self.assertEqual((file.name, file.current_version.mimetype),
            ('pismo.odt', 'application/vnd.oasis.opendocument.text'))
        before = File.search_count([])
        for data, name, field, message in [
                (b'Zwykly tekst, nie PDF', 'umowa.pdf', 'file', 'DOCX'),
                (b'PK\x03\x04 to nie jest zip', 'umowa.docx', 'file',
                    'damaged'),
                (b'', 'pusty.pdf', 'file', 'Choose a file'),
                (pdf_bytes(), 'umowa.pdf', 'note', '1001'),
                ]:
            file, errors = upload(data, name,
                'x' * 1001 if field == 'note' else '')
            self.assertIsNone(file)
            self.assertIn(message, errors[field])
        with mock.patch.object(archive_file, 'MAX_SIZE', 1024):
            file, errors = upload(pdf_bytes() + b' ' * 2048, 'duzy.pdf')
        self.assertIsNone(file)
        self.assertIn('larger than', errors['file'])
        self.assertEqual(File.search_count([]), before)
        # The scans of cost invoices still take PDF, JPEG and PNG only
        with self.assertRaises(UserError):
            check_scan(docx_bytes(), 'faktura.docx')
        # Staff adding a version go through the same checks
        contract = self._file(folders['contracts'])
        with self.assertRaises(UserError):
            Pool().get('portal.archive.version').create([{
                        'file': contract.id, 'data': b'tekst',
                        'filename': 'a.pdf'}])

    @with_transaction()
    def test_new_files_are_announced_to_who_may_see_them(self):
        pool = Pool()
        File = pool.get('portal.archive.file')
        Version = pool.get('portal.archive.version')
        Card = pool.get('portal.notification')
        a, _, users, manager, folders = self.setup()
        with _staff(manager):
            shared = self._file(folders['contracts'], "Polisa OC")
        card, = self._cards(shared)
        self.assertEqual((card.party, card.kind), (a, 'archive_file'))
        self.assertEqual(sorted(m['To'] for m in self.sent),
            ['ewa@alfa.example', 'jan@alfa.example'])
        polish, = [m for m in self.sent if m['To'] == 'ewa@alfa.example']
        self.assertIn('Polisa OC', polish['Subject'])
        self.assertIn(f'/portal/archive/files/{shared.id}',
            polish.get_body(('plain',)).get_content())

        # A new version of a file for Jan only: Jan alone hears of it
        self.sent.clear()
        jan = self._file(folders['contracts'], "Dla Jana",
            visible_to=[('add', [users['a'].id])])
        Version.create([{'file': jan.id, 'data': pdf_bytes(),
                    'filename': 'v2.pdf'}])
        self.assertEqual([m['To'] for m in self.sent],
            ['jan@alfa.example'] * 2)
        self.assertIn('version 2', self.sent[-1]['Subject'])
        self.assertEqual(len(self._cards(jan)), 2)
        with _portal(users['a2']):
            self.assertEqual(Card.search([('kind', '=', 'archive_file')]),
                [card])
        with _portal(users['a']):
            self.assertEqual(Card.search_count(
                    [('kind', '=', 'archive_file')]), 3)

        # A hidden file is news only once shown
        self.sent.clear()
        hidden = self._file(folders['contracts'], "Projekt", hidden=True)
        self.assertEqual((self._cards(hidden), self.sent), ([], []))
        File.write([hidden], {'hidden': False})
        self.assertEqual(len(self._cards(hidden)), 1)
        self.assertEqual(len(self.sent), 2)
