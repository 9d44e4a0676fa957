"""The demo's payroll: the start-up's contractors, a mandate contract with
its bill of last month (facts POLAND.md §6.4 example A: 5 000,00 zł gross,
3 512,19 zł net) and a contract for specific work with a copyright
transfer, left for the visitor to bill. Through the same portal API as the
pages, so the demo's records are what a client would have made."""
import datetime

from dateutil.relativedelta import relativedelta

from trytond.pool import Pool
from trytond.transaction import Transaction

from client_portal.demo import load_firm
from client_portal.demo_outgoing import STARTUP

from .account import setup_payroll_accounts

PEOPLE = [
    # first name, last name, birth date, PESEL serial, flags
    ("Anna", "Nowak", datetime.date(1990, 4, 2), '1111',
        {'voluntary_sickness': '1'}),
    ("Tomasz", "Lis", datetime.date(1985, 11, 20), '2231', {}),
    ]


def pesel(birth_date, serial='0123'):
    "A valid PESEL of the birth date (the check digit computed)"
    month = birth_date.month + {18: 80, 19: 0, 20: 20, 21: 40}[
        birth_date.year // 100]
    digits = (f'{birth_date.year % 100:02d}{month:02d}{birth_date.day:02d}'
        + serial)
    check = sum(int(d) * w for d, w in zip(digits, (1, 3, 7, 9) * 3))
    return digits + str((10 - check % 10) % 10)


def build_payroll_demo(today=None):
    pool = Pool()
    Party = pool.get('party.party')
    Contractor = pool.get('payroll.contractor')
    Contract = pool.get('payroll.contract')
    Template = pool.get('payroll.contract.template')
    Bill = pool.get('payroll.bill')
    ModelData = pool.get('ir.model.data')
    Rates = pool.get('payroll.rates')
    firm = load_firm(today)
    today = firm.today
    setup_payroll_accounts(firm.company)
    # The module ships 2026's rates
    Rates.copy_until(today.year)
    client, = Party.search([('name', '=', STARTUP[0])])
    mandate = Template(ModelData.get_id('payroll_account',
            'template_mandate'))
    work = Template(ModelData.get_id('payroll_account', 'template_work'))
    Template.write([mandate, work], {'clients': [('add', [client.id])]})
    people = []
    with Transaction().set_context(company=firm.company.id):
        for first, last, born, serial, flags in PEOPLE:
            person, errors = Contractor.portal_save(client, None, {
                    'first_name': first, 'last_name': last,
                    'pesel': pesel(born, serial), 'street': "ul. Lipowa 3",
                    'postal_code': '90-001', 'city': "Łódź",
                    'country': 'PL',
                    'tax_office': "Urząd Skarbowy Łódź-Śródmieście",
                    'iban': 'PL61109010140000071219812874',
                    'email': f'{first.lower()}@example.com',
                    'copyright_share': '0', 'tax_resident': '1', **flags})
            assert not errors, errors
            people.append(person)
        last_month = today.replace(day=1) - relativedelta(months=1)
        start = last_month - relativedelta(months=2)
        contracts = []
        for person, template, subject, share in [
                (people[0], mandate, "Obsługa biura i recepcji", ''),
                (people[1], work, "Projekt graficzny identyfikacji "
                    "wizualnej Lumina Labs", '100')]:
            contract, errors = Contract.portal_save(client, None, {
                    'contractor': str(person.id),
                    'template': str(template.id), 'language': 'pl',
                    'subject': subject, 'rate_type': 'lump_sum',
                    'hourly_rate': '', 'amount': '5000',
                    'currency': 'PLN', 'start_date': start.isoformat(),
                    'end_date': (today + relativedelta(months=6)
                        ).isoformat(),
                    'copyright_share': share})
            assert not errors, errors
            Contract.issue([contract])
            contracts.append(contract)
        period_end = today.replace(day=1) - datetime.timedelta(days=1)
        bill, errors = Bill.portal_save(client, None, {
                'contract': str(contracts[0].id),
                'period_start': last_month.isoformat(),
                'period_end': period_end.isoformat(),
                'hours': '', 'amount': '', 'target_net': '',
                'date': period_end.isoformat()})
        assert not errors, errors
        bill, errors = Bill.portal_issue(client, bill)
        assert not errors, errors
    return bill
