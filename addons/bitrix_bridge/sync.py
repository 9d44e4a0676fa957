"""What a portal record becomes in Bitrix24. A synced model (party,
portal document, client's invoice, cost invoice, product) mixes Synced in
and says, per record, its kind (a mapping key), its client, the fields and
the product rows; the outbox does the rest with the same transport for
every kind: a new kind is a mapping and these few methods, not new
transport code."""
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from .mapping import COMPANY, CONTACT, PRODUCT


@dataclass
class Payload:
    "One record as Bitrix24 receives it"
    entity_type_id: int
    fields: dict
    rows: list = None           # product rows (items only)
    key: str = ''               # Portico's external key
    stage_id: str = None
    extra_fields: dict = field(default_factory=dict)

    @property
    def legacy(self):
        "Companies and contacts go through their legacy methods (§5.3)"
        return self.entity_type_id in {COMPANY, CONTACT}

    @property
    def product(self):
        return self.entity_type_id == PRODUCT

    def all_fields(self):
        return dict(self.fields, **self.extra_fields)

    def content_hash(self):
        content = json.dumps([self.entity_type_id, self.all_fields(),
                self.rows], sort_keys=True, default=str)
        return hashlib.sha256(content.encode()).hexdigest()


def money(value):
    "Bitrix24 takes amounts as JSON numbers (§10.5)"
    return float(Decimal(value or 0).quantize(Decimal('0.01')))


def product_rows(lines):
    """Product rows by name (§5.2): the unit price with tax, the VAT rate
    in percent; lines have description, quantity, unit_price and their VAT
    rates (taxes or tax)"""
    rows = []
    for sort, line in enumerate(lines, 1):
        if getattr(line, 'type', 'line') != 'line':
            continue
        taxes = list(getattr(line, 'taxes', None) or filter(None,
                [getattr(line, 'tax', None)]))
        rate = sum((t.rate for t in taxes
                if t.type == 'percentage' and t.rate), Decimal(0))
        price = Decimal(line.unit_price or 0) * (1 + rate)
        rows.append({
                'productName': line.description or '',
                'price': float(price.quantize(Decimal('0.01'))),
                'quantity': float(line.quantity or 0),
                'taxRate': float((rate * 100).quantize(Decimal('0.01'))),
                'taxIncluded': 'Y',
                'sort': sort * 10,
                })
    return rows


def client_link(client, links):
    "companyId or contactId of the client's Bitrix24 record"
    link = links.get(str(client)) if client else None
    if not link:
        return {}
    if link.entity_type_id == CONTACT:
        return {'contactId': link.bitrix_id}
    return {'companyId': link.bitrix_id}


def external_key(record):
    "Portico's key of a record in Bitrix24: its model and id"
    database = Transaction().database.name
    return f'portico:{database}:{record}'


class Synced:
    "A model whose records are mirrored into Bitrix24"
    __slots__ = ()
    # [(kind, label)]: the mapping kinds this model's records fall into
    _bitrix_kinds = []

    def bitrix_kind(self):
        "The mapping kind of the record; None: not mirrored"
        return None

    def bitrix_status(self):
        "The status that picks the mapping line (its stage)"
        return None

    def bitrix_client(self):
        "The portal client the record belongs to (its bridge switch)"
        return None

    def bitrix_dependencies(self):
        "Records to mirror before this one (its company, its contact)"
        return []

    def bitrix_payload(self, mapping, links):
        """The Payload for mapping; links: {str(record): bitrix.link} of
        the dependencies. Called only for a record with a kind: every
        model whose bitrix_kind returns one defines it."""
        raise NotImplementedError

    def bitrix_set_status(self, status):
        """Take the status a Bitrix24 user gave the record by moving its
        item to a mapped stage; False when the record cannot take it"""
        return False

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Outbox = Pool().get('bitrix.outbox')
        if mode == 'write' and field_names is not None and not (
                field_names - cls._bitrix_ignored_fields()):
            return
        Outbox.enqueue(records,
            action='delete' if mode == 'delete' else 'upsert')

    @classmethod
    def _bitrix_ignored_fields(cls):
        "Fields whose change Bitrix24 does not need to hear of"
        return {'write_date', 'write_uid'}

    def bitrix_enabled(self):
        "Whether the record is to be mirrored: a kind, an enabled client"
        if self.bitrix_kind() is None:
            return False
        client = self.bitrix_client()
        return bool(client is None or client.bitrix_sync)
