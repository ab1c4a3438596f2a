"""The medical-devices use cases, one function each, on the services of ``core.plugins`` only:
qualification documents and their expiry reminders, admission (MD1, MD2, MD15, MD16, MD20–MD22),
forums and promotions (MD26, MD27), sales and the after-sale contact (MD29), business change
notices (MD18) and the grade assessment of the facts (MD3–MD7).

Every change is audited and announced through the outbox in its own unit of work; a refused call
writes nothing."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.plugins import (
    KehuError,
    Scope,
    archives_accepted,
    assign_grade,
    customer_grade,
    customer_record,
    department_exists,
    emit,
    fetch_page,
    graded_customers,
    lowest_grade,
    may_reach,
    record,
    refuse_if_blacklisted,
    require_permission,
    tenant_calendar,
    tenant_parameters,
    tick,
    unit_of_work,
    was_blacklisted,
)
from plugins.medical_devices import policy
from plugins.medical_devices.tables import Admission, ChangeNotice, Event, Invitation, Qualification, Sale

VERTICAL = "medical_devices"
SCHEME = "customer_grade"
READ = "medical_devices.customer.read"
VERIFY = "medical_devices.admission.verify"
READMIT = "medical_devices.blacklist.readmit"
PLAN = "medical_devices.event.plan"
APPROVE = "medical_devices.event.approve"
CONTACT = "medical_devices.sale.contact"

EVENT_KINDS = ("forum", "promotion", "trade_show", "appreciation")  # 恳谈会 推介会 展销会 答谢会
EVENT_FLOW = {"approve": ("planned", "approved"), "hold": ("approved", "held"), "report": ("held", "reported")}
NOTICE_KINDS = ("change", "deregistration")
NOTICE_CHANNELS = ("written", "online")  # MD18: in writing or online
MAX_TEXT = 4000


def now() -> datetime:
    return datetime.now(UTC)  # tests pin the clock here


def _error(code: str, en: str, zh: str, field: str | None = None) -> KehuError:
    return KehuError(code, en, zh, field=field)


def _text(value: object, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise _error("MEDICAL_DEVICES_INPUT_INVALID", f"{field} is required", f"{field} 为必填项", field)
        return None
    if len(text) > limit:
        raise _error("MEDICAL_DEVICES_INPUT_INVALID", f"{field} is longer than {limit} characters", f"{field} 超过 {limit} 个字符", field)
    return text


def _day(value: object, field: str, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise _error("MEDICAL_DEVICES_INPUT_INVALID", f"{field} is required (YYYY-MM-DD)", f"{field} 为必填项（YYYY-MM-DD）", field)
        return None
    try:
        return date.fromisoformat(str(value)).isoformat() if len(str(value)) == 10 else _bad_day(field)
    except ValueError:
        return _bad_day(field)


def _bad_day(field: str) -> str:
    raise _error("MEDICAL_DEVICES_INPUT_INVALID", f"{field} must be a date YYYY-MM-DD", f"{field} 须为日期 YYYY-MM-DD", field)


def _choice(value: object, choices: tuple[str, ...], code: str, field: str) -> str:
    if value not in choices:
        raise _error(code, f"{field} must be one of {', '.join(choices)}", f"{field} 须为以下之一：{'、'.join(choices)}",
                     field)
    return str(value)


def _reach(ctx: Any, permission: str, department_id: UUID | None) -> None:
    """The caller holds ``permission`` over that department (department scope) or the whole tenant."""
    scope = require_permission(ctx, permission)
    if department_id is not None and scope is not Scope.TENANT and not may_reach(ctx, permission,
                                                                                  department_id=department_id):
        raise KehuError("PERMISSION_DENIED", f"{permission} does not reach this department",
                        f"{permission} 权限不覆盖该部门", field="department_id")


async def _customer(uow: Any, customer_id: UUID) -> Mapping[str, Any]:
    row = await customer_record(uow, customer_id)
    if row is None:
        raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                        field="customer_id")
    return row


def _within_reach(query: Any, column: Any, ctx: Any, permission: str, *, unassigned: bool = False) -> Any:
    """``query`` narrowed, in the query itself, to the rows whose department (``column``) the caller's
    scope of ``permission`` reaches (rows without a department too, with ``unassigned``); None when
    it reaches none. A page read after that is a full page of what the caller may see."""
    scope = require_permission(ctx, permission)
    if scope is Scope.TENANT:
        return query
    departments = list(ctx.principal.department_ids) if scope is Scope.DEPARTMENT and ctx.principal else []
    condition = column.is_in(departments) if departments else None
    if unassigned:
        condition = column.is_null() if condition is None else condition | column.is_null()
    return None if condition is None else query.where(condition)


async def today(ctx: Any, at: datetime | None = None) -> date:
    """The day it is in the tenant's time zone."""
    calendar = await tenant_calendar(ctx)
    return (at or now()).astimezone(calendar.zone).date()


