"""Cost invoices: invoices third parties issued to the firm for a cost of
one client. The client registers them with the scan and submits them; an
accountant approves them, which posts a supplier invoice of the firm and
charges its gross amount to the client's sub-account in the invoice's
currency, or rejects them with a reason the client can fix."""
import datetime
import hashlib
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.modules.account.exceptions import PeriodNotFoundError
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard
from trytond.transaction import Transaction, without_check_access

from .invoice_template import PAYMENT_METHODS
from .outgoing import LANGUAGES, _as_system

KINDS = [
    ('invoice', "Invoice"),
    ('correction', "Correction"),
    ]
STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('approved', "Approved"),
    ('rejected', "Rejected"),
    ('paid', "Paid"),
    ]
PAYMENT_STATUSES = [
    ('unpaid', "To pay"),
    ('paid', "Paid"),
    ]
ENTRIES = [
    ('lines', "Lines"),
    ('totals', "Totals per VAT rate"),
    ]
# The day the buyer's nota korygująca was repealed (VAT art. 106k,
# facts POLAND.md §2.2): invoices dated before it may still get one
NOTE_REPEALED = datetime.date(2026, 2, 1)
CENT = Decimal('0.01')


def _round(amount):
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class CostInvoice(Workflow, ModelSQL, ModelView):
    """Cost Invoice

    An invoice addressed to the firm for one client's cost, registered by
    the client on the portal"""
    __name__ = 'portal.cost.invoice'
    _rec_name = 'number'

    _states = {'readonly': ~Eval('state').in_(['draft', 'rejected'])}

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    client = fields.Many2One(
        'party.party', "Client", required=True, ondelete='RESTRICT',
        domain=[('portal_client', '=', True)], states=_states)
    supplier = fields.Many2One(
        'party.party', "Supplier", required=True, ondelete='RESTRICT',
        domain=[('portal_owner', '=', Eval('client', -1))], states=_states)
    # As on the supplier at registration: a duplicate is the same number
    # from the same tax number, whatever the contractor record
    supplier_tax_number = fields.Char(
        "Supplier Tax Number", readonly=True)
    number = fields.Char(
        "Supplier's Invoice Number", required=True, states=_states)
    kind = fields.Selection(KINDS, "Type", required=True, states=_states)
    corrected = fields.Many2One(
        'portal.cost.invoice', "Corrected Invoice", ondelete='RESTRICT',
        domain=[('client', '=', Eval('client', -1)),
            ('kind', '=', 'invoice')],
        states={
            'invisible': Eval('kind') != 'correction',
            'readonly': _states['readonly'],
            })
    corrections = fields.One2Many(
        'portal.cost.invoice', 'corrected', "Corrections", readonly=True)
    invoice_date = fields.Date("Issue Date", required=True, states=_states)
    sale_date = fields.Date("Sale Date", states=_states)
    receipt_date = fields.Date("Receipt Date", required=True, states=_states)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, states=_states)
    language = fields.Selection(LANGUAGES, "Language", required=True,
        states=_states)
    entry = fields.Selection(ENTRIES, "Entry", required=True, states=_states,
        help="Lines as on the invoice, or one line per VAT rate.")
    lines = fields.One2Many(
        'portal.cost.invoice.line', 'cost_invoice', "Lines", states=_states)
    payment_method = fields.Selection(
        PAYMENT_METHODS, "Payment Method", required=True, states=_states)
    payment_status = fields.Selection(
        PAYMENT_STATUSES, "Payment Status", required=True, states=_states)
    due_date = fields.Date("Due Date", states=_states)
    note = fields.Text("Note", states=_states)

    scan = fields.Binary(
        "Scan", file_id='scan_id', filename='scan_name', readonly=True)
    scan_id = fields.Char("Scan ID", readonly=True)
    scan_name = fields.Char("Scan Name", readonly=True)
    scan_type = fields.Char("Scan Type", readonly=True)
    # The same file is stored once: a scan already stored is shared
    scan_hash = fields.Char("Scan SHA-256", readonly=True)

    untaxed_amount = fields.Numeric(
        "Net", digits=(16, 2), readonly=True)
    tax_amount = fields.Numeric("VAT", digits=(16, 2), readonly=True)
    total_amount = fields.Numeric("Gross", digits=(16, 2), readonly=True)
    # VAT art. 31a: the buyer converts at the NBP rate of the last business
    # day before the supplier's tax point
    nbp_rate = fields.Numeric("NBP Rate", digits=(12, 6), readonly=True)
    nbp_table = fields.Char("NBP Table", readonly=True)
    nbp_date = fields.Date("NBP Rate Date", readonly=True)
    untaxed_pln = fields.Numeric("Net in PLN", digits=(16, 2), readonly=True)
    tax_pln = fields.Numeric("VAT in PLN", digits=(16, 2), readonly=True)

    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    reject_reason = fields.Text("Rejection Reason", readonly=True)
    submitted_at = fields.Timestamp("Submitted", readonly=True)
    approved_at = fields.Timestamp("Approved", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved by", readonly=True)
    paid_date = fields.Date("Paid to Supplier", readonly=True)
    subaccount = fields.Many2One(
        'portal.subaccount', "Sub-account", readonly=True,
        ondelete='RESTRICT')
    invoice = fields.Many2One(
        'account.invoice', "Supplier Invoice", readonly=True,
        ondelete='RESTRICT',
        help="The firm's posted supplier invoice of this cost.")
    events = fields.One2Many(
        'portal.cost.invoice.event', 'cost_invoice', "History",
        readonly=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.client, Index.Equality()),
                    (t.invoice_date, Index.Range(order='DESC'))),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.scan_hash, Index.Equality())),
                Index(t, (t.company, Index.Equality()),
                    (t.supplier_tax_number, Index.Equality()),
                    (t.number, Index.Equality())),
                })
        # The portal checks duplicates first to link the record; this
        # guards every other way in
        cls._sql_constraints += [
            ('supplier_number_unique',
                Unique(t, t.company, t.supplier_tax_number, t.number),
                'client_portal.msg_cost_unique'),
            ]
        cls._order = [('invoice_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('rejected', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('approved', 'paid'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'mark_paid': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_kind():
        return 'invoice'

    @staticmethod
    def default_entry():
        return 'lines'

    @staticmethod
    def default_language():
        return 'pl'

    @staticmethod
    def default_payment_method():
        return 'transfer'

    @staticmethod
    def default_payment_status():
        return 'unpaid'

    def get_rec_name(self, name):
        supplier = self.supplier.rec_name if self.supplier else ''
        return f'{self.number} · {supplier}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('supplier.name', operator, value),
            ('supplier_tax_number', operator, value),
            ]

    @property
    def tax_point(self):
        "The supplier's tax point: the sale date, or an earlier issue date"
        dates = [d for d in (self.invoice_date, self.sale_date) if d]
        return min(dates) if dates else None

    @property
    def editable(self):
        return self.state in {'draft', 'rejected'}

    @property
    def may_note(self):
        "A nota korygująca is still allowed for invoices of before 2026-02"
        return (self.state in {'approved', 'paid'}
            and self.invoice_date < NOTE_REPEALED)

    # --- computation -----------------------------------------------------

    @classmethod
    def compute_amounts(cls, lines):
        """(net, VAT, gross, {tax: (net, VAT)}) of lines given as
        (quantity, unit price, tax): net per line, VAT on the total per
        rate, half-up (facts POLAND.md §1.3)"""
        per_tax = defaultdict(lambda: Decimal(0))
        for quantity, unit_price, tax in lines:
            per_tax[tax] += _round(
                Decimal(quantity or 0) * Decimal(unit_price or 0))
        rates = {}
        for tax, net in per_tax.items():
            rate = (tax.rate or Decimal(0)) if tax else Decimal(0)
            rates[tax] = (net, _round(net * rate))
        untaxed = sum((n for n, _ in rates.values()), Decimal(0))
        vat = sum((v for _, v in rates.values()), Decimal(0))
        return untaxed, vat, untaxed + vat, rates

    def set_amounts(self):
        "Totals from the lines and, in a foreign currency, the PLN values"
        pool = Pool()
        Currency = pool.get('currency.currency')
        untaxed, vat, total, _ = self.compute_amounts(
            [(l.quantity, l.unit_price, l.tax) for l in self.lines or []])
        self.untaxed_amount, self.tax_amount, self.total_amount = (
            untaxed, vat, total)
        self.nbp_rate = self.nbp_table = self.nbp_date = None
        self.untaxed_pln = self.tax_pln = None
        if (self.currency and self.currency.code != 'PLN'
                and self.tax_point):
            if self.corrected and self.corrected.nbp_rate:
                rate = (self.corrected.nbp_rate, self.corrected.nbp_table,
                    self.corrected.nbp_date)
            else:
                found = Currency.portal_nbp_rate(
                    self.currency, self.tax_point)
                rate = (found.mid, found.table, found.date)
            self.nbp_rate, self.nbp_table, self.nbp_date = rate
            self.untaxed_pln = _round(untaxed * self.nbp_rate)
            self.tax_pln = _round(vat * self.nbp_rate)

    # --- the client's actions (portal) -----------------------------------

    @classmethod
    def find_duplicate(cls, company, tax_number, number, exclude=None):
        "The registration of the same supplier's invoice number, if any"
        if not tax_number or not number:
            return None
        domain = [
            ('company', '=', company.id),
            ('supplier_tax_number', '=', tax_number),
            ('number', '=', number.strip()),
            ]
        if exclude:
            domain.append(('id', '!=', exclude.id))
        with without_check_access(), Transaction().set_context(
                _check_access=False):
            found = cls.search(domain, limit=1)
        return found[0] if found else None

    @classmethod
    def portal_save(cls, client, values, lines, scan=None, record=None,
            submit=False, actor=None):
        """Create or rewrite the client's cost invoice from validated form
        values and lines (dictionaries of records and Decimals), attach
        the scan (scan.Scan) if given, and submit it when asked. The
        caller has read `record` under the portal's rules and validated
        the form; everything happens in the caller's transaction."""
        pool = Pool()
        Line = pool.get('portal.cost.invoice.line')
        Subaccount = pool.get('portal.subaccount')
        if record is not None and (not record.editable
                or record.client != client):
            raise UserError(gettext('client_portal.msg_cost_not_editable',
                    number=record.number))
        with without_check_access():
            subaccount, = Subaccount.search([('client', '=', client.id)],
                limit=1) or [None]
            company = (record.company if record else
                subaccount.company if subaccount else None)
        if company is None:
            raise UserError(gettext('client_portal.msg_cost_no_subaccount'))
        with _as_system(company):
            before = cls(record.id)._snapshot() if record else None
            if record is None:
                record = cls(company=company, client=client, state='draft')
            else:
                record = cls(record.id)
            for name, value in values.items():
                setattr(record, name, value)
            record.number = (record.number or '').strip()
            supplier = record.supplier
            record.supplier_tax_number = (
                supplier.tax_identifier.code
                if supplier and supplier.tax_identifier else None)
            if record.kind != 'correction':
                record.corrected = None
            if record.id and record.id > 0:
                Line.delete(list(record.lines))
            record.lines = [Line(**l) for l in lines]
            scan_data = None
            if scan is not None:
                digest = hashlib.sha256(scan.data).hexdigest()
                if digest != getattr(record, 'scan_hash', None):
                    same = cls.search([
                            ('scan_hash', '=', digest),
                            ('scan_id', '!=', None),
                            ], limit=1)
                    if same:
                        if record.id and record.id > 0:
                            # The file replaced, removed once unused
                            cls._fields['scan'].queue_for_removal(
                                cls, 'scan', [record.id])
                        record.scan_id = same[0].scan_id
                    else:
                        scan_data = scan.data
                    record.scan_hash = digest
                record.scan_name = scan.name
                record.scan_type = scan.mimetype
            record.set_amounts()
            record.save()
            if scan_data is not None:
                # Written on its own: the file id is set by SQL after the
                # save has cached the record (its lines read it), which
                # would keep reading no scan in this transaction
                cls.write([record], {'scan': scan_data})
            if before is None:
                cls.log(record, 'created', actor)
            else:
                changes = record._changes(before)
                if changes:
                    cls.log(record, 'updated', actor, changes=changes)
            if submit:
                cls.portal_submit(record, actor=actor)
        return cls(record.id)

    def portal_needs_scan(self):
        "Whether submitting needs the scan (overridden for e-invoices)"
        return True

    @classmethod
    def portal_submit(cls, record, actor=None):
        "Send the draft (or the fixed rejected invoice) for approval"
        with _as_system(record.company):
            record = cls(record.id)
            if not record.editable:
                raise UserError(gettext(
                        'client_portal.msg_cost_not_editable',
                        number=record.number))
            # The hash is saved with the record; the file id of a new file
            # is written after it and may not be read back in this
            # transaction
            if record.portal_needs_scan() and not (
                    record.scan_hash or record.scan_id):
                raise UserError(gettext('client_portal.msg_cost_scan_missing'))
            if not record.lines:
                raise UserError(gettext('client_portal.msg_cost_no_lines'))
            cls.write([record], {
                    'submitted_at': datetime.datetime.now(),
                    'reject_reason': None,
                    })
            cls.submit([record])
            cls.log(record, 'submitted', actor)

    @classmethod
    def portal_delete(cls, record):
        "A draft never submitted may be deleted by the client"
        if record.state != 'draft':
            raise UserError(gettext('client_portal.msg_cost_not_editable',
                    number=record.number))
        with _as_system(record.company):
            cls.delete([cls(record.id)])

    # --- workflow (back office) ------------------------------------------

    @classmethod
    @Workflow.transition('submitted')
    def submit(cls, records):
        pass

    @classmethod
    @ModelView.button_action('client_portal.wizard_cost_invoice_reject')
    def reject(cls, records):
        pass

    @classmethod
    @Workflow.transition('rejected')
    def do_reject(cls, records, reason):
        """Refuse the submitted invoices with the reason the client sees:
        notified on the portal and by e-mail"""
        Notification = Pool().get('portal.notification')
        reason = (reason or '').strip()
        if not reason:
            raise UserError(gettext('client_portal.msg_cost_reason_required'))
        # The state now, not after this method as Workflow.transition
        # would: the notification and its e-mail tell the new state
        cls.write(records, {'reject_reason': reason, 'state': 'rejected'})
        for record in records:
            cls.log(record, 'rejected', None, reason=reason)
        Notification.notify_cost_invoices(records)

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, records):
        """Post each as the firm's supplier invoice and charge its gross
        amount to the client's sub-account in the invoice's currency"""
        pool = Pool()
        User = pool.get('res.user')
        Notification = pool.get('portal.notification')
        user = User(Transaction().user)
        # Each record's sub-account, looked up once: checked, then charged
        subaccounts = [record._check_approvable() for record in records]
        for record, subaccount in zip(records, subaccounts):
            invoice = record._post_supplier_invoice(subaccount)
            record.invoice = invoice
            record.subaccount = subaccount
            record.approved_at = datetime.datetime.now()
            record.approved_by = user
            # Now, not after this method: the notification tells it, and
            # the invoices already paid go on to 'paid' below
            record.state = 'approved'
        cls.save(records)
        for record in records:
            cls.log(record, 'approved', None)
        Notification.notify_cost_invoices(records)
        paid = [r for r in records if r.payment_status == 'paid']
        if paid:
            cls.write(paid, {'paid_date': datetime.date.today()})
            cls.paid(paid)

    @classmethod
    @ModelView.button
    def mark_paid(cls, records):
        "The firm paid the supplier"
        Date = Pool().get('ir.date')
        records = [r for r in records if r.state == 'approved']
        if not records:
            return
        cls.write(records, {
                'paid_date': Date.today(),
                'payment_status': 'paid',
                })
        cls.paid(records)

    @classmethod
    @Workflow.transition('paid')
    def paid(cls, records):
        for record in records:
            cls.log(record, 'paid', None)

    def _subaccount(self):
        Subaccount = Pool().get('portal.subaccount')
        with without_check_access():
            found = Subaccount.search([
                    ('client', '=', self.client.id),
                    ('currency', '=', self.currency.id),
                    ], limit=1)
        return found[0] if found else None

    def _check_approvable(self):
        "The sub-account to charge; UserError when it cannot be approved"
        pool = Pool()
        Period = pool.get('account.period')
        subaccount = self._subaccount()
        if not subaccount:
            raise UserError(gettext(
                    'client_portal.msg_cost_no_subaccount_currency',
                    number=self.number, currency=self.currency.code))
        if not self.lines:
            raise UserError(gettext('client_portal.msg_cost_no_lines'))
        try:
            Period.find(self.company, date=self.receipt_date)
        except PeriodNotFoundError:
            raise UserError(gettext(
                    'client_portal.msg_cost_closed_period',
                    number=self.number))
        if self.kind == 'correction' and (not self.corrected
                or self.corrected.state not in {'approved', 'paid'}):
            raise UserError(gettext(
                    'client_portal.msg_cost_corrected_not_approved',
                    number=self.number))
        return subaccount

    def _post_supplier_invoice(self, subaccount):
        """The firm's supplier invoice (a credit note when a correction
        lowers the amount), posted on the receipt date, then paid from the
        client's sub-account: the charge the client sees"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Configuration = pool.get('account.configuration')
        MoveLine = pool.get('account.move.line')
        with _as_system(self.company), Transaction().set_context(
                _portal_tax_rounding='document', _skip_warnings=True):
            account = Configuration(1).portal_cost_account
            if not account:
                raise UserError(gettext(
                        'client_portal.msg_cost_no_account'))
            invoice = Invoice(company=self.company, type='in',
                party=self.supplier, currency=self.currency,
                invoice_date=self.invoice_date,
                accounting_date=self.receipt_date,
                reference=self.number,
                description=gettext('client_portal.msg_cost_description',
                    client=self.client.rec_name))
            invoice.on_change_party()
            invoice.payment_term = None
            invoice.set_journal()
            invoice.lines = [InvoiceLine(
                    type='line', company=self.company,
                    currency=self.currency,
                    account=account,
                    description=l.description or l.tax_label,
                    quantity=float(l.quantity), unit=None,
                    unit_price=l.unit_price,
                    taxes=[l.tax] if l.tax else [],
                    ) for l in self.lines]
            invoice.save()
            Invoice.update_taxes([invoice])
            Invoice.post([invoice])
            invoice = Invoice(invoice.id)
            if invoice.total_amount:
                # Signed: a correction that lowers the cost gives it back
                invoice.pay_invoice(invoice.total_amount,
                    subaccount.payment_method, self.receipt_date,
                    description=gettext(
                        'client_portal.msg_cost_charge',
                        number=self.number))
                invoice = Invoice(invoice.id)
            MoveLine.reconcile([l for l in invoice.lines_to_pay
                    + invoice.payment_lines if not l.reconciliation])
            Invoice.process([invoice])
            return Invoice(invoice.id)

    # --- history ---------------------------------------------------------

    _tracked = ['supplier', 'number', 'kind', 'corrected', 'invoice_date',
        'sale_date', 'receipt_date', 'currency', 'language', 'payment_method',
        'payment_status', 'due_date', 'note', 'scan_id', 'total_amount']

    def _snapshot(self):
        values = {}
        for name in self._tracked:
            value = getattr(self, name)
            if isinstance(value, ModelSQL):
                value = value.rec_name
            values[name] = value
        values['lines'] = [(l.description or '', str(l.quantity),
                str(l.unit_price), l.tax.rec_name if l.tax else '')
            for l in self.lines]
        return values

    def _changes(self, before):
        "A readable list of what changed since the snapshot"
        after = self._snapshot()
        changed = []
        for name, old in before.items():
            if after[name] != old:
                if name == 'lines':
                    changed.append(f'{self.__names__("lines")["field"]}')
                elif name == 'scan_id':
                    changed.append(self.__names__('scan')['field'])
                else:
                    label = self.__names__(name)['field']
                    changed.append(f'{label}: {_text(old)} → '
                        f'{_text(after[name])}')
        return '\n'.join(changed)

    @classmethod
    def log(cls, record, action, actor=None, changes=None, reason=None,
            **extra):
        """One history entry; actor is the portal user, else the back
        office's user"""
        if not isinstance(record, ModelSQL):
            # trytond's ir.model.log of writes, buttons and transitions:
            # log(records, event, target=None, user=None)
            return super().log(record, action, actor, **extra)
        Event = Pool().get('portal.cost.invoice.event')
        user = Transaction().user
        with without_check_access():
            Event.create([{
                        'cost_invoice': record.id,
                        'action': action,
                        'web_user': actor.id if actor else None,
                        'user': user if not actor and user else None,
                        'changes': changes,
                        'reason': reason,
                        }])

    @classmethod
    def copy(cls, records, default=None):
        if records:
            raise UserError(gettext('client_portal.msg_cost_no_copy'))
        return super().copy(records, default=default)

    @classmethod
    def check_modification(cls, mode, records, values=None,
            external=False):
        super().check_modification(mode, records, values=values,
            external=external)
        if mode == 'delete':
            for record in records:
                if record.state != 'draft':
                    raise UserError(gettext(
                            'client_portal.msg_cost_delete_draft',
                            number=record.number))


