"""Genshi templates of the portal pages, translated through Tryton.

Every template is also an ir.action.report record (portal_page.xml) so that
Tryton extracts its strings into ir.translation and locale/*.po like any
report; here they are loaded once per process with Genshi's loader, which
resolves the xi:include of the shared layout."""
import os
from functools import lru_cache

from genshi.filters import Translator
from genshi.template import MarkupTemplate, TemplateLoader

from trytond.pool import Pool
from trytond.transaction import Transaction

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)),
    'templates')
LAYOUT = 'portal.page.layout'


def report_name(filename):
    return 'portal.page.' + os.path.splitext(os.path.basename(filename))[0]


class _Gettext:
    "Look a string up in the page's translations, then the layout's"

    def __init__(self, names):
        self.names = names

    def __call__(self, text):
        Translation = Pool().get('ir.translation')
        for name in self.names:
            value = Translation.get_report(name, text)
            if value != text:
                return value
        return text

    gettext = ugettext = __call__

    def ngettext(self, singular, plural, n):
        Translation = Pool().get('ir.translation')
        for name in self.names:
            value = Translation.get_report(name, singular, plural, n)
            if value not in {singular, plural}:
                return value
        return singular if n == 1 else plural

    ungettext = ngettext


def _install_translator(template):
    names = [report_name(template.filename)]
    if names[0] != LAYOUT:
        names.append(LAYOUT)
    translator = Translator(_Gettext(names))
    template.filters.insert(0, translator)
    template.add_directives(Translator.NAMESPACE, translator)


@lru_cache(maxsize=1)
def loader():
    return TemplateLoader(
        [TEMPLATES], auto_reload=False, default_class=MarkupTemplate,
        callback=_install_translator, max_cache_size=100)


def render(template, **context):
    "Render a template of templates/ to a string"
    return loader().load(template).generate(**context).render(
        'html', doctype='html5', encoding=None)


def lang():
    Lang = Pool().get('ir.lang')
    return Lang.get(Transaction().language)


def format_date(value):
    return lang().strftime(value) if value else ''


def format_datetime(value):
    if not value:
        return ''
    return lang().strftime(value, format=lang().date + ' %H:%M')


def format_amount(value, currency=None, symbol=False):
    if value is None:
        return ''
    if currency is not None:
        return lang().currency(value, currency, symbol=symbol, grouping=True)
    return lang().format('%.2f', value, grouping=True)
