"""Long jobs as a caller sees them: its own and those of kinds it may read, cancelling, downloading
the output. The permission checks live here, above the job plumbing (``core.jobs.long_jobs``)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core.audit.chain import record
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.filters import one_of
from core.identity.access import require_signed_in
from core.jobs import outbox
from core.jobs.long_jobs import (CANCELLED, FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED, JobView, job_view,
                                 job_kinds, now)
from core.jobs.tables import JobOutputChunk, LongJob


def _may_see(ctx: Context, row: Mapping[str, Any]) -> bool:
    if ctx.is_system or row["requested_by"] == ctx.actor:
        return True
    kind = job_kinds().get(row["kind"])
    return kind is not None and ctx.principal is not None and kind.read_permission in ctx.principal.permissions


async def _visible_row(uow: UnitOfWork, job_id: UUID) -> dict[str, Any]:
    row = await uow.select(LongJob).where(LongJob.id == job_id).first()
    if row is None or not _may_see(uow.ctx, row):
        raise NotFound("job", job_id)  # someone else's job is not revealed
    return row


async def get_job(ctx: Context, job_id: UUID) -> JobView:
    """A job the caller asked for, or one of a kind it may read."""
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return job_view(await _visible_row(uow, job_id))


async def list_jobs(ctx: Context, *, kind: str | None = None, status: str | None = None,
                    first: int = 50) -> list[JobView]:
    """Newest first: the caller's own jobs and those of kinds it may read."""
    return (await jobs_page(ctx, Window(first), kind=kind, status=status))[0]


async def jobs_page(ctx: Context, window: Window, *, kind: str | None = None,
                    status: str | None = None) -> tuple[list[JobView], bool]:
    """A window of list_jobs (keyset on created_at, id, newest first) and whether more lie beyond it."""
    require_signed_in(ctx)
    one_of(kind, job_kinds(), "kind")  # unknown values are refused, not answered with an empty list
    one_of(status, (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED), "status")
    readable = [k.name for k in job_kinds().values()
                if ctx.is_system or (ctx.principal is not None and k.read_permission in ctx.principal.permissions)]
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(LongJob)
        if not ctx.is_system:
            visible = LongJob.requested_by == ctx.actor
            query = query.where(visible | LongJob.kind.is_in(readable) if readable else visible)
        if kind is not None:
            query = query.where(LongJob.kind == kind)
        if status is not None:
            query = query.where(LongJob.status == status)
        rows, more = await keyset.fetch(query, [LongJob.created_at, LongJob.id], window, descending=True)
    return [job_view(r) for r in rows], more


async def cancel_job(ctx: Context, job_id: UUID) -> JobView:
    """Stop a job: a queued one at once, a running one at its next progress report."""
    require_signed_in(ctx)
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _visible_row(uow, job_id)
        if row["status"] in FINISHED:
            raise KehuError("JOB_FINISHED", f"the job has already {row['status']}", "任务已结束", field="id")
        if row["status"] == QUEUED:
            await uow.update(LongJob, {LongJob.status: CANCELLED, LongJob.cancel_requested_at: at,
                                       LongJob.finished_at: at}).where(LongJob.id == job_id)
            await outbox.add(uow, "job.cancelled", "job", job_id)
        else:
            await uow.update(LongJob, {LongJob.cancel_requested_at: at}).where(LongJob.id == job_id)
        await record(uow, "job.cancel_requested", "job", job_id, {"kind": row["kind"]})
        return job_view(await uow.select(LongJob).where(LongJob.id == job_id).first())


@dataclass(frozen=True, slots=True)
class JobOutput:
    name: str
    media_type: str
    size: int
    chunks: AsyncIterator[str | bytes]  # bytes for binary output


async def open_output(ctx: Context, job_id: UUID) -> JobOutput:
    """The output of a succeeded job, read chunk by chunk; the download itself is audited."""
    require_signed_in(ctx)
    async with unit_of_work(ctx) as uow:
        row = await _visible_row(uow, job_id)
        view = job_view(row)
        if not view.output_available:
            raise KehuError("JOB_OUTPUT_UNAVAILABLE", "the job has no output to download (not finished, or expired)",
                            "该任务没有可下载的结果（未完成或已过期）", field="id")
        await record(uow, "job.output_downloaded", "job", job_id, {"kind": row["kind"]})

    binary = row.get("output_encoding") == "base64"

    async def chunks() -> AsyncIterator[str | bytes]:
        seq = 0
        while True:
            async with unit_of_work(ctx, write=False) as uow:
                chunk = await uow.select(JobOutputChunk.data).where(
                    (JobOutputChunk.job_id == job_id) & (JobOutputChunk.seq == seq)).first()
            if chunk is None:
                return
            yield base64.b64decode(chunk["data"]) if binary else chunk["data"]
            seq += 1

    assert view.output_name is not None and view.output_media_type is not None
    return JobOutput(name=view.output_name, media_type=view.output_media_type, size=view.output_bytes,
                     chunks=chunks())
