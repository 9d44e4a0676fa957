"""The rachunek engine against facts POLAND.md §6.4 to the grosz, and each
status rule of §6.2–6.3 (no database)"""
import unittest
from decimal import Decimal as D

from ..calculation import (
    PIT2_SHARES, WORK, Rates, Status, YearToDate, compute, gross_for_net,
    round_zloty)

# By hand from facts §6.1–6.3, not from the shipped record (test_rates
# checks that the record says the same)
RATES_2026 = Rates(
    minimum_wage=D('4806'),
    minimum_hourly_rate=D('31.40'),
    pension_rate_contractor=D('0.0976'),
    pension_rate_payer=D('0.0976'),
    disability_rate_contractor=D('0.015'),
    disability_rate_payer=D('0.065'),
    sickness_rate=D('0.0245'),
    accident_rate=D('0.0167'),
    labour_fund_rate=D('0.0245'),
    fgsp_rate=D('0.001'),
    fgsp_minimum_wage_condition=False,
    health_rate=D('0.09'),
    kup_rate=D('0.20'),
    kup_copyright_rate=D('0.50'),
    kup_copyright_annual_cap=D('120000'),
    pit_rate=D('0.12'),
    monthly_tax_reduction=D('300'),
    flat_tax_threshold=D('200'),
    flat_tax_rate=D('0.12'),
    nonresident_tax_rate=D('0.20'),
    pension_base_annual_cap=D('282600'),
    under26_limit=D('85528'),
    )
A = Status(voluntary_sickness=True)
GROSS = D('5000.00')


def bill(gross=GROSS, status=A, ytd=YearToDate(), contract_amount=None,
        rates=RATES_2026):
    return compute(D(gross), rates, status, ytd, contract_amount)


class WorkedExamplesTestCase(unittest.TestCase):
    "Facts §6.4, every line"

    def test_example_a(self):
        "Zlecenie 5 000, full ZUS with sickness, no PIT-2"
        b = bill()
        self.assertEqual([(c, a) for c, _, a in b.steps()], [
                ('gross', D('5000.00')),
                ('pension_contractor', D('488.00')),
                ('disability_contractor', D('75.00')),
                ('sickness', D('122.50')),
                ('social_contractor', D('685.50')),
                ('health_base', D('4314.50')),
                ('health', D('388.31')),
                ('kup_base', D('4314.50')),
                ('kup_normal', D('862.90')),
                ('kup_copyright', D('0')),
                ('kup', D('862.90')),
                ('under26_relief', D('0')),
                ('tax_base', D('3452')),
                ('tax_before_reduction', D('414.24')),
                ('tax_reduction', D('0')),
                ('pit', D('414')),
                ('net', D('3512.19')),
                ('pension_payer', D('488.00')),
                ('disability_payer', D('325.00')),
                ('accident', D('83.50')),
                ('labour_fund', D('122.50')),
                ('fgsp', D('5.00')),
                ('payer_contributions', D('1024.00')),
                ('payer_total_cost', D('6024.00')),
                ])
        self.assertFalse(b.flat_tax)
        # Health is not deductible: the base is before it
        self.assertEqual(GROSS - b.social_contractor - b.kup, D('3451.60'))

    def test_example_a_without_sickness(self):
        b = bill(status=Status())
        self.assertEqual(b.sickness, 0)
        self.assertEqual(b.social_contractor, D('563.00'))
        self.assertEqual(b.health, D('399.33'))
        self.assertEqual(b.pit, D('426'))
        self.assertEqual(b.net, D('3611.67'))

    def test_example_a_pit2(self):
        b = bill(status=Status(voluntary_sickness=True, pit2=True))
        self.assertEqual(b.tax_reduction, D('300.00'))
        self.assertEqual(b.pit, D('114'))
        self.assertEqual(b.net, D('3812.19'))

    def test_student_under_26(self):
        b = bill(status=Status(voluntary_sickness=True,
                student_under_26=True))
        self.assertEqual(b.social_contractor, 0)
        self.assertEqual(b.health, 0)
        self.assertEqual(b.pit, 0)
        self.assertEqual(b.under26_relief, GROSS)
        self.assertEqual(b.net, D('5000.00'))
        self.assertEqual(b.payer_contributions, 0)
        self.assertEqual(b.payer_total_cost, D('5000.00'))

    def test_example_b_copyright(self):
        "Dzieło 5 000, 50 % costs on a copyright transfer"
        b = bill(status=Status(kind=WORK, copyright_share=D(100)))
        self.assertEqual(b.social_contractor, 0)
        self.assertEqual(b.health, 0)
        self.assertEqual(b.kup_copyright, D('2500.00'))
        self.assertEqual(b.kup_normal, 0)
        self.assertEqual(b.tax_base, D('2500'))
        self.assertEqual(b.pit, D('300'))
        self.assertEqual(b.net, D('4700.00'))
        self.assertEqual(b.payer_total_cost, D('5000.00'))

    def test_example_b_standard_costs(self):
        b = bill(status=Status(kind=WORK))
        self.assertEqual(b.kup, D('1000.00'))
        self.assertEqual(b.tax_base, D('4000'))
        self.assertEqual(b.pit, D('480'))
        self.assertEqual(b.net, D('4520.00'))


