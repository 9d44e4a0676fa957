"""The PDF of a payroll bill (rachunek) in its language: the parties, the
contract, the work of the period and every step of the calculation down to
the net pay and the payer's total cost, the account the net is paid to and
the signatures. The words are here; report/bill.html lays them out."""
from collections import namedtuple

from stdnum import iban as stdnum_iban

from client_portal.formatting import date as format_date
from client_portal.pdf import HTMLReport

from trytond.pool import Pool

from .contract import format_amount

WORDS = {
    'pl': {
        'title': "RACHUNEK",
        'number': "Nr",
        'draft': "PROJEKT",
        'date': "Data wystawienia",
        'payer': "Zleceniodawca (płatnik)",
        'payer_work': "Zamawiający (płatnik)",
        'contractor': "Zleceniobiorca",
        'contractor_work': "Wykonawca",
        'nip': "NIP",
        'pesel': "PESEL",
        'passport': "Paszport",
        'tax_office': "Urząd skarbowy",
        'contract': "do umowy {kind} nr {number} z dnia {date}",
        'kinds': {'mandate': "zlecenia", 'work': "o dzieło"},
        'period': "Okres wykonania",
        'work': "Wykonana praca",
        'hours': "{hours} godz. × {rate} zł = {amount} zł",
        'lump_sum': "Wynagrodzenie ryczałtowe: {amount} zł",
        'target_net': "Kwota brutto ustalona z kwoty netto {net} zł",
        'contractor_side': "Rozliczenie wynagrodzenia",
        'payer_side': "Składki finansowane przez płatnika",
        'steps': {
            'gross': "Wynagrodzenie brutto",
            'pension_contractor': "Składka emerytalna",
            'disability_contractor': "Składka rentowa",
            'sickness': "Składka chorobowa",
            'social_contractor': "Razem składki społeczne zleceniobiorcy",
            'health_base': "Podstawa składki zdrowotnej",
            'health': "Składka zdrowotna",
            'kup_base': "Podstawa kosztów uzyskania przychodu",
            'kup_normal': "Koszty uzyskania przychodu 20%",
            'kup_copyright': "Koszty uzyskania przychodu 50% "
            "(prawa autorskie)",
            'kup': "Razem koszty uzyskania przychodu",
            'under26_relief': "Przychód zwolniony (ulga dla młodych)",
            'tax_base': "Podstawa opodatkowania (zaokrąglona do pełnych zł)",
            'tax_before_reduction': "Podatek przed pomniejszeniem",
            'tax_reduction': "Kwota zmniejszająca podatek (PIT-2)",
            'pit': "Zaliczka na podatek dochodowy",
            'net': "DO WYPŁATY",
            'pension_payer': "Składka emerytalna płatnika",
            'disability_payer': "Składka rentowa płatnika",
            'accident': "Składka wypadkowa",
            'labour_fund': "Fundusz Pracy",
            'fgsp': "Fundusz Gwarantowanych Świadczeń Pracowniczych",
            'payer_contributions': "Razem składki płatnika",
            'payer_total_cost': "CAŁKOWITY KOSZT PŁATNIKA",
            },
        'flat_tax': "Zryczałtowany podatek dochodowy",
        'flat_tax_note': "Podatek zryczałtowany (art. 30 ust. 1 pkt 5a lub "
        "art. 29 ustawy o PIT): bez kosztów i bez PIT-2.",
        'bank': "Kwotę do wypłaty proszę przelać na rachunek",
        'no_bank': "Kwota do wypłaty płatna gotówką.",
        'confirm': "Potwierdzam wykonanie pracy zgodnie z umową.",
        'sign_contractor': "Podpis zleceniobiorcy",
        'sign_contractor_work': "Podpis wykonawcy",
        'sign_payer': "Zatwierdzono do wypłaty (płatnik)",
        'currency': "zł",
        },
    'en': {
        'title': "BILL (RACHUNEK)",
        'number': "No.",
        'draft': "DRAFT",
        'date': "Date of issue",
        'payer': "Principal (payer)",
        'payer_work': "Ordering Party (payer)",
        'contractor': "Contractor",
        'contractor_work': "Contractor",
        'nip': "NIP",
        'pesel': "PESEL",
        'passport': "Passport",
        'tax_office': "Tax office",
        'contract': "under the {kind} no. {number} of {date}",
        'kinds': {'mandate': "mandate contract",
            'work': "contract for specific work"},
        'period': "Period of work",
        'work': "Work done",
        'hours': "{hours} h × {rate} PLN = {amount} PLN",
        'lump_sum': "Lump sum: {amount} PLN",
        'target_net': "Gross found from the net of {net} PLN",
        'contractor_side': "Calculation of the remuneration",
        'payer_side': "Contributions financed by the payer",
        'steps': {
            'gross': "Gross remuneration",
            'pension_contractor': "Pension contribution",
            'disability_contractor': "Disability contribution",
            'sickness': "Sickness contribution",
            'social_contractor': "Contractor's social contributions",
            'health_base': "Health contribution base",
            'health': "Health contribution",
            'kup_base': "Tax-deductible costs base",
            'kup_normal': "Tax-deductible costs 20%",
            'kup_copyright': "Tax-deductible costs 50% (copyright)",
            'kup': "Total tax-deductible costs",
            'under26_relief': "Income exempt (under 26)",
            'tax_base': "Tax base (rounded to full złoty)",
            'tax_before_reduction': "Tax before reduction",
            'tax_reduction': "Tax-reducing amount (PIT-2)",
            'pit': "Income tax advance",
            'net': "NET TO PAY",
            'pension_payer': "Payer's pension contribution",
            'disability_payer': "Payer's disability contribution",
            'accident': "Accident contribution",
            'labour_fund': "Labour Fund",
            'fgsp': "Guaranteed Employee Benefits Fund",
            'payer_contributions': "Payer's contributions",
            'payer_total_cost': "TOTAL COST TO THE PAYER",
            },
        'flat_tax': "Flat-rate income tax",
        'flat_tax_note': "Flat-rate tax (art. 30(1)(5a) or art. 29 of the "
        "PIT Act): no costs, no PIT-2.",
        'bank': "Please transfer the net pay to the account",
        'no_bank': "The net pay is paid in cash.",
        'confirm': "I confirm the work was done under the contract.",
        'sign_contractor': "Contractor's signature",
        'sign_contractor_work': "Contractor's signature",
        'sign_payer': "Approved for payment (payer)",
        'currency': "PLN",
        },
    }