# --- qualification documents ---------------------------------------------------------------------


@dataclass(frozen=True)
class QualificationView:
    id: UUID
    customer_id: UUID
    kind: str
    number: str
    issued_on: str | None
    expires_on: str | None
    expired: bool
    reminded_for: str | None


def _qualification(row: Mapping[str, Any], day: date) -> QualificationView:
    return QualificationView(row["id"], row["customer_id"], row["kind"], row["number"], row["issued_on"],
                             row["expires_on"], policy.is_expired(row["expires_on"], day), row["reminded_for"])


async def record_qualification(ctx: Any, customer_id: UUID, *, kind: str, number: str, expires_on: str | None,
                               issued_on: str | None = None) -> QualificationView:
    """Record a customer's qualification document (MD2 a, e) or replace the one of that kind (a
    renewal): its number and expiry; a new expiry gets its own reminder."""
    require_permission(ctx, VERIFY)
    kind = _choice(kind, policy.DOCUMENT_KINDS, "MEDICAL_DEVICES_DOCUMENT_KIND_INVALID", "kind")
    number = _text(number, "number", limit=100)
    expires = _day(expires_on, "expires_on", required=False)
    issued = _day(issued_on, "issued_on", required=False)
    if issued and expires and expires < issued:
        raise _error("MEDICAL_DEVICES_INPUT_INVALID", "the document expires before it was issued", "证件到期日早于签发日", "expires_on")
    day = await today(ctx)
    async with unit_of_work(ctx) as uow:
        await _customer(uow, customer_id)
        old = await uow.select(Qualification).where(
            (Qualification.customer_id == customer_id) & (Qualification.kind == kind)).first()
        at = now()
        if old is None:
            row_id = uuid4()
            await uow.insert(Qualification(id=row_id, customer_id=customer_id, kind=kind, number=number,
                                           issued_on=issued, expires_on=expires, recorded_by=ctx.actor,
                                           recorded_at=at, version=1))
            changes: dict[str, Any] = {"customer_id": str(customer_id), "kind": kind, "expires_on": expires}
        else:
            row_id = old["id"]
            await uow.update(Qualification, {Qualification.number: number, Qualification.issued_on: issued,
                                             Qualification.expires_on: expires, Qualification.recorded_by: ctx.actor,
                                             Qualification.recorded_at: at,
                                             Qualification.version: Qualification.version + 1}
                             ).where(Qualification.id == row_id)
            changes = {"customer_id": str(customer_id), "kind": kind, "expires_on": (old["expires_on"], expires),
                       "number": "changed" if old["number"] != number else "unchanged"}
        await record(uow, "medical_devices.qualification_recorded", "medical_devices_qualification", row_id, changes)
        await emit(uow, "medical_devices.qualification_recorded", "medical_devices_qualification", row_id,
                   ("kind", "number", "expires_on"))
        row = await uow.select(Qualification).where(Qualification.id == row_id).first()
    return _qualification(row, day)


def qualification_key(raw: list[Any]) -> tuple[str, UUID]:
    """A cursor's key of the expiring qualifications: (expires_on, id)."""
    return date.fromisoformat(raw[0]).isoformat(), UUID(raw[1])


async def expiring_qualifications(ctx: Any, window: Any, within_days: int | None = None
                                  ) -> tuple[list[QualificationView], bool]:
    """One keyset window of the documents that expire within ``within_days`` (the tenant's reminder
    days by default) or have expired, soonest first (expires_on, id), and whether more lie beyond."""
    require_permission(ctx, READ)
    days = within_days if within_days is not None else int((await tenant_parameters(ctx, VERTICAL))[
        "qualification_reminder_days"])
    day = await today(ctx)
    limit = (day + timedelta(days=max(0, days))).isoformat()
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await fetch_page(uow.select(Qualification).where(
            Qualification.expires_on.is_not_null() & (Qualification.expires_on <= limit)),
            [Qualification.expires_on, Qualification.id], window)
    return [_qualification(r, day) for r in rows], more


