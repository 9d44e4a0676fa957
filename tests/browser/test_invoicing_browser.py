"""The start-up of the demo issues an invoice in EUR to its German customer
with two VAT rates: typed in the editor with the totals recalculated live,
issued and accepted by KSeF (the emulator the demo's settings name), its
PDF checked (number, both rates, VAT in PLN at the NBP table, the KSeF
number under the QR code), its e-mail caught by the test SMTP server, and
the Offer the Bitrix24 bridge made of it in the firm's CRM (the emulator)."""
import re
import time

from playwright.sync_api import expect
from pypdf import PdfReader
from test_portal_browser import (
    ARTIFACTS, DESKTOP, PHONE, parse_amount, scroll_width, shot,
    sign_in_english, watch)

from client_portal.demo_outgoing import CONTRACTORS, STARTUP_USER

EMAIL = STARTUP_USER[0]
BUYER = CONTRACTORS[1][0]       # Müller Logistik GmbH, Hamburg
BUYER_EMAIL = CONTRACTORS[1][6]
# facts: POLAND.md §3.4
KSEF_NUMBER = re.compile(r'\b\d{10}-\d{8}-[0-9A-F]{12}-[0-9A-F]{2}\b')


def _option(select, text):
    "The value of the select's option whose label contains text"
    return select.evaluate('''(select, text) => [...select.options]
        .find(o => o.textContent.includes(text)).value''', text)


def _offer(bitrix, number, timeout=30):
    "The Offer Bitrix24 holds for the invoice number, once the queue sent it"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for quote in bitrix.app.items(7):
            if number in quote['title'] and quote['stageId'] == 'SENT':
                return quote
        time.sleep(0.5)
    return None


def test_issue_an_eur_invoice_with_two_vat_rates(portal, browser, mail_sink,
        bitrix_emulator, subtests):
    problems = []
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True,
        locale='en-GB')
    context.set_default_timeout(20000)
    page = context.new_page()
    watch(page, problems)
    try:
        sign_in_english(page, portal, EMAIL)

        page.locator('nav a[href$="/portal/invoices"]').click()
        page.wait_for_url(re.compile(r'/portal/invoices$'))
        shot(page, portal, 1280, 'invoices')
        page.locator('main a[href$="/portal/invoices/new"]').click()
        page.wait_for_url(re.compile(r'/portal/invoices/new$'))

        page.locator('#contractor').select_option(
            _option(page.locator('#contractor'), BUYER))
        page.locator('#currency').select_option('EUR')
        page.locator('#language').select_option('en')
        # Two lines at 23% and 8%, typed; the second row comes from
        # "Add line" (htmx)
        row = page.locator('#line-0')
        row.locator('[name$="-description"]').fill("Fleet tracking app")
        row.locator('[name$="-unit"]').select_option(
            _option(row.locator('[name$="-unit"]'), 'h'))
        row.locator('[name$="-quantity"]').fill('10')
        row.locator('[name$="-price"]').fill('55.00')
        row.locator('[name$="-tax"]').select_option(
            _option(row.locator('[name$="-tax"]'), '23'))
        page.get_by_role('button', name='Add line').click()
        row = page.locator('#line-1')
        expect(row).to_be_visible()
        row.locator('[name$="-description"]').fill("Printed manual")
        row.locator('[name$="-unit"]').select_option(
            _option(row.locator('[name$="-unit"]'), 'u'))
        row.locator('[name$="-quantity"]').fill('2')
        row.locator('[name$="-price"]').fill('40.00')
        row.locator('[name$="-tax"]').select_option(
            _option(row.locator('[name$="-tax"]'), '8'))
        # 550.00 + 126.50 VAT, 80.00 + 6.40 VAT = 762.90
        expect(page.locator('#invoice-gross')).to_have_text(
            re.compile(r'762[.,]90'))
        expect(page.locator('#line-1-vat')).to_have_text(
            re.compile(r'6[.,]40'))
        shot(page, portal, 1280, 'invoice-editor')

        # The recalculations still in flight finish first: the demo's
        # SQLite has one writer at a time
        page.wait_for_load_state('networkidle')
        page.get_by_role('button', name='Issue invoice').click()
        page.wait_for_url(re.compile(r'/portal/invoices/\d+$'))
        heading = page.locator('main h1').inner_text()
        number = re.search(r'FV/\S+', heading).group()
        expect(page.locator('main')).to_contain_text('VAT in PLN')
        shot(page, portal, 1280, 'invoice')
        ksef_number = KSEF_NUMBER.search(page.locator('main').inner_text())
        with subtests.test('KSeF accepted it: its number on the page'):
            assert ksef_number, page.locator('main').inner_text()

        with subtests.test('Bitrix24: an Offer with its rows, stage SENT'):
            offer = _offer(bitrix_emulator, number)
            assert offer, [q['title'] for q in bitrix_emulator.app.items(7)]
            assert offer['currencyId'] == 'EUR'
            rows = bitrix_emulator.app.product_rows('Q', offer['id'])
            assert [(r['productName'], r['quantity']) for r in rows] == [
                ("Fleet tracking app", 10), ("Printed manual", 2)], rows
            company = [c for c in bitrix_emulator.app.companies()
                if int(c['ID']) == offer['companyId']]
            assert company, offer

        with page.expect_download() as download_info:
            page.locator('main a.btn[href$=".pdf"]').click()
        download = download_info.value
        path = ARTIFACTS / f'{portal.backend}-issued-invoice.pdf'
        download.save_as(path)
        reader = PdfReader(path)
        text = '\n'.join(p.extract_text() or '' for p in reader.pages)
        with subtests.test('the PDF: number, both rates, VAT in PLN'):
            assert number in text
            assert re.search(r'23\s*%', text) and re.search(r'8\s*%', text)
            assert re.search(r'\d{1,3}/A/NBP/\d{4}', text), text
            assert 'PLN' in text
            assert parse_amount('762.90') == parse_amount(
                re.search(r'762[.,]90', text).group())
        with subtests.test('the PDF: the QR code with the KSeF number'):
            assert ksef_number and ksef_number.group() in text, text
            assert any(i.image.width == i.image.height
                for p in reader.pages for i in p.images)

        with subtests.test('the e-mail reached the buyer'):
            message = mail_sink.wait_for(
                lambda m: m['To'] == BUYER_EMAIL and number in m['Subject'],
                timeout=30)
            attachments = [p.get_filename() for p in message.iter_attachments()]
            assert any(a and a.endswith('.pdf') for a in attachments), \
                attachments
        with subtests.test('the page says it was sent'):
            page.reload()
            expect(page.locator('main')).to_contain_text(BUYER_EMAIL)

        phone = browser.new_context(viewport=PHONE, is_mobile=True,
            has_touch=True, storage_state=context.storage_state())
        try:
            mobile = phone.new_page()
            for name in ('invoices', 'invoices/new'):
                mobile.goto(portal.url(name))
                shot(mobile, portal, 375, name.replace('/', '-'))
                with subtests.test(f'{name} fits 375 px'):
                    assert scroll_width(mobile) <= 375
        finally:
            phone.close()
        with subtests.test('no browser errors'):
            assert problems == []
    finally:
        context.close()
