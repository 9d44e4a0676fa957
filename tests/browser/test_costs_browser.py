"""The start-up of the demo registers a cost invoice with its scan; the
accountant rejects it in the back office, the client fixes and resubmits
it, the accountant approves it, and the client sees the charge on its
sub-account and the e-mails of both decisions. The list also holds the
invoice KSeF had for the firm, marked "From KSeF"."""
import datetime
import io
import re

from backoffice import BackOffice
from playwright.sync_api import expect
from pypdf import PdfWriter
from test_portal_browser import (
    DESKTOP, PHONE, scroll_width, shot, sign_in_english, watch)

from client_portal.demo import STAFF_PASSWORD
from client_portal.demo_outgoing import STARTUP_USER

EMAIL = STARTUP_USER[0]
SUPPLIER = "Hotel Polonia"
NUMBER = 'FV/HP/BROWSER/1'


def _option(select, text):
    "The value of the select's option whose label contains text"
    return select.evaluate('''(select, text) => [...select.options]
        .find(o => o.textContent.includes(text)).value''', text)


def one_page_pdf(path):
    "A real one-page PDF, as a scanner would give"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def test_register_reject_fix_approve(portal, browser, mail_sink, subtests,
        tmp_path):
    problems = []
    context = browser.new_context(viewport=DESKTOP, locale='en-GB')
    context.set_default_timeout(20000)
    page = context.new_page()
    watch(page, problems)
    today = datetime.date.today()
    try:
        sign_in_english(page, portal, EMAIL)

        page.locator('nav a[href$="/portal/costs"]').click()
        page.wait_for_url(re.compile(r'/portal/costs$'))
        shot(page, portal, 1280, 'costs')
        with subtests.test('the invoice KSeF holds for the firm is there'):
            # The emulator's seed in EUR, allocated by the demo's rule
            row = page.locator('tr', has_text='LT/')
            expect(row).to_contain_text('From KSeF')
        page.locator('main a[href$="/portal/costs/new"]').click()
        page.wait_for_url(re.compile(r'/portal/costs/new$'))

        page.locator('#contractor').select_option(
            _option(page.locator('#contractor'), SUPPLIER))
        page.locator('#number').fill(NUMBER)
        for name in ('invoice_date', 'sale_date', 'receipt_date'):
            page.locator(f'#{name}').fill(today.isoformat())
        page.locator('#currency').select_option('PLN')
        row = page.locator('#line-0')
        row.locator('[name$="-description"]').fill("Conference room")
        row.locator('[name$="-quantity"]').fill('2')
        row.locator('[name$="-price"]').fill('250.00')
        row.locator('[name$="-tax"]').select_option(
            _option(row.locator('[name$="-tax"]'), '23'))
        page.locator('#scan').set_input_files(one_page_pdf(tmp_path / 'hotel.pdf'))
        page.wait_for_load_state('networkidle')
        page.get_by_role('button', name='Submit for approval').click()
        page.wait_for_url(re.compile(r'/portal/costs/\d+(\?.*)?$'))
        cost_id = int(re.search(r'/costs/(\d+)', page.url).group(1))
        main = page.locator('main')
        with subtests.test('submitted with its scan and totals'):
            expect(main).to_contain_text('Submitted')
            expect(main).to_contain_text(re.compile(r'615[.,]00'))
            expect(page.locator('main iframe.portal-pdf-preview')
                ).to_be_visible()
        shot(page, portal, 1280, 'cost-invoice')

        accountant = BackOffice(portal, 'ewa', STAFF_PASSWORD)
        accountant.wizard('portal.cost.invoice.reject', [cost_id],
            'portal.cost.invoice', 'reject',
            {'reason': "The scan lacks the second page"})
        page.reload()
        with subtests.test('the client sees the rejection and its reason'):
            expect(main).to_contain_text('The scan lacks the second page')
            rejected = mail_sink.wait_for(
                lambda m: m['To'] == EMAIL and NUMBER in str(m['Subject']),
                timeout=30)
            assert 'The scan lacks the second page' in str(
                rejected.get_body(('plain',)).get_content())

        page.locator(f'main a[href$="/portal/costs/{cost_id}/edit"]').click()
        page.wait_for_url(re.compile(rf'/portal/costs/{cost_id}/edit$'))
        page.locator('#note').fill("Both pages attached")
        page.locator('#scan').set_input_files(
            one_page_pdf(tmp_path / 'hotel-2.pdf'))
        page.wait_for_load_state('networkidle')
        page.get_by_role('button', name='Submit for approval').click()
        page.wait_for_url(re.compile(rf'/portal/costs/{cost_id}(\?.*)?$'))
        expect(main).to_contain_text('Submitted')

        accountant.call('model.portal.cost.invoice.approve', [cost_id])
        page.reload()
        with subtests.test('approved: the charge on the sub-account'):
            expect(main).to_contain_text('Approved')
            expect(main).to_contain_text('Sub-account entry')
            expect(main).to_contain_text(re.compile(r'615[.,]00'))
            approved = mail_sink.wait_for(
                lambda m: m['To'] == EMAIL and NUMBER in str(m['Subject'])
                and m['Message-ID'] != rejected['Message-ID'], timeout=30)
            assert str(approved['Subject']) != str(rejected['Subject'])
        with subtests.test('the history names every step'):
            history = main.inner_text()
            for step in ('Submitted for approval', 'Rejected',
                    'Approved and charged to the sub-account'):
                assert step in history, step

        phone = browser.new_context(viewport=PHONE, is_mobile=True,
            has_touch=True, storage_state=context.storage_state())
        try:
            mobile = phone.new_page()
            for name in ('costs', f'costs/{cost_id}'):
                mobile.goto(portal.url(name))
                shot(mobile, portal, 375, name.split('/')[0] + (
                        '-page' if '/' in name else ''))
                with subtests.test(f'{name} fits 375 px'):
                    assert scroll_width(mobile) <= 375
        finally:
            phone.close()
        with subtests.test('no browser errors'):
            assert problems == []
    finally:
        context.close()
