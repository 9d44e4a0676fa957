"""A Polish firm and its portal clients, built with the ORM.

Used by the demo database (scripts/demo.py), the HTTP and browser tests and
the benchmark, so that they all run on the same realistic books: a chart of
accounts, Polish VAT rates, fiscal years with invoice sequences, PLN and EUR
with NBP-like rates, clients with portal users and posted invoices.
Everything runs inside the caller's transaction, as root."""
import datetime
import io
import random
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from stdnum import iban as stdnum_iban

from trytond.pool import Pool
from trytond.transaction import Transaction

PLN_PER_EUR = Decimal('4.2650')
PLN_PER_USD = Decimal('3.9210')
VAT_RATES = [
    # code, description, rate, FA(3) code (tax.VAT_CODES), legal basis
    ('23', '23%', Decimal('0.23'), '23', None),
    ('8', '8%', Decimal('0.08'), '8', None),
    ('5', '5%', Decimal('0.05'), '5', None),
    ('0', '0%', Decimal('0'), '0 KR', None),
    ('zw', 'zw', Decimal('0'), 'zw',
        "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT"),
    ('0 WDT', '0% WDT', Decimal('0'), '0 WDT', None),
    ('0 EX', '0% eksport', Decimal('0'), '0 EX', None),
    ('oo', 'oo', Decimal('0'), 'oo', None),
    ('np I', 'np', Decimal('0'), 'np I', None),
    ('np II', 'np (UE)', Decimal('0'), 'np II', None),
    ]
COUNTRIES = [
    ('PL', 'Polska'), ('DE', 'Niemcy'), ('CZ', 'Czechy'), ('SK', 'Słowacja'),
    ('LT', 'Litwa'), ('UA', 'Ukraina'), ('GB', 'Wielka Brytania'),
    ('FR', 'Francja'), ('NL', 'Holandia'), ('US', 'Stany Zjednoczone'),
    ]


def nip(prefix):
    "A valid Polish NIP starting with the 9 given digits"
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    for tail in range(10):
        digits = f'{prefix[:8]}{tail}'
        check = sum(int(d) * w for d, w in zip(digits, weights)) % 11
        if check < 10:
            return digits + str(check)
    raise ValueError(prefix)


def iban(bank, account):
    "A valid Polish IBAN from an 8-digit bank code and a 16-digit account"
    bban = f'{bank}{account}'
    return 'PL' + stdnum_iban.calc_check_digits(f'PL00{bban}') + bban


def logo_png(text, color=(11, 83, 148)):
    "A simple logo: the firm's initials on its colour"
    from PIL import Image, ImageDraw, ImageFont
    image = Image.new('RGB', (480, 160), color)
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype('DejaVuSans-Bold.ttf', 84)
    except OSError:
        font = ImageFont.load_default()
    draw.rectangle((20, 20, 140, 140), fill=(241, 194, 50))
    draw.text((160, 30), text, fill=(255, 255, 255), font=font)
    data = io.BytesIO()
    image.save(data, 'PNG')
    return data.getvalue()


def _ref(module, fs_id):
    return Pool().get('ir.model.data').get_id(module, fs_id)


# The demo firm's tax number (the KSeF emulator of the demo is started for it)
FIRM_NIP = nip('527318465')


class Firm:
    "The firm's books: what invoices and payments need"

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def create_countries():
    Country = Pool().get('country.country')
    existing = {c.code for c in Country.search([])}
    Country.create([{'code': code, 'name': name}
            for code, name in COUNTRIES if code not in existing])
    return {c.code: c for c in Country.search([])}


