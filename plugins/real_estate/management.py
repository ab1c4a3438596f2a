"""Office management of the real-estate vertical, one function per use case, on ``core.plugins`` only:
follow-ups and follow-up plans (RE20, RE32, RE36), A/B/C grades (RE32), holiday and advertisement-day
SMS campaigns (RE33, RE34; seed 001 S08), consultants' violations (RE2, RE3, RE4, RE10, RE11 B, RE32)
and the reception report (RE35; §2 Reports / KPIs).

Follow-ups are entries of core's attribution ledger (FOLLOW_UP), so the last one is what keeps a
registration valid (RE20); the follow-up plan only says when the next one is due. Every change is
audited and announced in its own unit of work; a refused call writes nothing."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.plugins import (
    EventType,
    IsolationOperation,
    KehuError,
    LedgerKind,
    Parameter,
    ParameterKind,
    Permission,
    Scope,
    assign_grade,
    attribution_decision,
    attribution_owners,
    customer_grade,
    customer_record,
    emit,
    fetch_page,
    graded_customers,
    ledger_entries,
    long_job,
    may_reach,
    record,
    record_ledger_entry,
    require_permission,
    send_customer_sms,
    submit_job,
    tenant_calendar,
    tenant_parameters,
    tenant_user,
    unit_of_work,
)
from plugins.real_estate.management_tables import Campaign, CampaignDelivery, FollowUpPlan, Violation

VERTICAL = "real_estate"
SCHEME = "follow_up"  # the A/B/C scheme declared in rules.GRADING
GRADES = ("A", "B", "C")
FOLLOW_UP = "real_estate.follow_up.record"
CAMPAIGN = "real_estate.campaign.manage"
VIOLATION_RECORD = "real_estate.violation.record"
VIOLATION_READ = "real_estate.violation.read"
REPORT = "real_estate.report.read"
SEND_JOB = "real_estate.campaign_send"

CAMPAIGN_KINDS = ("holiday", "ad_day")  # RE33 节日祝福, RE34 广告发布日温馨提示
# A property customer's record (物业客户, seed 001 S08) carries this tag: never texted for marketing
# unless the tenant sets property_owner_marketing.
PROPERTY_OWNER_TAG = "property_owner"
# The rules a violation may name: leaving a reception to fetch materials (RE2), skipping the daily
# sales-control check (RE3), not ready (RE4), choosing or fighting over customers (RE10), a general
# fault the customer complained of (RE11 B), concealment or false registration (RE32).
VIOLATION_RULES = ("RE2", "RE3", "RE4", "RE10", "RE11-B", "RE32")
MAX_NOTE = 2000
MAX_MESSAGE = 500  # an SMS platform splits longer texts; a greeting is a few segments at most
MAX_PENALTY = 200
REPORT_MAX_DAYS = 366
REPORT_MAX_ENTRIES = 20_000  # ledger entries one report request reads at most
REPORT_MAX_DEALS = 500  # customers with a deal in the range whose splits one request decides
LIST_MAX_OWNERS = 5_000  # owners one overdue list reads at most
CAMPAIGN_BATCH = 100

PERMISSIONS = (
    Permission(FOLLOW_UP, "record follow-ups and grade customers (own scope: one's own customers; a manager "
                          "holds it for the office)", "记录回访并给客户分级（本人范围：自己的客户；经理：全部）"),
    Permission(CAMPAIGN, "create and send SMS campaigns (sales department)", "创建并发送短信活动（销售部）"),
    Permission(VIOLATION_RECORD, "record consultants' violations (sales manager)", "登记置业顾问违规（销售经理）"),
    Permission(VIOLATION_READ, "read consultants' violations (own scope: one's own)", "查看置业顾问违规记录（本人范围：自己的）"),
    Permission(REPORT, "read the office's reception, conversion and commission reports (project sales manager)",
               "查看案场接待、转化及佣金统计（项目销售经理）"),
)

PARAMETERS = (
    # The regulation sets no follow-up intervals (RE32): configurable defaults.
    Parameter("follow_up_days_a", ParameterKind.INTEGER, 7, "Days between follow-ups of an A customer (RE32; a default, "
              "the regulation gives none)", "A类客户回访间隔天数（RE32；默认值，制度未规定）", minimum=1, maximum=365, unit="days"),
    Parameter("follow_up_days_b", ParameterKind.INTEGER, 15, "Days between follow-ups of a B customer (RE32; a default)",
              "B类客户回访间隔天数（RE32；默认值）", minimum=1, maximum=365, unit="days"),
    Parameter("follow_up_days_c", ParameterKind.INTEGER, 30, "Days between follow-ups of a C or ungraded customer (RE32; "
              "a default)", "C类及未分级客户回访间隔天数（RE32；默认值）", minimum=1, maximum=365, unit="days"),
    Parameter("property_owner_marketing", ParameterKind.BOOLEAN, False,
              "Whether SMS campaigns may reach property customers (tagged property_owner); seed 001 S08 forbids "
              "marketing with property-management data", "短信活动是否可发送给物业客户（标签 property_owner）；物业客户信息不得用于营销（S08）"),
)

EVENT_TYPES = (
    EventType("real_estate.follow_up_recorded", "customer", "last_follow_up_at, next_due_at",
              "a follow-up of a customer is recorded (RE20, RE36)"),
    EventType("real_estate.customer_graded", "customer", "grade, next_due_at", "a customer is graded A, B or C (RE32)"),
    EventType("real_estate.campaign_created", "real_estate_campaign", "kind, message, send_on",
              "an SMS campaign is created (RE33, RE34)"),
    EventType("real_estate.campaign_sending", "real_estate_campaign", "state, job_id", "an SMS campaign's send starts"),
    EventType("real_estate.campaign_sent", "real_estate_campaign", "state, sent_count, skipped_count",
              "an SMS campaign reached every registered customer it may"),
    EventType("real_estate.violation_recorded", "real_estate_violation", "consultant_id, rule, penalty",
              "a consultant's violation is recorded"),
)

# The plans and deliveries hold a customer id and no personal value: core's erasure deletes a
# subject's rows of every table with a customer_id, these included.
PERSONAL_DATA: tuple = ()


def now() -> datetime:
    return datetime.now(UTC)  # tests pin the clock here


# --- checks ------------------------------------------------------------------------------------


def _invalid(field: str, en: str, zh: str) -> KehuError:
    return KehuError("REAL_ESTATE_INPUT_INVALID", en, zh, field=field)


def _text(value: object, field: str, limit: int, *, required: bool = True) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise _invalid(field, f"{field} is required", f"{field} 为必填项")
        return None
    if len(text) > limit:
        raise _invalid(field, f"{field} is longer than {limit} characters", f"{field} 超过 {limit} 个字符")
    return text


def _moment(value: object, field: str, *, not_after: datetime | None = None) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _invalid(field, f"{field} must be a time with its time-zone offset", f"{field} 须为带时区的时间")
    if not_after is not None and value > not_after:
        raise _invalid(field, f"{field} lies in the future", f"{field} 不能晚于当前时间")
    return value.astimezone(UTC)


def _as_uuid(value: object) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


async def _customer(uow: Any, customer_id: UUID) -> Mapping[str, Any]:
    row = await customer_record(uow, customer_id)
    if row is None:
        raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                        field="customer_id")
    return row


def _not_owner() -> KehuError:
    return KehuError("REAL_ESTATE_NOT_OWNER", "only the customer's owning consultant or a manager may do this",
                     "仅客户的归属置业顾问或经理可以操作", field="customer_id")


async def _owner_in_reach(ctx: Any, uow: Any, customer_id: UUID) -> UUID | None:
    """The customer's current owner (core's attribution), after checking the caller may act for it:
    the owner (own scope) or a manager (department or tenant scope)."""
    customer = await _customer(uow, customer_id)
    decision = await attribution_decision(uow, VERTICAL, customer_id)
    owner = _as_uuid(decision.owner)
    if not may_reach(ctx, FOLLOW_UP, owner_id=owner, department_id=customer["department_id"]):
        raise _not_owner()
    return owner


async def _intervals(ctx: Any) -> dict[str | None, int]:
    """Days between follow-ups per grade (None: not graded, C's); read before the unit of work opens."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    days = {grade: int(parameters[f"follow_up_days_{grade.lower()}"]) for grade in GRADES}
    return {**days, None: days["C"]}


async def today(ctx: Any) -> date:
    calendar = await tenant_calendar(ctx)
    return now().astimezone(calendar.zone).date()


def _only_own(ctx: Any, permission: str, consultant_id: UUID | None) -> tuple[UUID | None, bool]:
    """(the consultant a list is narrowed to, whether anything can be shown): own and department
    scope see their own rows only; tenant scope sees everyone's or the one asked for."""
    scope = require_permission(ctx, permission)
    if scope is Scope.TENANT:
        return consultant_id, True
    mine = ctx.user_id
    if mine is None or (consultant_id is not None and consultant_id != mine):
        return None, False
    return mine, True


# --- follow-ups and plans (RE20, RE32, RE36) ----------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    customer_id: UUID
    consultant_id: UUID | None
    grade: str | None
    last_follow_up_at: datetime | None
    next_due_at: datetime


def _plan(row: Mapping[str, Any]) -> PlanView:
    last = row["last_follow_up_at"]
    return PlanView(row["customer_id"], row["consultant_id"], row["grade"],
                    last.astimezone(UTC) if last else None, row["next_due_at"].astimezone(UTC))


async def _save_plan(uow: Any, customer_id: UUID, consultant_id: UUID | None, *, grade: str | None,
                     last_follow_up_at: datetime | None, interval_days: int) -> PlanView:
    basis = last_follow_up_at or now()
    due = basis + timedelta(days=interval_days)
    at = now()
    old = await uow.select(FollowUpPlan.id).where(FollowUpPlan.customer_id == customer_id).first()
    values = {FollowUpPlan.consultant_id: consultant_id, FollowUpPlan.grade: grade,
              FollowUpPlan.last_follow_up_at: last_follow_up_at, FollowUpPlan.next_due_at: due,
              FollowUpPlan.updated_at: at}
    if old is None:
        await uow.insert(FollowUpPlan(id=uuid4(), customer_id=customer_id, consultant_id=consultant_id, grade=grade,
                                      last_follow_up_at=last_follow_up_at, next_due_at=due, updated_at=at))
    else:
        await uow.update(FollowUpPlan, values).where(FollowUpPlan.id == old["id"])
    return _plan(await uow.select(FollowUpPlan).where(FollowUpPlan.customer_id == customer_id).first())


@dataclass(frozen=True)
class FollowUpView:
    entry_id: str
    customer_id: UUID
    consultant_id: UUID | None
    at: datetime
    note: str
    plan: PlanView


async def record_follow_up(ctx: Any, customer_id: UUID, *, at: datetime, note: str) -> FollowUpView:
    """Record a follow-up (回访) of a customer as a FOLLOW_UP entry of core's attribution ledger, so
    it renews the owner's registration (RE20), and move the customer's next follow-up on by its
    grade's interval (RE32, RE36). Only the owning consultant or a manager may: a manager records it
    for the owner (entering the owner's follow-up record); a customer with no owner is followed up
    by the manager who records it."""
    require_permission(ctx, FOLLOW_UP)
    text = _text(note, "note", MAX_NOTE)
    moment = _moment(at, "at", not_after=now() + timedelta(minutes=5))
    intervals = await _intervals(ctx)
    async with unit_of_work(ctx) as uow:
        owner = await _owner_in_reach(ctx, uow, customer_id)
        consultant = owner or ctx.user_id
        if consultant is None:
            raise _not_owner()
        entry = await record_ledger_entry(uow, VERTICAL, customer_id, LedgerKind.FOLLOW_UP, at=moment,
                                          consultant_id=consultant, data={"note": text})
        old = await uow.select(FollowUpPlan.last_follow_up_at).where(FollowUpPlan.customer_id == customer_id).first()
        last = moment
        if old and old["last_follow_up_at"] is not None and old["last_follow_up_at"] > moment:
            last = old["last_follow_up_at"]  # an older follow-up entered late does not move the plan back
        grade = await customer_grade(uow, VERTICAL, SCHEME, customer_id)
        plan = await _save_plan(uow, customer_id, consultant, grade=grade, last_follow_up_at=last,
                                interval_days=intervals.get(grade, intervals[None]))
        await record(uow, "real_estate.follow_up_recorded", "customer", customer_id,
                     {"entry": str(entry.id), "consultant_id": str(consultant), "at": moment.isoformat(),
                      "next_due_at": plan.next_due_at.isoformat()})
        await emit(uow, "real_estate.follow_up_recorded", "customer", customer_id, ("last_follow_up_at", "next_due_at"))
    return FollowUpView(str(entry.id), customer_id, consultant, moment, text or "", plan)


async def grade_customer(ctx: Any, customer_id: UUID, grade: str, *, reason: str | None = None) -> PlanView:
    """Grade a customer A, B or C (RE32; the criteria are the office's own) through core's grading
    engine (scheme ``follow_up``: history, audit and ``grade.changed`` come from there), and set its
    follow-up plan to that grade's interval from the last follow-up."""
    require_permission(ctx, FOLLOW_UP)
    if grade not in GRADES:
        raise _invalid("grade", "grade must be A, B or C", "等级须为 A、B 或 C")
    why = _text(reason, "reason", MAX_NOTE, required=False) or "RE32"
    intervals = await _intervals(ctx)
    async with unit_of_work(ctx) as uow:
        owner = await _owner_in_reach(ctx, uow, customer_id)
        await assign_grade(uow, VERTICAL, SCHEME, customer_id, grade, reason=why, source="real_estate")
        old = await uow.select(FollowUpPlan.last_follow_up_at).where(FollowUpPlan.customer_id == customer_id).first()
        last = old["last_follow_up_at"] if old else None
        plan = await _save_plan(uow, customer_id, owner or ctx.user_id, grade=grade,
                                last_follow_up_at=last.astimezone(UTC) if last else None,
                                interval_days=intervals[grade])
        await record(uow, "real_estate.customer_graded", "customer", customer_id,
                     {"grade": grade, "next_due_at": plan.next_due_at.isoformat()})
        await emit(uow, "real_estate.customer_graded", "customer", customer_id, ("grade", "next_due_at"))
    return plan


def due_key(raw: list[Any]) -> tuple[datetime, UUID]:
    """A cursor's key of the due follow-ups: (next_due_at, id)."""
    return datetime.fromisoformat(raw[0]), UUID(raw[1])


async def follow_ups_due(ctx: Any, window: Any, *, consultant_id: UUID | None = None,
                         as_of: datetime | None = None) -> tuple[list[tuple[UUID, PlanView]], bool]:
    """One keyset window of the customers whose next follow-up is due (next_due_at ≤ as_of, default
    now), soonest first: a consultant's own (own scope) or any consultant's (a manager)."""
    consultant, visible = _only_own(ctx, FOLLOW_UP, consultant_id)
    if not visible:
        return [], False
    moment = _moment(as_of, "as_of") if as_of is not None else now()
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(FollowUpPlan).where(FollowUpPlan.next_due_at <= moment)
        if consultant is not None:
            query = query.where(FollowUpPlan.consultant_id == consultant)
        rows, more = await fetch_page(query, [FollowUpPlan.next_due_at, FollowUpPlan.id], window)
    return [(r["id"], _plan(r)) for r in rows], more


@dataclass(frozen=True)
class OverdueView:
    customer_id: UUID
    owner_id: UUID
    valid_until: datetime
    rule: str | None


def _in_window(items: Sequence[Any], key: Any, window: Any) -> tuple[list[Any], bool]:
    """A keyset window over a list already in key order (what fetch_page does in SQL)."""
    chosen = [i for i in items if (window.after is None or key(i) > window.after)
              and (window.before is None or key(i) < window.before)]
    if window.backward:
        return chosen[-window.size:], len(chosen) > window.size
    return chosen[:window.size], len(chosen) > window.size


def overdue_key(raw: list[Any]) -> tuple[str]:
    """A cursor's key of the overdue list: (customer id as text)."""
    return (str(UUID(raw[0])),)


async def follow_ups_overdue(ctx: Any, window: Any, *, consultant_id: UUID | None = None
                             ) -> tuple[list[OverdueView], bool]:
    """The customers whose owner's last follow-up is older than the registration's validity (a
    month, RE20/RE36): core's owner projection with ``valid_until`` passed, per consultant (own
    scope: one's own), by customer id; at most LIST_MAX_OWNERS owners are read per request."""
    consultant, visible = _only_own(ctx, FOLLOW_UP, consultant_id)
    if not visible:
        return [], False
    moment = now()
    found: list[OverdueView] = []
    async with unit_of_work(ctx, write=False) as uow:
        after = None
        while len(found) < LIST_MAX_OWNERS:
            rows = await attribution_owners(uow, VERTICAL, owner_id=consultant, valid=False, as_of=moment, limit=500,
                                            after=after)
            for row in rows:
                owner, until = _as_uuid(row["owner_id"]), row["valid_until"]
                if owner is not None and until is not None and until <= moment:
                    found.append(OverdueView(_as_uuid(row["customer_id"]), owner, until.astimezone(UTC), row["rule"]))
            if len(rows) < 500:
                break
            after = rows[-1]["customer_id"]
    found.sort(key=lambda o: str(o.customer_id))
    return _in_window(found, lambda o: (str(o.customer_id),), window)


# --- SMS campaigns (RE33, RE34; S08) --------------------------------------------------------------


@dataclass(frozen=True)
class CampaignView:
    id: UUID
    kind: str
    message: str
    send_on: str
    state: str
    created_by: str
    job_id: UUID | None
    sent_at: datetime | None
    sent_count: int
    skipped_count: int
    outcomes: Mapping[str, int] = field(default_factory=dict)


def _campaign(row: Mapping[str, Any], outcomes: Mapping[str, int] | None = None) -> CampaignView:
    return CampaignView(row["id"], row["kind"], row["message"], row["send_on"], row["state"], row["created_by"],
                        row["job_id"], row["sent_at"].astimezone(UTC) if row["sent_at"] else None,
                        int(row["sent_count"]), int(row["skipped_count"]), dict(outcomes or {}))


def _campaign_not_found(campaign_id: UUID) -> KehuError:
    return KehuError("REAL_ESTATE_CAMPAIGN_NOT_FOUND", f"no SMS campaign {campaign_id}", f"未找到短信活动 {campaign_id}",
                     field="id")


async def create_campaign(ctx: Any, *, kind: str, message: str, send_on: str) -> CampaignView:
    """A holiday greeting (RE33) or an advertisement-day reminder (RE34) to send on ``send_on``."""
    require_permission(ctx, CAMPAIGN)
    if kind not in CAMPAIGN_KINDS:
        raise _invalid("kind", "kind must be holiday or ad_day", "类型须为 holiday 或 ad_day")
    text = _text(message, "message", MAX_MESSAGE)
    try:
        day = date.fromisoformat(send_on) if isinstance(send_on, str) and len(send_on) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise _invalid("send_on", "send_on must be a date YYYY-MM-DD", "send_on 须为日期 YYYY-MM-DD")
    if day < await today(ctx):
        raise _invalid("send_on", "send_on lies in the past", "发送日期已过")
    async with unit_of_work(ctx) as uow:
        row_id = uuid4()
        await uow.insert(Campaign(id=row_id, kind=kind, message=text, send_on=day.isoformat(), state="draft",
                                  created_by=ctx.actor, version=1))
        await record(uow, "real_estate.campaign_created", "real_estate_campaign", row_id,
                     {"kind": kind, "send_on": day.isoformat(), "length": len(text or "")})
        await emit(uow, "real_estate.campaign_created", "real_estate_campaign", row_id, ("kind", "message", "send_on"))
        return _campaign(await uow.select(Campaign).where(Campaign.id == row_id).first())


async def send_campaign(ctx: Any, campaign_id: UUID) -> CampaignView:
    """Start sending a draft campaign as a long job (progress through kehu's ``job(id:)``). A
    campaign sends once: a second send is refused (REAL_ESTATE_CAMPAIGN_ALREADY_SENT)."""
    require_permission(ctx, CAMPAIGN)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Campaign).where(Campaign.id == campaign_id).first()
        if row is None:
            raise _campaign_not_found(campaign_id)
        claimed = await uow.update(Campaign, {Campaign.state: "sending", Campaign.version: Campaign.version + 1,
                                              Campaign.send_requested_by: ctx.actor,
                                              Campaign.send_requested_at: now()}).where(
            (Campaign.id == campaign_id) & (Campaign.state == "draft")).returning(Campaign.id)
        if not claimed:
            raise KehuError("REAL_ESTATE_CAMPAIGN_ALREADY_SENT", "this campaign was already sent (or is being sent)",
                            "该短信活动已发送（或正在发送）", field="id")
        job_id = await submit_job(uow, SEND_JOB, {"campaign_id": str(campaign_id)})
        await uow.update(Campaign, {Campaign.job_id: job_id}).where(Campaign.id == campaign_id)
        await record(uow, "real_estate.campaign_sending", "real_estate_campaign", campaign_id,
                     {"state": ("draft", "sending"), "job_id": str(job_id)})
        await emit(uow, "real_estate.campaign_sending", "real_estate_campaign", campaign_id, ("state", "job_id"))
        return _campaign(await uow.select(Campaign).where(Campaign.id == campaign_id).first())


