"""What KSeF checks in, and reads from, an FA(3) invoice.

Checks (CIRFMF/ksef-docs faktury/weryfikacja-faktury.md): UTF-8 without BOM,
no other encoding declared, no processing instructions, well-formed XML, valid
against the FA(3) schema that ``ksef-client`` ships. The metadata are what the
metadata query returns (open-api.json ``InvoiceMetadata``) plus the duplicate
key (seller NIP, ``RodzajFaktury``, ``P_2``).
"""
import datetime as dt
import re
import threading
from decimal import Decimal, InvalidOperation
from importlib import resources

from lxml import etree

NS = 'http://crd.gov.pl/wzor/2025/06/25/13775/'
N = {'f': NS}
FORM_CODE = {'systemCode': 'FA (3)', 'schemaVersion': '1-0E', 'value': 'FA'}
SCHEMA_FILE = 'schemat_FA(3)_v1-0E.xsd'
# RodzajFaktury -> InvoiceType of the API
INVOICE_TYPES = {'VAT': 'Vat', 'KOR': 'Kor', 'ZAL': 'Zal', 'ROZ': 'Roz',
    'UPR': 'Upr', 'KOR_ZAL': 'KorZal', 'KOR_ROZ': 'KorRoz'}
MAX_ERRORS = 10

_schema = None
_schema_lock = threading.Lock()


class InvalidInvoice(ValueError):
    "The document is not an FA(3) invoice KSeF would take; args are details"


def schema():
    """The FA(3) XSD of ksef-client, loaded once. Its includes point at
    crd.gov.pl: every schema location resolves to the bundled file of the
    same name, and nothing to the network."""
    global _schema
    with _schema_lock:
        if _schema is None:
            package = resources.files('ksef_client.documents.fa3.schemas')

            class Bundled(etree.Resolver):
                def resolve(self, url, pubid, context):
                    name = url.rsplit('/', 1)[-1]
                    path = package / name
                    if not path.is_file():
                        raise etree.XMLSchemaParseError(
                            f'schema {url} is not bundled')
                    return self.resolve_string(path.read_bytes(), context)
            parser = etree.XMLParser(no_network=True)
            parser.resolvers.add(Bundled())
            document = etree.fromstring(
                (package / SCHEMA_FILE).read_bytes(), parser,
                base_url=SCHEMA_FILE)
            _schema = etree.XMLSchema(document)
        return _schema


