"""The HTTP tests' requests: one of each client, raised on the portal with
a PDF attached, for the isolation sweep and the request pages"""
import io

from pypdf import PdfWriter

from trytond.pool import Pool
from trytond.transaction import Transaction


def pdf_bytes():
    "A valid one-page PDF"
    data = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(data)
    return data.getvalue()


def build_requests(a, b, users):
    """Each client's request with its file; {'requests': {key: id},
    'request_files': {key: the file's history row id}}"""
    from client_portal.ir import PARTY_KEY, WEB_USER_KEY
    from client_portal.scan import check_scan
    pool = Pool()
    Request = pool.get('portal.request')
    Kind = pool.get('portal.request.kind')
    kind = Kind.search([], limit=1)[0]
    requests, files = {}, {}
    for key, client in [('a', a), ('b', b)]:
        with Transaction().set_context(**{PARTY_KEY: client.id,
                    WEB_USER_KEY: users[key].id}):
            request = Request.portal_create(client, kind,
                f"Zaświadczenie dla {client.name}", "Do banku.",
                [check_scan(pdf_bytes(), 'umowa.pdf')])
        requests[key] = request.id
        files[key], = [e.id for e in request.events if e.kind == 'file']
    return {'requests': requests, 'request_files': files}
