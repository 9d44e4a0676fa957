"""The document archive of clients a and b for the HTTP tests: a folder of
contracts (a contract in two versions, a hidden file and, for a, a file only
its first user sees) and a folder open for the client's uploads."""
import io

from trytond.pool import Pool


def pdf_bytes(text='Umowa'):
    "A real one-page PDF"
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({'/Title': text})
    data = io.BytesIO()
    writer.write(data)
    return data.getvalue()


def build_archive(a, b, users):
    pool = Pool()
    Folder = pool.get('portal.archive.folder')
    File = pool.get('portal.archive.file')
    Version = pool.get('portal.archive.version')
    folders, files = {}, {}
    for key, client in [('a', a), ('b', b)]:
        contracts, uploads = Folder.create([
                {'party': client.id, 'name': "Umowy", 'sequence': 1},
                {'party': client.id, 'name': "Od klienta", 'sequence': 2,
                    'client_upload': True},
                ])
        folders[f'{key}_contracts'] = contracts.id
        folders[f'{key}_uploads'] = uploads.id

        def file(name, **values):
            record, = File.create([{'folder': contracts.id, 'name': name,
                        'kind': 'contract', 'versions': [('create', [{
                                        'data': pdf_bytes(name),
                                        'filename': f'{name}.pdf',
                                        }])], **values}])
            return record
        contract = file(f"Umowa {key.upper()}")
        Version.create([{'file': contract.id, 'data': pdf_bytes('v2'),
                    'filename': 'umowa-v2.pdf', 'note': "Aneks 1"}])
        files[f'{key}_contract'] = contract.id
        files[f'{key}_hidden'] = file("Wycofany", hidden=True).id
    files['a_only_a'] = File.create([{'folder': folders['a_contracts'],
                'name': "Tylko dla Jana", 'kind': 'policy',
                'visible_to': [('add', [users['a'].id])],
                'versions': [('create', [{'data': pdf_bytes('Polisa'),
                                'filename': 'polisa.pdf'}])],
                }])[0].id
    return {'archive_folders': folders, 'archive_files': files}
