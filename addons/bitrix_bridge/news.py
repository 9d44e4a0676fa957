"""The posts of the firm's Bitrix24 workgroup as portal news (facts:
BITRIX24.md §6). A cron reads the whole group feed every 15 minutes and
makes the portal's imported news follow it: new posts are created, edited
ones updated, posts no longer returned (deleted, unpublished, moved out of
the group) deactivated. Nothing is written before every page was read, so
a failed run changes nothing and the next one tries again."""
import html
import logging
import re

from trytond.model import Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access

from . import rest
from .configuration import get_configuration

logger = logging.getLogger(__name__)

METHOD = 'log.blogpost.get'
# A title made from a post's text (a post without title, §6 MICRO)
TITLE_LENGTH = 100
LANGUAGES = [
    (None, ''),
    ('pl', "Polish"),
    ('en', "English"),
    ]


class News(metaclass=PoolMeta):
    __name__ = 'portal.news'

    bitrix_post_id = fields.Char("Bitrix24 Post", readonly=True,
        help="The Bitrix24 workgroup post this news shows; it follows the "
        "post's edits and deletion.")
    bitrix_language = fields.Selection(LANGUAGES, "Written In",
        readonly=True,
        help="The language of the Bitrix24 post, shown as written in every "
        "portal language.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('bitrix_post_unique', Unique(t, t.company, t.bitrix_post_id),
                'bitrix_bridge.msg_news_post_unique'),
            ]
        # Bitrix24 is the source of an imported post: an edit here would
        # be overwritten by the next run
        for name in ['title', 'body', 'published_at']:
            field = getattr(cls, name)
            field.states = field.states.copy()
            field.states['readonly'] = (field.states.get('readonly', False)
                | Bool(Eval('bitrix_post_id')))

    @classmethod
    def import_bitrix(cls):
        """The cron: the chosen workgroup's posts as the firm's news. Errors
        of Bitrix24 are logged; the next run tries again"""
        configuration = get_configuration()
        group = _group(configuration.news_group)
        if not configuration.sending or not group:
            return
        company = _company()
        if company is None:
            logger.warning("Bitrix24 news not imported: no single company")
            return
        try:
            with configuration.client() as client:
                posts, complete = _group_posts(client, group)
        except rest.AuthError as error:
            # The outbox stops on refused credentials and tells the
            # accountants; the news only wait for them to be corrected
            logger.error("Bitrix24 news: credentials refused: %s", error)
            return
        except rest.Bitrix24Error as error:
            logger.error("Bitrix24 news not imported: %s", error)
            return
        with without_check_access(), Transaction().set_user(0):
            cls._follow(company, posts, complete)

    @classmethod
    def _follow(cls, company, posts, complete):
        """Create, update and deactivate the company's imported news as
        `posts` ({post id: row}) says; deactivate only from a `complete`
        listing"""
        Configuration = Pool().get('ir.configuration')
        # "In the language it was written": the text is written once, in
        # the database's language, i.e. as the source every other language
        # falls back to when it has no translation of its own. So a Polish
        # post shows in Polish on the English home page (never empty,
        # never translated), whatever the cron's own language. A
        # translation staff typed earlier is marked fuzzy by Tryton when
        # the source changes, and is no longer shown.
        with Transaction().set_context(
                language=Configuration.get_language(), active_test=False):
            existing = {n.bitrix_post_id: n for n in cls.search([
                        ('company', '=', company),
                        ('bitrix_post_id', '!=', None),
                        ])}
            to_create, to_write, seen = [], [], set()
            for post_id, row in posts.items():
                seen.add(post_id)
                try:
                    values = post_values(row)
                except (ValueError, TypeError) as error:
                    # Left as it was: a post we cannot read is not deleted
                    logger.warning("Bitrix24 post %s not read: %s",
                        post_id, error)
                    continue
                news = existing.get(post_id)
                if news is None:
                    to_create.append(dict(values, company=company,
                            bitrix_post_id=post_id, author=None))
                    continue
                changes = {k: v for k, v in values.items()
                    if getattr(news, k) != v}
                if not news.active:
                    changes['active'] = True
                if changes:
                    to_write.extend(([news], changes))
            gone = [n for i, n in existing.items()
                if i not in seen and n.active] if complete else []
            if to_create:
                cls.create(to_create)
            if to_write:
                cls.write(*to_write)
            if gone:
                cls.write(gone, {'active': False})
        if to_create or to_write or gone:
            logger.info("Bitrix24 news: %s new, %s updated, %s withdrawn",
                len(to_create), len(to_write) // 2, len(gone))


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('portal.news|import_bitrix', "Import Bitrix24 News"))


def _group(value):
    "The workgroup id of the settings ('12', or 'SG12' as Bitrix24 writes)"
    value = (value or '').strip().upper()
    if value.startswith('SG'):
        value = value[2:]
    return value if value.isdigit() else None


def _company():
    "The context's company, or the only one"
    Company = Pool().get('company.company')
    company = Transaction().context.get('company')
    if company:
        return company
    with without_check_access():
        companies = Company.search([], limit=2)
    return companies[0].id if len(companies) == 1 else None


