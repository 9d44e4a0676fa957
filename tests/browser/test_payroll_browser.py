"""The start-up of the demo makes a mandate contract with one of its people
from the firm's template, issues it, bills a month of it (facts POLAND.md
§6.4 example A: 5 000,00 zł gross, 3 512,19 zł net, 6 024,00 zł to the
payer), and finds the bill's PDF, its three charges on the PLN sub-account
and the bill among its documents; then writes to its manager in the
chat."""
import datetime
import re

from playwright.sync_api import expect
from pypdf import PdfReader
from test_portal_browser import (
    ARTIFACTS, DESKTOP, shot, sign_in_english, watch)

from client_portal.demo_outgoing import STARTUP_USER

EMAIL = STARTUP_USER[0]
SUBJECT = "Prowadzenie warsztatów dla klientów"


def _option(select, text):
    "The value of the select's option whose label contains text"
    return select.evaluate('''(select, text) => [...select.options]
        .find(o => o.textContent.includes(text)).value''', text)


def _pdf_text(page, portal, name):
    "The text of the PDF the page's download button gives"
    with page.expect_download() as download_info:
        page.locator('main a.btn[href$=".pdf"]').click()
    path = ARTIFACTS / f'{portal.backend}-{name}.pdf'
    download_info.value.save_as(path)
    return '\n'.join(p.extract_text() or '' for p in PdfReader(path).pages)


def _amount(text, value):
    "Whether text shows value (e.g. '3512.19') in Polish or English form"
    whole, cents = value.split('.')
    head, tail = whole[:-3], whole[-3:]
    pattern = (rf'{head}[\s\u00a0,.]?{tail}[.,]{cents}' if head
        else rf'{tail}[.,]{cents}')
    return re.search(pattern, text) is not None


def test_contract_bill_and_chat(portal, browser, subtests):
    problems = []
    context = browser.new_context(viewport=DESKTOP, locale='en-GB')
    context.set_default_timeout(20000)
    page = context.new_page()
    watch(page, problems)
    today = datetime.date.today()
    first = today.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) \
        - datetime.timedelta(days=1)
    try:
        sign_in_english(page, portal, EMAIL)

        page.locator('nav a[href$="/portal/contracts"]').click()
        page.wait_for_url(re.compile(r'/portal/contracts$'))
        with subtests.test('the demo contracts are listed'):
            expect(page.locator('main')).to_contain_text('Anna Nowak')
            expect(page.locator('main')).to_contain_text('Tomasz Lis')
        shot(page, portal, 1280, 'contracts')

        page.goto(portal.url('contracts/new'))
        page.locator('#template').select_option(
            _option(page.locator('#template'), 'zlecenie'))
        page.locator('#contractor').select_option(
            _option(page.locator('#contractor'), 'Nowak'))
        page.locator('#language').select_option('pl')
        page.locator('#subject').fill(SUBJECT)
        page.locator('#rate_type').select_option('lump_sum')
        page.locator('#amount').fill('5000')
        page.locator('#start_date').fill(first.isoformat())
        page.locator('#end_date').fill(last.isoformat())
        page.get_by_role('button', name='Issue', exact=True).click()
        page.wait_for_url(re.compile(r'/portal/contracts/\d+\?saved=issued$'))
        number = re.search(r'UZ/\d+/\d{4}',
            page.locator('main').inner_text()).group()
        text = _pdf_text(page, portal, 'contract')
        with subtests.test('the contract PDF: number, parties, subject'):
            assert number in text, text
            assert 'Anna Nowak' in text, text
            assert 'Lumina Labs' in text, text
            assert SUBJECT in ' '.join(text.split()), text

        page.locator('main a[href$="/bills/new"]').click()
        page.wait_for_url(re.compile(r'/bills/new$'))
        page.locator('#period_start').fill(first.isoformat())
        page.locator('#period_end').fill(last.isoformat())
        page.get_by_role('button', name='Calculate').click()
        main = page.locator('main')
        with subtests.test('the calculation: example A to the grosz'):
            expect(main).to_contain_text('3,512.19')
            for amount in ['685.50', '388.31', '414.00', '1,024.00',
                    '6,024.00']:
                expect(main).to_contain_text(amount)
        shot(page, portal, 1280, 'bill-calculation')
        page.get_by_role('button', name='Issue', exact=True).click()
        page.wait_for_url(
            re.compile(r'/portal/contracts/bills/\d+\?saved=issued$'))
        bill = re.search(r'RA/\d+/\d{4}', main.inner_text()).group()
        text = _pdf_text(page, portal, 'bill')
        with subtests.test('the bill PDF: every step of example A'):
            assert bill in text, text
            for value in ['5000.00', '685.50', '4314.50', '388.31',
                    '862.90', '3512.19', '1024.00', '6024.00']:
                assert _amount(text, value), (value, text)

        page.goto(portal.url('subaccounts', currency='PLN', sort='date',
                dir='desc'))
        with subtests.test('three charges of the bill on the sub-account'):
            rows = page.locator('main tbody tr').filter(has_text=bill)
            expect(rows).to_have_count(3)

        page.goto(portal.url('documents', q=bill))
        with subtests.test('the bill among the documents'):
            expect(page.locator('main tbody')).to_contain_text(bill)

        page.goto(portal.url('chat'))
        page.locator('main textarea').fill(
            "Dzień dobry, czy rachunek za ten miesiąc jest w porządku?")
        page.locator('main form button[type=submit]').click()
        with subtests.test('the chat message is shown'):
            expect(page.locator('main')).to_contain_text(
                "czy rachunek za ten miesiąc")
        shot(page, portal, 1280, 'chat')
        with subtests.test('no console error, no failed request'):
            assert not problems, problems
    finally:
        context.close()
