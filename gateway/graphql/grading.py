"""GraphQL for the grading engine (issue 20): thin resolvers over core.grading.service.

A vertical's grading scheme (``vertical`` and ``scheme``, e.g. medical_devices / customer_grade)
grades customers in its scope (``scopeId``: a department's id, a product line's code, or nothing
for the whole organisation, MD19). A review run is proposed (``gradeReviewPropose`` for a scope of
up to 2,000 customers in the request, ``gradeReviewStart`` as one long job for any size), shows
its what-if (every change and every cap violation, hard and soft, with the customers holding the
grade), is approved by another permitted person and published atomically. Permission checks,
audit entries and outbox events live in the service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.grading import service as grading
from core.grading.policy import CapViolation
from core.jobs import service as job_service
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
    time_id_key,
)
from gateway.graphql.jobs import Job, JobPayload

MAX_LISTED = 1000  # customers a cap violation lists per request


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(description="A grade's share of a scope above its cap: a hard cap refuses publication "
                             "(GRADE_CAP_EXCEEDED), a soft cap (原则上) warns.")
class GradeCapViolation:
    grade: str
    cap_percent: str = strawberry.field(description="The cap in percent, a decimal as text (e.g. \"15\").")
    count: int = strawberry.field(description="Customers of the scope holding the grade after the change.")
    population: int
    percent: str = strawberry.field(description="count / population in percent, two decimals as text.")
    soft: bool
    customer_count: int
    customer_ids: list[strawberry.ID] = strawberry.field(description=(
        "The customers holding the grade (the offending customers), in id order: at most 1000."))

    @classmethod
    def of(cls, v: CapViolation) -> GradeCapViolation:
        return cls(grade=v.grade, cap_percent=str(v.cap_percent), count=v.count, population=v.population,
                   percent=str(v.percent), soft=v.soft, customer_count=len(v.customers),
                   customer_ids=[strawberry.ID(c) for c in v.customers[:MAX_LISTED]])


@strawberry.type(description="A change a review run makes to a customer's current grade.")
class GradeProposedChange:
    customer_id: strawberry.ID
    from_grade: str | None = strawberry.field(description="Null: the customer has no grade in the scope yet.")
    to_grade: str


@strawberry.type(description="What publishing a review run would do now: its changes against the current grades "
                             "and every cap violation the scope would have (hard and soft).")
class GradeWhatIf:
    population: int = strawberry.field(description="Customers of the scope the caps count.")
    proposal_count: int
    change_count: int
    publishable: bool = strawberry.field(description="No hard cap would be exceeded.")
    violations: list[GradeCapViolation]
    warnings: list[GradeCapViolation] = strawberry.field(description="The soft violations only.")
    _view: strawberry.Private[grading.ReviewView]

    @strawberry.field(description="The changes, in customer id order, paged.")
    def changes(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                before: str | None = None) -> Connection[GradeProposedChange]:
        request = page_request(info, "gradeReviewChanges", first, after, last, before)
        return list_connection(request, self._view.changes, lambda c: [c.customer_id],
                               lambda c: GradeProposedChange(customer_id=strawberry.ID(c.customer_id),
                                                             from_grade=c.from_grade, to_grade=c.to_grade))

    @classmethod
    def of(cls, view: grading.ReviewView) -> GradeWhatIf:
        violations = [GradeCapViolation.of(v) for v in view.violations]
        return cls(population=view.population, proposal_count=len(view.proposals), change_count=len(view.changes),
                   publishable=view.publishable, violations=violations,
                   warnings=[v for v in violations if v.soft], _view=view)


@strawberry.type(description="A grade review run (MD8, MD9): proposed, approved by another permitted person, "
                             "published atomically.")
class GradeReview(Node):
    id: strawberry.ID
    vertical: str
    scheme: str
    scope_key: str = strawberry.field(description="tenant, a department's id or a product line's code (MD19).")
    status: str = strawberry.field(description="proposed | approved | published")
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None
    _what_if: strawberry.Private[grading.ReviewView | None]

    @strawberry.field(description="The run's changes and cap violations against the grades as they are now "
                                  "(computed when asked).")
    async def what_if(self, info: Info) -> GradeWhatIf:
        view = self._what_if or await grading.review(ctx_of(info), info.context.registry, UUID(str(self.id)))
        return GradeWhatIf.of(view)

    @classmethod
    def of(cls, row: grading.ReviewRow, view: grading.ReviewView | None = None) -> GradeReview:
        return cls(id=strawberry.ID(str(row.id)), vertical=row.vertical, scheme=row.scheme, scope_key=row.scope_key,
                   status=view.status if view else row.status, proposed_by=row.proposed_by,
                   proposed_at=row.proposed_at, approved_by=row.approved_by, approved_at=row.approved_at,
                   published_at=row.published_at, _what_if=view)


@strawberry.type(description="A customer's current grade in one scheme and scope.")
class CustomerGrade:
    vertical: str
    scheme: str
    scope_key: str
    grade: str


@strawberry.type(description="One grade a customer received: by whom, how (review, override, deadline) and why.")
class GradeHistoryEntry:
    vertical: str
    scheme: str
    scope_key: str
    from_grade: str | None
    to_grade: str
    at: datetime
    actor: str = strawberry.field(description="user:<id>, key:<id>, or job:grading-tick for a deadline carried out.")
    source: str = strawberry.field(description="review | override | deadline")
    reason: str
    review_id: strawberry.ID | None


@strawberry.type(description="A required grade change (MD10): the customer must be at requiredGrade or below by "
                             "dueAt; the tick carries it out if no one has.")
class GradeDeadline:
    id: strawberry.ID
    customer_id: strawberry.ID
    scope_key: str
    required_grade: str
    due_at: datetime
    status: str = strawberry.field(description="open | met | enforced")


@strawberry.type
class GradeReviewPayload:
    review: GradeReview | None = None
    errors: list[UserError]


@strawberry.type(description="A grade set by hand; warnings: the soft caps it goes over.")
class GradeOverrideResult:
    customer_id: strawberry.ID
    scope_key: str
    grade: str
    warnings: list[GradeCapViolation]


@strawberry.type
class GradeOverridePayload:
    grade: GradeOverrideResult | None = None
    errors: list[UserError]


@strawberry.type
class GradeChangeFlagPayload:
    deadline: GradeDeadline | None = None
    errors: list[UserError]


@strawberry.type
class GradeFactPayload:
    ok: bool = False
    errors: list[UserError]


@strawberry.input(description="A grade given by hand in a review run (a rule set applied by a person).")
class GradeProposalInput:
    customer_id: strawberry.ID
    grade: str


def _registry(info: Info) -> Any:
    return info.context.registry


async def _review(info: Info, review_id: UUID, view: grading.ReviewView | None = None) -> GradeReview:
    return GradeReview.of(await grading.review_row(ctx_of(info), _registry(info), review_id), view)


@node_loader("GradeReview")
async def _one_review(info: Info, review_id: UUID) -> GradeReview:
    return await _review(info, review_id)


@strawberry.type
class GradingQuery:
    @strawberry.field(description="A grade review run of a scheme you may grade with; whatIf computes its changes "
                                  "and cap violations against the grades now. A long job's result names its id.")
    async def grade_review(self, info: Info, id: strawberry.ID) -> GradeReview:
        return await _one_review(info, parse_id(id, "id"))

    @strawberry.field(description="Review runs of the schemes you may grade with (of your enabled verticals), newest "
                                  "first.")
    async def grade_reviews(self, info: Info, vertical: str | None = None, scheme: str | None = None,
                            status: str | None = None, scope_key: str | None = None, first: int | None = None,
                            after: str | None = None, last: int | None = None,
                            before: str | None = None) -> Connection[GradeReview]:
        request = page_request(info, "gradeReviews", first, after, last, before)
        found, more = await grading.list_reviews(ctx_of(info), _registry(info), request.window(time_id_key),
                                                 vertical=vertical, scheme=scheme, status=status, scope_key=scope_key)
        return keyset_connection(request, found, more, lambda r: [r.proposed_at, r.id], GradeReview.of)

    @strawberry.field(description="A customer's current grades: one per scheme and scope (a grade in one department "
                                  "says nothing about another, MD19). Needs customer.read.")
    async def customer_grades(self, info: Info, customer_id: strawberry.ID, first: int | None = None,
                              after: str | None = None, last: int | None = None,
                              before: str | None = None) -> Connection[CustomerGrade]:
        request = page_request(info, "customerGrades", first, after, last, before)
        grades = await grading.current_grades(ctx_of(info), parse_id(customer_id, "customerId"))
        return list_connection(request, sorted(grades.items()), lambda item: list(item[0]), lambda item: CustomerGrade(
            vertical=item[0][0], scheme=item[0][1], scope_key=item[0][2], grade=item[1]))

    @strawberry.field(description="Every grade the customer received, oldest first, in every scheme and scope (or "
                                  "the one named). Needs customer.read.")
    async def grade_history(self, info: Info, customer_id: strawberry.ID, vertical: str | None = None,
                            scheme: str | None = None, scope_key: str | None = None, first: int | None = None,
                            after: str | None = None, last: int | None = None,
                            before: str | None = None) -> Connection[GradeHistoryEntry]:
        request = page_request(info, "gradeHistory", first, after, last, before)
        entries = await grading.grade_history(ctx_of(info), parse_id(customer_id, "customerId"), vertical=vertical,
                                              scheme=scheme, scope_key=scope_key)
        return list_connection(request, entries, lambda e: [e.at.isoformat(), str(e.id)], lambda e: GradeHistoryEntry(
            vertical=e.vertical, scheme=e.scheme, scope_key=e.scope_key, from_grade=e.from_grade, to_grade=e.to_grade,
            at=e.at, actor=e.actor, source=e.source, reason=e.reason, review_id=_id(e.review_id)))


@strawberry.type
class GradingMutation:
    @strawberry.mutation(description="Record a fact a scheme scores (business volume, receivables, …) for a customer "
                                     "in the scheme's scope; the latest value of each name counts. Needs the scheme's "
                                     "permission (default <vertical>.grade.assign).")
    async def grade_fact_record(self, info: Info, vertical: str, scheme: str, customer_id: strawberry.ID, name: str,
                                value: JSON, scope_id: str | None = None) -> GradeFactPayload:
        async def call() -> dict:
            await grading.record_fact(ctx_of(info), _registry(info), vertical, scheme,
                                      parse_id(customer_id, "customerId"), name, value, scope_id=scope_id)
            return {"ok": True}
        return await mutate(info, GradeFactPayload, call)

    @strawberry.mutation(description="Propose a review run of a scope of at most 2000 customers (a larger one: "
                                     "gradeReviewStart): grades computed from their facts, overlaid with proposals "
                                     "given by hand. Nothing changes yet: the review's whatIf shows every change and "
                                     "every cap violation, hard and soft, with the customers holding the grade.")
    async def grade_review_propose(self, info: Info, vertical: str, scheme: str, scope_id: str | None = None,
                                   proposals: list[GradeProposalInput] | None = None) -> GradeReviewPayload:
        async def call() -> dict:
            given = None if proposals is None else {
                parse_id(p.customer_id, "proposals"): p.grade for p in proposals}
            view = await grading.propose_review(ctx_of(info), _registry(info), vertical, scheme,
                                                scope_id=scope_id, proposals=given)
            return {"review": await _review(info, view.id, view)}
        return await mutate(info, GradeReviewPayload, call)

    @strawberry.mutation(description="Start a review run of a scope of any size as one long job: it proposes every "
                                     "customer from its facts in batches, with progress on job(id), and stores the "
                                     "run; the job's result names the review (reviewId) to read with gradeReview.")
    async def grade_review_start(self, info: Info, vertical: str, scheme: str,
                                 scope_id: str | None = None) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await grading.start_review(ctx, _registry(info), vertical, scheme, scope_id=scope_id)
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)

    @strawberry.mutation(description="Approve a proposed review run: a holder of the scheme's approving permission who "
                                     "did not propose it (GRADE_REVIEW_SAME_PERSON). The review's whatIf is computed "
                                     "only when selected.")
    async def grade_review_approve(self, info: Info, id: strawberry.ID) -> GradeReviewPayload:
        async def call() -> dict:
            row = await grading.approve(ctx_of(info), _registry(info), parse_id(id, "id"))
            return {"review": GradeReview.of(row)}  # whatIf computed only when asked
        return await mutate(info, GradeReviewPayload, call)

    @strawberry.mutation(description="Publish an approved review run atomically, every change or none. Refused with "
                                     "GRADE_CAP_EXCEEDED, naming the grade, the share, the cap and the customers, "
                                     "when a hard cap would be exceeded (MD4 d, MD5 e); soft caps are warnings. A run "
                                     "proposing more than 2000 grades: gradeReviewPublishStart.")
    async def grade_review_publish(self, info: Info, id: strawberry.ID) -> GradeReviewPayload:
        async def call() -> dict:
            view = await grading.publish_review(ctx_of(info), _registry(info), parse_id(id, "id"))
            return {"review": await _review(info, view.id, view)}
        return await mutate(info, GradeReviewPayload, call)

    @strawberry.mutation(description="Publish an approved review run of any size as one long job, every change in "
                                     "one unit of work or none: the job fails with GRADE_CAP_EXCEEDED when a hard cap "
                                     "would be exceeded. gradeReviewPublish refuses a run proposing more than 2000 "
                                     "grades (GRADE_REVIEW_TOO_LARGE).")
    async def grade_review_publish_start(self, info: Info, id: strawberry.ID) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await grading.start_publish(ctx, _registry(info), parse_id(id, "id"))
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)

    @strawberry.mutation(description="Set one customer's grade by hand with a reason (GRADE_REASON_REQUIRED); a hard "
                                     "cap still holds (an upgrade respects the caps, MD12), a soft one warns.")
    async def grade_override(self, info: Info, vertical: str, scheme: str, customer_id: strawberry.ID, grade: str,
                             reason: str, scope_id: str | None = None) -> GradeOverridePayload:
        async def call() -> dict:
            view = await grading.override_grade(ctx_of(info), _registry(info), vertical, scheme,
                                                parse_id(customer_id, "customerId"), grade, reason,
                                                scope_id=scope_id)
            return {"grade": GradeOverrideResult(customer_id=strawberry.ID(str(view.customer_id)),
                                                 scope_key=view.scope_key, grade=view.grade,
                                                 warnings=[GradeCapViolation.of(v) for v in view.warnings])}
        return await mutate(info, GradeOverridePayload, call)

    @strawberry.mutation(description="Flag a required change (MD10: a VIP with problems): the customer must be at "
                                     "requiredGrade or below within the vertical's downgrade_deadline_days (5 by "
                                     "default); the tick carries it out, as its audited actor, if no one has.")
    async def grade_change_flag(self, info: Info, vertical: str, scheme: str, customer_id: strawberry.ID,
                                required_grade: str, reason: str, scope_id: str | None = None) -> GradeChangeFlagPayload:
        async def call() -> dict:
            d = await grading.flag_required_change(ctx_of(info), _registry(info), vertical, scheme,
                                                   parse_id(customer_id, "customerId"), required_grade, reason,
                                                   scope_id=scope_id)
            return {"deadline": GradeDeadline(id=strawberry.ID(str(d.id)), customer_id=strawberry.ID(str(d.customer_id)),
                                              scope_key=d.scope_key, required_grade=d.required_grade, due_at=d.due_at,
                                              status=d.status)}
        return await mutate(info, GradeChangeFlagPayload, call)

