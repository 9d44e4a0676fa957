"""Validation against the FA(3) XSD that ksef-client ships.

ksef-client's validate_fa3_xml_xsd parses the four schema files on every
call (tens of milliseconds) and reports only the message; here the schema is
parsed once per process and the error names the element path at fault. The
resolver serves only the bundled files: validating never reaches the
network."""
import threading
from importlib import resources
from pathlib import PurePosixPath

from lxml import etree

SCHEMA_PACKAGE = 'ksef_client.documents.fa3.schemas'
SCHEMA_FILE = 'schemat_FA(3)_v1-0E.xsd'
BUNDLED = {SCHEMA_FILE, 'StrukturyDanych_v10-0E.xsd',
    'ElementarneTypyDanych_v10-0E.xsd', 'KodyKrajow_v10-0E.xsd'}
NAMESPACE = 'http://crd.gov.pl/wzor/2025/06/25/13775/'

_lock = threading.Lock()
_schema = None


class XSDError(ValueError):
    "A document the FA(3) XSD refuses: the element's path and why"

    def __init__(self, path, message):
        super().__init__(f'{path}: {message}')
        self.path = path
        self.message = message


class _Resolver(etree.Resolver):
    def resolve(self, url, public_id, context):
        name = PurePosixPath(url).name
        if name not in BUNDLED:
            raise XSDError(url, "not one of the bundled FA(3) schema files")
        return self.resolve_filename(str(schema_path(name)), context)


def schema_path(name=SCHEMA_FILE):
    "The path of a schema file inside the installed ksef-client"
    return resources.files(SCHEMA_PACKAGE) / name


def _get_schema():
    global _schema
    if _schema is None:
        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(_Resolver())
        document = etree.parse(str(schema_path()), parser)
        _schema = etree.XMLSchema(document)
    return _schema


def element_path(element):
    "Faktura/Fa/FaWiersz[2]/P_7: local names, positions among namesakes"
    parts = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is not None:
            namesakes = [e for e in parent if e.tag == element.tag]
            if len(namesakes) > 1:
                name += f'[{namesakes.index(element) + 1}]'
        parts.append(name)
        element = parent
    return '/'.join(reversed(parts))


def _error_path(document, error):
    # lxml writes the path with * for elements of a default namespace
    try:
        elements = document.getroottree().xpath(error.path or '/*')
    except etree.XPathError:
        elements = []
    return element_path(elements[0]) if elements else 'Faktura'


def validate(xml):
    """Raise XSDError when the FA(3) XSD refuses the document (bytes): the
    first error, with the path of the element at fault"""
    try:
        document = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        raise XSDError('Faktura', str(error)) from error
    with _lock:
        # lxml's schema keeps its error log on itself: one validation at a
        # time per process
        schema = _get_schema()
        if schema.validate(document):
            return
        error = schema.error_log.filter_from_errors()[0]
    message = error.message.replace('{%s}' % NAMESPACE, '')
    raise XSDError(_error_path(document, error), message)
