"""Grading use cases (issue 20), one function per use case: record a fact, propose a review run
(the what-if: proposed grades and every cap violation, nothing changed), approve it (a permitted
person other than its proposer), publish it atomically, override one grade with a reason, flag a
required change with a deadline (MD10) that the tick carries out when no one acts, and read a
customer's grade history. Every change is one unit of work with its audit entry and outbox event.

Grades hold in the scheme's scope (MD19): the tenant, a department (``scope_id`` a department id)
or a product line (``scope_id`` its code); a grade in one scope says nothing about another.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog

from core.audit.chain import record
from core.blacklists.service import refuse_if_blacklisted
from core.calendar.days import DeadlineUnit, Duration
from core.calendar.settings import load_calendar as tenant_calendar
from core.context import Context
from core.customers.tables import Customer
from core.db import unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.grading import policy
from core.grading.policy import CapViolation
from core.grading.tables import CustomerGrade, GradeChange, GradeDeadline, GradeFact, GradeReview
from core.db import keyset
from core.db.keyset import Window
from core.identity.access import PermissionDenied, require, require_signed_in
from core.identity.permissions import Scope
from core.jobs import long_jobs, outbox
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry, started_verticals
from core.plugins.types import GradeScope, GradingScheme, ParameterValue
from core.tenancy.every_tenant import for_each_tenant
from core.tenancy.tables import Department
from core.verticals.service import VerticalNotEnabled, effective_parameters
from core.verticals.tables import VerticalEnablement

log = structlog.get_logger("kehu.grading")

TICK_ACTOR = "job:grading-tick"
TICK_BATCH = 500
TENANT_SCOPE = "tenant"
MAX_REASON = 2000
MAX_FACT_NAME = 60
DEADLINE_PARAMETER = "downgrade_deadline_days"
DEFAULT_DEADLINE_DAYS = 5  # MD10: within 5 days
# MD10's "5日内" does not say calendar or working days (seed-002 note 12): a vertical may declare this
# choice parameter (calendar_days | working_days); calendar days when it does not. Working days
# count on the tenant's working calendar and end at its closing time.
DEADLINE_UNIT_PARAMETER = "downgrade_deadline_unit"
MAX_NAMED = 200  # customers a GRADE_CAP_EXCEEDED message names before "and N more"
SYNC_POPULATION_LIMIT = 2000  # a larger scope is reviewed as a long job (start_review)
REVIEW_JOB = "grade.review"
REVIEW_BATCH = 2000  # customers a review job reads and proposes per step (and per progress report)


def now() -> datetime:
    return datetime.now(UTC)


def _error(code: str, field_name: str | None, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field_name)


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposedChange:
    customer_id: str
    from_grade: str | None
    to_grade: str


@dataclass(frozen=True, slots=True)
class ReviewView:
    """A review run as it stands: its proposals, the changes they make to the current grades and
    every cap violation the scope would have after publication (``publishable`` when none is hard)."""

    id: UUID
    vertical: str
    scheme: str
    scope_key: str
    status: str
    proposed_by: str
    approved_by: str | None
    proposals: dict[str, str]
    changes: list[ProposedChange]
    violations: list[CapViolation]
    population: int

    @property
    def publishable(self) -> bool:
        return not policy.hard(self.violations)

    @property
    def warnings(self) -> list[CapViolation]:
        return [v for v in self.violations if v.soft]


@dataclass(frozen=True, slots=True)
class GradeView:
    customer_id: UUID
    scope_key: str
    grade: str
    warnings: list[CapViolation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    vertical: str
    scheme: str
    scope_key: str
    from_grade: str | None
    to_grade: str
    at: datetime
    actor: str
    source: str
    reason: str
    review_id: UUID | None
    id: UUID | None = None


@dataclass(frozen=True, slots=True)
class DeadlineView:
    id: UUID
    customer_id: UUID
    scope_key: str
    required_grade: str
    due_at: datetime
    status: str


# --- lookups -------------------------------------------------------------------------------------


def scheme_of(registry: VerticalRegistry, vertical: str, scheme_id: str) -> GradingScheme:
    definition = registry.definition(vertical)
    for scheme in definition.grading_schemes if definition else ():
        if scheme.id == scheme_id:
            return scheme
    raise _error("GRADING_SCHEME_UNKNOWN", "scheme", f"the vertical {vertical} has no grading scheme {scheme_id!r}",
                 f"行业插件 {vertical} 没有客户分级方案 {scheme_id!r}")


def _within(ctx: Context, permission: str, scheme: GradingScheme, scope_key: str) -> None:
    """The permission reaches this scope's grades: held tenant-wide, or held for a department the
    caller belongs to when the scheme grades per department (MD19: a department grades its own
    customers). A department- or own-scoped holder reaches nothing organisation-wide."""
    held = require(ctx, permission)
    if held is Scope.TENANT:
        return
    principal = ctx.principal
    if (scheme.scope is GradeScope.DEPARTMENT and held is Scope.DEPARTMENT and principal is not None
            and scope_key in {str(d) for d in principal.department_ids}):
        return
    raise PermissionDenied(permission)


def _permission(vertical: str, scheme: GradingScheme, approve: bool = False) -> str:
    if approve and scheme.approve_permission:
        return scheme.approve_permission
    return scheme.permission or f"{vertical}.grade.assign"


async def _parameters(uow: UnitOfWork, registry: VerticalRegistry, vertical: str) -> dict[str, ParameterValue]:
    """The tenant's effective parameters of an enabled vertical (refused when it is not enabled)."""
    row = await uow.select(VerticalEnablement.status, VerticalEnablement.overrides).where(
        VerticalEnablement.vertical_id == vertical).first()
    definition = registry.definition(vertical)
    if definition is None or row is None or row["status"] != "enabled":
        raise VerticalNotEnabled(vertical)
    return effective_parameters(definition, json.loads(row["overrides"] or "{}"))


