"""KSeF on the portal: the state of the client's invoices in KSeF (pending,
sent, accepted with its number, rejected with KSeF's reason, offline with
its deadline), the FA(3) XML and UPO downloads, kept to the client who owns
them, the QR code with its caption on the PDF, and the KSeF number of the
firm's invoices in the client's documents"""
import datetime
import io
from types import SimpleNamespace

import pytest
from portal_http import in_transaction, read_only, text
from pypdf import PdfReader

from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

TODAY = datetime.date.today()
DEADLINE = TODAY + datetime.timedelta(days=1)
# facts: POLAND.md §3.4; the second with its own CRC-8
NUMBERS = {'a': '5265877635-20250826-0100001AF629-AF',
    'b': '5273184616-20261128-0100002BE735-F9'}
ERROR = "Nieprawidłowy NIP nabywcy (kod 450)"
UPO = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Potwierdzenie xmlns="http://upo.schematy.mf.gov.pl/KSeF/v4-3">'
    b'<NumerKSeFDokumentu>%s</NumerKSeFDokumentu></Potwierdzenie>')


def _issue(data, client):
    "A client's invoice issued as the editor issues it, with its PDF"
    from client_portal.demo_outgoing import editor_form
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    Template = pool.get('portal.invoice.template')
    Company = pool.get('company.company')
    firm = SimpleNamespace(company=Company(data.company))
    party = Party(data.clients[client])
    with Transaction().set_context(company=data.company):
        draft = Invoice.portal_save_draft(party, editor_form(firm, party,
                Template(data.templates[client]),
                Party(data.buyers[client]),
                [("Projekt", 1, '1000.00', '23')]))
        return Invoice.portal_issue(draft).id


def _settle(invoice_id, **values):
    "What the sending writes as the system when KSeF answers, then tells"
    Invoice = Pool().get('account.invoice')
    with without_check_access():
        Invoice.write([Invoice(invoice_id)], values)
        Invoice.ksef_settled([Invoice(invoice_id)])


def _build(data):
    invoices = {}
    for status in ['pending', 'sent', 'accepted', 'rejected', 'offline']:
        invoices[status] = _issue(data, 'a')
    invoices['b_accepted'] = _issue(data, 'b')
    _settle(invoices['pending'], ksef_status='pending')
    _settle(invoices['sent'], ksef_status='sent')
    _settle(invoices['offline'], ksef_status='offline', ksef_offline=True,
        ksef_deadline=DEADLINE)
    _settle(invoices['rejected'], ksef_status='rejected', ksef_error=ERROR)
    for key, client in [('accepted', 'a'), ('b_accepted', 'b')]:
        _settle(invoices[key], ksef_status='accepted',
            ksef_number=NUMBERS[client],
            ksef_accepted_at=datetime.datetime.now(),
            ksef_upo=UPO % NUMBERS[client].encode())
    # The firm's invoice to client a, in the client's documents
    _settle(data.documents_origin['a_partial'], ksef_status='accepted',
        ksef_number=NUMBERS['a'], ksef_upo=UPO % NUMBERS['a'].encode())
    return invoices


def _origins(data):
    Document = Pool().get('portal.document')
    return {key: Document(id_).origin.id
        for key, id_ in data.documents.items()}


def _files(invoice_id):
    Invoice = Pool().get('account.invoice')
    invoice = Invoice(invoice_id)
    return {'number': invoice.number, 'xml': bytes(invoice.ksef_xml),
        'upo': bytes(invoice.ksef_upo) if invoice.ksef_upo else None}


@pytest.fixture(scope='module')
def ksef(data):
    data = SimpleNamespace(**data)
    data.documents_origin = read_only(_origins, data)
    invoices = in_transaction(_build, data)
    return SimpleNamespace(invoices=invoices,
        files={k: read_only(_files, i) for k, i in invoices.items()},
        document=data.documents['a_partial'],
        document_files=read_only(_files, data.documents_origin['a_partial']))


def _pdf(response):
    """The PDF's text, and its QR codes: square black-and-white images (the
    firm's logo is neither)"""
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    codes = []
    for page in reader.pages:
        for image in page.images:
            picture = image.image.convert('L')
            colours = {c for _, c in picture.getcolors(256) or [(0, -1)]}
            if picture.width == picture.height and colours <= {0, 255}:
                codes.append(picture)
    return (' '.join(' '.join(p.extract_text().split())
            for p in reader.pages), codes)


def test_invoice_pages_show_the_state_in_ksef(as_a, ksef):
    def page(key):
        response = as_a.get(f'invoices/{ksef.invoices[key]}')
        assert response.status_code == 200
        return text(response)
    pending = page('pending')
    assert 'Waiting for KSeF' in pending
    assert 'The e-invoice is waiting to be sent to KSeF.' in pending
    assert 'Sent to KSeF' in page('sent')
    accepted = page('accepted')
    assert 'In KSeF' in accepted and 'KSeF accepted the e-invoice on' \
        in accepted
    assert f'KSeF number {NUMBERS["a"]}' in accepted
    rejected = page('rejected')
    assert 'Rejected by KSeF' in rejected
    assert f"KSeF's reason {ERROR}" in rejected
    offline = page('offline')
    assert ('Issued offline while KSeF could not be reached: it is sent to '
        f'KSeF by {DEADLINE.strftime("%d.%m.%Y")}.') in offline
    for key in ['pending', 'sent', 'rejected', 'offline']:
        assert NUMBERS['a'] not in page(key)


