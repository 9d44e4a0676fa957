"""One outbox run: the records it claimed sent to Bitrix24, each as it is
now (facts: BITRIX24.md §4, §5, §10).

Companies, contacts and catalog products go one call at a time through
their own methods (their phones and e-mails are updated by entry id, never
appended twice, §5.3); items (Offers, smart processes) travel in batches of
up to 50 calls, each new item created together with its product rows (a
$result reference). A record without a link is looked up by Portico's key
before it is created: an earlier attempt whose answer was lost, or whose
worker died before it committed, may have created it (Bitrix24 has no
idempotency key, §10.1)."""
import datetime
from dataclasses import dataclass

from trytond.pool import Pool
from trytond.transaction import Transaction

from . import rest
from .mapping import COMPANY, CONTACT, PRODUCT
from .sync import external_key

BATCH = 50
LEGACY = {COMPANY: 'company', CONTACT: 'contact'}
MULTI_FIELDS = ['PHONE', 'EMAIL', 'WEB']
# Errors after which nothing else is tried in this run
STOPPING = (rest.QueryLimitExceeded, rest.OperationTimeLimit,
    rest.Overloaded, rest.Unavailable)


@dataclass
class Outcome:
    done: bool = False
    error: str = None
    retryable: bool = True
    uncertain: bool = False
    retry_at: datetime.datetime = None

    @classmethod
    def of(cls, error, uncertain=False):
        retry_at = None
        if isinstance(error, rest.OperationTimeLimit) and error.reset_at:
            retry_at = datetime.datetime.fromtimestamp(error.reset_at)
        ambiguous = isinstance(error, rest.Ambiguous)
        # A lost answer is tried again: the record is looked up first
        return cls(error=str(error), retryable=error.retryable or ambiguous,
            uncertain=uncertain or ambiguous, retry_at=retry_at)


@dataclass
class Plan:
    record: object
    mapping: object
    payload: object
    link: object

    @property
    def key(self):
        return str(self.record)


class _Stop(Exception):
    "The transport failed for every call: what is left waits"

    def __init__(self, error):
        self.error = error


def owner_type(entity_type_id):
    "productrow ownerType: Q for Offers, T<hex> for smart processes (§5.1)"
    if entity_type_id == 7:
        return 'Q'
    if entity_type_id == 31:
        return 'SI'
    return 'T%x' % entity_type_id


