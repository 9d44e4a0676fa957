"""The bill form of the portal: the client's input as strings, checked
through the model's own rules (Bill.field_errors), computed without
saving (the page's "Calculate"), saved as a draft and issued. Errors map a
field name to its message; nothing is written when there is one."""
import datetime

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .bill import PORTAL_FIELDS
from .contractor import message, parse_date, parse_decimal


class Bill(metaclass=PoolMeta):
    __name__ = 'payroll.bill'

    @classmethod
    def portal_values(cls, bill):
        "The bill's input as the portal's flat form of strings"
        if bill is None:
            return {name: '' for name in PORTAL_FIELDS}

        def text(value):
            if value is None:
                return ''
            return value.isoformat() if isinstance(
                value, datetime.date) else str(value)
        values = {name: text(getattr(bill, name))
            for name in PORTAL_FIELDS if name != 'contract'}
        values['contract'] = str(bill.contract.id)
        return values

    @classmethod
    def portal_clean(cls, values):
        return {k: str(values.get(k) or '').strip() for k in PORTAL_FIELDS}

    @classmethod
    def _portal_typed(cls, client, values, errors):
        "The stored values of the cleaned form; errors filled on the way"
        Contract = Pool().get('payroll.contract')
        typed = {}
        try:
            id_ = int(values['contract'])
        except ValueError:
            id_ = None
        with without_check_access():
            contracts = (Contract.search([('id', '=', id_)])
                if id_ else [])
        if not values['contract']:
            errors['contract'] = gettext('client_portal.msg_field_required')
        elif not contracts or contracts[0].client.id != client:
            # Another client's contract is refused, not revealed
            errors['contract'] = message('bill_contract_other')
            contracts = []
        typed['contract'] = contracts[0].id if contracts else None
        for name in ('hours', 'amount', 'target_net'):
            typed[name], error = parse_decimal(values[name])
            if error:
                errors[name] = error
        for name in ('period_start', 'period_end', 'date'):
            typed[name], error = parse_date(values[name])
            if error:
                errors[name] = error
        if contracts:
            contract = contracts[0]
            with without_check_access():
                if contract.rate_type == 'hourly':
                    # hours × rate: an amount typed is not the gross
                    typed['amount'] = None
                elif typed['amount'] is None and 'amount' not in errors:
                    typed['amount'] = contract.amount
                typed['language'] = contract.language
        return typed

    @classmethod
    def portal_validate(cls, client, values, bill=None):
        """{field: message} of the cleaned values (portal_clean) of a bill
        of the client (bill: the draft they change); values['_typed'] gets
        the values to store"""
        errors = {}
        client = getattr(client, 'id', client)
        typed = cls._portal_typed(client, values, errors)
        values['_typed'] = typed
        if typed['contract']:
            record = cls._portal_record(client, typed, bill)
            for name, text in record.field_errors().items():
                errors.setdefault(name, text)
        return errors

    @classmethod
    def _portal_record(cls, client, typed, bill=None):
        "An unsaved bill of the typed values (bill's id for the overlap)"
        Contract = Pool().get('payroll.contract')
        with without_check_access():
            contract = Contract(typed['contract'])
            values = dict(client=client, company=contract.company,
                contractor=contract.contractor, currency=contract.currency,
                state='draft', **typed)
        if bill is not None:
            return cls(bill.id, **values)
        return cls(**values)

    @classmethod
    def portal_save(cls, client, bill, values):
        """Validate and store a draft bill of the client (None: a new one).
        Returns (bill, {field: message}); nothing is written when there is
        an error."""
        values = cls.portal_clean(values)
        client_id = getattr(client, 'id', client)
        errors = {}
        if bill is not None and bill.client.id != client_id:
            errors['contract'] = message('bill_contract_other')
        elif bill is not None and bill.state != 'draft':
            errors['state'] = message('bill_not_draft', bill=bill.rec_name)
        if errors:
            return bill, errors
        errors = cls.portal_validate(client, values, bill)
        typed = values['_typed']
        if errors:
            return bill, errors
        # create and write, not save(): save() skips the record rules
        if bill is None:
            bill, = cls.create([{
                        'company': cls._portal_record(
                            client_id, typed).company.id,
                        'client': client_id, **typed}])
        else:
            cls.write([bill], typed)
        return cls(bill.id), {}

    @classmethod
    def portal_preview(cls, client, values, bill=None):
        """(calculation.Bill or None, {field: message}) of the form's bill
        (bill: the draft it changes), computed without saving anything"""
        values = cls.portal_clean(values)
        client_id = getattr(client, 'id', client)
        errors = cls.portal_validate(client_id, values, bill)
        if errors:
            return None, errors
        record = cls._portal_record(client_id, values['_typed'], bill)
        with without_check_access():
            return record.calculation(), {}

    @classmethod
    def portal_issue(cls, client, bill):
        """Issue the client's draft bill: (bill, {field: message}); nothing
        is done when there is an error (another client's bill, not a
        draft, bad input, no PLN sub-account, no accounting period)"""
        client_id = getattr(client, 'id', client)
        if bill.client.id != client_id:
            return bill, {'contract': message('bill_contract_other')}
        errors = bill.issue_errors()
        if errors:
            return bill, errors
        # The caller has the draft under the client's rules; the charge and
        # the number are the firm's
        with without_check_access(), Transaction().set_context(
                company=bill.company.id):
            cls.issue([cls(bill.id)])
        return cls(bill.id), {}
