"""Vehicles, keys, test drives and inventory on the sales floor (seed 003 R6-45 to R6-60).

- A **vehicle** (商品车 stock / 展车 show / 试驾车 test) is registered by the 5S officer with its VIN,
  model, kind and location (4S store, second-tier store 二级店, main warehouse 大库, in transit 在途);
  its inventory age counts from the arrival date. The PDI result and a transport damage found on
  arrival are recorded; the damage opens a claim, which the sales manager closes as recovered or
  unrecovered (an unrecovered claim is an R6-45 fine of the amount the manager states).
- The **inventory board** (库存看板) lists the cars in stock and in transit with location, age and
  the reserved mark 「该车已订」 (R6-23); it never shows a sold price (R6-35). The board is the
  vehicle table itself, so every change updates it; R6-57's lapse report lists cars the board still
  shows in transit after their expected arrival date.
- The orders module calls :func:`vehicle_by_vin`, :func:`reserve_vehicle`,
  :func:`release_reservation`, :func:`deliver_vehicle` and :func:`issue_tools` inside its own unit of
  work; they check no permission (the caller does).
- **Keys** (R6-47, R6-51A/D, R6-53): the 5S officer keeps them; a consultant takes one through the
  key-use register (钥匙领用登记表) and the officer records it back.
- **Test drives** (R6-51), **second-tier recalls** (R6-54/R6-55), **inventory reports** (R6-46),
  **approved non-test uses** (R6-49/R6-50) and **main-warehouse visits** (R6-58).

Fines land in the penalty ledger through :func:`plugins.automotive.penalties.add_penalty`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Boolean, Date, Text, Timestamptz, Varchar

from core.plugins import (
    EventType,
    KehuError,
    Parameter,
    ParameterKind,
    Permission,
    TenantTable,
    customer_record,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_calendar,
    tenant_parameters,
    tenant_table_migration,
    tenant_user,
    tick,
    unit_of_work,
)
from plugins.automotive import clock
from plugins.automotive.common import VERTICAL, choice, invalid, text, user_id_of
from plugins.automotive.penalties import Penalty, add_penalty
from plugins.automotive.vehicles import vin_problem

KINDS = ("stock", "show", "test")
LOCATIONS = ("4s", "second_tier", "main_warehouse", "in_transit")
KEY_PURPOSES = ("test_drive", "show", "commute", "cash_run", "transfer")
APPROVED_USES = ("commute", "cash_run")  # R6-49, R6-50: need the manager's approval first
SLOTS = ("morning", "afternoon")
RESERVED_MARK = "该车已订"
# R6-52: tools are issued at delivery only; "at delivery" is within this time of the car's delivery.
TOOLS_AT_DELIVERY = timedelta(hours=2)

PERMISSIONS = (
    Permission("automotive.stock.approve", "approve a car's non-test use, close transport-damage claims, designate "
               "the 5S officer, record main-warehouse visits and lost tools (销售经理)",
               "批准车辆非试驾用途、关闭运输质损索赔、指定5S专员、登记带客户去大库及工具遗失（销售经理）"),
    Permission("automotive.stock.reallocate", "inspect and reallocate second-tier store cars (二级店当地经销人员, R6-55)",
               "检查并调拨二级店车辆（二级店当地经销人员，R6-55）"),
    Permission("automotive.tools.keep", "keep and issue tools and warranty books (销售助理, R6-52, R6-56)",
               "保管及发放工具、质保书（销售助理，R6-52、R6-56）"),
)

PARAMETERS = (
    Parameter("second_tier_recall_days", ParameterKind.INTEGER, 30,
              "Days a car may stay at a second-tier store before it must be recalled (R6-54)",
              "二级店车辆须召回4S店的在库天数（R6-54）", minimum=1, maximum=365, unit="days"),
    Parameter("test_drive_key_return_minutes", ParameterKind.INTEGER, 5,
              "Minutes after a test drive within which its key is back (R6-51D)",
              "试驾结束后须归还钥匙的分钟数（R6-51D）", minimum=1, maximum=240, unit="minutes"),
    Parameter("inventory_report_morning_minute", ParameterKind.INTEGER, 9 * 60,
              "Minute of the day (local) before which the morning inventory report is due (R6-46; 540 = 9:00)",
              "上午库存报告截止时间（当天第几分钟，R6-46；540 即 9:00）", minimum=0, maximum=1439, unit="minutes"),
    Parameter("inventory_report_afternoon_minute", ParameterKind.INTEGER, 17 * 60,
              "Minute of the day (local) before which the afternoon inventory report is due (R6-46; 1020 = 17:00)",
              "下午库存报告截止时间（当天第几分钟，R6-46；1020 即 17:00）", minimum=0, maximum=1439, unit="minutes"),
)

EVENT_TYPES = (
    EventType("automotive.vehicle_registered", "automotive_vehicle", "vin, kind, location", "a car entered the stock"),
    EventType("automotive.vehicle_moved", "automotive_vehicle", "location, arrived_on", "a car moved or arrived"),
    EventType("automotive.vehicle_pdi_recorded", "automotive_vehicle", "pdi_passed, claim_state",
              "the PDI result and any transport damage (R6-45)"),
    EventType("automotive.vehicle_claim_closed", "automotive_vehicle", "claim_state",
              "a transport-damage claim recovered or not (R6-45)"),
    EventType("automotive.vehicle_reserved", "automotive_vehicle", "reserved_order_id", "a car reserved (R6-23)"),
    EventType("automotive.vehicle_released", "automotive_vehicle", "reserved_order_id", "a reservation released"),
    EventType("automotive.vehicle_delivered", "automotive_vehicle", "delivered_order_id, key_state",
              "a car delivered, its key handed out"),
    EventType("automotive.vehicle_tools", "automotive_vehicle", "tools_state", "tools issued at delivery or lost "
              "(R6-52, R6-56)"),
    EventType("automotive.key_taken", "automotive_key_use", "vehicle_id, user_id, purpose", "a key out (R6-51A)"),
    EventType("automotive.key_returned", "automotive_key_use", "returned_at", "a key back"),
    EventType("automotive.key_lost", "automotive_key_use", "lost_at", "a key lost (R6-47)"),
    EventType("automotive.test_drive_started", "automotive_test_drive", "vehicle_id, consultant_id, guide_id",
              "a test drive began (R6-51)"),
    EventType("automotive.test_drive_ended", "automotive_test_drive", "ended_at, paperwork_complete",
              "a test drive ended (R6-51C)"),
    EventType("automotive.vehicle_use_approved", "automotive_vehicle_use", "purpose, user_id",
              "a commute or cash run approved (R6-49, R6-50)"),
    EventType("automotive.inventory_reported", "automotive_inventory_report", "day, slot, late",
              "the 5S officer's inventory report (R6-46)"),
    EventType("automotive.stock_officer_designated", "automotive_stock_officer", "user_id",
              "the 5S officer answering for keys, recalls and reports"),
    EventType("automotive.vehicle_inspected", "automotive_vehicle_inspection", "passed",
              "a second-tier store car inspected before reallocation (R6-55)"),
    EventType("automotive.warehouse_visit_recorded", "automotive_warehouse_visit", "consultant_id",
              "a customer taken to the main warehouse (R6-58)"),
)


class Vehicle(TenantTable, tablename="automotive_vehicle"):
    vin = Varchar(length=17)
    model = Varchar(length=100)
    kind = Varchar(length=8)
    location = Varchar(length=16)
    location_since = Date()  # the day it came to its location (R6-54 counts from it at a second-tier store)
    arrived_on = Date(null=True, default=None)  # arrival at the dealer; inventory age counts from it
    expected_on = Date(null=True, default=None)  # expected arrival while in transit (R6-57's lapses)
    pdi_passed = Boolean(null=True, default=None)
    pdi_note = Text(null=True, default=None)
    pdi_at = Timestamptz(null=True, default=None)
    damage_note = Text(null=True, default=None)
    claim_state = Varchar(length=12, null=True, default=None)  # open | recovered | unrecovered
    claim_note = Text(null=True, default=None)
    key_state = Varchar(length=12, default="kept")  # kept (5S officer) | out | lost | handed_over
    tools_state = Varchar(length=12, default="kept")  # kept (assistant) | issued | lost
    tools_at = Timestamptz(null=True, default=None)
    reserved_order_id = UUIDColumn(null=True, default=None)
    reserved_at = Timestamptz(null=True, default=None)
    delivered_order_id = UUIDColumn(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class KeyUse(TenantTable, tablename="automotive_key_use"):
    vehicle_id = UUIDColumn()
    user_id = UUIDColumn()
    purpose = Varchar(length=12)
    order_id = UUIDColumn(null=True, default=None)
    taken_at = Timestamptz()
    returned_at = Timestamptz(null=True, default=None)
    returned_to = Varchar(length=100, null=True, default=None)
    lost_at = Timestamptz(null=True, default=None)


class TestDrive(TenantTable, tablename="automotive_test_drive"):
    vehicle_id = UUIDColumn()
    key_use_id = UUIDColumn()
    consultant_id = UUIDColumn()
    customer_id = UUIDColumn()
    guide_id = UUIDColumn()
    agreement = Boolean()
    licence_copy = Boolean()
    confirmation = Boolean(null=True, default=None)
    survey_report = Boolean(null=True, default=None)
    started_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    key_due_at = Timestamptz(null=True, default=None)
    paperwork_complete = Boolean(null=True, default=None)


class VehicleUse(TenantTable, tablename="automotive_vehicle_use"):
    vehicle_id = UUIDColumn()
    user_id = UUIDColumn()
    purpose = Varchar(length=12)
    escort_id = UUIDColumn(null=True, default=None)
    note = Text()
    approved_by = Varchar(length=100)
    approved_at = Timestamptz()
    key_use_id = UUIDColumn(null=True, default=None)


class InventoryReport(TenantTable, tablename="automotive_inventory_report"):
    day = Date()
    slot = Varchar(length=10)
    reported_at = Timestamptz()
    reported_by = UUIDColumn()
    late = Boolean()
    note = Text()


class StockOfficer(TenantTable, tablename="automotive_stock_officer"):
    user_id = UUIDColumn()
    since = Timestamptz()
    designated_by = Varchar(length=100)


class Inspection(TenantTable, tablename="automotive_vehicle_inspection"):
    vehicle_id = UUIDColumn()
    passed = Boolean()
    note = Text()
    inspected_by = UUIDColumn()
    at = Timestamptz()


class WarehouseVisit(TenantTable, tablename="automotive_warehouse_visit"):
    consultant_id = UUIDColumn()
    customer_id = UUIDColumn(null=True, default=None)
    officer_id = UUIDColumn(null=True, default=None)
    note = Text()
    at = Timestamptz()
    recorded_by = Varchar(length=100)


TABLES = (Vehicle, KeyUse, TestDrive, VehicleUse, InventoryReport, StockOfficer, Inspection, WarehouseVisit)
_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(41, "the sales floor's vehicles and inventory board", "automotive_vehicle", [
        "vin VARCHAR(17) NOT NULL", "model VARCHAR(100) NOT NULL", "kind VARCHAR(8) NOT NULL",
        "location VARCHAR(16) NOT NULL", "location_since DATE NOT NULL", "arrived_on DATE", "expected_on DATE",
        "pdi_passed BOOLEAN", "pdi_note TEXT", "pdi_at TIMESTAMPTZ", "damage_note TEXT", "claim_state VARCHAR(12)",
        "claim_note TEXT", "key_state VARCHAR(12) NOT NULL DEFAULT 'kept'",
        "tools_state VARCHAR(12) NOT NULL DEFAULT 'kept'", "tools_at TIMESTAMPTZ", "reserved_order_id UUID",
        "reserved_at TIMESTAMPTZ", "delivered_order_id UUID", "delivered_at TIMESTAMPTZ",
        "updated_at TIMESTAMPTZ NOT NULL",
    ], unique=(("vin",),), indexes=(("location", "location_since"), ("updated_at",))),
    tenant_table_migration(42, "the key-use register (钥匙领用登记表)", "automotive_key_use", [
        "vehicle_id UUID NOT NULL", "user_id UUID NOT NULL", "purpose VARCHAR(12) NOT NULL", "order_id UUID",
        "taken_at TIMESTAMPTZ NOT NULL", "returned_at TIMESTAMPTZ", f"returned_to {_WHO}", "lost_at TIMESTAMPTZ",
    ], indexes=(("vehicle_id", "taken_at"), ("user_id", "taken_at")),
        references=(("vehicle_id", "automotive_vehicle"),)),
    tenant_table_migration(43, "test drives and their paperwork", "automotive_test_drive", [
        "vehicle_id UUID NOT NULL", "key_use_id UUID NOT NULL", "consultant_id UUID NOT NULL",
        "customer_id UUID NOT NULL", "guide_id UUID NOT NULL", "agreement BOOLEAN NOT NULL",
        "licence_copy BOOLEAN NOT NULL", "confirmation BOOLEAN", "survey_report BOOLEAN",
        "started_at TIMESTAMPTZ NOT NULL", "ended_at TIMESTAMPTZ", "key_due_at TIMESTAMPTZ",
        "paperwork_complete BOOLEAN",
    ], indexes=(("key_use_id",), ("consultant_id", "started_at")),
        references=(("vehicle_id", "automotive_vehicle"), ("key_use_id", "automotive_key_use"))),
    tenant_table_migration(44, "approved non-test uses of a car (R6-49, R6-50)", "automotive_vehicle_use", [
        "vehicle_id UUID NOT NULL", "user_id UUID NOT NULL", "purpose VARCHAR(12) NOT NULL", "escort_id UUID",
        "note TEXT NOT NULL", f"approved_by {_WHO} NOT NULL", "approved_at TIMESTAMPTZ NOT NULL", "key_use_id UUID",
    ], indexes=(("vehicle_id", "user_id"),), references=(("vehicle_id", "automotive_vehicle"),)),
    tenant_table_migration(45, "the twice-daily inventory reports (R6-46)", "automotive_inventory_report", [
        "day DATE NOT NULL", "slot VARCHAR(10) NOT NULL", "reported_at TIMESTAMPTZ NOT NULL",
        "reported_by UUID NOT NULL", "late BOOLEAN NOT NULL", "note TEXT NOT NULL",
    ], unique=(("day", "slot"),)),
    tenant_table_migration(46, "the designated 5S officer", "automotive_stock_officer", [
        "user_id UUID NOT NULL", "since TIMESTAMPTZ NOT NULL", f"designated_by {_WHO} NOT NULL",
    ], indexes=(("since",),)),
    tenant_table_migration(47, "second-tier store car inspections (R6-55)", "automotive_vehicle_inspection", [
        "vehicle_id UUID NOT NULL", "passed BOOLEAN NOT NULL", "note TEXT NOT NULL", "inspected_by UUID NOT NULL",
        "at TIMESTAMPTZ NOT NULL",
    ], indexes=(("vehicle_id", "at"),), references=(("vehicle_id", "automotive_vehicle"),)),
    tenant_table_migration(48, "customers taken to the main warehouse (R6-58)", "automotive_warehouse_visit", [
        "consultant_id UUID NOT NULL", "customer_id UUID", "officer_id UUID", "note TEXT NOT NULL",
        "at TIMESTAMPTZ NOT NULL", f"recorded_by {_WHO} NOT NULL",
    ], indexes=(("at",),)),
)


# --- helpers ---------------------------------------------------------------------------------


def _not_found(vin: str) -> KehuError:
    return KehuError("AUTOMOTIVE_VEHICLE_NOT_FOUND", f"no vehicle with VIN {vin}", f"未找到车架号为 {vin} 的车辆",
                     field="vin")


def _vin(vin: object) -> str:
    problem = vin_problem(vin)
    if problem is not None:
        raise invalid("vin", *problem)
    return str(vin).strip().upper()


def _actor_id(ctx: Any) -> UUID:
    found = user_id_of(ctx.actor) or ctx.user_id
    if found is None:
        raise KehuError("AUTOMOTIVE_USER_REQUIRED", "this is done by a signed-in person", "须由登录的员工办理")
    return found


async def _vehicle(uow: Any, vin: str) -> dict[str, Any]:
    row = await vehicle_by_vin(uow, vin)
    if row is None:
        raise _not_found(vin)
    return row


async def _changed(uow: Any, row: dict[str, Any], changes: dict[Any, Any], event: str, fields: tuple[str, ...],
                   audit: dict[str, Any]) -> dict[str, Any]:
    """Update a vehicle (its board time too), audit and announce it; the fresh row."""
    await uow.update(Vehicle, {**changes, Vehicle.updated_at: clock.now()}).where(Vehicle.id == row["id"])
    await record(uow, event, "automotive_vehicle", row["id"], {"vin": row["vin"], **audit})
    await emit(uow, event, "automotive_vehicle", row["id"], fields)
    return await uow.select(Vehicle).where(Vehicle.id == row["id"]).first()


async def current_officer(uow: Any) -> UUID | None:
    """The 5S officer designated last (who answers for keys kept, recalls and inventory reports)."""
    row = await _officer_row(uow)
    return row["user_id"] if row else None


async def _officer_row(uow: Any) -> dict[str, Any] | None:
    return await uow.select(StockOfficer).order_by(StockOfficer.since, ascending=False).first()


# --- what the orders module calls (inside its unit of work; it checks the permissions) -------


async def vehicle_by_vin(uow: Any, vin: str) -> dict | None:
    """The vehicle with ``vin`` (any case), or None."""
    if not isinstance(vin, str):
        return None
    return await uow.select(Vehicle).where(Vehicle.vin == vin.strip().upper()).first()


async def reserve_vehicle(uow: Any, vin: str, order_id: UUID, *, at: datetime) -> dict:
    """Reserve the car for ``order_id`` (R6-23: the board marks it 「该车已订」); again for the same order
    is fine. ``AUTOMOTIVE_VEHICLE_RESERVED`` when another order holds it,
    ``AUTOMOTIVE_VEHICLE_DELIVERED`` when it left already."""
    row = await _vehicle(uow, vin)
    if row["delivered_at"] is not None:
        raise KehuError("AUTOMOTIVE_VEHICLE_DELIVERED", f"the car {row['vin']} is delivered already",
                        f"车辆 {row['vin']} 已交付", field="vin")
    if row["reserved_order_id"] == order_id:
        return row
    if row["reserved_order_id"] is not None:
        raise KehuError("AUTOMOTIVE_VEHICLE_RESERVED", f"the car {row['vin']} is reserved by another order",
                        f"车辆 {row['vin']} 已被其他订单预订（该车已订）", field="vin")
    done = await uow.update(Vehicle, {Vehicle.reserved_order_id: order_id, Vehicle.reserved_at: at,
                                      Vehicle.updated_at: clock.now()}).where(
        (Vehicle.id == row["id"]) & Vehicle.reserved_order_id.is_null()).returning(Vehicle.id)
    if not done:
        raise KehuError("AUTOMOTIVE_VEHICLE_RESERVED", f"the car {row['vin']} is reserved by another order",
                        f"车辆 {row['vin']} 已被其他订单预订（该车已订）", field="vin")
    await record(uow, "automotive.vehicle_reserved", "automotive_vehicle", row["id"],
                 {"vin": row["vin"], "order_id": order_id})
    await emit(uow, "automotive.vehicle_reserved", "automotive_vehicle", row["id"], ("reserved_order_id",))
    return await uow.select(Vehicle).where(Vehicle.id == row["id"]).first()


async def release_reservation(uow: Any, vin: str, order_id: UUID) -> None:
    """Release the car if ``order_id`` holds it (nothing when it does not; a delivered car stays)."""
    row = await _vehicle(uow, vin)
    if row["reserved_order_id"] != order_id or row["delivered_at"] is not None:
        return
    await _changed(uow, row, {Vehicle.reserved_order_id: None, Vehicle.reserved_at: None},
                   "automotive.vehicle_released", ("reserved_order_id",), {"order_id": order_id})


async def deliver_vehicle(uow: Any, vin: str, order_id: UUID, *, at: datetime) -> None:
    """Mark the car delivered to ``order_id`` with its key handed out (open key uses close at ``at``);
    refuses a car reserved by another order or delivered to another one; again for the same order
    does nothing."""
    row = await _vehicle(uow, vin)
    if row["delivered_at"] is not None:
        if row["delivered_order_id"] == order_id:
            return
        raise KehuError("AUTOMOTIVE_VEHICLE_DELIVERED", f"the car {row['vin']} is delivered to another order",
                        f"车辆 {row['vin']} 已交付给其他订单", field="vin")
    if row["reserved_order_id"] is not None and row["reserved_order_id"] != order_id:
        raise KehuError("AUTOMOTIVE_VEHICLE_RESERVED", f"the car {row['vin']} is reserved by another order",
                        f"车辆 {row['vin']} 已被其他订单预订（该车已订）", field="vin")
    if row["key_state"] == "lost":
        raise KehuError("AUTOMOTIVE_KEY_LOST", f"the key of {row['vin']} is lost; record its replacement first",
                        f"车辆 {row['vin']} 的钥匙已遗失，须先登记补配", field="vin")
    await uow.update(KeyUse, {KeyUse.returned_at: at, KeyUse.returned_to: "delivery"}).where(
        (KeyUse.vehicle_id == row["id"]) & KeyUse.returned_at.is_null() & KeyUse.lost_at.is_null())
    await _changed(uow, row, {Vehicle.delivered_order_id: order_id, Vehicle.delivered_at: at,
                              Vehicle.reserved_order_id: order_id, Vehicle.reserved_at: row["reserved_at"] or at,
                              Vehicle.key_state: "handed_over"},
                   "automotive.vehicle_delivered", ("delivered_order_id", "key_state"), {"order_id": order_id})


async def issue_tools(uow: Any, vin: str, *, at: datetime) -> None:
    """R6-52: the tools and warranty book go with the car at its delivery, never afterwards
    (``AUTOMOTIVE_TOOLS_NOT_AT_DELIVERY`` before the delivery or later than ``TOOLS_AT_DELIVERY``
    after it; ``AUTOMOTIVE_TOOLS_UNAVAILABLE`` when issued already or lost)."""
    row = await _vehicle(uow, vin)
    if row["tools_state"] != "kept":
        raise KehuError("AUTOMOTIVE_TOOLS_UNAVAILABLE", f"the tools of {row['vin']} are {row['tools_state']} already",
                        f"车辆 {row['vin']} 的工具、质保书已发放或遗失", field="vin")
    delivered = row["delivered_at"]
    if delivered is None or not delivered <= at <= delivered + TOOLS_AT_DELIVERY:
        raise KehuError("AUTOMOTIVE_TOOLS_NOT_AT_DELIVERY", "tools and the warranty book are issued at delivery "
                        "only (R6-52)", "工具、质保书只在交车时发放，事后一律不补发（R6-52）", field="vin")
    await _changed(uow, row, {Vehicle.tools_state: "issued", Vehicle.tools_at: at}, "automotive.vehicle_tools",
                   ("tools_state",), {"tools_state": "issued"})


# --- the 5S officer, vehicles, PDI and claims -------------------------------------------------


async def _user(uow: Any, user_id: UUID, field: str) -> UUID:
    if not await tenant_user(uow, user_id):
        raise invalid(field, "no such user in this tenant", "本租户没有该用户")
    return user_id


async def designate_officer(ctx: Any, user_id: UUID) -> dict[str, Any]:
    """The sales manager names the 5S officer who answers for keys kept, second-tier recalls (R6-54),
    inventory reports (R6-46) and main-warehouse visits (R6-58)."""
    require_permission(ctx, "automotive.stock.approve")
    async with unit_of_work(ctx) as uow:
        await _user(uow, user_id, "userId")
        row_id = uuid4()
        await uow.insert(StockOfficer(id=row_id, user_id=user_id, since=clock.now(), designated_by=ctx.actor))
        await record(uow, "automotive.stock_officer_designated", "automotive_stock_officer", row_id, {"user_id": user_id})
        await emit(uow, "automotive.stock_officer_designated", "automotive_stock_officer", row_id, ("user_id",))
        return await uow.select(StockOfficer).where(StockOfficer.id == row_id).first()


async def register_vehicle(ctx: Any, vin: str, model: str, kind: str, location: str, *,
                           arrived_on: date | None = None, expected_on: date | None = None) -> dict[str, Any]:
    """The 5S officer enters a car in the stock: in transit with its expected arrival, else where it
    stands with its arrival date (inventory age counts from it)."""
    require_permission(ctx, "automotive.stock.manage")
    vin = _vin(vin)
    model = text(model, "model", 100)
    kind = choice(kind, "kind", KINDS)
    location = choice(location, "location", LOCATIONS)
    today = clock.now().date()
    if location == "in_transit":
        if arrived_on is not None:
            raise invalid("arrivedOn", "a car in transit has not arrived", "在途车辆尚未到店")
        if expected_on is None:
            raise invalid("expectedOn", "give the expected arrival of a car in transit", "在途车辆须填写预计到店日期")
    else:
        arrived_on = arrived_on or today
        expected_on = None
        if arrived_on > today:
            raise invalid("arrivedOn", "the arrival date lies in the future", "到店日期不能晚于今天")
    async with unit_of_work(ctx) as uow:
        if await vehicle_by_vin(uow, vin) is not None:
            raise KehuError("AUTOMOTIVE_VEHICLE_EXISTS", f"the car {vin} is registered already", f"车辆 {vin} 已登记",
                            field="vin")
        row_id = uuid4()
        await uow.insert(Vehicle(id=row_id, vin=vin, model=model, kind=kind, location=location,
                                 location_since=arrived_on or today, arrived_on=arrived_on, expected_on=expected_on,
                                 updated_at=clock.now()))
        await record(uow, "automotive.vehicle_registered", "automotive_vehicle", row_id,
                     {"vin": vin, "model": model, "kind": kind, "location": location})
        await emit(uow, "automotive.vehicle_registered", "automotive_vehicle", row_id, ("vin", "kind", "location"))
        return await uow.select(Vehicle).where(Vehicle.id == row_id).first()


async def move_vehicle(ctx: Any, vin: str, location: str, *, on: date | None = None) -> dict[str, Any]:
    """A car arrives or moves (the board follows at once, R6-57). R6-55: a car at a second-tier store
    leaves it only by the local dealer staff (``automotive.stock.reallocate``) after an inspection
    that passed, recorded since it came there; other moves are the 5S officer's."""
    try:
        require_permission(ctx, "automotive.stock.manage")
    except KehuError:
        require_permission(ctx, "automotive.stock.reallocate")
    location = choice(location, "location", LOCATIONS)
    vin = _vin(vin)
    today = clock.now().date()
    on = on or today
    if on > today:
        raise invalid("on", "the date lies in the future", "日期不能晚于今天")
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        if row["location"] == "second_tier":
            require_permission(ctx, "automotive.stock.reallocate")
            inspected = await uow.exists(Inspection).where(
                (Inspection.vehicle_id == row["id"]) & (Inspection.passed == True)  # noqa: E712
                & (Inspection.at >= datetime.combine(row["location_since"], time(0), clock.now().tzinfo)))
            if not inspected:
                raise KehuError("AUTOMOTIVE_INSPECTION_REQUIRED", "a second-tier store car is reallocated only after "
                                "an inspection that passed (R6-55)", "二级店车辆须经检查合格后方可调拨（R6-55）", field="vin")
        else:
            require_permission(ctx, "automotive.stock.manage")
        if row["delivered_at"] is not None:
            raise KehuError("AUTOMOTIVE_VEHICLE_DELIVERED", f"the car {vin} is delivered already", f"车辆 {vin} 已交付",
                            field="vin")
        if location == row["location"]:
            raise invalid("location", f"the car is at {location} already", "车辆已在该位置")
        if location == "in_transit" and row["location"] != "in_transit":
            raise invalid("location", "a car in stock goes back in transit only through a transfer (move it to its "
                          "place)", "在库车辆不能改回在途")
        changes: dict[Any, Any] = {Vehicle.location: location, Vehicle.location_since: on}
        if row["arrived_on"] is None:
            changes.update({Vehicle.arrived_on: on, Vehicle.expected_on: None})
        return await _changed(uow, row, changes, "automotive.vehicle_moved", ("location", "arrived_on"),
                              {"from": row["location"], "to": location, "on": on})


