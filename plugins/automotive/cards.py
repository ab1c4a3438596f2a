"""Lead cards (三表卡 / A card) and the walk-in / call-in register (来店(电)客户信息登记表) of seed 003 R6-1 to
R6-14 and seed 001 S17, one function per use case, on ``core.plugins`` only.

A card is created the day of the first contact by its consultant and becomes effective when a team
leader signs it; from then its validity is the pure rules of ``leads`` (first follow-up within 3
days, each later one within a week, 3 SMS-only in a row void it). Ownership is decided by the
attribution engine: signing, follow-ups, validity signatures, reassignments and revocations are
entries of the customer's ledger, and ``leads.decide`` replays them (the earliest signature owns a
customer with duplicate cards). Cards are never deleted: a revoked card stays with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar

from core.plugins import (
    EventType,
    Grade,
    Parameter,
    ParameterKind,
    GradingScheme,
    KehuError,
    PersonalDataTable,
    Scope,
    TenantTable,
    assign_grade,
    customer_record,
    customers_out_of_processing,
    emit,
    record,
    record_ledger_entry,
    require_permission,
    send_customer_sms,
    tenant_calendar,
    tenant_parameters,
    tenant_table_migration,
    tenant_user,
    tick,
    unit_of_work,
    user_names,
)
from plugins.automotive import clock, leads
from plugins.automotive.common import VERTICAL, aware, choice, holds, invalid, text
from plugins.automotive.penalties import add_penalty

SOURCES = ("walk_in", "call_in", "friend_referral", "owner_referral", "internet", "roadshow", "big_account",
           "other")
REFERRALS = {"friend_referral": "friend", "owner_referral": "owner"}
CHANNELS = leads.CHANNELS
INTENTION_SCHEME = "intention"
INTENTIONS = ("H", "A", "B", "C")

ATTRIBUTION_POLICIES = (leads.POLICY,)

PARAMETERS = (
    Parameter("dealer_name", ParameterKind.TEXT, "北京现代汽车泸州都慧", "The dealer's name in the first SMS (R6-14)",
              "首次短信中的经销店名称（R6-14）"),
    Parameter("lead_sms_template", ParameterKind.TEXT, "您好我是{dealer}销售顾问{consultant}",
              "The same-day first SMS to a walk-in or call-in lead; {dealer} and {consultant} are filled in (R6-14)",
              "来电来店留电客户当天首次短信模板，{dealer}、{consultant} 自动填入（R6-14）"),
    Parameter("lead_review_days", ParameterKind.INTEGER, 30, "Days between the team leader's rotation signatures "
              "of an active card (R6-13)", "组长循环签字确认信息卡的间隔天数（R6-13）", minimum=1, maximum=365,
              unit="days"),
)

GRADING_SCHEMES = (
    GradingScheme(INTENTION_SCHEME, "Purchase intention (A card)", "购车意向级别（A卡）", (
        Grade("H", "H: buys within 7 days", "H级：7日内购买", 1),
        Grade("A", "A: buys within 15 days", "A级：15日内购买", 2),
        Grade("B", "B: buys within 30 days", "B级：30日内购买", 3),
        Grade("C", "C: buys within 3 months", "C级：3个月内购买", 4))),
)


class Visit(TenantTable, tablename="automotive_visit"):
    """One walk-in or call-in of the register, whether or not contact details were left (S17)."""

    kind = Varchar(length=8)  # visit | call
    customer_id = UUIDColumn(null=True, default=None)
    visitor = Varchar(length=100, default="")
    companions = Integer(default=0)
    arrived_at = Timestamptz()
    left_at = Timestamptz(null=True, default=None)
    intended_model = Varchar(length=60, default="")
    source = Varchar(length=24)
    source_detail = Varchar(length=200, default="")
    summary = Text(default="")
    consultant_id = UUIDColumn()
    test_drive = Boolean(default=False)
    phone_left = Boolean(default=False)
    day = Varchar(length=10)  # the local day of the visit
    sms_sent_at = Timestamptz(null=True, default=None)
    sms_same_day = Boolean(default=False)  # sent the day of the visit (R6-14)
    sms_checked = Boolean(default=False)  # the same-day SMS check of R6-14 done
    recorded_by = Varchar(length=100)


class Card(TenantTable, tablename="automotive_lead_card"):
    customer_id = UUIDColumn()
    consultant_id = UUIDColumn()
    source = Varchar(length=24)
    referral = Varchar(length=16, null=True, default=None)  # friend | owner
    referrer_customer_id = UUIDColumn(null=True, default=None)
    intended_model = Varchar(length=60, default="")
    intention = Varchar(length=4, null=True, default=None)
    first_contact = Varchar(length=10)
    created_on = Varchar(length=10)
    signed_at = Timestamptz(null=True, default=None)
    signer_id = UUIDColumn(null=True, default=None)
    state = Varchar(length=12)  # unsigned | active | void | revoked
    void_on = Varchar(length=10, null=True, default=None)
    void_reason = Text(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = Varchar(length=100, null=True, default=None)
    revoke_reason = Text(null=True, default=None)
    duplicate_of = UUIDColumn(null=True, default=None)
    ledger_entry = UUIDColumn(null=True, default=None)
    restarted_on = Varchar(length=10, null=True, default=None)
    next_callback_on = Varchar(length=10, null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    created_by = Varchar(length=100)
    version = Integer(default=1)


class FollowUpRow(TenantTable, tablename="automotive_card_follow_up"):
    card_id = UUIDColumn()
    at = Timestamptz()
    day = Varchar(length=10)
    channel = Varchar(length=8)
    note = Text(default="")
    consultant_id = UUIDColumn()
    ledger_entry = UUIDColumn(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    signed_by = Varchar(length=100, null=True, default=None)


class Settlement(TenantTable, tablename="automotive_ownership_settlement"):
    """R6-11: a referred customer's owner, proposed by a team leader and approved by the sales manager."""

    customer_id = UUIDColumn()
    consultant_id = UUIDColumn()
    reason = Text()
    state = Varchar(length=12)  # proposed | approved | rejected
    proposed_by = Varchar(length=100)
    proposed_at = Timestamptz()
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


