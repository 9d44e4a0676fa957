"""Demo data of the clients' own invoicing: a start-up of the incubator
issuing invoices to its customers from sub-accounts in PLN and EUR, with
its contractors, products, a template, and issued, paid, proforma and
corrected documents. Used by the demo database and the tests; everything
runs inside the caller's transaction, as root."""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from .demo import (
    DEMO_PASSWORD, create_bank_account, create_client, create_portal_user,
    iban, nip)
from .outgoing_form import InvoiceForm, Lookups

def create_invoice_template(firm, name, code, clients, layout='standard',
        tax_rounding='document'):
    """An invoice template with its own series (FV/<code>/, PF/<code>/,
    KOR/<code>/) and the firm's bank accounts, assigned to the clients"""
    pool = Pool()
    Series = pool.get('portal.invoice.series')
    Template = pool.get('portal.invoice.template')
    BankAccount = pool.get('bank.account')
    series = {}
    for kind, prefix, label in [
            ('invoice', 'FV', "Faktury"), ('proforma', 'PF', "Proformy"),
            ('correction', 'KOR', "Korekty")]:
        series[kind], = Series.create([{
                    'company': firm.company.id,
                    'name': f'{label} {code}',
                    'prefix': f'{prefix}/{code}/',
                    'kind': kind,
                    }])
    accounts = BankAccount.search([('owners', '=', firm.company.party.id)])
    template, = Template.create([{
                'company': firm.company.id,
                'name': name,
                'layout': layout,
                'invoice_series': series['invoice'].id,
                'proforma_series': series['proforma'].id,
                'correction_series': series['correction'].id,
                'payment_method': 'transfer',
                'payment_days': 14,
                'account_revenue': firm.accounts.revenue.id,
                'tax_rounding': tax_rounding,
                'footer': "Dziękujemy za współpracę.",
                'bank_accounts': [('create', [{
                                'currency': a.currency.id,
                                'bank_account': a.id,
                                } for a in accounts if a.currency])],
                'clients': [('add', [c.id for c in clients])],
                }])
    return template


def create_contractor(firm, client, name, street, postal_code, city,
        country='PL', tax_number=None, email=None, lang='pl'):
    "A customer of the client: a party private to it"
    pool = Pool()
    Party = pool.get('party.party')
    Lang = pool.get('ir.lang')
    langs = Lang.search([('code', '=', lang)], limit=1)
    identifiers = []
    if tax_number:
        identifiers.append({
                'type': 'pl_vat' if country == 'PL' else 'eu_vat',
                'code': tax_number})
    party, = Party.create([{
                'name': name,
                'portal_owner': client.id,
                'lang': langs[0].id if langs else None,
                'addresses': [('create', [{
                                'street_unstructured': street,
                                'postal_code': postal_code,
                                'city': city,
                                'country': firm.countries[country].id,
                                }])],
                'identifiers': [('create', identifiers)],
                'contact_mechanisms': [('create', [
                            {'type': 'email', 'value': email}]
                        if email else [])],
                }])
    return party


def editor_form(firm, client, template, buyer, lines, currency='PLN',
        date=None, kind='invoice', **values):
    """The editor's form; lines are (description, quantity, price, VAT
    code[, discount])"""
    pool = Pool()
    Uom = pool.get('product.uom')
    TaxModel = pool.get('account.tax')
    ModelData = pool.get('ir.model.data')
    date = date or datetime.date.today()
    unit = Uom(ModelData.get_id('product', 'uom_unit'))
    raw = {
        'contractor': str(buyer.id),
        'template': str(template.id),
        'currency': currency,
        'language': 'pl',
        'invoice_date': date.isoformat(),
        'sale_date': date.isoformat(),
        'payment_method': 'transfer',
        'due_date': (date + datetime.timedelta(days=14)).isoformat(),
        }
    raw.update(values)
    for i, line in enumerate(lines):
        tax, = TaxModel.search([('portal_vat_code', '=', line[3]),
                ('group.kind', '=', 'sale')])
        raw.update({
                f'lines-{i}-description': line[0],
                f'lines-{i}-quantity': str(line[1]),
                f'lines-{i}-price': str(line[2]),
                f'lines-{i}-tax': str(tax.id),
                f'lines-{i}-unit': str(unit.id),
                f'lines-{i}-discount': str(line[4]) if len(line) > 4 else '',
                })
    return InvoiceForm(raw, Lookups.load(client.id, firm.company.id), kind=kind,
        today=datetime.date.today())


STARTUP = ("Lumina Labs sp. z o.o.", '946210357', "ul. Piotrkowska 120",
    '90-006', "Łódź", 'biuro@luminalabs.example.pl', '+48 42 630 11 22')
STARTUP_USER = ('ola@luminalabs.example.pl', "Ola", "Wójcik", 'pl')
CONTRACTORS = [
    # name, street, postal code, city, country, NIP prefix or EU VAT
    # number, e-mail, language
    ("Hotel Polonia sp. z o.o.", "ul. Wspólna 12", '00-681', "Warszawa",
        'PL', '521038443', 'faktury@hotelpolonia.example.pl', 'pl'),
    ("Müller Logistik GmbH", "Hafenstraße 8", '20457', "Hamburg", 'DE',
        'DE136695976', 'invoices@mueller-logistik.example.de', 'en'),
    ("Kawiarnia Pod Lipą Jan Lis", "ul. Lipowa 3", '90-001', "Łódź", 'PL',
        '727100423', 'kawiarnia@podlipa.example.pl', 'pl'),
    ]
