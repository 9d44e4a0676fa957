"""The client's cost invoices in the portal: the list, registration with
the scan (draft, submit), the page with its preview and history, the scan
download, and every bad input: missing fields, dates, quantities, proforma,
oversized, mislabelled, protected or damaged files, duplicates, editing
after approval, a missing CSRF token; the scan kept across a failed
attempt"""
import datetime
import io
import itertools
import re

from data_costs import PAGED, pdf_bytes, png_bytes
from portal_http import in_transaction, read_only, text

from trytond.pool import Pool

TODAY = datetime.date.today()
_numbers = itertools.count(1)


def _purchase_tax(code):
    Tax = Pool().get('account.tax')
    tax, = Tax.search([('portal_vat_code', '=', code),
            ('group.kind', '=', 'purchase')])
    return tax.id


def _form(data, client='a', lines=None, supplier='pl', **values):
    "The form's fields as the browser posts them; a new number each time"
    lines = lines if lines is not None else [
        ("Papier A4", '10', '12.50', '23'), ("Kawa", '2', '40', '8')]
    day = (TODAY - datetime.timedelta(days=5)).isoformat()
    form = {
        'supplier': str(data.contractors[f'{client}_{supplier}']),
        'number': f'FZ/{next(_numbers)}/{TODAY.year}',
        'kind': 'invoice',
        'currency': 'PLN',
        'language': 'pl',
        'entry': 'lines',
        'invoice_date': day,
        'sale_date': day,
        'receipt_date': TODAY.isoformat(),
        'payment_method': 'transfer',
        'payment_status': 'unpaid',
        'due_date': (TODAY + datetime.timedelta(days=9)).isoformat(),
        'note': 'Biuro',
        'action': 'save',
        }
    for i, (description, quantity, price, code) in enumerate(lines):
        form.update({
                f'lines-{i}-description': description,
                f'lines-{i}-quantity': quantity,
                f'lines-{i}-price': price,
                f'lines-{i}-tax': str(read_only(_purchase_tax, code)),
                })
    form.update(values)
    return form


def _post(browser, form, path='costs/new', scan=None, name='faktura.pdf',
        **kwargs):
    data = dict(form)
    if scan is not None:
        data['scan'] = (io.BytesIO(scan), name)
    return browser.post(path, data=data, content_type='multipart/form-data',
        **kwargs)


def _created_id(response):
    assert response.status_code == 303, text(response)
    match = re.search(r'/costs/(\d+)', response.headers['Location'])
    return int(match.group(1))


def _record(cost_id):
    CostInvoice = Pool().get('portal.cost.invoice')
    records = CostInvoice.search([('id', '=', cost_id)])
    if not records:
        return None
    record, = records
    return {
        'state': record.state, 'number': record.number,
        'client': record.client.id, 'scan_name': record.scan_name,
        'scan_type': record.scan_type,
        'scan': bytes(record.scan) if record.scan_id else None,
        'total': record.total_amount, 'tax': record.tax_amount,
        'lines': len(record.lines), 'tax_pln': record.tax_pln,
        'events': [e.action for e in record.events],
        }


def _count(client_id):
    return Pool().get('portal.cost.invoice').search_count(
        [('client', '=', client_id)])


def _error(response, field):
    "The message shown next to a field"
    html = response.get_data(as_text=True)
    match = re.search(
        r'id="%s-error">(.*?)</div>' % re.escape(field), html, re.S)
    assert match, (field, text(response))
    return ' '.join(re.sub(r'<[^>]+>', ' ', match.group(1)).split())


# --- list -------------------------------------------------------------------

def test_list_shows_own_cost_invoices_only(as_a, data):
    page = text(as_a.get('costs', query_string={'per_page': '100'}))
    for key in ('a_draft', 'a_submitted', 'a_rejected', 'a_approved',
            'a_eur'):
        assert data.cost_numbers[key] in page, key
    for key in ('b_draft', 'b_approved'):
        assert data.cost_numbers[key] not in page
    assert 'Delta Budowa' in page


