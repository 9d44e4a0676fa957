"""Which client a received KSeF invoice is a cost of: rules staff edit, in
order, then the client whose tax number or code the invoice names.

A rule looks at one thing the supplier wrote: its own NIP, the buyer's
customer number (NrKlienta) or buyer id (IDNabywcy), a DodatkowyOpis
key/value, or the Podmiot3 recipient's NIP or name. The first matching rule
by sequence wins; without one, the recipient's NIP or the customer number
equal to a client's tax number or code allocates it. Otherwise the invoice
waits in the inbox for a manager."""
import re

from stdnum.pl import nip as stdnum_nip

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import without_check_access

KINDS = [
    ('supplier', "Supplier NIP"),
    ('customer_number', "Buyer's Customer Number (NrKlienta)"),
    ('buyer_id', "Buyer ID (IDNabywcy)"),
    ('description', "Additional Description (DodatkowyOpis)"),
    ('recipient_nip', "Recipient NIP (Podmiot3)"),
    ('recipient_name', "Recipient Name (Podmiot3)"),
    ]
NIP_KINDS = {'supplier', 'recipient_nip'}


def normalize(value):
    "Text compared without case and extra spaces"
    return re.sub(r'\s+', ' ', (value or '').strip()).casefold()


def compact_nip(value):
    "A NIP's ten digits (PL prefix, dashes and spaces dropped)"
    value = re.sub(r'[\s-]', '', value or '').upper()
    if value.startswith('PL'):
        value = value[2:]
    return value


class AllocationRule(sequence_ordered(), DeactivableMixin, ModelSQL,
        ModelView):
    "KSeF Allocation Rule"
    __name__ = 'ksef.allocation.rule'

    kind = fields.Selection(KINDS, "Match", required=True)
    key = fields.Char("Key",
        states={
            'invisible': Eval('kind') != 'description',
            'required': Eval('kind') == 'description',
            },
        help="The DodatkowyOpis key (Klucz), e.g. \"Klient\".")
    value = fields.Char("Value", required=True,
        help="The NIP, number, id, description value or name the invoice "
        "must carry (case and spaces ignored).")
    client = fields.Many2One('party.party', "Client", required=True,
        ondelete='CASCADE', domain=[('portal_client', '=', True)])

    @classmethod
    def default_kind(cls):
        return 'supplier'

    @classmethod
    def validate_fields(cls, rules, field_names):
        super().validate_fields(rules, field_names)
        for rule in rules:
            if (rule.kind in NIP_KINDS
                    and not stdnum_nip.is_valid(compact_nip(rule.value))):
                raise ValidationError(gettext(
                        'ksef.msg_configuration_context_nip',
                        nip=rule.value))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('kind') in NIP_KINDS and values.get('value'):
            values['value'] = compact_nip(values['value'])
        return values

    def get_rec_name(self, name):
        kind = dict(self.fields_get(['kind'])['kind']['selection'])[
            self.kind]
        value = f'{self.key}: {self.value}' if self.key else self.value
        return f'{kind} {value} → {self.client.rec_name}'

    def match(self, facts):
        "Whether the invoice's facts (received_invoice.Facts) match"
        if self.kind == 'supplier':
            return compact_nip(facts.seller_nip) == compact_nip(self.value)
        if self.kind == 'recipient_nip':
            return any(compact_nip(nip) == compact_nip(self.value)
                for nip, _ in facts.recipients if nip)
        wanted = normalize(self.value)
        if self.kind == 'customer_number':
            return normalize(facts.customer_number) == wanted
        if self.kind == 'buyer_id':
            return normalize(facts.buyer_id) == wanted
        if self.kind == 'description':
            return any(normalize(key) == normalize(self.key)
                and normalize(value) == wanted
                for key, value in facts.descriptions)
        if self.kind == 'recipient_name':
            return any(normalize(name) == wanted
                for _, name in facts.recipients)
        return False

    @classmethod
    def find_client(cls, facts):
        "(client, rule) of the first matching rule, else (client, None)"
        with without_check_access():
            for rule in cls.search([]):
                if rule.match(facts):
                    return rule.client, rule
        return cls.client_named(facts), None

    @classmethod
    def client_named(cls, facts):
        """The one client whose tax number is the recipient's NIP or the
        customer number, or whose code is the customer number"""
        Party = Pool().get('party.party')
        nips = {compact_nip(nip) for nip, _ in facts.recipients if nip}
        codes = set()
        if facts.customer_number:
            codes.add(facts.customer_number.strip())
            nips.add(compact_nip(facts.customer_number))
        nips = {n for n in nips if stdnum_nip.is_valid(n)}
        if not nips and not codes:
            return None
        with without_check_access():
            clients = Party.search([
                    ('portal_client', '=', True),
                    ['OR',
                        ('identifiers.code_compact', 'in',
                            list(nips) + [f'PL{n}' for n in nips]),
                        ('code', 'in', list(codes)),
                        ],
                    ])
        return clients[0] if len(clients) == 1 else None
