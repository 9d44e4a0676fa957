"""A set-up committed once for a test class and read again in each test's
transaction: a firm with its books costs seconds to build, and each test
rolls back what it does (trytond's with_transaction) while the set-up
stays. The class needs a database of its own (trytond's _DBTestCase drops
it before and after), so nothing committed reaches another class.

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup = committed_setup(ksef_firm, TODAY)

    @with_transaction()
    def test_x(self):
        setup = self.setup()     # the same records, in this transaction
"""
import copy
import types

from trytond.model import Model
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME


class _Record:
    "A record outside any transaction: its model and id"
    __slots__ = ('model', 'id')

    def __init__(self, model, id_):
        self.model, self.id = model, id_


def _walk(value, convert):
    "value with each record (or _Record) in it converted"
    if isinstance(value, (Model, _Record)):
        return convert(value)
    if isinstance(value, dict):
        return {k: _walk(v, convert) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_walk(v, convert) for v in value)
    if (hasattr(value, '__dict__') and not isinstance(value, (type,
                    types.ModuleType, types.FunctionType,
                    types.MethodType))):
        # The set-up's plain objects (Firm, Setup, SimpleNamespace)
        value = copy.copy(value)
        value.__dict__.update(
            {k: _walk(v, convert) for k, v in vars(value).items()})
    return value


def _detach(record):
    return _Record(record.__name__, record.id)


def _attach(reference):
    return Pool().get(reference.model)(reference.id)


class _Committed:
    "The set-up's result, called for it in the current transaction"

    def __init__(self, detached):
        self.detached = detached

    def __call__(self):
        return _walk(self.detached, _attach)


def committed_setup(func, *args, **kwargs):
    """Run func in a transaction of its own that commits; a callable that
    gives its result with every record read in the current transaction"""
    from client_portal.demo import run_in_transaction
    return _Committed(run_in_transaction(DB_NAME,
            lambda: _walk(func(*args, **kwargs), _detach)))