class StatusTestCase(unittest.TestCase):
    "Facts §6.2–6.3: who pays what"

    def test_other_title(self):
        "Another title at the minimum wage: health only"
        b = bill(status=Status(voluntary_sickness=True,
                other_insurance_min_wage=True))
        self.assertEqual(b.social_contractor, 0)
        self.assertEqual(b.health_base, GROSS)
        self.assertEqual(b.health, D('450.00'))
        self.assertEqual(b.kup, D('1000.00'))
        self.assertEqual(b.pit, D('480'))
        self.assertEqual(b.net, D('4070.00'))
        self.assertEqual(b.payer_contributions, 0)

    def test_own_employee(self):
        "Counts as employment: full ZUS with sickness, even a student's"
        b = bill(status=Status(own_employee=True, student_under_26=True,
                other_insurance_min_wage=True))
        self.assertEqual(b.social_contractor, D('685.50'))
        self.assertEqual(b.health, D('388.31'))
        self.assertEqual(b.payer_contributions, D('1024.00'))
        # Still under 26: no PIT on the zlecenie
        self.assertEqual(b.pit, 0)

    def test_own_employee_work(self):
        "Dzieło with one's own employer: ZUS as a zlecenie"
        b = bill(status=Status(kind=WORK, own_employee=True))
        self.assertEqual(b.social_contractor, D('685.50'))
        self.assertEqual(b.pit, D('414'))
        self.assertEqual(b.net, D('3512.19'))
        self.assertEqual(b.payer_total_cost, D('6024.00'))

    def test_own_employee_small_contract(self):
        "Never the flat tax for one's own employee"
        b = bill('150.00', Status(own_employee=True),
            contract_amount=D('150'))
        self.assertFalse(b.flat_tax)
        self.assertEqual(b.kup, D('25.89'))  # 20 % × (150 − 20.57)

    def test_work_student(self):
        "Dzieło: no zero PIT for the young"
        b = bill(status=Status(kind=WORK, student_under_26=True))
        self.assertEqual(b.under26_relief, 0)
        self.assertEqual(b.pit, D('480'))

    def test_labour_fund_minimum_wage(self):
        below = bill('4805.99')
        self.assertEqual(below.labour_fund, 0)
        self.assertEqual(below.fgsp, D('4.81'))
        at = bill('4806.00')
        self.assertEqual(at.labour_fund, D('117.75'))
        self.assertEqual(at.fgsp, D('4.81'))

    def test_labour_fund_month_base(self):
        "The month's earlier bills count towards the minimum wage"
        b = bill('1000.00', ytd=YearToDate(month_base=D('3806.00')))
        self.assertEqual(b.labour_fund, D('24.50'))
        b = bill('1000.00', ytd=YearToDate(month_base=D('3805.99')))
        self.assertEqual(b.labour_fund, 0)

    def test_fgsp_condition(self):
        rates = RATES_2026.__class__(**{**RATES_2026.__dict__,
                'fgsp_minimum_wage_condition': True})
        self.assertEqual(bill('4000.00', rates=rates).fgsp, 0)
        self.assertEqual(bill('5000.00', rates=rates).fgsp, D('5.00'))

    def test_small_contract(self):
        "≤ 200 zł in the contract: final 12 % on the gross"
        b = bill('200.00', Status(pit2=True), contract_amount=D('200'))
        self.assertTrue(b.flat_tax)
        self.assertEqual(b.kup, 0)
        self.assertEqual(b.tax_reduction, 0)
        self.assertEqual(b.tax_base, D('200'))
        self.assertEqual(b.pit, D('24'))
        # ZUS still, as the only title
        self.assertEqual(b.social_contractor, D('22.52'))
        self.assertEqual(b.health, D('15.97'))
        self.assertEqual(b.net, D('137.51'))

    def test_small_contract_over_threshold(self):
        b = bill('200.00', Status(kind=WORK), contract_amount=D('200.01'))
        self.assertFalse(b.flat_tax)
        self.assertEqual(b.pit, D('19'))  # 12 % × 160
        b = bill('200.00', Status(kind=WORK))
        self.assertFalse(b.flat_tax)

    def test_small_contract_work(self):
        b = bill('99.60', Status(kind=WORK), contract_amount=D('99.60'))
        self.assertTrue(b.flat_tax)
        self.assertEqual(b.tax_base, D('100'))
        self.assertEqual(b.pit, D('12'))
        self.assertEqual(b.net, D('87.60'))

    def test_non_resident(self):
        "The simplified rule: 20 % of the gross, nothing deducted"
        b = bill(status=Status(kind=WORK, resident=False, pit2=True,
                copyright_share=D(100)))
        self.assertTrue(b.flat_tax)
        self.assertEqual(b.kup, 0)
        self.assertEqual(b.tax_base, D('5000'))
        self.assertEqual(b.pit, D('1000'))
        self.assertEqual(b.net, D('4000.00'))

    def test_copyright_share(self):
        "50 % on the copyright part, 20 % on the rest"
        b = bill(status=Status(kind=WORK, copyright_share=D(60)))
        self.assertEqual(b.kup_copyright, D('1500.00'))
        self.assertEqual(b.kup_normal, D('400.00'))
        self.assertEqual(b.tax_base, D('3100'))
        self.assertEqual(b.pit, D('372'))

    def test_copyright_zlecenie(self):
        "On a zlecenie the costs are on the gross less social"
        b = bill(status=Status(copyright_share=D(100)))
        self.assertEqual(b.kup_base, D('4437.00'))
        self.assertEqual(b.kup_copyright, D('2218.50'))
        # 2 218,50 rounds up (art. 63)
        self.assertEqual(b.tax_base, D('2219'))

    def test_copyright_cap_crossed(self):
        "Above the annual cap the excess gets the ordinary 20 %"
        ytd = YearToDate(kup_copyright=D('119000'))
        b = bill(status=Status(kind=WORK, copyright_share=D(100)), ytd=ytd)
        self.assertEqual(b.kup_copyright, D('1000.00'))
        # 2 000 at 50 % reaches the cap, 3 000 at 20 %
        self.assertEqual(b.kup_normal, D('600.00'))
        self.assertEqual(b.kup, D('1600.00'))
        self.assertEqual(b.tax_base, D('3400'))
        self.assertEqual(ytd.after(b).kup_copyright, D('120000'))

    def test_copyright_cap_used(self):
        ytd = YearToDate(kup_copyright=D('120000'))
        b = bill(status=Status(kind=WORK, copyright_share=D(100)), ytd=ytd)
        self.assertEqual(b.kup_copyright, 0)
        self.assertEqual(b.kup_normal, D('1000.00'))

    def test_pension_cap(self):
        "Pension and disability stop at the annual base cap"
        ytd = YearToDate(pension_base=D('280600'))
        b = bill(ytd=ytd)
        self.assertEqual(b.pension_base, D('2000'))
        self.assertEqual(b.pension_contractor, D('195.20'))
        self.assertEqual(b.disability_contractor, D('30.00'))
        self.assertEqual(b.pension_payer, D('195.20'))
        self.assertEqual(b.disability_payer, D('130.00'))
        # Sickness, accident and the funds are not capped
        self.assertEqual(b.sickness, D('122.50'))
        self.assertEqual(b.accident, D('83.50'))
        self.assertEqual(b.labour_fund, D('122.50'))
        self.assertEqual(ytd.after(b).pension_base, D('282600'))
        b = bill(ytd=ytd.after(b))
        self.assertEqual(b.pension_contractor, 0)
        self.assertEqual(b.disability_payer, 0)
        self.assertEqual(b.sickness, D('122.50'))

    def test_under26_limit_crossed(self):
        "Zero PIT up to the annual limit, normal PIT on the excess"
        status = Status(under26_pit_relief=True)
        ytd = YearToDate(under26_relieved=D('83528'))
        b = bill(status=status, ytd=ytd)
        self.assertEqual(b.under26_relief, D('2000'))
        # ZUS in full: relief is from tax, not from contributions
        self.assertEqual(b.social_contractor, D('563.00'))
        self.assertEqual(b.health, D('399.33'))
        # 3 000 taxable less its share of social (563 × 3/5)
        self.assertEqual(b.kup_base, D('2662.20'))
        self.assertEqual(b.kup, D('532.44'))
        self.assertEqual(b.tax_base, D('2130'))
        self.assertEqual(b.pit, D('256'))
        self.assertEqual(ytd.after(b).under26_relieved, D('85528'))
        b = bill(status=status, ytd=ytd.after(b))
        self.assertEqual(b.under26_relief, 0)
        self.assertEqual(b.pit, D('426'))

    def test_under26_within_limit(self):
        b = bill(status=Status(under26_pit_relief=True))
        self.assertEqual(b.pit, 0)
        self.assertEqual(b.social_contractor, D('563.00'))
        self.assertEqual(b.net, D('4037.67'))

    def test_pit2_shares(self):
        for share, reduction, pit in [
                ('1/12', '300.00', '114'),
                ('1/24', '150.00', '264'),
                ('1/36', '100.00', '314'),
                ]:
            with self.subTest(share=share):
                b = bill(status=Status(voluntary_sickness=True, pit2=True,
                        pit2_share=PIT2_SHARES[share]))
                self.assertEqual(b.tax_reduction, D(reduction))
                self.assertEqual(b.pit, D(pit))

    def test_pit2_once_a_month(self):
        status = Status(voluntary_sickness=True, pit2=True)
        first = bill('1000.00', status)
        self.assertEqual(first.tax_reduction, first.tax_before_reduction)
        self.assertEqual(first.pit, 0)
        ytd = YearToDate().after(first)
        second = bill(status=status, ytd=ytd)
        self.assertEqual(second.tax_reduction,
            D('300.00') - first.tax_reduction)
        self.assertEqual(bill(status=status,
                ytd=YearToDate().after(first).next_month()
                ).tax_reduction, D('300.00'))

    def test_unknown_kind(self):
        with self.assertRaises(ValueError):
            bill(status=Status(kind='other'))


