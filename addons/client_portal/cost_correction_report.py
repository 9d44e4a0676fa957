"""The PDF of a cost invoice's correction: a correction request to the
supplier, or a nota korygująca with the content VAT art. 106k ust. 3
required until 31 January 2026 (facts/POLAND.md §2.2).

The document is in the correction's language, Polish or English, whatever
the user's: its wording is legal text kept here in both languages (not in
the translation catalogues), and report/cost_correction.html only lays it
out."""
from collections import namedtuple

from trytond.pool import Pool

from . import formatting
from .cost_correction import firm_contact
from .pdf import HTMLReport

WORDS = {
    'pl': {
        'title_request': "Wezwanie do korekty faktury",
        'title_note': "NOTA KORYGUJĄCA",
        'subtitle_note': "",
        'number': "Nr",
        'date': "Data wystawienia",
        'basis_note': (
            "Nota korygująca wystawiona przez nabywcę na podstawie "
            "art. 106k ustawy z dnia 11 marca 2004 r. o podatku od towarów "
            "i usług, w brzmieniu obowiązującym do 31 stycznia 2026 r., "
            "do faktury wystawionej przed 1 lutego 2026 r."),
        'from_request': "Nabywca (wzywający)",
        'to_request': "Sprzedawca (wystawca faktury)",
        'from_note': "Wystawca noty (nabywca)",
        'to_note': "Odbiorca noty (sprzedawca, wystawca faktury)",
        'nip': "NIP",
        'vat_number': "Nr VAT",
        'invoice': "Korygowana faktura",
        'invoice_number': "Numer faktury",
        'invoice_date': "Data wystawienia faktury",
        'sale_date': "Data sprzedaży",
        'same_date': "jak data wystawienia",
        'ksef_number': "Numer KSeF faktury",
        'client': "Dotyczy kosztów klienta",
        'items': "Błędne dane i dane prawidłowe",
        'position': "Lp.",
        'field': "Dane",
        'wrong': "Treść korygowana (błędna)",
        'correct': "Treść prawidłowa",
        'message': "Uwagi",
        'request_text': (
            "Prosimy o wystawienie faktury korygującej (art. 106j ustawy o "
            "VAT) z powyższymi danymi prawidłowymi i przesłanie jej do "
            "Krajowego Systemu e-Faktur lub na adres e-mail podany "
            "poniżej."),
        'request_law': (
            "Od 1 lutego 2026 r. nabywca nie może wystawić noty "
            "korygującej (art. 106k ustawy o VAT został uchylony): błędy "
            "faktury koryguje wyłącznie jej wystawca fakturą korygującą."),
        'note_text': (
            "Prosimy o akceptację noty przez wystawcę faktury (art. 106k "
            "ust. 2 ustawy o VAT): podpisanie i odesłanie jej kopii lub "
            "potwierdzenie e-mailem."),
        'signature_issuer': "Podpis osoby upoważnionej do wystawienia noty",
        'signature_acceptance': (
            "Akceptacja wystawcy faktury (data i podpis)"),
        'contact': "Kontakt",
        'phone': "tel.",
        },
    'en': {
        'title_request': "Request for a corrective invoice",
        'title_note': "NOTA KORYGUJĄCA",
        'subtitle_note': "Correction note",
        'number': "No.",
        'date': "Date of issue",
        'basis_note': (
            "Correction note issued by the buyer under art. 106k of the "
            "Polish VAT Act of 11 March 2004, as in force until 31 January "
            "2026, for an invoice issued before 1 February 2026."),
        'from_request': "Buyer (requesting party)",
        'to_request': "Seller (issuer of the invoice)",
        'from_note': "Issuer of the note (buyer)",
        'to_note': "Recipient of the note (seller, issuer of the invoice)",
        'nip': "NIP",
        'vat_number': "VAT number",
        'invoice': "Invoice corrected",
        'invoice_number': "Invoice number",
        'invoice_date': "Invoice issue date",
        'sale_date': "Date of sale",
        'same_date': "same as the issue date",
        'ksef_number': "KSeF number of the invoice",
        'client': "Concerns the costs of client",
        'items': "Wrong data and the correct data",
        'position': "No.",
        'field': "Datum",
        'wrong': "Wrong content (as on the invoice)",
        'correct': "Correct content",
        'message': "Remarks",
        'request_text': (
            "Please issue a corrective invoice (art. 106j of the Polish VAT "
            "Act) with the correct data above and send it through the "
            "National e-Invoice System (KSeF) or to the e-mail address "
            "below."),
        'request_law': (
            "Since 1 February 2026 the buyer can no longer issue a "
            "correction note (art. 106k of the VAT Act was repealed): only "
            "the issuer of an invoice can correct it, with a corrective "
            "invoice."),
        'note_text': (
            "Please accept this note as the issuer of the invoice "
            "(art. 106k(2) of the VAT Act): sign and return a copy, or "
            "confirm by e-mail."),
        'signature_issuer': (
            "Signature of the person authorised to issue the note"),
        'signature_acceptance': (
            "Accepted by the issuer of the invoice (date and signature)"),
        'contact': "Contact",
        'phone': "phone",
        },
    }