async def _scope_key(uow: UnitOfWork, scheme: GradingScheme, scope_id: object) -> str:
    """The key a grade's scope is stored under: ``tenant``, a department's id or a product line's code."""
    if scheme.scope is GradeScope.TENANT:
        if scope_id not in (None, "", TENANT_SCOPE):
            raise _error("GRADE_SCOPE_INVALID", "scope_id", f"grades of {scheme.id} hold for the whole organisation",
                         f"{scheme.id} 的等级适用于整个组织，不分范围")
        return TENANT_SCOPE
    if scheme.scope is GradeScope.DEPARTMENT:
        department = scope_id if isinstance(scope_id, UUID) else None
        if department is None and isinstance(scope_id, str):
            try:
                department = UUID(scope_id)
            except ValueError:
                department = None
        if department is None or await uow.select(Department.id).where(Department.id == department).first() is None:
            raise _error("GRADE_SCOPE_INVALID", "scope_id", f"grades of {scheme.id} hold per department: "
                         f"name one of your departments", f"{scheme.id} 的等级按部门评定：请指定本组织的部门")
        return str(department)
    if not isinstance(scope_id, str) or not scope_id.strip() or len(scope_id.strip()) > 64:
        raise _error("GRADE_SCOPE_INVALID", "scope_id", f"grades of {scheme.id} hold per product line: name it "
                     f"(1 to 64 characters)", f"{scheme.id} 的等级按产品线评定：请指定产品线（1 至 64 个字符）")
    return scope_id.strip()


async def _customer(uow: UnitOfWork, customer_id: object) -> dict[str, Any]:
    row = await uow.select(Customer.id, Customer.department_id).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null()).first() if isinstance(customer_id, UUID) else None
    if row is None:
        raise _error("CUSTOMER_NOT_FOUND", "customer_id", f"no customer {customer_id}", f"未找到客户 {customer_id}")
    return row


async def _population(uow: UnitOfWork, vertical: str, scheme: GradingScheme, scope_key: str) -> list[str]:
    """The customers a scope's caps count: a department's customers, the organisation's, or those
    graded or with facts in a product line."""
    if scheme.scope is GradeScope.PRODUCT_LINE:
        graded = await uow.select(CustomerGrade.customer_id).where(
            (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme.id)
            & (CustomerGrade.scope_key == scope_key))
        facts = await uow.select(GradeFact.customer_id).where(GradeFact.scope_key == scope_key)
        ids = {r["customer_id"] for r in graded} | {r["customer_id"] for r in facts}
        if not ids:
            return []
        rows = await uow.select(Customer.id).where(Customer.id.is_in(list(ids)) & Customer.deleted_at.is_null())
    else:
        query = uow.select(Customer.id).where(Customer.deleted_at.is_null() & Customer.merged_into.is_null())
        if scheme.scope is GradeScope.DEPARTMENT:
            query = query.where(Customer.department_id == UUID(scope_key))
        rows = await query
    return sorted(str(r["id"]) for r in rows)


async def _current(uow: UnitOfWork, vertical: str, scheme: GradingScheme, scope_key: str) -> dict[str, str]:
    rows = await uow.select(CustomerGrade.customer_id, CustomerGrade.grade).where(
        (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme.id)
        & (CustomerGrade.scope_key == scope_key))
    return {str(r["customer_id"]): r["grade"] for r in rows}


async def _facts(uow: UnitOfWork, scope_key: str, customers: list[str]) -> dict[str, dict[str, Any]]:
    """Each customer's latest value of every fact recorded in the scope."""
    facts: dict[str, dict[str, Any]] = {c: {} for c in customers}
    if not customers:
        return facts
    rows = await uow.select(GradeFact.customer_id, GradeFact.name, GradeFact.value).where(
        (GradeFact.scope_key == scope_key) & GradeFact.customer_id.is_in([UUID(c) for c in customers])
    ).order_by(GradeFact.recorded_at).order_by(GradeFact.created_at)
    for row in rows:  # oldest first: the latest value wins
        facts[str(row["customer_id"])][row["name"]] = json.loads(row["value"])
    return facts


def _check_grade(scheme: GradingScheme, code: object, field_name: str = "grade") -> str:
    if not isinstance(code, str) or policy.grade_of(scheme, code) is None:
        raise _error("GRADE_UNKNOWN", field_name, f"{code!r} is not a grade of {scheme.id} "
                     f"({', '.join(g.code for g in scheme.grades)})",
                     f"{code!r} 不是 {scheme.id} 的等级（{', '.join(g.code for g in scheme.grades)}）")
    return code


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise _error("GRADE_REASON_REQUIRED", "reason", "give a reason for this grade change", "请说明等级变更的原因")
    if len(reason) > MAX_REASON:
        raise _error("GRADE_REASON_REQUIRED", "reason", f"the reason is longer than {MAX_REASON} characters",
                     f"原因超过 {MAX_REASON} 个字符")
    return reason.strip()


def _named(customers: tuple[str, ...], more_en: str, more_zh: str) -> tuple[str, str]:
    """The customers a refusal names: every one up to MAX_NAMED, then how many more (the review's
    what-if lists them all, paged)."""
    shown = customers[:MAX_NAMED]
    rest = len(customers) - len(shown)
    return (", ".join(shown) + (f" {more_en.format(rest)}" if rest else ""),
            "、".join(shown) + (more_zh.format(rest) if rest else ""))


