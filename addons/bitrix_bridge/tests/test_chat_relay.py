"""The portal chat through Bitrix24's chat: a client's message reaches the
client's Bitrix24 chat with the manager, the manager's reply there comes
back as a staff reply the client is told of, once; the bridge's own
messages are not read back; a manager without a Bitrix24 user keeps the
chat in the portal."""
import datetime

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from client_portal.demo import create_portal_user

from .bridge_setup import BridgeTestCase, bridge_firm, configure

TODAY = datetime.date.today()
MANAGER = 2


class ChatRelayTestCase(BridgeTestCase):
    @classmethod
    def build(cls):
        User = Pool().get('res.user')
        firm, client, template, buyer = bridge_firm(TODAY)
        user = create_portal_user(client, 'jan@alfa.example')
        manager, = User.create([{'login': 'marta', 'name': "Marta Nowak",
                    'bitrix_user_id': MANAGER}])
        client.portal_manager = manager
        client.save()
        configure(cls.b24.webhook_url, cls.b24.base_url)
        return client, user, manager

    def _post(self, client, user, text):
        Message = Pool().get('portal.chat.message')
        message, errors = Message.portal_post(client, user, text)
        self.assertFalse(errors)
        return message

    @with_transaction()
    def test_message_out_reply_back(self):
        pool = Pool()
        Message = pool.get('portal.chat.message')
        Party = pool.get('party.party')
        Notification = pool.get('portal.notification')
        client, user, manager = self.setup()
        message = self._post(client, user, "Kiedy będzie gotowy bilans?")
        Message.bitrix_relay()
        message = Message(message.id)
        self.assertTrue(message.bitrix_message_id)
        chat_id = Party(client.id).bitrix_chat_id
        texts = [m['text'] for m in self.b24.app.chat_messages(chat_id)]
        self.assertTrue(any("Kiedy będzie gotowy bilans?" in t
                for t in texts), texts)

        self.b24.app.reply(f'chat{chat_id}', "W piątek.", MANAGER)
        Message.bitrix_fetch()
        Message.bitrix_fetch()
        reply, = Message.search([('author', '=', 'staff')])
        self.assertEqual((reply.body, reply.user), ("W piątek.", manager))
        self.assertTrue(Notification.search([('party', '=', client.id),
                    ('kind', '=', 'chat_reply')]))
        # The reply came from Bitrix24: it is not sent there again
        Message.bitrix_relay()
        texts = [m['text'] for m in self.b24.app.chat_messages(chat_id)]
        self.assertEqual(sum("W piątek." in t for t in texts), 1)

    @with_transaction()
    def test_staff_reply_from_the_back_office_goes_to_bitrix24(self):
        pool = Pool()
        Message = pool.get('portal.chat.message')
        Party = pool.get('party.party')
        client, user, manager = self.setup()
        self._post(client, user, "Dzień dobry")
        Message.bitrix_relay()
        Message.post_staff_reply(client, "Dzień dobry, w czym pomóc?")
        Message.bitrix_relay()
        chat_id = Party(client.id).bitrix_chat_id
        texts = [m['text'] for m in self.b24.app.chat_messages(chat_id)]
        self.assertTrue(any("w czym pomóc?" in t for t in texts), texts)
        # Read back, the bridge's own messages are not replies
        Message.bitrix_fetch()
        self.assertEqual(Message.search_count([]), 2)

    @with_transaction()
    def test_manager_without_bitrix24_user_keeps_the_chat_local(self):
        pool = Pool()
        Message = pool.get('portal.chat.message')
        User = pool.get('res.user')
        client, user, manager = self.setup()
        User.write([manager], {'bitrix_user_id': None})
        message = self._post(client, user, "Pytanie")
        Message.bitrix_relay()
        message = Message(message.id)
        self.assertIsNone(message.bitrix_message_id)
        self.assertTrue(message.bitrix_error)
        self.assertEqual(self.b24.app.calls(), [])
