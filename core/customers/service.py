"""Use cases on customer records: create (with duplicate checks), update (optimistic, with field
history and reasons for key fields), read now or as of any past moment, list, transfer, review,
soft-delete, contacts. Merges are in ``core.customers.merging``.

Personal data at rest (what erasure must overwrite), all encrypted with core.privacy.crypto except
names: ``customer.sealed`` (phones, emails, identifier number, street, house number, village,
credit, personal extension fields), ``customer.data`` (names), ``customer.display_name`` and
``customer.search`` (names), ``customer_contact.sealed`` (phones, email; older rows: ``phones``
and ``email``), ``customer_contact.surname``/``given_name``, ``customer_history.changes``
(sealed whole when it holds a personal field), ``customer_key.value`` (blind-index values only)
and ``customer_import_upload.data`` (sealed file). The record is opened in one place, ``_view``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import Like

from core.blacklists import service as blacklists
from core.audit.chain import declare_classifier, declare_sensitive, record as audit
from core.context import Context
from core.customers import records as r
from core.customers import validation as v
from core.customers.tables import Customer, CustomerContact, CustomerHistory, CustomerKey
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.filters import one_of
from core.governance import change_policy
from core.identity.access import may_reach, require
from core.identity.ownership import register_owned
from core.identity.permissions import Scope
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting, User
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry
from core.plugins.types import CustomerField
from core.privacy import freeze
from core.privacy import crypto
from core.privacy.classification import is_personal, merge_parts, split_personal
from core.privacy.masking import UNMASK_PERMISSION
from core.tenancy.tables import Department
from core.verticals.tables import VerticalEnablement

TARGET = "customer"
SETTINGS_KEY = "customers.rules"
DEFAULT_RULES = {"key_customer_min_contacts": 2, "review_months": 3, "merge_undo_days": 30}
# Personal values never enter the audit log in clear; the field history (access-controlled) keeps them.
declare_sensitive(TARGET, "phones", "emails", "identifier.number", "address.street", "address.house_number",
                  "address.village", "surname", "given_name", "legal_representative")
# ...nor does any other personal field (credit, extension fields of any vertical): classification decides.
declare_classifier(TARGET, lambda name: _personal(name))
# Columns a sealed value is bound to (the associated data of its encryption).
SEALED_RECORD, SEALED_CONTACT, SEALED_HISTORY = "customer.sealed", "customer_contact.sealed", "customer_history.changes"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: UUID
    version: int
    record: dict[str, Any]
    display_name: str
    created_at: datetime
    updated_at: datetime
    created_by: str
    review_due_at: datetime | None
    last_reviewed_at: datetime | None
    last_reviewed_by: str | None
    merged_into: UUID | None
    deleted_at: datetime | None

    @property
    def kind(self) -> str:
        return self.record["kind"]

    @property
    def status(self) -> str:
        return self.record["status"]

    @property
    def owner_id(self) -> UUID | None:
        return _uuid_of(self.record["owner_id"]) if self.record.get("owner_id") else None

    @property
    def department_id(self) -> UUID | None:
        return _uuid_of(self.record["department_id"]) if self.record.get("department_id") else None


# A page asks each of its customers for its owner several times, and a tenant has few owners and
# departments: parsing the same text again cost more than the rest of the property.
_uuid_of = lru_cache(maxsize=1024)(UUID)


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    customer_id: UUID
    display_name: str
    matched_on: tuple[str, ...]  # phone | identifier | name_address


@dataclass(frozen=True, slots=True)
class Created:
    customer: CustomerView
    duplicates: tuple[DuplicateMatch, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    customer_id: UUID
    version: int
    changed_at: datetime
    actor: str
    reason: str
    changes: dict[str, list[Any]]


@dataclass(frozen=True, slots=True)
class ContactInput:
    surname: str
    given_name: str
    position: str = ""
    phones: Sequence[str] = ()
    email: str | None = None
    is_primary: bool = False


@dataclass(frozen=True, slots=True)
class ContactView:
    id: UUID
    customer_id: UUID
    surname: str
    given_name: str
    position: str
    phones: tuple[str, ...]
    email: str | None
    is_primary: bool


@dataclass(frozen=True, slots=True)
class OwnerView:
    id: UUID
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    status: str | None = None
    kind: str | None = None
    owner_id: UUID | None = None
    department_id: UUID | None = None
    tag: str | None = None
    text: str | None = None
    review_due: bool | None = None
    extension: tuple[str, str, Any] | None = None  # (vertical, field, value): exact match
    include_deleted: bool = False


SORTS = {"name": Customer.display_name, "created": Customer.created_at, "updated": Customer.updated_at}


# --- helpers ---------------------------------------------------------------------------------

def extension_schema(registry: VerticalRegistry) -> dict[str, dict[str, CustomerField]]:
    return {d.id: {f.name: f for f in d.customer_fields} for d in registry.definitions if d.customer_fields}


async def _enabled(uow: UnitOfWork) -> frozenset[str]:
    rows = await uow.select(VerticalEnablement.vertical_id).where(VerticalEnablement.status == "enabled")
    return frozenset(row["vertical_id"] for row in rows)


async def customer_rules(uow: UnitOfWork) -> dict[str, int]:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == SETTINGS_KEY).first()
    return {**DEFAULT_RULES, **(json.loads(row["value"]) if row else {})}


def open_record(tenant_id: UUID, data: str, sealed: str | None) -> dict[str, Any]:
    """The stored record: its clear JSON with the sealed personal part merged back."""
    record = json.loads(data)
    return merge_parts(record, crypto.open_json(tenant_id, SEALED_RECORD, sealed)) if sealed else record


def _view(row: Mapping[str, Any], tenant_id: UUID | None = None, *, shown: frozenset[str] | None = None
          ) -> CustomerView:
    """The stored customer; with ``shown`` (the tenant's enabled verticals), as read: extension data
    of other verticals is kept but hidden (issue 18 point 7)."""
    record = open_record(tenant_id or row["tenant_id"], row["data"], row["sealed"])
    if shown is not None:
        record = v.visible_extensions(record, shown)
    for name in ("owner_id", "department_id"):
        if row[name] is not None:
            record[name] = str(row[name])
    return CustomerView(id=row["id"], version=int(row["version"]), record=record, display_name=row["display_name"],
                        created_at=row["created_at"], updated_at=row["updated_at"], created_by=row["created_by"],
                        review_due_at=row["review_due_at"], last_reviewed_at=row["last_reviewed_at"],
                        last_reviewed_by=row["last_reviewed_by"], merged_into=row["merged_into"],
                        deleted_at=row["deleted_at"])


_VIEW_COLUMNS = (Customer.id, Customer.version, Customer.data, Customer.sealed, Customer.display_name, Customer.owner_id,
                 Customer.department_id, Customer.created_at, Customer.updated_at, Customer.created_by,
                 Customer.review_due_at, Customer.last_reviewed_at, Customer.last_reviewed_by, Customer.merged_into,
                 Customer.deleted_at)


def column_values(record: Mapping[str, Any], *, tenant_id: UUID,
                  schema: Mapping[str, Mapping[str, CustomerField]] | None = None) -> dict[str, Any]:
    """The customer row's columns by name for a record (data without owner and department, kept
    as columns; the personal fields sealed apart)."""
    data, personal = split_personal({k: val for k, val in record.items() if k not in ("owner_id", "department_id")},
                                    schema)
    owner, department = record.get("owner_id"), record.get("department_id")
    return {"kind": record["kind"], "status": record["status"], "display_name": r.display_name(record),
            "owner_id": UUID(owner) if owner else None, "department_id": UUID(department) if department else None,
            "is_key": bool(record.get("is_key")), "access_level": int(record.get("access_level") or 0),
            "source_channel": record.get("source_channel"),
            "tags": r.dumps(record.get("tags", [])), "search": r.search_text(record), "data": r.dumps(data),
            "sealed": crypto.seal_json(tenant_id, SEALED_RECORD, personal) if personal else None}


def _columns(record: Mapping[str, Any], tenant_id: UUID,
             schema: Mapping[str, Mapping[str, CustomerField]]) -> dict[Any, Any]:
    return {getattr(Customer, name): value
            for name, value in column_values(record, tenant_id=tenant_id, schema=schema).items()}


def key_values(tenant_id: UUID, record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, blind-index value) of each match key of a record, under the active data key, and
    the name's search grams (``name_grams``)."""
    keys = [(kind, crypto.blind(tenant_id, kind, value)) for kind, value in _keys(record)]
    keys += [(GRAM, _gram_blind(crypto.blind(tenant_id, GRAM, gram))) for gram in name_grams(r.search_text(record))]
    return keys


