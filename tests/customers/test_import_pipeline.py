"""The import writes one batch while the next ones are checked and built: results stay in file
order, the first row of an identifier wins across batches, a customer added meanwhile is still
caught under the write, a failure rolls back what all-or-nothing wrote, and SQLite's multi-row
inserts split under its parameter limit."""

from __future__ import annotations

import asyncio

import pytest

from core.plugins import manager
from core.customers import importing
from core.customers import service as customers
from core.customers.importing import ALL_OR_NOTHING, SKIP_BAD_ROWS, import_customers, made_ahead
from core.db import uow as uow_module
from tests.customers.conftest import PERSON
from tests.customers.test_import_export import _counts, make_rows, to_csv
from tests.support import SYSTEM, sign_in


async def test_made_ahead_gives_results_in_order_and_runs_at_most_depth_ahead():
    made: list[int] = []
    taken: list[int] = []
    ahead: list[int] = []

    async def make(n: int) -> int:
        await asyncio.sleep(0)
        made.append(n)
        ahead.append(len(made) - len(taken))
        return n * 10

    async for value in made_ahead(list(range(12)), make, depth=2):
        taken.append(value // 10)
        await asyncio.sleep(0.001)  # the caller's write: the producer runs meanwhile
    assert taken == list(range(12)) and made == list(range(12))
    assert max(ahead) <= 3  # two waiting and the one being made
    assert max(ahead) >= 2  # it did run ahead of the caller


async def test_made_ahead_raises_the_producers_error_in_its_place_and_stops_producing():
    made: list[int] = []

    async def make(n: int) -> int:
        await asyncio.sleep(0)
        if n == 3:
            raise ValueError("row 3 broke")
        made.append(n)
        return n

    got = []
    with pytest.raises(ValueError, match="row 3 broke"):
        async for value in made_ahead(list(range(10)), make):
            got.append(value)
    assert got == [0, 1, 2] and made == [0, 1, 2]  # nothing made after the failure


async def test_closing_made_ahead_early_cancels_the_producer():
    made: list[int] = []

    async def make(n: int) -> int:
        await asyncio.sleep(0)
        made.append(n)
        return n

    batches = made_ahead(list(range(100)), make, depth=1)
    assert await anext(batches) == 0
    await batches.aclose()
    count = len(made)
    await asyncio.sleep(0.01)
    assert len(made) == count < 100


async def test_the_first_row_of_an_identifier_wins_across_batches(acme, registry):
    rows, _ = make_rows(1300, bad_every=0)
    rows[1250]["identifier_number"] = rows[20]["identifier_number"]  # third batch repeats the first
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv",
                                    mode=SKIP_BAD_ROWS)
    assert [(e.line, e.code) for e in report.errors] == [(1252, "DUPLICATE_IDENTIFIER")]
    assert (report.imported, report.valid) == (1299, 1299)


async def test_a_customer_added_while_later_batches_were_built_is_caught_under_the_write(acme, registry):
    rows, _ = make_rows(1200, bad_every=0)
    admin = await sign_in("acme", "admin")
    before = await _counts(acme.id)
    added = []

    async def progress(done, total, message):
        # After the first batch is written the next ones are already checked and built; someone
        # now creates a customer with the identifier of a row in the third batch.
        if message == "importing" and not added:
            existing = {**PERSON, "identifier": {"type": "resident_id", "number": rows[1100]["identifier_number"]},
                        "phones": ["13700000003"]}
            added.append(await customers.create_customer(admin, registry, existing))

    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv",
                                    mode=SKIP_BAD_ROWS, progress=progress)
    assert added and [(e.line, e.code) for e in report.errors] == [(1102, "DUPLICATE_IDENTIFIER")]
    assert (report.imported, report.valid) == (1199, 1199)
    after = await _counts(acme.id)
    # The dropped row left nothing behind: no customer, history, audit entry or event of its own.
    assert after["customers"] - before["customers"] == 1200  # 1199 imported + the one added by hand
    assert after["history"] - before["history"] == 1200
    assert after["imported_entries"] - before["imported_entries"] == 1199
    assert after["created_events"] - before["created_events"] == 1200


async def test_all_or_nothing_writes_nothing_when_building_a_later_batch_fails(acme, registry, monkeypatch):
    rows, _ = make_rows(1200, bad_every=0)
    before = await _counts(acme.id)
    build_rows = importing.build_rows

    def failing(good, **options):
        if any(g.line == 1102 for g in good):
            raise RuntimeError("the disk is full")
        return build_rows(good, **options)

    monkeypatch.setattr(importing, "build_rows", failing)
    with pytest.raises(RuntimeError, match="the disk is full"):
        await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv", mode=ALL_OR_NOTHING)
    assert await _counts(acme.id) == before


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # PostgreSQL binds arrays, not rows
async def test_sqlite_bulk_inserts_split_under_the_parameter_limit(acme, registry, monkeypatch):
    monkeypatch.setattr(uow_module, "SQLITE_MAX_PARAMETERS", 100)  # a customer row has 18 columns: 5 a statement
    rows, _ = make_rows(37, bad_every=0)
    before = await _counts(acme.id)
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv")
    assert report.imported == 37
    after = await _counts(acme.id)
    assert after["customers"] - before["customers"] == 37 and after["keys"] - before["keys"] >= 3 * 37


