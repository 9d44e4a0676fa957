"""The client's own invoices in the portal: list, page, editor with its live
recalculation, issue, proforma, correction, sending, and every bad input"""
import datetime
import io
import re

from portal_http import read_only, text
from pypdf import PdfReader

from trytond.pool import Pool

TODAY = datetime.date.today()


def _lookup(model, domain, field='id'):
    Model = Pool().get(model)
    return [getattr(r, field) for r in Model.search(domain)]


def _tax(code):
    return read_only(_lookup, 'account.tax',
        [('portal_vat_code', '=', code), ('group.kind', '=', 'sale')])[0]


def _unit():
    return read_only(lambda: Pool().get('ir.model.data').get_id(
            'product', 'uom_unit'))


def _form(data, client='a', lines=None, **values):
    "The editor's fields as the browser posts them"
    lines = lines if lines is not None else [
        ("Strona WWW", '1', '2000.00', '23'), ("Hosting", '12', '25', '8')]
    form = {
        'contractor': str(data.buyers[client]),
        'template': str(data.templates[client]),
        'currency': 'PLN',
        'language': 'en',
        'invoice_date': TODAY.isoformat(),
        'sale_date': TODAY.isoformat(),
        'payment_method': 'transfer',
        'due_date': (TODAY + datetime.timedelta(days=14)).isoformat(),
        'note': 'Thank you',
        'action': 'save',
        }
    unit = _unit()
    for i, (description, quantity, price, code) in enumerate(lines):
        form.update({
                f'lines-{i}-description': description,
                f'lines-{i}-quantity': quantity,
                f'lines-{i}-price': price,
                f'lines-{i}-tax': str(_tax(code)),
                f'lines-{i}-unit': str(unit),
                })
    form.update(values)
    return form


def _invoice(invoice_id):
    Invoice = Pool().get('account.invoice')
    invoice = Invoice(invoice_id)
    return {
        'number': invoice.number, 'state': invoice.state,
        'status': invoice.portal_status, 'total': invoice.total_amount,
        'issuer': invoice.portal_issuer.id, 'kind': invoice.portal_kind,
        'lines': len(invoice.lines),
        }