def _text(value):
    if value is None or value == '':
        return '—'
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class CostInvoiceLine(ModelSQL, ModelView):
    "Cost Invoice Line"
    __name__ = 'portal.cost.invoice.line'

    cost_invoice = fields.Many2One(
        'portal.cost.invoice', "Cost Invoice", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'portal.product', "Product", ondelete='SET NULL',
        domain=[('client', '=', Eval('_parent_cost_invoice.client', -1))])
    description = fields.Char("Description")
    quantity = fields.Numeric("Quantity", digits=(16, 4), required=True)
    unit_price = fields.Numeric("Net Price", digits=(16, 4), required=True)
    tax = fields.Many2One('account.tax', "VAT Rate", ondelete='RESTRICT',
        required=True)
    amount = fields.Function(
        fields.Numeric("Net", digits=(16, 2)), 'get_amount')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('cost_invoice')
        cls._order = [('id', 'ASC')]

    def get_amount(self, name):
        return _round(Decimal(self.quantity or 0)
            * Decimal(self.unit_price or 0))

    @property
    def tax_label(self):
        return self.tax.description if self.tax else ''


ACTIONS = [
    ('created', "Created"),
    ('updated', "Changed"),
    ('submitted', "Submitted for approval"),
    ('rejected', "Rejected"),
    ('approved', "Approved and charged to the sub-account"),
    ('paid', "Paid to the supplier"),
    ('correction_request', "Correction requested from the supplier"),
    ('note', "Nota korygująca issued"),
    ]


