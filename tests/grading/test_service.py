"""The grading engine's use cases on a controlled clock: review runs with caps and separation of
duties (acceptance 2), the MD10 deadline carried out by the tick (acceptance 3), overrides with a
reason, grade history per customer and scope (MD19), soft-cap warnings."""

from __future__ import annotations

import json

import pytest

from core.audit.tables import AuditEntry
from core.db import unit_of_work
from core.errors import KehuError
from core.grading import service
from core.grading.tables import CustomerGrade, GradeChange, GradeDeadline, GradeReview
from core.jobs.tables import OutboxEvent
from tests.grading.conftest import SCHEME, VERTICAL, add_customers, add_facts, later
from tests.support import SYSTEM

S = SCHEME.id


async def _grades(tenant_id) -> dict[str, str]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(CustomerGrade.customer_id, CustomerGrade.grade)
    return {str(r["customer_id"]): r["grade"] for r in rows}


async def _count(tenant_id, table) -> int:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.count(table)


async def test_acceptance_2_sixteen_percent_vip_refused_at_publish_fifteen_percent_publishes(world, registry, clock):
    """Issue 20 acceptance 2 (MD4 d, seed-000 test 32): a department of 100 customers; a run making
    16 VIP shows the violation in its what-if and is refused at publish listing the 16 customers,
    changing nothing; a run making exactly 15 VIP shows no hard violation and publishes."""
    customers = await add_customers(world.tenant_id, 100, world.sales)
    await add_customers(world.tenant_id, 20, world.service_dept)  # another department's customers do not count
    vips = customers[:16]
    await add_facts(world.tenant_id, str(world.sales), vips, "annual_business", 200)

    run = await service.propose_review(world.proposer, registry, VERTICAL, S, scope_id=world.sales)
    assert run.population == 100 and run.status == "proposed"
    [violation] = run.violations
    assert (violation.grade, violation.count, str(violation.percent), violation.soft) == ("vip", 16, "16.00", False)
    assert set(violation.customers) == {str(c) for c in vips}
    assert not run.publishable
    assert await _grades(world.tenant_id) == {}  # the what-if changed nothing

    await service.approve_review(world.approver, registry, run.id)
    with pytest.raises(KehuError) as refused:
        await service.publish_review(world.approver, registry, run.id)
    assert refused.value.code == "GRADE_CAP_EXCEEDED"
    message = refused.value.message("en")
    assert "16 of 100" in message and all(str(c) in message for c in vips)
    assert all(str(c) in refused.value.message("zh") for c in vips)
    assert await _grades(world.tenant_id) == {} and await _count(world.tenant_id, GradeChange) == 0
    assert (await service.review(world.proposer, registry, run.id)).status == "approved"

    # the 16th is proposed qualified by hand: exactly 15% VIP
    fifteen = await service.propose_review(world.proposer, registry, VERTICAL, S, scope_id=str(world.sales),
                                           proposals={vips[15]: "qualified"})
    assert fifteen.publishable and [v for v in fifteen.violations if v.grade == "vip"] == []
    await service.approve_review(world.approver, registry, fifteen.id)
    published = await service.publish_review(world.approver, registry, fifteen.id)
    assert published.status == "published"
    grades = await _grades(world.tenant_id)
    assert sum(1 for g in grades.values() if g == "vip") == 15 and grades[str(vips[15])] == "qualified"
    assert len(grades) == 100  # every customer of the department got its proposed grade, atomically
    async with unit_of_work(SYSTEM.for_tenant(world.tenant_id), write=False) as uow:
        assert await uow.count(OutboxEvent).where(OutboxEvent.event_type == "grade.changed") == 100
        assert await uow.count(AuditEntry).where(AuditEntry.action == "grade.review_published") == 1


async def test_the_proposer_cannot_approve_and_only_an_approved_run_publishes(world, registry, clock):
    """Issue 20: approval by a permitted role, not the proposer (separation of duties)."""
    customers = await add_customers(world.tenant_id, 10, world.sales)
    await add_facts(world.tenant_id, str(world.sales), customers[:1], "annual_business", 200)
    run = await service.propose_review(world.proposer, registry, VERTICAL, S, scope_id=world.sales)
    with pytest.raises(KehuError) as same:
        await service.approve_review(world.proposer, registry, run.id)
    assert same.value.code == "GRADE_REVIEW_SAME_PERSON"
    with pytest.raises(KehuError) as early:
        await service.publish_review(world.approver, registry, run.id)
    assert early.value.code == "GRADE_REVIEW_STATE"
    with pytest.raises(KehuError) as denied:
        await service.approve_review(world.reader, registry, run.id)
    assert denied.value.code == "PERMISSION_DENIED"
    with pytest.raises(KehuError) as hidden:  # another tenant sees no such review
        await service.approve_review(world.globex, registry, run.id)
    assert hidden.value.code == "GRADE_REVIEW_NOT_FOUND"
    await service.approve_review(world.approver, registry, run.id)
    await service.publish_review(world.approver, registry, run.id)
    with pytest.raises(KehuError) as twice:
        await service.publish_review(world.approver, registry, run.id)
    assert twice.value.code == "GRADE_REVIEW_STATE"