# The contractor's side, then the payer's: (step, emphasised)
CONTRACTOR_STEPS = [
    ('gross', True), ('pension_contractor', False),
    ('disability_contractor', False), ('sickness', False),
    ('social_contractor', True), ('health_base', False), ('health', True),
    ('kup_base', False), ('kup_normal', False), ('kup_copyright', False),
    ('kup', True), ('under26_relief', False), ('tax_base', False),
    ('tax_before_reduction', False), ('tax_reduction', False),
    ('pit', True), ('net', True),
    ]
PAYER_STEPS = [
    ('pension_payer', False), ('disability_payer', False),
    ('accident', False), ('labour_fund', False), ('fgsp', False),
    ('payer_contributions', True), ('payer_total_cost', True),
    ]
# Shown only when they apply
OPTIONAL = {'kup_copyright', 'under26_relief', 'tax_reduction'}

Party = namedtuple('Party', ['role', 'name', 'lines'])
Row = namedtuple('Row', ['label', 'amount', 'strong'])
Document = namedtuple('Document', ['words', 'title', 'number', 'date',
        'contract', 'period', 'work', 'parties', 'contractor_rows',
        'payer_rows', 'flat_tax', 'bank', 'signatures', 'currency'])


def _rows(bill, steps, w, language):
    rows = []
    for code, strong in steps:
        amount = getattr(bill, code)
        if code in OPTIONAL and not amount:
            continue
        label = w['steps'][code]
        if code == 'pit' and bill.flat_tax:
            label = w['flat_tax']
        rows.append(Row(label, format_amount(amount or 0, language), strong))
    return rows


def document(bill):
    "Everything the PDF shows of the bill, in the bill's language"
    language = bill.language or 'pl'
    w = WORDS.get(language, WORDS['pl'])
    contract, client = bill.contract, bill.client
    person = bill.contractor or contract.contractor
    work = contract.kind == 'work'
    address = client.address_get()
    tax = client.tax_identifier
    payer_lines = list(address.full_address.splitlines() if address else [])
    if tax:
        payer_lines.append(f"{w['nip']}: {tax.code}")
    person_lines = list(person.address_lines)
    if person.pesel:
        person_lines.append(f"{w['pesel']}: {person.pesel}")
    elif person.passport:
        person_lines.append(f"{w['passport']}: {person.passport}")
    if person.tax_office:
        person_lines.append(f"{w['tax_office']}: {person.tax_office}")
    parties = [
        Party(w['payer_work' if work else 'payer'], client.name,
            payer_lines),
        Party(w['contractor_work' if work else 'contractor'], person.name,
            person_lines),
        ]
    amount = format_amount(bill.amount if bill.amount is not None
        else bill.gross, language)
    if bill.hours is not None and bill.rate is not None:
        work_line = w['hours'].format(
            hours=format_amount(bill.hours, language).rstrip('0').rstrip(
                ',.'),
            rate=format_amount(bill.rate, language),
            amount=format_amount(bill.hours * bill.rate, language))
    else:
        work_line = w['lump_sum'].format(amount=amount)
    work_lines = [work_line]
    if bill.target_net:
        work_lines.append(w['target_net'].format(
                net=format_amount(bill.target_net, language)))
    bank = w['no_bank']
    if person.iban:
        bank = f"{w['bank']}: {stdnum_iban.format(person.iban)}"
    return Document(
        words=w,
        title=w['title'],
        number=bill.number or w['draft'],
        date=format_date(bill.date or Pool().get('ir.date').today()),
        contract=w['contract'].format(
            kind=w['kinds'].get(contract.kind, ''),
            number=contract.rec_name, date=format_date(contract.date)),
        period=(f"{format_date(bill.period_start)} – "
            f"{format_date(bill.period_end)}"),
        work=work_lines,
        parties=parties,
        contractor_rows=_rows(bill, CONTRACTOR_STEPS, w, language),
        payer_rows=_rows(bill, PAYER_STEPS, w, language),
        flat_tax=w['flat_tax_note'] if bill.flat_tax else '',
        bank=bank,
        signatures=[
            (w['sign_contractor_work' if work else 'sign_contractor'],
                person.name),
            (w['sign_payer'], client.name),
            ],
        currency=w['currency'])


class BillReport(HTMLReport):
    "A payroll bill as PDF"
    __name__ = 'payroll.bill.pdf'
    document = staticmethod(document)
