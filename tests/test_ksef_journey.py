"""KSeF end to end through the portal, against the KSeF emulator: a client
issues a EUR invoice with two VAT rates and a correction of it, both are
accepted, their pages and PDFs show the KSeF numbers and the QR code's
caption; an invoice KSeF holds for the firm arrives in the right client's
cost invoices; with KSeF stopped an invoice is issued offline and sent when
KSeF is back. Each request runs its queued tasks after its commit, as the
portal does on SQLite, so the outbox sends within the request that issues."""
import dataclasses
import datetime
import io
import re
from unittest import mock

import pytest
from portal_http import in_transaction, read_only, text
from pypdf import PdfReader

from trytond.pool import Pool
from trytond.transaction import without_check_access

from client_portal.demo import FIRM_NIP

TODAY = datetime.date.today()
TOKEN = 'journey-token'


def _configure(url, token):
    Configuration = Pool().get('ksef.configuration')
    values = {'environment': 'custom', 'custom_url': url,
        'qr_url_custom': url, 'token_input': token}
    Configuration.write([Configuration(1)], values)


def _unconfigure():
    "Back to no credentials: the other tests' invoices wait for nothing"
    Configuration = Pool().get('ksef.configuration')
    with without_check_access():
        Configuration.write([Configuration(1)], {
                'environment': 'test', 'token': None})


@pytest.fixture(scope='module')
def ksef(data):
    from ksef import client
    from ksef.tests.ksef_setup import FAST_CLIENT
    from tests.ksef_emulator import Emulator
    patches = [mock.patch.object(client, name, value)
        for name, value in FAST_CLIENT.items()]
    for patch in patches:
        patch.start()
    emulator = Emulator(nip=FIRM_NIP, tokens=[TOKEN], seed=False)
    emulator.start()
    in_transaction(_configure, emulator.base_url, TOKEN)
    try:
        yield emulator
    finally:
        in_transaction(_unconfigure)
        emulator.stop()
        for patch in patches:
            patch.stop()


def _tax(code):
    Tax = Pool().get('account.tax')
    tax, = Tax.search([('portal_vat_code', '=', code),
            ('group.kind', '=', 'sale')])
    return tax.id


def _form(data, lines, **values):
    "The invoice editor's fields as the browser posts them"
    unit = read_only(lambda: Pool().get('ir.model.data').get_id(
            'product', 'uom_unit'))
    form = {
        'contractor': str(data.buyers['a']),
        'template': str(data.templates['a']),
        'currency': 'EUR', 'language': 'en',
        'invoice_date': TODAY.isoformat(), 'sale_date': TODAY.isoformat(),
        'payment_method': 'transfer',
        'due_date': (TODAY + datetime.timedelta(days=14)).isoformat(),
        'action': 'issue',
        }
    for i, (description, quantity, price, code) in enumerate(lines):
        form.update({
                f'lines-{i}-description': description,
                f'lines-{i}-quantity': quantity,
                f'lines-{i}-price': price,
                f'lines-{i}-tax': str(read_only(_tax, code)),
                f'lines-{i}-unit': str(unit),
                })
    form.update(values)
    return form


def _id(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r'/invoices/(\d+)', response.headers['Location'])
        .group(1))


def _ksef(invoice_id):
    invoice = Pool().get('account.invoice')(invoice_id)
    return {'number': invoice.number, 'status': invoice.ksef_status,
        'ksef_number': invoice.ksef_number, 'offline': invoice.ksef_offline,
        'deadline': invoice.ksef_deadline, 'hash': invoice.ksef_xml_hash}


def _pdf_text(response):
    assert response.content_type == 'application/pdf'
    reader = PdfReader(io.BytesIO(response.get_data()))
    return ' '.join(' '.join(p.extract_text().split()) for p in reader.pages)


