import re

from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import ValidationError
from trytond.pool import PoolMeta

COLOR = re.compile(r'^#[0-9a-fA-F]{6}$')


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    portal_name = fields.Char(
        "Portal Name", translate=True,
        help="Shown in the portal header, page titles and e-mails.")
    portal_primary_color = fields.Char(
        "Primary Colour", size=7, help="Hexadecimal, e.g. #0b5394.")
    portal_accent_color = fields.Char(
        "Accent Colour", size=7, help="Hexadecimal, e.g. #f1c232.")
    portal_support_email = fields.Char("Support E-mail")
    portal_support_phone = fields.Char("Support Phone")

    @classmethod
    def default_portal_primary_color(cls):
        return '#0b5394'

    @classmethod
    def default_portal_accent_color(cls):
        return '#f1c232'

    @classmethod
    def validate_fields(cls, companies, field_names):
        super().validate_fields(companies, field_names)
        for company in companies:
            for name in ['portal_primary_color', 'portal_accent_color']:
                value = getattr(company, name)
                if value and not COLOR.match(value):
                    raise ValidationError(gettext(
                            'client_portal.msg_invalid_color',
                            color=value))

    @property
    def portal_title(self):
        return self.portal_name or self.party.name