# Name search (issue 27). A blind n-gram index in customer_key serves substring search of names on
# both databases: every two-character run of the lower-cased name, and every single non-ASCII
# character, because a Chinese name search is one or two characters (a surname, a given name) and
# neither pg_trgm nor FTS5's trigram tokenizer can use an index for fewer than three. The grams are
# blind-index values like every other key (no name fragment stored in clear beyond ``search``), cut
# to 64 bits: a collision only costs a row the LIKE recheck drops.
GRAM = "gram"
_GRAMS_PER_SEARCH = 3  # sub-selects a search uses; more narrow little and cost a join each


def name_grams(search: str) -> list[str]:
    """The grams indexed for a lower-cased name: two-character runs without a space, and single
    non-ASCII characters (one Latin letter is too common a search to index)."""
    grams = {search[i:i + 2] for i in range(len(search) - 1) if not any(c.isspace() for c in search[i:i + 2])}
    grams |= {c for c in search if ord(c) > 127 and not c.isspace()}
    return sorted(grams)


def _query_grams(text: str) -> list[str]:
    """The grams a search for ``text`` looks up: each must be indexed for every name that holds the
    text. At most ``_GRAMS_PER_SEARCH``, taken from the middle outwards: a company name's ends are
    its city and "有限公司", shared by thousands, its middle is what sets it apart. None for a single
    Latin letter (the search then walks the name index, page-bounded)."""
    if len(text) == 1:
        return [text] if ord(text) > 127 and not text.isspace() else []
    runs = [text[i:i + 2] for i in range(len(text) - 1) if not any(c.isspace() for c in text[i:i + 2])]
    picked: list[str] = []
    for fraction in (0.5, 0.25, 0.75, 0.0, 1.0):
        gram = runs[round(fraction * (len(runs) - 1))] if runs else None
        if gram is not None and gram not in picked:
            picked.append(gram)
    return picked[:_GRAMS_PER_SEARCH]


def _gram_blind(value: str) -> str:
    kid, _, digest = value.partition(":")
    return f"{kid}:{digest[:16]}"


