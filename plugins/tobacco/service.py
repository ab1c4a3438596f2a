"""The tobacco vertical's use cases, one function each, on ``core.plugins`` only (S21 Art3–Art14).

The master data are the customer's extension fields of the vertical; the managed ones (ordering and
settlement, phones, routes, the licence date) change only here. Every change is audited (no personal
value in the audit), announced, and written in one unit of work: a refused call writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from core.plugins import (
    KehuError,
    Scope,
    assign_grade,
    blind_index,
    blind_indexes,
    customer_extensions,
    customers_out_of_processing,
    emit,
    record,
    require_permission,
    seal,
    tenant_calendar,
    tenant_parameters,
    unit_of_work,
    unseal,
    update_customer_extensions,
)
from plugins.tobacco import policy, rules
from plugins.tobacco.tables import Change, Deadline, PhoneChange, PhoneKey, Retailer, TemporaryChange, Watch

VERTICAL = "tobacco"
GRADE_SCHEME = "tier"
CHANGE_SEAL = "tobacco_change"
TEMPORARY_SEAL = "tobacco_temporary_change"
MAX_REASON = 1000
MAX_REF = 100


def now() -> datetime:
    return datetime.now(UTC)  # tests pin the clock here


# --- small checks -------------------------------------------------------------------------------------


def _invalid(field: str, en: str, zh: str) -> KehuError:
    return KehuError("TOBACCO_INPUT_INVALID", en, zh, field=field)


def _text(value: object, field: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _invalid(field, f"{field} is required", f"{field} 为必填项")
    if len(text) > limit:
        raise _invalid(field, f"{field} is longer than {limit} characters", f"{field} 超过 {limit} 个字符")
    return text


def _choice(value: object, field: str, choices: tuple[str, ...] | Mapping[str, Any]) -> str:
    if value not in choices:
        raise _invalid(field, f"{field} is one of {', '.join(choices)}", f"{field} 须为 {'、'.join(choices)} 之一")
    return str(value)


def _not_found(what: str, ident: object) -> KehuError:
    code = {"customer": "CUSTOMER_NOT_FOUND", "retailer": "TOBACCO_RETAILER_NOT_FOUND",
            "change": "TOBACCO_CHANGE_NOT_FOUND", "temporary": "TOBACCO_TEMPORARY_CHANGE_NOT_FOUND"}[what]
    return KehuError(code, f"no {what} {ident}", f"未找到 {ident}", field="id" if what != "customer" else "customerId")


async def _values(uow: Any, customer_id: UUID) -> tuple[int, dict[str, Any]]:
    found = await customer_extensions(uow, VERTICAL, customer_id)
    if found is None or customer_id in await customers_out_of_processing(uow, [customer_id]):
        raise _not_found("customer", customer_id)
    return found


async def _today(ctx: Any) -> tuple[Any, date]:
    calendar = await tenant_calendar(ctx)
    return calendar, now().astimezone(calendar.zone).date()


def _holds(ctx: Any, permission: str) -> bool:
    try:
        require_permission(ctx, permission)
    except KehuError:
        return False
    return True


def _reads(ctx: Any) -> None:
    """Reading one retailer's onboarding or one change: any post of the vertical (Art4), else the
    report permission is named in the refusal."""
    if not any(_holds(ctx, p.name) for p in rules.PERMISSIONS):
        require_permission(ctx, rules.REPORT)


def _tenant_wide(ctx: Any, permission: str) -> None:
    """The vertical's work spans the company's retailers: own or department scope is not enough for
    what the regulation gives one post (the analyst maintains every customer, Art4)."""
    if require_permission(ctx, permission) is not Scope.TENANT and not ctx.is_system:
        raise KehuError("PERMISSION_DENIED", f"{permission} is needed for the whole company",
                        f"须在全公司范围内具有 {permission} 权限", field=None)


# --- onboarding (Art7) --------------------------------------------------------------------------------


async def register_retailer(ctx: Any, customer_id: UUID, licence_date: date, *,
                            evaluation_on: date | None = None) -> dict[str, Any]:
    """A newly licensed retailer enters onboarding: its licence date recorded and every step's
    deadline set on the working-day calendar (Art7)."""
    _tenant_wide(ctx, rules.MAINTAIN)
    parameters = await tenant_parameters(ctx, VERTICAL)
    calendar, today = await _today(ctx)
    if not isinstance(licence_date, date) or licence_date > today:
        raise _invalid("licenceDate", "the licence date is a day not after today", "许可证日期不得晚于今天")
    if evaluation_on is not None and evaluation_on < licence_date:
        raise _invalid("evaluationOn", "a grade evaluation during onboarding falls after the licence date",
                       "入网期间的等级评定日期须晚于许可证日期")
    async with unit_of_work(ctx) as uow:
        _version, values = await _values(uow, customer_id)
        existing = await uow.select(Retailer.licence_date).where(Retailer.customer_id == customer_id).first()
        if existing is not None:
            if existing["licence_date"] != licence_date.isoformat():
                raise KehuError("TOBACCO_RETAILER_EXISTS", "the retailer is already onboarded with another licence date",
                                "该零售户已按其他许可证日期登记入网", field="customerId")
        if existing is None:  # the same registration again changes nothing
            due = policy.onboarding_deadlines(licence_date, calendar, parameters,
                                              order_weekday=_weekday(values.get("order_weekday")),
                                              evaluation_on=evaluation_on)
            first = policy.day_one(licence_date, calendar, str(parameters["onboarding_day_one"]))
            await update_customer_extensions(uow, VERTICAL, customer_id, {"licence_date": licence_date.isoformat()},
                                             reason="licence received (S21 Art7)")
            await uow.insert(Retailer(customer_id=customer_id, licence_date=licence_date.isoformat(),
                                      day_one=first.isoformat(), registered_by=ctx.actor, registered_at=now(),
                                      evaluation_on=evaluation_on.isoformat() if evaluation_on else None))
            await uow.insert(*(Deadline(customer_id=customer_id, step=step, due_at=at, state="pending")
                               for step, at in due.items()))
            await record(uow, "tobacco.retailer_registered", "customer", customer_id,
                         {"licence_date": licence_date.isoformat(), "day_one": first.isoformat()})
            await emit(uow, "tobacco.retailer_registered", "customer", customer_id, ["licence_date", "deadlines"])
    return await onboarding(ctx, customer_id)


def _weekday(value: object) -> int | None:
    return value if isinstance(value, int) and 1 <= value <= 7 else None


async def onboarding(ctx: Any, customer_id: UUID) -> dict[str, Any]:
    """The retailer's onboarding: each step's deadline, its state when it fell due, and what is still
    missing now (hidden fields never count, Art3)."""
    _reads(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    hidden = policy.hidden_fields(parameters["hidden_fields"])
    async with unit_of_work(ctx, write=False) as uow:
        retailer = await uow.select(Retailer).where(Retailer.customer_id == customer_id).first() \
            if isinstance(customer_id, UUID) else None
        if retailer is None:
            raise _not_found("retailer", customer_id)
        _version, values = await _values(uow, customer_id)
        rows = await uow.select(Deadline).where(Deadline.customer_id == customer_id).order_by(Deadline.due_at)
    steps = []
    for row in rows:
        missing = () if row["step"] in (rules.QUOTA_STEP, rules.PASSWORD_STEP) else policy.missing_fields(
            row["step"], values, hidden)
        steps.append({**row, "missing_now": missing,
                      "missing_then": tuple(n for n in row["missing"].split(",") if n)})
    return {"customer_id": customer_id, "licence_date": retailer["licence_date"], "day_one": retailer["day_one"],
            "steps": steps}


async def maintain(ctx: Any, customer_id: UUID, values: Mapping[str, Any]) -> dict[str, Any]:
    """The analyst maintains master data (Art7): any field that is not managed, and the first value
    of a managed one (routes, batch, ordering method, order phone); a managed field that already has
    a value changes through a special or temporary change, settlement through the enrolment."""
    _tenant_wide(ctx, rules.MAINTAIN)
    values = dict(values)
    unknown = sorted(set(values) - set(rules.FIELD_NAMES))
    if unknown:
        raise KehuError("EXTENSION_FIELD_UNKNOWN", f"tobacco declares no field {unknown[0]!r}",
                        f"烟草插件没有字段 {unknown[0]!r}", field=f"values.{unknown[0]}")
    for name in ("licence_date", "settlement_bank", "card_number", "settlement_name", "ordering_agreement_until"):
        if name in values:
            raise KehuError("TOBACCO_USE_DEDICATED_OPERATION", f"{name} is set by its own operation "
                            "(tobaccoRetailerRegister, tobaccoSettlementEnrol, tobaccoOrderingMethodSet)",
                            f"{name} 须通过专门操作设置", field=f"values.{name}")
    if values.get("settlement_method") not in (None, "cash"):
        raise KehuError("TOBACCO_USE_DEDICATED_OPERATION", "electronic settlement starts with tobaccoSettlementEnrol "
                        "(the name match of Art7.5)", "电子结算须通过结算开通办理（第七条第5项姓名核对）",
                        field="values.settlement_method")
    if values.get("ordering_method") in ("mobile", "yixintong"):
        raise KehuError("TOBACCO_USE_DEDICATED_OPERATION", "mobile and 烟信通 ordering start with "
                        "tobaccoOrderingMethodSet and their agreement period", "手机、烟信通订货须通过订货方式设置并登记协议期",
                        field="values.ordering_method")
    calendar, today = await _today(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        version, current = await _values(uow, customer_id)
        for name in sorted(set(values) & rules.MANAGED):
            if current.get(name) not in (None, "") and values[name] != current.get(name):
                raise KehuError("TOBACCO_CHANGE_NEEDS_APPROVAL", f"{name} already has a value: change it with a special "
                                "change (tobaccoChangeRequest) or a temporary change", f"{name} 已有值，须经特殊变更或临时变更修改",
                                field=f"values.{name}")
        if "order_phone" in values and values["order_phone"] and values["order_phone"] != current.get("order_phone"):
            await _refuse_duplicate_phone(uow, customer_id, str(values["order_phone"]))
        new_version = await update_customer_extensions(uow, VERTICAL, customer_id, values, version=version,
                                                       reason="master data maintained (S21 Art7)")
        after = {**current, **values}
        if "order_phone" in values and values["order_phone"] and values["order_phone"] != current.get("order_phone"):
            await _phone_changed(uow, customer_id, str(values["order_phone"]), "first", None, parameters)
        await _derived_deadlines(uow, customer_id, current, after, calendar, parameters, today)
        await record(uow, "tobacco.master_data_maintained", "customer", customer_id,
                     {"fields": sorted(values)})
    return {"customer_id": customer_id, "version": new_version}


async def _derived_deadlines(uow: Any, customer_id: UUID, before: Mapping[str, Any], after: Mapping[str, Any],
                             calendar: Any, parameters: Mapping[str, Any], today: date) -> None:
    """Deadlines a maintained value starts: the quota approval once the order day is known (Art7.9),
    the 新商盟 password once online ordering is maintained (Art7.4)."""
    retailer = await uow.select(Retailer.day_one).where(Retailer.customer_id == customer_id).first()
    if retailer is None:
        return
    steps = {row["step"] for row in await uow.select(Deadline.step).where(Deadline.customer_id == customer_id)}
    weekday = _weekday(after.get("order_weekday"))
    if weekday is not None and rules.QUOTA_STEP not in steps:
        first = date.fromisoformat(retailer["day_one"])
        market = policy.working_day(first, int(parameters["onboarding_market_fields_working_days"]), calendar)
        await uow.insert(Deadline(customer_id=customer_id, step=rules.QUOTA_STEP, state="pending",
                                  due_at=policy.quota_due(market, weekday, calendar,
                                                          int(parameters["quota_approval_days_before_order"]))))
    if after.get("ordering_method") == "online" and before.get("ordering_method") != "online" \
            and rules.PASSWORD_STEP not in steps:
        await uow.insert(Deadline(customer_id=customer_id, step=rules.PASSWORD_STEP, state="pending",
                                  due_at=policy.password_due(today, calendar)))


async def _close_step(uow: Any, customer_id: UUID, step: str) -> bool:
    """A step met by an act (the quota approved, the password handed over): met now, or met late."""
    row = await uow.select(Deadline.id, Deadline.state, Deadline.due_at).where(
        (Deadline.customer_id == customer_id) & (Deadline.step == step)).first()
    if row is None:
        return False
    at = now()
    if row["state"] == "pending":
        await uow.update(Deadline, {Deadline.state: "met" if at <= row["due_at"] else "overdue",
                                    Deadline.checked_at: at}).where(Deadline.id == row["id"])
    return True


async def approve_quota(ctx: Any, customer_id: UUID) -> dict[str, Any]:
    """The section chief approves the new customer's scientific quota (Art7.9)."""
    _tenant_wide(ctx, rules.QUOTA)
    async with unit_of_work(ctx) as uow:
        _version, values = await _values(uow, customer_id)
        if values.get("quota") is None:
            raise KehuError("TOBACCO_QUOTA_MISSING", "the account manager maintains the quota first (Art7.4)",
                            "须先由客户经理维护科学定量（第七条第4项）", field="customerId")
        if not await _close_step(uow, customer_id, rules.QUOTA_STEP):
            raise KehuError("TOBACCO_QUOTA_NOT_DUE", "the quota approval starts once the order day is maintained",
                            "维护订货日后方可审批科学定量", field="customerId")
        await record(uow, "tobacco.quota_approved", "customer", customer_id, {"quota": values["quota"]})
        await emit(uow, "tobacco.quota_approved", "customer", customer_id, ["quota"])
    return await onboarding(ctx, customer_id)