@tick("medical_devices.qualification_reminders")
async def raise_reminders(ctx: Any, at: datetime) -> int:
    """Tick work: a reminder for each document within ``qualification_reminder_days`` of its expiry,
    once per document and expiry (the conditional update claims it), audited with the tick as actor
    and announced as ``medical_devices.qualification_expiring``."""
    days = int((await tenant_parameters(ctx, VERTICAL))["qualification_reminder_days"])
    day = await today(ctx, at)
    limit = (day + timedelta(days=days)).isoformat()
    handled = 0
    async with unit_of_work(ctx) as uow:
        rows = await uow.select(Qualification.id, Qualification.customer_id, Qualification.kind,
                                Qualification.expires_on, Qualification.reminded_for).where(
            Qualification.expires_on.is_not_null() & (Qualification.expires_on <= limit))
        for row in rows:
            if not policy.reminder_due(row["expires_on"], row["reminded_for"], day, days):
                continue
            before = (Qualification.reminded_for.is_null() if row["reminded_for"] is None
                      else Qualification.reminded_for == row["reminded_for"])
            claimed = await uow.update(Qualification, {Qualification.reminded_for: row["expires_on"]}).where(
                (Qualification.id == row["id"]) & (Qualification.expires_on == row["expires_on"]) & before
            ).returning(Qualification.id)
            if not claimed:
                continue
            left = (date.fromisoformat(row["expires_on"]) - day).days
            await record(uow, "medical_devices.qualification_expiring", "medical_devices_qualification", row["id"],
                         {"customer_id": str(row["customer_id"]), "kind": row["kind"],
                          "expires_on": row["expires_on"], "days_left": left})
            await emit(uow, "medical_devices.qualification_expiring", "medical_devices_qualification", row["id"],
                       ("expires_on",))
            handled += 1
    return handled


# --- admission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdmissionView:
    id: UUID
    customer_id: UUID
    department_id: UUID
    customer_type: str
    contract_number: str | None
    verified_by: str
    verification_note: str
    admitted_at: datetime
    readmission: bool
    readmission_reason: str | None
    grade: str | None


def _admission(row: Mapping[str, Any]) -> AdmissionView:
    return AdmissionView(row["id"], row["customer_id"], row["department_id"], row["customer_type"],
                         row["contract_number"], row["verified_by"], row["verification_note"],
                         row["admitted_at"].astimezone(UTC), bool(row["readmission"]), row["readmission_reason"],
                         row["grade"])


async def _latest_admission(uow: Any, customer_id: UUID, department_id: UUID) -> Mapping[str, Any] | None:
    return await uow.select(Admission).where(
        (Admission.customer_id == customer_id) & (Admission.department_id == department_id)
    ).order_by(Admission.admitted_at, ascending=False).first()


async def _deregistered(uow: Any, customer_id: UUID) -> bool:
    return await uow.exists(ChangeNotice).where(
        (ChangeNotice.customer_id == customer_id) & (ChangeNotice.kind == "deregistration"))


def _document_problems(kinds: tuple[str, ...], held: Mapping[str, Mapping[str, Any]], day: date) -> None:
    missing = [k for k in kinds if k not in held]
    if missing:
        en = ", ".join(policy.DOCUMENT_NAMES[k][0] for k in missing)
        zh = "、".join(policy.DOCUMENT_NAMES[k][1] for k in missing)
        raise _error("MEDICAL_DEVICES_QUALIFICATION_MISSING", f"admission needs the {en} ({', '.join(missing)})",
                     f"准入须提供{zh}（{', '.join(missing)}）")
    expired = [k for k in kinds if policy.is_expired(held[k]["expires_on"], day)]
    if expired:
        en = ", ".join(f"{policy.DOCUMENT_NAMES[k][0]} ({k}) expired on {held[k]['expires_on']}" for k in expired)
        zh = "、".join(f"{policy.DOCUMENT_NAMES[k][1]}（{k}）已于 {held[k]['expires_on']} 过期" for k in expired)
        raise _error("MEDICAL_DEVICES_QUALIFICATION_EXPIRED", f"admission refused: the {en}", f"不予准入：{zh}")


