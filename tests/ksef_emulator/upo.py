"""UPO (urzędowe poświadczenie odbioru): KSeF's confirmation of receipt.

Version 4-3 (schemas/upo-v4-3.xsd), shaped like the official examples
(shared/facts/ksef/upo-*-kontekst-id-nip.xml), for one invoice or for a whole
session. One difference from those examples: the schema fixes
``NazwaPodmiotuPrzyjmujacego`` to "Ministerstwo Finansów", which the TEST
examples do not follow; the emulator follows the schema.
"""
from lxml import etree

from . import dates

NS = 'http://upo.schematy.mf.gov.pl/KSeF/v4-3'
RECEIVER = 'Ministerstwo Finansów'
STRUCTURE = 'Schemat_FA(3)_v1-0E.xsd'
FORM = 'FA (3)'


def _sub(parent, name, text=None):
    element = etree.SubElement(parent, f'{{{NS}}}{name}')
    if text is not None:
        element.text = str(text)
    return element


def _head(session_reference, authentication):
    root = etree.Element(f'{{{NS}}}Potwierdzenie', nsmap={None: NS})
    _sub(root, 'NazwaPodmiotuPrzyjmujacego', RECEIVER)
    _sub(root, 'NumerReferencyjnySesji', session_reference)
    proof = _sub(root, 'Uwierzytelnienie')
    _sub(_sub(proof, 'IdKontekstu'), 'Nip', authentication['contextNip'])
    if authentication.get('tokenReference'):
        _sub(proof, 'NumerReferencyjnyTokenaKSeF',
            authentication['tokenReference'])
    else:
        _sub(proof, 'SkrotDokumentuUwierzytelniajacego',
            authentication['documentHash'])
    return root


def _tail(root, invoices):
    _sub(root, 'NazwaStrukturyLogicznej', STRUCTURE)
    _sub(root, 'KodFormularza', FORM)
    for invoice in invoices:
        document = _sub(root, 'Dokument')
        _sub(document, 'NipSprzedawcy', invoice['meta']['seller']['nip'])
        _sub(document, 'NumerKSeFDokumentu', invoice['ksefNumber'])
        _sub(document, 'NumerFaktury', invoice['meta']['invoiceNumber'])
        _sub(document, 'DataWystawieniaFaktury',
            invoice['meta']['issueDate'])
        _sub(document, 'DataPrzeslaniaDokumentu',
            dates.upo(dates.parse(invoice['invoicingDate'])))
        _sub(document, 'DataNadaniaNumeruKSeF',
            dates.upo(dates.parse(invoice['acquisitionDate'])))
        _sub(document, 'SkrotDokumentu', invoice['invoiceHash'])
        _sub(document, 'TrybWysylki', invoice['invoicingMode'])


def _bytes(root):
    return etree.tostring(root, xml_declaration=True, encoding='utf-8')


def for_invoice(session_reference, authentication, invoice):
    root = _head(session_reference, authentication)
    _tail(root, [invoice])
    return _bytes(root)


def for_session(session_reference, authentication, invoices):
    """The session's UPO: its accepted invoices. A session holds at most
    10 000 invoices, what one page of UPO holds, so there is one page."""
    root = _head(session_reference, authentication)
    description = _sub(root, 'OpisPotwierdzenia')
    _sub(description, 'Strona', 1)
    _sub(description, 'LiczbaStron', 1)
    _sub(description, 'ZakresDokumentowOd', 1)
    _sub(description, 'ZakresDokumentowDo', len(invoices))
    _sub(description, 'CalkowitaLiczbaDokumentow', len(invoices))
    _tail(root, invoices)
    return _bytes(root)