async def _registered_customers(ctx: Any) -> list[UUID]:
    """Every customer registered in the vertical's ledger (RE33: all registered customers), once each."""
    seen: dict[UUID, None] = {}
    after = None
    async with unit_of_work(ctx, write=False) as uow:
        while True:
            entries = await ledger_entries(uow, VERTICAL, kinds=[LedgerKind.REGISTRATION], limit=1000,
                                           after_seq=after)
            for entry in entries:
                customer = _as_uuid(entry.customer)
                if customer is not None:
                    seen.setdefault(customer, None)
            if len(entries) < 1000:
                return list(seen)
            after = entries[-1].seq


@long_job(SEND_JOB, read_permission=CAMPAIGN)
async def run_campaign_send(job: Any) -> dict[str, Any]:
    """The send: every registered customer once, through core's consent-checked SMS service (marketing
    consent must hold; property customers skipped unless property_owner_marketing, S08; no phone:
    skipped), one delivery row each, in batches. A re-run after a crash skips those already done."""
    ctx = job.ctx
    campaign_id = UUID(job.params["campaign_id"])
    parameters = await tenant_parameters(ctx, VERTICAL)
    skip = () if parameters["property_owner_marketing"] else (PROPERTY_OWNER_TAG,)
    async with unit_of_work(ctx, write=False) as uow:
        campaign = await uow.select(Campaign).where(Campaign.id == campaign_id).first()
    if campaign is None or campaign["state"] == "sent":
        return {"campaign_id": str(campaign_id), "state": campaign["state"] if campaign else "missing"}
    recipients = await _registered_customers(ctx)
    for start in range(0, len(recipients), CAMPAIGN_BATCH):
        batch = recipients[start:start + CAMPAIGN_BATCH]
        async with unit_of_work(ctx) as uow:
            done = {r["customer_id"] for r in await uow.select(CampaignDelivery.customer_id).where(
                (CampaignDelivery.campaign_id == campaign_id) & CampaignDelivery.customer_id.is_in(batch))}
            rows = []
            for customer in batch:
                if customer in done:
                    continue
                outcome = await send_customer_sms(uow, customer, campaign["message"], purpose="marketing_sms",
                                                  skip_tags=skip, idempotency_key=f"{SEND_JOB}:{campaign_id}:{customer}")
                rows.append(CampaignDelivery(id=uuid4(), campaign_id=campaign_id, customer_id=customer,
                                             outcome=outcome, at=now()))
            if rows:
                await uow.insert(*rows)
        await job.progress(min(start + CAMPAIGN_BATCH, len(recipients)), len(recipients))
    async with unit_of_work(ctx) as uow:
        outcomes = Counter(r["outcome"] for r in await uow.select(CampaignDelivery.outcome).where(
            CampaignDelivery.campaign_id == campaign_id))
        sent, skipped = outcomes.get("sent", 0), sum(outcomes.values()) - outcomes.get("sent", 0)
        await uow.update(Campaign, {Campaign.state: "sent", Campaign.sent_at: now(), Campaign.sent_count: sent,
                                    Campaign.skipped_count: skipped, Campaign.version: Campaign.version + 1}).where(
            Campaign.id == campaign_id)
        await record(uow, "real_estate.campaign_sent", "real_estate_campaign", campaign_id,
                     {"state": ("sending", "sent"), "outcomes": dict(sorted(outcomes.items()))})
        await emit(uow, "real_estate.campaign_sent", "real_estate_campaign", campaign_id,
                   ("state", "sent_count", "skipped_count"))
    return {"campaign_id": str(campaign_id), "sent": sent, "skipped": skipped, "outcomes": dict(outcomes)}


