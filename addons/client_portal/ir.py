from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# Context keys set by the portal access layer (web/access.py). They start
# with "_" so that no RPC client can inject them (trytond strips such keys
# from RPC contexts).
PARTY_KEY = '_portal_party'
WEB_USER_KEY = '_portal_web_user'
# Models whose staff rules depend on who the user is (assigned manager)
USER_RULE_MODELS = {'party.party', 'web.user', 'portal.document',
    'portal.notification', 'portal.party.change'}


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
        transaction = Transaction()
        context = transaction.context
        key = super()._get_cache_key(model_names) + (
            context.get(PARTY_KEY), context.get(WEB_USER_KEY))
        if model_names & USER_RULE_MODELS:
            key += (transaction.user,)
        return key


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
        cls.method.selection.append(
            ('portal.notification|notify_overdue',
                "Notify Portal Clients of Overdue Documents"))
