"""Comments on portal documents: a thread on each kind of record, its client
taken from the record, the record rules, immutability, and the
notifications both ways (the manager's, the client's card and e-mail)"""
import datetime
from unittest import mock

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .. import comment as comment_module
from ..chat import MAX_LENGTH
from ..demo import create_invoice, create_portal_user, setup_firm
from ..demo_outgoing import create_contractor
from .committed import CommittedTestCase
from .test_chat import _portal, _staff
from .test_module import LINES, _clients, _manager

TODAY = datetime.date(2026, 11, 23)


class CommentTestCase(CommittedTestCase):
    "Test the comment threads under portal documents"

    @classmethod
    def build(cls):
        """Clients a and b with a user each; for each: a firm's document,
        an invoice it issued, a cost invoice; a's manager Anna"""
        pool = Pool()
        Document = pool.get('portal.document')
        Invoice = pool.get('account.invoice')
        CostInvoice = pool.get('portal.cost.invoice')
        firm = setup_firm(TODAY, logo=False)
        a, b = _clients(firm)
        users = {
            'a': create_portal_user(a, 'jan@alfa.example'),
            'b': create_portal_user(b, 'olga@beta.example'),
            }
        records = {}
        for key, client in [('a', a), ('b', b)]:
            invoice = create_invoice(firm, client, TODAY, LINES)
            records[key, 'document'], = Document.search(
                [('origin', '=', str(invoice))])
            supplier = create_contractor(firm, client, "Hotel Polonia",
                "ul. Wspólna 12", '00-681', "Warszawa")
            # The client's own invoice to its customer (outgoing.py)
            own = create_invoice(firm, supplier, TODAY, LINES, post=False)
            Invoice.write([own], {'portal_issuer': client.id})
            records[key, 'invoice'] = own
            records[key, 'cost'], = CostInvoice.create([{
                        'company': firm.company.id,
                        'client': client.id,
                        'supplier': supplier.id,
                        'number': f'FV/{key}/1',
                        'kind': 'invoice',
                        'invoice_date': TODAY,
                        'receipt_date': TODAY,
                        'currency': firm.pln.id,
                        'language': 'pl',
                        'entry': 'lines',
                        'payment_method': 'transfer',
                        'payment_status': 'unpaid',
                        }])
        manager = _manager('anna', a)
        return a, b, users, records, manager

    def setUp(self):
        super().setUp()
        self.sent = []
        patcher = mock.patch.object(comment_module, 'send_portal_email',
            side_effect=lambda *args, **context:
            self.sent.append((args[0], args[1], context)))
        patcher.start()
        self.addCleanup(patcher.stop)

    def _post(self, user, resource, body="Proszę o korektę terminu."):
        Comment = Pool().get('portal.comment')
        with _portal(user):
            return Comment.portal_post(resource, user, body)

    @with_transaction()
    def test_thread_on_each_kind_with_the_client_of_the_record(self):
        Comment = Pool().get('portal.comment')
        a, _, users, records, _ = self.setup()
        for kind in ['document', 'invoice', 'cost']:
            resource = records['a', kind]
            comment, errors = self._post(users['a'], resource)
            self.assertEqual(errors, {})
            self.assertEqual((comment.party, comment.author,
                    comment.web_user, comment.resource),
                (a, 'client', users['a'], resource))
            self.assertTrue(comment.unread)
            with _portal(users['a']):
                thread = Comment.portal_thread(resource)
            self.assertEqual([c['body'] for c in thread],
                ["Proszę o korektę terminu."])
        self.assertEqual(Comment.resource_path(records['a', 'cost']),
            f"costs/{records['a', 'cost'].id}")

    @with_transaction()
    def test_party_is_the_records_whatever_was_given(self):
        Comment = Pool().get('portal.comment')
        a, b, _, records, _ = self.setup()
        comment, = Comment.create([{
                    'resource': str(records['a', 'document']),
                    'party': b.id, 'author': 'staff',
                    'body': "Odpowiedź",
                    }])
        self.assertEqual(comment.party, a)

    @with_transaction()
    def test_client_cannot_read_or_write_on_another_clients_record(self):
        Comment = Pool().get('portal.comment')
        _, _, users, records, _ = self.setup()
        theirs, _ = self._post(users['b'], records['b', 'document'])
        for kind in ['document', 'invoice', 'cost']:
            with self.assertRaises(AccessError):
                self._post(users['a'], records['b', kind])
        with _portal(users['a']):
            self.assertEqual(Comment.search([]), [])
            with self.assertRaises(AccessError):
                Comment.read([theirs.id], ['body'])

    @with_transaction()
    def test_bad_text_and_immutability(self):
        Comment = Pool().get('portal.comment')
        _, _, users, records, _ = self.setup()
        for body in ['', '  \r\n ', 'x' * (MAX_LENGTH + 1)]:
            comment, errors = self._post(users['a'], records['a', 'document'],
                body)
            self.assertIsNone(comment)
            self.assertIn('body', errors)
        comment, _ = self._post(users['a'], records['a', 'document'],
            "Linia 1\r\nLinia 2")
        self.assertEqual(comment.body, "Linia 1\nLinia 2")
        with self.assertRaises(AccessError):
            Comment.write([comment], {'body': "Inaczej"})
        with self.assertRaises(AccessError):
            Comment.delete([comment])
        with self.assertRaises(UserError):
            Comment.post_staff_reply(records['a', 'document'], ' ')

    @with_transaction()
    def test_notifications_both_ways(self):
        pool = Pool()
        Comment = pool.get('portal.comment')
        ResNotification = pool.get('res.notification')
        Notification = pool.get('portal.notification')
        a, _, users, records, manager = self.setup()
        document = records['a', 'document']
        comment, _ = self._post(users['a'], document)
        notification, = ResNotification.search([('user', '=', manager.id)])
        self.assertIn(a.rec_name, notification.label)
        self.assertIn(document.number, notification.label)
        self.assertIn(str(document), notification.action_value)

        # The manager sees the comment and replies
        with _staff(manager):
            self.assertEqual(Comment.search([('unread', '=', True)]),
                [comment])
            reply = Comment.post_staff_reply(document, "Termin zmieniony.")
        self.assertEqual((reply.author, reply.user, reply.party),
            ('staff', manager, a))
        self.assertFalse(Comment(comment.id).unread)
        card, = Notification.search([('kind', '=', 'comment_reply')])
        self.assertEqual((card.party, card.comment, card.document),
            (a, reply, document))
        (name, to, context), = self.sent
        self.assertEqual((name, to), ('comment_reply', 'jan@alfa.example'))
        self.assertTrue(context['link'].endswith(f'documents/{document.id}'))
        self.assertNotIn('body', context)

        # Seen by the client: the reply and its card are read
        with _portal(users['a']):
            thread = Comment.portal_thread(document)
        self.assertEqual([(c['staff'], c['new']) for c in thread],
            [(False, False), (True, True)])
        self.assertTrue(Comment(reply.id).read_at)
        self.assertTrue(Notification(card.id).read_at)

    @with_transaction()
    def test_a_client_without_manager_goes_to_the_heads(self):
        pool = Pool()
        ResNotification = pool.get('res.notification')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        _, _, users, records, _ = self.setup()
        head, = User.create([{'login': 'szef', 'name': "Szef",
                    'groups': [('add', [ModelData.get_id(
                                    'client_portal', 'group_portal_head')])],
                    }])
        self._post(users['b'], records['b', 'invoice'])
        users = [n.user for n in ResNotification.search([])]
        self.assertIn(head, users)
        self.assertTrue(all(u.id != self.setup()[4].id for u in users))

    @with_transaction()
    def test_manager_sees_only_assigned_clients(self):
        Comment = Pool().get('portal.comment')
        _, _, users, records, manager = self.setup()
        mine, _ = self._post(users['a'], records['a', 'cost'])
        self._post(users['b'], records['b', 'cost'])
        with _staff(manager):
            self.assertEqual(Comment.search([]), [mine])
            with self.assertRaises(AccessError):
                Comment.post_staff_reply(records['b', 'cost'], "Nie.")