TABLES = (Visit, Card, FollowUpRow, Settlement)
_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(2, "the walk-in and call-in register", "automotive_visit", [
        "kind VARCHAR(8) NOT NULL", "customer_id UUID", "visitor VARCHAR(100) NOT NULL DEFAULT ''",
        "companions INTEGER NOT NULL DEFAULT 0", "arrived_at TIMESTAMPTZ NOT NULL", "left_at TIMESTAMPTZ",
        "intended_model VARCHAR(60) NOT NULL DEFAULT ''", "source VARCHAR(24) NOT NULL",
        "source_detail VARCHAR(200) NOT NULL DEFAULT ''", "summary TEXT NOT NULL DEFAULT ''",
        "consultant_id UUID NOT NULL", "test_drive BOOLEAN NOT NULL DEFAULT FALSE",
        "phone_left BOOLEAN NOT NULL DEFAULT FALSE", "day VARCHAR(10) NOT NULL", "sms_sent_at TIMESTAMPTZ",
        "sms_same_day BOOLEAN NOT NULL DEFAULT FALSE",
        "sms_checked BOOLEAN NOT NULL DEFAULT FALSE", f"recorded_by {_WHO} NOT NULL",
    ], indexes=(("day",), ("consultant_id", "day"), ("sms_checked", "day"), ("customer_id",))),
    tenant_table_migration(3, "lead cards", "automotive_lead_card", [
        "customer_id UUID NOT NULL", "consultant_id UUID NOT NULL", "source VARCHAR(24) NOT NULL",
        "referral VARCHAR(16)", "referrer_customer_id UUID", "intended_model VARCHAR(60) NOT NULL DEFAULT ''",
        "intention VARCHAR(4)", "first_contact VARCHAR(10) NOT NULL", "created_on VARCHAR(10) NOT NULL",
        "signed_at TIMESTAMPTZ", "signer_id UUID", "state VARCHAR(12) NOT NULL", "void_on VARCHAR(10)",
        "void_reason TEXT", "revoked_at TIMESTAMPTZ", f"revoked_by {_WHO}", "revoke_reason TEXT",
        "duplicate_of UUID", "ledger_entry UUID", "restarted_on VARCHAR(10)", "next_callback_on VARCHAR(10)",
        "reviewed_at TIMESTAMPTZ", f"created_by {_WHO} NOT NULL", "version INTEGER NOT NULL DEFAULT 1",
    ], indexes=(("customer_id",), ("consultant_id", "state"), ("state", "created_at"))),
    tenant_table_migration(4, "lead-card follow-ups", "automotive_card_follow_up", [
        "card_id UUID NOT NULL", "at TIMESTAMPTZ NOT NULL", "day VARCHAR(10) NOT NULL", "channel VARCHAR(8) NOT NULL",
        "note TEXT NOT NULL DEFAULT ''", "consultant_id UUID NOT NULL", "ledger_entry UUID", "signed_at TIMESTAMPTZ",
        f"signed_by {_WHO}",
    ], indexes=(("card_id", "at"),), references=(("card_id", "automotive_lead_card"),)),
    tenant_table_migration(5, "referred customers' owners settled (R6-11)", "automotive_ownership_settlement", [
        "customer_id UUID NOT NULL", "consultant_id UUID NOT NULL", "reason TEXT NOT NULL", "state VARCHAR(12) NOT NULL",
        f"proposed_by {_WHO} NOT NULL", "proposed_at TIMESTAMPTZ NOT NULL", f"decided_by {_WHO}",
        "decided_at TIMESTAMPTZ",
    ], indexes=(("state", "proposed_at"), ("customer_id",))),
)

PERSONAL_DATA = (
    PersonalDataTable("automotive_visit", "customer_id", ("visitor", "summary")),
)

EVENT_TYPES = (
    EventType("automotive.visit_registered", "automotive_visit", "kind, source, phone_left",
              "a walk-in or call-in registered (S17)"),
    EventType("automotive.lead_sms_sent", "automotive_visit", "sms_sent_at", "the same-day first SMS sent (R6-14)"),
    EventType("automotive.card_created", "automotive_lead_card", "state, duplicate_of", "a lead card created (R6-1)"),
    EventType("automotive.card_signed", "automotive_lead_card", "signed_at", "a team leader signed a card (R6-1)"),
    EventType("automotive.card_followed_up", "automotive_lead_card", "channel", "a follow-up recorded (R6-2, R6-4)"),
    EventType("automotive.card_voided", "automotive_lead_card", "void_on, void_reason", "a card became void (R6-2, "
              "R6-4, R6-6)"),
    EventType("automotive.card_reassigned", "automotive_lead_card", "consultant_id", "a void card reassigned (R6-5)"),
    EventType("automotive.card_revoked", "automotive_lead_card", "revoke_reason", "a card revoked (R6-12)"),
    EventType("automotive.card_reviewed", "automotive_lead_card", "reviewed_at", "a card signed in rotation (R6-13)"),
    EventType("automotive.ownership_settled", "automotive_ownership_settlement", "state",
              "a referred customer's owner settled (R6-11)"),
)