async def hand_over_password(ctx: Any, customer_id: UUID) -> dict[str, Any]:
    """The analyst collected the 新商盟 password and handed it over (Art7.4); the password itself is
    never recorded."""
    _tenant_wide(ctx, rules.MAINTAIN)
    async with unit_of_work(ctx) as uow:
        await _values(uow, customer_id)
        if not await _close_step(uow, customer_id, rules.PASSWORD_STEP):
            raise KehuError("TOBACCO_PASSWORD_NOT_DUE", "a password hand-over follows online ordering being maintained",
                            "维护网上订货后方可登记密码交接", field="customerId")
        await record(uow, "tobacco.password_handed_over", "customer", customer_id, {})
    return await onboarding(ctx, customer_id)


async def sweep_onboarding(ctx: Any, at: datetime, *, batch: int = 500) -> int:
    """Every pending step due by ``at``: met when its visible fields are all there, else overdue with
    the missing ones named (the SLA breach, seed-001 §5 rules 24–27). Reads only the due rows (index
    on state, due_at), so the cost follows the fields falling due, not the number of retailers."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    hidden = policy.hidden_fields(parameters["hidden_fields"])
    handled = 0
    while True:
        async with unit_of_work(ctx) as uow:
            rows = await uow.select(Deadline.id, Deadline.customer_id, Deadline.step).where(
                (Deadline.state == "pending") & (Deadline.due_at <= at)).order_by(Deadline.due_at).limit(batch)
            if not rows:
                return handled
            values: dict[UUID, dict[str, Any]] = {}
            for customer_id in {row["customer_id"] for row in rows}:
                found = await customer_extensions(uow, VERTICAL, customer_id)
                values[customer_id] = found[1] if found else {}
            overdue = []
            for row in rows:
                if row["step"] in (rules.QUOTA_STEP, rules.PASSWORD_STEP):
                    missing: tuple[str, ...] = (row["step"],)  # still pending at its due time: not done
                else:
                    missing = policy.missing_fields(row["step"], values[row["customer_id"]], hidden)
                state = "overdue" if missing else "met"
                claimed = await uow.update(Deadline, {Deadline.state: state, Deadline.checked_at: at,
                                                      Deadline.missing: ",".join(missing)}).where(
                    (Deadline.id == row["id"]) & (Deadline.state == "pending")).returning(Deadline.id)
                if claimed and missing:
                    overdue.append(row)
            for row in overdue:
                await emit(uow, "tobacco.onboarding_overdue", "tobacco_deadline", row["id"], ["state", "missing"])
            handled += len(rows)
        if len(rows) < batch:
            return handled


# --- settlement and ordering (Art7.4, Art7.5, Art8–Art11) ---------------------------------------------


async def enrol_settlement(ctx: Any, customer_id: UUID, *, method: str, bank: str, card_number: str,
                           settlement_name: str, sealed_authority: bool = False) -> dict[str, Any]:
    """Electronic settlement (debit card, passbook, credit card) on the tripartite agreement: the
    settlement name must equal the licence's legal person, or a sealed power of attorney is on file
    (Art7.5). A new card at the same bank (a lost or replaced card, Art8) is enrolled the same way;
    another bank is a special change (Art10)."""
    _tenant_wide(ctx, rules.MAINTAIN)
    method = _choice(method, "method", rules.ELECTRONIC_SETTLEMENT)
    bank = _choice(bank, "bank", rules.SETTLEMENT_BANKS)
    name = _text(settlement_name, "settlementName", 50)
    async with unit_of_work(ctx) as uow:
        version, current = await _values(uow, customer_id)
        if current.get("settlement_method") in rules.ELECTRONIC_SETTLEMENT and current.get("settlement_bank") \
                and current.get("settlement_bank") != bank:
            raise KehuError("TOBACCO_CHANGE_NEEDS_APPROVAL", "changing the settlement bank is a special change with "
                            "two sign-offs (S21 Art10)", "变更结算银行须经特殊变更审批（第十条）", field="bank")
        policy.check_settlement(method, settlement_name=name, legal_person=current.get("licence_legal_person"),
                                sealed_authority=bool(sealed_authority))
        new_version = await update_customer_extensions(
            uow, VERTICAL, customer_id, {"settlement_method": method, "settlement_bank": bank,
                                         "card_number": card_number, "settlement_name": name},
            version=version, reason="electronic settlement enrolled (S21 Art7.5)")
        await record(uow, "tobacco.settlement_enrolled", "customer", customer_id,
                     {"method": method, "bank": bank, "sealed_authority": bool(sealed_authority)})
        await emit(uow, "tobacco.settlement_enrolled", "customer", customer_id,
                   ["settlement_method", "settlement_bank", "card_number", "settlement_name"])
    return {"customer_id": customer_id, "version": new_version}


async def set_ordering_method(ctx: Any, customer_id: UUID, *, method: str,
                              agreement_until: date | None = None) -> dict[str, Any]:
    """The ordering method a customer moves to without a special change: a first one, phone to any
    other, or online once a mobile or 烟信通 agreement period has ended (Art7.4, Art11). Mobile and
    烟信通 need the agreement's end."""
    _tenant_wide(ctx, rules.MAINTAIN)
    method = _choice(method, "method", rules.ORDERING_METHODS)
    calendar, today = await _today(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    if method in ("mobile", "yixintong"):
        if agreement_until is None or agreement_until < today:
            raise _invalid("agreementUntil", "mobile and 烟信通 ordering need the agreement period's end, not before today",
                           "手机、烟信通订货须登记协议期截止日（不早于今天）")
    elif agreement_until is not None:
        raise _invalid("agreementUntil", "only mobile and 烟信通 ordering have an agreement period", "仅手机、烟信通订货有协议期")
    async with unit_of_work(ctx) as uow:
        version, current = await _values(uow, customer_id)
        was = current.get("ordering_method")
        if policy.ordering_locked(current, today) and method != was:
            raise KehuError("TOBACCO_ORDERING_AGREEMENT_PERIOD", "a mobile or 烟信通 customer keeps the ordering method "
                            "for its agreement period (S21 Art11)", "手机、烟信通客户协议期内不得变更订货方式（第十一条）",
                            field="method")
        free = was in (None, "phone", method) or (was in ("mobile", "yixintong") and method == "online")
        if not free:
            raise KehuError("TOBACCO_CHANGE_NEEDS_APPROVAL", "this change of ordering method is a special change with "
                            "two sign-offs (S21 Art11)", "变更订货方式须经特殊变更审批（第十一条）", field="method")
        values = {"ordering_method": method,
                  "ordering_agreement_until": agreement_until.isoformat() if agreement_until else None}
        new_version = await update_customer_extensions(uow, VERTICAL, customer_id, values, version=version,
                                                       reason="ordering method set (S21 Art7.4, Art11)")
        await _derived_deadlines(uow, customer_id, current, {**current, **values}, calendar, parameters, today)
        await record(uow, "tobacco.ordering_method_set", "customer", customer_id, {"ordering_method": (was, method)})
        await emit(uow, "tobacco.ordering_method_set", "customer", customer_id, ["ordering_method"])
    return {"customer_id": customer_id, "version": new_version}


# --- phones (Art12) -----------------------------------------------------------------------------------


async def _refuse_duplicate_phone(uow: Any, customer_id: UUID, phone: str) -> None:
    """The duplicate check before any phone change (Art12): another customer's order phone is refused
    here; a shared number goes through the duplicate-phone special change with its sign-offs."""
    digests = blind_indexes(uow, "tobacco_order_phone", phone)
    other = await uow.select(PhoneKey.customer_id).where(
        PhoneKey.digest.is_in(digests) & (PhoneKey.customer_id != customer_id)).first()
    if other is not None:
        raise KehuError("TOBACCO_PHONE_DUPLICATE", "another customer orders from this phone: a shared number needs "
                        "the duplicate-phone change (reason, section chief and deputy manager, filed with internal "
                        "management; S21 Art12)", "该号码已为其他客户的订货电话：重号须经重号变更（说明原因、科长及副经理签字、报内管科备案）",
                        field="phone")


async def _phone_changed(uow: Any, customer_id: UUID, phone: str, kind: str, source_id: UUID | None,
                         parameters: Mapping[str, Any]) -> None:
    """Every order-phone change: in the day's report to internal management, the blind index moved,
    and a second change within a month puts the customer on the watch list (Art12)."""
    at = now()
    await uow.insert(PhoneChange(customer_id=customer_id, at=at, kind=kind, source_id=source_id,
                                 changed_by=uow.ctx.actor))
    digest = blind_index(uow, "tobacco_order_phone", phone)
    if await uow.exists(PhoneKey).where(PhoneKey.customer_id == customer_id):
        await uow.update(PhoneKey, {PhoneKey.digest: digest}).where(PhoneKey.customer_id == customer_id)
    else:
        await uow.insert(PhoneKey(customer_id=customer_id, digest=digest))
    if kind == "revert":  # a temporary change and its revert are one change
        return
    count = await uow.count(PhoneChange).where(
        (PhoneChange.customer_id == customer_id) & (PhoneChange.kind != "revert") & (PhoneChange.kind != "first")
        & (PhoneChange.at > policy.month_window_start(at)))
    if kind != "first" and policy.watched(count, int(parameters["phone_change_watch_count"])):
        if await uow.exists(Watch).where(Watch.customer_id == customer_id):
            await uow.update(Watch, {Watch.last_change_at: at, Watch.changes: count}).where(
                Watch.customer_id == customer_id)
        else:
            await uow.insert(Watch(customer_id=customer_id, added_at=at, last_change_at=at, changes=count))
        await record(uow, "tobacco.watch_listed", "customer", customer_id, {"changes_in_month": count})
        await emit(uow, "tobacco.watch_listed", "customer", customer_id, ["changes"])


# --- temporary changes (Art8, Art9, Art11, Art12) ------------------------------------------------------


async def apply_temporary(ctx: Any, customer_id: UUID, *, kind: str, reason: str,
                          phone: str | None = None) -> dict[str, Any]:
    """A temporary change: ordering by phone during a system or device failure (Art11), an order phone
    while both phones are faulty (Art12), cash while the card cannot be debited (Art8, Art9). It reverts
    by itself one working day after the customer's order."""
    _tenant_wide(ctx, rules.MAINTAIN)
    kind = _choice(kind, "kind", policy.TEMPORARY_KINDS)
    reason = _choice(reason, "reason", policy.TEMPORARY_KINDS[kind])
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx, write=False) as uow:
        await _values(uow, customer_id)
        open_change = await uow.select(TemporaryChange.id, TemporaryChange.sealed).where(
            (TemporaryChange.customer_id == customer_id) & (TemporaryChange.kind == kind)
            & TemporaryChange.state.is_in(["applied", "ordered"])).first()
        if open_change is not None:
            wanted = "phone" if kind == "ordering_method" else "cash" if kind == "settlement_method" else phone
            if unseal(uow, TEMPORARY_SEAL, open_change["sealed"])["temporary"] != wanted:
                raise KehuError("TOBACCO_TEMPORARY_CHANGE_OPEN", f"a temporary {kind} change of this customer is still "
                                "open", f"该客户的临时 {kind} 变更尚未恢复", field="kind")
            opened = open_change["id"]  # the same temporary change again: the open one stands
        else:
            opened = None
    if opened is not None:
        return await temporary_change(ctx, opened)
    async with unit_of_work(ctx) as uow:
        # read again with the version the write is guarded by: one made meanwhile is not doubled
        version, current = await _values(uow, customer_id)
        if await uow.exists(TemporaryChange).where(
                (TemporaryChange.customer_id == customer_id) & (TemporaryChange.kind == kind)
                & TemporaryChange.state.is_in(["applied", "ordered"])):
            raise KehuError("TOBACCO_TEMPORARY_CHANGE_OPEN", f"a temporary {kind} change of this customer is still "
                            "open", f"该客户的临时 {kind} 变更尚未恢复", field="kind")
        if kind == "ordering_method":
            if current.get("ordering_method") in (None, "phone"):
                raise KehuError("TOBACCO_TEMPORARY_CHANGE_POINTLESS", "the customer already orders by phone",
                                "该客户已为电话订货", field="kind")
            field, temporary = "ordering_method", "phone"
        elif kind == "settlement_method":
            if current.get("settlement_method") not in rules.ELECTRONIC_SETTLEMENT:
                raise KehuError("TOBACCO_TEMPORARY_CHANGE_POINTLESS", "the customer already settles in cash",
                                "该客户已为现金结算", field="kind")
            field, temporary = "settlement_method", "cash"
        else:
            field, temporary = "order_phone", _text(phone, "phone", 20)
            if current.get("order_phone") in (None, ""):
                raise KehuError("TOBACCO_TEMPORARY_CHANGE_POINTLESS", "the customer has no order phone to replace",
                                "该客户尚无订货电话", field="kind")
            await _refuse_duplicate_phone(uow, customer_id, temporary)
        change_id = uuid4()
        await update_customer_extensions(uow, VERTICAL, customer_id, {field: temporary}, version=version,
                                         reason=f"temporary change ({reason})")
        await uow.insert(TemporaryChange(id=change_id, customer_id=customer_id, kind=kind, reason=reason,
                                         sealed=seal(uow, TEMPORARY_SEAL, {"original": current.get(field),
                                                                           "temporary": temporary}),
                                         state="applied", applied_by=ctx.actor, applied_at=now()))
        if kind == "order_phone":
            await _phone_changed(uow, customer_id, temporary, "temporary", change_id, parameters)
        await record(uow, "tobacco.temporary_change_applied", "tobacco_temporary_change", change_id,
                     {"customer_id": str(customer_id), "kind": kind, "reason": reason})
        await emit(uow, "tobacco.temporary_change_applied", "tobacco_temporary_change", change_id, ["state"])
    return await temporary_change(ctx, change_id)