async def test_acceptance_3_tick_downgrades_a_late_paying_vip_after_5_days_as_audited_actor(world, registry, clock):
    """Issue 20 acceptance 3 (MD10, seed-000 test 33): a VIP flagged on 2024-07-01 for late payment
    must be downgraded by 2024-07-06; no one acts, so the tick downgrades it once the 5 days have
    passed, as the audited actor, with the change in the customer's history."""
    [customer] = await add_customers(world.tenant_id, 1, world.sales)
    await add_customers(world.tenant_id, 9, world.sales)
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "vip", "top account",
                                 scope_id=world.sales)
    deadline = await service.flag_required_change(world.proposer, registry, VERTICAL, S, customer, "preferred",
                                                  "late payment in the evaluation period", scope_id=world.sales)
    assert deadline.status == "open" and deadline.due_at == later(clock, days=5)
    assert deadline.due_at.date().isoformat() == "2024-07-06"

    assert await service.enforce_due_in_tenant(world.tenant_id, later(clock, days=4, hours=23), registry) == 0
    assert (await _grades(world.tenant_id))[str(customer)] == "vip"

    tick_at = later(clock, days=5, minutes=1)
    assert await service.enforce_due_in_tenant(world.tenant_id, tick_at, registry) == 1
    assert (await _grades(world.tenant_id))[str(customer)] == "preferred"
    assert await service.enforce_due_in_tenant(world.tenant_id, tick_at, registry) == 0  # once only

    history = await service.grade_history(world.reader, customer)
    last = history[-1]
    assert (last.from_grade, last.to_grade, last.source, last.actor) == ("vip", "preferred", "deadline",
                                                                          service.TICK_ACTOR)
    assert "late payment" in last.reason and last.at == tick_at
    async with unit_of_work(SYSTEM.for_tenant(world.tenant_id), write=False) as uow:
        entries = await uow.select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.actor == service.TICK_ACTOR)
        row = await uow.select(GradeDeadline.status).where(GradeDeadline.id == deadline.id).first()
    assert {e["action"] for e in entries} == {"grade.changed", "grade.deadline_enforced"}
    assert row["status"] == "enforced"


async def test_a_downgrade_in_time_meets_the_deadline_and_the_tick_leaves_it(world, registry, clock):
    """MD10: someone downgrading within the 5 days meets the deadline; the tick then does nothing."""
    [customer] = await add_customers(world.tenant_id, 1, world.sales)
    await add_customers(world.tenant_id, 9, world.sales)
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "vip", "top", scope_id=world.sales)
    deadline = await service.flag_required_change(world.proposer, registry, VERTICAL, S, customer, "preferred",
                                                  "major operating crisis", scope_id=world.sales)
    clock.set(later(clock, days=2))
    await service.override_grade(world.approver, registry, VERTICAL, S, customer, "qualified", "downgraded after review",
                                 scope_id=world.sales)
    assert await service.enforce_due_in_tenant(world.tenant_id, later(clock, days=10), registry) == 0
    assert (await _grades(world.tenant_id))[str(customer)] == "qualified"
    async with unit_of_work(SYSTEM.for_tenant(world.tenant_id), write=False) as uow:
        row = await uow.select(GradeDeadline.status).where(GradeDeadline.id == deadline.id).first()
    assert row["status"] == "met"


async def test_an_override_needs_a_reason_and_records_it(world, registry, clock):
    """Issue 20: manual override with a reason; without one it is refused and writes nothing."""
    [customer] = await add_customers(world.tenant_id, 1, world.sales)
    await add_customers(world.tenant_id, 9, world.sales)
    for reason in ("", "   ", None):
        with pytest.raises(KehuError) as refused:
            await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "preferred", reason,
                                         scope_id=world.sales)
        assert refused.value.code == "GRADE_REASON_REQUIRED" and refused.value.field == "reason"
    assert await _count(world.tenant_id, GradeChange) == 0
    with pytest.raises(KehuError) as unknown:
        await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "gold", "why not",
                                     scope_id=world.sales)
    assert unknown.value.code == "GRADE_UNKNOWN"
    with pytest.raises(KehuError) as denied:
        await service.override_grade(world.reader, registry, VERTICAL, S, customer, "preferred", "reason",
                                     scope_id=world.sales)
    assert denied.value.code == "PERMISSION_DENIED"
    view = await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "preferred",
                                        "strategic hospital", scope_id=world.sales)
    assert view.grade == "preferred"
    [entry] = await service.grade_history(world.reader, customer)
    assert (entry.to_grade, entry.source, entry.reason, entry.actor) == ("preferred", "override", "strategic hospital",
                                                                        world.proposer.actor)
    async with unit_of_work(SYSTEM.for_tenant(world.tenant_id), write=False) as uow:
        audit = await uow.select(AuditEntry.diff).where(AuditEntry.action == "grade.changed").first()
    assert "strategic hospital" in audit["diff"]