async def campaign(ctx: Any, campaign_id: UUID) -> CampaignView | None:
    """One campaign with how many deliveries ended in each outcome; None when the tenant has none."""
    require_permission(ctx, CAMPAIGN)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(Campaign).where(Campaign.id == campaign_id).first()
        if row is None:
            return None
        outcomes = Counter(r["outcome"] for r in await uow.select(CampaignDelivery.outcome).where(
            CampaignDelivery.campaign_id == campaign_id))
    return _campaign(row, outcomes)


def campaign_key(raw: list[Any]) -> tuple[str, UUID]:
    """A cursor's key of the campaigns: (send_on, id)."""
    return date.fromisoformat(raw[0]).isoformat(), UUID(raw[1])


async def campaigns(ctx: Any, window: Any) -> tuple[list[CampaignView], bool]:
    """One keyset window of the campaigns by send day (send_on, id)."""
    require_permission(ctx, CAMPAIGN)
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await fetch_page(uow.select(Campaign), [Campaign.send_on, Campaign.id], window)
    return [_campaign(r) for r in rows], more


# --- violations (RE2, RE3, RE4, RE10, RE11 B, RE32) -----------------------------------------------


@dataclass(frozen=True)
class ViolationView:
    id: UUID
    consultant_id: UUID
    rule: str
    note: str
    penalty: str | None
    recorded_by: str
    recorded_at: datetime


