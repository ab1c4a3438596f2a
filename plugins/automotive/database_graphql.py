"""GraphQL of the customer database (seed 002 part 1): the weekly accuracy check
(``automotiveAccuracyCheckRecord``, ``automotiveAccuracyReport``) and the modification plans
(``automotiveDatabasePlan…``). Resolvers only call ``database``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from core.plugins import Connection, GraphQLTypes, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.automotive import database
from plugins.automotive.common import time_key


def _id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.input(name="AutomotiveAccuracyLineInput")
class AccuracyLineInput:
    enterer_id: strawberry.ID
    system: str = strawberry.field(description="ism | crm | membership | sms")
    sample: int = strawberry.field(description="Records checked.")
    errors: int = strawberry.field(description="Errors found among them.")


@strawberry.type(name="AutomotiveAccuracyCheck")
class AccuracyCheckNode:
    id: strawberry.ID
    week_of: date = strawberry.field(description="The Monday of the week checked.")


@strawberry.type(name="AutomotiveAccuracyCheckPayload")
class AccuracyCheckPayload:
    check: AccuracyCheckNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveAccuracyWeek")
class AccuracyWeek:
    week_of: date
    checked: bool
    sample: int
    errors: int
    accuracy: float | None = strawberry.field(description="(sample - errors) / sample; null without a sample.")


@strawberry.type(name="AutomotiveAccuracyTotal")
class AccuracyTotal:
    enterer_id: strawberry.ID
    system: str
    sample: int
    errors: int
    accuracy: float | None


@strawberry.type(name="AutomotiveAccuracyReport")
class AccuracyReport:
    weeks: list[AccuracyWeek]
    weeks_without_check: list[date]
    sample: int
    errors: int
    accuracy: float | None
    by_enterer: list[AccuracyTotal] = strawberry.field(description="Totals per enterer and system.")


@strawberry.type(name="AutomotiveDatabasePlanOpinion")
class PlanOpinion:
    department: str
    opinion: str
    recorded_by: strawberry.ID
    recorded_at: datetime


@strawberry.type(name="AutomotiveDatabasePlan", description="A database modification plan (修改方案, seed 002 R1-06).")
class PlanNode:
    id: strawberry.ID
    title: str
    content: str
    continuity: str = strawberry.field(description="How data continuity and historical data stay usable (R1-07).")
    status: str = strawberry.field(description="draft | signed | implemented")
    drafted_by: strawberry.ID
    drafted_at: datetime
    signed_by: strawberry.ID | None
    signed_at: datetime | None
    implemented_by: strawberry.ID | None
    implemented_at: datetime | None
    opinions: list[PlanOpinion]


def plan_node(row: dict[str, Any]) -> PlanNode:
    def opt(value: Any) -> strawberry.ID | None:
        return None if value is None else _id(value)

    return PlanNode(id=_id(row["id"]), title=row["title"], content=row["content"], continuity=row["continuity"],
                    status=row["status"], drafted_by=_id(row["drafted_by"]), drafted_at=row["drafted_at"],
                    signed_by=opt(row["signed_by"]), signed_at=row["signed_at"],
                    implemented_by=opt(row["implemented_by"]), implemented_at=row["implemented_at"],
                    opinions=[PlanOpinion(department=o["department"], opinion=o["opinion"],
                                          recorded_by=_id(o["recorded_by"]), recorded_at=o["recorded_at"])
                              for o in row["opinions"]])


@strawberry.type(name="AutomotiveDatabasePlanPayload")
class PlanPayload:
    plan: PlanNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DatabaseQuery:
    @strawberry.field(description="R1-03: the weekly data-entry accuracy checks from since to until: each week checked "
                                  "or not, the weeks without a check, the accuracy rate, totals per enterer and system "
                                  "(automotive.database.read).")
    async def automotive_accuracy_report(self, info: strawberry.Info, since: date, until: date) -> AccuracyReport:
        found = await database.accuracy_report(context(info), since, until)
        return AccuracyReport(
            weeks=[AccuracyWeek(**w) for w in found["weeks"]], weeks_without_check=found["weeks_without_check"],
            sample=found["sample"], errors=found["errors"], accuracy=found["accuracy"],
            by_enterer=[AccuracyTotal(enterer_id=_id(t["enterer_id"]), system=t["system"], sample=t["sample"],
                                      errors=t["errors"], accuracy=t["accuracy"]) for t in found["by_enterer"]])

    @strawberry.field(description="Database modification plans, newest first (automotive.database.read).")
    async def automotive_database_plans(self, info: strawberry.Info, status: str | None = None,
                                        first: int | None = None, after: str | None = None, last: int | None = None,
                                        before: str | None = None) -> Connection[PlanNode]:
        request = page_request(info, "automotive.database_plans", first, after, last, before)
        rows, more = await database.plans(context(info), request.window(time_key), status=status)
        return connection(request, rows, more, lambda r: (r["drafted_at"], r["id"]), plan_node)


@strawberry.type
class DatabaseMutation:
    @strawberry.mutation(description="R1-03: the customer director records a week's spot check (one per week): per "
                                     "enterer and system the sample and the errors (automotive.database.check).")
    async def automotive_accuracy_check_record(self, info: strawberry.Info, week_of: date,
                                               lines: list[AccuracyLineInput], note: str = "") -> AccuracyCheckPayload:
        async def call() -> dict:
            made = await database.record_accuracy_check(
                context(info), week_of, [{"enterer_id": parse_id(line.enterer_id, "lines"), "system": line.system,
                                          "sample": line.sample, "errors": line.errors} for line in lines], note=note)
            return {"check": AccuracyCheckNode(id=_id(made["id"]), week_of=made["week_of"])}

        return await run_mutation(info, AccuracyCheckPayload, call)

    @strawberry.mutation(description="R1-06: 客户部 drafts a database modification plan, saying how continuity and "
                                     "historical data stay usable (R1-07) (automotive.database.plan).")
    async def automotive_database_plan_draft(self, info: strawberry.Info, title: str, content: str,
                                             continuity: str) -> PlanPayload:
        async def call() -> dict:
            return {"plan": plan_node(await database.draft_plan(context(info), title=title, content=content,
                                                                continuity=continuity))}

        return await run_mutation(info, PlanPayload, call)

    @strawberry.mutation(description="Record a department's opinion on a draft plan (automotive.database.plan).")
    async def automotive_database_plan_opinion(self, info: strawberry.Info, id: strawberry.ID, department: str,
                                               opinion: str) -> PlanPayload:
        async def call() -> dict:
            return {"plan": plan_node(await database.add_plan_opinion(context(info), parse_id(id, "id"),
                                                                      department=department, opinion=opinion))}

        return await run_mutation(info, PlanPayload, call)

    @strawberry.mutation(description="R1-06: the general manager (or the customer director as proxy) signs a draft plan "
                                     "with opinions; never its author (automotive.database.plan.sign).")
    async def automotive_database_plan_sign(self, info: strawberry.Info, id: strawberry.ID) -> PlanPayload:
        async def call() -> dict:
            return {"plan": plan_node(await database.sign_plan(context(info), parse_id(id, "id")))}

        return await run_mutation(info, PlanPayload, call)

    @strawberry.mutation(description="R1-06: mark a signed plan implemented (automotive.database.plan).")
    async def automotive_database_plan_implement(self, info: strawberry.Info, id: strawberry.ID) -> PlanPayload:
        async def call() -> dict:
            return {"plan": plan_node(await database.implement_plan(context(info), parse_id(id, "id")))}

        return await run_mutation(info, PlanPayload, call)


GRAPHQL = (GraphQLTypes(query=DatabaseQuery, mutation=DatabaseMutation),)

_ZERO = "00000000-0000-0000-0000-000000000000"


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    return (
        Op('{ automotiveAccuracyReport(since: "2026-10-01", until: "2026-11-01") { weeks { weekOf checked } } }'),
        # one check a week and a real enterer: driven in tests/automotive/test_database.py
        Op('mutation { automotiveAccuracyCheckRecord(weekOf: "2026-10-26", lines: [{entererId: "%s", system: "crm", '
           'sample: 10, errors: 1}]) { check { id } errors { code } } }' % _ZERO),
        Op('mutation { automotiveDatabasePlanDraft(title: "t", content: "c", continuity: "k") { plan { id } '
           'errors { code } } }', makes=("automotive_db_plan", "plan.id")),
        Op("{ automotiveDatabasePlans(first: 100) { nodes { id title } } }", lists=("automotive_db_plan", "nodes.*.id")),
        Op('mutation($id: ID!) { automotiveDatabasePlanOpinion(id: $id, department: "售后部", opinion: "o") '
           '{ plan { id } errors { code } } }', ids={"id": "automotive_db_plan"}),
        # signing needs another person than the author, implementing a signed plan: driven in test_database.py
        Op('mutation { automotiveDatabasePlanSign(id: "%s") { plan { id } errors { code } } }' % _ZERO),
        Op('mutation { automotiveDatabasePlanImplement(id: "%s") { plan { id } errors { code } } }' % _ZERO),
    )


ISOLATION_OPERATIONS = _isolation_operations()
