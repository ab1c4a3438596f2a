"""GraphQL for long jobs: status and progress, the caller's jobs, cancelling. Rules live in core."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.customers import exporting
from core.jobs import long_jobs
from core.jobs import service as job_service
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
    time_id_key,
)

# Job kinds whose output is encrypted under a key only their signed link carries.
LINK_ONLY = frozenset({exporting.EXPORT_JOB})


@strawberry.type(description="A long operation (an export, an import) and how far it has got.")
class Job(Node):
    id: strawberry.ID
    kind: str
    status: str = strawberry.field(description="queued | running | succeeded | failed | cancelled")
    requested_by: str
    progress_done: int
    progress_total: int | None
    progress_percent: float | None = strawberry.field(description="0–100, or null while the total is unknown.")
    message: str | None
    result: str | None = strawberry.field(description="JSON summary once succeeded, e.g. {\"entries\": 120}.")
    error_code: str | None
    error_message: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    output_name: str | None
    output_bytes: int
    output_expires_at: datetime | None
    download_url: str | None = strawberry.field(
        description="GET it with the same credentials to download the output (while it has not expired). "
                    "Null for customer exports: their encrypted file downloads only through customerExportLink.")

    @classmethod
    def of(cls, view: long_jobs.JobView) -> Job:
        return cls(id=strawberry.ID(str(view.id)), kind=view.kind, status=view.status, requested_by=view.requested_by,
                   progress_done=view.progress_done, progress_total=view.progress_total,
                   progress_percent=view.percent, message=view.message,
                   result=json.dumps(view.result, ensure_ascii=False, sort_keys=True) if view.result is not None
                   else None, error_code=view.error_code, error_message=view.error_message, attempts=view.attempts,
                   created_at=view.created_at, started_at=view.started_at, finished_at=view.finished_at,
                   output_name=view.output_name if view.output_available else None,
                   output_bytes=view.output_bytes if view.output_available else 0,
                   output_expires_at=view.output_expires_at if view.output_available else None,
                   download_url=f"/jobs/{view.id}/output" if view.output_available and view.kind not in LINK_ONLY
                   else None)


@strawberry.type
class JobPayload:
    job: Job | None = None
    errors: list[UserError]


@node_loader("Job")
async def _job(info: Info, job_id: UUID) -> Job:
    return Job.of(await job_service.get_job(ctx_of(info), job_id))


@strawberry.type
class JobQuery:
    @strawberry.field(description="One job: the caller's own, or one of a kind it may read.")
    async def job(self, info: Info, id: strawberry.ID) -> Job:
        return await _job(info, parse_id(id, "id"))

    @strawberry.field(description="Jobs newest first: the caller's own and those of kinds it may read.")
    async def jobs(self, info: Info, kind: str | None = None, status: str | None = None, first: int | None = None,
                   after: str | None = None, last: int | None = None, before: str | None = None) -> Connection[Job]:
        request = page_request(info, "jobs", first, after, last, before)
        views, more = await job_service.jobs_page(ctx_of(info), request.window(time_id_key), kind=kind, status=status)
        return keyset_connection(request, views, more, lambda v: [v.created_at, v.id], Job.of)


@strawberry.type
class JobMutation:
    @strawberry.mutation(description="Cancel a queued job, or ask a running one to stop at its next step.")
    async def job_cancel(self, info: Info, id: strawberry.ID) -> JobPayload:
        async def call() -> dict:
            return {"job": Job.of(await job_service.cancel_job(ctx_of(info), parse_id(id, "id")))}
        return await mutate(info, JobPayload, call)
