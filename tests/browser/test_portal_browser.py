"""A portal client's journey in headless Chromium.

Anna Nowak (Nowak Design) signs in, switches the portal to Polish, lists her
unpaid documents, opens one, downloads its PDF and finds the first download
recorded; then the same pages at phone width. Screenshots go to
test-artifacts/<backend>-<width>-<page>.png.

test_accessibility then runs axe-core and keyboard checks (a11y.py) on
every page she visits, in both languages and at both widths.
"""
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from client_portal.demo import DEMO_PASSWORD

import a11y

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / 'test-artifacts'
PL_PO = ROOT / 'addons' / 'client_portal' / 'locale' / 'pl.po'
EMAIL = 'anna@nowakdesign.example.pl'
CLIENT = 'Nowak Design'
DESKTOP = {'width': 1280, 'height': 900}
PHONE = {'width': 375, 'height': 812}
TIMESTAMP = re.compile(r'\d{1,4}\D\d{1,2}\D\d{1,4}.*\d{1,2}:\d{2}')
NIP = re.compile(r'\d{3}-\d{3}-\d{2}-\d{2}')
SPACES = '\u0020\u00a0\u202f\u2009'


def parse_amount(text):
    """Decimal of an amount as the portal prints it in either language:
    '1 234,56 zł', '-1,234.56', '€1,234.56'"""
    text = text.replace('\u2212', '-')
    negative = '-' in text
    digits = re.sub(r'[^\d.,]', '', text)
    match = re.search(r'[.,](\d{1,2})$', digits)
    if match:
        whole = re.sub(r'[.,]', '', digits[:match.start()]) or '0'
        value = Decimal(f'{whole}.{match.group(1)}')
    else:
        value = Decimal(re.sub(r'[.,]', '', digits))
    return -value if negative else value


def ungroup(text):
    "Drop the spaces that group thousands: '1 234,56' -> '1234,56'"
    return re.sub(rf'(?<=\d)[{SPACES}](?=\d{{3}}(?!\d))', '', text)


def po_has_translations():
    "Whether pl.po exists and translates anything yet"
    if not PL_PO.exists():
        return False
    import polib
    return any(e.msgstr and not e.obsolete and 'fuzzy' not in e.flags
        for e in polib.pofile(str(PL_PO)))


def watch(page, problems):
    """Collect console errors, page errors and failed requests. Chromium's
    own /favicon.ico request is left out: the portal declares no icon and
    trytond answers 405 for any unknown path (see the report)."""
    def console(message):
        url = (message.location or {}).get('url', '')
        if message.type == 'error' and not url.endswith('/favicon.ico'):
            problems.append(f'console: {message.text} ({url})')
    page.on('console', console)
    page.on('pageerror', lambda e: problems.append(f'pageerror: {e}'))
    page.on('requestfailed', lambda r: _pdf_viewer(r) or problems.append(
            f'failed: {r.url} {r.failure}'))
    page.on('response', lambda r: r.status >= 400 and problems.append(
            f'HTTP {r.status}: {r.url}'))


def _pdf_viewer(request):
    """The document page previews its PDF in an iframe (the cost invoice
    page its scan): Chromium hands the response to its PDF viewer, which
    aborts the frame's own request and loads chrome:// resources that
    headless Chromium does not serve"""
    return request.url.startswith(('chrome://', 'chrome-extension://')) \
        or (request.url.endswith(('.pdf?preview=1', '/scan?inline=1'))
            and 'ERR_ABORTED' in (request.failure or ''))


def sign_in_english(page, portal, email, password=DEMO_PASSWORD):
    "Sign in on the login page, then switch the portal to English"
    page.goto(portal.url('login'))
    page.locator('#email').fill(email)
    page.locator('#password').fill(password)
    page.locator('form[action$="/portal/login"] button[type=submit]').click()
    page.wait_for_url(portal.url(''))
    page.locator('.portal-language button[value="en"]').click()
    expect(page.locator('html')).to_have_attribute('lang', 'en')


