"""Invoices KSeF holds for the firm as buyer: each kept once, by its KSeF
number, with its XML as downloaded, what its FA(3) says, and where it went:
the client whose cost it is and the cost invoice made of it.

The XML is parsed with ksef-client's FA(3) parser; a document that does not
parse is kept with the error (state "error") and stops nothing else."""
import datetime
import weakref
from collections import namedtuple
from decimal import Decimal

from ksef_client.documents.fa3 import parse_invoice_xml
from lxml import etree
from stdnum.pl import nip as stdnum_nip

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import xsd
from .invoice import xml_hash

STATES = [
    ('new', "New"),
    ('allocated', "Allocated"),
    ('unallocated', "Waiting for Allocation"),
    ('error', "Error"),
    ]
# FA(3) FormaPlatnosci → the cost invoice's payment method
PAYMENT_METHODS = {'1': 'cash', '2': 'card', '6': 'transfer'}
# FA(3) RodzajFaktury of corrections
CORRECTIONS = {'KOR', 'KOR_ZAL', 'KOR_ROZ'}
# Podmiot3 roles of a unit the invoice is really for: recipient, additional
# buyer, JST recipient, VAT group member recipient
RECIPIENT_ROLES = {'2', '4', '8', '10'}
NS = {'f': xsd.NAMESPACE}

# The documents parsed in a transaction, by record id
_PARSED = weakref.WeakKeyDictionary()

# What the allocation rules look at, normalised by allocation.normalize
Facts = namedtuple('Facts', ['seller_nip', 'customer_number', 'buyer_id',
        'descriptions', 'recipients'])


def warsaw_day(timestamp):
    "The Polish calendar day of a naive UTC timestamp"
    from zoneinfo import ZoneInfo
    return timestamp.replace(tzinfo=datetime.timezone.utc).astimezone(
        ZoneInfo('Europe/Warsaw')).date()


def stated_totals(xml):
    """(net, VAT, gross) as the document states them: the sums of P_13_x,
    of P_14_x (not the PLN P_14_xW) and P_15"""
    fa = etree.fromstring(xml).find('f:Fa', NS)
    net = vat = Decimal(0)
    gross = None
    for element in fa:
        name = etree.QName(element).localname
        if name.startswith('P_13_'):
            net += Decimal(element.text)
        elif name.startswith('P_14_') and not name.endswith('W'):
            vat += Decimal(element.text)
        elif name == 'P_15':
            gross = Decimal(element.text)
    return net, vat, gross


def _address(party):
    address = party.address
    if address is None:
        return None
    return '\n'.join(filter(None, [address.line1, address.line2,
                address.country_code if address.country_code != 'PL'
                else None]))


def header_values(document, xml):
    "The received invoice's fields from the parsed FA(3)"
    seller = document.seller
    buyer = document.buyer
    terms = document.payment_terms
    due_dates = []
    bank_account = None
    method = None
    if terms:
        due_dates = list(terms.due_dates) + [
            t.due_date for t in terms.due_terms if t.due_date]
        if terms.bank_accounts:
            bank_account = terms.bank_accounts[0].number
        method = terms.method
    recipients = [p for p in document.additional_parties
        if str(getattr(p.role, 'value', p.role)) in RECIPIENT_ROLES]
    recipient = recipients[0] if recipients else None
    corrected = [c.ksef_number for c in document.corrected_invoices
        if c.ksef_number]
    net, vat, gross = stated_totals(xml)
    return {
        'seller_nip': seller.identifier.value,
        'seller_name': seller.name,
        'seller_address': _address(seller),
        'number': document.invoice_number,
        'issue_date': document.issue_date,
        'sale_date': document.sale_date,
        'currency_code': document.currency,
        'invoice_type': document.kind.xml_code,
        'untaxed_amount': net,
        'tax_amount': vat,
        'total_amount': gross,
        'due_date': min(due_dates) if due_dates else None,
        'bank_account': bank_account,
        'payment_method': PAYMENT_METHODS.get(method or '', 'other'
            if method else 'transfer'),
        'customer_number': buyer.customer_number,
        'buyer_id': buyer.buyer_id,
        'recipient_nip': recipient.identifier.value if recipient else None,
        'recipient_name': recipient.name if recipient else None,
        'descriptions': '\n'.join(f'{d.key}: {d.value}'
            for d in document.additional_descriptions) or None,
        'corrected_ksef_number': corrected[0] if corrected else None,
        }


