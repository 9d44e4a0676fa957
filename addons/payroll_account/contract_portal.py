"""The contract form of the portal: the client's terms as strings, checked
through the model's own rules, previewed as PDF without saving, saved as
a draft, and amendments. Errors map a field name to its message; nothing
is written when there is one."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .contract import LANGUAGES, RATE_TYPES, SUBJECT_MAX, TERMS
from .contractor import message, parse_date, parse_decimal


class Contract(metaclass=PoolMeta):
    __name__ = 'payroll.contract'

    @classmethod
    def portal_values(cls, contract):
        "The contract's terms as the portal's flat form of strings"
        if contract is None:
            return {'contractor': '', 'template': '', 'language': 'pl',
                'subject': '', 'rate_type': 'hourly', 'hourly_rate': '',
                'amount': '', 'currency': 'PLN', 'start_date': '',
                'end_date': '', 'copyright_share': ''}
        return {
            'contractor': str(contract.contractor.id),
            'template': str(contract.template.id),
            'language': contract.language,
            'subject': contract.subject or '',
            'rate_type': contract.rate_type,
            'hourly_rate': str(contract.hourly_rate or ''),
            'amount': str(contract.amount or ''),
            'currency': contract.currency.code,
            'start_date': contract.start_date.isoformat(),
            'end_date': (contract.end_date.isoformat()
                if contract.end_date else ''),
            'copyright_share': str(contract.copyright_share),
            }

    @classmethod
    def portal_clean(cls, values):
        values = {k: str(values.get(k) or '').strip() for k in TERMS}
        values['currency'] = values['currency'].upper() or 'PLN'
        values['language'] = values['language'] or 'pl'
        return values

    @classmethod
    def _portal_typed(cls, client, values, errors):
        "The stored values of the cleaned form; errors filled on the way"
        pool = Pool()
        Contractor = pool.get('payroll.contractor')
        Template = pool.get('payroll.contract.template')
        Currency = pool.get('currency.currency')
        required = gettext('client_portal.msg_field_required')
        choice = gettext('client_portal.msg_invalid_choice')
        typed = {}
        with without_check_access():
            for name, Model in [
                    ('contractor', Contractor), ('template', Template)]:
                try:
                    id_ = int(values[name])
                except ValueError:
                    id_ = None
                records = Model.search([('id', '=', id_)]) if id_ else []
                if not values[name]:
                    errors[name] = required
                elif not records:
                    errors[name] = choice
                typed[name] = records[0].id if records else None
            currencies = Currency.search(
                [('code', '=', values['currency'])], limit=1)
        if not currencies:
            errors['currency'] = choice
        typed['currency'] = currencies[0].id if currencies else None
        for name, choices in [
                ('language', LANGUAGES), ('rate_type', RATE_TYPES)]:
            if values[name] not in dict(choices):
                errors[name] = choice
            typed[name] = values[name] or None
        typed['subject'] = values['subject'] or None
        if not values['subject']:
            errors['subject'] = required
        elif len(values['subject']) > SUBJECT_MAX:
            errors['subject'] = gettext('client_portal.msg_too_long')
        for name in ('hourly_rate', 'amount', 'copyright_share'):
            typed[name], error = parse_decimal(values[name])
            if error:
                errors[name] = error
        # Only the remuneration chosen is kept
        if typed['rate_type'] == 'hourly':
            typed['amount'] = None
        elif typed['rate_type'] == 'lump_sum':
            typed['hourly_rate'] = None
        if typed['copyright_share'] is None and 'copyright_share' not in errors:
            share = (Contractor(typed['contractor']).copyright_share
                if typed['contractor'] else None)
            typed['copyright_share'] = share or Decimal(0)
        for name in ('start_date', 'end_date'):
            typed[name], error = parse_date(values[name])
            if error:
                errors[name] = error
        if not values['start_date']:
            errors['start_date'] = required
        return typed

    @classmethod
    def portal_validate(cls, client, values):
        """{field: message} of the cleaned values (portal_clean) of a
        contract of the client; values['_typed'] gets the values to store"""
        errors = {}
        typed = cls._portal_typed(client, values, errors)
        values['_typed'] = typed
        record = cls(client=getattr(client, 'id', client), **typed)
        with without_check_access():
            for name, text in record.field_errors().items():
                errors.setdefault(name, text)
        return errors

    @classmethod
    def _portal_company(cls):
        "The firm: the context's company, else the first (the portal's)"
        Company = Pool().get('company.company')
        company = Transaction().context.get('company')
        if company:
            return company
        with without_check_access():
            companies = Company.search([], order=[('id', 'ASC')], limit=1)
        return companies[0].id

    @classmethod
    def portal_save(cls, client, contract, values):
        """Validate and store a draft contract of the client (None: a new
        one). Returns (contract, {field: message}); nothing is written when
        there is an error."""
        values = cls.portal_clean(values)
        errors = cls.portal_validate(client, values)
        client_id = getattr(client, 'id', client)
        if contract is not None and contract.client.id != client_id:
            errors['contractor'] = message('contract_contractor_other')
        elif contract is not None and contract.state != 'draft':
            errors['state'] = message('contract_not_draft',
                contract=contract.rec_name)
        if errors:
            return contract, errors
        typed = values['_typed']
        # create and write, not save(): save() skips the record rules
        if contract is None:
            contract, = cls.create([{
                        'company': cls._portal_company(),
                        'client': client_id, **typed}])
        else:
            cls.write([contract], typed)
        return cls(contract.id), {}

    @classmethod
    def portal_amend(cls, client, contract, values):
        """(new version, {field: message}) of the client's issued contract
        with the values of the form; nothing is written on error"""
        values = cls.portal_clean(values)
        errors = cls.portal_validate(client, values)
        if contract.client.id != getattr(client, 'id', client):
            errors['contractor'] = message('contract_contractor_other')
        elif contract.state != 'issued':
            errors['state'] = message('contract_not_issued',
                contract=contract.rec_name)
        if errors:
            return contract, errors
        return cls.amend(contract, values['_typed']), {}

    @classmethod
    def preview_pdf(cls, client, values):
        """(PDF or None, {field: message}) of the form's contract, rendered
        without saving anything"""
        values = cls.portal_clean(values)
        errors = cls.portal_validate(client, values)
        if errors:
            return None, errors
        contract = cls(client=getattr(client, 'id', client),
            company=cls._portal_company(), state='draft', version=1,
            template_version=None, kind=None, number=None, date=None,
            previous=None, **values['_typed'])
        contract.kind = contract.template.kind
        with without_check_access():
            contract.text = contract.render_text()
            return contract.render_pdf(), {}