def _keys(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    keys = [("phone", p) for p in record.get("phones", ())]
    if "identifier" in record:
        keys.append(("identifier", f"{record['identifier']['type']}:{record['identifier']['number']}"))
    if "address" in record:
        parts = [record["address"].get(p, "") for p in v.ADDRESS_PARTS]
        keys.append(("name_address", f"{r.display_name(record)}|{'|'.join(parts)}"[:300]))
    return keys


async def _write_keys(uow: UnitOfWork, customer_id: UUID, record: Mapping[str, Any]) -> None:
    await uow.delete(CustomerKey).where(CustomerKey.customer_id == customer_id)
    assert uow.ctx.tenant_id is not None
    keys = key_values(uow.ctx.tenant_id, record)
    if keys:
        await uow.insert(*(CustomerKey(customer_id=customer_id, kind=kind, value=value) for kind, value in keys))


async def rebuild_match_keys(tenant_id: UUID, *, batch: int = 500,
                             progress: Callable[[int], None] | None = None) -> int:
    """Rewrite every customer's match keys and name grams from its record, ``batch`` customers per
    transaction (keyset on id, so a rerun after a failure redoes at most one batch). Customers written
    before the gram index existed are found by name search only after this (``kehu customers
    reindex``). Returns how many customers it rewrote."""
    ctx = Context.system("job:reindex", tenant_id)
    done, after = 0, None
    while True:
        async with unit_of_work(ctx) as uow:
            query = uow.select(Customer.id, Customer.data, Customer.sealed)
            if after is not None:
                query = query.where(Customer.id > after)
            rows = await query.order_by(Customer.id).limit(batch)
            for row in rows:
                await _write_keys(uow, row["id"], open_record(tenant_id, row["data"], row["sealed"]))
        if not rows:
            return done
        done, after = done + len(rows), rows[-1]["id"]
        if progress:
            progress(len(rows))


async def find_duplicates(uow: UnitOfWork, record: Mapping[str, Any],
                          exclude: UUID | None = None) -> tuple[DuplicateMatch, ...]:
    """Live customers sharing a normalised phone, the identifier, or name and address."""
    keys = _keys(record)
    if not keys:
        return ()
    assert uow.ctx.tenant_id is not None
    matches: dict[UUID, set[str]] = {}
    for kind in {k for k, _ in keys}:
        values = [b for k, value in keys if k == kind for b in crypto.blinds(uow.ctx.tenant_id, kind, value)]
        rows = await uow.select(CustomerKey.customer_id).where(
            (CustomerKey.kind == kind) & CustomerKey.value.is_in(values))
        for row in rows:
            if row["customer_id"] != exclude:
                matches.setdefault(row["customer_id"], set()).add(kind)
    if not matches:
        return ()
    live = await uow.select(Customer.id, Customer.display_name).where(
        Customer.id.is_in(list(matches)) & Customer.deleted_at.is_null() & Customer.merged_into.is_null())
    return tuple(DuplicateMatch(customer_id=row["id"], display_name=row["display_name"],
                                matched_on=tuple(sorted(matches[row["id"]])))
                 for row in sorted(live, key=lambda x: x["display_name"]))


async def _check_refs(uow: UnitOfWork, record: Mapping[str, Any]) -> None:
    if record.get("owner_id") and not await uow.exists(User).where(User.id == UUID(record["owner_id"])):
        raise v.invalid("OWNER_UNKNOWN", "owner_id", "no such user in this tenant", "本租户没有该用户")
    if record.get("department_id") and not await uow.exists(Department).where(
            Department.id == UUID(record["department_id"])):
        raise v.invalid("DEPARTMENT_UNKNOWN", "department_id", "no such department in this tenant", "本租户没有该部门")


def cleared(ctx: Context, record: Mapping[str, Any]) -> bool:
    """CSM-20: whether the caller's clearance reaches the customer's access level."""
    clearance = ctx.principal.clearance if ctx.principal is not None else None
    return clearance is None or int(record.get("access_level") or 0) <= clearance


def _refuse_above_clearance(ctx: Context, record: Mapping[str, Any]) -> None:
    """Nobody sets a customer's access level above their own clearance (they could not read it back)."""
    if not cleared(ctx, record):
        raise v.invalid("ACCESS_LEVEL_ABOVE_CLEARANCE", "access_level",
                        "you may not set an access level above your own clearance", "访问级别不得高于您本人的密级")


def _may(ctx: Context, permission: str, record: Mapping[str, Any]) -> bool:
    if not cleared(ctx, record):
        return False
    return may_reach(ctx, permission, owner_id=UUID(record["owner_id"]) if record.get("owner_id") else None,
                     department_id=UUID(record["department_id"]) if record.get("department_id") else None)


def _require_reach(ctx: Context, permission: str, record: Mapping[str, Any], customer_id: UUID) -> None:
    if not _may(ctx, permission, record):
        require(ctx, permission)  # a caller without the permission at all hears PERMISSION_DENIED
        raise NotFound("customer", customer_id)  # one with too narrow a scope does not learn it exists


async def _load(uow: UnitOfWork, customer_id: UUID, *, live: bool = True, reading: bool = False) -> dict[str, Any]:
    row = await uow.select(Customer).where(Customer.id == customer_id).first()
    if row is None or (live and (row["deleted_at"] is not None or row["merged_into"] is not None)):
        raise NotFound("customer", customer_id)
    await freeze.refuse_if_frozen(uow, customer_id, reading=reading)  # PIPL art. 47: auditors may only read
    return row


async def _contact_count(uow: UnitOfWork, customer_id: UUID) -> int:
    return await uow.count(CustomerContact).where(CustomerContact.customer_id == customer_id)


def _contact_row(tenant_id: UUID, customer_id: UUID, contact: ContactInput, prefix: str) -> CustomerContact:
    """``prefix`` is where the contact sits in the input (``contacts.0.``; none for one contact)."""
    surname, given = v.person_name(contact.surname, contact.given_name, prefix)
    position = v._text(contact.position, f"{prefix}position", max_length=100) or ""
    email = v.emails([contact.email], f"{prefix}email")[0] if contact.email else None
    personal = {"phones": v.phones(contact.phones, f"{prefix}phones"), "email": email}
    return CustomerContact(customer_id=customer_id, surname=surname, given_name=given, position=position,
                           phones="[]", email=None, sealed=crypto.seal_json(tenant_id, SEALED_CONTACT, personal),
                           is_primary=bool(contact.is_primary))


async def _check_key_contacts(uow: UnitOfWork, record: Mapping[str, Any], contacts: int) -> None:
    if record.get("is_key") and record["kind"] == v.ORGANISATION:
        needed = (await customer_rules(uow))["key_customer_min_contacts"]
        if contacts < needed:
            raise v.invalid("KEY_CUSTOMER_CONTACTS", "contacts",
                            f"a key customer needs at least {needed} contacts (has {contacts})",
                            f"重点客户至少需要 {needed} 名联系人（现有 {contacts} 名）")


def history_text(tenant_id: UUID, changes: Mapping[str, list[Any]]) -> str:
    """How a history entry's changes are stored: sealed whole when any field is personal."""
    if any(_personal(name) for name in changes):
        return crypto.seal_json(tenant_id, SEALED_HISTORY, changes)
    return r.dumps(changes)


def open_history(tenant_id: UUID, text: str) -> dict[str, list[Any]]:
    return crypto.open_json(tenant_id, SEALED_HISTORY, text) if crypto.is_sealed(text) else json.loads(text)


_personal = lru_cache(maxsize=4096)(is_personal)


async def _history(uow: UnitOfWork, customer_id: UUID, version: int, changes: Mapping[str, list[Any]],
                   reason: str, at: datetime) -> None:
    assert uow.ctx.tenant_id is not None
    await uow.insert(CustomerHistory(customer_id=customer_id, version=version, changed_at=at, actor=uow.ctx.actor,
                                     reason=reason, changes=history_text(uow.ctx.tenant_id, changes)))


def _audit_diff(changes: Mapping[str, list[Any]]) -> dict[str, tuple[Any, Any]]:
    return {name: (old, new) for name, (old, new) in changes.items()}


async def _refuse_unreviewed_key_change(uow: UnitOfWork, diff: Mapping[str, Any]) -> None:
    """Seed-004 §2.3.2 (CSM-7): where the tenant has turned the review of key changes on, only the
    customer information management specialist changes key fields directly; others file a
    change request (core.governance.changes)."""
    ctx = uow.ctx
    if ctx.is_system or (ctx.principal is not None and "customer.change.apply" in ctx.principal.permissions):
        return
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == change_policy.SETTING_KEY).first()
    settings = change_policy.settings_of(json.loads(row["value"]) if row else None)
    keyed = change_policy.key_fields_of(diff, settings.key_fields) if settings.enabled else []
    if keyed:
        raise v.invalid("CHANGE_REQUEST_REQUIRED", keyed[0],
                        f"{', '.join(keyed)} is key information: file a change request (customerChangeRequestSubmit)",
                        f"{'、'.join(keyed)} 属关键信息，请提交变更申请")