MAX_FOLLOW_UPS = 500  # per card: a card's follow-ups are read whole to decide its validity


# --- small helpers -----------------------------------------------------------------------------


async def _zone(ctx: Any) -> Any:
    return (await tenant_calendar(ctx)).zone


def _today(zone: Any) -> date:
    return clock.now().astimezone(zone).date()


def _not_found(card_id: object) -> KehuError:
    return KehuError("AUTOMOTIVE_CARD_NOT_FOUND", f"no lead card {card_id}", f"未找到信息卡 {card_id}", field="id")


async def _customer(uow: Any, customer_id: UUID, field: str = "customerId") -> None:
    if await customer_record(uow, customer_id) is None or customer_id in await customers_out_of_processing(
            uow, [customer_id]):
        raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}", field=field)


async def _user(uow: Any, user_id: UUID, field: str) -> None:
    if not await tenant_user(uow, user_id):
        raise invalid(field, "no such user in this tenant", "本租户没有该用户")


def _reads_all(ctx: Any) -> bool:
    try:
        return require_permission(ctx, "automotive.lead.read") is Scope.TENANT
    except KehuError:
        return False


async def _card(uow: Any, ctx: Any, card_id: UUID) -> dict[str, Any]:
    """The card, if the caller may see it: its holder, or anyone reading all cards or signing them."""
    row = await uow.select(Card).where(Card.id == card_id).first()
    if row is None:
        raise _not_found(card_id)
    if row["consultant_id"] != ctx.user_id and not _reads_all(ctx) and not holds(ctx, "automotive.lead.sign"):
        raise _not_found(card_id)  # another consultant's card shows nothing (R6-10)
    return row



async def _follow_ups(uow: Any, card_id: UUID) -> list[dict[str, Any]]:
    return await uow.select(FollowUpRow).where(FollowUpRow.card_id == card_id).order_by(FollowUpRow.at).limit(
        MAX_FOLLOW_UPS)


def lead_card(row: Mapping[str, Any], follow_ups: list[Mapping[str, Any]]) -> leads.LeadCard:
    return leads.LeadCard(
        id=str(row["id"]), consultant=str(row["consultant_id"]), first_contact=date.fromisoformat(row["first_contact"]),
        created=date.fromisoformat(row["created_on"]), signed_at=row["signed_at"],
        follow_ups=tuple(leads.FollowUp(on=date.fromisoformat(f["day"]), channel=f["channel"], signed_at=f["signed_at"],
                                        at=f["at"]) for f in follow_ups),
        restarted_on=date.fromisoformat(row["restarted_on"]) if row["restarted_on"] else None)


def status_of(row: Mapping[str, Any], follow_ups: list[Mapping[str, Any]], today: date,
              parameters: Mapping[str, Any]) -> leads.CardStatus:
    """The card's validity today: revoked and unsigned cards are what their state says."""
    if row["state"] == "revoked":
        return leads.CardStatus(False, f"revoked: {row['revoke_reason']}", f"已撤销：{row['revoke_reason']}")
    return leads.card_status(lead_card(row, follow_ups), today, parameters)


async def card_view(uow: Any, row: Mapping[str, Any], today: date, parameters: Mapping[str, Any]) -> dict[str, Any]:
    follow_ups = await _follow_ups(uow, row["id"])
    status = status_of(row, follow_ups, today, parameters)
    effective = leads.effective_date(lead_card(row, follow_ups)) if row["signed_at"] else None
    return {**row, "follow_ups": follow_ups, "valid": status.valid, "status_en": status.reason_en,
            "status_zh": status.reason_zh, "valid_until": status.valid_until, "effective_on": effective,
            "void_since": status.void_on if not status.valid else None}


# --- the register (S17) and the same-day SMS (R6-14) -------------------------------------------


async def register_visit(ctx: Any, *, kind: str, source: str, arrived_at: datetime, consultant_id: UUID | None = None,
                         customer_id: UUID | None = None, visitor: str = "", companions: int = 0,
                         left_at: datetime | None = None, intended_model: str = "", source_detail: str = "",
                         summary: str = "", test_drive: bool = False, phone_left: bool = False) -> dict[str, Any]:
    """Register a walk-in or a call (S17): every one, even without contact details; the info source
    is never blank. A lead who left a phone number (the customer record holds it) is due a first SMS
    the same day (R6-14)."""
    scope = require_permission(ctx, "automotive.lead.write")
    kind = choice(kind, "kind", ("visit", "call"))
    source = choice((source or "").strip() or None, "source", SOURCES)
    aware(arrived_at, "arrivedAt")
    aware(left_at, "leftAt")
    if left_at is not None and left_at < arrived_at:
        raise invalid("leftAt", "the visitor left before arriving", "离店时间早于到店时间")
    if not isinstance(companions, int) or not 0 <= companions <= 50:
        raise invalid("companions", "companions is 0 to 50", "随行人数须为 0 至 50")
    if phone_left and customer_id is None:
        raise invalid("customerId", "a lead who left a phone number is a customer record holding it",
                      "留电客户须建立客户档案（含电话）")
    consultant = consultant_id or ctx.user_id
    if consultant is None:
        raise invalid("consultantId", "name the consultant", "请指明销售顾问")
    if consultant != ctx.user_id and scope is not Scope.TENANT:
        raise KehuError("PERMISSION_DENIED", "you register your own visitors", "只能登记自己接待的客户",
                        field="consultantId")
    zone = await _zone(ctx)
    async with unit_of_work(ctx) as uow:
        await _user(uow, consultant, "consultantId")
        if customer_id is not None:
            await _customer(uow, customer_id)
        visit_id = uuid4()
        await uow.insert(Visit(
            id=visit_id, kind=kind, customer_id=customer_id, visitor=text(visitor, "visitor", 100, required=False),
            companions=companions, arrived_at=arrived_at, left_at=left_at,
            intended_model=text(intended_model, "intendedModel", 60, required=False), source=source,
            source_detail=text(source_detail, "sourceDetail", 200, required=False),
            summary=text(summary, "summary", 2000, required=False), consultant_id=consultant,
            test_drive=bool(test_drive), phone_left=bool(phone_left),
            day=arrived_at.astimezone(zone).date().isoformat(), recorded_by=ctx.actor))
        await record(uow, "automotive.visit_registered", "automotive_visit", visit_id,
                     {"kind": kind, "source": source, "consultant_id": consultant, "phone_left": bool(phone_left)})
        await emit(uow, "automotive.visit_registered", "automotive_visit", visit_id, ("kind", "source", "phone_left"))
        return await uow.select(Visit).where(Visit.id == visit_id).first()


