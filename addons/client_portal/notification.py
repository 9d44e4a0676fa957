import datetime
from collections import defaultdict

from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool

from .mail import portal_url, send_portal_email

KINDS = [
    ('new_document', "New document"),
    ('overdue', "Overdue document"),
    ]


class Notification(ModelSQL, ModelView):
    "Notification shown to a portal client"
    __name__ = 'portal.notification'

    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True)
    document = fields.Many2One(
        'portal.document', "Document", ondelete='CASCADE')
    read_at = fields.Timestamp("Read")
    # The documents that became overdue, for a notification of the day
    document_count = fields.Integer("Documents", readonly=True)
    date = fields.Function(fields.Timestamp("Date"), 'get_date')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.party, Index.Equality()),
                (t.create_date, Index.Range(order='DESC'))))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    def get_date(self, name):
        return self.create_date

    @classmethod
    def notify_new_documents(cls, documents):
        "Notify on the portal, and by e-mail the users who want it"
        cls.create([{
                    'party': d.party.id,
                    'kind': 'new_document',
                    'document': d.id,
                    } for d in documents])
        for document in documents:
            for user in document.party.portal_users:
                if user.active and user.notify_documents and user.email:
                    send_portal_email('new_document', user.email,
                        user.portal_language or 'pl', document=document,
                        link=portal_url(f'documents/{document.id}'))

    @classmethod
    def notify_overdue(cls):
        """Cron: one notification per client and day for the documents that
        became overdue since the last run; each document is announced once
        (portal.document.overdue_announced)"""
        pool = Pool()
        Document = pool.get('portal.document')
        overdue = Document.search([
                ('overdue', '=', True),
                ('overdue_announced', '!=', True),
                ])
        by_party = defaultdict(list)
        for document in overdue:
            by_party[document.party.id].append(document)
        start = datetime.datetime.combine(
            datetime.date.today(), datetime.time())
        today = {n.party.id: n for n in cls.search([
                    ('party', 'in', list(by_party)),
                    ('kind', '=', 'overdue'),
                    ('document', '=', None),
                    ('read_at', '=', None),
                    ('create_date', '>=', start),
                    ])}
        to_save = []
        for party, documents in by_party.items():
            notification = today.get(party)
            if notification is None:
                notification = cls(party=party, kind='overdue',
                    document_count=0)
            notification.document_count += len(documents)
            to_save.append(notification)
        cls.save(to_save)
        Document.write(overdue, {'overdue_announced': True})

    @classmethod
    def mark_read(cls, notifications):
        cls.write([n for n in notifications if not n.read_at], {
                'read_at': datetime.datetime.now(),
                })
