"""The client ledgers as XLSX (the accountant's): every sub-account's
movements of a period with its opening and closing balance, as the client
sees them on its sub-account page (Subaccount.movements), and a sheet of
the balances. The record rules decide the sub-accounts: a manager's
clients, the accountant's and the head's all."""
from decimal import Decimal

from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateView, Wizard

from .spreadsheet import lang_code, xlsx_bytes

WORDS = {
    'pl': {'ledgers': "Subkonta", 'balances': "Salda", 'client': "Klient",
        'currency': "Waluta", 'date': "Data", 'document': "Dokument",
        'counterparty': "Kontrahent", 'details': "Szczegóły",
        'amount': "Kwota", 'balance': "Saldo",
        'opening': "Saldo początkowe", 'closing': "Saldo końcowe",
        'money_in': "Wpływy", 'money_out': "Wypływy",
        'movements': "Operacje", 'file': "subkonta",
        'received': "Wpływ", 'paid_out': "Wypłata"},
    'en': {'ledgers': "Sub-accounts", 'balances': "Balances",
        'client': "Client", 'currency': "Currency", 'date': "Date",
        'document': "Document", 'counterparty': "Counterparty",
        'details': "Details", 'amount': "Amount", 'balance': "Balance",
        'opening': "Opening balance", 'closing': "Closing balance",
        'money_in': "Money in", 'money_out': "Money out",
        'movements': "Movements", 'file': "sub-accounts",
        'received': "Money received", 'paid_out': "Money paid out"},
    }


def ledgers_xlsx(subaccounts, start, end, language):
    """The XLSX (bytes): sheet of the movements, each sub-account opened
    and closed by its balances; sheet of the balances with the money in
    and out of the period"""
    w = WORDS[lang_code(language)]
    subaccounts = sorted(subaccounts,
        key=lambda s: (s.client.rec_name, s.currency.code, s.id))

    def write(book):
        sheet = book.sheet(w['ledgers'], [w['client'], w['currency'],
                w['date'], w['document'], w['counterparty'], w['details'],
                w['amount'], w['balance']], [30, 8, 11, 20, 30, 34, 14, 14])
        summary = []
        for subaccount in subaccounts:
            movements = subaccount.movements(start=start, end=end)
            code, name = subaccount.currency.code, subaccount.client.rec_name
            sheet.write([name, code, start, None, None, w['opening'], None,
                    movements.opening], bold=True, currency=code)
            money_in = money_out = Decimal(0)
            for m in movements.rows:
                # As the client's sub-account page says it
                details = m.description or (
                    w['received'] if m.amount >= 0 else w['paid_out'])
                sheet.write([name, code, m.date, m.document, m.counterparty,
                        details, m.amount, m.balance], currency=code)
                if m.amount >= 0:
                    money_in += m.amount
                else:
                    money_out -= m.amount
            sheet.write([name, code, end, None, None, w['closing'], None,
                    movements.closing], bold=True, currency=code)
            summary.append((name, code, movements.opening, money_in,
                    money_out, movements.closing, movements.count))
        sheet = book.sheet(w['balances'], [w['client'], w['currency'],
                w['opening'], w['money_in'], w['money_out'], w['closing'],
                w['movements']], [30, 8, 16, 16, 16, 16, 10])
        for name, code, *figures in summary:
            sheet.write([name, code, *figures], currency=code)
    return xlsx_bytes(write)


class LedgerStart(ModelView):
    "Client Ledgers"
    __name__ = 'portal.subaccount.ledger.start'
    __string__ = "Client Ledgers"

    from_date = fields.Date("From Date", required=True,
        domain=[If(Bool(Eval('to_date')),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To Date", required=True,
        domain=[If(Bool(Eval('from_date')),
                ('to_date', '>=', Eval('from_date')), ())])
    client = fields.Many2One('party.party', "Client",
        domain=[('portal_client', '=', True)],
        help="Leave empty for every client.")
    currency = fields.Many2One('currency.currency', "Currency",
        help="Leave empty for every currency.")

    @classmethod
    def default_from_date(cls):
        return Pool().get('ir.date').today().replace(month=1, day=1)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()


class Ledger(Wizard):
    "Client Ledgers"
    __name__ = 'portal.subaccount.ledger'

    start = StateView('portal.subaccount.ledger.start',
        'client_portal.subaccount_ledger_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'result', 'tryton-ok', default=True),
            ])
    result = StateView('portal.export.file',
        'client_portal.export_file_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_result(self, fields):
        Subaccount = Pool().get('portal.subaccount')
        language = Transaction().language or 'en'
        domain = []
        if self.start.client:
            domain.append(('client', '=', self.start.client.id))
        if self.start.currency:
            domain.append(('currency', '=', self.start.currency.id))
        # The user's record rules choose the sub-accounts
        subaccounts = Subaccount.search(domain)
        start, end = self.start.from_date, self.start.to_date
        return {
            'file': ledgers_xlsx(subaccounts, start, end, language),
            'filename': '%s_%s_%s.xlsx' % (
                WORDS[lang_code(language)]['file'], start, end),
            }
