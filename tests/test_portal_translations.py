"""Every string of the portal's templates has a Polish translation, and a
Polish user sees no English label on any page or e-mail."""
import os
import re
from html.parser import HTMLParser

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from portal_http import Browser, in_transaction, read_only, text

import client_portal
import payroll_account
from trytond.pool import Pool

MODULE = os.path.dirname(client_portal.__file__)
# Modules with portal pages: each has its templates, babel.cfg and
# locale/portal/pl.po (merged into the portal's by render.register_pages)
PAGE_MODULES = {
    'client_portal': MODULE,
    'payroll_account': os.path.dirname(payroll_account.__file__),
    }
NAMED_FIELD = re.compile(r'%\((\w+)\)s')
# Words that are the same in both languages
SAME = {'PDF', 'E-mail', 'Logo', 'min', 'max', 'NIP', 'IBAN'}


def template_strings(module=MODULE):
    "What `make messages` extracts from the templates, freshly"
    with open(os.path.join(module, 'babel.cfg')) as file:
        method_map, options_map = parse_mapping_cfg(file)
    strings = set()
    for _, _, message, _, _ in extract_from_dir(
            os.path.join(module, 'templates'), method_map, options_map):
        strings.add(tuple(message) if isinstance(message, (list, tuple))
            else message)
    return strings


def polish_catalogue(module=MODULE):
    with open(os.path.join(module, 'locale', 'portal', 'pl.po'), 'rb') as file:
        return read_po(file, locale='pl')


@pytest.mark.parametrize('name', sorted(PAGE_MODULES))
def test_every_template_string_has_a_polish_translation(name):
    module = PAGE_MODULES[name]
    catalogue = polish_catalogue(module)
    strings = template_strings(module)
    assert len(strings) > 100
    missing, fuzzy, unknown_fields = [], [], []
    for string in strings:
        key = string if isinstance(string, str) else string[0]
        message = catalogue.get(key)
        if message is None or not message.string or (
                not isinstance(message.string, str)
                and not all(message.string)):
            missing.append(string)
            continue
        if message.fuzzy:
            fuzzy.append(string)
        forms = ([message.string] if isinstance(message.string, str)
            else message.string)
        for form in forms:
            if set(NAMED_FIELD.findall(form)) - set(
                    NAMED_FIELD.findall(' '.join(
                            [key] if isinstance(string, str) else string))):
                unknown_fields.append((string, form))
    assert not missing, f"no Polish translation (make messages): {missing}"
    assert not fuzzy, f"fuzzy Polish translation: {fuzzy}"
    assert not unknown_fields, f"unknown format fields: {unknown_fields}"



def test_modules_translate_shared_strings_alike():
    "The catalogues are merged: a string two modules share reads the same"
    portal = polish_catalogue()
    for name, module in PAGE_MODULES.items():
        if module == MODULE:
            continue
        for message in polish_catalogue(module):
            other = portal.get(message.id) if message.id else None
            if other is not None and other.string:
                assert message.string == other.string, (name, message.id)

ADDONS = os.path.dirname(MODULE)
# Modules with Tryton's own catalogue (models, views, messages, reports)
TRYTON_MODULES = sorted(m for m in os.listdir(ADDONS)
    if os.path.exists(os.path.join(ADDONS, m, 'locale', 'pl.po')))


@pytest.mark.parametrize('module', TRYTON_MODULES)
def test_every_module_string_has_a_polish_translation(data, module):
    """What trytond exports of the module now (fields, selections, views,
    menus, messages, reports) is translated in its locale/pl.po"""
    import io

    def export():
        Translation = Pool().get('ir.translation')
        return Translation.translation_export('en', module)
    exported = read_po(io.BytesIO(read_only(export)), locale='pl')
    with open(os.path.join(ADDONS, module, 'locale', 'pl.po'), 'rb') as file:
        catalogue = read_po(file, locale='pl')
    missing = []
    for message in exported:
        if not message.id:
            continue
        translated = catalogue.get(message.id, context=message.context)
        if (translated is None or not translated.string
                or translated.fuzzy):
            missing.append((message.context, message.id))
    assert not missing, missing


class _Texts(HTMLParser):
    "Text nodes and the attributes a person reads or hears"
    ATTRIBUTES = {'aria-label', 'title', 'alt', 'placeholder', 'data-label'}

    def __init__(self):
        super().__init__()
        self.texts = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {'script', 'style'}:
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in {'script', 'style'}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data)


