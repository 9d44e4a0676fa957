import datetime
import secrets
import string

from trytond import config
from trytond.exceptions import RateLimitException
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .mail import portal_url, send_portal_email

PORTAL_LANGUAGES = ('pl', 'en')


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    first_name = fields.Char("First Name")
    last_name = fields.Char("Last Name")
    language = fields.Selection([
            (None, ""),
            ('pl', "Polski"),
            ('en', "English"),
            ], "Language",
        help="Language of the portal pages and e-mails; "
        "empty follows the browser.")
    notify_documents = fields.Boolean(
        "Notify of New Documents by E-mail",
        help="Send an e-mail when the firm issues a new document.")
    invitation_sent_at = fields.Timestamp("Invitation Sent", readonly=True)
    last_login_at = fields.Timestamp("Last Login", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'send_invitation': {
                    'invisible': ~Eval('active', True),
                    'depends': ['active'],
                    },
                'generate_password_button': {
                    'invisible': ~Eval('active', True),
                    'depends': ['active'],
                    },
                })

    # party.portal_users makes party the parent of web users
    @fields.depends('_parent_party.email')
    def on_change_party(self):
        super().on_change_party()

    @classmethod
    def default_notify_documents(cls):
        return True

    @property
    def full_name(self):
        return ' '.join(filter(None, [self.first_name, self.last_name]))

    @property
    def portal_language(self):
        "The language the user chose, else the client's, else None"
        if self.language:
            return self.language
        if self.party and self.party.lang:
            code = self.party.lang.code.split('_')[0]
            if code in PORTAL_LANGUAGES:
                return code

    @property
    def languages(self):
        pool = Pool()
        Lang = pool.get('ir.lang')
        code = self.portal_language
        if code:
            return Lang.search([('code', '=', code)], limit=1)
        return super().languages

    @classmethod
    def authenticate(cls, email, password):
        """Same checks and counters as web_user's, without its server-side
        sleep of 2**n - 1 seconds per failure: that sleep holds a server
        thread, so a few bad logins would stall the portal for everybody.
        The attempt counter still locks the login out (RateLimitException)."""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        email = (email or '').strip().lower()
        if Attempt.count_ip() > config.getint(
                'session', 'max_attempt_ip_network', default=300):
            raise RateLimitException()
        if Attempt.count(email) >= config.getint(
                'session', 'max_attempt', default=5):
            Attempt.add(email)
            raise RateLimitException()
        users = cls.search([('email', '=', email)], limit=1)
        if users:
            user, = users
            # A hash is always computed so that the reply time does not
            # tell whether the e-mail exists.
            valid, _ = cls.check_password(password, user.password_hash)
            if valid:
                Attempt.remove(email)
                return user
        else:
            cls.check_password(password, _dummy_hash())
        Attempt.add(email)

    @classmethod
    def set_password_token(cls, email, token, password):
        "web_user's check without its thread-holding sleep"
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        email = (email or '').strip().lower()
        if Attempt.count(email) >= config.getint(
                'session', 'max_attempt', default=5):
            raise RateLimitException()
        users = cls.search([('email', '=', email)], limit=1)
        if users and token:
            user, = users
            if (user.reset_password_token
                    and secrets.compare_digest(
                        user.reset_password_token, token)):
                expire = user.reset_password_token_expire
                user.clear_reset_password_token()
                if expire and expire > datetime.datetime.now():
                    user.password = password
                    user.email_valid = True
                    user.save()
                    Attempt.remove(email)
                    return True
                user.save()
        Attempt.add(email)
        return False

    @classmethod
    def check_reset_token(cls, email, token):
        "Return the user if the token is valid, without consuming it"
        users = cls.search([('email', '=', (email or '').lower())], limit=1)
        if users and token:
            user, = users
            if (user.reset_password_token
                    and secrets.compare_digest(
                        user.reset_password_token, token)
                    and user.reset_password_token_expire
                    and user.reset_password_token_expire
                    > datetime.datetime.now()):
                return user

    def set_reset_password_token(self, nbytes=None, days=None):
        super().set_reset_password_token(nbytes=nbytes)
        if days:
            self.reset_password_token_expire = (
                datetime.datetime.now() + datetime.timedelta(days=days))

    def get_set_password_url(self):
        from urllib.parse import urlencode
        return portal_url('set-password?' + urlencode({
                    'email': self.email,
                    'token': self.reset_password_token,
                    }))

    def send_portal_email(self, name):
        "The invitation or reset e-mail with this user's set-password link"
        send_portal_email(name, self.email, self.portal_language or 'pl',
            user=self, link=self.get_set_password_url(),
            expires=self.reset_password_token_expire)

    @classmethod
    def portal_reset_password(cls, users):
        "Send the portal's reset e-mail unless a valid link is pending"
        now = datetime.datetime.now()
        to_reset = [u for u in users
            if not (u.reset_password_token_expire
                and u.reset_password_token_expire > now)]
        for user in to_reset:
            user.set_reset_password_token()
        cls.save(to_reset)
        for user in to_reset:
            user.send_portal_email('reset_password')
        return to_reset

    @classmethod
    @ModelView.button
    def send_invitation(cls, users):
        days = config.getint('portal', 'invitation_days', default=7)
        now = datetime.datetime.now()
        for user in users:
            user.set_reset_password_token(days=days)
            user.invitation_sent_at = now
        cls.save(users)
        for user in users:
            user.send_portal_email('invitation')

    @classmethod
    @ModelView.button_action('client_portal.wizard_generate_password')
    def generate_password_button(cls, users):
        pass

    def touch_login(self):
        self.last_login_at = datetime.datetime.now()
        self.save()


_DUMMY_HASH = None


def _dummy_hash():
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        from trytond.res.user import PASSWORD_HASH
        _DUMMY_HASH = PASSWORD_HASH.hash(secrets.token_hex(8))
    return _DUMMY_HASH


def generate_password(length=14):
    alphabet = string.ascii_letters + string.digits
    while True:
        password = ''.join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.islower() for c in password)
                and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password)):
            return password


class GeneratePasswordStart(ModelView):
    "Generated Portal Password"
    __name__ = 'web.user.generate_password.start'

    email = fields.Char("E-mail", readonly=True)
    password = fields.Char(
        "Password", readonly=True,
        help="Give this password to the client; it is not shown again.")


class GeneratePassword(Wizard):
    "Generate Portal Password"
    __name__ = 'web.user.generate_password'

    start_state = 'generate'
    generate = StateTransition()
    show = StateView(
        'web.user.generate_password.start',
        'client_portal.generate_password_start_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_generate(self):
        self._password = generate_password()
        user = self.record
        user.password = self._password
        user.email_valid = True
        user.save()
        return 'show'

    def default_show(self, fields):
        return {
            'email': self.record.email,
            'password': getattr(self, '_password', ''),
            }
