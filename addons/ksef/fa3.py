"""The FA(3) XML of an account.invoice: the firm's own invoices and credit
notes, and the invoices and corrections its clients issue in its name.

The document is ksef-client's FA(3) model (FA3Invoice and its parts) filled
from the Tryton records; the wordings and amounts the law asks for are read
with the same helpers as the PDF (client_portal's outgoing_report.py), so the
XML says what the PDF says. Facts: POLAND.md §1 (content, rounding,
currency), §2.1 (corrections), §3.2 (structure), §4 (rates)."""
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from ksef_client.documents.fa3 import (
    Address, AnnotationSet, BankAccount, CorrectionReference, Discount,
    FA3Invoice, FA3InvoiceKind, FA3XmlValidationError, InvoiceLine,
    InvoiceParty, PartyIdentifier, PartyIdentifierKind, PaymentTerms,
    TaxCategory)
from lxml import etree
from stdnum.eu import vat as stdnum_eu_vat

from trytond.i18n import lazy_gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from . import xsd
from .configuration import get_configuration

CENT = Decimal('0.01')
POLISH_TYPES = {'pl_vat', 'pl_nip'}
# ISO country code -> VAT number prefix where they differ
VAT_PREFIXES = {'GR': 'EL'}
EU_PREFIXES = {VAT_PREFIXES.get(c.upper(), c.upper())
    for c in stdnum_eu_vat.MEMBER_STATES}
# Rates by their value, for taxes without a portal VAT code; a 0 % rate
# says nothing of domestic, intra-EU supply or export: it needs the code
PERCENT_CODES = {Decimal('0.23'): '23', Decimal('0.22'): '22',
    Decimal('0.08'): '8', Decimal('0.07'): '7', Decimal('0.05'): '5'}
# Portal payment methods -> FA(3) FormaPlatnosci; the others have no code
# and go as PlatnoscInna with their description
PAYMENT_FORMS = {'transfer': '6', 'cash': '1', 'card': '2'}
OTHER_PAYMENTS = {'compensation': "Kompensata", 'other': "Inna"}
SYSTEM_INFO = 'Portico'
# ksef-client's business rules that neither the XSD nor the law share:
# corrections given as difference rows have negative quantities or prices
# (P_8B, P_9A are signed in the XSD), an "after" row may be zero, and the
# reason of a correction is optional since 2022 (facts §2.1)
TOLERATED = (
    'ilość musi być większa od zera',
    'cena netto nie może być ujemna',
    'przyczyna korekty jest wymagana',
    )
# ksef-client's paths in its messages -> the FA(3) elements they fill
LIBRARY_FIELDS = [
    ('invoice.seller.address', 'Podmiot1/Adres'),
    ('invoice.seller.identifier', 'Podmiot1/DaneIdentyfikacyjne/NIP'),
    ('invoice.seller', 'Podmiot1'),
    ('invoice.buyer.address', 'Podmiot2/Adres'),
    ('invoice.buyer.identifier', 'Podmiot2/DaneIdentyfikacyjne'),
    ('invoice.buyer', 'Podmiot2'),
    ('invoice.lines', 'Fa/FaWiersz'),
    ('invoice.payment_terms', 'Fa/Platnosc'),
    ('invoice.corrected_invoices', 'Fa/DaneFaKorygowanej'),
    ('invoice.correction_reason', 'Fa/PrzyczynaKorekty'),
    ('invoice.invoice_number', 'Fa/P_2'),
    ('invoice.issue_date', 'Fa/P_1'),
    ('invoice', 'Faktura'),
    ]


class FA3Error(ValueError):
    """The invoice cannot be an FA(3) document: the field at fault and why.
    Our own messages are lazy: the document is read in Polish, the message
    is shown in the user's language."""

    def __init__(self, field, message):
        super().__init__(field, message)
        self.field = field
        self.message = message


