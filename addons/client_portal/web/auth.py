"Sign in and out, password reset, invitation, language switch"

from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction, without_check_access

from ..web_user import PORTAL_LANGUAGES
from .access import (
    LANG_COOKIE, SESSION_COOKIE, portal_route, safe_next)

MIN_PASSWORD = 10


@portal_route('/login', methods=('GET', 'POST'), auth=False)
def login(request, portal):
    next_ = safe_next(portal, request.values.get('next'))
    if portal.web_user is not None and request.method == 'GET':
        return portal.respond(_redirect_to(portal, next_))
    email = request.form.get('email', '').strip()
    error = None
    status = HTTPStatus.OK
    if request.method == 'POST':
        WebUser = portal.pool.get('web.user')
        # Authentication and sessions are infrastructure: they run before
        # there is a client to restrict to.
        with without_check_access(), Transaction().set_user(0):
            try:
                user = WebUser.authenticate(
                    email, request.form.get('password', ''))
            except RateLimitException:
                return portal.render(
                    'auth/login.html', status=HTTPStatus.TOO_MANY_REQUESTS,
                    email=email, next=next_, rate_limited=True, error=None)
            if user and user.active and user.party \
                    and user.party.portal_client:
                key = user.new_session()
                user.touch_login()
                response = _redirect_to(portal, next_)
                portal.set_cookie(SESSION_COOKIE, key)
                if user.portal_language:
                    portal.set_cookie(LANG_COOKIE, user.portal_language)
                return portal.respond(response)
        error = gettext('client_portal.msg_login_failed')
        status = HTTPStatus.UNAUTHORIZED
    return portal.render('auth/login.html', status=status, email=email,
        next=next_, error=error, rate_limited=False)


def _redirect_to(portal, next_):
    from trytond.protocols.wrappers import redirect
    return redirect(next_ or portal.url(''), code=HTTPStatus.SEE_OTHER)


@portal_route('/logout', methods=('POST',), auth=False)
def logout(request, portal):
    Session = portal.pool.get('web.user.session')
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        with without_check_access(), Transaction().set_user(0):
            Session.remove(key)
    portal.set_cookie(SESSION_COOKIE, None)
    return portal.redirect('login')


@portal_route('/reset-password', methods=('GET', 'POST'), auth=False)
def reset_password(request, portal):
    email = request.form.get('email', '').strip().lower()
    sent = False
    if request.method == 'POST':
        WebUser = portal.pool.get('web.user')
        with without_check_access(), Transaction().set_user(0):
            users = WebUser.search([
                    ('email', '=', email),
                    ('party.portal_client', '=', True),
                    ], limit=1)
            WebUser.portal_reset_password(users)
        # The same answer whether the address exists or not
        sent = True
    return portal.render('auth/reset_password.html', email=email, sent=sent)


@portal_route('/set-password', methods=('GET', 'POST'), auth=False)
def set_password(request, portal):
    WebUser = portal.pool.get('web.user')
    email = request.values.get('email', '')
    token = request.values.get('token', '')
    with without_check_access(), Transaction().set_user(0):
        user = WebUser.check_reset_token(email, token)
    if user is None:
        return portal.render('auth/set_password.html',
            status=HTTPStatus.BAD_REQUEST, invalid=True, errors={},
            email=email, token='')
    errors = {}
    if request.method == 'POST':
        password = request.form.get('password', '')
        errors = password_errors(
            password, request.form.get('confirm', ''))
        if not errors:
            with without_check_access(), Transaction().set_user(0):
                try:
                    ok = WebUser.set_password_token(email, token, password)
                except RateLimitException:
                    ok = False
            if ok:
                return portal.redirect('login', reset='done')
            return portal.render('auth/set_password.html',
                status=HTTPStatus.BAD_REQUEST, invalid=True, errors={},
                email=email, token='')
    return portal.render('auth/set_password.html',
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK,
        invalid=False, errors=errors, email=email, token=token)


def password_errors(password, confirm):
    errors = {}
    if len(password) < MIN_PASSWORD:
        errors['password'] = gettext(
            'client_portal.msg_password_too_short', length=MIN_PASSWORD)
    elif password.lower() == password or password.upper() == password \
            or not any(c.isdigit() for c in password):
        errors['password'] = gettext('client_portal.msg_password_weak')
    if password != confirm:
        errors['confirm'] = gettext('client_portal.msg_password_mismatch')
    return errors


@portal_route('/language', methods=('POST',), auth=False)
def language(request, portal):
    code = request.form.get('language')
    next_ = safe_next(portal, request.form.get('next'))
    if code not in PORTAL_LANGUAGES:
        code = None
    if code and portal.web_user is not None:
        portal.web_user.language = code
        portal.web_user.save()
    if code:
        portal.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600)
    response = portal.respond(_redirect_to(portal, next_))
    return response