def test_download_links_on_the_page(as_a, ksef):
    def html(key):
        return as_a.get(f'invoices/{ksef.invoices[key]}').get_data(
            as_text=True)
    accepted = ksef.invoices['accepted']
    page = html('accepted')
    assert f'/portal/invoices/{accepted}.xml"' in page
    assert f'/portal/invoices/{accepted}/upo.xml"' in page
    pending = ksef.invoices['pending']
    page = html('pending')
    assert f'/portal/invoices/{pending}.xml"' in page
    assert 'upo.xml' not in page


def test_list_shows_the_ksef_number_or_state(as_a, ksef):
    page = text(as_a.get('invoices', query_string={'per_page': '100'}))
    assert NUMBERS['a'] in page
    for label in ['Waiting for KSeF', 'Sent to KSeF', 'Rejected by KSeF',
            'Offline']:
        assert label in page
    assert NUMBERS['b'] not in page


def test_xml_and_upo_downloads(as_a, ksef):
    files = ksef.files['accepted']
    filename = files['number'].replace('/', '_')
    response = as_a.get(f'invoices/{ksef.invoices["accepted"]}.xml')
    assert response.status_code == 200
    assert response.mimetype == 'application/xml'
    assert response.headers['Content-Disposition'] == (
        f'attachment; filename="{filename}.xml"')
    assert response.headers['X-Content-Type-Options'] == 'nosniff'
    assert response.get_data() == files['xml']
    assert response.get_data().startswith(b'<?xml')
    response = as_a.get(f'invoices/{ksef.invoices["accepted"]}/upo.xml')
    assert response.status_code == 200
    assert response.mimetype == 'application/xml'
    assert response.headers['Content-Disposition'] == (
        f'attachment; filename="UPO_{filename}.xml"')
    assert response.get_data() == files['upo']


def test_missing_upo_and_draft_xml_are_404(as_a, ksef, data):
    for key in ['pending', 'sent', 'rejected', 'offline']:
        response = as_a.get(f'invoices/{ksef.invoices[key]}/upo.xml')
        assert response.status_code == 404, key
        assert 'Traceback' not in response.get_data(as_text=True)
    # A draft or a proforma has no e-invoice
    for key in ['a_draft', 'a_proforma']:
        assert as_a.get(
            f'invoices/{data.outgoing[key]}.xml').status_code == 404


def test_another_clients_files_are_404(as_a, as_b, ksef):
    other = ksef.invoices['b_accepted']
    for path in [f'invoices/{other}.xml', f'invoices/{other}/upo.xml']:
        response = as_a.get(path)
        assert response.status_code == 404, path
        assert NUMBERS['b'].encode() not in response.get_data()
        assert as_b.get(path).status_code == 200, path
    mine = ksef.invoices['accepted']
    assert as_b.get(f'invoices/{mine}.xml').status_code == 404
    assert as_b.get(f'documents/{ksef.document}.xml').status_code == 404
    assert as_b.get(f'documents/{ksef.document}/upo.xml').status_code == 404


def test_pdf_has_the_code_with_its_caption(as_a, ksef, data):
    accepted = ksef.invoices['accepted']
    text_, codes = _pdf(as_a.get(f'invoices/{accepted}.pdf'))
    assert NUMBERS['a'] in text_ and 'OFFLINE' not in text_
    assert len(codes) == 1
    for key in ['pending', 'offline']:
        text_, codes = _pdf(as_a.get(f'invoices/{ksef.invoices[key]}.pdf'))
        assert 'OFFLINE' in text_ and NUMBERS['a'] not in text_
        assert len(codes) == 1
    # A proforma never goes to KSeF: no code
    proforma = data.outgoing['a_proforma']
    text_, codes = _pdf(as_a.get(f'invoices/{proforma}.pdf'))
    assert 'OFFLINE' not in text_ and codes == []


def test_document_shows_the_ksef_number_and_files(as_a, ksef):
    page = as_a.get(f'documents/{ksef.document}')
    assert page.status_code == 200
    assert f'KSeF number {NUMBERS["a"]}' in text(page)
    html = page.get_data(as_text=True)
    assert f'/portal/documents/{ksef.document}.xml"' in html
    assert f'/portal/documents/{ksef.document}/upo.xml"' in html
    response = as_a.get(f'documents/{ksef.document}.xml')
    assert response.status_code == 200
    assert response.mimetype == 'application/xml'
    assert response.get_data() == ksef.document_files['xml']
    response = as_a.get(f'documents/{ksef.document}/upo.xml')
    assert response.get_data() == ksef.document_files['upo']
    text_, _ = _pdf(as_a.get(f'documents/{ksef.document}.pdf?preview=1'))
    assert NUMBERS['a'] in text_


def test_polish_page_has_the_ksef_state_in_polish(data, ksef):
    from portal_http import Browser
    browser = Browser(language='pl')
    browser.login(data.users['a2'][1])
    page = text(browser.get(f'invoices/{ksef.invoices["rejected"]}'))
    assert 'Odrzucona przez KSeF' in page
    assert f'Powód podany przez KSeF {ERROR}' in page
    page = text(browser.get(f'documents/{ksef.document}'))
    assert f'Numer KSeF {NUMBERS["a"]}' in page
    assert 'Pobierz e-fakturę (XML)' in page
