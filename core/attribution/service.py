"""Attribution use cases (issue 21), one function per use case: append an entry to a customer's
ledger and recompute its owner, decide (as of any moment), page the ledger, relate customers,
the dispute flow (open, the project manager's opinion, the sales director's approval or
rejection), replay a vertical's ledger from empty, and list the owner projection.

The ledger is append-only: nothing here updates or deletes an entry. After each entry the
customer's decision (and its related customers', whose facts include its entries) is taken again
by the vertical's policy as of the customer's latest entry and stored in ``attribution_owner``;
the customer's ``owner_id`` follows the owner, so core's own-scope reads give its contact data to
the owning consultant (and to managers with a wider scope) only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import asyncpg
import sqlite3

from core.attribution import policy
from core.attribution.tables import AttributionDispute, AttributionEntry, AttributionOwner, CustomerRelation
from core.audit.chain import record
from core.calendar.settings import tenant_timezone
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import may_reach, require
from core.identity.permissions import Scope
from core.identity.tables import User
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry
from core.plugins.types import AttributionDecision, AttributionPolicy, ContractError, LedgerEntry, LedgerKind, Relation
from core.privacy import freeze
from core.verticals.service import VerticalNotEnabled, effective_parameters
from core.verticals.tables import VerticalEnablement

READ = "attribution.read"
RECORD = "attribution.record"
CONFIRM = "attribution.confirm"
DISPUTE_OPEN = "attribution.dispute.open"
DISPUTE_OPINION = "attribution.dispute.opinion"
DISPUTE_APPROVE = "attribution.dispute.approve"
RELATE = "customer.relate"
ENTRY = "attribution_entry"
DISPUTE = "attribution_dispute"
TEXT_MAX = 4_000
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of the recording devices drift a little
SEQ_RETRIES = 3
OPEN, OPINION_GIVEN, APPROVED, REJECTED = "open", "opinion_given", "approved", "rejected"

T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str | None, en: str, zh: str) -> KehuError:
    return KehuError("ATTRIBUTION_INPUT_INVALID", en, zh, field=field)


def _not_found(customer_id: object) -> KehuError:
    return KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                     field="customer_id")


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryView:
    id: UUID
    seq: int
    customer_id: UUID
    vertical: str
    kind: str
    at: datetime
    consultant_id: UUID | None
    data: Mapping[str, Any]
    refers_to: UUID | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Recorded:
    """An appended entry and the customer's decision after it."""

    entry: EntryView
    decision: AttributionDecision


@dataclass(frozen=True, slots=True)
class RelationView:
    id: UUID
    customer_id: UUID  # the customer asked about
    related_id: UUID
    relation: str  # how ``related_id`` is related to ``customer_id``
    direct: bool
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class OwnerView:
    customer_id: UUID
    vertical: str
    owner_id: UUID | None
    decision: AttributionDecision
    valid_until: datetime | None
    decided_at: datetime
    last_seq: int


@dataclass(frozen=True, slots=True)
class DisputeView:
    id: UUID
    customer_id: UUID
    vertical: str
    deal_entry_id: UUID
    opened_by: str
    opened_at: datetime
    claim: str
    state: str
    opinion: str | None
    fault: str | None
    contribution: str | None
    proposed_shares: Mapping[str, int] | None
    proposed_owner: UUID | None
    opinion_by: str | None
    opinion_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    decision_entry_id: UUID | None
    version: int


def _entry_view(row: Mapping[str, Any]) -> EntryView:
    return EntryView(id=row["id"], seq=int(row["seq"]), customer_id=row["customer_id"], vertical=row["vertical"],
                     kind=row["kind"], at=policy.utc(row["at"]), consultant_id=row["consultant_id"],  # type: ignore[arg-type]
                     data=json.loads(row["data"] or "{}"), refers_to=row["refers_to"],
                     recorded_by=row["recorded_by"], recorded_at=policy.utc(row["recorded_at"]))  # type: ignore[arg-type]


def _owner_view(row: Mapping[str, Any]) -> OwnerView:
    return OwnerView(customer_id=row["customer_id"], vertical=row["vertical"], owner_id=row["owner_id"],
                     decision=policy.from_stored(row), valid_until=policy.utc(row["valid_until"]),
                     decided_at=policy.utc(row["decided_at"]), last_seq=int(row["last_seq"]))  # type: ignore[arg-type]


def _dispute_view(row: Mapping[str, Any]) -> DisputeView:
    return DisputeView(
        id=row["id"], customer_id=row["customer_id"], vertical=row["vertical"], deal_entry_id=row["deal_entry_id"],
        opened_by=row["opened_by"], opened_at=policy.utc(row["opened_at"]), claim=row["claim"],  # type: ignore[arg-type]
        state=row["state"], opinion=row["opinion"], fault=row["fault"], contribution=row["contribution"],
        proposed_shares=json.loads(row["proposed_shares"]) if row["proposed_shares"] else None,
        proposed_owner=row["proposed_owner"], opinion_by=row["opinion_by"], opinion_at=policy.utc(row["opinion_at"]),
        decided_by=row["decided_by"], decided_at=policy.utc(row["decided_at"]), decision_note=row["decision_note"],
        decision_entry_id=row["decision_entry_id"], version=int(row["version"]))