async def test_an_override_past_a_hard_cap_is_refused(world, registry, clock):
    """MD4/MD5 (seed-000 test 32): with 15 of 100 VIP, upgrading a 16th is blocked."""
    customers = await add_customers(world.tenant_id, 100, world.sales)
    for customer in customers[:15]:
        await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "vip", "qualifies",
                                     scope_id=world.sales)
    with pytest.raises(KehuError) as refused:
        await service.override_grade(world.proposer, registry, VERTICAL, S, customers[15], "vip", "qualifies",
                                     scope_id=world.sales)
    assert refused.value.code == "GRADE_CAP_EXCEEDED" and str(customers[15]) in refused.value.message("en")
    assert sum(1 for g in (await _grades(world.tenant_id)).values() if g == "vip") == 15


async def test_history_is_kept_per_customer_and_scope(world, registry, clock):
    """MD19: a grade holds in its department only; history lists every change, oldest first."""
    [customer] = await add_customers(world.tenant_id, 1, world.sales)
    await add_customers(world.tenant_id, 9, world.sales)
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "qualified", "first evaluation",
                                 scope_id=world.sales)
    clock.set(later(clock, days=30))
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "preferred", "good year",
                                 scope_id=world.sales)
    clock.set(later(clock, days=1))
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "qualified", "new buyer",
                                 scope_id=world.service_dept)  # graded separately in another department
    history = await service.grade_history(world.reader, customer)
    assert [(h.scope_key, h.from_grade, h.to_grade) for h in history] == [
        (str(world.sales), None, "qualified"), (str(world.sales), "qualified", "preferred"),
        (str(world.service_dept), None, "qualified")]
    sales_only = await service.grade_history(world.reader, customer, scope_key=str(world.sales))
    assert [h.to_grade for h in sales_only] == ["qualified", "preferred"]
    now = await service.current_grades(world.reader, customer)
    assert now == {(VERTICAL, S, str(world.sales)): "preferred", (VERTICAL, S, str(world.service_dept)): "qualified"}
    with pytest.raises(KehuError) as scope:
        await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "qualified", "x")
    assert scope.value.code == "GRADE_SCOPE_INVALID"
    with pytest.raises(KehuError) as other:  # another tenant's reader finds no such customer
        await service.grade_history(world.globex, customer)
    assert other.value.code == "CUSTOMER_NOT_FOUND"


async def test_a_soft_cap_warns_and_still_publishes(world, registry, clock):
    """Issue 20: soft caps warn (preferred 30% here), hard caps refuse; the what-if shows the warning."""
    customers = await add_customers(world.tenant_id, 10, world.sales)
    await add_facts(world.tenant_id, str(world.sales), customers[:4], "annual_business", 60)
    run = await service.propose_review(world.proposer, registry, VERTICAL, S, scope_id=world.sales)
    [warning] = run.warnings
    assert (warning.grade, warning.count, warning.soft) == ("preferred", 4, True) and run.publishable
    await service.approve_review(world.approver, registry, run.id)
    await service.publish_review(world.approver, registry, run.id)
    assert sum(1 for g in (await _grades(world.tenant_id)).values() if g == "preferred") == 4
    view = await service.override_grade(world.proposer, registry, VERTICAL, S, customers[5], "preferred", "grew",
                                        scope_id=world.sales)
    assert [w.count for w in view.warnings] == [5]
    async with unit_of_work(SYSTEM.for_tenant(world.tenant_id), write=False) as uow:
        stored = await uow.select(GradeReview.violations).where(GradeReview.id == run.id).first()
        audit = await uow.select(AuditEntry.diff).where(AuditEntry.action == "grade.review_published").first()
    assert json.loads(stored["violations"])[0]["soft"] is True and "preferred" in audit["diff"]


