"""What the payroll pages share: their route decorator, the posted form,
the 404 of records the client may not read"""
from functools import wraps

from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.transaction import Transaction

from client_portal.web.access import portal_route


def payroll_route(rule, methods=('GET',), readonly=None):
    """A portal page of payroll_account: 404 in a database where the module
    is not activated (the routes are global to the process)"""
    def decorator(func):
        @wraps(func)
        def handler(request, portal, **kwargs):
            try:
                portal.pool.get('payroll.contract')
            except KeyError:
                abort(HTTPStatus.NOT_FOUND)
            return func(request, portal, **kwargs)
        portal_route(rule, methods=methods, readonly=readonly)(handler)
        return func
    return decorator


def form_values(form, names):
    "The posted fields, stripped; a field sent twice is a malformed request"
    values = {}
    for name in names:
        sent = form.getlist(name)
        if len(sent) > 1:
            abort(HTTPStatus.BAD_REQUEST)
        values[name] = sent[0].strip() if sent else ''
    return values


def render_form(portal, template, errors, **context):
    "A form again with its messages next to the fields: nothing was saved"
    return portal.render(template, page='contracts', errors=errors,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK,
        **context)


def own(portal, model, id_):
    """The client's record (deactivated too), else 404: read through the
    record rules, never around them"""
    with Transaction().set_context(active_test=False):
        return portal.get_or_404(model, id_)