def ledger_entry(row: Mapping[str, Any], confirmed: bool = False) -> LedgerEntry:
    return LedgerEntry(id=str(row["id"]), seq=int(row["seq"]), customer=str(row["customer_id"]), kind=row["kind"],
                       at=policy.utc(row["at"]),
                       consultant=None if row["consultant_id"] is None else str(row["consultant_id"]),
                       data=json.loads(row["data"] or "{}"),
                       refers_to=None if row["refers_to"] is None else str(row["refers_to"]), confirmed=confirmed)


# --- the vertical, the customer, the caller's reach ---------------------------------------------


async def _vertical_policy(uow: UnitOfWork, registry: VerticalRegistry,
                           vertical: str) -> tuple[AttributionPolicy, dict[str, Any]]:
    """The vertical's attribution policy (its first) and the tenant's effective parameters; the
    vertical must be enabled for the tenant and declare a policy."""
    if not isinstance(vertical, str):
        raise VerticalNotEnabled(str(vertical))
    definition = registry.definition(vertical)
    row = await uow.select(VerticalEnablement.status, VerticalEnablement.overrides).where(
        VerticalEnablement.vertical_id == vertical).first()
    if definition is None or row is None or row["status"] != "enabled":
        raise VerticalNotEnabled(vertical)
    if not definition.attribution_policies:
        raise KehuError("ATTRIBUTION_POLICY_MISSING", f"the vertical {vertical} decides no attribution",
                        f"行业插件 {vertical} 未提供客户归属规则", field="vertical")
    return definition.attribution_policies[0], effective_parameters(definition, json.loads(row["overrides"] or "{}"))


async def _customer(uow: UnitOfWork, customer_id: object) -> Mapping[str, Any]:
    row = await uow.select(Customer.id, Customer.owner_id, Customer.department_id).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null() & Customer.merged_into.is_null()).first() \
        if isinstance(customer_id, UUID) else None
    if row is None:
        raise _not_found(customer_id)
    return row


async def _readable_customer(uow: UnitOfWork, ctx: Context, customer_id: object) -> Mapping[str, Any]:
    """The customer, if the caller's scope of ``attribution.read`` reaches it: tenant-wide; its
    department or owner (department scope); own scope: the customer they own or whose ledger
    names them as consultant. Otherwise CUSTOMER_NOT_FOUND, as for a customer that does not exist."""
    scope = require(ctx, READ)
    customer = await _customer(uow, customer_id)
    if scope is Scope.TENANT or may_reach(ctx, READ, owner_id=customer["owner_id"],
                                          department_id=customer["department_id"]):
        return customer
    if ctx.user_id is not None and await uow.exists(AttributionEntry).where(
            (AttributionEntry.customer_id == customer["id"]) & (AttributionEntry.consultant_id == ctx.user_id)):
        return customer
    raise _not_found(customer_id)


async def _user_exists(uow: UnitOfWork, user_id: object, field: str) -> UUID:
    if not isinstance(user_id, UUID) or not await uow.exists(User).where(User.id == user_id):
        raise KehuError("USER_UNKNOWN", f"no user {user_id} in this organisation", f"本租户没有用户 {user_id}",
                        field=field)
    return user_id