PRODUCTS = [
    # name, unit, net price, currency, VAT code, GTU
    ("Aplikacja mobilna – licencja miesięczna", 'uom_unit', '1200.00',
        'PLN', '23', None),
    ("Wdrożenie systemu rezerwacji", 'uom_hour', '180.00', 'PLN', '23',
        'GTU_12'),
    ("Software development for EU clients", 'uom_hour', '55.00', 'EUR',
        'np II', None),
    ("Szkolenie z obsługi aplikacji", 'uom_unit', '900.00', 'PLN', 'zw',
        None),
    ]


def create_startup(firm, manager=None):
    """The incubator's start-up issuing its own invoices: sub-accounts in
    PLN and EUR, contractors, products, a template and documents"""
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    Product = pool.get('portal.product')
    Invoice = pool.get('account.invoice')
    ModelData = pool.get('ir.model.data')
    Tax = pool.get('account.tax')
    today = firm.today
    name, prefix, street, postal, city, email, phone = STARTUP
    client = create_client(firm, name, nip(prefix), street, postal, city,
        email, phone, manager=manager)
    create_bank_account(client, iban('10501038', '0000002212345678'))
    Subaccount.create_for([client], [firm.pln, firm.eur])
    template = create_invoice_template(firm, "Lumina Labs", 'LUM', [client])
    buyers = [create_contractor(firm, client, c_name, c_street, c_postal,
            c_city, country=country,
            tax_number=nip(tax) if country == 'PL' else tax,
            email=c_email, lang=lang)
        for (c_name, c_street, c_postal, c_city, country, tax, c_email,
            lang) in CONTRACTORS]
    currencies = {'PLN': firm.pln, 'EUR': firm.eur}
    Product.create([{
                'company': firm.company.id,
                'client': client.id,
                'name': p_name,
                'unit': ModelData.get_id('product', unit),
                'unit_price': Decimal(price),
                'currency': currencies[currency].id,
                'tax': Tax.search([('portal_vat_code', '=', code),
                        ('group.kind', '=', 'sale')])[0].id,
                'gtu': gtu,
                } for p_name, unit, price, currency, code, gtu in PRODUCTS])

    def issue(buyer, lines, days_ago, currency='PLN', method='transfer',
            **kwargs):
        date = today - datetime.timedelta(days=days_ago)
        draft = Invoice.portal_save_draft(client, editor_form(firm, client,
                template, buyer, lines, currency=currency, date=date,
                payment_method=method))
        return Invoice.portal_issue(draft, **kwargs)

    def pay(invoice, share, days_after):
        subaccount, = Subaccount.search([('client', '=', client.id),
                ('currency', '=', invoice.currency.id)])
        amount = (invoice.total_amount * share).quantize(Decimal('0.01'))
        invoice.pay_invoice(amount, subaccount.payment_method,
            min(today, invoice.invoice_date
                + datetime.timedelta(days=days_after)))

    hotel, mueller, cafe = buyers
    with Transaction().set_context(company=firm.company.id):
        licence = [(PRODUCTS[0][0], 1, PRODUCTS[0][2], '23')]
        rollout = [(PRODUCTS[1][0], 24, PRODUCTS[1][2], '23'),
            (PRODUCTS[3][0], 1, PRODUCTS[3][2], 'zw')]
        pay(issue(hotel, licence, 75), Decimal(1), 10)
        # Paid in cash at the hotel's reception: the reports tell the
        # methods apart
        pay(issue(hotel, licence, 45, method='cash'), Decimal(1), 12)
        partly = issue(hotel, rollout, 30)
        pay(partly, Decimal('0.5'), 7)
        pay(issue(mueller, [(PRODUCTS[2][0], 120, PRODUCTS[2][2], 'np II')],
                40, currency='EUR'), Decimal(1), 14)
        issue(mueller, [(PRODUCTS[2][0], 64, PRODUCTS[2][2], 'np II')], 5,
            currency='EUR')
        corrected = issue(cafe, rollout, 20, method='card')
        correction = Invoice.portal_correct(corrected)
        correction = Invoice.portal_save_draft(client, editor_form(
                firm, client, template, cafe,
                [(PRODUCTS[1][0], 20, PRODUCTS[1][2], '23'),
                    (PRODUCTS[3][0], 1, PRODUCTS[3][2], 'zw')],
                kind='correction', date=today - datetime.timedelta(days=3),
                reason="Mniej godzin wdrożenia niż zamówiono"), correction)
        Invoice.portal_issue(correction)
        issue(cafe, licence, 2, proforma=True)
        Invoice.portal_save_draft(client, editor_form(firm, client, template,
                hotel, licence))
    email, first, last, lang = STARTUP_USER
    create_portal_user(client, email, DEMO_PASSWORD, first, last, lang)
    return client
