"""The portal chat: sending, bad input kept in the form, the CSRF check,
the poll that returns only newer messages, another client's messages
never shown, the menu's unread badge, the e-mail of an unread reply."""
import datetime
import re

import pytest
from portal_http import Browser, in_transaction, read_only, text

from trytond.pool import Pool
from trytond.transaction import Transaction

# Written by the manager: the tests wait for these texts
REPLY = "Faktura jest już zaksięgowana."
LATE_REPLY = "Proszę jeszcze o wyciąg z banku."


def _chat_set_up(manager_login):
    "Client a's manager Anna; b has none"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    with Transaction().set_context(active_test=False):
        found = User.search([('login', '=', manager_login)])
    if found:
        User.write(found, {'active': True})
        return found[0].id
    manager, = User.create([{
                'login': manager_login, 'name': "Anna Opiekun",
                'groups': [('add', [ModelData.get_id(
                                'client_portal', 'group_portal_manager')])],
                }])
    return manager.id


def _assign(party_id, manager_id):
    Party = Pool().get('party.party')
    Party.write([Party(party_id)], {'portal_manager': manager_id})


def _clean_up(party_ids, manager_id):
    """What the chat added to the shared clients: their messages, cards and
    the staff's notifications; the manager unassigned"""
    pool = Pool()
    Message = pool.get('portal.chat.message')
    Card = pool.get('portal.notification')
    Notification = pool.get('res.notification')
    User = pool.get('res.user')
    Message.delete(Message.search([('party', 'in', party_ids)]))
    Card.delete(Card.search([('kind', '=', 'chat_reply')]))
    Notification.delete(Notification.search(
            [('action_value', 'like', '%pyson_domain%party%')]))
    _assign(party_ids[0], None)
    User.write([User(manager_id)], {'active': False})


@pytest.fixture(scope='module')
def manager(data):
    manager_id = in_transaction(_chat_set_up, 'anna.chat')
    in_transaction(_assign, data.clients['a'], manager_id)
    yield manager_id
    in_transaction(_clean_up, [data.clients['a'], data.clients['b']],
        manager_id)


def _reply(manager_id, party_id, body):
    "The manager's reply from the back office"
    def post():
        pool = Pool()
        Message = pool.get('portal.chat.message')
        Party = pool.get('party.party')
        return Message.post_staff_reply(Party(party_id), body).id
    from client_portal.demo import run_in_transaction
    from portal_http import DB
    return run_in_transaction(DB, post, user_id=manager_id)


def _messages(party_id):
    Message = Pool().get('portal.chat.message')
    return [(m.id, m.author, m.body, m.read_at is not None)
        for m in Message.search([('party', '=', party_id)],
            order=[('id', 'ASC')])]


def _last_id(response):
    ids = re.findall(r'id="message-(\d+)"', response.get_data(as_text=True))
    return int(ids[-1])


def test_client_sends_and_reads_the_conversation(as_a, data, manager):
    page = as_a.get('chat')
    assert page.status_code == 200
    assert "Anna Opiekun" in text(page)
    assert 'hx-trigger="every 5s"' in page.get_data(as_text=True)

    response = as_a.post('chat', {'body': "  Czy faktura FZ/12 doszła?\r\n"
            "Pozdrawiam  "})
    assert response.status_code == 303
    assert response.headers['Location'].endswith('/portal/chat')
    last = read_only(_messages, data.clients['a'])[-1]
    assert last[1:3] == ('client', "Czy faktura FZ/12 doszła?\nPozdrawiam")
    page = as_a.get('chat')
    html = page.get_data(as_text=True)
    assert "Czy faktura FZ/12 doszła?<br>Pozdrawiam" in html
    assert "Jan Kowalski" in text(page)


@pytest.mark.parametrize('body,message', [
        ('', 'Write a message before sending it.'),
        (' \r\n ', 'Write a message before sending it.'),
        ('Długo ' * 700, 'shorten it to 4000 at most'),
        ])
def test_bad_input_is_refused_with_the_text_kept(as_a, data, manager, body,
        message):
    before = read_only(_messages, data.clients['a'])
    response = as_a.post('chat', {'body': body})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text(response)
    assert 'id="body-error"' in html and 'aria-invalid="true"' in html
    # The text typed is in the form again, as typed
    textarea = re.search(r'<textarea[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea.group(1) == body.replace('\r\n', '\n') or (
        textarea.group(1) == body)
    assert read_only(_messages, data.clients['a']) == before


def test_missing_csrf_token_is_refused(as_a, data, manager):
    before = read_only(_messages, data.clients['a'])
    response = as_a.post('chat', {'body': "Bez tokenu"}, csrf=False)
    assert response.status_code == 403
    response = as_a.post('chat', {'body': "Zły token",
            'csrf_token': 'x' * 64})
    assert response.status_code == 403
    assert read_only(_messages, data.clients['a']) == before


