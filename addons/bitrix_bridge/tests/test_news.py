"""The workgroup's posts as portal news, against the Bitrix24 emulator: the
group's posts are imported (not the rest of the feed), shown as written in
every portal language, edits and deletions are followed, a second run
changes nothing, a bridge that is off or has no group calls nothing, and a
fault leaves the news as they were until the next run."""
import datetime
import unittest
from unittest import mock

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from client_portal.demo import setup_firm

from .. import rest
from ..news import _group, first_line, plain_text, written_in
from .bridge_setup import BridgeTestCase, configure

TODAY = datetime.date.today()
GROUP = '12'
# The emulator's seeded feed (tests/bitrix24_emulator/seed.py)
GROUP_TITLES = {'Zmiana godzin pracy biura', 'Terminy rozliczeń PIT za 2025',
    'New portal features'}
COMPANY_WIDE = 'Wigilia firmowa'
DRAFT = 'Szkic: nowy cennik'


class NewsTestCase(BridgeTestCase):
    "Not a ModuleTestCase: the module's generic checks run in test_module"

    @classmethod
    def build(cls):
        firm = setup_firm(TODAY)
        configure(cls.b24.webhook_url, cls.b24.base_url)
        Configuration = Pool().get('bitrix.configuration')
        Configuration.write([Configuration(1)], {'news_group': GROUP})
        return firm

    def _import(self, language=None):
        News = Pool().get('portal.news')
        with Transaction().set_context(language=language):
            News.import_bitrix()
        with Transaction().set_context(active_test=False):
            return {n.bitrix_post_id: n for n in News.search([
                        ('bitrix_post_id', '!=', None)])}

    def _post_id(self, title):
        return next(i for i, p in self.b24.app.store.posts.items()
            if p['title'] == title)

    def _latest(self, language):
        News = Pool().get('portal.news')
        with Transaction().set_context(language=language):
            return {p.title: p for p in News.latest(limit=20)}

    def _configure(self, **values):
        Configuration = Pool().get('bitrix.configuration')
        Configuration.write([Configuration(1)], values)

    @with_transaction()
    def test_group_posts_imported_as_written(self):
        firm = self.setup()
        imported = self._import()
        self.assertEqual({n.title for n in imported.values()}, GROUP_TITLES)
        self.assertEqual({n.company for n in imported.values()},
            {firm.company})
        # LOG_RIGHTS as an array, or the whole feed comes back (§6)
        call, = [c for c in self.b24.app.calls()
            if c['method'] == 'log.blogpost.get']
        self.assertEqual(call['params']['LOG_RIGHTS'], ['SG12'])
        languages = {n.title: n.bitrix_language for n in imported.values()}
        self.assertEqual(languages['New portal features'], 'en')
        self.assertEqual(languages['Zmiana godzin pracy biura'], 'pl')
        news = imported[str(self._post_id('Zmiana godzin pracy biura'))]
        self.assertTrue(news.body.startswith('Od poniedziałku biuro'))
        self.assertIsNone(news.author)
        published = self.b24.app.store.posts[int(news.bitrix_post_id)][
            'published']
        self.assertEqual(news.published_at,
            datetime.datetime.fromtimestamp(int(published)))
        # Beside the staff's news, in both languages as written
        News = Pool().get('portal.news')
        News.create([{'company': firm.company.id,
                    'title': "Staff news", 'body': "Text."}])
        for language in ['pl', 'en']:
            latest = self._latest(language)
            self.assertEqual(set(latest), GROUP_TITLES | {"Staff news"})
            self.assertEqual(
                list(latest['Zmiana godzin pracy biura'].paragraphs),
                [news.body])
        self.assertNotIn(COMPANY_WIDE, self._latest('en'))
        self.assertNotIn(DRAFT, self._latest('pl'))
        form = News.fields_view_get(view_type='form')
        self.assertIn('bitrix_post_id', form['fields'])
        self.assertTrue(form['fields']['bitrix_post_id']['readonly'])

    @with_transaction()
    def test_every_page_is_read(self):
        self.setup()
        for n in range(55):
            self.b24.app.add_post(GROUP, f"Wpis {n}", f"Treść wpisu {n}.")
        imported = self._import()
        self.assertEqual(len(imported), 55 + len(GROUP_TITLES))
        self.assertEqual(len([c for c in self.b24.app.calls()
                    if c['method'] == 'log.blogpost.get']), 2)

    @with_transaction()
    def test_edit_and_deletion_followed(self):
        pool = Pool()
        News = pool.get('portal.news')
        self.setup()
        imported = self._import()
        edited = self._post_id('Zmiana godzin pracy biura')
        deleted = self._post_id('New portal features')
        # A translation typed by staff gives way to the post's next edit
        with Transaction().set_context(language='pl'):
            News.write([imported[str(edited)]], {'title': "Przetłumaczone"})
        self.assertIn("Przetłumaczone", self._latest('pl'))
        self.b24.app.edit_post(edited, title="Nowe godziny pracy",
            text="[b]Od 1 marca[/b] pracujemy w godzinach 9:00–17:00.[br]"
            "Szczegóły na [url=https://portico.test/biuro]stronie[/url].")
        self.b24.app.delete_post(deleted)
        # Run in Polish: the post's text shows in English all the same
        imported = self._import('pl')
        news = imported[str(edited)]
        self.assertEqual(news.title, "Nowe godziny pracy")
        self.assertEqual(news.body, "Od 1 marca pracujemy w godzinach "
            "9:00–17:00.\nSzczegóły na stronie.")
        self.assertTrue(news.active)
        self.assertFalse(imported[str(deleted)].active)
        for language in ['pl', 'en']:
            latest = self._latest(language)
            self.assertIn("Nowe godziny pracy", latest)
            self.assertNotIn("Przetłumaczone", latest)
            self.assertNotIn('New portal features', latest)

    @with_transaction()
    def test_post_without_title(self):
        self.setup()
        post = self.b24.app.add_post(GROUP, '',
            "Biuro nieczynne w piątek.[br]Zapraszamy w poniedziałek.")
        news = self._import()[str(post)]
        self.assertEqual(news.title, "Biuro nieczynne w piątek.")
        self.assertEqual(news.body,
            "Biuro nieczynne w piątek.\nZapraszamy w poniedziałek.")

    @with_transaction()
    def test_second_run_creates_and_writes_nothing(self):
        News = Pool().get('portal.news')
        self.setup()
        first = self._import()
        with mock.patch.object(News, 'create') as create, \
                mock.patch.object(News, 'write') as write:
            News.import_bitrix()
        create.assert_not_called()
        write.assert_not_called()
        self.assertEqual(self._import().keys(), first.keys())
        self.assertEqual(len(News.search([])), len(GROUP_TITLES))

    @with_transaction()
    def test_off_or_without_group_does_nothing(self):
        News = Pool().get('portal.news')
        self.setup()
        for values in [{'enabled': False}, {'news_group': None},
                {'news_group': 'Klienci'}]:
            self._configure(**dict({'enabled': True, 'news_group': GROUP},
                    **values))
            self.b24.app.clear_calls()
            News.import_bitrix()
            self.assertEqual(self.b24.app.calls(), [], values)
            self.assertEqual(News.search([]), [], values)

    @with_transaction()
    def test_stopped_bridge_does_nothing(self):
        pool = Pool()
        News = pool.get('portal.news')
        Configuration = pool.get('bitrix.configuration')
        self.setup()
        Configuration.stop("Credentials refused")
        self.b24.app.clear_calls()
        News.import_bitrix()
        self.assertEqual(self.b24.app.calls(), [])

    @with_transaction()
    def test_fault_leaves_news_as_they_were(self):
        self.setup()
        before = {i: (n.title, n.active) for i, n in self._import().items()}
        edited = self._post_id('Zmiana godzin pracy biura')
        self.b24.app.edit_post(edited, title="Nowe godziny pracy")
        self.b24.app.delete_post(self._post_id('New portal features'))
        self.b24.app.inject('overload', methods=['log.blogpost.get'],
            count=None)
        with self.assertLogs('bitrix_bridge.news', 'ERROR'):
            now = self._import()
        self.assertEqual({i: (n.title, n.active) for i, n in now.items()},
            before)
        # The next run follows
        self.b24.app.clear_faults()
        now = self._import()
        self.assertEqual(now[str(edited)].title, "Nowe godziny pracy")
        self.assertEqual(len([n for n in now.values() if not n.active]), 1)

    @with_transaction()
    def test_fault_on_a_later_page_changes_nothing(self):
        self.setup()
        for n in range(55):
            self.b24.app.add_post(GROUP, f"Wpis {n}", f"Treść wpisu {n}.")
        app = self.b24.app
        original = rest.Client.call

        def call(client, method, params=None):
            response = original(client, method, params)
            # The first page is read, the next one fails
            app.inject('overload', methods=['log.blogpost.get'], count=None)
            return response
        with mock.patch.object(rest.Client, 'call', call), \
                self.assertLogs('bitrix_bridge.news', 'ERROR'):
            self.assertEqual(self._import(), {})

    @with_transaction()
    def test_refused_credentials_do_not_crash(self):
        self.setup()
        self._configure(webhook_url_input=self.b24.webhook_url.replace(
                self.b24.webhook_code, 'wrong-code'))
        with self.assertLogs('bitrix_bridge.news', 'ERROR') as logs:
            self.assertEqual(self._import(), {})
        self.assertNotIn('wrong-code', '\n'.join(logs.output))

    @with_transaction()
    def test_repeated_row_while_paging_withdraws_nothing(self):
        "A post with new activity during the paging can be skipped (§2)"
        self.setup()
        imported = self._import()
        original = rest.Client.call

        def call(client, method, params=None):
            response = original(client, method, params)
            # The same rows again: the feed moved under the pages
            response.result = response.result + response.result[:1]
            return response
        self.b24.app.delete_post(self._post_id('New portal features'))
        with mock.patch.object(rest.Client, 'call', call):
            now = self._import()
        self.assertEqual(now.keys(), imported.keys())
        self.assertTrue(all(n.active for n in now.values()))

    @with_transaction()
    def test_unreadable_post_is_left_as_it_was(self):
        self.setup()
        imported = self._import()
        edited = self._post_id('Zmiana godzin pracy biura')
        self.b24.app.edit_post(edited, title="Nowe godziny pracy")
        original = rest.Client.call

        def call(client, method, params=None):
            response = original(client, method, params)
            for row in response.result:
                if row['ID'] == str(edited):
                    # No offset: which time Bitrix24 meant is unknown
                    row['DATE_PUBLISH'] = row['DATE_PUBLISH'][:19]
            return response
        with mock.patch.object(rest.Client, 'call', call), \
                self.assertLogs('bitrix_bridge.news', 'WARNING'):
            now = self._import()
        self.assertEqual(now.keys(), imported.keys())
        self.assertEqual(now[str(edited)].title, 'Zmiana godzin pracy biura')
        self.assertTrue(now[str(edited)].active)