class CostInvoiceEvent(ModelSQL, ModelView):
    "Cost Invoice History"
    __name__ = 'portal.cost.invoice.event'

    cost_invoice = fields.Many2One(
        'portal.cost.invoice', "Cost Invoice", required=True,
        ondelete='CASCADE')
    action = fields.Selection(ACTIONS, "Action", required=True,
        readonly=True)
    web_user = fields.Many2One('web.user', "Portal User", readonly=True,
        ondelete='SET NULL')
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='SET NULL')
    changes = fields.Text("Changes", readonly=True)
    reason = fields.Text("Reason", readonly=True)
    date = fields.Function(fields.Timestamp("Date"), 'get_date')
    actor = fields.Function(fields.Char("By"), 'get_actor')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('cost_invoice')
        cls._order = [('create_date', 'ASC'), ('id', 'ASC')]

    def get_date(self, name):
        return self.create_date

    def get_actor(self, name):
        if self.web_user:
            return self.web_user.email
        if self.user:
            return self.user.rec_name
        return None


class RejectStart(ModelView):
    "Reject Cost Invoice"
    __name__ = 'portal.cost.invoice.reject.start'

    reason = fields.Text("Reason", required=True,
        help="Shown to the client, who can fix the invoice and submit it "
        "again.")


class Reject(Wizard):
    "Reject Cost Invoice"
    __name__ = 'portal.cost.invoice.reject'

    start = StateView('portal.cost.invoice.reject.start',
        'client_portal.cost_invoice_reject_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reject", 'reject', 'tryton-ok', default=True),
            ])
    reject = StateTransition()

    def transition_reject(self):
        CostInvoice = Pool().get('portal.cost.invoice')
        CostInvoice.do_reject(
            [r for r in self.records if r.state == 'submitted'],
            self.start.reason)
        return 'end'


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'

    portal_cost_account = fields.Many2One(
        'account.account', "Clients' Cost Account",
        domain=[('type.expense', '=', True)],
        help="The expense account of the supplier invoices posted when "
        "clients' cost invoices are approved.")
