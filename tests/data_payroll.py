"""The HTTP tests' people, contracts and bills of payroll_account, made on
first use (the shared `data` fixture keeps them): for clients a and b a
person with contracts in every state and a draft bill, which touch neither
their documents nor their sub-accounts; and client p, whose portal user
issues contracts and bills (charged to p's sub-account only)."""
import datetime

from portal_http import PASSWORD, in_transaction

from payroll_account.demo import pesel
from trytond.pool import Pool
from trytond.transaction import Transaction

P_EMAIL = 'kasia@kadry.example'
P_EMAIL_PL = 'ola@kadry.example'
YEAR = 2026


def person_form(**changes):
    """The portal form of a person with the statuses of facts §6.4 example
    A: full ZUS with sickness, no PIT-2, not a student"""
    values = {'first_name': "Anna", 'last_name': "Wiśniewska",
        'pesel': pesel(datetime.date(1990, 5, 15)), 'passport': '',
        'birth_date': '', 'citizenship': 'PL', 'street': "ul. Lipowa 3",
        'postal_code': '30-001', 'city': "Kraków", 'country': 'PL',
        'tax_office': "Urząd Skarbowy Kraków-Krowodrza",
        'iban': 'PL61109010140000071219812874', 'email': 'anna@example.com',
        'student_under_26': '', 'other_insurance_min_wage': '',
        'own_employee': '', 'pit2': '', 'pit2_share': '',
        'voluntary_sickness': '1', 'copyright_share': '0',
        'tax_resident': '1'}
    values.update(changes)
    return values


def contract_form(person_id, template_id, **changes):
    values = {'contractor': str(person_id), 'template': str(template_id),
        'language': 'pl', 'subject': "Prowadzenie szkoleń z obsługi kasy",
        'rate_type': 'lump_sum', 'hourly_rate': '', 'amount': '5000',
        'currency': 'PLN', 'start_date': f'{YEAR}-01-01',
        'end_date': f'{YEAR}-12-31', 'copyright_share': ''}
    values.update(changes)
    return values


def payroll(data):
    "The payroll records of the HTTP tests, made once per session"
    if 'payroll' not in data:
        data['payroll'] = in_transaction(
            _build, dict(data.clients), context={'language': 'en'})
    return data['payroll']


def _build(client_ids):
    from client_portal.demo import (
        create_client, create_portal_user, load_firm, nip)
    pool = Pool()
    Contractor = pool.get('payroll.contractor')
    Contract = pool.get('payroll.contract')
    Bill = pool.get('payroll.bill')
    Template = pool.get('payroll.contract.template')
    Party = pool.get('party.party')
    Subaccount = pool.get('portal.subaccount')
    ModelData = pool.get('ir.model.data')
    firm = load_firm()
    company = firm.company
    p = create_client(firm, "Kadry Plus sp. z o.o.", nip('778134226'),
        "ul. Zielona 9", '61-001', "Poznań", 'biuro@kadry.example', '4')
    Subaccount.create_for([p], [firm.pln])
    create_portal_user(p, P_EMAIL, PASSWORD, "Kasia", "Kadrowa", 'en')
    create_portal_user(p, P_EMAIL_PL, PASSWORD, "Ola", "Kadrowa", 'pl')
    mandate = Template(ModelData.get_id('payroll_account', 'template_mandate'))
    work = Template(ModelData.get_id('payroll_account', 'template_work'))
    clients = {'a': Party(client_ids['a']), 'b': Party(client_ids['b']),
        'p': p}
    Template.write([mandate, work], {'clients': [
                ('add', [c.id for c in clients.values()])]})
    people, contracts, bills = {}, {}, {}
    with Transaction().set_context(company=company.id):
        for key in ('a', 'b'):
            client = clients[key]
            person, errors = Contractor.portal_save(client, None,
                person_form(last_name=f"Osoba {key.upper()}",
                    pesel=pesel(datetime.date(1985, 3, 10),
                        serial='1234' if key == 'a' else '5678')))
            assert not errors, errors
            people[key] = person.id

            def contract(**changes):
                record, errors = Contract.portal_save(client, None,
                    contract_form(person.id, mandate.id, **changes))
                assert not errors, errors
                return record
            draft = contract(subject="Projekt umowy")
            issued = contract()
            ended = contract(start_date=f'{YEAR}-02-01')
            Contract.issue([issued, ended])
            Contract.terminate([ended], datetime.date(YEAR, 3, 31), "Koniec")
            contracts.update({f'{key}_draft': draft.id,
                    f'{key}_issued': issued.id, f'{key}_terminated': ended.id})
            bill, errors = Bill.portal_save(client, None, {
                    'contract': str(issued.id),
                    'period_start': f'{YEAR}-01-01',
                    'period_end': f'{YEAR}-01-31', 'amount': '5000'})
            assert not errors, errors
            bills[f'{key}_draft'] = bill.id
    return {'client_p': p.id, 'people': people, 'contracts': contracts,
        'bills': bills, 'templates': {'mandate': mandate.id,
            'work': work.id}}