def test_list_filters(as_a, data):
    def page(**args):
        return text(as_a.get('costs', query_string=args))
    found = page(status='rejected')
    assert data.cost_numbers['a_rejected'] in found
    assert data.cost_numbers['a_approved'] not in found
    found = page(currency='EUR')
    assert data.cost_numbers['a_eur'] in found
    assert data.cost_numbers['a_draft'] not in found
    found = page(supplier=str(data.contractors['a_eu']))
    assert 'Cost invoices found: 1' in found
    found = page(q='REJ')
    assert 'Cost invoices found: 1' in found
    found = page(q='müller')
    assert data.cost_numbers['a_eur'] in found
    day = (TODAY - datetime.timedelta(days=20)).isoformat()
    found = page(date_from=day, date_to=day)
    assert data.cost_numbers['a_approved'] in found
    assert data.cost_numbers['a_draft'] not in found
    # The approved ones: 100 + 23% (PLN and EUR); the others 585.00
    found = page(total_min='123', total_max='123.00', currency='PLN',
        status='approved')
    assert data.cost_numbers['a_approved'] in found
    assert 'Cost invoices found: 1' in found
    found = page(total_min='500,5')
    assert data.cost_numbers['a_rejected'] in found
    assert data.cost_numbers['a_approved'] not in found
    assert 'No cost invoices match' in page(total_min='10000000')


def test_list_reports_bad_filters_and_keeps_them(as_a, data):
    response = as_a.get('costs', query_string={
            'date_from': '2026-02-30', 'status': 'bogus', 'total_max': 'x',
            'supplier': str(data.contractors['b_pl'])})
    assert response.status_code == 200
    assert 'could not be used' in text(response)
    html = response.get_data(as_text=True)
    assert 'value="2026-02-30"' in html and 'value="x"' in html


def test_list_sorts_paginates_and_answers_htmx(as_a, data):
    query = {'q': 'PAGE/', 'per_page': '10', 'sort': 'total', 'dir': 'asc'}
    first = text(as_a.get('costs', query_string=query))
    assert f'Cost invoices found: {PAGED}' in first
    numbers = re.findall(r'PAGE/\d\d', first)
    assert numbers == [f'PAGE/{n:02d}' for n in range(10)]
    second = text(as_a.get('costs', query_string={**query, 'page': '2'}))
    assert re.findall(r'PAGE/\d\d', second) == ['PAGE/10']
    descending = text(as_a.get('costs', query_string={
                **query, 'dir': 'desc'}))
    assert re.findall(r'PAGE/\d\d', descending)[0] == 'PAGE/10'
    by_number = text(as_a.get('costs', query_string={
                **query, 'sort': 'number'}))
    assert re.findall(r'PAGE/\d\d', by_number)[0] == 'PAGE/00'
    # A page past the last shows the last
    last = text(as_a.get('costs', query_string={**query, 'page': '9'}))
    assert re.findall(r'PAGE/\d\d', last) == ['PAGE/10']
    partial = as_a.get('costs', query_string=query,
        headers={'HX-Request': 'true'}).get_data(as_text=True)
    assert partial.lstrip().startswith('<div id="results">')
    assert '<html' not in partial


# --- registration -----------------------------------------------------------

def test_form_renders_with_the_clients_choices(as_a, data):
    response = as_a.get('costs/new')
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'Delta Budowa' in html
    assert f'value="{TODAY.isoformat()}"' in html
    assert '<option value="proforma">' in html
    # Purchase rates only: the sale taxes are other records
    sale_23 = read_only(lambda: Pool().get('account.tax').search([
                ('portal_vat_code', '=', '23'),
                ('group.kind', '=', 'sale')])[0].id)
    assert f'<option value="{sale_23}"' not in html
    assert f'<option value="{read_only(_purchase_tax, "23")}"' in html
    totals = as_a.get('costs/new', query_string={'entry': 'totals'})
    assert 'Totals per VAT rate' in text(totals)