def _round(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _compact(code):
    return ''.join(c for c in (code or '') if c.isalnum()).upper()


def polish_nip(type_, code):
    "The 10 digits of a Polish NIP identifier, else None"
    code = _compact(code)
    if type_ in POLISH_TYPES or (type_ == 'eu_vat' and code[:2] == 'PL'):
        if code[:2] == 'PL':
            code = code[2:]
        return code or None


def seller_nip(company, identifier=None):
    "The firm's NIP: the invoice's tax identifier, else the company's"
    candidates = [identifier] if identifier else []
    candidates += list(company.tax_identifiers or []) if hasattr(
        company, 'tax_identifiers') else []
    candidates += list(company.party.identifiers)
    for candidate in candidates:
        candidate = getattr(candidate, 'tax_identifier', candidate)
        if candidate is None:
            continue
        nip = polish_nip(candidate.type, candidate.code)
        if nip:
            return nip


def buyer_identifier(type_, code, country=None):
    """The FA(3) identification of a buyer from a Tryton identifier (type,
    code) and the buyer's country (ISO code): a Polish NIP, an EU VAT number
    as its country prefix and number, another country's tax number, or none
    (a consumer)"""
    code = _compact(code)
    if not code:
        return PartyIdentifier.none()
    nip = polish_nip(type_, code)
    if nip:
        return PartyIdentifier.polish_nip(nip)
    prefix = code[:2] if code[:2].isalpha() else None
    type_country = (type_ or '').split('_')[0].upper() if (
        type_ and '_' in type_) else None
    if type_ == 'eu_vat' and prefix:
        prefix = VAT_PREFIXES.get(prefix, prefix)
        if prefix in EU_PREFIXES:
            return PartyIdentifier.eu_vat(prefix, code[2:])
    elif type_country and (type_ or '').endswith('_vat'):
        vat_prefix = VAT_PREFIXES.get(type_country, type_country)
        if vat_prefix in EU_PREFIXES:
            number = code[2:] if prefix == vat_prefix else code
            return PartyIdentifier.eu_vat(vat_prefix, number)
    # Another country's number: its country from the type (us_ein), the
    # prefix of a non-EU "EU VAT" number, else the buyer's address
    if type_country and type_country != 'EU':
        country = type_country
    elif type_ == 'eu_vat' and prefix:
        country = prefix
    return PartyIdentifier.foreign(code, country_code=country or None)


def buyer_kind(identifier):
    "nip, eu, foreign or none"
    return {
        PartyIdentifierKind.NIP: 'nip',
        PartyIdentifierKind.EU_VAT: 'eu',
        PartyIdentifierKind.FOREIGN: 'foreign',
        }.get(identifier.kind, 'none')


def invoice_buyer_identifier(invoice):
    "The buyer's FA(3) identification on the invoice"
    pool = Pool()
    Party = pool.get('party.party')
    party = invoice.party
    if getattr(party, 'portal_consumer', False):
        return PartyIdentifier.none()
    identifier = invoice.party_tax_identifier
    if identifier is None:
        # A draft does not carry it yet; the portal stores foreign numbers
        # Tryton has no type for without a type
        types = set(Party.tax_identifier_types()) | POLISH_TYPES | {
            'eu_vat', None, ''}
        identifier = next((i for i in party.identifiers
                if i.type in types or (i.type or '').endswith('_vat')),
            None)
    if identifier is None:
        return PartyIdentifier.none()
    address = invoice.invoice_address or party.address_get(type='invoice')
    country = address.country.code if address and address.country else None
    return buyer_identifier(identifier.type, identifier.code, country)


def _address(address):
    if not address:
        return None
    street = ' '.join((address.street_single_line or '').split())
    city = ' '.join(x for x in [address.postal_code, address.city] if x)
    line1, line2 = (street, city) if street else (city, None)
    if not line1:
        return None
    country = address.country.code if address.country else 'PL'
    return Address(line1=line1, country_code=country, line2=line2 or None)


def vat_code(tax):
    "The FA(3) P_12 code of a tax"
    if tax.portal_vat_code:
        return tax.portal_vat_code
    if tax.type == 'percentage' and tax.rate is not None:
        return PERCENT_CODES.get(tax.rate)


def _tax_category(tax, code):
    if code == 'zw':
        basis = (tax.portal_exemption_basis or '').strip()
        if not basis:
            raise FA3Error('Fa/Adnotacje/Zwolnienie', lazy_gettext(
                    'ksef.msg_fa3_exemption_basis', tax=tax.rec_name))
        return TaxCategory.exempt(
            basis, basis_type=tax.ksef_exemption_basis_type or 'law')
    return TaxCategory.from_rate_code(code)


class _Row:
    "One FaWiersz in the making"

    def __init__(self, line, before, tax, code, category):
        self.line = line
        self.before = before
        self.tax = tax
        self.code = code
        self.category = category
        sign = -1 if before else 1
        self.quantity = Decimal(str(line.quantity or 0)) * sign
        self.net = _round((line.amount or 0) * sign)
        self.discount = line.portal_discount or None
        if self.discount and line.portal_list_price is not None:
            self.unit_price = line.portal_list_price
        else:
            self.unit_price = line.unit_price or Decimal(0)
            self.discount = None
        rate = category.vat_rate
        self.vat = (_round(self.net * rate / 100)
            if rate is not None else None)

    @property
    def signed_vat(self):
        return -self.vat if self.before else self.vat


def _rows(invoice, correction):
    """The rows of the document: a client's correction's "before" lines
    first (StanPrzed, as they stood), then its other lines"""
    lines = [l for l in invoice.lines if l.type == 'line']
    if correction == 'client':
        lines.sort(key=lambda l: l.portal_side != 'before')
    rows = []
    for index, line in enumerate(lines, 1):
        coded = [(t, vat_code(t)) for t in line.taxes]
        coded = [(t, c) for t, c in coded if c]
        if len(coded) != 1:
            raise FA3Error(f'Fa/FaWiersz[{index}]/P_12', lazy_gettext(
                    'ksef.msg_fa3_line_rate',
                    line=line.description or line.rec_name))
        (tax, code), = coded
        before = correction == 'client' and line.portal_side == 'before'
        rows.append(_Row(line, before, tax, code, _tax_category(tax, code)))
    return rows


def _balance_vat(invoice, rows):
    """VAT per row such that the rows of a rate add up to the VAT booked
    for it: on the rate's total (art. 106e ust. 1 pkt 14) the rows' VAT
    may differ from it by a grosz; the difference goes to the largest row"""
    booked = defaultdict(Decimal)
    for tax_line in invoice.taxes:
        if tax_line.tax:
            code = vat_code(tax_line.tax)
            if code:
                booked[code] += tax_line.amount
    for code, amount in booked.items():
        taxed = [r for r in rows if r.code == code and r.vat is not None]
        if not taxed:
            continue
        residual = amount - sum(r.signed_vat for r in taxed)
        if residual:
            row = max(taxed, key=lambda r: (not r.before, abs(r.net)))
            row.vat += -residual if row.before else residual


def _nbp_rate(invoice):
    if invoice.portal_nbp_rate:
        return invoice.portal_nbp_rate
    for original in corrected_invoices(invoice):
        # A correction keeps the rate of the invoice it corrects
        rate = _nbp_rate(original)
        if rate:
            return rate
    if invoice.portal_pln_rate:
        return invoice.portal_pln_rate[0]


def _currency_rate(invoice):
    "The NBP rate converting the VAT to złoty, of a foreign-currency invoice"
    if invoice.currency == invoice.company.currency:
        return None
    rate = _nbp_rate(invoice)
    if not rate:
        raise FA3Error('Fa/FaWiersz/KursWaluty', lazy_gettext(
                'ksef.msg_fa3_no_rate', currency=invoice.currency.code,
                date=invoice.invoice_date))
    return rate


def _due_dates(invoice):
    if invoice.portal_due_date:
        return [invoice.portal_due_date]
    if invoice.lines_to_pay:
        return sorted({l.maturity_date for l in invoice.lines_to_pay
                if l.maturity_date})
    date = invoice.payment_term_date or invoice.invoice_date
    if invoice.payment_term:
        # Before posting there is no move yet: the maturities it will have
        return sorted({d for d, _ in invoice.payment_term.compute(
                    invoice.total_amount, invoice.currency, date)})
    return [date] if date else []


def _payment(invoice):
    "Platnosc of what the buyer has to pay; a refund has none"
    if invoice.total_amount <= 0:
        return None
    method = invoice.portal_payment_method or 'transfer'
    accounts = []
    if method == 'transfer':
        accounts = [BankAccount(number=_compact(n))
            for n in invoice.portal_pdf_bank_accounts]
    return PaymentTerms(
        due_dates=tuple(_due_dates(invoice)),
        method=PAYMENT_FORMS.get(method),
        other_method_description=(None if method in PAYMENT_FORMS
            else OTHER_PAYMENTS.get(method, OTHER_PAYMENTS['other'])),
        bank_accounts=tuple(accounts))


def correction_kind(invoice):
    """client: a portal correction with before and after lines; firm: a
    credit note whose lines come from other invoices (difference rows);
    None: an invoice"""
    if invoice.portal_kind == 'correction':
        return 'client'
    if invoice.portal_corrected_invoices:
        return 'firm'


def corrected_invoices(invoice):
    "The invoices a correction corrects"
    kind = correction_kind(invoice)
    if kind == 'client':
        return [invoice.portal_corrected] if invoice.portal_corrected else []
    if kind == 'firm':
        return invoice.portal_corrected_invoices
    return []


def _annotations(invoice, rows, configuration):
    exempt = [r.tax for r in rows if r.code == 'zw']
    bases = invoice.portal_pdf_exemption_bases
    return AnnotationSet(
        cash_method=bool(configuration.cash_accounting),
        reverse_charge=invoice.portal_pdf_reverse_charge,
        split_payment=invoice.portal_pdf_split_payment,
        exemption_basis='; '.join(bases) or None,
        exemption_basis_type=(exempt[0].ksef_exemption_basis_type or 'law')
        if exempt else 'law')


def document(invoice):
    """The ksef-client FA3Invoice of an account.invoice, and the NBP rate
    of its VAT in złoty (None in złoty)"""
    configuration = get_configuration()
    company = invoice.company
    correction = correction_kind(invoice)
    corrected = corrected_invoices(invoice)
    rows = _rows(invoice, correction)
    _balance_vat(invoice, rows)
    rate = _currency_rate(invoice)
    company_address = company.party.address_get(type='invoice')
    seller = InvoiceParty(
        name=company.party.name or '',
        identifier=PartyIdentifier.polish_nip(
            seller_nip(company, invoice.tax_identifier) or ''),
        address=_address(company_address))
    buyer_address = invoice.invoice_address or invoice.party.address_get(
        type='invoice')
    buyer = InvoiceParty(
        name=invoice.party.name or '',
        identifier=invoice_buyer_identifier(invoice),
        address=_address(buyer_address))
    lines = tuple(InvoiceLine(
            description=(r.line.description
                or (r.line.product.rec_name if r.line.product else '')),
            quantity=r.quantity,
            unit_net_price=r.unit_price,
            tax=r.category,
            unit=(r.line.unit.symbol if r.line.unit else None) or 'szt',
            discount=Discount.percent(r.discount) if r.discount else None,
            net_amount=r.net,
            vat_amount=r.vat,
            gtu=r.line.portal_gtu or None,
            annex_15=bool(r.line.portal_annex15),
            currency_rate=rate,
            before_correction=r.before,
            ) for r in rows)
    sale_date = invoice.portal_sale_date
    return FA3Invoice(
        invoice_number=invoice.number or '',
        issue_date=invoice.invoice_date,
        seller=seller,
        buyer=buyer,
        lines=lines,
        kind=FA3InvoiceKind.CORRECTION if correction
        else FA3InvoiceKind.BASIC,
        currency=invoice.currency.code,
        issue_place=(company_address.city or None)
        if company_address else None,
        # P_6 only when the supply differs from the issue date (art. 106e
        # ust. 1 pkt 6)
        sale_date=sale_date if sale_date != invoice.invoice_date else None,
        annotations=_annotations(invoice, rows, configuration),
        payment_terms=_payment(invoice),
        correction_reason=(invoice.portal_correction_reason or None)
        if correction else None,
        correction_type=configuration.correction_type if correction
        else None,
        corrected_invoices=tuple(CorrectionReference(
                c.number or '', c.invoice_date, c.ksef_number or None)
            for c in corrected)), rate


def _library_field(issue):
    path, _, text = issue.message.partition(': ')
    field = path if text else 'invoice'
    for prefix, element in LIBRARY_FIELDS:
        if field.startswith(prefix):
            field = element + field[len(prefix):].split('.')[0]
            break
    if 'nazwa jest wymagana' in issue.message:
        field += '/DaneIdentyfikacyjne/Nazwa'
    return field


def _finish(xml, rate):
    """What ksef-client does not let us set: the system's name, and the VAT
    in złoty per rate as the XSD describes P_14_xW, the rate's VAT
    converted (ksef-client converts line by line and sums, a grosz apart)"""
    root = etree.fromstring(xml)
    ns = {'f': xsd.NAMESPACE}
    for info in root.iterfind('f:Naglowek/f:SystemInfo', ns):
        info.text = SYSTEM_INFO
    if rate:
        fa = root.find('f:Fa', ns)
        for element in fa.iterfind('*', ns):
            name = etree.QName(element).localname
            if name.startswith('P_14_') and name.endswith('W'):
                vat = fa.find(f'f:{name[:-1]}', ns)
                element.text = str(_round(Decimal(vat.text) * rate))
    return etree.tostring(root, xml_declaration=True, encoding='UTF-8')


def build(invoice):
    """The FA(3) XML (bytes) of the invoice, valid against the FA(3) XSD;
    FA3Error names the field at fault. Read in Polish: the legal wordings
    (exemption bases) are the Polish ones."""
    with Transaction().set_context(language='pl'):
        invoice = invoice.__class__(invoice.id)
        model, rate = document(invoice)
    errors = [i for i in model.validate().errors
        if not any(t in i.message for t in TOLERATED)]
    if errors:
        raise FA3Error(_library_field(errors[0]), errors[0].message)
    try:
        xml = model.to_xml(validate=False, facets=False)
    except (FA3XmlValidationError, ValueError) as error:
        raise FA3Error('Faktura', str(error)) from error
    xml = _finish(xml, rate)
    try:
        xsd.validate(xml)
    except xsd.XSDError as error:
        raise FA3Error(error.path, error.message) from error
    return xml