async def _refuse_missing_required(uow: UnitOfWork, record: Mapping[str, Any]) -> None:
    """Seed-004 §2.1.3 (CSM-1): the fields the tenant's archive standard makes mandatory
    (``customers.required_fields``, none by default) must be filled when a customer is created."""
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == change_policy.REQUIRED_SETTING_KEY).first()
    missing = change_policy.missing_required(record, json.loads(row["value"])["fields"] if row else ())
    if missing == "contact_methods":
        raise v.invalid("FIELD_REQUIRED", "phones", "a phone or an e-mail is required by the archive standard",
                        "档案标准规定须填写电话或邮箱")
    if missing is not None:
        raise v.invalid("FIELD_REQUIRED", missing, f"{missing} is required by the archive standard",
                        f"{missing} 为档案标准规定的必填项")


def _review_due(at: datetime, months: int) -> datetime:
    return at + timedelta(days=round(months * 30.44))


# --- use cases -------------------------------------------------------------------------------

async def create_customer(ctx: Context, registry: VerticalRegistry, fields: Mapping[str, Any], *,
                          contacts: Sequence[ContactInput] = (), force: bool = False) -> Created:
    """Create a customer. Likely duplicates come back with it; an exact identifier match is
    refused unless ``force`` is given by a holder of ``customer.duplicate.force``, naming the
    customer it collides with when the caller may read that one."""
    try:
        return await _create_customer(ctx, registry, fields, contacts=contacts, force=force)
    except v.DuplicateIdentifier as refused:
        # After the unit of work has rolled back. Whether the caller may read the other customer is
        # the read service's own answer (scope, permission): naming one out of reach would tell
        # that someone with that identifier is a customer here.
        for candidate in refused.collides_with:
            try:
                await get_customer(ctx, candidate)
            except KehuError:
                continue
            raise v.DuplicateIdentifier(refused.collides_with, customer_id=candidate) from None
        raise


async def _create_customer(ctx: Context, registry: VerticalRegistry, fields: Mapping[str, Any], *,
                           contacts: Sequence[ContactInput], force: bool) -> Created:
    require(ctx, "customer.write")
    fields = dict(fields)
    if ctx.principal is not None and ctx.user_id is not None:
        fields.setdefault("owner_id", str(ctx.user_id))  # the collector owns what they record
    schema = extension_schema(registry)
    async with unit_of_work(ctx) as uow:
        assert uow.ctx.tenant_id is not None
        record = r.build_record(fields, schema=schema, enabled=await _enabled(uow))
        _refuse_above_clearance(ctx, record)
        if not _may(ctx, "customer.write", record):
            raise v.invalid("PERMISSION_DENIED", "owner_id", "you may not create a customer for that owner or "
                            "department", "您无权为该负责人或部门创建客户")
        await _refuse_missing_required(uow, record)
        await _check_refs(uow, record)
        duplicates = await find_duplicates(uow, record)
        # MD16: intake checks the company and department blacklists first (forcing does not pass them)
        await blacklists.refuse_intake_if_blacklisted(
            uow, [d.customer_id for d in duplicates if "identifier" in d.matched_on],
            department_id=record.get("department_id"))
        if any("identifier" in d.matched_on for d in duplicates):
            if not force:
                raise v.DuplicateIdentifier(tuple(d.customer_id for d in duplicates if "identifier" in d.matched_on))
            require(ctx, "customer.duplicate.force")
        customer_id = uuid4()
        rows = [_contact_row(uow.ctx.tenant_id, customer_id, c, f"contacts.{i}.") for i, c in enumerate(contacts)]
        await _check_key_contacts(uow, record, len(rows))
        at = now()
        rules = await customer_rules(uow)
        await uow.insert(Customer(id=customer_id, version=1, created_at=at, updated_at=at, created_by=ctx.actor,
                                  review_due_at=_review_due(at, rules["review_months"]),
                                  **column_values(record, tenant_id=uow.ctx.tenant_id, schema=schema)))
        if rows:
            await uow.insert(*rows)
        await _write_keys(uow, customer_id, record)
        changes = r.diff({}, record)
        await _history(uow, customer_id, 1, changes, "created", at)
        await audit(uow, "customer.created", TARGET, customer_id, _audit_diff(changes))
        await outbox.add(uow, "customer.created", TARGET, customer_id, changes)
        view = _view(await _load(uow, customer_id), shown=await _enabled(uow))
    return Created(customer=view, duplicates=duplicates)


async def update_customer(ctx: Context, registry: VerticalRegistry, customer_id: UUID, *, version: int,
                          changes: Mapping[str, Any], reason: str = "") -> CustomerView:
    """Change some fields (a field set to None is cleared). ``version`` is the one the caller read;
    a change of a key field needs a reason. Where the tenant reviews key changes (seed-004 §2.3.2,
    ``customers.change_review``), a change of a key field by someone without customer.change.apply
    is refused with CHANGE_REQUEST_REQUIRED: it goes through customerChangeRequestSubmit."""
    require(ctx, "customer.write")
    async with unit_of_work(ctx) as uow:
        return await update_customer_in(uow, registry, customer_id, version=version, changes=changes, reason=reason,
                                        key_review=True)