def _violation(row: Mapping[str, Any]) -> ViolationView:
    return ViolationView(row["id"], row["consultant_id"], row["rule"], row["note"], row["penalty"], row["recorded_by"],
                         row["recorded_at"].astimezone(UTC))


async def record_violation(ctx: Any, consultant_id: UUID, *, rule: str, note: str,
                           penalty: str | None = None) -> ViolationView:
    """The manager records a consultant's violation of ``rule`` with a note; ``penalty`` is the
    penalty decided, as text (the regulation gives no amounts): kehu records it and deducts nothing."""
    require_permission(ctx, VIOLATION_RECORD)
    if rule not in VIOLATION_RULES:
        raise _invalid("rule", f"rule must be one of {', '.join(VIOLATION_RULES)}",
                       f"违规条款须为以下之一：{'、'.join(VIOLATION_RULES)}")
    text = _text(note, "note", MAX_NOTE)
    amount = _text(penalty, "penalty", MAX_PENALTY, required=False)
    async with unit_of_work(ctx) as uow:
        if not await tenant_user(uow, consultant_id):
            raise KehuError("USER_UNKNOWN", f"no consultant {consultant_id} in your organisation",
                            f"本单位没有置业顾问 {consultant_id}", field="consultant_id")
        row_id = uuid4()
        await uow.insert(Violation(id=row_id, consultant_id=consultant_id, rule=rule, note=text, penalty=amount,
                                   recorded_by=ctx.actor, recorded_at=now()))
        await record(uow, "real_estate.violation_recorded", "real_estate_violation", row_id,
                     {"consultant_id": str(consultant_id), "rule": rule, "penalty": amount})
        await emit(uow, "real_estate.violation_recorded", "real_estate_violation", row_id,
                   ("consultant_id", "rule", "penalty"))
        return _violation(await uow.select(Violation).where(Violation.id == row_id).first())