async def admit(ctx: Any, customer_id: UUID, department_id: UUID, *, customer_type: str,
                contract_number: str | None = None, verification_note: str | None = None,
                illegal_record: bool = False, special_products: bool = False, grade: str | None = None,
                readmission_reason: str | None = None) -> AdmissionView:
    """Admit a customer into a department's customer database (MD20), verified by the caller (MD21 d).

    Order of the checks: both blacklists first (MD16: ``CUSTOMER_BLACKLISTED``); a deregistered
    customer is not admitted (MD18); retail and internal related-party customers are taken in
    without the admission criteria (MD1); every other type needs a signed purchase-sale contract
    (MD2 c), no record of illegal activity (MD2 d), the verifier's note on reputation and brand
    cooperation (MD2 b, f) and each document its type requires, recorded and not expired (MD2 a,
    e). A customer that was blacklisted returns only as a re-admission approved by a holder of
    ``medical_devices.blacklist.readmit``, with the reason, and only at the lowest grade (MD15);
    anyone else gets the grade asked for (caps hold, MD4 d, MD5 e) or the lowest (MD6)."""
    _reach(ctx, VERIFY, department_id)
    customer_type = _choice(customer_type, policy.CUSTOMER_TYPES, "MEDICAL_DEVICES_CUSTOMER_TYPE_INVALID", "customer_type")
    exempt = customer_type in policy.EXEMPT_TYPES
    contract = _text(contract_number, "contract_number", required=False, limit=100)
    note = _text(verification_note, "verification_note", required=False) or ""
    parameters = await tenant_parameters(ctx, VERTICAL)
    day = await today(ctx)
    async with unit_of_work(ctx) as uow:
        await _customer(uow, customer_id)
        if not await department_exists(uow, department_id):
            raise KehuError("DEPARTMENT_UNKNOWN", f"no department {department_id}", f"未找到部门 {department_id}",
                            field="department_id")
        current = await customer_grade(uow, VERTICAL, SCHEME, customer_id, scope_id=department_id)
        await refuse_if_blacklisted(uow, customer_id, department_id=department_id, action="admission")  # MD16
        if await _deregistered(uow, customer_id):
            raise _error("MEDICAL_DEVICES_CUSTOMER_DEREGISTERED", "the customer reported its deregistration; it cannot be admitted",
                         "该客户已申报注销，不予准入", "customer_id")
        latest = await _latest_admission(uow, customer_id, department_id)
        readmission = await was_blacklisted(uow, customer_id, department_id=department_id,
                                            since=latest["admitted_at"] if latest else None)
        if latest is not None and not readmission:
            raise _error("MEDICAL_DEVICES_ALREADY_ADMITTED", "the customer is already admitted in this department",
                         "该客户已在本部门准入", "customer_id")
        if not exempt:
            if contract is None:
                raise _error("MEDICAL_DEVICES_CONTRACT_REQUIRED", "admission needs the signed purchase-sale contract (MD2 c)",
                             "准入须签订购销合同（MD2 c）", "contract_number")
            if illegal_record:
                raise _error("MEDICAL_DEVICES_ILLEGAL_RECORD", "a customer with a record of illegal activity is not admitted (MD2 d)",
                             "有违法记录的客户不予准入（MD2 d）", "illegal_record")
            if not note:
                raise _error("MEDICAL_DEVICES_INPUT_INVALID", "the verifier's note on the customer's reputation and brand cooperation "
                             "is required (MD2 b, f; MD21 d)", "须填写核实人对商业信誉及品牌维护的意见（MD2 b、f；MD21 d）",
                             "verification_note")
            kinds = policy.required_documents(customer_type, special_products=special_products,
                                              tax_registration=bool(parameters["require_tax_registration"]))
            rows = await uow.select(Qualification).where(Qualification.customer_id == customer_id)
            _document_problems(kinds, {r["kind"]: r for r in rows}, day)
        reason = None
        lowest = lowest_grade(VERTICAL, SCHEME)
        if readmission:
            require_permission(ctx, READMIT)
            reason = _text(readmission_reason, "readmission_reason")
            if grade is not None and grade != lowest:
                raise _error("MEDICAL_DEVICES_READMISSION_GRADE", f"a customer returning after a blacklist is admitted only as "
                             f"{lowest} (MD15)", f"黑名单客户重新准入只能为合格类（{lowest}，MD15）", "grade")
        given = None
        if not exempt:
            given = lowest if readmission else (grade or lowest)
            why = "re-admission after a blacklist (MD15)" if readmission else "admission"
            await assign_grade(uow, VERTICAL, SCHEME, customer_id, given, scope_id=department_id,
                               reason=why, source="admission")
        elif current is not None:
            given = current
        row_id = uuid4()
        await uow.insert(Admission(id=row_id, customer_id=customer_id, department_id=department_id,
                                   customer_type=customer_type, contract_number=contract, verified_by=ctx.actor,
                                   verification_note=note, admitted_at=now(), readmission=readmission,
                                   readmission_reason=reason, grade=given))
        await record(uow, "medical_devices.customer_admitted", "medical_devices_admission", row_id,
                     {"customer_id": str(customer_id), "department_id": str(department_id),
                      "customer_type": customer_type, "grade": given, "readmission": readmission,
                      "verified_by": ctx.actor})
        await emit(uow, "medical_devices.customer_admitted", "medical_devices_admission", row_id,
                   ("customer_type", "grade", "readmission"))
        return _admission(await uow.select(Admission).where(Admission.id == row_id).first())


def admission_key(raw: list[Any]) -> tuple[datetime, UUID]:
    """A cursor's key of the admissions: (admitted_at, id)."""
    return datetime.fromisoformat(raw[0]), UUID(raw[1])


