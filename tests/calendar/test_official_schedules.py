"""Official schedules loaded by an operator, end to end (issue 18 point 11): stored platform-wide,
read by every tenant's calendar, the subject requests that counted provisional days recomputed on
load, ``provisional`` in GraphQL, ``kehu calendar load`` and the /healthz warning. Dates are fixed
(received_at given, /healthz's today patched): the controlled clock."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from core.plugins import manager
from core.calendar import schedules
from core.calendar.settings import load_calendar
from core.context import Context
from core.customers import service
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.policies import write_setting
from core.privacy import subject_requests as sr
from gateway import health
from gateway.app import create_app
from gateway.cli import cli
from tests.gateway.test_identity_api import gql, login
from tests.privacy.support import registry
from tests.support import SYSTEM

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURE = Path(__file__).parent / "fixtures" / "schedule-2027-test.json"
OPERATOR = SYSTEM  # a system context: what `kehu calendar load` uses


@pytest.fixture(autouse=True)
def patient_calendar_read(monkeypatch):
    """These tests are about what the calendar says, not how long its read may take: beside a
    loaded parallel run a 1 s read timed out and /healthz rightly fell back to the built-in
    calendar. The timeout itself is proven by the slow-read test below."""
    monkeypatch.setattr(health, "CALENDAR_TIMEOUT_SECONDS", 30.0)


@pytest.fixture
def reg():
    r = registry()
    manager.start_verticals(r)
    yield r
    manager.start_verticals(None)


@pytest.fixture(autouse=True)
def fresh_health_cache():
    health._official.update(calendar=health.NATIONAL, read_at=None, warned=None)
    yield
    health._official.update(calendar=health.NATIONAL, read_at=None, warned=None)


async def _working_day_request(tenant_id, reg, received_at):
    acme = SYSTEM.for_tenant(tenant_id)
    customer = (await service.create_customer(acme, reg, {"kind": "person", "surname": "钱", "given_name": "多"})).customer
    async with unit_of_work(acme) as uow:
        await write_setting(uow, sr.DAYS_KEY, 10)
        await write_setting(uow, sr.WORKING_DAYS_KEY, 1)
    return await sr.create_request(acme, customer.id, "access", received_at=received_at)


async def test_loading_a_year_recomputes_provisional_subject_request_due_dates(database, seeded, reg):
    """Issue 18 point 11: a subject request due in 10 working days from Mon 2027-02-01 counts the
    provisional Spring Festival (Feb 5-10 off) and is due Fri 02-19, provisional; after the
    official file is loaded (Feb 5-13 off, Sat 02-20 a make-up working day) it is recomputed to
    Mon 02-22, no longer provisional, and the move is audited."""
    request = await _working_day_request(seeded.acme.id, reg, datetime(2027, 2, 1, 10, 0, tzinfo=SHANGHAI))
    assert request.due_at == datetime(2027, 2, 19, 18, 0, tzinfo=SHANGHAI) and request.due_provisional
    report = await schedules.load_schedule(OPERATOR, FIXTURE.read_text(encoding="utf-8"))
    assert (report.year, report.replaced, report.recomputed["subject_requests"]) == (2027, False, 1)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    async with unit_of_work(acme, write=False) as uow:
        row = await uow.select(sr.SubjectRequest.due_at, sr.SubjectRequest.due_provisional).where(
            sr.SubjectRequest.id == request.id).first()
        calendar = await load_calendar(uow)
    assert row["due_at"] == datetime(2027, 2, 22, 18, 0, tzinfo=SHANGHAI) and row["due_provisional"] == 0
    assert not calendar.is_provisional(date(2027, 2, 8)) and calendar.is_working_day(date(2027, 2, 20))
    # loading the same year again replaces it and finds nothing left to recompute
    report = await schedules.load_schedule(OPERATOR, FIXTURE.read_text(encoding="utf-8"))
    assert (report.replaced, report.recomputed["subject_requests"]) == (True, 0)


async def test_calendar_days_are_a_subject_requests_default_and_never_provisional(database, seeded, reg):
    """Issue 18 point 11: without privacy.request_working_days the due date stays receipt + days
    (calendar days) and is not provisional, even in 2027."""
    acme = SYSTEM.for_tenant(seeded.acme.id)
    customer = (await service.create_customer(acme, reg, {"kind": "person", "surname": "孙", "given_name": "一"})).customer
    at = datetime(2027, 2, 1, 10, 0, tzinfo=SHANGHAI)
    request = await sr.create_request(acme, customer.id, "access", received_at=at)
    assert request.due_at == datetime(2027, 2, 16, 10, 0, tzinfo=SHANGHAI) and not request.due_provisional


async def test_only_an_operator_loads_a_schedule_and_a_bad_file_stores_nothing(database, seeded):
    """Issue 18 point 11: a tenant context may not load the national calendar; a refused file
    leaves no year stored."""
    with pytest.raises(KehuError) as refused:
        await schedules.load_schedule(Context(tenant_id=seeded.acme.id, actor="user:x"),
                                      FIXTURE.read_text(encoding="utf-8"))
    assert refused.value.code == "PERMISSION_DENIED"
    bad = json.loads(FIXTURE.read_text(encoding="utf-8")) | {"workdays": ["2027-02-22"]}
    with pytest.raises(KehuError) as invalid:
        await schedules.load_schedule(OPERATOR, json.dumps(bad))
    assert invalid.value.code == "CALENDAR_FILE_INVALID"
    assert await schedules.loaded_years() == []


def _client(settings):
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})
    return AsyncTestClient(create_app(relaxed))  # service calls of a test come before it starts (one loop)


WORKING_DAYS = '{ workingDays(from: "2026-12-30", to: "2027-01-04") { nodes { date working provisional holiday } } }'
REQUESTS = "{ subjectRequests(first: 10) { nodes { id dueAt provisional } } }"


async def test_graphql_says_provisional_on_days_and_subject_requests(settings, seeded, reg):
    """Issue 18 point 11: workingDays flags the provisional days (2027) and names 元旦; a subject
    request's dueAt computed over them (10 working days from 2026-12-24: Jan 8, not Jan 7) says
    provisional: true."""
    request = await _working_day_request(seeded.acme.id, reg, datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI))
    async with _client(settings) as client:
        token = (await login(client))["accessToken"]
        days = (await gql(client, WORKING_DAYS, token)).json()["data"]["workingDays"]["nodes"]
        node = (await gql(client, REQUESTS, token)).json()["data"]["subjectRequests"]["nodes"][0]
        refused = (await gql(client, '{ workingDays(from: "2027-01-04", to: "2026-01-01") { nodes { date } } }',
                             token)).json()
    assert [(d["date"], d["working"], d["provisional"], d["holiday"]) for d in days] == [
        ("2026-12-30", True, False, None), ("2026-12-31", True, False, None), ("2027-01-01", False, True, "元旦"),
        ("2027-01-02", False, True, None), ("2027-01-03", False, True, None), ("2027-01-04", True, True, None)]
    assert node["provisional"] is True and node["id"] == str(request.id)
    assert datetime.fromisoformat(node["dueAt"]) == datetime(2027, 1, 8, 18, 0, tzinfo=SHANGHAI)
    assert refused["errors"][0]["extensions"]["code"] == "DATE_INVALID"


async def test_graphql_says_not_provisional_once_the_year_is_loaded(settings, seeded, reg):
    """Issue 18 point 11: after `kehu calendar load` of 2027 the same days and the recomputed
    request say provisional: false (the request moved from Feb 19 to Feb 22 with the loaded
    Spring Festival)."""
    await _working_day_request(seeded.acme.id, reg, datetime(2027, 2, 1, 10, 0, tzinfo=SHANGHAI))
    await schedules.load_schedule(OPERATOR, FIXTURE.read_text(encoding="utf-8"))
    async with _client(settings) as client:
        token = (await login(client))["accessToken"]
        days = (await gql(client, WORKING_DAYS, token)).json()["data"]["workingDays"]["nodes"]
        node = (await gql(client, REQUESTS, token)).json()["data"]["subjectRequests"]["nodes"][0]
    assert not any(d["provisional"] for d in days)
    assert node["provisional"] is False
    assert datetime.fromisoformat(node["dueAt"]) == datetime(2027, 2, 22, 18, 0, tzinfo=SHANGHAI)


async def test_healthz_warns_of_provisional_days_in_the_next_90_days(settings, seeded, monkeypatch):
    """Issue 18 point 11: on 2026-12-03 the next 90 days hold 2027, provisional: /healthz details
    say so and the warning is logged once; on 2026-06-01 they hold none."""
    monkeypatch.setattr(health, "today", lambda: date(2026, 12, 3))
    async with _client(settings) as client:
        with structlog.testing.capture_logs() as logs:
            first = (await client.get("/healthz")).json()
            second = (await client.get("/healthz")).json()
        monkeypatch.setattr(health, "today", lambda: date(2026, 6, 1))
        later = (await client.get("/healthz")).json()
    assert first == second and first["status"] == "ok"
    assert first["details"]["calendar"]["provisional_from"] == "2027-01-01"
    assert first["details"]["calendar"]["years"] == [2027]
    assert [entry["event"] for entry in logs if entry["event"] == "calendar.provisional_ahead"] == [
        "calendar.provisional_ahead"]
    assert later == {"status": "ok"}


async def test_healthz_is_quiet_once_the_year_is_loaded(settings, seeded, monkeypatch):
    """Issue 18 point 11: with 2027 loaded, /healthz on 2026-12-03 carries no calendar warning."""
    monkeypatch.setattr(health, "today", lambda: date(2026, 12, 3))
    await schedules.load_schedule(OPERATOR, FIXTURE.read_text(encoding="utf-8"))
    async with _client(settings) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_a_slow_calendar_read_never_holds_liveness(settings, seeded, monkeypatch):
    """/healthz waits at most CALENDAR_TIMEOUT_SECONDS for the loaded years: a read that hangs is
    logged (calendar.read_failed) and the last known calendar answers."""
    monkeypatch.setattr(health, "today", lambda: date(2026, 12, 3))
    monkeypatch.setattr(health, "CALENDAR_TIMEOUT_SECONDS", 0.2)

    async def hanging_read():
        await asyncio.sleep(30)

    monkeypatch.setattr(health, "read_official_calendar", hanging_read)
    async with _client(settings) as client:
        with structlog.testing.capture_logs() as logs:
            started = time.monotonic()
            answer = (await client.get("/healthz")).json()
            waited = time.monotonic() - started
    assert waited < 5
    assert answer["status"] == "ok"
    assert answer["details"]["calendar"]["years"] == [2027]  # the built-in calendar stands
    assert "calendar.read_failed" in [entry["event"] for entry in logs]


def test_kehu_calendar_load_and_status(sqlite_settings, tmp_path):
    """Issue 18 point 11: `kehu calendar load FILE` stores the year and `status` shows it; a bad
    file exits 1 with one line naming CALENDAR_FILE_INVALID, the line and the day."""
    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url}
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    loaded = runner.invoke(cli, ["calendar", "load", str(FIXTURE)], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "loaded the official schedule of 2027: 29 holidays, 4 make-up working days" in loaded.output
    status = runner.invoke(cli, ["calendar", "status"], env=env)
    assert status.exit_code == 0 and status.output.startswith("2027: loaded ")
    bad = tmp_path / "bad.json"
    bad.write_text(FIXTURE.read_text(encoding="utf-8").replace('"2027-10-09"', '"2027-10-11"'), encoding="utf-8")
    result = runner.invoke(cli, ["calendar", "load", str(bad)], env=env)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "CALENDAR_FILE_INVALID: line 17, workdays[3].date: 2027-10-11 is a Monday" in result.output


async def test_the_tick_logs_the_warning_once_a_day_until_the_year_is_loaded(database, seeded):
    """Issue 18 point 11: the calendar_provisional_warning sweep logs calendar.provisional_ahead
    once a day (controlled clock) while the next 90 days hold provisional days, not after 2027 is
    loaded."""
    schedules._warned_on.clear()
    with structlog.testing.capture_logs() as logs:
        assert await schedules.warn_provisional_ahead(datetime(2026, 12, 3, 1, 0, tzinfo=SHANGHAI)) == 1
        assert await schedules.warn_provisional_ahead(datetime(2026, 12, 3, 23, 0, tzinfo=SHANGHAI)) == 0
        await schedules.load_schedule(OPERATOR, FIXTURE.read_text(encoding="utf-8"))
        assert await schedules.warn_provisional_ahead(datetime(2026, 12, 4, 1, 0, tzinfo=SHANGHAI)) == 0
    warned = [entry for entry in logs if entry["event"] == "calendar.provisional_ahead"]
    assert len(warned) == 1 and warned[0]["provisional_from"] == "2027-01-01"
    schedules._warned_on.clear()