def _cap_refusal(found: list[CapViolation]) -> KehuError:
    named = [_named(v.customers, "and {} more", "等另外 {} 个") for v in found]
    parts_en = [f"{v.grade}: {v.count} of {v.population} customers ({v.percent}%) above the cap of "
                f"{v.cap_percent}% — {en}" for v, (en, _zh) in zip(found, named, strict=True)]
    parts_zh = [f"{v.grade}：{v.population} 个客户中有 {v.count} 个（{v.percent}%），超过上限 {v.cap_percent}%——"
                f"{zh}" for v, (_en, zh) in zip(found, named, strict=True)]
    return _error("GRADE_CAP_EXCEEDED", "grade", "refused, a hard cap would be exceeded: " + "; ".join(parts_en),
                  "已拒绝，将超过等级比例上限：" + "；".join(parts_zh))


async def _refuse_if_blacklisted(uow: UnitOfWork, customer_id: UUID, scope_key: str, scheme: GradingScheme) -> None:
    """A blacklisted customer is not graded upward (MD14: a department entry blocks its department)."""
    department = UUID(scope_key) if scheme.scope is GradeScope.DEPARTMENT else None
    await refuse_if_blacklisted(uow, customer_id, department_id=department, action="grading upward")


# --- changing a grade ----------------------------------------------------------------------------


async def _change(uow: UnitOfWork, vertical: str, scheme: GradingScheme, customer_id: UUID, scope_key: str,
                  to_grade: str, at: datetime, *, source: str, reason: str = "", review_id: UUID | None = None) -> bool:
    """Give the customer ``to_grade`` in the scope, with its history entry, audit entry and outbox
    event; deadlines the new grade satisfies are met. False when it already holds that grade."""
    row = await uow.select(CustomerGrade.id, CustomerGrade.grade).where(
        (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme.id)
        & (CustomerGrade.customer_id == customer_id) & (CustomerGrade.scope_key == scope_key)).first()
    before = row["grade"] if row else None
    if before == to_grade:
        return False
    if policy.is_upward(scheme, before, to_grade):
        await _refuse_if_blacklisted(uow, customer_id, scope_key, scheme)
    if row is None:
        await uow.insert(CustomerGrade(id=uuid4(), vertical=vertical, scheme=scheme.id, customer_id=customer_id,
                                       scope_key=scope_key, grade=to_grade, since=at, version=1))
    else:
        await uow.update(CustomerGrade, {CustomerGrade.grade: to_grade, CustomerGrade.since: at,
                                         CustomerGrade.version: CustomerGrade.version + 1}
                         ).where(CustomerGrade.id == row["id"])
    await uow.insert(GradeChange(id=uuid4(), vertical=vertical, scheme=scheme.id, customer_id=customer_id,
                                 scope_key=scope_key, from_grade=before, to_grade=to_grade, at=at,
                                 actor=uow.ctx.actor, source=source, reason=reason, review_id=review_id))
    detail = {"vertical": vertical, "scheme": scheme.id, "scope": scope_key, "from": before, "to": to_grade,
              "source": source, "reason": reason, "review_id": str(review_id) if review_id else None}
    await record(uow, "grade.changed", "customer", customer_id, detail)
    await outbox.add(uow, "grade.changed", "customer", customer_id, ("grade",))
    open_deadlines = await uow.select(GradeDeadline.id, GradeDeadline.required_grade).where(
        (GradeDeadline.vertical == vertical) & (GradeDeadline.scheme == scheme.id)
        & (GradeDeadline.customer_id == customer_id) & (GradeDeadline.scope_key == scope_key)
        & (GradeDeadline.status == "open"))
    for deadline in open_deadlines:
        if policy.at_or_below(scheme, to_grade, deadline["required_grade"]):
            await uow.update(GradeDeadline, {GradeDeadline.status: "met", GradeDeadline.resolved_at: at,
                                             GradeDeadline.next_due_at: None}).where(GradeDeadline.id == deadline["id"])
            await record(uow, "grade.deadline_met", "grade_deadline", deadline["id"], {"grade": to_grade})
    return True


# --- facts ---------------------------------------------------------------------------------------


async def record_fact(ctx: Context, registry: VerticalRegistry, vertical: str, scheme_id: str, customer_id: UUID,
                      name: str, value: Any, *, scope_id: object = None) -> None:
    """Record one fact about a customer in a scope (a number, text, true/false); the latest counts."""
    scheme = scheme_of(registry, vertical, scheme_id)
    require(ctx, _permission(vertical, scheme))
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_FACT_NAME:
        raise _error("GRADE_FACT_INVALID", "name", f"a fact needs a name of 1 to {MAX_FACT_NAME} characters",
                     f"事实名称须为 1 至 {MAX_FACT_NAME} 个字符")
    if value is not None and not isinstance(value, (int, float, str, bool)):
        raise _error("GRADE_FACT_INVALID", "value", "a fact's value is a number, text, true or false",
                     "事实的值须为数字、文本或真/假")
    async with unit_of_work(ctx) as uow:
        await _parameters(uow, registry, vertical)
        await _customer(uow, customer_id)
        scope_key = await _scope_key(uow, scheme, scope_id)
        _within(ctx, _permission(vertical, scheme), scheme, scope_key)
        fact_id = uuid4()
        await uow.insert(GradeFact(id=fact_id, customer_id=customer_id, scope_key=scope_key, name=name.strip(),
                                   value=json.dumps(value), recorded_at=now(), recorded_by=ctx.actor))
        await record(uow, "grade.fact_recorded", "customer", customer_id, {"scope": scope_key, "name": name.strip()})
        await outbox.add(uow, "grade.fact_recorded", "customer", customer_id, ("facts",))


# --- review runs ---------------------------------------------------------------------------------