async def record_pdi(ctx: Any, vin: str, *, passed: bool, note: str = "", damage: str | None = None) -> dict[str, Any]:
    """R6-45: the arrival inspection (PDI) and any transport damage found, which opens a claim."""
    require_permission(ctx, "automotive.stock.manage")
    vin = _vin(vin)
    note = text(note, "note", 2000, required=False)
    damage = text(damage, "damage", 2000, required=False) or None
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        if row["arrived_on"] is None:
            raise invalid("vin", "the car has not arrived yet", "车辆尚未到店", code="AUTOMOTIVE_VEHICLE_IN_TRANSIT")
        if row["pdi_at"] is not None:
            raise KehuError("AUTOMOTIVE_PDI_RECORDED", "the PDI of this car is recorded already", "该车 PDI 已登记",
                            field="vin")
        changes: dict[Any, Any] = {Vehicle.pdi_passed: passed, Vehicle.pdi_note: note or None,
                                   Vehicle.pdi_at: clock.now()}
        if damage:
            changes.update({Vehicle.damage_note: damage, Vehicle.claim_state: "open"})
        return await _changed(uow, row, changes, "automotive.vehicle_pdi_recorded", ("pdi_passed", "claim_state"),
                              {"passed": passed, "damage": damage})


async def close_claim(ctx: Any, vin: str, *, recovered: bool, note: str, consultant_id: UUID | None = None,
                      amount_cny: int | None = None) -> dict[str, Any]:
    """R6-45: the sales manager closes a transport-damage claim; an unrecovered one is borne by the
    consultant named, as a fine of the amount the manager states."""
    require_permission(ctx, "automotive.stock.approve")
    vin = _vin(vin)
    note = text(note, "note", 2000)
    if not recovered and (consultant_id is None or amount_cny is None or not 1 <= amount_cny <= 100_000):
        raise invalid("amountCny", "an unrecovered claim names the consultant who bears it and the amount "
                      "(1 to 100000)", "未追回的索赔须填写承担的销售顾问及金额（1 至 100000）")
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        if row["claim_state"] != "open":
            raise KehuError("AUTOMOTIVE_CLAIM_NOT_OPEN", "this car has no open transport-damage claim",
                            "该车没有未结的运输质损索赔", field="vin")
        if not recovered:
            await _user(uow, consultant_id, "consultantId")  # type: ignore[arg-type]
            penalty_id = uuid4()
            await uow.insert(Penalty(id=penalty_id, user_id=consultant_id, rule="R6-45", amount_cny=amount_cny,
                                     quantity=1, reason=f"运输质损索赔未追回：{vin}；{note}"[:2000],
                                     source_key=f"claim:{vin}", at=clock.now(), recorded_by=ctx.actor))
            await record(uow, "automotive.penalty_recorded", "automotive_penalty", penalty_id,
                         {"user_id": consultant_id, "rule": "R6-45", "amount_cny": amount_cny})
            await emit(uow, "automotive.penalty_recorded", "automotive_penalty", penalty_id,
                       ("user_id", "rule", "amount_cny"))
        return await _changed(uow, row, {Vehicle.claim_state: "recovered" if recovered else "unrecovered",
                                         Vehicle.claim_note: note}, "automotive.vehicle_claim_closed",
                              ("claim_state",), {"recovered": recovered, "consultant_id": consultant_id})


