"""Onboarding of a newly licensed retailer on the working-day calendar (S21 Art3, Art7): the deadlines of a
retailer licensed on the Thursday before the National Day holiday of 2026 (the Mid-Autumn Friday, the
holiday from 1 to 7 October, the make-up working Saturday 10 October), the sweep that records each SLA
breach, hidden fields, the quota approval and the 新商盟 password hand-over."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.calendar import TenantCalendar
from plugins.tobacco import policy, reports, rules, service
from tests.medical_devices.api import ok, refused
from tests.plugins.tobacco.conftest import ERR, extensions, local, maintain, on_app, retailer

REGISTER = ("mutation($c: ID!, $d: Date!, $e: Date) { tobaccoRetailerRegister(customerId: $c, licenceDate: $d, "
            "evaluationOn: $e) { onboarding { customerId dayOne steps { step dueAt state } } %s } }" % ERR)
ONBOARDING = ("query($c: ID!) { tobaccoOnboarding(customerId: $c) { dayOne steps { step dueAt state missingThen "
              "missingNow } } }")
OVERDUE = "query($s: String) { tobaccoOnboardingOverdue(step: $s, first: 100) { nodes { customerId step missing } } }"
PARAMS = ('mutation($k: String!, $v: JSON) { verticalParametersUpdate(verticalId: "tobacco", parameters: '
          '[{key: $k, value: $v}]) { errors { field code } } }')
DEFAULTS = {p.key: p.default for p in rules.PARAMETERS}
THURSDAY = date(2026, 9, 24)  # the Thursday before the National Day holiday of 2026

# (step, the working day it is due on, why)
DUE_DAYS = [
    ("decide", date(2026, 9, 24), "WD1 is the licence day itself (S21 Art7.2)"),
    ("core", date(2026, 9, 28), "WD2: Friday 25 September is Mid-Autumn, then the weekend (Art7.3)"),
    ("market", date(2026, 9, 29), "WD3 (Art7.4)"),
    ("display", date(2026, 10, 14), "WD10: past the holiday, counting the make-up Saturday 10 October (Art7.6)"),
    ("deferred", date(2026, 10, 21), "WD15 (Art7.5)"),
    ("importance", date(2026, 10, 28), "WD20 (Art7.7)"),
]


@pytest.mark.parametrize(("step", "day", "why"), DUE_DAYS, ids=[d[0] for d in DUE_DAYS])
def test_s21_art7_each_onboarding_deadline_falls_on_its_working_day(step, day, why):
    due = policy.onboarding_deadlines(THURSDAY, TenantCalendar(), DEFAULTS)
    assert due[step] == local(day.year, day.month, day.day, 18, 0), why


@pytest.mark.parametrize(("licence", "mode", "first", "wd2"), [
    (date(2026, 9, 24), "next_working_day", date(2026, 9, 28), date(2026, 9, 29)),
    (date(2026, 10, 3), "licence_day", date(2026, 10, 8), date(2026, 10, 9)),  # licensed in the holiday
    (date(2026, 10, 9), "licence_day", date(2026, 10, 9), date(2026, 10, 10)),  # WD2 is the make-up Saturday
    (date(2026, 9, 19), "licence_day", date(2026, 9, 20), date(2026, 9, 21)),  # Saturday; Sunday 20 Sep works
])
def test_s21_art7_working_day_one_and_two_on_holidays_and_make_up_days(licence, mode, first, wd2):
    due = policy.onboarding_deadlines(licence, TenantCalendar(), {**DEFAULTS, "onboarding_day_one": mode})
    assert due["decide"].date() == first and due["core"].date() == wd2


def test_s21_art7_8_display_fields_fall_due_before_an_evaluation_inside_onboarding():
    due = policy.onboarding_deadlines(THURSDAY, TenantCalendar(), DEFAULTS, evaluation_on=date(2026, 10, 9))
    assert due["display"] == local(2026, 10, 8, 18, 0)  # the working day before the evaluation
    assert due["deferred"] == local(2026, 10, 21, 18, 0)


def test_s21_art7_9_quota_approval_is_due_the_working_day_before_the_first_order_day():
    # Wednesdays order: the first after WD3 (Tue 29 Sep) is 30 Sep; the approval is due by the close of 29 Sep.
    due = policy.onboarding_deadlines(THURSDAY, TenantCalendar(), DEFAULTS, order_weekday=3)
    assert due[rules.QUOTA_STEP] == local(2026, 9, 29, 18, 0)
    # Fridays order: 2 October is in the holiday (no orders), so the first order day is Fri 9 Oct, due Thu 8 Oct.
    friday = policy.onboarding_deadlines(THURSDAY, TenantCalendar(), DEFAULTS, order_weekday=5)
    assert friday[rules.QUOTA_STEP] == local(2026, 10, 8, 18, 0)
    # Mondays order: Mon 12 Oct; the day before is a Sunday, so the last working day before: Sat 10 Oct (make-up).
    monday = policy.onboarding_deadlines(THURSDAY, TenantCalendar(), DEFAULTS, order_weekday=1)
    assert monday[rules.QUOTA_STEP] == local(2026, 10, 10, 18, 0)


async def test_s21_art7_a_registered_retailer_shows_every_deadline_through_graphql(company):
    customer = await retailer(company["analyst"])
    made = await ok(company["analyst"], REGISTER, "tobaccoRetailerRegister", c=customer, d="2026-09-24")
    steps = {s["step"]: s for s in made["onboarding"]["steps"]}
    assert made["onboarding"]["dayOne"] == "2026-09-24"
    for step, day, why in DUE_DAYS:
        assert datetime.fromisoformat(steps[step]["dueAt"]) == local(day.year, day.month, day.day, 18, 0), why
        assert steps[step]["state"] == "pending"
    # the licence date is a managed field: set by the registration, refused on customerUpdate
    record = await extensions(company["analyst"], customer)
    assert record["extensions"]["tobacco"]["licence_date"] == "2026-09-24"
    again = await ok(company["analyst"], REGISTER, "tobaccoRetailerRegister", c=customer, d="2026-09-24")
    assert again["onboarding"] == made["onboarding"]  # the same registration again changes nothing
    other = await refused(company["analyst"], REGISTER, "tobaccoRetailerRegister", c=customer, d="2026-09-23")
    assert other["code"] == "TOBACCO_RETAILER_EXISTS"


async def test_s21_art7_the_sweep_records_each_breach_with_the_fields_missing(company, clock):
    analyst = company["analyst"]
    late = await retailer(analyst)
    on_time = await retailer(analyst)
    for customer in (late, on_time):
        await ok(analyst, REGISTER, "tobaccoRetailerRegister", c=customer, d="2026-09-24")
    await maintain(analyst, on_time, location="城关镇一号", visit_batch="周一批", delivery_route="R1",
                   delivery_sequence=3, invoice_type="invoice", service_staff="王五", ordering_method="phone",
                   settlement_method="cash", order_phone="13900000001", order_weekday=2)
    await maintain(analyst, late, location="城关镇二号", ordering_method="phone")
    assert await on_app(company, service.sweep_onboarding, local(2026, 9, 24, 17, 59)) == 0  # nothing due yet
    handled = await on_app(company, service.sweep_onboarding, local(2026, 9, 28, 18, 0))
    assert handled == 4  # decide and core of both; market (WD3) is tomorrow
    overdue = (await ok(analyst, OVERDUE, "tobaccoOnboardingOverdue", s=None))["nodes"]
    assert [(o["customerId"], o["step"]) for o in overdue] == [(late, "decide"), (late, "core")]
    assert set(overdue[1]["missing"]) == {"visit_batch", "delivery_route", "delivery_sequence", "invoice_type",
                                          "service_staff", "settlement_method", "order_phone", "order_weekday"}
    assert overdue[0]["missing"] == ["settlement_method"]
    # the compliance export per step: of the steps that fell due, the share met on time
    compliance = {row[0]: row[1:] for row in await on_app(company, reports.onboarding_compliance)}
    assert compliance["decide"] == [1, 1, 0, 50.0] and compliance["core"] == [1, 1, 0, 50.0]
    assert compliance["market"] == [0, 0, 2, ""]
    # a second sweep of the same moment handles nothing (each breach recorded once)
    assert await on_app(company, service.sweep_onboarding, local(2026, 9, 28, 18, 0)) == 0
    # fixed later, the breach stays recorded; what is missing now is empty
    await maintain(analyst, late, settlement_method="cash")
    view = await ok(analyst, ONBOARDING, "tobaccoOnboarding", c=late)
    decide = next(s for s in view["steps"] if s["step"] == "decide")
    assert decide["state"] == "overdue" and decide["missingThen"] == ["settlement_method"] and decide["missingNow"] == []


async def test_s21_art3_hidden_fields_are_never_due(company, clock):
    analyst = company["analyst"]
    await ok(company["admin"], PARAMS, "verticalParametersUpdate", k="hidden_fields", v="district_type, display_form")
    customer = await retailer(analyst)
    await ok(analyst, REGISTER, "tobaccoRetailerRegister", c=customer, d="2026-09-24")
    await on_app(company, service.sweep_onboarding, local(2026, 10, 14, 18, 0))
    view = await ok(analyst, ONBOARDING, "tobaccoOnboarding", c=customer)
    display = next(s for s in view["steps"] if s["step"] == "display")
    assert display["state"] == "met" and display["missingThen"] == []


async def test_s21_art7_9_quota_approval_and_art7_4_password_hand_over(company, clock):
    analyst, chief = company["analyst"], company["chief"]
    customer = await retailer(analyst)
    await ok(analyst, REGISTER, "tobaccoRetailerRegister", c=customer, d="2026-09-24")
    approve = "mutation($c: ID!) { tobaccoQuotaApprove(customerId: $c) { onboarding { steps { step state } } %s } }" % ERR
    assert (await refused(chief, approve, "tobaccoQuotaApprove", c=customer))["code"] == "TOBACCO_QUOTA_MISSING"
    await maintain(analyst, customer, quota=20)
    assert (await refused(chief, approve, "tobaccoQuotaApprove", c=customer))["code"] == "TOBACCO_QUOTA_NOT_DUE"
    await maintain(analyst, customer, order_weekday=2)
    assert (await refused(analyst, approve, "tobaccoQuotaApprove", c=customer))["code"] == "PERMISSION_DENIED"
    steps = {s["step"]: s["state"] for s in (await ok(chief, approve, "tobaccoQuotaApprove", c=customer))
             ["onboarding"]["steps"]}
    assert steps[rules.QUOTA_STEP] == "met"
    # online ordering starts the password hand-over, due by noon of the 2nd working day after (Art7.4)
    await ok(analyst, "mutation($c: ID!) { tobaccoOrderingMethodSet(customerId: $c, method: ONLINE) { version %s } }"
             % ERR, "tobaccoOrderingMethodSet", c=customer)
    view = await ok(analyst, ONBOARDING, "tobaccoOnboarding", c=customer)
    password = next(s for s in view["steps"] if s["step"] == rules.PASSWORD_STEP)
    assert datetime.fromisoformat(password["dueAt"]) == local(2026, 9, 29, 12, 0)
    handed = await ok(analyst, "mutation($c: ID!) { tobaccoPasswordHandover(customerId: $c) { onboarding { steps { step "
                      "state } } %s } }" % ERR, "tobaccoPasswordHandover", c=customer)
    assert {s["step"]: s["state"] for s in handed["onboarding"]["steps"]}[rules.PASSWORD_STEP] == "met"


async def test_managed_fields_change_only_through_the_vertical(company):
    """S21 Art4, Art11: the ordering method set through the vertical's operation is refused on customerUpdate."""
    analyst = company["analyst"]
    customer = await retailer(analyst)
    await maintain(analyst, customer, ordering_method="phone")
    record = await extensions(analyst, customer)
    update = ("mutation($id: ID!, $v: Int!, $e: JSON) { customerUpdate(id: $id, version: $v, input: {extensions: $e}) "
              "{ customer { version } %s } }" % ERR)
    tobacco = {**record["extensions"]["tobacco"], "ordering_method": "online"}
    error = await refused(analyst, update, "customerUpdate", id=customer, v=record["version"], e={"tobacco": tobacco})
    assert error["code"] == "FIELD_MANAGED" and error["field"] == "extensions.tobacco.ordering_method"
    # an unmanaged field still changes there, the managed ones kept as they are
    fine = {**record["extensions"]["tobacco"], "market_type": "城镇"}
    await ok(analyst, update, "customerUpdate", id=customer, v=record["version"], e={"tobacco": fine})
    # a managed field with a value changes only through a special change
    again = await refused(analyst, "mutation($c: ID!, $v: JSON!) { tobaccoMasterDataMaintain(customerId: $c, values: $v)"
                          " { version %s } }" % ERR, "tobaccoMasterDataMaintain", c=customer,
                          v={"ordering_method": "online"})
    assert again["code"] == "TOBACCO_CHANGE_NEEDS_APPROVAL"
