import decimal
from typing import NamedTuple

from trytond.cache import Cache
from trytond.pool import PoolMeta
from trytond.transaction import Transaction, without_check_access


class Currency(metaclass=PoolMeta):
    __name__ = 'currency.currency'
    # Every portal page formats amounts: code, digits and symbol of each
    # currency, kept per process and cleared on write in every process
    _portal_cache = Cache('currency.currency.portal', context=False)

    def round(self, amount, rounding=decimal.ROUND_HALF_UP, opposite=False):
        # Every amount on a Polish invoice is rounded to the grosz half-up
        # (facts: POLAND.md §1.3); trytond's default is half-even
        return super().round(amount, rounding=rounding, opposite=opposite)

    @classmethod
    def on_modification(cls, mode, currencies, field_names=None):
        super().on_modification(mode, currencies, field_names=field_names)
        cls._portal_cache.clear()

    @classmethod
    def portal_currencies(cls):
        "{id: PortalCurrency} of the active currencies"
        key = Transaction().database.name
        currencies = cls._portal_cache.get(key)
        if currencies is None:
            with without_check_access():
                currencies = {c['id']: (c['code'], c['digits'], c['symbol'])
                    for c in cls.search_read(
                        [], fields_names=['code', 'digits', 'symbol'])}
            cls._portal_cache.set(key, currencies)
        return {id_: PortalCurrency(id_, code, digits, symbol or code)
            for id_, (code, digits, symbol) in currencies.items()}


class PortalCurrency(NamedTuple):
    "What a page needs of a currency, without reading the database"
    id: int
    code: str
    digits: int
    symbol: str
