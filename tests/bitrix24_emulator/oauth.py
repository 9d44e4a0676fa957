"""OAuth 2.0 of the local application (facts §1.2): access tokens for a
user, refresh tokens, and the authorization server's ``/oauth/token/``.

An access token lives `access_ttl` seconds (3600) by the emulator's clock,
then calls with it get 401 expired_token; a refresh token lives 180 days
and is used once: a refresh gives a new pair and the old refresh token
answers invalid_grant afterwards. Each token is tied to the one application
(client_id), the portal (member_id) and one user.
"""
import secrets

from . import dates

REFRESH_TTL = 180 * 86400


class Tokens:

    def __init__(self, portal, access_ttl=3600):
        self.portal = portal
        self.access_ttl = access_ttl

    @property
    def store(self):
        return self.portal.store

    def issue(self, user_id):
        "A new token pair for `user_id`, as /oauth/token/ answers it"
        now = self.portal.clock()
        access = secrets.token_hex(24)
        refresh = secrets.token_hex(24)
        expires = int(now + self.access_ttl)
        with self.store.lock:
            # Expired access tokens are forgotten an hour after expiry
            for token in [t for t, v in self.store.access_tokens.items()
                    if v['expires'] < now - 3600]:
                del self.store.access_tokens[token]
            self.store.access_tokens[access] = {'user_id': int(user_id),
                'expires': expires}
            self.store.refresh_tokens[refresh] = {'user_id': int(user_id),
                'expires': int(now + REFRESH_TTL)}
        return self.answer(access, refresh, int(user_id), expires)

    def answer(self, access, refresh, user_id, expires):
        portal = self.portal
        app = self.store.app
        return {'access_token': access, 'expires': expires,
            'expires_in': self.access_ttl, 'scope': app['scope'],
            'domain': portal.domain,
            'server_endpoint': f'{portal.base_url}/oauth/rest/',
            'status': 'L', 'client_endpoint': f'{portal.base_url}/rest/',
            'member_id': app['member_id'], 'user_id': user_id,
            'refresh_token': refresh}

    def expire(self, token):
        with self.store.lock:
            if token in self.store.access_tokens:
                self.store.access_tokens[token]['expires'] = int(
                    self.portal.clock()) - 1

    def lookup(self, token):
        "(record, None) for a valid token, else (None, 'unknown'|'expired')"
        if not isinstance(token, str):
            return None, 'unknown'
        record = self.store.access_tokens.get(token)
        if record is None:
            return None, 'unknown'
        if self.portal.clock() >= record['expires']:
            return None, 'expired'
        return record, None

    def refresh(self, params):
        "(status, body) of GET /oauth/token/ (§1.2 refresh)"
        app = self.store.app
        grant = params.get('grant_type')
        if grant != 'refresh_token':
            return 400, {'error': 'invalid_request',
                'error_description': 'Unsupported grant_type'}
        if params.get('client_id') != app['client_id'] or \
                params.get('client_secret') != app['client_secret']:
            return 401, {'error': 'invalid_client',
                'error_description': 'Invalid client credentials'}
        with self.store.lock:
            refresh = params.get('refresh_token')
            record = self.store.refresh_tokens.pop(refresh, None) \
                if isinstance(refresh, str) else None
            if record is None or record['expires'] <= self.portal.clock():
                return 400, {'error': 'invalid_grant',
                    'error_description': 'Invalid refresh token'}
            return 200, self.issue(record['user_id'])

    def server_app_info(self, token):
        """(status, body) of the authorization server's /rest/app.info
        (§12.5 option B, the shape of b24pysdk's model)"""
        record, problem = self.lookup(token)
        if problem == 'expired':
            return 401, {'error': 'expired_token',
                'error_description': 'The access token provided has expired'}
        if record is None:
            return 401, {'error': 'invalid_token',
                'error_description': 'The access token provided is invalid'}
        portal = self.portal
        app = self.store.app
        return 200, {'result': {
            'client_id': app['client_id'], 'scope': app['scope'],
            'expires': dates.iso(record['expires']),
            'user_id': record['user_id'],
            'install': {'installed': bool(app['installed']),
                'version': app['version'], 'status': 'L',
                'scope': app['scope'], 'domain': portal.domain,
                'uri': f'{portal.base_url}/',
                'client_endpoint': f'{portal.base_url}/rest/',
                'member_id': app['member_id'], 'member_type': 'PORTAL'}}}
