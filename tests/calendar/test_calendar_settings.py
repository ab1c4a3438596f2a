"""The tenant's working calendar over GraphQL: every member reads it, settings managers change it
(validated, audited), and deadlines follow it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from core.calendar.days import DeadlineUnit, Duration, TenantCalendar
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login, new_user

QUERY = "{ workingCalendar { timezone extraHolidays extraWorkdays opens closes } }"
UPDATE = 'mutation($input: WorkingCalendarInput!) { workingCalendarUpdate(input: $input) { ' \
         'calendar { extraHolidays opens } errors { code field } } }'


@pytest.fixture
async def client(settings, seeded):
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})
    async with AsyncTestClient(create_app(relaxed)) as test_client:
        yield test_client


async def test_members_read_and_managers_change_the_calendar(client):
    admin = (await login(client))["accessToken"]
    await new_user(client, admin, "member")
    member = (await login(client, username="member"))["accessToken"]
    assert (await gql(client, QUERY, member)).json()["data"]["workingCalendar"]["timezone"] == "Asia/Shanghai"
    assert (await gql(client, QUERY)).json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    changed = (await gql(client, UPDATE, admin, input={"extraHolidays": ["2026-09-28"], "opens": "08:30"})).json()
    assert changed["data"]["workingCalendarUpdate"] == {
        "calendar": {"extraHolidays": ["2026-09-28"], "opens": "08:30"}, "errors": []}
    bad = (await gql(client, UPDATE, admin, input={"opens": "25:00"})).json()["data"]["workingCalendarUpdate"]
    assert bad["errors"][0]["code"] == "SETTING_INVALID" and bad["calendar"] is None
    audit = (await gql(client, '{ auditEntries(filter: {targetId: "jobs.calendar"}) { edges { node { action } } } }',
                       admin)).json()["data"]["auditEntries"]["edges"]
    assert [e["node"]["action"] for e in audit] == ["setting.updated"]  # the refused change left nothing


def test_a_tenant_closure_moves_a_deadline():
    start = datetime(2026, 9, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    plain = TenantCalendar().due_at(start, Duration(3, DeadlineUnit.WORKING_DAYS))
    closed = TenantCalendar(extra_holidays=frozenset({date(2026, 9, 28)})).due_at(
        start, Duration(3, DeadlineUnit.WORKING_DAYS))
    assert plain.date() == date(2026, 9, 30) and closed.date() == date(2026, 10, 8)