def _group_posts(client, group):
    """({post id: row}, complete): every published post addressed to the
    workgroup that the bridge's user sees (§6). LOG_RIGHTS is an array: in
    any other form Bitrix24 ignores it and returns the whole feed (§6).
    The feed is ordered by last activity and paged by offset (§2), so a post
    that gets activity while the pages are read can be repeated and another
    skipped: then the listing is not complete"""
    posts = {}
    ids = set()
    start = 0
    repeated = False
    total = None
    while True:
        response = client.call(METHOD, {
                'LOG_RIGHTS': [f'SG{group}'], 'start': start})
        rows = response.result
        if isinstance(rows, dict):
            # PHP's array with gaps in its keys (§2)
            rows = list(rows.values())
        rows = rows if isinstance(rows, list) else []
        if total is None:
            total = response.total
        for row in rows:
            post_id = str(row.get('ID') or '')
            repeated |= post_id in ids
            ids.add(post_id)
            if post_id and row.get('PUBLISH_STATUS', 'P') == 'P':
                posts[post_id] = row
        if response.next is None or not rows:
            break
        start = response.next
    complete = not repeated and (not total or len(ids) >= total)
    return posts, complete


def post_values(row):
    "The news values of a log.blogpost.get row (§6)"
    body = plain_text(row.get('DETAIL_TEXT'))
    title = (row.get('TITLE') or '').strip() or first_line(body)
    if not title:
        raise ValueError('neither title nor text')
    return {
        'title': title,
        'body': body or title,
        'published_at': local_time(rest.parse_datetime(
                row.get('DATE_PUBLISH'))),
        'bitrix_language': written_in(f'{title}\n{body}'),
        }


def local_time(value):
    """The server's naive local time, as portal.news keeps published_at
    (its default and the home page's filter are datetime.now()); on the
    usual UTC server this is the UTC the portal's pages convert from"""
    if value is None:
        raise ValueError('no DATE_PUBLISH')
    return value.astimezone().replace(tzinfo=None, microsecond=0)


_LINK = re.compile(r'\[url=([^\]]*)\](.*?)\[/url\]', re.I | re.S)
_BARE_LINK = re.compile(r'\[url\](.*?)\[/url\]', re.I | re.S)
# Attachments and embeds have no text of their own
_DROPPED = re.compile(
    r'\[(img|video|disk|file)\b[^\]]*\](?:.*?\[/\1\])?', re.I | re.S)
_BREAK = re.compile(r'\[br\]', re.I)
_ITEM = re.compile(r'\[\*\]')
_BLOCK = re.compile(r'\[/?(p|quote|code|list|table|tr)\b[^\]]*\]', re.I)
_CELL = re.compile(r'\[/?td\b[^\]]*\]', re.I)
_INLINE = re.compile(r'\[/?(b|i|u|s|color|size|font|user|left|center|right|'
    r'justify|spoiler|icon|hr)\b[^\]]*\]', re.I)


def plain_text(text):
    """A post's BB-code (§6) as plain paragraphs separated by an empty line,
    as the portal splits a news body"""
    text = (text or '').replace('\r\n', '\n').replace('\r', '\n')
    text = _DROPPED.sub('', text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _BARE_LINK.sub(r'\1', text)
    text = _BREAK.sub('\n', text)
    text = _ITEM.sub('\n- ', text)
    text = _BLOCK.sub('\n\n', text)
    text = _CELL.sub(' ', text)
    text = _INLINE.sub('', text)
    text = html.unescape(text)
    lines = [line.strip() for line in text.split('\n')]
    text = re.sub(r'\n{3,}', '\n\n', '\n'.join(lines))
    return text.strip()


def first_line(text):
    "The title of a post without one: its first line, shortened"
    line = next((line for line in (text or '').split('\n') if line.strip()),
        '').strip()
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[:TITLE_LENGTH].rsplit(' ', 1)[0]
    return cut.rstrip(' ,.;:') + '…'


_WORD = re.compile(r'\w+')
_POLISH_LETTERS = set('ąćęłńóśźż')
_POLISH_WORDS = {'i', 'w', 'z', 'na', 'nie', 'do', 'jest', 'od', 'dla',
    'oraz', 'po', 'przez', 'jak', 'lub', 'ze', 'we', 'prosimy', 'przypominamy',
    'zapraszamy', 'roku', 'dokumenty', 'można', 'należy'}
_ENGLISH_WORDS = {'the', 'and', 'of', 'to', 'in', 'is', 'you', 'for', 'with',
    'are', 'can', 'our', 'will', 'be', 'your', 'this', 'it', 'we', 'please',
    'from', 'have', 'new', 'now', 'all'}


def written_in(text):
    """'pl', 'en' or None: the language of a post, from its words. Bitrix24
    returns no language of a post (§6: its tags only as CATEGORY_ID ids)"""
    polish = english = 0
    for word in _WORD.findall((text or '').lower()):
        if word in _POLISH_WORDS or _POLISH_LETTERS & set(word):
            polish += 1
        elif word in _ENGLISH_WORDS:
            english += 1
    if polish > english:
        return 'pl'
    if english > polish:
        return 'en'
    return None
