"Home page: news, notifications and what is due"
from .access import portal_route
from .subaccounts import balances

NOTIFICATIONS = 8
NEWS = 5


@portal_route('/')
def home(request, portal):
    pool = portal.pool
    News = pool.get('portal.news')
    Notification = pool.get('portal.notification')
    Document = pool.get('portal.document')
    return portal.render('home/home.html',
        news=News.latest(NEWS),
        notifications=notification_cards(pool, NOTIFICATIONS),
        unread=Notification.search_count([('read_at', '=', None)]),
        totals=Document.totals_by_currency([]),
        subaccounts=balances(pool))


def notification_cards(pool, limit):
    """What the latest notifications' cards show, read in one go: the
    notifications by one search (their columns come with it), the numbers
    of their documents by one read of that column; no query per card."""
    Notification = pool.get('portal.notification')
    Document = pool.get('portal.document')
    notifications = Notification.search([], limit=limit)
    document_ids = {n.document.id for n in notifications if n.document}
    numbers = {d['id']: d['number']
        for d in Document.read(list(document_ids), ['number'])}
    return [{
            'id': n.id,
            'kind': n.kind,
            'read': n.read_at is not None,
            'date': n.create_date,
            'number': numbers.get(n.document.id) if n.document else None,
            'count': n.document_count or 0,
            } for n in notifications]


@portal_route('/news/<id:news_id>')
def news(request, portal, news_id):
    post = portal.get_or_404('portal.news', news_id)
    return portal.render('home/news.html', post=post)


@portal_route('/notifications/<id:notification_id>', methods=('POST',))
def open_notification(request, portal, notification_id):
    Notification = portal.pool.get('portal.notification')
    notification = portal.get_or_404('portal.notification', notification_id)
    Notification.mark_read([notification])
    if notification.document:
        return portal.redirect(f'documents/{notification.document.id}')
    if notification.kind == 'overdue':
        return portal.redirect('documents', tab='overdue')
    return portal.redirect('')


@portal_route('/notifications/read-all', methods=('POST',))
def read_all_notifications(request, portal):
    "Mark every notification of the client read (the rules keep it to them)"
    Notification = portal.pool.get('portal.notification')
    Notification.mark_read(Notification.search([('read_at', '=', None)]))
    return portal.redirect('')
