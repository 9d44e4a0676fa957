from trytond.cache import Cache
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

# Context keys set by the portal access layer (web/access.py). They start
# with "_" so that no RPC client can inject them (trytond strips such keys
# from RPC contexts).
PARTY_KEY = '_portal_party'
WEB_USER_KEY = '_portal_web_user'


# trytond's caches key on the whole context: with the client in it, every
# cached lookup (configuration, triggers, model names) would be computed
# again for each client in each process. Nothing those caches hold depends
# on the client; the record rules, which do, key on it explicitly
# (Rule._get_cache_key below).
Cache.context_ignored_keys.update({PARTY_KEY, WEB_USER_KEY})


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        transaction_context = Transaction().context
        context['portal_party'] = transaction_context.get(PARTY_KEY) or -1
        context['portal_web_user'] = (
            transaction_context.get(WEB_USER_KEY) or -1)
        context['portal_company_parties'] = _company_parties()
        context['user_id'] = Transaction().user
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        # Every portal client runs as the same service user with the same
        # groups: without the client in the key, the first client's domain
        # would be cached and served to everybody.
        # Staff rules depend on who the user is (a manager's assigned
        # clients: Eval('user_id')), and trytond keys on the groups only:
        # two managers would share the first one's domain.
        transaction = Transaction()
        context = transaction.context
        return super()._get_cache_key(model_names) + (
            context.get(PARTY_KEY), context.get(WEB_USER_KEY),
            transaction.user)


def _company_parties():
    "Parties of the firm itself: public branding data the portal may read"
    pool = Pool()
    Company = pool.get('company.company')
    table = Company.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(table.party))
    return [p for p, in cursor]


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('portal.notification|notify_overdue',
                    "Notify Portal Clients of Overdue Documents"),
                ('currency.currency|nbp_update',
                    "Fetch NBP Exchange Rates (Table A)"),
                ])


# What ir.lang's number and currency formatting reads
LANG_FORMAT_FIELDS = [
    'code', 'date', 'grouping', 'decimal_point', 'thousands_sep',
    'mon_grouping', 'mon_decimal_point', 'mon_thousands_sep',
    'p_sign_posn', 'n_sign_posn', 'positive_sign', 'negative_sign',
    'p_cs_precedes', 'n_cs_precedes', 'p_sep_by_space', 'n_sep_by_space']


class Lang(metaclass=PoolMeta):
    __name__ = 'ir.lang'
    _portal_cache = Cache('ir.lang.portal_format', context=False)

    @classmethod
    def on_modification(cls, mode, languages, field_names=None):
        super().on_modification(mode, languages, field_names=field_names)
        cls._portal_cache.clear()

    @classmethod
    def portal_lang(cls, code):
        """The language as an unsaved record that formats numbers and
        amounts without reading the database on each page"""
        key = (Transaction().database.name, code)
        values = cls._portal_cache.get(key)
        if values is None:
            with without_check_access():
                lang = cls.get(code)
                values, = cls.read([lang.id], LANG_FORMAT_FIELDS)
            values = dict(values)
            cls._portal_cache.set(key, values)
        values = dict(values)
        return cls(values.pop('id'), **values)