def test_register_draft_with_pdf_then_submit(as_a, data):
    form = _form(data)
    scan = pdf_bytes(pages=2)
    response = _post(as_a, form, scan=scan, name='Faktura zakupowa.pdf')
    cost_id = _created_id(response)
    assert 'saved=draft' in response.headers['Location']
    record = read_only(_record, cost_id)
    assert record['state'] == 'draft'
    assert record['scan'] == scan
    assert record['scan_name'] == 'Faktura zakupowa.pdf'
    assert record['scan_type'] == 'application/pdf'
    # 10 × 12.50 at 23% and 2 × 40 at 8%: 125 + 28.75 + 80 + 6.40
    assert str(record['total']) == '240.15'
    page = as_a.get(f'costs/{cost_id}?saved=draft')
    body = text(page)
    for expected in [form['number'], 'Delta Budowa', 'Papier A4', 'Kawa',
            '240.15', '28.75', '6.40', 'Draft', 'The draft was saved',
            'History', 'Created']:
        assert expected in body, expected
    html = page.get_data(as_text=True)
    assert re.search(r'<iframe[^>]+src="[^"]*/costs/%d/scan\?inline=1"'
        % cost_id, html)

    response = as_a.post(f'costs/{cost_id}/submit')
    assert response.status_code == 303
    record = read_only(_record, cost_id)
    assert record['state'] == 'submitted'
    assert record['events'] == ['created', 'submitted']
    body = text(as_a.get(f'costs/{cost_id}'))
    assert 'Submitted for approval' in body
    assert 'Edit' not in body.split('History')[0].split('Download scan')[0]


def test_register_and_submit_at_once_with_png(as_a, data):
    form = _form(data, action='submit')
    response = _post(as_a, form, scan=png_bytes(), name='skan.PNG')
    cost_id = _created_id(response)
    assert 'saved=submitted' in response.headers['Location']
    record = read_only(_record, cost_id)
    assert record['state'] == 'submitted'
    assert record['scan_type'] == 'image/png'
    assert record['scan_name'] == 'skan.png'
    html = as_a.get(f'costs/{cost_id}').get_data(as_text=True)
    assert re.search(r'<img[^>]+src="[^"]*/costs/%d/scan\?inline=1"'
        % cost_id, html)


def test_scan_download_and_preview_headers(as_a, data):
    cost_id = data.costs['a_draft']
    response = as_a.get(f'costs/{cost_id}/scan')
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/pdf'
    assert response.headers['X-Content-Type-Options'] == 'nosniff'
    assert response.headers['Content-Disposition'].startswith(
        'attachment; filename="draft.pdf"')
    assert response.get_data().startswith(b'%PDF-')
    preview = as_a.get(f'costs/{cost_id}/scan', query_string={'inline': 1})
    assert preview.headers['Content-Disposition'].startswith('inline;')
    assert preview.headers['X-Frame-Options'] == 'SAMEORIGIN'
    assert preview.headers['Content-Security-Policy'] == (
        "frame-ancestors 'self'")
    # Without a scan there is nothing to download
    no_scan = data.costs['a_page_0']
    assert as_a.get(f'costs/{no_scan}/scan').status_code == 404


def test_foreign_currency_totals_per_rate_with_pln_at_nbp(as_a, data):
    form = _form(data, supplier='eu', currency='EUR', entry='totals',
        lines=[('', '', '1000', '23'), ('', '', '250.50', '8')],
        action='submit')
    # In totals entry only net and rate count
    for i in (0, 1):
        form.pop(f'lines-{i}-quantity')
        form.pop(f'lines-{i}-description')
    recalculated = as_a.post('costs/recalculate', data=form,
        headers={'HX-Request': 'true'})
    assert recalculated.status_code == 200
    figures = text(recalculated)
    # 1000 + 230 and 250.50 + 20.04
    assert '1,500.54' in figures and '250.04' in figures
    assert re.search(r'NBP rate [\d.]+, table \d+/A/NBP/\d{4}', figures)
    pln_gross = re.search(r'id="cost-gross-pln">([\d,.]+)<',
        recalculated.get_data(as_text=True)).group(1)
    cost_id = _created_id(_post(as_a, form, scan=pdf_bytes()))
    record = read_only(_record, cost_id)
    assert str(record['total']) == '1500.54'
    assert record['lines'] == 2
    page = text(as_a.get(f'costs/{cost_id}'))
    assert 'VAT in PLN' in page and 'Totals per VAT rate' in page
    assert re.search(r'table \d+/A/NBP/\d{4}', page)
    # What the form showed is what was saved
    assert f'{record["tax_pln"]:,.2f}' in figures
    assert pln_gross in figures


