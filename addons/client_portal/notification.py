import datetime
from collections import defaultdict

from sql import Null

from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mail import portal_url, send_portal_email

KINDS = [
    ('new_document', "New document"),
    ('overdue', "Overdue document"),
    ('cost_approved', "Cost invoice approved"),
    ('cost_rejected', "Cost invoice rejected"),
    ]


class Notification(ModelSQL, ModelView):
    "Notification shown to a portal client"
    __name__ = 'portal.notification'

    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True)
    document = fields.Many2One(
        'portal.document', "Document", ondelete='CASCADE')
    cost_invoice = fields.Many2One(
        'portal.cost.invoice', "Cost Invoice", ondelete='CASCADE')
    read_at = fields.Timestamp("Read")
    # The documents that became overdue, for a notification of the day
    document_count = fields.Integer("Documents", readonly=True)
    # The firm's day of an overdue notification: one per client and day
    day = fields.Date("Day", readonly=True)
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
    def notify_cost_invoices(cls, cost_invoices):
        """The client learns its cost invoice was approved or rejected: on
        the portal, and by e-mail to its active users with an address"""
        cls.create([{
                    'party': c.client.id,
                    'kind': f'cost_{c.state}',
                    'cost_invoice': c.id,
                    } for c in cost_invoices])
        for cost_invoice in cost_invoices:
            for user in cost_invoice.client.portal_users:
                if user.active and user.email:
                    send_portal_email('cost_invoice', user.email,
                        user.portal_language or 'pl',
                        cost_invoice=cost_invoice,
                        link=portal_url(f'costs/{cost_invoice.id}'))

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Document = pool.get('portal.document')
        super().__register__(module)
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        document = Document.__table__()
        # Migration from one notification per overdue document: those
        # documents were announced
        cursor.execute(*document.update(
                [document.overdue_announced], [True],
                where=(document.overdue_announced == Null)
                & document.id.in_(table.select(table.document,
                        where=(table.kind == 'overdue')
                        & (table.document != Null)))))

    @classmethod
    def notify_overdue(cls, date=None):
        """Cron: one notification per client and day (the firm's day, or
        date) for the documents that became overdue since the last run.

        Each document is announced once: the run sets
        portal.document.overdue_announced on the documents it counts. A flag
        on the document rather than a link table: the card shows a count and
        opens the overdue tab, so nothing needs the documents of a
        notification, and the flag makes "not yet announced" a plain column
        of the search. A later run the same day adds to the day's
        notification, and makes it unread again, rather than adding one."""
        pool = Pool()
        Document = pool.get('portal.document')
        if date is None:
            date = Document.today()
        overdue = Document.search(Document.overdue_domain(date) + [
                ('overdue_announced', '!=', True),
                ], order=[('id', 'ASC')])
        if not overdue:
            return []
        counts = defaultdict(int)
        for document in overdue:
            counts[document.party.id] += 1
        of_the_day = {n.party.id: n for n in cls.search([
                    ('party', 'in', list(counts)),
                    ('kind', '=', 'overdue'),
                    ('document', '=', None),
                    ('day', '=', date),
                    ])}
        notifications = []
        for party, count in counts.items():
            notification = of_the_day.get(party)
            if notification is None:
                notification = cls(party=party, kind='overdue', day=date,
                    document_count=0)
            notification.document_count += count
            notification.read_at = None
            notifications.append(notification)
        cls.save(notifications)
        Document.write(overdue, {'overdue_announced': True})
        return notifications

    @classmethod
    def mark_read(cls, notifications):
        cls.write([n for n in notifications if not n.read_at], {
                'read_at': datetime.datetime.now(),
                })
