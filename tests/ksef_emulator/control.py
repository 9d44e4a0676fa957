"""The test and demo controls, outside /v2 (KSeF has nothing like them).

GET  /_control/health               the emulator's NIP, URLs and counts
POST /_control/faults               {"mode": ..., options}: see faults.py
GET  /_control/faults               active faults
DELETE /_control/faults             clear them
POST /_control/reset                forget every invoice and session, clear
                                    faults and rate counters, seed again
                                    ({"seed": false} to start empty)
GET  /_control/invoices             what KSeF holds, with where it came from
                                    (?sellerNip=, ?buyerNip= to filter)
POST /_control/invoices             an FA(3) invoice (body, application/xml)
                                    that KSeF receives for its buyer as if
                                    the seller had sent it (?offline=true);
                                    answers its metadata, 201
GET  /_control/invoices/{ksefNumber}/xml
GET  /_control/rate-limits          the limits in force
POST /_control/rate-limits          {"invoiceSend": {"perSecond": 2}, ...}
                                    replaces them ({} turns them off)
POST /_control/config               {"processingDelay": s, "queryLimit": n,
                                    "accessTokenTtl": s}
"""
import json

from werkzeug.wrappers import Response

from . import invoices
from .errors import json_response


def _body(request):
    data = request.get_data()
    try:
        body = json.loads(data) if data.strip() else {}
    except ValueError as e:
        raise ValueError(f'invalid JSON: {e}')
    if not isinstance(body, dict):
        raise ValueError('a JSON object is expected')
    return body


def _bad(message):
    return json_response({'error': str(message)}, 400)


def health(app, request):
    with app.store.lock:
        counts = {'invoices': len(app.store.invoices),
            'sessions': len(app.store.sessions)}
    return json_response({'ok': True, 'nip': app.nip, 'nips': app.nips,
            'baseUrl': request.host_url.rstrip('/'),
            'apiUrl': request.host_url + 'v2', **counts})


def faults(app, request):
    if request.method == 'GET':
        return json_response(app.faults.active())
    if request.method == 'DELETE':
        app.faults.clear()
        return Response(status=204)
    try:
        options = _body(request)
        mode = options.pop('mode', None)
        return json_response(app.faults.add(mode, **options), 201)
    except (ValueError, TypeError) as e:
        return _bad(e)


def reset(app, request):
    try:
        body = _body(request)
    except ValueError as e:
        return _bad(e)
    app.reset(seed=body.get('seed', True))
    return json_response({'invoices': len(app.store.invoices)})


def summary(invoice):
    return {
        **invoices.metadata_of(invoice),
        'referenceNumber': invoice['referenceNumber'],
        'sessionReferenceNumber': invoice['sessionReferenceNumber'],
        'source': invoice['source'],
        }


def invoice_list(app, request):
    if request.method == 'POST':
        try:
            invoice = invoices.receive(app, request.get_data(),
                offline=request.args.get('offline') == 'true')
        except ValueError as e:
            return _bad(e)
        return json_response(summary(invoice), 201)
    seller = request.args.get('sellerNip')
    buyer = request.args.get('buyerNip')
    with app.store.lock:
        found = [summary(i) for i in app.store.invoices.values()
            if (not seller or i['meta']['seller']['nip'] == seller)
            and (not buyer
                or i['meta']['buyer']['identifier'].get('value') == buyer)]
    found.sort(key=lambda i: i['acquisitionDate'])
    return json_response(found)


def invoice_xml(app, request, ksefNumber):
    with app.store.lock:
        invoice = app.store.invoices.get(ksefNumber)
    if invoice is None:
        return json_response({'error': f'no invoice {ksefNumber}'}, 404)
    return Response(invoice['xml'].encode('utf-8'), mimetype='application/xml')


def rate_limits(app, request):
    if request.method == 'POST':
        try:
            app.limiter.configure(_body(request))
        except (ValueError, AttributeError, TypeError) as e:
            return _bad(e)
    return json_response(app.limiter.limits)


def config(app, request):
    try:
        body = _body(request)
        if 'processingDelay' in body:
            app.processing_delay = float(body['processingDelay'])
        if 'queryLimit' in body:
            app.query_limit = int(body['queryLimit'])
        if 'accessTokenTtl' in body:
            app.access_token_ttl = float(body['accessTokenTtl'])
    except (ValueError, TypeError) as e:
        return _bad(e)
    return json_response({'processingDelay': app.processing_delay,
            'queryLimit': app.query_limit,
            'accessTokenTtl': app.access_token_ttl})

