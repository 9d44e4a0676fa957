"""Corrections of a received cost invoice, as the law allows them in 2026
(facts/POLAND.md §2.1–2.2).

Since 1 February 2026 the buyer can no longer issue a nota korygująca (VAT
art. 106k was repealed): for a cost invoice with wrong data the client
sends the supplier a correction request, a PDF listing each wrong datum and
the correct one, and the supplier issues its corrective invoice (art.
106j). For invoices dated before that day the nota korygująca with the
content art. 106k ust. 3 required is still offered.

Each correction is numbered in its own series per year ("WK/<n>/<year>"
for requests, "NK/<n>/<year>" for notes), rendered once to a stored PDF and
e-mailed from the queue after the transaction that created it commits; the
delivery's outcome is kept on the record and a failed (or lost) e-mail can
be sent again."""
import datetime
import logging
from email.headerregistry import Address
from email.utils import parseaddr

from trytond import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.sendmail import send_message
from trytond.transaction import Transaction, without_check_access

from .outgoing import LANGUAGES, _as_system
from .party import EMAIL

logger = logging.getLogger(__name__)

KINDS = [
    ('request', "Correction Request"),
    ('note', "Nota Korygująca"),
    ]
DELIVERY_STATES = [
    ('queued', "Queued"),
    ('sent', "Sent"),
    ('failed', "Failed"),
    ]
# Each kind is numbered in its own series: "<prefix><n>/<year>"
PREFIXES = {
    'request': 'WK/',
    'note': 'NK/',
    }
# The history action of the cost invoice each kind records
ACTIONS = {
    'request': 'correction_request',
    'note': 'note',
    }
# Lengths the form and the model accept
LIMITS = {
    'recipient': 254,
    'message': 4000,
    'field': 200,
    'wrong': 1000,
    'correct': 1000,
    }
ITEM_FIELDS = ('field', 'wrong', 'correct')
# The cost invoices the supplier may be asked to correct: those the firm
# accepted as its cost
CORRIGIBLE_STATES = {'approved', 'paid'}


def _message(name, **kwargs):
    return gettext(f'client_portal.msg_{name}', **kwargs)