def shot(page, portal, width, name):
    path = ARTIFACTS / f'{portal.backend}-{width}-{name}.png'
    page.screenshot(path=str(path), full_page=True)
    return path


def scroll_width(page):
    return page.evaluate('document.documentElement.scrollWidth')


def tab_labels(page):
    return [t.strip() for t in
        page.locator('ul.nav-tabs a.nav-link').all_inner_texts()]


def visible_texts(page):
    """Texts that a language switch must change, from the page template
    (heading, tabs), the shared header (menu) and the included results
    (count line, digits dropped)"""
    return {
        'heading': [page.locator('main h1').inner_text().strip()],
        'tabs': tab_labels(page),
        'menu': [t.strip() for t in
            page.locator('#nav .me-auto .nav-link').all_text_contents()],
        'results': [re.sub(r'\d+', 'N', page.locator(
                    '#results [role=status]').inner_text().strip())],
        }


def switch_language(page, code):
    page.locator(f'.portal-language button[value="{code}"]').click()
    expect(page.locator('html')).to_have_attribute('lang', code)
    expect(page.locator(f'.portal-language button[value="{code}"]')
        ).to_have_attribute('aria-pressed', 'true')


def document_rows(page):
    "Number, remaining and link of every row of the documents table"
    return page.evaluate('''() => {
        const table = document.querySelector('table.portal-documents');
        if (!table) return [];
        const heads = [...table.tHead.rows[0].cells];
        const remaining = heads.findIndex(
            th => th.querySelector('a[href*="sort=remaining"]'));
        return [...table.tBodies[0].rows].map(tr => ({
            number: tr.cells[0].innerText.trim(),
            href: tr.cells[0].querySelector('a').getAttribute('href'),
            remaining: tr.cells[remaining].innerText.trim(),
        }));
    }''')


def test_client_journey(portal, browser, subtests):
    problems = []
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True,
        locale='pl-PL')
    context.set_default_timeout(20000)
    page = context.new_page()
    watch(page, problems)
    try:
        _journey(portal, browser, context, page, subtests)
        with subtests.test('no browser errors'):
            assert problems == []
        with subtests.test('no errors in the server log'):
            log = portal.server_log()
            assert 'Traceback' not in log, log[-4000:]
    finally:
        context.close()


