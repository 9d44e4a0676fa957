"""Demo data of the clients' cost invoices: the start-up's suppliers'
invoices, addressed to the firm, registered with their scans (PDFs rendered
by WeasyPrint, photographed receipts drawn with Pillow) in every state:
a draft, one submitted, one rejected with its reason, one fixed after a
rejection and submitted again, approved ones charged to the sub-accounts
in PLN and EUR, and one the firm has paid. Everything runs inside the
caller's transaction, as root."""
import datetime
import html
import io
from contextlib import contextmanager
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from .demo import nip
from .demo_outgoing import create_contractor
from .pdf import html_to_pdf
from .scan import check_scan

SUPPLIERS = [
    # key, name, street, postal code, city, country, NIP prefix or EU VAT
    ('office', "Biuro Plus sp. z o.o.", "ul. Zachodnia 81", '90-402',
        "Łódź", 'PL', '725100123'),
    ('cowork', "Cowork Manufaktura sp. z o.o.", "ul. Ogrodowa 17",
        '91-065', "Łódź", 'PL', '727280015'),
    ('cloud', "Chmura Polska S.A.", "ul. Grzybowska 62", '00-844',
        "Warszawa", 'PL', '527270141'),
    ]
REJECTION = ("Na skanie brakuje drugiej strony faktury z pozycjami – "
    "prosimy o pełny skan.")
SECOND_REJECTION = ("Kwota na fakturze to 1 845,00 zł brutto, a w formularzu "
    "wpisano 1 500,00 zł netto przy stawce 8% – prosimy o poprawienie "
    "stawki VAT.")


def _money(amount):
    return f'{amount:,.2f}'.replace(',', ' ').replace('.', ',')


