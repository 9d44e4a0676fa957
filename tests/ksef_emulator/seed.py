"""Invoices KSeF holds for the firm from the start.

Without a seed directory: four invoices addressed to the firm's NIP (buyer),
built with ksef-client's FA(3) builder, from three suppliers, accepted in the
last days: one in PLN with two rates and the buyer's customer number, one
with a recipient (Podmiot3) and a DodatkowyOpis key, one in EUR with the NBP
rate, and a correction (KOR) of the first. They carry what the inbox's
allocation rules look at (NrKlienta, IDNabywcy, DodatkowyOpis, Podmiot3).

With a directory: every ``*.xml`` in it, in name order, one hour apart up to
now. The suppliers' NIPs are made up (valid checksums).
"""
import dataclasses
import datetime as dt
import glob
import os

from ksef_client.documents.fa3 import Address, FA3Invoice, InvoiceLine, \
    InvoiceParty, TaxCategory, ThirdPartyRole

from . import dates, invoices

FIRM_NAME = 'Biuro Rachunkowe Portico Sp. z o.o.'
BAJT = InvoiceParty.polish_company(nip='2223334443',
    name='Serwis Komputerowy Bajt Sp. z o.o.',
    address=Address.polish('ul. Krótka 7', '30-002 Kraków'))
PAPIERNIK = InvoiceParty.polish_company(nip='3334445554',
    name='Papiernik Hurt S.A.',
    address=Address.polish('ul. Papiernicza 12', '90-001 Łódź'))
LINGUA = InvoiceParty.polish_company(nip='4445556665',
    name='Lingua Tłumaczenia Sp. z o.o.',
    address=Address.polish('al. Jerozolimskie 100', '00-807 Warszawa'))


def _firm(nip, **fields):
    party = InvoiceParty.polish_company(nip=nip, name=FIRM_NAME,
        address=Address.polish('ul. Długa 5', '31-147 Kraków'))
    return dataclasses.replace(party, **fields)


def default_invoices(nip, today):
    "[(xml, accepted at)] of the default seed for the firm `nip`"
    def day(days_ago):
        return today - dt.timedelta(days=days_ago)

    def at(days_ago, hour):
        return dates.start_of_day(day(days_ago)) + dt.timedelta(hours=hour)
    number = f'{day(5):%Y/%m}'

    service = (FA3Invoice.basic(f'FV/{number}/0412')
        .issued_on(day(5)).sale_date(day(5)).issue_place('Kraków')
        .seller(BAJT).buyer(_firm(nip, customer_number='K-0042'))
        .add_service_line('Abonament serwisowy IT', quantity=1,
            unit_net_price='800.00', tax=TaxCategory.standard_23())
        .add_goods_line('Podręcznik "Rachunkowość 2026"', quantity=2,
            unit_net_price='89.00', tax=TaxCategory.reduced_5())
        .payment_due(day(5) + dt.timedelta(days=14))
        .bank_account('12105000997603123456789123')
        .build())
    service_xml = service.to_xml(xsd_validate=True)

    supplies = (FA3Invoice.basic(f'FV/P/{number}/77')
        .issued_on(day(3)).sale_date(day(3))
        .seller(PAPIERNIK).buyer(_firm(nip))
        .add_party(InvoiceParty.without_tax_id(
                name='Kawiarnia Pod Arkadami (klient inkubatora)'),
            ThirdPartyRole.RECIPIENT)
        .add_goods_line('Papier A4 80 g, karton 5 ryz', quantity=4,
            unit_net_price='95.50', tax=TaxCategory.standard_23())
        .additional_description('Klient', 'Kawiarnia Pod Arkadami')
        .payment_due(day(3) + dt.timedelta(days=7))
        .build())

    translation = (FA3Invoice.basic(f'LT/{number}/9')
        .issued_on(day(2)).sale_date(day(2)).currency('EUR')
        .seller(LINGUA).buyer(_firm(nip, buyer_id='PORTICO-EXPORT-7'))
        .add_service_line('Tłumaczenie umowy PL-EN', quantity=12,
            unit_net_price='25.00', unit='str', tax=TaxCategory.standard_23())
        .add_service_line('Tłumaczenie przysięgłe', quantity=3,
            unit_net_price='40.00', unit='str', tax=TaxCategory.standard_23())
        .foreign_currency_rate('4.2512')
        .payment_due(day(2) + dt.timedelta(days=14))
        .build())

    seeded = [(service_xml, at(5, 10)),
        (supplies.to_xml(xsd_validate=True), at(3, 11)),
        (translation.to_xml(xsd_validate=True), at(2, 9))]
    return seeded, service


def correction_of(service, service_ksef_number, today):
    "The KOR of the first seed invoice (it needs that invoice's KSeF number)"
    issued = today - dt.timedelta(days=1)
    before = service.lines[0]
    correction = (FA3Invoice.correction(f'KOR/{issued:%Y/%m}/0019')
        .issued_on(issued).seller(service.seller).buyer(service.buyer)
        .corrects_invoice(number=service.invoice_number,
            issue_date=service.issue_date,
            reason='Rabat posprzedażowy 10%',
            ksef_number=service_ksef_number)
        .add_corrected_line_before_after(
            before=InvoiceLine.service(before.description,
                quantity=before.quantity,
                unit_net_price=before.unit_net_price, tax=before.tax),
            after=InvoiceLine.service(before.description,
                quantity=before.quantity, unit_net_price='720.00',
                tax=before.tax))
        .build())
    return correction.to_xml(xsd_validate=True)


def load(app, directory=None):
    "Put the seed invoices in the emulator; their stored records"
    now = dates.now()
    if directory:
        paths = sorted(glob.glob(os.path.join(directory, '*.xml')))
        received = []
        for index, path in enumerate(paths):
            with open(path, 'rb') as f:
                xml = f.read()
            acquired = now - dt.timedelta(hours=len(paths) - index)
            received.append(invoices.receive(app, xml, acquired=acquired,
                    source='seed'))
        return received
    today = dates.local_day(now)
    seeded, service = default_invoices(app.nip, today)
    received = [invoices.receive(app, xml, acquired=acquired, source='seed')
        for xml, acquired in seeded]
    kor = correction_of(service, received[0]['ksefNumber'], today)
    acquired = min(dates.start_of_day(today - dt.timedelta(days=1))
        + dt.timedelta(hours=15), now - dt.timedelta(minutes=1))
    received.append(invoices.receive(app, kor, acquired=acquired,
            source='seed'))
    return received