def violation_key(raw: list[Any]) -> tuple[datetime, UUID]:
    """A cursor's key of the violations: (recorded_at, id), newest first."""
    return datetime.fromisoformat(raw[0]), UUID(raw[1])


async def violations(ctx: Any, window: Any, *, consultant_id: UUID | None = None) -> tuple[list[ViolationView], bool]:
    """One keyset window of violations, newest first: one's own (own scope) or any consultant's."""
    consultant, visible = _only_own(ctx, VIOLATION_READ, consultant_id)
    if not visible:
        return [], False
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Violation)
        if consultant is not None:
            query = query.where(Violation.consultant_id == consultant)
        rows, more = await fetch_page(query, [Violation.recorded_at, Violation.id], window, descending=True)
    return [_violation(r) for r in rows], more


# --- the reception report (RE35; §2 Reports / KPIs) -----------------------------------------------


@dataclass
class ConsultantFigures:
    consultant_id: str
    rotation: int = 0
    duty: int = 0
    designated: int = 0
    first_visits: int = 0
    deals: int = 0
    commission_deals: float = 0.0  # sum of the consultant's shares over the range's deals (0.55 for 55%)
    split_deals: int = 0  # deals the consultant shares with another
    violations: int = 0
    valid_customers: int = 0
    invalid_customers: int = 0
    grades: Counter = field(default_factory=Counter)

    @property
    def conversion_rate(self) -> float | None:
        return round(self.deals / self.first_visits, 4) if self.first_visits else None


