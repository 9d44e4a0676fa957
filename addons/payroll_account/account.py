"""The accounts the payroll bills' charges are booked on: what the
client's sub-account pays out to the contractor, ZUS and the tax office"""
from trytond.exceptions import UserError
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .contractor import message


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'

    payroll_net_account = fields.Many2One('account.account',
        "Payroll Net Pay Account", domain=[('type.payable', '=', True)],
        help="Debited with the net pay of the payroll bills charged to "
        "the clients' sub-accounts.")
    payroll_zus_account = fields.Many2One('account.account',
        "Payroll ZUS Account", domain=[('type.payable', '=', True)],
        help="Debited with the ZUS contributions of the payroll bills.")
    payroll_tax_account = fields.Many2One('account.account',
        "Payroll Tax Account", domain=[('type.payable', '=', True)],
        help="Debited with the income tax of the payroll bills.")

    def payroll_accounts(self, company):
        """{'net', 'zus', 'tax': account}: those set, else the company's
        first payable account"""
        Account = Pool().get('account.account')
        fallback = None
        result = {}
        for key in ['net', 'zus', 'tax']:
            account = getattr(self, f'payroll_{key}_account')
            if not account:
                if fallback is None:
                    found = Account.search([
                            ('company', '=', company.id),
                            ('type.payable', '=', True),
                            ('closed', '!=', True),
                            ], order=[('code', 'ASC'), ('id', 'ASC')],
                        limit=1)
                    if not found:
                        raise UserError(message('bill_no_payable_account'))
                    fallback, = found
                account = fallback
            result[key] = account
        return result


# (code, name) of the payable accounts setup_payroll_accounts opens
PAYROLL_ACCOUNTS = {
    'net': ('231', "Rozrachunki z tytułu wynagrodzeń (umowy cywilnoprawne)"),
    'zus': ('229', "Rozrachunki z ZUS"),
    'tax': ('225', "Rozrachunki z urzędem skarbowym (PIT)"),
    }


def setup_payroll_accounts(company):
    """The three payable accounts of the payroll bills, opened (or found by
    code) in the company's payable type and set in the accounting
    configuration; for the demo and the tests"""
    pool = Pool()
    Account = pool.get('account.account')
    Type = pool.get('account.account.type')
    Configuration = pool.get('account.configuration')
    with Transaction().set_context(company=company.id):
        type_, = Type.search([
                ('company', '=', company.id),
                ('payable', '=', True),
                ], order=[('id', 'ASC')], limit=1)
        config = Configuration(1)
        for key, (code, name) in PAYROLL_ACCOUNTS.items():
            found = Account.search([
                    ('company', '=', company.id), ('code', '=', code)],
                limit=1)
            if found:
                account, = found
            else:
                account, = Account.create([{
                            'company': company.id, 'code': code,
                            'name': name, 'type': type_.id,
                            }])
            setattr(config, f'payroll_{key}_account', account)
        config.save()
        return config
