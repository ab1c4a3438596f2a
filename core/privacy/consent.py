"""The consent ledger (PIPL art. 13-16, 29): per customer and purpose, every grant and withdrawal
with the notice version, channel, time and recorder, append-only. Processing for a purpose is
allowed if and only if the customer's latest entry for it is a grant; sensitive data needs its
own, separate consent (``sensitive_processing``), given on its own and never bundled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import may_reach, require, require_signed_in
from core.jobs import outbox
from core.privacy.purposes import PURPOSES  # the one list of purposes, shared with plugins
from core.privacy import freeze
from core.privacy.consent_tables import ConsentRecord

SENSITIVE = "sensitive_processing"
CHANNELS: tuple[str, ...] = ("paper", "web", "app", "phone", "sms", "in_store")
GRANT, WITHDRAW = "grant", "withdraw"
TARGET = "customer"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    id: UUID
    customer_id: UUID
    seq: int
    purpose: str
    action: str
    notice_version: str | None
    channel: str
    recorded_at: datetime
    recorded_by: str
    evidence: str


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    """Where one purpose stands for a customer: ``granted`` only if its latest entry is a grant."""

    purpose: str
    granted: bool
    latest: ConsentEntry | None  # None: never asked


def customer_not_found(customer_id: UUID) -> KehuError:
    return KehuError("CUSTOMER_NOT_FOUND", f"customer {customer_id} not found", f"未找到客户 {customer_id}",
                     field="customerId")


def _entry(row: Mapping[str, Any]) -> ConsentEntry:
    return ConsentEntry(id=row["id"], customer_id=row["customer_id"], seq=int(row["seq"]), purpose=row["purpose"],
                        action=row["action"], notice_version=row["notice_version"], channel=row["channel"],
                        recorded_at=row["recorded_at"], recorded_by=row["recorded_by"], evidence=row["evidence"])


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise KehuError("PURPOSE_UNKNOWN", f"purpose must be one of {', '.join(PURPOSES)}",
                        f"用途须为以下之一：{'、'.join(PURPOSES)}", field="purpose")
    return purpose


def _purposes(purposes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(_purpose(p) for p in purposes))
    if not chosen:
        raise KehuError("PURPOSE_REQUIRED", "name at least one purpose", "请至少选择一个用途", field="purposes")
    return chosen


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise KehuError("CHANNEL_UNKNOWN", f"channel must be one of {', '.join(CHANNELS)}",
                        f"渠道须为以下之一：{'、'.join(CHANNELS)}", field="channel")
    return channel


def _evidence(evidence: str) -> str:
    evidence = (evidence or "").strip()
    if len(evidence) > 1000:
        raise KehuError("EVIDENCE_TOO_LONG", "the evidence note has at most 1000 characters", "凭证说明最多 1000 字",
                        field="evidence")
    return evidence


async def reach_customer(uow: UnitOfWork, customer_id: UUID, permission: str, *,
                         lock: bool = False) -> Mapping[str, Any]:
    """The customer (even soft-deleted: its consent still counts), if ``permission``'s scope reaches
    it; a missing customer, another tenant's, or one out of scope is CUSTOMER_NOT_FOUND."""
    ctx = uow.ctx
    query = uow.select(Customer.id, Customer.owner_id, Customer.department_id).where(Customer.id == customer_id)
    if lock and uow.database.is_postgres:
        query = query.lock_rows()  # serialises appends to one customer's ledger (SQLite has one writer)
    row = await query.first()
    if row is None:
        raise customer_not_found(customer_id)
    if not may_reach(ctx, permission, owner_id=row["owner_id"], department_id=row["department_id"]):
        require(ctx, permission)
        raise customer_not_found(customer_id)
    return row


