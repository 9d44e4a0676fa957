"E-mails of the portal, rendered from HTML reports in the user's language"
from trytond.pool import Pool
from trytond.report import Report

from .web_user import portal_url


class PortalEmail(Report):

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Company = pool.get('company.company')
        context = super().get_context(records, header, data)
        companies = Company.search([], limit=1, order=[('id', 'ASC')])
        context['company'] = companies[0] if companies else None
        context['portal_url'] = portal_url
        return context


class EmailInvitation(PortalEmail):
    __name__ = 'portal.email.invitation'


class EmailResetPassword(PortalEmail):
    __name__ = 'portal.email.reset_password'


class EmailNewDocument(PortalEmail):
    __name__ = 'portal.email.new_document'
