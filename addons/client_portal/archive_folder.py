"""The document archive's folders: staff make them per client (nothing is
shipped by default, each firm files differently) and may open one for the
client's own uploads."""
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, fields, sequence_ordered, tree)
from trytond.pyson import Eval
from trytond.transaction import without_check_access


class Folder(tree(separator=' / '), sequence_ordered(), ModelSQL, ModelView):
    """Archive Folder

    A folder of the documents the firm shares with one client"""
    __name__ = 'portal.archive.folder'
    __string__ = "Archive Folder"

    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE',
        domain=[('portal_client', '=', True)])
    name = fields.Char("Name", required=True)
    parent = fields.Many2One(
        'portal.archive.folder', "Parent", ondelete='RESTRICT',
        domain=[('party', '=', Eval('party', -1))])
    children = fields.One2Many(
        'portal.archive.folder', 'parent', "Subfolders",
        domain=[('party', '=', Eval('party', -1))])
    client_upload = fields.Boolean(
        "Open for Client Uploads",
        help="The client's portal users can upload files into this folder.")
    files = fields.One2Many(
        'portal.archive.file', 'folder', "Files",
        domain=[('party', '=', Eval('party', -1))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.party, Index.Equality()), (t.parent, Index.Equality())))
        cls._order = [('party', 'ASC')] + cls._order + [('name', 'ASC')]

    @classmethod
    def default_client_upload(cls):
        return False

    @classmethod
    def validate(cls, folders):
        super().validate(folders)
        with without_check_access():
            for folder in folders:
                # A subfolder stays with its parent's client, whatever the
                # form's domain allowed
                if folder.parent and folder.parent.party != folder.party:
                    raise UserError(gettext(
                            'client_portal.msg_archive_folder_party',
                            folder=folder.rec_name))