@dataclass(frozen=True)
class DealLine:
    deal_id: str
    customer_id: str
    at: datetime
    closed_by: str | None
    rule: str
    shares: Mapping[str, int]
    explanation_en: str
    explanation_zh: str


@dataclass(frozen=True)
class ReceptionReport:
    since: datetime
    until: datetime
    consultants: list[ConsultantFigures]
    deals: list[DealLine]
    valid_customers: int
    invalid_customers: int
    grades: Mapping[str, int]


def _too_large(what: str, limit: int) -> KehuError:
    return KehuError("REAL_ESTATE_REPORT_TOO_LARGE", f"the range holds more than {limit} {what}; ask for a shorter range",
                     f"该时间范围内的{what}超过 {limit} 条，请缩短范围", field="from")


async def _entries_in(uow: Any, since: datetime, until: datetime) -> list[Any]:
    found: list[Any] = []
    after = None
    while True:
        page = await ledger_entries(uow, VERTICAL, kinds=[LedgerKind.VISIT, LedgerKind.REGISTRATION, LedgerKind.DEAL],
                                    since=since, until=until, limit=1000, after_seq=after)
        found += page
        if len(found) > REPORT_MAX_ENTRIES:
            raise _too_large("ledger entries", REPORT_MAX_ENTRIES)
        if len(page) < 1000:
            return found
        after = page[-1].seq


