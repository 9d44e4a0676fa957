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
    of their documents and cost invoices by one read each; no query per
    card."""
    Notification = pool.get('portal.notification')
    Document = pool.get('portal.document')
    CostInvoice = pool.get('portal.cost.invoice')
    notifications = Notification.search([], limit=limit)
    document_ids = {n.document.id for n in notifications if n.document}
    numbers = {d['id']: d['number']
        for d in Document.read(list(document_ids), ['number'])}
    cost_ids = {n.cost_invoice.id for n in notifications if n.cost_invoice}
    # One search (its columns come with it) whatever the mix of kinds:
    # the page costs the same number of queries
    cost_numbers = {c.id: c.number for c in CostInvoice.search(
            [('id', 'in', list(cost_ids))])}

    def number(n):
        if n.document:
            return numbers.get(n.document.id)
        if n.cost_invoice:
            return cost_numbers.get(n.cost_invoice.id)
    return [{
            'id': n.id,
            'kind': n.kind,
            'read': n.read_at is not None,
            'date': n.create_date,
            'number': number(n),
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
    if notification.cost_invoice:
        return portal.redirect(f'costs/{notification.cost_invoice.id}')
    if notification.kind == 'overdue':
        return portal.redirect('documents', tab='overdue')
    if notification.kind == 'chat_reply':
        return portal.redirect('chat')
    return portal.redirect('')


@portal_route('/notifications/read-all', methods=('POST',))
def read_all_notifications(request, portal):
    "Mark every notification of the client read (the rules keep it to them)"
    Notification = portal.pool.get('portal.notification')
    Notification.mark_read(Notification.search([('read_at', '=', None)]))
    return portal.redirect('')
