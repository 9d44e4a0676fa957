"The user's account and the client's base data"
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction, without_check_access

from ..party import BASE_DATA_FIELDS
from ..web_user import PORTAL_LANGUAGES
from .access import LANG_COOKIE, portal_route
from .auth import password_errors

NAME_MAX = 100


@portal_route('/account', methods=('GET', 'POST'))
def account(request, portal):
    user = portal.web_user
    form = {
        'first_name': user.first_name or '',
        'last_name': user.last_name or '',
        'language': user.language or '',
        'notify_documents': user.notify_documents,
        }
    errors, saved = {}, None
    if request.method == 'POST':
        action = request.form.get('action')
        if action == 'profile':
            form = {
                'first_name': request.form.get('first_name', '').strip(),
                'last_name': request.form.get('last_name', '').strip(),
                'language': request.form.get('language', ''),
                'notify_documents': bool(
                    request.form.get('notify_documents')),
                }
            for name in ['first_name', 'last_name']:
                if len(form[name]) > NAME_MAX:
                    errors[name] = gettext('client_portal.msg_too_long')
            if form['language'] not in ('', *PORTAL_LANGUAGES):
                errors['language'] = gettext(
                    'client_portal.msg_invalid_choice')
            if not errors:
                user.first_name = form['first_name'] or None
                user.last_name = form['last_name'] or None
                user.language = form['language'] or None
                user.notify_documents = form['notify_documents']
                user.save()
                if user.language:
                    portal.set_cookie(LANG_COOKIE, user.language,
                        max_age=365 * 24 * 3600)
                return portal.redirect('account', saved='profile')
        elif action == 'password':
            errors = _change_password(portal, request.form)
            if not errors:
                return portal.redirect('account', saved='password')
        else:
            errors['action'] = gettext('client_portal.msg_invalid_choice')
    else:
        saved = request.args.get('saved')
    return portal.render('account/account.html',
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK,
        form=form, errors=errors, saved=saved,
        languages=PORTAL_LANGUAGES)


def _change_password(portal, form):
    WebUser = portal.pool.get('web.user')
    errors = password_errors(
        form.get('new_password', ''), form.get('confirm', ''))
    if 'password' in errors:
        errors['new_password'] = errors.pop('password')
    # Checking the current password needs its hash, which no portal
    # reader may see: the check runs as root on this user only.
    with without_check_access(), Transaction().set_user(0):
        user = WebUser(portal.web_user.id)
        valid, _ = WebUser.check_password(
            form.get('current_password', ''), user.password_hash)
        if not valid:
            errors['current_password'] = gettext(
                'client_portal.msg_wrong_password')
        if not errors:
            user.password = form['new_password']
            user.save()
    return errors


@portal_route('/company', methods=('GET', 'POST'))
def company_data(request, portal):
    Country = portal.pool.get('country.country')
    party = portal.party
    form = party.portal_base_data()
    errors, saved = {}, None
    if request.method == 'POST':
        form.update({k: request.form.get(k, '').strip()
                for k in BASE_DATA_FIELDS})
        form['country'] = form['country'].upper()
        errors = party.portal_validate_base_data(form)
        if not errors:
            party.portal_write_base_data(form, portal.web_user)
            return portal.redirect('company', saved='1')
    else:
        saved = request.args.get('saved')
    countries = Country.search([], order=[('name', 'ASC')])
    return portal.render('account/company.html',
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK,
        form=form, errors=errors, saved=saved, countries=countries,
        page='company')