class Run:

    def __init__(self, configuration, client):
        self.configuration = configuration
        self.client = client
        self.key_field = configuration.key_field
        self._catalog = None

    def send(self, work):
        """{key: Outcome} of [(key, action)], key a record's 'model,id',
        yielded in steps: the caller settles each step before the next is
        planned, so the database work of a run is spread between its
        requests (where the bucket's wait hides it) instead of before and
        after all of them. Records the run did not reach are left out."""
        outcomes = {}
        items = []
        try:
            for key, action in work:
                try:
                    record = _existing(key)
                    if action == 'delete' or record is None:
                        outcomes[key] = self._delete(key)
                        continue
                    plan = self._plan(record)
                    if plan is None:
                        outcomes[key] = Outcome(done=True)
                    elif plan.payload.legacy or plan.payload.product:
                        outcomes[key] = self._single(plan)
                    else:
                        items.append(plan)
                except (rest.AuthError, rest.Moved):
                    raise
                except STOPPING as error:
                    outcomes[key] = Outcome.of(error)
                    raise _Stop(error)
                except rest.Bitrix24Error as error:
                    outcomes[key] = Outcome.of(error)
                if len(items) >= BATCH:
                    # One look-up request for them, then their batches
                    outcomes.update(self._items(items))
                    items = []
                    yield outcomes
                    outcomes = {}
            outcomes.update(self._items(items))
        except _Stop:
            pass
        yield outcomes

    # What a record becomes

    def _plan(self, record):
        pool = Pool()
        Mapping = pool.get('bitrix.mapping')
        Link = pool.get('bitrix.link')
        kind = record.bitrix_kind()
        mapping = Mapping.find(kind, record.bitrix_status()) if kind else None
        if mapping is None:
            return None
        links = {}
        for dependency in record.bitrix_dependencies():
            links[str(dependency)] = self._ensure(dependency)
        payload = record.bitrix_payload(mapping, links)
        payload.key = external_key(record)
        payload.extra_fields = {f.target: f.value(record)
            for f in mapping.lines}
        self._common_fields(record, mapping, payload)
        link = Link.of([record]).get(str(record))
        return Plan(record, mapping, payload, link)

    def _common_fields(self, record, mapping, payload):
        client = record.bitrix_client()
        manager = client.portal_manager if client else None
        bitrix_user = manager.bitrix_user_id if manager else None
        if payload.legacy:
            payload.fields.update(ORIGINATOR_ID=self.configuration.originator,
                ORIGIN_ID=payload.key)
            if bitrix_user:
                payload.fields['ASSIGNED_BY_ID'] = bitrix_user
        elif not payload.product:
            payload.fields[self.key_field] = payload.key
            if payload.entity_type_id != 7:
                payload.fields['xmlId'] = payload.key
            if mapping.category_id is not None:
                payload.fields['categoryId'] = mapping.category_id
            if mapping.stage_id:
                payload.fields['stageId'] = mapping.stage_id
                payload.stage_id = mapping.stage_id
            if bitrix_user:
                payload.fields['assignedById'] = bitrix_user

    def _ensure(self, record):
        "The link of a record this one needs, created now when missing"
        Link = Pool().get('bitrix.link')
        link = Link.of([record]).get(str(record))
        if link:
            return link
        plan = self._plan(record)
        if plan is None:
            return None
        outcome = self._single(plan) if (plan.payload.legacy
            or plan.payload.product) else self._items([plan])[plan.key]
        if not outcome.done:
            raise rest.Bitrix24Error(None, outcome.error)
        return Link.of([record]).get(str(record))

    # Companies, contacts, products: one call at a time

    def _single(self, plan):
        payload = plan.payload
        digest = payload.content_hash()
        if plan.link and plan.link.content_hash == digest:
            return Outcome(done=True)
        try:
            if payload.product:
                bitrix_id = self._product(plan)
            else:
                bitrix_id = self._legacy(plan)
        except rest.Ambiguous as error:
            return Outcome.of(error, uncertain=True)
        self._save_link(plan, bitrix_id, digest)
        return Outcome(done=True)

    def _legacy(self, plan):
        entity = LEGACY[plan.payload.entity_type_id]
        fields = plan.payload.all_fields()
        bitrix_id = plan.link.bitrix_id if plan.link else None
        if bitrix_id is None:
            found = self.client.call(f'crm.{entity}.list', {
                    'filter': {
                        'ORIGINATOR_ID': fields['ORIGINATOR_ID'],
                        'ORIGIN_ID': fields['ORIGIN_ID']},
                    'select': ['ID']}).result
            if found:
                bitrix_id = int(found[0]['ID'])
        if bitrix_id is not None:
            try:
                current = self.client.call(f'crm.{entity}.get',
                    {'id': bitrix_id}).result
            except rest.NotFound:
                bitrix_id = None
            else:
                self.client.call(f'crm.{entity}.update', {
                        'id': bitrix_id,
                        'fields': _merge_multi_fields(fields, current),
                        'params': {'REGISTER_SONET_EVENT': 'N'}})
                return bitrix_id
        return int(self.client.call(f'crm.{entity}.add', {
                    'fields': fields,
                    'params': {'REGISTER_SONET_EVENT': 'N'}}).result)

    def _product(self, plan):
        fields = dict(plan.payload.all_fields(), xmlId=plan.payload.key,
            iblockId=self._catalog_id())
        bitrix_id = plan.link.bitrix_id if plan.link else None
        if bitrix_id is None:
            found = self.client.call('catalog.product.list', {
                    'select': ['id', 'iblockId'],
                    'filter': {'iblockId': fields['iblockId'],
                        'xmlId': fields['xmlId']}}).result
            found = found.get('products', []) if isinstance(found, dict) \
                else found
            if found:
                bitrix_id = int(found[0]['id'])
        if bitrix_id is not None:
            try:
                self.client.call('catalog.product.update',
                    {'id': bitrix_id, 'fields': fields})
                return bitrix_id
            except rest.NotFound:
                pass
        result = self.client.call('catalog.product.add',
            {'fields': fields}).result
        return int(result['element']['id'])

    def _catalog_id(self):
        if self._catalog is None:
            catalogs = self.client.call('catalog.catalog.list', {
                    'select': ['id', 'iblockId']}).result
            catalogs = catalogs.get('catalogs', []) if isinstance(
                catalogs, dict) else catalogs
            self._catalog = int(catalogs[0].get('iblockId')
                or catalogs[0]['id'])
        return self._catalog

    # Items: batches of up to 50 calls

    def _items(self, plans):
        outcomes = {}
        plans = self._look_up(plans, outcomes)
        commands, owners = {}, {}
        for index, plan in enumerate(plans):
            digest = plan.payload.content_hash()
            if plan.link and plan.link.content_hash == digest:
                outcomes[plan.key] = Outcome(done=True)
                continue
            calls = self._calls(index, plan)
            if len(commands) + len(calls) > BATCH:
                self._send_batch(commands, owners, outcomes)
                commands, owners = {}, {}
            commands.update(calls)
            owners[index] = (plan, digest)
        if commands:
            self._send_batch(commands, owners, outcomes)
        return outcomes

    def _look_up(self, plans, outcomes):
        "Adopt the items an earlier attempt may have created"
        # Every item without a link: an earlier attempt whose answer was
        # lost, or whose worker died before it committed, may have made it
        unsure = [p for p in plans if p.link is None]
        for start in range(0, len(unsure), BATCH):
            chunk = unsure[start:start + BATCH]
            commands = {f'l{i}': rest.Command('crm.item.list', {
                        'entityTypeId': p.payload.entity_type_id,
                        'filter': {self.key_field: p.payload.key},
                        'select': ['id']})
                for i, p in enumerate(chunk)}
            try:
                out = self.client.batch(commands)
            except STOPPING as error:
                for plan in plans:
                    outcomes[plan.key] = Outcome.of(error)
                raise _Stop(error)
            for i, plan in enumerate(chunk):
                error = out.errors.get(f'l{i}')
                if error is not None:
                    outcomes[plan.key] = Outcome.of(error)
                    continue
                items = (out.results.get(f'l{i}') or {}).get('items') or []
                if items:
                    plan.link = self._save_link(plan, int(items[0]['id']),
                        None)
        return [p for p in plans if p.key not in outcomes]

    def _calls(self, index, plan):
        payload = plan.payload
        calls = {}
        if plan.link:
            owner = plan.link.bitrix_id
            calls[f'm{index}'] = rest.Command('crm.item.update', {
                    'entityTypeId': payload.entity_type_id,
                    'id': owner, 'fields': payload.all_fields()})
        else:
            owner = f'$result[m{index}][item][id]'
            calls[f'm{index}'] = rest.Command('crm.item.add', {
                    'entityTypeId': payload.entity_type_id,
                    'fields': payload.all_fields()})
        # No rows (a payroll bill's document): nothing to set, and an
        # empty list cannot travel in a batch (§4)
        if payload.rows:
            calls[f'r{index}'] = rest.Command('crm.item.productrow.set', {
                    'ownerType': owner_type(payload.entity_type_id),
                    'ownerId': owner, 'productRows': payload.rows})
        return calls

    def _send_batch(self, commands, owners, outcomes):
        try:
            out = self.client.batch(commands)
        except rest.Ambiguous as error:
            for plan, _ in owners.values():
                outcomes[plan.key] = Outcome.of(error,
                    uncertain=plan.link is None)
            return
        except STOPPING as error:
            for plan, _ in owners.values():
                outcomes[plan.key] = Outcome.of(error)
            raise _Stop(error)
        for index, (plan, digest) in owners.items():
            error = out.errors.get(f'm{index}')
            if error is not None:
                if isinstance(error, rest.NotFound) and plan.link:
                    # Deleted in Bitrix24: created again on the next try
                    plan.link.__class__.delete([plan.link])
                    outcomes[plan.key] = Outcome(error=str(error))
                else:
                    outcomes[plan.key] = Outcome.of(error)
                continue
            item = out.results[f'm{index}']['item']
            rows_error = out.errors.get(f'r{index}')
            # Rows that failed: the link is kept without a hash, so the
            # next attempt sends the item and its rows again
            self._save_link(plan, int(item['id']),
                None if rows_error else digest)
            outcomes[plan.key] = (Outcome.of(rows_error) if rows_error
                else Outcome(done=True))

    # Deleted records

    def _delete(self, key):
        Link = Pool().get('bitrix.link')
        links = Link.search([('origin', '=', key)], limit=1)
        link = links[0] if links else None
        if not link:
            return Outcome(done=True)
        if link.entity_type_id in LEGACY:
            method, params = (f'crm.{LEGACY[link.entity_type_id]}.delete',
                {'id': link.bitrix_id})
        elif link.entity_type_id == PRODUCT:
            method, params = ('catalog.product.delete',
                {'id': link.bitrix_id})
        else:
            method, params = ('crm.item.delete', {
                    'entityTypeId': link.entity_type_id,
                    'id': link.bitrix_id})
        try:
            self.client.call(method, params)
        except rest.NotFound:
            pass
        Link.delete([link])
        return Outcome(done=True)

    def _save_link(self, plan, bitrix_id, digest):
        Link = Pool().get('bitrix.link')
        values = {
            'entity_type_id': plan.payload.entity_type_id,
            'bitrix_id': bitrix_id,
            'content_hash': digest,
            'stage_id': plan.payload.stage_id,
            'synced_at': datetime.datetime.now(),
            }
        if plan.link:
            Link.write([plan.link], values)
            link = plan.link
        else:
            link, = Link.create([dict(values, origin=plan.key)])
        plan.link = link
        return link


def _existing(key):
    "The record of key 'model,id', None when it was deleted"
    model, id_ = key.split(',')
    Model = Pool().get(model)
    with Transaction().set_context(active_test=False):
        found = Model.search([('id', '=', int(id_))])
    return found[0] if found else None


def _merge_multi_fields(fields, current):
    """PHONE, EMAIL, WEB as an update: existing entries rewritten by their
    ID, surplus ones deleted, new ones added; never appended twice (§5.3)"""
    fields = dict(fields)
    for name in MULTI_FIELDS:
        if name not in fields:
            continue
        wanted = [v for v in fields[name] if v.get('VALUE')]
        existing = current.get(name) or []
        merged = []
        for index, entry in enumerate(existing):
            if index < len(wanted):
                merged.append(dict(wanted[index], ID=entry['ID']))
            else:
                merged.append({'ID': entry['ID'], 'DELETE': 'Y'})
        merged.extend(wanted[len(existing):])
        fields[name] = merged
    return fields
