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
    or names of their records by one search per kind of record the cards
    link to; no query per card."""
    Notification = pool.get('portal.notification')
    notifications = Notification.search([], limit=limit)

    def names(ids, field, search):
        "{id: field} of the cards' records by one query, none without any"
        ids = {i for i in ids if i is not None}
        return {r.id: getattr(r, field)
            for r in search([('id', 'in', list(ids))])} if ids else {}
    document_ids = [n.document.id for n in notifications if n.document]
    # Only the numbers of the documents, not every column
    numbers = {d['id']: d['number'] for d in pool.get('portal.document').read(
            document_ids, ['number'])}
    cost_numbers = names(
        (n.cost_invoice and n.cost_invoice.id for n in notifications),
        'number', pool.get('portal.cost.invoice').search)
    # The archive's files by the search that keeps what this user sees
    archive_names = names(
        (n.archive_file and n.archive_file.id for n in notifications),
        'name', pool.get('portal.archive.file').portal_search)
    request_numbers = names(
        (n.request and n.request.id for n in notifications),
        'number', pool.get('portal.request').search)

    def number(n):
        if n.document:
            return numbers.get(n.document.id)
        if n.cost_invoice:
            return cost_numbers.get(n.cost_invoice.id)
        if n.archive_file:
            return archive_names.get(n.archive_file.id)
        if n.request:
            return request_numbers.get(n.request.id)
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
    if notification.kind == 'comment_reply' and notification.comment:
        Comment = portal.pool.get('portal.comment')
        return portal.redirect(Comment.resource_path(
                notification.comment.resource) + '#comments')
    if notification.document:
        return portal.redirect(f'documents/{notification.document.id}')
    if notification.cost_invoice:
        return portal.redirect(f'costs/{notification.cost_invoice.id}')
    if notification.archive_file:
        return portal.redirect(
            f'archive/files/{notification.archive_file.id}')
    if notification.request:
        return portal.redirect(f'requests/{notification.request.id}')
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