def _created_id(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.search(r'/invoices/(\d+)', response.headers['Location'])
    return int(match.group(1))


def _count(client_id):
    return Pool().get('account.invoice').search_count(
        [('portal_issuer', '=', client_id)])


def test_list_shows_own_documents_only(as_a, data):
    page = text(as_a.get('invoices'))
    assert data.outgoing_numbers['a_issued'] in page
    assert data.outgoing_numbers['a_proforma'] in page
    assert data.outgoing_numbers['b_issued'] not in page
    assert 'Gamma Trade' in page and 'Omega' not in page


def test_list_filters_sorts_and_paginates(as_a, data):
    page = text(as_a.get('invoices', query_string={'status': 'proforma'}))
    assert data.outgoing_numbers['a_proforma'] in page
    assert data.outgoing_numbers['a_issued'] not in page
    page = text(as_a.get('invoices', query_string={'kind': 'correction'}))
    assert data.outgoing_numbers['a_correction'] in page
    assert data.outgoing_numbers['a_eur'] not in page
    page = text(as_a.get('invoices', query_string={'currency': 'EUR'}))
    assert data.outgoing_numbers['a_eur'] in page
    assert data.outgoing_numbers['a_issued'] not in page
    page = text(as_a.get('invoices', query_string={
                'q': data.outgoing_numbers['a_eur']}))
    assert 'Documents found: 1' in page
    page = text(as_a.get('invoices', query_string={'q': 'gamma'}))
    assert data.outgoing_numbers['a_issued'] in page
    page = text(as_a.get('invoices', query_string={'total_min': '100000'}))
    assert 'No documents match' in page
    page = text(as_a.get('invoices', query_string={
                'per_page': '10', 'sort': 'total', 'dir': 'asc'}))
    assert 'Documents found' in page
    # A partial for htmx: the results only
    partial = as_a.get('invoices', query_string={'status': 'draft'},
        headers={'HX-Request': 'true'}).get_data(as_text=True)
    assert partial.lstrip().startswith('<div id="results">')


def test_list_reports_bad_filters_and_keeps_them(as_a, data):
    response = as_a.get('invoices', query_string={
            'date_from': '2026-13-45', 'status': 'bogus', 'buyer': '999999',
            'total_min': 'abc'})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="2026-13-45"' in html
    assert 'value="abc"' in html
    assert 'could not be used' in text(response)
    # Another client's contractor is no filter value
    response = as_a.get('invoices', query_string={
            'buyer': str(data.buyers['b'])})
    assert 'could not be used' in text(response)


def test_page_shows_lines_totals_history_and_preview(as_a, data):
    invoice_id = data.outgoing['a_issued']
    response = as_a.get(f'invoices/{invoice_id}')
    page = text(response)
    for expected in [data.outgoing_numbers['a_issued'], 'Gamma Trade',
            'Projekt logo', 'Druk ulotek', 'VAT summary', 'History',
            'Issued as', 'Payment of', 'Partly paid']:
        assert expected in page, expected
    html = response.get_data(as_text=True)
    assert f'invoices/{invoice_id}.pdf?preview=1' in html
    preview = as_a.get(f'invoices/{invoice_id}.pdf?preview=1')
    assert preview.headers['X-Frame-Options'] == 'SAMEORIGIN'
    pdf = ' '.join(p.extract_text() for p in PdfReader(
            io.BytesIO(preview.get_data())).pages)
    assert data.outgoing_numbers['a_issued'] in pdf


def test_eur_page_shows_vat_in_pln_with_the_nbp_table(as_a, data):
    page = text(as_a.get(f'invoices/{data.outgoing["a_eur"]}'))
    assert 'VAT in PLN' in page
    assert re.search(r'table \d+/A/NBP/\d{4}', page), page


def test_correction_and_original_link_each_other(as_a, data):
    page = text(as_a.get(f'invoices/{data.outgoing["a_correction"]}'))
    assert (f'corrects invoice {data.outgoing_numbers["a_corrected"]}'
        in page)
    assert 'Before the correction' in page
    assert 'After the correction' in page
    assert 'Differences per VAT rate' in page
    page = text(as_a.get(f'invoices/{data.outgoing["a_corrected"]}'))
    assert f'Corrected by {data.outgoing_numbers["a_correction"]}' in page
    assert 'Corrected' in page


def test_editor_renders_with_defaults(as_a, data):
    response = as_a.get('invoices/new', query_string={'currency': 'EUR'})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<option value="EUR" selected>' in html
    assert f'value="{TODAY.isoformat()}"' in html
    assert 'Gamma Trade' in html and 'Omega' not in html


def test_recalculation_computes_lines_and_totals(as_a, data):
    form = _form(data, lines=[("A", '3', '10.33', '23'),
            ("B", '2', '100', '8')])
    response = as_a.post('invoices/recalculate', data=form,
        headers={'HX-Request': 'true'})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # 30.99 at 23% = 7.13; 200.00 at 8% = 16.00
    assert 'id="invoice-gross"' in html
    assert '254.12' in html
    assert 'id="line-0-net" class="text-end portal-amount" ' in html
    assert 'hx-swap-oob="true"' in html


def test_line_row_is_added_and_filled(as_a, data):
    form = _form(data)
    response = as_a.post('invoices/line', data=form)
    html = response.get_data(as_text=True)
    assert 'id="line-2"' in html


def test_save_draft_then_issue(as_a, data):
    before = read_only(_count, data.clients['a'])
    response = as_a.post('invoices/new', data=_form(data))
    invoice_id = _created_id(response)
    values = read_only(_invoice, invoice_id)
    assert values['status'] == 'draft' and values['number'] is None
    assert values['issuer'] == data.clients['a']
    assert read_only(_count, data.clients['a']) == before + 1
    page = as_a.get(f'invoices/{invoice_id}/edit')
    assert 'Strona WWW' in page.get_data(as_text=True)
    draft_pdf = as_a.get(f'invoices/{invoice_id}.pdf')
    assert draft_pdf.content_type == 'application/pdf'
    response = as_a.post(f'invoices/{invoice_id}/edit',
        data=_form(data, action='issue'))
    assert _created_id(response) == invoice_id
    values = read_only(_invoice, invoice_id)
    assert values['state'] == 'posted'
    assert values['number'].startswith('FV/ALFA/')
    # Issued: the editor is closed and a new post is refused
    response = as_a.get(f'invoices/{invoice_id}/edit')
    assert response.status_code == 303
    response = as_a.post(f'invoices/{invoice_id}/edit',
        data=_form(data, action='save'))
    assert response.status_code == 303
    assert read_only(_invoice, invoice_id)['lines'] == values['lines']


def test_issue_as_proforma_then_invoice(as_a, data):
    response = as_a.post('invoices/new', data=_form(data, action='proforma'))
    proforma_id = _created_id(response)
    values = read_only(_invoice, proforma_id)
    assert values['status'] == 'proforma'
    assert values['number'].startswith('PF/ALFA/')
    response = as_a.post(f'invoices/{proforma_id}/invoice')
    invoice_id = _created_id(response)
    assert invoice_id != proforma_id
    invoice = read_only(_invoice, invoice_id)
    assert invoice['number'].startswith('FV/ALFA/')
    assert invoice['total'] == values['total']
    page = text(as_a.get(f'invoices/{proforma_id}'))
    assert f'Invoiced as {invoice["number"]}' in page
    # A second time is refused with a message
    response = as_a.post(f'invoices/{proforma_id}/invoice')
    assert response.status_code == 422
    assert 'already been turned into an invoice' in text(response)


def test_correct_duplicate_cancel(as_a, data):
    response = as_a.post(f'invoices/{data.outgoing["a_eur"]}/correct')
    correction_id = _created_id(response)
    values = read_only(_invoice, correction_id)
    assert values['kind'] == 'correction' and values['status'] == 'draft'
    editor = text(as_a.get(f'invoices/{correction_id}/edit'))
    assert 'Lines after the correction' in editor
    assert 'Reason for the correction' in editor
    response = as_a.post(f'invoices/{data.outgoing["a_issued"]}/duplicate')
    copy_id = _created_id(response)
    assert read_only(_invoice, copy_id)['status'] == 'draft'
    response = as_a.post(f'invoices/{copy_id}/cancel')
    assert _created_id(response) == copy_id
    assert read_only(_invoice, copy_id)['status'] == 'cancelled'
    # An issued invoice cannot be cancelled by the client
    response = as_a.post(f'invoices/{data.outgoing["a_issued"]}/cancel')
    assert response.status_code == 422


def test_bad_input_is_shown_next_to_the_field_and_kept(as_a, data):
    before = read_only(_count, data.clients['a'])
    cases = [
        ({'lines-0-quantity': '0'}, 'lines-0-quantity',
            'greater than zero'),
        ({'lines-0-quantity': '-2'}, 'lines-0-quantity',
            'greater than zero'),
        ({'lines-0-price': '10.005'}, 'lines-0-price', 'decimal places'),
        ({'lines-0-price': 'ten'}, 'lines-0-price', 'Enter a number'),
        ({'currency': 'USD'}, 'currency', 'no sub-account in USD'),
        ({'invoice_date': '2026-02-31'}, 'invoice_date', 'valid date'),
        ({'sale_date': (TODAY + datetime.timedelta(days=70)).isoformat()},
            'invoice_date', '60 days'),
        ({'contractor': str(data.buyers['b'])}, 'contractor',
            'proposed values'),
        ({'template': str(data.templates['b'])}, 'template',
            'proposed values'),
        ]
    for values, field, message in cases:
        form = _form(data, **values)
        response = as_a.post('invoices/new', data=form)
        assert response.status_code == 422, values
        html = response.get_data(as_text=True)
        assert f'id="{field}-error"' in html, (values, html[:200])
        assert message in text(response), values
        for key, value in values.items():
            if key not in ('contractor', 'template', 'currency'):
                assert f'value="{value}"' in html, key
    # No lines at all
    response = as_a.post('invoices/new', data=_form(data, lines=[]))
    assert response.status_code == 422
    assert 'Add at least one line' in text(response)
    assert read_only(_count, data.clients['a']) == before


def test_missing_csrf_and_forged_ids(as_a, data):
    response = as_a.post('invoices/new', data=_form(data), csrf=False)
    assert response.status_code == 403
    response = as_a.post('invoices/new', data=_form(data, action='bogus'))
    assert response.status_code == 400


def test_add_and_remove_line_without_javascript(as_a, data):
    response = as_a.post('invoices/new', data=_form(data, action='add_line'))
    assert response.status_code == 200
    assert 'id="line-2"' in response.get_data(as_text=True)
    form = _form(data)
    del form['action']
    form['remove_line'] = '0'
    response = as_a.post('invoices/new', data=form)
    html = response.get_data(as_text=True)
    assert 'Strona WWW' not in html and 'Hosting' in html


def test_send_again_validates_the_address(as_a, data, smtp):
    invoice_id = data.outgoing['a_issued']
    response = as_a.post(f'invoices/{invoice_id}/send',
        data={'recipient': 'not-an-address'})
    assert response.status_code == 422
    smtp.clear()
    response = as_a.post(f'invoices/{invoice_id}/send',
        data={'recipient': 'accounts@gamma.example'})
    assert response.status_code == 303
    message = smtp.wait_for(lambda m: m['To'] == 'accounts@gamma.example')
    assert data.outgoing_numbers['a_issued'] in message['Subject']
