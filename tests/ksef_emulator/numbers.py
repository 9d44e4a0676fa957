"""The identifiers KSeF hands out: KSeF numbers, reference numbers and
challenges.

KSeF number (facts POLAND.md §3.4): ``NIP-YYYYMMDD-FFFFFFFFFFFF-CC``, 35
characters, where the date is the day KSeF accepted the invoice, the twelve
hex characters are technical and ``CC`` is a CRC-8 (polynomial 0x07,
initial value 0x00, uppercase hex) over the first 32 characters, hyphens
included.

Reference numbers (sessions ``SO``, invoices ``EE``, authentication ``AU``,
UPO ``EU``, challenges ``CR``) have the 36-character shape of the OpenAPI
examples and of the UPO schema's ``TNumerReferencyjny``:
``YYYYMMDD-XX-HHHHHHHHHH-HHHHHHHHHH-CC``. Their last two characters are not
documented; a CRC-8 like the KSeF number's keeps them well-formed.
"""
import re
import secrets

KSEF_NUMBER = re.compile(
    r'^([1-9](\d[1-9]|[1-9]\d)\d{7})-(20[2-9][0-9]|2[1-9]\d{2}|[3-9]\d{3})'
    r'(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])-([0-9A-F]{6})-?([0-9A-F]{6})'
    r'-([0-9A-F]{2})$')
REFERENCE_NUMBER = re.compile(
    r'^\d{8}-[0-9A-Z]{2}-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$')


def crc8(data):
    "CRC-8, polynomial 0x07, initial value 0x00, no reflection, no final XOR"
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            carry = crc & 0x80
            crc = (crc << 1) & 0xFF
            if carry:
                crc ^= 0x07
    return crc


def checksum(text):
    return f'{crc8(text.encode("ascii")):02X}'


def ksef_number(nip, day, technical=None):
    "The KSeF number of an invoice of seller `nip` accepted on `day`"
    technical = technical or secrets.token_hex(6).upper()
    body = f'{nip}-{day:%Y%m%d}-{technical}'
    return f'{body}-{checksum(body)}'


def is_valid_ksef_number(value):
    "Format and checksum; the 36-character form of KSeF 1.0 too"
    if not isinstance(value, str) or not KSEF_NUMBER.match(value):
        return False
    parts = value.split('-')
    if len(parts) == 5:     # the optional hyphen inside the technical part
        value = '-'.join([parts[0], parts[1], parts[2] + parts[3], parts[4]])
    return len(value) == 35 and checksum(value[:32]) == value[33:]


def reference_number(kind, when):
    "A fresh reference number of kind `kind` (two letters) dated `when`"
    body = (f'{when:%Y%m%d}-{kind}-{secrets.token_hex(5).upper()}'
        f'-{secrets.token_hex(5).upper()}')
    return f'{body}-{checksum(body)}'


def is_reference_number(value):
    return isinstance(value, str) and bool(REFERENCE_NUMBER.match(value))
