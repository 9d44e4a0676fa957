import datetime
from typing import NamedTuple

from trytond.cache import Cache
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.transaction import Transaction

# A post scheduled for later shows up at most this late on the home page
LATEST_CACHE_SECONDS = 60


class News(DeactivableMixin, ModelSQL, ModelView):
    "News post shown on the portal home page"
    __name__ = 'portal.news'

    company = fields.Many2One('company.company', "Company", required=True)
    title = fields.Char("Title", required=True, translate=True)
    body = fields.Text("Text", required=True, translate=True)
    published_at = fields.DateTime("Published", required=True)
    author = fields.Many2One('res.user', "Author", readonly=True)
    _latest_cache = Cache(
        'portal.news.latest', duration=LATEST_CACHE_SECONDS, context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('published_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_published_at(cls):
        return datetime.datetime.now().replace(microsecond=0)

    @classmethod
    def default_author(cls):
        user = Transaction().user
        return user or None

    @classmethod
    def on_modification(cls, mode, posts, field_names=None):
        super().on_modification(mode, posts, field_names=field_names)
        cls._latest_cache.clear()

    @classmethod
    def latest(cls, limit=5):
        """The latest published posts in the context's language, as
        LatestPost; cached because every home page shows them"""
        transaction = Transaction()
        key = (transaction.database.name, transaction.language,
            transaction.context.get('company'), limit)
        posts = cls._latest_cache.get(key)
        if posts is None:
            posts = [(p.id, p.title, p.paragraphs[:1], p.published_at)
                for p in cls.search([
                        ('published_at', '<=', datetime.datetime.now()),
                        ], limit=limit)]
            cls._latest_cache.set(key, posts)
        return [LatestPost(*post) for post in posts]

    @property
    def paragraphs(self):
        return [p.strip() for p in (self.body or '').split('\n\n')
            if p.strip()]


class LatestPost(NamedTuple):
    "What the home page shows of a post: title and first paragraph"
    id: int
    title: str
    paragraphs: tuple
    published_at: datetime.datetime
