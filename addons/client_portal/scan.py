"""Uploaded scans: the type read from the content, never from the name or
the browser's claim, and the file refused when it cannot be shown."""
import io
from typing import NamedTuple

from trytond.exceptions import UserError
from trytond.i18n import gettext

MAX_SIZE = 10 * 1024 * 1024
TYPES = {
    'application/pdf': '.pdf',
    'image/jpeg': '.jpg',
    'image/png': '.png',
    }


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


def check_scan(data, name):
    """The scan as Scan(data, name, mimetype); UserError with the reason
    when it is empty, too large, not a PDF/JPEG/PNG by its content, a PDF
    with a password, or a damaged file"""
    def fail(message_id, **kwargs):
        raise UserError(gettext(f'client_portal.{message_id}', **kwargs))
    if not data:
        fail('msg_scan_empty')
    if len(data) > MAX_SIZE:
        fail('msg_scan_too_large', size=MAX_SIZE // (1024 * 1024))
    mimetype = sniff(data)
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
    stem = (name or 'scan').rsplit('/', 1)[-1].rsplit('\\', 1)[-1]
    stem = stem.rsplit('.', 1)[0][:80] or 'scan'
    return Scan(data, stem + extension, mimetype)
