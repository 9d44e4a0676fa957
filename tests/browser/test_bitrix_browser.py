"""The staff dashboard as Bitrix24 opens it: the demo's Bitrix24 (the
emulator) posts the placement's form from its own pages, as the portal's
frame would, for its user 2, whom the demo maps to Marta; the page shows
her pool of clients and their portal users, and not Piotr's."""
import html

from playwright.sync_api import expect
from test_portal_browser import DESKTOP, shot

from client_portal.demo import CLIENTS


def test_dashboard_shows_the_managers_clients(portal, browser,
        bitrix_emulator, subtests):
    handler = f'{portal.base_url}/{portal.database}/bitrix/app'
    url, form = bitrix_emulator.app.open_placement(handler, 'DEFAULT',
        user_id=2, lang='en')
    fields = ''.join(
        f'<input type="hidden" name="{html.escape(k)}" '
        f'value="{html.escape(str(v))}">' for k, v in form.items())
    # A page of the Bitrix24 portal itself posts the form: the request
    # carries Bitrix24's origin, as from the embedding frame
    host = bitrix_emulator.base_url.rstrip('/') + '/marketplace/app/1/'
    context = browser.new_context(viewport=DESKTOP, locale='en-GB')
    context.set_default_timeout(20000)
    page = context.new_page()
    page.route(host, lambda route: route.fulfill(content_type='text/html',
            body=f'<form id="f" method="post" action="{html.escape(url)}">'
            f'{fields}</form><script>f.submit()</script>'))
    try:
        with page.expect_navigation(url=lambda u: '/bitrix/app' in u):
            page.goto(host)
        body = page.locator('body')
        with subtests.test("Marta's clients, not Piotr's"):
            expect(body).to_contain_text(CLIENTS[0][0])
            expect(body).to_contain_text(CLIENTS[1][0])
            expect(body).not_to_contain_text(CLIENTS[2][0])
        shot(page, portal, 1280, 'bitrix-dashboard')
    finally:
        context.close()
