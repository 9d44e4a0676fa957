from trytond.model import fields
from trytond.pool import PoolMeta

# FA(3) P_12 codes (facts: POLAND.md §4): what a portal invoice line may
# carry, and which totals field of the invoice it adds to
VAT_CODES = [
    (None, ""),
    ('23', "23%"),
    ('8', "8%"),
    ('5', "5%"),
    ('0 KR', "0% domestic"),
    ('0 WDT', "0% intra-EU supply"),
    ('0 EX', "0% export"),
    ('zw', "Exempt"),
    ('oo', "Domestic reverse charge"),
    ('np I', "Not taxed in Poland"),
    ('np II', "EU services, reverse charge"),
    ]
# Rates whose invoice must say "odwrotne obciążenie" (art. 106e ust. 1 pkt 18)
REVERSE_CHARGE = {'oo', 'np II'}


class Tax(metaclass=PoolMeta):
    __name__ = 'account.tax'

    portal_vat_code = fields.Selection(
        VAT_CODES, "Portal VAT Code",
        help="The rate as the Polish e-invoice (FA(3) P_12) names it; "
        "only taxes with a code are offered on clients' invoices.")
    portal_exemption_basis = fields.Char(
        "Legal Basis of Exemption", translate=True,
        help="Printed on invoices with this rate, e.g. "
        "\"art. 43 ust. 1 pkt 29 lit. a ustawy o VAT\".")

    @property
    def portal_reverse_charge(self):
        return self.portal_vat_code in REVERSE_CHARGE
