"""The demo start-up's document archive: its service contract with the firm,
signed and then amended (two versions), and a folder the firm opened for
the start-up's own documents."""
import datetime
import html

from trytond.pool import Pool

from .pdf import html_to_pdf


def contract_pdf(firm, client, version, date):
    "The firm's contract with the client as a one-page PDF"
    firm_name = html.escape(firm.company.party.name)
    client_name = html.escape(client.name)
    annex = ("<p>Aneks nr 1: od 1 dnia kolejnego miesiąca wynagrodzenie "
        "obejmuje także obsługę kadrowo-płacową do 5 osób.</p>"
        if version > 1 else "")
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
        @page {{ size: A4; margin: 20mm; }}
        body {{ font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; }}
        h1 {{ font-size: 15pt; }}
        </style></head><body>
        <h1>Umowa o prowadzenie ksiąg rachunkowych</h1>
        <p>zawarta {date.isoformat()} między {firm_name} (Biuro) a
        {client_name} (Klient).</p>
        <p>§ 1. Biuro prowadzi księgi rachunkowe Klienta, sporządza
        deklaracje podatkowe i rozliczenia z ZUS.</p>
        <p>§ 2. Klient przekazuje dokumenty księgowe przez portal klienta
        do 5 dnia miesiąca następującego po miesiącu, którego dotyczą.</p>
        <p>§ 3. Wynagrodzenie miesięczne określa cennik Biura.</p>
        {annex}
        <p>Wersja {version}</p>
        </body></html>"""
    return html_to_pdf(page)


def create_archive(firm, client):
    "The client's archive folders and the contract; the folders"
    pool = Pool()
    Folder = pool.get('portal.archive.folder')
    File = pool.get('portal.archive.file')
    Version = pool.get('portal.archive.version')
    signed = firm.today - datetime.timedelta(days=200)
    contracts, uploads = Folder.create([
            {'party': client.id, 'name': "Umowy", 'sequence': 10},
            {'party': client.id, 'name': "Dokumenty od klienta",
                'sequence': 20, 'client_upload': True},
            ])
    contract, = File.create([{
                'folder': contracts.id,
                'name': "Umowa o prowadzenie ksiąg rachunkowych",
                'kind': 'contract',
                'description': "Umowa z biurem wraz z aneksami.",
                'versions': [('create', [{
                                'data': contract_pdf(firm, client, 1, signed),
                                'filename': 'umowa-ksiegowa.pdf',
                                'note': "Umowa podpisana przez obie strony.",
                                }])],
                }])
    Version.create([{
                'file': contract.id,
                'data': contract_pdf(firm, client, 2, signed),
                'filename': 'umowa-ksiegowa-aneks-1.pdf',
                'note': "Aneks nr 1: obsługa kadrowo-płacowa.",
                }])
    return [contracts, uploads]