def _text(value: object, field: str, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _invalid(field, f"{field} is required", f"{field} 为必填项")
        return None
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise _invalid(field, f"{field} must be a text of at most {TEXT_MAX} characters",
                       f"{field} 须为不超过 {TEXT_MAX} 个字符的文本")
    return value.strip()


def _unique_violation(error: BaseException) -> bool:
    return isinstance(error, sqlite3.IntegrityError | asyncpg.exceptions.UniqueViolationError)


async def _retrying(work: Callable[[], Awaitable[T]]) -> T:
    """Run a unit of work again when another writer took the same ``seq`` (the unique index
    refuses the second; on PostgreSQL the tenant's advisory lock makes it rare)."""
    for attempt in range(SEQ_RETRIES):
        try:
            return await work()
        except Exception as error:
            if not _unique_violation(error) or attempt == SEQ_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


# --- facts, decisions and the projection --------------------------------------------------------

_COLUMNS = (AttributionEntry.id, AttributionEntry.seq, AttributionEntry.customer_id, AttributionEntry.kind,
            AttributionEntry.at, AttributionEntry.consultant_id, AttributionEntry.data, AttributionEntry.refers_to)


async def _relations(uow: UnitOfWork, customer_id: UUID) -> list[tuple[UUID, str]]:
    rows = await uow.select(CustomerRelation.customer_id, CustomerRelation.related_id, CustomerRelation.relation).where(
        (CustomerRelation.customer_id == customer_id) | (CustomerRelation.related_id == customer_id))
    return [policy.seen_from(customer_id, row) for row in rows]


async def _entry_rows(uow: UnitOfWork, vertical: str, customer_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The entries of these customers in the vertical, one query, only the columns a decision reads."""
    found: dict[UUID, list[dict[str, Any]]] = {c: [] for c in customer_ids}
    if not customer_ids:
        return found
    query = uow.select(*_COLUMNS).where(AttributionEntry.vertical == vertical)
    query = query.where(AttributionEntry.customer_id == customer_ids[0]) if len(customer_ids) == 1 else \
        query.where(AttributionEntry.customer_id.is_in(customer_ids))
    for row in await query.order_by(AttributionEntry.seq):
        found[row["customer_id"]].append(row)
    return found


async def _facts(uow: UnitOfWork, vertical: str, customer_id: UUID, as_of: datetime | None, *,
                 projection: bool = False) -> tuple[Any, list[dict[str, Any]]]:
    """The facts of a customer (its entries, then its relatives' in one more query) and its rows.
    For the projection the moment is the customer's latest entry, so it replays exactly."""
    own = (await _entry_rows(uow, vertical, [customer_id]))[customer_id]
    related = await _relations(uow, customer_id)
    others = await _entry_rows(uow, vertical, [other for other, _ in related])
    if projection:
        as_of = policy.moment(own)
    return policy.facts(customer_id, own, [(other, relation, others[other]) for other, relation in related],
                        as_of=as_of, zone=await tenant_timezone(uow)), own


def _checked(decision: AttributionDecision, rule_policy: AttributionPolicy) -> AttributionDecision:
    """A decision the projection can hold: its owner a consultant id (a user id) or none."""
    if decision.owner is not None:
        try:
            UUID(str(decision.owner))
        except ValueError:
            raise ContractError(f"attribution policy {rule_policy.id!r}: owner {decision.owner!r} is not a "
                                "consultant id") from None
    return decision


async def _project(uow: UnitOfWork, rule_policy: AttributionPolicy, parameters: Mapping[str, Any], vertical: str,
                   customer_id: UUID, reason: str) -> AttributionDecision | None:
    """Decide the customer again from its ledger and store the decision; when the owner changes,
    audit and announce it and move ``customer.owner_id`` to the owner (a user of the tenant)."""
    facts, own = await _facts(uow, vertical, customer_id, None, projection=True)
    if not own:
        return None
    decision = _checked(policy.decide(rule_policy, facts, parameters), rule_policy)
    values = policy.stored(decision)
    owner = UUID(decision.owner) if decision.owner else None
    columns = {AttributionOwner.owner_id: owner, AttributionOwner.shares: values["shares"],
               AttributionOwner.rule: values["rule"], AttributionOwner.explanation_en: values["explanation_en"],
               AttributionOwner.explanation_zh: values["explanation_zh"], AttributionOwner.facts: values["facts"],
               AttributionOwner.entry_ids: values["entry_ids"], AttributionOwner.deals: values["deals"],
               AttributionOwner.valid_until: values["valid_until"], AttributionOwner.decided_at: now(),
               AttributionOwner.last_seq: max(int(r["seq"]) for r in own)}
    existing = await uow.select(AttributionOwner.id, AttributionOwner.owner_id, AttributionOwner.shares,
                                AttributionOwner.rule).where(
        (AttributionOwner.customer_id == customer_id) & (AttributionOwner.vertical == vertical)).first()
    if existing is None:
        await uow.insert(AttributionOwner(customer_id=customer_id, vertical=vertical,
                                          **{column._meta.name: value for column, value in columns.items()}))
        before_owner, before_shares = None, "{}"
    else:
        await uow.update(AttributionOwner, columns).where(AttributionOwner.id == existing["id"])
        before_owner, before_shares = existing["owner_id"], existing["shares"]
    if before_owner != owner or before_shares != values["shares"]:
        await record(uow, "attribution.owner_changed", "customer", customer_id,
                     {"vertical": vertical, "owner_id": (before_owner, owner), "rule": decision.rule,
                      "shares": (json.loads(before_shares), dict(decision.shares))})
        await outbox.add(uow, "attribution.owner_changed", "customer", customer_id, ("owner_id", "shares", "rule"))
    if owner is not None:
        await _follow_owner(uow, customer_id, owner, f"{reason} ({decision.rule})")
    return decision


async def _follow_owner(uow: UnitOfWork, customer_id: UUID, owner: UUID, reason: str) -> None:
    """``customer.owner_id`` follows the attribution owner (recorded in the customer's history)."""
    from core.customers.service import _move_owner  # the customer's own handover, with its history

    row = await uow.select(Customer.owner_id).where(Customer.id == customer_id).first()
    if row is None or row["owner_id"] == owner or not await uow.exists(User).where(User.id == owner):
        return
    await _move_owner(uow, [customer_id], row["owner_id"], owner, reason)


async def _project_with_relatives(uow: UnitOfWork, rule_policy: AttributionPolicy, parameters: Mapping[str, Any],
                                  vertical: str, customer_id: UUID, reason: str) -> AttributionDecision | None:
    """The customer's decision again, and its related customers' (their facts hold its entries)."""
    decision = await _project(uow, rule_policy, parameters, vertical, customer_id, reason)
    for other, _relation in await _relations(uow, customer_id):
        await _project(uow, rule_policy, parameters, vertical, other, reason)
    return decision


# --- the ledger ----------------------------------------------------------------------------------


async def _next_seq(uow: UnitOfWork) -> int:
    """The tenant's next ledger position. On PostgreSQL a transaction-level advisory lock on the
    tenant serialises writers (SQLite's write lock already does); the unique (tenant_id, seq) index
    refuses a second taker anyway."""
    if uow.database.is_postgres:
        await uow.fetch("SELECT pg_advisory_xact_lock(hashtext({}))", f"kehu.attribution_seq:{uow.ctx.tenant_id}")
    row = await uow.select(AttributionEntry.seq).order_by(AttributionEntry.seq, ascending=False).first()
    return 1 if row is None else int(row["seq"]) + 1


def _checked_data(data: object) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise KehuError("ATTRIBUTION_DATA_INVALID", "data must be a JSON object", "data 须为 JSON 对象", field="data")
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        raise KehuError("ATTRIBUTION_DATA_INVALID", "data must be a JSON object", "data 须为 JSON 对象",
                        field="data") from None
    if len(text) > policy.DATA_MAX_CHARS:
        raise KehuError("ATTRIBUTION_DATA_INVALID", f"data may hold at most {policy.DATA_MAX_CHARS} characters of JSON",
                        f"data 的 JSON 文本不得超过 {policy.DATA_MAX_CHARS} 个字符", field="data")
    return dict(data)


def _kind(kind: object) -> LedgerKind:
    try:
        return LedgerKind(kind)
    except ValueError:
        raise _invalid("kind", f"{kind!r} is not a ledger kind ({', '.join(k.value for k in LedgerKind)})",
                       f"{kind!r} 不是台账记录类型") from None


def _at(at: object) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise _invalid("at", "at must be a moment with its time zone offset", "at 须为带时区偏移的时间")
    if at > now() + FUTURE_TOLERANCE:
        raise _invalid("at", "at lies in the future", "at 不得晚于当前时间")
    return at.astimezone(UTC)


async def _referred(uow: UnitOfWork, kind: LedgerKind, refers_to: object, customer_id: UUID,
                    vertical: str) -> dict[str, Any] | None:
    """The entry ``refers_to`` names, checked for what ``kind`` may do with it."""
    if kind not in policy.REFERRING:
        if refers_to is not None:
            raise _invalid("refers_to", f"a {kind.value} entry refers to no other entry",
                           f"{kind.value} 记录不引用其他记录")
        return None
    row = await uow.select(*_COLUMNS, AttributionEntry.vertical).where(
        (AttributionEntry.id == refers_to) & (AttributionEntry.customer_id == customer_id)
        & (AttributionEntry.vertical == vertical)).first() if isinstance(refers_to, UUID) else None
    if row is None:
        raise KehuError("ATTRIBUTION_ENTRY_UNKNOWN",
                        f"a {kind.value} entry must name an entry of the same customer's ledger",
                        f"{kind.value} 记录须引用同一客户台账中的记录", field="refers_to")
    rows = await uow.select(AttributionEntry.id, AttributionEntry.seq, AttributionEntry.kind,
                            AttributionEntry.refers_to).where(
        (AttributionEntry.customer_id == customer_id) & (AttributionEntry.vertical == vertical)
        & AttributionEntry.kind.is_in([LedgerKind.CORRECTION.value, LedgerKind.CONFIRMATION.value]))
    voided, confirmed = policy.voided_and_confirmed(rows)
    if row["id"] in voided:
        raise KehuError("ATTRIBUTION_ENTRY_CORRECTED", "that entry was corrected (voided); it no longer counts",
                        "该记录已被更正（作废），不再有效", field="refers_to")
    if kind is LedgerKind.CORRECTION and row["id"] in confirmed:
        raise KehuError("ATTRIBUTION_ENTRY_CONFIRMED", "a confirmed entry can never be corrected (RE21)",
                        "已确认的记录不得更正（RE21）", field="refers_to")
    if kind is LedgerKind.CONFIRMATION:
        if row["kind"] in policy.UNCONFIRMABLE:
            raise _invalid("refers_to", f"a {row['kind']} entry is not confirmed", f"{row['kind']} 记录无需确认")
        if row["id"] in confirmed:
            raise KehuError("ATTRIBUTION_ENTRY_CONFIRMED", "that entry is already confirmed", "该记录已确认",
                            field="refers_to")
    if kind in (LedgerKind.DEAL_CHANGE, LedgerKind.DISPUTE_DECISION) and row["kind"] != LedgerKind.DEAL:
        raise _invalid("refers_to", f"a {kind.value} entry names a deal", f"{kind.value} 记录须引用成交记录")
    return row


async def append_entry(uow: UnitOfWork, registry: VerticalRegistry, customer_id: object, vertical: str, kind: object,
                       *, at: object, consultant_id: object = None, data: object = None, refers_to: object = None,
                       by_dispute: bool = False) -> Recorded:
    """Append an entry in the caller's unit of work (permission already checked), validated and
    audited, and recompute the customer's owner. DISPUTE_DECISION only from a dispute's approval."""
    ledger_kind = _kind(kind)
    if ledger_kind is LedgerKind.DISPUTE_DECISION and not by_dispute:
        raise KehuError("ATTRIBUTION_DISPUTE_DECISION_DIRECT",
                        "a dispute decision is recorded only by approving the dispute (attributionDisputeApprove)",
                        "争议裁定只能通过审批争议记录（attributionDisputeApprove）", field="kind")
    moment = _at(at)
    payload = _checked_data(data)
    rule_policy, parameters = await _vertical_policy(uow, registry, vertical)
    customer = await _customer(uow, customer_id)
    await freeze.refuse_if_frozen(uow, customer["id"])
    consultant = None if consultant_id is None else await _user_exists(uow, consultant_id, "consultant_id")
    await _referred(uow, ledger_kind, refers_to, customer["id"], vertical)
    entry_id, recorded_at = uuid4(), now()
    await uow.insert(AttributionEntry(
        id=entry_id, customer_id=customer["id"], vertical=vertical, seq=await _next_seq(uow), kind=ledger_kind.value,
        at=moment, consultant_id=consultant, data=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        refers_to=refers_to, recorded_by=uow.ctx.actor, recorded_at=recorded_at))
    row = await uow.select(AttributionEntry).where(AttributionEntry.id == entry_id).first()
    # the data may name buyers: the audit says which keys it held, never their values
    await record(uow, "attribution.entry_recorded", ENTRY, entry_id,
                 {"customer_id": customer["id"], "vertical": vertical, "kind": ledger_kind.value, "seq": row["seq"],
                  "consultant_id": consultant, "refers_to": refers_to, "data_keys": sorted(payload)})
    decision = await _project_with_relatives(uow, rule_policy, parameters, vertical, customer["id"],
                                             f"attribution: {ledger_kind.value}")
    assert decision is not None  # the customer has this entry now
    return Recorded(entry=_entry_view(row), decision=decision)


async def record_entry(ctx: Context, registry: VerticalRegistry, customer_id: UUID, *, vertical: str, kind: str,
                       at: datetime, consultant_id: UUID | None = None, data: Mapping[str, Any] | None = None,
                       refers_to: UUID | None = None) -> Recorded:
    """Append an entry to the customer's ledger of ``vertical`` (``attribution.record``; a
    confirmation needs ``attribution.confirm``, the sales clerk's) and recompute its owner."""
    require(ctx, CONFIRM if kind == LedgerKind.CONFIRMATION else RECORD)

    async def work() -> Recorded:
        async with unit_of_work(ctx) as uow:
            return await append_entry(uow, registry, customer_id, vertical, kind, at=at, consultant_id=consultant_id,
                                      data=data, refers_to=refers_to)
    return await _retrying(work)


async def decision(ctx: Context, registry: VerticalRegistry, customer_id: UUID, vertical: str,
                   as_of: datetime | None = None) -> AttributionDecision:
    """The customer's decision fresh from the ledger, as of ``as_of`` (now by default): entries
    that happened after it are ignored (``attribution.read``, within the caller's reach)."""
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
        raise _invalid("as_of", "asOf must be a moment with its time zone offset", "asOf 须为带时区偏移的时间")
    async with unit_of_work(ctx, write=False) as uow:
        customer = await _readable_customer(uow, ctx, customer_id)
        return await decide_in(uow, registry, vertical, customer["id"], as_of=as_of)


async def decide_in(uow: UnitOfWork, registry: VerticalRegistry, vertical: str, customer_id: UUID, *,
                    as_of: datetime | None = None) -> AttributionDecision:
    """The policy's decision on the facts as of ``as_of`` (now by default), in the caller's unit of work."""
    rule_policy, parameters = await _vertical_policy(uow, registry, vertical)
    facts, _own = await _facts(uow, vertical, customer_id, (as_of or now()).astimezone(UTC))
    return _checked(policy.decide(rule_policy, facts, parameters), rule_policy)


async def ledger(ctx: Context, registry: VerticalRegistry, customer_id: UUID, window: keyset.Window, *,
                 vertical: str | None = None, kinds: list[str] | None = None) -> tuple[list[EntryView], bool]:
    """A page of the customer's ledger in ``seq`` order (keyset on seq), every entry (corrected
    ones too: the ledger keeps everything), of one vertical or all."""
    async with unit_of_work(ctx, write=False) as uow:
        customer = await _readable_customer(uow, ctx, customer_id)
        query = uow.select(AttributionEntry).where(AttributionEntry.customer_id == customer["id"])
        if vertical is not None:
            await _vertical_policy(uow, registry, vertical)
            query = query.where(AttributionEntry.vertical == vertical)
        if kinds:
            query = query.where(AttributionEntry.kind.is_in([_kind(k).value for k in kinds]))
        rows, more = await keyset.fetch(query, (AttributionEntry.seq,), window)
    return [_entry_view(r) for r in rows], more


async def entry(ctx: Context, entry_id: UUID) -> EntryView:
    """One entry, if the caller may read its customer."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(AttributionEntry).where(AttributionEntry.id == entry_id).first() \
            if isinstance(entry_id, UUID) else None
        if row is None:
            require(ctx, READ)
            raise KehuError("ATTRIBUTION_ENTRY_UNKNOWN", f"no ledger entry {entry_id}", f"未找到台账记录 {entry_id}",
                            field="id")
        await _readable_customer(uow, ctx, row["customer_id"])
        return _entry_view(row)


# --- relations -----------------------------------------------------------------------------------


async def relate(ctx: Context, registry: VerticalRegistry, customer_id: UUID, related_id: UUID,
                 relation: str) -> RelationView:
    """Record how two customers are related (``customer.relate``): ``related_id`` is ``relation``
    of ``customer_id`` (parent: the related customer is a parent). Stored once, read both ways;
    both customers' decisions are taken again in every vertical where they have a ledger."""
    require(ctx, RELATE)
    try:
        kind = Relation(relation)
    except ValueError:
        raise _invalid("relation", f"{relation!r} is not a relation ({', '.join(r.value for r in Relation)})",
                       f"{relation!r} 不是有效的亲属关系") from None

    async def work() -> RelationView:
        async with unit_of_work(ctx) as uow:
            one = await _customer(uow, customer_id)
            other = await _customer(uow, related_id)
            if one["id"] == other["id"]:
                raise _invalid("related_id", "a customer is not related to itself", "客户不能与自身建立关系")
            low, high, stored_relation = policy.stored_pair(one["id"], other["id"], kind.value)
            if await uow.exists(CustomerRelation).where(
                    (CustomerRelation.customer_id == low) & (CustomerRelation.related_id == high)):
                raise KehuError("CUSTOMER_RELATION_EXISTS", "the two customers are already related",
                                "两位客户之间已登记关系", field="related_id")
            relation_id, at = uuid4(), now()
            await uow.insert(CustomerRelation(id=relation_id, customer_id=low, related_id=high,
                                              relation=stored_relation, recorded_by=ctx.actor, recorded_at=at))
            await record(uow, "attribution.relation_added", "customer_relation", relation_id,
                         {"customer_id": one["id"], "related_id": other["id"], "relation": kind.value})
            for vertical in {r["vertical"] for r in await uow.select(AttributionEntry.vertical).where(
                    AttributionEntry.customer_id.is_in([one["id"], other["id"]])).distinct()}:
                definition = registry.definition(vertical)
                if definition is None or not definition.attribution_policies:
                    continue
                try:
                    rule_policy, parameters = await _vertical_policy(uow, registry, vertical)
                except VerticalNotEnabled:
                    continue  # a disabled vertical's projection waits for its next entry
                for customer in (one["id"], other["id"]):
                    await _project(uow, rule_policy, parameters, vertical, customer, "attribution: relation")
            return RelationView(id=relation_id, customer_id=one["id"], related_id=other["id"], relation=kind.value,
                                direct=policy.is_direct(kind.value), recorded_by=ctx.actor, recorded_at=at)
    return await work()


async def relations(ctx: Context, customer_id: UUID) -> list[RelationView]:
    """The customer's relations, each as seen from it (``customer.read`` within reach)."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        customer = await _customer(uow, customer_id)
        if not may_reach(ctx, "customer.read", owner_id=customer["owner_id"], department_id=customer["department_id"]):
            raise _not_found(customer_id)
        rows = await uow.select(CustomerRelation).where(
            (CustomerRelation.customer_id == customer["id"]) | (CustomerRelation.related_id == customer["id"]))
    views = []
    for row in rows:
        other, relation = policy.seen_from(customer["id"], row)
        views.append(RelationView(id=row["id"], customer_id=customer["id"], related_id=other, relation=relation,
                                  direct=policy.is_direct(relation), recorded_by=row["recorded_by"],
                                  recorded_at=policy.utc(row["recorded_at"])))  # type: ignore[arg-type]
    return sorted(views, key=lambda v: (v.recorded_at, str(v.id)))


# --- disputes (RE31) -----------------------------------------------------------------------------


async def _dispute(uow: UnitOfWork, dispute_id: object) -> dict[str, Any]:
    row = await uow.select(AttributionDispute).where(AttributionDispute.id == dispute_id).first() \
        if isinstance(dispute_id, UUID) else None
    if row is None:
        raise KehuError("ATTRIBUTION_DISPUTE_NOT_FOUND", f"no attribution dispute {dispute_id}",
                        f"未找到归属争议 {dispute_id}", field="id")
    return row


def _state(row: Mapping[str, Any], *wanted: str) -> None:
    if row["state"] not in wanted:
        raise KehuError("ATTRIBUTION_DISPUTE_STATE",
                        f"the dispute is {row['state']}; this step needs it {' or '.join(wanted)}",
                        f"争议当前为 {row['state']}，此操作要求 {' 或 '.join(wanted)}", field="id")


async def _changed(uow: UnitOfWork, row: Mapping[str, Any], version: int, values: dict[Any, Any]) -> None:
    values[AttributionDispute.version] = row["version"] + 1
    done = await uow.update(AttributionDispute, values).where(
        (AttributionDispute.id == row["id"]) & (AttributionDispute.version == version)).returning(AttributionDispute.id)
    if not done:
        raise KehuError("VERSION_CONFLICT", "the dispute changed meanwhile; read it again", "争议已被他人修改，请重新读取",
                        field="version")


def _same_person(ctx: Context, row: Mapping[str, Any]) -> None:
    """Four eyes: the sales director deciding is not the project manager who wrote the opinion."""
    if row["opinion_by"] is not None and row["opinion_by"] == ctx.actor:
        raise KehuError("ATTRIBUTION_DISPUTE_SAME_PERSON", "the writer of the opinion cannot decide the dispute",
                        "出具意见的人不能审批该争议", field="id")


async def open_dispute(ctx: Context, deal_entry_id: UUID, *, claim: str) -> DisputeView:
    """A party opens a dispute over a deal (``attribution.dispute.open``): the caller is one of
    the consultants of the customer's ledger, or holds the project manager's permission."""
    require(ctx, DISPUTE_OPEN)
    text = _text(claim, "claim")
    async with unit_of_work(ctx) as uow:
        deal = await uow.select(AttributionEntry).where(AttributionEntry.id == deal_entry_id).first() \
            if isinstance(deal_entry_id, UUID) else None
        if deal is None or deal["kind"] != LedgerKind.DEAL:
            raise KehuError("ATTRIBUTION_ENTRY_UNKNOWN", "name a deal of a customer's ledger",
                            "请指定客户台账中的成交记录", field="deal_entry_id")
        customer = await _customer(uow, deal["customer_id"])
        consultants = {r["consultant_id"] for r in await uow.select(AttributionEntry.consultant_id).where(
            (AttributionEntry.customer_id == customer["id"]) & (AttributionEntry.vertical == deal["vertical"]))}
        if ctx.user_id not in consultants and not ctx.is_system:
            try:
                require(ctx, DISPUTE_OPINION)
            except KehuError:
                raise KehuError("ATTRIBUTION_DISPUTE_NOT_PARTY",
                                "only a consultant of the customer's ledger or a project manager opens a dispute",
                                "只有该客户台账中的置业顾问或项目经理可以提出争议", field="deal_entry_id") from None
        if await uow.exists(AttributionDispute).where(
                (AttributionDispute.deal_entry_id == deal["id"])
                & AttributionDispute.state.is_in([OPEN, OPINION_GIVEN])):
            raise KehuError("ATTRIBUTION_DISPUTE_PENDING", "a dispute over this deal is still undecided",
                            "该成交已有未决争议", field="deal_entry_id")
        dispute_id = uuid4()
        await uow.insert(AttributionDispute(id=dispute_id, customer_id=customer["id"], vertical=deal["vertical"],
                                            deal_entry_id=deal["id"], opened_by=ctx.actor, opened_at=now(),
                                            claim=text, state=OPEN))
        await record(uow, "attribution.dispute_opened", DISPUTE, dispute_id,
                     {"customer_id": customer["id"], "deal_entry_id": deal["id"], "vertical": deal["vertical"]})
        return _dispute_view(await _dispute(uow, dispute_id))


def _shares(shares: object) -> dict[str, int]:
    if not isinstance(shares, Mapping) or not shares:
        raise KehuError("ATTRIBUTION_SHARES_INVALID", "give each consultant's share", "请给出每位置业顾问的比例",
                        field="shares")
    checked: dict[str, int] = {}
    for key, value in shares.items():
        try:
            consultant = str(UUID(str(key)))
        except ValueError:
            raise KehuError("ATTRIBUTION_SHARES_INVALID", f"{key!r} is not a consultant id", f"{key!r} 不是置业顾问 ID",
                            field="shares") from None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise KehuError("ATTRIBUTION_SHARES_INVALID", "each share is a whole percent from 0 to 100",
                            "每项比例须为 0 至 100 的整数", field="shares")
        checked[consultant] = value
    if sum(checked.values()) != 100:
        raise KehuError("ATTRIBUTION_SHARES_INVALID", f"the shares add up to {sum(checked.values())}, not 100",
                        f"比例合计为 {sum(checked.values())}，须为 100", field="shares")
    return checked


async def give_opinion(ctx: Context, dispute_id: UUID, *, version: int, opinion: str, fault: str | None,
                       contribution: str | None, owner_id: UUID, shares: Mapping[str, int]) -> DisputeView:
    """The project manager's written opinion (``attribution.dispute.opinion``): who was at fault,
    who contributed what, the proposed owner and commission shares (summing to 100)."""
    require(ctx, DISPUTE_OPINION)
    text = _text(opinion, "opinion")
    fault_text = _text(fault, "fault", required=False)
    contribution_text = _text(contribution, "contribution", required=False)
    split = _shares(shares)
    async with unit_of_work(ctx) as uow:
        row = await _dispute(uow, dispute_id)
        _state(row, OPEN)
        owner = await _user_exists(uow, owner_id, "owner_id")
        for consultant in split:
            await _user_exists(uow, UUID(consultant), "shares")
        await _changed(uow, row, version, {
            AttributionDispute.state: OPINION_GIVEN, AttributionDispute.opinion: text,
            AttributionDispute.fault: fault_text, AttributionDispute.contribution: contribution_text,
            AttributionDispute.proposed_shares: json.dumps(split, sort_keys=True),
            AttributionDispute.proposed_owner: owner, AttributionDispute.opinion_by: ctx.actor,
            AttributionDispute.opinion_at: now()})
        await record(uow, "attribution.dispute_opinion_given", DISPUTE, row["id"],
                     {"customer_id": row["customer_id"], "proposed_owner": owner, "proposed_shares": split})
        return _dispute_view(await _dispute(uow, row["id"]))


async def approve_dispute(ctx: Context, registry: VerticalRegistry, dispute_id: UUID, *, version: int,
                          note: str | None = None) -> tuple[DisputeView, Recorded]:
    """The sales director approves the opinion (``attribution.dispute.approve``; not its writer):
    a DISPUTE_DECISION entry naming the deal, with the shares and owner, joins the ledger and the
    customer's decision is taken again (RE31)."""
    require(ctx, DISPUTE_APPROVE)
    note_text = _text(note, "note", required=False)

    async def work() -> tuple[DisputeView, Recorded]:
        async with unit_of_work(ctx) as uow:
            row = await _dispute(uow, dispute_id)
            _state(row, OPINION_GIVEN)
            _same_person(ctx, row)
            if row["version"] != version:
                raise KehuError("VERSION_CONFLICT", "the dispute changed meanwhile; read it again",
                                "争议已被他人修改，请重新读取", field="version")
            shares = json.loads(row["proposed_shares"])
            recorded = await append_entry(
                uow, registry, row["customer_id"], row["vertical"], LedgerKind.DISPUTE_DECISION, at=now(),
                consultant_id=row["proposed_owner"], refers_to=row["deal_entry_id"], by_dispute=True,
                data={"shares": shares, "owner": str(row["proposed_owner"]), "dispute": str(row["id"])})
            await _changed(uow, row, version, {
                AttributionDispute.state: APPROVED, AttributionDispute.decided_by: ctx.actor,
                AttributionDispute.decided_at: now(), AttributionDispute.decision_note: note_text,
                AttributionDispute.decision_entry_id: recorded.entry.id})
            await record(uow, "attribution.dispute_approved", DISPUTE, row["id"],
                         {"customer_id": row["customer_id"], "decision_entry_id": recorded.entry.id,
                          "opinion_by": row["opinion_by"], "shares": shares})
            return _dispute_view(await _dispute(uow, row["id"])), recorded
    return await _retrying(work)


async def reject_dispute(ctx: Context, dispute_id: UUID, *, version: int, reason: str) -> DisputeView:
    """The sales director rejects the dispute (``attribution.dispute.approve``; not the opinion's
    writer), with a reason: the ledger is unchanged."""
    require(ctx, DISPUTE_APPROVE)
    text = _text(reason, "reason")
    async with unit_of_work(ctx) as uow:
        row = await _dispute(uow, dispute_id)
        _state(row, OPEN, OPINION_GIVEN)
        _same_person(ctx, row)
        await _changed(uow, row, version, {
            AttributionDispute.state: REJECTED, AttributionDispute.decided_by: ctx.actor,
            AttributionDispute.decided_at: now(), AttributionDispute.decision_note: text})
        await record(uow, "attribution.dispute_rejected", DISPUTE, row["id"], {"customer_id": row["customer_id"]})
        return _dispute_view(await _dispute(uow, row["id"]))


async def get_dispute(ctx: Context, dispute_id: UUID) -> DisputeView:
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        row = await _dispute(uow, dispute_id)
        await _readable_customer(uow, ctx, row["customer_id"])
        return _dispute_view(row)


async def list_disputes(ctx: Context, window: keyset.Window, *, state: str | None = None,
                        customer_id: UUID | None = None) -> tuple[list[DisputeView], bool]:
    """The tenant's disputes, newest first (keyset on opened_at, id); with own or department scope
    of ``attribution.read``, those the caller opened."""
    scope = require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(AttributionDispute)
        if scope is not Scope.TENANT:
            query = query.where(AttributionDispute.opened_by == ctx.actor)
        if state is not None:
            query = query.where(AttributionDispute.state == state)
        if customer_id is not None:
            query = query.where(AttributionDispute.customer_id == customer_id)
        rows, more = await keyset.fetch(query, (AttributionDispute.opened_at, AttributionDispute.id), window,
                                        descending=True)
    return [_dispute_view(r) for r in rows], more


# --- the projection: replay and lists ------------------------------------------------------------


async def replay_in(uow: UnitOfWork, registry: VerticalRegistry, vertical: str) -> dict[UUID, AttributionDecision]:
    """Every customer's decision taken again from the ledger alone, from empty: the entries of the
    vertical read once, each customer decided as of its latest entry (what the projection holds)."""
    rule_policy, parameters = await _vertical_policy(uow, registry, vertical)
    rows: dict[UUID, list[dict[str, Any]]] = {}
    for row in await uow.select(*_COLUMNS).where(AttributionEntry.vertical == vertical).order_by(AttributionEntry.seq):
        rows.setdefault(row["customer_id"], []).append(row)
    pairs = await uow.select(CustomerRelation.customer_id, CustomerRelation.related_id, CustomerRelation.relation)
    related: dict[UUID, list[tuple[UUID, str]]] = {}
    for pair in pairs:
        for side in (pair["customer_id"], pair["related_id"]):
            related.setdefault(side, []).append(policy.seen_from(side, pair))
    decided = {}
    zone = await tenant_timezone(uow)
    for customer_id, own in rows.items():
        facts = policy.facts(customer_id, own, [(other, relation, rows.get(other, []))
                                                for other, relation in related.get(customer_id, [])],
                             as_of=policy.moment(own), zone=zone)
        decided[customer_id] = _checked(policy.decide(rule_policy, facts, parameters), rule_policy)
    return decided


async def replay(ctx: Context, registry: VerticalRegistry, vertical: str) -> dict[UUID, AttributionDecision]:
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        return await replay_in(uow, registry, vertical)


async def projection(ctx: Context, vertical: str) -> dict[UUID, AttributionDecision]:
    """The stored decisions of the vertical, by customer (to compare with ``replay``)."""
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(AttributionOwner).where(AttributionOwner.vertical == vertical)
    return {row["customer_id"]: policy.from_stored(row) for row in rows}


def _owner_filters(query: Any, *, owner_id: UUID | None, valid: bool | None, at: datetime) -> Any:
    if owner_id is not None:
        query = query.where(AttributionOwner.owner_id == owner_id)
    if valid is True:
        query = query.where(AttributionOwner.valid_until.is_null() | (AttributionOwner.valid_until > at))
    elif valid is False:
        query = query.where(AttributionOwner.valid_until <= at)
    return query


async def owners(ctx: Context, registry: VerticalRegistry, vertical: str | None, window: keyset.Window, *,
                 owner_id: UUID | None = None, valid: bool | None = None) -> tuple[list[OwnerView], bool]:
    """The owner projection by customer id (keyset), of one vertical or all: by owner, and valid
    (no ``valid_until`` or one still ahead) or not (reports: valid vs invalid customers). With own
    scope of ``attribution.read`` the caller sees the customers they own."""
    scope = require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(AttributionOwner)
        if vertical is not None:
            await _vertical_policy(uow, registry, vertical)
            query = query.where(AttributionOwner.vertical == vertical)
        if scope is not Scope.TENANT:
            query = query.where(AttributionOwner.owner_id == ctx.user_id)
        query = _owner_filters(query, owner_id=owner_id, valid=valid, at=now())
        rows, more = await keyset.fetch(query, (AttributionOwner.customer_id, AttributionOwner.vertical), window)
    return [_owner_view(r) for r in rows], more


async def consultant_names(ctx: Context, user_ids: list[UUID]) -> dict[UUID, str]:
    """Display names of the consultants a decision names (``attribution.read``), in one query."""
    require(ctx, READ)
    if not user_ids:
        return {}
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(User.id, User.display_name).where(User.id.is_in(list(user_ids)))
    return {row["id"]: row["display_name"] for row in rows}
