"""What the PDF of a client's own document (invoice, proforma, correction)
reads from it: line rows, totals per rate, wordings the law asks for, the
amount in words. Everything here is for report/invoice_pdf.html; amounts
are Decimal and rounded half-up to the grosz (facts/POLAND.md §1.3)."""
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .tax import REVERSE_CHARGE

CENT = Decimal('0.01')
# Above it, with an annex 15 line, "mechanizm podzielonej płatności"
# (VAT art. 106e ust. 1 pkt 18a)
MPP_THRESHOLD = Decimal('15000')
# FA(3) P_12 codes as printed, in the order of the rate summary
RATE_LABELS = {
    '23': ("23%", "23%"),
    '8': ("8%", "8%"),
    '5': ("5%", "5%"),
    '0 KR': ("0%", "0%"),
    '0 WDT': ("0% WDT", "0% WDT"),
    '0 EX': ("0% eksport", "0% export"),
    'zw': ("zw", "zw"),
    'oo': ("oo", "oo"),
    'np I': ("np", "np"),
    'np II': ("np", "np"),
    }
RATE_ORDER = list(RATE_LABELS)

Row = namedtuple('Row', ['description', 'unit', 'quantity', 'digits',
        'unit_price', 'discount', 'net', 'rate', 'vat', 'gross'])
RateRow = namedtuple('RateRow', ['rate', 'net', 'vat', 'gross'])
# A code the buyer scans to verify the document (KSeF's KOD I): the image as
# a data: URI (the PDF engine loads nothing else), the caption under it and
# the link it encodes
Verification = namedtuple('Verification', ['image', 'caption', 'link'])


