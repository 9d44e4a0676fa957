"""The start-up of the demo filters its documents to bank transfers in the
current quarter, downloads the report as XLSX and CSV and finds exactly
the rows the page shows; sees its income and costs by month and its
sub-account's balance as charts; the report pages fit a phone and pass
axe."""
import csv
import datetime
import re

import openpyxl
from playwright.sync_api import expect
from test_portal_browser import (
    ARTIFACTS, DESKTOP, PHONE, scroll_width, shot, sign_in_english, watch)

import a11y
from client_portal.demo_outgoing import STARTUP_USER

EMAIL = STARTUP_USER[0]


def _download(page, portal, label):
    with page.expect_download() as download_info:
        page.get_by_role('link', name=label).click()
    download = download_info.value
    path = ARTIFACTS / f'{portal.backend}-{download.suggested_filename}'
    download.save_as(path)
    return path


def _numbers(page):
    "The document numbers of the report table, in its order"
    return [n.strip() for n in page.locator(
            'table.portal-report tbody td:nth-child(2)').all_inner_texts()]


def test_filter_download_and_charts(portal, browser, subtests):
    problems = []
    context = browser.new_context(viewport=DESKTOP, locale='en-GB',
        accept_downloads=True)
    context.set_default_timeout(20000)
    page = context.new_page()
    watch(page, problems)
    today = datetime.date.today()
    quarter = f'Q{(today.month - 1) // 3 + 1} {today.year}'
    start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    try:
        sign_in_english(page, portal, EMAIL)

        page.locator('nav a[href$="/portal/reports"]').click()
        page.wait_for_url(re.compile(r'/portal/reports$'))
        every = int(re.search(r'\d+', page.locator(
                    '#results [role=status]').inner_text()).group())
        # Bank transfers (htmx redraws the table), then this quarter
        page.locator('#f-method').select_option('transfer')
        page.wait_for_url(re.compile(r'method=transfer'))
        page.locator('#f-per-page').select_option('100')
        page.wait_for_url(re.compile(r'per_page=100'))
        page.get_by_role('link', name=quarter, exact=True).click()
        page.wait_for_url(re.compile(r'from=.*method=transfer|method=transfer.*from='))
        expect(page.locator('#f-from')).to_have_value(start.isoformat())
        expect(page.locator('#f-method')).to_have_value('transfer')
        shot(page, portal, 1280, 'reports')
        count = int(re.search(r'\d+', page.locator(
                    '#results [role=status]').inner_text()).group())
        numbers = _numbers(page)
        with subtests.test('bank transfers of the quarter only'):
            assert 0 < count == len(numbers) < every, (count, every)
            methods = page.locator('table.portal-report tbody td:nth-child(5)'
                ).all_inner_texts()
            assert all(m.startswith('Bank transfer') for m in methods), \
                methods

        with subtests.test('the XLSX holds the rows shown'):
            path = _download(page, portal, 'Download XLSX')
            sheet = openpyxl.load_workbook(path).active
            rows = [r for r in sheet.iter_rows(min_row=2, values_only=True)
                if r[0] != 'Total']
            assert [r[1] for r in rows] == numbers
            assert all(r[5] == 'Bank transfer' for r in rows)
            assert all(start <= r[0].date() <= today for r in rows)
        with subtests.test('the CSV holds the rows shown'):
            path = _download(page, portal, 'Download CSV')
            with open(path, encoding='utf-8-sig', newline='') as file:
                lines = list(csv.reader(file))
            assert [l[1] for l in lines[1:] if l[0] != 'Total'] == numbers

        page.get_by_role('link', name='Income and costs by month').click()
        page.wait_for_url(re.compile(r'/portal/reports/monthly$'))
        with subtests.test('income and costs chart'):
            expect(page.locator('figure.portal-chart svg rect').first
                ).to_be_visible()
        shot(page, portal, 1280, 'reports-monthly')

        page.locator('nav a[href$="/portal/subaccounts"]').click()
        page.wait_for_url(re.compile(r'/portal/subaccounts$'))
        with subtests.test('balance chart of the sub-account'):
            expect(page.locator('figure.portal-chart polyline')
                ).to_be_visible()
        shot(page, portal, 1280, 'subaccount-chart')

        with subtests.test('report pages pass axe'):
            assert a11y.failures(page, [portal.url(path) for path in [
                        'reports', 'reports/monthly', 'reports/cash',
                        'exports']]) == []

        phone = browser.new_context(viewport=PHONE, is_mobile=True,
            has_touch=True, storage_state=context.storage_state())
        try:
            mobile = phone.new_page()
            for name in ['reports', 'reports/monthly', 'reports/cash']:
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