class CostCorrection(ModelSQL, ModelView):
    """Cost Invoice Correction

    A correction request to the supplier of a cost invoice, or a nota
    korygująca for an invoice dated before 2026-02-01, with its PDF and the
    delivery of its e-mail"""
    __name__ = 'portal.cost.correction'
    _rec_name = 'number'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    cost_invoice = fields.Many2One(
        'portal.cost.invoice', "Cost Invoice", required=True, readonly=True,
        ondelete='RESTRICT')
    # The cost invoice's client, stored: the portal's record rule reads it
    client = fields.Many2One(
        'party.party', "Client", required=True, readonly=True,
        ondelete='RESTRICT')
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    number = fields.Char("Number", readonly=True)
    sequence = fields.Integer("Number in Series", readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    language = fields.Selection(
        LANGUAGES, "Language", required=True, readonly=True)
    recipient = fields.Char("Recipient", required=True, readonly=True)
    message = fields.Text("Message", readonly=True)
    items = fields.One2Many(
        'portal.cost.correction.item', 'correction', "Wrong Data",
        readonly=True)
    web_user = fields.Many2One(
        'web.user', "Portal User", readonly=True, ondelete='SET NULL')

    # Rendered once, when the correction is made, and sent as it is
    pdf = fields.Binary(
        "PDF", file_id='pdf_id',
        filename='pdf_name', readonly=True)
    pdf_id = fields.Char("PDF ID", readonly=True)
    pdf_name = fields.Function(fields.Char("PDF Name"), 'get_pdf_name')

    delivery_state = fields.Selection(
        DELIVERY_STATES, "Delivery", required=True, readonly=True,
        sort=False)
    delivery_error = fields.Char("Delivery Error", readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    sent_at = fields.Timestamp("Sent at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.company, t.number),
                'client_portal.msg_cost_correction_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.cost_invoice, Index.Equality())),
                Index(t, (t.client, Index.Equality())),
                Index(t, (t.delivery_state, Index.Equality(
                            cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'resend': {
                    'invisible': Eval('delivery_state') == 'queued',
                    'depends': ['delivery_state'],
                    },
                })

    @classmethod
    def default_delivery_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0

    def get_pdf_name(self, name):
        return f'{(self.number or str(self.id)).replace("/", "-")}.pdf'

    # --- what the form offers -------------------------------------------

    @classmethod
    def kinds_allowed(cls, cost_invoice):
        "The kinds the client may choose for the cost invoice"
        if cost_invoice.state not in CORRIGIBLE_STATES:
            return []
        return ['request', 'note'] if cost_invoice.may_note else ['request']

    @classmethod
    def portal_defaults(cls, cost_invoice):
        """A new correction's values: a request, in the supplier's language
        (else the invoice's), to the supplier's e-mail"""
        supplier = cost_invoice.supplier
        language = (supplier.lang.code[:2]
            if supplier and supplier.lang else None)
        if language not in dict(LANGUAGES):
            language = cost_invoice.language or 'pl'
        return {
            'kind': 'request',
            'language': language,
            'recipient': (supplier.email or '') if supplier else '',
            'message': '',
            }

    # --- validation -------------------------------------------------------

    @classmethod
    def portal_errors(cls, cost_invoice, values, items):
        """What cannot be used, as {name: message}: the values' names, and
        (position, name) for the items (field, wrong, correct) in the order
        given. Values and items are stripped strings."""
        errors = {}
        # Outside the kinds offered: a note of an invoice dated after the
        # repeal, or a form posted for an invoice no longer approved
        kind = values.get('kind')
        if kind not in dict(KINDS):
            errors['kind'] = _message('invalid_choice')
        elif cost_invoice.state not in CORRIGIBLE_STATES:
            errors['kind'] = _message('cost_correction_not_approved',
                number=cost_invoice.number)
        elif kind not in cls.kinds_allowed(cost_invoice):
            errors['kind'] = _message('cost_correction_note_repealed',
                number=cost_invoice.number)
        if values.get('language') not in dict(LANGUAGES):
            errors['language'] = _message('invalid_choice')
        recipient = values.get('recipient') or ''
        if (not EMAIL.match(recipient)
                or len(recipient) > LIMITS['recipient']):
            errors['recipient'] = _message('invalid_email')
        if len(values.get('message') or '') > LIMITS['message']:
            errors['message'] = _message('too_long')
        if not items:
            errors['items'] = _message('cost_correction_no_items')
        for position, item in enumerate(items):
            for name, message in cls._item_errors(item).items():
                errors[position, name] = message
        return errors

    @classmethod
    def _item_errors(cls, item):
        "The messages of one wrong datum, by its field's name"
        errors = {}
        for name in ITEM_FIELDS:
            if len(item.get(name) or '') > LIMITS[name]:
                errors[name] = _message('too_long')
        if not item.get('field'):
            errors.setdefault('field', _message('cost_correction_item_field'))
        for name in ('wrong', 'correct'):
            if not item.get(name):
                errors.setdefault(
                    name, _message('cost_correction_item_values'))
        if ('correct' not in errors and item.get('wrong')
                and _folded(item['wrong']) == _folded(item['correct'])):
            errors['correct'] = _message('cost_correction_item_same')
        return errors

    # --- the client's actions (portal) -----------------------------------

    @classmethod
    def portal_create(cls, cost_invoice, values, items, actor=None):
        """Number, render and queue the e-mail of a correction of the cost
        invoice: values has kind, language, recipient and message; items
        are dictionaries of field, wrong and correct. The caller read the
        cost invoice under the portal's rules; everything happens in its
        transaction and the e-mail leaves once it commits."""
        pool = Pool()
        CostInvoice = pool.get('portal.cost.invoice')
        Item = pool.get('portal.cost.correction.item')
        Date = pool.get('ir.date')
        values = {k: (v or '').strip() for k, v in values.items()}
        items = [{k: (item.get(k) or '').strip() for k in ITEM_FIELDS}
            for item in items]
        if cost_invoice.state not in CORRIGIBLE_STATES:
            raise UserError(_message('cost_correction_not_approved',
                    number=cost_invoice.number))
        errors = cls.portal_errors(cost_invoice, values, items)
        if errors:
            raise UserError(next(iter(errors.values())))
        kind = values['kind']
        with _as_system(cost_invoice.company):
            cost = CostInvoice(cost_invoice.id)
            date = Date.today()
            # First: the counter's lock may restart the transaction
            sequence, number = cls.take_number(cost.company, kind, date.year)
            record = cls(company=cost.company, cost_invoice=cost,
                client=cost.client, kind=kind, number=number,
                sequence=sequence, date=date, language=values['language'],
                recipient=values['recipient'],
                message=values.get('message') or None,
                web_user=actor.id if actor else None,
                delivery_state='queued', attempts=0,
                items=[Item(sequence=i, **item)
                    for i, item in enumerate(items, 1)])
            record.save()
            record.pdf = record.render_pdf()
            record.save()
            CostInvoice.log(cost, ACTIONS[kind], actor,
                changes=f'{number} → {record.recipient}')
            cls.__queue__.deliver([record])
        return cls(record.id)

    @classmethod
    def portal_resend(cls, record):
        """Send the e-mail again (to the same address): after a failure,
        or when the supplier says it never arrived"""
        if record.delivery_state == 'queued':
            raise UserError(_message('cost_correction_queued',
                    number=record.number))
        with _as_system(record.company):
            cls._requeue([cls(record.id)])

    @classmethod
    @ModelView.button
    def resend(cls, records):
        "The back office sends the e-mails again"
        cls._requeue([r for r in records if r.delivery_state != 'queued'])

    @classmethod
    def _requeue(cls, records):
        if records:
            with without_check_access():
                cls.write(records, {
                        'delivery_state': 'queued',
                        'delivery_error': None,
                        })
            cls.__queue__.deliver(records)

    # --- numbering --------------------------------------------------------

    @classmethod
    def take_number(cls, company, kind, year):
        """The next number of the kind's series in the year. The counter's
        row is locked until the transaction ends (trytond restarts a
        transaction that finds it locked), so numbers follow each other
        and a rollback gives its number back; the year's first number locks
        the counters' table, as two transactions would create its row."""
        Counter = Pool().get('portal.cost.correction.counter')
        domain = [
            ('company', '=', company.id),
            ('kind', '=', kind),
            ('year', '=', year),
            ]
        with without_check_access():
            counters = Counter.search(domain, limit=1)
            if counters:
                Counter.lock(counters)
            else:
                Counter.lock()
                # Created by a transaction committed since the search
                counters = Counter.search(domain, limit=1)
            if counters:
                counter, = counters
            else:
                counter, = Counter.create([{
                            'company': company.id, 'kind': kind,
                            'year': year, 'last_number': 0,
                            }])
            number = counter.last_number + 1
            Counter.write([counter], {'last_number': number})
        return number, f'{PREFIXES[kind]}{number}/{year}'

    # --- the PDF ------------------------------------------------------------

    def render_pdf(self):
        "The PDF of the correction in its language, rendered now"
        PDF = Pool().get('portal.cost.correction.pdf', type='report')
        transaction = Transaction()
        # As the system: the queue's task has no portal client to pass the
        # report's read check
        with transaction.set_user(0), transaction.set_context(
                language=self.language):
            _, content, _, _ = PDF.execute([self.id], {})
        return content

    def get_pdf(self):
        """The stored PDF; rendered and stored now if it is missing (a
        correction saved by other means)"""
        if self.pdf_id:
            content = self.pdf
            if content:
                return content
        content = self.render_pdf()
        with without_check_access():
            self.__class__.write([self], {'pdf': content})
        return content

    # --- the e-mail ---------------------------------------------------------

    @classmethod
    def deliver(cls, records):
        """Send the queued e-mails, each on its own: the outcome (sent, or
        failed with the SMTP error) is written, never raised, so that one
        bad address does not hold the others back"""
        with without_check_access():
            records = [r for r in cls.browse(records)
                if r.delivery_state == 'queued']
            for record in records:
                attempts = (record.attempts or 0) + 1
                try:
                    msg = record._build_email()
                    # Not the transactional variant: the state must say
                    # what the SMTP server answered
                    send_message(msg, strict=True)
                except Exception as e:
                    logger.warning("cost correction e-mail %s failed",
                        record.id, exc_info=True)
                    cls.write([record], {
                            'delivery_state': 'failed',
                            'delivery_error': (str(e)[:500]
                                or e.__class__.__name__),
                            'attempts': attempts,
                            })
                else:
                    cls.write([record], {
                            'delivery_state': 'sent',
                            'delivery_error': None,
                            'attempts': attempts,
                            'sent_at': datetime.datetime.now(),
                            })

    def _build_email(self):
        """The message in the correction's language with its PDF, from the
        firm (the buyer of the invoice) and answered to its support"""
        from .mail import build_message
        Company = Pool().get('company.company')
        branding = Company.portal_branding(self.language)
        msg = build_message('cost_correction', self.language,
            correction=self, cost=self.cost_invoice, client=self.client,
            firm=self.company, items=list(self.items),
            contact=firm_contact(self.company, branding))
        msg['From'] = _sender(self.company.party.name)
        if branding.get('support_email'):
            msg['Reply-To'] = branding['support_email']
        msg['To'] = self.recipient
        msg.add_attachment(bytes(self.get_pdf()), maintype='application',
            subtype='pdf', filename=self.pdf_name)
        return msg

    # --- integrity ----------------------------------------------------------

    @classmethod
    def copy(cls, records, default=None):
        if records:
            raise UserError(_message('cost_correction_no_delete'))
        return super().copy(records, default=default)

    @classmethod
    def check_modification(cls, mode, records, values=None,
            external=False):
        super().check_modification(mode, records, values=values,
            external=external)
        # Numbered and sent: a gap in the series or a document the
        # supplier holds and the firm does not
        if mode == 'delete' and any(r.number for r in records):
            raise UserError(_message('cost_correction_no_delete'))


def firm_contact(company, branding=None):
    """(name, e-mail, phone) the supplier answers to: the portal's support
    contacts, else the firm's own"""
    branding = branding or {}
    party = company.party
    return (party.name,
        branding.get('support_email') or party.email or '',
        branding.get('support_phone') or party.phone or '')


def _sender(name):
    "The configured sender's address under the firm's name"
    from_ = config.get('email', 'from')
    _, address = parseaddr(from_)
    if '@' not in address:
        # A bare local name (trytond's default): as configured
        return from_
    return str(Address(name, addr_spec=address))


def _folded(text):
    "Whitespace and case do not make a datum different"
    return ' '.join(text.split()).casefold()


class CostCorrectionItem(ModelSQL, ModelView):
    "Cost Invoice Correction Item"
    __name__ = 'portal.cost.correction.item'

    correction = fields.Many2One(
        'portal.cost.correction', "Correction", required=True,
        ondelete='CASCADE')
    sequence = fields.Integer("Sequence")
    field = fields.Char("Datum", required=True,
        help="What is wrong on the invoice, e.g. the buyer's address.")
    wrong = fields.Text("Wrong Content", required=True)
    correct = fields.Text("Correct Content", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('correction')
        cls._order = [('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')]


class CostCorrectionCounter(ModelSQL):
    "Last number of a cost correction series in a year"
    __name__ = 'portal.cost.correction.counter'

    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True)
    year = fields.Integer("Year", required=True)
    last_number = fields.Integer("Last Number", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_kind_year_unique',
                Unique(t, t.company, t.kind, t.year),
                'client_portal.msg_cost_correction_number_unique'),
            ]
