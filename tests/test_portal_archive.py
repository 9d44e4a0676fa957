"""The document archive on the portal (issue 12, deliverable 4): folders,
files and their versions, downloads that record the first view, what each
user may see, and the upload into a folder open for the client."""
import io
import re
from unittest import mock

from data_archive import pdf_bytes
from portal_http import Browser, in_transaction, read_only, text

from trytond.pool import Pool

from client_portal import archive_file
from client_portal.tests.test_archive import DOCX, docx_bytes
from client_portal.web import archive as web_archive


def _as(data, key):
    browser = Browser()
    browser.login(data.users[key][1])
    return browser


def _file(file_id):
    return Pool().get('portal.archive.file')(file_id)


def _viewed(file_id):
    file = _file(file_id)
    return (file.first_viewed_at,
        file.first_viewed_by.id if file.first_viewed_by else None)


def _new_file(folder_id, name):
    "A file staff share now, in two versions"
    File = Pool().get('portal.archive.file')
    file, = File.create([{'folder': folder_id, 'name': name,
                'kind': 'statement', 'versions': [('create', [
                            {'data': pdf_bytes('v1'), 'filename': 'v1.pdf'},
                            {'data': pdf_bytes('v2'), 'filename': 'v2.pdf'},
                            ])]}])
    return file.id


def _files_in(folder_id):
    File = Pool().get('portal.archive.file')
    return File.search_count([('folder', '=', folder_id)])


def test_archive_lists_the_clients_folders(as_a, data):
    response = as_a.get('archive')
    assert response.status_code == 200
    page = text(response)
    assert 'Umowy' in page and 'Od klienta' in page
    assert 'Open for your files' in page
    # The contract and the file for Jan; not the hidden one
    assert '2 files' in page
    # Ewa reads the portal in Polish: the contract only
    other = text(_as(data, 'a2').get('archive'))
    assert re.search(r'\b1 plik\b', other) and '2 pliki' not in other, other
    html = response.get_data(as_text=True)
    for key in ['a_contracts', 'a_uploads']:
        assert f'archive/folders/{data.archive_folders[key]}"' in html
    assert 'Beta' not in page


def test_folder_lists_what_the_user_sees(as_a, data):
    folder = data.archive_folders['a_contracts']
    page = text(as_a.get(f'archive/folders/{folder}'))
    assert 'Umowa A' in page and 'Tylko dla Jana' in page
    assert 'Wycofany' not in page
    # Closed for uploads: no form
    html = as_a.get(f'archive/folders/{folder}').get_data(as_text=True)
    assert 'name="file"' not in html
    other = text(_as(data, 'a2').get(f'archive/folders/{folder}'))
    assert 'Umowa A' in other and 'Tylko dla Jana' not in other
    uploads = as_a.get(
        f'archive/folders/{data.archive_folders["a_uploads"]}')
    assert 'enctype="multipart/form-data"' in uploads.get_data(as_text=True)
    assert 'Upload a file to this folder' in text(uploads)


def test_file_page_shows_its_versions(as_a, data):
    file = data.archive_files['a_contract']
    response = as_a.get(f'archive/files/{file}')
    assert response.status_code == 200
    page = text(response)
    assert 'Umowa A' in page and 'Aneks 1' in page
    assert 'Download version 2' in page
    html = response.get_data(as_text=True)
    assert f'archive/files/{file}/download?version=1"' in html
    assert 'umowa-v2.pdf' in page


def test_download_records_the_first_view_once(as_a, data):
    file = in_transaction(_new_file, data.archive_folders['a_contracts'],
        "Wyciąg 11/2026")
    folder = as_a.get(
        f'archive/folders/{data.archive_folders["a_contracts"]}')
    row = folder.get_data(as_text=True).split('Wyciąg 11/2026', 1)[1]
    assert 'New file' in row.split('</tr>', 1)[0]
    assert read_only(_viewed, file) == (None, None)
    response = as_a.get(f'archive/files/{file}/download')
    assert response.status_code == 200
    assert response.content_type == 'application/pdf'
    assert response.get_data() == pdf_bytes('v2')
    assert response.headers['Content-Disposition'].startswith(
        'attachment; filename="v2.pdf"')
    first, by = read_only(_viewed, file)
    assert first is not None and by == data.users['a'][0]
    older = _as(data, 'a2').get(f'archive/files/{file}/download?version=1')
    assert older.get_data() == pdf_bytes('v1')
    assert read_only(_viewed, file) == (first, by)
    for version in ['3', 'x', '0']:
        assert as_a.get(
            f'archive/files/{file}/download?version={version}'
            ).status_code == 404
    row = as_a.get(f'archive/folders/{data.archive_folders["a_contracts"]}'
        ).get_data(as_text=True).split('Wyciąg 11/2026', 1)[1]
    assert 'New file' not in row.split('</tr>', 1)[0]


def test_files_hidden_or_for_other_users_are_404(as_a, data):
    ewa = _as(data, 'a2')
    only_a = data.archive_files['a_only_a']
    assert as_a.get(f'archive/files/{only_a}').status_code == 200
    for path in [f'archive/files/{only_a}',
            f'archive/files/{only_a}/download']:
        assert ewa.get(path).status_code == 404
    hidden = data.archive_files['a_hidden']
    for path in [f'archive/files/{hidden}',
            f'archive/files/{hidden}/download']:
        assert as_a.get(path).status_code == 404


