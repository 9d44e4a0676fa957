from trytond.model import fields
from trytond.pool import PoolMeta


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    ksef_send = fields.Boolean("Send Invoices to KSeF",
        help="The invoices this client issues through the portal and the "
        "firm's invoices to it go to KSeF; untick for a client still "
        "exempt from KSeF. Consumers and foreign buyers follow the KSeF "
        "configuration.")

    @classmethod
    def default_ksef_send(cls):
        return True
