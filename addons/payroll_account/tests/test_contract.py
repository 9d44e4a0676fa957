"""Contracts from templates: the checks of the form, numbering per series
and year, the PDF, amendments keeping the old text, termination, versions
of the templates and the portal's isolation between clients"""
import datetime
import io
from contextlib import ExitStack
from decimal import Decimal

from pypdf import PdfReader

from client_portal.tests.committed import CommittedTestCase
from client_portal.tests.test_module import _as_client
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .test_contractor import build_clients, form as contractor_form, pesel


def pdf_text(content):
    reader = PdfReader(io.BytesIO(bytes(content)))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


def _ref(module, fs_id):
    return Pool().get('ir.model.data').get_id(module, fs_id)


def build():
    """Clients a and b, each with a contractor; a may use both shipped
    templates, b the mandate one only"""
    pool = Pool()
    Contractor = pool.get('payroll.contractor')
    Template = pool.get('payroll.contract.template')
    firm = build_clients()
    firm.anna, _ = Contractor.portal_save(firm.a, None, contractor_form())
    firm.piotr, _ = Contractor.portal_save(firm.b, None, contractor_form(
            first_name="Piotr", last_name="Zieliński",
            pesel=pesel(datetime.date(1988, 9, 9))))
    firm.mandate = Template(_ref('payroll_account', 'template_mandate'))
    firm.work = Template(_ref('payroll_account', 'template_work'))
    Template.write([firm.mandate], {'clients': [('add', [firm.a.id, firm.b.id])]})
    Template.write([firm.work], {'clients': [('add', [firm.a.id])]})
    return firm


def values(firm, **kwargs):
    "The portal form of a contract of client a"
    base = {'contractor': str(firm.anna.id), 'template': str(firm.mandate.id),
        'language': 'pl', 'subject': "Obsługa recepcji w biurze w Krakowie",
        'rate_type': 'hourly', 'hourly_rate': '35,00', 'amount': '',
        'currency': 'PLN', 'start_date': '2026-12-01',
        'end_date': '2026-12-31', 'copyright_share': ''}
    base.update(kwargs)
    return base


