"""The Bitrix24 emulator against facts/BITRIX24.md: routing and auth,
envelope, limits, batch, CRM, feed, chat, events, faults, placements,
controls, persistence and the command line.

One emulator for the module, on a fake clock; each test starts from the
seed (reset) with no fault and the default limits.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from . import Emulator, php

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPA = 1036


class Clock:
    "The emulator's time, moved by the tests"

    def __init__(self):
        self.now = 1_780_000_000.0      # 2026-05-28, Warsaw at +02:00

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(scope='module')
def clock():
    return Clock()


@pytest.fixture(scope='module')
def b24(clock):
    with Emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def fresh(b24):
    b24.app.reset()
    yield


@pytest.fixture(scope='module')
def http():
    with httpx.Client(timeout=5) as client:
        yield client


def call(http, b24, method, body=None, token=None, **kwargs):
    "(status, decoded JSON) of a webhook call, or an OAuth one with token"
    url = f'{b24.base_url}/rest/{method}' if token else \
        b24.webhook_url + method
    if token:
        body = {**(body or {}), 'auth': token}
    answer = http.post(url, json=body or {}, **kwargs)
    return answer.status_code, answer.json()


def ok(http, b24, method, body=None, token=None):
    status, answer = call(http, b24, method, body, token)
    assert status == 200, answer
    return answer['result']


class Handler:
    "A local HTTP server recording the form POSTs it gets (event handlers)"

    def __init__(self):
        received = self.received = []

        class Recorder(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get('Content-Length', 0))
                body = self.rfile.read(length).decode()
                received.append((self.headers['Content-Type'], body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Recorder)
        threading.Thread(target=self.server.serve_forever,
            daemon=True).start()
        self.url = f'http://127.0.0.1:{self.server.server_port}/events'

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def handler():
    recorder = Handler()
    yield recorder
    recorder.close()


# Routing, auth, envelope (§1, §2)

def test_webhook_call_and_envelope(http, b24):
    status, answer = call(http, b24, 'crm.item.add',
        {'entityTypeId': 7, 'fields': {'title': 'Oferta 1', 'bogus': 'x'}})
    assert status == 200
    item = answer['result']['item']
    assert item['id'] == 1 and item['title'] == 'Oferta 1'
    assert 'bogus' not in item and item['stageId'] == 'DRAFT'
    assert item['createdTime'].endswith(('+01:00', '+02:00'))
    assert set(answer['time']) == {'start', 'finish', 'duration',
        'processing', 'date_start', 'date_finish', 'operating',
        'operating_reset_at'}
    assert answer['time']['operating'] > 0
    assert b24.app.items(7)[0]['title'] == 'Oferta 1'


def test_method_names_suffix_get_and_errors(http, b24):
    ok(http, b24, 'crm.item.add', {'entityTypeId': 7, 'fields': {}})
    answer = http.get(b24.webhook_url + 'CRM.Item.Get.json',
        params={'entityTypeId': 7, 'id': 1}).json()
    assert answer['result']['item']['id'] == 1
    status, answer = call(http, b24, 'crm.nothing.here')
    assert (status, answer) == (404, {'error': 'ERROR_METHOD_NOT_FOUND',
            'error_description': 'Method not found!'})
    status, answer = call(http, b24, 'crm.item.get',
        {'entityTypeId': 7, 'id': 99})
    assert (status, answer['error']) == (400, 'NOT_FOUND')
    bad = f'{b24.base_url}/rest/1/wrong-code/profile'
    answer = http.post(bad)
    assert (answer.status_code, answer.json()['error']) == (401,
        'NO_AUTH_FOUND')
    answer = http.post(f'{b24.base_url}/rest/2/{b24.webhook_code}/profile')
    assert answer.status_code == 401


def test_https_required():
    with Emulator(require_https=True) as portal:
        answer = httpx.post(portal.webhook_url + 'profile')
        assert (answer.status_code, answer.json()) == (400, {
                'error': 'INVALID_REQUEST',
                'error_description': 'Https required.'})
        answer = httpx.post(portal.webhook_url + 'profile',
            headers={'X-Forwarded-Proto': 'https'})
        assert answer.status_code == 200


def test_form_bodies_and_json_only_when_declared(http, b24):
    answer = http.post(b24.webhook_url + 'crm.item.add', data={
            'entityTypeId': str(SPA), 'fields[title]': 'Umowa',
            'fields[contactIds][0]': '5', 'fields[contactIds][1]': '6',
            'fields[opportunity]': '12.5'}).json()['result']['item']
    assert answer['contactIds'] == [5, 6] and answer['contactId'] == 5
    assert answer['opportunity'] == 12.5
    # Query and body merged; select[] in bracket notation
    answer = http.post(b24.webhook_url + 'crm.item.list?entityTypeId=1036',
        content='select[]=title&select[]=contactIds',
        headers={'Content-Type': 'application/x-www-form-urlencoded'}).json()
    assert answer['result']['items'] == [{'id': 1, 'title': 'Umowa',
            'contactIds': [5, 6]}]
    # JSON text without the JSON content type is not read as JSON
    answer = http.post(b24.webhook_url + 'crm.item.get', content=json.dumps(
            {'entityTypeId': SPA, 'id': 1}),
        headers={'Content-Type': 'text/plain'})
    assert answer.status_code == 400
    answer = http.post(b24.webhook_url + 'crm.item.get?entityTypeId=1036',
        content='{broken', headers={'Content-Type': 'application/json'})
    assert answer.json()['error'] == 'NOT_FOUND'    # no id: nothing read


def test_oauth_tokens_and_expiry(http, b24, clock):
    token = b24.app.issue_user_token(2)
    assert ok(http, b24, 'profile', token=token)['ID'] == '2'
    url = f'{b24.base_url}/rest/user.current.json'
    assert http.get(url, params={'access_token': token}).json()[
        'result']['NAME'] == 'Marta'
    answer = http.post(url, headers={'Authorization': f'Bearer {token}'})
    assert answer.json()['result']['ID'] == '2'
    status, answer = call(http, b24, 'profile', token='not-a-token')
    assert (status, answer['error']) == (401, 'NO_AUTH_FOUND')
    assert http.post(f'{b24.base_url}/rest/profile').status_code == 401
    clock.advance(3601)
    status, answer = call(http, b24, 'profile', token=token)
    assert (status, answer) == (401, {'error': 'expired_token',
            'error_description': 'The access token provided has expired'})
    other = b24.app.issue_user_token(1)
    b24.app.expire_token(other)
    assert call(http, b24, 'profile', token=other)[1]['error'] == \
        'expired_token'


def test_refresh_rotates_both_tokens(http, b24):
    pair = b24.app.issue_tokens(1)
    oauth = b24.oauth
    query = {'grant_type': 'refresh_token', 'client_id': oauth['client_id'],
        'client_secret': oauth['client_secret'],
        'refresh_token': pair['refresh_token']}
    answer = http.get(f'{b24.base_url}/oauth/token/', params=query)
    assert answer.status_code == 200
    fresh = answer.json()
    assert fresh['refresh_token'] != pair['refresh_token']
    assert fresh['access_token'] != pair['access_token']
    assert fresh['member_id'] == oauth['member_id'] and \
        fresh['expires_in'] == 3600 and fresh['user_id'] == 1
    assert fresh['client_endpoint'] == f'{b24.base_url}/rest/'
    assert ok(http, b24, 'profile', token=fresh['access_token'])['ADMIN']
    again = http.get(f'{b24.base_url}/oauth/token/', params=query)
    assert (again.status_code, again.json()['error']) == (400,
        'invalid_grant')
    wrong = dict(query, refresh_token=fresh['refresh_token'],
        client_secret='x')
    assert http.get(f'{b24.base_url}/oauth/token/', params=wrong).json()[
        'error'] == 'invalid_client'


def test_app_info_portal_and_authorization_server(http, b24):
    token = b24.app.issue_user_token(2)
    info = ok(http, b24, 'app.info', token=token)
    assert info['CODE'] == b24.oauth['client_id'] and info['INSTALLED']
    assert ok(http, b24, 'app.info')['SCOPE']     # a webhook: its scope
    answer = http.get(f'{b24.base_url}/oauth/rest/app.info',
        params={'auth': token}).json()['result']
    assert answer['client_id'] == b24.oauth['client_id']
    assert answer['user_id'] == 2
    assert answer['install']['member_id'] == b24.oauth['member_id']
    assert answer['install']['domain'] == urlsplit(b24.base_url).netloc
    assert http.get(f'{b24.base_url}/oauth/rest/app.info',
        params={'auth': 'forged'}).status_code == 401
    b24.app.add_user(5, 'Ewa', 'Lis', 'ewa.lis@portico.test')
    user, = ok(http, b24, 'user.get', {'FILTER': {'EMAIL':
                'ewa.lis@portico.test'}})
    assert (user['ID'], user['NAME']) == ('5', 'Ewa')


def test_application_context_and_scope(http, b24):
    for method, body in (('placement.bind', {'PLACEMENT': 'LEFT_MENU',
                'HANDLER': 'https://portal.example.com/b24'}),
            ('event.bind', {'event': 'ONCRMQUOTEUPDATE',
                'handler': 'https://portal.example.com/events'})):
        status, answer = call(http, b24, method, body)
        assert (status, answer['error']) == (403, 'WRONG_AUTH_TYPE')
    limited = b24.app.add_webhook('crm-only', scope='crm')
    answer = http.post(limited + 'im.message.add', json={
            'DIALOG_ID': '2', 'MESSAGE': 'x'})
    assert (answer.status_code, answer.json()['error']) == (403,
        'insufficient_scope')


def test_php_empty_arrays(http, b24):
    ok(http, b24, 'crm.item.add', {'entityTypeId': 7, 'fields': {}})
    answer = http.post(b24.webhook_url + 'crm.item.delete',
        json={'entityTypeId': 7, 'id': 1})
    assert '"result": []' in answer.text
    answer = http.post(b24.webhook_url + 'batch',
        json={'cmd': {'a': 'profile'}})
    assert '"result_error": []' in answer.text
    assert php.dumps({'u': 'a/b', 'e': {}}) == '{"u": "a\\/b", "e": []}'


# Limits (§3)

def test_leaky_bucket(http, b24, clock):
    b24.app.set_limits(threshold=3, drain=2)
    statuses = [http.post(b24.webhook_url + 'profile').status_code
        for _ in range(4)]
    assert statuses == [200, 200, 200, 503]
    answer = http.post(b24.webhook_url + 'profile')
    assert answer.json() == {'error': 'QUERY_LIMIT_EXCEEDED',
        'error_description': 'Too many requests'}
    clock.advance(0.5)          # one request drained
    assert http.post(b24.webhook_url + 'profile').status_code == 200
    assert http.post(b24.webhook_url + 'profile').status_code == 503
    clock.advance(1.5)
    # A batch of three commands is one request
    answer = http.post(b24.webhook_url + 'batch', json={'cmd': [
                'profile', 'profile', 'profile']})
    assert answer.status_code == 200
    assert http.post(b24.webhook_url + 'profile').status_code == 200
    assert http.post(b24.webhook_url + 'profile').status_code == 200
    assert http.post(b24.webhook_url + 'profile').status_code == 503


def test_operating_limit(http, b24, clock):
    b24.app.set_limits(operating_limit=25,
        method_cost={'crm.item.list': 10})
    body = {'entityTypeId': 7}
    operating = [call(http, b24, 'crm.item.list', body)[1]['time'][
            'operating'] for _ in range(3)]
    assert operating == [10, 20, 30]
    status, answer = call(http, b24, 'crm.item.list', body)
    assert (status, answer['error'], answer['error_description']) == (429,
        'OPERATION_TIME_LIMIT',
        'Method is blocked due to operation time limit.')
    reset_at = answer['time']['operating_reset_at']
    assert clock.now < reset_at <= clock.now + 600
    assert call(http, b24, 'crm.item.fields', body)[0] == 200
    answer = ok(http, b24, 'batch', {'cmd': {'a': 'crm.item.list?'
                'entityTypeId=7', 'b': 'crm.item.fields?entityTypeId=7'}})
    assert answer['result_error']['a']['error'] == 'OPERATION_TIME_LIMIT'
    assert 'b' in answer['result']
    clock.advance(601)
    assert call(http, b24, 'crm.item.list', body)[0] == 200


# batch (§4)

def test_batch_references(http, b24):
    answer = ok(http, b24, 'batch', {'halt': 0, 'cmd': {
        'q': 'crm.item.add?entityTypeId=7&fields[title]=Oferta',
        'rows': 'crm.item.productrow.set?ownerType=Q&ownerId=$result[q]'
            '[item][id]&productRows[0][productName]=Usługa'
            '&productRows[0][price]=100&productRows[0][quantity]=2',
        'get': 'crm.item.get?entityTypeId=7&id=$result[q][item][id]',
        'title': 'crm.item.update?entityTypeId=7&id=1&fields[title]='
            'Kopia $result[q][item][title] nr $result[q][item][id]',
        'missing': 'crm.item.get?entityTypeId=7&id=$result[nope][id]',
        }})
    assert answer['result']['get']['item']['opportunity'] == 200.0
    # Embedded: strings replaced, ints left as written
    assert answer['result']['title']['item']['title'] == \
        'Kopia Oferta nr $result[q][item][id]'
    assert answer['result_error']['missing']['error'] == 'NOT_FOUND'
    assert set(answer['result_time']) == {'q', 'rows', 'get', 'title'}
    lists = ok(http, b24, 'batch', {'cmd': ['crm.item.list?entityTypeId=7',
                'crm.item.get?entityTypeId=7&id=1']})
    assert isinstance(lists['result'], list)
    assert lists['result_total'] == [1]
    calls = b24.app.calls()
    assert [c['method'] for c in calls[-3:]] == ['batch', 'crm.item.list',
        'crm.item.get'] and calls[-1]['batch']


def test_batch_halt_form_encoded_and_limits(http, b24):
    query = php.build_query({'halt': 1, 'cmd': {
            'a': 'crm.item.add?entityTypeId=7&fields[title]=A',
            'b': 'crm.item.get?entityTypeId=7&id=99',
            'c': 'crm.item.add?entityTypeId=7&fields[title]=C'}})
    answer = http.post(b24.webhook_url + 'batch', content=query,
        headers={'Content-Type': 'application/x-www-form-urlencoded'})
    result = answer.json()['result']
    assert answer.status_code == 200
    assert list(result['result']) == ['a'] and list(
        result['result_error']) == ['b']
    assert len(b24.app.items(7)) == 1
    answer = ok(http, b24, 'batch', {'cmd': {f'c{i}': 'profile'
                for i in range(52)} | {'nested': 'batch?cmd[x]=profile'}})
    assert len(answer['result']) == 50
    assert {e['error'] for e in answer['result_error'].values()} == {
        'ERROR_BATCH_LENGTH_EXCEEDED'}
    answer = ok(http, b24, 'batch', {'cmd': {'n': 'batch?cmd[x]=profile'}})
    assert answer['result_error']['n']['error'] == \
        'ERROR_BATCH_METHOD_NOT_ALLOWED'


# CRM (§5)

def _add_quotes(http, b24, count):
    b24.app.set_limits(threshold=10_000)
    for start in range(0, count, 50):
        ok(http, b24, 'batch', {'cmd': [
            f'crm.item.add?entityTypeId=7&fields[title]=Oferta {n:03d}'
            f'&fields[opportunity]={n}&fields[isManualOpportunity]=Y'
            for n in range(start + 1, min(start + 51, count + 1))]})


def test_item_list_paging_and_filters(http, b24):
    _add_quotes(http, b24, 120)
    pages = [call(http, b24, 'crm.item.list', {'entityTypeId': 7,
                'start': start, 'select': ['id']})[1]
        for start in (0, 50, 100)]
    assert [len(p['result']['items']) for p in pages] == [50, 50, 20]
    assert [p.get('next') for p in pages] == [50, 100, None]
    assert {p['total'] for p in pages} == {120}
    quick = call(http, b24, 'crm.item.list', {'entityTypeId': 7,
            'start': -1, 'order': {'id': 'ASC'}, 'filter': {'>id': 100}})[1]
    assert quick['total'] == 0 and 'next' not in quick
    assert [i['id'] for i in quick['result']['items']] == list(
        range(101, 121))

    def ids(filter, **extra):
        return [i['id'] for i in ok(http, b24, 'crm.item.list', {
                    'entityTypeId': 7, 'filter': filter, 'select': ['id'],
                    **extra})['items']]
    assert ids({'@id': [3, 5, 999]}) == [3, 5]
    assert ids({'>=opportunity': 118}) == [118, 119, 120]
    assert ids({'%title': 'ta 11'}) == list(range(110, 120))
    assert ids({'=%title': '%02_'}) == list(range(20, 30))
    assert ids({'logic': 'OR', '0': {'=id': 1}, '1': {'=id': 2}}) == [1, 2]
    assert ids({'<id': 4}, order={'id': 'DESC'}) == [3, 2, 1]
    assert ids({'!@id': list(range(1, 119))}) == [119, 120]
    status, answer = call(http, b24, 'crm.item.list', {'entityTypeId': 7,
            'filter': {'>nosuch': 1}})
    assert (status, answer['error']) == (400, 'INVALID_ARG_VALUE')
    status, answer = call(http, b24, 'crm.item.list', {'entityTypeId': 7,
            'order': {'id': 'UP'}})
    assert answer['error_description'].startswith('Invalid order')


def test_types_categories_statuses_and_fields(http, b24):
    types = ok(http, b24, 'crm.type.list')['types']
    assert [(t['entityTypeId'], t['title']) for t in types] == [
        (SPA, 'Dokumenty Portico')]
    category, = ok(http, b24, 'crm.category.list',
        {'entityTypeId': SPA})['categories']
    assert category['isDefault'] == 'Y'
    stages = ok(http, b24, 'crm.status.list', {'filter': {
            'ENTITY_ID': f'DYNAMIC_{SPA}_STAGE_{category["id"]}'}})
    assert [(s['STATUS_ID'], s['SEMANTICS']) for s in stages] == [
        (f'DT{SPA}_{category["id"]}:{c}', s) for c, s in (('NEW', None),
            ('PREPARATION', None), ('SUCCESS', 'S'), ('FAIL', 'F'))]
    quote = ok(http, b24, 'crm.status.list',
        {'filter': {'ENTITY_ID': 'QUOTE_STATUS'}})
    assert [s['STATUS_ID'] for s in quote] == ['DRAFT', 'SENT', 'RECEIVED',
        'APPROVED', 'DECLINED']
    fields = ok(http, b24, 'crm.item.fields', {'entityTypeId': 7})['fields']
    assert fields['ufCrmPorticoKey']['upperName'] == 'UF_CRM_PORTICO_KEY'
    assert 'xmlId' in ok(http, b24, 'crm.item.fields',
        {'entityTypeId': SPA})['fields']
    assert [c['CURRENCY'] for c in ok(http, b24, 'crm.currency.list')] == [
        'PLN', 'EUR', 'USD']
    item = ok(http, b24, 'crm.item.add', {'entityTypeId': SPA, 'fields': {
                'xmlId': 'tryton-7', 'ufCrmPorticoKey': 'k-7',
                'begindate': '2026-06-18'}})['item']
    assert item['stageId'] == f'DT{SPA}_{category["id"]}:NEW'
    assert item['xmlId'] == 'tryton-7' and item['ufCrmPorticoKey'] == 'k-7'
    assert item['begindate'] == '2026-06-18T02:00:00+02:00'
    status, answer = call(http, b24, 'crm.item.update', {
            'entityTypeId': SPA, 'id': item['id'],
            'fields': {'stageId': 'DT1036_999:NEW'}})
    assert (status, answer['error']) == (400,
        'CRM_FIELD_ERROR_VALUE_NOT_VALID')
    status, answer = call(http, b24, 'crm.item.list', {'entityTypeId': 1234})
    assert answer == {'error': 'NOT_FOUND',
        'error_description': 'Smart process not found'}


def test_productrow_set_replaces_and_recomputes(http, b24):
    quote = ok(http, b24, 'crm.item.add', {'entityTypeId': 7,
            'fields': {'title': 'Q'}})['item']['id']
    rows = ok(http, b24, 'crm.item.productrow.set', {'ownerType': 'Q',
            'ownerId': quote, 'productRows': [
                {'productName': 'Księgowość', 'price': 123, 'quantity': 2,
                    'taxRate': 23},
                {'productName': 'Kadry', 'price': 50}]})['productRows']
    assert [r['priceExclusive'] for r in rows] == [100.0, 50.0]
    item = b24.app.items(7)[0]
    assert (item['opportunity'], item['taxValue']) == (296.0, 46.0)
    ok(http, b24, 'crm.item.productrow.set', {'ownerType': 'Q',
            'ownerId': quote, 'productRows': [{'productName': 'Audyt',
                    'price': 1000}]})
    assert [r['productName'] for r in b24.app.product_rows('Q', quote)] == [
        'Audyt']
    assert b24.app.items(7)[0]['opportunity'] == 1000.0
    listed = ok(http, b24, 'crm.item.productrow.list', {'filter': {
                '=ownerType': 'Q', '=ownerId': quote}})['productRows']
    assert [r['productName'] for r in listed] == ['Audyt']
    ok(http, b24, 'crm.item.update', {'entityTypeId': 7, 'id': quote,
            'fields': {'isManualOpportunity': 'Y', 'opportunity': 5}})
    ok(http, b24, 'crm.item.productrow.set', {'ownerType': 'Q',
            'ownerId': quote, 'productRows': []})
    assert b24.app.items(7)[0]['opportunity'] == 5.0
    spa = ok(http, b24, 'crm.item.add', {'entityTypeId': SPA,
            'fields': {}})['item']['id']
    rows = ok(http, b24, 'crm.item.productrow.set', {'ownerType': 'T40c',
            'ownerId': spa, 'productRows': [{'productName': 'X',
                    'price': 7}]})['productRows']
    assert rows[0]['ownerType'] == 'T40c'
    status, answer = call(http, b24, 'crm.item.productrow.set',
        {'ownerType': 'Q', 'ownerId': 999, 'productRows': []})
    assert (status, answer['error']) == (400, 'OWNER_NOT_FOUND')


def test_legacy_company_contact_multifields(http, b24):
    company = ok(http, b24, 'crm.company.add', {'fields': {
                'TITLE': 'Biuro Rachunkowe Sp. z o.o.',
                'ORIGINATOR_ID': 'tryton', 'ORIGIN_ID': '42',
                'REVENUE': 1500, 'PHONE': [{'VALUE': '+48 600 100 200',
                        'VALUE_TYPE': 'WORK'}]}})
    assert isinstance(company, int)
    # Without an ID an entry is appended: the naive re-sync duplicates
    ok(http, b24, 'crm.company.update', {'id': company, 'fields': {
                'PHONE': [{'VALUE': '+48 600 100 200',
                        'VALUE_TYPE': 'WORK'}]}})
    got = ok(http, b24, 'crm.company.get', {'id': company})
    assert got['ID'] == str(company) and got['REVENUE'] == '1500.00'
    assert [p['VALUE'] for p in got['PHONE']] == ['+48 600 100 200'] * 2
    first, second = got['PHONE']
    ok(http, b24, 'crm.company.update', {'id': company, 'fields': {
                'PHONE': [{'ID': first['ID'], 'VALUE': '+48 22 111 22 33'},
                    {'ID': second['ID'], 'DELETE': 'Y'}],
                'EMAIL': [{'VALUE': 'biuro@example.pl',
                        'VALUE_TYPE': 'WORK'}]}})
    saved, = b24.app.companies()
    assert [p['VALUE'] for p in saved['PHONE']] == ['+48 22 111 22 33']
    assert saved['EMAIL'][0]['VALUE_TYPE'] == 'WORK'
    found = ok(http, b24, 'crm.company.list', {'filter': {
                'ORIGINATOR_ID': 'tryton', 'ORIGIN_ID': '42'},
            'select': ['ID', 'TITLE']})
    assert found == [{'ID': str(company),
            'TITLE': 'Biuro Rachunkowe Sp. z o.o.'}]
    assert ok(http, b24, 'crm.company.list', {'filter': {
                'EMAIL': 'biuro@example.pl'}})[0]['ID'] == str(company)
    contact = ok(http, b24, 'crm.contact.add', {'fields': {'NAME': 'Jan',
                'LAST_NAME': 'Kowalski', 'COMPANY_ID': company,
                'EMAIL': [{'VALUE': 'jan@example.pl'}]}})
    assert b24.app.contacts()[0]['COMPANY_ID'] == str(company)
    assert ok(http, b24, 'crm.duplicate.findbycomm', {'type': 'EMAIL',
            'values': ['JAN@example.pl', 'biuro@example.pl']}) == {
        'CONTACT': [contact], 'COMPANY': [company]}
    assert ok(http, b24, 'crm.duplicate.findbycomm', {'type': 'PHONE',
            'values': ['000']}) == []
    comment = ok(http, b24, 'crm.timeline.comment.add', {'fields': {
                'ENTITY_ID': company, 'ENTITY_TYPE': 'company',
                'COMMENT': 'Umowa podpisana'}})
    assert b24.app.timeline_comments()[0]['ID'] == str(comment)
    status, answer = call(http, b24, 'crm.company.add', {'fields': 'x'})
    assert (status, answer) == (400, {'error': '',
            'error_description': "Parameter 'fields' must be array."})
    # The same company through crm.item (4), with fm only for '*'
    item = ok(http, b24, 'crm.item.list', {'entityTypeId': 4,
            'select': ['*']})['items'][0]
    assert item['originId'] == '42' and item['fm'][0]['typeId'] == 'PHONE'


def test_catalog_products(http, b24):
    catalog, = ok(http, b24, 'catalog.catalog.list')['catalogs']
    assert catalog['iblockId'] == 25
    element = ok(http, b24, 'catalog.product.add', {'fields': {
                'iblockId': 25, 'name': 'Prowadzenie KPiR',
                'xmlId': 'tryton-product-3',
                'purchasingPrice': 350}})['element']
    assert element['xmlId'] == 'tryton-product-3'
    assert b24.app.products()[0]['purchasingPrice'] == 350.0
    token = b24.app.issue_user_token(3)
    status, answer = call(http, b24, 'catalog.product.add', {'fields': {
                'iblockId': 25, 'name': 'X'}}, token=token)
    assert (status, answer['error_description']) == (400, 'Access Denied')
    status, answer = call(http, b24, 'catalog.product.list',
        {'select': ['name'], 'filter': {'iblockId': 25}})
    assert answer['error_description'] == \
        'Required select fields: id, iblockId'
    products = ok(http, b24, 'catalog.product.list', {'select': ['id',
                'iblockId', 'xmlId'], 'filter': {'iblockId': 25,
                'xmlId': 'tryton-product-3'}})['products']
    assert products == [{'id': element['id'], 'iblockId': 25,
            'xmlId': 'tryton-product-3'}]


# Feed and chat (§6, §7)

def test_feed_filtering_by_log_rights(http, b24, clock):
    posts = ok(http, b24, 'log.blogpost.get', {'LOG_RIGHTS': ['SG12']})
    assert [p['TITLE'] for p in posts] == ['New portal features',
        'Terminy rozliczeń PIT za 2025', 'Zmiana godzin pracy biura']
    assert all(isinstance(v, str) for p in posts for k, v in p.items()
        if k in ('ID', 'AUTHOR_ID', 'DATE_PUBLISH', 'NUM_COMMENTS'))
    # Not an array: ignored, the whole visible feed comes back
    everything = ok(http, b24, 'log.blogpost.get', {'LOG_RIGHTS': 'SG12'})
    assert 'Wigilia firmowa' in [p['TITLE'] for p in everything]
    assert 'Szkic: nowy cennik' not in [p['TITLE'] for p in everything]
    clock.advance(60)
    b24.app.edit_post(posts[-1]['ID'], text='Nowe godziny: 9–17.')
    first = ok(http, b24, 'log.blogpost.get', {'LOG_RIGHTS': ['SG12']})[0]
    assert first['DETAIL_TEXT'] == 'Nowe godziny: 9–17.'
    new = b24.app.add_post(12, 'Hello', 'English news', author_id=2,
        lang='en')
    shown = ok(http, b24, 'log.blogpost.get', {'POST_ID': new})
    assert [(p['ID'], p['HAS_TAGS']) for p in shown] == [(str(new), 'Y')]
    outsider = b24.app.issue_user_token(4)
    assert ok(http, b24, 'log.blogpost.get', {'LOG_RIGHTS': ['SG12']},
        token=outsider) == []
    added = ok(http, b24, 'log.blogpost.add', {'POST_TITLE': 'Z REST',
            'POST_MESSAGE': 'Treść', 'DEST': ['SG12']})
    assert ok(http, b24, 'log.blogpost.get', {'LOG_RIGHTS': ['SG12']})[0][
        'ID'] == str(added)
    group, = ok(http, b24, 'sonet_group.get', {'FILTER': {'ID': 12}})
    assert group['NAME'] == 'Klienci Portico'
    b24.app.delete_post(new)
    assert ok(http, b24, 'log.blogpost.get', {'POST_ID': new}) == []


def test_chat_forward_cursor(http, b24):
    chat_id = ok(http, b24, 'im.chat.add', {'USERS': [2], 'TITLE':
            'Klient: Biuro Rachunkowe'})
    dialog = f'chat{chat_id}'
    mine = ok(http, b24, 'im.message.add', {'DIALOG_ID': dialog,
            'MESSAGE': 'Dzień dobry, proszę o fakturę.'})
    answer = ok(http, b24, 'im.dialog.messages.get', {'DIALOG_ID': dialog})
    assert answer['chat_id'] == chat_id
    assert answer['messages'][0]['id'] == mine
    assert answer['messages'][-1]['author_id'] == 0     # "chat created"
    first = b24.app.reply(dialog, 'Już wysyłam.', 2)
    second = b24.app.reply(dialog, 'Wysłane.', 2)
    newer = ok(http, b24, 'im.dialog.messages.get', {'DIALOG_ID': dialog,
            'FIRST_ID': mine})
    assert [m['id'] for m in newer['messages']] == [second, first]
    assert {m['author_id'] for m in newer['messages']} == {2}
    assert [u['id'] for u in newer['users']] == [2]
    assert ok(http, b24, 'im.dialog.messages.get', {'DIALOG_ID': dialog,
            'FIRST_ID': second})['messages'] == []
    limited = ok(http, b24, 'im.dialog.messages.get', {'DIALOG_ID': dialog,
            'FIRST_ID': 0, 'LIMIT': 2})['messages']
    assert len(limited) == 2
    status, answer = call(http, b24, 'im.message.add', {'MESSAGE': 'x'})
    assert answer['error'] == 'DIALOG_ID_EMPTY'
    status, answer = call(http, b24, 'im.message.add',
        {'DIALOG_ID': dialog, 'MESSAGE': 'x'},
        token=b24.app.issue_user_token(3))
    assert answer['error'] == 'ACCESS_ERROR'


# Events (§8)

def test_event_delivery_to_local_handler(http, b24, handler):
    token = b24.app.issue_user_token(1)
    ok(http, b24, 'event.bind', {'event': 'onCrmQuoteUpdate',
            'handler': handler.url}, token=token)
    assert ok(http, b24, 'event.get', token=token)[0]['event'] == \
        'ONCRMQUOTEUPDATE'
    status, answer = call(http, b24, 'event.bind', {'event':
            'ONCRMQUOTEUPDATE', 'handler': handler.url}, token=token)
    assert answer['error_description'] == 'Handler already binded'
    quote = ok(http, b24, 'crm.item.add', {'entityTypeId': 7,
            'fields': {}})['item']['id']
    ok(http, b24, 'crm.item.update', {'entityTypeId': 7, 'id': quote,
            'fields': {'title': 'Z REST'}})
    assert b24.app.wait_events(1)
    content_type, body = handler.received[0]
    assert content_type == 'application/x-www-form-urlencoded'
    form = dict(parse_qsl(body))
    assert form['event'] == 'ONCRMQUOTEUPDATE'
    assert form['data[FIELDS][ID]'] == str(quote)
    assert form['auth[application_token]'] == b24.oauth['application_token']
    assert form['auth[member_id]'] == b24.oauth['member_id']
    assert form['auth[client_endpoint]'] == f'{b24.base_url}/rest/'
    assert form['auth[access_token]'] and form['ts'].isdigit()
    assert form['event_handler_id']
    delivered, = b24.app.events_delivered()
    assert delivered['status'] == 200 and delivered['url'] == handler.url
    # A Bitrix24 user's change: updatedBy tells it from the bridge's own
    b24.app.set_stage(7, quote, 'SENT', user_id=2)
    assert b24.app.wait_events(2)
    assert b24.app.items(7)[0]['updatedBy'] == 2
    assert ok(http, b24, 'event.unbind', {'event': 'ONCRMQUOTEUPDATE',
            'handler': handler.url}, token=token) == {'count': 1}
    # Not installed: no events for the application
    ok(http, b24, 'event.bind', {'event': 'ONCRMQUOTEUPDATE',
            'handler': handler.url}, token=token)
    b24.app.set_installed(False)
    b24.app.update_item(7, quote, {'title': 'x'})
    time.sleep(0.2)
    assert len(handler.received) == 2


def test_outgoing_webhook_spa_events_and_drops(http, b24, handler):
    hook = b24.app.add_outgoing_webhook(handler.url,
        ['ONCRMDYNAMICITEMUPDATE', 'ONLIVEFEEDPOSTADD'])
    item = ok(http, b24, 'crm.item.add', {'entityTypeId': SPA,
            'fields': {'title': 'Dokument'}})['item']['id']
    b24.app.update_item(SPA, item, {'title': 'Dokument 2'}, user_id=3)
    b24.app.add_post(12, 'Tytuł', 'Treść')
    assert b24.app.wait_events(2)
    forms = {f['event']: f for f in (dict(parse_qsl(body))
            for _, body in handler.received)}
    update = forms['ONCRMDYNAMICITEMUPDATE']
    assert update['data[FIELDS][ID]'] == str(item)
    assert update['data[FIELDS][ENTITY_TYPE_ID]'] == str(SPA)
    assert update['auth[application_token]'] == hook['application_token']
    assert 'auth[access_token]' not in update
    assert forms['ONLIVEFEEDPOSTADD']['data[FIELDS][POST_ID]']
    b24.app.set_event_delivery(drop_probability=1.0, seed=1)
    b24.app.update_item(SPA, item, {'title': 'Dokument 3'})
    assert b24.app.wait_events(3)
    assert b24.app.events_delivered()[-1]['error'] == 'dropped'
    assert len(handler.received) == 2


# Faults (§2, §3, §11.4)

@pytest.mark.parametrize('fault, status, error', [
    ('query_limit', 503, 'QUERY_LIMIT_EXCEEDED'),
    ('operation_time_limit', 429, 'OPERATION_TIME_LIMIT'),
    ('internal', 500, 'INTERNAL_SERVER_ERROR'),
    ('overload', 503, 'OVERLOAD_LIMIT'),
    ('expired_token', 401, 'expired_token'),
    ])
def test_json_faults(http, b24, fault, status, error):
    b24.app.inject(fault, methods=['crm.item.list'])
    assert call(http, b24, 'profile')[0] == 200
    assert call(http, b24, 'crm.item.list', {'entityTypeId': 7}) [1][
        'error'] == error
    assert call(http, b24, 'crm.item.list', {'entityTypeId': 7})[0] == 200
    b24.app.inject(fault, methods='CRM.ITEM.LIST')
    answer = ok(http, b24, 'batch', {'cmd': {'a':
                'crm.item.list?entityTypeId=7'}})
    assert answer['result_error']['a']['error'] == error
    b24.app.inject(fault)
    assert call(http, b24, 'profile')[0] == status


def test_html_fault_and_random_faults(http, b24):
    b24.app.inject('html', status=502)
    answer = http.post(b24.webhook_url + 'profile')
    assert answer.status_code == 502
    assert answer.headers['Content-Type'].startswith('text/html')
    assert '502 Bad Gateway' in answer.text
    b24.app.inject('internal', probability=0.2, seed=7)
    statuses = [call(http, b24, 'profile')[0] for _ in range(40)]
    assert 3 <= statuses.count(500) <= 16
    assert set(statuses) == {200, 500}
    b24.app.clear_faults()
    assert call(http, b24, 'profile')[0] == 200


def test_timeout_after_commit(b24):
    b24.app.inject('timeout_after_commit', methods=['crm.item.add'],
        delay=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(b24.webhook_url + 'crm.item.add', timeout=0.3,
            json={'entityTypeId': 7, 'fields': {'title': 'Raz'}})
    assert [i['title'] for i in b24.app.items(7)] == ['Raz']
    b24.app.inject('timeout_after_commit', close=True, delay=0)
    with pytest.raises(httpx.TransportError):
        httpx.post(b24.webhook_url + 'crm.item.add', timeout=2,
            json={'entityTypeId': 7, 'fields': {'title': 'Dwa'}})
    assert [i['title'] for i in b24.app.items(7)] == ['Raz', 'Dwa']


def test_moved_portal(http, b24):
    b24.app.inject('moved')
    url = b24.webhook_url + 'crm.item.list?entityTypeId=7'
    for _ in range(2):
        answer = http.post(url, json={'entityTypeId': 7})
        assert answer.status_code == 302
        assert answer.headers['Location'] == url.replace('127.0.0.1',
            'localhost')
    answer = http.post(answer.headers['Location'], json={'entityTypeId': 7})
    assert answer.status_code == 200
    b24.app.clear_faults()
    assert http.post(url).status_code == 200


# Controls, placements, persistence, command line

def test_control_endpoints(http, b24):
    control = f'{b24.base_url}/_control/'
    health = http.get(control + 'health').json()
    assert health['webhook_url'] == b24.webhook_url
    ok(http, b24, 'crm.item.add', {'entityTypeId': 7, 'fields': {
                'title': 'Przez HTTP'}})
    items = http.post(control + 'items', json={'entity_type_id': 7}).json()
    assert items[0]['title'] == 'Przez HTTP'
    assert http.post(control + 'set_stage', json={'entity_type_id': 7,
            'item_id': 1, 'stage_id': 'APPROVED', 'user_id': 2}).json()[
        'closed'] == 'Y'
    fault = http.post(control + 'inject', json={'fault': 'internal',
            'methods': ['profile']}).json()
    assert fault['fault'] == 'internal' and fault['count'] == 1
    assert call(http, b24, 'profile')[0] == 500
    calls = http.post(control + 'calls').json()
    assert calls[-1] == {'method': 'profile', 'params': {}, 'status': 500,
        'error': 'INTERNAL_SERVER_ERROR', 'batch': False}
    url, form = http.post(control + 'open_placement', json={
            'handler_url': 'https://portal.example.com/b24/tab',
            'placement': 'CRM_COMPANY_DETAIL_TAB',
            'options': {'ID': 5}}).json()
    assert form['PLACEMENT_OPTIONS'] == '{"ID": "5"}'
    assert http.post(control + 'nope').status_code == 404
    assert http.post(control + 'set_stage', json={}).status_code == 400
    http.post(control + 'reset')
    assert b24.app.items(7) == []


def test_placements(http, b24):
    url, form = b24.app.open_placement('https://portal.example.com/b24?x=1',
        'CRM_COMPANY_DETAIL_TAB', {'ID': 8061}, user_id=2)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query['x'] == '1' and query['PROTOCOL'] == '0'
    assert query['DOMAIN'] == urlsplit(b24.base_url).netloc
    assert len(query['APP_SID']) == 32 and query['LANG'] == 'pl'
    assert json.loads(form['PLACEMENT_OPTIONS']) == {'ID': '8061'}
    assert form['member_id'] == b24.oauth['member_id']
    assert form['APPLICATION_TOKEN'] == b24.oauth['application_token']
    assert ok(http, b24, 'profile', token=form['AUTH_ID'])['ID'] == '2'
    _, old = b24.app.open_placement('https://portal.example.com/b24',
        'DEFAULT', newer_fields=False)
    assert 'SERVER_ENDPOINT' not in old and 'PLACEMENT_OPTIONS' not in old
    page = http.get(f'{b24.base_url}/_placement', params={
            'handler': 'https://portal.example.com/b24', 'placement':
            'CRM_COMPANY_DETAIL_TAB', 'options': '{"ID": 3}'}).text
    host = urlsplit(b24.base_url).netloc
    assert f'<iframe name="{host}|0|' in page
    assert 'name="AUTH_ID"' in page and 'name="PLACEMENT_OPTIONS"' in page
    admin = b24.app.issue_user_token(1)
    manager = b24.app.issue_user_token(2)
    tab = {'PLACEMENT': 'CRM_COMPANY_DETAIL_TAB', 'HANDLER':
        'https://portal.example.com/b24/tab', 'TITLE': 'Portico',
        'OPTIONS': {'x': 1}}
    status, answer = call(http, b24, 'placement.bind', tab, token=manager)
    assert (status, answer['error']) == (403, 'ACCESS_DENIED')
    for change, error in (
            ({'HANDLER': 'http://localhost/tab'}, 'ERROR_WRONG_HANDLER_URL'),
            ({'PLACEMENT': 'DEFAULT'}, 'ERROR_ARGUMENT'),
            ({'PLACEMENT': 'NO_SUCH_PLACE'}, 'ERROR_PLACEMENT_NOT_FOUND')):
        assert call(http, b24, 'placement.bind', {**tab, **change},
            token=admin)[1]['error'] == error
    assert ok(http, b24, 'placement.bind', tab, token=admin) is True
    assert call(http, b24, 'placement.bind', tab, token=admin)[0] == 400
    bound, = ok(http, b24, 'placement.get', token=admin)
    assert bound['options'] == [] and bound['title'] == 'Portico'
    assert 'CRM_DYNAMIC_1036_DETAIL_TAB' in ok(http, b24, 'placement.list',
        token=manager)
    assert ok(http, b24, 'placement.unbind', {'PLACEMENT':
            'CRM_COMPANY_DETAIL_TAB'}, token=admin) == {'count': 2}


def test_persistence(tmp_path, clock):
    with Emulator(data_dir=str(tmp_path), clock=clock) as first:
        company = httpx.post(first.webhook_url + 'crm.company.add', json={
                'fields': {'TITLE': 'Trwała firma'}}).json()['result']
        token = first.app.issue_user_token(2)
        oauth = first.oauth
    assert os.path.exists(tmp_path / 'state.json')
    with Emulator(data_dir=str(tmp_path), clock=clock) as second:
        assert second.oauth == oauth
        assert second.app.companies()[0]['ID'] == str(company)
        answer = httpx.post(f'{second.base_url}/rest/profile',
            json={'auth': token})
        assert answer.json()['result']['ID'] == '2'
        answer = httpx.post(second.webhook_url + 'crm.company.add', json={
                'fields': {'TITLE': 'Druga'}})
        assert answer.json()['result'] == company + 1


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_command_line(tmp_path):
    port = _free_port()
    process = subprocess.Popen([sys.executable, '-m',
            'tests.bitrix24_emulator', '--port', str(port), '--data',
            str(tmp_path), '--quiet'], cwd=ROOT, stdout=subprocess.PIPE,
        text=True)
    try:
        line = process.stdout.readline()
        assert f'http://127.0.0.1:{port}' in line
        answer = httpx.post(f'http://127.0.0.1:{port}/rest/1/'
            'portico-demo-hook/profile').json()
        assert answer['result']['NAME'] == 'Anna'
        assert os.path.exists(tmp_path / 'state.json')
    finally:
        process.terminate()
        process.wait(timeout=10)