async def update_customer_in(uow: UnitOfWork, registry: VerticalRegistry, customer_id: UUID, *, version: int,
                             changes: Mapping[str, Any], reason: str = "", managing: str | None = None,
                             key_review: bool = False) -> CustomerView:
    """:func:`update_customer` inside the caller's unit of work (a subject's correction request
    changes the record and closes the request together); ``managing`` (a vertical's id) lets that
    vertical's managed extension fields change."""
    ctx = uow.ctx
    require(ctx, "customer.write")
    reason = (reason or "").strip()
    row = await _load(uow, customer_id)
    before = _view(row).record
    _require_reach(ctx, "customer.write", before, customer_id)
    if int(row["version"]) != version:
        raise r.refuse_stale(version, int(row["version"]))
    if "kind" in changes and changes["kind"] != before["kind"]:
        raise v.invalid("CUSTOMER_KIND_FIXED", "kind", "a customer's kind cannot change", "客户类型不可更改")
    merged = {**before, **changes}
    schema = extension_schema(registry)
    enabled = await _enabled(uow)
    after = r.build_record({k: val for k, val in merged.items() if val is not None},
                           schema=schema, enabled=enabled, stored=before, managing=managing)
    if after.get("owner_id") != before.get("owner_id"):
        raise v.invalid("USE_TRANSFER", "owner_id", "hand a customer over with customerTransfer",
                        "请通过客户移交变更负责人")
    _refuse_above_clearance(ctx, after)
    if not _may(ctx, "customer.write", after):
        raise v.invalid("PERMISSION_DENIED", "department_id", "you may not move the customer there",
                        "您无权将客户移至该部门")
    diff = r.diff(before, after)
    if not diff:
        return _view(row, shown=enabled)
    if key_review:
        await _refuse_unreviewed_key_change(uow, diff)
    keyed = r.key_changes(diff)
    if keyed and not reason:
        raise v.invalid("REASON_REQUIRED", "reason", f"changing {', '.join(keyed)} needs a reason",
                        f"修改关键信息（{'、'.join(keyed)}）须填写原因")
    await _check_refs(uow, after)
    await _check_key_contacts(uow, after, await _contact_count(uow, customer_id))
    at = now()
    new_version = version + 1
    assert uow.ctx.tenant_id is not None
    updated = await uow.update(Customer, {**_columns(after, uow.ctx.tenant_id, schema), Customer.version: new_version,
                                          Customer.updated_at: at}).where(
        (Customer.id == customer_id) & (Customer.version == version)).returning(Customer.id)
    if not updated:  # a concurrent writer got there between our read and write
        raise r.refuse_stale(version, version + 1)
    await _write_keys(uow, customer_id, after)
    await _history(uow, customer_id, new_version, diff, reason, at)
    await audit(uow, "customer.updated", TARGET, customer_id, {**_audit_diff(diff), "reason": reason} if reason
                else _audit_diff(diff))
    await outbox.add(uow, "customer.updated", TARGET, customer_id, diff)
    return _view(await _load(uow, customer_id), shown=enabled)


async def get_customer(ctx: Context, customer_id: UUID) -> CustomerView:
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        view = _view(await _load(uow, customer_id, reading=True), shown=await _enabled(uow))
    _require_reach(ctx, "customer.read", view.record, customer_id)
    return view


CONTACT_FIELDS = ("contacts.phones", "contacts.email")


async def unmask_customer(ctx: Context, registry: VerticalRegistry, customer_id: UUID, fields: Sequence[str],
                          reason: str) -> dict[str, Any]:
    """The clear values of some personal fields of a customer (dotted names: ``phones``,
    ``identifier.number``, ``credit``, ``extensions.<vertical>.<field>``, ``contacts.phones`` …;
    contacts' fields come as {contact id: value}). Needs customer.pii.unmask and a reason; audited
    as ``customer.unmasked`` with the field names and the reason, never the values."""
    require(ctx, UNMASK_PERMISSION)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise v.invalid("REASON_REQUIRED", "reason", "say why you need the values in clear (at least 5 characters)",
                        "请说明查看明文的原因（至少 5 个字）")
    names = sorted({name.strip() for name in fields if name and name.strip()})
    if not names:
        raise v.invalid("FIELD_REQUIRED", "fields", "name at least one field to unmask", "请至少指定一个字段")
    schema = extension_schema(registry)
    for name in names:
        if name not in CONTACT_FIELDS and not is_personal(name, schema):
            raise v.invalid("FIELD_NOT_PERSONAL", "fields", f"{name!r} is not a personal field of a customer",
                            f"{name!r} 不是客户的个人信息字段")
    async with unit_of_work(ctx) as uow:
        view = _view(await _load(uow, customer_id))
        _require_reach(ctx, "customer.read", view.record, customer_id)
        flat = r.flatten(view.record)
        values: dict[str, Any] = {}
        for name in names:
            if name in CONTACT_FIELDS:
                contacts = (await _contacts_of(uow, [customer_id]))[customer_id]
                attribute = name.split(".")[1]
                values[name] = {str(c.id): list(c.phones) if attribute == "phones" else c.email for c in contacts}
            elif name in flat:
                values[name] = flat[name]
            else:
                inner = {k[len(name) + 1:]: val for k, val in flat.items() if k.startswith(f"{name}.")}
                values[name] = r.unflatten(inner) if inner else None
        await audit(uow, "customer.unmasked", TARGET, customer_id, {"fields": names, "reason": reason})
    return values


def _scoped(query: Any, ctx: Context, permission: str) -> Any:
    """Only the customers the caller's scope of ``permission`` and clearance (CSM-20) reach."""
    scope = require(ctx, permission)
    if ctx.principal is not None and ctx.principal.clearance is not None:
        query = query.where(Customer.access_level <= ctx.principal.clearance)
    if scope is Scope.TENANT:
        return query
    assert ctx.principal is not None
    mine = Customer.owner_id == ctx.user_id
    if scope is Scope.DEPARTMENT and ctx.principal.department_ids:
        return query.where(mine | Customer.department_id.is_in(list(ctx.principal.department_ids)))
    return query.where(mine)


def _exact_keys(text: str) -> list[tuple[str, str]]:
    """The match keys a search text can be: a phone number, a resident ID or a credit code."""
    keys: list[tuple[str, str]] = []
    try:
        keys += [("phone", p) for p in v.phones([text])]
    except KehuError:
        pass
    for kind in ("resident_id", "credit_code", "passport"):
        try:
            ident = v.identifier({"type": kind, "number": text})
        except KehuError:
            continue
        assert ident is not None
        keys.append(("identifier", f"{ident['type']}:{ident['number']}"))
    return keys


async def _text_matches(uow: UnitOfWork, text: str | None) -> tuple[bool, list[UUID]]:
    """Whether ``text`` is a phone number or an identifier, and the customers it is exactly: they
    are encrypted, so only an exact match through the blind index finds them (no partial numbers)."""
    keys = _exact_keys(text.strip()) if text and text.strip() else []
    if not keys:
        return False, []
    assert uow.ctx.tenant_id is not None
    values = [b for kind, value in keys for b in crypto.blinds(uow.ctx.tenant_id, kind, value)]
    rows = await uow.select(CustomerKey.customer_id).where(
        CustomerKey.kind.is_in(["phone", "identifier"]) & CustomerKey.value.is_in(values))
    # A passport number has no fixed shape (any short text parses as one): such a text is a name too.
    exact = any(kind == "phone" or not value.startswith("passport:") for kind, value in keys)
    return exact, list({row["customer_id"] for row in rows})