async def _append(uow: UnitOfWork, customer_id: UUID, action: str, purposes: list[str], *,
                  notice_version: str | None, channel: str, evidence: str) -> list[ConsentEntry]:
    last = await uow.select(ConsentRecord.seq).where(ConsentRecord.customer_id == customer_id).order_by(
        ConsentRecord.seq, ascending=False).first()
    seq = int(last["seq"]) if last else 0
    at = now()
    rows = []
    for purpose in purposes:
        seq += 1
        rows.append(ConsentRecord(customer_id=customer_id, seq=seq, purpose=purpose, action=action,
                                  notice_version=notice_version, channel=channel, recorded_at=at,
                                  recorded_by=uow.ctx.actor, evidence=evidence))
    await uow.insert(*rows)
    # The evidence note may name people; the ledger (access-controlled) keeps it, the audit log does not.
    await audit(uow, f"consent.{'granted' if action == GRANT else 'withdrawn'}", TARGET, customer_id,
                {"purposes": purposes, "channel": channel, "notice_version": notice_version,
                 "entries": [str(r.id) for r in rows]})
    await outbox.add(uow, f"consent.{'granted' if action == GRANT else 'withdrawn'}", TARGET, customer_id, purposes)
    found = await uow.select(ConsentRecord).where(ConsentRecord.id.is_in([r.id for r in rows])).order_by(
        ConsentRecord.seq)
    return [_entry(row) for row in found]


# --- use cases -------------------------------------------------------------------------------

async def grant_consent(ctx: Context, customer_id: UUID, purposes: Sequence[str], *, notice_version: str,
                        channel: str, evidence: str = "") -> list[ConsentEntry]:
    """Record the customer's consent to ``purposes`` under the privacy notice ``notice_version``.
    Consent to process sensitive data is separate (PIPL art. 29): granted on its own."""
    require(ctx, "privacy.consent.manage")
    chosen = _purposes(purposes)
    if SENSITIVE in chosen and len(chosen) > 1:
        raise KehuError("SEPARATE_CONSENT_REQUIRED", "consent to process sensitive data is given on its own, "
                        "not together with other purposes", "敏感个人信息的处理须单独取得同意，不得与其他用途一并授予",
                        field="purposes")
    version = (notice_version or "").strip()
    if not version or len(version) > 50:
        raise KehuError("NOTICE_VERSION_REQUIRED", "name the version of the privacy notice the customer saw "
                        "(at most 50 characters)", "请填写客户所阅读的隐私告知版本（最多 50 字）", field="noticeVersion")
    channel, evidence = _channel(channel), _evidence(evidence)
    async with unit_of_work(ctx) as uow:
        await reach_customer(uow, customer_id, "privacy.consent.manage", lock=True)
        return await _append(uow, customer_id, GRANT, chosen, notice_version=version, channel=channel,
                             evidence=evidence)


async def withdraw_consent(ctx: Context, customer_id: UUID, purposes: Sequence[str], *, channel: str,
                           evidence: str = "") -> list[ConsentEntry]:
    """Record the customer's withdrawal for ``purposes``: as easy as a grant (PIPL art. 15), by any
    channel, needing no notice version, several purposes at once; every later check refuses."""
    require(ctx, "privacy.consent.manage")
    chosen = _purposes(purposes)
    channel, evidence = _channel(channel), _evidence(evidence)
    async with unit_of_work(ctx) as uow:
        await reach_customer(uow, customer_id, "privacy.consent.manage", lock=True)
        return await _append(uow, customer_id, WITHDRAW, chosen, notice_version=None, channel=channel,
                             evidence=evidence)


async def _latest(uow: UnitOfWork, customer_id: UUID, purposes: Sequence[str]) -> dict[str, ConsentEntry]:
    rows = await uow.select(ConsentRecord).where(
        (ConsentRecord.customer_id == customer_id) & ConsentRecord.purpose.is_in(list(purposes))).order_by(
        ConsentRecord.seq)
    return {row["purpose"]: _entry(row) for row in rows}  # later entries overwrite earlier ones