async def admissions(ctx: Any, window: Any, *, department_id: UUID | None = None
                     ) -> tuple[list[AdmissionView], bool]:
    """One keyset window of the admissions the caller may read, newest first (admitted_at, id),
    optionally of one department, and whether more lie beyond it."""
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = _within_reach(uow.select(Admission), Admission.department_id, ctx, READ)
        if query is None:
            return [], False
        if department_id is not None:
            query = query.where(Admission.department_id == department_id)
        rows, more = await fetch_page(query, [Admission.admitted_at, Admission.id], window, descending=True)
    return [_admission(r) for r in rows], more


@dataclass(frozen=True)
class CustomerView:
    customer_id: UUID
    qualifications: list[QualificationView]
    admissions: list[AdmissionView]
    change_notices: list[Mapping[str, Any]]
    requalification_due: bool


async def customer(ctx: Any, customer_id: UUID) -> CustomerView | None:
    """A customer's qualification documents, admissions and change notices; ``requalification_due``
    when it reported a change after its latest admission (MD18)."""
    require_permission(ctx, READ)
    day = await today(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        if await customer_record(uow, customer_id) is None:
            return None
        documents = await uow.select(Qualification).where(Qualification.customer_id == customer_id) \
            .order_by(Qualification.kind)
        notices = await uow.select(ChangeNotice).where(ChangeNotice.customer_id == customer_id) \
            .order_by(ChangeNotice.created_at)
        rows = await uow.select(Admission).where(Admission.customer_id == customer_id) \
            .order_by(Admission.admitted_at, ascending=False).order_by(Admission.id)
    admitted = [_admission(r) for r in rows if may_reach(ctx, READ, department_id=r["department_id"])]
    latest = max((a.admitted_at for a in admitted), default=None)
    due = any(latest is not None and n["created_at"].astimezone(UTC) > latest for n in notices)
    return CustomerView(customer_id, [_qualification(r, day) for r in documents], admitted, list(notices), due)


# --- business change notices (MD18) ---------------------------------------------------------------


async def record_change_notice(ctx: Any, customer_id: UUID, *, kind: str, channel: str, received_on: str,
                               description: str) -> Mapping[str, Any]:
    """MD18: the customer reports a business change or its deregistration, in writing or online;
    a change calls for re-qualification (``requalificationDue``), a deregistration stops further
    admissions and sales."""
    require_permission(ctx, VERIFY)
    kind = _choice(kind, NOTICE_KINDS, "MEDICAL_DEVICES_INPUT_INVALID", "kind")
    channel = _choice(channel, NOTICE_CHANNELS, "MEDICAL_DEVICES_INPUT_INVALID", "channel")
    received = _day(received_on, "received_on")
    text = _text(description, "description")
    async with unit_of_work(ctx) as uow:
        await _customer(uow, customer_id)
        row_id = uuid4()
        await uow.insert(ChangeNotice(id=row_id, customer_id=customer_id, kind=kind, channel=channel,
                                      received_on=received, description=text, recorded_by=ctx.actor))
        await record(uow, "medical_devices.change_notice_recorded", "medical_devices_change_notice", row_id,
                     {"customer_id": str(customer_id), "kind": kind, "channel": channel, "received_on": received})
        await emit(uow, "medical_devices.change_notice_recorded", "medical_devices_change_notice", row_id,
                   ("kind", "channel"))
        return await uow.select(ChangeNotice).where(ChangeNotice.id == row_id).first()


# --- forums and promotions (MD26, MD27) -----------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    id: UUID
    kind: str
    title: str
    department_id: UUID | None
    planned_on: str
    plan: str
    state: str
    planned_by: str
    approved_by: str | None
    approval_note: str | None
    report: str | None
    reported_by: str | None
    invited: list[UUID]


async def _event_view(uow: Any, row: Mapping[str, Any]) -> EventView:
    invited = await uow.select(Invitation.customer_id).where(Invitation.event_id == row["id"]) \
        .order_by(Invitation.invited_at).order_by(Invitation.id)
    return EventView(row["id"], row["kind"], row["title"], row["department_id"], row["planned_on"], row["plan"],
                     row["state"], row["planned_by"], row["approved_by"], row["approval_note"], row["report"],
                     row["reported_by"], [r["customer_id"] for r in invited])


async def _load_event(uow: Any, event_id: UUID) -> Mapping[str, Any]:
    row = await uow.select(Event).where(Event.id == event_id).first()
    if row is None:
        raise _error("MEDICAL_DEVICES_NOT_FOUND", f"no event {event_id}", f"未找到活动 {event_id}", "id")
    return row


async def plan_event(ctx: Any, *, kind: str, title: str, planned_on: str, plan: str,
                     department_id: UUID | None = None) -> EventView:
    """A forum, promotion, trade show or appreciation event with its organisation plan (MD26, MD27)."""
    _reach(ctx, PLAN, department_id)
    kind = _choice(kind, EVENT_KINDS, "MEDICAL_DEVICES_INPUT_INVALID", "kind")
    title = _text(title, "title", limit=200)
    day = _day(planned_on, "planned_on")
    text = _text(plan, "plan")
    async with unit_of_work(ctx) as uow:
        if department_id is not None and not await department_exists(uow, department_id):
            raise KehuError("DEPARTMENT_UNKNOWN", f"no department {department_id}", f"未找到部门 {department_id}",
                            field="department_id")
        row_id = uuid4()
        await uow.insert(Event(id=row_id, kind=kind, title=title, department_id=department_id, planned_on=day,
                               plan=text, state="planned", planned_by=ctx.actor, version=1))
        await record(uow, "medical_devices.event_planned", "medical_devices_event", row_id,
                     {"kind": kind, "planned_on": day, "department_id": str(department_id) if department_id else None})
        await emit(uow, "medical_devices.event_planned", "medical_devices_event", row_id, ("state",))
        return await _event_view(uow, await _load_event(uow, row_id))


async def advance_event(ctx: Any, event_id: UUID, action: str, *, text: str | None = None) -> EventView:
    """plan → ``approve`` (marketing division, ``medical_devices.event.approve``, with its note) →
    ``hold`` → ``report`` (the written report filed after the event, MD27). Any other order is
    refused with ``MEDICAL_DEVICES_EVENT_TRANSITION_INVALID``."""
    source, target = EVENT_FLOW[action]
    _reach(ctx, APPROVE if action == "approve" else PLAN, None)
    async with unit_of_work(ctx) as uow:
        row = await _load_event(uow, event_id)
        _reach(ctx, APPROVE if action == "approve" else PLAN, row["department_id"])
        if row["state"] != source:
            raise _error("MEDICAL_DEVICES_EVENT_TRANSITION_INVALID", f"an event in state {row['state']} cannot be {target} "
                         f"(it must be {source})", f"状态为 {row['state']} 的活动不能执行此操作（须为 {source}）", "id")
        at = now()
        values: dict[Any, Any] = {Event.state: target, Event.version: Event.version + 1}
        changes: dict[str, Any] = {"state": (source, target)}
        if action == "approve":
            values.update({Event.approved_by: ctx.actor, Event.approved_at: at,
                           Event.approval_note: _text(text, "note", required=False)})
        elif action == "hold":
            values.update({Event.held_at: at, Event.held_by: ctx.actor})
        else:
            values.update({Event.report: _text(text, "report"), Event.reported_by: ctx.actor, Event.reported_at: at})
            changes["report"] = "filed"
        claimed = await uow.update(Event, values).where((Event.id == event_id) & (Event.state == source)) \
            .returning(Event.id)
        if not claimed:
            raise _error("MEDICAL_DEVICES_EVENT_TRANSITION_INVALID", "the event changed meanwhile", "活动已被他人更改", "id")
        name = {"approve": "event_approved", "hold": "event_held", "report": "event_reported"}[action]
        await record(uow, f"medical_devices.{name}", "medical_devices_event", event_id, changes)
        await emit(uow, f"medical_devices.{name}", "medical_devices_event", event_id,
                   ("state", "report") if action == "report" else ("state",))
        return await _event_view(uow, await _load_event(uow, event_id))


async def invite(ctx: Any, event_id: UUID, customer_id: UUID) -> EventView:
    """Invite a customer to a planned or approved event (again: nothing changes); a customer on the
    company blacklist, or on the blacklist of the event's department, cannot be invited (MD14)."""
    require_permission(ctx, PLAN)
    async with unit_of_work(ctx) as uow:
        row = await _load_event(uow, event_id)
        _reach(ctx, PLAN, row["department_id"])
        if row["state"] not in ("planned", "approved"):
            raise _error("MEDICAL_DEVICES_EVENT_TRANSITION_INVALID", f"an event in state {row['state']} takes no more invitations",
                         f"状态为 {row['state']} 的活动不能再邀请客户", "id")
        await _customer(uow, customer_id)
        await refuse_if_blacklisted(uow, customer_id, department_id=row["department_id"], action="event invitation")
        if await uow.exists(Invitation).where((Invitation.event_id == event_id)
                                              & (Invitation.customer_id == customer_id)):
            return await _event_view(uow, row)  # invited already: nothing to change
        row_id = uuid4()
        await uow.insert(Invitation(id=row_id, event_id=event_id, customer_id=customer_id, invited_by=ctx.actor,
                                    invited_at=now()))
        await record(uow, "medical_devices.customer_invited", "medical_devices_invitation", row_id,
                     {"event_id": str(event_id), "customer_id": str(customer_id)})
        await emit(uow, "medical_devices.customer_invited", "medical_devices_invitation", row_id,
                   ("event_id", "customer_id"))
        return await _event_view(uow, row)


def event_key(raw: list[Any]) -> tuple[str, UUID]:
    """A cursor's key of the events: (planned_on, id)."""
    return date.fromisoformat(raw[0]).isoformat(), UUID(raw[1])


async def events(ctx: Any, window: Any, *, state: str | None = None) -> tuple[list[EventView], bool]:
    """One keyset window of the events the caller may read (those of no department, and those of
    a department within reach), by planned day (planned_on, id), and whether more lie beyond it."""
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = _within_reach(uow.select(Event), Event.department_id, ctx, READ, unassigned=True)
        if query is None:
            return [], False
        if state is not None:
            query = query.where(Event.state == state)
        rows, more = await fetch_page(query, [Event.planned_on, Event.id], window)
        return [await _event_view(uow, r) for r in rows], more


async def event(ctx: Any, event_id: UUID) -> EventView | None:
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(Event).where(Event.id == event_id).first()
        if row is None or (row["department_id"] is not None
                           and not may_reach(ctx, READ, department_id=row["department_id"])):
            return None
        return await _event_view(uow, row)


# --- sales and the after-sale contact (MD29) ------------------------------------------------------


@dataclass(frozen=True)
class SaleView:
    id: UUID
    customer_id: UUID
    department_id: UUID | None
    reference: str
    sold_on: str
    contacted_at: datetime | None
    contacted_by: str | None
    satisfaction: int | None
    contact_note: str | None


def _sale(row: Mapping[str, Any]) -> SaleView:
    at = row["contacted_at"]
    return SaleView(row["id"], row["customer_id"], row["department_id"], row["reference"], row["sold_on"],
                    at.astimezone(UTC) if at else None, row["contacted_by"], row["satisfaction"], row["contact_note"])


async def record_sale(ctx: Any, customer_id: UUID, department_id: UUID, *, reference: str, sold_on: str) -> SaleView:
    """A sale by a department to a customer admitted there (MD20); refused for a customer on the
    company blacklist or that department's (MD14) or that reported its deregistration (MD18)."""
    _reach(ctx, CONTACT, department_id)
    reference = _text(reference, "reference", limit=100)
    day = _day(sold_on, "sold_on")
    async with unit_of_work(ctx) as uow:
        await _customer(uow, customer_id)
        await refuse_if_blacklisted(uow, customer_id, department_id=department_id, action="sale")
        if await _deregistered(uow, customer_id):
            raise _error("MEDICAL_DEVICES_CUSTOMER_DEREGISTERED", "the customer reported its deregistration", "该客户已申报注销",
                         "customer_id")
        if await _latest_admission(uow, customer_id, department_id) is None:
            raise _error("MEDICAL_DEVICES_NOT_ADMITTED", "the customer is not admitted in this department (MD20)",
                         "该客户未在本部门准入（MD20）", "customer_id")
        row_id = uuid4()
        await uow.insert(Sale(id=row_id, customer_id=customer_id, department_id=department_id, reference=reference,
                              sold_on=day, recorded_by=ctx.actor))
        await record(uow, "medical_devices.sale_recorded", "medical_devices_sale", row_id,
                     {"customer_id": str(customer_id), "department_id": str(department_id), "reference": reference,
                      "sold_on": day})
        await emit(uow, "medical_devices.sale_recorded", "medical_devices_sale", row_id, ("reference", "sold_on"))
        return _sale(await uow.select(Sale).where(Sale.id == row_id).first())


async def record_contact(ctx: Any, sale_id: UUID, *, satisfaction: int, note: str | None = None) -> SaleView:
    """MD29: the proactive contact after a sale, once per sale, with the customer's satisfaction (1–5)."""
    require_permission(ctx, CONTACT)
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise _error("MEDICAL_DEVICES_SATISFACTION_INVALID", "satisfaction is a whole number from 1 to 5", "满意度须为 1 至 5 的整数",
                     "satisfaction")
    text = _text(note, "note", required=False)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Sale).where(Sale.id == sale_id).first()
        if row is None or (row["department_id"] is not None
                           and not may_reach(ctx, CONTACT, department_id=row["department_id"])):
            raise _error("MEDICAL_DEVICES_NOT_FOUND", f"no sale {sale_id}", f"未找到销售记录 {sale_id}", "id")
        claimed = await uow.update(Sale, {Sale.contacted_at: now(), Sale.contacted_by: ctx.actor,
                                          Sale.satisfaction: satisfaction, Sale.contact_note: text}).where(
            (Sale.id == sale_id) & Sale.contacted_at.is_null()).returning(Sale.id)
        if not claimed:
            raise _error("MEDICAL_DEVICES_SALE_ALREADY_CONTACTED", "the after-sale contact of this sale is already recorded",
                         "该笔销售的售后回访已登记", "id")
        await record(uow, "medical_devices.sale_contacted", "medical_devices_sale", sale_id,
                     {"satisfaction": satisfaction})
        await emit(uow, "medical_devices.sale_contacted", "medical_devices_sale", sale_id,
                   ("contacted_at", "satisfaction"))
        return _sale(await uow.select(Sale).where(Sale.id == sale_id).first())


