"""Cost invoices made of invoices received through KSeF: a draft for the
client with the supplier's lines, the KSeF number, and the receipt date KSeF
gave (facts POLAND.md §8). Its XML is the original, so it needs no scan.

An invoice the client typed in by hand before it arrived (same supplier tax
number and number) is linked, not duplicated."""
from decimal import Decimal

from stdnum.pl import nip as stdnum_nip

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class KsefAllocationError(Exception):
    "Why a received invoice cannot become a cost invoice (shown to staff)"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class CostInvoice(metaclass=PoolMeta):
    __name__ = 'portal.cost.invoice'

    KsefAllocationError = KsefAllocationError

    ksef_received = fields.Many2One('ksef.received.invoice',
        "KSeF Invoice", readonly=True, ondelete='RESTRICT')
    ksef_number = fields.Function(fields.Char("KSeF Number"),
        'get_ksef_field', searcher='search_ksef_field')
    ksef_received_at = fields.Function(
        fields.Timestamp("KSeF Acceptance Date",
            help="When KSeF gave the invoice its number: the receipt."),
        'get_ksef_field')
    from_ksef = fields.Function(fields.Boolean("From KSeF"),
        'get_from_ksef', searcher='search_from_ksef')
    ksef_corrected = fields.Many2One('ksef.received.invoice',
        "Corrected KSeF Invoice", readonly=True, ondelete='RESTRICT',
        help="The invoice this KSeF correction corrects, as KSeF holds it.")
    ksef_register_marker = fields.Function(
        fields.Char("Register KSeF Number or Marker",
            help="For the purchase register (facts POLAND.md §7): the "
            "KSeF number, or BFK for an invoice issued outside KSeF."),
        'get_ksef_register_marker')

    def get_ksef_field(self, name):
        received = self.ksef_received
        if not received:
            return None
        return getattr(received, {'ksef_number': 'ksef_number',
                'ksef_received_at': 'acquired_at'}[name])

    @classmethod
    def search_ksef_field(cls, name, clause):
        return [('ksef_received.ksef_number',) + tuple(clause[1:])]

    def get_from_ksef(self, name):
        return bool(self.ksef_received)

    @classmethod
    def search_from_ksef(cls, name, clause):
        _, operator, value = clause
        wanted = bool(value) if operator == '=' else not value
        return [('ksef_received', '!=' if wanted else '=', None)]

    def get_ksef_register_marker(self, name):
        return self.ksef_received.ksef_number if self.ksef_received \
            else 'BFK'

    def portal_needs_scan(self):
        # The KSeF XML is the original invoice
        return super().portal_needs_scan() and not self.ksef_received

    @classmethod
    def ksef_create(cls, received, client):
        """The draft cost invoice of the received invoice for the client,
        or the one registered by hand before, now linked to it; raises
        KsefAllocationError when it cannot be made"""
        company = received.company
        with without_check_access(), Transaction().set_context(
                company=company.id, _check_access=False):
            duplicate = cls._ksef_duplicate(received)
            if duplicate:
                if duplicate.ksef_received and \
                        duplicate.ksef_received != received:
                    raise KsefAllocationError(gettext(
                            'ksef.msg_received_cost_linked',
                            number=duplicate.number))
                cls.write([duplicate], {'ksef_received': received.id})
                return cls(duplicate.id)
            record = cls._ksef_new(received, client)
            record.save()
            cls.log(record, 'created', None)
            return record

    @classmethod
    def _ksef_duplicate(cls, received):
        nip = received.seller_nip or ''
        numbers = {nip}
        if stdnum_nip.is_valid(nip):
            numbers |= {stdnum_nip.format(nip), f'PL{nip}'}
        found = cls.search([
                ('company', '=', received.company.id),
                ('supplier_tax_number', 'in', sorted(numbers)),
                ('number', '=', (received.number or '').strip()),
                ], limit=1)
        return found[0] if found else None

    @classmethod
    def _ksef_new(cls, received, client):
        "The unsaved draft of the received invoice"
        pool = Pool()
        Currency = pool.get('currency.currency')
        document = received.document
        currencies = Currency.search(
            [('code', '=', received.currency_code)], limit=1)
        if not currencies:
            raise KsefAllocationError(gettext(
                    'ksef.msg_received_currency',
                    currency=received.currency_code))
        supplier = cls._ksef_supplier(received, client)
        corrected = None
        kind = 'correction' if received.is_correction else 'invoice'
        if received.corrected and received.corrected.cost_invoice:
            earlier = received.corrected.cost_invoice
            if earlier.client == client and earlier.kind == 'invoice':
                corrected = earlier
        record = cls(company=received.company, client=client,
            supplier=supplier,
            supplier_tax_number=supplier.tax_identifier.code,
            number=received.number.strip(), kind=kind, corrected=corrected,
            ksef_received=received, ksef_corrected=received.corrected,
            invoice_date=received.issue_date,
            sale_date=received.sale_date,
            receipt_date=received.receipt_date,
            currency=currencies[0], language='pl', entry='lines',
            payment_method=received.payment_method,
            payment_status='unpaid', due_date=received.due_date,
            note=gettext('ksef.msg_received_cost_note',
                ksef_number=received.ksef_number,
                bank_account=received.bank_account or '—'),
            state='draft')
        record.lines = cls._ksef_lines(document)
        try:
            record.set_amounts()
        except UserError:
            # No NBP rate stored: the supplier's rate (KursWalutyZ), which
            # follows the same rule (VAT art. 31a)
            if not document.foreign_currency_rate:
                raise KsefAllocationError(gettext(
                        'ksef.msg_received_no_rate',
                        currency=received.currency_code))
            cls._ksef_supplier_rate(record, document.foreign_currency_rate)
        return record

    @classmethod
    def _ksef_supplier_rate(cls, record, rate):
        from client_portal.cost_invoice import _round
        record.untaxed_amount, record.tax_amount, record.total_amount, _ = (
            cls.compute_amounts([(l.quantity, l.unit_price, l.tax)
                    for l in record.lines]))
        record.nbp_rate = Decimal(rate)
        record.nbp_table = None
        record.nbp_date = None
        record.untaxed_pln = _round(record.untaxed_amount * record.nbp_rate)
        record.tax_pln = _round(record.tax_amount * record.nbp_rate)

    @classmethod
    def _ksef_lines(cls, document):
        """Cost invoice lines of the FA(3) lines: for a correction, the
        lines before it count negative, so the lines are the differences"""
        pool = Pool()
        Line = pool.get('portal.cost.invoice.line')
        Product = pool.get('portal.product')
        taxes = {t.portal_vat_code: t
            for t in Product.portal_taxes('purchase')}
        lines = []
        for line in document.lines:
            tax = taxes.get(line.tax.xml_rate)
            if tax is None:
                raise KsefAllocationError(gettext(
                        'ksef.msg_received_rate',
                        rate=line.tax.xml_rate or line.tax.kind.value,
                        line=line.description))
            quantity = Decimal(line.quantity) or Decimal(1)
            net = line.effective_net_amount
            price = Decimal(line.unit_net_price)
            if (quantity * price).quantize(Decimal('0.01')) != net:
                # The net the supplier wrote (P_11) rules: discounts and
                # gross-priced lines come out as the same net
                price = net / quantity
            if line.before_correction:
                quantity = -quantity
            lines.append(Line(description=line.description,
                    quantity=quantity,
                    unit_price=price.quantize(Decimal('0.0001')),
                    tax=tax))
        return lines

    @classmethod
    def _ksef_supplier(cls, received, client):
        "The client's contractor of the seller's NIP, created if missing"
        pool = Pool()
        Party = pool.get('party.party')
        Country = pool.get('country.country')
        nip = received.seller_nip
        if not nip or not stdnum_nip.is_valid(nip):
            raise KsefAllocationError(gettext(
                    'ksef.msg_received_seller_nip', nip=nip or '—'))
        found = Party.search([
                ('portal_owner', '=', client.id),
                ('identifiers.code_compact', 'in', [nip, f'PL{nip}']),
                ], limit=1)
        if found:
            return found[0]
        address = {}
        lines = (received.seller_address or '').split('\n')
        if lines and lines[0]:
            address['street_unstructured'] = lines[0]
        if len(lines) > 1:
            postal_code, _, city = lines[1].partition(' ')
            if city:
                address.update(postal_code=postal_code, city=city)
            else:
                address['city'] = lines[1]
        poland = Country.search([('code', '=', 'PL')], limit=1)
        if poland:
            address['country'] = poland[0].id
        party, = Party.create([{
                    'name': received.seller_name or nip,
                    'portal_owner': client.id,
                    'addresses': [('create', [address])],
                    'identifiers': [('create', [{
                                    'type': 'pl_vat', 'code': nip}])],
                    }])
        return party
