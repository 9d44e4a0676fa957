"""Accessibility of every portal page: axe-core (pinned in package.json)
on each page, in Polish and English, at desktop and phone widths; a
serious or critical violation fails. Plus what axe cannot see: the skip
link comes first and lands in the content, focus is visible, errors are
announced, and sign-in and the filters work with the keyboard."""
import re
from urllib.parse import urljoin

from playwright.sync_api import expect

from test_portal_browser import DESKTOP, EMAIL, PHONE, ROOT, shot

from client_portal.demo import DEMO_PASSWORD

AXE = ROOT / 'node_modules' / 'axe-core' / 'axe.min.js'
FAILING = {'serious', 'critical'}


def axe_violations(page):
    # The portal's CSP allows no inline script: axe is injected into a
    # context opened with bypass_csp (see below), never into the portal
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate('''async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            help: v.help, targets: v.nodes.map(n => n.target.join(' '))}));
    }''')
    return [v for v in result if v['impact'] in FAILING]


def sign_in(page, portal):
    page.goto(portal.url('login'))
    page.locator('#email').fill(EMAIL)
    page.locator('#password').fill(DEMO_PASSWORD)
    page.locator('#password').press('Enter')
    page.wait_for_url(portal.url(''))


def pages(page, portal):
    "Name and URL of every page a client visits"
    news = page.locator('a[href*="/portal/news/"]').first.get_attribute(
        'href')
    page.goto(portal.url('documents'))
    document = page.locator(
        'table.portal-documents a[href*="/portal/documents/"]'
        ).first.get_attribute('href')
    return [('home', portal.url('')),
        ('documents', portal.url('documents', currency='PLN')),
        ('document', urljoin(page.url, document)),
        ('news', urljoin(page.url, news)),
        ('company', portal.url('company')),
        ('account', portal.url('account')),
        ('404', portal.url('no-such-page'))]


def test_axe_on_every_page_in_both_languages_and_widths(portal, browser):
    problems = []
    checked = 0
    for language in ('pl', 'en'):
        for viewport in (DESKTOP, PHONE):
            context = browser.new_context(viewport=viewport,
                locale=f'{language}-PL' if language == 'pl' else 'en-GB',
                bypass_csp=True)
            page = context.new_page()
            try:
                for name, url in [('login', portal.url('login')),
                        ('reset-password', portal.url('reset-password'))]:
                    page.goto(url)
                    for v in axe_violations(page):
                        problems.append((name, language, viewport['width'],
                                v))
                    checked += 1
                sign_in(page, portal)
                # The account's language wins over the browser's
                page.locator(f'.portal-language button[value="{language}"]'
                    ).click()
                expect(page.locator('html')).to_have_attribute(
                    'lang', language)
                for name, url in pages(page, portal):
                    page.goto(url)
                    expect(page.locator('html')).to_have_attribute(
                        'lang', language)
                    if name == 'documents':
                        expect(page.locator('details.portal-filters')
                            ).to_have_attribute('open', '')
                    for v in axe_violations(page):
                        problems.append((name, language, viewport['width'],
                                v))
                    checked += 1
                if viewport is PHONE:
                    shot(page, portal, 375, f'a11y-{language}-last')
            finally:
                context.close()
    assert checked == 36
    assert not problems, '\n'.join(
        f"{name} ({language}, {width} px): {v['id']} [{v['impact']}] "
        f"{v['help']} at {v['targets'][:5]}"
        for name, language, width, v in problems)


def test_keyboard_and_announcements(portal, browser):
    context = browser.new_context(viewport=DESKTOP, locale='en-GB')
    page = context.new_page()
    try:
        # The skip link is the first stop (the sign-in page puts the
        # cursor in the e-mail field instead)
        page.goto(portal.url('reset-password'))
        page.bring_to_front()
        page.keyboard.press('Tab')
        first = page.evaluate('document.activeElement.outerHTML')
        assert 'href="#main"' in first, first
        page.keyboard.press('Enter')
        assert page.evaluate('location.hash') == '#main'
        # Sign-in with the keyboard only; a wrong password is announced
        page.goto(portal.url('login'))
        page.locator('#email').focus()
        page.keyboard.type(EMAIL)
        page.keyboard.press('Tab')
        page.keyboard.type('wrong password')
        page.keyboard.press('Enter')
        expect(page.locator('[role=alert]')).to_be_visible()
        # Focus is visible: an outline or a ring on the focused control
        page.locator('#email').focus()
        ring = page.evaluate('''() => {
            const s = getComputedStyle(document.activeElement);
            return s.outlineStyle !== 'none' && s.outlineWidth !== '0px'
                || s.boxShadow !== 'none';
        }''')
        assert ring, 'no visible focus on the e-mail field'
        page.locator('#password').focus()
        page.keyboard.type(DEMO_PASSWORD)
        page.locator('#email').fill(EMAIL)
        page.locator('#password').press('Enter')
        page.wait_for_url(portal.url(''))

        # The filters with the keyboard: open, choose a currency, apply
        page.goto(portal.url('documents'))
        page.locator('details.portal-filters summary').focus()
        page.keyboard.press('Enter')
        page.locator('#f-currency').focus()
        page.keyboard.press('ArrowDown')
        page.locator('#filters button[type=submit]').focus()
        page.keyboard.press('Enter')
        page.wait_for_url(re.compile(r'currency='))

        # A field error is tied to its field
        page.goto(portal.url('account'))
        page.locator('#current_password').fill('wrong')
        page.locator('#new_password').fill('short')
        page.locator('#confirm').fill('other')
        page.locator('#confirm').press('Enter')
        field = page.locator('#new_password')
        expect(field).to_have_attribute('aria-invalid', 'true')
        described = field.get_attribute('aria-describedby').split()
        messages = [page.locator(f'#{i}').inner_text() for i in described]
        assert any(m.strip() for m in messages), described
        expect(page.locator('[role=alert]').first).to_be_visible()

        # Tables have headers and a caption
        page.goto(portal.url('documents'))
        table = page.locator('table.portal-documents')
        assert table.locator('caption').count() == 1
        assert table.locator('thead th[scope=col]').count() >= 10
    finally:
        context.close()