def _journey(portal, browser, context, page, subtests):
    # Sign in
    page.goto(portal.url('login'))
    page.locator('#email').fill(EMAIL)
    page.locator('#password').fill(DEMO_PASSWORD)
    page.locator('form[action$="/portal/login"] button[type=submit]').click()
    page.wait_for_url(portal.url(''))
    expect(page.locator('.portal-client-name')).to_contain_text(CLIENT)

    # The client's NIP as the portal prints it (company data page)
    # Under the client's name in the menu
    page.locator('nav .portal-client-name').click()
    page.locator('nav a[href$="/portal/company"]').click()
    nip = page.locator('#tax_number').input_value().strip()
    assert NIP.fullmatch(nip), nip

    # Language: Anna's account is Polish; switch to English, then back to
    # Polish with the footer buttons, on the documents page.
    page.locator('nav a[href$="/portal/documents"]').click()
    page.wait_for_url(re.compile(r'/portal/documents$'))
    switch_language(page, 'en')
    assert re.search(r'/portal/documents$', page.url), page.url
    english = visible_texts(page)
    switch_language(page, 'pl')
    assert re.search(r'/portal/documents$', page.url), page.url
    polish = visible_texts(page)
    assert len(polish['tabs']) == len(english['tabs']) == 4
    for text in [t for texts in (english, polish) for t in texts.values()]:
        # gettext answers the message id when the message does not exist
        assert 'client_portal.msg_' not in ' '.join(text), \
            f'message id instead of a text on the page: {text}'
    with subtests.test('Polish texts after the switch', en=english,
            pl=polish):
        if polish['tabs'] == english['tabs'] and not po_has_translations():
            pytest.skip('addons/client_portal/locale/pl.po is missing or '
                'empty: the lang attribute is checked, the visible text '
                'cannot be yet')
        same = {part: [(e, p) for e, p in zip(english[part], polish[part])
                if e == p]
            for part in english}
        assert not any(same.values()), \
            f'still in English after switching to Polish: {same}'

    # Documents, tab "unpaid"
    page.locator('ul.nav-tabs a[href*="tab=unpaid"]').click()
    page.wait_for_url(re.compile(r'tab=unpaid'))
    expect(page.locator('ul.nav-tabs a[href*="tab=unpaid"]')).to_have_class(
        re.compile(r'\bactive\b'))
    shot(page, portal, 1280, 'documents-unpaid')
    rows = document_rows(page)
    count = int(re.search(r'\d+',
            page.locator('#results [role=status]').inner_text()).group())
    per_page = int(page.locator('#f-per-page').input_value())
    assert rows, 'the demo client has unpaid documents'
    assert len(rows) == min(count, per_page), (count, rows)
    not_due = [r for r in rows if parse_amount(r['remaining']) <= 0]
    with subtests.test('unpaid tab: every row has remaining > 0'):
        assert not not_due, f'"unpaid" lists documents with nothing to ' \
            f'pay: {not_due}'
    due = [r for r in rows if r not in not_due]
    assert due, 'the demo client has documents to pay'

    # One document's page
    row = due[0]
    page.locator(f'table.portal-documents a[href="{row["href"]}"]').click()
    page.wait_for_url(re.compile(r'/portal/documents/\d+$'))
    expect(page.locator('main h1')).to_contain_text(row['number'])
    downloaded = page.locator('main dl').first.locator('dd').nth(5)
    assert downloaded.inner_text().strip() == '—'
    total_text = page.locator('main dd.portal-amount').nth(2).inner_text()
    total = parse_amount(total_text)
    assert total > 0, total_text

    # Download its PDF
    with page.expect_download() as download_info:
        page.locator('main a.btn[href$=".pdf"]').click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == \
        row['number'].replace('/', '_') + '.pdf'
    pdf_path = ARTIFACTS / f'{portal.backend}-{download.suggested_filename}'
    download.save_as(pdf_path)
    data = pdf_path.read_bytes()
    assert data.startswith(b'%PDF-'), data[:20]
    from pypdf import PdfReader
    text = '\n'.join(p.extract_text() or '' for p in PdfReader(pdf_path).pages)
    assert row['number'] in text
    assert nip in text, f'NIP {nip} not in the PDF'
    # The total as shown on the page, without currency and thousands spaces
    amount = ungroup(re.sub(rf'[^\d,.\-{SPACES}]', '', total_text).strip(
            SPACES))
    assert re.search(rf'(?<![\d.,]){re.escape(amount)}(?!\d)',
        ungroup(text)), f'total {amount!r} not in the PDF'

    # The first download is recorded
    page.reload()
    downloaded = page.locator('main dl').first.locator('dd').nth(5)
    assert TIMESTAMP.search(downloaded.inner_text()), downloaded.inner_text()
    document_url = page.url

    # Screenshots at 1280 px
    shot(page, portal, 1280, 'document')
    page.goto(portal.url(''))
    expect(page.locator('html')).to_have_attribute('lang', 'pl')
    shot(page, portal, 1280, 'home')
    page.goto(portal.url('documents'))
    shot(page, portal, 1280, 'documents')
    with subtests.test('documents table fits 1280 px'):
        # .table-responsive scrolls a too wide table inside itself: the
        # page does not scroll, the last columns are just cut off
        widths = page.evaluate('''() => {
            const table = document.querySelector('table.portal-documents');
            return [table.scrollWidth, table.parentElement.clientWidth];
        }''')
        assert widths[0] <= widths[1], \
            f'table {widths[0]} px wide in a {widths[1]} px wrapper'

    # The same pages at phone width
    phone = browser.new_context(viewport=PHONE, is_mobile=True,
        has_touch=True, storage_state=context.storage_state())
    try:
        mobile = phone.new_page()
        for name, url in [('home', portal.url('')),
                ('documents', portal.url('documents')),
                ('document', document_url)]:
            mobile.goto(url)
            expect(mobile.locator('html')).to_have_attribute('lang', 'pl')
            shot(mobile, portal, 375, name)
            width = scroll_width(mobile)
            if name == 'documents':
                expect(mobile.get_by_role('link', name=row['number'],
                        exact=True)
                    ).to_be_visible()
            if name in {'home', 'documents'}:
                assert width <= 375, f'{name}: horizontal scroll, ' \
                    f'scrollWidth {width}'
            else:
                with subtests.test('document page fits 375 px'):
                    assert width <= 375, width
    finally:
        phone.close()


