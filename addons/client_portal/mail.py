"""The portal's e-mails: Jinja2 templates under templates/email/, each an
HTML page and a plain-text twin, sent when the transaction commits."""
import html
from collections import Counter
from email.message import EmailMessage

from trytond import config
from trytond.pool import Pool
from trytond.sendmail import send_message_transactional
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction


def portal_url(path):
    "Absolute URL of a portal page, for e-mails"
    base = config.get('portal', 'base_url', default='http://localhost:8000')
    database = Transaction().database.name
    return f'{base.rstrip("/")}/{database}/portal/{path.lstrip("/")}'


def build_message(name, language, **context):
    "The message of templates/email/<name>.html and .txt in the language"
    # The portal pages import the models, which send e-mails: import late
    from .web import render
    pool = Pool()
    Company = pool.get('company.company')
    branding = Company.portal_branding(language)
    company = Company(branding['id']) if branding else None
    with Transaction().set_context(language=language):
        formatter = render.Formatter(branding.get('timezone'))
        context.update(
            company=company, portal_url=portal_url,
            format_date=formatter.date, format_datetime=formatter.datetime,
            format_amount=formatter.amount)
        page = render.render_module(f'email/{name}.html', language, **context)
        text = render.render(f'email/{name}.txt', language, **context)
    msg = EmailMessage()
    msg['Subject'] = ' '.join(html.unescape(str(page.subject)).split())
    msg.set_content(text)
    msg.add_alternative(str(page), subtype='html')
    return msg


def send_portal_email(name, recipient, language, **context):
    "Render an e-mail in the recipient's language and send it at commit"
    msg = build_message(name, language, **context)
    from_ = config.get('email', 'from')
    set_from_header(msg, from_, from_)
    msg['To'] = recipient
    send_message_transactional(msg)
    return msg


def client_recipients(party):
    """The client's active users with an address, as one To header, and
    the language most of them read; (None, None) without any"""
    users = [u for u in party.portal_users if u.active and u.email]
    if not users:
        return None, None
    languages = Counter(u.portal_language or 'pl' for u in users)
    return (', '.join(u.email for u in users),
        languages.most_common(1)[0][0])
