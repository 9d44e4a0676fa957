"""NBP exchange rates (table A) for the VAT of invoices in a foreign
currency (VAT art. 31a): read daily from the NBP Web API into Tryton's
currency rates, with the table number and the mid rate exactly as
published (facts: POLAND.md §1.6)."""
import datetime
import json
import logging
import urllib.error
import urllib.request
from decimal import Decimal
from typing import NamedTuple

from trytond import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

logger = logging.getLogger(__name__)

DEFAULT_URL = 'https://api.nbp.pl/api'
# The API answers at most 93 days per request
MAX_RANGE = 93
# "The last business day before": weekends and holidays in between
LOOK_BACK = 10
TIMEOUT = 20


class NBPRate(NamedTuple):
    mid: Decimal
    table: str
    date: datetime.date


class Currency(metaclass=PoolMeta):
    __name__ = 'currency.currency'

    @classmethod
    def portal_nbp_rate(cls, currency, date):
        """The NBP table A mid rate of the last business day before date;
        a missing rate is an error, never a guess"""
        pool = Pool()
        Rate = pool.get('currency.currency.rate')
        with without_check_access():
            rates = Rate.search([
                    ('currency', '=', currency.id),
                    ('date', '<', date),
                    ('date', '>=', date - datetime.timedelta(days=LOOK_BACK)),
                    ('nbp_table', '!=', None),
                    ], order=[('date', 'DESC')], limit=1)
        if not rates:
            Lang = pool.get('ir.lang')
            raise UserError(gettext('client_portal.msg_nbp_rate_missing',
                    currency=currency.code,
                    date=Lang.get().strftime(date)))
        rate, = rates
        return NBPRate(rate.nbp_mid, rate.nbp_table, rate.date)

    @classmethod
    def nbp_update(cls, date=None):
        """Store the NBP table A rates of every active currency other than
        the złoty, from the day after the last one stored (at most 93 days
        back) to date (today by default). A currency the API fails for is
        logged and left for the next run; the others are stored."""
        pool = Pool()
        Rate = pool.get('currency.currency.rate')
        Date = pool.get('ir.date')
        date = date or Date.today()
        base = (config.get('nbp', 'url') or DEFAULT_URL).rstrip('/')
        for currency in cls.search([('code', '!=', 'PLN')]):
            last = Rate.search([
                    ('currency', '=', currency.id),
                    ('nbp_table', '!=', None),
                    ('date', '<=', date),
                    ], order=[('date', 'DESC')], limit=1)
            start = date - datetime.timedelta(days=MAX_RANGE - 1)
            if last:
                start = max(start, last[0].date + datetime.timedelta(days=1))
            if start > date:
                continue
            try:
                published = fetch(base, currency.code, start, date)
            except (OSError, ValueError, KeyError):
                logger.exception(
                    "NBP rates of %s not fetched", currency.code)
                continue
            cls._nbp_store(currency, published)

    @classmethod
    def _nbp_store(cls, currency, published):
        Rate = Pool().get('currency.currency.rate')
        if not published:
            return
        existing = {r.date: r for r in Rate.search([
                    ('currency', '=', currency.id),
                    ('date', 'in', [p.date for p in published]),
                    ])}
        to_save = []
        for item in published:
            rate = existing.get(item.date) or Rate(
                currency=currency, date=item.date)
            rate.nbp_mid = item.mid
            rate.nbp_table = item.table
            # Tryton's rate: how much of the currency one złoty buys
            rate.rate = (Decimal(1) / item.mid).quantize(
                Decimal(1).scaleb(-Rate.rate.digits[1]))
            to_save.append(rate)
        Rate.save(to_save)


def fetch(base, code, start, end):
    """[NBPRate] of table A for the currency between start and end; the API
    answers 404 when no table was published in the range"""
    url = (f'{base}/exchangerates/rates/a/{code.lower()}/'
        f'{start.isoformat()}/{end.isoformat()}/?format=json')
    request = urllib.request.Request(
        url, headers={'Accept': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data = json.load(response, parse_float=Decimal)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return []
        raise
    return [NBPRate(Decimal(r['mid']), r['no'],
            datetime.date.fromisoformat(r['effectiveDate']))
        for r in data.get('rates', [])]


class Rate(metaclass=PoolMeta):
    __name__ = 'currency.currency.rate'

    nbp_mid = fields.Numeric("NBP Mid Rate", digits=(12, 6), readonly=True,
        help="PLN for one unit of the currency, as the NBP published it.")
    nbp_table = fields.Char("NBP Table", readonly=True,
        help="E.g. 226/A/NBP/2026.")