async def send_lead_sms(ctx: Any, visit_id: UUID) -> dict[str, Any]:
    """Send the lead the first SMS in the tenant's template (R6-14: 「您好我是…销售顾问XXX」), through
    kehu's SMS sender with the customer's consent; refused, nothing is recorded."""
    require_permission(ctx, "automotive.lead.write")
    parameters = await tenant_parameters(ctx, VERTICAL)
    visit_zone = await _zone(ctx)
    async with unit_of_work(ctx) as uow:
        visit = await uow.select(Visit).where(Visit.id == visit_id).first()
        if visit is None or (visit["consultant_id"] != ctx.user_id and not _reads_all(ctx)):
            raise KehuError("AUTOMOTIVE_VISIT_NOT_FOUND", f"no visit {visit_id}", f"未找到登记 {visit_id}", field="visitId")
        if not visit["phone_left"] or visit["customer_id"] is None:
            raise invalid("visitId", "this visitor left no phone number", "该客户未留电话")
        if visit["sms_sent_at"] is not None:
            raise KehuError("AUTOMOTIVE_SMS_ALREADY_SENT", "the first SMS was already sent", "首次短信已发送", field="visitId")
        name = (await user_names(uow, [visit["consultant_id"]])).get(visit["consultant_id"], "")
        message = str(parameters.get("lead_sms_template", "")).replace("{consultant}", name).replace(
            "{dealer}", str(parameters.get("dealer_name", "")))
        outcome = await send_customer_sms(uow, visit["customer_id"], message, purpose="marketing_sms",
                                          idempotency_key=f"automotive-lead-sms:{visit_id}")
        if outcome != "sent":
            raise KehuError("AUTOMOTIVE_SMS_NOT_SENT", f"the SMS was not sent: {outcome}", f"短信未发送：{outcome}",
                            field="visitId")
        at = clock.now()
        await uow.update(Visit, {Visit.sms_sent_at: at, Visit.sms_same_day: at.astimezone(
            visit_zone).date().isoformat() == visit["day"]}).where(Visit.id == visit_id)
        await record(uow, "automotive.lead_sms_sent", "automotive_visit", visit_id, {"sms_sent_at": at})
        await emit(uow, "automotive.lead_sms_sent", "automotive_visit", visit_id, ("sms_sent_at",))
        return await uow.select(Visit).where(Visit.id == visit_id).first()


@tick("automotive.lead_sms_check")
async def check_lead_sms(ctx: Any, now: datetime | None = None) -> int:
    """After each day: every lead of the day who left a phone and got no first SMS that day costs its
    consultant the R6-14 fine, once."""
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = _today(zone).isoformat()
    fined = 0
    async with unit_of_work(ctx) as uow:
        rows = await uow.select(Visit).where((Visit.sms_checked == False) & (Visit.phone_left == True)  # noqa: E712
                                             & (Visit.day < today)).limit(1000)
        for row in rows:
            sent_day = row["sms_sent_at"].astimezone(zone).date().isoformat() if row["sms_sent_at"] else None
            if sent_day != row["day"]:
                fined += await add_penalty(uow, parameters, "R6-14", row["consultant_id"], at=clock.now(),
                                           reason=f"no first SMS on {row['day']} to the lead registered then",
                                           source_key=f"visit:{row['id']}")
            await uow.update(Visit, {Visit.sms_checked: True}).where(Visit.id == row["id"])
    return fined


# --- cards (R6-1 to R6-13) -----------------------------------------------------------------------


