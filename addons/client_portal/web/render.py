"""Jinja2 templates of the portal pages and e-mails.

One compiled environment per language, built on first use and kept for the
life of the process: a page costs its data plus a few milliseconds of
rendering. The templates are written in English; their strings are
extracted with Babel (see `make messages`) into locale/portal/pl.po, which
is read here once per process. Fuzzy and empty translations are not used."""
import datetime as dt
import os
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from jinja2 import (
    Environment, FileSystemLoader, StrictUndefined, Undefined,
    select_autoescape)

from trytond.pool import Pool
from trytond.transaction import Transaction

from .. import formatting

ROOT = os.path.dirname(os.path.dirname(__file__))
TEMPLATES = os.path.join(ROOT, 'templates')
CATALOGUES = os.path.join(ROOT, 'locale', 'portal')
LANGUAGES = ('en', 'pl')
# Other modules' page groups (payroll_account's contracts and bills), added
# by register_pages when the module is imported: template folders searched
# after templates/, catalogues merged into the portal's, main menu entries
_extra_templates = []
_extra_catalogues = []
_extra_menu = []


def register_pages(templates, catalogues, menu=()):
    """Serve a module's templates and strings with the portal's; menu:
    [(path, English label)] appended to the main menu"""
    if templates not in _extra_templates:
        _extra_templates.append(templates)
        _extra_catalogues.append(catalogues)
        _extra_menu.extend(menu)
        catalogue.cache_clear()
        environment.cache_clear()


class Catalogue:
    "gettext over one .po file: what Jinja2's i18n extension calls"

    def __init__(self, messages=None):
        self.messages = messages or {}

    def gettext(self, message):
        return self.messages.get(message) or message

    def ngettext(self, singular, plural, n):
        forms = self.messages.get((singular, plural))
        if forms:
            # Polish plural forms, as in the catalogue's header
            if n == 1:
                index = 0
            elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
                index = 1
            else:
                index = 2
            return forms[min(index, len(forms) - 1)]
        return singular if n == 1 else plural


@lru_cache(maxsize=None)
def catalogue(language):
    messages = {}
    for folder in [CATALOGUES] + _extra_catalogues:
        path = os.path.join(folder, f'{language}.po')
        if not os.path.exists(path):
            continue
        with open(path, 'rb') as file:
            po = read_po(file, locale=language)
        for message in po:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, (list, tuple)):
                if all(message.string):
                    messages[tuple(message.id)] = list(message.string)
            elif message.string:
                messages[message.id] = message.string
    return Catalogue(messages)


def strict():
    "Tests set PORTICO_STRICT_TEMPLATES=1: a missing variable fails"
    return bool(os.environ.get('PORTICO_STRICT_TEMPLATES'))


@lru_cache(maxsize=None)
def environment(language):
    if language not in LANGUAGES:
        language = 'pl'
    env = Environment(
        loader=FileSystemLoader([TEMPLATES] + _extra_templates),
        autoescape=select_autoescape(['html']),
        undefined=StrictUndefined if strict() else Undefined,
        extensions=['jinja2.ext.i18n'],
        auto_reload=False, cache_size=-1,
        trim_blocks=True, lstrip_blocks=True)
    env.policies['ext.i18n.trimmed'] = True
    env.install_gettext_translations(catalogue(language), newstyle=True)
    env.globals['language'] = language
    messages = catalogue(language)
    env.globals['extra_menu'] = [(path, messages.gettext(label))
        for path, label in _extra_menu]
    return env


def render(template, language, **context):
    "Render a template of templates/ to a string"
    return environment(language).get_template(template).render(context)


def render_module(template, language, **context):
    """Render a template and return it as a module: str() of it is the
    output, and its top-level {% set %} values (an e-mail's subject) are
    attributes"""
    return environment(language).get_template(template).make_module(context)


class Formatter:
    """Dates and amounts in the request's language. The language is looked
    up once per page: a documents page formats a few hundred values."""

    def __init__(self, timezone=None):
        Lang = Pool().get('ir.lang')
        self.lang = Lang.portal_lang(Transaction().language)
        # Tryton keeps timestamps in UTC: show them at the firm's local time
        self.timezone = ZoneInfo(timezone) if timezone else None
        self.thousands = self.lang.thousands_sep or ''
        self.point = self.lang.decimal_point or '.'

    def date(self, value):
        return formatting.date(value)

    def datetime(self, value):
        if not value:
            return ''
        if self.timezone is not None:
            value = value.replace(tzinfo=dt.timezone.utc).astimezone(
                self.timezone)
        return formatting.datetime(value)

    def number(self, value, digits=2):
        if value is None:
            return ''
        text = f'{abs(value):,.{digits}f}'
        text = text.replace(',', '\0').replace('.', self.point).replace(
            '\0', self.thousands)
        return ('-' if value < 0 else '') + text

    def amount(self, value, currency=None, symbol=False):
        if value is None:
            return ''
        if symbol and currency is not None:
            return self.lang.currency(
                value, currency, symbol=True, grouping=True)
        return self.number(
            value, currency.digits if currency is not None else 2)
