"""The back office as the staff's Tryton client reaches it: JSON-RPC to the
running trytond, signed in as a demo staff user. The browser tests use it
for the accountant's steps (approve, reject) of a journey."""
import base64
import json
import urllib.request


class BackOffice:

    def __init__(self, portal, login, password):
        self.url = f'{portal.base_url}/{portal.database}/rpc/'
        self.login = login
        user_id, session, _ = self._call(
            'common.db.login', login, {'password': password}, 'en')
        token = f'{login}:{user_id}:{session}'.encode()
        self.authorization = 'Session ' + base64.b64encode(token).decode()
        self.context = self._call('model.res.user.get_preferences', True, {})

    def _call(self, method, *params):
        request = urllib.request.Request(self.url,
            data=json.dumps({'id': 1, 'method': method,
                    'params': list(params)}).encode(),
            headers={'Content-Type': 'application/json'})
        if getattr(self, 'authorization', None):
            request.add_header('Authorization', self.authorization)
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        if answer.get('error'):
            raise RuntimeError(f'{method}: {answer["error"]}')
        return answer['result']

    def call(self, method, *params, **context):
        return self._call(method, *params, {**self.context, **context})

    def wizard(self, name, record_ids, model, state, values):
        "Run a wizard on records: its start form filled with values"
        context = {**self.context, 'active_id': record_ids[0],
            'active_ids': record_ids, 'active_model': model}
        wizard_id, _, _ = self._call(f'wizard.{name}.create', self.context)
        try:
            return self._call(f'wizard.{name}.execute', wizard_id,
                {'start': values}, state, context)
        finally:
            self._call(f'wizard.{name}.delete', wizard_id, context)
