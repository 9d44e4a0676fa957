"""The Bitrix24 REST client against the Bitrix24 emulator: envelope, keyset
paging, batch, each error class from an injected fault, the retries and
waits (on a fake clock, nothing sleeps), OAuth refresh and the masking of
secrets. No database: plain unittest cases."""
import datetime
import socket
import unittest
from decimal import Decimal

from tests.bitrix24_emulator import Emulator

from ..encoding import build_query, parse_datetime, to_date, to_decimal
from ..errors import error_from
from ..rest import (
    Ambiguous, AuthError, Client, Command, ExpiredToken, InvalidRequest,
    Moved, NotFound, OAuthTokens, OperationTimeLimit, Overloaded,
    QueryLimitExceeded, Unavailable, is_idempotent)

QUOTE = 7


class FakeTime:
    "A clock for the emulator and the client; sleeping moves it on"

    def __init__(self):
        self.now = datetime.datetime(2026, 3, 2, 9, 0,
            tzinfo=datetime.timezone.utc).timestamp()
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Limiter:
    "Counts the HTTP requests the client announces"

    def __init__(self):
        self.waits = 0

    def wait(self):
        self.waits += 1


def free_port():
    "A local port nothing listens on"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class EncodingTestCase(unittest.TestCase):
    "Batch commands, money and dates (§4, §10.4, §10.5)"

    def test_bracket_notation(self):
        "Nested dicts and lists in http_build_query form, values encoded"
        self.assertEqual(build_query({
                    'entityTypeId': 7,
                    'fields': {'title': 'A & B', 'contactIds': [5, 6],
                        'isManualOpportunity': 'Y', 'opened': True},
                    'ownerId': '$result[q1][item][id]',
                    }),
            'entityTypeId=7&fields[title]=A%20%26%20B'
            '&fields[contactIds][0]=5&fields[contactIds][1]=6'
            '&fields[isManualOpportunity]=Y&fields[opened]=1'
            '&ownerId=%24result%5Bq1%5D%5Bitem%5D%5Bid%5D')

    def test_bracket_notation_types(self):
        "Decimals and floats keep their digits, times their offset"
        self.assertEqual(build_query({'fields': {
                        'price': Decimal('10.50'), 'rate': 1e-05,
                        'begindate': datetime.date(2026, 3, 2),
                        'at': datetime.datetime(2026, 3, 2, 10, 0,
                            tzinfo=datetime.timezone.utc)}}),
            'fields[price]=10.50&fields[rate]=0.00001'
            '&fields[begindate]=2026-03-02'
            '&fields[at]=2026-03-02T10%3A00%3A00%2B00%3A00')

    def test_bracket_notation_empty(self):
        "None and [] clear a field under fields, elsewhere they are refused"
        self.assertEqual(build_query({'fields': {
                        'observers': [], 'comments': None}}),
            'fields[observers]=&fields[comments]=')
        for params in [{'filter': {'@id': []}}, {'filter': {'title': None}},
                {'productRows': []}, {'fields': {}}]:
            with self.subTest(params=params), self.assertRaises(ValueError):
                build_query(params)
        with self.assertRaises(ValueError):
            build_query({'fields': {'at': datetime.datetime(2026, 3, 2)}})

    def test_to_decimal(self):
        "Legacy strings and crm.item floats alike (§10.5)"
        self.assertEqual(to_decimal('19999.99'), Decimal('19999.99'))
        self.assertEqual(to_decimal(999.99), Decimal('999.99'))
        self.assertEqual(to_decimal(0.1 + 0.2), Decimal('0.30'))
        self.assertEqual(to_decimal('2.345', digits=2), Decimal('2.35'))
        self.assertEqual(to_decimal(3, digits=0), Decimal('3'))
        self.assertIsNone(to_decimal(''))
        self.assertIsNone(to_decimal(None))

    def test_dates(self):
        "A date field is the UTC date, whatever the offset (§10.4)"
        self.assertEqual(to_date('2024-06-18T02:00:00+02:00'),
            datetime.date(2024, 6, 18))
        self.assertEqual(to_date('2024-06-17T19:00:00-05:00'),
            datetime.date(2024, 6, 18))
        self.assertEqual(to_date('2024-06-18'), datetime.date(2024, 6, 18))
        moment = parse_datetime('2024-07-18T14:00:14+02:00')
        self.assertEqual(moment.utcoffset(), datetime.timedelta(hours=2))
        self.assertEqual(moment.astimezone(datetime.timezone.utc).hour, 12)
        self.assertIsNone(parse_datetime(''))
        with self.assertRaises(ValueError):
            parse_datetime('2024-07-18T14:00:14')


