"""The start-up of the demo raises a request with a file; its manager
answers it and closes it in the back office, and the client reads the
answer on the portal and by e-mail. The client accepts the proforma the
firm issued, comments on an invoice, and shares one document: the link
opens that document and nothing else. The new pages pass axe and fit a
phone."""
import re

from backoffice import BackOffice
from playwright.sync_api import expect
from test_costs_browser import one_page_pdf
from test_portal_browser import (
    DESKTOP, PHONE, scroll_width, shot, sign_in_english, watch)

import a11y
from client_portal.demo import STAFF_PASSWORD
from client_portal.demo_outgoing import STARTUP_USER

EMAIL = STARTUP_USER[0]
SUBJECT = "Statement of settlements for the bank"
ANSWER = "The statement is attached; the bank has it too."


def _raise_request(page, portal, tmp_path):
    "The new request's id, raised through the portal's form with a file"
    # Requests sit with the chat under the client's name
    page.locator('nav a.portal-client-name').click()
    page.locator('nav .dropdown-menu a[href$="/portal/requests"]').click()
    page.wait_for_url(re.compile(r'/portal/requests$'))
    page.locator('main a[href$="/portal/requests/new"]').first.click()
    page.wait_for_url(re.compile(r'/portal/requests/new$'))
    kind = page.locator('#kind')
    kind.select_option(kind.evaluate('''select => [...select.options].find(
        o => o.textContent.startsWith('Report or statement')).value'''))
    page.locator('#subject').fill(SUBJECT)
    page.locator('#description').fill(
        "For the credit line: settlements of this year, please.")
    page.locator('#files').set_input_files(one_page_pdf(tmp_path / 'bank.pdf'))
    page.get_by_role('button', name='Send the request').click()
    page.wait_for_url(re.compile(r'/portal/requests/\d+\?raised=1$'))
    return int(re.search(r'/requests/(\d+)', page.url).group(1))


def test_request_proforma_comment_and_share(portal, browser, mail_sink,
        subtests, tmp_path):
    problems = []
    context = browser.new_context(viewport=DESKTOP, locale='en-GB')
    context.set_default_timeout(20000)
    page = context.new_page()
    watch(page, problems)
    main = page.locator('main')
    manager = BackOffice(portal, 'piotr', STAFF_PASSWORD)
    try:
        sign_in_english(page, portal, EMAIL)

        request_id = _raise_request(page, portal, tmp_path)
        number = page.locator('h1').inner_text()
        with subtests.test('the request has its number, state and file'):
            assert re.search(r'REQ/\d{4}/\d{4}', number), number
            expect(main).to_contain_text(SUBJECT)
            expect(main).to_contain_text('Received')
            expect(main.get_by_role('link', name=re.compile('bank.pdf'))
                ).to_be_visible()
        with subtests.test('the manager finds it in the queue'):
            queued = manager.call('model.portal.request.search_read',
                [('id', '=', request_id)], 0, None, None,
                ['state', 'responsible'])
            assert queued and queued[0]['state'] == 'new', queued

        manager.wizard('portal.request.reply', [request_id],
            'portal.request', 'send', {'body': ANSWER, 'wait': False})
        manager.call('model.portal.request.done', [request_id])
        page.reload()
        with subtests.test('the answer and the closing on the portal'):
            expect(main).to_contain_text(ANSWER)
            expect(main).to_contain_text('Completed')
            expect(page.locator('#body')).to_have_count(0)
        with subtests.test('and by e-mail, with the link'):
            number = re.search(r'REQ/\d{4}/\d{4}', number).group()
            message = mail_sink.wait_for(lambda m: m['To'] == EMAIL
                and number in str(m['Subject']), timeout=30)
            assert f'/portal/requests/{request_id}' in str(
                message.get_body(('plain',)).get_content())
        shot(page, portal, 1280, 'request')

        startup, = manager.call('model.party.party.search',
            [('portal_users.email', '=', EMAIL)], 0, None, None)
        proforma_id, = manager.call('model.portal.document.search',
            [('party', '=', startup), ('document_type', '=', 'proforma'),
                ('state', '=', 'issued')], 0, None, None)
        page.goto(portal.url(f'documents/{proforma_id}'))
        page.get_by_role('button', name='Accept the proforma').click()
        page.wait_for_url(re.compile(rf'/portal/documents/{proforma_id}'))
        with subtests.test('the proforma is accepted, on record'):
            expect(page.locator('.portal-decision')).to_contain_text(
                'Accepted by Ola Wójcik')
            expect(page.get_by_role('button', name='Accept the proforma')
                ).to_have_count(0)
            decision, = manager.call('model.portal.document.read',
                [proforma_id], ['acceptance'])
            assert decision['acceptance'] == 'accepted'
        shot(page, portal, 1280, 'proforma-accepted')

        # One of the start-up's own invoices to its customers
        page.goto(portal.url('invoices'))
        page.locator('td.portal-number a').first.click()
        page.wait_for_url(re.compile(r'/portal/invoices/\d+$'))
        invoice_path = re.search(r'/portal/(invoices/\d+)', page.url).group(1)
        page.locator('#comment-body').fill("Could the next one show our PO?")
        page.get_by_role('button', name='Add a comment').click()
        page.wait_for_url(re.compile(invoice_path + '#comments'))
        with subtests.test('the comment is under the invoice'):
            expect(page.locator('#comments')).to_contain_text(
                "Could the next one show our PO?")
            comments = manager.call('model.portal.comment.search_count',
                [('author', '=', 'client')])
            assert comments >= 1

        page.goto(portal.url(f'documents/{proforma_id}'))
        page.locator('#days').fill('3')
        page.get_by_role('button', name='Create a share link').click()
        url = page.locator('#share-url').input_value()
        document_number = page.locator('h1').inner_text().split()[-1]
        stranger = browser.new_context(viewport=DESKTOP, locale='en-GB')
        try:
            shared = stranger.new_page()
            with subtests.test('the link opens that document only'):
                response = shared.goto(url)
                assert response.status == 200
                expect(shared.locator('main')).to_contain_text(
                    document_number)
                pdf = stranger.request.get(url + '.pdf')
                assert pdf.status == 200 and pdf.body()[:5] == b'%PDF-'
                shared.goto(portal.url('documents'))
                shared.wait_for_url(re.compile(r'/portal/login'))
                assert shared.goto(url[:-4] + 'AAAA').status == 404
        finally:
            stranger.close()

        with subtests.test('the new pages pass axe'):
            assert a11y.failures(page, [portal.url(path) for path in [
                        'requests', 'requests/new', f'requests/{request_id}',
                        f'documents/{proforma_id}', 'archive',
                        invoice_path]]) == []

        phone = browser.new_context(viewport=PHONE, is_mobile=True,
            has_touch=True, storage_state=context.storage_state())
        try:
            mobile = phone.new_page()
            for name in ['requests', f'requests/{request_id}', 'archive']:
                mobile.goto(portal.url(name))
                shot(mobile, portal, 375, name.replace('/', '-'))
                with subtests.test('fits 375 px', page=name):
                    assert scroll_width(mobile) <= 375
        finally:
            phone.close()
        with subtests.test('no browser errors'):
            assert problems == []
    finally:
        context.close()