def test_edit_a_draft_keeps_its_scan(as_a, data):
    scan = pdf_bytes()
    cost_id = _created_id(_post(as_a, _form(data), scan=scan))
    form_page = as_a.get(f'costs/{cost_id}/edit')
    assert form_page.status_code == 200
    html = form_page.get_data(as_text=True)
    assert 'value="Papier A4"' in html and 'faktura.pdf' in html
    form = _form(data, note='Zmieniona', lines=[
            ("Papier A4", '20', '12.50', '23')])
    form['number'] = read_only(_record, cost_id)['number']
    response = _post(as_a, form, path=f'costs/{cost_id}/edit')
    assert _created_id(response) == cost_id
    record = read_only(_record, cost_id)
    assert record['scan'] == scan and record['lines'] == 1
    assert record['events'] == ['created', 'updated']
    assert 'Note: Biuro → Zmieniona' in text(as_a.get(f'costs/{cost_id}'))


def test_rejected_invoice_is_fixed_and_submitted_again(as_a, data):
    cost_id = _created_id(_post(as_a, _form(data, action='submit'),
            scan=pdf_bytes()))
    in_transaction(_reject, cost_id, "Zła data sprzedaży")
    page = text(as_a.get(f'costs/{cost_id}'))
    assert 'Rejected: Zła data sprzedaży' in page
    assert 'Correct and resubmit' in page
    form = _form(data, action='submit')
    form['number'] = read_only(_record, cost_id)['number']
    response = _post(as_a, form, path=f'costs/{cost_id}/edit')
    assert _created_id(response) == cost_id
    record = read_only(_record, cost_id)
    assert record['state'] == 'submitted'
    assert record['events'][-2:] == ['rejected', 'submitted']


def _reject(cost_id, reason):
    CostInvoice = Pool().get('portal.cost.invoice')
    CostInvoice.do_reject([CostInvoice(cost_id)], reason)


def test_delete_a_draft(as_a, data):
    cost_id = _created_id(_post(as_a, _form(data), scan=pdf_bytes()))
    response = as_a.post(f'costs/{cost_id}/delete')
    assert response.status_code == 303
    assert response.headers['Location'].endswith('costs?deleted=1')
    assert read_only(_record, cost_id) is None
    assert as_a.get(f'costs/{cost_id}').status_code == 404


def test_page_shows_reason_charge_and_correction_request(as_a, data):
    page = text(as_a.get(f'costs/{data.costs["a_rejected"]}'))
    assert 'Rejected: Brak podpisu na skanie' in page
    response = as_a.get(f'costs/{data.costs["a_eur"]}')
    page = text(response)
    assert 'Sub-account entry' in page and 'sub-account EUR' in page
    assert 'Approved and charged to the sub-account' in page
    html = response.get_data(as_text=True)
    assert 'subaccounts?currency=EUR' in html
    assert f'costs/{data.costs["a_eur"]}/correction' in html
    draft = as_a.get(f'costs/{data.costs["a_draft"]}').get_data(
        as_text=True)
    assert f'costs/{data.costs["a_draft"]}/correction' not in draft


def test_notifications_link_to_the_cost_invoice(as_a, data):
    page = text(as_a.get(''))
    assert f'Cost invoice rejected {data.cost_numbers["a_rejected"]}' in page
    assert f'Cost invoice approved {data.cost_numbers["a_approved"]}' in page
    notification = read_only(lambda: Pool().get('portal.notification')
        .search([('cost_invoice', '=', data.costs['a_rejected'])])[0].id)
    response = as_a.post(f'notifications/{notification}')
    assert response.status_code == 303
    assert response.headers['Location'].endswith(
        f'costs/{data.costs["a_rejected"]}')


# --- bad input --------------------------------------------------------------