def scan_pdf(firm, supplier, number, date, lines, currency='PLN'):
    """A supplier's invoice to the firm as a one-page PDF; lines are
    (description, quantity, net price, VAT label, VAT rate)"""
    company = firm.company.party
    address = company.address_get()
    rows, net_total, vat_total = [], Decimal(0), Decimal(0)
    for description, quantity, price, label, rate in lines:
        net = (Decimal(quantity) * Decimal(price)).quantize(Decimal('0.01'))
        vat = (net * rate).quantize(Decimal('0.01'))
        net_total += net
        vat_total += vat
        rows.append(f'<tr><td>{html.escape(description)}</td>'
            f'<td class="n">{quantity}</td><td class="n">{_money(price)}'
            f'</td><td class="n">{label}</td><td class="n">{_money(net)}'
            '</td></tr>')
    seller = supplier.address_get()
    identifier = supplier.tax_identifier
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
        @page {{ size: A5 landscape; margin: 12mm; }}
        body {{ font-family: 'DejaVu Sans', sans-serif; font-size: 8pt; }}
        h1 {{ font-size: 13pt; margin: 0 0 4mm; }}
        .parties {{ display: flex; gap: 10mm; margin-bottom: 4mm; }}
        table {{ border-collapse: collapse; width: 100%; }}
        td, th {{ border: 0.5pt solid #999; padding: 1mm 2mm; }}
        .n {{ text-align: right; }}
        </style></head><body>
        <h1>Faktura VAT nr {html.escape(number)}</h1>
        <p>Data wystawienia: {date.isoformat()} · Data sprzedaży:
        {date.isoformat()}</p>
        <div class="parties"><div><b>Sprzedawca</b><br>
        {html.escape(supplier.name)}<br>
        {html.escape(seller.street_unstructured or '')}<br>
        {seller.postal_code} {html.escape(seller.city or '')}<br>
        NIP: {identifier.code if identifier else ''}</div>
        <div><b>Nabywca</b><br>{html.escape(company.name)}<br>
        {html.escape(address.street_unstructured or '')}<br>
        {address.postal_code} {html.escape(address.city or '')}<br>
        NIP: {company.tax_identifier.code}</div></div>
        <table><tr><th>Nazwa</th><th>Ilość</th><th>Cena netto</th>
        <th>VAT</th><th>Wartość netto</th></tr>{''.join(rows)}
        <tr><td colspan="4" class="n">Razem netto / VAT / brutto</td>
        <td class="n">{_money(net_total)} / {_money(vat_total)} /
        <b>{_money(net_total + vat_total)} {currency}</b></td></tr></table>
        </body></html>"""
    return html_to_pdf(page)


def scan_image(supplier, number, date, lines, kind='PNG'):
    "A photographed receipt-like invoice: a small PNG or JPEG"
    from PIL import Image, ImageDraw, ImageFont
    try:
        font = ImageFont.truetype('DejaVuSans.ttf', 15)
    except OSError:
        font = ImageFont.load_default()
    text = [supplier.name, f"NIP {supplier.tax_identifier.code}", "",
        f"FAKTURA VAT {number}", f"z dnia {date.isoformat()}", ""]
    total = Decimal(0)
    for description, quantity, price, label, rate in lines:
        gross = (Decimal(quantity) * Decimal(price) * (1 + rate)).quantize(
            Decimal('0.01'))
        total += gross
        text.append(f"{description[:30]}  {quantity} x {price}  {label}")
    text += ["", f"RAZEM BRUTTO: {_money(total)} PLN"]
    image = Image.new('RGB', (420, 40 + 22 * len(text)), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(text):
        draw.text((20, 20 + 22 * n), line, fill=(30, 30, 30), font=font)
    data = io.BytesIO()
    image.save(data, kind, **({'quality': 80} if kind == 'JPEG' else {}))
    return data.getvalue()


@contextmanager
def _without_emails(client):
    """The demo is built before its mail catcher runs: the client's
    notifications are kept, their e-mails are not sent"""
    WebUser = Pool().get('web.user')
    users = WebUser.search([('party', '=', client.id), ('active', '=', True)])
    WebUser.write(users, {'active': False})
    try:
        yield
    finally:
        WebUser.write(users, {'active': True})


def create_cost_invoices(firm, client):
    """The start-up's cost invoices in every state, with scans, from its
    suppliers (among its contractors). Returns {key: cost invoice}."""
    pool = Pool()
    CostInvoice = pool.get('portal.cost.invoice')
    Party = pool.get('party.party')
    User = pool.get('res.user')
    WebUser = pool.get('web.user')
    today = firm.today
    taxes = firm.purchase_taxes
    actor = (WebUser.search([('party', '=', client.id)], limit=1)
        or [None])[0]
    staff = {u.login: u for u in User.search([
                ('login', 'in', ['ewa', 'piotr'])])}
    accountant = staff.get('ewa')
    manager = staff.get('piotr') or accountant
    suppliers = {}
    for key, name, street, postal, city, country, tax in SUPPLIERS:
        suppliers[key] = create_contractor(firm, client, name, street,
            postal, city, country=country, tax_number=nip(tax),
            email=f'faktury@{key}.example.pl')
    for contractor in Party.search([('portal_owner', '=', client.id)]):
        if contractor.name.startswith('Hotel Polonia'):
            suppliers['hotel'] = contractor
        elif contractor.name.startswith('Müller'):
            suppliers['mueller'] = contractor

    def day(n):
        return today - datetime.timedelta(days=n)

    def register(key, number, days, lines, scan, currency=None,
            payment_status='unpaid', submit=True, note=None):
        """lines: (description, quantity, net price, VAT code); scan:
        (bytes, file name)"""
        supplier = suppliers[key]
        values = {
            'supplier': supplier, 'number': number, 'kind': 'invoice',
            'invoice_date': day(days), 'sale_date': day(days),
            'receipt_date': day(max(days - 2, 0)),
            'currency': currency or firm.pln,
            'language': 'pl' if supplier.lang is None
            or supplier.lang.code == 'pl' else 'en',
            'entry': 'lines', 'payment_method': 'transfer',
            'payment_status': payment_status,
            'due_date': day(days - 14), 'note': note,
            }
        return CostInvoice.portal_save(client, values,
            _lines(taxes, lines), scan=check_scan(*scan), submit=submit,
            actor=actor)

    def pdf(key, number, days, lines, currency='PLN'):
        return (scan_pdf(firm, suppliers[key], number, day(days),
                _scan_lines(taxes, lines), currency),
            f'{number.replace("/", "-")}.pdf')

    def image(key, number, days, lines, kind='PNG'):
        return (scan_image(suppliers[key], number, day(days),
                _scan_lines(taxes, lines), kind),
            f'IMG_{days:04d}.{kind.lower().replace("jpeg", "jpg")}')

    records = {}
    with Transaction().set_context(company=firm.company.id,
            _skip_warnings=True), _without_emails(client):
        # Paid: last month's desk, approved and then paid by the firm
        desk = [("Biurko w open space – miesiąc", 1, '1200.00', '23')]
        records['paid'] = register('cowork', 'FV/CM/0412/2026', 40, desk,
            pdf('cowork', 'FV/CM/0412/2026', 40, desk))
        # Approved: the cloud servers, and a transport paid in euro
        cloud = [("Serwer VPS – abonament", 2, '189.00', '23'),
            ("Kopia zapasowa 500 GB", 1, '49.00', '23')]
        records['approved'] = register('cloud', 'CP/2026/118734', 18,
            cloud, pdf('cloud', 'CP/2026/118734', 18, cloud))
        freight = [("Transport Hamburg – Łódź (reverse charge)", 1,
                '640.00', 'np II')]
        records['eur'] = register('mueller', 'ML-2026-00917', 12, freight,
            pdf('mueller', 'ML-2026-00917', 12, freight, 'EUR'),
            currency=firm.eur)
        with Transaction().set_user(accountant.id if accountant else 0):
            CostInvoice.approve([records['paid'], records['approved'],
                    records['eur']])
            CostInvoice.mark_paid([CostInvoice(records['paid'].id)])
        # Rejected, waiting for the client's fix
        stay = [("Nocleg – pokój jednoosobowy", 2, '320.00', '8')]
        records['rejected'] = register('hotel', 'HP/11/2026/0583', 9, stay,
            image('hotel', 'HP/11/2026/0583', 9, stay, 'JPEG'))
        # Rejected once, fixed by the client and submitted again
        paper = [("Papier A4 – karton", 3, '115.00', '8'),
            ("Tonery do drukarki", 2, '290.00', '23')]
        records['resubmitted'] = register('office', 'BP/2026/4411', 6,
            paper, pdf('office', 'BP/2026/4411', 6, paper))
        with Transaction().set_user(manager.id if manager else 0):
            CostInvoice.do_reject([records['rejected']], REJECTION)
            CostInvoice.do_reject([records['resubmitted']], SECOND_REJECTION)
        paper = [("Papier A4 – karton", 3, '115.00', '23'),
            ("Tonery do drukarki", 2, '290.00', '23')]
        record = records['resubmitted']
        records['resubmitted'] = CostInvoice.portal_save(client, {
                'note': "Poprawiona stawka VAT papieru (23%).",
                }, _lines(taxes, paper), record=record, submit=True,
            actor=actor)
        # Submitted, waiting for the accountant
        coffee = [("Kawa ziarnista 1 kg", 4, '79.00', '23'),
            ("Woda mineralna – zgrzewka", 6, '14.50', '5')]
        records['submitted'] = register('office', 'BP/2026/4502', 3, coffee,
            image('office', 'BP/2026/4502', 3, coffee))
        # A draft the client has not finished
        records['draft'] = register('cowork', 'FV/CM/0533/2026', 1, desk,
            pdf('cowork', 'FV/CM/0533/2026', 1, desk), submit=False,
            note="Do sprawdzenia: czy faktura obejmuje salę konferencyjną?")
    return records


def _lines(taxes, lines):
    return [{'description': description, 'quantity': Decimal(quantity),
            'unit_price': Decimal(price), 'tax': taxes[code]}
        for description, quantity, price, code in lines]


def _scan_lines(taxes, lines):
    return [(description, quantity, Decimal(price), taxes[code].description,
            taxes[code].rate)
        for description, quantity, price, code in lines]