async def _what_if(uow: UnitOfWork, vertical: str, scheme: GradingScheme, scope_key: str,
                   proposals: Mapping[str, str], parameters: Mapping[str, ParameterValue]
                   ) -> tuple[list[ProposedChange], list[CapViolation], int]:
    population = await _population(uow, vertical, scheme, scope_key)
    current = await _current(uow, vertical, scheme, scope_key)
    members = set(population)
    after = {c: g for c, g in current.items() if c in members}
    changes = []
    for customer, grade in sorted(proposals.items()):
        if customer in members and current.get(customer) != grade:
            changes.append(ProposedChange(customer, current.get(customer), grade))
        if customer in members:
            after[customer] = grade
    return changes, policy.violations(scheme, after, len(population), parameters), len(population)


async def _review_view(uow: UnitOfWork, registry: VerticalRegistry, row: Mapping[str, Any]) -> ReviewView:
    scheme = scheme_of(registry, row["vertical"], row["scheme"])
    parameters = await _parameters(uow, registry, row["vertical"])
    proposals = json.loads(row["proposals"])
    changes, found, population = await _what_if(uow, row["vertical"], scheme, row["scope_key"], proposals, parameters)
    return ReviewView(id=row["id"], vertical=row["vertical"], scheme=row["scheme"], scope_key=row["scope_key"],
                      status=row["status"], proposed_by=row["proposed_by"], approved_by=row["approved_by"],
                      proposals=proposals, changes=changes, violations=found, population=population)


async def propose_review(ctx: Context, registry: VerticalRegistry, vertical: str, scheme_id: str, *,
                         scope_id: object = None, proposals: Mapping[UUID | str, str] | None = None) -> ReviewView:
    """Compute proposed grades for the scope's population from their facts (the scheme's policy or
    weighted criteria), overlaid with ``proposals`` given by hand (a rule set applied by a person),
    and store the run. Nothing changes yet: the view shows every change and cap violation."""
    scheme = scheme_of(registry, vertical, scheme_id)
    require(ctx, _permission(vertical, scheme))
    async with unit_of_work(ctx) as uow:
        parameters = await _parameters(uow, registry, vertical)
        scope_key = await _scope_key(uow, scheme, scope_id)
        _within(ctx, _permission(vertical, scheme), scheme, scope_key)
        population = await _population(uow, vertical, scheme, scope_key)
        if len(population) > SYNC_POPULATION_LIMIT:
            raise _error("GRADE_REVIEW_TOO_LARGE", "scope_id", f"the scope has {len(population)} customers, more than "
                         f"{SYNC_POPULATION_LIMIT} reviewed in one request: start the review as a long job "
                         f"(gradeReviewStart)", f"该范围有 {len(population)} 个客户，超过单次请求可评审的 "
                         f"{SYNC_POPULATION_LIMIT} 个：请以后台任务方式发起评审（gradeReviewStart）")
        facts = await _facts(uow, scope_key, population)
        computed: dict[str, str] = {}
        for customer in population:
            grade = policy.propose(scheme, facts[customer], parameters)
            if grade is not None:
                computed[customer] = grade
        members = set(population)
        for customer, grade in (proposals or {}).items():
            key = str(customer)
            if key not in members:
                raise _error("CUSTOMER_NOT_FOUND", "proposals", f"customer {key} is not in the scope {scope_key}",
                             f"客户 {key} 不在范围 {scope_key} 内")
            computed[key] = _check_grade(scheme, grade, "proposals")
        review_id = uuid4()
        await uow.insert(GradeReview(id=review_id, vertical=vertical, scheme=scheme.id, scope_key=scope_key,
                                     status="proposed", proposed_by=ctx.actor, proposed_at=now(),
                                     proposals=json.dumps(computed, sort_keys=True)))
        row = await uow.select(GradeReview).where(GradeReview.id == review_id).first()
        view = await _review_view(uow, registry, row)
        await uow.update(GradeReview, {GradeReview.violations: json.dumps([v.as_dict() for v in view.violations])}
                         ).where(GradeReview.id == review_id)
        await record(uow, "grade.review_proposed", "grade_review", review_id,
                     {"scheme": scheme.id, "scope": scope_key, "changes": len(view.changes),
                      "violations": len(view.violations)})
        await outbox.add(uow, "grade.review_proposed", "grade_review", review_id, ("status",))
    return view


async def _load_review(uow: UnitOfWork, review_id: object) -> dict[str, Any]:
    row = await uow.select(GradeReview).where(GradeReview.id == review_id).first() \
        if isinstance(review_id, UUID) else None
    if row is None:
        raise _error("GRADE_REVIEW_NOT_FOUND", "id", f"no grade review {review_id}", f"未找到等级评审 {review_id}")
    return row


