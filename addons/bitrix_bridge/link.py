"""Which Bitrix24 record mirrors which portal record: the bridge's own
external key (facts: BITRIX24.md §5.3 ①, authoritative), with the hash of
what was last sent so that an unchanged record costs no call."""
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool


class Link(ModelSQL, ModelView):
    "Bitrix24 Link"
    __name__ = 'bitrix.link'
    __string__ = "Bitrix24 Link"

    origin = fields.Reference("Record", selection='get_origins',
        required=True, readonly=True)
    entity_type_id = fields.Integer("Entity Type", required=True,
        readonly=True)
    bitrix_id = fields.Integer("Bitrix24 ID", required=True, readonly=True)
    content_hash = fields.Char("Content Hash", readonly=True)
    stage_id = fields.Char("Stage", readonly=True,
        help="The stage last sent or read back.")
    synced_at = fields.Timestamp("Synchronised", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('origin_unique', Unique(t, t.origin),
                'bitrix_bridge.msg_link_unique'),
            ]

    @classmethod
    def get_origins(cls):
        return Pool().get('bitrix.outbox').get_origins()

    def get_rec_name(self, name):
        return f'{self.entity_type_id}/{self.bitrix_id}'

    @classmethod
    def of(cls, records):
        "{str(record): link} of the records that have one"
        keys = [str(r) for r in records]
        return {str(link.origin): link
            for link in cls.search([('origin', 'in', keys)])} if keys else {}