def test_missing_fields_are_reported_and_everything_typed_kept(as_a, data):
    before = read_only(_count, data.clients['a'])
    form = _form(data, supplier='pl', number='', invoice_date='',
        receipt_date='', payment_method='')
    form['supplier'] = ''
    form['lines-1-description'] = ''
    form['lines-1-price'] = ''
    form['lines-2-description'] = 'Toner'
    form['lines-2-quantity'] = 'dwa'
    response = _post(as_a, form, scan=pdf_bytes())
    assert response.status_code == 422
    for field in ('supplier', 'number', 'invoice_date', 'receipt_date',
            'payment_method', 'lines-1-description', 'lines-1-price'):
        assert _error(response, field) == 'Fill in this field.', field
    assert _error(response, 'lines-2-quantity') == 'Enter a number.'
    html = response.get_data(as_text=True)
    for value in ('Papier A4', '12.50', 'Toner', 'dwa', 'Biuro'):
        assert f'value="{value}"' in html or f'>{value}<' in html, value
    assert 'Nothing was saved' in text(response)
    assert read_only(_count, data.clients['a']) == before


def test_dates_in_the_future_and_receipt_before_issue(as_a, data):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = _post(as_a, _form(data, invoice_date=tomorrow,
            receipt_date=tomorrow))
    assert response.status_code == 422
    assert _error(response, 'invoice_date') == (
        'The date cannot be in the future.')
    assert _error(response, 'receipt_date') == (
        'The date cannot be in the future.')
    earlier = (TODAY - datetime.timedelta(days=10)).isoformat()
    response = _post(as_a, _form(data, receipt_date=earlier))
    assert _error(response, 'receipt_date') == (
        'The invoice cannot be received before it was issued.')
    assert f'value="{earlier}"' in response.get_data(as_text=True)


def test_quantities_and_prices(as_a, data):
    response = _post(as_a, _form(data, lines=[
                ("Zwrot", '-1', '10', '23'), ("Zero", '0', '10', '23'),
                ("Rabat", '1', '-5', '23'), ("Dużo", '1.123456', '1', '23')]))
    assert response.status_code == 422
    positive = 'The quantity must be greater than zero.'
    assert _error(response, 'lines-0-quantity') == positive
    assert _error(response, 'lines-1-quantity') == positive
    assert _error(response, 'lines-2-price') == 'The price cannot be negative.'
    assert 'decimal places' in _error(response, 'lines-3-quantity')
    assert 'value="-1"' in response.get_data(as_text=True)


def test_correction_takes_differences_and_needs_the_corrected(as_a, data):
    lines = [("Zwrot papieru", '-2', '12.50', '23')]
    response = _post(as_a, _form(data, kind='correction', lines=lines))
    assert response.status_code == 422
    assert _error(response, 'corrected') == (
        'Choose the approved invoice this correction corrects.')
    assert 'lines-0-quantity-error' not in response.get_data(as_text=True)
    # Only the client's approved invoices may be corrected
    for other in (data.costs['a_draft'], data.costs['b_approved']):
        response = _post(as_a, _form(data, kind='correction',
                corrected=str(other), lines=lines))
        assert 'corrected-error' in response.get_data(as_text=True)
    response = _post(as_a, _form(data, kind='correction',
            corrected=str(data.costs['a_approved']), lines=lines),
        scan=pdf_bytes())
    cost_id = _created_id(response)
    assert str(read_only(_record, cost_id)['total']) == '-30.75'
    page = text(as_a.get(f'costs/{cost_id}'))
    assert (f'This correction corrects invoice '
        f'{data.cost_numbers["a_approved"]}') in page


def test_proforma_is_refused_next_to_the_type(as_a, data):
    response = _post(as_a, _form(data, kind='proforma'), scan=pdf_bytes())
    assert response.status_code == 422
    assert _error(response, 'kind').startswith(
        'A proforma is not a VAT invoice')
    assert '<option value="proforma" selected>' in response.get_data(
        as_text=True)


