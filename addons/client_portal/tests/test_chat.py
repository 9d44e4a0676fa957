"The portal chat: record rules, staff visibility, notifications, e-mails"
import datetime
import json
from contextlib import ExitStack

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from ..chat import EMAIL_DELAY, MAX_LENGTH
from ..demo import create_portal_user, create_staff, setup_firm
from .committed import CommittedTestCase, capture_mail
from .test_module import _as_client, _clients, _manager

TODAY = datetime.date(2026, 11, 23)


def _portal(web_user):
    "The portal's access environment for the web user"
    stack = ExitStack()
    for manager in _as_client(web_user):
        stack.enter_context(manager)
    return stack


def _staff(user):
    stack = ExitStack()
    stack.enter_context(Transaction().set_user(user.id))
    stack.enter_context(check_access())
    return stack


def _age(messages, delta):
    "Backdate the messages as if written delta ago"
    Message = Pool().get('portal.chat.message')
    table = Message.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.update([table.create_date],
            [datetime.datetime.now() - delta],
            where=table.id.in_([m.id for m in messages])))


class ChatTestCase(CommittedTestCase):
    "Test the chat between portal clients and their managers"

    def setUp(self):
        # The e-mails the cron builds, instead of sending them
        self.sent = capture_mail(self)

    @classmethod
    def build(cls):
        """The firm; client a with two users (English, Polish) and its
        manager Anna, client b with one user and no manager; an
        accountant"""
        firm = setup_firm(TODAY, logo=False)
        a, b = _clients(firm)
        users = {
            'a': create_portal_user(a, 'jan@alfa.example', None, "Jan",
                "Kowalski", 'en'),
            'a2': create_portal_user(a, 'ewa@alfa.example', None, "Ewa",
                "Nowak", 'en'),
            'b': create_portal_user(b, 'olga@beta.example', None, "Olga",
                "Wiśniewska", 'pl'),
            }
        manager = _manager('anna', a)
        accountant = create_staff(firm, 'konto', "Konto",
            ['client_portal.group_portal_accountant'], 'Pass-word-2026')
        return firm, a, b, users, manager, accountant

    def _post(self, web_user, body):
        Message = Pool().get('portal.chat.message')
        with _portal(web_user):
            message, errors = Message.portal_post(
                web_user.party, web_user, body)
        self.assertEqual(errors, {})
        return message

    @with_transaction()
    def test_client_reads_and_writes_only_its_chat(self):
        "A client's messages are invisible and closed to the other client"
        Message = Pool().get('portal.chat.message')
        firm, a, b, users, manager, _ = self.setup()
        mine = self._post(users['a'], "  Dzień dobry,\r\nmam pytanie.  ")
        self.assertEqual(mine.body, "Dzień dobry,\nmam pytanie.")
        self.assertEqual((mine.author, mine.web_user, mine.party),
            ('client', users['a'], a))
        with _portal(users['a2']):
            # Another user of the same client sees it
            self.assertEqual(Message.portal_messages(a)[0], [mine])
        with _portal(users['b']):
            self.assertEqual(Message.search([]), [])
            self.assertEqual(Message.portal_messages(a), ([], False))
            self.assertEqual(Message.portal_unread_count(a), 0)
            with self.assertRaises(AccessError):
                Message.portal_post(a, users['b'], "Podszywam się")
            with self.assertRaises(AccessError):
                Message.write([Message(mine.id)],
                    {'read_at': datetime.datetime.now()})

    @with_transaction()
    def test_body_is_checked_and_kept(self):
        "Empty and oversized texts are refused; a sent text never changes"
        Message = Pool().get('portal.chat.message')
        firm, a, b, users, manager, _ = self.setup()
        with _portal(users['a']):
            for body in ['', ' \r\n\t ', 'x' * (MAX_LENGTH + 1)]:
                message, errors = Message.portal_post(a, users['a'], body)
                self.assertIsNone(message)
                self.assertTrue(errors['body'])
            # Line ends count once, as the browser's counter shows them
            message, errors = Message.portal_post(
                a, users['a'], 'x\r\n' * (MAX_LENGTH // 2))
            self.assertEqual(errors, {})
            with self.assertRaises(AccessError):
                Message.write([message], {'body': "Inna treść"})
        self.assertEqual(Message.search_count([]), 1)

    @with_transaction()
    def test_managers_see_their_clients_chats(self):
        "A manager sees its clients' chats only, the accountants all"
        pool = Pool()
        Message = pool.get('portal.chat.message')
        firm, a, b, users, manager, accountant = self.setup()
        of_a = self._post(users['a'], "Pytanie od Alfy")
        of_b = self._post(users['b'], "Pytanie od Bety")
        with _staff(manager):
            self.assertEqual(Message.search([]), [of_a])
            self.assertEqual(Message.search([('unread', '=', True)]), [of_a])
            reply = Message.post_staff_reply(a, "Odpowiedź")
        with _staff(accountant):
            # The unread first, then the newest
            self.assertEqual(Message.search([]), [of_b, reply, of_a])
        with _staff(manager):
            with self.assertRaises(AccessError):
                Message.post_staff_reply(b, "Nie mój klient")
        self.assertEqual((reply.author, reply.user), ('staff', manager))
        # The reply answered the client's message
        self.assertIsNotNone(Message(of_a.id).read_at)
        self.assertIsNone(Message(of_b.id).read_at)
        with self.assertRaises(UserError):
            Message.post_staff_reply(a, "   ")

    @with_transaction()
    def test_the_other_side_is_notified(self):
        """A client's message notifies its manager (the heads when it has
        none); replies put one unread card on the client's portal"""
        pool = Pool()
        Message = pool.get('portal.chat.message')
        Notification = pool.get('res.notification')
        Card = pool.get('portal.notification')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        firm, a, b, users, manager, _ = self.setup()
        self._post(users['a'], "Proszę o kontakt w sprawie VAT")
        notification, = Notification.search([('user', '=', manager.id)])
        self.assertIn(a.name, notification.label)
        self.assertEqual(notification.description,
            "Proszę o kontakt w sprawie VAT")
        self.assertEqual(notification.action.id, pool.get(
                'ir.action.act_window')(ModelData.get_id(
                    'client_portal', 'act_chat_message_form')).action.id)
        self.assertIn(str(a.id), json.loads(
                notification.action_value)['pyson_domain'])
        self._post(users['b'], "Beta bez opiekuna")
        heads = User.search([('groups', '=', ModelData.get_id(
                        'client_portal', 'group_portal_head'))])
        self.assertTrue(heads)
        for head in heads:
            self.assertEqual(Notification.search_count(
                    [('user', '=', head.id)]), 1)

        with _staff(manager):
            Message.post_staff_reply(a, "Pierwsza odpowiedź")
            Message.post_staff_reply(a, "Druga odpowiedź")
        card, = Card.search(
            [('party', '=', a.id), ('kind', '=', 'chat_reply')])
        with _portal(users['a']):
            self.assertEqual(Message.portal_unread_count(a), 2)
            messages, _ = Message.portal_messages(a)
            Message.portal_mark_read(a, messages)
            self.assertEqual(Message.portal_unread_count(a), 0)
        self.assertIsNotNone(Card(card.id).read_at)
        with _staff(manager):
            Message.post_staff_reply(a, "Trzecia odpowiedź")
        self.assertEqual(Card.search_count([('party', '=', a.id),
                    ('kind', '=', 'chat_reply'), ('read_at', '=', None)]), 1)

    @with_transaction()
    def test_polling_returns_only_newer_messages(self):
        "The poll continues from the last id it got, in order"
        Message = Pool().get('portal.chat.message')
        firm, a, b, users, manager, _ = self.setup()
        first = self._post(users['a'], "Pierwsza")
        with _staff(manager):
            second = Message.post_staff_reply(a, "Druga")
            third = Message.post_staff_reply(a, "Trzecia")
        with _portal(users['a']):
            self.assertEqual(Message.portal_messages(a, first.id),
                ([second, third], False))
            self.assertEqual(Message.portal_messages(a, second.id, limit=5),
                ([third], False))
            self.assertEqual(Message.portal_messages(a, third.id),
                ([], False))
            self.assertEqual(Message.portal_messages(a, limit=2),
                ([second, third], True))

    @with_transaction()
    def test_unread_replies_are_emailed_once_per_client(self):
        """Replies unread for ten minutes: one e-mail per client to its
        users, in their language, once; read or recent replies wait"""
        pool = Pool()
        Message = pool.get('portal.chat.message')
        firm, a, b, users, manager, accountant = self.setup()
        with _staff(accountant):
            old = [Message.post_staff_reply(a, "Odpowiedź 1"),
                Message.post_staff_reply(a, "Odpowiedź 2"),
                Message.post_staff_reply(b, "Odpowiedź dla Bety")]
            read = Message.post_staff_reply(b, "Przeczytana")
            recent = Message.post_staff_reply(a, "Świeża")
        _age(old + [read], EMAIL_DELAY + datetime.timedelta(seconds=1))
        _age([recent], EMAIL_DELAY - datetime.timedelta(minutes=1))
        Message.write([read], {'read_at': datetime.datetime.now()})

        Message.email_unread_replies()
        self.assertEqual(len(self.sent), 2)
        to_a, = [m for m in self.sent if 'jan@alfa.example' in m['To']]
        self.assertIn('ewa@alfa.example', to_a['To'])
        self.assertEqual(to_a['Subject'], "Konto replied in the portal chat")
        plain = to_a.get_body(('plain',)).get_content()
        self.assertIn("has 2 unread replies", plain)
        self.assertIn('/portal/chat', plain)
        to_b, = [m for m in self.sent if m['To'] == 'olga@beta.example']
        self.assertIn("czacie", str(to_b['Subject']))
        self.assertEqual([m.emailed for m in Message.browse(old)],
            [True] * 3)
        self.assertFalse(Message(read.id).emailed)
        self.assertFalse(Message(recent.id).emailed)

        # Once: a later run tells only of the reply that became due
        self.sent.clear()
        Message.email_unread_replies()
        self.assertEqual(self.sent, [])
        Message.email_unread_replies(
            now=datetime.datetime.now() + EMAIL_DELAY)
        to_a, = self.sent
        self.assertIn("has 1 unread reply", to_a.get_body(
                ('plain',)).get_content())