async def temporary_change(ctx: Any, change_id: UUID) -> dict[str, Any]:
    _reads(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(*_TEMPORARY_COLUMNS).where(TemporaryChange.id == change_id).first() \
            if isinstance(change_id, UUID) else None
    if row is None:
        raise _not_found("temporary", change_id)
    return row


_TEMPORARY_COLUMNS = (TemporaryChange.id, TemporaryChange.customer_id, TemporaryChange.kind, TemporaryChange.reason,
                      TemporaryChange.state, TemporaryChange.applied_at, TemporaryChange.applied_by,
                      TemporaryChange.ordered_at, TemporaryChange.revert_at, TemporaryChange.revert_due_at,
                      TemporaryChange.reverted_at, TemporaryChange.failure)


async def record_order(ctx: Any, customer_id: UUID, at: datetime) -> int:
    """The customer ordered (the ordering system tells kehu): its open temporary changes revert from
    the next working day's opening and are overdue after that day's close (Art11, Art12). Returns how
    many changes now wait to revert."""
    _tenant_wide(ctx, rules.MAINTAIN)
    if not isinstance(at, datetime) or at.tzinfo is None or at > now():
        raise _invalid("at", "the order time has its time-zone offset and is not in the future",
                       "订货时间须带时区且不晚于当前时间")
    calendar = await tenant_calendar(ctx)
    revert_at, due = policy.revert_times(at, calendar)
    async with unit_of_work(ctx) as uow:
        await _values(uow, customer_id)
        rows = await uow.update(TemporaryChange, {TemporaryChange.state: "ordered", TemporaryChange.ordered_at: at,
                                                  TemporaryChange.revert_at: revert_at,
                                                  TemporaryChange.revert_due_at: due}).where(
            (TemporaryChange.customer_id == customer_id) & (TemporaryChange.state == "applied")
            & (TemporaryChange.applied_at <= at)).returning(TemporaryChange.id)
        await record(uow, "tobacco.order_recorded", "customer", customer_id,
                     {"ordered_at": at.isoformat(), "temporary_changes": [str(row["id"]) for row in rows]})
    return len(rows)


async def revert_due(ctx: Any, at: datetime, *, batch: int = 200) -> int:
    """Revert the temporary changes whose customers ordered (the tick). A change whose field was changed
    since (a special change) or whose customer can no longer be processed is not reverted: it is
    marked unreverted with the reason and appears in the report."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(TemporaryChange.id).where(
            (TemporaryChange.state == "ordered") & (TemporaryChange.revert_at <= at)).order_by(
            TemporaryChange.revert_at).limit(batch)
    handled = 0
    for row in rows:
        handled += await revert_due_one(ctx, row["id"], at, parameters)
    return handled


async def revert_due_one(ctx: Any, change_id: UUID | str, at: datetime,
                         parameters: Mapping[str, Any] | None = None) -> int:
    """Revert one ordered temporary change in its own unit of work; a refusal (the customer's record
    changed under it, …) writes nothing of the revert and marks it unreverted with the code."""
    change_id = UUID(str(change_id))
    parameters = parameters or await tenant_parameters(ctx, VERTICAL)
    try:
        async with unit_of_work(ctx) as uow:
            return await _revert_one(uow, change_id, at, parameters)
    except KehuError as refused:
        async with unit_of_work(ctx) as uow:
            await _mark_unreverted(uow, change_id, refused.code.lower()[:40], at)
        return 1


async def _revert_one(uow: Any, change_id: UUID, at: datetime, parameters: Mapping[str, Any]) -> int:
    change = await uow.select(TemporaryChange).where((TemporaryChange.id == change_id) & (TemporaryChange.state == "ordered")).first()
    if change is None:
        return 0  # another tick got it
    customer_id = change["customer_id"]
    if customer_id in await customers_out_of_processing(uow, [customer_id]):
        await _mark_unreverted(uow, change_id, "customer_not_processable", at)
        return 1
    values = unseal(uow, TEMPORARY_SEAL, change["sealed"])
    field = {"ordering_method": "ordering_method", "order_phone": "order_phone",
             "settlement_method": "settlement_method"}[change["kind"]]
    version, current = await _values(uow, customer_id)
    if current.get(field) != values["temporary"]:
        await _mark_unreverted(uow, change_id, "changed_since", at)
        return 1
    await update_customer_extensions(uow, VERTICAL, customer_id, {field: values["original"]}, version=version,
                                     reason="temporary change reverted (S21 Art11, Art12)")
    await uow.update(TemporaryChange, {TemporaryChange.state: "reverted", TemporaryChange.reverted_at: at}).where(
        TemporaryChange.id == change_id)
    if change["kind"] == "order_phone" and values["original"]:
        await _phone_changed(uow, customer_id, str(values["original"]), "revert", change_id, parameters)
    await record(uow, "tobacco.temporary_change_reverted", "tobacco_temporary_change", change_id, {"kind": change["kind"]})
    await emit(uow, "tobacco.temporary_change_reverted", "tobacco_temporary_change", change_id, ["state"])
    return 1


async def _mark_unreverted(uow: Any, change_id: UUID, failure: str, at: datetime) -> None:
    await uow.update(TemporaryChange, {TemporaryChange.state: "unreverted", TemporaryChange.failure: failure}).where(
        (TemporaryChange.id == change_id) & (TemporaryChange.state == "ordered"))
    await record(uow, "tobacco.temporary_change_unreverted", "tobacco_temporary_change", change_id,
                 {"failure": failure})
    await emit(uow, "tobacco.temporary_change_unreverted", "tobacco_temporary_change", change_id, ["state", "failure"])


# --- special changes (Art9–Art14) ----------------------------------------------------------------------


def _check_values(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a special change of ``kind`` carries, checked (the rest of the master data stays)."""
    values = dict(values or {})
    allowed = {"settlement_to_cash": set(), "settlement_bank": {"bank", "card_number", "settlement_name",
                                                                "sealed_authority", "method"},
               "ordering_method": {"ordering_method", "agreement_until"}, "long_term_phone": {"order_phone"},
               "duplicate_phone": {"order_phone"}, "grade": {"grade"},
               "urgent_route": {"delivery_route", "delivery_sequence", "visit_route", "visit_batch"}}[kind]
    extra = sorted(set(values) - allowed)
    if extra:
        raise _invalid(f"values.{extra[0]}", f"a {kind} change carries only {', '.join(sorted(allowed)) or 'nothing'}",
                       f"{kind} 变更只可包含 {'、'.join(sorted(allowed)) or '无'}")
    if kind == "settlement_bank":
        _choice(values.get("bank"), "values.bank", rules.SETTLEMENT_BANKS)
        values["method"] = _choice(values.get("method", "debit_card"), "values.method", rules.ELECTRONIC_SETTLEMENT)
        _text(values.get("card_number"), "values.card_number", 24)
        _text(values.get("settlement_name"), "values.settlement_name", 50)
        values["sealed_authority"] = bool(values.get("sealed_authority"))
    elif kind == "ordering_method":
        _choice(values.get("ordering_method"), "values.ordering_method", rules.ORDERING_METHODS)
    elif kind in ("long_term_phone", "duplicate_phone"):
        _text(values.get("order_phone"), "values.order_phone", 20)
    elif kind == "grade":
        _text(values.get("grade"), "values.grade", 8)
    elif kind == "urgent_route" and not values:
        raise _invalid("values", "an urgent route change names the route, sequence or batch it sets",
                       "紧急线路调整须写明调整后的线路、顺序或批次")
    return values


async def request_change(ctx: Any, customer_id: UUID, *, kind: str, application_ref: str, reason: str,
                         values: Mapping[str, Any]) -> dict[str, Any]:
    """A special change on the customer's written application (or the account manager's or delivery
    person's for an urgent route): recorded with what it will set, waiting for its two sign-offs."""
    _tenant_wide(ctx, rules.REQUEST)
    kind = _choice(kind, "kind", policy.SPECIAL_CHANGES)
    if not isinstance(application_ref, str) or not application_ref.strip():
        raise KehuError("TOBACCO_WRITTEN_APPLICATION_REQUIRED", "a special change needs the customer's written "
                        "application (its form number) (S21 Art9–Art14)", "特殊变更须有客户书面申请（填写申请表编号）",
                        field="applicationRef")
    application_ref = _text(application_ref, "applicationRef", MAX_REF)
    reason = _text(reason, "reason", MAX_REASON)
    checked = _check_values(kind, values)
    _calendar, today = await _today(ctx)
    async with unit_of_work(ctx) as uow:
        _version, current = await _values(uow, customer_id)
        if kind == "settlement_to_cash" and current.get("settlement_method") not in rules.ELECTRONIC_SETTLEMENT:
            raise KehuError("TOBACCO_CHANGE_POINTLESS", "the customer does not settle electronically", "该客户非电子结算",
                            field="kind")
        if kind == "settlement_bank":
            policy.check_settlement(checked["method"], settlement_name=checked["settlement_name"],
                                    legal_person=current.get("licence_legal_person"),
                                    sealed_authority=checked["sealed_authority"])
        if kind == "ordering_method" and policy.ordering_locked(current, today):
            raise KehuError("TOBACCO_ORDERING_AGREEMENT_PERIOD", "a mobile or 烟信通 customer keeps the ordering method "
                            "for its agreement period (S21 Art11)", "手机、烟信通客户协议期内不得变更订货方式（第十一条）",
                            field="kind")
        if kind == "long_term_phone":
            await _refuse_duplicate_phone(uow, customer_id, checked["order_phone"])
        change_id = uuid4()
        await uow.insert(Change(id=change_id, customer_id=customer_id, kind=kind, state="requested",
                                application_ref=application_ref, reason=reason,
                                sealed=seal(uow, CHANGE_SEAL, checked), requested_by=ctx.actor, requested_at=now()))
        await record(uow, "tobacco.change_requested", "tobacco_change", change_id,
                     {"customer_id": str(customer_id), "kind": kind, "application_ref": application_ref})
        await emit(uow, "tobacco.change_requested", "tobacco_change", change_id, ["state"])
    return await change(ctx, change_id)


_CHANGE_COLUMNS = (Change.id, Change.customer_id, Change.kind, Change.state, Change.application_ref, Change.reason,
                   Change.requested_by, Change.requested_at, Change.first_role, Change.first_by, Change.first_at,
                   Change.second_role, Change.second_by, Change.second_at, Change.rejected_by,
                   Change.execute_due_at, Change.executed_by, Change.executed_at, Change.filed_by, Change.filed_at,
                   Change.version, Change.visited_at)


async def change(ctx: Any, change_id: UUID) -> dict[str, Any]:
    _reads(ctx)
    days = int((await tenant_parameters(ctx, VERTICAL))["duplicate_phone_visit_days"])
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(*_CHANGE_COLUMNS).where(Change.id == change_id).first() \
            if isinstance(change_id, UUID) else None
    if row is None:
        raise _not_found("change", change_id)
    return {**row, "visit_due_at": policy.visit_due(row, days)}


async def sign_change(ctx: Any, change_id: UUID, *, role: str, approve: bool, note: str | None = None) -> dict[str, Any]:
    """One of the two sign-offs, or a rejection by either signer (Art9–Art14): the signer holds the
    role's permission and is neither the applicant nor the other signer. After both, the analyst has
    one working day to execute."""
    role = _choice(role, "role", policy.SIGN_OFF_ROLES)
    held = [r for r, permission in policy.ROLE_PERMISSION.items() if _holds(ctx, permission)]
    if not held:
        require_permission(ctx, policy.ROLE_PERMISSION[role])
    calendar, today = await _today(ctx)
    days = int((await tenant_parameters(ctx, VERTICAL))["change_execution_working_days"])
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Change).where(Change.id == change_id).first() if isinstance(change_id, UUID) else None
        if row is None:
            raise _not_found("change", change_id)
        if row["state"] != "requested":
            raise KehuError("TOBACCO_CHANGE_STATE", f"the change is {row['state']}, not waiting for sign-offs",
                            f"该变更状态为 {row['state']}，不在待签批状态", field="id")
        policy.check_sign_off(row, kind=row["kind"], role=role, signer=ctx.actor, roles_held=held)
        at = now()
        if not approve:
            updates = {Change.state: "rejected", Change.rejected_by: ctx.actor}
        else:
            first = row["first_role"] is None
            updates = {Change.first_role: role, Change.first_by: ctx.actor, Change.first_at: at} if first else \
                {Change.second_role: role, Change.second_by: ctx.actor, Change.second_at: at}
            signed = {**row, "first_role": role} if first else {**row, "second_role": role}
            if policy.fully_signed(signed, row["kind"]):
                updates |= {Change.state: "approved",
                            Change.execute_due_at: policy.close_of(calendar.add_working_days(today, days), calendar)}
        done = await uow.update(Change, {**updates, Change.version: row["version"] + 1}).where(
            (Change.id == change_id) & (Change.version == row["version"])).returning(Change.id)
        if not done:
            raise KehuError("VERSION_CONFLICT", "the change was signed meanwhile; read it again", "该变更已被他人签批，请刷新",
                            field="id")
        action = "tobacco.change_signed" if approve else "tobacco.change_rejected"
        await record(uow, action, "tobacco_change", change_id, {"role": role, "note_given": bool(note)})
        await emit(uow, action, "tobacco_change", change_id, ["state"])
    return await change(ctx, change_id)