async def create_card(ctx: Any, customer_id: UUID, *, source: str, first_contact: date,
                      consultant_id: UUID | None = None, intended_model: str = "", intention: str | None = None,
                      referrer_customer_id: UUID | None = None, next_callback_on: date | None = None) -> dict[str, Any]:
    """Create the customer's card the day of the first contact (R6-1; later, AUTOMOTIVE_CARD_NOT_SAME_DAY).
    A customer who already has a card gets a duplicate (重卡) linked to the first; a duplicate made
    because an earlier card went void for want of a follow-up costs that card's holder R6-9. The
    intention level is the customer's grade in the intention scheme (S17)."""
    scope = require_permission(ctx, "automotive.lead.write")
    source = choice(source, "source", SOURCES)
    if intention is not None:
        intention = choice(intention, "intention", INTENTIONS)
    consultant = consultant_id or ctx.user_id
    if consultant is None:
        raise invalid("consultantId", "name the consultant", "请指明销售顾问")
    if consultant != ctx.user_id and scope is not Scope.TENANT:
        raise KehuError("PERMISSION_DENIED", "you create your own cards", "只能为自己建卡", field="consultantId")
    if source in REFERRALS and referrer_customer_id is None and source == "owner_referral":
        raise invalid("referrerCustomerId", "an owner's referral names the referring customer", "老客户介绍须注明介绍人")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = _today(zone)
    if first_contact != today:
        raise KehuError("AUTOMOTIVE_CARD_NOT_SAME_DAY", f"a card is created the day of the first contact ({today}), "
                        f"not for {first_contact}", f"信息卡须在首次接触当天建立（{today}），不能补建 {first_contact} 的",
                        field="firstContact")
    async with unit_of_work(ctx) as uow:
        await _customer(uow, customer_id)
        await _user(uow, consultant, "consultantId")
        if referrer_customer_id is not None:
            await _customer(uow, referrer_customer_id, "referrerCustomerId")
        others = await uow.select(Card).where((Card.customer_id == customer_id) & (Card.state != "revoked")).order_by(
            Card.created_at)
        live = [o for o in others if o["state"] in ("unsigned", "active")]
        card_id = uuid4()
        at = clock.now()
        await uow.insert(Card(
            id=card_id, customer_id=customer_id, consultant_id=consultant, source=source,
            referral=REFERRALS.get(source), referrer_customer_id=referrer_customer_id,
            intended_model=text(intended_model, "intendedModel", 60, required=False), intention=intention,
            first_contact=first_contact.isoformat(), created_on=today.isoformat(), state="unsigned",
            duplicate_of=live[0]["id"] if live else None,
            next_callback_on=next_callback_on.isoformat() if next_callback_on else None, created_by=ctx.actor,
            created_at=at))
        for other in others:  # R6-9: a duplicate born of a missed follow-up
            if other["state"] == "void" and other["consultant_id"] != consultant:
                await add_penalty(uow, parameters, "R6-9", other["consultant_id"], at=at,
                                  reason="the customer's card went void without a follow-up; a duplicate card was made",
                                  source_key=f"card:{other['id']}")
        if intention is not None:
            await assign_grade(uow, VERTICAL, INTENTION_SCHEME, customer_id, intention, reason="lead card")
        await record(uow, "automotive.card_created", "automotive_lead_card", card_id,
                     {"customer_id": customer_id, "consultant_id": consultant, "source": source,
                      "duplicate_of": live[0]["id"] if live else None})
        await emit(uow, "automotive.card_created", "automotive_lead_card", card_id, ("state", "duplicate_of"))
        return await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), today, parameters)


async def sign_card(ctx: Any, card_id: UUID) -> dict[str, Any]:
    """The team leader signs the card; it is effective from the signature's day (R6-1), and the
    signature enters the customer's attribution ledger (the earliest one owns, R6-7)."""
    require_permission(ctx, "automotive.lead.sign")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _card(uow, ctx, card_id)
        if row["state"] != "unsigned":
            raise KehuError("AUTOMOTIVE_CARD_STATE", f"the card is {row['state']}, not waiting for a signature",
                            f"该卡状态为 {row['state']}，无需签字", field="id")
        if row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody signs their own card", "不能为自己的信息卡签字", field="id")
        at = clock.now()
        entry = await record_ledger_entry(uow, VERTICAL, row["customer_id"], "registration", at=at,
                                          consultant_id=row["consultant_id"],
                                          data={"card": str(card_id), "created_on": row["created_on"],
                                                "first_contact": row["first_contact"]})
        done = await uow.update(Card, {Card.signed_at: at, Card.signer_id: ctx.user_id, Card.state: "active",
                                       Card.ledger_entry: UUID(str(entry.id)), Card.version: Card.version + 1}).where(
            (Card.id == card_id) & (Card.state == "unsigned")).returning(Card.id)
        if not done:
            raise KehuError("AUTOMOTIVE_CARD_STATE", "the card was signed meanwhile", "该卡已被签字", field="id")
        await record(uow, "automotive.card_signed", "automotive_lead_card", card_id, {"signed_at": at})
        await emit(uow, "automotive.card_signed", "automotive_lead_card", card_id, ("signed_at",))
        return await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), _today(zone), parameters)