Party = namedtuple('Party', ['role', 'name', 'address', 'tax_label',
        'tax_number'])
Item = namedtuple('Item', ['position', 'field', 'wrong', 'correct'])
Document = namedtuple('Document', ['words', 'title', 'subtitle', 'number',
        'date', 'basis', 'buyer', 'seller', 'invoice_number', 'invoice_date',
        'sale_date', 'ksef_number', 'client', 'items', 'message', 'closing',
        'signatures', 'contact'])


def words(language):
    return WORDS.get(language) or WORDS['pl']


def _address(party):
    address = party.address_get() if party else None
    return address.full_address.splitlines() if address else []


def _party(role, party, words, identifier=None, code=None):
    "A party's block: its name, address and tax number as the law asks"
    if code is None and identifier is not None:
        code = identifier.code
    polish = identifier is None or identifier.type == 'pl_vat'
    return Party(role, party.name, _address(party),
        words['nip'] if polish else words['vat_number'], code or '')


def _client(client, words):
    identifier = client.tax_identifier
    if identifier:
        return f'{client.name} ({words["nip"]} {identifier.code})'
    return client.name


def document(record):
    """Everything the PDF shows of the correction, in its language: the
    firm is the invoice's buyer, the supplier its seller"""
    Company = Pool().get('company.company')
    w = words(record.language)
    cost = record.cost_invoice
    note = record.kind == 'note'
    firm = record.company.party
    supplier = cost.supplier
    sale_date = (formatting.date(cost.sale_date)
        if cost.sale_date and cost.sale_date != cost.invoice_date
        else w['same_date'])
    branding = Company.portal_branding(record.language)
    return Document(
        words=w,
        title=w['title_note'] if note else w['title_request'],
        subtitle=w['subtitle_note'] if note else '',
        number=record.number or '',
        date=formatting.date(record.date),
        basis=w['basis_note'] if note else '',
        buyer=_party(w['from_note' if note else 'from_request'], firm, w,
            identifier=firm.tax_identifier),
        seller=_party(w['to_note' if note else 'to_request'], supplier, w,
            identifier=supplier.tax_identifier,
            code=cost.supplier_tax_number),
        invoice_number=cost.number,
        invoice_date=formatting.date(cost.invoice_date),
        sale_date=sale_date,
        # Once the KSeF inbox fills it on received invoices
        ksef_number=getattr(cost, 'ksef_number', None) or '',
        client=_client(cost.client, w),
        items=[Item(i, item.field, item.wrong, item.correct)
            for i, item in enumerate(record.items, 1)],
        message=record.message or '',
        closing=([w['note_text']] if note
            else [w['request_text'], w['request_law']]),
        signatures=([w['signature_issuer'], w['signature_acceptance']]
            if note else []),
        contact=firm_contact(record.company, branding))


class CostCorrectionReport(HTMLReport):
    "Correction request or nota korygująca of a cost invoice, as PDF"
    __name__ = 'portal.cost.correction.pdf'
    document = staticmethod(document)