async def review(ctx: Context, registry: VerticalRegistry, review_id: UUID) -> ReviewView:
    """A review run's what-if against the grades as they are now."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await _load_review(uow, review_id)
        scheme = scheme_of(registry, row["vertical"], row["scheme"])
        _within(ctx, _permission(row["vertical"], scheme), scheme, row["scope_key"])
        return await _review_view(uow, registry, row)


async def _approve(uow: UnitOfWork, registry: VerticalRegistry, review_id: UUID) -> dict[str, Any]:
    ctx = uow.ctx
    row = await _load_review(uow, review_id)
    scheme = scheme_of(registry, row["vertical"], row["scheme"])
    _within(ctx, _permission(row["vertical"], scheme, approve=True), scheme, row["scope_key"])
    if row["status"] != "proposed":
        raise _error("GRADE_REVIEW_STATE", "id", f"the review is {row['status']}, not proposed",
                     f"该评审状态为 {row['status']}，不是待审批")
    if row["proposed_by"] == ctx.actor:
        raise _error("GRADE_REVIEW_SAME_PERSON", "id", "the proposer of a review cannot approve it",
                     "评审的提出人不能审批该评审")
    await uow.update(GradeReview, {GradeReview.status: "approved", GradeReview.approved_by: ctx.actor,
                                   GradeReview.approved_at: now()}).where(GradeReview.id == review_id)
    await record(uow, "grade.review_approved", "grade_review", review_id, {"scheme": scheme.id})
    await outbox.add(uow, "grade.review_approved", "grade_review", review_id, ("status", "approved_by"))
    return await _load_review(uow, review_id)


async def approve_review(ctx: Context, registry: VerticalRegistry, review_id: UUID) -> ReviewView:
    """Approve a proposed run: a holder of the approving permission who is not its proposer."""
    async with unit_of_work(ctx) as uow:
        row = await _approve(uow, registry, review_id)
        return await _review_view(uow, registry, row)


async def approve(ctx: Context, registry: VerticalRegistry, review_id: UUID) -> ReviewRow:
    """``approve_review`` without computing the what-if (a review of any size: the approval itself
    reads one row)."""
    async with unit_of_work(ctx) as uow:
        return _row_view(await _approve(uow, registry, review_id))


async def _approved_review(uow: UnitOfWork, ctx: Context, registry: VerticalRegistry,
                           review_id: object) -> tuple[dict[str, Any], GradingScheme]:
    """A review the caller may publish (the approving permission in its scope), once approved."""
    row = await _load_review(uow, review_id)
    scheme = scheme_of(registry, row["vertical"], row["scheme"])
    _within(ctx, _permission(row["vertical"], scheme, approve=True), scheme, row["scope_key"])
    if row["status"] != "approved":
        raise _error("GRADE_REVIEW_STATE", "id", f"the review is {row['status']}, not approved",
                     f"该评审状态为 {row['status']}，未获审批")
    return row, scheme


async def publish_review(ctx: Context, registry: VerticalRegistry, review_id: UUID, *,
                         in_job: bool = False) -> ReviewView:
    """Publish an approved run atomically: every change or none. Refused with ``GRADE_CAP_EXCEEDED``
    (naming the grade, the share and the customers holding it) when a hard cap would be exceeded;
    soft caps are in the view's ``warnings``. A run proposing more than SYNC_POPULATION_LIMIT
    grades is published by a long job (``start_publish``), still in one unit of work."""
    async with unit_of_work(ctx) as uow:
        row, scheme = await _approved_review(uow, ctx, registry, review_id)
        _refuse_if_large(row, in_job)
        view = await _review_view(uow, registry, row)
        blocking = policy.hard(view.violations)
        if blocking:
            raise _cap_refusal(blocking)
        at = now()
        for change in view.changes:
            await _change(uow, row["vertical"], scheme, UUID(change.customer_id), row["scope_key"], change.to_grade,
                          at, source="review", review_id=review_id)
        await uow.update(GradeReview, {GradeReview.status: "published", GradeReview.published_at: at}
                         ).where(GradeReview.id == review_id)
        await record(uow, "grade.review_published", "grade_review", review_id,
                     {"scheme": scheme.id, "scope": row["scope_key"], "changes": len(view.changes),
                      "warnings": [v.as_dict() for v in view.warnings]})
        await outbox.add(uow, "grade.review_published", "grade_review", review_id, ("status",))
    return ReviewView(**{**{f: getattr(view, f) for f in view.__dataclass_fields__}, "status": "published"})


# --- overrides -----------------------------------------------------------------------------------


async def override_grade(ctx: Context, registry: VerticalRegistry, vertical: str, scheme_id: str, customer_id: UUID,
                         grade: str, reason: str, *, scope_id: object = None) -> GradeView:
    """Set one customer's grade by hand, with a reason; a hard cap still holds, a soft one warns."""
    scheme = scheme_of(registry, vertical, scheme_id)
    require(ctx, _permission(vertical, scheme))
    grade = _check_grade(scheme, grade)
    why = _reason(reason)
    async with unit_of_work(ctx) as uow:
        parameters = await _parameters(uow, registry, vertical)
        await _customer(uow, customer_id)
        scope_key = await _scope_key(uow, scheme, scope_id)
        _within(ctx, _permission(vertical, scheme), scheme, scope_key)
        _changes, found, _population_size = await _what_if(uow, vertical, scheme, scope_key,
                                                          {str(customer_id): grade}, parameters)
        found = [v for v in found if v.grade == grade]  # only the grade this override adds to
        if policy.hard(found):
            raise _cap_refusal(policy.hard(found))
        await _change(uow, vertical, scheme, customer_id, scope_key, grade, now(), source="override", reason=why)
    return GradeView(customer_id, scope_key, grade, [v for v in found if v.soft])


# --- required changes (MD10) ---------------------------------------------------------------------


async def flag_required_change(ctx: Context, registry: VerticalRegistry, vertical: str, scheme_id: str,
                               customer_id: UUID, required_grade: str, reason: str, *,
                               scope_id: object = None) -> DeadlineView:
    """A problem found (MD10: a VIP paying late): the customer must be at ``required_grade`` or below
    within the vertical's ``downgrade_deadline_days`` (else the scheme's, else 5 days); the tick
    makes the change when no one has."""
    scheme = scheme_of(registry, vertical, scheme_id)
    require(ctx, _permission(vertical, scheme))
    required_grade = _check_grade(scheme, required_grade, "required_grade")
    why = _reason(reason)
    async with unit_of_work(ctx) as uow:
        parameters = await _parameters(uow, registry, vertical)
        await _customer(uow, customer_id)
        scope_key = await _scope_key(uow, scheme, scope_id)
        _within(ctx, _permission(vertical, scheme), scheme, scope_key)
        days = parameters.get(DEADLINE_PARAMETER, scheme.change_deadline_days or DEFAULT_DEADLINE_DAYS)
        unit = _deadline_unit(parameters.get(DEADLINE_UNIT_PARAMETER))
        flagged = now()
        due = (await tenant_calendar(uow)).due_at(flagged, Duration(int(days), unit)).astimezone(UTC)  # type: ignore[arg-type]
        deadline_id = uuid4()
        await uow.insert(GradeDeadline(id=deadline_id, vertical=vertical, scheme=scheme.id, customer_id=customer_id,
                                       scope_key=scope_key, required_grade=required_grade, reason=why,
                                       flagged_by=ctx.actor, flagged_at=flagged, due_at=due, next_due_at=due,
                                       status="open"))
        await record(uow, "grade.deadline_flagged", "grade_deadline", deadline_id,
                     {"customer_id": str(customer_id), "scope": scope_key, "required_grade": required_grade,
                      "due_at": due.isoformat(), "reason": why})
        await outbox.add(uow, "grade.deadline_flagged", "grade_deadline", deadline_id, ("due_at", "required_grade"))
        current = await uow.select(CustomerGrade.grade).where(
            (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme.id)
            & (CustomerGrade.customer_id == customer_id) & (CustomerGrade.scope_key == scope_key)).first()
        status = "open"
        if policy.at_or_below(scheme, current["grade"] if current else None, required_grade):
            status = "met"
            await uow.update(GradeDeadline, {GradeDeadline.status: status, GradeDeadline.resolved_at: flagged,
                                             GradeDeadline.next_due_at: None}).where(GradeDeadline.id == deadline_id)
    return DeadlineView(deadline_id, customer_id, scope_key, required_grade, due, status)


