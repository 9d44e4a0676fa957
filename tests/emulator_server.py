"""What the emulators of external services (tests/ksef_emulator,
tests/bitrix24_emulator) share: their WSGI app served by a threaded server
on 127.0.0.1, in a background thread for tests and fixtures or in the
calling thread for the command line."""
import signal
import threading

from werkzeug.serving import WSGIRequestHandler, make_server


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


class Served:
    """An emulator's server: `self.app` is its WSGI application; port 0
    takes a free port. `start()` returns the base URL."""
    name = 'emulator'

    def __init__(self, host='127.0.0.1', port=0, verbose=False):
        self.host = host
        self.port = port
        self.verbose = verbose
        self._server = None
        self._thread = None

    @property
    def base_url(self):
        return f'http://{self.host}:{self.port}'

    def _listen(self):
        handler = type('Handler', (_Handler,), {'verbose': self.verbose})
        self._server = make_server(self.host, self.port, self.app,
            threaded=True, request_handler=handler)
        self.port = self._server.server_port
        self.bound()

    def bound(self):
        "Called once the port is known"

    def stopping(self):
        "Called before the server stops"

    def start(self):
        "Serve in a background thread; the base URL"
        self._listen()
        # A short poll: stop() waits for it (tests stop emulators often)
        self._thread = threading.Thread(target=self._server.serve_forever,
            kwargs={'poll_interval': 0.05},
            name=f'{self.name}-{self.port}', daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self):
        if self._server is None:
            return
        self.stopping()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def serve_forever(self, ready=None):
        """Serve in the calling thread until interrupted (the command
        line); `ready(base_url)` is called once the port is bound"""
        self._listen()
        if ready:
            ready(self.base_url)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None

    def run(self, banner, port_file=None):
        """The command line: serve until Ctrl-C or SIGTERM; port_file gets
        the port and banner(base_url) is printed once listening"""
        def ready(base_url):
            if port_file:
                with open(port_file, 'w') as f:
                    f.write(f'{self.port}\n')
            print(banner(base_url), flush=True)

        def terminate(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, terminate)
        try:
            self.serve_forever(ready)
        except KeyboardInterrupt:
            pass
        finally:
            self.stopping()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
