"HTML to PDF with WeasyPrint, limited to inline (data:) resources"
import base64

from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access


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


class HTMLReport(CompanyReport):
    """A document laid out by a Genshi HTML template (report/*.html) and
    printed by WeasyPrint. A subclass sets `document`, the function giving
    the template its facts for one record (`document(record)` in the
    template); the PDF is in the record's language (its `language`)."""
    document = None

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['logo'] = logo_data_uri
        context['document'] = cls.document
        return context

    @classmethod
    def convert(cls, report, data, timeout=5 * 60, retry=5):
        return 'pdf', html_to_pdf(data)

    @classmethod
    def render_pdf(cls, records):
        """The PDF of the records (saved or not: a preview), in the first
        one's language, without the report's access check on ids"""
        ActionReport = Pool().get('ir.action.report')
        record = records[0]
        with without_check_access(), Transaction().set_context(
                language=getattr(record, 'language', None) or 'pl'):
            action, = ActionReport.search([
                    ('report_name', '=', cls.__name__)], limit=1)
            context = cls.get_context(records, {'company': record.company},
                {})
            _, content = cls.convert(action, cls.render(action, context))
        return content