def _deadline_unit(value: object) -> DeadlineUnit:
    return DeadlineUnit.WORKING_DAYS if value == DeadlineUnit.WORKING_DAYS.value else DeadlineUnit.CALENDAR_DAYS


async def enforce_due_in_tenant(tenant_id: UUID, at: datetime, registry: VerticalRegistry | None = None,
                                batch: int = TICK_BATCH) -> int:
    """Carry out one tenant's required changes past due at ``at``: the tick is the audited actor."""
    registry = registry or started_verticals()
    handled = 0
    async with unit_of_work(Context.system(TICK_ACTOR, tenant_id)) as uow:
        due = await uow.select(GradeDeadline).where(
            (GradeDeadline.next_due_at <= at) & (GradeDeadline.status == "open")
        ).order_by(GradeDeadline.next_due_at).limit(batch)
        for deadline in due:
            claimed = await uow.update(GradeDeadline, {GradeDeadline.next_due_at: None,
                                                       GradeDeadline.status: "enforced",
                                                       GradeDeadline.resolved_at: at}).where(
                (GradeDeadline.id == deadline["id"]) & (GradeDeadline.status == "open")
                & GradeDeadline.next_due_at.is_not_null()).returning(GradeDeadline.id)
            if not claimed:
                continue
            try:
                scheme = scheme_of(registry, deadline["vertical"], deadline["scheme"])
            except KehuError:  # the vertical or scheme is gone: nothing to apply
                continue
            changed = await _change(uow, deadline["vertical"], scheme, deadline["customer_id"], deadline["scope_key"],
                                    deadline["required_grade"], at, source="deadline",
                                    reason=f"deadline {deadline['due_at'].isoformat()} passed: {deadline['reason']}")
            if not changed:  # already at the required grade: nothing to carry out
                await uow.update(GradeDeadline, {GradeDeadline.status: "met"}).where(GradeDeadline.id == deadline["id"])
            await record(uow, "grade.deadline_enforced", "grade_deadline", deadline["id"],
                         {"customer_id": str(deadline["customer_id"]), "grade": deadline["required_grade"],
                          "changed": changed})
            await outbox.add(uow, "grade.deadline_enforced", "grade_deadline", deadline["id"], ("status",))
            handled += 1
    return handled


async def enforce_due(at: datetime | None = None) -> int:
    """The tick's sweep: every tenant's required grade changes past due."""
    at = at or now()
    registry = started_verticals()
    return await for_each_tenant(TICK_ACTOR, lambda tenant_id: enforce_due_in_tenant(tenant_id, at, registry),
                                 "grading.tick_failed", tenants=await tenants_due("grade_deadlines", at))


# --- reading -------------------------------------------------------------------------------------


async def grade_history(ctx: Context, customer_id: UUID, *, vertical: str | None = None,
                        scheme: str | None = None, scope_key: str | None = None) -> list[HistoryEntry]:
    """Every grade the customer received, oldest first, in every scheme and scope (or the one named)."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        await _customer(uow, customer_id)
        query = uow.select(GradeChange).where(GradeChange.customer_id == customer_id)
        if vertical is not None:
            query = query.where(GradeChange.vertical == vertical)
        if scheme is not None:
            query = query.where(GradeChange.scheme == scheme)
        if scope_key is not None:
            query = query.where(GradeChange.scope_key == scope_key)
        rows = await query.order_by(GradeChange.at).order_by(GradeChange.created_at)
    return [HistoryEntry(r["vertical"], r["scheme"], r["scope_key"], r["from_grade"], r["to_grade"],
                         r["at"].astimezone(UTC), r["actor"], r["source"], r["reason"], r["review_id"], r["id"])
            for r in rows]


async def current_grades(ctx: Context, customer_id: UUID) -> dict[tuple[str, str, str], str]:
    """The customer's grades now: (vertical, scheme, scope) -> grade."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        await _customer(uow, customer_id)
        rows = await uow.select(CustomerGrade).where(CustomerGrade.customer_id == customer_id)
    return {(r["vertical"], r["scheme"], r["scope_key"]): r["grade"] for r in rows}


# --- review runs as one long job -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A stored review run without its what-if (lists show these; ``review`` computes the what-if)."""

    id: UUID
    vertical: str
    scheme: str
    scope_key: str
    status: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None


def _row_view(row: Mapping[str, Any]) -> ReviewRow:
    return ReviewRow(row["id"], row["vertical"], row["scheme"], row["scope_key"], row["status"], row["proposed_by"],
                     row["proposed_at"].astimezone(UTC), row["approved_by"],
                     row["approved_at"].astimezone(UTC) if row["approved_at"] else None,
                     row["published_at"].astimezone(UTC) if row["published_at"] else None)


