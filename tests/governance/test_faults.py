"""Fault tickets over GraphQL (issue 24, seed-004 §3.3, CSM-27/28) on a controlled clock: the fix
deadline in clock hours from the report, the breach flag, the required report fields, the states,
the tenant's fix hours; and the pure policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.governance import fault_policy, faults
from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login, new_user
from tests.support import Clock

REPORT = ('mutation($s: String, $at: DateTime, $scope: String, $sev: String!) { faultReport(input: {symptom: $s, '
          'occurredAt: $at, impactScope: $scope, severity: $sev}) { fault { id version status severity fixHours '
          'reportedAt dueAt breached overdue } errors { code field message } } }')
ADVANCE = ('mutation($id: ID!, $v: Int!, $a: String!, $r: String) { faultAdvance(id: $id, version: $v, action: $a, '
           'resolution: $r) { fault { id version status resolvedAt resolution breached overdue } '
           'errors { code field } } }')
SETTINGS = ('mutation($g: Int) { faultSettingsUpdate(generalHours: $g) { settings { criticalHours majorHours '
            'generalHours } errors { code field } } }')
LIST = ('query($st: String, $b: Boolean, $o: Boolean) { faults(status: $st, breached: $b, overdue: $o) '
        '{ nodes { id status breached overdue } } }')


def sh(y, m, d, hh=0, mm=0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(sh(2024, 3, 4, 9))
    monkeypatch.setattr(faults, "now", c)
    return c


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                       "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def ok(client, doc: str, token: str, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    root = next(iter(body["data"].values()))
    assert not (isinstance(root, dict) and root.get("errors")), body
    return root


async def refused(client, doc: str, token: str, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    root = next(iter(body["data"].values()))
    assert len(root["errors"]) == 1, body
    return root["errors"][0]


@pytest.fixture
async def admin(client) -> str:
    return (await login(client))["accessToken"]


async def _report(client, admin, clock, severity="general") -> dict:
    return (await ok(client, REPORT, admin, s="客户列表打开超时", at=(clock.at - timedelta(minutes=10)).isoformat(),
                     scope="销售部全部用户", sev=severity))["fault"]


async def _resolve(client, admin, fault) -> dict:
    return (await ok(client, ADVANCE, admin, id=fault["id"], v=fault["version"], a="resolve",
                     r="重启了查询节点"))["fault"]


async def test_CSM_27_general_fault_resolved_after_four_hours_is_a_breach(client, admin, clock):
    """CSM-27: with general fault fix hours = 4, a general fault reported 2024-03-04 09:00 is due
    at 13:00; resolved at 12:59 it is compliant, resolved at 13:30 it is flagged as a breach."""
    settings = (await ok(client, SETTINGS, admin, g=4))["settings"]
    assert settings == {"criticalHours": 2, "majorHours": 4, "generalHours": 4}
    in_time = await _report(client, admin, clock)
    late = await _report(client, admin, clock)
    assert in_time["fixHours"] == 4
    assert datetime.fromisoformat(in_time["dueAt"]) == sh(2024, 3, 4, 13)
    clock.set(sh(2024, 3, 4, 12, 59))
    resolved = await _resolve(client, admin, in_time)
    assert resolved["status"] == "resolved" and resolved["breached"] is False
    clock.set(sh(2024, 3, 4, 13, 30))
    assert (await ok(client, LIST, admin, o=True))["nodes"] == [{"id": late["id"], "status": "reported",
                                                                 "breached": False, "overdue": True}]
    resolved_late = await _resolve(client, admin, late)
    assert resolved_late["breached"] is True and resolved_late["status"] == "resolved"
    breached = (await ok(client, LIST, admin, b=True))["nodes"]
    assert [n["id"] for n in breached] == [late["id"]]
    closed = (await ok(client, ADVANCE, admin, id=late["id"], v=resolved_late["version"], a="close"))["fault"]
    assert closed["status"] == "closed" and closed["breached"] is True  # the breach stays on the record


async def test_CSM_27_the_deadline_is_clock_hours_by_severity(client, admin, clock):
    """CSM-27: the default fix hours are critical 2, major 4, general 8, counted in clock hours from
    the report (a Saturday night counts too)."""
    clock.set(sh(2024, 3, 9, 22))  # a Saturday
    due = {sev: datetime.fromisoformat((await _report(client, admin, clock, sev))["dueAt"])
           for sev in ("critical", "major", "general")}
    assert due == {"critical": sh(2024, 3, 10, 0), "major": sh(2024, 3, 10, 2), "general": sh(2024, 3, 10, 6)}


async def test_CSM_28_a_fault_report_needs_symptom_occurrence_time_and_impact_scope(client, admin, clock,
                                                                                     api_settings):
    """CSM-28: reportFault missing the symptom, the occurrence time or the impact scope (or giving
    a blank one) fails validation naming the field, and writes nothing."""
    at = (clock.at - timedelta(minutes=5)).isoformat()
    full = {"s": "导出失败", "at": at, "scope": "客服部", "sev": "major"}
    before = await _snapshot(api_settings)
    for name, field in (("s", "symptom"), ("at", "occurred_at"), ("scope", "impact_scope")):
        for blank in ((None, "  ") if name != "at" else (None,)):
            error = await refused(client, REPORT, admin, **{**full, name: blank})
            assert error["code"] == "FAULT_FIELD_REQUIRED", error
            assert error["field"].replace("_", "").lower().endswith(field.replace("_", "").lower()), error
    assert await _snapshot(api_settings) == before
    made = (await ok(client, REPORT, admin, **full))["fault"]
    assert made["status"] == "reported" and made["severity"] == "major"


async def test_fault_states_and_permissions(client, admin, clock):
    """A fault moves reported -> acknowledged -> in_progress -> resolved -> closed; resolving needs
    notes; a closed fault moves no more; a user without fault.report cannot report one."""
    fault = await _report(client, admin, clock)
    step = (await ok(client, ADVANCE, admin, id=fault["id"], v=1, a="acknowledge"))["fault"]
    step = (await ok(client, ADVANCE, admin, id=fault["id"], v=step["version"], a="start"))["fault"]
    assert step["status"] == "in_progress"
    error = await refused(client, ADVANCE, admin, id=fault["id"], v=step["version"], a="resolve", r=" ")
    assert error["code"] == "FAULT_FIELD_REQUIRED"
    error = await refused(client, ADVANCE, admin, id=fault["id"], v=step["version"], a="close")
    assert error["code"] == "FAULT_TRANSITION_INVALID"
    step = await _resolve(client, admin, {**fault, "version": step["version"]})
    step = (await ok(client, ADVANCE, admin, id=fault["id"], v=step["version"], a="close"))["fault"]
    assert step["status"] == "closed"
    error = await refused(client, ADVANCE, admin, id=fault["id"], v=step["version"], a="reopen")
    assert error["code"] == "FAULT_TRANSITION_INVALID"
    await new_user(client, admin, "nofaults")
    nobody = (await login(client, username="nofaults"))["accessToken"]
    error = await refused(client, REPORT, nobody, s="x", at=clock.at.isoformat(), scope="y", sev="general")
    assert error["code"] == "PERMISSION_DENIED"


def test_CSM_27_policy_breach_is_strictly_after_the_deadline():
    """CSM-27: the pure policy: due = reported + hours; resolved at the deadline is in time, a
    minute after is a breach."""
    reported = datetime(2024, 3, 4, 1, tzinfo=UTC)
    due = fault_policy.due_at(reported, 4)
    assert due == datetime(2024, 3, 4, 5, tzinfo=UTC)
    assert not fault_policy.breached(due, due - timedelta(minutes=1))
    assert not fault_policy.breached(due, due)
    assert fault_policy.breached(due, due + timedelta(minutes=30))


def test_CSM_28_policy_names_the_first_missing_field():
    """CSM-28: the pure policy names the missing or blank report field."""
    full = {"symptom": "a", "occurred_at": datetime(2024, 1, 1, tzinfo=UTC), "impact_scope": "b"}
    assert fault_policy.missing_field(full) is None
    assert fault_policy.missing_field({**full, "symptom": " "}) == "symptom"
    assert fault_policy.missing_field({**full, "occurred_at": None}) == "occurred_at"
    assert fault_policy.missing_field({k: v for k, v in full.items() if k != "impact_scope"}) == "impact_scope"
