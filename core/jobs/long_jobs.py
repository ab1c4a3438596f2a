"""Long jobs: operations too long for a request (exports, imports), run by workers, with progress.

- ``submit`` adds a job inside the caller's unit of work: a change that rolls back starts nothing.
- Workers (``run_job_loop``: in-process when embedded, in ``kehu worker`` in production) claim
  due jobs with a conditional update and hold a lease they renew while the job runs. A worker that
  dies leaves its lease to run out; the job is then claimed again and starts over, its partial
  output discarded, so nothing is lost and nothing is written twice.
- A job reports progress (done / total and a message) in short transactions; people watch it over
  GraphQL and may cancel it. Its output (an export file) is stored in ordered chunks in the
  database, so every API node can serve it, and is deleted when it expires.
- A coded error (``KehuError``) fails the job at once with that code; any other error is retried
  with backoff up to ``KEHU_JOB_MAX_ATTEMPTS``, then fails with ``JOB_FAILED``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import structlog

from core.audit.chain import record
from core.context import Context
from core.db import unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.jobs import outbox
from core.jobs.tables import JobOutputChunk, LongJob
from core.jobs.timers import register_sweep

log = structlog.get_logger("kehu.jobs")

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
LEASE = timedelta(seconds=60)  # KEHU_JOB_LEASE_SECONDS: a running job not heard from for this long is claimed again
HEARTBEAT_SECONDS = 15.0  # a quarter of the lease: three renewals may be late before it runs out
CHUNK_CHARS = 256 * 1024
OUTPUT_DAYS = 7  # KEHU_JOB_OUTPUT_DAYS


def now() -> datetime:
    return datetime.now(UTC)


class JobCancelled(Exception):
    """Raised inside a running job when someone asked to cancel it."""


class FailedWithOutput(Exception):
    """Raised by a job that failed but whose output says why (an import's per-row report): the job
    ends failed with this error and result, and its output stays downloadable."""

    def __init__(self, error: KehuError, result: Mapping[str, Any] | None = None) -> None:
        super().__init__(error.code)
        self.error, self.result = error, result


class RunningJob:
    """What a job's code gets: its parameters, a context for its tenant, progress and output."""

    def __init__(self, row: Mapping[str, Any], tenant_id: UUID) -> None:
        self.id: UUID = row["id"]
        self.tenant_id = tenant_id
        self.kind: str = row["kind"]
        self.params: dict[str, Any] = json.loads(row["params"])
        self.requested_by: str = row["requested_by"]
        self.attempt: int = int(row["attempts"])
        self.ctx = Context.system(f"job:{self.kind}", tenant_id)
        self._buffer: list[str] = []
        self._buffered = 0
        self._chunks = 0
        self.output_bytes = 0
        self.output_name: str | None = None
        self.output_media_type: str | None = None
        self.output_encoding: str | None = None  # base64 once the job writes bytes
        self._bytes = bytearray()

    async def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress (and renew the lease); raises ``JobCancelled`` if cancelling was asked."""
        async with unit_of_work(self.ctx) as uow:
            values: dict[Any, Any] = {LongJob.progress_done: done, LongJob.lease_until: now() + LEASE}
            if total is not None:
                values[LongJob.progress_total] = total
            if message is not None:
                values[LongJob.message] = message[:500]
            rows = await uow.update(LongJob, values).where(
                (LongJob.id == self.id) & (LongJob.status == RUNNING)).returning(LongJob.cancel_requested_at)
        if not rows or rows[0]["cancel_requested_at"] is not None:
            raise JobCancelled()

    def output(self, name: str, media_type: str) -> None:
        """Name the output file (shown to downloaders) before writing to it."""
        self.output_name, self.output_media_type = name, media_type

    async def write(self, text: str) -> None:
        """Append to the output; stored in chunks as it grows."""
        self._buffer.append(text)
        self._buffered += len(text)
        self.output_bytes += len(text.encode())
        if self._buffered >= CHUNK_CHARS:
            await self._flush()

    async def write_bytes(self, data: bytes) -> None:
        """Append binary output (an XLSX file); stored as base64 chunks, downloaded as the bytes
        written. A job writes either text or bytes."""
        self.output_encoding = "base64"
        self._bytes += data
        self.output_bytes += len(data)
        if len(self._bytes) >= CHUNK_CHARS // 4 * 3:
            await self._flush()

    async def _flush(self) -> None:
        if self._bytes:  # each chunk is a whole base64 text of its own bytes
            self._buffer, self._buffered = [base64.b64encode(bytes(self._bytes)).decode()], 0
            self._bytes.clear()
        if not self._buffer:
            return
        data, self._buffer, self._buffered = "".join(self._buffer), [], 0
        async with unit_of_work(self.ctx) as uow:
            await uow.insert(JobOutputChunk(job_id=self.id, seq=self._chunks, data=data))
        self._chunks += 1


Runner = Callable[[RunningJob], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    run: Runner
    read_permission: str  # besides its requester, who may see a job of this kind and its output


_kinds: dict[str, JobKind] = {}


def job_kind(name: str, *, read_permission: str) -> Callable[[Runner], Runner]:
    """Register the code that runs jobs of kind ``name`` (e.g. ``audit.export``)."""

    def register(run: Runner) -> Runner:
        _kinds[name] = JobKind(name=name, run=run, read_permission=read_permission)
        return run

    return register


def job_kinds() -> Mapping[str, JobKind]:
    """The registered kinds by name (who may read each: its ``read_permission``)."""
    return _kinds


def unregister_kind(name: str) -> None:
    _kinds.pop(name, None)


def configure_long_jobs(settings: Any) -> None:
    global OUTPUT_DAYS, LEASE, HEARTBEAT_SECONDS
    OUTPUT_DAYS = settings.job_output_days
    LEASE = timedelta(seconds=settings.job_lease_seconds)
    HEARTBEAT_SECONDS = settings.job_lease_seconds / 4


@dataclass(frozen=True, slots=True)
class JobView:
    id: UUID
    kind: str
    status: str
    requested_by: str
    progress_done: int
    progress_total: int | None
    message: str | None
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    output_name: str | None
    output_media_type: str | None
    output_bytes: int
    output_expires_at: datetime | None
    output_available: bool

    @property
    def percent(self) -> float | None:
        if self.status == SUCCEEDED:
            return 100.0
        if not self.progress_total:
            return None
        return round(min(100.0, 100.0 * self.progress_done / self.progress_total), 1)


def job_view(row: Mapping[str, Any]) -> JobView:
    return JobView(
        id=row["id"], kind=row["kind"], status=row["status"], requested_by=row["requested_by"],
        progress_done=int(row["progress_done"]), progress_total=row["progress_total"], message=row["message"],
        result=json.loads(row["result"]) if row["result"] else None, error_code=row["error_code"],
        error_message=row["error_message"], attempts=int(row["attempts"]), created_at=row["created_at"],
        started_at=row["started_at"], finished_at=row["finished_at"], output_name=row["output_name"],
        output_media_type=row["output_media_type"], output_bytes=int(row["output_bytes"]),
        output_expires_at=row["output_expires_at"],
        output_available=row["status"] in (SUCCEEDED, FAILED) and row["output_name"] is not None
        and row["output_deleted_at"] is None)  # only a FailedWithOutput job keeps a name when failing


async def submit(uow: UnitOfWork, kind: str, params: Mapping[str, Any]) -> UUID:
    """Queue a job of ``kind``; call inside the unit of work of the request that asks for it,
    after checking the caller may."""
    if kind not in _kinds:
        raise KehuError("JOB_KIND_UNKNOWN", f"no job kind {kind!r}", f"未知任务类型 {kind!r}")
    job_id = uuid4()
    await uow.insert(LongJob(id=job_id, kind=kind, params=json.dumps(dict(params), sort_keys=True),
                             status=QUEUED, requested_by=uow.ctx.actor, available_at=now()))
    await record(uow, "job.submitted", "job", job_id, {"kind": kind})
    await outbox.add(uow, "job.queued", "job", job_id)
    return job_id


# --- workers -------------------------------------------------------------------------------------

_CLAIM = (
    "UPDATE long_job SET status = 'running', attempts = attempts + 1, lease_until = {}, "
    "started_at = coalesce(started_at, {}), progress_done = 0, message = NULL "
    "WHERE tenant_id = {} AND id = {} AND ((status = 'queued' AND available_at <= {}) "
    "OR (status = 'running' AND lease_until < {})) "
    "RETURNING id, kind, params, requested_by, attempts"
)


async def run_job(tenant_id: UUID, job_id: UUID) -> bool:
    """Claim and run one job; False if another worker has it or it is not due."""
    ctx = Context.system("job:worker", tenant_id)
    at = now()
    async with unit_of_work(ctx) as uow:
        claimed = await uow.fetch(_CLAIM, at + LEASE, at, tenant_id, job_id, at, at)
        if claimed:  # a run that died before finishing left partial output: start clean
            await uow.delete(JobOutputChunk).where(JobOutputChunk.job_id == job_id)
    if not claimed:
        return False
    job = RunningJob(claimed[0], tenant_id)
    kind = _kinds.get(job.kind)
    if job.attempt > outbox.MAX_ATTEMPTS:
        await _finish(job, FAILED, error=KehuError("JOB_ABANDONED", "the job's worker stopped too many times",
                                                   "任务执行进程多次中断"))
        return True
    if kind is None:
        await _finish(job, FAILED, error=KehuError("JOB_KIND_UNKNOWN", f"no job kind {job.kind!r} in this worker",
                                                   f"此进程没有任务类型 {job.kind!r}"))
        return True
    heartbeat = asyncio.create_task(_heartbeat(job))
    try:
        result = await kind.run(job)
        await job._flush()
    except JobCancelled:
        await _finish(job, CANCELLED)
    except FailedWithOutput as failed:
        await job._flush()
        await _finish(job, FAILED, result=failed.result, error=failed.error, keep_output=True)
    except KehuError as error:
        await _finish(job, FAILED, error=error)
    except Exception as exc:  # noqa: BLE001 - transient until proven otherwise: retry with backoff
        log.warning("jobs.long_job_failed", job_id=str(job.id), kind=job.kind, attempt=job.attempt, error=repr(exc))
        if job.attempt >= outbox.MAX_ATTEMPTS:
            await _finish(job, FAILED, error=KehuError("JOB_FAILED", f"the job failed {job.attempt} times: {exc!r}"[:500],
                                                       "任务多次失败"))
        else:
            await _retry_later(job, exc)
    else:
        await _finish(job, SUCCEEDED, result=result)
    finally:
        heartbeat.cancel()
    return True


async def _heartbeat(job: RunningJob) -> None:
    """Keep the lease while the job works between progress reports."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        async with unit_of_work(job.ctx) as uow:
            await uow.update(LongJob, {LongJob.lease_until: now() + LEASE}).where(
                (LongJob.id == job.id) & (LongJob.status == RUNNING))


async def _finish(job: RunningJob, status: str, *, result: Mapping[str, Any] | None = None,
                  error: KehuError | None = None, keep_output: bool = False) -> None:
    at = now()
    keep_output = keep_output or status == SUCCEEDED
    values: dict[Any, Any] = {LongJob.status: status, LongJob.finished_at: at, LongJob.lease_until: None}
    if keep_output:
        values.update({LongJob.result: json.dumps(dict(result or {}), sort_keys=True, default=str),
                       LongJob.output_bytes: job.output_bytes, LongJob.output_name: job.output_name,
                       LongJob.output_media_type: job.output_media_type, LongJob.output_encoding: job.output_encoding,
                       LongJob.output_expires_at: at + timedelta(days=OUTPUT_DAYS) if job.output_name else None})
    if error is not None:
        values.update({LongJob.error_code: error.code, LongJob.error_message: error.message_en})
    async with unit_of_work(job.ctx) as uow:
        if not keep_output:  # a failed or cancelled job leaves no partial file behind
            await uow.delete(JobOutputChunk).where(JobOutputChunk.job_id == job.id)
        await uow.update(LongJob, values).where(LongJob.id == job.id)
        await outbox.add(uow, f"job.{status}", "job", job.id)


async def _retry_later(job: RunningJob, error: Exception) -> None:
    async with unit_of_work(job.ctx) as uow:
        await uow.delete(JobOutputChunk).where(JobOutputChunk.job_id == job.id)
        await uow.update(LongJob, {LongJob.status: QUEUED, LongJob.lease_until: None,
                                   LongJob.available_at: now() + outbox.backoff(job.attempt),
                                   LongJob.error_message: repr(error)[:2000]}).where(LongJob.id == job.id)


async def due_jobs(limit: int) -> list[tuple[UUID, UUID]]:
    """(tenant, job) pairs ready to run, oldest first within a tenant."""
    at = now()
    due: list[tuple[UUID, UUID]] = []
    for tenant_id in await tenants_due("long_jobs", at):  # one probe; nothing more when no job is due
        async with unit_of_work(Context.system("job:worker", tenant_id), write=False) as uow:
            rows = await uow.select(LongJob.id).where(
                ((LongJob.status == QUEUED) & (LongJob.available_at <= at))
                | ((LongJob.status == RUNNING) & (LongJob.lease_until < at))
            ).order_by(LongJob.created_at).limit(limit - len(due))
        due.extend((tenant_id, r["id"]) for r in rows)
        if len(due) >= limit:
            break
    return due


async def run_job_loop(stop: asyncio.Event, *, concurrency: int = 2, interval_seconds: float = 1.0) -> None:
    """Run due jobs, at most ``concurrency`` at once, until ``stop`` is set (then let them finish
    their current step: a job cut off here is claimed again after its lease)."""
    running: dict[UUID, asyncio.Task[bool]] = {}
    while not stop.is_set():
        for job_id in [j for j, task in running.items() if task.done()]:
            running.pop(job_id)
        if len(running) < concurrency:
            try:
                for tenant_id, job_id in await due_jobs(concurrency - len(running)):
                    if job_id not in running:
                        running[job_id] = asyncio.create_task(run_job(tenant_id, job_id), name=f"kehu-job-{job_id}")
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; the rows keep the work
                log.error("jobs.long_job_loop_failed", error=repr(exc), exc_info=exc)
        try:
            await asyncio.wait_for(stop.wait(), interval_seconds)
        except TimeoutError:
            pass
    for task in running.values():
        task.cancel()
    await asyncio.gather(*running.values(), return_exceptions=True)


async def delete_expired_output(at: datetime) -> int:
    """Sweep: delete the output of jobs whose download period has ended."""
    deleted = 0
    for tenant_id in await tenants_due("job_outputs", at):
        async with unit_of_work(Context.system("job:output-expiry", tenant_id)) as uow:
            expired = [r["id"] for r in await uow.select(LongJob.id).where(
                LongJob.output_expires_at.is_not_null() & (LongJob.output_expires_at <= at)
                & LongJob.output_deleted_at.is_null())]
            if expired:
                await uow.delete(JobOutputChunk).where(JobOutputChunk.job_id.is_in(expired))
                await uow.update(LongJob, {LongJob.output_deleted_at: at}).where(LongJob.id.is_in(expired))
        deleted += len(expired)
    return deleted


register_sweep("job_outputs", delete_expired_output)