async def execute_change(ctx: Any, change_id: UUID) -> dict[str, Any]:
    """The analyst carries out a change both signers approved (the section chief a grade change,
    Art14); the values go through the same checks as when requested."""
    if not _holds(ctx, rules.GRADE_CHANGE):
        _tenant_wide(ctx, rules.MAINTAIN)  # refused before anything is read
    async with unit_of_work(ctx, write=False) as uow:
        kind_row = await uow.select(Change.kind).where(Change.id == change_id).first() \
            if isinstance(change_id, UUID) else None
    if kind_row is None:
        raise _not_found("change", change_id)
    _tenant_wide(ctx, rules.GRADE_CHANGE if kind_row["kind"] == "grade" else rules.MAINTAIN)
    parameters = await tenant_parameters(ctx, VERTICAL)
    calendar, today = await _today(ctx)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Change).where(Change.id == change_id).first()
        if row is None:
            raise _not_found("change", change_id)
        policy.check_executable(row, row["kind"])
        customer_id = row["customer_id"]
        version, current = await _values(uow, customer_id)
        values = unseal(uow, CHANGE_SEAL, row["sealed"])
        kind = row["kind"]
        if kind == "grade":
            await assign_grade(uow, VERTICAL, GRADE_SCHEME, customer_id, values["grade"],
                               reason=f"grade change {row['application_ref']} (S21 Art14)", source="tobacco.change")
        else:
            updates = _updates(kind, values, current, today)
            await update_customer_extensions(uow, VERTICAL, customer_id, updates, version=version,
                                             reason=f"special change {row['application_ref']} ({kind})")
            if "order_phone" in updates:
                await _phone_changed(uow, customer_id, str(updates["order_phone"]),
                                     "duplicate" if kind == "duplicate_phone" else "long_term", change_id, parameters)
            if "ordering_method" in updates:
                await _derived_deadlines(uow, customer_id, current, {**current, **updates}, calendar, parameters,
                                         today)
        at = now()
        await uow.update(Change, {Change.state: "executed", Change.executed_by: ctx.actor, Change.executed_at: at,
                                  Change.version: row["version"] + 1}).where(Change.id == change_id)
        await record(uow, "tobacco.change_executed", "tobacco_change", change_id,
                     {"kind": kind, "late": bool(row["execute_due_at"] and at > row["execute_due_at"])})
        await emit(uow, "tobacco.change_executed", "tobacco_change", change_id, ["state"])
    return await change(ctx, change_id)