async def test_facts_are_recorded_and_scored_in_their_scope(world, registry, clock):
    """Issue 20: criteria are scored over facts the tenant records per customer and scope (MD19)."""
    [customer] = await add_customers(world.tenant_id, 1, world.sales)
    await add_customers(world.tenant_id, 9, world.sales)
    await service.record_fact(world.proposer, registry, VERTICAL, S, customer, "annual_business", 10,
                              scope_id=world.sales)
    await service.record_fact(world.proposer, registry, VERTICAL, S, customer, "annual_business", 70,
                              scope_id=world.sales)  # the latest value counts
    await service.record_fact(world.proposer, registry, VERTICAL, S, customer, "annual_business", 500,
                              scope_id=world.service_dept)  # another department's fact does not
    run = await service.propose_review(world.proposer, registry, VERTICAL, S, scope_id=world.sales)
    assert run.proposals[str(customer)] == "preferred"
    with pytest.raises(KehuError) as bad:
        await service.record_fact(world.proposer, registry, VERTICAL, S, customer, "x", {"a": 1}, scope_id=world.sales)
    assert bad.value.code == "GRADE_FACT_INVALID"
    with pytest.raises(KehuError) as scheme:
        await service.record_fact(world.proposer, registry, VERTICAL, "nope", customer, "x", 1, scope_id=world.sales)
    assert scheme.value.code == "GRADING_SCHEME_UNKNOWN"


async def test_a_blacklisted_customer_is_not_graded_upward_in_that_department(world, registry, clock):
    """MD14 / issue 20: grading upward calls the blacklist; a department entry blocks its department
    only, and a downgrade is never blocked."""
    from datetime import UTC, datetime
    from uuid import uuid4

    from core.blacklists.tables import BlacklistEntry

    [customer] = await add_customers(world.tenant_id, 1, world.sales)
    await add_customers(world.tenant_id, 9, world.sales)
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "preferred", "start",
                                 scope_id=world.sales)
    async with unit_of_work(SYSTEM.for_tenant(world.tenant_id)) as uow:
        await uow.insert(BlacklistEntry(id=uuid4(), customer_id=customer, scope="department",
                                        department_id=world.sales, status="active", reason="fraud",
                                        proposed_by="user:x", proposed_at=datetime(2020, 1, 1, tzinfo=UTC),
                                        approved_by="user:y", approved_at=datetime(2020, 1, 1, tzinfo=UTC),
                                        starts_at=datetime(2020, 1, 1, tzinfo=UTC)))
    with pytest.raises(KehuError) as refused:
        await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "vip", "big order",
                                     scope_id=world.sales)
    assert refused.value.code == "CUSTOMER_BLACKLISTED"
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "qualified", "downgrade",
                                 scope_id=world.sales)
    await service.override_grade(world.proposer, registry, VERTICAL, S, customer, "vip", "other department",
                                 scope_id=world.service_dept)
    assert [h.to_grade for h in await service.grade_history(world.reader, customer)] == ["preferred", "qualified", "vip"]


async def test_md19_a_department_scoped_grader_grades_only_its_own_departments(world, registry, clock):
    """MD19 and the medical-devices permission "grade customers within the department": a caller
    holding the grading permission for its department (scope DEPARTMENT, member of Sales) proposes,
    overrides and reads reviews in Sales, and is refused (PERMISSION_DENIED, nothing written) in
    Service; its list of reviews shows only Sales' reviews."""
    from uuid import uuid4

    from core.context import Context, Principal
    from core.identity.permissions import Scope

    sales_people = await add_customers(world.tenant_id, 10, world.sales)
    service_people = await add_customers(world.tenant_id, 10, world.service_dept)
    grader = Context.for_principal(Principal(
        tenant_id=world.tenant_id, user_id=uuid4(), api_key_id=None,
        permissions={"gradetest.grade.assign": Scope.DEPARTMENT, "customer.read": Scope.TENANT},
        department_ids=frozenset({world.sales})))
    mine = await service.propose_review(grader, registry, VERTICAL, S, scope_id=world.sales)
    await service.override_grade(grader, registry, VERTICAL, S, sales_people[0], "preferred", "履约良好",
                                 scope_id=world.sales)
    theirs = await service.propose_review(world.proposer, registry, VERTICAL, S, scope_id=world.service_dept)
    before = await _count(world.tenant_id, GradeChange)
    for attempt in (
        service.propose_review(grader, registry, VERTICAL, S, scope_id=world.service_dept),
        service.override_grade(grader, registry, VERTICAL, S, service_people[0], "preferred", "x",
                               scope_id=world.service_dept),
        service.flag_required_change(grader, registry, VERTICAL, S, service_people[0], "qualified", "x",
                                     scope_id=world.service_dept),
        service.review(grader, registry, theirs.id),
        service.approve_review(grader, registry, theirs.id),
    ):
        with pytest.raises(KehuError) as refused:
            await attempt
        assert refused.value.code == "PERMISSION_DENIED"
    assert await _count(world.tenant_id, GradeChange) == before
    assert (await service.review(grader, registry, mine.id)).scope_key == str(world.sales)
    from core.db.keyset import Window

    listed, _ = await service.list_reviews(grader, registry, Window(10))
    assert [r.id for r in listed] == [mine.id]
    everyone, _ = await service.list_reviews(world.proposer, registry, Window(10))
    assert {r.id for r in everyone} == {mine.id, theirs.id}
