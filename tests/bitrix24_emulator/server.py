"""The emulator served over HTTP: a threaded WSGI server on 127.0.0.1.

From Python (tests, fixtures)::

    with Emulator() as b24:
        b24.webhook_url     # http://127.0.0.1:PORT/rest/1/portico-demo-hook/
        b24.app.items(7)    # the controls

``start()`` returns the base URL (the portal's address); port 0, the
default, takes a free port. The same server answers for ``localhost``: the
portal's "new domain" of the ``moved`` fault. From a shell:
``python -m tests.bitrix24_emulator --port N --data DIR``.
"""
from tests.emulator_server import Served

from .app import App
from .portal import DEFAULT_WEBHOOK_CODE


class Emulator(Served):
    name = 'bitrix24-emulator'

    def __init__(self, *, host='127.0.0.1', port=0, verbose=False,
            data_dir=None, webhook_code=DEFAULT_WEBHOOK_CODE, **options):
        """`options` are App's: require_https, drain, threshold,
        operating_limit, method_cost, clock, access_ttl"""
        self.app = App(data_dir=data_dir, webhook_code=webhook_code,
            **options)
        super().__init__(host, port, verbose)

    @property
    def webhook_code(self):
        return self.app.webhook_code

    @property
    def webhook_url(self):
        return f'{self.base_url}/rest/1/{self.webhook_code}/'

    @property
    def oauth(self):
        "client_id, client_secret, member_id, application_token"
        return self.app.oauth

    def bound(self):
        self.app.base_url = self.base_url

    def stopping(self):
        self.app.stop()
