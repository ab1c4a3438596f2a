"""Writing and verifying a tenant's hash chain.

Each entry's hash covers its content and the previous entry's hash. Appending first moves the
tenant's head row (``UPDATE … RETURNING``), whose row lock (PostgreSQL) or the write lock
(SQLite) makes concurrent writers of one tenant queue, so the chain never forks. The entry is
written in the caller's unit of work: a change and its entry commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from core.audit.tables import AuditAnchor, AuditChain, AuditEntry
from core.db.uow import UnitOfWork
from core.errors import TenantRequired

# Fields never written in clear, whatever record type they belong to.
ALWAYS_SECRET = frozenset({"password", "password_hash", "secret", "token_hash", "refresh_token", "access_token"})
_sensitive_fields: dict[str, frozenset[str]] = {}
# Per record type, a test on field names (extension fields are named at run time, so no list holds them).
_classifiers: dict[str, Callable[[str], bool]] = {}
VERIFY_BATCH = 1000
# The last head this process wrote per tenant: a hint for the fast path, checked by the database.
_heads: dict[UUID, tuple[int, str]] = {}


def declare_sensitive(target_type: str, *fields: str) -> None:
    """Declare fields of a record type whose values the audit log records only as "changed"."""
    _sensitive_fields[target_type] = _sensitive_fields.get(target_type, frozenset()) | frozenset(fields)


def declare_classifier(target_type: str, is_sensitive: Callable[[str], bool]) -> None:
    """Declare a test telling which fields of a record type the audit log records only as "changed"."""
    _classifiers[target_type] = is_sensitive


def sensitive_fields(target_type: str) -> frozenset[str]:
    return _sensitive_fields.get(target_type, frozenset()) | ALWAYS_SECRET


def genesis_hash(tenant_id: UUID) -> str:
    """The hash before a tenant's first entry; binding it to the tenant keeps entries from being
    moved between chains."""
    return hashlib.sha256(f"kehu-audit-genesis:{tenant_id}".encode()).hexdigest()


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _JSON_SCALARS:  # most values of a diff; checked first because diffs are built per row of an import
        return value
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value)]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def build_diff(target_type: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` maps a field to its new value or to ``(old, new)``; sensitive fields keep only
    the fact that they changed, so erasing a person never requires editing the log."""
    secret = sensitive_fields(target_type)
    classify = _classifiers.get(target_type)
    diff: dict[str, Any] = {}
    for field, change in sorted(changes.items()):
        if field in secret or (classify is not None and classify(field)):
            diff[field] = {"changed": True}
        elif isinstance(change, tuple) and len(change) == 2:
            diff[field] = {"from": _plain(change[0]), "to": _plain(change[1])}
        else:
            diff[field] = {"to": _plain(change)}
    return diff


_INSERT_ENTRY = (
    "INSERT INTO audit_entry (id, tenant_id, seq, occurred_at, actor, client_address, request_id, action, "
    "target_type, target_id, diff, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
)


_ENTRY_COLUMNS = ("id", "tenant_id", "seq", "occurred_at", "actor", "client_address", "request_id", "action",
                  "target_type", "target_id", "diff", "prev_hash", "hash")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(*, tenant_id: UUID, seq: int, occurred_at: datetime, actor: str, client_address: str | None,
               request_id: str | None, action: str, target_type: str, target_id: str | None, diff: str,
               prev_hash: str) -> str:
    content = [str(tenant_id), seq, _timestamp(occurred_at), actor, client_address, request_id, action, target_type,
               target_id, diff, prev_hash]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


async def record(uow: UnitOfWork, action: str, target_type: str, target_id: object = None,
                 changes: Mapping[str, Any] | None = None) -> int:
    """Append one entry for ``action`` on a record to the tenant's chain; returns its position.

    Call it inside the unit of work that makes the change."""
    ctx = uow.ctx
    if ctx.tenant_id is None:
        raise TenantRequired()
    tenant_id = ctx.tenant_id
    occurred_at = datetime.now(UTC)
    diff = diff_text(target_type, changes or {})
    target = None if target_id is None else str(target_id)

    def digest_after(seq: int, prev_hash: str) -> str:
        return entry_hash(tenant_id=tenant_id, seq=seq, occurred_at=occurred_at, actor=ctx.actor,
                          client_address=ctx.client_address, request_id=ctx.request_id, action=action,
                          target_type=target_type, target_id=target, diff=diff, prev_hash=prev_hash)

    # Fast path: the head this process saw last, moved with a compare-and-set in one statement.
    # Slow path (another process wrote, or that transaction rolled back): lock the head, read it,
    # then set the new hash. Either way the head row serialises the tenant's writers.
    cached = _heads.get(tenant_id)
    moved = []
    if cached is not None:
        seq, prev_hash = cached[0] + 1, cached[1]
        digest = digest_after(seq, prev_hash)
        moved = await uow.fetch("UPDATE audit_chain SET last_seq = {}, last_hash = {} WHERE tenant_id = {} "
                                "AND last_seq = {} AND last_hash = {} RETURNING last_seq",
                                seq, digest, tenant_id, cached[0], prev_hash)
    if not moved:
        seq, prev_hash = await _advance_head(uow, tenant_id)
        digest = digest_after(seq, prev_hash)
        await uow.fetch("UPDATE audit_chain SET last_hash = {} WHERE tenant_id = {}", digest, tenant_id)
    # Plain SQL on this path: building the insert through the ORM cost more than running it.
    await uow.fetch(_INSERT_ENTRY, uuid.uuid4(), tenant_id, seq, occurred_at, ctx.actor, ctx.client_address,
                    ctx.request_id, action, target_type, target, diff, prev_hash, digest)
    _heads[tenant_id] = (seq, digest)
    return seq