def _round(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _language():
    return (Transaction().language or 'pl')[:2]


def amount_in_words(amount, currency_code, language=None):
    """The amount written out, e.g. "sto dwadzieścia trzy złote, czterdzieści
    pięć groszy"; currencies num2words does not name end in "xx/100 CODE"."""
    language = language or _language()
    language = 'pl' if language == 'pl' else 'en'
    amount = _round(abs(amount))
    try:
        return num2words(amount, lang=language, to='currency',
            currency=currency_code)
    except NotImplementedError:
        units = int(amount)
        cents = int((amount - units) * 100)
        return (f'{num2words(units, lang=language)} {currency_code} '
            f'{cents:02d}/100')


def _tax_key(tax):
    return tax.portal_vat_code or tax.description or tax.name


def _rate_label(tax):
    labels = RATE_LABELS.get(tax.portal_vat_code)
    if labels:
        return labels[0] if _language() == 'pl' else labels[1]
    return tax.description or tax.name


def _rate_sort(key):
    return (RATE_ORDER.index(key) if key in RATE_ORDER else len(RATE_ORDER),
        str(key))


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @property
    def portal_report_language(self):
        "The language the stored PDF is rendered in"
        if self.portal_issuer and self.portal_language:
            return self.portal_language
        return self.party_lang or False

    @property
    def portal_pdf_layout(self):
        if self.portal_template:
            return self.portal_template.layout
        return 'standard'

    @property
    def portal_pdf_title(self):
        "invoice, proforma or correction: the template words each one"
        return self.portal_kind or 'invoice'

    @property
    def portal_pdf_draft(self):
        "Not issued yet: the PDF is a preview"
        return not self.number

    def _portal_row(self, line, sign=1):
        net = _round(line.amount * sign)
        vat = Decimal(0)
        for tax in line.taxes:
            if tax.type == 'percentage' and tax.rate:
                vat += _round(net * tax.rate)
        list_price = line.portal_list_price
        if list_price is None:
            list_price = line.unit_price
        return Row(
            description=line.description or (
                line.product.rec_name if line.product else ''),
            unit=line.unit.symbol if line.unit else '',
            quantity=Decimal(str(line.quantity or 0)) * sign,
            digits=line.unit.digits if line.unit else 2,
            unit_price=list_price,
            discount=line.portal_discount or None,
            net=net,
            rate=', '.join(_rate_label(t) for t in line.taxes),
            vat=vat,
            gross=net + vat)

    @property
    def _portal_lines(self):
        return [l for l in self.lines if l.type == 'line']

    @property
    def portal_pdf_before_lines(self):
        """Lines of the corrected document as it stood; stored negated on an
        issued correction, taken from the corrected document on a draft"""
        if self.portal_kind != 'correction':
            return [], 1
        before = [l for l in self._portal_lines if l.portal_side == 'before']
        if before:
            return before, -1
        if self.portal_corrected:
            return self.portal_corrected.portal_before_lines, 1
        return [], 1

    @property
    def portal_pdf_rows(self):
        "The document's rows: its lines, or a correction's lines after it"
        return [self._portal_row(l) for l in self._portal_lines
            if l.portal_side != 'before']

    @property
    def portal_pdf_before_rows(self):
        if self.portal_kind != 'correction':
            return []
        lines, sign = self.portal_pdf_before_lines
        return [self._portal_row(l, sign) for l in lines]

    def _portal_rate_rows(self, lines, sign=1):
        """Net, VAT and gross per rate of some lines, with the template's
        VAT rounding: on the rate's total net, or per line then summed"""
        per_line = (self.portal_template
            and self.portal_template.tax_rounding == 'line')
        groups = {}
        for line in lines:
            net = _round(line.amount * sign)
            for tax in line.taxes:
                key = _tax_key(tax)
                group = groups.setdefault(key, [tax, Decimal(0), Decimal(0)])
                group[1] += net
                if per_line and tax.type == 'percentage' and tax.rate:
                    group[2] += _round(net * tax.rate)
        rows = []
        for key in sorted(groups, key=_rate_sort):
            tax, net, vat = groups[key]
            if not per_line and tax.type == 'percentage' and tax.rate:
                vat = _round(net * tax.rate)
            rows.append(RateRow(_rate_label(tax), net, vat, net + vat))
        return rows

    @property
    def portal_pdf_rate_rows(self):
        """Net, VAT and gross per rate as booked: the invoice's taxes (a
        correction's are the differences). A draft correction has no
        "before" lines yet: its differences are after minus before."""
        if self.portal_kind == 'correction' and self.portal_pdf_draft:
            return self._portal_difference(
                self.portal_pdf_before_rate_rows,
                self.portal_pdf_after_rate_rows)
        groups = {}
        for tax_line in self.taxes:
            tax = tax_line.tax
            key = _tax_key(tax) if tax else tax_line.description
            group = groups.setdefault(key, [
                    _rate_label(tax) if tax else tax_line.description,
                    Decimal(0), Decimal(0)])
            group[1] += tax_line.base
            group[2] += tax_line.amount
        return [RateRow(label, net, vat, net + vat)
            for label, net, vat in (groups[k]
                for k in sorted(groups, key=_rate_sort))]

    @property
    def portal_pdf_before_rate_rows(self):
        if self.portal_kind != 'correction':
            return []
        lines, sign = self.portal_pdf_before_lines
        return self._portal_rate_rows(lines, sign)

    @property
    def portal_pdf_after_rate_rows(self):
        return self._portal_rate_rows(
            [l for l in self._portal_lines if l.portal_side != 'before'])

    @staticmethod
    def _portal_difference(before, after):
        rows = {}
        for sign, side in ((-1, before), (1, after)):
            for row in side:
                net, vat = rows.get(row.rate, (Decimal(0), Decimal(0)))
                rows[row.rate] = (net + sign * row.net, vat + sign * row.vat)
        return [RateRow(rate, net, vat, net + vat)
            for rate, (net, vat) in rows.items()]

    @property
    def portal_pdf_totals(self):
        "(net, VAT, gross) of the document: a correction's differences"
        rows = self.portal_pdf_rate_rows
        net = sum((r.net for r in rows), Decimal(0))
        vat = sum((r.vat for r in rows), Decimal(0))
        return net, vat, net + vat

    @staticmethod
    def _portal_sum(rows):
        net = sum((r.net for r in rows), Decimal(0))
        vat = sum((r.vat for r in rows), Decimal(0))
        return net, vat, net + vat

    @property
    def portal_pdf_before_totals(self):
        return self._portal_sum(self.portal_pdf_before_rate_rows)

    @property
    def portal_pdf_after_totals(self):
        return self._portal_sum(self.portal_pdf_after_rate_rows)

    @property
    def portal_pdf_amount_due(self):
        "What the buyer pays; negative when a correction refunds"
        return self.portal_pdf_totals[2]

    @property
    def portal_pdf_amount_in_words(self):
        return amount_in_words(
            self.portal_pdf_amount_due, self.currency.code)

    @property
    def portal_pdf_amount_due_pln(self):
        """The amount due in złoty: at the document's NBP rate (the one of
        its VAT in PLN), else at Tryton's rate of the issue date"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        amount = self.portal_pdf_amount_due
        if self.currency == self.company.currency:
            return amount
        if self.portal_nbp_rate:
            return _round(amount * self.portal_nbp_rate)
        with Transaction().set_context(date=self.invoice_date):
            return Currency.compute(
                self.currency, amount, self.company.currency, round=True)

    @property
    def portal_pdf_split_payment(self):
        "The invoice must say \"mechanizm podzielonej płatności\""
        return (self.portal_kind != 'proforma'
            and abs(self.portal_pdf_amount_due_pln) > MPP_THRESHOLD
            and any(l.portal_annex15 for l in self._portal_lines))

    @property
    def portal_pdf_reverse_charge(self):
        return any(t.portal_vat_code in REVERSE_CHARGE
            for l in self._portal_lines for t in l.taxes)

    @property
    def portal_pdf_exemption_bases(self):
        "Legal bases of the exempt (zw) lines, each once"
        bases = []
        for line in self._portal_lines:
            for tax in line.taxes:
                basis = tax.portal_exemption_basis
                if tax.portal_vat_code == 'zw' and basis \
                        and basis not in bases:
                    bases.append(basis)
        return bases

    @property
    def portal_pdf_bank_accounts(self):
        "The template's account for the currency, else the firm's ones"
        account = (self.portal_template.bank_account_for(self.currency)
            if self.portal_template else None)
        if account:
            return [n.number for n in account.numbers if n.type == 'iban'] \
                or [account.rec_name]
        return self.portal_company_bank_accounts

    @property
    def portal_pdf_buyer_tax_number(self):
        "(is a Polish NIP, the number), or None for a consumer"
        identifier = self.party_tax_identifier
        if not identifier:
            return None
        return identifier.type == 'pl_vat', identifier.code

    @property
    def portal_pdf_verification(self):
        """The Verification printed on the PDF, or None: client_portal has
        none, a module such as ksef provides it"""
        return None

    @property
    def portal_pdf_corrected_ksef(self):
        "The corrected invoice's KSeF number, once the ksef module sets it"
        corrected = self.portal_corrected
        return getattr(corrected, 'ksef_number', None) if corrected else None

    @property
    def portal_firm_vat_pln(self):
        "VAT in PLN of one of the firm's own foreign-currency invoices"
        rate = self.portal_pln_rate
        if rate:
            return _round(self.tax_amount * rate[0])