def test_upload_into_an_open_folder(as_a, data):
    folder = data.archive_folders['a_uploads']
    response = as_a.post(f'archive/folders/{folder}/upload', {
            'file': (io.BytesIO(docx_bytes()), 'Pełnomocnictwo.docx'),
            'note': "Podpisane",
            }, content_type='multipart/form-data')
    assert response.status_code == 303
    assert response.headers['Location'].endswith(
        f'archive/folders/{folder}?uploaded=1')
    page = text(as_a.get(f'archive/folders/{folder}?uploaded=1'))
    assert 'Your file was uploaded.' in page
    assert 'Pełnomocnictwo.docx' in page

    def uploaded():
        File = Pool().get('portal.archive.file')
        file, = File.search([('folder', '=', folder),
                ('name', '=', 'Pełnomocnictwo.docx')])
        version, = file.versions
        return (file.uploaded_by_client, file.uploaded_by.id,
            version.mimetype, version.note, bytes(version.data))
    assert read_only(uploaded) == (True, data.users['a'][0], DOCX,
        "Podpisane", docx_bytes())


def test_bad_uploads_are_refused_next_to_the_field(as_a, data):
    folder = data.archive_folders['a_uploads']
    closed = data.archive_folders['a_contracts']
    before = read_only(_files_in, folder), read_only(_files_in, closed)

    def post(content, name, note="Do sprawdzenia"):
        files = {'note': note}
        if content is not None:
            files['file'] = (io.BytesIO(content), name)
        return as_a.post(f'archive/folders/{folder}/upload', files,
            content_type='multipart/form-data')
    for content, name, message in [
            (None, '', 'Choose a file to upload.'),
            (b'', 'pusty.pdf', 'Choose a file to upload.'),
            (b'To jest tekst', 'umowa.pdf', 'is not a PDF, JPEG, PNG, DOCX'),
            ]:
        response = post(content, name)
        assert response.status_code == 422, name
        html = response.get_data(as_text=True)
        assert 'id="file-error"' in html and message in text(response)
        # What was typed stays
        assert 'Do sprawdzenia</textarea>' in html
    with mock.patch.object(archive_file, 'MAX_SIZE', 1024), \
            mock.patch.object(web_archive, 'MAX_SIZE', 1024):
        response = post(pdf_bytes() + b' ' * 4096, 'duzy.pdf')
    assert response.status_code == 422
    assert 'The file is larger than' in text(response)
    response = post(pdf_bytes(), 'a.pdf', note='x' * 1001)
    assert response.status_code == 422
    assert 'id="note-error"' in response.get_data(as_text=True)
    # Into a folder not open for uploads
    response = as_a.post(f'archive/folders/{closed}/upload', {
            'file': (io.BytesIO(pdf_bytes()), 'a.pdf')},
        content_type='multipart/form-data')
    assert response.status_code == 403
    assert 'This folder is not open for your uploads.' in text(response)
    assert (read_only(_files_in, folder),
        read_only(_files_in, closed)) == before


def test_other_clients_archive_is_404(as_a, data):
    paths = [f'archive/folders/{data.archive_folders["b_contracts"]}',
        f'archive/folders/{data.archive_folders["b_uploads"]}',
        f'archive/files/{data.archive_files["b_contract"]}',
        f'archive/files/{data.archive_files["b_contract"]}/download']
    for path in paths:
        assert as_a.get(path).status_code == 404, path
    upload = as_a.post(
        f'archive/folders/{data.archive_folders["b_uploads"]}/upload',
        {'file': (io.BytesIO(pdf_bytes()), 'a.pdf')},
        content_type='multipart/form-data')
    assert upload.status_code == 404
    assert read_only(_files_in, data.archive_folders['b_uploads']) == 0


def _new_version(file_id):
    "Staff add a version; the id of the card it makes"
    pool = Pool()
    Version = pool.get('portal.archive.version')
    Notification = pool.get('portal.notification')
    Version.create([{'file': file_id, 'data': pdf_bytes('v3'),
                'filename': 'umowa-v3.pdf'}])
    card, = Notification.search([('archive_file', '=', file_id)])
    return card.id


def _delete_card(card_id):
    Notification = Pool().get('portal.notification')
    Notification.delete([Notification(card_id)])


def test_new_version_is_a_card_for_who_may_see_it(as_a, data, smtp):
    file = data.archive_files['a_only_a']
    smtp.clear()
    card = in_transaction(_new_version, file)
    try:
        assert 'New in the archive: Tylko dla Jana' in text(as_a.get(''))
        ewa = _as(data, 'a2')
        assert 'Tylko dla Jana' not in text(ewa.get(''))
        assert ewa.post(f'notifications/{card}').status_code == 404
        response = as_a.post(f'notifications/{card}')
        assert response.status_code == 303
        assert response.headers['Location'].endswith(f'archive/files/{file}')
        smtp.wait_for(lambda m: m['To'] == 'jan@alfa.example')
        assert [m['To'] for m in smtp.messages] == ['jan@alfa.example']
        assert 'New version 2 of Tylko dla Jana' in smtp.messages[0][
            'Subject']
    finally:
        in_transaction(_delete_card, card)
        smtp.clear()