async def start_review(ctx: Context, registry: VerticalRegistry, vertical: str, scheme_id: str, *,
                       scope_id: object = None) -> UUID:
    """Queue a review run of the scope's whole population as one long job (any size): the job reads
    the customers and their facts REVIEW_BATCH at a time, reporting progress after each batch, then
    stores the run (status proposed, proposed by the requester) with its what-if; its result names
    the review (``review_id``). Checked now: the permission, the vertical enabled, the scope."""
    scheme = scheme_of(registry, vertical, scheme_id)
    require(ctx, _permission(vertical, scheme))
    async with unit_of_work(ctx) as uow:
        await _parameters(uow, registry, vertical)
        scope_key = await _scope_key(uow, scheme, scope_id)
        _within(ctx, _permission(vertical, scheme), scheme, scope_key)
        return await long_jobs.submit(uow, REVIEW_JOB, {"vertical": vertical, "scheme": scheme.id,
                                                        "scope_key": scope_key, "actor": ctx.actor})


async def _population_batches(ctx: Context, vertical: str, scheme: GradingScheme, scope_key: str,
                              size: int) -> AsyncIterator[list[UUID]]:
    """The scope's population in id order, ``size`` ids per batch, each read in its own short
    transaction (keyset on the id: a batch costs the same deep in a large tenant)."""
    if scheme.scope is GradeScope.PRODUCT_LINE:
        async with unit_of_work(ctx, write=False) as uow:
            everyone = [UUID(c) for c in await _population(uow, vertical, scheme, scope_key)]
        for start in range(0, len(everyone), size):
            yield everyone[start:start + size]
        return
    last: UUID | None = None
    while True:
        async with unit_of_work(ctx, write=False) as uow:
            query = uow.select(Customer.id).where(Customer.deleted_at.is_null() & Customer.merged_into.is_null())
            if scheme.scope is GradeScope.DEPARTMENT:
                query = query.where(Customer.department_id == UUID(scope_key))
            if last is not None:
                query = query.where(Customer.id > last)
            rows = await query.order_by(Customer.id).limit(size)
        if not rows:
            return
        batch = [r["id"] for r in rows]
        yield batch
        if len(batch) < size:
            return
        last = batch[-1]


async def _population_size(ctx: Context, vertical: str, scheme: GradingScheme, scope_key: str) -> int:
    async with unit_of_work(ctx, write=False) as uow:
        if scheme.scope is GradeScope.PRODUCT_LINE:
            return len(await _population(uow, vertical, scheme, scope_key))
        query = uow.count(Customer).where(Customer.deleted_at.is_null() & Customer.merged_into.is_null())
        if scheme.scope is GradeScope.DEPARTMENT:
            query = query.where(Customer.department_id == UUID(scope_key))
        return await query


async def run_review(ctx: Context, registry: VerticalRegistry, vertical: str, scheme_id: str, scope_key: str,
                     proposer: str, progress: Callable[[int, int], Awaitable[None]] | None = None,
                     batch_size: int | None = None) -> dict[str, Any]:
    """The work of a review job: propose every customer of the scope from its facts, batch by batch,
    then store the run and its what-if in one unit of work (audited, with its outbox event)."""
    scheme = scheme_of(registry, vertical, scheme_id)
    async with unit_of_work(ctx, write=False) as uow:
        parameters = await _parameters(uow, registry, vertical)
    total = await _population_size(ctx, vertical, scheme, scope_key)
    if progress is not None:
        await progress(0, total)
    computed: dict[str, str] = {}
    after: dict[str, str] = {}  # the scope's grades once published, for the caps
    changes = population = 0
    async for batch in _population_batches(ctx, vertical, scheme, scope_key, batch_size or REVIEW_BATCH):
        keys = [str(c) for c in batch]
        facts: dict[str, dict[str, Any]] = {c: {} for c in keys}
        async with unit_of_work(ctx, write=False) as uow:
            # The batch is in id order: read its id range (no list of thousands of ids to bind),
            # keeping only the batch's own customers.
            fact_rows = await uow.select(GradeFact.customer_id, GradeFact.name, GradeFact.value).where(
                (GradeFact.scope_key == scope_key) & (GradeFact.customer_id >= batch[0])
                & (GradeFact.customer_id <= batch[-1])).order_by(GradeFact.recorded_at).order_by(GradeFact.created_at)
            current_rows = await uow.select(CustomerGrade.customer_id, CustomerGrade.grade).where(
                (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme.id)
                & (CustomerGrade.scope_key == scope_key) & (CustomerGrade.customer_id >= batch[0])
                & (CustomerGrade.customer_id <= batch[-1]))
        for row in fact_rows:  # oldest first: the latest value wins
            values = facts.get(str(row["customer_id"]))
            if values is not None:
                values[row["name"]] = json.loads(row["value"])
        current = {str(r["customer_id"]): r["grade"] for r in current_rows}
        for customer in keys:
            grade = policy.propose(scheme, facts[customer], parameters)
            if grade is not None:
                computed[customer] = grade
                if current.get(customer) != grade:
                    changes += 1
            final = grade if grade is not None else current.get(customer)
            if final is not None:
                after[customer] = final
        population += len(batch)
        if progress is not None:
            await progress(population, max(total, population))
    found = policy.violations(scheme, after, population, parameters)
    review_id = uuid4()
    async with unit_of_work(ctx) as uow:
        await uow.insert(GradeReview(id=review_id, vertical=vertical, scheme=scheme.id, scope_key=scope_key,
                                     status="proposed", proposed_by=proposer, proposed_at=now(),
                                     proposals=json.dumps(computed, sort_keys=True),
                                     violations=json.dumps([v.as_dict() for v in found])))
        await record(uow, "grade.review_proposed", "grade_review", review_id,
                     {"scheme": scheme.id, "scope": scope_key, "changes": changes, "violations": len(found),
                      "population": population, "job": True})
        await outbox.add(uow, "grade.review_proposed", "grade_review", review_id, ("status",))
    return {"review_id": str(review_id), "population": population, "proposals": len(computed), "changes": changes,
            "violations": len(found), "hard_violations": len(policy.hard(found))}