async def reception_report(ctx: Any, since: datetime, until: datetime) -> ReceptionReport:
    """Per consultant over [since, until): receptions by kind (rotation, duty, designated, from the
    ledger's VISIT entries), first visits (registrations) and deals closed, the conversion rate
    (deals / first visits), each deal's commission split as core's attribution decides it (the
    commission ledger), violations; and now, per owning consultant, valid and invalid customers and
    the A/B/C distribution. The range is at most REPORT_MAX_DAYS; one request reads at most
    REPORT_MAX_ENTRIES entries and decides at most REPORT_MAX_DEALS customers' splits."""
    require_permission(ctx, REPORT)
    start, end = _moment(since, "from"), _moment(until, "to")
    if end <= start or end - start > timedelta(days=REPORT_MAX_DAYS):
        raise KehuError("REAL_ESTATE_REPORT_RANGE_INVALID", f"to must be after from, at most {REPORT_MAX_DAYS} days later",
                        f"结束时间须晚于开始时间，且相隔不超过 {REPORT_MAX_DAYS} 天", field="to")
    figures: dict[str, ConsultantFigures] = {}

    def of(consultant: object) -> ConsultantFigures:
        key = str(consultant)
        return figures.setdefault(key, ConsultantFigures(key))

    async with unit_of_work(ctx, write=False) as uow:
        entries = await _entries_in(uow, start, end)
        deals_by_customer: dict[str, list[Any]] = defaultdict(list)
        for entry in entries:
            if entry.consultant is None:
                continue
            if entry.kind == LedgerKind.VISIT:
                reception = (entry.data or {}).get("reception", "rotation")
                if reception in ("rotation", "duty", "designated"):
                    figure = of(entry.consultant)
                    setattr(figure, reception, getattr(figure, reception) + 1)
            elif entry.kind == LedgerKind.REGISTRATION:
                if (entry.data or {}).get("first_visit", True):
                    of(entry.consultant).first_visits += 1
            elif entry.kind == LedgerKind.DEAL:
                of(entry.consultant).deals += 1
                deals_by_customer[entry.customer].append(entry)
        if len(deals_by_customer) > REPORT_MAX_DEALS:
            raise _too_large("customers with deals", REPORT_MAX_DEALS)
        lines: list[DealLine] = []
        for customer, deals in deals_by_customer.items():
            decision = await attribution_decision(uow, VERTICAL, UUID(str(customer)), as_of=end)
            splits = {split.deal: split for split in decision.deals}
            for deal in deals:
                split = splits.get(str(deal.id))
                if split is None:
                    continue
                for consultant, percent in split.shares.items():
                    figure = of(consultant)
                    figure.commission_deals += percent / 100
                    if percent < 100:
                        figure.split_deals += 1
                lines.append(DealLine(str(deal.id), str(customer), deal.at, deal.consultant, split.rule,
                                      dict(split.shares), split.explanation_en, split.explanation_zh))
        for row in await uow.select(Violation.consultant_id).where(
                (Violation.recorded_at >= start) & (Violation.recorded_at < end)):
            of(row["consultant_id"]).violations += 1
        owners: dict[str, str] = {}
        valid = invalid = 0
        moment = min(now(), end)
        after = None
        while True:
            rows = await attribution_owners(uow, VERTICAL, as_of=moment, limit=500, after=after)
            for row in rows:
                if row["owner_id"] is None:
                    continue
                owner = str(row["owner_id"])
                owners[str(row["customer_id"])] = owner
                if row["valid_until"] is not None and row["valid_until"] > moment:
                    of(owner).valid_customers += 1
                    valid += 1
                else:
                    of(owner).invalid_customers += 1
                    invalid += 1
            if len(rows) < 500:
                break
            if len(owners) > LIST_MAX_OWNERS * 4:
                raise _too_large("customers", LIST_MAX_OWNERS * 4)
            after = rows[-1]["customer_id"]
        grades: Counter = Counter()
        for customer, held in (await graded_customers(uow, VERTICAL, SCHEME, GRADES)).items():
            grade = held[0][1]
            grades[grade] += 1
            if str(customer) in owners:
                of(owners[str(customer)]).grades[grade] += 1
    lines.sort(key=lambda line: (line.at, line.deal_id))
    return ReceptionReport(start, end, sorted(figures.values(), key=lambda f: f.consultant_id), lines, valid, invalid,
                           {g: grades.get(g, 0) for g in GRADES})