async def record_follow_up(ctx: Any, card_id: UUID, *, channel: str, note: str = "") -> dict[str, Any]:
    """The card's holder records a follow-up (SMS, phone or visit) now: on a void card it is refused
    (AUTOMOTIVE_CARD_VOID) — a follow-up after the deadline does not revive a card (R6-2, R6-4, R6-6)."""
    require_permission(ctx, "automotive.lead.write")
    channel = choice(channel, "channel", CHANNELS)
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = _today(zone)
    async with unit_of_work(ctx) as uow:
        row = await _card(uow, ctx, card_id)
        if row["consultant_id"] != ctx.user_id:
            raise KehuError("PERMISSION_DENIED", "only the card's consultant follows it up", "只有持卡销售顾问可以回访",
                            field="id")
        if row["state"] != "active":
            raise KehuError("AUTOMOTIVE_CARD_STATE", f"the card is {row['state']}", f"该卡状态为 {row['state']}", field="id")
        status = status_of(row, await _follow_ups(uow, card_id), today, parameters)
        if not status.valid:
            raise KehuError("AUTOMOTIVE_CARD_VOID", f"the card is void: {status.reason_en}",
                            f"该卡已作废：{status.reason_zh}", field="id")
        at = clock.now()
        entry = await record_ledger_entry(uow, VERTICAL, row["customer_id"], "follow_up", at=at,
                                          consultant_id=row["consultant_id"],
                                          data={"card": str(card_id), "channel": channel, "on": today.isoformat()})
        follow_up_id = uuid4()
        await uow.insert(FollowUpRow(id=follow_up_id, card_id=card_id, at=at, day=today.isoformat(), channel=channel,
                                     note=text(note, "note", 2000, required=False), consultant_id=row["consultant_id"],
                                     ledger_entry=UUID(str(entry.id))))
        await record(uow, "automotive.card_followed_up", "automotive_lead_card", card_id, {"channel": channel})
        await emit(uow, "automotive.card_followed_up", "automotive_lead_card", card_id, ("channel",))
        fresh = await uow.select(Card).where(Card.id == card_id).first()
        view = await card_view(uow, fresh, today, parameters)
        if not view["valid"]:  # the third SMS-only follow-up in a row voids the card at once (R6-6)
            await _void(uow, fresh, view)
            view = await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), today, parameters)
        return view


async def sign_follow_up(ctx: Any, follow_up_id: UUID) -> dict[str, Any]:
    """The team leader signs a follow-up's validity (R6-3: the second follow-up counts from its own
    day when signed within 24 hours, else from the signature's day)."""
    require_permission(ctx, "automotive.lead.sign")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        follow_up = await uow.select(FollowUpRow).where(FollowUpRow.id == follow_up_id).first()
        if follow_up is None:
            raise KehuError("AUTOMOTIVE_FOLLOW_UP_NOT_FOUND", f"no follow-up {follow_up_id}", f"未找到回访记录 {follow_up_id}",
                            field="id")
        row = await _card(uow, ctx, follow_up["card_id"])
        if follow_up["signed_at"] is not None:
            raise KehuError("AUTOMOTIVE_CARD_STATE", "this follow-up's validity is already signed", "该回访有效期已签字",
                            field="id")
        if row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody signs their own follow-up", "不能为自己的回访签字",
                            field="id")
        at = clock.now()
        await record_ledger_entry(uow, VERTICAL, row["customer_id"], "confirmation", at=at,
                                  consultant_id=row["consultant_id"], refers_to=follow_up["ledger_entry"],
                                  data={"card": str(row["id"]), "rule": "R6-3"})
        await uow.update(FollowUpRow, {FollowUpRow.signed_at: at, FollowUpRow.signed_by: ctx.actor}).where(
            FollowUpRow.id == follow_up_id)
        await record(uow, "automotive.card_followed_up", "automotive_lead_card", row["id"],
                     {"validity_signed_at": at, "follow_up": follow_up_id})
        return await card_view(uow, row, _today(zone), parameters)


async def _void(uow: Any, row: Mapping[str, Any], view: Mapping[str, Any]) -> None:
    void_on = view["void_since"] or _today_utc()
    await uow.update(Card, {Card.state: "void", Card.void_on: str(void_on), Card.void_reason: view["status_en"],
                            Card.version: Card.version + 1}).where((Card.id == row["id"]) & (Card.state == "active"))
    await record(uow, "automotive.card_voided", "automotive_lead_card", row["id"],
                 {"void_on": str(void_on), "void_reason": view["status_en"]})
    await emit(uow, "automotive.card_voided", "automotive_lead_card", row["id"], ("void_on", "void_reason"))


def _today_utc() -> date:
    return clock.now().date()


@tick("automotive.card_validity")
async def sweep_card_validity(ctx: Any, now: datetime | None = None) -> int:
    """Mark the active cards that went void (no follow-up in time) as void, so lists and the
    reassignment of R6-5 see them; a page of the oldest cards per tick."""
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = _today(zone)
    voided = 0
    async with unit_of_work(ctx) as uow:
        for row in await uow.select(Card).where(Card.state == "active").order_by(Card.created_at).limit(500):
            view = await card_view(uow, row, today, parameters)
            if not view["valid"]:
                await _void(uow, row, view)
                voided += 1
    return voided


async def reassign_card(ctx: Any, card_id: UUID, consultant_id: UUID) -> dict[str, Any]:
    """The team leader who signed a void card gives it to another consultant; the same rules start
    again from today (R6-5), and the transfer enters the ledger."""
    require_permission(ctx, "automotive.lead.sign")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = _today(zone)
    async with unit_of_work(ctx) as uow:
        row = await _card(uow, ctx, card_id)
        await _user(uow, consultant_id, "consultantId")
        if row["signer_id"] != ctx.user_id:
            raise KehuError("AUTOMOTIVE_NOT_SIGNER", "only the team leader who signed the card reassigns it",
                            "只有签字确认该卡的组长可以重新分配", field="id")
        view = await card_view(uow, row, today, parameters)
        if row["state"] not in ("active", "void") or view["valid"]:
            raise KehuError("AUTOMOTIVE_CARD_NOT_VOID", "only a void card is reassigned", "只有废卡可以重新分配", field="id")
        if consultant_id == row["consultant_id"]:
            raise invalid("consultantId", "reassign to another consultant", "须分配给其他销售顾问")
        at = clock.now()
        await record_ledger_entry(uow, VERTICAL, row["customer_id"], "transfer", at=at, consultant_id=consultant_id,
                                  data={"card": str(card_id), "rule": "R6-5"})
        await uow.update(Card, {Card.consultant_id: consultant_id, Card.state: "active", Card.void_on: None,
                                Card.void_reason: None, Card.restarted_on: today.isoformat(),
                                Card.version: Card.version + 1}).where(Card.id == card_id)
        await record(uow, "automotive.card_reassigned", "automotive_lead_card", card_id,
                     {"consultant_id": (row["consultant_id"], consultant_id)})
        await emit(uow, "automotive.card_reassigned", "automotive_lead_card", card_id, ("consultant_id",))
        return await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), today, parameters)


