"""NBP table A rates: the daily cron against recorded API responses served
locally (no network), and the rate the VAT in PLN of an invoice uses"""
import datetime
import json
import os
import threading
import unittest
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from trytond import config
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

RECORDED = os.path.join(os.path.dirname(__file__), 'nbp')
# Recorded: table A of 2 to 27 November 2026 (11 November is a holiday)
FRIDAY = datetime.date(2026, 11, 20)
SUNDAY = datetime.date(2026, 11, 22)
# The API fails for this currency: the others must still be stored
BROKEN = 'GBP'


class NBPHandler(BaseHTTPRequestHandler):
    """/exchangerates/rates/a/{code}/{start}/{end}/ as api.nbp.pl answers
    it: the recorded rates of the range, 404 when there are none, 400 for a
    range of more than 93 days"""
    requests = []

    def do_GET(self):
        self.requests.append(self.path)
        parts = self.path.split('?')[0].strip('/').split('/')
        if parts[:4] != ['api', 'exchangerates', 'rates', 'a'] \
                or len(parts) != 7:
            return self._send(400, 'Bad Request')
        code, start, end = parts[4].upper(), *map(
            datetime.date.fromisoformat, parts[5:7])
        if code == BROKEN:
            return self._send(500, 'Internal Server Error')
        if (end - start).days >= 93:
            return self._send(400, 'BadRequest - Przekroczony limit 93 dni')
        path = os.path.join(RECORDED, f'{code}.json')
        if not os.path.exists(path):
            return self._send(404, 'NotFound - Not Found')
        with open(path, encoding='utf-8') as f:
            recorded = json.load(f)
        recorded['rates'] = [r for r in recorded['rates'] if start
            <= datetime.date.fromisoformat(r['effectiveDate']) <= end]
        if not recorded['rates']:
            return self._send(404, 'NotFound - Brak danych')
        self._send(200, json.dumps(recorded), 'application/json')

    def _send(self, status, body, content_type='text/plain'):
        body = body.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class NBPTestCase(unittest.TestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"

    @classmethod
    def setUpClass(cls):
        activate_module('client_portal')
        cls.server = ThreadingHTTPServer(('127.0.0.1', 0), NBPHandler)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        if not config.has_section('nbp'):
            config.add_section('nbp')
        cls.previous_url = config.get('nbp', 'url')
        config.set('nbp', 'url',
            f'http://127.0.0.1:{cls.server.server_port}/api')

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        # Empty is "not configured": the module falls back to api.nbp.pl
        config.set('nbp', 'url', cls.previous_url or '')

    def setUp(self):
        NBPHandler.requests.clear()

    def _currencies(self, *codes):
        Currency = Pool().get('currency.currency')
        names = {'PLN': "Złoty", 'EUR': "Euro", 'USD': "US Dollar",
            'CHF': "Swiss Franc", 'GBP': "Pound Sterling"}
        # The złoty is Tryton's base: rate 1 (as demo.create_currencies)
        return Currency.create([{'code': c, 'name': names[c], 'symbol': c,
                    'rates': [('create', [{'date': datetime.date(2026, 1, 1),
                                    'rate': Decimal(1)}])] if c == 'PLN'
                    else []}
                for c in codes])

    def _rates(self, currency):
        Rate = Pool().get('currency.currency.rate')
        return Rate.search([('currency', '=', currency.id)],
            order=[('date', 'ASC')])

    @with_transaction()
    def test_cron_stores_mids_tables_and_tryton_rates(self):
        pool = Pool()
        Currency = pool.get('currency.currency')
        pln, eur, usd = self._currencies('PLN', 'EUR', 'USD')
        Currency.nbp_update(FRIDAY)
        rates = self._rates(eur)
        # 2 to 20 November: 15 business days less the 11th
        self.assertEqual(len(rates), 14)
        self.assertEqual(len(self._rates(usd)), 14)
        # The złoty keeps its base rate, with no NBP table
        self.assertEqual([r.nbp_table for r in self._rates(pln)], [None])
        self.assertTrue(all(r.date.weekday() < 5 for r in rates))
        last = rates[-1]
        self.assertEqual((last.date, last.nbp_table, last.nbp_mid),
            (FRIDAY, '226/A/NBP/2026', Decimal('4.2312')))
        # Tryton converts with units of the currency per złoty
        self.assertEqual(last.rate, Decimal('0.236340'))
        with Transaction().set_context(date=FRIDAY):
            self.assertEqual(
                Currency.compute(eur, Decimal('100'), pln), Decimal('423.12'))
        # One request per currency, for a range the API accepts
        self.assertEqual(len(NBPHandler.requests), 2)

    @with_transaction()
    def test_weekend_is_not_an_error_and_runs_are_idempotent(self):
        pool = Pool()
        Currency = pool.get('currency.currency')
        _, eur = self._currencies('PLN', 'EUR')
        Currency.nbp_update(FRIDAY)
        before = [(r.id, r.date, r.nbp_mid, r.nbp_table)
            for r in self._rates(eur)]
        NBPHandler.requests.clear()
        # Saturday and Sunday: the API answers 404, nothing changes
        Currency.nbp_update(SUNDAY)
        self.assertEqual(len(NBPHandler.requests), 1)
        self.assertIn('/2026-11-21/2026-11-22/', NBPHandler.requests[0])
        Currency.nbp_update(SUNDAY)
        Currency.nbp_update(FRIDAY)
        self.assertEqual([(r.id, r.date, r.nbp_mid, r.nbp_table)
                for r in self._rates(eur)], before)
        # Monday's run stores only Monday
        Currency.nbp_update(datetime.date(2026, 11, 23))
        self.assertEqual(len(self._rates(eur)), len(before) + 1)
        self.assertEqual(self._rates(eur)[-1].nbp_table, '227/A/NBP/2026')

    @with_transaction()
    def test_rate_entered_by_hand_is_replaced_by_nbp(self):
        "A rate of the same day without a table is upserted, not doubled"
        pool = Pool()
        Currency = pool.get('currency.currency')
        Rate = pool.get('currency.currency.rate')
        _, eur = self._currencies('PLN', 'EUR')
        Rate.create([{'currency': eur.id, 'date': FRIDAY,
                    'rate': Decimal('0.25')}])
        Currency.nbp_update(FRIDAY)
        friday, = [r for r in self._rates(eur) if r.date == FRIDAY]
        self.assertEqual(friday.nbp_mid, Decimal('4.2312'))
        self.assertEqual(friday.rate, Decimal('0.236340'))

    @with_transaction()
    def test_failing_currency_does_not_stop_the_others(self):
        pool = Pool()
        Currency = pool.get('currency.currency')
        _, eur, chf, gbp = self._currencies('PLN', 'EUR', 'CHF', 'GBP')
        Currency.nbp_update(FRIDAY)
        self.assertEqual(len(self._rates(eur)), 14)
        # CHF: nothing recorded (404); GBP: the server fails (500)
        self.assertEqual(self._rates(chf), [])
        self.assertEqual(self._rates(gbp), [])

    @with_transaction()
    def test_first_run_reads_at_most_93_days(self):
        pool = Pool()
        Currency = pool.get('currency.currency')
        self._currencies('PLN', 'EUR')
        Currency.nbp_update(datetime.date(2027, 1, 29))
        path, = NBPHandler.requests
        self.assertIn('/2026-10-29/2027-01-29/', path)

    @with_transaction()
    def test_rate_of_the_last_business_day_before(self):
        pool = Pool()
        Currency = pool.get('currency.currency')
        _, eur = self._currencies('PLN', 'EUR')
        Currency.nbp_update(datetime.date(2026, 11, 27))
        # Tax point on Monday 23rd: Friday's table, not Monday's
        rate = Currency.portal_nbp_rate(eur, datetime.date(2026, 11, 23))
        self.assertEqual(rate, (Decimal('4.2312'), '226/A/NBP/2026', FRIDAY))
        # The day after the holiday: the table of the 10th
        rate = Currency.portal_nbp_rate(eur, datetime.date(2026, 11, 12))
        self.assertEqual((rate.table, rate.date),
            ('219/A/NBP/2026', datetime.date(2026, 11, 10)))

    @with_transaction()
    def test_missing_rate_is_an_error_not_a_guess(self):
        pool = Pool()
        Currency = pool.get('currency.currency')
        _, eur, usd = self._currencies('PLN', 'EUR', 'USD')
        Currency.nbp_update(FRIDAY)
        # Nothing before the first recorded day
        with self.assertRaises(UserError) as raised:
            Currency.portal_nbp_rate(eur, datetime.date(2026, 11, 2))
        self.assertIn('EUR', str(raised.exception))
        self.assertIn('NBP', str(raised.exception))
        # More than 10 days after the last table: too old to use
        with self.assertRaises(UserError):
            Currency.portal_nbp_rate(usd, datetime.date(2026, 12, 3))
