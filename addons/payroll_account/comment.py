"The client's contracts carry a comment thread, as its documents do"
from trytond.pool import PoolMeta


class Comment(metaclass=PoolMeta):
    __name__ = 'portal.comment'

    @classmethod
    def _get_resources(cls):
        resources = super()._get_resources()
        resources['payroll.contract'] = ('client', 'contracts/{}')
        return resources
