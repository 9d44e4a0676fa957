"""The emulator served over HTTP: a threaded WSGI server on 127.0.0.1.

From Python (tests, fixtures)::

    with Emulator(nip='5273184651', tokens=['test-token']) as ksef:
        client = KsefClient(KsefClientOptions(base_url=ksef.base_url))

``start()`` returns the base URL (``http://127.0.0.1:PORT``; ksef-client adds
``/v2``); port 0, the default, takes a free port. From a shell:
``python -m tests.ksef_emulator --port N --nip NIP --data DIR``.
"""
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from . import control, invoices
from .app import DEFAULT_NIP, App


class _Handler(WSGIRequestHandler):
    "Werkzeug's handler, silent unless the emulator is verbose"
    verbose = False

    def log_request(self, code='-', size='-'):
        # Plain lines: the demo keeps this log in a file
        if self.verbose:
            self.log('info', '"%s" %s %s', self.requestline, code, size)

    def log_error(self, format, *args):
        if self.verbose:
            super().log_error(format, *args)


class Emulator:

    def __init__(self, nip=DEFAULT_NIP, tokens=('portico-demo-token',), *,
            host='127.0.0.1', port=0, verbose=False, **options):
        """`options` are App's: nips, data_dir, seed, seed_dir, rate_limits,
        processing_delay, query_limit, access_token_ttl, refresh_token_ttl"""
        self.app = App(nip, tokens, **options)
        self.host = host
        self.port = port
        self.verbose = verbose
        self._server = None
        self._thread = None

    @property
    def base_url(self):
        return f'http://{self.host}:{self.port}'

    @property
    def api_url(self):
        return f'{self.base_url}/v2'

    def _listen(self):
        handler = type('Handler', (_Handler,), {'verbose': self.verbose})
        self._server = make_server(self.host, self.port, self.app,
            threaded=True, request_handler=handler)
        self.port = self._server.server_port

    def start(self):
        "Serve in a background thread; the base URL"
        self._listen()
        # A short poll: stop() waits for it (tests stop emulators often)
        self._thread = threading.Thread(target=self._server.serve_forever,
            kwargs={'poll_interval': 0.05},
            name=f'ksef-emulator-{self.port}', daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def serve_forever(self, ready=None):
        """Serve in the calling thread until stop() (the command line);
        `ready(base_url)` is called once the port is bound"""
        self._listen()
        if ready:
            ready(self.base_url)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

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
