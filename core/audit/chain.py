"""Writing and verifying a tenant's hash chain.

Each entry's hash covers its content and the previous entry's hash. Appending first moves the
tenant's head row (``UPDATE … RETURNING``), whose row lock (PostgreSQL) or the write lock
(SQLite) makes concurrent writers of one tenant queue, so the chain never forks. The entry is
written in the caller's unit of work: a change and its entry commit or roll back together.

Verification also checks the chain against the tenant's signed anchors, kept outside the
database (core/audit/anchors.py), and ``anchor_chain`` writes them.
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

from core.audit.anchors import PREFIX_BYTES, MAX_ENTRIES_PER_ANCHOR, Anchor, AnchorLog, anchoring, entry_prefix
from core.audit.tables import AuditChain, AuditEntry
from core.db.uow import UnitOfWork
from core.errors import KehuError, TenantRequired
from core.metrics import AUDIT_APPEND_SECONDS, timed

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


# PostgreSQL: the head's compare-and-set and the entry's insert in one round trip (the insert
# reads the moved head, so it inserts nothing when the head had moved elsewhere).
_MOVE_AND_INSERT = (
    "WITH moved AS (UPDATE audit_chain SET last_seq = {}::bigint, last_hash = {}, last_at = {}::timestamptz "
    "WHERE tenant_id = {}::uuid AND last_seq = {}::bigint AND last_hash = {} RETURNING tenant_id) "
    "INSERT INTO audit_entry (id, tenant_id, seq, occurred_at, actor, client_address, request_id, action, "
    "target_type, target_id, diff, prev_hash, hash) SELECT {}::uuid, tenant_id, {}::bigint, {}::timestamptz, "
    "{}::text, {}::text, {}::text, {}::text, {}::text, {}::text, {}::text, {}::text, {}::text FROM moved RETURNING seq"
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


def _entry_hash_of(ctx: Any, seq: int, occurred_at: datetime, action: str, target_type: str, target: str | None,
                   diff: str, prev_hash: str) -> str:
    """``entry_hash`` of an entry written in ``ctx`` (its tenant, actor, address and request)."""
    return entry_hash(tenant_id=ctx.tenant_id, seq=seq, occurred_at=occurred_at, actor=ctx.actor,
                      client_address=ctx.client_address, request_id=ctx.request_id, action=action,
                      target_type=target_type, target_id=target, diff=diff, prev_hash=prev_hash)


@dataclass(frozen=True, slots=True)
class NextEntry:
    """The entry that follows the head this process saw last (the fast path): its row of
    ``audit_entry`` (columns in table order) and the head it moves, for a compare-and-set."""

    tenant_id: UUID
    after_seq: int  # the head it expects
    after_hash: str
    row: tuple[Any, ...]

    @property
    def seq(self) -> int:
        return self.row[2]

    @property
    def digest(self) -> str:
        return self.row[-1]

    @property
    def occurred_at(self) -> datetime:
        return self.row[3]


def next_entry(ctx: Any, action: str, target_type: str, target_id: object = None,
               changes: Mapping[str, Any] | None = None) -> NextEntry | None:
    """The entry for ``action`` after this process's last head of ``ctx``'s tenant, hashed; None
    when this process has written none yet. Whoever writes it moves the head only if it is still
    there (compare-and-set) and calls ``landed`` once it is."""
    tenant_id = ctx.tenant_id
    cached = _heads.get(tenant_id)
    if cached is None:
        return None
    occurred_at = datetime.now(UTC)
    diff = diff_text(target_type, changes or {})
    target = None if target_id is None else str(target_id)
    seq, prev_hash = cached[0] + 1, cached[1]
    digest = _entry_hash_of(ctx, seq, occurred_at, action, target_type, target, diff, prev_hash)
    return NextEntry(tenant_id, cached[0], prev_hash,
                     (uuid.uuid4(), tenant_id, seq, occurred_at, ctx.actor, ctx.client_address, ctx.request_id,
                      action, target_type, target, diff, prev_hash, digest))


def landed(entry: NextEntry) -> None:
    """``entry`` is written and its head moved: the next entry of this process follows it."""
    _heads[entry.tenant_id] = (entry.seq, entry.digest)


@timed(AUDIT_APPEND_SECONDS)
async def record(uow: UnitOfWork, action: str, target_type: str, target_id: object = None,
                 changes: Mapping[str, Any] | None = None) -> int:
    """Append one entry for ``action`` on a record to the tenant's chain; returns its position.

    Call it inside the unit of work that makes the change."""
    ctx = uow.ctx
    if ctx.tenant_id is None:
        raise TenantRequired()
    tenant_id = ctx.tenant_id
    # Fast path: the head this process saw last, moved with a compare-and-set in one statement.
    # Slow path (another process wrote, or that transaction rolled back): lock the head, read it,
    # then set the new hash. Either way the head row serialises the tenant's writers.
    entry = next_entry(ctx, action, target_type, target_id, changes)
    if entry is not None:
        row, seq = entry.row, entry.seq
        if uow.database.is_postgres:
            if await uow.fetch(_MOVE_AND_INSERT, seq, entry.digest, entry.occurred_at, tenant_id, entry.after_seq,
                               entry.after_hash, row[0], *row[2:]):
                landed(entry)
                return seq
        elif await uow.fetch("UPDATE audit_chain SET last_seq = {}, last_hash = {}, last_at = {} WHERE tenant_id = {} "
                             "AND last_seq = {} AND last_hash = {} RETURNING last_seq",
                             seq, entry.digest, entry.occurred_at, tenant_id, entry.after_seq, entry.after_hash):
            await uow.fetch(_INSERT_ENTRY, *row)
            landed(entry)
            return seq
    occurred_at = datetime.now(UTC)
    diff = diff_text(target_type, changes or {})
    target = None if target_id is None else str(target_id)
    seq, prev_hash = await _advance_head(uow, tenant_id)
    digest = _entry_hash_of(ctx, seq, occurred_at, action, target_type, target, diff, prev_hash)
    await uow.fetch("UPDATE audit_chain SET last_hash = {}, last_at = {} WHERE tenant_id = {}",
                    digest, occurred_at, tenant_id)
    # Plain SQL on this path: building the insert through the ORM cost more than running it.
    await uow.fetch(_INSERT_ENTRY, uuid.uuid4(), tenant_id, seq, occurred_at, ctx.actor, ctx.client_address,
                    ctx.request_id, action, target_type, target, diff, prev_hash, digest)
    _heads[tenant_id] = (seq, digest)
    return seq


def diff_text(target_type: str, changes: Mapping[str, Any]) -> str:
    """An entry's diff as stored and hashed (``build_diff`` as sorted JSON)."""
    return json.dumps(build_diff(target_type, changes), ensure_ascii=False, sort_keys=True)


