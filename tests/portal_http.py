"""What the HTTP tests share: a browser-like client of the portal and
helpers to read pages and to prepare data."""
import re
from html import unescape

from trytond.tests import test_tryton
from trytond.transaction import Transaction
from werkzeug.test import Client

PASSWORD = 'Portal-Pass-2026'
DB = test_tryton.DB_NAME


class Browser:
    """A werkzeug test client that keeps cookies, speaks https and sends
    the CSRF token of the page like a browser submitting its form"""

    def __init__(self, database=DB, language='en'):
        from trytond.wsgi import app
        self.client = Client(app)
        self.language = language
        self.database = database
        self.base = f'/{database}/portal/'

    def url(self, path):
        return path if path.startswith('/') else self.base + path

    def _headers(self, kwargs):
        headers = kwargs.setdefault('headers', {})
        headers.setdefault('Accept-Language', self.language)
        kwargs.setdefault('base_url', 'https://localhost')

    def get(self, path, **kwargs):
        self._headers(kwargs)
        return self.client.get(self.url(path), **kwargs)

    def post(self, path, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and 'csrf_token' not in data:
            data['csrf_token'] = self.csrf_token()
        self._headers(kwargs)
        return self.client.post(self.url(path), data=data, **kwargs)

    def cookie(self, name):
        cookie = self.client.get_cookie(
            name, domain='localhost', path=f'/{self.database}')
        return cookie.value if cookie else None

    def csrf_token(self):
        if self.cookie('portal_csrf') is None:
            self.get('login')
        return self.cookie('portal_csrf')

    def login(self, email, password=PASSWORD):
        response = self.post('login', {'email': email, 'password': password})
        assert response.status_code == 303, response.status_code
        return response


def text(response):
    "The visible text of a page, whitespace folded"
    body = response.get_data(as_text=True)
    body = re.sub(r'<(script|style)\b.*?</\1>', ' ', body, flags=re.S)
    return ' '.join(unescape(re.sub(r'<[^>]+>', ' ', body)).split())


def in_transaction(func, *args, **kwargs):
    "Run func in a committed transaction as root (for test set-up)"
    from client_portal.demo import run_in_transaction
    return run_in_transaction(DB, func, *args, **kwargs)


def read_only(func, *args, **kwargs):
    with Transaction().start(DB, 0, readonly=True):
        return func(*args, **kwargs)