class _LikeEscaped(Like):
    """LIKE with backslash as its escape character, spelt out: PostgreSQL escapes with it by
    default, SQLite has no default escape at all."""

    template = "{name} LIKE {value} ESCAPE '\\'"


def _literal(text: str) -> str:
    """``text`` matched as it is inside a LIKE pattern: %, _ and the escape character escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, *parts: str) -> Where:
    """``column`` holds the parts in this order (anything between them); each part literally."""
    return Where(column=column, value="%" + "%".join(_literal(p) for p in parts) + "%", operator=_LikeEscaped)


def _filtered(query: Any, where: CustomerFilter, matched: Sequence[UUID] = (), *, exact: bool = False,
              tenant_id: UUID | None = None) -> Any:
    """``where`` on a customer query. A text search finds by ``matched`` alone when ``exact`` (the
    text is a phone or an identifier), else by name through the gram index of ``tenant_id``."""
    if not where.include_deleted:
        query = query.where(Customer.deleted_at.is_null() & Customer.merged_into.is_null())
    for column, value in ((Customer.status, where.status), (Customer.kind, where.kind),
                          (Customer.owner_id, where.owner_id), (Customer.department_id, where.department_id)):
        if value is not None:
            query = query.where(column == value)
    if where.tag is not None:
        query = query.where(_contains(Customer.tags, json.dumps(where.tag, ensure_ascii=False)))
    if where.text and exact:  # a phone number or an identifier: the blind index alone, no name scan
        query = query.where(Customer.id.is_in(list(matched))) if matched else query.where(Customer.id.is_null())
    elif where.text:
        text = where.text.strip().lower()
        by_name = _contains(Customer.search, text)  # rechecks the whole text on what the grams narrowed to
        for gram in _query_grams(text):
            assert tenant_id is not None
            blinds = [_gram_blind(b) for b in crypto.blinds(tenant_id, GRAM, gram)]
            by_name &= Customer.id.is_in(CustomerKey.select(CustomerKey.customer_id).where(
                (CustomerKey.tenant_id == tenant_id) & (CustomerKey.kind == GRAM) & CustomerKey.value.is_in(blinds)))
        query = query.where((by_name | Customer.id.is_in(list(matched))) if matched else by_name)
    if where.review_due is not None:
        due = Customer.review_due_at <= now()
        query = query.where(due if where.review_due else (Customer.review_due_at > now()))
    if where.extension is not None:
        vertical, name, value = where.extension
        # Extension values sit in the record's JSON; matching its serialised form keeps this portable.
        fragment = r.dumps({name: value})[1:-1]
        query = query.where(_contains(Customer.data, f'"{vertical}":{{', fragment))
    return query


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: list[CustomerView]
    has_next: bool
    contacts: dict[UUID, list[ContactView]] = field(default_factory=dict)  # when asked for
    owners: dict[UUID, OwnerView] = field(default_factory=dict)  # when asked for


async def list_customers(ctx: Context, where: CustomerFilter, *, first: int, after: tuple[str, str] | None = None,
                         sort: str = "name") -> tuple[list[CustomerView], bool]:
    page = await customer_page(ctx, where, first=first, after=after, sort=sort)
    return page.customers, page.has_next


async def customer_page(ctx: Context, where: CustomerFilter, *, first: int, after: tuple[str, str] | None = None,
                        sort: str = "name", with_contacts: bool = False, with_owners: bool = False,
                        before: tuple[str, str] | None = None, backward: bool = False) -> CustomerPage:
    """A page of customers the caller may read, keyset-paginated on (sort column, id), with their
    contacts and owners if asked: one transaction, one statement each, whatever the page size."""
    require(ctx, "customer.read")
    column = SORTS.get(sort)
    if column is None:
        raise v.invalid("SORT_INVALID", "sort", f"sort must be one of {', '.join(SORTS)}", "排序字段无效")
    # Bounded before any work: a 50,000-character text made the phone and ID parsers the request.
    where = replace(where, text=v.search_text(where.text))
    one_of(where.status, v.STATUSES, "filter.status")  # a misspelt status is an error, not an empty page
    one_of(where.kind, v.KINDS, "filter.kind")
    async with unit_of_work(ctx, write=False) as uow:
        exact, matched = await _text_matches(uow, where.text)
        query = freeze.hide_frozen(_filtered(_scoped(uow.select(*_VIEW_COLUMNS), ctx, "customer.read"), where, matched,
                                             exact=exact, tenant_id=ctx.tenant_id), ctx)
        def key(cursor: tuple[str, str] | None) -> tuple[Any, UUID] | None:
            if cursor is None:
                return None
            return (cursor[0] if sort == "name" else datetime.fromisoformat(cursor[0])), UUID(cursor[1])
        # has_next: with ``backward`` (the last ``first`` rows before ``before``), whether more lie before the page
        rows, more = await keyset.fetch(query, [column, Customer.id], Window(first, key(after), key(before), backward))
        shown = await _enabled(uow)
        views = [_view(row, ctx.tenant_id, shown=shown) for row in rows]
        contacts = await _contacts_of(uow, [view.id for view in views]) if with_contacts and views else {}
        owner_ids = list({view.owner_id for view in views if view.owner_id})
        owners = await _owners_of(uow, owner_ids) if with_owners and owner_ids else {}
    return CustomerPage(customers=views, has_next=more, contacts=contacts, owners=owners)


def cursor_of(view: CustomerView, sort: str) -> tuple[str, str]:
    key = {"name": view.display_name, "created": view.created_at.isoformat(),
           "updated": view.updated_at.isoformat()}[sort]
    return key, str(view.id)


async def customer_history(ctx: Context, customer_id: UUID, *, include_merged: bool = False) -> list[HistoryEntry]:
    """Every change of the customer, oldest first; with ``include_merged``, also the history of
    the customers merged into it (a merge carries their history along)."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = await _history_query(uow, customer_id, include_merged)
        rows = await query.order_by(*_HISTORY_ORDER)
        shown = await _enabled(uow)
    return [_history_entry(ctx, h, shown) for h in rows]


# Oldest first; a version number breaks a tie of times, the customer one of merged histories.
_HISTORY_ORDER = (CustomerHistory.changed_at, CustomerHistory.version, CustomerHistory.customer_id)


async def _history_query(uow: UnitOfWork, customer_id: UUID, include_merged: bool) -> Any:
    """The customer's history rows (and its merged customers'), once the caller's reach is checked."""
    ctx = uow.ctx
    view = _view(await _load(uow, customer_id, live=False, reading=True))
    _require_reach(ctx, "customer.read", view.record, customer_id)
    ids = [customer_id]
    if include_merged:
        ids += [row["id"] for row in await uow.select(Customer.id).where(Customer.merged_into == customer_id)]
    return uow.select(CustomerHistory).where(CustomerHistory.customer_id.is_in(ids))