@timed(AUDIT_APPEND_SECONDS)
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
    await uow.fetch("UPDATE audit_chain SET last_hash = {}, last_at = {} WHERE tenant_id = {}",
                    prev_hash, occurred_at, tenant_id)
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
    """The result of checking one tenant's chain. ``position`` is the first broken seq (the first
    entry that changed, when anchors tell which); ``anchored`` the last position an anchor covers."""

    tenant_id: UUID
    checked: int
    ok: bool
    position: int | None = None
    # missing | modified | relinked | truncated (the database alone shows it) | rewritten | pruned |
    # unanchored | anchor_invalid (found against the signed anchors; docs/operators.md, Audit log)
    kind: str | None = None
    anchored: int | None = None

    def describe(self) -> str:
        if self.ok:
            return f"tenant {self.tenant_id}: {self.checked} entries, chain intact"
        return f"tenant {self.tenant_id}: broken at position {self.position} ({self.kind}) after {self.checked} good entries"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _recomputed(tenant_id: UUID, entry: Mapping[str, Any]) -> str:
    return entry_hash(tenant_id=tenant_id, seq=entry["seq"], occurred_at=entry["occurred_at"], actor=entry["actor"],
                      client_address=entry["client_address"], request_id=entry["request_id"], action=entry["action"],
                      target_type=entry["target_type"], target_id=entry["target_id"], diff=entry["diff"],
                      prev_hash=entry["prev_hash"])


