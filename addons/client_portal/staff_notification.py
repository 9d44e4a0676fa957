"""What the client does, told to the firm: a Tryton notification (the bell
of the back office) to the staff member in charge, the portal heads when
there is none, in each one's language, opening the records concerned.
The chat, comments, requests, decisions on proformas and uploads into the
archive all tell the firm this way."""
import json

from trytond.pool import Pool
from trytond.pyson import PYSONEncoder
from trytond.transaction import Transaction, without_check_access

DESCRIPTION_SIZE = 200


def notify_staff(items, action_xml_id):
    """items: (user, label, description, domain): user the res.user in
    charge (None: the portal heads), label a function of nothing called in
    each recipient's language, the notification opening client_portal's
    action_xml_id on the domain"""
    pool = Pool()
    Notification = pool.get('res.notification')
    ModelData = pool.get('ir.model.data')
    ActWindow = pool.get('ir.action.act_window')
    User = pool.get('res.user')
    if not items:
        return
    encoder = PYSONEncoder()
    with without_check_access():
        action = ActWindow(ModelData.get_id(
                'client_portal', action_xml_id)).action.id
        heads = None
        values = []
        for user, label, description, domain in items:
            users = [user]
            if user is None:
                if heads is None:
                    heads = User.search([('groups', '=', ModelData.get_id(
                                    'client_portal', 'group_portal_head'))])
                users = heads
            for user in users:
                language = user.language.code if user.language else None
                with Transaction().set_context(language=language):
                    text = label()
                values.append({
                        'user': user.id,
                        'label': text,
                        'description': ' '.join(
                            (description or '').split())[:DESCRIPTION_SIZE],
                        'action': action,
                        'action_value': json.dumps({
                                'pyson_domain': encoder.encode(domain),
                                }),
                        })
        Notification.create(values)