def sale_key(raw: list[Any]) -> tuple[str, UUID]:
    """A cursor's key of the sales: (sold_on, id)."""
    return date.fromisoformat(raw[0]).isoformat(), UUID(raw[1])


async def sales(ctx: Any, window: Any, *, uncontacted_only: bool = False, department_id: UUID | None = None
                ) -> tuple[list[SaleView], bool]:
    """One keyset window of the sales the caller may read, oldest first (sold_on, id), and whether
    more lie beyond it; ``uncontacted_only``: those still without their after-sale contact (MD29)."""
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = _within_reach(uow.select(Sale), Sale.department_id, ctx, READ, unassigned=True)
        if query is None:
            return [], False
        if uncontacted_only:
            query = query.where(Sale.contacted_at.is_null())
        if department_id is not None:
            query = query.where(Sale.department_id == department_id)
        rows, more = await fetch_page(query, [Sale.sold_on, Sale.id], window)
    return [_sale(r) for r in rows], more


# --- grading criteria (MD3–MD7) -------------------------------------------------------------------


async def assess(ctx: Any, facts: Mapping[str, Any]) -> policy.Assessment:
    """The grade the facts earn under the tenant's thresholds (the scheme's ``score``), with reasons."""
    require_permission(ctx, READ)
    if not isinstance(facts, Mapping):
        raise _error("MEDICAL_DEVICES_INPUT_INVALID", "facts is an object of fact names and values", "facts 须为事实名称与值的对象", "facts")
    return policy.assess(facts, await tenant_parameters(ctx, VERTICAL))


