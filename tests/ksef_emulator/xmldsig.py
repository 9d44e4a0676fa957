"""Verifying the enveloped XML signature of a XAdES AuthTokenRequest.

Plain lxml canonicalisation and `cryptography`, not python-xmlsec: xmlsec's
wheel carries its own copy of libxml2, and handing it lxml's trees inside a
server thread crashed the interpreter (seen under ``python -X dev``). What is
covered is what signers of KSeF requests use (ksef-client's
``sign_xades_enveloped`` among them): references to the whole document
(enveloped-signature transform) and to elements by ``Id``, C14N 1.0 or
exclusive C14N, SHA-1/256/384/512 digests, RSA PKCS#1 v1.5 and ECDSA
signatures with the key of the X.509 certificate in KeyInfo.
"""
import base64
import copy
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    encode_dss_signature
from lxml import etree

DS = 'http://www.w3.org/2000/09/xmldsig#'
N = {'ds': DS}
ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'
C14N = {
    'http://www.w3.org/TR/2001/REC-xml-c14n-20010315': (False, False),
    'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments':
        (False, True),
    'http://www.w3.org/2001/10/xml-exc-c14n#': (True, False),
    'http://www.w3.org/2001/10/xml-exc-c14n#WithComments': (True, True),
    }
DIGESTS = {
    'http://www.w3.org/2000/09/xmldsig#sha1': hashlib.sha1,
    'http://www.w3.org/2001/04/xmlenc#sha256': hashlib.sha256,
    'http://www.w3.org/2001/04/xmldsig-more#sha384': hashlib.sha384,
    'http://www.w3.org/2001/04/xmlenc#sha512': hashlib.sha512,
    }
SIGNATURES = {
    'http://www.w3.org/2000/09/xmldsig#rsa-sha1': ('rsa', hashes.SHA1),
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': ('rsa',
        hashes.SHA256),
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': ('rsa',
        hashes.SHA384),
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': ('rsa',
        hashes.SHA512),
    'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': ('ec',
        hashes.SHA256),
    'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': ('ec',
        hashes.SHA384),
    'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': ('ec',
        hashes.SHA512),
    }


class InvalidXmlSignature(ValueError):
    pass


def _canonical(element, algorithm):
    try:
        exclusive, comments = C14N[algorithm]
    except KeyError:
        raise InvalidXmlSignature(f'unsupported canonicalisation {algorithm}')
    return etree.tostring(element, method='c14n', exclusive=exclusive,
        with_comments=comments)


def _referenced(root, uri):
    "What a Reference points at: a copy of the document, or an element"
    if uri == '':
        return copy.deepcopy(root)
    if not uri.startswith('#'):
        raise InvalidXmlSignature(f'unsupported reference {uri!r}')
    name = uri[1:]
    for element in root.iter():
        if name in (element.get('Id'), element.get('ID'), element.get('id')):
            return element
    raise InvalidXmlSignature(f'nothing has the id {name!r}')


def _digest(root, signature, reference):
    uri = reference.get('URI', '')
    target = _referenced(root, uri)
    algorithm = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
    for transform in reference.findall('ds:Transforms/ds:Transform', N):
        name = transform.get('Algorithm')
        if name == ENVELOPED:
            # `target` is a copy of the document: drop this signature's copy
            for inner in target.iter(f'{{{DS}}}Signature'):
                if inner.get('Id') == signature.get('Id'):
                    inner.getparent().remove(inner)
                    break
        elif name in C14N:
            algorithm = name
        else:
            raise InvalidXmlSignature(f'unsupported transform {name}')
    method = reference.find('ds:DigestMethod', N).get('Algorithm')
    if method not in DIGESTS:
        raise InvalidXmlSignature(f'unsupported digest {method}')
    return base64.b64encode(
        DIGESTS[method](_canonical(target, algorithm)).digest()).decode()


def verify(root, certificate):
    """Check every reference's digest and the signature of SignedInfo with
    the certificate's key; InvalidXmlSignature when anything does not hold"""
    signature = root.find('ds:Signature', N)
    if signature is None:
        raise InvalidXmlSignature('no signature')
    signed_info = signature.find('ds:SignedInfo', N)
    references = signed_info.findall('ds:Reference', N) \
        if signed_info is not None else []
    if not references:
        raise InvalidXmlSignature('nothing is signed')
    if not any(r.get('URI', '') == '' for r in references):
        raise InvalidXmlSignature('the document itself is not signed')
    for reference in references:
        expected = ''.join(
            (reference.findtext('ds:DigestValue', namespaces=N) or '').split())
        if _digest(root, signature, reference) != expected:
            raise InvalidXmlSignature(
                f'digest of {reference.get("URI")!r} does not match')

    canonical = _canonical(signed_info, signed_info.find(
            'ds:CanonicalizationMethod', N).get('Algorithm'))
    method = signed_info.find('ds:SignatureMethod', N).get('Algorithm')
    if method not in SIGNATURES:
        raise InvalidXmlSignature(f'unsupported signature method {method}')
    kind, digest = SIGNATURES[method]
    value = base64.b64decode(''.join(
            (signature.findtext('ds:SignatureValue', namespaces=N) or '')
            .split()))
    key = certificate.public_key()
    try:
        if kind == 'rsa' and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, canonical, padding.PKCS1v15(), digest())
        elif kind == 'ec' and isinstance(key, ec.EllipticCurvePublicKey):
            # XML-DSig writes ECDSA signatures as r || s
            half = len(value) // 2
            key.verify(encode_dss_signature(
                    int.from_bytes(value[:half], 'big'),
                    int.from_bytes(value[half:], 'big')),
                canonical, ec.ECDSA(digest()))
        else:
            raise InvalidXmlSignature('the key does not fit the method')
    except InvalidSignature:
        raise InvalidXmlSignature('the signature does not verify')
