"""A set-up committed once for a test class and read again in each test's
transaction: a firm with its books costs seconds to build, and each test
rolls back what it does (trytond's with_transaction) while the set-up
stays. The class needs a database of its own (trytond's _DBTestCase drops
it before and after), so nothing committed reaches another class.

    class XTestCase(CommittedTestCase):
        @classmethod
        def build(cls):          # once, committed
            return ksef_firm(TODAY)

        @with_transaction()
        def test_x(self):
            setup = self.setup()     # the same records, in this transaction

or, in another _DBTestCase, cls.setup = committed_setup(func, *args).
"""
import copy
import types
from unittest import mock

from trytond.model import Model
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER, _DBTestCase


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
    if isinstance(value, tuple) and hasattr(value, '_fields'):
        return type(value)(*(_walk(v, convert) for v in value))
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
    """Run func as the tests' user in a transaction of its own that
    commits; a callable that gives its result with every record read in
    the current transaction. The e-mails the set-up would send (an
    approval's notification) are built, not sent."""
    from client_portal import mail
    from client_portal.demo import run_in_transaction

    def build():
        with mock.patch.object(mail, 'send_message_transactional',
                lambda *a, **k: None):
            return _walk(func(*args, **kwargs), _detach)
    return _Committed(run_in_transaction(DB_NAME, build, user_id=USER))


class CommittedTestCase(_DBTestCase):
    "Tests of client_portal (or module) sharing the records build returns"
    module = 'client_portal'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup = committed_setup(cls.build)

    @classmethod
    def build(cls):
        raise NotImplementedError


def capture_mail(testcase):
    """The e-mails the test's steps build, kept instead of sent, until the
    test ends"""
    from client_portal import mail
    sent = []
    patcher = mock.patch.object(mail, 'send_message_transactional',
        sent.append)
    patcher.start()
    testcase.addCleanup(patcher.stop)
    return sent
