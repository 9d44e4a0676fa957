"""KSeF on the invoice's PDF: the KOD I verification link (facts:
POLAND.md §3.6) as a QR code with "OFFLINE" or the KSeF number under it, a
new PDF once KSeF accepts the invoice (the offline one kept), and the KSeF
number in the client's financial documents"""
import base64
import datetime
import hashlib
import io
import unittest
from urllib.parse import urlsplit

from lxml import etree
from PIL import Image
from pypdf import PdfReader

from trytond.pool import Pool
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction, without_check_access

from client_portal.demo import create_invoice
from client_portal.tests.committed import committed_setup
from client_portal.tests.outgoing_setup import form

from .. import xsd
from ..invoice_pdf import OFFLINE, verification_url
from .ksef_setup import MODULES, ksef_firm

TODAY = datetime.date.today()
# facts: POLAND.md §3.4
KSEF_NUMBER = '5265877635-20250826-0100001AF629-AF'
# The worked example of KSeF's documentation (kody-qr.md), which facts §3.6
# describes: seller NIP, issue date (P_1) and the SHA-256 of the file
DOCS_HASH = 'UtQp9Gpc51y+u3xApZjIjgkpZ01js+J8KflSPW8WzIE='
DOCS_URL = ('https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/'
    'UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE')


def pdf_text(content):
    reader = PdfReader(io.BytesIO(bytes(content)))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


def pdf_images(content):
    reader = PdfReader(io.BytesIO(bytes(content)))
    return [image for page in reader.pages for image in page.images]


def xml_field(xml, path):
    return etree.fromstring(bytes(xml)).find(path, {'f': xsd.NAMESPACE}).text


def base64url_sha256(content):
    return base64.urlsafe_b64encode(
        hashlib.sha256(bytes(content)).digest()).decode().rstrip('=')


class VerificationLinkTestCase(unittest.TestCase):
    "KOD I as KSeF's documentation builds it"

    def test_docs_example(self):
        for hash_ in [DOCS_HASH, DOCS_HASH.replace('+', '-').rstrip('=')]:
            for host in ['https://qr-test.ksef.mf.gov.pl',
                    'https://qr-test.ksef.mf.gov.pl/']:
                self.assertEqual(verification_url(
                        host, '1111111111', datetime.date(2026, 2, 1),
                        hash_), DOCS_URL)

    def test_custom_host(self):
        "The emulator's host, for the demo and the tests"
        self.assertEqual(verification_url('http://127.0.0.1:8081',
                '1111111111', datetime.date(2026, 2, 1), DOCS_HASH),
            DOCS_URL.replace('https://qr-test.ksef.mf.gov.pl',
                'http://127.0.0.1:8081'))

    def test_not_a_sha256(self):
        with self.assertRaises(ValueError):
            verification_url('https://qr-test.ksef.mf.gov.pl',
                '1111111111', datetime.date(2026, 2, 1), 'YWJj')


