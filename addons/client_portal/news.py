import datetime

from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.transaction import Transaction


class News(DeactivableMixin, ModelSQL, ModelView):
    "News post shown on the portal home page"
    __name__ = 'portal.news'

    company = fields.Many2One('company.company', "Company", required=True)
    title = fields.Char("Title", required=True, translate=True)
    body = fields.Text("Text", required=True, translate=True)
    published_at = fields.DateTime("Published", required=True)
    author = fields.Many2One('res.user', "Author", readonly=True)

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
    def latest(cls, limit=5):
        return cls.search([
                ('published_at', '<=', datetime.datetime.now()),
                ], limit=limit)

    @property
    def paragraphs(self):
        return [p.strip() for p in (self.body or '').split('\n\n')
            if p.strip()]