def _history_entry(ctx: Context, h: Mapping[str, Any], shown: frozenset[str]) -> HistoryEntry:
    """A history row as read: changes of a vertical the tenant has not enabled stay stored but
    hidden, like its fields on the record (issue 18 point 7)."""
    assert ctx.tenant_id is not None
    changes = {name: change for name, change in open_history(ctx.tenant_id, h["changes"]).items()
               if not name.startswith("extensions.") or name.split(".")[1] in shown}
    return HistoryEntry(customer_id=h["customer_id"], version=int(h["version"]), changed_at=h["changed_at"],
                        actor=h["actor"], reason=h["reason"], changes=changes)


async def customer_history_page(ctx: Context, customer_id: UUID, window: Window, *,
                                include_merged: bool = False) -> tuple[list[HistoryEntry], bool]:
    """A window of customer_history (keyset on changed_at, version, customer_id, oldest first) and
    whether more lie beyond it."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(await _history_query(uow, customer_id, include_merged), _HISTORY_ORDER,
                                        window)
        shown = await _enabled(uow)
    return [_history_entry(ctx, h, shown) for h in rows], more


async def customer_as_of(ctx: Context, customer_id: UUID, at: datetime) -> tuple[int, dict[str, Any]]:
    """(version, record) as it was at ``at``, rebuilt from the field history."""
    entries = [h for h in await customer_history(ctx, customer_id) if h.changed_at <= at]
    if not entries:
        raise KehuError("CUSTOMER_NOT_YET_CREATED", "the customer did not exist at that time", "该时间客户尚未创建",
                        field="at")
    return entries[-1].version, r.replay(h.changes for h in entries)


async def transfer_customer(ctx: Context, customer_id: UUID, *, to_user_id: UUID, reason: str) -> CustomerView:
    """Hand a customer over to another user; recorded in its history with the reason."""
    require(ctx, "customer.transfer")
    reason = (reason or "").strip()
    if not reason:
        raise v.invalid("REASON_REQUIRED", "reason", "a handover needs a reason", "移交客户须填写原因")
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, customer_id)
        view = _view(row)
        _require_reach(ctx, "customer.transfer", view.record, customer_id)
        target = await uow.select(User.status).where(User.id == to_user_id).first()
        if target is None or target["status"] != "active":
            raise v.invalid("OWNER_UNKNOWN", "to_user_id", "no such active user in this tenant", "本租户没有该在职用户")
        if view.owner_id == to_user_id:
            return _view(row, shown=await _enabled(uow))
        await _move_owner(uow, [customer_id], view.owner_id, to_user_id, reason)
        return _view(await _load(uow, customer_id), shown=await _enabled(uow))


async def _move_owner(uow: UnitOfWork, customer_ids: list[UUID], from_user: UUID | None, to_user: UUID,
                      reason: str) -> None:
    at = now()
    for customer_id in customer_ids:
        row = await uow.select(Customer.version).where(Customer.id == customer_id).first()
        version = int(row["version"]) + 1
        change = {"owner_id": [str(from_user) if from_user else None, str(to_user)]}
        await uow.update(Customer, {Customer.owner_id: to_user, Customer.version: version,
                                    Customer.updated_at: at}).where(Customer.id == customer_id)
        await _history(uow, customer_id, version, change, reason, at)
        await audit(uow, "customer.transferred", TARGET, customer_id, {"owner_id": (from_user, to_user),
                                                                      "reason": reason})
        await outbox.add(uow, "customer.transferred", TARGET, customer_id, ("owner_id",))


async def _after_handover(uow: UnitOfWork, customer_ids: list[UUID], from_user: UUID, to_user: UUID) -> None:
    """A departing user's customers moved with the account handover: keep each one's history."""
    at = now()
    for customer_id in customer_ids:
        row = await uow.select(Customer.version).where(Customer.id == customer_id).first()
        version = int(row["version"]) + 1
        await uow.update(Customer, {Customer.version: version, Customer.updated_at: at}).where(
            Customer.id == customer_id)
        await _history(uow, customer_id, version, {"owner_id": [str(from_user), str(to_user)]},
                       "account handover", at)


register_owned(TARGET, Customer, after_transfer=_after_handover)


async def review_customer(ctx: Context, customer_id: UUID, *, note: str = "") -> CustomerView:
    """Record that someone checked the whole record (the periodic review); sets the next due date."""
    require(ctx, "customer.review")
    async with unit_of_work(ctx) as uow:
        view = _view(await _load(uow, customer_id))
        _require_reach(ctx, "customer.review", view.record, customer_id)
        at = now()
        months = (await customer_rules(uow))["review_months"]
        await uow.update(Customer, {Customer.last_reviewed_at: at, Customer.last_reviewed_by: ctx.actor,
                                    Customer.review_due_at: _review_due(at, months),
                                    Customer.review_notified_at: None}).where(Customer.id == customer_id)
        await audit(uow, "customer.reviewed", TARGET, customer_id, {"note": note.strip()[:500]} if note else {})
        await outbox.add(uow, "customer.reviewed", TARGET, customer_id, ("last_reviewed_at",))
        return _view(await _load(uow, customer_id), shown=await _enabled(uow))


async def delete_customer(ctx: Context, customer_id: UUID, *, reason: str) -> CustomerView:
    """Hide a customer from normal queries (soft delete); erasure is the privacy workflow's."""
    require(ctx, "customer.write")
    reason = (reason or "").strip()
    if not reason:
        raise v.invalid("REASON_REQUIRED", "reason", "deleting a customer needs a reason", "删除客户须填写原因")
    async with unit_of_work(ctx) as uow:
        view = _view(await _load(uow, customer_id))
        _require_reach(ctx, "customer.write", view.record, customer_id)
        from core.governance import deletion_gate  # a tenant may delete only through approved requests (CSM-13)

        await deletion_gate.refuse_direct_deletion(uow)
        at = now()
        await uow.update(Customer, {Customer.deleted_at: at, Customer.updated_at: at}).where(Customer.id == customer_id)
        await audit(uow, "customer.deleted", TARGET, customer_id, {"reason": reason})
        await outbox.add(uow, "customer.deleted", TARGET, customer_id, ("deleted_at",))
        return _view(await _load(uow, customer_id, live=False), shown=await _enabled(uow))


