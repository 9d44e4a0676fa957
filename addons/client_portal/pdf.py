"HTML to PDF with WeasyPrint, limited to inline (data:) resources"
import base64


def html_to_pdf(html):
    import weasyprint
    if isinstance(html, bytes):
        html = html.decode('utf-8')
    # Only data: URIs: a template can never make the server fetch a URL
    # or read a file (trytond's own convert refuses data: and so drops
    # the logo).
    fetcher = weasyprint.URLFetcher(allowed_protocols={'data'})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def logo_data_uri(company, width=4, height=2):
    "The company logo as a data: URI, or '' without a logo"
    from trytond import backend
    if not company or not company.logo:
        return ''
    if backend.name == 'sqlite':
        # trytond caches the resized logo from a second transaction, which
        # on SQLite waits for the lock this one holds when it issues a
        # document: resize without the cache
        dpcm = 300 / 2.54
        image, _, _ = company._logo_resize(width * dpcm, height * dpcm)
        mimetype = 'image/png'
    else:
        image, mimetype, _, _ = company.get_logo_cm(width, height)
    return 'data:%s;base64,%s' % (
        mimetype, base64.b64encode(image).decode('ascii'))
