from trytond.model import fields
from trytond.pool import PoolMeta


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    bitrix_user_id = fields.Integer("Bitrix24 User",
        help="The manager's user id in Bitrix24: the records of the "
        "clients assigned to them are assigned to this user.")
