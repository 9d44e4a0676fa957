"""The page behind an invoice's QR code (KOD I), for the demo.

KOD I is ``{qr host}/invoice/{seller NIP}/{P_1 as DD-MM-YYYY}/{SHA-256 of the
XML, Base64URL}`` (facts POLAND.md §3.6). With ``base_qr_url`` set to the
emulator's base URL, the link on a demo PDF opens this page: the invoice
KSeF holds with that seller, date and hash, or a "not found" page, as the
Ministry's verification site does (``?format=xml`` gives the XML).
"""
import base64
import binascii
import datetime as dt
import html

from werkzeug.wrappers import Response

PAGE = '''<!DOCTYPE html>
<html lang="pl"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>Emulator KSeF (środowisko testowe Portico).</p>
{body}</body></html>
'''


def _hash_b64(value):
    try:
        digest = base64.urlsafe_b64decode(value + '=' * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(digest).decode('ascii') if len(digest) == 32 \
        else None


def invoice_page(app, request, nip, day, digest):
    invoice = None
    invoice_hash = _hash_b64(digest)
    try:
        issued = dt.datetime.strptime(day, '%d-%m-%Y').date().isoformat()
    except ValueError:
        issued = None
    if invoice_hash and issued:
        with app.store.lock:
            invoice = next((i for i in app.store.invoices.values()
                    if i['invoiceHash'] == invoice_hash
                    and i['meta']['seller']['nip'] == nip
                    and i['meta']['issueDate'] == issued), None)
    if invoice is None:
        return Response(PAGE.format(title='Faktura nie została znaleziona',
                body='<p>KSeF nie ma faktury o tych danych.</p>'),
            status=404, mimetype='text/html')
    if request.args.get('format') == 'xml':
        return Response(invoice['xml'].encode('utf-8'),
            mimetype='application/xml')
    meta = invoice['meta']
    rows = [
        ('Numer KSeF', invoice['ksefNumber']),
        ('Numer faktury', meta['invoiceNumber']),
        ('Data wystawienia', meta['issueDate']),
        ('Sprzedawca', f'{meta["seller"]["name"]} (NIP {nip})'),
        ('Nabywca', meta['buyer'].get('name') or ''),
        ('Kwota brutto', f'{meta["grossAmount"]:.2f} {meta["currency"]}'),
        ('Data nadania numeru KSeF', invoice['acquisitionDate']),
        ('Tryb', invoice['invoicingMode']),
        ]
    table = ''.join(f'<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}'
        '</td></tr>' for k, v in rows)
    return Response(PAGE.format(title='Faktura jest w KSeF',
            body=f'<table>{table}</table><p><a href="?format=xml">XML '
            'faktury</a></p>'), mimetype='text/html')