def create_currencies(today):
    Currency = Pool().get('currency.currency')
    Rate = Pool().get('currency.currency.rate')
    pln, eur, usd = Currency.create([
            {'name': 'Złoty', 'code': 'PLN', 'numeric_code': '985',
                'symbol': 'zł', 'rounding': Decimal('0.01'), 'digits': 2},
            {'name': 'Euro', 'code': 'EUR', 'numeric_code': '978',
                'symbol': '€', 'rounding': Decimal('0.01'), 'digits': 2},
            {'name': 'US Dollar', 'code': 'USD', 'numeric_code': '840',
                'symbol': '$', 'rounding': Decimal('0.01'), 'digits': 2},
            ])
    # Business-day rates for the last 14 months, as NBP table A would
    # publish them; Tryton stores units of currency per złoty.
    rng = random.Random(2026)
    day = today - relativedelta(months=14)
    rates = [{'currency': pln.id, 'date': day, 'rate': Decimal(1)}]
    tables = {}
    while day <= today:
        if day.weekday() < 5:
            # One table A per business day, numbered from 1 each year
            tables[day.year] = tables.get(day.year, 0) + 1
            for currency, mid in [(eur, PLN_PER_EUR), (usd, PLN_PER_USD)]:
                quote = (mid * (1 + Decimal(rng.randint(-150, 150)) / 10000)
                    ).quantize(Decimal('0.0001'))
                rates.append({
                        'currency': currency.id,
                        'date': day,
                        'rate': (1 / quote).quantize(Decimal('0.000001')),
                        'nbp_mid': quote,
                        'nbp_table': f'{tables[day.year]:03d}/A/NBP/{day.year}',
                        })
        day += datetime.timedelta(days=1)
    Rate.create(rates)
    return pln, eur, usd


