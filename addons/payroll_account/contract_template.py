"""Contract templates kept by staff, in Polish and English, with
{{placeholders}} filled from the contract. A template's text is versioned:
a version used by a contract is read-only, and "New Version" copies the
current one to edit, so an issued contract keeps the text it was made
from."""
import re

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import without_check_access

KINDS = [
    ('mandate', "Mandate Contract (umowa zlecenie)"),
    ('work', "Contract for Specific Work (umowa o dzieło)"),
    ('other', "Other"),
    ]
PLACEHOLDERS = ('client_name', 'client_tax_number', 'client_address',
    'contractor_name', 'contractor_pesel', 'contractor_address', 'subject',
    'rate', 'rate_type', 'amount', 'currency', 'start', 'end',
    'copyright_share', 'number', 'date', 'copyright_clause')
PLACEHOLDER = re.compile(r'\{\{\s*([a-z_]+)\s*\}\}')
PLACEHOLDER_HELP = (
    "Placeholders replaced in the contract: "
    + ", ".join('{{%s}}' % p for p in PLACEHOLDERS)
    + ". Unknown placeholders stay as typed.")


def render(text, values):
    """text with each {{name}} of values replaced by its value; only a
    lookup: staff text never runs code, and an unknown name stays visible"""
    def replace(match):
        value = values.get(match.group(1))
        return match.group(0) if value is None else str(value)
    return PLACEHOLDER.sub(replace, text or '')


class Template(DeactivableMixin, ModelSQL, ModelView):
    """Contract Template

    A kind of contract with its versioned Polish and English text, offered
    to the clients chosen by the managers"""
    __name__ = 'payroll.contract.template'

    name = fields.Char("Name", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True)
    clients = fields.Many2Many(
        'payroll.contract.template-party.party', 'template', 'party',
        "Clients", domain=[('portal_client', '=', True)],
        help="The clients who may use this template (none: nobody).")
    versions = fields.One2Many(
        'payroll.contract.template.version', 'template', "Versions")
    current_version = fields.Function(fields.Many2One(
            'payroll.contract.template.version', "Current Version"),
        'get_current_version')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'new_version': {},
                })

    @classmethod
    def default_kind(cls):
        return 'mandate'

    def get_current_version(self, name):
        versions = sorted(self.versions, key=lambda v: v.number or 0)
        return versions[-1].id if versions else None

    def allowed_for(self, client):
        "Whether the client may make contracts from the template"
        client_id = getattr(client, 'id', client)
        with without_check_access():
            return bool(self.active) and client_id in {
                c.id for c in self.__class__(self.id).clients}

    @classmethod
    @ModelView.button
    def new_version(cls, templates):
        "A new version copied from the current one, to edit"
        Version = Pool().get('payroll.contract.template.version')
        to_copy = [t.current_version for t in templates if t.current_version]
        Version.copy(to_copy)
        empty = [t for t in templates if not t.current_version]
        if empty:
            Version.create([{'template': t.id} for t in empty])


class TemplateClient(ModelSQL):
    "Contract template a client may use"
    __name__ = 'payroll.contract.template-party.party'

    template = fields.Many2One(
        'payroll.contract.template', "Template", required=True,
        ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.party, Index.Equality())))


class TemplateVersion(ModelSQL, ModelView):
    """Contract Template Version

    The text of a template as it was when contracts were made from it"""
    __name__ = 'payroll.contract.template.version'

    template = fields.Many2One(
        'payroll.contract.template', "Template", required=True,
        ondelete='CASCADE')
    number = fields.Integer("Number", readonly=True,
        help="1, 2, … in the order the versions were made.")
    text_pl = fields.Text("Polish Text", required=True,
        states={'readonly': Eval('used', False)}, help=PLACEHOLDER_HELP)
    text_en = fields.Text("English Text", required=True,
        states={'readonly': Eval('used', False)}, help=PLACEHOLDER_HELP)
    created = fields.Date("Created", readonly=True)
    current = fields.Function(fields.Boolean("Current"), 'get_current')
    used = fields.Function(fields.Boolean("Used",
            help="Used by a contract: its text can not change any more."),
        'get_used')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('template_number_unique', Unique(t, t.template, t.number),
                'payroll_account.msg_template_version_unique'),
            ]
        cls._order = [('template', 'ASC'), ('number', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_text_pl(cls):
        return ''

    @classmethod
    def default_text_en(cls):
        return ''

    def get_rec_name(self, name):
        return f'{self.template.rec_name} v{self.number}'

    def get_current(self, name):
        return self.template.current_version == self

    @classmethod
    def get_used(cls, versions, name):
        Contract = Pool().get('payroll.contract')
        used = set()
        with without_check_access():
            for sub in Contract.search([
                        ('template_version', 'in', [v.id for v in versions]),
                        ]):
                used.add(sub.template_version.id)
        return {v.id: v.id in used for v in versions}

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.setdefault('created', Pool().get('ir.date').today())
        return values

    @classmethod
    def create(cls, vlist):
        # Numbered in the order made, per template
        vlist = [v.copy() for v in vlist]
        last = {}
        for values in vlist:
            template = values.get('template')
            if template not in last:
                with without_check_access():
                    versions = cls.search([('template', '=', template)],
                        order=[('number', 'DESC')], limit=1)
                last[template] = versions[0].number if versions else 0
            if not values.get('number'):
                last[template] += 1
                values['number'] = last[template]
        return super().create(vlist)

    @classmethod
    def copy(cls, versions, default=None):
        default = default.copy() if default else {}
        default.setdefault('number', None)
        default.setdefault('created', None)
        return super().copy(versions, default=default)

    @classmethod
    def check_modification(cls, mode, versions, values=None, external=False):
        super().check_modification(
            mode, versions, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and values.keys() & {
                    'text_pl', 'text_en', 'template', 'number'}):
            for version in versions:
                if version.used:
                    raise AccessError(gettext(
                            'payroll_account.msg_template_version_used',
                            version=version.rec_name))

    def text(self, language):
        return self.text_en if language == 'en' else self.text_pl