class RoundingTestCase(unittest.TestCase):
    "Art. 63 § 1 OP: below 50 gr down, from 50 gr up"

    def test_round_zloty(self):
        self.assertEqual(round_zloty(D('3451.49')), D('3451'))
        self.assertEqual(round_zloty(D('3451.50')), D('3452'))
        self.assertEqual(round_zloty(D('414.499')), D('414'))

    def test_tax_base_boundaries(self):
        "Dzieło at 20 %: base 0.8 × gross"
        # 0.8 × 1 000.61 = 800.488 → costs 200.12, base 800.49 → 800
        self.assertEqual(bill('1000.61', Status(kind=WORK)).tax_base,
            D('800'))
        # 0.8 × 1 000.63 = 800.504 → costs 200.13, base 800.50 → 801
        self.assertEqual(bill('1000.63', Status(kind=WORK)).tax_base,
            D('801'))

    def test_pit_boundaries(self):
        "The tax 12 % × base to the złoty"
        b = bill('1380.00', Status(kind=WORK))
        self.assertEqual((b.tax_base, b.tax_before_reduction, b.pit),
            (D('1104'), D('132.48'), D('132')))
        b = bill('1370.00', Status(kind=WORK))
        self.assertEqual((b.tax_base, b.tax_before_reduction, b.pit),
            (D('1096'), D('131.52'), D('132')))
        # 12 % of a whole złoty base never ends on 50 gr: the PIT-2
        # reduction is what leaves x.49 or x.50 (shares chosen for it)
        b = bill(status=Status(voluntary_sickness=True, pit2=True,
                pit2_share=D('0.03326389')))
        self.assertEqual(b.tax_reduction, D('119.75'))
        self.assertEqual(b.pit, D('294'))  # 414.24 − 119.75 = 294.49
        b = bill(status=Status(voluntary_sickness=True, pit2=True,
                pit2_share=D('0.03326111')))
        self.assertEqual(b.tax_reduction, D('119.74'))
        self.assertEqual(b.pit, D('295'))  # 294.50

    def test_contributions_half_up(self):
        "4314.50 × 9 % = 388.305 → 388.31"
        self.assertEqual(bill().health, D('388.31'))


