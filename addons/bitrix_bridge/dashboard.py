"""The staff dashboard Bitrix24 embeds as a local application (facts:
BITRIX24.md §12): who is asking, and what that staff user may see and do.

A request from Bitrix24 is a cross-site form POST whose every field the
sender chooses (§12.4, §12.5). Only AUTH_ID proves anything, and only once
the configured portal has accepted it: `verify_placement` calls
`<configured portal_url>/rest/app.info` and `/rest/profile` with it (§12.5
option A) — DOMAIN, SERVER_ENDPOINT and the other fields never choose a
host (§12.5 pitfalls 1, 2). The Bitrix24 user becomes the Portico staff user
whose `bitrix_user_id` it is; everything afterwards runs as that user with
access checks on. Inside the frame cookies are unreliable (§12.6): a
short-lived signed session token, issued after the check, goes with every
link and form and is also the forms' CSRF protection.

AUTH_ID and REFRESH_ID are never logged nor kept (§12.5 pitfall 5)."""
import base64
import hashlib
import hmac
import json
import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from stdnum.pl import nip as stdnum_nip

from trytond import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction, check_access, without_check_access

from client_portal.party import email_errors
from client_portal.web_user import generate_password

from . import rest
from .configuration import get_configuration
from .mapping import COMPANY, CONTACT

logger = logging.getLogger(__name__)

SESSION_TTL = 3600  # seconds a signed session token stays valid
VERIFY_TIMEOUT = 10.0
TOKEN_MAX = 512  # longer AUTH_IDs are not sent to Bitrix24 at all
# The CRM card tabs the dashboard serves, by the entity type of their ID
# (§12.3)
TABS = {
    'CRM_COMPANY_DETAIL_TAB': COMPANY,
    'CRM_CONTACT_DETAIL_TAB': CONTACT,
    }
TAB_TITLES = {'pl': 'Portico', 'en': 'Portico'}
# The staff roles of client_portal.xml the dashboard is for
STAFF_GROUPS = ['group_portal_manager', 'group_portal_accountant',
    'group_portal_head']
NAME_MAX = 200


class Refused(Exception):
    "The request is not from a staff user of the configured portal: 403"


class Unreachable(Exception):
    "The configured portal did not answer the check: 503"


class _RequestToken:
    """The token provider of rest.Client for the request's AUTH_ID: it is
    used as it came and never refreshed (REFRESH_ID is the viewer's, and a
    refresh would need the application's secret)"""

    def __init__(self, token):
        self.token = token

    def __repr__(self):
        return '<request token>'

    def access_token(self):
        return self.token

    def refresh(self):
        raise rest.ExpiredToken('expired_token',
            'The access token provided has expired', 401, 'refresh')


def portal_origin(configuration=None):
    "scheme://host[:port] of the configured portal, or None (§12.6)"
    configuration = configuration or get_configuration()
    parts = urlsplit(configuration.portal_url or '')
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        return None
    return f'{parts.scheme}://{parts.netloc}'.lower()


def parse_placement_options(value):
    """PLACEMENT_OPTIONS as a dict: a JSON object string, anything else
    (absent, 'undefined', a list, broken JSON) is empty (§12.4)"""
    if not isinstance(value, str) or len(value) > 10000:
        return {}
    try:
        options = json.loads(value)
    except ValueError:
        return {}
    return options if isinstance(options, dict) else {}


def crm_id(options):
    "The positive integer ID of a CRM tab's options, or None (§12.3)"
    value = str(options.get('ID', '')).strip()
    if not value.isdigit() or not 0 < int(value) < 2 ** 31:
        return None
    return int(value)


def verify_placement(form):
    """The active staff user behind a placement POST (§12.5 option A), or
    Refused / Unreachable. `form` is the request's body: only AUTH_ID and
    member_id are read from it"""
    configuration = get_configuration()
    if not portal_origin(configuration):
        raise Refused('no portal configured')
    member_id = (form.get('member_id') or '').strip()
    if (configuration.member_id and member_id
            and not hmac.compare_digest(member_id.encode('utf-8'),
                configuration.member_id.encode('utf-8'))):
        raise Refused('another portal')
    token = form.get('AUTH_ID') or ''
    if not token or len(token) > TOKEN_MAX:
        raise Refused('no token')
    try:
        with rest.Client(base_url=configuration.portal_url,
                token=_RequestToken(token),
                timeout=VERIFY_TIMEOUT) as client:
            app = client.call('app.info').result
            profile = client.call('profile').result
    except (rest.Unavailable, rest.Moved) as error:
        # The message masks the token; a moved portal is the settings' to fix
        logger.warning('dashboard check failed: %s', error)
        raise Unreachable(str(error)) from None
    except rest.Bitrix24Error as error:
        raise Refused(error.code) from None
    if not isinstance(app, dict) or not isinstance(profile, dict):
        raise Refused('unexpected answer')
    # A token of another application of the same portal is not ours
    code = app.get('CODE')
    if not code or (configuration.client_id
            and code != configuration.client_id):
        raise Refused('another application')
    user_id = str(profile.get('ID', ''))
    if not user_id.isdigit():
        raise Refused('no user')
    return staff_user(int(user_id))


