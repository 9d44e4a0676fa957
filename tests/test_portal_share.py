"""Share links (issue 12, deliverables 5 and 6): a client shares one
document with someone without a login; the link opens that document's page
and PDF and nothing else, every use is logged, and an expired, revoked or
unknown link is the same 404."""
import datetime
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import unquote, urlsplit

from portal_http import Browser, in_transaction, read_only, text

from trytond import config
from trytond.pool import Pool

GONE = 'This link does not exist, has expired or was revoked.'


def _links(document_id):
    "[(state, use count)] of the document's links, newest first"
    ShareLink = Pool().get('portal.share.link')
    return [(l.state, l.use_count) for l in ShareLink.search(
            [('document', '=', f'portal.document,{document_id}')])]


def _link(token):
    ShareLink = Pool().get('portal.share.link')
    link, = ShareLink.search([('token_hash', '=',
                hashlib.sha256(token.encode()).hexdigest())])
    return link


def _uses(token):
    return [(u.fetched, u.ip, u.user_agent) for u in _link(token).uses]


def _share(browser, document_id, days='7'):
    "The new link's path in the portal, and its token"
    response = browser.post(f'documents/{document_id}/share', {'days': days})
    assert response.status_code == 200, text(response)
    url = unescape(re.search(r'id="share-url" value="([^"]+)"',
            response.get_data(as_text=True)).group(1))
    # The configured address of the portal ([portal] base_url), as in e-mails
    base = config.get('portal', 'base_url', default='http://localhost:8000')
    assert url.startswith(base.rstrip('/') + '/'), url
    path = urlsplit(url).path
    return path, path.rsplit('/', 1)[1]


def _expire(token):
    link = _link(token)
    link.expires_at = datetime.datetime.now() - datetime.timedelta(minutes=1)
    link.save()


def _assert_gone(response):
    assert response.status_code == 404
    assert GONE in text(response)
    assert response.headers['Referrer-Policy'] == 'no-referrer'
    assert response.headers['Cache-Control'] == 'no-store'


def test_document_page_offers_to_share(as_a, data):
    response = as_a.get(f'documents/{data.documents["a_open"]}')
    html = response.get_data(as_text=True)
    assert 'Create a share link' in text(response)
    form = html.split('id="share"', 1)[1].split('</form>', 1)[0]
    assert f'documents/{data.documents["a_open"]}/share"' in form
    assert 'name="csrf_token"' in form and 'name="days"' in form


def test_anonymous_opens_the_shared_document_and_its_pdf(as_a, data):
    document = data.documents['a_open']
    path, token = _share(as_a, document)
    assert len(token) == 43
    anonymous = Browser()
    page = anonymous.get(path, headers={'User-Agent': 'Bank-Checker/2.0'},
        environ_overrides={'REMOTE_ADDR': '203.0.113.7'})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert data.numbers['a_open'] in text(page)
    assert page.headers['Referrer-Policy'] == 'no-referrer'
    assert page.headers['Cache-Control'] == 'no-store'
    assert "frame-ancestors 'none'" in page.headers['Content-Security-Policy']
    # Nothing of the portal or the client beyond the document
    assert 'Alfa' not in text(page)
    links = re.findall(r'href="([^"]+)"', html)
    assert [unquote(l) for l in links if '/portal/' in l
        and 'static/' not in l and not l.endswith('branding.css')] == [
        f'{path}.pdf']
    pdf = anonymous.get(f'{path}.pdf',
        environ_overrides={'REMOTE_ADDR': '198.51.100.2'})
    assert pdf.status_code == 200
    assert pdf.content_type == 'application/pdf'
    assert pdf.headers['Referrer-Policy'] == 'no-referrer'
    assert pdf.headers['Cache-Control'] == 'no-store'

    def stored():
        return bytes(Pool().get('portal.document')(document).get_pdf())
    assert pdf.get_data() == read_only(stored)
    uses = read_only(_uses, token)
    assert sorted(u[0] for u in uses) == ['page', 'pdf']
    assert ('page', '203.0.113.7', 'Bank-Checker/2.0') in uses
    assert [u[1] for u in uses if u[0] == 'pdf'] == ['198.51.100.2']
    # The client's page lists the link with its uses
    listed = text(as_a.get(f'documents/{document}'))
    assert 'Times opened' in listed and 'Valid' in listed


