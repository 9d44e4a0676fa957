"""Client requests: numbers, deadlines, the responsible, the history and
its immutability, closed requests, the overdue, record rules, who is told"""
import datetime
import io
import json
import re
from types import SimpleNamespace
from unittest import mock

from pypdf import PdfWriter

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .. import request as request_module
from ..demo import (
    FIRM_NIP, create_company, create_countries, create_currencies,
    create_portal_user, create_staff)
from ..holidays import add_working_days, public_holidays
from ..scan import check_scan
from .committed import CommittedTestCase, capture_mail
from .test_chat import _portal, _staff
from .test_module import _clients, _manager

TODAY = datetime.date(2026, 11, 23)
FRIDAY = datetime.date(2026, 11, 20)


def _pdf():
    data = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(data)
    return check_scan(data.getvalue(), 'wyciag.pdf')


def _kind(name):
    ModelData = Pool().get('ir.model.data')
    Kind = Pool().get('portal.request.kind')
    return Kind(ModelData.get_id('client_portal', f'request_kind_{name}'))


class RequestTestCase(CommittedTestCase):
    "Test the requests clients raise and the firm works"

    def setUp(self):
        # The e-mails built instead of sent
        self.sent = capture_mail(self)

    @classmethod
    def build(cls):
        """The firm without books (requests need none); client a with two
        users and its manager Anna, b with one user and its manager Bob;
        an accountant"""
        countries = create_countries()
        pln, _, _ = create_currencies(TODAY)
        company = create_company("Portico sp. z o.o.", FIRM_NIP, pln,
            countries['PL'])
        firm = SimpleNamespace(company=company, countries=countries)
        a, b = _clients(firm)
        users = {
            'a': create_portal_user(a, 'jan@alfa.example', None, "Jan",
                "Kowalski", 'en'),
            'a2': create_portal_user(a, 'ewa@alfa.example', None, "Ewa",
                "Nowak", 'pl'),
            'b': create_portal_user(b, 'olga@beta.example', None, "Olga",
                "Wiśniewska", 'en'),
            }
        anna = _manager('anna', a)
        bob = _manager('bob', b)
        accountant = create_staff(firm, 'konto', "Konto",
            ['client_portal.group_portal_accountant'], 'Pass-word-2026')
        return a, b, users, anna, bob, accountant

    def _raise(self, user, kind='question', subject="Zaświadczenie o VAT",
            files=()):
        Request = Pool().get('portal.request')
        with _portal(user):
            return Request.portal_create(user.party, _kind(kind), subject,
                "Proszę o zaświadczenie.", files)

    def _history(self, request):
        Request = Pool().get('portal.request')
        return [(e.kind, e.author, e.old_state, e.new_state)
            for e in Request(request.id).events]

    @with_transaction()
    def test_numbers_are_continuous_and_unique(self):
        a, b, users, *_ = self.setup()
        requests = [self._raise(users[k]) for k in ['a', 'b', 'a2']]
        numbers = [r.number for r in requests]
        year = Pool().get('ir.date').today().year
        for number in numbers:
            self.assertRegex(number, rf'^REQ/{year}/\d{{4}}$')
        counters = [int(n.rsplit('/', 1)[1]) for n in numbers]
        self.assertEqual(counters,
            list(range(counters[0], counters[0] + 3)))
        Request = Pool().get('portal.request')
        with self.assertRaises(UserError):
            Request.copy(requests[:1])

    @with_transaction()
    def test_deadline_counts_working_days(self):
        "Raised on a Friday, two working days later is the Tuesday"
        a, b, users, *_ = self.setup()
        self.assertEqual(add_working_days(FRIDAY, 2),
            datetime.date(2026, 11, 24))
        self.assertEqual(add_working_days(FRIDAY, 5),
            datetime.date(2026, 11, 27))
        self.assertEqual(add_working_days(datetime.date(2026, 11, 21), 1),
            datetime.date(2026, 11, 23))
        self.assertEqual(add_working_days(FRIDAY, 0), FRIDAY)
        # Public holidays are no working days: 11 November, Christmas,
        # Easter Monday and Corpus Christi (Easter + 60 days)
        self.assertEqual(add_working_days(datetime.date(2026, 11, 10), 1),
            datetime.date(2026, 11, 12))
        self.assertEqual(add_working_days(datetime.date(2026, 12, 23), 1),
            datetime.date(2026, 12, 28))
        self.assertIn(datetime.date(2026, 4, 6), public_holidays(2026))
        self.assertIn(datetime.date(2026, 6, 4), public_holidays(2026))
        self.assertIn(datetime.date(2027, 3, 29), public_holidays(2027))
        with mock.patch.object(request_module, 'today',
                return_value=FRIDAY):
            question = self._raise(users['a'], 'question')
            closure = self._raise(users['a'], 'early_closure')
        self.assertEqual(question.deadline, datetime.date(2026, 11, 24))
        self.assertEqual(closure.deadline, datetime.date(2026, 12, 4))

    @with_transaction()
    def test_responsible_is_the_clients_manager(self):
        Party = Pool().get('party.party')
        a, b, users, anna, bob, _ = self.setup()
        self.assertEqual(self._raise(users['a']).responsible, anna)
        self.assertEqual(self._raise(users['b']).responsible, bob)
        Party.write([b], {'portal_manager': None})
        request = self._raise(users['b'])
        self.assertIsNone(request.responsible)
        self.assertEqual(request.web_user, users['b'])
        self.assertEqual(request.state, 'new')

    @with_transaction()
    def test_history_records_every_step(self):
        """Raised with a file, taken, started, answered, waiting, the
        client's answer gives it back, done: each a row, by whom"""
        Request = Pool().get('portal.request')
        a, b, users, anna, bob, accountant = self.setup()
        request = self._raise(users['a'], files=[_pdf()])
        with _staff(accountant):
            Request.take([Request(request.id)])
            Request.start([Request(request.id)])
            Request(request.id).post_staff_reply(
                "Proszę o numer umowy.", wait=True)
        with _portal(users['a2']):
            Request(request.id).add_message("Umowa 12/2026", [_pdf()])
        self.assertEqual(Request(request.id).state, 'in_progress')
        with _staff(accountant):
            Request.done([Request(request.id)])
        self.assertEqual(self._history(request), [
                ('state', 'client', None, 'new'),
                ('file', 'client', None, None),
                ('assignment', 'staff', None, None),
                ('state', 'staff', 'new', 'in_progress'),
                ('state', 'staff', 'in_progress', 'waiting'),
                ('message', 'staff', None, None),
                ('state', 'client', 'waiting', 'in_progress'),
                ('message', 'client', None, None),
                ('file', 'client', None, None),
                ('state', 'staff', 'in_progress', 'done'),
                ])
        events = Request(request.id).events
        self.assertEqual((events[0].web_user, events[0].author_name),
            (users['a'], "Jan Kowalski"))
        self.assertEqual((events[2].old_responsible, events[2].new_responsible,
                events[2].user), (anna, accountant, accountant))
        self.assertEqual(events[5].author_name, "Konto")
        self.assertEqual(events[7].web_user, users['a2'])
        self.assertEqual((events[8].file_type, events[8].file_name),
            ('application/pdf', 'wyciag.pdf'))
        self.assertEqual(bytes(events[8].file)[:5], b'%PDF-')
        done = Request(request.id)
        self.assertIsNotNone(done.closed_at)
        # Assigning by editing the responsible is in the history too
        Request.write([done], {'responsible': bob.id})
        self.assertEqual(self._history(request)[-1][0], 'assignment')

    @with_transaction()
    def test_history_is_immutable(self):
        pool = Pool()
        Request = pool.get('portal.request')
        Event = pool.get('portal.request.event')
        a, b, users, anna, *_ = self.setup()
        request = self._raise(users['a'])
        event, = Request(request.id).events
        with self.assertRaises(AccessError):
            Event.write([event], {'body': "Inaczej"})
        with _staff(anna):
            with self.assertRaises(AccessError):
                Event.write([Event(event.id)], {'body': "Inaczej"})
            with self.assertRaises(AccessError):
                Event.delete([Event(event.id)])
            with self.assertRaises(AccessError):
                Request.delete([Request(request.id)])

    @with_transaction()
    def test_closed_request_takes_no_reply(self):
        "Done or rejected, neither side can answer; a rejection has reason"
        Request = Pool().get('portal.request')
        a, b, users, anna, *_ = self.setup()
        done = self._raise(users['a'])
        rejected = self._raise(users['a'])
        with _staff(anna):
            Request.done([Request(done.id)])
            with self.assertRaises(UserError):
                Request.do_reject([Request(rejected.id)], "  ")
            Request.do_reject([Request(rejected.id)],
                "Ten rodzaj usługi nie jest objęty umową.")
            for request in [done, rejected]:
                with self.assertRaises(UserError):
                    Request(request.id).post_staff_reply("Jeszcze coś")
        for request in [done, rejected]:
            with _portal(users['a']):
                with self.assertRaises(UserError):
                    Request(request.id).add_message("Halo?")
        last = Request(rejected.id).events[-1]
        self.assertEqual((last.new_state, last.body),
            ('rejected', "Ten rodzaj usługi nie jest objęty umową."))
        # Transitions out of a closed state do nothing
        Request.start([Request(done.id)])
        self.assertEqual(Request(done.id).state, 'done')

    @with_transaction()
    def test_overdue_is_searched_and_counted(self):
        Request = Pool().get('portal.request')
        a, b, users, *_ = self.setup()
        today = request_module.today()
        late, on_time, closed = [self._raise(users['a']) for _ in range(3)]
        Request.write([late, closed], {
                'deadline': today - datetime.timedelta(days=3)})
        Request.write([on_time], {'deadline': today})
        Request.done([closed])
        self.assertEqual(Request.search([('overdue', '=', True)]), [late])
        self.assertEqual(set(Request.search([('overdue', '=', False)])),
            {on_time, closed})
        self.assertEqual(Request(late.id).days_overdue, 3)
        self.assertIsNone(Request(on_time.id).days_overdue)
        self.assertIsNone(Request(closed.id).days_overdue)

    @with_transaction()
    def test_record_rules(self):
        """A client reads its own requests; a manager its clients' and
        those it is responsible for; the accountant all"""
        pool = Pool()
        Request = pool.get('portal.request')
        Event = pool.get('portal.request.event')
        a, b, users, anna, bob, accountant = self.setup()
        of_a = self._raise(users['a'])
        of_b = self._raise(users['b'])
        with _portal(users['a2']):
            self.assertEqual(Request.search([]), [of_a])
        with _portal(users['b']):
            self.assertEqual(Request.search([]), [of_b])
            self.assertEqual(Event.search([('request', '=', of_a.id)]), [])
            with self.assertRaises(AccessError):
                Request.read([of_a.id], ['subject'])
        with _staff(anna):
            self.assertEqual(Request.search([]), [of_a])
            with self.assertRaises(AccessError):
                Request.read([of_b.id], ['subject'])
            with self.assertRaises(AccessError):
                Request.take([Request(of_b.id)])
        # Made responsible for b's request, Anna sees it
        Request.write([of_b], {'responsible': anna.id})
        with _staff(anna):
            self.assertEqual(set(Request.search([])), {of_a, of_b})
        with _staff(bob):
            self.assertEqual(Request.search([]), [of_b])
        with _staff(accountant):
            self.assertEqual(len(Request.search([])), 2)
        # Last: the refused row stays in this test's transaction until its
        # rollback, as a refused portal request rolls back
        with _portal(users['b']):
            with self.assertRaises(AccessError):
                Request.portal_create(a, _kind('question'), "Cudze", "")

    @with_transaction()
    def test_staff_is_told_of_the_clients_requests(self):
        """A new request and a client's answer notify the responsible (the
        heads without one); an assignment, who is assigned"""
        pool = Pool()
        Request = pool.get('portal.request')
        Party = pool.get('party.party')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        a, b, users, anna, bob, accountant = self.setup()
        request = self._raise(users['a'], subject="Raport za październik")
        notification, = Notification.search([('user', '=', anna.id)])
        self.assertIn(request.number, notification.label)
        self.assertIn(a.name, notification.label)
        self.assertEqual(notification.description, "Raport za październik")
        self.assertIn(str(request.id), json.loads(
                notification.action_value)['pyson_domain'])
        with _portal(users['a']):
            Request(request.id).add_message("Dodaję szczegóły.")
        self.assertEqual(Notification.search_count(
                [('user', '=', anna.id)]), 2)
        self.assertEqual(Notification.search([('user', '=', anna.id)],
                order=[('id', 'DESC')], limit=1)[0].description,
            "Dodaję szczegóły.")
        Party.write([b], {'portal_manager': None})
        self._raise(users['b'])
        heads = User.search([('groups', '=', ModelData.get_id(
                        'client_portal', 'group_portal_head'))])
        self.assertTrue(heads)
        for head in heads:
            self.assertEqual(Notification.search_count(
                    [('user', '=', head.id)]), 1)
        with _staff(anna):
            Request.write([Request(request.id)], {'responsible': bob.id})
        assigned, = Notification.search([('user', '=', bob.id)])
        self.assertIn(request.number, assigned.label)
        # The client is not told of staff's own moves nor of its own
        self.assertEqual(self.sent, [])

    @with_transaction()
    def test_client_is_told_of_replies_and_changes(self):
        """A reply or a state change: a card per request and kind, and an
        e-mail at once to each active user, in its language"""
        pool = Pool()
        Request = pool.get('portal.request')
        Card = pool.get('portal.notification')
        a, b, users, anna, *_ = self.setup()
        request = self._raise(users['a'])
        with _staff(anna):
            Request(request.id).post_staff_reply(
                "Zaświadczenie wyślemy jutro.\nPozdrawiam", wait=True)
            Request(request.id).post_staff_reply("Jeszcze jedno.")
        card, = Card.search([('party', '=', a.id)])
        self.assertEqual((card.kind, card.request), ('request_reply',
                request))
        self.assertEqual(sorted(m['To'] for m in self.sent),
            ['ewa@alfa.example', 'ewa@alfa.example', 'jan@alfa.example',
                'jan@alfa.example'])
        to_jan = self.sent[0] if 'jan' in self.sent[0]['To'] \
            else self.sent[1]
        self.assertEqual(to_jan['Subject'],
            f"Anna replied to your request {request.number}")
        plain = to_jan.get_body(('plain',)).get_content()
        self.assertIn("Zaświadczenie wyślemy jutro.", plain)
        self.assertIn("Waiting for your answer", plain)
        self.assertRegex(plain, rf'/portal/requests/{request.id}\b')
        self.sent.clear()
        with _staff(anna):
            Request.done([Request(request.id)])
        self.assertEqual(
            {(c.kind, c.read_at is None) for c in Card.search(
                    [('party', '=', a.id)])},
            {('request_reply', True), ('request_state', True)})
        self.assertEqual(len(self.sent), 2)
        self.assertIn(f"Request {request.number}: Completed",
            [m['Subject'] for m in self.sent])
        # Seeing the request reads its cards
        with _portal(users['a']):
            Request(request.id).portal_mark_read()
        self.assertEqual(Card.search([('read_at', '=', None)]), [])
        # An inactive user, or one without an address, gets nothing
        self.sent.clear()
        other = self._raise(users['a'])
        users['a2'].active = False
        users['a2'].save()
        with _staff(anna):
            Request.start([Request(other.id)])
        self.assertEqual([m['To'] for m in self.sent], ['jan@alfa.example'])
        self.assertTrue(re.search(r'In progress',
                self.sent[0].get_body(('plain',)).get_content()))
