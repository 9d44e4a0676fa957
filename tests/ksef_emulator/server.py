"""The emulator served over HTTP: a threaded WSGI server on 127.0.0.1.

From Python (tests, fixtures)::

    with Emulator(nip='5273184651', tokens=['test-token']) as ksef:
        client = KsefClient(KsefClientOptions(base_url=ksef.base_url))

``start()`` returns the base URL (``http://127.0.0.1:PORT``; ksef-client adds
``/v2``); port 0, the default, takes a free port. From a shell:
``python -m tests.ksef_emulator --port N --nip NIP --data DIR``.
"""
from tests.emulator_server import Served

from . import control, invoices
from .app import DEFAULT_NIP, App


class Emulator(Served):
    name = 'ksef-emulator'

    def __init__(self, nip=DEFAULT_NIP, tokens=('portico-demo-token',), *,
            host='127.0.0.1', port=0, verbose=False, **options):
        """`options` are App's: nips, data_dir, seed, seed_dir, rate_limits,
        processing_delay, query_limit, access_token_ttl, refresh_token_ttl"""
        self.app = App(nip, tokens, **options)
        super().__init__(host, port, verbose)

    @property
    def api_url(self):
        return f'{self.base_url}/v2'

    # What /_control offers, for tests in the same process

    def reset(self, seed=True):
        self.app.reset(seed=seed)

    def fault(self, mode, **options):
        "Inject a fault (faults.py); returns it"
        return self.app.faults.add(mode, **options)

    def clear_faults(self):
        self.app.faults.clear()

    def set_rate_limits(self, limits):
        self.app.limiter.configure(limits)

    def add_invoice(self, xml, *, offline=False, acquired=None):
        "KSeF receives `xml` for its buyer as if its seller had sent it"
        return invoices.receive(self.app, xml, offline=offline,
            acquired=acquired)

    def invoices(self):
        "Every invoice held, as /_control/invoices lists them"
        with self.app.store.lock:
            stored = list(self.app.store.invoices.values())
        return sorted((control.summary(i) for i in stored),
            key=lambda i: i['acquisitionDate'])
