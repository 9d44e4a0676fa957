"""Genshi templates of the portal pages, translated through Tryton.

Every template is also an ir.action.report record (portal_page.xml) so that
Tryton extracts its strings into ir.translation and locale/*.po like any
report; here they are loaded once per process with Genshi's loader, which
resolves the xi:include of the shared head, header and footer."""
import datetime as dt
import os
from functools import lru_cache
from zoneinfo import ZoneInfo

from genshi.filters import Translator
from genshi.template import MarkupTemplate, TemplateLoader

from trytond.pool import Pool
from trytond.transaction import Transaction

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)),
    'templates')


def report_name(filename):
    return 'portal.page.' + os.path.splitext(os.path.basename(filename))[0]


class _Gettext:
    "Look a string up in the template's translations"

    def __init__(self, names):
        self.names = names

    def __call__(self, text):
        # The templates are written in English: nothing to look up
        if (Transaction().language or 'en').startswith('en'):
            return text
        Translation = Pool().get('ir.translation')
        for name in self.names:
            value = Translation.get_report(name, text)
            if value != text:
                return value
        return text

    gettext = ugettext = __call__

    def ngettext(self, singular, plural, n):
        if (Transaction().language or 'en').startswith('en'):
            return singular if n == 1 else plural
        Translation = Pool().get('ir.translation')
        for name in self.names:
            value = Translation.get_report(name, singular, plural, n)
            if value not in {singular, plural}:
                return value
        return singular if n == 1 else plural

    ungettext = ngettext


# Fragments other templates include. Genshi's translator hands its gettext
# to the fragments through the render context, so every page also looks
# strings up under the fragments' names.
INCLUDED = ['portal.page.head', 'portal.page.header', 'portal.page.footer',
    'portal.page.documents_results']


def _install_translator(template):
    name = report_name(template.filename)
    translator = Translator(_Gettext([name] + [
                n for n in INCLUDED if n != name]))
    # First filter: it translates the template's own static text once per
    # render, not every row a loop expands (3 to 4 times faster than last)
    template.filters.insert(0, translator)
    template.add_directives(Translator.NAMESPACE, translator)


@lru_cache(maxsize=1)
def loader():
    return TemplateLoader(
        [TEMPLATES], auto_reload=False, default_class=MarkupTemplate,
        callback=_install_translator, max_cache_size=100)


def render(template, partial=False, **context):
    "Render a template of templates/ to a string; a partial has no doctype"
    return loader().load(template).generate(**context).render(
        'html', doctype=None if partial else 'html5', encoding=None)


class Formatter:
    """Dates and amounts in the request's language. The language is looked
    up once per page: a documents page formats a few hundred values."""

    def __init__(self, timezone=None):
        Lang = Pool().get('ir.lang')
        self.lang = Lang.get(Transaction().language)
        # Tryton keeps timestamps in UTC: show them at the firm's local time
        self.timezone = ZoneInfo(timezone) if timezone else None
        self.thousands = self.lang.thousands_sep or ''
        self.point = self.lang.decimal_point or '.'

    def date(self, value):
        return self.lang.strftime(value) if value else ''

    def datetime(self, value):
        if not value:
            return ''
        if self.timezone is not None:
            value = value.replace(tzinfo=dt.timezone.utc).astimezone(
                self.timezone)
        return self.lang.strftime(value, format=self.lang.date + ' %H:%M')

    def amount(self, value, currency=None, symbol=False):
        if value is None:
            return ''
        if symbol and currency is not None:
            return self.lang.currency(
                value, currency, symbol=True, grouping=True)
        digits = currency.digits if currency is not None else 2
        text = f'{abs(value):,.{digits}f}'
        text = text.replace(',', '\0').replace('.', self.point).replace(
            '\0', self.thousands)
        return ('-' if value < 0 else '') + text