async def test_skip_mode_stopped_midway_resumes_after_its_last_written_batch(acme, registry, monkeypatch):
    rows, _ = make_rows(1200, bad_every=0)
    data = to_csv(rows)
    before = await _counts(acme.id)
    build_rows = importing.build_rows
    written_up_to = []

    async def on_batch(uow, last_line):  # what the job keeps with its upload, in the batch's transaction
        written_up_to.append(last_line)

    def failing(good, **options):
        if any(g.line == 1102 for g in good):
            raise RuntimeError("the worker was stopped")
        return build_rows(good, **options)

    monkeypatch.setattr(importing, "build_rows", failing)
    with pytest.raises(RuntimeError):
        await import_customers(SYSTEM.for_tenant(acme.id), registry, data, "c.csv", on_batch=on_batch)
    monkeypatch.setattr(importing, "build_rows", build_rows)
    assert written_up_to == [501, 1001]  # two batches were written before the stop
    assert (await _counts(acme.id))["customers"] - before["customers"] == 1000

    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, data, "c.csv",
                                    resume_after=written_up_to[-1])
    assert (report.imported, report.errors) == (1200, [])  # the first 1000 are not duplicates of themselves
    after = await _counts(acme.id)
    assert after["customers"] - before["customers"] == 1200
    assert after["imported_entries"] - before["imported_entries"] == 1200


# --- issue 17 point 7: how an import job ends, and its report ----------------------------------------

async def _import_job(tenant_id, registry, data: bytes, **options):
    from core.jobs import long_jobs, service as job_service

    manager.start_verticals(registry)
    admin = await sign_in("acme", "admin")
    job_id = await importing.start_import(admin, data, "客户.csv", **options)
    assert await long_jobs.run_job(tenant_id, job_id)
    return admin, await job_service.get_job(admin, job_id)


async def _report_bytes(ctx, job_id) -> bytes:
    from core.jobs import service as job_service

    output = await job_service.open_output(ctx, job_id)
    return b"".join([c if isinstance(c, bytes) else c.encode() async for c in output.chunks])


async def test_an_all_or_nothing_import_with_bad_rows_ends_failed_with_its_report_downloadable(acme, registry):
    """Issue 17 point 7: an all-or-nothing import that found bad rows imported nothing, so its job
    ends failed (IMPORT_ROWS_INVALID), not succeeded; its per-row report still downloads."""
    rows, bad = make_rows(100)
    before = await _counts(acme.id)
    admin, job = await _import_job(acme.id, registry, to_csv(rows), mode=ALL_OR_NOTHING)
    assert (job.status, job.error_code) == ("failed", "IMPORT_ROWS_INVALID")
    assert f"{len(bad)} of 100 rows are bad" in job.error_message
    assert job.result == {"mode": ALL_OR_NOTHING, "dry_run": False, "rows": 100, "valid": 100 - len(bad),
                          "imported": 0, "bad_rows": len(bad)}
    assert job.output_available and job.output_name == "customer-import-report.csv"
    report = (await _report_bytes(admin, job.id)).decode("utf-8-sig").splitlines()
    assert [int(line.split(",")[0]) for line in report[1:]] == sorted(bad)
    assert await _counts(acme.id) == before


async def test_an_import_job_that_imported_ends_succeeded_and_a_dry_run_too(acme, registry):
    """Issue 17 point 7: only the import that imported nothing because of bad rows fails: a dry run
    (a check) with bad rows succeeds, and so does a good all-or-nothing file (as a job it used to
    fail: its progress report nested a transaction in the write)."""
    good, _ = make_rows(30, bad_every=0)
    some_bad, bad = make_rows(60)
    _, job = await _import_job(acme.id, registry, to_csv(some_bad), mode=ALL_OR_NOTHING, dry_run=True)
    assert (job.status, job.result["bad_rows"], job.result["imported"]) == ("succeeded", len(bad), 0)
    _, job = await _import_job(acme.id, registry, to_csv(good), mode=ALL_OR_NOTHING)
    assert (job.status, job.result["imported"]) == ("succeeded", 30), (job.error_code, job.error_message)
    assert job.progress_done == job.progress_total == 60


async def test_the_import_report_csv_starts_with_a_bom_like_exports(acme, registry):
    """Issue 17 point 7: the report CSV carries a UTF-8 BOM, so Excel shows its Chinese messages."""
    rows, bad = make_rows(40)
    admin, job = await _import_job(acme.id, registry, to_csv(rows), mode=SKIP_BAD_ROWS)
    assert job.status == "succeeded"
    data = await _report_bytes(admin, job.id)
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    zh = await import_customers(await sign_in("acme", "admin"), registry, to_csv(rows), "c.csv", dry_run=True)
    assert zh.as_csv().startswith("\ufeffline,field,code,message\n")
