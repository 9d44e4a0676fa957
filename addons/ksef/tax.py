from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

# Where the legal basis of an exemption comes from: FA(3) P_19A (the Polish
# VAT Act), P_19B (Directive 2006/112/EC) or P_19C (another basis)
EXEMPTION_BASIS_TYPES = [
    ('law', "Polish VAT Act"),
    ('directive', "Directive 2006/112/EC"),
    ('other', "Other"),
    ]


class Tax(metaclass=PoolMeta):
    __name__ = 'account.tax'

    ksef_exemption_basis_type = fields.Selection(
        EXEMPTION_BASIS_TYPES, "Exemption Basis Source",
        states={'invisible': Eval('portal_vat_code') != 'zw'},
        help="Which act the legal basis of the exemption cites: it decides "
        "the FA(3) field it goes to (P_19A, P_19B or P_19C).")

    @classmethod
    def default_ksef_exemption_basis_type(cls):
        return 'law'