class GrossForNetTestCase(unittest.TestCase):

    def test_example_a(self):
        "Both 4 999,99 and 5 000,00 net 3 512,19: the round one"
        self.assertEqual(bill('4999.99').net, D('3512.19'))
        self.assertEqual(gross_for_net(D('3512.19'), RATES_2026, A),
            D('5000.00'))

    def test_round_trips(self):
        cases = [
            (A, None, ['1.00', '100.00', '1234.56', '3611.67', '3812.19',
                    '10000.00', '200000.00']),
            (Status(), None, ['3611.67', '777.77']),
            (Status(voluntary_sickness=True, pit2=True), None,
                ['3812.19', '250.00']),
            (Status(kind=WORK, copyright_share=D(100)), None,
                ['4700.00', '88.88']),
            (Status(kind=WORK), D('150'), ['132.00']),
            (Status(student_under_26=True), None, ['5000.00']),
            ]
        for status, contract_amount, targets in cases:
            for target in targets:
                with self.subTest(status=status, target=target):
                    gross = gross_for_net(D(target), RATES_2026, status,
                        contract_amount=contract_amount)
                    self.assertEqual(bill(gross, status,
                            contract_amount=contract_amount).net,
                        D(target))

    def test_known_grosses(self):
        for status, target, gross in [
                (Status(), '3611.67', '5000.00'),
                (Status(kind=WORK, copyright_share=D(100)), '4700.00',
                    '5000.00'),
                (Status(kind=WORK), '4520.00', '5000.00'),
                (Status(student_under_26=True), '5000.00', '5000.00'),
                ]:
            with self.subTest(status=status, target=target):
                self.assertEqual(
                    gross_for_net(D(target), RATES_2026, status), D(gross))

    def test_smallest(self):
        "No smaller gross gives the target, unless the answer is round"
        for target in ['1234.56', '3512.20', '87.00', '3512.19']:
            with self.subTest(target=target):
                gross = gross_for_net(D(target), RATES_2026, A)
                self.assertEqual(bill(gross).net, D(target))
                below = [bill(gross - D(c) / 100).net
                    for c in range(1, 300)]
                if gross % 1:
                    self.assertNotIn(D(target), below)

    def test_with_year_to_date(self):
        ytd = YearToDate(pension_base=D('281000'),
            under26_relieved=D('85000'))
        status = Status(voluntary_sickness=True, under26_pit_relief=True)
        gross = gross_for_net(D('4000.00'), RATES_2026, status, ytd)
        self.assertEqual(bill(gross, status, ytd).net, D('4000.00'))

    def test_zero(self):
        self.assertEqual(gross_for_net(D(0), RATES_2026, A), 0)
