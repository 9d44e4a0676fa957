"""The rachunek: what a civil-law contract's gross costs the payer and pays
the contractor, in 2026 Polish rules (facts: POLAND.md §6).

Pure Python on Decimal, no Tryton: the model layer turns records into
Rates, Status and YearToDate and stores the Bill it gets back.

Rates are fractions (0.0976 = 9.76 %); Status.copyright_share is a
percentage 0–100 like the contractor's and the contract's field.

Choices where the sources are uncertain or silent (each marked UNCERTAIN in
the facts):
- Copyright costs above the annual 50 % cap: the excess gets the ordinary
  20 %, not nothing.
- Small contracts (≤ 200 zł): the flat tax is on the gross, not on the
  gross less social contributions (the majority view).
- Non-residents: 20 % flat withholding on the gross, no costs, no
  reduction, no relief; tax treaties and residence certificates are not
  handled. This is the one deliberately simplified rule.
- The payer's own employee: the contract counts as employment, so sickness
  is mandatory and the Labour Fund and FGŚP are always due (the combined
  base with the salary is taken to reach the minimum wage).
- The health contribution is not capped at the PIT advance (how the cap of
  art. 83 is computed is unclear) and PPK is not handled.
"""
import dataclasses
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
GROSZ = Decimal('0.01')
ZLOTY = Decimal(1)
HUNDRED = Decimal(100)

MANDATE = 'mandate'  # umowa zlecenie
WORK = 'work'  # umowa o dzieło

# The PIT-2 shares of the annual reducing amount a payer may apply
PIT2_SHARES = {
    '1/12': Decimal(1) / 12,
    '1/24': Decimal(1) / 24,
    '1/36': Decimal(1) / 36,
    }


def round_grosz(amount):
    "ZUS practice: to the grosz, half up"
    return Decimal(amount).quantize(GROSZ, rounding=ROUND_HALF_UP)