def english_labels():
    """English texts that have a different Polish translation: template
    strings and the module's messages (labels, tabs, errors)"""
    labels = set()
    for message in polish_catalogue():
        if isinstance(message.id, str) and message.id \
                and message.string and message.string != message.id:
            labels.add(message.id)
    with open(os.path.join(MODULE, 'locale', 'pl.po'), 'rb') as file:
        for message in read_po(file, locale='pl'):
            if (message.context or '').startswith('model:ir.message,text:') \
                    and message.string and message.string != message.id:
                labels.add(message.id)
    labels -= SAME
    # A label with format fields matches with anything in their place
    patterns = []
    for label in labels:
        words = ' '.join(label.split())
        pattern = re.escape(words)
        pattern = re.sub(r'%\\\(\w+\\\)s', '.+?', pattern)
        pattern = re.sub(r'<strong>|</strong>', '', pattern)
        patterns.append((label, re.compile(rf'^\s*{pattern}\s*$')))
    return patterns


def english_on(html, patterns):
    parser = _Texts()
    parser.feed(html)
    found = []
    for chunk in parser.texts:
        chunk = ' '.join(chunk.split())
        for label, pattern in patterns:
            if pattern.match(chunk):
                found.append(label)
    return found


@pytest.fixture(scope='module')
def patterns():
    return english_labels()


def _polish_pages(data):
    "Every portal page a Polish user can reach, signed out and in"
    anonymous = Browser(language='pl')
    yield 'login', anonymous.get('login')
    yield 'login failed', anonymous.post('login', {
            'email': 'nobody@example.com', 'password': 'wrong'})
    yield 'reset-password', anonymous.get('reset-password')
    yield 'reset-password sent', anonymous.post('reset-password', {
            'email': 'nobody@example.com'})
    yield 'set-password invalid', anonymous.get(
        'set-password?email=x@example.com&token=x')
    yield '404', anonymous.get('no-such-page')
    browser = Browser(language='pl')
    browser.login(data.users['a2'][1])
    yield 'home', browser.get('')
    for query in ['', '?tab=unpaid', '?tab=overdue&currency=PLN',
            '?date_from=bad&total_min=x&per_page=7', '?q=nothing-matches']:
        yield 'documents' + query, browser.get('documents' + query)
    for key in ['a_paid', 'a_overdue', 'a_credit', 'a_eur']:
        yield key, browser.get(f'documents/{data.documents[key]}')
    yield 'news', browser.get(f'news/{data.news[0]}')
    yield 'account', browser.get('account')
    yield 'account errors', browser.post('account', {
            'action': 'password', 'current_password': 'x',
            'new_password': 'short', 'confirm': 'other'})
    yield 'company', browser.get('company')
    yield 'company errors', browser.post('company', {
            'street': '', 'postal_code': '', 'city': '', 'country': 'XX',
            'email': 'not-an-email', 'phone': '', 'tax_number': '123',
            'iban': 'PL00'})
    yield 'document 404', browser.get('documents/999999999')


def test_polish_pages_have_no_english_label(data, patterns):
    checked = 0
    for name, response in _polish_pages(data):
        html = response.get_data(as_text=True)
        assert '<html lang="pl"' in html, name
        english = english_on(html, patterns)
        assert not english, f"{name}: English on a Polish page: {english}"
        checked += 1
    assert checked >= 20


def _polish_emails(data):
    from client_portal.mail import build_message
    pool = Pool()
    WebUser = pool.get('web.user')
    Document = pool.get('portal.document')
    user = WebUser(data.users['a2'][0])
    document = Document(data.documents['a_open'])
    messages = {}
    for name, context in [
            ('invitation', {'user': user, 'link': 'https://x/set',
                    'expires': document.create_date}),
            ('reset_password', {'user': user, 'link': 'https://x/set',
                    'expires': document.create_date}),
            ('new_document', {'document': document,
                    'link': 'https://x/doc'}),
            ]:
        msg = build_message(name, 'pl', **context)
        messages[name] = (str(msg['Subject']),
            msg.get_body(('html',)).get_content(),
            msg.get_body(('plain',)).get_content())
    return messages


def test_polish_emails_have_no_english_label(data, patterns):
    messages = in_transaction(_polish_emails, data)
    assert len(messages) == 3
    for name, (subject, html, plain) in messages.items():
        assert not english_on(f'<title>{subject}</title>', patterns), name
        assert not english_on(html, patterns), name
        lines = ''.join(f'<p>{line}</p>' for line in plain.splitlines())
        assert not english_on(lines, patterns), name
        # The plain-text part says what the HTML part says
        assert 'https://x/' in plain and 'https://x/' in html
        assert '<' not in plain


def test_english_page_is_english(as_a):
    "The check itself finds English: an English page is full of it"
    patterns = english_labels()
    assert len(english_on(as_a.get('documents').get_data(as_text=True),
            patterns)) > 10
    assert 'Documents' in text(as_a.get('documents'))
