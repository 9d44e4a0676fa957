"""Where each kind of portal record goes in Bitrix24, per status: the
entity (an Offer, entityTypeId 7, or a smart process), its category and
stage, how products travel, and extra fields (user fields included) filled
from the record. Staff edit these records; the module ships defaults that
work on a new Bitrix24 portal (mapping.xml)."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval

PRODUCTS = [
    ('rows', "Product rows by name"),
    ('catalog', "Catalog products"),
    ]
# Legacy entities of facts §5.3 (companies, contacts) and the catalog
COMPANY, CONTACT, PRODUCT = 4, 3, -1


class Mapping(ModelSQL, ModelView):
    "Bitrix24 Mapping"
    __name__ = 'bitrix.mapping'
    __string__ = "Bitrix24 Mapping"

    kind = fields.Selection('get_kinds', "Kind", required=True)
    status = fields.Char("Status",
        help="The record's status this line applies to; empty for any "
        "status without a line of its own.")
    entity_type_id = fields.Integer("Entity Type", required=True,
        help="7 for Offers (quotes), a smart process's entityTypeId, "
        "4 for companies, 3 for contacts, -1 for catalog products.")
    category_id = fields.Integer("Category",
        help="The smart process's category (funnel); empty for the "
        "default one.")
    stage_id = fields.Char("Stage",
        help="E.g. DRAFT, SENT, APPROVED for Offers, DT1036_9:NEW for a "
        "smart process.")
    products = fields.Selection(PRODUCTS, "Products",
        states={'invisible': Eval('entity_type_id', 0) <= 4},
        help="Catalog products need a Bitrix24 administrator's webhook.")
    lines = fields.One2Many('bitrix.mapping.field', 'mapping', "Fields")
    active = fields.Boolean("Active")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('kind', 'ASC'), ('status', 'ASC NULLS FIRST'),
            ('id', 'ASC')]

    @classmethod
    def default_products(cls):
        return 'rows'

    @classmethod
    def default_active(cls):
        return True

    @classmethod
    def get_kinds(cls):
        "What the synced models declare (sync.Synced._bitrix_kinds)"
        kinds = []
        for _, Model in Pool().iterobject():
            kinds.extend(getattr(Model, '_bitrix_kinds', []))
        return sorted(set(kinds), key=lambda k: k[1])

    def get_rec_name(self, name):
        return ' / '.join(filter(None, [
                    dict(self.get_kinds()).get(self.kind, self.kind),
                    self.status]))

    @classmethod
    def find(cls, kind, status):
        "The active line of kind for status, else its line for any status"
        found = None
        for mapping in cls.search([('kind', '=', kind)]):
            if mapping.status == status:
                return mapping
            if not mapping.status:
                found = mapping
        return found


class MappingField(ModelSQL, ModelView):
    "Bitrix24 Mapping Field"
    __name__ = 'bitrix.mapping.field'
    __string__ = "Bitrix24 Mapping Field"

    mapping = fields.Many2One('bitrix.mapping', "Mapping", required=True,
        ondelete='CASCADE')
    source = fields.Char("Portico Field", required=True,
        help="A field of the record, or a path through its relations, "
        "e.g. number, party.name, currency.code.")
    target = fields.Char("Bitrix24 Field", required=True,
        help="As crm.item.fields names it (camelCase, user fields "
        "ufCrm…), or the UPPER name for companies and contacts.")

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        for line in lines:
            if not all(p.isidentifier() and not p.startswith('_')
                    for p in (line.source or '').split('.')):
                raise ValidationError(gettext(
                        'bitrix_bridge.msg_mapping_source',
                        source=line.source))

    def value(self, record):
        "The source's value on record, as Bitrix24 takes it"
        value = record
        for name in self.source.split('.'):
            if value is None:
                return ''
            if name not in getattr(value, '_fields', {}):
                raise ValidationError(gettext(
                        'bitrix_bridge.msg_mapping_source',
                        source=self.source))
            value = getattr(value, name)
        if hasattr(value, 'rec_name'):
            return value.rec_name
        if hasattr(value, 'isoformat'):
            return value.isoformat()
        return '' if value is None else str(value)