def create_company(name, tax_number, pln, country, logo=None, **values):
    pool = Pool()
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    User = pool.get('res.user')
    party, = Party.create([{
                'name': name,
                'addresses': [('create', [{
                                'street_unstructured': values.pop(
                                    'street', 'ul. Prosta 20'),
                                'postal_code': values.pop(
                                    'postal_code', '00-850'),
                                'city': values.pop('city', 'Warszawa'),
                                'country': country.id,
                                }])],
                'identifiers': [('create', [{
                                'type': 'pl_vat', 'code': tax_number}])],
                'contact_mechanisms': [('create', [
                            {'type': 'email',
                                'value': values.get(
                                    'portal_support_email',
                                    'biuro@example.com')},
                            {'type': 'phone',
                                'value': values.get(
                                    'portal_support_phone',
                                    '+48 22 123 45 67')},
                            ])],
                }])
    company, = Company.create([dict({
                    'party': party.id,
                    'currency': pln.id,
                    'timezone': 'Europe/Warsaw',
                    'logo': logo,
                    'tax_identifiers': [('create', [{
                                    'tax_identifier': party.identifiers[0].id,
                                    }])],
                    }, **values)])
    admin = User(_ref('res', 'user_admin'))
    User.write([admin], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    return company


def create_bank_account(party, number, currency=None):
    pool = Pool()
    Account = pool.get('bank.account')
    account, = Account.create([{
                'owners': [('add', [party.id])],
                'currency': currency.id if currency else None,
                'numbers': [('create', [{'type': 'iban', 'number': number}])],
                }])
    return account


def create_chart(company):
    "A Polish chart of accounts, enough to invoice, collect and pay VAT"
    pool = Pool()
    Type = pool.get('account.account.type')
    Account = pool.get('account.account')
    Configuration = pool.get('account.configuration')

    def type_(name, statement, **flags):
        record, = Type.create([dict(
                    name=name, statement=statement, company=company.id,
                    **flags)])
        return record

    assets = type_("Aktywa obrotowe", 'balance', assets=True)
    receivable_type = type_("Należności", 'balance', assets=True,
        receivable=True)
    cash_type = type_("Środki pieniężne", 'balance', assets=True)
    payable_type = type_("Zobowiązania", 'balance', payable=True)
    tax_type = type_("Rozrachunki publicznoprawne", 'balance')
    revenue_type = type_("Przychody", 'income', revenue=True)
    expense_type = type_("Koszty", 'income', expense=True)
    del assets

    def account(code, name, type_, **values):
        record, = Account.create([dict(
                    code=code, name=name, type=type_.id,
                    company=company.id, **values)])
        return record

    accounts = Firm(
        bank=account('130', "Rachunek bankowy", cash_type),
        receivable=account('201', "Rozrachunki z odbiorcami",
            receivable_type, reconcile=True, party_required=True),
        payable=account('202', "Rozrachunki z dostawcami", payable_type,
            reconcile=True, party_required=True),
        vat_input=account('221', "VAT naliczony", tax_type),
        vat_output=account('222', "VAT należny", tax_type),
        revenue=account('700', "Przychody ze sprzedaży usług",
            revenue_type),
        expense=account('402', "Usługi obce", expense_type),
        exchange_gain=account('750', "Dodatnie różnice kursowe",
            revenue_type),
        exchange_loss=account('751', "Ujemne różnice kursowe",
            expense_type),
        )
    config = Configuration(1)
    config.default_account_receivable = accounts.receivable
    config.default_account_payable = accounts.payable
    config.currency_exchange_credit_account = accounts.exchange_gain
    config.currency_exchange_debit_account = accounts.exchange_loss
    config.portal_cost_account = accounts.expense
    config.save()
    return accounts


def create_taxes(company, accounts, kind='sale'):
    """The VAT rates of sales (output VAT, 222) or of purchases (input
    VAT, 221: the clients' cost invoices), each in its tax group"""
    pool = Pool()
    Tax = pool.get('account.tax')
    Group = pool.get('account.tax.group')
    group, = Group.create([{
                'name': "VAT należny" if kind == 'sale' else "VAT naliczony",
                'code': 'VAT-S' if kind == 'sale' else 'VAT-Z',
                'kind': kind,
                }])
    account = accounts.vat_output if kind == 'sale' else accounts.vat_input
    prefix = "VAT" if kind == 'sale' else "VAT naliczony"
    taxes = {}
    for code, description, rate, vat_code, basis in VAT_RATES:
        tax, = Tax.create([{
                    'name': f'{prefix} {description}',
                    'description': description,
                    'type': 'percentage',
                    'rate': rate,
                    'company': company.id,
                    'group': group.id,
                    'invoice_account': account.id,
                    'credit_note_account': account.id,
                    'portal_vat_code': vat_code,
                    'portal_exemption_basis': basis,
                    }])
        taxes[code] = tax
    return taxes


def create_fiscal_years(company, years):
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    Sequence = pool.get('ir.sequence.strict')
    fiscal_years = []
    for year in years:
        move_sequence, = Sequence.create([{
                    'name': f'Dziennik {year}',
                    'sequence_type': _ref('account',
                        'sequence_type_account_move'),
                    'company': company.id,
                    }])
        invoice_sequence, credit_sequence = Sequence.create([{
                    'name': f'Faktury {year}',
                    'sequence_type': _ref('account_invoice',
                        'sequence_type_account_invoice'),
                    'company': company.id,
                    'prefix': f'FV/{year}/',
                    'padding': 4,
                    }, {
                    'name': f'Faktury korygujące {year}',
                    'sequence_type': _ref('account_invoice',
                        'sequence_type_account_invoice'),
                    'company': company.id,
                    'prefix': f'FK/{year}/',
                    'padding': 4,
                    }])
        fiscal_year, = FiscalYear.create([{
                    'name': str(year),
                    'start_date': datetime.date(year, 1, 1),
                    'end_date': datetime.date(year, 12, 31),
                    'company': company.id,
                    'move_sequence': move_sequence.id,
                    'invoice_sequences': [('create', [{
                                    'company': company.id,
                                    'out_invoice_sequence': invoice_sequence.id,
                                    'out_credit_note_sequence':
                                    credit_sequence.id,
                                    'in_invoice_sequence': invoice_sequence.id,
                                    'in_credit_note_sequence':
                                    credit_sequence.id,
                                    }])],
                    }])
        FiscalYear.create_period([fiscal_year])
        fiscal_years.append(fiscal_year)
    return fiscal_years


def create_payment_terms():
    Term = Pool().get('account.invoice.payment_term')
    terms = {}
    for days in (7, 14, 30):
        term, = Term.create([{
                    'name': f'{days} dni',
                    'lines': [('create', [{
                                    'type': 'remainder',
                                    'relativedeltas': [('create', [{
                                                    'days': days}])],
                                    }])],
                    }])
        terms[days] = term
    return terms


def create_payment_method(company, accounts):
    Method = Pool().get('account.invoice.payment.method')
    method, = Method.create([{
                'name': 'Przelew bankowy',
                'company': company.id,
                'journal': _ref('account', 'journal_cash'),
                'debit_account': accounts.bank.id,
                'credit_account': accounts.bank.id,
                }])
    return method


def setup_firm(today=None, name="Portico Centrum Usług Księgowych sp. z o.o.",
        logo=True):
    "The firm with its books; returns a Firm with everything tests need"
    today = today or datetime.date.today()
    countries = create_countries()
    pln, eur, usd = create_currencies(today)
    company = create_company(
        name, FIRM_NIP, pln, countries['PL'],
        logo=logo_png('PCU') if logo else None,
        street='ul. Marszałkowska 84/92 lok. 109', postal_code='00-514',
        city='Warszawa',
        portal_name='Portico · Strefa Klienta',
        portal_primary_color='#0b5394', portal_accent_color='#f1c232',
        portal_support_email='strefa@portico-demo.pl',
        portal_support_phone='+48 22 390 51 20')
    create_bank_account(company.party,
        iban('10901014', '0000071219812874'), pln)
    create_bank_account(company.party,
        iban('10901014', '0000071219812890'), eur)
    with Transaction().set_context(company=company.id):
        accounts = create_chart(company)
        taxes = create_taxes(company, accounts)
        purchase_taxes = create_taxes(company, accounts, 'purchase')
        years = sorted({(today - relativedelta(months=14)).year, today.year})
        create_fiscal_years(company, range(years[0], years[-1] + 1))
        terms = create_payment_terms()
        method = create_payment_method(company, accounts)
    return Firm(company=company, countries=countries, pln=pln, eur=eur,
        usd=usd, accounts=accounts, taxes=taxes,
        purchase_taxes=purchase_taxes, terms=terms,
        payment_method=method, today=today)



def load_firm(today=None):
    "The Firm of setup_firm, read back from the database"
    pool = Pool()
    Company = pool.get('company.company')
    Currency = pool.get('currency.currency')
    Account = pool.get('account.account')
    Tax = pool.get('account.tax')
    Term = pool.get('account.invoice.payment_term')
    Method = pool.get('account.invoice.payment.method')
    Country = pool.get('country.country')
    company, = Company.search([])
    currencies = {c.code: c for c in Currency.search([])}
    accounts = {a.code: a for a in Account.search([])}
    return Firm(
        company=company,
        countries={c.code: c for c in Country.search([])},
        pln=currencies['PLN'], eur=currencies['EUR'],
        usd=currencies['USD'],
        accounts=Firm(
            receivable=accounts['201'], revenue=accounts['700'],
            bank=accounts['130']),
        taxes={t.description.rstrip('%'): t for t in Tax.search([
                    ('group.kind', '=', 'sale')])},
        purchase_taxes={t.description.rstrip('%'): t for t in Tax.search([
                    ('group.kind', '=', 'purchase')])},
        terms={int(t.name.split()[0]): t for t in Term.search([])
            if t.name.endswith(' dni')},
        payment_method=Method.search([])[0],
        today=today or datetime.date.today())

def create_staff(firm, login, name, groups, password):
    pool = Pool()
    User = pool.get('res.user')
    user, = User.create([{
                'login': login,
                'name': name,
                'password': password,
                'company': firm.company.id,
                'companies': [('add', [firm.company.id])],
                'groups': [('add', [_ref(*g.split('.')) for g in groups])],
                }])
    return user


def create_client(firm, name, tax_number, street, postal_code, city,
        email, phone, manager=None, lang='pl', country='PL'):
    pool = Pool()
    Party = pool.get('party.party')
    Lang = pool.get('ir.lang')
    langs = Lang.search([('code', '=', lang)], limit=1)
    party, = Party.create([{
                'name': name,
                'portal_client': True,
                'portal_manager': manager.id if manager else None,
                'lang': langs[0].id if langs else None,
                'addresses': [('create', [{
                                'street_unstructured': street,
                                'postal_code': postal_code,
                                'city': city,
                                'country': firm.countries[country].id,
                                }])],
                'identifiers': [('create', [{
                                'type': 'pl_vat', 'code': tax_number}])],
                'contact_mechanisms': [('create', [
                            {'type': 'email', 'value': email},
                            {'type': 'phone', 'value': phone},
                            ])],
                }])
    return party


def create_portal_user(party, email, password=None, first_name=None,
        last_name=None, language=None):
    WebUser = Pool().get('web.user')
    user, = WebUser.create([{
                'party': party.id,
                'email': email,
                'email_valid': bool(password),
                'first_name': first_name,
                'last_name': last_name,
                'language': language,
                }])
    if password:
        # As root, the password policy of staff users does not apply
        user.password = password
        user.save()
    return user


def create_invoice(firm, party, date, lines, currency=None, term_days=14,
        post=True):
    """Create (and post) an invoice to the client; lines are tuples of
    (description, quantity, unit price, VAT code[, unit])"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    currency = currency or firm.pln
    # Past invoices have past due dates: not a mistake to warn about here
    with Transaction().set_context(
            company=firm.company.id, _skip_warnings=True):
        invoice, = Invoice.create([{
                    'type': 'out',
                    'company': firm.company.id,
                    'party': party.id,
                    'invoice_address': party.address_get(
                        type='invoice').id,
                    'currency': currency.id,
                    'invoice_date': date,
                    'accounting_date': date,
                    'account': firm.accounts.receivable.id,
                    'payment_term': firm.terms[term_days].id,
                    'journal': _ref('account', 'journal_revenue'),
                    'lines': [('create', [{
                                    'type': 'line',
                                    'description': line[0],
                                    'quantity': line[1],
                                    'unit_price': Decimal(line[2]),
                                    'unit': _ref('product', line[4]
                                        if len(line) > 4 else 'uom_unit'),
                                    'account': firm.accounts.revenue.id,
                                    'taxes': [('add', [
                                                firm.taxes[line[3]].id])],
                                    'currency': currency.id,
                                    'company': firm.company.id,
                                    'invoice_type': 'out',
                                    'party': party.id,
                                    } for line in lines])],
                    }])
        Invoice.update_taxes([invoice])
        if post:
            Invoice.post([invoice])
    return Invoice(invoice.id)


def pay(firm, invoice, amount, date):
    "Record a bank payment; a full payment reconciles the invoice"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.move.line')
    with Transaction().set_context(company=firm.company.id):
        invoice = Invoice(invoice.id)
        lines = invoice.pay_invoice(
            invoice.currency.round(Decimal(amount)), firm.payment_method,
            date)
        invoice = Invoice(invoice.id)
        if invoice.amount_to_pay == 0:
            to_reconcile = [l for l in invoice.lines_to_pay
                if not l.reconciliation]
            to_reconcile += [l for l in invoice.payment_lines
                if not l.reconciliation]
            Line.reconcile(to_reconcile)
            Invoice.process([invoice])
    return lines


def credit(firm, invoice, date):
    """A corrective invoice cancelling the whole invoice; for an unpaid
    invoice both are settled against each other"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.move.line')
    with Transaction().set_context(company=firm.company.id):
        invoice = Invoice(invoice.id)
        refund = invoice.state == 'posted' and not invoice.payment_lines
        credit_note, = Invoice.credit([invoice], invoice_date=date)
        credit_note.accounting_date = date
        credit_note.save()
        Invoice.post([credit_note])
        if refund:
            credit_note = Invoice(credit_note.id)
            Line.reconcile(list(invoice.lines_to_pay)
                + list(credit_note.lines_to_pay))
            Invoice.process([invoice, credit_note])
    return Invoice(credit_note.id)


def create_news(firm, posts):
    "posts: (days ago, Polish title, Polish text, English title, text)"
    pool = Pool()
    News = pool.get('portal.news')
    now = datetime.datetime.combine(firm.today, datetime.time(9, 30))
    records = []
    for days, title_pl, body_pl, title_en, body_en in posts:
        with Transaction().set_context(language='pl'):
            news, = News.create([{
                        'company': firm.company.id,
                        'title': title_pl,
                        'body': body_pl,
                        'published_at': now - datetime.timedelta(days=days),
                        }])
        with Transaction().set_context(language='en'):
            News.write([news], {'title': title_en, 'body': body_en})
        records.append(news)
    return records


DEMO_PASSWORD = 'Portico-Demo-2026'
STAFF_PASSWORD = 'Portico-Staff-2026'
SERVICES = [
    # description, unit price, VAT code, unit
    ("Obsługa księgowa – pełna księgowość", '1800.00', '23', 'uom_unit'),
    ("Obsługa kadrowo-płacowa (za pracownika)", '95.00', '23', 'uom_unit'),
    ("Doradztwo prawne", '350.00', '23', 'uom_hour'),
    ("Wirtualne biuro – adres do doręczeń", '149.00', '23', 'uom_unit'),
    ("Szkolenie BHP online", '120.00', 'zw', 'uom_unit'),
    ("Catering na spotkanie zarządu", '640.00', '8', 'uom_unit'),
    ("Publikacja branżowa (e-book)", '89.00', '5', 'uom_unit'),
    ("Usługa doradcza dla kontrahenta z UE", '2100.00', '0', 'uom_unit'),
    ]
CLIENTS = [
    # name, NIP prefix, street, postal code, city, e-mail, phone, language
    ("Zielona Dolina sp. z o.o.", '677231994', "ul. Wielicka 28",
        '30-552', "Kraków", 'biuro@zielonadolina.example.pl',
        '+48 12 654 33 10', 'pl'),
    ("Nowak Design Anna Nowak", '583301245', "ul. Długa 45/3", '80-827',
        "Gdańsk", 'anna@nowakdesign.example.pl', '+48 601 220 114', 'pl'),
    ("TechStart Innovations sp. z o.o.", '899287651',
        "pl. Solny 14", '50-062', "Wrocław", 'office@techstart.example.com',
        '+48 71 700 12 90', 'en'),
    ]
USERS = [
    # client index, e-mail, first name, last name, language
    (0, 'jan.kowalczyk@zielonadolina.example.pl', "Jan", "Kowalczyk", 'pl'),
    (0, 'ksiegowosc@zielonadolina.example.pl', "Maria", "Lis", 'pl'),
    (1, 'anna@nowakdesign.example.pl', "Anna", "Nowak", 'pl'),
    (2, 'olivia.smith@techstart.example.com', "Olivia", "Smith", 'en'),
    ]
NEWS = [
    (2, "Nowe stawki ryczałtu od 1 stycznia 2027",
        "Przygotowaliśmy zestawienie zmian w ryczałcie od przychodów "
        "ewidencjonowanych na 2027 rok.\n\nJeśli rozważacie Państwo zmianę "
        "formy opodatkowania, prosimy o kontakt z opiekunem do 20 stycznia.",
        "New flat-rate tax rates from 1 January 2027",
        "We have summarised the changes to the flat-rate income tax for "
        "2027.\n\nIf you are considering a change of taxation, contact "
        "your manager by 20 January."),
    (9, "KSeF: faktury zakupowe w portalu",
        "Faktury wystawione na Państwa firmę w Krajowym Systemie e-Faktur "
        "pojawiają się w portalu automatycznie.\n\nProsimy o ich "
        "sprawdzenie i akceptację w ciągu 5 dni roboczych.",
        "KSeF: purchase invoices in the portal",
        "Invoices issued to your company in the National e-Invoice System "
        "now appear in the portal on their own.\n\nPlease check and accept "
        "them within 5 business days."),
    (21, "Godziny pracy biura w okresie świątecznym",
        "W dniach 24–26 grudnia biuro będzie nieczynne. 31 grudnia "
        "pracujemy do 13:00.",
        "Office hours over the holidays",
        "The office is closed from 24 to 26 December. On 31 December we "
        "work until 1 pm."),
    (40, "Przypomnienie: JPK_V7 za październik",
        "Termin złożenia JPK_V7M za październik upływa 25 listopada. "
        "Prosimy o przekazanie brakujących dokumentów kosztowych do 10 "
        "listopada.",
        "Reminder: JPK_V7 for October",
        "The JPK_V7M for October is due on 25 November. Please send the "
        "missing cost documents by 10 November."),
    ]


def build_demo(today=None):
    """The demo firm: staff, three clients with portal users, about sixty
    documents in every state, news. Returns the Firm."""
    pool = Pool()
    Notification = pool.get('portal.notification')
    firm = setup_firm(today)
    today = firm.today
    manager = create_staff(firm, 'marta', "Marta Kowalska",
        ['client_portal.group_portal_manager', 'party.group_party_admin'],
        STAFF_PASSWORD)
    manager2 = create_staff(firm, 'piotr', "Piotr Wójcik",
        ['client_portal.group_portal_manager', 'party.group_party_admin'],
        STAFF_PASSWORD)
    create_staff(firm, 'ewa', "Ewa Wiśniewska",
        ['client_portal.group_portal_accountant', 'account.group_account'],
        STAFF_PASSWORD)
    create_staff(firm, 'jan', "Jan Zieliński",
        ['client_portal.group_portal_head', 'account.group_account',
            'party.group_party_admin'],
        STAFF_PASSWORD)
    firm.staff = {'manager': manager, 'manager2': manager2}

    clients = []
    for index, (name, prefix, street, postal, city, email, phone,
            lang) in enumerate(CLIENTS):
        clients.append(create_client(firm, name, nip(prefix), street,
                postal, city, email, phone,
                manager=manager if index < 2 else manager2, lang=lang))
        create_bank_account(clients[-1],
            iban('11402004', f'{index + 1:04d}000012345678'))
    firm.clients = clients

    # Invoice numbers must follow invoice dates, so the plan is made per
    # client and carried out in date order across clients.
    rng = random.Random(4711)
    month = today.replace(day=1)
    plan = []
    for client_index, client in enumerate(clients):
        currency = firm.eur if client_index == 2 else firm.pln
        for n in range(19):
            date = month - relativedelta(months=6) + datetime.timedelta(
                days=rng.randint(0, 27)) + relativedelta(months=n // 3)
            if date > today:
                date = today - datetime.timedelta(days=rng.randint(0, 5))
            picks = rng.sample(SERVICES, rng.randint(1, 3))
            lines = [(desc, rng.choice([1, 1, 2, 3, 5]) if unit == 'uom_unit'
                    else rng.choice([2, 4.5, 6, 10]), price, vat, unit)
                for desc, price, vat, unit in picks]
            age = (today - date).days
            kind = n % 6
            if kind in {0, 1, 2} and age > 20:
                settle = ('pay', Decimal(1), rng.randint(3, 14))
            elif kind == 3 and age > 10:
                settle = ('pay', Decimal('0.4'), rng.randint(2, 9))
            elif kind == 4 and age > 75:
                settle = ('pay', Decimal(1), rng.randint(10, 40))
            elif kind == 5 and n % 4 == 1 and age > 15:
                settle = ('credit', None, 5)
            else:
                settle = None
            plan.append((date, client, lines,
                    firm.pln if client_index == 2 and n % 3 == 2
                    else currency, rng.choice([7, 14, 30]), settle))
        # A corrected paid invoice: the client is owed money back
        plan.append((today - datetime.timedelta(days=50), client,
                [(SERVICES[2][0], 3, SERVICES[2][1], '23', 'uom_hour')],
                currency, 14, ('pay_credit', Decimal(1), 5)))
    plan.sort(key=lambda p: p[0])
    credits = []
    for date, client, lines, currency, term, settle in plan:
        invoice = create_invoice(firm, client, date, lines,
            currency=currency, term_days=term)
        if settle is None:
            continue
        kind, share, days = settle
        when = date + datetime.timedelta(days=days)
        if kind in {'pay', 'pay_credit'}:
            amount = (invoice.total_amount * share).quantize(Decimal('0.01'))
            pay(firm, invoice, amount, min(when, today))
        if kind in {'credit', 'pay_credit'}:
            credits.append((
                    today - datetime.timedelta(days=12)
                    if kind == 'pay_credit' else when, invoice))
    for date, invoice in sorted(credits, key=lambda c: c[0]):
        credit(firm, invoice, date)

    firm.users = []
    for client_index, email, first, last, lang in USERS:
        firm.users.append(create_portal_user(clients[client_index], email,
                DEMO_PASSWORD, first, last, lang))
    create_news(firm, NEWS)
    # Imported here: the clients' invoicing demo builds on this module
    from .demo_outgoing import create_startup
    firm.startup = create_startup(firm, manager2)
    # Its suppliers' invoices, registered with their scans
    from .demo_costs import create_cost_invoices
    firm.costs = create_cost_invoices(firm, firm.startup)
    from .demo_decisions import create_decisions
    firm.decisions = create_decisions(firm, firm.startup)
    from .demo_archive import create_archive
    firm.archive = create_archive(firm, firm.startup)
    from .demo_requests import create_requests
    firm.requests = create_requests(firm, firm.startup)
    Notification.notify_overdue()
    return firm



def run_in_transaction(database, func, *args, context=None, user_id=0,
        **kwargs):
    """Run func in a read-write transaction as root (or user_id) and commit
    it, restarting it when trytond asks for table locks (as routes do)."""
    from trytond.transaction import TransactionError
    extras = {}
    while True:
        with Transaction().start(database, user_id, context=context or {},
                **extras) as transaction:
            try:
                result = func(*args, **kwargs)
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            transaction.commit()
        while transaction.tasks:
            from trytond.worker import run_task
            run_task(database, transaction.tasks.pop())
        return result
