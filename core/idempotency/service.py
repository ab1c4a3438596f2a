"""Idempotency records: claim a key before a mutation runs, store its response after, replay it.

Each step is its own unit of work, committed at once, so a concurrent duplicate (in this process
or another) sees the claim: on PostgreSQL the unique ``(tenant_id, caller, idempotency_key)``
index makes the second insert wait for the first and then fail; on SQLite writes are serialised.
The mutation itself runs between the claim and the completion in its own units of work; what
stays uncovered is a process that dies after the mutation committed and before its response was
stored: its claim runs out after ``LEASE`` and a retry then runs the mutation again.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from core.context import Context
from core.db import unit_of_work
from core.idempotency import policy
from core.idempotency.tables import IdempotencyRecord
from core.jobs.timers import register_sweep
from core.privacy import crypto

# How long a claim holds its key without completing: far longer than any mutation runs, short
# enough that a key whose process died is usable again the same hour.
LEASE = timedelta(minutes=5)
POLL_SECONDS = 0.05
_BLIND_KIND = "idempotency"
_SEALED_COLUMN = "idempotency_record.response"


@dataclass(frozen=True, slots=True)
class Claim:
    """This request holds the key: it runs the mutation, then completes or releases the claim."""

    record_id: UUID
    owner: UUID


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    headers: dict[str, str]


def now() -> datetime:
    return datetime.now(UTC)


def _caller(ctx: Context) -> str:
    return ctx.actor  # user:<id> or apikey:<id>: two callers of one tenant never share a key


def _is_duplicate(error: BaseException) -> bool:
    return isinstance(error, sqlite3.IntegrityError | asyncpg.exceptions.UniqueViolationError)


async def claim(ctx: Context, key: str, digest: str, *, ttl: timedelta,
                at: datetime | None = None) -> Claim | StoredResponse | None:
    """Claim ``key`` for a request whose canonical body hashes to ``digest``.

    Returns a Claim (run the request), the stored first response (replay it), or None while
    another request holds the key. Raises IDEMPOTENCY_KEY_REUSED when the key was used with
    another body."""
    for _ in range(3):  # a concurrent insert of the same key, then read again
        try:
            return await _claim_once(ctx, key, digest, ttl=ttl, at=at or now())
        except Exception as error:
            if not _is_duplicate(error):
                raise
    return None


async def _claim_once(ctx: Context, key: str, digest: str, *, ttl: timedelta, at: datetime
                      ) -> Claim | StoredResponse | None:
    fingerprints = crypto.blinds(ctx.tenant_id, _BLIND_KIND, digest)  # every data key: rotation-safe
    owner = uuid4()
    async with unit_of_work(ctx) as uow:
        row = await uow.select(IdempotencyRecord).where(
            (IdempotencyRecord.caller == _caller(ctx)) & (IdempotencyRecord.idempotency_key == key)).first()
        if row is not None and row["expires_at"] <= at:  # expired and not swept yet: a new key
            await uow.delete(IdempotencyRecord).where(IdempotencyRecord.id == row["id"])
            row = None
        if row is None:
            record = IdempotencyRecord(id=uuid4(), caller=_caller(ctx), idempotency_key=key,
                                       fingerprint=fingerprints[0], owner=owner, locked_until=at + LEASE,
                                       expires_at=at + ttl)
            await uow.insert(record)
            return Claim(record.id, owner)
        if row["fingerprint"] not in fingerprints:
            raise policy.reused()
        if row["completed_at"] is not None:
            stored = crypto.open_json(ctx.tenant_id, _SEALED_COLUMN, row["response"])
            return StoredResponse(status_code=row["status_code"], body=stored["body"].encode(),
                                  headers=dict(stored["headers"]))
        if row["locked_until"] > at:
            return None
        # The holder's lease ran out (its process died): this request takes the key over.
        taken = await uow.update(IdempotencyRecord, {IdempotencyRecord.owner: owner,
                                                     IdempotencyRecord.locked_until: at + LEASE}).where(
            (IdempotencyRecord.id == row["id"]) & (IdempotencyRecord.owner == row["owner"])
            & IdempotencyRecord.completed_at.is_null()).returning(IdempotencyRecord.id)
        return Claim(row["id"], owner) if taken else None


async def claim_or_wait(ctx: Context, key: str, digest: str, *, ttl: timedelta,
                        wait_seconds: float) -> Claim | StoredResponse:
    """Like ``claim``, but a duplicate of a request still running waits for its response, up to
    ``wait_seconds``; then IDEMPOTENCY_KEY_IN_PROGRESS."""
    deadline = time.monotonic() + wait_seconds
    while True:
        outcome = await claim(ctx, key, digest, ttl=ttl)
        if outcome is not None:
            return outcome
        if time.monotonic() >= deadline:
            raise policy.in_progress()
        await asyncio.sleep(POLL_SECONDS)


async def complete(ctx: Context, held: Claim, response: StoredResponse) -> bool:
    """Store the first response, sealed with the tenant's data key (a response may hold personal
    data). False when the claim was lost meanwhile (taken over after its lease)."""
    sealed = crypto.seal_json(ctx.tenant_id, _SEALED_COLUMN,
                              {"body": response.body.decode("utf-8"), "headers": response.headers})
    async with unit_of_work(ctx) as uow:
        done = await uow.update(IdempotencyRecord, {
            IdempotencyRecord.status_code: response.status_code, IdempotencyRecord.response: sealed,
            IdempotencyRecord.completed_at: now()}).where(
            (IdempotencyRecord.id == held.record_id) & (IdempotencyRecord.owner == held.owner)
            & IdempotencyRecord.completed_at.is_null()).returning(IdempotencyRecord.id)
    return bool(done)


async def release(ctx: Context, held: Claim) -> None:
    """Give the key back: the request did not complete, so a retry runs it again."""
    async with unit_of_work(ctx) as uow:
        await uow.delete(IdempotencyRecord).where(
            (IdempotencyRecord.id == held.record_id) & (IdempotencyRecord.owner == held.owner)
            & IdempotencyRecord.completed_at.is_null())


async def delete_expired(at: datetime) -> int:
    """Sweep: forget keys past their ``expires_at`` (their sealed responses with them)."""
    from core.db.due import tenants_due

    deleted = 0
    for tenant_id in await tenants_due("idempotency_keys", at):  # only tenants with a key expired (core.db.due)
        async with unit_of_work(Context.system("job:idempotency", tenant_id)) as uow:
            gone = await uow.delete(IdempotencyRecord).where(
                IdempotencyRecord.expires_at <= at).returning(IdempotencyRecord.id)
            deleted += len(gone)
    return deleted


register_sweep("idempotency_keys", delete_expired)