# --- the inventory board (R6-23, R6-35, R6-57) --------------------------------------------------


def age_days(row: dict[str, Any], today: date) -> int | None:
    """Inventory age: days since the car arrived (None while in transit)."""
    return None if row["arrived_on"] is None else (today - row["arrived_on"]).days


async def board(ctx: Any, window: Any, *, location: str | None = None, kind: str | None = None
                ) -> tuple[list[dict], bool]:
    """The cars in stock and in transit (not delivered), by VIN. No price is ever on it (R6-35)."""
    require_permission(ctx, "automotive.stock.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Vehicle).where(Vehicle.delivered_at.is_null())
        if location is not None:
            query = query.where(Vehicle.location == choice(location, "location", LOCATIONS))
        if kind is not None:
            query = query.where(Vehicle.kind == choice(kind, "kind", KINDS))
        return await fetch_page(query, [Vehicle.vin, Vehicle.id], window)


async def board_updated_at(ctx: Any) -> datetime | None:
    """R6-57: when the board last changed (any car's last change)."""
    require_permission(ctx, "automotive.stock.read")
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(Vehicle.updated_at).order_by(Vehicle.updated_at, ascending=False).first()
        return row["updated_at"] if row else None


async def board_lapses(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    """R6-57's lapse report: cars the board still shows in transit after their expected arrival."""
    require_permission(ctx, "automotive.stock.read")
    today = clock.now().date()
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Vehicle).where((Vehicle.location == "in_transit") & (Vehicle.expected_on < today))
        return await fetch_page(query, [Vehicle.expected_on, Vehicle.id], window)


# --- tools and warranty books (R6-52, R6-56) ---------------------------------------------------


async def issue_tools_at_delivery(ctx: Any, vin: str) -> dict[str, Any]:
    """The assistant hands over the tools and warranty book at delivery (R6-52)."""
    require_permission(ctx, "automotive.tools.keep")
    vin = _vin(vin)
    async with unit_of_work(ctx) as uow:
        await issue_tools(uow, vin, at=clock.now())
        return await _vehicle(uow, vin)


async def tools_lost(ctx: Any, vin: str, user_id: UUID, *, reason: str) -> dict[str, Any]:
    """R6-56: a lost set of tools or warranty book, fined to whoever lost it (the assistant keeping it,
    or the consultant after issue); the sale's performance is the orders module's business."""
    require_permission(ctx, "automotive.stock.approve")
    vin = _vin(vin)
    reason = text(reason, "reason", 2000)
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        await _user(uow, user_id, "userId")
        if row["tools_state"] == "lost":
            raise KehuError("AUTOMOTIVE_TOOLS_UNAVAILABLE", f"the tools of {vin} are recorded lost already",
                            f"车辆 {vin} 的工具、质保书已登记遗失", field="vin")
        await add_penalty(uow, parameters, "R6-56", user_id, reason=f"工具、质保书遗失：{vin}；{reason}",
                          at=clock.now(), source_key=f"tools:{vin}", actor=ctx.actor)
        return await _changed(uow, row, {Vehicle.tools_state: "lost", Vehicle.tools_at: clock.now()},
                              "automotive.vehicle_tools", ("tools_state",), {"tools_state": "lost", "user_id": user_id})


# --- keys (R6-47, R6-51A, R6-53) and approved uses (R6-49, R6-50) ------------------------------


async def approve_use(ctx: Any, vin: str, user_id: UUID, purpose: str, *, note: str,
                      escort_id: UUID | None = None) -> dict[str, Any]:
    """R6-49/R6-50: the sales manager approves a commute or a cash run with a car, before its key goes
    out; a cash run names the escort (arranged by the P-team leader)."""
    require_permission(ctx, "automotive.stock.approve")
    vin = _vin(vin)
    purpose = choice(purpose, "purpose", APPROVED_USES)
    note = text(note, "note", 1000)
    if purpose == "cash_run" and (escort_id is None or escort_id == user_id):
        raise invalid("escortId", "a cash run needs an escort other than the driver (R6-50)", "现金业务用车须另派押运人员（R6-50）")
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        await _user(uow, user_id, "userId")
        if escort_id is not None:
            await _user(uow, escort_id, "escortId")
        use_id = uuid4()
        await uow.insert(VehicleUse(id=use_id, vehicle_id=row["id"], user_id=user_id, purpose=purpose,
                                    escort_id=escort_id, note=note, approved_by=ctx.actor, approved_at=clock.now()))
        await record(uow, "automotive.vehicle_use_approved", "automotive_vehicle_use", use_id,
                     {"vin": vin, "user_id": user_id, "purpose": purpose, "escort_id": escort_id})
        await emit(uow, "automotive.vehicle_use_approved", "automotive_vehicle_use", use_id, ("purpose", "user_id"))
        return await uow.select(VehicleUse).where(VehicleUse.id == use_id).first()


async def take_key(ctx: Any, vin: str, purpose: str, *, order_id: UUID | None = None) -> dict[str, Any]:
    """A consultant fills in the key-use register and takes a key from the 5S officer (R6-51A).

    R6-53: a consultant holding the key of a new (stock) car takes a second one only when both
    entries name an order and the orders differ (2 orders, 2 cars). A commute or cash run needs the
    manager's approval first (R6-49, R6-50), which this key use consumes."""
    require_permission(ctx, "automotive.test_drive.write")
    holder = _actor_id(ctx)
    vin = _vin(vin)
    purpose = choice(purpose, "purpose", KEY_PURPOSES)
    now = clock.now()
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        if row["key_state"] != "kept":
            raise KehuError("AUTOMOTIVE_KEY_UNAVAILABLE", f"the key of {vin} is {row['key_state']}, not with the 5S "
                            "officer", f"车辆 {vin} 的钥匙不在5S专员处", field="vin")
        if row["kind"] == "stock":
            held = await uow.select(KeyUse.order_id).where(
                (KeyUse.user_id == holder) & KeyUse.returned_at.is_null() & KeyUse.lost_at.is_null()
                & KeyUse.vehicle_id.is_in(uow.select(Vehicle.id).where(Vehicle.kind == "stock")))
            if held and (order_id is None or any(h["order_id"] is None or h["order_id"] == order_id for h in held)):
                raise KehuError("AUTOMOTIVE_KEY_SECOND_NEW_CAR", "you hold a new car's key already; a second one only "
                                "for a second order (R6-53)", "已领用一把新车钥匙；除非有两张订单两台车，不得同时领用两把（R6-53）",
                                field="orderId")
        use = None
        if purpose in APPROVED_USES:
            use = await uow.select(VehicleUse.id).where(
                (VehicleUse.vehicle_id == row["id"]) & (VehicleUse.user_id == holder)
                & (VehicleUse.purpose == purpose) & VehicleUse.key_use_id.is_null()).first()
            if use is None:
                raise KehuError("AUTOMOTIVE_USE_NOT_APPROVED", f"a {purpose} with a car needs the manager's approval "
                                "first (R6-49, R6-50)", "上下班或现金业务用车须先经销售经理批准（R6-49、R6-50）",
                                field="purpose")
        key_use_id = uuid4()
        await uow.insert(KeyUse(id=key_use_id, vehicle_id=row["id"], user_id=holder, purpose=purpose,
                                order_id=order_id, taken_at=now))
        if use is not None:
            await uow.update(VehicleUse, {VehicleUse.key_use_id: key_use_id}).where(VehicleUse.id == use["id"])
        await uow.update(Vehicle, {Vehicle.key_state: "out"}).where(Vehicle.id == row["id"])
        await record(uow, "automotive.key_taken", "automotive_key_use", key_use_id,
                     {"vin": vin, "user_id": holder, "purpose": purpose, "order_id": order_id})
        await emit(uow, "automotive.key_taken", "automotive_key_use", key_use_id, ("vehicle_id", "user_id", "purpose"))
        return await uow.select(KeyUse).where(KeyUse.id == key_use_id).first()


async def _open_key_use(uow: Any, key_use_id: UUID) -> dict[str, Any]:
    use = await uow.select(KeyUse).where(KeyUse.id == key_use_id).first()
    if use is None:
        raise KehuError("AUTOMOTIVE_KEY_USE_NOT_FOUND", f"no key-use entry {key_use_id}", f"未找到钥匙领用记录 {key_use_id}",
                        field="id")
    if use["returned_at"] is not None or use["lost_at"] is not None:
        raise KehuError("AUTOMOTIVE_KEY_USE_CLOSED", "this key is back or lost already", "该钥匙已归还或已登记遗失", field="id")
    return use


async def _late_key_fine(uow: Any, parameters: Any, drive: dict[str, Any], back: datetime, actor: str) -> bool:
    """R6-51D: the key back later than the due time after the drive (``back`` is when it came back,
    or now for a key still out)."""
    if drive["key_due_at"] is None or back <= drive["key_due_at"]:
        return False
    return await add_penalty(uow, parameters, "R6-51D", drive["consultant_id"],
                             reason=f"试驾结束后{parameters.get('test_drive_key_return_minutes', 5)}分钟内未归还钥匙",
                             at=back, source_key=f"test_drive:{drive['id']}", actor=actor)


async def return_key(ctx: Any, key_use_id: UUID) -> dict[str, Any]:
    """The 5S officer records a key back (time in); a test-drive key back late is fined R6-51D."""
    require_permission(ctx, "automotive.stock.manage")
    parameters = await tenant_parameters(ctx, VERTICAL)
    now = clock.now()
    async with unit_of_work(ctx) as uow:
        use = await _open_key_use(uow, key_use_id)
        await uow.update(KeyUse, {KeyUse.returned_at: now, KeyUse.returned_to: ctx.actor}).where(
            KeyUse.id == key_use_id)
        await uow.update(Vehicle, {Vehicle.key_state: "kept"}).where(
            (Vehicle.id == use["vehicle_id"]) & (Vehicle.key_state == "out"))
        drive = await uow.select(TestDrive).where(TestDrive.key_use_id == key_use_id).first()
        late = drive is not None and await _late_key_fine(uow, parameters, drive, now, ctx.actor)
        await record(uow, "automotive.key_returned", "automotive_key_use", key_use_id, {"late": late})
        await emit(uow, "automotive.key_returned", "automotive_key_use", key_use_id, ("returned_at",))
        return await uow.select(KeyUse).where(KeyUse.id == key_use_id).first()


async def lose_key(ctx: Any, key_use_id: UUID, *, reason: str) -> dict[str, Any]:
    """R6-47: a key lost while out is fined to the consultant holding it (the replacement is paid
    apart); the car's key stays lost until a replacement is recorded by registering it back."""
    require_permission(ctx, "automotive.stock.manage")
    reason = text(reason, "reason", 2000)
    parameters = await tenant_parameters(ctx, VERTICAL)
    now = clock.now()
    async with unit_of_work(ctx) as uow:
        use = await _open_key_use(uow, key_use_id)
        await uow.update(KeyUse, {KeyUse.lost_at: now}).where(KeyUse.id == key_use_id)
        await uow.update(Vehicle, {Vehicle.key_state: "lost", Vehicle.updated_at: now}).where(
            Vehicle.id == use["vehicle_id"])
        await add_penalty(uow, parameters, "R6-47", use["user_id"], reason=f"遗失钥匙：{reason}", at=now,
                          source_key=f"key:{key_use_id}", actor=ctx.actor)
        await record(uow, "automotive.key_lost", "automotive_key_use", key_use_id, {"reason": reason})
        await emit(uow, "automotive.key_lost", "automotive_key_use", key_use_id, ("lost_at",))
        return await uow.select(KeyUse).where(KeyUse.id == key_use_id).first()


async def key_register(ctx: Any, window: Any, *, vin: str | None = None, open_only: bool = False
                       ) -> tuple[list[dict], bool]:
    """The key-use register, newest first: all of it for the 5S officer, else one's own entries."""
    try:
        everyone = require_permission(ctx, "automotive.stock.manage") is not None
    except KehuError:
        require_permission(ctx, "automotive.test_drive.write")
        everyone = False
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(KeyUse)
        if not everyone:
            query = query.where(KeyUse.user_id == _actor_id(ctx))
        if vin is not None:
            row = await vehicle_by_vin(uow, vin)
            if row is None:
                return [], False
            query = query.where(KeyUse.vehicle_id == row["id"])
        if open_only:
            query = query.where(KeyUse.returned_at.is_null() & KeyUse.lost_at.is_null())
        return await fetch_page(query, [KeyUse.taken_at, KeyUse.id], window, descending=True)


async def vins(uow: Any, vehicle_ids: set[UUID]) -> dict[UUID, str]:
    if not vehicle_ids:
        return {}
    rows = await uow.select(Vehicle.id, Vehicle.vin).where(Vehicle.id.is_in(list(vehicle_ids)))
    return {r["id"]: r["vin"] for r in rows}


async def with_vins(ctx: Any, rows: list[dict]) -> list[dict]:
    async with unit_of_work(ctx, write=False) as uow:
        found = await vins(uow, {r["vehicle_id"] for r in rows})
    return [{**r, "vin": found.get(r["vehicle_id"], "")} for r in rows]


# --- test drives (R6-51) ---------------------------------------------------------------------


async def start_test_drive(ctx: Any, vin: str, customer_id: UUID, guide_id: UUID, *, agreement: bool,
                           licence_copy: bool) -> dict[str, Any]:
    """A consultant starts a test drive: the key-use register must show the key out to them for this
    car first (R6-51A: refused, and fined — the fine is committed on its own, the drive is not),
    a guide other than the consultant accompanies it (R6-51B). The agreement and the licence copy are
    checked at the end with the rest of the set (R6-51C)."""
    require_permission(ctx, "automotive.test_drive.write")
    consultant = _actor_id(ctx)
    vin = _vin(vin)
    if guide_id == consultant:
        raise invalid("guideId", "the guide is another person than the consultant (R6-51B)", "指导人员须为销售顾问以外的人员（R6-51B）")
    parameters = await tenant_parameters(ctx, VERTICAL)
    now = clock.now()
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        if row["delivered_at"] is not None:
            raise KehuError("AUTOMOTIVE_VEHICLE_DELIVERED", f"the car {vin} is delivered already", f"车辆 {vin} 已交付",
                            field="vin")
        await _user(uow, guide_id, "guideId")
        if await customer_record(uow, customer_id) is None:
            raise invalid("customerId", "no such customer", "没有该客户")
        use = await uow.select(KeyUse).where(
            (KeyUse.vehicle_id == row["id"]) & (KeyUse.user_id == consultant) & (KeyUse.purpose == "test_drive")
            & KeyUse.returned_at.is_null() & KeyUse.lost_at.is_null()).first()
        if use is not None and await uow.exists(TestDrive).where(TestDrive.key_use_id == use["id"]):
            raise KehuError("AUTOMOTIVE_KEY_USE_CLOSED", "this key-use entry served a test drive already; return the key "
                            "and register it again", "该钥匙领用记录已用于一次试驾，请归还后重新登记", field="vin")
    if use is None:
        async with unit_of_work(ctx) as uow:
            await add_penalty(uow, parameters, "R6-51A", consultant, reason=f"试驾 {vin} 前未填写钥匙领用登记",
                              at=now, source_key=f"no_key:{vin}:{now.isoformat()}", actor="system")
        raise KehuError("AUTOMOTIVE_KEY_NOT_REGISTERED", "fill in the key-use register first (R6-51A)",
                        "试驾前须先填写钥匙领用登记（R6-51A）", field="vin")
    async with unit_of_work(ctx) as uow:
        drive_id = uuid4()
        await uow.insert(TestDrive(id=drive_id, vehicle_id=row["id"], key_use_id=use["id"], consultant_id=consultant,
                                   customer_id=customer_id, guide_id=guide_id, agreement=agreement,
                                   licence_copy=licence_copy, started_at=now))
        await record(uow, "automotive.test_drive_started", "automotive_test_drive", drive_id,
                     {"vin": vin, "customer_id": customer_id, "guide_id": guide_id, "agreement": agreement,
                      "licence_copy": licence_copy})
        await emit(uow, "automotive.test_drive_started", "automotive_test_drive", drive_id,
                   ("vehicle_id", "consultant_id", "guide_id"))
        return await uow.select(TestDrive).where(TestDrive.id == drive_id).first()


async def end_test_drive(ctx: Any, drive_id: UUID, *, confirmation: bool, survey_report: bool,
                         agreement: bool | None = None, licence_copy: bool | None = None) -> dict[str, Any]:
    """The consultant ends their test drive: the key is due back within the tenant's minutes (R6-51D);
    the set (agreement, licence copy, confirmation, survey report) must be complete, else R6-51C."""
    require_permission(ctx, "automotive.test_drive.write")
    consultant = _actor_id(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    minutes = int(parameters.get("test_drive_key_return_minutes", 5))
    now = clock.now()
    async with unit_of_work(ctx) as uow:
        drive = await uow.select(TestDrive).where(TestDrive.id == drive_id).first()
        if drive is None or drive["consultant_id"] != consultant:
            raise KehuError("AUTOMOTIVE_TEST_DRIVE_NOT_FOUND", f"no test drive {drive_id} of yours",
                            f"未找到您的试驾记录 {drive_id}", field="id")
        if drive["ended_at"] is not None:
            raise KehuError("AUTOMOTIVE_TEST_DRIVE_ENDED", "this test drive has ended already", "该试驾已结束", field="id")
        agreement = drive["agreement"] or bool(agreement)
        licence_copy = drive["licence_copy"] or bool(licence_copy)
        complete = agreement and licence_copy and confirmation and survey_report
        await uow.update(TestDrive, {TestDrive.ended_at: now, TestDrive.key_due_at: now + timedelta(minutes=minutes),
                                     TestDrive.agreement: agreement, TestDrive.licence_copy: licence_copy,
                                     TestDrive.confirmation: confirmation, TestDrive.survey_report: survey_report,
                                     TestDrive.paperwork_complete: complete}).where(TestDrive.id == drive_id)
        if not complete:
            await add_penalty(uow, parameters, "R6-51C", consultant, reason="试驾协议、驾照复印件、确认书、调查报告不全",
                              at=now, source_key=f"test_drive:{drive_id}", actor="system")
        await record(uow, "automotive.test_drive_ended", "automotive_test_drive", drive_id,
                     {"confirmation": confirmation, "survey_report": survey_report, "complete": complete})
        await emit(uow, "automotive.test_drive_ended", "automotive_test_drive", drive_id,
                   ("ended_at", "paperwork_complete"))
        return await uow.select(TestDrive).where(TestDrive.id == drive_id).first()


DISMISSAL_SETS = 2  # R6-51C: 2 or more incomplete sets mean dismissal (a person decides)


async def incomplete_paperwork(ctx: Any, window: Any, *, consultant_id: UUID | None = None
                               ) -> tuple[list[dict], bool]:
    """R6-51C's report: test drives with an incomplete set, newest first, each with how many its
    consultant has in all and whether that reaches the dismissal mark (2 or more)."""
    require_permission(ctx, "automotive.report.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(TestDrive).where(TestDrive.paperwork_complete == False)  # noqa: E712
        if consultant_id is not None:
            query = query.where(TestDrive.consultant_id == consultant_id)
        rows, more = await fetch_page(query, [TestDrive.started_at, TestDrive.id], window, descending=True)
        counts: dict[UUID, int] = {}
        for consultant in {r["consultant_id"] for r in rows}:
            counts[consultant] = await uow.count(TestDrive).where(
                (TestDrive.consultant_id == consultant) & (TestDrive.paperwork_complete == False))  # noqa: E712
        found = await vins(uow, {r["vehicle_id"] for r in rows})
    return [{**r, "vin": found.get(r["vehicle_id"], ""), "incomplete_sets": counts[r["consultant_id"]],
             "dismissal": counts[r["consultant_id"]] >= DISMISSAL_SETS} for r in rows], more


# --- second-tier stores (R6-54, R6-55) -------------------------------------------------------


async def inspect_vehicle(ctx: Any, vin: str, *, passed: bool, note: str) -> dict[str, Any]:
    """R6-55: the local dealer staff inspect a second-tier store car before reallocating it."""
    require_permission(ctx, "automotive.stock.reallocate")
    inspector = _actor_id(ctx)
    vin = _vin(vin)
    note = text(note, "note", 2000)
    async with unit_of_work(ctx) as uow:
        row = await _vehicle(uow, vin)
        if row["location"] != "second_tier" or row["delivered_at"] is not None:
            raise invalid("vin", "only a car at a second-tier store is inspected for reallocation",
                          "只有二级店在库车辆需调拨前检查")
        inspection_id = uuid4()
        await uow.insert(Inspection(id=inspection_id, vehicle_id=row["id"], passed=passed, note=note,
                                    inspected_by=inspector, at=clock.now()))
        await record(uow, "automotive.vehicle_inspected", "automotive_vehicle_inspection", inspection_id,
                     {"vin": vin, "passed": passed, "note": note})
        await emit(uow, "automotive.vehicle_inspected", "automotive_vehicle_inspection", inspection_id, ("passed",))
        return await uow.select(Inspection).where(Inspection.id == inspection_id).first()


def _recall_limit(parameters: Any) -> int:
    return int(parameters.get("second_tier_recall_days", 30))


async def second_tier_overdue(ctx: Any, window: Any) -> tuple[list[dict], bool, int]:
    """R6-54's report: cars at a second-tier store longer than the limit, oldest first, each with its
    days late (the daily fines' count)."""
    require_permission(ctx, "automotive.stock.read")
    parameters = await tenant_parameters(ctx, VERTICAL)
    calendar = await tenant_calendar(ctx)
    limit = _recall_limit(parameters)
    today = clock.now().astimezone(calendar.zone).date()
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Vehicle).where(
            (Vehicle.location == "second_tier") & Vehicle.delivered_at.is_null()
            & (Vehicle.location_since < today - timedelta(days=limit)))
        rows, more = await fetch_page(query, [Vehicle.location_since, Vehicle.id], window)
    return [{**r, "days_late": (today - r["location_since"]).days - limit} for r in rows], more, limit


@tick("automotive.second_tier_recall")
async def fine_second_tier_recalls(ctx: Any, now: datetime) -> int:
    """R6-54: each day a second-tier store car stays past the limit fines the designated 5S officer
    once (``source_key`` per car and day); missed ticks catch up (days since the officer's
    designation, 60 at most)."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    calendar = await tenant_calendar(ctx)
    limit = _recall_limit(parameters)
    today = clock.now().astimezone(calendar.zone).date()
    fined = 0
    async with unit_of_work(ctx) as uow:
        designated = await _officer_row(uow)
        if designated is None:
            return 0
        officer, since = designated["user_id"], designated["since"].astimezone(calendar.zone).date()
        rows = await uow.select(Vehicle.vin, Vehicle.location_since).where(
            (Vehicle.location == "second_tier") & Vehicle.delivered_at.is_null()
            & (Vehicle.location_since < today - timedelta(days=limit)))
        for row in rows:
            first_late = row["location_since"] + timedelta(days=limit + 1)
            day = max(first_late, since, today - timedelta(days=60))  # from the designation; 60 days at most
            while day <= today:
                if await add_penalty(uow, parameters, "R6-54", officer, reason=f"二级店车辆 {row['vin']} 超过{limit}天未召回",
                                     at=clock.now(), source_key=f"recall:{row['vin']}:{day.isoformat()}"):
                    fined += 1
                day += timedelta(days=1)
    return fined


# --- inventory reports (R6-46) ---------------------------------------------------------------


def _slot_deadline(parameters: Any, calendar: Any, day: date, slot: str) -> datetime:
    minute = int(parameters.get(f"inventory_report_{slot}_minute", 540 if slot == "morning" else 1020))
    return datetime.combine(day, time(minute // 60, minute % 60), calendar.zone)


async def report_inventory(ctx: Any, slot: str, *, note: str) -> dict[str, Any]:
    """The 5S officer's inventory report to the assistant for today's morning or afternoon slot;
    a report after the slot's time is late and fined R6-46 at once."""
    require_permission(ctx, "automotive.stock.manage")
    reporter = _actor_id(ctx)
    slot = choice(slot, "slot", SLOTS)
    note = text(note, "note", 4000)
    parameters = await tenant_parameters(ctx, VERTICAL)
    calendar = await tenant_calendar(ctx)
    now = clock.now()
    day = now.astimezone(calendar.zone).date()
    late = now > _slot_deadline(parameters, calendar, day, slot)
    async with unit_of_work(ctx) as uow:
        if await uow.exists(InventoryReport).where((InventoryReport.day == day) & (InventoryReport.slot == slot)):
            raise KehuError("AUTOMOTIVE_INVENTORY_REPORTED", f"the {slot} inventory report of {day} is in already",
                            f"{day} 的{'上午' if slot == 'morning' else '下午'}库存报告已提交", field="slot")
        report_id = uuid4()
        await uow.insert(InventoryReport(id=report_id, day=day, slot=slot, reported_at=now, reported_by=reporter,
                                         late=late, note=note))
        if late:
            await add_penalty(uow, parameters, "R6-46", reporter, reason=f"{day} {slot} 库存报告迟报", at=now,
                              source_key=f"inventory:{day.isoformat()}:{slot}", actor="system")
        await record(uow, "automotive.inventory_reported", "automotive_inventory_report", report_id,
                     {"day": day, "slot": slot, "late": late})
        await emit(uow, "automotive.inventory_reported", "automotive_inventory_report", report_id,
                   ("day", "slot", "late"))
        return await uow.select(InventoryReport).where(InventoryReport.id == report_id).first()


async def inventory_reports(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    """The inventory reports, newest first (the assistant and the 5S officer read them)."""
    require_permission(ctx, "automotive.stock.read")
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(InventoryReport), [InventoryReport.reported_at, InventoryReport.id],
                                window, descending=True)


@tick("automotive.inventory_reports")
async def fine_missed_inventory_reports(ctx: Any, now: datetime) -> int:
    """R6-46: a slot of a working day whose time passed without a report fines the designated 5S
    officer once (the same ``source_key`` as a late report, so never twice); the last 7 days, and
    only slots due after the officer's designation."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    calendar = await tenant_calendar(ctx)
    moment = clock.now()
    today = moment.astimezone(calendar.zone).date()
    fined = 0
    async with unit_of_work(ctx) as uow:
        designated = await _officer_row(uow)
        if designated is None:
            return 0
        officer, since = designated["user_id"], designated["since"]
        for back in range(7, -1, -1):
            day = today - timedelta(days=back)
            if not calendar.is_working_day(day):
                continue
            for slot in SLOTS:
                deadline = _slot_deadline(parameters, calendar, day, slot)
                if moment <= deadline or deadline <= since:  # not due yet, or due before anyone answered
                    continue
                if await uow.exists(InventoryReport).where((InventoryReport.day == day)
                                                           & (InventoryReport.slot == slot)):
                    continue
                if await add_penalty(uow, parameters, "R6-46", officer, reason=f"{day} {slot} 库存报告漏报", at=moment,
                                     source_key=f"inventory:{day.isoformat()}:{slot}"):
                    fined += 1
    return fined


@tick("automotive.test_drive_keys")
async def fine_keys_still_out(ctx: Any, now: datetime) -> int:
    """R6-51D for keys still out after a test drive's due time (a key returned late is fined when
    it comes back, under the same ``source_key``)."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    moment = clock.now()
    fined = 0
    async with unit_of_work(ctx) as uow:
        drives = await uow.select(TestDrive).where(
            (TestDrive.key_due_at < moment)
            & TestDrive.key_use_id.is_in(uow.select(KeyUse.id).where(KeyUse.returned_at.is_null())))
        for drive in drives:
            fined += int(await _late_key_fine(uow, parameters, drive, moment, "system"))
    return fined


# --- the main warehouse (R6-58) --------------------------------------------------------------


async def record_warehouse_visit(ctx: Any, consultant_id: UUID, *, note: str,
                                 customer_id: UUID | None = None) -> dict[str, Any]:
    """R6-58: a consultant took a customer to the main warehouse to choose a car; the designated 5S
    officer is fined."""
    require_permission(ctx, "automotive.stock.approve")
    note = text(note, "note", 2000)
    parameters = await tenant_parameters(ctx, VERTICAL)
    now = clock.now()
    async with unit_of_work(ctx) as uow:
        await _user(uow, consultant_id, "consultantId")
        if customer_id is not None and await customer_record(uow, customer_id) is None:
            raise invalid("customerId", "no such customer", "没有该客户")
        officer = await current_officer(uow)
        visit_id = uuid4()
        await uow.insert(WarehouseVisit(id=visit_id, consultant_id=consultant_id, customer_id=customer_id,
                                        officer_id=officer, note=note, at=now, recorded_by=ctx.actor))
        await add_penalty(uow, parameters, "R6-58", officer, reason=f"销售顾问带客户到大库选车：{note}", at=now,
                          source_key=f"warehouse:{visit_id}", actor=ctx.actor)
        await record(uow, "automotive.warehouse_visit_recorded", "automotive_warehouse_visit", visit_id,
                     {"consultant_id": consultant_id, "customer_id": customer_id, "officer_id": officer})
        await emit(uow, "automotive.warehouse_visit_recorded", "automotive_warehouse_visit", visit_id,
                   ("consultant_id",))
        return await uow.select(WarehouseVisit).where(WarehouseVisit.id == visit_id).first()