class ErrorsTestCase(unittest.TestCase):
    "Error answers to classes (§1, §2), without a server"

    def test_codes(self):
        cases = [
            ({'error': 'QUERY_LIMIT_EXCEEDED'}, 503, QueryLimitExceeded),
            ({'error': 'OVERLOAD_LIMIT'}, 503, Overloaded),
            ({'error': 'expired_token'}, 401, ExpiredToken),
            ({'error': 'invalid_token'}, 401, AuthError),
            ({'error': 'INVALID_CREDENTIALS'}, 403, AuthError),
            ({'error': 'insufficient_scope'}, 403, AuthError),
            ({'error': 'invalid_grant'}, 400, AuthError),
            ({'error': 'WRONG_AUTH_TYPE'}, 403, AuthError),
            ({'error': 'SOMETHING_NEW'}, 401, AuthError),
            ({'error': 'ACCESS_DENIED', 'error_description':
                    'REST is available only on commercial plans.'}, 403,
                AuthError),
            ({'error': 'ACCESS_DENIED', 'error_description':
                    'Access denied'}, 400, InvalidRequest),
            ({'error': 'NOT_FOUND', 'error_description':
                    'Element not found'}, 400, NotFound),
            ({'error': 'OWNER_NOT_FOUND'}, 400, NotFound),
            ({'error': '', 'error_description': 'Not found'}, 400, NotFound),
            ({'error': '', 'error_description':
                    "Parameter 'fields' must be array."}, 400,
                InvalidRequest),
            ({'error': '100', 'error_description':
                    'Expected iterable value'}, 400, InvalidRequest),
            ({'error': 'ERROR_METHOD_NOT_FOUND', 'error_description':
                    'Method not found!'}, 404, InvalidRequest),
            ({'error': 'INTERNAL_SERVER_ERROR'}, 500, Unavailable),
            ({'error': 'ERROR_CORE'}, 502, Unavailable),
            ({'error': {'code': 'BITRIX_REST_V3_EXCEPTION_VALIDATION',
                    'message': 'Invalid'}}, 400, InvalidRequest),
            ]
        for body, status, cls in cases:
            with self.subTest(body=body):
                error = error_from(body, status, 'crm.item.get')
                self.assertIs(type(error), cls)
        error = error_from({'error': '', 'error_description': 'x'}, 400)
        self.assertIn('(no code)', str(error))

    def test_operation_time_limit(self):
        "A 429's reset time comes from time.operating_reset_at (§3)"
        error = error_from({'error': 'OPERATION_TIME_LIMIT',
                'time': {'operating_reset_at': 1700000600}}, 429,
            'crm.item.list')
        self.assertIsInstance(error, OperationTimeLimit)
        self.assertEqual(error.reset_at, 1700000600)
        self.assertTrue(error.retryable)
        self.assertIsNone(error_from({'error': 'OPERATION_TIME_LIMIT'},
                429).reset_at)

    def test_idempotent(self):
        "Adds are never repeated; reads and state-setting writes are"
        for method in ['crm.item.get', 'crm.item.list', 'crm.item.fields',
                'crm.item.update', 'crm.item.delete', 'user.current',
                'crm.item.productrow.set', 'placement.bind', 'app.info',
                'profile', 'scope']:
            self.assertTrue(is_idempotent(method), method)
        for method in ['crm.item.add', 'im.message.add', 'log.blogpost.add',
                'crm.timeline.comment.add', 'crm.company.add', 'user.add',
                'imbot.v2.Chat.Message.send', 'event.bind']:
            self.assertFalse(is_idempotent(method), method)