class ReceivedInvoice(ModelSQL, ModelView):
    "KSeF Received Invoice"
    __name__ = 'ksef.received.invoice'
    _rec_name = 'ksef_number'

    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    ksef_number = fields.Char("KSeF Number", required=True, readonly=True)
    xml = fields.Binary("FA(3) XML", readonly=True, file_id='xml_file_id',
        filename='xml_name')
    xml_file_id = fields.Char("FA(3) XML ID", readonly=True)
    xml_name = fields.Function(fields.Char("FA(3) XML File Name"),
        'get_xml_name')
    xml_hash = fields.Char("FA(3) XML Hash", readonly=True,
        help="SHA-256 of the XML in Base64, as KSeF identifies it.")
    acquired_at = fields.Timestamp("KSeF Acceptance Date", readonly=True,
        help="When KSeF gave the invoice its number: the receipt date.")
    stored_at = fields.Timestamp("Permanent Storage Date", readonly=True)
    receipt_date = fields.Function(fields.Date("Receipt Date"),
        'get_receipt_date')

    seller_nip = fields.Char("Seller NIP", readonly=True)
    seller_name = fields.Char("Seller", readonly=True)
    seller_address = fields.Text("Seller Address", readonly=True)
    number = fields.Char("Invoice Number", readonly=True)
    invoice_type = fields.Char("Invoice Type", readonly=True,
        help="FA(3) RodzajFaktury: VAT, KOR, ZAL…")
    issue_date = fields.Date("Issue Date", readonly=True)
    sale_date = fields.Date("Sale Date", readonly=True)
    currency_code = fields.Char("Currency", readonly=True)
    untaxed_amount = fields.Numeric("Net", digits=(16, 2), readonly=True)
    tax_amount = fields.Numeric("VAT", digits=(16, 2), readonly=True)
    total_amount = fields.Numeric("Gross", digits=(16, 2), readonly=True)
    due_date = fields.Date("Due Date", readonly=True)
    bank_account = fields.Char("Bank Account", readonly=True)
    payment_method = fields.Char("Payment Method", readonly=True)
    customer_number = fields.Char("Customer Number (NrKlienta)",
        readonly=True)
    buyer_id = fields.Char("Buyer ID (IDNabywcy)", readonly=True)
    recipient_nip = fields.Char("Recipient NIP (Podmiot3)", readonly=True)
    recipient_name = fields.Char("Recipient (Podmiot3)", readonly=True)
    descriptions = fields.Text("Additional Descriptions", readonly=True)
    corrected_ksef_number = fields.Char("Corrected KSeF Number",
        readonly=True)
    corrected = fields.Many2One('ksef.received.invoice',
        "Corrected Invoice", readonly=True, ondelete='SET NULL')

    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    error = fields.Text("Error", readonly=True,
        states={'invisible': ~Eval('error')})
    client = fields.Many2One('party.party', "Client", readonly=True,
        ondelete='RESTRICT')
    rule = fields.Many2One('ksef.allocation.rule', "Allocation Rule",
        readonly=True, ondelete='SET NULL')
    cost_invoice = fields.Many2One('portal.cost.invoice', "Cost Invoice",
        readonly=True, ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # KSeF numbers are unique in KSeF: a second download is refused
        cls._sql_constraints += [
            ('ksef_number_unique', Unique(t, t.ksef_number),
                'ksef.msg_received_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.seller_nip, Index.Equality()),
                    (t.number, Index.Equality())),
                })
        cls._order = [('acquired_at', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'allocate': {
                    'invisible': ~Eval('state').in_(
                        ['unallocated', 'error', 'new']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'new'

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    def get_xml_name(self, name):
        return f'{self.ksef_number}.xml'

    def get_receipt_date(self, name):
        return warsaw_day(self.acquired_at) if self.acquired_at else None

    def get_rec_name(self, name):
        if self.number:
            return f'{self.ksef_number} · {self.number}'
        return self.ksef_number

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('ksef_number', operator, value),
            ('number', operator, value),
            ('seller_name', operator, value),
            ('seller_nip', operator, value),
            ]

    @property
    def document(self):
        "The FA(3) model of the stored XML (ksef-client's parser)"
        # Kept from the download: a file-stored Binary written in this
        # transaction may not be read back in it
        parsed = _PARSED.setdefault(Transaction(), {})
        if self.id not in parsed:
            parsed[self.id] = parse_invoice_xml(bytes(self.xml))
        return parsed[self.id]

    @property
    def is_correction(self):
        return self.invoice_type in CORRECTIONS

    def allocation_facts(self):
        document = self.document
        recipients = [(p.identifier.value, p.name)
            for p in document.additional_parties
            if str(getattr(p.role, 'value', p.role)) in RECIPIENT_ROLES]
        return Facts(
            seller_nip=document.seller.identifier.value,
            customer_number=document.buyer.customer_number,
            buyer_id=document.buyer.buyer_id,
            descriptions=[(d.key, d.value)
                for d in document.additional_descriptions],
            recipients=recipients)

    @classmethod
    def receive(cls, company, ksef_number, xml, acquired_at, stored_at):
        """Keep a downloaded invoice, parse it and allocate it; a document
        that does not parse is kept in state error. Returns the record."""
        record = cls(company=company, ksef_number=ksef_number, xml=xml,
            xml_hash=xml_hash(xml), acquired_at=acquired_at,
            stored_at=stored_at, state='new')
        try:
            document = parse_invoice_xml(xml)
            values = header_values(document, xml)
        except Exception as exception:
            # Any fault of the document (syntax, structure, values): kept
            # for staff, the run goes on
            record.state = 'error'
            record.error = gettext('ksef.msg_received_malformed',
                error=str(exception) or exception.__class__.__name__)
            record.save()
            return record
        for name, value in values.items():
            setattr(record, name, value)
        if record.seller_nip and stdnum_nip.is_valid(record.seller_nip):
            record.seller_nip = stdnum_nip.compact(record.seller_nip)
        if record.corrected_ksef_number:
            found = cls.search([
                    ('ksef_number', '=', record.corrected_ksef_number),
                    ], limit=1)
            record.corrected = found[0] if found else None
        record.save()
        _PARSED.setdefault(Transaction(), {})[record.id] = document
        cls.auto_allocate([record])
        return record

    @classmethod
    def auto_allocate(cls, records):
        "Allocate by the rules, or leave waiting for a manager"
        Rule = Pool().get('ksef.allocation.rule')
        for record in records:
            if record.state not in {'new', 'unallocated'}:
                continue
            client, rule = Rule.find_client(record.allocation_facts())
            if client:
                record.allocate_to(client, rule=rule)
            else:
                record.state = 'unallocated'
                record.save()

    def allocate_to(self, client, rule=None):
        """Make the client's draft cost invoice of this invoice (or link
        the one the client already typed in); an invoice that cannot become
        one stays in error with the reason"""
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        self.client = client
        self.rule = rule
        try:
            cost_invoice = CostInvoice.ksef_create(self, client)
        except (CostInvoice.KsefAllocationError, UserError) as exception:
            # Kept in error for staff: one such invoice must not stop
            # every later run
            self.state = 'error'
            self.error = exception.message
            self.cost_invoice = None
        else:
            self.cost_invoice = cost_invoice
            self.client = cost_invoice.client
            self.state = 'allocated'
            self.error = None
        self.save()

    @classmethod
    @ModelView.button_action('ksef.wizard_received_invoice_allocate')
    def allocate(cls, records):
        pass


class AllocateStart(ModelView):
    "Allocate KSeF Invoice"
    __name__ = 'ksef.received.invoice.allocate.start'

    client = fields.Many2One('party.party', "Client", required=True,
        domain=[('portal_client', '=', True)])
    seller_nip = fields.Char("Seller NIP", readonly=True)
    seller_name = fields.Char("Seller", readonly=True)
    create_rule = fields.Boolean("Always Allocate This Seller to the Client",
        help="Adds an allocation rule: the seller's next invoices go to "
        "this client.")


class Allocate(Wizard):
    "Allocate KSeF Invoice"
    __name__ = 'ksef.received.invoice.allocate'

    start = StateView('ksef.received.invoice.allocate.start',
        'ksef.received_invoice_allocate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Allocate", 'allocate', 'tryton-ok', default=True),
            ])
    allocate = StateTransition()

    def default_start(self, fields):
        sellers = {(r.seller_nip, r.seller_name) for r in self.records}
        values = {'create_rule': False}
        if len(sellers) == 1:
            values['seller_nip'], values['seller_name'] = sellers.pop()
        return values

    def transition_allocate(self):
        Rule = Pool().get('ksef.allocation.rule')
        client = self.start.client
        records = [r for r in self.records
            if r.state in {'new', 'unallocated', 'error'}]
        rule = None
        if self.start.create_rule:
            sellers = sorted({r.seller_nip for r in records if r.seller_nip})
            rules = Rule.create([{'kind': 'supplier', 'value': nip,
                        'client': client.id} for nip in sellers])
            rule = rules[0] if len(rules) == 1 else None
        for record in records:
            if record.state == 'error' and not record.seller_nip:
                # Never parsed: nothing to make a cost invoice of
                continue
            record.allocate_to(client, rule=rule)
        return 'end'