def staff_user(bitrix_user_id):
    "The active Portico user mapped to a Bitrix24 user, or Refused"
    User = Pool().get('res.user')
    with without_check_access():
        users = User.search([
                ('bitrix_user_id', '=', bitrix_user_id),
                ('active', '=', True),
                ], limit=2)
    if len(users) != 1:
        raise Refused('unknown user')
    return users[0]


# The signed session token

def _session_key():
    """The HMAC key: [bitrix] dashboard_secret of trytond's configuration,
    else one derived from the connection's stored secrets (read as the
    system): each database has its own, and changing the credentials ends
    every session"""
    secret = config.get('bitrix', 'dashboard_secret', default='')
    if not secret:
        Configuration = Pool().get('bitrix.configuration')
        stored = Configuration.get_secrets()
        secret = '\n'.join(stored[k] or '' for k in
            ['client_secret', 'webhook_url', 'application_token'])
        if not secret.strip():
            raise Refused('no secret to sign with')
    database = Transaction().database.name
    return hmac.new(secret.encode('utf-8'),
        f'portico-bitrix-dashboard:{database}'.encode('utf-8'),
        hashlib.sha256).digest()


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    "Who a signed token speaks for, in which language, until when"
    user_id: int
    bitrix_user_id: int
    language: str
    expires: int


def issue_session(user, language, now=None):
    "A token for `user` valid SESSION_TTL seconds"
    now = int(now if now is not None else time.time())
    payload = _b64(json.dumps({'u': user.id, 'b': user.bitrix_user_id,
                'l': language, 'e': now + SESSION_TTL},
            separators=(',', ':')).encode('utf-8'))
    signature = _b64(hmac.new(_session_key(), payload.encode('ascii'),
            hashlib.sha256).digest())
    return f'{payload}.{signature}'


def read_session(token, now=None):
    """(Session, staff user) of a valid token; Refused when it is forged,
    altered, expired, or its user no longer maps to the same Bitrix24 user"""
    if not isinstance(token, str) or len(token) > 1024 or token.count(
            '.') != 1:
        raise Refused('no session')
    payload, signature = token.split('.')
    expected = _b64(hmac.new(_session_key(), payload.encode('ascii'),
            hashlib.sha256).digest())
    if not hmac.compare_digest(signature.encode('ascii', 'replace'),
            expected.encode('ascii')):
        raise Refused('bad signature')
    try:
        data = json.loads(_unb64(payload))
        session = Session(int(data['u']), int(data['b']), str(data['l']),
            int(data['e']))
    except (ValueError, KeyError, TypeError):
        raise Refused('bad session') from None
    if session.expires < (now if now is not None else time.time()):
        raise Refused('session expired')
    user = staff_user(session.bitrix_user_id)
    if user.id != session.user_id:
        raise Refused('user changed')
    return session, user


# Running as the staff user

def _group_ids(names):
    ModelData = Pool().get('ir.model.data')
    return {ModelData.get_id('client_portal', n) for n in names}


@contextmanager
def as_staff(user, language):
    """Run as `user` with its preferences (company) and access checks on:
    access rights and record rules decide"""
    User = Pool().get('res.user')
    transaction = Transaction()
    with transaction.set_user(user.id):
        context = User.get_preferences(context_only=True)
    context['language'] = language
    with transaction.set_user(user.id), \
            transaction.set_context(context), check_access():
        yield


def client_domain(user):
    """The portal clients as a domain, or None when `user` has no portal
    staff role. Which of them the user sees is for client_portal's record
    rules to decide (a manager: the assigned clients; accountants and
    heads: all), as everywhere else"""
    if not {g.id for g in user.groups} & _group_ids(STAFF_GROUPS):
        return None
    return [('portal_client', '=', True)]


