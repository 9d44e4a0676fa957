"""The emulator's "Ministry of Finance" key pair.

KSeF publishes public-key certificates (GET /security/public-key-certificates)
that clients use to encrypt the KSeF token (``token|timestampMs``) and the
AES-256 session key, both with RSA-OAEP/SHA-256. The emulator makes one
self-signed RSA certificate for both usages. It is kept in the data directory
when there is one, so that the key id stays the same across restarts; without
one, a process-wide key saves the 2048-bit key generation per emulator.
"""
import base64
import datetime as dt
import hashlib
import os
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from . import dates

OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()),
    algorithm=hashes.SHA256(), label=None)
USAGES = ['KsefTokenEncryption', 'SymmetricKeyEncryption']

_shared = None
_shared_lock = threading.Lock()


class KeyPair:

    def __init__(self, private_key, certificate):
        self.private_key = private_key
        self.certificate = certificate
        der = certificate.public_bytes(serialization.Encoding.DER)
        spki = certificate.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.certificate_b64 = base64.b64encode(der).decode('ascii')
        # 44 characters, as publicKeyId in the requests must be
        self.public_key_id = base64.b64encode(
            hashlib.sha256(spki).digest()).decode('ascii')
        self.certificate_id = base64.b64encode(
            hashlib.sha256(der).digest()).decode('ascii')

    @classmethod
    def generate(cls):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([
                x509.NameAttribute(NameOID.COUNTRY_NAME, 'PL'),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                    'KSeF emulator (Portico tests)'),
                x509.NameAttribute(NameOID.COMMON_NAME, 'KSeF emulator'),
                ])
        start = dates.now() - dt.timedelta(days=1)
        certificate = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=3 * 365))
            .sign(key, hashes.SHA256()))
        return cls(key, certificate)

    @classmethod
    def shared(cls):
        global _shared
        with _shared_lock:
            if _shared is None:
                _shared = cls.generate()
            return _shared

    @classmethod
    def in_directory(cls, directory):
        "The pair kept in `directory` (key.pem, certificate.pem), made once"
        key_path = os.path.join(directory, 'key.pem')
        cert_path = os.path.join(directory, 'certificate.pem')
        if os.path.exists(key_path) and os.path.exists(cert_path):
            with open(key_path, 'rb') as f:
                key = serialization.load_pem_private_key(f.read(), None)
            with open(cert_path, 'rb') as f:
                certificate = x509.load_pem_x509_certificate(f.read())
            return cls(key, certificate)
        pair = cls.generate()
        os.makedirs(directory, exist_ok=True)
        with open(key_path, 'wb') as f:
            f.write(pair.private_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()))
        with open(cert_path, 'wb') as f:
            f.write(pair.certificate.public_bytes(serialization.Encoding.PEM))
        return pair

    def decrypt(self, data):
        "RSA-OAEP/SHA-256; raises ValueError when it is not ours"
        return self.private_key.decrypt(data, OAEP)

    def public_key_certificates(self):
        "The body of GET /security/public-key-certificates"
        return [{
                'certificate': self.certificate_b64,
                'certificateId': self.certificate_id,
                'publicKeyId': self.public_key_id,
                'validFrom': dates.api(
                    self.certificate.not_valid_before_utc),
                'validTo': dates.api(self.certificate.not_valid_after_utc),
                'usage': list(USAGES),
                }]
