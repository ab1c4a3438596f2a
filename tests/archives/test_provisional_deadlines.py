"""Archive deadlines on the working-day calendar past the holiday library's data (issue 18 point
11): a rectification deadline and a missing-archive report's due date that counted days of 2027
(no official schedule: kehu's provisional one) say ``provisional``; loading the 2027 schedule
(the test fixture of tests/calendar: Spring Festival Feb 5-13 off where the provisional schedule
has Feb 5-10, Sat Feb 20 a make-up working day) recomputes them from their stored start, audited
when they move, and they are no longer provisional; GraphQL shows the flag. The clock is
controlled (``core.archives.common.now`` frozen) and the calendar is the real one."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from litestar.testing import AsyncTestClient

from core.archives import common as archive_common
from core.archives import folders as archive_folders
from core.archives import kpi as archive_kpi
from core.archives import lifecycle as archive_lifecycle
from core.archives import reconciliation as archive_reconciliation
from core.archives.tables import Archive, MissingReport
from core.audit.tables import AuditEntry
from core.calendar import schedules
from core.db import unit_of_work
from core.identity import roles, users
from core.identity.permissions import Scope
from core.verticals import service as verticals
from gateway.app import create_app
from tests.archives.conftest import GOOD
from tests.gateway.test_identity_api import gql, login
from tests.isolation.machine import ARCHIVE_PERMISSIONS
from tests.support import SYSTEM

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURE = Path(__file__).parents[1] / "calendar" / "fixtures" / "schedule-2027-test.json"
REJECTED_AT = datetime(2026, 12, 30, 16, 0, tzinfo=SHANGHAI)  # a working Wednesday
IMPORTED_AT = datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI)
# 8 hours left on Dec 30, then 25 whole working days (Dec 31, Jan 4 to Feb 4), then 12 hours: the
# first working day after Feb 4 is Thu Feb 11 provisionally, Mon Feb 15 once 2027 is loaded.
INTO_SPRING_FESTIVAL_HOURS = 8 + 25 * 24 + 12


def _freeze(monkeypatch, at):
    monkeypatch.setattr(archive_common, "now", lambda: at)


async def _load_2027():
    return await schedules.load_schedule(SYSTEM, FIXTURE.read_text(encoding="utf-8"))


async def _parameters(tenant_id, registry, vertical, **values):
    await verticals.update_vertical_parameters(SYSTEM.for_tenant(tenant_id), registry, vertical, values)


async def _rejected(people, registry, key, vertical="dealer", standard="sales", docs=GOOD):
    folder = await archive_folders.create_folder(people.advisor, registry, vertical, key, facts={})
    archive = await archive_lifecycle.create_archive(people.advisor, registry, folder.id, standard)
    for position, (code, fields) in enumerate(docs.items(), start=1):
        archive = await archive_lifecycle.put_document(people.advisor, registry, archive.id, code, fields,
                                                       position=position)
    await archive_lifecycle.submit_archive(people.advisor, registry, archive.id)
    await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    return await archive_lifecycle.reject_archive(people.clerk, registry, archive.id, ["发票抬头错误"])


async def _audited(tenant_id, action):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.count(AuditEntry).where(AuditEntry.action == action)


async def _stored_archive(tenant_id, archive_id):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.select(Archive.deadline_at, Archive.deadline_provisional).where(
            Archive.id == archive_id).first()


async def test_a_rectification_deadline_into_2027_is_provisional_and_recomputed_on_load(
        people, registry, seeded, monkeypatch):
    """Issue 18 point 11: a rejection on Wed 2026-12-30 16:00 with a rectification deadline counted
    on working days into 2027 says provisional (Feb 11 12:00 over the provisional Spring Festival);
    after the 2027 schedule is loaded it is recomputed from the rejection to Mon Feb 15 12:00, not
    provisional, the move audited (archive.deadline_recomputed). A deadline whose date the loaded
    schedule does not change (48 hours: Mon Jan 4 16:00 either way) stops being provisional without
    an audited move; a deadline within 2026 never was provisional."""
    acme = seeded.acme.id
    _freeze(monkeypatch, REJECTED_AT)
    await _parameters(acme, registry, "dealer", rectification_hours=INTO_SPRING_FESTIVAL_HOURS)
    long = await _rejected(people, registry, "VIN-LONG")
    assert long.deadline_at == datetime(2027, 2, 11, 12, 0, tzinfo=SHANGHAI) and long.deadline_provisional
    await _parameters(acme, registry, "dealer", rectification_hours=48)
    short = await _rejected(people, registry, "VIN-SHORT")
    assert short.deadline_at == datetime(2027, 1, 4, 16, 0, tzinfo=SHANGHAI) and short.deadline_provisional
    await _parameters(acme, registry, "dealer", rectification_hours=8)
    within = await _rejected(people, registry, "VIN-2026")
    assert within.deadline_at == datetime(2026, 12, 31, 0, 0, tzinfo=SHANGHAI) and not within.deadline_provisional

    report = await _load_2027()
    assert report.recomputed["archive_rectifications"] == 1  # one moved; the Jan 4 one kept its date

    after = await archive_lifecycle.get_archive(people.clerk, registry, long.id)
    assert after.deadline_at == datetime(2027, 2, 15, 12, 0, tzinfo=SHANGHAI) and not after.deadline_provisional
    kept = await _stored_archive(acme, short.id)
    assert kept["deadline_at"] == datetime(2027, 1, 4, 16, 0, tzinfo=SHANGHAI) and kept["deadline_provisional"] == 0
    assert await _audited(acme, "archive.deadline_recomputed") == 1
    # loading the year again finds nothing provisional left
    assert (await _load_2027()).recomputed["archive_rectifications"] == 0


async def test_a_recomputed_rectification_deadline_decides_whether_a_resubmission_is_late(
        people, registry, seeded, monkeypatch):
    """Issue 18 point 11: resubmitted on Fri 2027-02-12 (a holiday once 2027 is loaded), the archive
    whose provisional deadline was Thu Feb 11 is not late: the recomputed deadline (Mon Feb 15)
    counts, so no late-rectification KPI entry is charged."""
    _freeze(monkeypatch, REJECTED_AT)
    await _parameters(seeded.acme.id, registry, "dealer", rectification_hours=INTO_SPRING_FESTIVAL_HOURS)
    rejected = await _rejected(people, registry, "VIN-LATE?")
    await _load_2027()
    _freeze(monkeypatch, datetime(2027, 2, 12, 10, 0, tzinfo=SHANGHAI))
    await archive_lifecycle.resubmit_archive(people.advisor, registry, rejected.id)
    ledger = await archive_kpi.kpi_ledger(people.clerk, registry, user_id=people.advisor.user_id)
    assert "late_rectification" not in [e.rule_code for e in ledger]


async def test_a_missing_archive_report_due_in_2027_is_provisional_and_recomputed_on_load(
        people, registry, seeded, monkeypatch):
    """Issue 18 point 11: a reconciliation on 2026-12-30 with missing-archive reports due in 26
    working days counts the provisional Spring Festival (due Thu Feb 11 18:00, provisional); after
    the 2027 schedule is loaded the open report is recomputed from its creation to Mon Feb 15 18:00,
    not provisional, audited (archive.missing_report_due_recomputed); a report already resolved
    keeps its stored date."""
    acme = seeded.acme.id
    _freeze(monkeypatch, IMPORTED_AT)
    await _parameters(acme, registry, "dealer", missing_archive_deadline_days=26)
    text = "key,responsible\nVIN-OPEN,advisor\nVIN-HANDED-IN,advisor\n"
    result = await archive_reconciliation.import_expected(people.clerk, registry, "dealer", "sales", source="AAK",
                                                          period="2026-12",
                                                          rows=archive_reconciliation.parse_expected_csv(text))
    provisional_due = datetime(2027, 2, 11, 18, 0, tzinfo=SHANGHAI)
    assert [(m.subject_key, m.due_at, m.due_provisional) for m in result.missing] == [
        ("VIN-HANDED-IN", provisional_due, True), ("VIN-OPEN", provisional_due, True)]
    # handing one in resolves its report: it is no longer recomputed
    folder = await archive_folders.create_folder(people.advisor, registry, "dealer", "VIN-HANDED-IN", facts={})
    archive = await archive_lifecycle.create_archive(people.advisor, registry, folder.id, "sales")
    await archive_lifecycle.submit_archive(people.advisor, registry, archive.id)

    report = await _load_2027()
    assert report.recomputed["missing_archive_reports"] == 1

    [open_report] = await archive_reconciliation.missing_reports(people.clerk, registry)
    assert (open_report.subject_key, open_report.due_at, open_report.due_provisional) == (
        "VIN-OPEN", datetime(2027, 2, 15, 18, 0, tzinfo=SHANGHAI), False)
    every = {m.subject_key: m for m in await archive_reconciliation.missing_reports(people.clerk, registry,
                                                                                   open_only=False)}
    assert (every["VIN-HANDED-IN"].due_at, every["VIN-HANDED-IN"].due_provisional) == (provisional_due, True)
    assert await _audited(acme, "archive.missing_report_due_recomputed") == 1
    async with unit_of_work(SYSTEM.for_tenant(acme), write=False) as uow:
        stored = await uow.select(MissingReport.due_working_days).where(MissingReport.subject_key == "VIN-OPEN").first()
    assert stored["due_working_days"] == 26


async def test_a_missing_archive_report_within_a_known_year_is_not_provisional(people, registry, seeded,
                                                                              monkeypatch):
    """Issue 18 point 11: due within 2026 (the library's data), a missing-archive report is not
    provisional, and loading 2027 leaves it alone."""
    _freeze(monkeypatch, datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    result = await archive_reconciliation.import_expected(people.clerk, registry, "dealer", "sales", source="AAK",
                                                          period="2026-11",
                                                          rows=archive_reconciliation.parse_expected_csv("key\nVIN-X\n"))
    assert [(m.due_at, m.due_provisional) for m in result.missing] == [
        (datetime(2026, 12, 3, 18, 0, tzinfo=SHANGHAI), False)]
    assert (await _load_2027()).recomputed["missing_archive_reports"] == 0


# --- GraphQL: the automotive vertical through the application -------------------------------------

ARCHIVES = "{ archives(first: 10) { nodes { id state deadlineAt provisional } } }"
MISSING = "{ missingArchiveReports(first: 10) { nodes { subjectKey dueAt provisional } } }"


async def _automotive_world(settings, seeded, crew, automotive, monkeypatch):
    """The application (it knows the verticals' permissions), acme's admin with the archive roles,
    a service archive rejected on 2026-12-30 16:00 with 48 rectification hours (due Mon 2027-01-04
    16:00) and a missing-archive report imported the same day (2 working days: Jan 4 18:00)."""
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})
    app = create_app(relaxed)
    system = SYSTEM.for_tenant(seeded.acme.id)
    [admin] = [u for u in (await users.list_users(system, first=10))[0] if u.username == "admin"]
    archivist = await roles.create_role(system, name="档案", permissions=dict.fromkeys(ARCHIVE_PERMISSIONS, Scope.TENANT))
    await roles.grant_role(system, user_id=admin.id, role_id=archivist.id)
    _freeze(monkeypatch, REJECTED_AT)
    await _parameters(seeded.acme.id, automotive, "automotive", rectification_hours=48)
    rejected = await _rejected(crew, automotive, "LFV2A21K0N3000009", vertical="automotive",
                               standard="service_archive", docs={})
    assert rejected.deadline_provisional
    await archive_reconciliation.import_expected(crew.clerk, automotive, "automotive", "service_archive",
                                                 source="DMS", period="2026-12",
                                                 rows=archive_reconciliation.parse_expected_csv("key\nVIN-GONE\n"))
    return app


async def test_graphql_says_provisional_on_archive_deadlines(settings, seeded, crew, automotive, monkeypatch):
    """Issue 18 point 11: Archive.provisional and MissingArchiveReport.provisional are true next to
    a deadlineAt / dueAt that counted provisional 2027 days."""
    app = await _automotive_world(settings, seeded, crew, automotive, monkeypatch)
    async with AsyncTestClient(app) as client:
        token = (await login(client))["accessToken"]
        archives = (await gql(client, ARCHIVES, token)).json()
        missing = (await gql(client, MISSING, token)).json()
    assert not archives.get("errors") and not missing.get("errors"), (archives, missing)
    [archive] = [a for a in archives["data"]["archives"]["nodes"] if a["state"] == "rejected"]
    assert archive["provisional"] is True
    assert datetime.fromisoformat(archive["deadlineAt"]) == datetime(2027, 1, 4, 16, 0, tzinfo=SHANGHAI)
    [report] = missing["data"]["missingArchiveReports"]["nodes"]
    assert report["subjectKey"] == "VIN-GONE" and report["provisional"] is True
    assert datetime.fromisoformat(report["dueAt"]) == datetime(2027, 1, 4, 18, 0, tzinfo=SHANGHAI)


async def test_graphql_says_not_provisional_once_2027_is_loaded(settings, seeded, crew, automotive, monkeypatch):
    """Issue 18 point 11: after the 2027 schedule is loaded the same deadlines say provisional:
    false (their dates stay: the loaded New Year is the provisional one)."""
    app = await _automotive_world(settings, seeded, crew, automotive, monkeypatch)
    await _load_2027()
    async with AsyncTestClient(app) as client:
        token = (await login(client))["accessToken"]
        archives = (await gql(client, ARCHIVES, token)).json()
        missing = (await gql(client, MISSING, token)).json()
    [archive] = [a for a in archives["data"]["archives"]["nodes"] if a["state"] == "rejected"]
    assert archive["provisional"] is False
    assert datetime.fromisoformat(archive["deadlineAt"]) == datetime(2027, 1, 4, 16, 0, tzinfo=SHANGHAI)
    [report] = missing["data"]["missingArchiveReports"]["nodes"]
    assert report["provisional"] is False
    assert datetime.fromisoformat(report["dueAt"]) == datetime(2027, 1, 4, 18, 0, tzinfo=SHANGHAI)


def test_kehu_calendar_load_recomputes_archive_deadlines_in_a_fresh_process(sqlite_settings):
    """Issue 18 point 11: `kehu calendar load`, run as its own process (nothing imported beforehand),
    registers the archive recomputes and reports them next to the subject requests'."""
    env = {**os.environ, "KEHU_DATABASE_URL": sqlite_settings.database_url}
    command = [sys.executable, "-c", "from gateway.cli import main; main()"]
    migrated = subprocess.run([*command, "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    loaded = subprocess.run([*command, "calendar", "load", str(FIXTURE)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert "recomputed 0 archive rectifications due date(s)" in loaded.stdout
    assert "recomputed 0 missing archive reports due date(s)" in loaded.stdout
    assert "recomputed 0 subject requests due date(s)" in loaded.stdout
