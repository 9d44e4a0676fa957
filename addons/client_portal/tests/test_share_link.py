"Share links: creation, expiry, revocation, the stored hash, uses, rules"
import datetime
import hashlib

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from ..demo import create_invoice, create_portal_user, setup_firm
from ..share_link import MAX_DAYS
from .committed import CommittedTestCase
from .test_chat import _portal, _staff
from .test_module import LINES, _clients, _manager

TODAY = datetime.date(2026, 11, 23)


class ShareLinkTestCase(CommittedTestCase):
    "Test the links that share one document without a login"

    @classmethod
    def build(cls):
        """The firm; clients a and b with a user and a document each; a's
        manager Anna"""
        pool = Pool()
        Document = pool.get('portal.document')
        firm = setup_firm(TODAY, logo=False)
        a, b = _clients(firm)
        users = {
            'a': create_portal_user(a, 'jan@alfa.example'),
            'b': create_portal_user(b, 'olga@beta.example'),
            }
        documents = {}
        for key, client in [('a', a), ('b', b)]:
            invoice = create_invoice(firm, client, TODAY, LINES)
            documents[key], = Document.search(
                [('origin', '=', str(invoice))])
        manager = _manager('anna', a)
        return firm, a, b, users, documents, manager

    def _share(self, user, document, days=7):
        ShareLink = Pool().get('portal.share.link')
        with _portal(user):
            return ShareLink.create_link(document, user.party, user, days)

    @with_transaction()
    def test_create_stores_only_the_hash(self):
        "The token is returned once; the link keeps its SHA-256"
        ShareLink = Pool().get('portal.share.link')
        _, a, _, users, documents, _ = self.setup()
        before = datetime.datetime.now()
        link, token = self._share(users['a'], documents['a'], 3)
        self.assertEqual(len(token), 43)
        self.assertEqual(link.token_hash,
            hashlib.sha256(token.encode()).hexdigest())
        self.assertNotIn(token, str(ShareLink.read([link.id],
                    list(ShareLink._fields))))
        self.assertEqual((link.document, link.client, link.created_by),
            (documents['a'], a, users['a']))
        self.assertTrue(before + datetime.timedelta(days=3)
            <= link.expires_at
            <= datetime.datetime.now() + datetime.timedelta(days=3))
        self.assertEqual(link.state, 'active')
        self.assertEqual(ShareLink.resolve(token), link)
        self.assertEqual(ShareLink.resolve(token).document, documents['a'])
        self.assertIsNone(ShareLink.resolve(token[:-1] + '_'))
        self.assertIsNone(ShareLink.resolve(link.token_hash))
        # Two links of one document never share a token
        _, other = self._share(users['a'], documents['a'])
        self.assertNotEqual(other, token)

    @with_transaction()
    def test_validity_from_one_to_thirty_days(self):
        ShareLink = Pool().get('portal.share.link')
        _, _, _, users, documents, _ = self.setup()
        for days in [0, -1, MAX_DAYS + 1, 'x', None]:
            with self.assertRaises(UserError):
                self._share(users['a'], documents['a'], days)
        self.assertEqual(ShareLink.search_count([]), 0)
        for days in [1, MAX_DAYS]:
            self.assertEqual(
                self._share(users['a'], documents['a'], days)[0].state,
                'active')

    @with_transaction()
    def test_expired_and_revoked_links_resolve_to_nothing(self):
        ShareLink = Pool().get('portal.share.link')
        _, _, _, users, documents, _ = self.setup()
        expired, expired_token = self._share(users['a'], documents['a'])
        revoked, revoked_token = self._share(users['a'], documents['a'])
        ShareLink.write([expired], {
                'expires_at': datetime.datetime.now()
                - datetime.timedelta(seconds=1)})
        with _portal(users['a']):
            ShareLink.revoke_links([ShareLink(revoked.id)])
        self.assertEqual((expired.state, revoked.state),
            ('expired', 'revoked'))
        self.assertIsNone(ShareLink.resolve(expired_token))
        self.assertIsNone(ShareLink.resolve(revoked_token))
        # A second revoke keeps the first time
        revoked_at = revoked.revoked_at
        ShareLink.revoke_links([revoked])
        self.assertEqual(ShareLink(revoked.id).revoked_at, revoked_at)

    @with_transaction()
    def test_uses_are_logged(self):
        ShareLink = Pool().get('portal.share.link')
        _, _, _, users, documents, _ = self.setup()
        link, token = self._share(users['a'], documents['a'])
        ShareLink.resolve(token).log_use('page', '203.0.113.7', 'Bank/1.0')
        ShareLink.resolve(token).log_use('pdf', None, 'x' * 1000)
        link = ShareLink(link.id)
        self.assertEqual(link.use_count, 2)
        pdf, page = link.uses
        self.assertEqual((page.fetched, page.ip, page.user_agent),
            ('page', '203.0.113.7', 'Bank/1.0'))
        self.assertEqual((pdf.fetched, pdf.ip, len(pdf.user_agent)),
            ('pdf', None, 255))
        with _portal(users['a']):
            self.assertEqual(
                ShareLink.of_document(documents['a'])[0].use_count, 2)

    @with_transaction()
    def test_client_b_cannot_read_or_touch_a_links(self):
        pool = Pool()
        ShareLink = pool.get('portal.share.link')
        Use = pool.get('portal.share.link.use')
        _, a, _, users, documents, _ = self.setup()
        link, token = self._share(users['a'], documents['a'])
        ShareLink.resolve(token).log_use('page', '203.0.113.7', None)
        with _portal(users['b']):
            self.assertEqual(ShareLink.search([]), [])
            self.assertEqual(Use.search([]), [])
            self.assertEqual(ShareLink.of_document(documents['a']), [])
            with self.assertRaises(AccessError):
                ShareLink.read([link.id], ['expires_at'])
            with self.assertRaises(AccessError):
                ShareLink.revoke_links([ShareLink(link.id)])
        self.assertIsNone(ShareLink(link.id).revoked_at)
        with _portal(users['a']):
            self.assertEqual(ShareLink.search([]), [link])
            self.assertEqual(len(Use.search([])), 1)
        with _portal(users['b']):
            # Not for a's document, nor for a's client with b's document
            with self.assertRaises(AccessError):
                ShareLink.create_link(documents['a'], a, users['b'], 7)
            with self.assertRaises(AccessError):
                ShareLink.create_link(documents['b'], a, users['b'], 7)

    @with_transaction()
    def test_link_is_for_a_document_of_its_client(self):
        "Even as the firm, a link of a's document is a's"
        _, _, b, users, documents, _ = self.setup()
        ShareLink = Pool().get('portal.share.link')
        with self.assertRaises(AccessError):
            ShareLink.create_link(documents['a'], b, users['b'], 7)

    @with_transaction()
    def test_staff_read_and_revoke_their_clients_links(self):
        ShareLink = Pool().get('portal.share.link')
        _, _, _, users, documents, manager = self.setup()
        of_a, _ = self._share(users['a'], documents['a'])
        of_b, _ = self._share(users['b'], documents['b'])
        with _staff(manager):
            self.assertEqual(ShareLink.search([]), [of_a])
            ShareLink.revoke([ShareLink(of_a.id)])
            with self.assertRaises(AccessError):
                ShareLink.revoke([ShareLink(of_b.id)])
        self.assertEqual((ShareLink(of_a.id).state, ShareLink(of_b.id).state),
            ('revoked', 'active'))
        with Transaction().set_user(0), check_access():
            self.assertEqual(len(ShareLink.search([])), 2)

    @with_transaction()
    def test_staff_share_their_clients_documents(self):
        """The back office's wizard makes the link for the manager's own
        client only, shows its URL once and keeps who made it"""
        pool = Pool()
        ShareLink = pool.get('portal.share.link')
        Wizard = pool.get('portal.share.link.create', type='wizard')
        _, a, _, _, documents, manager = self.setup()

        def share(document, days):
            session_id, _, _ = Wizard.create()
            context = {'active_model': 'portal.document',
                'active_id': document.id, 'active_ids': [document.id]}
            with Transaction().set_context(**context):
                start = Wizard.execute(session_id, {}, 'start')
                self.assertEqual(start['view']['defaults']['days'], 7)
                return Wizard.execute(session_id, {'start': {
                            'document': str(document), 'days': days}},
                    'share')
        with _staff(manager):
            result = share(documents['a'], 5)['view']['defaults']
            with self.assertRaises(AccessError):
                share(documents['b'], 5)
        url = result['url']
        self.assertRegex(url, r'/portal/shared/[A-Za-z0-9_-]{43}$')
        link = ShareLink.resolve(url.rsplit('/', 1)[1])
        self.assertEqual((link.document, link.client), (documents['a'], a))
        link = ShareLink(link.id)
        self.assertEqual((link.created_by, link.created_by_staff),
            (None, manager))
        self.assertEqual(result['expires_at'], link.expires_at)
        self.assertEqual(ShareLink.search_count([]), 1)