async def consent_state(ctx: Context, customer_id: UUID) -> list[ConsentStatus]:
    """Every purpose, granted or not, with its latest entry."""
    require(ctx, "privacy.consent.read")
    async with unit_of_work(ctx, write=False) as uow:
        await reach_customer(uow, customer_id, "privacy.consent.read")
        latest = await _latest(uow, customer_id, PURPOSES)
    return [ConsentStatus(purpose=p, granted=p in latest and latest[p].action == GRANT, latest=latest.get(p))
            for p in PURPOSES]


async def consent_history(ctx: Context, customer_id: UUID, purpose: str | None = None) -> list[ConsentEntry]:
    """The customer's ledger, oldest first; one purpose's if given."""
    require(ctx, "privacy.consent.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = await _history_query(uow, customer_id, purpose)
        return [_entry(row) for row in await query.order_by(*_HISTORY_ORDER)]


_HISTORY_ORDER = (ConsentRecord.seq, ConsentRecord.id)  # the ledger's order (seq is gapless per customer)


async def _history_query(uow: UnitOfWork, customer_id: UUID, purpose: str | None) -> Any:
    await reach_customer(uow, customer_id, "privacy.consent.read")
    query = uow.select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
    if purpose is not None:
        query = query.where(ConsentRecord.purpose == _purpose(purpose))
    return query


async def consent_history_page(ctx: Context, customer_id: UUID, window: Window,
                               purpose: str | None = None) -> tuple[list[ConsentEntry], bool]:
    """A window of consent_history (keyset on seq, id, oldest first; the purpose filter in the
    query) and whether more lie beyond it."""
    require(ctx, "privacy.consent.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(await _history_query(uow, customer_id, purpose), _HISTORY_ORDER, window)
    return [_entry(row) for row in rows], more


async def _allowed(uow: UnitOfWork, customer_id: UUID, purpose: str, sensitive: bool) -> bool:
    needed = [_purpose(purpose)] + ([SENSITIVE] if sensitive and purpose != SENSITIVE else [])
    if not await freeze.consent_allowed(uow, customer_id):  # PIPL art. 47: frozen means no processing at all
        return False
    latest = await _latest(uow, customer_id, needed)
    return all(p in latest and latest[p].action == GRANT for p in needed)


async def may_process(uow_or_ctx: UnitOfWork | Context, customer_id: UUID, purpose: str, *,
                      sensitive: bool = False) -> bool:
    """Whether the customer's personal information may be processed for ``purpose`` now: its latest
    consent entry for it is a grant; with ``sensitive``, the separate sensitive-data consent too.
    Never consented, withdrawn, or no such customer in this tenant: False. Pass the caller's unit
    of work to check inside its transaction, or a context (any signed-in caller may ask)."""
    if isinstance(uow_or_ctx, UnitOfWork):
        return await _allowed(uow_or_ctx, customer_id, purpose, sensitive)
    require_signed_in(uow_or_ctx)
    async with unit_of_work(uow_or_ctx, write=False) as uow:
        return await _allowed(uow, customer_id, purpose, sensitive)


async def require_consent(uow_or_ctx: UnitOfWork | Context, customer_id: UUID, purpose: str, *,
                          sensitive: bool = False) -> None:
    """Refuse with CONSENT_REQUIRED unless ``may_process`` allows it."""
    if not await may_process(uow_or_ctx, customer_id, purpose, sensitive=sensitive):
        raise KehuError("CONSENT_REQUIRED", f"the customer has not consented to {purpose}"
                        + (" with sensitive data" if sensitive else ""), f"客户未同意用于 {purpose}"
                        + ("（含敏感个人信息）" if sensitive else ""), field="purpose")


async def check_consent(ctx: Context, customer_id: UUID, purpose: str, *, sensitive: bool = False) -> bool:
    """``may_process`` for a reader of consent (GraphQL): an unknown customer is CUSTOMER_NOT_FOUND."""
    require(ctx, "privacy.consent.read")
    async with unit_of_work(ctx, write=False) as uow:
        await reach_customer(uow, customer_id, "privacy.consent.read")
        return await _allowed(uow, customer_id, purpose, sensitive)
