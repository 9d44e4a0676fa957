"""What the client and the firm write to each other (the chat's messages,
comments on documents, the entries of a request's history): who wrote it
and when, and for the firm's side, what the client wrote that nobody at
the firm has read yet."""
from sql import Literal, Null
from sql.conditionals import Case

from trytond.transaction import without_check_access


class Authored:
    "Needs author ('client' or 'staff'), web_user, user"
    __slots__ = ()

    def get_date(self, name):
        return self.create_date

    @classmethod
    def order_date(cls, tables):
        table, _ = tables[None]
        return [table.create_date]

    def get_author_name(self, name):
        # The names of the firm's users and of the client's own users are
        # what each side sees of the other: read whoever asks
        with without_check_access():
            if self.author == 'staff':
                return self.user.rec_name if self.user else None
            if self.web_user:
                return self.web_user.full_name or self.web_user.email


class ToTheFirm(Authored):
    """A text of a client's thread with the firm (needs party, read_at):
    its manager, and whether a client's text waits to be read"""
    __slots__ = ()

    def get_rec_name(self, name):
        return f"{self.party.rec_name}: {' '.join(self.body.split())[:40]}"

    def get_manager(self, name):
        with without_check_access():
            manager = self.party.portal_manager
            return manager.id if manager else None

    @classmethod
    def search_manager(cls, name, clause):
        return [('party.portal_manager',) + tuple(clause[1:])]

    def get_unread(self, name):
        return self.author == 'client' and self.read_at is None

    @classmethod
    def search_unread(cls, name, clause):
        _, operator, value = clause[:3]
        if (operator == '=') == bool(value):
            return [('author', '=', 'client'), ('read_at', '=', None)]
        return ['OR', ('author', '!=', 'client'), ('read_at', '!=', None)]

    @classmethod
    def order_unread(cls, tables):
        table, _ = tables[None]
        return [Case(
                ((table.author == 'client') & (table.read_at == Null),
                    Literal(1)),
                else_=Literal(0))]
