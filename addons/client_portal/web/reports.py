"""Reports (C5): the client's documents of every kind (the report layer,
portal.report.line) filtered by period, kind, income or cost, payment
method, counterparty, product and currency, with their totals; and each
table as XLSX or CSV exactly as shown: the same Filters and the same
query make the page's rows and the file's."""
import datetime
import itertools

from trytond import config
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, abort

from .. import spreadsheet
from ..report_line import DIRECTIONS
from .access import portal_route
from .query import PER_PAGE, QueryArgs, escape_like

SORTS = ('date', 'number', 'kind', 'counterparty', 'total')
# The origin's portal page, by model
PAGES = {'account.invoice': 'invoices', 'portal.cost.invoice': 'costs',
    'portal.document': 'documents'}
FORMATS = ('xlsx', 'csv')


def quarters(today):
    """[(label, from, to)] of this year's quarters so far and last year's
    last one: the periods a report is most often asked for"""
    periods = []
    for year, quarter in [(today.year - 1, 4)] + [
            (today.year, q) for q in range(1, (today.month - 1) // 3 + 2)]:
        start = datetime.date(year, 3 * quarter - 2, 1)
        end = (datetime.date(year, 12, 31) if quarter == 4
            else datetime.date(year, 3 * quarter + 1, 1)
            - datetime.timedelta(days=1))
        periods.append((f'Q{quarter} {year}', start, end))
    return periods


class Filters(QueryArgs):
    """The report's query string, parsed: a value that cannot be used is
    reported next to its field and ignored, the form keeps it"""

    def __init__(self, args, choices):
        super().__init__(args)
        self.paging(SORTS, 'date')
        self.start = self._date('from')
        self.end = self._date('to')
        if self.start and self.end and self.start > self.end:
            self.errors['to'] = 'before_start'
            self.end = None
        if self.start:
            self.domain.append(('date', '>=', self.start))
        if self.end:
            self.domain.append(('date', '<=', self.end))
        self.filter_equal('kind', 'kind', {k: k for k in choices.kinds})
        self.filter_equal('direction', 'direction',
            {d: d for d, _ in DIRECTIONS})
        self.filter_equal('method', 'payment_method',
            {m: m for m in choices.methods})
        self.filter_equal('currency', 'currency', choices.currencies)
        self.filter_equal('product', 'product',
            {str(p.id): p.id for p in choices.products})
        counterparty = self._value('counterparty')[:100]
        if counterparty:
            self.domain.append(('counterparty.name', 'ilike',
                    f'%{escape_like(counterparty)}%'))

    @property
    def order(self):
        direction = self.direction.upper()
        if self.sort == 'counterparty':
            return [('counterparty.name', direction), ('id', direction)]
        return [(self.sort, direction), ('id', direction)]


class Choices:
    "The values the report's selects offer, translated"

    def __init__(self, pool):
        Line = pool.get('portal.report.line')
        Product = pool.get('portal.product')
        Currency = pool.get('currency.currency')
        selection = Line.fields_get(['kind', 'direction', 'payment_method'])
        self.kinds = dict(selection['kind']['selection'])
        self.directions = dict(selection['direction']['selection'])
        self.methods = {k: v for k, v in
            selection['payment_method']['selection'] if k}
        self.currency_of = {c.code: c
            for c in Currency.portal_currencies().values()}
        self.currencies = {code: c.id for code, c in self.currency_of.items()}
        self.code_of = {c.id: code for code, c in self.currency_of.items()}
        # The client's products, deactivated ones too: old documents
        # have them
        self.products = Product.search(
            [('active', 'in', [True, False])], order=[('name', 'ASC')])
        self.currency_options = [(c, c) for c in sorted(self.currencies)]
        self.product_options = [(str(p.id), p.name) for p in self.products]


def labels():
    "The report's column labels in the request's language"
    return {
        'date': gettext('client_portal.msg_label_date'),
        'number': gettext('client_portal.msg_label_number'),
        'kind': gettext('client_portal.msg_report_kind'),
        'direction': gettext('client_portal.msg_report_direction'),
        'counterparty': gettext('client_portal.msg_report_counterparty'),
        'currency': gettext('client_portal.msg_label_currency'),
        'untaxed': gettext('client_portal.msg_label_tax_base'),
        'tax': gettext('client_portal.msg_label_vat'),
        'total': gettext('client_portal.msg_label_total'),
        'payment_method': gettext('client_portal.msg_report_payment_method'),
        'paid': gettext('client_portal.msg_report_paid'),
        }


COLUMNS = ['date', 'number', 'kind', 'direction', 'counterparty',
    'payment_method', 'currency', 'untaxed', 'tax', 'total', 'paid']


def _link(portal, origin):
    model, _, id_ = (origin or '').partition(',')
    return portal.url(f'{PAGES[model]}/{id_}') if model in PAGES else None


def _context(request, portal):
    Line = portal.pool.get('portal.report.line')
    choices = Choices(portal.pool)
    filters = Filters(request.args, choices)
    return Line, choices, filters


@portal_route('/reports')
def reports(request, portal):
    Line, choices, filters = _context(request, portal)
    count = Line.search_count(filters.domain)
    pages = filters.pages(count)
    rows = list(Line.rows(filters.domain, filters.order,
            offset=filters.offset, limit=filters.per_page))
    totals = Line.totals(filters.domain)
    partial = request.headers.get('HX-Request') == 'true'
    template = 'reports/results.html' if partial else 'reports/list.html'
    return portal.render(template, filters=filters, choices=choices,
        rows=rows, count=count, pages=pages, totals=ordered(totals),
        link=lambda origin: _link(portal, origin), labels=labels(),
        per_page_options=PER_PAGE, periods=quarters(
            portal.pool.get('portal.document').today()),
        formats=FORMATS, report_tab='reports')


@portal_route('/reports/export.<format>', readonly=False)
def export(request, portal, format):
    """The file of the page's rows; above the queue's threshold a queued
    export, whose page shows its progress and offers the file"""
    if format not in FORMATS:
        abort(HTTPStatus.NOT_FOUND)
    Line, choices, filters = _context(request, portal)
    if filters.errors:
        # The file would not be what the page shows
        abort(HTTPStatus.BAD_REQUEST)
    count = Line.search_count(filters.domain)
    if count > config.getint('portal', 'export_queue_rows', default=10000):
        Export = portal.pool.get('portal.export')
        export = Export.queue(portal.web_user, portal.party, 'reports',
            format, filters.query(page=None, per_page=None),
            portal.language, count)
        return portal.redirect(f'exports/{export.id}')
    file, filename = build_file(portal.pool, request.args, format,
        portal.language)
    return portal.file(file, filename, format)


def build_file(pool, args, format, language, progress=None):
    """(file, filename) of the report's rows as the page's args filter and
    sort them, with the totals; progress(rows) is called as rows are
    written"""
    Line = pool.get('portal.report.line')
    choices = Choices(pool)
    filters = Filters(args, choices)
    rows = Line.rows(filters.domain, filters.order)
    if progress:
        rows = _counted(rows, progress)
    totals = Line.totals(filters.domain)
    name = gettext('client_portal.msg_report_filename')
    title = gettext('client_portal.msg_report_title')
    file = (_xlsx if format == 'xlsx' else _csv)(
        rows, totals, choices, language, title)
    return file, f'{name}.{format}'


def _counted(rows, progress, step=2000):
    for n, row in enumerate(rows, 1):
        yield row
        if n % step == 0:
            progress(n)


# The reports whose exports the queue builds (portal.export.report)
BUILDERS = {'reports': build_file}


def _cells(row, choices, yes):
    return [row.date, row.number, choices.kinds.get(row.kind, row.kind),
        choices.directions.get(row.direction, row.direction),
        row.counterparty,
        choices.methods.get(row.payment_method, '')
        if row.payment_method else '',
        row.currency, row.untaxed, row.tax, row.total,
        yes if row.paid else '']


def ordered(totals):
    "The totals' items, income first, then by currency"
    return sorted(totals.items(), key=lambda t: (t[0][1] != 'income', t[0][0]))


def _total_cells(key, amounts, choices, total_label):
    (currency_id, direction), (_, untaxed, tax, total) = key, amounts
    return [total_label, None, None,
        choices.directions.get(direction, direction), None, None,
        choices.code_of.get(currency_id, ''), untaxed, tax, total, None]


def _xlsx(rows, totals, choices, language, title):
    header = [labels()[c] for c in COLUMNS]
    yes = gettext('client_portal.msg_report_yes')
    total_label = gettext('client_portal.msg_label_total')

    def write(book):
        sheet = book.sheet(title, header,
            [11, 20, 22, 10, 32, 16, 8, 14, 14, 14, 8])
        for row in rows:
            sheet.write(_cells(row, choices, yes), currency=row.currency)
        for key, amounts in ordered(totals):
            sheet.write(_total_cells(key, amounts, choices, total_label),
                bold=True, currency=choices.code_of.get(key[0]))
    return spreadsheet.xlsx_file(write)


def _csv(rows, totals, choices, language, title):
    yes = gettext('client_portal.msg_report_yes')
    total_label = gettext('client_portal.msg_label_total')
    lines = spreadsheet.csv_lines([labels()[c] for c in COLUMNS],
        itertools.chain((_cells(r, choices, yes) for r in rows),
            (_total_cells(k, a, choices, total_label)
                for k, a in ordered(totals))),
        language)
    return spreadsheet.text_file(lines)
