"""The history of a request: messages of either side, state changes,
assignments and files. What is written stays as it was written; the rows
are read and written under the record rules of their request."""
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval

from .authored import Authored
from .chat import AUTHORS
from .request import STATES

KINDS = [
    ('message', "Message"),
    ('state', "State Change"),
    ('assignment', "Assignment"),
    ('file', "File"),
    ]


class RequestEvent(Authored, ModelSQL, ModelView):
    "Request History"
    __name__ = 'portal.request.event'
    __string__ = "Request History Entry"

    request = fields.Many2One(
        'portal.request', "Request", required=True, readonly=True,
        ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    author = fields.Selection(AUTHORS, "Author", required=True,
        readonly=True)
    web_user = fields.Many2One(
        'web.user', "Portal User", readonly=True, ondelete='SET NULL',
        states={'invisible': Eval('author') != 'client'})
    user = fields.Many2One(
        'res.user', "Staff User", readonly=True, ondelete='SET NULL',
        states={'invisible': Eval('author') != 'staff'})
    body = fields.Text("Message", readonly=True)
    old_state = fields.Selection(
        [(None, '')] + STATES, "Old State", readonly=True,
        states={'invisible': Eval('kind') != 'state'})
    new_state = fields.Selection(
        [(None, '')] + STATES, "New State", readonly=True,
        states={'invisible': Eval('kind') != 'state'})
    old_responsible = fields.Many2One(
        'res.user', "Old Responsible", readonly=True, ondelete='SET NULL',
        states={'invisible': Eval('kind') != 'assignment'})
    new_responsible = fields.Many2One(
        'res.user', "New Responsible", readonly=True, ondelete='SET NULL',
        states={'invisible': Eval('kind') != 'assignment'})
    file = fields.Binary(
        "File", file_id='file_id', filename='file_name', readonly=True,
        states={'invisible': Eval('kind') != 'file'})
    file_id = fields.Char("File ID", readonly=True)
    file_name = fields.Char("File Name", readonly=True,
        states={'invisible': Eval('kind') != 'file'})
    # Read from the content when it was uploaded, never from its name
    file_type = fields.Char("File Type", readonly=True,
        states={'invisible': Eval('kind') != 'file'})
    file_size = fields.Integer("File Size", readonly=True,
        states={'invisible': Eval('kind') != 'file'})
    date = fields.Function(fields.Timestamp("Date"), 'get_date')
    author_name = fields.Function(fields.Char("By"), 'get_author_name')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('request')
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.request, Index.Equality()), (t.id, Index.Range())))
        cls._order = [('create_date', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        return f"{self.request.rec_name}: {self.kind}"

    @classmethod
    def file_values(cls, request, scan, who):
        "The row of a file (scan.Scan, checked) added by who"
        return {
            'request': request.id,
            'kind': 'file',
            'file': scan.data,
            'file_name': scan.name,
            'file_type': scan.mimetype,
            'file_size': len(scan.data),
            **who,
            }

    @classmethod
    def check_modification(cls, mode, events, values=None, external=False):
        super().check_modification(mode, events, values=values,
            external=external)
        # The history is what happened: it is never rewritten
        if mode == 'write':
            raise AccessError(gettext('client_portal.msg_request_immutable'))

    @classmethod
    def create(cls, vlist):
        events = super().create(vlist)
        Pool().get('portal.request').announce(events)
        return events