async def verify_chain(uow: UnitOfWork, *, anchors: AnchorLog | None = None,
                       now: datetime | None = None) -> Verification:
    """Walk the tenant's chain from its base; report the first position that does not hold.

    The walk checks the chain against itself and against the tenant's signed anchors (read from
    the anchor store unless given): every anchored entry must still have the hash its anchor
    recorded, the newest anchored entry must still be there, the base may move only by a signed
    prune, and no entry older than the grace period may be left unanchored."""
    tenant_id = uow.ctx.tenant_id
    if tenant_id is None:
        raise TenantRequired()
    config = anchoring()
    if anchors is None:
        anchors = await config.read(tenant_id)
    cutoff = (now or datetime.now(UTC)) - config.grace
    anchored = anchors.last.seq if anchors.last else None
    if anchors.invalid is not None:  # nothing can be trusted against a forged or damaged anchor store
        return Verification(tenant_id=tenant_id, checked=0, ok=False, position=anchors.invalid.seq,
                            kind="anchor_invalid", anchored=anchored)
    head = await uow.select(AuditChain).first()
    genesis = genesis_hash(tenant_id)
    base_seq = int(head["base_seq"]) if head else 0
    prev = head["base_hash"] if head else genesis
    expected, checked = base_seq + 1, 0

    def broken(position: int, kind: str) -> Verification:
        return Verification(tenant_id=tenant_id, checked=checked, ok=False, position=position, kind=kind,
                            anchored=anchored)

    approved = anchors.approved_bases(genesis)
    if approved.get(base_seq) != prev:
        # The base moved (old entries deleted) without a signed prune: the first entry the
        # approved chain still had is the first one gone.
        return broken(max((b for b in approved if b < base_seq), default=0) + 1, "pruned")
    unanchored_from = anchored if anchored is not None else base_seq
    stale: int | None = None  # the first entry past the anchors that is older than the grace period
    while True:
        batch = await uow.select(AuditEntry).where(AuditEntry.seq >= expected).order_by(AuditEntry.seq).limit(
            VERIFY_BATCH)
        for entry in batch:
            if entry["seq"] != expected:
                return broken(expected, "missing")
            if _recomputed(tenant_id, entry) != entry["hash"]:
                return broken(expected, "modified")
            if entry["prev_hash"] != prev:
                return broken(expected, "relinked")
            recorded = anchors.prefix(expected)
            if recorded is not None and recorded != entry_prefix(entry["hash"]):
                # Consistent with its neighbours but not with its anchor: edited and re-hashed, or
                # an earlier entry deleted and the rest renumbered. This is the first changed one.
                return broken(expected, "rewritten")
            if stale is None and expected > unanchored_from and _aware(entry["occurred_at"]) < cutoff:
                stale = expected
            prev, expected, checked = entry["hash"], expected + 1, checked + 1
        if len(batch) < VERIFY_BATCH:
            break
    last = expected - 1
    if head and int(head["last_seq"]) > last:
        return broken(last + 1, "truncated")
    if anchored is not None and anchored > last:  # the tail was rewound below an anchor
        return broken(last + 1, "truncated")
    if stale is not None:  # anchors deleted, or anchoring not running
        return broken(stale, "unanchored")
    return Verification(tenant_id=tenant_id, checked=checked, ok=True, anchored=anchored)


class _Segment:
    """Entries read for a new anchor: their hash prefixes and full hashes, by position."""

    def __init__(self, start_seq: int, start_hash: str) -> None:
        self.start_seq, self.start_hash = start_seq, start_hash
        self.prefixes = bytearray()
        self.hashes: list[str] = []
        self.oldest: datetime | None = None


async def _read_segment(ctx: Any, tenant_id: UUID, start_seq: int, start_hash: str, until: int) -> _Segment:
    """Entries after ``start_seq`` up to ``until``, checked to continue ``start_hash``."""
    from core.db import unit_of_work

    segment = _Segment(start_seq, start_hash)
    prev, expected = start_hash, start_seq + 1

    def refuse(position: int) -> KehuError:
        return KehuError("AUDIT_CHAIN_BROKEN", f"the audit chain does not hold at position {position}; nothing "
                         "was anchored (run `kehu audit verify`)",
                         f"审计链在位置 {position} 处不完整；未生成锚点（请运行 `kehu audit verify`）")

    while expected <= until:
        async with unit_of_work(ctx, write=False) as uow:
            batch = await uow.select(AuditEntry).where((AuditEntry.seq >= expected) & (AuditEntry.seq <= until)
                                                       ).order_by(AuditEntry.seq).limit(VERIFY_BATCH)
        if not batch:
            raise refuse(expected)
        for entry in batch:
            if (entry["seq"] != expected or _recomputed(tenant_id, entry) != entry["hash"]
                    or entry["prev_hash"] != prev):
                raise refuse(expected)
            if segment.oldest is None:
                segment.oldest = _aware(entry["occurred_at"])
            segment.prefixes += entry_prefix(entry["hash"])
            segment.hashes.append(entry["hash"])
            prev, expected = entry["hash"], expected + 1
    return segment