async def revoke_card(ctx: Any, card_id: UUID, reason: str) -> dict[str, Any]:
    """Revoke a card with a detailed reason and the team leader's signature (R6-12); it stays with
    the assistant — never deleted — and no longer counts for the customer's owner."""
    require_permission(ctx, "automotive.lead.sign")
    reason = text(reason, "reason", 2000)
    if len(reason) < 6:
        raise invalid("reason", "give a detailed reason", "请详细说明撤销原因")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _card(uow, ctx, card_id)
        if row["state"] == "revoked":
            raise KehuError("AUTOMOTIVE_CARD_STATE", "the card is already revoked", "该卡已撤销", field="id")
        if row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody revokes their own card", "不能撤销自己的信息卡", field="id")
        at = clock.now()
        if row["ledger_entry"] is not None:
            await record_ledger_entry(uow, VERTICAL, row["customer_id"], "correction", at=at,
                                      refers_to=row["ledger_entry"], data={"card": str(card_id), "rule": "R6-12"})
        await uow.update(Card, {Card.state: "revoked", Card.revoked_at: at, Card.revoked_by: ctx.actor,
                                Card.revoke_reason: reason, Card.version: Card.version + 1}).where(Card.id == card_id)
        await record(uow, "automotive.card_revoked", "automotive_lead_card", card_id, {"reason": reason})
        await emit(uow, "automotive.card_revoked", "automotive_lead_card", card_id, ("revoke_reason",))
        return await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), _today(zone), parameters)


async def review_card(ctx: Any, card_id: UUID) -> dict[str, Any]:
    """The team leader's rotation signature of an active card (R6-13, 循环签字确认)."""
    require_permission(ctx, "automotive.lead.sign")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _card(uow, ctx, card_id)
        if row["state"] != "active":
            raise KehuError("AUTOMOTIVE_CARD_STATE", f"the card is {row['state']}", f"该卡状态为 {row['state']}", field="id")
        at = clock.now()
        await uow.update(Card, {Card.reviewed_at: at}).where(Card.id == card_id)
        await record(uow, "automotive.card_reviewed", "automotive_lead_card", card_id, {"reviewed_at": at})
        await emit(uow, "automotive.card_reviewed", "automotive_lead_card", card_id, ("reviewed_at",))
        return await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), _today(zone), parameters)


async def update_card(ctx: Any, card_id: UUID, *, intention: str | None = None,
                      next_callback_on: date | None = None) -> dict[str, Any]:
    """The holder sets the intention level (the customer's grade, S17) and the next callback date;
    everything signed on a card stays as signed (R6-10)."""
    require_permission(ctx, "automotive.lead.write")
    if intention is not None:
        intention = choice(intention, "intention", INTENTIONS)
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _card(uow, ctx, card_id)
        if row["consultant_id"] != ctx.user_id:
            raise KehuError("PERMISSION_DENIED", "only the card's consultant updates it", "只有持卡销售顾问可以更新",
                            field="id")
        if row["state"] in ("revoked", "void"):
            raise KehuError("AUTOMOTIVE_CARD_STATE", f"the card is {row['state']}", f"该卡状态为 {row['state']}", field="id")
        values: dict[Any, Any] = {Card.version: Card.version + 1}
        if intention is not None:
            values[Card.intention] = intention
            await assign_grade(uow, VERTICAL, INTENTION_SCHEME, row["customer_id"], intention, reason="lead card")
        if next_callback_on is not None:
            values[Card.next_callback_on] = next_callback_on.isoformat()
        await uow.update(Card, values).where(Card.id == card_id)
        await record(uow, "automotive.card_updated", "automotive_lead_card", card_id,
                     {"intention": (row["intention"], intention or row["intention"]),
                      "next_callback_on": next_callback_on})
        return await card_view(uow, await uow.select(Card).where(Card.id == card_id).first(), _today(zone), parameters)


async def get_card(ctx: Any, card_id: UUID) -> dict[str, Any]:
    if not _reads_all(ctx) and not holds(ctx, "automotive.lead.sign"):
        require_permission(ctx, "automotive.lead.write")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx, write=False) as uow:
        return await card_view(uow, await _card(uow, ctx, card_id), _today(zone), parameters)


async def cards(ctx: Any, window: Any, *, state: str | None = None, consultant_id: UUID | None = None,
                customer_id: UUID | None = None, pending_signature: bool = False) -> tuple[list[dict], bool]:
    """Cards, newest first: all with automotive.lead.read or .sign, else the caller's own."""
    from core.plugins import fetch_page

    everyone = _reads_all(ctx) or holds(ctx, "automotive.lead.sign")
    if not everyone:
        require_permission(ctx, "automotive.lead.write")
    if state is not None:
        choice(state, "state", ("unsigned", "active", "void", "revoked"))
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Card)
        if not everyone:
            query = query.where(Card.consultant_id == ctx.user_id)
        if state is not None:
            query = query.where(Card.state == state)
        if pending_signature:
            query = query.where(Card.state == "unsigned")
        if consultant_id is not None:
            query = query.where(Card.consultant_id == consultant_id)
        if customer_id is not None:
            query = query.where(Card.customer_id == customer_id)
        rows, more = await fetch_page(query, [Card.created_at, Card.id], window, descending=True)
        return [await card_view(uow, row, _today(zone), parameters) for row in rows], more