def test_eur_invoice_and_its_correction_are_accepted(as_a, data, ksef):
    from tests.ksef_emulator import is_valid_ksef_number
    lines = [("Strona WWW", '1', '2000.00', '23'), ("Hosting", '12', '25', '8')]
    invoice_id = _id(as_a.post('invoices/new', data=_form(data, lines)))
    invoice = read_only(_ksef, invoice_id)
    assert invoice['status'] == 'accepted', invoice
    assert is_valid_ksef_number(invoice['ksef_number'])
    held, = [i for i in ksef.invoices()
        if i['invoiceNumber'] == invoice['number']]
    assert held['ksefNumber'] == invoice['ksef_number']
    assert held['invoiceHash'] == invoice['hash']

    page = text(as_a.get(f'invoices/{invoice_id}'))
    assert invoice['ksef_number'] in page
    pdf = _pdf_text(as_a.get(f'invoices/{invoice_id}.pdf'))
    assert invoice['ksef_number'] in pdf and 'OFFLINE' not in pdf
    xml = as_a.get(f'invoices/{invoice_id}.xml')
    assert xml.status_code == 200
    assert b'<KodWaluty>EUR</KodWaluty>' in xml.get_data()
    assert b'<P_13_1>' in xml.get_data() and b'<P_13_2>' in xml.get_data()
    upo = as_a.get(f'invoices/{invoice_id}/upo.xml').get_data()
    assert invoice['ksef_number'].encode() in upo

    correction_id = _id(as_a.post(f'invoices/{invoice_id}/correct'))
    after = [("Strona WWW", '1', '1800.00', '23'), ("Hosting", '12', '25', '8')]
    response = as_a.post(f'invoices/{correction_id}/edit',
        data=_form(data, after, reason="Rabat 10% na stronę"))
    assert _id(response) == correction_id
    correction = read_only(_ksef, correction_id)
    assert correction['status'] == 'accepted', correction
    assert is_valid_ksef_number(correction['ksef_number'])
    kor = as_a.get(f'invoices/{correction_id}.xml').get_data()
    assert b'<RodzajFaktury>KOR</RodzajFaktury>' in kor
    # The corrected invoice's KSeF number is in the correction
    assert invoice['ksef_number'].encode() in kor
    pdf = _pdf_text(as_a.get(f'invoices/{correction_id}.pdf'))
    assert correction['ksef_number'] in pdf
    assert invoice['ksef_number'] in pdf


def test_offline_while_ksef_is_down_then_sent(as_a, data, ksef):
    lines = [("Konsultacje", '2', '150.00', '23')]
    ksef.fault('unavailable')
    try:
        invoice_id = _id(as_a.post('invoices/new',
                data=_form(data, lines, currency='PLN')))
    finally:
        ksef.clear_faults()
    invoice = read_only(_ksef, invoice_id)
    assert invoice['status'] == 'offline' and invoice['offline']
    assert invoice['deadline'] > TODAY
    pdf = _pdf_text(as_a.get(f'invoices/{invoice_id}.pdf'))
    assert 'OFFLINE' in pdf
    assert not [i for i in ksef.invoices()
        if i['invoiceNumber'] == invoice['number']]

    def cron():
        Outbox = Pool().get('ksef.outbox')
        with without_check_access():
            Outbox.write(Outbox.search([('state', 'in', ['queued', 'sent'])]),
                {'next_attempt_at': None})
        Outbox.process_due()
    in_transaction(cron)
    invoice = read_only(_ksef, invoice_id)
    assert invoice['status'] == 'accepted', invoice
    held, = [i for i in ksef.invoices()
        if i['invoiceNumber'] == invoice['number']]
    assert held['invoicingMode'] == 'Offline'
    pdf = _pdf_text(as_a.get(f'invoices/{invoice_id}.pdf'))
    assert invoice['ksef_number'] in pdf


def test_received_invoice_reaches_the_clients_cost_invoices(
        as_a, as_b, data, ksef):
    from ksef_client.documents.fa3 import (
        Address, FA3Invoice, InvoiceParty, TaxCategory)
    from client_portal.demo import nip
    buyer = InvoiceParty.polish_company(nip=FIRM_NIP,
        name="Biuro Portico", address=Address.polish('ul. Długa 5',
            '31-147 Kraków'))
    buyer = dataclasses.replace(buyer, customer_number='ALFA-7')
    seller = InvoiceParty.polish_company(nip=nip('222333444'),
        name="Drukarnia Kolor sp. z o.o.",
        address=Address.polish('ul. Krótka 7', '30-002 Kraków'))
    xml = (FA3Invoice.basic('DK/2026/118').issued_on(TODAY).sale_date(TODAY)
        .seller(seller).buyer(buyer)
        .add_goods_line('Ulotki A5, 1000 szt.', quantity=1,
            unit_net_price='400.00', tax=TaxCategory.standard_23())
        .payment_due(TODAY + datetime.timedelta(days=14))
        .build().to_xml(xsd_validate=True))
    ksef.add_invoice(xml)

    def fetch():
        pool = Pool()
        Rule = pool.get('ksef.allocation.rule')
        Cursor = pool.get('ksef.inbox.cursor')
        Rule.create([{'kind': 'customer_number', 'value': 'ALFA-7',
                    'client': data.clients['a']}])
        return Cursor.fetch()
    assert in_transaction(fetch) == 1

    page = text(as_a.get('costs'))
    assert 'DK/2026/118' in page and 'From KSeF' in page
    cost_id = int(re.search(r'/costs/(\d+)">DK/2026/118',
            as_a.get('costs').get_data(as_text=True)).group(1))
    page = text(as_a.get(f'costs/{cost_id}'))
    assert 'Drukarnia Kolor' in page and '492.00' in page
    assert as_a.get(f'costs/{cost_id}.xml').get_data() == xml
    # Another client sees neither the invoice nor its XML
    assert 'DK/2026/118' not in text(as_b.get('costs'))
    assert as_b.get(f'costs/{cost_id}.xml').status_code == 404
    assert as_b.get(f'costs/{cost_id}').status_code == 404
