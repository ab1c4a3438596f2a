"""GraphQL for fault tickets of the customer system itself (issue 24, seed-004 §3.3, CSM-27/28):
thin resolvers over core.governance.faults.

``faultReport`` needs the symptom, the occurrence time and the impact scope
(``FAULT_FIELD_REQUIRED`` naming the field, nothing written); the fix deadline is the report time
plus the tenant's hours for the severity (``faultSettings``: critical 2, major 4, general 8 by
default); ``faultAdvance`` moves a ticket on (acknowledge, start, resolve, close, reopen), and a
resolution after the deadline flags it ``breached``. ``faults`` lists tickets by state, breach
and whether they are open past their deadline (``overdue``).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.governance import faults
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)


@strawberry.type(description="A fault of the customer system with its fix deadline (seed-004 §3.3).")
class Fault:
    id: strawberry.ID
    version: int
    symptom: str = strawberry.field(description="故障现象")
    occurred_at: datetime = strawberry.field(description="出现时间")
    impact_scope: str = strawberry.field(description="影响范围")
    severity: str = strawberry.field(description="critical | major | general")
    status: str = strawberry.field(description="reported | acknowledged | in_progress | resolved | closed")
    reported_at: datetime
    reported_by: str
    fix_hours: int = strawberry.field(description="The severity's fix hours when it was reported.")
    due_at: datetime = strawberry.field(description="reportedAt + fixHours (clock hours)")
    acknowledged_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str
    breached: bool = strawberry.field(description="Resolved after its deadline.")
    overdue: bool = strawberry.field(description="Open and past its deadline now.")

    @classmethod
    def of(cls, v: faults.FaultView) -> Fault:
        return cls(id=strawberry.ID(str(v.id)), version=v.version, symptom=v.symptom, occurred_at=v.occurred_at,
                   impact_scope=v.impact_scope, severity=v.severity, status=v.status, reported_at=v.reported_at,
                   reported_by=v.reported_by, fix_hours=v.fix_hours, due_at=v.due_at,
                   acknowledged_at=v.acknowledged_at, started_at=v.started_at, resolved_at=v.resolved_at,
                   closed_at=v.closed_at, resolution=v.resolution, breached=v.breached, overdue=v.overdue)


@strawberry.input(description="A fault report: symptom, occurredAt and impactScope are required.")
class FaultReportInput:
    symptom: str | None = None
    occurred_at: datetime | None = None
    impact_scope: str | None = None
    severity: str = "general"


@strawberry.type
class FaultPayload:
    fault: Fault | None = None
    errors: list[UserError]


@strawberry.type(description="Hours to fix a fault of each severity, counted from its report.")
class FaultSettings:
    critical_hours: int
    major_hours: int
    general_hours: int

    @classmethod
    def of(cls, values: dict[str, int]) -> FaultSettings:
        return cls(critical_hours=values["critical"], major_hours=values["major"], general_hours=values["general"])


@strawberry.type
class FaultSettingsPayload:
    settings: FaultSettings | None = None
    errors: list[UserError]


@strawberry.type
class FaultQuery:
    @strawberry.field(description="Fault tickets, newest report first, by status, breached and overdue (open past "
                                  "the deadline now); needs fault.report.")
    async def faults(self, info: Info, status: str | None = None, breached: bool | None = None,
                     overdue: bool | None = None, first: int | None = None, after: str | None = None,
                     last: int | None = None, before: str | None = None) -> Connection[Fault]:
        request = page_request(info, "faults", first, after, last, before)
        found, more = await faults.faults_page(ctx_of(info), request.window(time_id_key), status=status,
                                               breached=breached, overdue=overdue)
        return keyset_connection(request, found, more, lambda f: [f.reported_at, f.id], Fault.of)

    @strawberry.field(description="The tenant's fix hours per severity (fault.handle).")
    async def fault_settings(self, info: Info) -> FaultSettings:
        return FaultSettings.of(await faults.fault_settings(ctx_of(info)))


@strawberry.type
class FaultMutation:
    @strawberry.mutation(description="Report a fault (fault.report): symptom, occurredAt and impactScope required "
                                     "(FAULT_FIELD_REQUIRED); due by the report time + the severity's fix hours.")
    async def fault_report(self, info: Info, input: FaultReportInput) -> FaultPayload:
        async def call() -> dict:
            fields = {"symptom": input.symptom, "occurred_at": input.occurred_at, "impact_scope": input.impact_scope,
                      "severity": input.severity}
            return {"fault": Fault.of(await faults.report_fault(ctx_of(info), fields))}
        return await mutate(info, FaultPayload, call)

    @strawberry.mutation(description="Move a fault on (fault.handle): action acknowledge | start | resolve (needs "
                                     "resolution notes; after the deadline the ticket is flagged breached) | close | "
                                     "reopen; version is the one you read (FAULT_TRANSITION_INVALID otherwise).")
    async def fault_advance(self, info: Info, id: strawberry.ID, version: int, action: str,
                            resolution: str | None = None) -> FaultPayload:
        async def call() -> dict:
            view = await faults.advance_fault(ctx_of(info), parse_id(id, "id"), version=version, action=action,
                                              resolution=resolution)
            return {"fault": Fault.of(view)}
        return await mutate(info, FaultPayload, call)

    @strawberry.mutation(description="Set the fix hours of fault severities, 1 to 720 each (tenant.settings.manage); "
                                     "a ticket keeps the deadline it was reported with.")
    async def fault_settings_update(self, info: Info, critical_hours: int | None = None,
                                    major_hours: int | None = None,
                                    general_hours: int | None = None) -> FaultSettingsPayload:
        async def call() -> dict:
            values = await faults.update_fault_settings(ctx_of(info), {
                "critical": critical_hours, "major": major_hours, "general": general_hours})
            return {"settings": FaultSettings.of(values)}
        return await mutate(info, FaultSettingsPayload, call)