# --- quarterly archive updates of key customers (seed-000 §4.5 AR3, seed-003 R12-2) ---------------

KEY_GRADES = ("vip", "preferred")


@dataclass(frozen=True)
class ArchiveUpdateDue:
    customer_id: UUID
    grades: list[tuple[str, str]]
    last_accepted_at: datetime | None
    due_since: datetime | None  # None: the key customer has no accepted archive at all


def add_months(at: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months later (the month's last day when it has fewer)."""
    index = at.month - 1 + months
    year, month = at.year + index // 12, index % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, monthrange(year, month)[1]))


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def due_order(d: ArchiveUpdateDue) -> tuple[int, datetime, str]:
    """The order of the archive updates due (and their cursors' key): none accepted first, then the
    longest overdue, then by customer id."""
    return (0, _NEVER, str(d.customer_id)) if d.last_accepted_at is None else \
        (1, d.last_accepted_at, str(d.customer_id))


def due_key(raw: list[Any]) -> tuple[int, datetime, str]:
    """A cursor's key of the archive updates due: (accepted at all, last accepted, customer id)."""
    rank, at, customer_id = raw
    if rank not in (0, 1) or isinstance(rank, bool):
        raise ValueError("rank")
    return rank, datetime.fromisoformat(at), str(UUID(customer_id))


async def archive_updates_due(ctx: Any, window: Any) -> tuple[list[ArchiveUpdateDue], bool]:
    """AR3 / R12-2: the key customers (VIP or preferred in some department) whose customer archive
    was not updated (an archive of ``customer_archive`` accepted) within ``archive_update_months``
    (3: every quarter), the longest overdue first; those with no accepted archive at all first.
    One window of that order (the due list is worked out from the key customers' grades and
    archives, then windowed) and whether more lie beyond it."""
    require_permission(ctx, READ)
    months = int((await tenant_parameters(ctx, VERTICAL))["archive_update_months"])
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        key = await graded_customers(uow, VERTICAL, SCHEME, KEY_GRADES)
        accepted = await archives_accepted(uow, VERTICAL, "customer_archive", key)
    due = []
    for customer_id, grades in key.items():
        last = accepted.get(customer_id)
        if last is None:
            due.append(ArchiveUpdateDue(customer_id, sorted(grades), None, None))
            continue
        last = last.astimezone(UTC)
        if add_months(last, months) <= at:
            due.append(ArchiveUpdateDue(customer_id, sorted(grades), last, add_months(last, months)))
    ordered = sorted(due, key=due_order)
    if window.after is not None:
        ordered = [d for d in ordered if due_order(d) > tuple(window.after)]
    if window.before is not None:
        ordered = [d for d in ordered if due_order(d) < tuple(window.before)]
    more = len(ordered) > window.size
    return (ordered[-window.size:] if window.backward else ordered[:window.size]), more
