"""The office-management GraphQL fields of the real-estate vertical (``realEstate…``): follow-ups,
grades and follow-up lists, SMS campaigns, violations and the reception report. Resolvers only call
the use cases of ``management``."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from core.plugins import Connection, KehuError, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.real_estate import management as service


def _maybe(value: Any, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.enum(name="RealEstateCampaignKind")
class CampaignKind(Enum):
    HOLIDAY = "holiday"  # RE33 节日祝福短信
    AD_DAY = "ad_day"  # RE34 广告发布日温馨提示短信


@strawberry.type(name="RealEstateFollowUpPlan", description="When a customer's next follow-up is due (RE32, RE36).")
class Plan:
    customer_id: strawberry.ID
    consultant_id: strawberry.ID | None = strawberry.field(description="Who followed up or graded last (the owner then).")
    grade: str | None = strawberry.field(description="A | B | C; null: not graded (C's interval applies).")
    last_follow_up_at: datetime | None
    next_due_at: datetime


def _plan(p: service.PlanView) -> Plan:
    return Plan(customer_id=strawberry.ID(str(p.customer_id)), consultant_id=_id(p.consultant_id), grade=p.grade,
                last_follow_up_at=p.last_follow_up_at, next_due_at=p.next_due_at)


@strawberry.type(name="RealEstateFollowUp", description="A follow-up recorded in the attribution ledger (RE20).")
class FollowUp:
    entry_id: strawberry.ID = strawberry.field(description="The FOLLOW_UP ledger entry.")
    customer_id: strawberry.ID
    consultant_id: strawberry.ID | None
    at: datetime
    note: str
    plan: Plan


@strawberry.type(name="RealEstateFollowUpOverdue",
                 description="A customer whose owner's last follow-up is older than the registration's validity (RE20, RE36).")
class Overdue:
    customer_id: strawberry.ID
    owner_id: strawberry.ID
    valid_until: datetime
    rule: str | None = strawberry.field(description="The rule the owner was decided by.")


@strawberry.type(name="RealEstateCampaignOutcome")
class Outcome:
    outcome: str = strawberry.field(description="sent | excluded | no_consent | no_phone | not_found | failed")
    count: int


@strawberry.type(name="RealEstateCampaign", description="A holiday (RE33) or advertisement-day (RE34) SMS campaign.")
class CampaignNode:
    id: strawberry.ID
    kind: CampaignKind
    message: str
    send_on: str = strawberry.field(description="YYYY-MM-DD")
    state: str = strawberry.field(description="draft | sending | sent")
    created_by: str
    job_id: strawberry.ID | None = strawberry.field(description="The long job sending it: follow it with job(id:).")
    sent_at: datetime | None
    sent_count: int
    skipped_count: int = strawberry.field(description="Registered customers not texted: no marketing consent, no "
                                                      "phone, or property customers (S08).")
    outcomes: list[Outcome]


def _campaign(c: service.CampaignView) -> CampaignNode:
    return CampaignNode(id=strawberry.ID(str(c.id)), kind=CampaignKind(c.kind), message=c.message, send_on=c.send_on,
                        state=c.state, created_by=c.created_by, job_id=_id(c.job_id), sent_at=c.sent_at,
                        sent_count=c.sent_count, skipped_count=c.skipped_count,
                        outcomes=[Outcome(outcome=k, count=v) for k, v in sorted(c.outcomes.items())])


@strawberry.type(name="RealEstateViolation", description="A consultant's violation (RE2, RE3, RE4, RE10, RE11 B, RE32).")
class ViolationNode:
    id: strawberry.ID
    consultant_id: strawberry.ID
    rule: str
    note: str
    penalty: str | None = strawberry.field(description="The penalty decided, as text; kehu deducts nothing.")
    recorded_by: str
    recorded_at: datetime


def _violation(v: service.ViolationView) -> ViolationNode:
    return ViolationNode(id=strawberry.ID(str(v.id)), consultant_id=strawberry.ID(str(v.consultant_id)), rule=v.rule,
                         note=v.note, penalty=v.penalty, recorded_by=v.recorded_by, recorded_at=v.recorded_at)


@strawberry.type(name="RealEstateGradeCount")
class GradeCount:
    grade: str
    count: int


@strawberry.type(name="RealEstateConsultantFigures", description="One consultant's figures in a reception report.")
class ConsultantFigures:
    consultant_id: strawberry.ID
    rotation: int = strawberry.field(description="Receptions in turn (RE5).")
    duty: int = strawberry.field(description="Duty receptions for an absent colleague (RE14, RE26, RE27).")
    designated: int = strawberry.field(description="Designated receptions (RE15).")
    first_visits: int = strawberry.field(description="Customers registered on a first visit.")
    deals: int = strawberry.field(description="Deals closed.")
    conversion_rate: float | None = strawberry.field(description="deals / firstVisits; null without first visits.")
    commission_deals: float = strawberry.field(description="The consultant's shares of the range's deals, summed "
                                                           "(0.55 for a 55% share).")
    split_deals: int = strawberry.field(description="Deals the consultant shares with another.")
    violations: int
    valid_customers: int = strawberry.field(description="Customers owned now whose registration is valid (RE20).")
    invalid_customers: int = strawberry.field(description="Customers owned whose last follow-up is too old (RE20).")
    grades: list[GradeCount]


@strawberry.type(name="RealEstateDealLine", description="One deal of the commission ledger and how it splits.")
class DealLine:
    deal_id: strawberry.ID
    customer_id: strawberry.ID
    at: datetime
    closed_by: strawberry.ID | None
    rule: str
    shares: JSON = strawberry.field(description="consultant id -> percent (sums to 100).")
    explanation_en: str
    explanation_zh: str


@strawberry.type(name="RealEstateReceptionReport", description="The office's figures over a range (RE35).")
class Report:
    since: datetime = strawberry.field(name="from")
    until: datetime = strawberry.field(name="to")
    consultants: list[ConsultantFigures]
    deals: list[DealLine]
    valid_customers: int
    invalid_customers: int
    grades: list[GradeCount] = strawberry.field(description="A/B/C distribution of graded customers (RE32).")


def _report(r: service.ReceptionReport) -> Report:
    return Report(
        since=r.since, until=r.until,
        consultants=[ConsultantFigures(
            consultant_id=strawberry.ID(f.consultant_id), rotation=f.rotation, duty=f.duty, designated=f.designated,
            first_visits=f.first_visits, deals=f.deals, conversion_rate=f.conversion_rate,
            commission_deals=round(f.commission_deals, 4), split_deals=f.split_deals, violations=f.violations,
            valid_customers=f.valid_customers, invalid_customers=f.invalid_customers,
            grades=[GradeCount(grade=g, count=f.grades.get(g, 0)) for g in service.GRADES]) for f in r.consultants],
        deals=[DealLine(deal_id=strawberry.ID(d.deal_id), customer_id=strawberry.ID(d.customer_id), at=d.at,
                        closed_by=_id(d.closed_by), rule=d.rule, shares=dict(d.shares),
                        explanation_en=d.explanation_en, explanation_zh=d.explanation_zh) for d in r.deals],
        valid_customers=r.valid_customers, invalid_customers=r.invalid_customers,
        grades=[GradeCount(grade=g, count=c) for g, c in r.grades.items()])


@strawberry.type(name="RealEstateFollowUpPayload")
class FollowUpPayload:
    follow_up: FollowUp | None = None
    errors: list[UserError]


@strawberry.type(name="RealEstateGradePayload")
class GradePayload:
    plan: Plan | None = None
    errors: list[UserError]


@strawberry.type(name="RealEstateCampaignPayload")
class CampaignPayload:
    campaign: CampaignNode | None = None
    errors: list[UserError]


@strawberry.type(name="RealEstateViolationPayload")
class ViolationPayload:
    violation: ViolationNode | None = None
    errors: list[UserError]


@strawberry.type
class ManagementQuery:
    @strawberry.field(description="Customers whose next follow-up is due by asOf (default now), soonest first: one's "
                                  "own (own scope) or a consultant's (RE32, RE36).")
    async def real_estate_follow_ups_due(
            self, info: strawberry.Info, consultant_id: strawberry.ID | None = None, as_of: datetime | None = None,
            first: int | None = None, after: str | None = None, last: int | None = None,
            before: str | None = None) -> Connection[Plan]:
        request = page_request(info, "real_estate.follow_ups_due", first, after, last, before)
        rows, more = await service.follow_ups_due(context(info), request.window(service.due_key),
                                                  consultant_id=_maybe(consultant_id, "consultant_id"), as_of=as_of)
        return connection(request, rows, more, lambda r: (r[1].next_due_at, r[0]), lambda r: _plan(r[1]))

    @strawberry.field(description="Customers whose owner's last follow-up is older than a month (RE20, RE36), per "
                                  "consultant (own scope: one's own), by customer id.")
    async def real_estate_follow_ups_overdue(
            self, info: strawberry.Info, consultant_id: strawberry.ID | None = None, first: int | None = None,
            after: str | None = None, last: int | None = None, before: str | None = None) -> Connection[Overdue]:
        request = page_request(info, "real_estate.follow_ups_overdue", first, after, last, before)
        rows, more = await service.follow_ups_overdue(context(info), request.window(service.overdue_key),
                                                      consultant_id=_maybe(consultant_id, "consultant_id"))
        return connection(request, rows, more, lambda o: (str(o.customer_id),),
                          lambda o: Overdue(customer_id=strawberry.ID(str(o.customer_id)),
                                            owner_id=strawberry.ID(str(o.owner_id)), valid_until=o.valid_until,
                                            rule=o.rule))

    @strawberry.field(description="SMS campaigns by send day.")
    async def real_estate_campaigns(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                                    last: int | None = None, before: str | None = None) -> Connection[CampaignNode]:
        request = page_request(info, "real_estate.campaigns", first, after, last, before)
        rows, more = await service.campaigns(context(info), request.window(service.campaign_key))
        return connection(request, rows, more, lambda c: (c.send_on, c.id), _campaign)

    @strawberry.field(description="One SMS campaign with its delivery outcomes; null when there is none of that id.")
    async def real_estate_campaign(self, info: strawberry.Info, id: strawberry.ID) -> CampaignNode | None:
        try:
            campaign_id = parse_id(id, "id")
        except KehuError:
            return None
        found = await service.campaign(context(info), campaign_id)
        return _campaign(found) if found else None

    @strawberry.field(description="Consultants' violations, newest first: one's own (own scope) or a consultant's.")
    async def real_estate_violations(
            self, info: strawberry.Info, consultant_id: strawberry.ID | None = None, first: int | None = None,
            after: str | None = None, last: int | None = None, before: str | None = None) -> Connection[ViolationNode]:
        request = page_request(info, "real_estate.violations", first, after, last, before)
        rows, more = await service.violations(context(info), request.window(service.violation_key),
                                              consultant_id=_maybe(consultant_id, "consultant_id"))
        return connection(request, rows, more, lambda v: (v.recorded_at, v.id), _violation)

    @strawberry.field(description="Receptions (rotation, duty, designated), conversion, the commission ledger and "
                                  "splits, violations per consultant over [from, to) (at most 366 days), with valid "
                                  "and invalid customers and the A/B/C distribution now (RE35).")
    async def real_estate_reception_report(self, info: strawberry.Info,
                                           since: Annotated[datetime, strawberry.argument(name="from")],
                                           until: Annotated[datetime, strawberry.argument(name="to")]) -> Report:
        return _report(await service.reception_report(context(info), since, until))


@strawberry.type
class ManagementMutation:
    @strawberry.mutation(description="Record a follow-up of a customer (a FOLLOW_UP ledger entry: it renews the "
                                     "registration, RE20) by its owning consultant or a manager.")
    async def real_estate_follow_up_record(self, info: strawberry.Info, customer_id: strawberry.ID, at: datetime,
                                           note: str) -> FollowUpPayload:
        async def call() -> dict:
            found = await service.record_follow_up(context(info), parse_id(customer_id, "customer_id"), at=at, note=note)
            return {"follow_up": FollowUp(entry_id=strawberry.ID(found.entry_id),
                                          customer_id=strawberry.ID(str(found.customer_id)),
                                          consultant_id=_id(found.consultant_id), at=found.at, note=found.note,
                                          plan=_plan(found.plan))}

        return await run_mutation(info, FollowUpPayload, call)

    @strawberry.mutation(description="Grade a customer A, B or C (RE32) through kehu's grading engine; the follow-up "
                                     "plan takes that grade's interval.")
    async def real_estate_customer_grade(self, info: strawberry.Info, customer_id: strawberry.ID, grade: str,
                                         reason: str | None = None) -> GradePayload:
        async def call() -> dict:
            found = await service.grade_customer(context(info), parse_id(customer_id, "customer_id"), grade, reason=reason)
            return {"plan": _plan(found)}

        return await run_mutation(info, GradePayload, call)

    @strawberry.mutation(description="Create a holiday greeting (RE33) or advertisement-day reminder (RE34) campaign.")
    async def real_estate_campaign_create(self, info: strawberry.Info, kind: CampaignKind, message: str,
                                          send_on: str) -> CampaignPayload:
        async def call() -> dict:
            found = await service.create_campaign(context(info), kind=kind.value, message=message, send_on=send_on)
            return {"campaign": _campaign(found)}

        return await run_mutation(info, CampaignPayload, call)

    @strawberry.mutation(description="Send a campaign once, as a long job, to every registered customer whose marketing "
                                     "consent holds and who has a phone; property customers only if the tenant allows "
                                     "(S08).")
    async def real_estate_campaign_send(self, info: strawberry.Info, id: strawberry.ID) -> CampaignPayload:
        async def call() -> dict:
            return {"campaign": _campaign(await service.send_campaign(context(info), parse_id(id, "id")))}

        return await run_mutation(info, CampaignPayload, call)

    @strawberry.mutation(description="The manager records a consultant's violation; the penalty is text, never an "
                                     "automatic deduction.")
    async def real_estate_violation_record(self, info: strawberry.Info, consultant_id: strawberry.ID, rule: str,
                                           note: str, penalty: str | None = None) -> ViolationPayload:
        async def call() -> dict:
            found = await service.record_violation(context(info), parse_id(consultant_id, "consultant_id"), rule=rule,
                                                   note=note, penalty=penalty)
            return {"violation": _violation(found)}

        return await run_mutation(info, ViolationPayload, call)
