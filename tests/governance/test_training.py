"""Training assessments over GraphQL (issue 24, seed-004 §5.3, CSM-30) on a controlled clock: the
pass mark ("及以上"), retake or retrain after a failure, PENALTY_ELIGIBLE after a second failure of
the same course (no penalty applied), the probation window in calendar months; and the pure policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from litestar.testing import AsyncTestClient

from core.governance import training, training_policy
from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login, new_user
from tests.support import Clock

COURSE = ('mutation($t: String!, $p: Boolean!) { trainingCourseCreate(title: $t, probation: $p) '
          '{ course { id title scale probation } errors { code field } } }')
RESULT = ('mutation($c: ID!, $u: ID!, $s: Decimal!) { trainingResultRecord(courseId: $c, userId: $u, score: $s) '
          '{ result { score passScore outcome failures status } errors { code field } } }')
HIRE = ('mutation($u: ID!, $d: Date!) { trainingHireDaySet(userId: $u, hireDay: $d) { employee { hireDay '
        'probationDueDay probationOverdue } errors { code field } } }')
EMPLOYEE = ('query($u: ID!, $on: Date) { employeeTraining(userId: $u, on: $on) { status hireDay probationDueDay '
            'probationPassed probationOverdue results { outcome status } } }')
EMPLOYEES = ('query($on: Date, $o: Boolean) { trainingEmployees(on: $on, probationOverdue: $o) '
             '{ nodes { userId probationOverdue } } }')
SETTINGS = ('mutation($p: Int, $m: Int) { trainingSettingsUpdate(passScore: $p, probationWithinMonths: $m) '
            '{ settings { passScore probationWithinMonths } errors { code field } } }')


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(datetime(2024, 4, 16, 2, tzinfo=UTC))
    monkeypatch.setattr(training, "now", c)
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


async def test_CSM_30_sixty_passes_and_fifty_nine_and_a_half_fails_with_retake(client, admin, clock):
    """CSM-30: scale 100 and pass_score 60: a total of 60 is PASSED ("及以上"); 59.5 is FAILED and
    the employee's status becomes RETAKE_OR_RETRAIN; a second failure of the same course sets
    PENALTY_ELIGIBLE, with no penalty applied (the result only flags it)."""
    assert (await ok(client, SETTINGS, admin, p=60))["settings"] == {"passScore": 60, "probationWithinMonths": 3}
    course = (await ok(client, COURSE, admin, t="客户信息保密制度", p=False))["course"]
    assert course["scale"] == 100
    passer = await new_user(client, admin, "trainee1")
    failer = await new_user(client, admin, "trainee2")
    passed = (await ok(client, RESULT, admin, c=course["id"], u=passer, s="60"))["result"]
    assert passed["outcome"] == "PASSED" and passed["status"] == "IN_GOOD_STANDING"
    failed = (await ok(client, RESULT, admin, c=course["id"], u=failer, s="59.5"))["result"]
    assert (failed["outcome"], failed["status"], Decimal(failed["score"])) == ("FAILED", "RETAKE_OR_RETRAIN",
                                                                              Decimal("59.5"))
    assert (await ok(client, EMPLOYEE, admin, u=failer))["status"] == "RETAKE_OR_RETRAIN"
    again = (await ok(client, RESULT, admin, c=course["id"], u=failer, s="41"))["result"]
    assert (again["outcome"], again["failures"], again["status"]) == ("FAILED", 2, "PENALTY_ELIGIBLE")
    employee = await ok(client, EMPLOYEE, admin, u=failer)
    assert employee["status"] == "PENALTY_ELIGIBLE"
    assert [r["outcome"] for r in employee["results"]] == ["FAILED", "FAILED"]  # nothing else was done to them


async def test_CSM_30_probation_assessment_overdue_after_three_calendar_months(client, admin, clock):
    """CSM-30: probation_within_months 3 and hire day 2024-01-15 with no probation assessment
    passed: on 2024-04-15 the employee is not yet overdue, on 2024-04-16 they are; a passed
    probation assessment clears the flag."""
    hired = await new_user(client, admin, "newhire")
    employee = (await ok(client, HIRE, admin, u=hired, d="2024-01-15"))["employee"]
    assert employee == {"hireDay": "2024-01-15", "probationDueDay": "2024-04-15", "probationOverdue": True}
    assert (await ok(client, EMPLOYEE, admin, u=hired, on="2024-04-15"))["probationOverdue"] is False
    assert (await ok(client, EMPLOYEE, admin, u=hired, on="2024-04-16"))["probationOverdue"] is True
    assert (await ok(client, EMPLOYEES, admin, on="2024-04-16", o=True))["nodes"] == [
        {"userId": hired, "probationOverdue": True}]
    probation = (await ok(client, COURSE, admin, t="试用期考核", p=True))["course"]
    await ok(client, RESULT, admin, c=probation["id"], u=hired, s="75")
    employee = await ok(client, EMPLOYEE, admin, u=hired, on="2024-04-16")
    assert employee["probationPassed"] is True and employee["probationOverdue"] is False
    assert (await ok(client, EMPLOYEES, admin, on="2024-04-16", o=True))["nodes"] == []


async def test_training_refusals_write_nothing(client, admin, clock, api_settings):
    """A score beyond the scale, a future hire day, an unknown course or a user without
    training.manage is refused, writing nothing."""
    course = (await ok(client, COURSE, admin, t="安全意识", p=False))["course"]
    user = await new_user(client, admin, "trainee3")
    other = (await login(client, username="trainee3"))["accessToken"]
    before = await _snapshot(api_settings)
    assert (await refused(client, RESULT, admin, c=course["id"], u=user, s="100.5"))["code"] == "TRAINING_INPUT_INVALID"
    tomorrow = (clock.at + timedelta(days=2)).date().isoformat()
    assert (await refused(client, HIRE, admin, u=user, d=tomorrow))["code"] == "TRAINING_INPUT_INVALID"
    assert (await refused(client, RESULT, admin, c=user, u=user, s="70"))["code"] == "NOT_FOUND"
    assert (await refused(client, RESULT, other, c=course["id"], u=user, s="70"))["code"] == "PERMISSION_DENIED"
    assert await _snapshot(api_settings) == before


def test_CSM_30_policy_pass_mark_retake_penalty_and_probation():
    """CSM-30: the pure policy: 60 of pass 60 passes, 59.5 fails; one failure means retake or
    retrain, two make a penalty possible; probation ends three calendar months after the hire day."""
    assert training_policy.outcome(Decimal("60"), Decimal("60")) == "PASSED"
    assert training_policy.outcome(Decimal("59.5"), Decimal("60")) == "FAILED"
    assert training_policy.course_status("FAILED", 1) == "RETAKE_OR_RETRAIN"
    assert training_policy.course_status("FAILED", 2) == "PENALTY_ELIGIBLE"
    assert training_policy.standing(["IN_GOOD_STANDING", "PENALTY_ELIGIBLE", "RETAKE_OR_RETRAIN"]) == "PENALTY_ELIGIBLE"
    hire = date(2024, 1, 15)
    assert not training_policy.probation_overdue(hire, 3, False, date(2024, 4, 15))
    assert training_policy.probation_overdue(hire, 3, False, date(2024, 4, 16))
    assert not training_policy.probation_overdue(hire, 3, True, date(2024, 4, 16))
    assert training_policy.probation_due(date(2024, 11, 30), 3) == date(2025, 2, 28)  # calendar months
