"""The PDF of a contract in its language: title, number, date, the parties,
the text rendered from the template and the signatures. The words are
here in both languages; report/contract.html only lays them out."""
from collections import namedtuple

from client_portal.formatting import date as format_date
from client_portal.pdf import HTMLReport

from trytond.pool import Pool

WORDS = {
    'pl': {
        'title': {
            'mandate': "UMOWA ZLECENIE",
            'work': "UMOWA O DZIEŁO",
            'other': "UMOWA",
            },
        'roles': {
            'mandate': ("Zleceniodawca", "Zleceniobiorca"),
            'work': ("Zamawiający", "Wykonawca"),
            'other': ("Zamawiający", "Wykonawca"),
            },
        'number': "Nr",
        'draft': "PROJEKT",
        'date': "Data zawarcia",
        'version': "Aneks — wersja {version}, zastępuje wersję {previous}",
        'nip': "NIP",
        'pesel': "PESEL",
        'passport': "Paszport",
        'signature': "Podpis",
        },
    'en': {
        'title': {
            'mandate': "MANDATE CONTRACT (umowa zlecenie)",
            'work': "CONTRACT FOR SPECIFIC WORK (umowa o dzieło)",
            'other': "CONTRACT",
            },
        'roles': {
            'mandate': ("Principal", "Contractor"),
            'work': ("Ordering Party", "Contractor"),
            'other': ("Ordering Party", "Contractor"),
            },
        'number': "No.",
        'draft': "DRAFT",
        'date': "Date of conclusion",
        'version': "Amendment — version {version}, replaces version "
        "{previous}",
        'nip': "NIP",
        'pesel': "PESEL",
        'passport': "Passport",
        'signature': "Signature",
        },
    }

Party = namedtuple('Party', ['role', 'name', 'address', 'identifier'])
Document = namedtuple('Document', ['words', 'title', 'number', 'date',
        'version', 'parties', 'text'])


def document(contract):
    "Everything the PDF shows of the contract, in the contract's language"
    language = contract.language or 'pl'
    w = WORDS.get(language, WORDS['pl'])
    kind = contract.kind or (
        contract.template.kind if contract.template else 'other')
    client, person = contract.client, contract.contractor
    roles = w['roles'].get(kind, w['roles']['other'])
    address = client.address_get()
    tax = client.tax_identifier
    if person.pesel:
        identifier = f"{w['pesel']}: {person.pesel}"
    elif person.passport:
        identifier = f"{w['passport']}: {person.passport}"
    else:
        identifier = ''
    parties = [
        Party(roles[0], client.name,
            address.full_address.splitlines() if address else [],
            f"{w['nip']}: {tax.code}" if tax else ''),
        Party(roles[1], person.name, person.address_lines, identifier),
        ]
    version = ''
    if contract.version and contract.version > 1:
        version = w['version'].format(version=contract.version,
            previous=contract.version - 1)
    text = contract.text or contract.render_text()
    return Document(
        words=w,
        title=w['title'].get(kind, w['title']['other']),
        number=contract.number or w['draft'],
        date=format_date(contract.date or Pool().get('ir.date').today()),
        version=version,
        parties=parties,
        text=text.split('\n\n'))


class ContractReport(HTMLReport):
    "A contract as PDF"
    __name__ = 'payroll.contract.pdf'
    document = staticmethod(document)
