"""Bitrix24 error answers: ``{"error": CODE, "error_description": text}``
with the HTTP status of facts §2 (system errors table), §1.1 and §1.2."""


class RestError(Exception):
    "An error answer; `extra` keys are merged into the body (S:rest.php)"

    def __init__(self, code, description, status=400, **extra):
        super().__init__(f'{code}: {description}')
        self.code = code
        self.description = description
        self.status = status
        self.extra = extra

    def body(self):
        return {'error': self.code, 'error_description': self.description,
            **self.extra}


def method_not_found():
    return RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404)


def no_auth():
    return RestError('NO_AUTH_FOUND', 'Wrong authorization data', 401)


def expired_token():
    return RestError('expired_token', 'The access token provided has expired',
        401)


def insufficient_scope():
    return RestError('insufficient_scope', 'The request requires higher '
        'privileges than provided by the webhook token', 403)


def wrong_auth_type():
    "§1.1, §12.2: methods needing an application, called by a webhook"
    return RestError('WRONG_AUTH_TYPE', 'Application context required', 403)


def query_limit():
    return RestError('QUERY_LIMIT_EXCEEDED', 'Too many requests', 503)


def operation_time_limit(**extra):
    return RestError('OPERATION_TIME_LIMIT',
        'Method is blocked due to operation time limit.', 429, **extra)


def overload():
    return RestError('OVERLOAD_LIMIT', 'REST API is blocked due to overload.',
        503)


def internal():
    return RestError('INTERNAL_SERVER_ERROR', 'Internal server error', 500)


def https_required():
    return RestError('INVALID_REQUEST', 'Https required.', 400)


def invalid_arg(description):
    return RestError('INVALID_ARG_VALUE', description, 400)


def not_found(description='Not found'):
    return RestError('NOT_FOUND', description, 400)


def legacy(description):
    "Legacy CRM methods answer errors with an empty code (§2)"
    return RestError('', description, 400)


def access_denied(description='Access denied.', status=403):
    return RestError('ACCESS_DENIED', description, status)
