"""KSeF's error answers, in the shapes open-api.json gives them.

A 400 comes as the (deprecated but default) ``ExceptionResponse`` in
``application/json``, or as ``BadRequestProblemDetails`` in
``application/problem+json`` when the request carries
``X-Error-Format: problem-details``. 401 exists only as problem details
(the emulator has no 403: every context it knows has every permission).
429 is ``TooManyRequestsResponse`` or its problem-details twin, with
``Retry-After`` in whole seconds. The specification has no 503; the
emulator's is a problem-details body with ``Retry-After``, which is what
``ksef-client`` parses for retryable statuses.
"""
import json
import secrets
import uuid

from werkzeug.wrappers import Response

from . import dates

PROBLEM_JSON = 'application/problem+json'

# ExceptionCode -> ExceptionDescription, as in the 400 tables of open-api.json
DESCRIPTIONS = {
    21001: 'Nieczytelna treść.',
    21111: 'Nieprawidłowe wyzwanie autoryzacyjne.',
    21115: 'Nieprawidłowy certyfikat.',
    21117: 'Nieprawidłowy identyfikator podmiotu dla wskazanego typu '
        'kontekstu.',
    21155: 'Przekroczono dozwoloną liczbę faktur w sesji.',
    21164: 'Faktura o podanym identyfikatorze nie istnieje.',
    21165: 'Faktura o podanym numerze KSeF nie jest jeszcze dostępna.',
    21166: 'Korekta techniczna niedostępna.',
    21167: 'Status faktury nie pozwala na korektę techniczną.',
    21173: 'Brak sesji o wskazanym numerze referencyjnym.',
    21178: 'Nie znaleziono UPO dla podanych kryteriów.',
    21180: 'Status sesji nie pozwala na wykonanie operacji.',
    21183: 'Zakres filtrowania wykracza poza dostępny zakres danych.',
    21301: 'Brak autoryzacji.',
    21304: 'Brak uwierzytelnienia.',
    21401: 'Dokument nie jest zgodny ze schemą (xsd).',
    21402: 'Nieprawidłowy rozmiar pliku.',
    21403: 'Nieprawidłowy skrót pliku.',
    21405: 'Błąd walidacji danych wejściowych.',
    21406: 'Konflikt podpisu i typu uwierzytelnienia.',
    21470: 'Przesłany identyfikator klucza jest nieznany lub wskazuje na '
        'wycofany klucz.',
    9101: 'Nieprawidłowy dokument.',
    9102: 'Brak podpisu.',
    9103: 'Przekroczona liczba dozwolonych podpisów.',
    9105: 'Nieprawidłowy podpis.',
    }


class ApiError(Exception):
    "A 400 with one KSeF exception code"

    def __init__(self, code, *details, status=400):
        super().__init__(code, details)
        self.code = code
        self.details = [d for d in details if d]
        self.status = status

    def response(self, request):
        description = DESCRIPTIONS.get(self.code, 'Błąd.')
        if wants_problem_details(request):
            body = problem(request, 'Bad Request', self.status,
                'Żądanie jest nieprawidłowe.')
            body['errors'] = [{
                    'code': self.code,
                    'description': description,
                    'details': self.details,
                    }]
            return json_response(body, self.status, mimetype=PROBLEM_JSON)
        return json_response({
                'exception': {
                    'exceptionDetailList': [{
                            'exceptionCode': self.code,
                            'exceptionDescription': description,
                            'details': self.details or None,
                            }],
                    'referenceNumber': str(uuid.uuid4()),
                    'serviceCode': (f'00-{secrets.token_hex(16)}'
                        f'-{secrets.token_hex(8)}-00'),
                    'serviceCtx': 'srvEMULA',
                    'serviceName': 'Undefined',
                    'timestamp': dates.now().replace(tzinfo=None).isoformat(),
                    },
                }, self.status)


class Unauthorized(Exception):

    def __init__(self, detail='Wymagane jest uwierzytelnienie.'):
        super().__init__(detail)
        self.detail = detail

    def response(self, request):
        return json_response(
            problem(request, 'Unauthorized', 401, self.detail),
            401, mimetype=PROBLEM_JSON)


def wants_problem_details(request):
    return (request.headers.get('X-Error-Format', '').strip().lower()
        == 'problem-details')


def problem(request, title, status, detail):
    return {
        'title': title,
        'status': status,
        'instance': request.path,
        'detail': detail,
        'timestamp': dates.api(dates.now()),
        'traceId': secrets.token_hex(16),
        }


def json_response(body, status=200, headers=None, mimetype='application/json'):
    return Response(json.dumps(body, ensure_ascii=False), status=status,
        headers=headers, mimetype=mimetype)


def too_many_requests(request, detail, retry_after):
    headers = {'Retry-After': str(retry_after)}
    if wants_problem_details(request):
        return json_response(
            problem(request, 'Too Many Requests', 429, detail),
            429, headers, mimetype=PROBLEM_JSON)
    return json_response({
            'status': {
                'code': 429,
                'description': 'Too Many Requests',
                'details': [detail],
                },
            }, 429, headers)


def unavailable(request, retry_after):
    return json_response(
        problem(request, 'Service Unavailable', 503,
            'Usługa KSeF jest chwilowo niedostępna (emulator: awaria '
            'wywołana przez /_control/faults).'),
        503, {'Retry-After': str(retry_after)}, mimetype=PROBLEM_JSON)


def not_found(request):
    return json_response(
        problem(request, 'Not Found', 404,
            f'The emulator has no endpoint {request.method} {request.path}.'),
        404, mimetype=PROBLEM_JSON)


def read_json(request):
    "The JSON object of a request body; a 21405 when it is not one"
    try:
        body = json.loads(request.get_data() or b'null')
    except ValueError as e:
        raise ApiError(21405, f'Nieprawidłowy JSON: {e}')
    if not isinstance(body, dict):
        raise ApiError(21405, 'Treść żądania musi być obiektem JSON.')
    return body


def require_fields(body, *names):
    missing = [n for n in names if body.get(n) in (None, '')]
    if missing:
        raise ApiError(21405, *(f"Pole '{n}' jest wymagane." for n in missing))
