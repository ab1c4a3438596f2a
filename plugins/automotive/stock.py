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
from piccolo.columns import Boolean, Date, Integer, Text, Timestamptz, Varchar

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
    row = await uow.select(StockOfficer.user_id).order_by(StockOfficer.since, ascending=False).first()
    return row["user_id"] if row else None


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