def test_accessibility(portal, browser, subtests):
    """axe-core on every page a client visits, signed out and in, in
    Polish and English, at 1280 and 375 px: no serious or critical
    violation. Tables have captions and column headers; on each page the
    first Tab stop is the skip link and it moves the focus to <main>.
    Then, with the keyboard only: sign in (a wrong password is announced),
    the documents filters; a field error is tied to its field; focus is
    visible on links, buttons and fields. All findings, any impact, go to
    test-artifacts/<backend>-a11y-axe.json."""
    failures, findings, other = [], [], []
    checked = 0

    def check(page, name, language, width, skip_link=True):
        nonlocal checked
        url = page.url
        for v in a11y.axe(page):
            findings.append(dict(v, page=name, url=url, language=language,
                    width=width))
            if v['impact'] in a11y.FAILING:
                failures.append(a11y.describe(v, url, language, width))
        for table in a11y.tables(page):
            other.append(f'{name} ({language}, {width} px): table without '
                f'a caption or column headers: {table}')
        if skip_link:
            other.extend(f'{name} ({language}, {width} px): {p}'
                for p in a11y.skip_link_problems(page))
        checked += 1

    signed_out = [('login', portal.url('login')),
        ('reset-password', portal.url('reset-password'))]
    # English first: Anna's account ends Polish, as the demo made it
    for language in ('en', 'pl'):
        locale = 'en-GB' if language == 'en' else 'pl-PL'
        desktop = browser.new_context(viewport=DESKTOP, locale=locale)
        phone = browser.new_context(viewport=PHONE, is_mobile=True,
            has_touch=True, locale=locale)
        desktop.set_default_timeout(20000)
        phone.set_default_timeout(20000)
        try:
            page = desktop.new_page()
            mobile = phone.new_page()
            for name, url in signed_out:
                for p, width in ((page, 1280), (mobile, 375)):
                    p.goto(url)
                    expect(p.locator('html')).to_have_attribute(
                        'lang', language)
                    check(p, name, language, width,
                        skip_link=name != 'login')
            # Sign in with the keyboard only: the e-mail field has the
            # focus; a wrong password first, announced as an alert
            page.goto(portal.url('login'))
            expect(page.locator('#email')).to_be_focused()
            with subtests.test('sign-in with the keyboard', lang=language):
                if language == 'en':
                    page.keyboard.type(EMAIL)
                    page.keyboard.press('Tab')
                    page.keyboard.type('not-the-password')
                    page.keyboard.press('Enter')
                    expect(page.locator('[role=alert]')).to_be_visible()
                    expect(page.locator('#email')).to_be_focused()
                    assert a11y.focus_ring(page), 'e-mail field'
                    page.keyboard.press('Tab')
                else:
                    page.keyboard.type(EMAIL)
                    page.keyboard.press('Tab')
                expect(page.locator('#password')).to_be_focused()
                page.keyboard.type(DEMO_PASSWORD)
                page.keyboard.press('Tab')
                expect(page.locator('main button[type=submit]')
                    ).to_be_focused()
                assert a11y.focus_ring(page), 'sign-in button'
                page.keyboard.press('Enter')
                page.wait_for_url(portal.url(''))
            page.locator(f'.portal-language button[value="{language}"]'
                ).click()
            expect(page.locator('html')).to_have_attribute('lang', language)
            phone.add_cookies(desktop.cookies())

            news = page.locator('main a[href*="/portal/news/"]').first
            news = urljoin(page.url, news.get_attribute('href'))
            page.goto(portal.url('documents'))
            document = urljoin(page.url, page.locator(
                    'table.portal-documents td.portal-number a'
                    ).first.get_attribute('href'))
            signed_in = [('home', portal.url('')),
                # A filter set: the filters are open
                ('documents', portal.url('documents', currency='PLN')),
                ('document', document), ('news', news),
                ('company', portal.url('company')),
                ('account', portal.url('account')),
                ('404', portal.url('no-such-page'))]
            for name, url in signed_in:
                for p, width in ((page, 1280), (mobile, 375)):
                    p.goto(url)
                    expect(p.locator('html')).to_have_attribute(
                        'lang', language)
                    if name == 'documents':
                        expect(p.locator('details.portal-filters')
                            ).to_have_attribute('open', '')
                    check(p, name, language, width)
            if language == 'en':
                _keyboard(page, portal, subtests)
        finally:
            desktop.close()
            phone.close()

    a11y.dump(ARTIFACTS / f'{portal.backend}-a11y-axe.json', findings)
    for f in findings:
        if f['impact'] not in a11y.FAILING:
            print('axe (not failing):', a11y.describe(
                    f, f['url'], f['language'], f['width']))
    assert checked == 36
    with subtests.test('axe: no serious or critical violation'):
        assert not failures, '\n' + '\n'.join(failures)
    with subtests.test('tables and skip link'):
        assert not other, '\n' + '\n'.join(other)