class InvoicePdfTestCase(_DBTestCase):
    module = MODULES[0]
    extras = MODULES[1:]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup = committed_setup(ksef_firm, TODAY)

    def _issue(self, setup, proforma=False):
        "A client's invoice issued on the portal with its PDF"
        Invoice = Pool().get('account.invoice')
        draft = Invoice.portal_save_draft(setup.client, form(setup.firm,
                setup.client, setup.template, setup.buyers['nip'],
                [("Projekt", 1, '1000.00', '23')]))
        return Invoice.portal_issue(draft, proforma=proforma)

    def _settle(self, invoice, **values):
        "What the sending writes as the system, then tells"
        Invoice = Pool().get('account.invoice')
        with without_check_access():
            Invoice.write([invoice], values)
            Invoice.ksef_settled([Invoice(invoice.id)])
        return Invoice(invoice.id)

    @with_transaction()
    def test_kod_i_of_the_stored_xml(self):
        """The link is built from the seller's NIP, the issue date and the
        stored XML's hash on the settings' QR host, and shown as a QR code
        with "OFFLINE" under it until KSeF gives a number"""
        pool = Pool()
        Configuration = pool.get('ksef.configuration')
        setup = self.setup()
        with Transaction().set_context(company=setup.firm.company.id):
            invoice = self._issue(setup)
            url = invoice.ksef_verification_url
            parts = urlsplit(url)
            self.assertEqual(f'{parts.scheme}://{parts.netloc}',
                Configuration(1).qr_url)
            # What the stored document says: seller, P_1 as DD-MM-RRRR
            xml = invoice.ksef_xml
            issue_date = datetime.date.fromisoformat(
                xml_field(xml, 'f:Fa/f:P_1'))
            self.assertEqual(parts.path.split('/'), ['', 'invoice',
                    xml_field(xml, 'f:Podmiot1/f:DaneIdentyfikacyjne/f:NIP'),
                    issue_date.strftime('%d-%m-%Y'),
                    base64url_sha256(xml)])

            verification = invoice.portal_pdf_verification
            self.assertEqual(verification.link, url)
            self.assertEqual(verification.caption, OFFLINE)
            prefix = 'data:image/png;base64,'
            self.assertTrue(verification.image.startswith(prefix))
            image = Image.open(io.BytesIO(base64.b64decode(
                        verification.image[len(prefix):])))
            self.assertEqual(image.format, 'PNG')
            self.assertEqual(image.width, image.height)

            pdf = invoice.get_portal_pdf()
            self.assertIn(OFFLINE, pdf_text(pdf))
            # The firm of the tests has no logo: the one image is the code
            self.assertEqual(len(pdf_images(pdf)), 1)

            # The custom environment's own QR host (the emulator's)
            configuration = Configuration(1)
            configuration.environment = 'custom'
            configuration.custom_url = 'http://127.0.0.1:8081'
            configuration.qr_url_custom = 'http://127.0.0.1:8082'
            configuration.save()
            self.assertTrue(Pool().get('account.invoice')(
                    invoice.id).ksef_verification_url.startswith(
                    'http://127.0.0.1:8082/invoice/'))

    @with_transaction()
    def test_no_code_without_xml(self):
        "A proforma never goes to KSeF: its PDF has no code"
        setup = self.setup()
        with Transaction().set_context(company=setup.firm.company.id):
            proforma = self._issue(setup, proforma=True)
            self.assertFalse(proforma.ksef_xml_hash)
            self.assertIsNone(proforma.ksef_verification_url)
            self.assertIsNone(proforma.portal_pdf_verification)
            pdf = proforma.get_portal_pdf()
            self.assertNotIn(OFFLINE, pdf_text(pdf))
            self.assertEqual(pdf_images(pdf), [])

    @with_transaction()
    def test_offline_then_accepted(self):
        """Issued offline, the PDF says OFFLINE; once accepted a new PDF
        shows the KSeF number and the offline one is kept as the buyer
        received it"""
        setup = self.setup()
        with Transaction().set_context(company=setup.firm.company.id):
            invoice = self._issue(setup)
            invoice = self._settle(invoice, ksef_status='offline',
                ksef_offline=True,
                ksef_deadline=TODAY + datetime.timedelta(days=1))
            offline_pdf = bytes(invoice.get_portal_pdf())
            self.assertIn(OFFLINE, pdf_text(offline_pdf))
            self.assertIsNone(invoice.ksef_offline_pdf)

            invoice = self._settle(invoice, ksef_status='accepted',
                ksef_number=KSEF_NUMBER,
                ksef_accepted_at=datetime.datetime.now())
            pdf = bytes(invoice.get_portal_pdf())
            self.assertNotEqual(pdf, offline_pdf)
            text = pdf_text(pdf)
            self.assertIn(KSEF_NUMBER, text)
            self.assertNotIn(OFFLINE, text)
            self.assertEqual(len(pdf_images(pdf)), 1)
            self.assertEqual(bytes(invoice.ksef_offline_pdf), offline_pdf)
            self.assertEqual(invoice.ksef_offline_pdf_name,
                invoice.number.replace('/', '-') + '-offline.pdf')

            # Told again, it keeps the first offline PDF
            invoice = self._settle(invoice, ksef_status='accepted')
            self.assertEqual(bytes(invoice.ksef_offline_pdf), offline_pdf)
            self.assertIn(KSEF_NUMBER, pdf_text(invoice.get_portal_pdf()))

    @with_transaction()
    def test_online_accepted_and_rejected(self):
        """Accepted online: the PDF is rendered again with the number, no
        offline PDF is kept; rejected: the PDF stays as it was"""
        setup = self.setup()
        with Transaction().set_context(company=setup.firm.company.id):
            accepted = self._issue(setup)
            accepted = self._settle(accepted, ksef_status='accepted',
                ksef_number=KSEF_NUMBER)
            self.assertIn(KSEF_NUMBER, pdf_text(accepted.get_portal_pdf()))
            self.assertIsNone(accepted.ksef_offline_pdf)

            rejected = self._issue(setup)
            before = bytes(rejected.get_portal_pdf())
            rejected = self._settle(rejected, ksef_status='rejected',
                ksef_error="Nieprawidłowy NIP nabywcy")
            self.assertEqual(bytes(rejected.get_portal_pdf()), before)

    @with_transaction()
    def test_document_gets_the_ksef_number(self):
        """The firm's invoice to a portal client: its document in the
        client's table gets the KSeF number when KSeF gives it"""
        pool = Pool()
        Document = pool.get('portal.document')
        setup = self.setup()
        firm = setup.firm
        with Transaction().set_context(company=firm.company.id):
            invoice = create_invoice(firm, setup.client, TODAY,
                [("Obsługa księgowa", 1, '1000.00', '23')])
            self.assertTrue(invoice.ksef_xml_hash)
            document, = Document.search([('origin', '=', str(invoice))])
            self.assertIsNone(document.ksef_number)
            self.assertEqual(document.portal_ksef.status,
                invoice.ksef_status)
            self.assertIn(OFFLINE, pdf_text(document.get_pdf()))

            self._settle(invoice, ksef_status='accepted',
                ksef_number=KSEF_NUMBER)
            document = Document(document.id)
            self.assertEqual(document.ksef_number, KSEF_NUMBER)
            self.assertEqual(document.portal_ksef.number, KSEF_NUMBER)
            self.assertTrue(document.portal_ksef.has_xml)
            self.assertFalse(document.portal_ksef.has_upo)
            self.assertIn(KSEF_NUMBER, pdf_text(document.get_pdf()))