def test_currency_without_subaccount_and_foreign_choices(as_a, data):
    response = _post(as_a, _form(data, currency='USD'))
    assert _error(response, 'currency') == 'You have no sub-account in USD.'
    form = _form(data)
    form['supplier'] = str(data.contractors['b_pl'])
    form['lines-0-tax'] = '999999'
    response = _post(as_a, form)
    assert _error(response, 'supplier') == 'Choose one of the proposed values.'
    assert _error(response, 'lines-0-tax') == (
        'Choose one of the proposed values.')


def test_new_supplier_with_a_wrong_tax_number_is_refused(as_a, data):
    "A supplier is added by the quick contractor form, its NIP checked"
    response = as_a.post('contractors/quick', {
            'qc-name': 'Nowy Dostawca', 'qc-street': 'ul. Krótka 1',
            'qc-postal_code': '00-001', 'qc-city': 'Warszawa',
            'qc-country': 'PL', 'qc-tax_number': '1234567890',
            'qc-language': 'pl'}, headers={'HX-Request': 'true'})
    assert 'NIP' in text(response) or 'tax number' in text(response)
    assert 'contractorCreated' not in response.headers.get('HX-Trigger', '')


def test_scan_larger_than_the_limit(as_a, data):
    big = b'%PDF-1.4\n' + b'0' * (10 * 1024 * 1024)
    form = _form(data)
    response = _post(as_a, form, scan=big)
    assert response.status_code == 422
    assert _error(response, 'scan') == 'The file is larger than 10 MB.'
    assert f'value="{form["number"]}"' in response.get_data(as_text=True)


