"""The HTTP tests' cost invoices: for clients a and b, one in each state
(draft, submitted, rejected, approved) with a scan, client a's approved
one in EUR too, and a run of drafts of client a to page through. Saved the
way the portal saves them; approved and rejected as the back office
does. Also the scans the tests upload: small real PDFs and a PNG."""
import datetime
import io
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.scan import check_scan

# Client a's drafts that the pagination tests page through (q=PAGE)
PAGED = 11


def pdf_bytes(password=None, pages=1):
    "A real small PDF (blank pages), encrypted when a password is given"
    from pypdf import PdfWriter
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes(size=(40, 30)):
    from PIL import Image
    buffer = io.BytesIO()
    Image.new('RGB', size, (200, 30, 30)).save(buffer, 'PNG')
    return buffer.getvalue()


def build(firm, data):
    """Create the cost invoices; returns what the tests read of them:
    costs {key: id}, cost_numbers {key: number}"""
    pool = Pool()
    CostInvoice = pool.get('portal.cost.invoice')
    Party = pool.get('party.party')
    today = datetime.date.today()

    def day(n):
        return today - datetime.timedelta(days=n)
    tax23 = firm.purchase_taxes['23']
    tax8 = firm.purchase_taxes['8']
    costs = {}

    def register(key, name, number, days, submit=False, lines=None,
            currency=firm.pln, supplier='pl', scan=True, date=None):
        date = date or day(days)
        values = {
            'supplier': Party(data.contractors[f'{key}_{supplier}']),
            'number': number, 'kind': 'invoice',
            'invoice_date': date, 'sale_date': date,
            'receipt_date': date + datetime.timedelta(days=1),
            'currency': currency, 'language': 'pl', 'entry': 'lines',
            'payment_method': 'transfer', 'payment_status': 'unpaid',
            'due_date': day(days - 14), 'note': None,
            }
        lines = lines or [
            {'description': "Materiały biurowe", 'quantity': Decimal(2),
                'unit_price': Decimal('150'), 'tax': tax23},
            {'description': "Catering", 'quantity': Decimal(1),
                'unit_price': Decimal('200'), 'tax': tax8}]
        upload = check_scan(pdf_bytes(), f'{name}.pdf') if scan else None
        record = CostInvoice.portal_save(Party(data.clients[key]), values,
            lines, scan=upload)
        if submit:
            CostInvoice.portal_submit(record)
        costs[f'{key}_{name}'] = record.id
        return record
    with Transaction().set_context(company=firm.company.id,
            _skip_warnings=True):
        for key in ('a', 'b'):
            upper = key.upper()
            register(key, 'draft', f'FV/{upper}/DRAFT/1', 10)
            register(key, 'submitted', f'FV/{upper}/SUB/1', 9, submit=True)
            rejected = register(key, 'rejected', f'FV/{upper}/REJ/1', 8,
                submit=True)
            CostInvoice.do_reject([rejected], "Brak podpisu na skanie")
            # Small: the sub-accounts' tests count on their balances
            approved = register(key, 'approved', f'FV/{upper}/APP/1', 20,
                submit=True, lines=[{'description': "Usługa kurierska",
                        'quantity': Decimal(1),
                        'unit_price': Decimal('100'), 'tax': tax23}])
            CostInvoice.approve([approved])
        eur = register('a', 'eur', 'INV-2026-0042', 15, submit=True,
            currency=firm.eur, supplier='eu',
            lines=[{'description': "Freight Hamburg–Kraków",
                    'quantity': Decimal(1), 'unit_price': Decimal('100'),
                    'tax': tax23}])
        CostInvoice.approve([eur])
        # Dated before 1 February 2026: the one kind that may still get a
        # nota korygująca
        old = register('b', 'old', 'FV/STARA/1/2026', 0, submit=True,
            date=datetime.date(2026, 1, 20),
            lines=[{'description': "Wynajem sali", 'quantity': Decimal(1),
                    'unit_price': Decimal('100'), 'tax': tax23}])
        CostInvoice.approve([old])
        # Distinct amounts: 123.00, 135.30, … gross, for the sort
        for n in range(PAGED):
            register('a', f'page_{n}', f'PAGE/{n:02d}', 30 + n, scan=False,
                lines=[{'description': "Paliwo", 'quantity': Decimal(1),
                        'unit_price': Decimal(100 + 10 * n),
                        'tax': tax23}])
    records = CostInvoice.browse(list(costs.values()))
    numbers = {r.id: r.number for r in records}
    return {
        'costs': costs,
        'cost_numbers': {k: numbers[i] for k, i in costs.items()},
        }
