import re

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import ValidationError
from trytond.pool import PoolMeta
from trytond.transaction import Transaction, without_check_access

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
    # Read by every portal page; cleared on write in every server process
    # (trytond's cache invalidation goes through the database)
    _portal_branding_cache = Cache(
        'company.company.portal_branding', context=False)

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

    @classmethod
    def on_modification(cls, mode, companies, field_names=None):
        super().on_modification(mode, companies, field_names=field_names)
        cls._portal_branding_cache.clear()

    @classmethod
    def portal_branding(cls, language):
        """The firm the portal belongs to (the first company) as the pages
        show it: name, title, contacts, colours, timezone, logo or not"""
        key = (Transaction().database.name, language)
        branding = cls._portal_branding_cache.get(key)
        if branding is not None:
            return branding
        with without_check_access(), \
                Transaction().set_context(language=language, **{
                    'company.company.logo': 'size'}):
            companies = cls.search([], limit=1, order=[('id', 'ASC')])
            if not companies:
                branding = {}
            else:
                company, = cls.read([companies[0].id], [
                        'portal_name', 'portal_support_email',
                        'portal_support_phone', 'logo', 'party.name',
                        'timezone', 'portal_primary_color',
                        'portal_accent_color'])
                branding = {
                    'id': company['id'],
                    'firm_name': company['party.']['name'],
                    'title': (company['portal_name']
                        or company['party.']['name']),
                    'has_logo': bool(company['logo']),
                    'support_email': company['portal_support_email'],
                    'support_phone': company['portal_support_phone'],
                    'timezone': company['timezone'],
                    'primary_color': company['portal_primary_color'],
                    'accent_color': company['portal_accent_color'],
                    }
        cls._portal_branding_cache.set(key, branding)
        return branding