def test_the_poll_returns_only_newer_messages(as_a, data, manager):
    as_a.post('chat', {'body': "Pytanie przed odpowiedzią"})
    last = _last_id(as_a.get('chat'))
    nothing = as_a.get(f'chat/messages?after={last}')
    assert nothing.status_code == 200
    assert 'id="message-' not in nothing.get_data(as_text=True)
    assert f'after={last}"' in nothing.get_data(as_text=True)

    reply = _reply(manager, data.clients['a'], REPLY)
    poll = as_a.get(f'chat/messages?after={last}',
        headers={'HX-Request': 'true'})
    html = poll.get_data(as_text=True)
    assert poll.status_code == 200
    assert re.findall(r'id="message-(\d+)"', html) == [str(reply)]
    assert REPLY in text(poll) and "Anna Opiekun" in text(poll)
    assert "Pytanie przed odpowiedzią" not in text(poll)
    assert 'hx-swap-oob="beforeend:#chat-messages"' in html
    # The next poll asks from the reply on
    assert f'after={reply}"' in html
    # Seen: read, and no more a new reply in the menu
    assert read_only(_messages, data.clients['a'])[-1] == (
        reply, 'staff', REPLY, True)
    assert 'id="chat-unread"' not in as_a.get('').get_data(as_text=True)


@pytest.mark.parametrize('after', ['x', '', '-1', '1e3', '١٢',
        '99999999999', '2147483648'])
def test_an_after_that_is_no_id_is_404(as_a, manager, after):
    response = as_a.get('chat/messages', query_string={'after': after})
    assert response.status_code == 404
    assert 'Traceback' not in response.get_data(as_text=True)


def test_another_clients_messages_never_show(as_a, as_b, data, manager):
    as_b.post('chat', {'body': "Wiadomość Bety"})
    a_texts = [m[2] for m in read_only(_messages, data.clients['a'])]
    assert a_texts
    for page in [as_b.get('chat'), as_b.get('chat/messages?after=0'),
            as_b.get('chat/messages?after=1')]:
        assert page.status_code == 200
        body = text(page)
        for message in a_texts:
            assert message.split('\n')[0] not in body
    assert "Wiadomość Bety" in text(as_b.get('chat'))
    # And a's conversation holds none of b's
    assert "Wiadomość Bety" not in text(as_a.get('chat'))
    assert "Wiadomość Bety" not in text(as_a.get('chat/messages?after=0'))
    # b has no manager: the firm's team answers
    assert "no manager is assigned" in text(as_b.get('chat'))


def test_the_menu_counts_unread_replies(as_a, data, manager):
    _reply(manager, data.clients['a'], "Pierwsza nowa")
    _reply(manager, data.clients['a'], "Druga nowa")
    home = as_a.get('').get_data(as_text=True)
    badge = re.search(r'id="chat-unread">(\d+)<', home)
    assert badge and badge.group(1) == '2'
    chat = as_a.get('chat')
    assert 'id="chat-unread"' not in chat.get_data(as_text=True)
    polish = Browser(language='pl')
    polish.login(data.users['a2'][1])
    assert 'Czat' in text(polish.get(''))


def _send_due_emails():
    "The cron as it runs ten minutes and a second later"
    from client_portal.chat import EMAIL_DELAY
    Message = Pool().get('portal.chat.message')
    now = datetime.datetime.now() + EMAIL_DELAY + datetime.timedelta(
        seconds=1)
    return len(Message.email_unread_replies(now=now))


def test_an_unread_reply_is_emailed_once(as_a, data, manager, smtp):
    # Everything before is e-mailed or read: only this reply is due
    in_transaction(_send_due_emails)
    as_a.get('chat')
    smtp.clear()
    _reply(manager, data.clients['a'], LATE_REPLY)
    assert in_transaction(_send_due_emails) == 1
    message = smtp.wait_for(lambda m: 'jan@alfa.example' in m['To'])
    assert 'ewa@alfa.example' in message['To']
    assert 'olga@beta.example' not in message['To']
    plain = message.get_body(('plain',)).get_content()
    assert 'https://portal.example.com/' in plain
    assert plain.rstrip().count('/portal/chat') == 1
    # The reply's text stays in the portal
    assert LATE_REPLY not in plain
    # Once
    assert in_transaction(_send_due_emails) == 0
    assert len([m for m in smtp.messages
            if 'jan@alfa.example' in m['To']]) == 1


def _polish_email(party_id):
    from client_portal.mail import build_message
    Party = Pool().get('party.party')
    msg = build_message('chat_reply', 'pl', party=Party(party_id), count=3,
        author="Anna Opiekun", link='https://x/chat')
    return (str(msg['Subject']), msg.get_body(('html',)).get_content(),
        msg.get_body(('plain',)).get_content())


def test_polish_chat_has_no_english_label(data, manager):
    from test_portal_translations import english_labels, english_on
    patterns = english_labels()
    polish = Browser(language='pl')
    polish.login(data.users['a2'][1])
    for response in [polish.get('chat'), polish.post('chat', {'body': ''}),
            polish.get('chat/messages?after=0')]:
        html = response.get_data(as_text=True)
        assert not english_on(html, patterns), english_on(html, patterns)
    assert "Przed wysłaniem napisz wiadomość." in text(
        polish.post('chat', {'body': ' '}))
    subject, html, plain = in_transaction(_polish_email, data.clients['a'])
    assert subject == "Nowa odpowiedź na czacie portalu: Anna Opiekun"
    for part in [f'<title>{subject}</title>', html,
            ''.join(f'<p>{line}</p>' for line in plain.splitlines())]:
        assert not english_on(part, patterns)
    assert "3 nieprzeczytane odpowiedzi" in plain
    assert 'https://x/chat' in html and 'https://x/chat' in plain