class ContractTestCase(CommittedTestCase):
    "Contracts of clients with their contractors"
    module = 'payroll_account'

    @classmethod
    def build(cls):
        return build()

    def _draft(self, firm, **kwargs):
        Contract = Pool().get('payroll.contract')
        record, errors = Contract.portal_save(
            firm.a, None, values(firm, **kwargs))
        self.assertEqual(errors, {})
        return record

    @with_transaction()
    def test_form_errors(self):
        Contract = Pool().get('payroll.contract')
        firm = self.setup()
        cases = [
            ({'template': str(firm.work.id)}, 'template', firm.b),
            ({'contractor': str(firm.piotr.id)}, 'contractor', firm.a),
            ({'hourly_rate': '31,39'}, 'hourly_rate', firm.a),
            ({'rate_type': 'lump_sum', 'amount': '0'}, 'amount', firm.a),
            ({'rate_type': 'lump_sum', 'amount': '-5'}, 'amount', firm.a),
            ({'end_date': '2026-11-30'}, 'end_date', firm.a),
            ({'copyright_share': '120'}, 'copyright_share', firm.a),
            ({'subject': ''}, 'subject', firm.a),
            ({'start_date': '2026-13-01'}, 'start_date', firm.a),
            ({'currency': 'XXX'}, 'currency', firm.a),
            ]
        for changes, field, client in cases:
            with self.subTest(field=field, changes=changes):
                if client == firm.b:
                    changes['contractor'] = str(firm.piotr.id)
                record, errors = Contract.portal_save(
                    client, None, values(firm, **changes))
                self.assertIsNone(record)
                self.assertIn(field, errors)
        self.assertIn('31,40', Contract.portal_save(firm.a, None, values(
                    firm, hourly_rate='31.39'))[1]['hourly_rate'])
        self.assertEqual(Contract.search([]), [])
        # The minimum is of mandate contracts paid by the hour only
        record = self._draft(firm, template=str(firm.work.id),
            hourly_rate='20')
        self.assertEqual(record.kind, 'work')
        record = self._draft(firm, hourly_rate='31.40')
        self.assertEqual(record.kind, 'mandate')
        self.assertEqual(record.company, firm.company)
        self.assertEqual(record.currency.code, 'PLN')
        self.assertEqual(record.copyright_share, Decimal(0))

    @with_transaction()
    def test_back_office_refuses_contractor_of_other_client(self):
        Contract = Pool().get('payroll.contract')
        firm = self.setup()
        with self.assertRaises(ValidationError):
            Contract.create([{
                        'company': firm.company.id, 'client': firm.a.id,
                        'contractor': firm.piotr.id,
                        'template': firm.mandate.id, 'subject': "X",
                        'rate_type': 'lump_sum', 'amount': Decimal(100),
                        'currency': firm.pln.id,
                        'start_date': datetime.date(2026, 12, 1),
                        }])

    @with_transaction()
    def test_issue_numbers_text_and_pdf(self):
        pool = Pool()
        Contract = pool.get('payroll.contract')
        Date = pool.get('ir.date')
        firm = self.setup()
        year = Date.today().year
        first = self._draft(firm)
        second = self._draft(firm, template=str(firm.work.id),
            rate_type='lump_sum', amount='4000', language='en',
            copyright_share='80', end_date='')
        Contract.issue([first])
        Contract.issue([second])
        first, second = Contract(first.id), Contract(second.id)
        self.assertEqual((first.number, second.number),
            (f'UZ/1/{year}', f'UZ/2/{year}'))
        self.assertEqual(first.state, 'issued')
        self.assertEqual(first.template_version,
            firm.mandate.current_version)
        self.assertEqual(first.series.kind, 'contract')
        self.assertIn("Alfa sp. z o.o.", first.text)
        self.assertIn("Anna Nowak", first.text)
        self.assertIn("stawka godzinowa 35,00 PLN", first.text)
        self.assertNotIn('{{', first.text)
        text = pdf_text(first.pdf)
        for expected in ["UMOWA ZLECENIE", f"UZ/1/{year}", "Alfa sp. z o.o.",
                "Anna Nowak", "Obsługa recepcji w biurze w Krakowie",
                "Zleceniobiorca"]:
            self.assertIn(expected, text)
        text = pdf_text(second.pdf)
        for expected in ["CONTRACT FOR SPECIFIC WORK", f"UZ/2/{year}",
                "lump sum 4,000.00 PLN", "80% of the remuneration",
                "Ordering Party"]:
            self.assertIn(expected, text)
        # Issued: read-only, not deleted
        with self.assertRaises(AccessError):
            Contract.write([first], {'subject': "Inny"})
        with self.assertRaises(AccessError):
            Contract.delete([first])
        # The version used keeps its text
        Version = pool.get('payroll.contract.template.version')
        with self.assertRaises(AccessError):
            Version.write([first.template_version], {'text_pl': "Nowy"})

    @with_transaction()
    def test_preview_saves_nothing(self):
        Contract = Pool().get('payroll.contract')
        firm = self.setup()
        content, errors = Contract.preview_pdf(firm.a, values(firm))
        self.assertEqual(errors, {})
        text = pdf_text(content)
        self.assertIn("PROJEKT", text)
        self.assertIn("Obsługa recepcji", text)
        self.assertEqual(Contract.search([]), [])
        content, errors = Contract.preview_pdf(
            firm.a, values(firm, hourly_rate='10'))
        self.assertIsNone(content)
        self.assertIn('hourly_rate', errors)

    @with_transaction()
    def test_amend_keeps_the_old_text(self):
        Contract = Pool().get('payroll.contract')
        firm = self.setup()
        old = self._draft(firm)
        Contract.issue([old])
        old = Contract(old.id)
        old_text = old.text
        new, errors = Contract.portal_amend(firm.a, old, values(
                firm, hourly_rate='40,00', end_date='2027-01-31'))
        self.assertEqual(errors, {})
        old = Contract(old.id)
        self.assertEqual(old.state, 'amended')
        self.assertEqual(old.text, old_text)
        self.assertEqual((new.number, new.version, new.previous),
            (old.number, 2, old))
        self.assertEqual(new.state, 'issued')
        self.assertIn("40,00", new.text)
        self.assertNotIn("40,00", old.text)
        self.assertIn("wersja 2", pdf_text(new.pdf))
        self.assertEqual(new.pdf_name, old.pdf_name.replace('.pdf', '-v2.pdf'))
        # Only the issued version is amended
        _, errors = Contract.portal_amend(firm.a, old, values(firm))
        self.assertIn('state', errors)
        # A new version of the template does not change either contract
        Template = Pool().get('payroll.contract.template')
        Template.new_version([firm.mandate])
        self.assertEqual(Template(firm.mandate.id).current_version.number, 2)
        self.assertEqual(Contract(new.id).template_version.number, 1)

    @with_transaction()
    def test_terminate(self):
        Contract = Pool().get('payroll.contract')
        firm = self.setup()
        draft = self._draft(firm)
        with self.assertRaises(AccessError):
            Contract.terminate([draft], datetime.date(2026, 12, 15), "X")
        Contract.issue([draft])
        Contract.terminate([draft], datetime.date(2026, 12, 15),
            "Zakończenie współpracy")
        record = Contract(draft.id)
        self.assertEqual(record.state, 'terminated')
        self.assertEqual(record.terminated_on, datetime.date(2026, 12, 15))
        self.assertEqual(record.termination_reason, "Zakończenie współpracy")
        with self.assertRaises(AccessError):
            Contract.amend(record, {'hourly_rate': Decimal(50)})

    @with_transaction()
    def test_seen_by_its_client_only(self):
        pool = Pool()
        Contract = pool.get('payroll.contract')
        Template = pool.get('payroll.contract.template')
        firm = self.setup()
        record = self._draft(firm)
        Contract.issue([record])
        with ExitStack() as stack:
            for manager in _as_client(firm.user_a):
                stack.enter_context(manager)
            self.assertEqual(Contract.search([]), [record])
            self.assertEqual(set(Template.search([])),
                {firm.mandate, firm.work})
            # The client drafts and issues through the rules
            draft, errors = Contract.portal_save(firm.a, None, values(firm))
            self.assertEqual(errors, {})
            Contract.issue([draft])
            self.assertTrue(Contract(draft.id).number.startswith('UZ/2/'))
        with ExitStack() as stack:
            for manager in _as_client(firm.user_b):
                stack.enter_context(manager)
            self.assertEqual(Contract.search([]), [])
            self.assertEqual(Template.search([]), [firm.mandate])
            # Another client's contractor is refused, not revealed
            _, errors = Contract.portal_save(firm.b, None, values(firm,
                    template=str(firm.mandate.id)))
            self.assertIn('contractor', errors)
