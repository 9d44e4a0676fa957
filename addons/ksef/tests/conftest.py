"""pytest runs of these tests as scripts/test.sh runs every module's tests
(scripts/testdb.py): a transaction takes its locks when it asks for them,
instead of restarting the test with them, and with PORTICO_TEST_BASE the
database is a copy of the run's activated base"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
        '..'))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Selects the test database before anything else reads the configuration
from trytond.tests import test_tryton  # noqa: E402, F401

try:
    from scripts import testdb  # noqa: E402
except ImportError:
    # The module installed without the repository: trytond's own way
    testdb = None
if testdb:
    testdb.install()