class ClientTestCase(unittest.TestCase):
    "The client against the emulator; one emulator for the class"

    @classmethod
    def setUpClass(cls):
        cls.time = FakeTime()
        cls.b24 = Emulator(clock=cls.time.clock)
        cls.b24.start()

    @classmethod
    def tearDownClass(cls):
        cls.b24.stop()

    def setUp(self):
        self.app = self.b24.app
        self.app.reset()
        # Let the leaky bucket of earlier tests drain (§3)
        self.time.now += 3600
        self.time.sleeps = []
        self.limiter = Limiter()
        self.client = self.webhook_client()

    def tearDown(self):
        self.client.close()

    def webhook_client(self, **kwargs):
        kwargs.setdefault('limiter', self.limiter)
        client = Client(webhook_url=self.b24.webhook_url,
            sleep=self.time.sleep, clock=self.time.clock, **kwargs)
        self.addCleanup(client.close)
        return client

    def add_quote(self, title='Oferta'):
        response = self.client.call('crm.item.add', {
                'entityTypeId': QUOTE, 'fields': {'title': title}})
        return response.result['item']['id']

    def calls(self, method):
        return [c for c in self.app.calls()
            if c['method'].lower() == method]

    def assertNoSecret(self, error, *secrets):
        for secret in secrets:
            self.assertNotIn(secret, str(error))
            self.assertNotIn(secret, repr(error))

    # Calls and envelope

    def test_call_envelope(self):
        "A webhook call returns the §2 envelope; JSON types are kept"
        response = self.client.call('crm.item.add', {
                'entityTypeId': QUOTE, 'fields': {
                    'title': 'Oferta 1', 'opportunity': Decimal('1234.50'),
                    'currencyId': 'PLN'}})
        item = response.result['item']
        self.assertIsInstance(item['id'], int)
        self.assertEqual(item['title'], 'Oferta 1')
        self.assertEqual(to_decimal(item['opportunity']), Decimal('1234.50'))
        self.assertIsInstance(response.time, dict)
        self.assertIn('start', response.time)
        self.assertIsNone(response.next)

        got = self.client.call('crm.item.get',
            {'entityTypeId': QUOTE, 'id': item['id']})
        self.assertEqual(got.result['item']['title'], 'Oferta 1')
        listed = self.client.call('crm.item.list',
            {'entityTypeId': QUOTE, 'select': ['id', 'title']})
        self.assertEqual(listed.total, 1)
        self.assertEqual([i['id'] for i in listed.result['items']],
            [item['id']])
        self.assertEqual(self.limiter.waits, 3)

    def test_list_all_keyset(self):
        "120 quotes in three pages, by id with start=-1 and >id (§2)"
        for chunk in range(3):
            out = self.client.batch({f'a{i}': Command('crm.item.add', {
                            'entityTypeId': QUOTE,
                            'fields': {'title': f'Q {chunk * 40 + i}'}})
                    for i in range(40)})
            self.assertEqual(len(out.results), 40, out.errors)
        self.app.clear_calls()
        rows = list(self.client.list_all('crm.item.list', {
                    'entityTypeId': QUOTE, 'select': ['title']}))
        ids = [r['id'] for r in rows]
        self.assertEqual(len(ids), 120)
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(sorted(r['title'] for r in rows),
            sorted(f'Q {n}' for n in range(120)))
        pages = self.calls('crm.item.list')
        self.assertEqual(len(pages), 3)
        for page in pages:
            self.assertEqual(int(page['params']['start']), -1)
            self.assertEqual(page['params']['order'], {'id': 'ASC'})
        self.assertNotIn('filter', pages[0]['params'])
        self.assertEqual(pages[1]['params']['filter'], {'>id': ids[49]})
        self.assertEqual(pages[2]['params']['filter'], {'>id': ids[99]})

    def test_list_all_keeps_filter(self):
        "The caller's filter holds on every page; rows of bare arrays"
        self.client.batch({f'a{i}': Command('crm.item.add', {
                        'entityTypeId': QUOTE,
                        'fields': {'title': 'even' if i % 2 else 'odd'}})
                for i in range(10)})
        rows = list(self.client.list_all('crm.item.list', {
                    'entityTypeId': QUOTE, 'filter': {'title': 'even'}}))
        self.assertEqual(len(rows), 5)
        with self.assertRaises(ValueError):
            self.client.list_all('crm.item.list',
                {'entityTypeId': QUOTE, 'order': {'title': 'ASC'}})
        self.client.call('crm.company.add', {'fields': {'TITLE': 'ACME'}})
        companies = list(self.client.list_all('crm.company.list',
                {'select': ['ID', 'TITLE']}))
        self.assertIn('ACME', [c['TITLE'] for c in companies])

    # Batch

    def test_batch_reference_and_failure(self):
        "A $result reference is resolved, one failing command is reported"
        out = self.client.batch({
                'q1': Command('crm.item.add', {'entityTypeId': QUOTE,
                        'fields': {'title': 'Oferta z pozycjami'}}),
                'r1': Command('crm.item.productrow.set', {
                        'ownerType': 'Q', 'ownerId': '$result[q1][item][id]',
                        'productRows': [{'productName': 'Księgowość',
                                'price': Decimal('1230.00'),
                                'quantity': 1}]}),
                'bad': Command('crm.item.get',
                    {'entityTypeId': QUOTE, 'id': 999999}),
                }, halt=False)
        quote_id = out.results['q1']['item']['id']
        self.assertEqual(set(out.results), {'q1', 'r1'})
        self.assertIsInstance(out.errors['bad'], NotFound)
        self.assertEqual(out.errors['bad'].method, 'crm.item.get')
        self.assertFalse(out.errors['bad'].retryable)
        self.assertEqual(out.skipped, [])
        rows = self.app.product_rows('Q', quote_id)
        self.assertEqual([(r['productName'], to_decimal(r['price']))
                for r in rows], [('Księgowość', Decimal('1230.00'))])
        self.assertEqual(self.limiter.waits, 1)

    def test_batch_halt(self):
        "With halt the commands after a failure are skipped (§4)"
        out = self.client.batch({
                'bad': Command('crm.item.get',
                    {'entityTypeId': QUOTE, 'id': 999999}),
                'q1': Command('crm.item.add', {'entityTypeId': QUOTE,
                        'fields': {'title': 'never'}}),
                }, halt=True)
        self.assertEqual(out.results, {})
        self.assertEqual(set(out.errors), {'bad'})
        self.assertEqual(out.skipped, ['q1'])
        self.assertEqual(self.app.items(QUOTE), [])

    def test_batch_over_50(self):
        "51 commands are refused before any request; the caller chunks"
        self.app.clear_calls()
        with self.assertRaises(ValueError):
            self.client.batch({f'g{i}': Command('crm.item.get',
                            {'entityTypeId': QUOTE, 'id': i})
                    for i in range(51)})
        self.assertEqual(self.limiter.waits, 0)
        self.assertEqual(self.app.calls(), [])

    # Errors

    def test_errors_without_faults(self):
        "Missing record, unknown method, wrong webhook code"
        with self.assertRaises(NotFound):
            self.client.call('crm.item.get',
                {'entityTypeId': QUOTE, 'id': 424242})
        with self.assertRaises(InvalidRequest) as caught:
            self.client.call('crm.nothing.here', {})
        self.assertEqual(caught.exception.status, 404)
        wrong = Client(webhook_url=self.b24.webhook_url.replace(
                self.b24.webhook_code, 'wrong-code-123'))
        self.addCleanup(wrong.close)
        with self.assertRaises(AuthError) as caught:
            wrong.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertFalse(caught.exception.retryable)
        self.assertNoSecret(caught.exception, 'wrong-code-123')

    def test_fault_classes(self):
        "Each injected fault surfaces as its class once retries are spent"
        cases = [
            ('query_limit', 'crm.item.list', QueryLimitExceeded),
            ('operation_time_limit', 'crm.item.list', OperationTimeLimit),
            ('overload', 'crm.item.list', Overloaded),
            ('internal', 'crm.item.list', Unavailable),
            ('html', 'crm.item.list', Unavailable),
            ('expired_token', 'crm.item.list', ExpiredToken),
            ('internal', 'crm.item.add', Ambiguous),
            ('moved', 'crm.item.list', Moved),
            ]
        for fault, method, cls in cases:
            with self.subTest(fault=fault, method=method):
                self.app.clear_faults()
                self.app.inject(fault, methods=[method], count=100)
                with self.assertRaises(cls) as caught:
                    self.client.call(method, {'entityTypeId': QUOTE,
                            'fields': {'title': fault}})
                self.assertIs(type(caught.exception), cls)
                self.assertEqual(caught.exception.method, method)
                self.assertNoSecret(caught.exception, self.b24.webhook_code)
        self.app.clear_faults()

    def test_overload_not_retried(self):
        "OVERLOAD_LIMIT is lifted by Bitrix24 support only (§3)"
        self.app.inject('overload', count=100)
        with self.assertRaises(Overloaded) as caught:
            self.client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertFalse(caught.exception.retryable)
        self.assertEqual(self.limiter.waits, 1)
        self.assertEqual(self.time.sleeps, [])

    def test_query_limit_backoff(self):
        "QUERY_LIMIT_EXCEEDED: back-off from 0.5 s doubling, then success"
        self.app.inject('query_limit', methods=['crm.item.list'], count=3)
        response = self.client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertEqual(response.result['items'], [])
        self.assertEqual(self.time.sleeps, [0.5, 1.0, 2.0])
        self.assertEqual(self.limiter.waits, 4)

    def test_query_limit_gives_up(self):
        "The back-off is capped and ends after a few attempts"
        self.app.inject('query_limit', count=100)
        with self.assertRaises(QueryLimitExceeded) as caught:
            self.client.call('crm.item.add',
                {'entityTypeId': QUOTE, 'fields': {'title': 'x'}})
        self.assertTrue(caught.exception.retryable)
        self.assertEqual(self.time.sleeps, [0.5, 1.0, 2.0, 4.0, 8.0])
        self.assertEqual(self.limiter.waits, 6)
        self.assertEqual(self.app.items(QUOTE), [])

    def test_real_bucket(self):
        "Over the threshold the emulator's bucket answers 503; waiting helps"
        self.app.set_limits(drain=2.0, threshold=3)
        for n in range(6):
            self.client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertTrue(self.time.sleeps)
        self.assertEqual(self.limiter.waits, 6 + len(self.time.sleeps))

    def test_operating_limit_raises(self):
        "A 429 whose reset is further than max_wait away is raised (§3)"
        self.app.set_limits(operating_limit=5.0,
            method_cost={'crm.item.list': 10.0})
        self.client.call('crm.item.list', {'entityTypeId': QUOTE})
        with self.assertRaises(OperationTimeLimit) as caught:
            self.client.call('crm.item.list', {'entityTypeId': QUOTE})
        error = caught.exception
        self.assertEqual(error.status, 429)
        self.assertGreater(error.reset_at - self.time.now, 60)
        self.assertEqual(self.time.sleeps, [])
        # Other methods keep working
        self.client.call('crm.item.fields', {'entityTypeId': QUOTE})

    def test_operating_limit_waits(self):
        "A 429 whose reset is within max_wait is slept out, then retried"
        self.app.set_limits(operating_limit=5.0,
            method_cost={'crm.item.list': 10.0})
        client = self.webhook_client(max_wait=900.0)
        client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.time.now += 500
        response = client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertEqual(response.result['items'], [])
        # The window's buckets are whole minutes: the reset is at most 100 s
        # away, slept with a second's margin
        self.assertEqual(len(self.time.sleeps), 1)
        self.assertTrue(1 <= self.time.sleeps[0] <= 101, self.time.sleeps)

    def test_timeout_after_commit_add(self):
        "An add without an answer is Ambiguous and not repeated (§10.1)"
        client = self.webhook_client(timeout=0.3)
        self.app.inject('timeout_after_commit', methods=['crm.item.add'],
            count=1, delay=1.5)
        with self.assertRaises(Ambiguous) as caught:
            client.call('crm.item.add', {'entityTypeId': QUOTE,
                    'fields': {'title': 'Oferta w drodze'}})
        self.assertFalse(caught.exception.retryable)
        self.assertIsInstance(caught.exception.__cause__, Unavailable)
        self.assertEqual(self.limiter.waits, 1)
        # Applied all the same: the caller looks it up by its key first
        self.assertEqual([i['title'] for i in self.app.items(QUOTE)],
            ['Oferta w drodze'])

    def test_timeout_after_commit_update(self):
        "An update without an answer is sent again and succeeds"
        quote_id = self.add_quote()
        client = self.webhook_client(timeout=0.3)
        self.app.inject('timeout_after_commit', methods=['crm.item.update'],
            count=1, delay=1.5)
        response = client.call('crm.item.update', {'entityTypeId': QUOTE,
                'id': quote_id, 'fields': {'title': 'Nowy tytuł'}})
        self.assertEqual(response.result['item']['title'], 'Nowy tytuł')
        self.assertEqual(self.time.sleeps, [0.5])
        self.assertEqual(len(self.calls('crm.item.update')), 2)
        self.assertEqual(self.app.items(QUOTE)[0]['title'], 'Nowy tytuł')

    def test_html_body(self):
        "An HTML page instead of JSON is Unavailable; a read is retried"
        self.app.inject('html', methods=['crm.item.get'], count=1)
        quote_id = self.add_quote()
        got = self.client.call('crm.item.get',
            {'entityTypeId': QUOTE, 'id': quote_id})
        self.assertEqual(got.result['item']['id'], quote_id)
        self.assertEqual(self.time.sleeps, [0.5])
        self.app.inject('html', methods=['crm.item.get'], count=100)
        with self.assertRaises(Unavailable) as caught:
            self.client.call('crm.item.get',
                {'entityTypeId': QUOTE, 'id': quote_id})
        self.assertEqual(caught.exception.code, 'not_json')
        self.assertGreaterEqual(caught.exception.status, 500)
        self.assertEqual(self.time.sleeps, [0.5, 0.5, 1.0, 2.0])

    def test_internal_on_batch_with_add(self):
        "A batch holding an add is Ambiguous on a 5xx, one of reads is not"
        self.app.inject('internal', methods=['batch'], count=1)
        with self.assertRaises(Ambiguous):
            self.client.batch({
                    'g': Command('crm.item.list', {'entityTypeId': QUOTE}),
                    'a': Command('crm.item.add', {'entityTypeId': QUOTE,
                            'fields': {'title': 'x'}})})
        self.app.inject('internal', methods=['batch'], count=1)
        out = self.client.batch({
                'g': Command('crm.item.list', {'entityTypeId': QUOTE})})
        self.assertIn('g', out.results)
        self.assertEqual(self.time.sleeps, [0.5])

    def test_moved(self):
        "302: Moved with the new address, never followed nor repeated"
        self.app.inject('moved')
        with self.assertRaises(Moved) as caught:
            self.client.call('crm.item.add', {'entityTypeId': QUOTE,
                    'fields': {'title': 'x'}})
        error = caught.exception
        port = self.b24.base_url.rsplit(':', 1)[1]
        self.assertEqual(error.base_url, f'http://localhost:{port}')
        self.assertTrue(error.location.startswith(
                f'http://localhost:{port}/rest/1/***/'), error.location)
        self.assertFalse(error.retryable)
        self.assertNoSecret(error, self.b24.webhook_code)
        self.assertEqual(self.limiter.waits, 1)
        self.app.clear_faults()
        self.assertEqual(self.app.items(QUOTE), [])
        self.assertEqual(self.calls('crm.item.add'), [])

    def test_connection_refused(self):
        "Nothing listening: Unavailable, not Ambiguous, even for an add"
        client = Client(
            webhook_url=f'http://127.0.0.1:{free_port()}/rest/1/sekret-42/',
            limiter=self.limiter, sleep=self.time.sleep,
            clock=self.time.clock)
        self.addCleanup(client.close)
        with self.assertRaises(Unavailable) as caught:
            client.call('crm.item.add', {'entityTypeId': QUOTE})
        self.assertIs(type(caught.exception), Unavailable)
        self.assertFalse(caught.exception.reached)
        self.assertNoSecret(caught.exception, 'sekret-42')
        self.assertNotIn('sekret-42', repr(client))
        with self.assertRaises(Unavailable):
            client.call('crm.item.get', {'entityTypeId': QUOTE, 'id': 1})
        self.assertEqual(self.time.sleeps, [0.5, 1.0, 2.0])

    # OAuth

    def oauth(self, user_id=1):
        "A token pair of user_id from the emulator, and the client on it"
        tokens = self.app.issue_tokens(user_id)
        provider = OAuthTokens(tokens['access_token'],
            tokens['refresh_token'], self.b24.oauth['client_id'],
            self.b24.oauth['client_secret'],
            server_endpoint=f'{self.b24.base_url}/oauth/rest/')
        client = Client(base_url=self.b24.base_url, token=provider,
            limiter=self.limiter, sleep=self.time.sleep,
            clock=self.time.clock)
        self.addCleanup(client.close)
        return provider, client

    def test_oauth_refresh(self):
        "expired_token: refresh once, store both new tokens, repeat (§1.2)"
        provider, client = self.oauth()
        old_access, old_refresh = provider.access, provider.refresh_token
        self.assertEqual(client.call('profile').result['ID'], '1')
        self.app.expire_token(old_access)
        response = client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertEqual(response.result['items'], [])
        self.assertNotEqual(provider.access, old_access)
        self.assertNotEqual(provider.refresh_token, old_refresh)
        self.assertEqual(self.limiter.waits, 3)
        # The old refresh token is spent: invalid_grant stops the queue
        stale = OAuthTokens(old_access, old_refresh,
            self.b24.oauth['client_id'], self.b24.oauth['client_secret'],
            server_endpoint=self.b24.base_url)
        with self.assertRaises(AuthError) as caught:
            stale.refresh()
        self.assertNoSecret(caught.exception, old_refresh,
            self.b24.oauth['client_secret'])
        self.assertNotIn(provider.refresh_token, repr(provider))

    def test_oauth_refresh_once(self):
        "A token that expires again right after the refresh is raised"
        provider, client = self.oauth()
        self.app.inject('expired_token', count=100)
        with self.assertRaises(ExpiredToken) as caught:
            client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertEqual(self.limiter.waits, 2)
        self.assertNoSecret(caught.exception, provider.access,
            provider.refresh_token)

    def test_oauth_token_masked(self):
        "An access token never shows in errors"
        provider, client = self.oauth()
        self.app.inject('moved')
        with self.assertRaises(Moved) as caught:
            client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertNoSecret(caught.exception, provider.access)

    def test_limiter_per_attempt(self):
        "limiter.wait() before each HTTP attempt, once per batch"
        self.app.inject('query_limit', methods=['crm.item.list'], count=2)
        self.client.call('crm.item.list', {'entityTypeId': QUOTE})
        self.assertEqual(self.limiter.waits, 3)
        self.client.batch({f'g{i}': Command('crm.item.list',
                        {'entityTypeId': QUOTE}) for i in range(50)})
        self.assertEqual(self.limiter.waits, 4)
