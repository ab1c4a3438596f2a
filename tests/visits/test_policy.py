"""The pure visit policy: plans from grades (MD25), stored due dates, channels, the summary report
(MD28) and the service-priority order (MD17)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.visits import policy
from plugins.medical_devices import rules as medical
from tests.visits.conftest import PLANS, SCHEME

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_vip_and_preferred_are_on_the_monthly_on_site_plan_and_qualified_is_not():
    """MD25: key VIP and 优选 customers are visited on site once a month; 合格 is not on that plan."""
    vip = policy.plans_for(PLANS, "vip", SCHEME)
    preferred = policy.plans_for(PLANS, "preferred", SCHEME)
    assert [(r.plan_id, r.channel, r.monthly, r.priority) for r in vip] == [("vip_monthly", "on_site", True, 1)]
    assert [(r.plan_id, r.channel, r.monthly, r.priority) for r in preferred] == [("preferred_monthly", "on_site", True, 2)]
    assert [r.plan_id for r in policy.plans_for(PLANS, "qualified", SCHEME)] == ["qualified_call"]
    assert policy.plans_for(PLANS, None, SCHEME) == []
    assert policy.plans_for(PLANS, "vip", None)[0].priority == policy.UNGRADED_RANK


def test_the_medical_devices_vertical_declares_monthly_visits_for_vip_and_preferred():
    """MD25 as the medical-devices vertical declares it: VIP and 优选 on site every 30 days."""
    scheme, plans = medical.GRADING[0], medical.VISITS
    vip = policy.plans_for(plans, "vip", scheme)
    assert [(r.channel, r.every_days) for r in vip] == [("on_site", 30)]
    assert [r.channel for r in policy.plans_for(plans, "preferred", scheme)] == ["on_site"]


def test_a_monthly_plan_is_due_by_the_end_of_the_local_calendar_month():
    """MD25 每月走访一次: joining on 3 June (Shanghai) the visit is due by the end of June, local time;
    a visit in June moves the due date to the end of July; a rolling plan counts days from the visit."""
    rule = policy.plans_for(PLANS, "vip", SCHEME)[0]
    start = datetime(2026, 6, 3, 2, tzinfo=UTC)
    due = policy.first_due(rule, start, SHANGHAI)
    assert due == datetime(2026, 7, 1, tzinfo=SHANGHAI).astimezone(UTC)
    # 30 June 23:30 Shanghai is still June there, although already 30 June 15:30 UTC
    assert policy.first_due(rule, datetime(2026, 6, 30, 15, 30, tzinfo=UTC), SHANGHAI) == due
    assert policy.next_due(rule, datetime(2026, 6, 20, 2, tzinfo=UTC), due, SHANGHAI) == \
        datetime(2026, 8, 1, tzinfo=SHANGHAI).astimezone(UTC)
    assert policy.next_due(rule, datetime(2026, 12, 20, tzinfo=UTC), due, SHANGHAI) == \
        datetime(2027, 2, 1, tzinfo=SHANGHAI).astimezone(UTC)
    call = policy.plans_for(PLANS, "qualified", SCHEME)[0]
    assert policy.first_due(call, start, SHANGHAI) == datetime(2026, 9, 1, 2, tzinfo=UTC)
    assert policy.next_due(call, datetime(2026, 6, 10, tzinfo=UTC), due, SHANGHAI) == datetime(2026, 9, 8, tzinfo=UTC)


def test_an_on_site_plan_is_met_only_by_an_on_site_visit():
    """MD25: the monthly visit is on site; a phone call does not meet it (it meets a phone plan)."""
    assert policy.meets("on_site", "on_site") and not policy.meets("on_site", "phone")
    assert policy.meets("phone", "phone") and policy.meets("phone", "on_site")
    assert policy.meets("any", "phone")


@pytest.mark.parametrize(("report", "field"), [
    (None, "report"), ({}, "report"), ({"needs": "  "}, "report"), ({"mood": "good"}, "report.mood"),
    ({"needs": 3}, "report.needs"), ({"opinions": "x" * (policy.MAX_REPORT_TEXT + 1)}, "report.opinions"),
])
def test_the_summary_report_needs_needs_opinions_or_suggestions(report, field):
    """MD28: after each visit the 附件5 summary report (latest needs, opinions, suggestions) is filled in."""
    problem = policy.report_problem(report)
    assert problem is not None and problem[0] == field
    assert policy.report_problem({"needs": "新型假肢配件", "suggestions": None}) is None


def test_queue_order_serves_vip_then_preferred_then_the_rest_earliest_due_first():
    """MD17 (e) 四优先, priority visits: VIP before 优选 (ranked below VIP, above 合格) before the
    ungraded; within a rank the earlier due date first."""
    items = [("qualified-early", 3, 1), ("ungraded", policy.UNGRADED_RANK, 0), ("vip-late", 1, 9),
             ("preferred", 2, 2), ("vip-early", 1, 5)]
    ordered = policy.queue_order(items, priority=lambda i: i[1], due_at=lambda i: i[2], key=lambda i: i[0])
    assert [i[0] for i in ordered] == ["vip-early", "vip-late", "preferred", "qualified-early", "ungraded"]
    assert policy.grade_rank(SCHEME, "preferred") == 2 and policy.grade_rank(SCHEME, "gold") == policy.UNGRADED_RANK