def parse(xml):
    """The root of a valid FA(3) invoice given as bytes; InvalidInvoice with
    the errors otherwise"""
    if xml.startswith(b'\xef\xbb\xbf'):
        raise InvalidInvoice('Faktura nie może zaczynać się znakiem BOM.')
    declaration = re.match(rb'<\?xml[^>]*\?>', xml)
    if declaration:
        encoding = re.search(rb'encoding=["\']([^"\']+)', declaration.group())
        if encoding and encoding.group(1).lower() not in (b'utf-8', b'utf8'):
            raise InvalidInvoice(
                'Prolog XML wskazuje kodowanie inne niż UTF-8.')
    try:
        xml.decode('utf-8')
    except UnicodeDecodeError:
        raise InvalidInvoice('Faktura nie jest kodowana w UTF-8.')
    parser = etree.XMLParser(resolve_entities=False, no_network=True,
        load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as e:
        raise InvalidInvoice(f'Nieprawidłowy dokument XML: {e}')
    around = [*root.itersiblings(preceding=True), *root.itersiblings()]
    if any(isinstance(node, etree._ProcessingInstruction)
            for node in [*around, *root.iter()]):
        raise InvalidInvoice(
            'Faktura nie może zawierać instrukcji przetwarzania XML.')
    validator = schema()
    with _schema_lock:      # an lxml schema's error log is per object
        valid = validator.validate(root)
        errors = [f'Linia {e.line}: {e.message}'
            for e in list(validator.error_log)[:MAX_ERRORS]]
    if not valid:
        raise InvalidInvoice(
            'Dokument nie jest zgodny ze schemą FA(3) (xsd).', *errors)
    return root


def _text(root, path):
    value = root.findtext(path, namespaces=N)
    return value.strip() if value is not None else None


def _amount(value):
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return Decimal(0)


def _identifier(element):
    "The identifier of a Podmiot2/Podmiot3 DaneIdentyfikacyjne element"
    if element is None:
        return {'type': 'None'}
    nip = _text(element, 'f:NIP')
    if nip:
        return {'type': 'Nip', 'value': nip}
    internal = _text(element, 'f:IDWew')
    if internal:
        return {'type': 'InternalId', 'value': internal}
    eu = _text(element, 'f:NrVatUE')
    if eu:
        return {'type': 'VatUe',
            'value': f'{_text(element, "f:KodUE") or ""}{eu}'}
    other = _text(element, 'f:NrID')
    if other:
        return {'type': 'Other', 'value': other}
    return {'type': 'None'}


def metadata(root):
    """What KSeF reads from a valid invoice: the fields of InvoiceMetadata
    that come from the document, and the duplicate key"""
    fa = root.find('f:Fa', N)
    net = sum((_amount(e.text) for e in fa
            if re.fullmatch(r'P_13_\d+(_\d)?', etree.QName(e).localname)),
        Decimal(0))
    # vatAmount is "expressed in PLN": the P_14_xW of a foreign-currency
    # invoice when given
    vat_by_rate = {}
    for e in fa:
        name = etree.QName(e).localname
        match = re.fullmatch(r'P_14_(\d)(W?)', name)
        if match:
            rate, in_pln = match.groups()
            if in_pln or rate not in vat_by_rate:
                vat_by_rate[rate] = _amount(e.text)
    vat = sum(vat_by_rate.values(), Decimal(0))
    buyer = root.find('f:Podmiot2', N)
    third = []
    for party in root.findall('f:Podmiot3', N):
        role = _text(party, 'f:Rola')
        third.append({
                'identifier': _identifier(
                    party.find('f:DaneIdentyfikacyjne', N)),
                'name': _text(party, 'f:DaneIdentyfikacyjne/f:Nazwa'),
                'role': int(role) if role and role.isdigit() else 0,
                })
    authorized = root.find('f:PodmiotUpowazniony', N)
    kind = _text(fa, 'f:RodzajFaktury')
    return {
        'invoiceNumber': _text(fa, 'f:P_2'),
        'issueDate': _text(fa, 'f:P_1'),
        'seller': {
            'nip': _text(root, 'f:Podmiot1/f:DaneIdentyfikacyjne/f:NIP'),
            'name': _text(root, 'f:Podmiot1/f:DaneIdentyfikacyjne/f:Nazwa'),
            },
        'buyer': {
            'identifier': _identifier(
                buyer.find('f:DaneIdentyfikacyjne', N)),
            'name': _text(buyer, 'f:DaneIdentyfikacyjne/f:Nazwa'),
            },
        'netAmount': float(net),
        'grossAmount': float(_amount(_text(fa, 'f:P_15'))),
        'vatAmount': float(vat),
        'currency': _text(fa, 'f:KodWaluty'),
        'invoiceType': INVOICE_TYPES.get(kind, kind),
        'rodzajFaktury': kind,
        'formCode': dict(FORM_CODE),
        'isSelfInvoicing': _text(fa, 'f:Adnotacje/f:P_17') == '1',
        'hasAttachment': root.find('f:Zalacznik', N) is not None,
        'thirdSubjects': third,
        'authorizedSubject': {
            'nip': _text(authorized, 'f:DaneIdentyfikacyjne/f:NIP'),
            'name': _text(authorized, 'f:DaneIdentyfikacyjne/f:Nazwa'),
            'role': int(_text(authorized, 'f:RolaPU') or 0),
            } if authorized is not None else None,
        }


def issue_date(meta):
    return dt.date.fromisoformat(meta['issueDate'])