def clients(user, ids=None):
    "The staff user's clients (call as_staff), by name"
    Party = Pool().get('party.party')
    domain = client_domain(user)
    if domain is None:
        return []
    if ids is not None:
        domain = domain + [('id', 'in', list(ids))]
    return Party.search(domain, order=[('name', 'ASC'), ('id', 'ASC')])


@dataclass
class ClientState:
    "One client as the dashboard shows it"
    party: object
    users: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    due: int = 0
    overdue: int = 0
    # [(currency, remaining)] of the unpaid documents
    remaining: list = field(default_factory=list)
    link: object = None
    pending: int = 0
    failed: int = 0


def overview(parties, documents=0):
    """ClientState of each party (call as_staff). Portal users and
    documents are read under the staff user's rules; the sync state (the
    bridge's own records, which staff do not read) as the system.
    `documents` > 0 also lists that many latest documents of each"""
    pool = Pool()
    WebUser = pool.get('web.user')
    Document = pool.get('portal.document')
    states = {p.id: ClientState(p) for p in parties}
    if not states:
        return []
    ids = list(states)
    for user in WebUser.search([('party', 'in', ids)],
            order=[('email', 'ASC')]):
        states[user.party.id].users.append(user)
    today = Document.today()
    totals = defaultdict(lambda: defaultdict(int))
    for document in Document.search([
                ('party', 'in', ids),
                ('state', '=', 'issued'),
                ('remaining', '>', 0),
                ]):
        state = states[document.party.id]
        state.due += 1
        if Document.is_overdue(document.state, document.remaining,
                document.due_date, today):
            state.overdue += 1
        totals[state.party.id][document.currency] += document.remaining
    for party_id, amounts in totals.items():
        states[party_id].remaining = sorted(amounts.items(),
            key=lambda item: item[0].code)
    if documents:
        for party_id in ids:
            states[party_id].documents = Document.search(
                [('party', '=', party_id)],
                order=[('date', 'DESC'), ('id', 'DESC')], limit=documents)
    links, pending, failed = _sync_state(ids)
    for party_id, state in states.items():
        state.link = links.get(party_id)
        state.pending = pending[party_id]
        state.failed = failed[party_id]
    return [states[p.id] for p in parties]


def _sync_state(party_ids):
    """({party id: link}, {party id: pending}, {party id: failed}) of the
    clients' Bitrix24 mirror: their company/contact link and the outbox
    entries of their records not yet sent"""
    pool = Pool()
    Link = pool.get('bitrix.link')
    Outbox = pool.get('bitrix.outbox')
    wanted = set(party_ids)
    pending, failed = defaultdict(int), defaultdict(int)
    with Transaction().set_user(0), without_check_access(), \
            Transaction().set_context(active_test=False):
        links = {link.origin.id: link for link in Link.search([
                    ('origin', 'in', [f'party.party,{i}'
                            for i in party_ids]),
                    ])}
        by_model = defaultdict(lambda: defaultdict(list))
        for entry in Outbox.search([('state', 'in', ['queued', 'failed'])]):
            if entry.origin is not None and entry.origin.id >= 0:
                by_model[entry.origin.__name__][entry.origin.id].append(
                    entry.state)
        for model, entries in by_model.items():
            Model = pool.get(model)
            # Entries may outlive their record: only existing ones count
            for record in Model.search([('id', 'in', list(entries))]):
                client = record.bitrix_client()
                if client is None or client.id not in wanted:
                    continue
                for state in entries[record.id]:
                    if state == 'failed':
                        failed[client.id] += 1
                    else:
                        pending[client.id] += 1
    return links, pending, failed


def client_for_crm(user, entity_type_id, bitrix_id):
    """The portal client a CRM company (4) or contact (3) mirrors, if the
    staff user may see it (call as_staff); None otherwise, whoever it is"""
    Link = Pool().get('bitrix.link')
    with Transaction().set_user(0), without_check_access():
        links = Link.search([
                ('entity_type_id', '=', entity_type_id),
                ('bitrix_id', '=', bitrix_id),
                ('origin', 'like', 'party.party,%'),
                ], limit=1)
        party_id = links[0].origin.id if links else None
    if party_id is None:
        return None
    found = clients(user, ids=[party_id])
    return found[0] if found else None


# Actions: each runs as the staff user (call as_staff); bad input is
# {field: message}