# --- the isolation suite's operations (kehu_isolation_operations) ---------------------------------


_CUSTOMER = ('mutation($mark: String!) { customerCreate(input: {kind: "organisation", orgName: $mark}) '
             '{ customer { id } errors { code } } }')


def _isolation_operations() -> tuple[IsolationOperation, ...]:
    c, u, k = "customer", "user", "real_estate_campaign"
    return (
        IsolationOperation(_CUSTOMER, makes=(c, "customer.id")),
        IsolationOperation("{ me { user { id } } }", makes=(u, "user.id")),
        IsolationOperation('mutation($c: ID!, $mark: String!) { realEstateFollowUpRecord(customerId: $c, '
                           'at: "2026-01-05T10:00:00+08:00", note: $mark) { followUp { entryId customerId note } '
                           'errors { code } } }', ids=(("c", c),)),
        IsolationOperation('mutation($c: ID!, $mark: String!) { realEstateCustomerGrade(customerId: $c, grade: "B", '
                           'reason: $mark) { plan { customerId grade } errors { code } } }', ids=(("c", c),)),
        IsolationOperation("{ realEstateFollowUpsDue(asOf: \"2099-01-01T00:00:00Z\", first: 100) "
                           "{ nodes { customerId grade nextDueAt } } }"),
        IsolationOperation("{ realEstateFollowUpsOverdue(first: 100) { nodes { customerId ownerId validUntil } } }"),
        IsolationOperation('mutation($mark: String!) { realEstateCampaignCreate(kind: HOLIDAY, message: $mark, '
                           'sendOn: "2099-01-01") { campaign { id message } errors { code } } }',
                           makes=(k, "campaign.id")),
        IsolationOperation("{ realEstateCampaigns(first: 100) { nodes { id message } } }", lists=(k, "nodes.*.id")),
        IsolationOperation("query($k: ID!) { realEstateCampaign(id: $k) { id message outcomes { outcome count } } }",
                           ids=(("k", k),)),
        # A campaign sends once, so the suite (which repeats each operation) cannot drive a send of its own
        # campaign twice; tests/plugins/real_estate/test_management.py sends another tenant's and is refused.
        IsolationOperation('mutation { realEstateCampaignSend(id: "00000000-0000-0000-0000-000000000000") '
                           '{ campaign { id } errors { code } } }'),
        IsolationOperation('mutation($u: ID!, $mark: String!) { realEstateViolationRecord(consultantId: $u, rule: "RE2", '
                           'note: $mark) { violation { id consultantId note } errors { code } } }',
                           ids=(("u", u),), makes=("real_estate_violation", "violation.id")),
        IsolationOperation("{ realEstateViolations(first: 100) { nodes { id note } } }",
                           lists=("real_estate_violation", "nodes.*.id")),
        IsolationOperation('{ realEstateReceptionReport(from: "2026-01-01T00:00:00Z", to: "2026-12-31T00:00:00Z") '
                           '{ validCustomers consultants { consultantId rotation deals } deals { dealId customerId } } }'),
    )


ISOLATION_OPERATIONS = _isolation_operations()
