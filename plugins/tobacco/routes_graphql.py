"""The tobacco vertical's GraphQL fields for routes (Art13), grade reviews (Art14) and the visits to
customers sharing a phone (Art12). Resolvers only call ``routes``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from core.plugins import Connection, KehuError, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.tobacco import reports, routes
from plugins.tobacco.graphql import ChangePayload, _change, _enum

DeliveryReason = _enum("TobaccoDeliveryOrderReason", routes.DELIVERY_REASONS,
                       "Why the delivery order changes; ADDRESS_CHANGE is refused and reported (Art13)")


@strawberry.type(name="TobaccoRouteMeeting", description="A month's route-optimisation meeting and its minutes (Art13).")
class MeetingNode:
    id: strawberry.ID
    month: str = strawberry.field(description="YYYY-MM")
    held_on: date
    minutes: str
    recorded_by: str
    recorded_at: datetime


def _meeting(row: dict[str, Any]) -> MeetingNode:
    return MeetingNode(id=strawberry.ID(str(row["id"])), month=row["month"], held_on=date.fromisoformat(row["held_on"]),
                       minutes=row["minutes"], recorded_by=row["recorded_by"], recorded_at=row["recorded_at"])


@strawberry.type(name="TobaccoRouteChange", description="A route change after the meeting, or a delivery-order change "
                                                        "(an address change is refused and reported, Art13).")
class RouteChangeNode:
    id: strawberry.ID
    customer_id: strawberry.ID
    meeting_id: strawberry.ID | None
    kind: str = strawberry.field(description="meeting | delivery_order")
    reason: str
    note: str
    outcome: str = strawberry.field(description="applied | refused_reported")
    late: bool = strawberry.field(description="Maintained later than one working day after the meeting.")
    changed_by: str
    at: datetime


def _route_change(row: dict[str, Any]) -> RouteChangeNode:
    return RouteChangeNode(id=strawberry.ID(str(row["id"])), customer_id=strawberry.ID(str(row["customer_id"])),
                           meeting_id=strawberry.ID(str(row["meeting_id"])) if row["meeting_id"] else None,
                           kind=row["kind"], reason=row["reason"], note=row["note"], outcome=row["outcome"],
                           late=bool(row["late"]), changed_by=row["changed_by"], at=row["at"])


@strawberry.input(name="TobaccoVisitInput")
class VisitInput:
    customer_id: strawberry.ID
    day: date


@strawberry.type(name="TobaccoVisit")
class Visit:
    customer_id: strawberry.ID
    day: date


@strawberry.type(name="TobaccoVisitPlan", description="A route's visit-sale plan for a month (Art13).")
class VisitPlanNode:
    id: strawberry.ID
    route: str
    month: str
    visits: list[Visit]
    saved_by: str
    saved_at: datetime
    version: int


def _plan(row: dict[str, Any]) -> VisitPlanNode:
    import json

    return VisitPlanNode(id=strawberry.ID(str(row["id"])), route=row["route"], month=row["month"],
                         visits=[Visit(customer_id=strawberry.ID(c), day=date.fromisoformat(d))
                                 for c, d in json.loads(row["entries"])],
                         saved_by=row["saved_by"], saved_at=row["saved_at"], version=row["version"])


@strawberry.type(name="TobaccoGradeEvaluation", description="A grade evaluation and its review, due three working "
                                                            "days after it ended (Art14).")
class EvaluationNode:
    id: strawberry.ID
    closed_on: date
    review_due_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None
    note: str
    overdue: bool = strawberry.field(description="Not reviewed by its due time (or reviewed after it).")


def _evaluation(row: dict[str, Any]) -> EvaluationNode:
    from plugins.tobacco import service

    done = row["reviewed_at"]
    return EvaluationNode(id=strawberry.ID(str(row["id"])), closed_on=date.fromisoformat(row["closed_on"]),
                          review_due_at=row["review_due_at"], reviewed_at=done, reviewed_by=row["reviewed_by"],
                          note=row["note"], overdue=(done or service.now()) > row["review_due_at"])


@strawberry.type(name="TobaccoMinutesCoverage", description="Which months of a range lack route-meeting minutes.")
class MinutesCoverage:
    since: str = strawberry.field(name="from")
    until: str = strawberry.field(name="to")
    missing_months: list[str] = strawberry.field(description="YYYY-MM months (up to this month) without minutes.")


@strawberry.type(name="TobaccoRouteMeetingPayload")
class MeetingPayload:
    meeting: MeetingNode | None = None
    errors: list[UserError]


@strawberry.type(name="TobaccoRouteChangePayload")
class RouteChangePayload:
    route_change: RouteChangeNode | None = None
    errors: list[UserError]


@strawberry.type(name="TobaccoVisitPlanPayload")
class VisitPlanPayload:
    plan: VisitPlanNode | None = None
    errors: list[UserError]


@strawberry.type(name="TobaccoGradeEvaluationPayload")
class EvaluationPayload:
    evaluation: EvaluationNode | None = None
    errors: list[UserError]


def _month_key(raw: list[Any]) -> tuple[str, Any]:
    from uuid import UUID

    return str(raw[0]), UUID(raw[1])


@strawberry.type
class RoutesQuery:
    @strawberry.field(description="Route-optimisation meetings, latest month first (Art13).")
    async def tobacco_route_meetings(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                                     last: int | None = None, before: str | None = None) -> Connection[MeetingNode]:
        request = page_request(info, "tobacco.route_meetings", first, after, last, before)
        rows, more = await routes.meetings(context(info), request.window(_month_key))
        return connection(request, rows, more, lambda r: (r["month"], r["id"]), _meeting)

    @strawberry.field(description="The months of [from, to] (at most 36, up to this month) without meeting minutes (Art13).")
    async def tobacco_route_minutes_missing(self, info: strawberry.Info,
                                            since: Annotated[str, strawberry.argument(name="from")],
                                            until: Annotated[str, strawberry.argument(name="to")]) -> MinutesCoverage:
        missing = await routes.missing_minutes(context(info), since=since, until=until)
        return MinutesCoverage(since=since, until=until, missing_months=missing)

    @strawberry.field(description="Route and delivery-order changes, newest first; outcome REFUSED_REPORTED lists the "
                                  "address changes reported to internal management (Art13).")
    async def tobacco_route_changes(self, info: strawberry.Info, outcome: str | None = None, first: int | None = None,
                                    after: str | None = None, last: int | None = None,
                                    before: str | None = None) -> Connection[RouteChangeNode]:
        request = page_request(info, "tobacco.route_changes", first, after, last, before)
        rows, more = await routes.route_changes(context(info), request.window(reports.time_key),
                                                outcome=outcome.lower() if outcome else None)
        return connection(request, rows, more, lambda r: (r["at"], r["id"]), _route_change)

    @strawberry.field(description="A route's visit-sale plan for a month (YYYY-MM); null when none is saved.")
    async def tobacco_visit_plan(self, info: strawberry.Info, route: str, month: str) -> VisitPlanNode | None:
        found = await routes.visit_plan(context(info), route=route, month=month)
        return _plan(found) if found else None

    @strawberry.field(description="Grade evaluations and their reviews, latest due first (Art14).")
    async def tobacco_grade_evaluations(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                                        last: int | None = None,
                                        before: str | None = None) -> Connection[EvaluationNode]:
        request = page_request(info, "tobacco.grade_evaluations", first, after, last, before)
        rows, more = await routes.evaluations(context(info), request.window(reports.time_key))
        return connection(request, rows, more, lambda r: (r["review_due_at"], r["id"]), _evaluation)


@strawberry.type
class RoutesMutation:
    @strawberry.mutation(description="Record the month's route-optimisation meeting and its minutes (Art13).")
    async def tobacco_route_meeting_record(self, info: strawberry.Info, month: str, held_on: date,
                                           minutes: str) -> MeetingPayload:
        async def call() -> dict:
            return {"meeting": _meeting(await routes.record_meeting(context(info), month=month, held_on=held_on,
                                                                    minutes=minutes))}

        return await run_mutation(info, MeetingPayload, call)

    @strawberry.mutation(description="Maintain a change agreed in a route meeting: {delivery_route, delivery_sequence, "
                                     "visit_route, visit_batch}; due one working day after the meeting (Art13).")
    async def tobacco_route_change_apply(self, info: strawberry.Info, meeting_id: strawberry.ID,
                                         customer_id: strawberry.ID, values: JSON) -> RouteChangePayload:
        async def call() -> dict:
            if not isinstance(values, dict):
                raise KehuError("TOBACCO_INPUT_INVALID", "values is an object", "values 须为字段集合", field="values")
            found = await routes.apply_meeting_change(context(info), parse_id(meeting_id, "meetingId"),
                                                      parse_id(customer_id, "customerId"), values)
            return {"route_change": _route_change(found)}

        return await run_mutation(info, RouteChangePayload, call)

    @strawberry.mutation(description="The delivery person changes a customer's delivery order; for an address change "
                                     "the order is kept and the case reported to internal management (Art13).")
    async def tobacco_delivery_order_change(self, info: strawberry.Info, customer_id: strawberry.ID, sequence: int,
                                            reason: DeliveryReason, note: str | None = None) -> RouteChangePayload:
        async def call() -> dict:
            found = await routes.change_delivery_order(context(info), parse_id(customer_id, "customerId"),
                                                       sequence=sequence, reason=reason.value, note=note)
            return {"route_change": _route_change(found)}

        return await run_mutation(info, RouteChangePayload, call)

    @strawberry.mutation(description="Save a route's visit-sale plan for a month; refused when a customer is visited "
                                     "twice in one order cycle or on consecutive days (连访连销, Art13).")
    async def tobacco_visit_plan_save(self, info: strawberry.Info, route: str, month: str,
                                      visits: list[VisitInput]) -> VisitPlanPayload:
        async def call() -> dict:
            entries = [(parse_id(v.customer_id, f"visits.{i}.customerId"), v.day) for i, v in enumerate(visits)]
            return {"plan": _plan(await routes.save_visit_plan(context(info), route=route, month=month,
                                                               entries=entries))}

        return await run_mutation(info, VisitPlanPayload, call)

    @strawberry.mutation(description="A grade evaluation ended: its review is due within three working days (Art14).")
    async def tobacco_grade_evaluation_close(self, info: strawberry.Info, closed_on: date) -> EvaluationPayload:
        async def call() -> dict:
            return {"evaluation": _evaluation(await routes.close_evaluation(context(info), closed_on=closed_on))}

        return await run_mutation(info, EvaluationPayload, call)

    @strawberry.mutation(description="The section chief and the account managers reviewed an evaluation (Art14).")
    async def tobacco_grade_review_complete(self, info: strawberry.Info, id: strawberry.ID,
                                            note: str) -> EvaluationPayload:
        async def call() -> dict:
            return {"evaluation": _evaluation(await routes.complete_review(context(info), parse_id(id, "id"), note=note))}

        return await run_mutation(info, EvaluationPayload, call)

    @strawberry.mutation(description="Internal management visited the customers of a duplicate-phone change (Art12).")
    async def tobacco_duplicate_phone_visit(self, info: strawberry.Info, id: strawberry.ID) -> ChangePayload:
        async def call() -> dict:
            return {"change": _change(await routes.record_duplicate_visit(context(info), parse_id(id, "id")))}

        return await run_mutation(info, ChangePayload, call)

