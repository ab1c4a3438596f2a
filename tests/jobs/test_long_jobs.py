"""Long jobs: nothing starts on rollback, progress is visible, output is whole or absent, a job
whose worker died runs again without duplicating output, failures are coded, cancelling works,
and nobody sees another's job."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.audit.tables import AuditEntry
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs import long_jobs, outbox
from core.jobs import service as job_service
from core.jobs.tables import JobOutputChunk, LongJob, OutboxEvent
from tests.support import SYSTEM, add_user, sign_in

KIND = "test.count"
LINES = 40


@pytest.fixture
def behaviour(monkeypatch):
    """A job kind that writes LINES numbered lines, reporting progress every 10, and does what
    ``behaviour`` says: fail, block until released, or break on certain attempts."""
    monkeypatch.setattr(long_jobs, "CHUNK_CHARS", 64)  # several chunks per output
    plan: dict = {"fail": None, "break_on_attempts": (), "release": None, "started": asyncio.Event()}

    @long_jobs.job_kind(KIND, read_permission="audit.read")
    async def run(job: long_jobs.RunningJob) -> dict:
        job.output("count.txt", "text/plain")
        await job.progress(0, LINES, "counting")
        for n in range(LINES):
            await job.write(f"line {n}\n")
            if n == 15:
                plan["started"].set()
                if plan["release"] is not None:
                    await plan["release"].wait()
                if job.attempt in plan["break_on_attempts"]:
                    raise ConnectionError("the database went away")
                if plan["fail"] is not None:
                    raise plan["fail"]
            if (n + 1) % 10 == 0:
                await job.progress(n + 1)
        return {"lines": LINES, "start": job.params["start"]}

    yield plan
    long_jobs.unregister_kind(KIND)


async def _submit(ctx) -> object:
    async with unit_of_work(ctx) as uow:
        return await long_jobs.submit(uow, KIND, {"start": 0})


async def _row(tenant_id, job_id) -> dict:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.select(LongJob).where(LongJob.id == job_id).first()


async def _chunks(tenant_id, job_id) -> int:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.count(JobOutputChunk).where(JobOutputChunk.job_id == job_id)


async def _read_output(ctx, job_id) -> str:
    output = await job_service.open_output(ctx, job_id)
    return "".join([chunk async for chunk in output.chunks])


EXPECTED = "".join(f"line {n}\n" for n in range(LINES))


async def test_a_rolled_back_request_starts_no_job(seeded, behaviour):
    ctx = SYSTEM.for_tenant(seeded.acme.id)
    async with unit_of_work(ctx, write=False) as uow:
        before = (await uow.count(LongJob), await uow.count(AuditEntry), await uow.count(OutboxEvent))
    with pytest.raises(RuntimeError):
        async with unit_of_work(ctx) as uow:
            await long_jobs.submit(uow, KIND, {"start": 0})
            raise RuntimeError("the request failed after asking for the job")
    async with unit_of_work(ctx, write=False) as uow:
        assert (await uow.count(LongJob), await uow.count(AuditEntry), await uow.count(OutboxEvent)) == before
    assert await long_jobs.due_jobs(10) == []


async def test_an_unknown_kind_is_refused(seeded):
    with pytest.raises(KehuError) as refused:
        async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:
            await long_jobs.submit(uow, "no.such.kind", {})
    assert refused.value.code == "JOB_KIND_UNKNOWN"


async def test_a_job_runs_with_progress_and_its_whole_output_downloads(seeded, behaviour):
    admin = await sign_in("acme", "admin")
    job_id = await _submit(admin)
    queued = await job_service.get_job(admin, job_id)
    assert (queued.status, queued.percent, queued.output_available) == ("queued", None, False)

    behaviour["release"] = asyncio.Event()
    running = asyncio.create_task(long_jobs.run_job(seeded.acme.id, job_id))
    await asyncio.wait_for(behaviour["started"].wait(), 10)
    midway = await job_service.get_job(admin, job_id)
    assert midway.status == "running" and (midway.progress_done, midway.progress_total) == (10, LINES)
    assert midway.percent == 25.0 and midway.message == "counting"
    behaviour["release"].set()
    assert await running is True

    done = await job_service.get_job(admin, job_id)
    assert (done.status, done.percent, done.result) == ("succeeded", 100.0, {"lines": LINES, "start": 0})
    assert done.output_available and done.output_name == "count.txt" and done.output_bytes == len(EXPECTED)
    assert await _chunks(seeded.acme.id, job_id) > 1  # stored in several chunks
    assert await _read_output(admin, job_id) == EXPECTED
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        actions = [r["action"] for r in await uow.select(AuditEntry.action).where(
            AuditEntry.target_id == str(job_id)).order_by(AuditEntry.seq)]
        events = [r["event_type"] for r in await uow.select(OutboxEvent.event_type).where(
            OutboxEvent.aggregate_id == str(job_id)).order_by(OutboxEvent.created_at)]
    assert actions == ["job.submitted", "job.output_downloaded"]
    assert events == ["job.queued", "job.succeeded"]  # integrators hear of it through webhooks


async def test_a_job_whose_worker_died_runs_again_without_duplicating_output(seeded, behaviour, monkeypatch):
    admin = await sign_in("acme", "admin")
    job_id = await _submit(admin)
    behaviour["release"] = asyncio.Event()  # never set: the first worker hangs mid-job ...
    first = asyncio.create_task(long_jobs.run_job(seeded.acme.id, job_id))
    await asyncio.wait_for(behaviour["started"].wait(), 10)
    first.cancel()  # ... and dies (its process killed), leaving partial output and a lease
    with pytest.raises(asyncio.CancelledError):
        await first
    assert (await _row(seeded.acme.id, job_id))["status"] == "running"
    assert await _chunks(seeded.acme.id, job_id) > 0

    assert await long_jobs.run_job(seeded.acme.id, job_id) is False  # its lease still holds
    assert await long_jobs.due_jobs(10) == []
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:  # the lease runs out
        await uow.update(LongJob, {LongJob.lease_until: long_jobs.now() - timedelta(seconds=1)}).where(
            LongJob.id == job_id)
    assert await long_jobs.due_jobs(10) == [(seeded.acme.id, job_id)]
    behaviour["release"] = None
    assert await long_jobs.run_job(seeded.acme.id, job_id) is True

    done = await job_service.get_job(admin, job_id)
    assert (done.status, done.attempts) == ("succeeded", 2)
    assert await _read_output(admin, job_id) == EXPECTED  # each line once


async def test_the_lease_a_claim_holds_is_the_configured_one_R2(seeded, behaviour, monkeypatch):
    """R2: KEHU_JOB_LEASE_SECONDS sets how long a killed worker's job waits before another worker
    claims it (and the heartbeat renews it four times per lease)."""
    from core.settings import load_settings

    monkeypatch.setattr(long_jobs, "LEASE", long_jobs.LEASE)  # restored after the test
    monkeypatch.setattr(long_jobs, "HEARTBEAT_SECONDS", long_jobs.HEARTBEAT_SECONDS)
    monkeypatch.setattr(long_jobs, "OUTPUT_DAYS", long_jobs.OUTPUT_DAYS)
    long_jobs.configure_long_jobs(load_settings(job_lease_seconds=8))
    assert long_jobs.HEARTBEAT_SECONDS == 2.0
    admin = await sign_in("acme", "admin")
    job_id = await _submit(admin)
    behaviour["release"] = asyncio.Event()  # never set: the worker hangs mid-job
    worker = asyncio.create_task(long_jobs.run_job(seeded.acme.id, job_id))
    await asyncio.wait_for(behaviour["started"].wait(), 10)
    row = await _row(seeded.acme.id, job_id)
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    held = row["lease_until"] - row["started_at"]
    assert timedelta(seconds=7) <= held <= timedelta(seconds=9), held  # 60 s by default


async def test_a_coded_error_fails_the_job_at_once_and_leaves_no_output(seeded, behaviour):
    admin = await sign_in("acme", "admin")
    job_id = await _submit(admin)
    behaviour["fail"] = KehuError("SOURCE_INVALID", "line 16 cannot be read", "第16行无法读取")
    assert await long_jobs.run_job(seeded.acme.id, job_id) is True
    failed = await job_service.get_job(admin, job_id)
    assert (failed.status, failed.error_code, failed.error_message, failed.attempts) == (
        "failed", "SOURCE_INVALID", "line 16 cannot be read", 1)
    assert await _chunks(seeded.acme.id, job_id) == 0
    with pytest.raises(KehuError) as refused:
        await job_service.open_output(admin, job_id)
    assert refused.value.code == "JOB_OUTPUT_UNAVAILABLE"


async def test_a_transient_error_is_retried_with_backoff_then_fails_coded(seeded, behaviour, monkeypatch):
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    admin = await sign_in("acme", "admin")
    job_id = await _submit(admin)
    behaviour["break_on_attempts"] = (1,)
    assert await long_jobs.run_job(seeded.acme.id, job_id) is True
    row = await _row(seeded.acme.id, job_id)
    assert (row["status"], row["attempts"]) == ("queued", 1) and "database went away" in row["error_message"]
    assert row["available_at"] > long_jobs.now()  # backoff: not due yet
    assert await long_jobs.run_job(seeded.acme.id, job_id) is False
    assert await _chunks(seeded.acme.id, job_id) == 0

    async def make_due():
        async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:
            await uow.update(LongJob, {LongJob.available_at: long_jobs.now()}).where(LongJob.id == job_id)

    await make_due()
    assert await long_jobs.run_job(seeded.acme.id, job_id) is True  # the second attempt succeeds
    assert (await job_service.get_job(admin, job_id)).status == "succeeded"

    other = await _submit(admin)
    behaviour["break_on_attempts"] = (1, 2, 3)
    for _ in range(3):
        async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:
            await uow.update(LongJob, {LongJob.available_at: long_jobs.now()}).where(LongJob.id == other)
        assert await long_jobs.run_job(seeded.acme.id, other) is True
    failed = await job_service.get_job(admin, other)
    assert (failed.status, failed.error_code, failed.attempts) == ("failed", "JOB_FAILED", 3)


async def test_cancelling_stops_a_queued_job_at_once_and_a_running_one_at_its_next_step(seeded, behaviour):
    admin = await sign_in("acme", "admin")
    queued = await _submit(admin)
    assert (await job_service.cancel_job(admin, queued)).status == "cancelled"
    assert await long_jobs.run_job(seeded.acme.id, queued) is False

    running_id = await _submit(admin)
    behaviour["release"] = asyncio.Event()
    running = asyncio.create_task(long_jobs.run_job(seeded.acme.id, running_id))
    await asyncio.wait_for(behaviour["started"].wait(), 10)
    assert (await job_service.cancel_job(admin, running_id)).status == "running"  # asked, not yet stopped
    behaviour["release"].set()
    await running
    cancelled = await job_service.get_job(admin, running_id)
    assert cancelled.status == "cancelled" and not cancelled.output_available
    assert await _chunks(seeded.acme.id, running_id) == 0
    with pytest.raises(KehuError) as refused:
        await job_service.cancel_job(admin, running_id)
    assert refused.value.code == "JOB_FINISHED"


async def test_a_job_is_seen_by_its_requester_and_readers_of_its_kind_only(seeded, behaviour):
    await add_user(seeded.acme, "clerk")
    admin, clerk = await sign_in("acme", "admin"), await sign_in("acme", "clerk")
    job_id = await _submit(clerk)  # the clerk (no audit.read) asks for a job ...
    assert (await job_service.get_job(clerk, job_id)).requested_by == clerk.actor
    assert [j.id for j in await job_service.list_jobs(clerk)] == [job_id]
    assert (await job_service.get_job(admin, job_id)).id == job_id  # ... the admin reads audit.read kinds
    admin_job = await _submit(admin)
    with pytest.raises(KehuError) as hidden:
        await job_service.get_job(clerk, admin_job)  # the clerk does not see the admin's job
    assert hidden.value.code == "NOT_FOUND"
    assert [j.id for j in await job_service.list_jobs(clerk)] == [job_id]
    assert {j.id for j in await job_service.list_jobs(admin)} == {job_id, admin_job}
    assert [j.id for j in await job_service.list_jobs(admin, status="succeeded")] == []

    other_tenant = await sign_in("globex", "admin")
    with pytest.raises(KehuError) as elsewhere:
        await job_service.get_job(other_tenant, job_id)
    assert elsewhere.value.code == "NOT_FOUND"
    assert await job_service.list_jobs(other_tenant) == []


async def test_output_is_deleted_when_its_download_period_ends(seeded, behaviour):
    admin = await sign_in("acme", "admin")
    job_id = await _submit(admin)
    await long_jobs.run_job(seeded.acme.id, job_id)
    expires = (await job_service.get_job(admin, job_id)).output_expires_at
    assert expires is not None and expires - long_jobs.now() > timedelta(days=long_jobs.OUTPUT_DAYS - 1)
    assert await long_jobs.delete_expired_output(expires - timedelta(seconds=1)) == 0
    assert await long_jobs.delete_expired_output(expires) == 1
    assert await _chunks(seeded.acme.id, job_id) == 0
    gone = await job_service.get_job(admin, job_id)
    assert gone.status == "succeeded" and not gone.output_available


async def test_the_loop_runs_due_jobs_and_stops_cleanly(seeded, behaviour):
    admin = await sign_in("acme", "admin")
    jobs = [await _submit(admin) for _ in range(3)]
    stop = asyncio.Event()
    loop = asyncio.create_task(long_jobs.run_job_loop(stop, concurrency=2, interval_seconds=0.05))
    for _ in range(200):
        if [(await job_service.get_job(admin, j)).status for j in jobs] == ["succeeded"] * 3:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(loop, 10)
    assert [(await job_service.get_job(admin, j)).status for j in jobs] == ["succeeded"] * 3
    assert await _read_output(admin, jobs[2]) == EXPECTED
