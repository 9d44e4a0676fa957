"""The spreadsheets every export writes, portal and back office alike: XLSX
row by row in constant memory (xlsxwriter) and CSV streamed. Cells are
typed from their values, so that a file opens with dates as dates and
amounts as numbers in their currency's format, whoever writes it."""
import csv
import datetime
import io
import tempfile
from decimal import Decimal

import xlsxwriter

MONEY = '#,##0.00'
DATE = 'yyyy-mm-dd'


def lang_code(language):
    "pl for Polish (pl, pl_PL), en for any other language"
    return 'pl' if (language or '').startswith('pl') else 'en'


class Workbook:
    """An XLSX written to output (a file or a BytesIO) in constant memory:
    each row goes to a temporary file when the next begins, so a sheet's
    rows only go forward and memory does not grow with them"""

    def __init__(self, output):
        # in_memory would switch constant_memory off (xlsxwriter)
        self.book = xlsxwriter.Workbook(output, {'constant_memory': True})
        self._formats = {}

    def format(self, kind, bold=False, currency=None):
        key = (kind, bold, currency)
        if key not in self._formats:
            properties = {'bold': bold} if bold else {}
            if kind == 'header':
                properties.update(bold=True, text_wrap=True, valign='top')
            elif kind == 'date':
                properties['num_format'] = DATE
            elif kind == 'money':
                properties['num_format'] = (
                    f'{MONEY} "{currency}"' if currency else MONEY)
            elif kind == 'integer':
                properties['num_format'] = '0'
            self._formats[key] = self.book.add_format(properties)
        return self._formats[key]

    def sheet(self, name, labels, widths):
        "A new worksheet with its header row"
        sheet = Sheet(self, name)
        sheet.header(labels, widths)
        return sheet

    def close(self):
        self.book.close()


class Sheet:
    "One worksheet written row after row"

    def __init__(self, workbook, name):
        self.workbook = workbook
        # Excel's limit on a sheet's name
        self.sheet = workbook.book.add_worksheet(name[:31])
        self.row = 0

    def header(self, labels, widths):
        style = self.workbook.format('header')
        for col, (label, width) in enumerate(zip(labels, widths)):
            self.sheet.set_column(col, col, width)
            self.sheet.write_string(0, col, label, style)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write(self, values, bold=False, currency=None):
        """values: str, date, int, Decimal (a number in the format of
        currency, a code, when given) or None (an empty cell)"""
        cell = self.workbook.format
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, datetime.date):
                self.sheet.write_datetime(self.row, col, value,
                    cell('date', bold))
            elif isinstance(value, str):
                self.sheet.write_string(self.row, col, value,
                    cell('text', bold))
            elif isinstance(value, bool):
                self.sheet.write_boolean(self.row, col, value,
                    cell('text', bold))
            elif isinstance(value, int):
                self.sheet.write_number(self.row, col, value,
                    cell('integer', bold))
            else:
                self.sheet.write_number(self.row, col, float(value),
                    cell('money', bold, currency))
        self.row += 1


def xlsx_bytes(write):
    "The XLSX that write(workbook) writes, as bytes"
    output = io.BytesIO()
    book = Workbook(output)
    write(book)
    book.close()
    return output.getvalue()


def _spooled():
    "A file kept in memory while small, on disk beyond a megabyte"
    return tempfile.SpooledTemporaryFile(max_size=2 ** 20)


def xlsx_file(write):
    """The XLSX that write(workbook) writes, as a file at its start: the
    rows go to disk as written, the file is sent from disk"""
    output = _spooled()
    book = Workbook(output)
    write(book)
    book.close()
    output.seek(0)
    return output


def text_file(lines):
    "A file at its start of the lines (str), UTF-8, written as produced"
    output = _spooled()
    for line in lines:
        output.write(line.encode('utf-8'))
    output.seek(0)
    return output


class CsvDialect:
    """Polish CSV as Polish spreadsheets read it (semicolons, decimal
    comma), English with commas and a decimal point; dates ISO"""

    def __init__(self, language):
        self.polish = lang_code(language) == 'pl'
        self.delimiter = ';' if self.polish else ','

    def cell(self, value):
        if value is None:
            return ''
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        if isinstance(value, bool):
            return '1' if value else '0'
        if isinstance(value, (Decimal, float)):
            text = f'{Decimal(str(value)):f}'
            return text.replace('.', ',') if self.polish else text
        return str(value)


def csv_lines(labels, rows, language):
    """The CSV's lines (str, each ending with CRLF) of the header and the
    rows, produced as they are read: a large export is never in memory.
    A UTF-8 BOM first, so that Excel reads the Polish letters."""
    dialect = CsvDialect(language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter,
        lineterminator='\r\n')

    def line(values):
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text
    yield '\ufeff' + line(labels)
    for row in rows:
        yield line([dialect.cell(v) for v in row])