async def overdue_callbacks(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    """S17: active cards whose planned callback day passed with no follow-up on or after it."""
    from core.plugins import fetch_page

    everyone = _reads_all(ctx) or holds(ctx, "automotive.lead.sign")
    if not everyone:
        require_permission(ctx, "automotive.lead.write")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = _today(zone).isoformat()
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Card).where((Card.state == "active") & Card.next_callback_on.is_not_null()
                                       & (Card.next_callback_on < today))
        if not everyone:
            query = query.where(Card.consultant_id == ctx.user_id)
        rows, more = await fetch_page(query, [Card.created_at, Card.id], window, descending=True)
        found = []
        for row in rows:
            view = await card_view(uow, row, _today(zone), parameters)
            if not any(f["day"] >= row["next_callback_on"] for f in view["follow_ups"]):
                found.append(view)
        return found, more


async def review_due(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    """R6-13: active cards not signed in rotation for ``lead_review_days``, oldest first."""
    from core.plugins import fetch_page

    require_permission(ctx, "automotive.lead.sign")
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    limit = clock.now() - timedelta(days=int(parameters.get("lead_review_days", 30)))
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Card).where((Card.state == "active") & Card.signed_at.is_not_null() & (
            (Card.reviewed_at.is_null() & (Card.signed_at < limit)) | (Card.reviewed_at < limit)))
        rows, more = await fetch_page(query, [Card.created_at, Card.id], window)
        return [await card_view(uow, row, _today(zone), parameters) for row in rows], more


# --- R6-11: a referred customer's owner, settled by the team leader and the sales manager --------


async def propose_settlement(ctx: Any, customer_id: UUID, consultant_id: UUID, reason: str) -> dict[str, Any]:
    """A team leader proposes who has the direct relationship with a referred customer (R6-11)."""
    require_permission(ctx, "automotive.lead.sign")
    reason = text(reason, "reason", 2000)
    async with unit_of_work(ctx) as uow:
        await _customer(uow, customer_id)
        await _user(uow, consultant_id, "consultantId")
        if consultant_id == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody settles a customer on themselves", "不能将客户确认给自己",
                            field="consultantId")
        settlement_id = uuid4()
        await uow.insert(Settlement(id=settlement_id, customer_id=customer_id, consultant_id=consultant_id, reason=reason,
                                    state="proposed", proposed_by=ctx.actor, proposed_at=clock.now()))
        await record(uow, "automotive.ownership_proposed", "automotive_ownership_settlement", settlement_id,
                     {"customer_id": customer_id, "consultant_id": consultant_id})
        return await uow.select(Settlement).where(Settlement.id == settlement_id).first()


async def decide_settlement(ctx: Any, settlement_id: UUID, *, approve: bool) -> dict[str, Any]:
    """The sales manager approves (the customer's owner becomes that consultant on the ledger) or
    rejects a team leader's proposal; never the proposer (R6-11's two roles)."""
    require_permission(ctx, "automotive.lead.settle")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Settlement).where(Settlement.id == settlement_id).first()
        if row is None:
            raise KehuError("AUTOMOTIVE_SETTLEMENT_NOT_FOUND", f"no proposal {settlement_id}", f"未找到归属确认 {settlement_id}",
                            field="id")
        if row["state"] != "proposed":
            raise KehuError("AUTOMOTIVE_SETTLEMENT_DECIDED", "this proposal is already decided", "该归属确认已处理",
                            field="id")
        if row["proposed_by"] == ctx.actor or row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "the proposer or the consultant named cannot decide",
                            "提议人或被确认的销售顾问不能审批", field="id")
        at = clock.now()
        if approve:
            await record_ledger_entry(uow, VERTICAL, row["customer_id"], "transfer", at=at,
                                      consultant_id=row["consultant_id"],
                                      data={"decision": "R6-11", "settlement": str(settlement_id)})
        state = "approved" if approve else "rejected"
        await uow.update(Settlement, {Settlement.state: state, Settlement.decided_by: ctx.actor,
                                      Settlement.decided_at: at}).where(Settlement.id == settlement_id)
        await record(uow, "automotive.ownership_settled", "automotive_ownership_settlement", settlement_id,
                     {"state": state})
        await emit(uow, "automotive.ownership_settled", "automotive_ownership_settlement", settlement_id, ("state",))
        return await uow.select(Settlement).where(Settlement.id == settlement_id).first()


async def visits(ctx: Any, window: Any, *, day: date | None = None) -> tuple[list[dict], bool]:
    """The register, latest first: everyone's with automotive.lead.read, else the caller's own."""
    from core.plugins import fetch_page

    everyone = _reads_all(ctx)
    if not everyone:
        require_permission(ctx, "automotive.lead.write")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Visit)
        if not everyone:
            query = query.where(Visit.consultant_id == ctx.user_id)
        if day is not None:
            query = query.where(Visit.day == day.isoformat())
        return await fetch_page(query, [Visit.arrived_at, Visit.id], window, descending=True)