class PlainTextTestCase(unittest.TestCase):
    "BB-code of the posts (§6) as the portal's plain paragraphs"

    def test_markup_becomes_plain_text(self):
        self.assertEqual(plain_text(
                "[B]Ważne:[/B] [i]termin[/i] [u]mija[/u] "
                "[color=#ff0000]jutro[/color].[br]"
                "Zobacz [url=https://x.test/a]instrukcję[/url] lub "
                "[url]https://x.test/b[/url].\r\n\r\n\r\n"
                "[quote]Cytat[/quote][list][*]jeden[*]dwa[/list]"
                "[img]https://x.test/i.png[/img][disk file id=12]"
                "[user=3]Piotr Zieliński[/user] &amp; zespół"),
            "Ważne: termin mija jutro.\n"
            "Zobacz instrukcję lub https://x.test/b.\n\n"
            "Cytat\n\n- jeden\n- dwa\n\n"
            "Piotr Zieliński & zespół")

    def test_plain_text_and_brackets_kept(self):
        self.assertEqual(plain_text("Punkt [1] bez znaczników"),
            "Punkt [1] bez znaczników")
        self.assertEqual(plain_text(None), '')

    def test_first_line_as_title(self):
        self.assertEqual(first_line("\nPierwsza\nDruga"), "Pierwsza")
        long = ' '.join(['słowo'] * 40)
        title = first_line(long)
        self.assertTrue(title.endswith('…'))
        self.assertLessEqual(len(title), 101)

    def test_language_of_a_post(self):
        self.assertEqual(written_in(
                "Prosimy o przesłanie dokumentów do 31 marca."), 'pl')
        self.assertEqual(written_in("You can now upload the invoices"), 'en')
        self.assertIsNone(written_in("PIT 2025"))

    def test_group_setting(self):
        self.assertEqual(_group(' 12 '), '12')
        self.assertEqual(_group('sg12'), '12')
        self.assertIsNone(_group('Klienci'))
        self.assertIsNone(_group(None))
