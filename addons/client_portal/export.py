"""Exports too large to build within a page's request: queued, written by
the queue worker under the same record rules as the page, kept for the
user to download for a week. The file is the one the page's export would
have sent: the report's filters are stored as the page's query string."""
import datetime
import json
import logging
from types import SimpleNamespace

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

STATES = [
    ('queued', "Queued"),
    ('running', "Running"),
    ('done', "Ready"),
    ('failed', "Failed"),
    ]
FORMATS = [('xlsx', "XLSX"), ('csv', "CSV")]
# How long a file stays offered for download
KEPT = datetime.timedelta(days=7)

logger = logging.getLogger(__name__)


class Export(ModelSQL, ModelView):
    """Portal Export

    A spreadsheet a portal user asked for, built in the background"""
    __name__ = 'portal.export'

    web_user = fields.Many2One('web.user', "Portal User", required=True,
        readonly=True, ondelete='CASCADE')
    client = fields.Many2One('party.party', "Client", required=True,
        readonly=True, ondelete='CASCADE')
    report = fields.Char("Report", required=True, readonly=True)
    format = fields.Selection(FORMATS, "Format", required=True,
        readonly=True)
    query = fields.Text("Query", required=True, readonly=True,
        help="The report page's query string, as JSON.")
    language = fields.Char("Language", required=True, readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    rows_total = fields.Integer("Rows", readonly=True)
    rows_done = fields.Integer("Rows Written", readonly=True)
    file = fields.Binary("File", file_id='file_id', filename='filename',
        readonly=True)
    file_id = fields.Char("File ID", readonly=True)
    filename = fields.Char("File Name", readonly=True)
    finished_at = fields.Timestamp("Finished", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_state():
        return 'queued'

    @staticmethod
    def default_rows_done():
        return 0

    @classmethod
    def queue(cls, web_user, client, report, format, args, language,
            total):
        "The export of the report as the page's args give it, queued"
        export, = cls.create([{
                    'web_user': web_user.id, 'client': client.id,
                    'report': report, 'format': format,
                    'query': json.dumps(args, sort_keys=True),
                    'language': language, 'rows_total': total,
                    }])
        cls.__queue__.run([export])
        return export

    @classmethod
    def run(cls, exports):
        "Write each export's file as its user, under the portal's rules"
        from .web.access import client_access
        from .web.reports import BUILDERS
        pool = Pool()
        for export in exports:
            if export.state != 'queued':
                continue
            user = SimpleNamespace(id=export.web_user.id,
                client=SimpleNamespace(id=export.client.id))
            export._progress(0, 'running')
            try:
                with client_access(pool, user, export.language):
                    file, filename = BUILDERS[export.report](
                        pool, json.loads(export.query), export.format,
                        export.language, progress=export._progress)
            except Exception:
                # The user sees it failed instead of waiting for ever
                logger.exception("export %s failed", export.id)
                export._finish({'state': 'failed'})
                continue
            with file:
                export._finish({'file': file.read(), 'filename': filename,
                        'state': 'done', 'rows_done': export.rows_total})

    def _progress(self, rows, state=None):
        """The rows written so far, seen at once by the page polling the
        export; SQLite cannot commit beside the export's open read, so it
        shows the states only"""
        if backend.name == 'sqlite' and state is None:
            return
        values = {'rows_done': rows}
        if state:
            values['state'] = state
        self._commit(values)

    def _finish(self, values):
        self._commit({**values, 'finished_at': datetime.datetime.now()})

    def _commit(self, values):
        """Write the export in a transaction of its own: the task's own
        transaction only reads, so that these writes never conflict with
        it (PostgreSQL's repeatable read refuses a row changed since)"""
        with Transaction().new_transaction() as transaction:
            self.__class__.write([self.__class__(self.id)], values)
            transaction.commit()

    @classmethod
    def clean(cls):
        "Drop the exports older than they are kept (cron)"
        now = datetime.datetime.now()
        cls.delete(cls.search([('create_date', '<', now - KEPT)]))

    @property
    def expires_at(self):
        return (self.create_date or datetime.datetime.now()) + KEPT


class ExportFile(ModelView):
    """Exported File

    The file a back-office export wizard ends with, to save"""
    __name__ = 'portal.export.file'
    __string__ = "Exported File"

    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('portal.export|clean', "Drop Old Portal Exports"))