async def anchor_chain(ctx: Any, *, now: datetime | None = None, adopt: bool = False) -> int | None:
    """Sign the tenant's chain up to its head into the anchor store; the newest anchored position,
    or ``None`` when there was nothing new (or another process anchored it meanwhile).

    The new entries must continue the last anchor exactly; a store with no anchors for a chain
    whose entries are already older than the grace period is refused unless ``adopt`` (the store
    was lost, or anchoring starts on an existing deployment: an operator decides)."""
    from core.db import unit_of_work

    tenant_id = ctx.tenant_id
    if tenant_id is None:
        raise TenantRequired()
    now = now or datetime.now(UTC)
    config = anchoring()
    log = await config.read(tenant_id)
    if log.invalid is not None:
        raise KehuError("AUDIT_ANCHORS_INVALID", f"the tenant's anchor store does not verify ({log.invalid.reason})",
                        f"租户的审计锚点无法验证（{log.invalid.reason}）")
    async with unit_of_work(ctx, write=False) as uow:
        head = await uow.select(AuditChain).first()
    if head is None:
        return None
    last = log.last
    start_seq, start_hash = (last.seq, last.hash) if last else (int(head["base_seq"]), head["base_hash"])
    until = int(head["last_seq"])
    if until <= start_seq:
        if until < start_seq:
            raise KehuError("AUDIT_CHAIN_BROKEN", "the audit chain is shorter than its last anchor (run `kehu audit "
                            "verify`)", "审计链短于其最后的锚点（请运行 `kehu audit verify`）")
        return None
    segment = await _read_segment(ctx, tenant_id, start_seq, start_hash, until)
    if last is None and not adopt and segment.oldest is not None and segment.oldest < now - config.grace:
        raise KehuError("AUDIT_ANCHORS_MISSING", "the chain has entries older than the grace period and no anchors; "
                        "if the anchor store was not lost, start anchoring with `kehu audit anchor --adopt`",
                        "审计链中有超过宽限期的条目却没有锚点；若锚点存储未丢失，请用 `kehu audit anchor --adopt` 开始")
    version = log.version
    prev_seq, prev_hash = start_seq, start_hash
    base_seq = int(head["base_seq"])
    while prev_seq < until:
        seq = min(until, prev_seq + MAX_ENTRIES_PER_ANCHOR)
        offset = prev_seq - start_seq
        digest = segment.hashes[seq - start_seq - 1]
        anchor = Anchor(kind="anchor", tenant_id=tenant_id, seq=seq, hash=digest, prev_seq=prev_seq,
                        prev_hash=prev_hash, count=seq - base_seq, at=now,
                        entries=bytes(segment.prefixes[offset * PREFIX_BYTES:(seq - start_seq) * PREFIX_BYTES]))
        version = await config.append(anchor, version)
        if version is None:  # another process anchored first; its anchor covers these entries
            return None
        prev_seq, prev_hash = seq, digest
    return until


async def record_prune(ctx: Any, *, base_seq: int, base_hash: str, prev_seq: int, prev_hash: str) -> None:
    """Sign the chain's new base into the anchor store, before the entries under it are deleted."""
    tenant_id = ctx.tenant_id
    config = anchoring()
    record_ = Anchor(kind="prune", tenant_id=tenant_id, seq=base_seq, hash=base_hash, prev_seq=prev_seq,
                     prev_hash=prev_hash, count=0, at=datetime.now(UTC))
    for _ in range(5):  # prunes need no place in the anchor sequence: retry on a concurrent append
        log = await config.read(tenant_id)
        if await config.append(record_, log.version) is not None:
            return
    raise KehuError("AUDIT_ANCHORS_BUSY", "the anchor store kept changing; try again", "审计锚点存储繁忙，请重试")