def diff_text(target_type: str, changes: Mapping[str, Any]) -> str:
    """An entry's diff as stored and hashed (``build_diff`` as sorted JSON)."""
    return json.dumps(build_diff(target_type, changes), ensure_ascii=False, sort_keys=True)


async def record_many(uow: UnitOfWork, action: str, target_type: str,
                      items: Sequence[tuple[object, Mapping[str, Any] | str]]) -> int:
    """Append one entry per ``(target_id, changes)`` in order, for bulk work (imports): the head
    moves once and the entries go in with one bulk insert. Same chain, same hashes as ``record``
    one at a time; returns the last position. ``changes`` may come as ``diff_text`` already, so
    bulk work can build it before its transaction opens."""
    ctx = uow.ctx
    if ctx.tenant_id is None:
        raise TenantRequired()
    if not items:
        return 0
    tenant_id = ctx.tenant_id
    last, prev_hash = await _advance_head(uow, tenant_id, by=len(items))
    seq = last - len(items)
    occurred_at = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    for target_id, changes in items:
        seq += 1
        diff = changes if isinstance(changes, str) else diff_text(target_type, changes)
        target = None if target_id is None else str(target_id)
        digest = entry_hash(tenant_id=tenant_id, seq=seq, occurred_at=occurred_at, actor=ctx.actor,
                            client_address=ctx.client_address, request_id=ctx.request_id, action=action,
                            target_type=target_type, target_id=target, diff=diff, prev_hash=prev_hash)
        rows.append((uuid.uuid4(), tenant_id, seq, occurred_at, ctx.actor, ctx.client_address, ctx.request_id,
                     action, target_type, target, diff, prev_hash, digest))
        prev_hash = digest
    await uow.fetch("UPDATE audit_chain SET last_hash = {} WHERE tenant_id = {}", prev_hash, tenant_id)
    await uow.insert_many("audit_entry", _ENTRY_COLUMNS, rows)
    _heads[tenant_id] = (last, prev_hash)
    return last


async def _advance_head(uow: UnitOfWork, tenant_id: UUID, *, by: int = 1) -> tuple[int, str]:
    """Take the next ``by`` positions under the head row's lock; returns the last with the
    previous hash."""
    advance = "UPDATE audit_chain SET last_seq = last_seq + {} WHERE tenant_id = {} RETURNING last_seq, last_hash"
    heads = await uow.fetch(advance, by, tenant_id)
    if not heads:  # the tenant's first entry: start its chain (a racing first writer is harmless)
        genesis = genesis_hash(tenant_id)
        await uow.fetch("INSERT INTO audit_chain (id, tenant_id, last_seq, last_hash, base_seq, base_hash) "
                        "VALUES ({}, {}, 0, {}, 0, {}) ON CONFLICT (tenant_id) DO NOTHING",
                        uuid.uuid4(), tenant_id, genesis, genesis)
        heads = await uow.fetch(advance, by, tenant_id)
    return int(heads[0]["last_seq"]), heads[0]["last_hash"]


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of checking one tenant's chain. ``position`` is the first broken seq."""

    tenant_id: UUID
    checked: int
    ok: bool
    position: int | None = None
    kind: str | None = None  # missing | modified | relinked | truncated

    def describe(self) -> str:
        if self.ok:
            return f"tenant {self.tenant_id}: {self.checked} entries, chain intact"
        return f"tenant {self.tenant_id}: broken at position {self.position} ({self.kind}) after {self.checked} good entries"


async def verify_chain(uow: UnitOfWork) -> Verification:
    """Walk the tenant's chain from its base; report the first position that does not hold."""
    tenant_id = uow.ctx.tenant_id
    if tenant_id is None:
        raise TenantRequired()
    head = await uow.select(AuditChain).first()
    base_seq = int(head["base_seq"]) if head else 0
    prev = head["base_hash"] if head else genesis_hash(tenant_id)
    expected, checked = base_seq + 1, 0

    def broken(position: int, kind: str) -> Verification:
        return Verification(tenant_id=tenant_id, checked=checked, ok=False, position=position, kind=kind)

    while True:
        batch = await uow.select(AuditEntry).where(AuditEntry.seq >= expected).order_by(AuditEntry.seq).limit(
            VERIFY_BATCH)
        for entry in batch:
            if entry["seq"] != expected:
                return broken(expected, "missing")
            recomputed = entry_hash(
                tenant_id=tenant_id, seq=entry["seq"], occurred_at=entry["occurred_at"], actor=entry["actor"],
                client_address=entry["client_address"], request_id=entry["request_id"], action=entry["action"],
                target_type=entry["target_type"], target_id=entry["target_id"], diff=entry["diff"],
                prev_hash=entry["prev_hash"])
            if recomputed != entry["hash"]:
                return broken(expected, "modified")
            if entry["prev_hash"] != prev:
                return broken(expected, "relinked")
            prev, expected, checked = entry["hash"], expected + 1, checked + 1
        if len(batch) < VERIFY_BATCH:
            break
    last = expected - 1
    if head and int(head["last_seq"]) > last:
        return broken(last + 1, "truncated")
    anchor = await uow.select(AuditAnchor).order_by(AuditAnchor.seq, ascending=False).first()
    if anchor and int(anchor["seq"]) > last:
        return broken(last + 1, "truncated")
    if anchor and int(anchor["seq"]) > base_seq:
        at_anchor = await uow.select(AuditEntry.hash).where(AuditEntry.seq == anchor["seq"]).first()
        if at_anchor is None or at_anchor["hash"] != anchor["hash"]:
            return broken(int(anchor["seq"]), "modified")
    return Verification(tenant_id=tenant_id, checked=checked, ok=True)