async def update_customer_rules(ctx: Context, changes: Mapping[str, int]) -> dict[str, int]:
    """Tenant rules: contacts a key customer needs, the review cycle in months, the merge-undo window."""
    require(ctx, "tenant.settings.manage")
    bounds = {"key_customer_min_contacts": (0, 20), "review_months": (1, 24), "merge_undo_days": (0, 365)}
    for key, value in changes.items():
        if key not in bounds:
            raise v.invalid("SETTING_UNKNOWN", key, f"no customer rule {key!r}", f"没有客户规则 {key!r}")
        low, high = bounds[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise v.invalid("SETTING_INVALID", key, f"{key} must be a whole number from {low} to {high}",
                            f"{key} 须为 {low} 至 {high} 的整数")
    async with unit_of_work(ctx) as uow:
        before = await customer_rules(uow)
        after = {**before, **changes}
        if after != before:
            await write_setting(uow, SETTINGS_KEY, after)
            changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
            await audit(uow, "setting.updated", "tenant_setting", SETTINGS_KEY, changed)
            await outbox.add(uow, "setting.updated", "tenant_setting", SETTINGS_KEY, changed)
        return after


# --- contacts ----------------------------------------------------------------------------------

def contact_view(row: Mapping[str, Any], tenant_id: UUID) -> ContactView:
    personal = crypto.open_json(tenant_id, SEALED_CONTACT, row["sealed"]) if row["sealed"] else {
        "phones": json.loads(row["phones"]), "email": row["email"]}  # a row from before encryption
    return ContactView(id=row["id"], customer_id=row["customer_id"], surname=row["surname"],
                       given_name=row["given_name"], position=row["position"], phones=tuple(personal["phones"]),
                       email=personal["email"], is_primary=bool(row["is_primary"]))


async def contacts_of(ctx: Context, customer_ids: Sequence[UUID]) -> dict[UUID, list[ContactView]]:
    """The contacts of many customers in one query (for pages); callers have checked access."""
    require(ctx, "customer.read")
    if not customer_ids:
        return {}
    async with unit_of_work(ctx, write=False) as uow:
        return await _contacts_of(uow, customer_ids)


async def _contacts_of(uow: UnitOfWork, customer_ids: Sequence[UUID]) -> dict[UUID, list[ContactView]]:
    found: dict[UUID, list[ContactView]] = {cid: [] for cid in customer_ids}
    rows = await uow.select(*_CONTACT_COLUMNS).where(CustomerContact.customer_id.is_in(list(customer_ids))).order_by(
        CustomerContact.created_at, CustomerContact.id)
    assert uow.ctx.tenant_id is not None
    for row in rows:
        found[row["customer_id"]].append(contact_view(row, uow.ctx.tenant_id))
    return found


# Only what a view shows: on SQLite every id and time column read costs a conversion per row.
_CONTACT_COLUMNS = (CustomerContact.id, CustomerContact.customer_id, CustomerContact.surname,
                    CustomerContact.given_name, CustomerContact.position, CustomerContact.phones,
                    CustomerContact.email, CustomerContact.is_primary, CustomerContact.sealed)


async def add_contact(ctx: Context, customer_id: UUID, contact: ContactInput) -> ContactView:
    require(ctx, "customer.write")
    async with unit_of_work(ctx) as uow:
        view = _view(await _load(uow, customer_id))
        _require_reach(ctx, "customer.write", view.record, customer_id)
        assert uow.ctx.tenant_id is not None
        row = _contact_row(uow.ctx.tenant_id, customer_id, contact, "")
        if row.is_primary:
            await uow.update(CustomerContact, {CustomerContact.is_primary: False}).where(
                CustomerContact.customer_id == customer_id)
        await uow.insert(row)
        await audit(uow, "customer.contact_added", TARGET, customer_id, {"contact_id": row.id})
        await outbox.add(uow, "customer.contact_added", TARGET, customer_id, ("contacts",))
        return contact_view(await uow.select(CustomerContact).where(CustomerContact.id == row.id).first(),
                            uow.ctx.tenant_id)


async def remove_contact(ctx: Context, contact_id: UUID) -> None:
    require(ctx, "customer.write")
    async with unit_of_work(ctx) as uow:
        contact = await uow.select(CustomerContact).where(CustomerContact.id == contact_id).first()
        if contact is None:
            raise NotFound("contact", contact_id)
        view = _view(await _load(uow, contact["customer_id"]))
        _require_reach(ctx, "customer.write", view.record, contact["customer_id"])
        count = await _contact_count(uow, contact["customer_id"])
        await _check_key_contacts(uow, view.record, count - 1)
        await uow.delete(CustomerContact).where(CustomerContact.id == contact_id)
        await audit(uow, "customer.contact_removed", TARGET, contact["customer_id"], {"contact_id": contact_id})
        await outbox.add(uow, "customer.contact_removed", TARGET, contact["customer_id"], ("contacts",))


async def owners_of(ctx: Context, user_ids: Sequence[UUID]) -> dict[UUID, OwnerView]:
    """Who owns these customers, in one query (for pages); anyone reading customers may see it."""
    require(ctx, "customer.read")
    if not user_ids:
        return {}
    async with unit_of_work(ctx, write=False) as uow:
        return await _owners_of(uow, user_ids)


async def _owners_of(uow: UnitOfWork, user_ids: Sequence[UUID]) -> dict[UUID, OwnerView]:
    rows = await uow.select(User.id, User.username, User.display_name).where(User.id.is_in(list(user_ids)))
    return {row["id"]: OwnerView(id=row["id"], username=row["username"], display_name=row["display_name"])
            for row in rows}


async def announce_due_reviews(at: datetime) -> int:
    """Sweep: each customer whose periodic review has come due is announced once
    (``customer.review_due``), so a reminder or a task can follow; reviewing it re-arms this."""
    announced = 0
    for tenant_id in await tenants_due("customer_reviews", at):  # only tenants with a review due (core.db.due)
        async with unit_of_work(Context.system("job:customer-reviews", tenant_id)) as uow:
            due = await uow.update(Customer, {Customer.review_notified_at: at}).where(
                (Customer.review_due_at <= at) & Customer.review_notified_at.is_null()
                & Customer.deleted_at.is_null() & Customer.merged_into.is_null()).returning(Customer.id)
            for row in due:
                await outbox.add(uow, "customer.review_due", TARGET, row["id"], ("review_due_at",))
        announced += len(due)
    return announced


register_sweep("customer_reviews", announce_due_reviews)