def round_zloty(amount):
    "Art. 63 § 1 OP: below 50 gr down, from 50 gr up"
    return Decimal(amount).quantize(ZLOTY, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rates:
    "A year's parameters; rates are fractions, amounts are złoty"
    minimum_wage: Decimal
    minimum_hourly_rate: Decimal
    pension_rate_contractor: Decimal
    pension_rate_payer: Decimal
    disability_rate_contractor: Decimal
    disability_rate_payer: Decimal
    sickness_rate: Decimal
    accident_rate: Decimal
    labour_fund_rate: Decimal
    fgsp_rate: Decimal
    fgsp_minimum_wage_condition: bool
    health_rate: Decimal
    kup_rate: Decimal
    kup_copyright_rate: Decimal
    kup_copyright_annual_cap: Decimal
    pit_rate: Decimal
    monthly_tax_reduction: Decimal
    flat_tax_threshold: Decimal
    flat_tax_rate: Decimal
    nonresident_tax_rate: Decimal
    pension_base_annual_cap: Decimal
    under26_limit: Decimal


@dataclass(frozen=True)
class Status:
    "The contractor's and the contract's flags that change the bill"
    kind: str = MANDATE
    student_under_26: bool = False
    other_insurance_min_wage: bool = False
    own_employee: bool = False
    pit2: bool = False
    pit2_share: Decimal = PIT2_SHARES['1/12']
    voluntary_sickness: bool = False
    copyright_share: Decimal = ZERO  # percentage 0–100 of the fee
    resident: bool = True
    # Age below 26 (zero PIT on zlecenie up to the annual limit); a
    # student under 26 is under 26 whatever this says
    under26_pit_relief: bool = False

    @property
    def under_26(self):
        return self.under26_pit_relief or self.student_under_26


@dataclass(frozen=True)
class YearToDate:
    """What the contractor's earlier bills of the year (and month) used up,
    so the annual caps hold across bills"""
    kup_copyright: Decimal = ZERO
    pension_base: Decimal = ZERO
    under26_relieved: Decimal = ZERO
    # Earlier bills of the same month: the minimum-wage condition of the
    # Labour Fund is on the month's base, the PIT-2 amount is monthly
    month_base: Decimal = ZERO
    month_tax_reduction: Decimal = ZERO

    def after(self, bill):
        "The year to date once bill, of the same month, is added"
        return dataclasses.replace(self,
            kup_copyright=self.kup_copyright + bill.kup_copyright,
            pension_base=self.pension_base + bill.pension_base,
            under26_relieved=self.under26_relieved + bill.under26_relief,
            month_base=self.month_base + bill.social_base,
            month_tax_reduction=(
                self.month_tax_reduction + bill.tax_reduction))

    def next_month(self):
        "The year to date at the start of a later month of the year"
        return dataclasses.replace(self, month_base=ZERO,
            month_tax_reduction=ZERO)


# (code, label) of Bill.steps(), in the order of the rachunek
STEPS = [
    ('gross', "Gross amount"),
    ('pension_contractor', "Pension contribution (contractor)"),
    ('disability_contractor', "Disability contribution (contractor)"),
    ('sickness', "Sickness contribution"),
    ('social_contractor', "Social contributions (contractor)"),
    ('health_base', "Health contribution base"),
    ('health', "Health contribution"),
    ('kup_base', "Tax-deductible costs base"),
    ('kup_normal', "Tax-deductible costs 20 %"),
    ('kup_copyright', "Tax-deductible costs 50 % (copyright)"),
    ('kup', "Tax-deductible costs"),
    ('under26_relief', "Income exempt (under 26)"),
    ('tax_base', "Tax base"),
    ('tax_before_reduction', "Tax before reduction"),
    ('tax_reduction', "Tax-reducing amount (PIT-2)"),
    ('pit', "Income tax"),
    ('net', "Net to pay"),
    ('pension_payer', "Pension contribution (payer)"),
    ('disability_payer', "Disability contribution (payer)"),
    ('accident', "Accident contribution"),
    ('labour_fund', "Labour Fund"),
    ('fgsp', "Guaranteed Employee Benefits Fund"),
    ('payer_contributions', "Payer's contributions"),
    ('payer_total_cost', "Total cost to the payer"),
    ]


@dataclass(frozen=True)
class Bill:
    "Every step of one rachunek; amounts in złoty"
    gross: Decimal
    social_base: Decimal  # the ZUS base (gross or nothing)
    pension_base: Decimal  # the part of it under the annual cap
    pension_contractor: Decimal
    disability_contractor: Decimal
    sickness: Decimal
    social_contractor: Decimal
    health_base: Decimal
    health: Decimal
    kup_base: Decimal
    kup_normal: Decimal
    kup_copyright: Decimal
    kup: Decimal
    under26_relief: Decimal  # gross exempt from PIT (art. 21 ust. 1 pkt 148)
    tax_base: Decimal
    tax_before_reduction: Decimal
    tax_reduction: Decimal
    pit: Decimal
    flat_tax: bool  # flat tax: ≤ 200 zł contract or non-resident
    net: Decimal
    pension_payer: Decimal
    disability_payer: Decimal
    accident: Decimal
    labour_fund: Decimal
    fgsp: Decimal
    payer_contributions: Decimal
    payer_total_cost: Decimal

    def steps(self):
        "[(code, label, amount)] in the order of the printed rachunek"
        return [(code, label, getattr(self, code)) for code, label in STEPS]

    def as_dict(self):
        return dataclasses.asdict(self)


def _insurance(status):
    "(social, health): which contributions the contract bears"
    if status.own_employee:
        # Art. 8 ust. 2a SUS: counts as employment, whatever the kind
        return True, True
    if status.kind != MANDATE:
        return False, False
    if status.student_under_26:
        return False, False
    if status.other_insurance_min_wage:
        return False, True
    return True, True


def compute(gross, rates, status, ytd=YearToDate(), contract_amount=None):
    """The Bill of gross (złoty) for a contractor of status with ytd
    already billed this year; contract_amount is the amount the contract
    states, for the ≤ 200 zł flat tax (None: not a fixed amount)"""
    if status.kind not in {MANDATE, WORK}:
        raise ValueError(f'No rules for a contract of kind {status.kind!r}')
    gross = round_grosz(gross)
    social, insured_health = _insurance(status)

    social_base = gross if social else ZERO
    pension_base = max(ZERO, min(social_base,
            rates.pension_base_annual_cap - ytd.pension_base))
    pension_contractor = round_grosz(
        pension_base * rates.pension_rate_contractor)
    disability_contractor = round_grosz(
        pension_base * rates.disability_rate_contractor)
    sickness = ZERO
    if social and (status.voluntary_sickness or status.own_employee):
        sickness = round_grosz(social_base * rates.sickness_rate)
    social_contractor = (
        pension_contractor + disability_contractor + sickness)

    health_base = gross - social_contractor if insured_health else ZERO
    health = round_grosz(health_base * rates.health_rate)

    # Zero PIT for under-26s on zlecenie, on the revenue up to the limit;
    # the contributions of the exempt part are not deductible
    under26_relief = ZERO
    if status.kind == MANDATE and status.under_26 and status.resident:
        under26_relief = max(ZERO, min(gross,
                rates.under26_limit - ytd.under26_relieved))
    taxable = gross - under26_relief
    taxable_social = social_contractor
    if under26_relief:
        taxable_social = round_grosz(social_contractor * taxable / gross)

    small = (contract_amount is not None
        and contract_amount <= rates.flat_tax_threshold
        and not status.own_employee)
    kup_base = kup_normal = kup_copyright = kup = ZERO
    tax_reduction = ZERO
    if not status.resident:
        flat_tax = True
        tax_base = round_zloty(gross)
        under26_relief = ZERO
        tax_before_reduction = round_grosz(
            tax_base * rates.nonresident_tax_rate)
    elif small:
        # Art. 30 ust. 1 pkt 5a: final tax on the gross, no costs, no
        # PIT-2 (some practice deducts social contributions first)
        flat_tax = True
        tax_base = round_zloty(taxable)
        tax_before_reduction = round_grosz(tax_base * rates.flat_tax_rate)
    else:
        flat_tax = False
        kup_base = taxable - taxable_social
        kup_normal, kup_copyright = _costs(kup_base, rates, status, ytd)
        kup = kup_normal + kup_copyright
        tax_base = max(ZERO, round_zloty(kup_base - kup))
        tax_before_reduction = round_grosz(tax_base * rates.pit_rate)
        if status.pit2:
            tax_reduction = round_grosz(rates.monthly_tax_reduction * 12
                * status.pit2_share)
            # Once a month, across the month's bills
            tax_reduction = max(ZERO, min(
                    tax_reduction - ytd.month_tax_reduction,
                    tax_before_reduction))
    pit = round_zloty(max(ZERO, tax_before_reduction - tax_reduction))

    net = gross - social_contractor - health - pit

    pension_payer = round_grosz(pension_base * rates.pension_rate_payer)
    disability_payer = round_grosz(
        pension_base * rates.disability_rate_payer)
    accident = round_grosz(social_base * rates.accident_rate)
    # Labour Fund only on a month's base of at least the minimum wage
    minimum = (status.own_employee
        or ytd.month_base + social_base >= rates.minimum_wage)
    labour_fund = fgsp = ZERO
    if social and minimum:
        labour_fund = round_grosz(social_base * rates.labour_fund_rate)
    if social and (minimum or not rates.fgsp_minimum_wage_condition):
        fgsp = round_grosz(social_base * rates.fgsp_rate)
    payer_contributions = (pension_payer + disability_payer + accident
        + labour_fund + fgsp)

    return Bill(
        gross=gross,
        social_base=social_base,
        pension_base=pension_base,
        pension_contractor=pension_contractor,
        disability_contractor=disability_contractor,
        sickness=sickness,
        social_contractor=social_contractor,
        health_base=health_base,
        health=health,
        kup_base=kup_base,
        kup_normal=kup_normal,
        kup_copyright=kup_copyright,
        kup=kup,
        under26_relief=under26_relief,
        tax_base=tax_base,
        tax_before_reduction=tax_before_reduction,
        tax_reduction=tax_reduction,
        pit=pit,
        flat_tax=flat_tax,
        net=net,
        pension_payer=pension_payer,
        disability_payer=disability_payer,
        accident=accident,
        labour_fund=labour_fund,
        fgsp=fgsp,
        payer_contributions=payer_contributions,
        payer_total_cost=gross + payer_contributions,
        )


def _costs(kup_base, rates, status, ytd):
    """(20 % costs, 50 % costs): 50 % on the copyright share within the
    annual cap on such costs, 20 % on the rest and on the part above it"""
    share = max(ZERO, min(HUNDRED, Decimal(status.copyright_share)))
    copyright_base = round_grosz(kup_base * share / HUNDRED)
    kup_copyright = round_grosz(copyright_base * rates.kup_copyright_rate)
    left = max(ZERO, rates.kup_copyright_annual_cap - ytd.kup_copyright)
    if kup_copyright > left:
        kup_copyright = left
        copyright_base = round_grosz(left / rates.kup_copyright_rate)
    kup_normal = round_grosz((kup_base - copyright_base) * rates.kup_rate)
    return kup_normal, kup_copyright


def gross_for_net(target_net, rates, status, ytd=YearToDate(),
        contract_amount=None):
    """The gross (to the grosz) whose net is target_net.

    The roundings to the grosz and to the złoty make the net jump, and
    even fall by a few grosze, as the gross grows: several grosses may give
    the target, or none. Of those that give it the roundest wins (whole
    złoty, then ten grosze), then the smallest: 3 512,19 net gives
    5 000,00, not 4 999,99 which also nets 3 512,19. When no gross gives
    the target exactly, the smallest gross whose net is above it: its net
    exceeds the target by a grosz or a few.

    A bisection finds where the net reaches the target, then a scan of
    the grosze around it (the net falls at most about a złoty at a
    rounding step and grows at least 0.7 of the gross) finds the answer."""
    target = round_grosz(target_net)
    if target <= 0:
        return ZERO

    def net(cents):
        return compute(Decimal(cents) / 100, rates, status, ytd,
            contract_amount).net

    # In grosze: net(low) < target <= net(high)
    low, high = 0, int(target * 100)
    while net(high) < target:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if net(middle) >= target:
            high = middle
        else:
            low = middle
    nets = {c: net(c)
        for c in range(max(0, high - WINDOW), high + WINDOW_UP + 1)}
    exact = [c for c, n in nets.items() if n == target]
    if exact:
        best = min(exact, key=lambda c: (c % 100 != 0, c % 10 != 0, c))
    else:
        best = min(c for c, n in nets.items() if n >= target)
    return round_grosz(Decimal(best) / 100)


# Grosze scanned below and above the bisection's answer
WINDOW = 1000
WINDOW_UP = 300
