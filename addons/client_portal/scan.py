"""Uploaded scans: the type read from the content, never from the name or
the browser's claim, and the file refused when it cannot be shown."""
import io
import zipfile
from typing import NamedTuple

from trytond.exceptions import UserError
from trytond.i18n import gettext

MAX_SIZE = 10 * 1024 * 1024
TYPES = {
    'application/pdf': '.pdf',
    'image/jpeg': '.jpg',
    'image/png': '.png',
    }
# The office documents the document archive also takes (check_scan's
# office=True): ZIP containers told apart by what they declare inside
OFFICE_TYPES = {
    'application/vnd.openxmlformats-officedocument'
    '.wordprocessingml.document': '.docx',
    'application/vnd.openxmlformats-officedocument'
    '.spreadsheetml.sheet': '.xlsx',
    'application/vnd.oasis.opendocument.text': '.odt',
    'application/vnd.oasis.opendocument.spreadsheet': '.ods',
    }
# The main part's content type an OOXML package declares in
# [Content_Types].xml, and the package's type
OOXML_PARTS = {
    'wordprocessingml.document.main+xml':
    'application/vnd.openxmlformats-officedocument'
    '.wordprocessingml.document',
    'spreadsheetml.sheet.main+xml':
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    }
# Only the declarations are read, never the documents' content: a ZIP
# bomb costs nothing
DECLARATION_SIZE = 64 * 1024


class Scan(NamedTuple):
    data: bytes
    name: str
    mimetype: str


def sniff(data):
    "The MIME type of the content, among the accepted ones, or None"
    if data.startswith(b'%PDF-'):
        return 'application/pdf'
    if data.startswith(b'\xff\xd8\xff'):
        return 'image/jpeg'
    if data.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'image/png'
    return None


def sniff_office(data):
    """The MIME type of an office document (DOCX, XLSX, ODT, ODS) by what
    its ZIP container declares, None for any other content, or False for
    a ZIP that cannot be read"""
    if not data.startswith(b'PK\x03\x04'):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as container:
            names = set(container.namelist())
            if 'mimetype' in names:
                # OpenDocument: the type, stored first and uncompressed
                with container.open('mimetype') as entry:
                    declared = entry.read(100).decode('ascii', 'replace')
                declared = declared.strip()
                return declared if declared in OFFICE_TYPES else None
            if '[Content_Types].xml' in names:
                with container.open('[Content_Types].xml') as entry:
                    types = entry.read(DECLARATION_SIZE).decode(
                        'utf-8', 'replace')
                for part, mimetype in OOXML_PARTS.items():
                    if part in types:
                        return mimetype
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError,
            KeyError, NotImplementedError, EOFError):
        return False
    return None


def check_scan(data, name, office=False, max_size=MAX_SIZE):
    """The scan as Scan(data, name, mimetype); UserError with the reason
    when it is empty, larger than max_size, not a PDF/JPEG/PNG by its
    content, a PDF with a password, or a damaged file. With office, DOCX,
    XLSX, ODT and ODS files are accepted too (the document archive)"""
    def fail(message_id, **kwargs):
        raise UserError(gettext(f'client_portal.{message_id}', **kwargs))
    if not data:
        fail('msg_scan_empty')
    if len(data) > max_size:
        fail('msg_scan_too_large', size=max_size // (1024 * 1024))
    mimetype = sniff(data)
    if mimetype is None and office:
        mimetype = sniff_office(data)
        if mimetype is False:
            fail('msg_scan_damaged')
        if mimetype is None:
            fail('msg_scan_type_office')
        return Scan(data, _stem(name) + OFFICE_TYPES[mimetype], mimetype)
    if mimetype is None:
        fail('msg_scan_type')
    extension = TYPES[mimetype]
    if mimetype == 'application/pdf':
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                fail('msg_scan_encrypted')
            if not len(reader.pages):
                fail('msg_scan_damaged')
        except (PdfReadError, ValueError, KeyError, TypeError,
                AttributeError, IndexError, OSError):
            fail('msg_scan_damaged')
    else:
        from PIL import Image, UnidentifiedImageError
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            fail('msg_scan_damaged')
    return Scan(data, _stem(name) + extension, mimetype)


def _stem(name):
    "The file's name without its folders and extension"
    stem = (name or 'scan').rsplit('/', 1)[-1].rsplit('\\', 1)[-1]
    return stem.rsplit('.', 1)[0][:80] or 'scan'