def test_a_much_larger_request_is_refused_unread(as_a, data):
    response = _post(as_a, _form(data), scan=b'0' * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert 'The request is too large.' in text(response)


def test_files_that_are_not_what_they_claim(as_a, data):
    cases = [
        (b'Faktura VAT nr 1/2026\nto jest tekst', 'faktura.pdf',
            'The file is not a PDF, JPEG or PNG'),
        (pdf_bytes(password='tajne'), 'faktura.pdf',
            'The PDF is protected with a password'),
        (b'%PDF-1.7\n' + b'\x00garbage' * 50, 'faktura.pdf',
            'The file is damaged'),
        (png_bytes()[:40], 'skan.png', 'The file is damaged'),
        (b'', 'pusty.pdf', 'Attach the scan of the invoice.'),
        ]
    for content, name, message in cases:
        response = _post(as_a, _form(data), scan=content, name=name)
        assert response.status_code == 422, name
        assert _error(response, 'scan').startswith(message), (name, text(
                response))
        assert 'scan_pending' not in response.get_data(as_text=True)


def test_submit_needs_a_scan(as_a, data):
    before = read_only(_count, data.clients['a'])
    response = _post(as_a, _form(data, action='submit'))
    assert response.status_code == 422
    assert _error(response, 'scan') == (
        'Attach the scan of the invoice before submitting it.')
    assert read_only(_count, data.clients['a']) == before
    # A draft without a scan is saved, and cannot be submitted from its page
    cost_id = _created_id(_post(as_a, _form(data)))
    response = as_a.post(f'costs/{cost_id}/submit')
    assert response.status_code == 422
    assert 'Attach the scan' in text(response)
    assert read_only(_record, cost_id)['state'] == 'draft'


def test_duplicate_number_links_the_registered_invoice(as_a, as_b, data):
    form = _form(data, number=data.cost_numbers['a_approved'])
    response = _post(as_a, form, scan=pdf_bytes())
    assert response.status_code == 422
    message = _error(response, 'number')
    assert message.startswith(
        f'This invoice ({data.cost_numbers["a_approved"]} from tax number')
    assert f'costs/{data.costs["a_approved"]}"' in response.get_data(
        as_text=True)
    # Another client's registration of the same supplier's invoice (b's
    # contractor has the same NIP): mentioned, never linked
    form = _form(data, client='b', number=data.cost_numbers['a_approved'])
    response = _post(as_b, form, scan=pdf_bytes())
    assert response.status_code == 422
    assert 'for another client' in _error(response, 'number')
    assert f'costs/{data.costs["a_approved"]}"' not in response.get_data(
        as_text=True)


def test_second_submit_of_the_same_form_creates_nothing(as_a, data):
    form = _form(data, action='submit')
    scan = pdf_bytes()
    before = read_only(_count, data.clients['a'])
    cost_id = _created_id(_post(as_a, form, scan=scan))
    again = _post(as_a, form, scan=scan)
    assert again.status_code == 422
    assert f'costs/{cost_id}"' in again.get_data(as_text=True)
    assert read_only(_count, data.clients['a']) == before + 1


def test_editing_after_approval_is_refused(as_a, data):
    cost_id = data.costs['a_approved']
    before = read_only(_record, cost_id)
    response = as_a.get(f'costs/{cost_id}/edit')
    assert response.status_code == 403
    assert 'can no longer be changed' in text(response)
    response = _post(as_a, _form(data), path=f'costs/{cost_id}/edit',
        scan=pdf_bytes())
    assert response.status_code == 403
    assert as_a.post(f'costs/{cost_id}/submit').status_code == 403
    response = as_a.post(f'costs/{cost_id}/delete')
    assert response.status_code == 403
    assert 'cannot be deleted' in text(response) or 'no longer' in text(
        response)
    assert read_only(_record, cost_id) == before
    # Submitted: the same
    assert as_a.get(
        f'costs/{data.costs["a_submitted"]}/edit').status_code == 403


def test_missing_csrf_token_is_refused(as_a, data):
    before = read_only(_count, data.clients['a'])
    response = _post(as_a, _form(data, csrf_token='x' * 64),
        scan=pdf_bytes())
    assert response.status_code == 403
    response = as_a.post('costs/new', data=_form(data), csrf=False)
    assert response.status_code == 403
    response = as_a.post(f'costs/{data.costs["a_draft"]}/delete',
        csrf=False)
    assert response.status_code == 403
    assert read_only(_count, data.clients['a']) == before


def test_scan_is_kept_across_a_failed_attempt(as_a, as_b, data):
    scan = pdf_bytes(pages=3)
    form = _form(data, action='submit', number='')
    response = _post(as_a, form, scan=scan, name='zakup.pdf')
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    pending = re.search(r'name="scan_pending" value="([^"]+)"', html).group(1)
    assert 'name="scan_pending_name" value="zakup.pdf"' in html
    assert 'Attached: zakup.pdf' in text(response)
    # Another client cannot use it
    stolen = _form(data, client='b', action='submit', scan_pending=pending,
        scan_pending_name='zakup.pdf')
    response = _post(as_b, stolen)
    assert response.status_code == 422
    assert _error(response, 'scan').startswith('Attach the scan')
    # Fixed, without choosing the file again
    form.update(number=f'FZ/KEPT/{TODAY.year}', scan_pending=pending,
        scan_pending_name='zakup.pdf')
    cost_id = _created_id(_post(as_a, form))
    record = read_only(_record, cost_id)
    assert record['state'] == 'submitted'
    assert record['scan'] == scan and record['scan_name'] == 'zakup.pdf'
    # The kept copy is queued for Tryton's clean-up, never orphaned
    queued = read_only(lambda: Pool().get('ir.filestore.queue').search_count(
            [('file_id', '=', pending)]))
    assert queued == 1


def test_scan_kept_when_adding_a_line(as_a, data):
    form = _form(data, action='add_line')
    response = _post(as_a, form, scan=png_bytes())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="line-2"' in html
    assert 'name="scan_pending"' in html


def test_list_and_page_statements_do_not_grow_with_rows(as_a, data,
        monkeypatch):
    from test_portal_statements import statements_of
    small = statements_of(as_a, 'costs?per_page=10', monkeypatch)
    large = statements_of(as_a, 'costs?per_page=100', monkeypatch)
    assert len(small) == len(large) <= 6, '\n'.join(large)
    page = statements_of(as_a, f'costs/{data.costs["a_eur"]}', monkeypatch)
    # PostgreSQL checks the lines' access to their cost invoice with one
    # more statement than SQLite; its comments (client_portal/comment.py),
    # read-write to mark the firm's replies read, cost two, and one more
    # for their authors once tests/test_portal_comments.py wrote some
    assert len(page) <= 16, '\n'.join(page)