def _updates(kind: str, values: Mapping[str, Any], current: Mapping[str, Any], today: date) -> dict[str, Any]:
    if kind == "settlement_to_cash":
        return {"settlement_method": "cash", "settlement_bank": None, "card_number": None, "settlement_name": None}
    if kind == "settlement_bank":
        policy.check_settlement(values["method"], settlement_name=values["settlement_name"],
                                legal_person=current.get("licence_legal_person"),
                                sealed_authority=values["sealed_authority"])
        return {"settlement_method": values["method"], "settlement_bank": values["bank"],
                "card_number": values["card_number"], "settlement_name": values["settlement_name"]}
    if kind == "ordering_method":
        if policy.ordering_locked(current, today):
            raise KehuError("TOBACCO_ORDERING_AGREEMENT_PERIOD", "a mobile or 烟信通 customer keeps the ordering method "
                            "for its agreement period (S21 Art11)", "手机、烟信通客户协议期内不得变更订货方式（第十一条）",
                            field="id")
        until = values.get("agreement_until")
        return {"ordering_method": values["ordering_method"],
                "ordering_agreement_until": until if values["ordering_method"] in ("mobile", "yixintong") else None}
    if kind in ("long_term_phone", "duplicate_phone"):
        return {"order_phone": values["order_phone"]}
    return {name: values[name] for name in ("delivery_route", "delivery_sequence", "visit_route", "visit_batch")
            if name in values}


async def file_change(ctx: Any, change_id: UUID) -> dict[str, Any]:
    """The internal-management section files an executed change (Art12 duplicate phones, Art14 grades)."""
    _tenant_wide(ctx, rules.FILE)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Change.state, Change.version).where(Change.id == change_id).first() \
            if isinstance(change_id, UUID) else None
        if row is None:
            raise _not_found("change", change_id)
        if row["state"] != "executed":
            raise KehuError("TOBACCO_CHANGE_STATE", "only an executed change is filed", "仅已执行的变更可备案", field="id")
        await uow.update(Change, {Change.state: "filed", Change.filed_by: ctx.actor, Change.filed_at: now(),
                                  Change.version: row["version"] + 1}).where(Change.id == change_id)
        await record(uow, "tobacco.change_filed", "tobacco_change", change_id, {})
        await emit(uow, "tobacco.change_filed", "tobacco_change", change_id, ["state"])
    return await change(ctx, change_id)
