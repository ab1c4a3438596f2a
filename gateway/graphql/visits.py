"""GraphQL for visit plans and visits (issue 20, MD17, MD25, MD28): thin resolvers over
core.visits.service.

A customer is put on the plans its grade calls for in a vertical (``visitPlanSet`` with a grade,
``visitPlanFromGrade`` with the grade the grading engine stores); a visit is recorded with its
summary report (latest needs, opinions, suggestions) and moves the due date of every plan it meets;
``dueVisits`` lists what is due in service-priority order (VIP first, then 优选, then the rest;
the earlier due date first), ``visitOverdueReport`` what the tick found overdue, per owner and
department. A blacklisted customer (in its department, or on the company blacklist) is given no
visit: ``CUSTOMER_BLACKLISTED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.visits import service as visits
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _optional_id(value: strawberry.ID | None, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


@strawberry.type(description="A customer's place in a visit plan, with its stored due date (MD25).")
class VisitSchedule:
    id: strawberry.ID
    customer_id: strawberry.ID
    plan_id: str
    grade: str | None = strawberry.field(description="The grade that put the customer on the plan.")
    channel: str = strawberry.field(description="on_site | phone | any: the visits that meet the plan.")
    priority: int = strawberry.field(description="The service-priority rank (MD17 四优先): 1 is served first.")
    owner_id: strawberry.ID | None
    department_id: strawberry.ID | None
    status: str = strawberry.field(description="due | overdue (the tick found it past due)")
    due_at: datetime
    last_visit_at: datetime | None
    overdue_at: datetime | None

    @classmethod
    def of(cls, s: visits.ScheduleView) -> VisitSchedule:
        return cls(id=strawberry.ID(str(s.id)), customer_id=strawberry.ID(str(s.customer_id)), plan_id=s.plan_id,
                   grade=s.grade, channel=s.channel, priority=s.priority, owner_id=_id(s.owner_id),
                   department_id=_id(s.department_id), status=s.status, due_at=s.due_at,
                   last_visit_at=s.last_visit_at, overdue_at=s.overdue_at)


@strawberry.type(description="The summary report of a visit (MD28, 附件5): the customer's latest needs, opinions "
                             "and suggestions.")
class VisitReport:
    needs: str | None
    opinions: str | None
    suggestions: str | None


@strawberry.type(description="A recorded visit with its summary report.")
class Visit:
    id: strawberry.ID
    customer_id: strawberry.ID
    plan_ids: list[str] = strawberry.field(description="The plans the visit met.")
    channel: str
    visited_at: datetime
    visitor: str
    report: VisitReport

    @classmethod
    def of(cls, v: visits.VisitView) -> Visit:
        report: Mapping[str, str] = v.report
        return cls(id=strawberry.ID(str(v.id)), customer_id=strawberry.ID(str(v.customer_id)),
                   plan_ids=list(v.plan_ids), channel=v.channel, visited_at=v.visited_at, visitor=v.visitor,
                   report=VisitReport(needs=report.get("needs"), opinions=report.get("opinions"),
                                      suggestions=report.get("suggestions")))


@strawberry.type(description="A customer's open visit plans in service-priority order.")
class CustomerVisitPlan:
    customer_id: strawberry.ID
    schedules: list[VisitSchedule]


@strawberry.type(description="The overdue visits of one owner in one department (either may be none).")
class VisitOverdueGroup:
    department_id: strawberry.ID | None
    owner_id: strawberry.ID | None
    count: int
    customer_ids: list[strawberry.ID]
    oldest_due_at: datetime


@strawberry.type(description="The visits the tick found overdue, per department and owner, the most overdue first.")
class VisitOverdueReport:
    total: int
    groups: list[VisitOverdueGroup]


@strawberry.input(description="The summary report (MD28): at least one of the three, each at most 4000 characters.")
class VisitReportInput:
    needs: str | None = None
    opinions: str | None = None
    suggestions: str | None = None


@strawberry.input
class VisitRecordInput:
    customer_id: strawberry.ID
    channel: str = strawberry.field(description="on_site | phone")
    visited_at: datetime = strawberry.field(description="When the visit took place (not in the future).")
    report: VisitReportInput


@strawberry.type
class VisitPlanPayload:
    schedules: list[VisitSchedule] | None = None
    errors: list[UserError]


@strawberry.type
class VisitPayload:
    visit: Visit | None = None
    errors: list[UserError]


def _registry(info: Info) -> Any:
    return info.context.registry


@strawberry.type
class VisitQuery:
    @strawberry.field(description="A customer's open visit plans with their due dates, in service-priority order "
                                  "(customer.read).")
    async def customer_visit_plan(self, info: Info, customer_id: strawberry.ID) -> CustomerVisitPlan:
        customer = parse_id(customer_id, "customerId")
        found = await visits.schedules_of(ctx_of(info), customer)
        return CustomerVisitPlan(customer_id=strawberry.ID(str(customer)), schedules=[VisitSchedule.of(s) for s in found])

    @strawberry.field(description="Recorded visits with their summary reports, newest first (customer.read), of a "
                                  "customer, a department or an owner.")
    async def visits(self, info: Info, customer_id: strawberry.ID | None = None,
                     department_id: strawberry.ID | None = None, owner_id: strawberry.ID | None = None,
                     first: int | None = None, after: str | None = None, last: int | None = None,
                     before: str | None = None) -> Connection[Visit]:
        customer = _optional_id(customer_id, "customerId")
        department = _optional_id(department_id, "departmentId")
        owner = _optional_id(owner_id, "ownerId")
        request = page_request(info, "visits", first, after, last, before)
        found, more = await visits.list_visits(ctx_of(info), request.window(time_id_key), customer_id=customer,
                                               department_id=department, owner_id=owner)
        return keyset_connection(request, found, more, lambda v: [v.visited_at, v.id], Visit.of)

    @strawberry.field(description="The visits due by until (now when not given; overdue ones included), in "
                                  "service-priority order (MD17: VIP first, then 优选, then the rest; the earlier due "
                                  "date first), of a department or an owner (customer.read).")
    async def due_visits(self, info: Info, until: datetime | None = None, department_id: strawberry.ID | None = None,
                         owner_id: strawberry.ID | None = None, first: int | None = None, after: str | None = None,
                         last: int | None = None, before: str | None = None) -> Connection[VisitSchedule]:
        department = _optional_id(department_id, "departmentId")
        owner = _optional_id(owner_id, "ownerId")
        request = page_request(info, "dueVisits", first, after, last, before)
        found = await visits.due_visits(ctx_of(info), until=until or visits.now(), department_id=department,
                                        owner_id=owner)
        return list_connection(request, found, lambda s: [s.id], VisitSchedule.of)

    @strawberry.field(description="The visits the tick found overdue, per department and owner, the most overdue "
                                  "first (customer.read; MD25).")
    async def visit_overdue_report(self, info: Info, department_id: strawberry.ID | None = None) -> VisitOverdueReport:
        groups = await visits.overdue_report(ctx_of(info), department_id=_optional_id(department_id, "departmentId"))
        return VisitOverdueReport(total=sum(g.count for g in groups), groups=[
            VisitOverdueGroup(department_id=_id(g.department_id), owner_id=_id(g.owner_id), count=g.count,
                              customer_ids=[strawberry.ID(str(c)) for c in g.customer_ids],
                              oldest_due_at=g.oldest_due_at) for g in groups])


@strawberry.type
class VisitMutation:
    @strawberry.mutation(description="Put a customer on the plans a grade calls for in a vertical (customer.write; "
                                     "MD25: VIP and 优选 on site monthly): a plan it joins is due by its first due "
                                     "date, a plan its grade no longer calls for ends; grade null ends them all.")
    async def visit_plan_set(self, info: Info, customer_id: strawberry.ID, vertical: str, grade: str | None = None,
                             scheme: str | None = None) -> VisitPlanPayload:
        async def call() -> dict:
            found = await visits.plan_customer(ctx_of(info), _registry(info), parse_id(customer_id, "customer_id"),
                                               vertical=vertical, grade=grade, scheme=scheme)
            return {"schedules": [VisitSchedule.of(s) for s in found]}
        return await mutate(info, VisitPlanPayload, call)

    @strawberry.mutation(description="Put a customer on the plans its current grade calls for, as the grading engine "
                                     "stores it (its department's grade where the scheme grades per department, "
                                     "MD19); customer.write.")
    async def visit_plan_from_grade(self, info: Info, customer_id: strawberry.ID, vertical: str,
                                    scheme: str | None = None) -> VisitPlanPayload:
        async def call() -> dict:
            found = await visits.plan_from_grade(ctx_of(info), _registry(info), parse_id(customer_id, "customer_id"),
                                                 vertical=vertical, scheme=scheme)
            return {"schedules": [VisitSchedule.of(s) for s in found]}
        return await mutate(info, VisitPlanPayload, call)

    @strawberry.mutation(description="Record a visit with its summary report (customer.write; MD28): every open plan "
                                     "the visit meets gets its next due date. Refused, writing nothing, for a "
                                     "blacklisted (CUSTOMER_BLACKLISTED) or frozen customer, a future time, an "
                                     "unknown channel or an empty report.")
    async def visit_record(self, info: Info, input: VisitRecordInput) -> VisitPayload:
        async def call() -> dict:
            report = {k: v for k, v in (("needs", input.report.needs), ("opinions", input.report.opinions),
                                        ("suggestions", input.report.suggestions)) if v is not None}
            view = await visits.record_visit(ctx_of(info), parse_id(input.customer_id, "customer_id"),
                                             channel=input.channel, visited_at=input.visited_at, report=report)
            return {"visit": Visit.of(view)}
        return await mutate(info, VisitPayload, call)