@long_jobs.job_kind(REVIEW_JOB, read_permission="customer.read")
async def _run_review_job(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params

    async def progress(done: int, total: int) -> None:
        await job.progress(done, total, f"{done} of {total} customers proposed")

    ctx = Context.system(p["actor"], job.tenant_id)  # the requester, checked when the job was asked for
    return await run_review(ctx, started_verticals(), p["vertical"], p["scheme"], p["scope_key"], p["actor"],
                            progress)


PUBLISH_JOB = "grade.publish"


def _proposal_count(row: Mapping[str, Any]) -> int:
    return len(json.loads(row["proposals"]))


def _refuse_if_large(row: Mapping[str, Any], in_job: bool) -> None:
    count = _proposal_count(row)
    if not in_job and count > SYNC_POPULATION_LIMIT:
        raise _error("GRADE_REVIEW_TOO_LARGE", "id", f"the review proposes {count} grades, more than "
                     f"{SYNC_POPULATION_LIMIT} published in one request: publish it as a long job "
                     f"(gradeReviewPublishStart)", f"该评审提出 {count} 个等级，超过单次请求可发布的 "
                     f"{SYNC_POPULATION_LIMIT} 个：请以后台任务方式发布（gradeReviewPublishStart）")


async def start_publish(ctx: Context, registry: VerticalRegistry, review_id: UUID) -> UUID:
    """Queue the publication of an approved run of any size as one long job: every change in one
    unit of work, or none (the job fails with ``GRADE_CAP_EXCEEDED`` when a hard cap would be
    exceeded). Checked now: the approving permission and the state."""
    async with unit_of_work(ctx) as uow:
        row, scheme = await _approved_review(uow, ctx, registry, review_id)
        return await long_jobs.submit(uow, PUBLISH_JOB, {"review_id": str(review_id), "actor": ctx.actor})


@long_jobs.job_kind(PUBLISH_JOB, read_permission="customer.read")
async def _run_publish_job(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params
    await job.progress(0, None, "publishing the review's changes in one unit of work")
    ctx = Context.system(p["actor"], job.tenant_id)  # the requester, checked when the job was asked for
    view = await publish_review(ctx, started_verticals(), UUID(p["review_id"]), in_job=True)
    return {"review_id": p["review_id"], "changes": len(view.changes), "warnings": len(view.warnings)}


async def list_reviews(ctx: Context, registry: VerticalRegistry, window: Window, *, vertical: str | None = None,
                       scheme: str | None = None, status: str | None = None,
                       scope_key: str | None = None) -> tuple[list[ReviewRow], bool]:
    """A page of the review runs of the schemes the caller may grade with (of the tenant's enabled
    verticals), newest first (keyset on proposed_at, id); whether more lie beyond the page."""
    async with unit_of_work(ctx, write=False) as uow:
        enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
            VerticalEnablement.status == "enabled")}
        reach = None
        for definition in registry.definitions:
            if definition.id not in enabled or (vertical is not None and definition.id != vertical):
                continue
            for s in definition.grading_schemes:
                if scheme is not None and s.id != scheme:
                    continue
                try:
                    held = require(ctx, _permission(definition.id, s))
                except KehuError:
                    continue
                one = (GradeReview.vertical == definition.id) & (GradeReview.scheme == s.id)
                if held is not Scope.TENANT:  # a department's holder sees its departments' reviews (MD19)
                    mine = [str(d) for d in ctx.principal.department_ids] if ctx.principal else []
                    if s.scope is not GradeScope.DEPARTMENT or held is not Scope.DEPARTMENT or not mine:
                        continue
                    one = one & GradeReview.scope_key.is_in(mine)
                reach = one if reach is None else reach | one
        if reach is None:
            require_signed_in(ctx)
            return [], False
        query = uow.select(GradeReview.id, GradeReview.vertical, GradeReview.scheme, GradeReview.scope_key,
                           GradeReview.status, GradeReview.proposed_by, GradeReview.proposed_at,
                           GradeReview.approved_by, GradeReview.approved_at, GradeReview.published_at).where(reach)
        if status is not None:
            query = query.where(GradeReview.status == status)
        if scope_key is not None:
            query = query.where(GradeReview.scope_key == scope_key)
        rows, more = await keyset.fetch(query, (GradeReview.proposed_at, GradeReview.id), window, descending=True)
    return [_row_view(r) for r in rows], more


async def review_row(ctx: Context, registry: VerticalRegistry, review_id: UUID) -> ReviewRow:
    """A review run's stored state, without computing its what-if."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(GradeReview.id, GradeReview.vertical, GradeReview.scheme, GradeReview.scope_key,
                               GradeReview.status, GradeReview.proposed_by, GradeReview.proposed_at,
                               GradeReview.approved_by, GradeReview.approved_at, GradeReview.published_at).where(
            GradeReview.id == review_id).first() if isinstance(review_id, UUID) else None
    if row is None:
        raise _error("GRADE_REVIEW_NOT_FOUND", "id", f"no grade review {review_id}", f"未找到等级评审 {review_id}")
    scheme = scheme_of(registry, row["vertical"], row["scheme"])
    _within(ctx, _permission(row["vertical"], scheme), scheme, row["scope_key"])
    return _row_view(row)


register_sweep("grade_deadlines", enforce_due)
