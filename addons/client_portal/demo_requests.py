"""Demo data of the clients' requests: the start-up asked its manager for a
statement of settlements with its bank's confirmation attached, and the
manager answered with the statement and now waits for the client; an
earlier request for a certificate is done. Everything runs inside the
caller's transaction; the e-mails the manager's steps would send are not
sent (the demo's mail catcher is not running yet)."""
import html

from trytond.pool import Pool
from trytond.transaction import Transaction

from .demo_costs import _without_emails
from .ir import PARTY_KEY, WEB_USER_KEY
from .pdf import html_to_pdf
from .scan import check_scan


def _pdf(title, lines):
    body = ''.join(f'<p>{html.escape(line)}</p>' for line in lines)
    return html_to_pdf(f'<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<style>@page {{ size: A5; margin: 15mm; }} body {{ font-family: '
        f'sans-serif; font-size: 11pt; }}</style></head><body>'
        f'<h1 style="font-size: 15pt">{html.escape(title)}</h1>{body}'
        f'</body></html>')


def create_requests(firm, client):
    """The client's open request answered with a file, and a closed one.
    Returns {key: request}."""
    pool = Pool()
    Request = pool.get('portal.request')
    ModelData = pool.get('ir.model.data')
    Kind = pool.get('portal.request.kind')
    User = pool.get('res.user')
    WebUser = pool.get('web.user')
    transaction = Transaction()
    user = WebUser.search([('party', '=', client.id)], limit=1)[0]
    manager = client.portal_manager or User.search(
        [('login', '=', 'piotr')])[0]

    def kind(name):
        return Kind(ModelData.get_id('client_portal', f'request_kind_{name}'))

    def as_client():
        return transaction.set_context(**{PARTY_KEY: client.id,
                    WEB_USER_KEY: user.id})

    with _without_emails(client):
        with as_client():
            certificate = Request.portal_create(client, kind('certificate'),
                "Zaświadczenie o współpracy dla banku",
                "Bank prosi o zaświadczenie, że prowadzicie Państwo naszą "
                "księgowość od 2024 roku.")
        with transaction.set_user(manager.id):
            Request.start([certificate])
            Request(certificate.id).post_staff_reply(
                "Zaświadczenie w załączniku, oryginał wysłaliśmy pocztą.",
                [check_scan(_pdf("Zaświadczenie", [
                                f"Zaświadczamy, że {client.name} korzysta "
                                f"z usług księgowych {firm.company.rec_name} "
                                "od 1 marca 2024 r."]), 'zaswiadczenie.pdf')])
            Request.done([Request(certificate.id)])

        with as_client():
            statement = Request.portal_create(client, kind('report'),
                "Zestawienie rozrachunków z kontrahentami",
                "Proszę o zestawienie nierozliczonych faktur na koniec "
                "kwartału. W załączniku potwierdzenie salda z banku.",
                [check_scan(_pdf("Potwierdzenie salda", [
                                "Saldo rachunku na koniec kwartału: "
                                "48 210,17 PLN"]), 'saldo-bank.pdf')])
        with transaction.set_user(manager.id):
            Request.start([statement])
            Request(statement.id).post_staff_reply(
                "Przesyłam zestawienie. Czy faktura FV/LUM/2026/014 od "
                "Hotelu Polonia została już zapłacona? Nie widzimy wpłaty.",
                [check_scan(_pdf("Zestawienie rozrachunków", [
                                "Hotel Polonia sp. z o.o.: 1 968,00 PLN",
                                "Müller Logistik GmbH: 2 400,00 EUR"]),
                        'zestawienie.pdf')],
                wait=True)
    return {'certificate': certificate, 'statement': statement}