def client_errors(values):
    "{field: message} of the new-client form (the portal's own checks)"
    errors = {}
    name = values.get('name', '').strip()
    if not name:
        errors['name'] = gettext('bitrix_bridge.msg_dashboard_required')
    elif len(name) > NAME_MAX:
        errors['name'] = gettext('client_portal.msg_too_long')
    tax_number = values.get('tax_number', '').strip()
    if tax_number and not stdnum_nip.is_valid(tax_number):
        errors['tax_number'] = gettext('client_portal.msg_invalid_nip')
    errors.update(email_errors(values))
    return errors


def add_client(user, values):
    "(party, {}) or (None, errors): a new portal client the user looks after"
    pool = Pool()
    Party = pool.get('party.party')
    Lang = pool.get('ir.lang')
    errors = client_errors(values)
    if errors:
        return None, errors
    name = values['name'].strip()
    tax_number = values.get('tax_number', '').strip()
    email = values.get('email', '').strip()
    langs = Lang.search([('code', '=', 'pl')], limit=1)
    party, = Party.create([{
                'name': name,
                'portal_client': True,
                'portal_manager': user.id,
                'lang': langs[0].id if langs else None,
                'identifiers': [('create', [{'type': 'pl_vat',
                                'code': stdnum_nip.compact(tax_number)}])]
                if tax_number else [],
                'contact_mechanisms': [('create', [{'type': 'email',
                                'value': email}])] if email else [],
                }])
    return party, {}


def invite(user, client_id, email):
    """(web user, {}) or (None, errors): a portal user of one of the staff
    user's clients, sent the invitation with its set-password link"""
    WebUser = Pool().get('web.user')
    email = (email or '').strip()
    errors = email_errors({'email': email})
    if not email:
        errors['email'] = gettext('bitrix_bridge.msg_dashboard_required')
    found = clients(user, ids=[client_id]) if client_id else []
    if not found:
        errors['client'] = gettext('bitrix_bridge.msg_dashboard_no_client')
    if errors:
        return None, errors
    with without_check_access():
        # Whoever's it is: an e-mail address signs in one user only
        taken = WebUser.search([('email', '=', email)], limit=1)
    if taken:
        return None, {'email': gettext('bitrix_bridge.msg_dashboard_taken')}
    web_user, = WebUser.create([{'party': found[0].id, 'email': email}])
    WebUser.send_invitation([web_user])
    return web_user, {}


def new_password(user, web_user_id):
    """(web user, password) or (None, None): a strong random password set
    on a portal user of the staff user's clients, to be shown once"""
    WebUser = Pool().get('web.user')
    domain = client_domain(user)
    if domain is None or not web_user_id:
        return None, None
    users = WebUser.search([
            ('id', '=', web_user_id),
            ('active', '=', True),
            ] + [('party.' + f, o, v) for f, o, v in domain], limit=1)
    if not users:
        return None, None
    password = generate_password(16)
    WebUser.write(users, {'password': password, 'email_valid': True})
    return users[0], password


# Connection settings

def bind_placements(configuration, base_url):
    """Show the client's portal tab on Bitrix24's company and contact cards:
    placement.bind of CRM_COMPANY_DETAIL_TAB and CRM_CONTACT_DETAIL_TAB to
    <base_url>/<database>/bitrix/tab (§12.2). A binding already there is
    fine; a webhook cannot bind (WRONG_AUTH_TYPE, §1.1, §12.2): the OAuth
    application is needed. Returns the codes bound now"""
    database = Transaction().database.name
    handler = f'{base_url.rstrip("/")}/{database}/bitrix/tab'
    bound = []
    with configuration.client() as client:
        for code in TABS:
            try:
                client.call('placement.bind', {
                        'PLACEMENT': code,
                        'HANDLER': handler,
                        'TITLE': TAB_TITLES['en'],
                        'LANG_ALL': {lang: {'TITLE': title}
                            for lang, title in TAB_TITLES.items()},
                        })
            except rest.Bitrix24Error as error:
                if 'already binded' in (error.description or '').lower():
                    continue
                if (error.code or '').upper() == 'WRONG_AUTH_TYPE':
                    raise UserError(gettext(
                            'bitrix_bridge.msg_dashboard_bind_webhook'))
                raise UserError(gettext(
                        'bitrix_bridge.msg_dashboard_bind_failed',
                        error=str(error))) from error
            bound.append(code)
    return bound