def test_the_token_opens_nothing_else(as_a, as_b, data):
    path, token = _share(as_a, data.documents['a_overdue'])
    anonymous = Browser()
    anonymous.get(path)
    other = data.documents['a_paid']
    for attempt in [f'{path}/../../documents/{other}',
            f'{path}/../documents/{other}.pdf', f'{path}/{other}',
            f'{path}.pdf/{other}', f'{path}.xml',
            f'documents/{other}', f'documents/{other}.pdf', 'documents',
            '']:
        response = anonymous.get(attempt)
        assert response.status_code in (303, 404), attempt
        assert data.numbers['a_paid'] not in text(response), attempt
    # Opened by another client's signed-in user: the shared document,
    # nothing of that user's own portal
    page = text(as_b.get(path))
    assert data.numbers['a_overdue'] in page
    assert 'Beta' not in page and 'Sign out' not in page


def test_revoked_link_is_gone(as_a, data):
    document = data.documents['a_partial']
    path, token = _share(as_a, document)
    link_id = read_only(lambda: _link(token).id)
    response = as_a.post(f'shares/{link_id}/revoke')
    assert response.status_code == 303
    assert response.headers['Location'].endswith(
        f'documents/{document}?shared=revoked')
    page = text(as_a.get(response.headers['Location']))
    assert 'The link was revoked.' in page and 'Revoked' in page
    _assert_gone(Browser().get(path))
    _assert_gone(Browser().get(f'{path}.pdf'))
    assert read_only(_uses, token) == []


def test_expired_link_is_gone_like_an_unknown_one(as_a, data):
    path, token = _share(as_a, data.documents['a_eur'], days='1')
    assert Browser().get(path).status_code == 200
    in_transaction(_expire, token)
    expired = Browser().get(path)
    _assert_gone(expired)
    _assert_gone(Browser().get(f'{path}.pdf'))
    unknown = Browser().get(path.replace(token, secrets.token_urlsafe(32)))
    _assert_gone(unknown)
    assert text(unknown) == text(expired)
    _assert_gone(Browser().get(path.replace(token, 'x')))
    assert ('expired', 1) in read_only(_links, data.documents['a_eur'])


def test_b_cannot_share_or_revoke_a_document_of_a(as_a, as_b, data):
    document = data.documents['a_credit']
    before = read_only(_links, document)
    response = as_b.post(f'documents/{document}/share', {'days': '7'})
    assert response.status_code == 404
    assert read_only(_links, document) == before
    path, token = _share(as_a, document)
    link_id = read_only(lambda: _link(token).id)
    assert as_b.post(f'shares/{link_id}/revoke').status_code == 404
    assert read_only(lambda: _link(token).state) == 'active'
    assert Browser().get(path).status_code == 200


def test_validity_outside_one_to_thirty_days(as_a, data):
    document = data.documents['a_paid']
    before = read_only(_links, document)
    for days in ['0', '31', '-1', 'seven', '']:
        response = as_a.post(f'documents/{document}/share', {'days': days})
        assert response.status_code == 400, days
        html = response.get_data(as_text=True)
        field = re.search(r'<input[^>]*name="days"[^>]*>', html).group(0)
        assert 'is-invalid' in field
        assert f'value="{days}"' in field
        assert 'Choose a validity of 1 to 30 days.' in text(response)
        assert 'share-url' not in html
    assert read_only(_links, document) == before
    _share(as_a, document, days='30')
    assert len(read_only(_links, document)) == len(before) + 1


def test_posts_without_csrf_are_refused(as_a, data):
    document = data.documents['a_paid']
    before = read_only(_links, document)
    response = as_a.post(f'documents/{document}/share', {'days': '7'},
        csrf=False)
    assert response.status_code == 403
    link_id = data.share_links['a']
    assert as_a.post(f'shares/{link_id}/revoke', csrf=False
        ).status_code == 403
    assert read_only(_links, document) == before


def test_shared_pages_speak_the_visitors_language(as_a, data):
    path, token = _share(as_a, data.documents['a_overdue'])
    polish = Browser(language='pl')
    page = polish.get(path)
    assert '<html lang="pl"' in page.get_data(as_text=True)
    assert 'Pobierz PDF' in text(page)
    gone = polish.get(path.replace(token, secrets.token_urlsafe(32)))
    assert gone.status_code == 404
    assert 'Ten link nie istnieje, wygasł lub został unieważniony.' in text(
        gone)