def _keyboard(page, portal, subtests):
    "The documents filters and a form's errors, with the keyboard only"
    with subtests.test('documents filters with the keyboard'):
        page.goto(portal.url('documents'))
        expect(page.locator('details.portal-filters')).not_to_have_attribute(
            'open', '')
        a11y.tab_to(page, 'details.portal-filters > summary')
        assert a11y.focus_ring(page), 'filters summary'
        page.keyboard.press('Enter')
        expect(page.locator('details.portal-filters')).to_have_attribute(
            'open', '')
        a11y.tab_to(page, '#f-currency')
        assert a11y.focus_ring(page), 'currency select'
        # The first currency after "Any"; htmx may already apply it
        page.keyboard.press('ArrowDown')
        currency = page.locator('#f-currency').input_value()
        assert currency, 'the currency select did not change'
        a11y.tab_to(page, '#filters button[type=submit]')
        assert a11y.focus_ring(page), 'apply button'
        page.keyboard.press('Enter')
        page.wait_for_url(re.compile(rf'currency={currency}'))
        expect(page.locator('#results [role=status]')).to_be_visible()
        shot(page, portal, 1280, 'a11y-filters-keyboard')
        # A link shows its focus too: Shift+Tab back to the tabs
        a11y.tab_to(page, 'ul.nav-tabs a', key='Shift+Tab')
        assert a11y.focus_ring(page), 'tab link'

    with subtests.test('a field error is tied to its field'):
        page.goto(portal.url('account'))
        page.locator('#current_password').fill('not-the-password')
        page.locator('#new_password').fill('short')
        page.locator('#confirm').fill('other')
        page.locator('#confirm').press('Enter')
        expect(page.locator('main [role=alert]')).to_be_visible()
        errors = {f: a11y.field_error(page, f)
            for f in ('current_password', 'new_password', 'confirm')}
        invalid = {f: e for f, e in errors.items() if e['invalid']}
        assert invalid, errors
        for field, error in invalid.items():
            assert error['invalid'] == 'true', (field, error)
            # Its message is one the field names, and it is shown
            assert any(error['messages']), (field, error)
        shot(page, portal, 1280, 'a11y-field-errors')
        # And on the documents filters: a value that is not an amount
        page.goto(portal.url('documents', total_min='abc'))
        expect(page.locator('#results [role=alert]')).to_be_visible()
        error = a11y.field_error(page, 'f-total_min')
        assert error['invalid'] == 'true' and any(error['messages']), error

