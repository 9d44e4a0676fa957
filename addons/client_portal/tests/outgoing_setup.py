"""A client ready to issue its own invoices: sub-accounts in PLN and EUR, a
template and a contractor, for the module tests"""
from trytond.pool import Pool

from ..demo import create_client, nip, setup_firm
from ..demo_outgoing import create_contractor, create_invoice_template
from ..demo_outgoing import editor_form as form  # noqa: F401


def outgoing_firm(today):
    pool = Pool()
    Subaccount = pool.get('portal.subaccount')
    firm = setup_firm(today, logo=False)
    client = create_client(firm, "Alfa sp. z o.o.", nip('677231994'),
        "ul. Wielicka 28", '30-552', "Kraków", 'alfa@example.com', '1')
    Subaccount.create_for([client], [firm.pln, firm.eur])
    template = create_invoice_template(firm, "Alfa", 'ALFA', [client])
    buyer = create_contractor(firm, client, "Gamma Trade sp. z o.o.",
        "ul. Prosta 1", '00-001', "Warszawa", tax_number=nip('526587763'),
        email='buyer@gamma.example')
    return firm, client, template, buyer
