"""Vehicles, keys, test drives and inventory (seed 003 R6-45 to R6-58) through the public GraphQL API."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from core.plugins import unit_of_work
from plugins.automotive import stock
from plugins.automotive.vehicles import vin_check_digit
from tests.automotive.conftest import ERR, customer, local, on_app, user_with
from tests.medical_devices.api import ok, refused

VEHICLE = "vehicle { id vin location ageDays reserved reservedMark keyState toolsState claimState arrivedOn }"
REGISTER = ("mutation($v: String!, $k: String!, $l: String!, $a: Date, $e: Date) { automotiveVehicleRegister(vin: $v, "
            "model: \"索纳塔\", kind: $k, location: $l, arrivedOn: $a, expectedOn: $e) { %s %s } }" % (VEHICLE, ERR))
MOVE = ("mutation($v: String!, $l: String!, $o: Date) { automotiveVehicleMove(vin: $v, location: $l, on: $o) "
        "{ %s %s } }" % (VEHICLE, ERR))
BOARD = ("query($l: String) { automotiveInventoryBoard(location: $l, first: 50) { nodes { vin location ageDays "
         "reservedMark expectedOn } } }")
LEDGER = "query($u: ID, $r: String) { automotivePenalties(userId: $u, rule: $r, first: 50) { nodes { rule amountCny source } } }"
TAKE = ("mutation($v: String!, $p: String!, $o: ID) { automotiveKeyTake(vin: $v, purpose: $p, orderId: $o) "
        "{ keyUse { id vin purpose } %s } }" % ERR)
RETURN = "mutation($id: ID!) { automotiveKeyReturn(id: $id) { keyUse { id returnedAt } %s } }" % ERR
START = ("mutation($v: String!, $c: ID!, $g: ID!, $a: Boolean!, $l: Boolean!) { automotiveTestDriveStart(vin: $v, "
         "customerId: $c, guideId: $g, agreement: $a, licenceCopy: $l) { testDrive { id keyDueAt } %s } }" % ERR)
END = ("mutation($id: ID!, $c: Boolean!, $s: Boolean!) { automotiveTestDriveEnd(id: $id, confirmation: $c, "
       "surveyReport: $s) { testDrive { id keyDueAt paperworkComplete } %s } }" % ERR)
DESIGNATE = "mutation($u: ID!) { automotiveStockOfficerDesignate(userId: $u) { record { id } %s } }" % ERR
REPORT = ("mutation($s: String!) { automotiveInventoryReport(slot: $s, note: \"库存12台，在途3台\") "
          "{ report { id day slot late } %s } }" % ERR)


def a_vin(serial: int) -> str:
    raw = f"LBEHDAFB0RY{serial:06d}"
    return raw[:8] + vin_check_digit(raw) + raw[9:]


async def denied(client, doc: str, **variables) -> str:
    """The code of a query refused as a whole."""
    body = await client.execute(doc, **variables)
    return body["errors"][0]["extensions"]["code"]


async def fines(floor, seat: str, rule: str) -> list[dict]:
    return (await ok(floor["manager"], LEDGER, "automotivePenalties", u=floor["ids"][seat], r=rule))["nodes"]


async def register(floor, serial: int, *, kind: str = "stock", location: str = "4s", arrived: date | None = None,
                   expected: date | None = None) -> str:
    vin = a_vin(serial)
    made = await ok(floor["officer"], REGISTER, "automotiveVehicleRegister", v=vin, k=kind, l=location,
                    a=arrived.isoformat() if arrived else None, e=expected.isoformat() if expected else None)
    assert made["vehicle"]["vin"] == vin
    return vin


async def in_uow(ctx, work, *args, **kwargs):
    async with unit_of_work(ctx) as uow:
        return await work(uow, *args, **kwargs)


async def test_r6_23_reserved_car_marked_on_the_board_with_age_and_no_price(floor, clock):
    """R6-23: a reserved car shows 「该车已订」; the board shows location and inventory age; R6-35: no price."""
    vin = await register(floor, 1, arrived=date(2026, 10, 20))
    transit = await register(floor, 2, location="in_transit", expected=date(2026, 11, 10))
    board = {n["vin"]: n for n in (await ok(floor["consultant"], BOARD, "automotiveInventoryBoard"))["nodes"]}
    assert board[vin]["ageDays"] == 13 and board[vin]["reservedMark"] is None
    assert board[transit]["location"] == "in_transit" and board[transit]["ageDays"] is None
    order, other = uuid4(), uuid4()
    await on_app(floor, in_uow, stock.reserve_vehicle, vin, order, at=clock())
    await on_app(floor, in_uow, stock.reserve_vehicle, vin, order, at=clock())  # again for the same order: fine
    board = {n["vin"]: n for n in (await ok(floor["consultant"], BOARD, "automotiveInventoryBoard"))["nodes"]}
    assert board[vin]["reservedMark"] == "该车已订"
    # another order cannot take it, nor deliver it
    for work in (stock.reserve_vehicle, stock.deliver_vehicle):
        try:
            await on_app(floor, in_uow, work, vin, other, at=clock())
        except Exception as error:  # noqa: BLE001 - the coded error is what the orders module gets
            assert getattr(error, "code", None) == "AUTOMOTIVE_VEHICLE_RESERVED"
        else:
            raise AssertionError("another order took a reserved car")
    try:
        await on_app(floor, in_uow, stock.reserve_vehicle, a_vin(99), order, at=clock())
    except Exception as error:  # noqa: BLE001
        assert getattr(error, "code", None) == "AUTOMOTIVE_VEHICLE_NOT_FOUND"
    await on_app(floor, in_uow, stock.release_reservation, vin, order)
    board = {n["vin"]: n for n in (await ok(floor["consultant"], BOARD, "automotiveInventoryBoard"))["nodes"]}
    assert board[vin]["reservedMark"] is None
    # delivered cars leave the board; the board never carries a price field
    await on_app(floor, in_uow, stock.deliver_vehicle, vin, other, at=clock())
    board = {n["vin"] for n in (await ok(floor["consultant"], BOARD, "automotiveInventoryBoard"))["nodes"]}
    assert vin not in board and transit in board
    # the cashier has no automotive.stock.read
    fields = (await floor["consultant"].execute('{ __type(name: "AutomotiveVehicle") { fields { name } } }'))
    names = [f["name"] for f in fields["data"]["__type"]["fields"]]
    assert "reservedMark" in names and not any("price" in name.lower() for name in names)
    # the cashier has no automotive.stock.read
    assert await denied(floor["cashier"], BOARD) == "PERMISSION_DENIED"


async def test_r6_52_tools_issued_at_delivery_only(floor, clock):
    """R6-52: tools and the warranty book go with the car at delivery, never before nor afterwards."""
    issue = "mutation($v: String!) { automotiveToolsIssue(vin: $v) { vehicle { toolsState } %s } }" % ERR
    early, late = await register(floor, 3), await register(floor, 4)
    assert (await refused(floor["assistant"], issue, "automotiveToolsIssue", v=early))["code"] \
        == "AUTOMOTIVE_TOOLS_NOT_AT_DELIVERY"
    await on_app(floor, in_uow, stock.deliver_vehicle, early, uuid4(), at=clock())
    await on_app(floor, in_uow, stock.deliver_vehicle, late, uuid4(), at=clock())
    assert (await ok(floor["assistant"], issue, "automotiveToolsIssue", v=early))["vehicle"]["toolsState"] == "issued"
    assert (await refused(floor["assistant"], issue, "automotiveToolsIssue", v=early))["code"] \
        == "AUTOMOTIVE_TOOLS_UNAVAILABLE"
    clock.set(local(2026, 11, 3, 10, 0))  # the next day: never afterwards
    assert (await refused(floor["assistant"], issue, "automotiveToolsIssue", v=late))["code"] \
        == "AUTOMOTIVE_TOOLS_NOT_AT_DELIVERY"


async def test_r6_56_lost_tools_fined_and_r6_45_unrecovered_claim_borne_by_the_consultant(floor):
    """R6-56: a lost set of tools is fined 50; R6-45: transport damage opens a claim, an unrecovered one is a
    fine of the amount the manager states."""
    vin = await register(floor, 5)
    lost = ("mutation($v: String!, $u: ID!) { automotiveToolsLost(vin: $v, userId: $u, reason: \"随机抽查缺失\") "
            "{ vehicle { toolsState } %s } }" % ERR)
    assert (await ok(floor["manager"], lost, "automotiveToolsLost", v=vin, u=floor["ids"]["assistant"])) \
        ["vehicle"]["toolsState"] == "lost"
    assert [f["amountCny"] for f in await fines(floor, "assistant", "R6-56")] == [50]
    pdi = ("mutation($v: String!) { automotiveVehiclePdiRecord(vin: $v, passed: false, damage: \"左前门划伤\") "
           "{ vehicle { claimState } %s } }" % ERR)
    assert (await ok(floor["officer"], pdi, "automotiveVehiclePdiRecord", v=vin))["vehicle"]["claimState"] == "open"
    assert (await refused(floor["officer"], pdi, "automotiveVehiclePdiRecord", v=vin))["code"] == "AUTOMOTIVE_PDI_RECORDED"
    close = ("mutation($v: String!, $c: ID, $a: Int) { automotiveVehicleClaimClose(vin: $v, recovered: false, "
             "note: \"厂家拒赔\", consultantId: $c, amountCny: $a) { vehicle { claimState } %s } }" % ERR)
    assert (await refused(floor["manager"], close, "automotiveVehicleClaimClose", v=vin))["code"] \
        == "AUTOMOTIVE_INPUT_INVALID"
    assert (await refused(floor["officer"], close, "automotiveVehicleClaimClose", v=vin, c=floor["ids"]["consultant"],
                          a=800))["code"] == "PERMISSION_DENIED"
    done = await ok(floor["manager"], close, "automotiveVehicleClaimClose", v=vin, c=floor["ids"]["consultant"], a=800)
    assert done["vehicle"]["claimState"] == "unrecovered"
    assert [f["amountCny"] for f in await fines(floor, "consultant", "R6-45")] == [800]
    assert (await refused(floor["manager"], close, "automotiveVehicleClaimClose", v=vin, c=floor["ids"]["consultant"],
                          a=800))["code"] == "AUTOMOTIVE_CLAIM_NOT_OPEN"


async def test_r6_51a_test_drive_without_the_key_register_is_refused_and_fined(floor):
    """R6-51A: no key-use entry first, the test drive is refused and the consultant fined 20; R6-51B: a guide."""
    vin = await register(floor, 6, kind="test")
    buyer = await customer(floor["consultant"])
    guide = floor["ids"]["leader"]
    assert (await refused(floor["consultant"], START, "automotiveTestDriveStart", v=vin, c=buyer, g=guide, a=True,
                          l=True))["code"] == "AUTOMOTIVE_KEY_NOT_REGISTERED"
    assert [f["amountCny"] for f in await fines(floor, "consultant", "R6-51A")] == [20]
    await ok(floor["consultant"], TAKE, "automotiveKeyTake", v=vin, p="test_drive")
    assert (await refused(floor["consultant"], START, "automotiveTestDriveStart", v=vin, c=buyer,
                          g=floor["ids"]["consultant"], a=True, l=True))["field"] == "guideId"
    await ok(floor["consultant"], START, "automotiveTestDriveStart", v=vin, c=buyer, g=guide, a=True, l=True)
    assert len(await fines(floor, "consultant", "R6-51A")) == 1


async def _drive(floor, vin: str, *, complete: bool = True) -> tuple[str, str]:
    buyer = await customer(floor["consultant"])
    key = await ok(floor["consultant"], TAKE, "automotiveKeyTake", v=vin, p="test_drive")
    drive = await ok(floor["consultant"], START, "automotiveTestDriveStart", v=vin, c=buyer, g=floor["ids"]["leader"],
                     a=True, l=True)
    ended = await ok(floor["consultant"], END, "automotiveTestDriveEnd", id=drive["testDrive"]["id"], c=True,
                     s=complete)
    assert ended["testDrive"]["paperworkComplete"] is complete
    return key["keyUse"]["id"], drive["testDrive"]["id"]


async def test_r6_51d_key_back_late_after_a_test_drive_is_fined_once(floor, clock):
    """R6-51D: the key back more than 5 minutes after the drive costs 10, on return or by the tick."""
    on_time, late, still_out = [await register(floor, n, kind="test") for n in (7, 8, 9)]
    key, _ = await _drive(floor, on_time)
    clock.advance(minutes=5)
    await ok(floor["officer"], RETURN, "automotiveKeyReturn", id=key)
    assert await fines(floor, "consultant", "R6-51D") == []
    key, _ = await _drive(floor, late)
    clock.advance(minutes=6)
    await ok(floor["officer"], RETURN, "automotiveKeyReturn", id=key)
    assert [f["amountCny"] for f in await fines(floor, "consultant", "R6-51D")] == [10]
    await _drive(floor, still_out)
    clock.advance(minutes=4)
    await on_app(floor, stock.fine_keys_still_out, clock())
    assert len(await fines(floor, "consultant", "R6-51D")) == 1
    clock.advance(minutes=2)
    assert await on_app(floor, stock.fine_keys_still_out, clock()) == 1
    assert await on_app(floor, stock.fine_keys_still_out, clock()) == 0
    assert len(await fines(floor, "consultant", "R6-51D")) == 2


async def test_r6_51c_incomplete_sets_fined_and_two_flag_dismissal(floor):
    """R6-51C: an incomplete set costs 20; two or more incomplete sets flag the consultant for dismissal."""
    paperwork = ("query($c: ID) { automotiveTestDrivePaperwork(consultantId: $c, first: 20) { nodes { id "
                 "incompleteSets dismissal } } }")
    cars = [await register(floor, n, kind="test") for n in (10, 11, 12)]
    key, _ = await _drive(floor, cars[0], complete=True)
    await ok(floor["officer"], RETURN, "automotiveKeyReturn", id=key)
    key, _ = await _drive(floor, cars[1], complete=False)
    await ok(floor["officer"], RETURN, "automotiveKeyReturn", id=key)
    assert [f["amountCny"] for f in await fines(floor, "consultant", "R6-51C")] == [20]
    nodes = (await ok(floor["manager"], paperwork, "automotiveTestDrivePaperwork", c=floor["ids"]["consultant"]))["nodes"]
    assert [(n["incompleteSets"], n["dismissal"]) for n in nodes] == [(1, False)]
    await _drive(floor, cars[2], complete=False)
    nodes = (await ok(floor["manager"], paperwork, "automotiveTestDrivePaperwork"))["nodes"]
    assert [(n["incompleteSets"], n["dismissal"]) for n in nodes] == [(2, True), (2, True)]
    assert await denied(floor["consultant"], paperwork) == "PERMISSION_DENIED"


async def test_r6_53_two_new_car_keys_only_for_two_orders_and_r6_47_lost_key(floor):
    """R6-53: a consultant holding a new car's key takes a second only when both name distinct orders;
    R6-47: a key lost while out is fined 50 to its holder."""
    first, second, third = [await register(floor, n) for n in (13, 14, 15)]
    key = await ok(floor["consultant"], TAKE, "automotiveKeyTake", v=first, p="show")
    assert (await refused(floor["consultant"], TAKE, "automotiveKeyTake", v=second, p="show", o=str(uuid4())))["code"] \
        == "AUTOMOTIVE_KEY_SECOND_NEW_CAR"
    await ok(floor["officer"], RETURN, "automotiveKeyReturn", id=key["keyUse"]["id"])
    order_a, order_b = str(uuid4()), str(uuid4())
    await ok(floor["consultant"], TAKE, "automotiveKeyTake", v=first, p="show", o=order_a)
    assert (await refused(floor["consultant"], TAKE, "automotiveKeyTake", v=second, p="show", o=order_a))["code"] \
        == "AUTOMOTIVE_KEY_SECOND_NEW_CAR"
    held = await ok(floor["consultant"], TAKE, "automotiveKeyTake", v=second, p="show", o=order_b)
    # the other consultant cannot take a key that is out
    assert (await refused(floor["consultant2"], TAKE, "automotiveKeyTake", v=second, p="show"))["code"] \
        == "AUTOMOTIVE_KEY_UNAVAILABLE"
    await ok(floor["consultant2"], TAKE, "automotiveKeyTake", v=third, p="show")
    lost = "mutation($id: ID!) { automotiveKeyLost(id: $id, reason: \"试驾途中遗失\") { keyUse { lostAt } %s } }" % ERR
    assert (await ok(floor["officer"], lost, "automotiveKeyLost", id=held["keyUse"]["id"]))["keyUse"]["lostAt"]
    assert [f["amountCny"] for f in await fines(floor, "consultant", "R6-47")] == [50]
    register_q = "query { automotiveKeyRegister(openOnly: true, first: 20) { nodes { vin userId } } }"
    own = (await ok(floor["consultant2"], register_q, "automotiveKeyRegister"))["nodes"]
    assert [n["vin"] for n in own] == [third]
    assert len((await ok(floor["officer"], register_q, "automotiveKeyRegister"))["nodes"]) == 2


async def test_r6_49_r6_50_commute_and_cash_run_need_the_managers_approval_first(floor):
    """R6-49/R6-50: a commute or cash run takes the key only after the manager's approval (a cash run
    with an escort)."""
    vin = await register(floor, 16, kind="test")
    assert (await refused(floor["consultant"], TAKE, "automotiveKeyTake", v=vin, p="cash_run"))["code"] \
        == "AUTOMOTIVE_USE_NOT_APPROVED"
    approve = ("mutation($v: String!, $u: ID!, $e: ID) { automotiveVehicleUseApprove(vin: $v, userId: $u, "
               "purpose: \"cash_run\", note: \"送款至银行\", escortId: $e) { use { id } %s } }" % ERR)
    assert (await refused(floor["manager"], approve, "automotiveVehicleUseApprove", v=vin,
                          u=floor["ids"]["consultant"]))["field"] == "escortId"
    await ok(floor["manager"], approve, "automotiveVehicleUseApprove", v=vin, u=floor["ids"]["consultant"],
             e=floor["ids"]["leader"])
    key = await ok(floor["consultant"], TAKE, "automotiveKeyTake", v=vin, p="cash_run")
    await ok(floor["officer"], RETURN, "automotiveKeyReturn", id=key["keyUse"]["id"])
    # the approval served once
    assert (await refused(floor["consultant"], TAKE, "automotiveKeyTake", v=vin, p="cash_run"))["code"] \
        == "AUTOMOTIVE_USE_NOT_APPROVED"


async def test_r6_54_second_tier_car_over_30_days_fines_the_officer_each_day_late(floor, clock):
    """R6-54: a second-tier store car past 30 days fines the 5S officer 50 per day late, once per car and
    day; the report lists it with the days late."""
    await ok(floor["manager"], DESIGNATE, "automotiveStockOfficerDesignate", u=floor["ids"]["officer"])
    today = date(2026, 11, 2)
    old = await register(floor, 17, location="second_tier", arrived=today - timedelta(days=30))
    await register(floor, 18, location="second_tier", arrived=today - timedelta(days=10))
    assert await on_app(floor, stock.fine_second_tier_recalls, clock()) == 0  # 30 days: not late yet
    clock.set(local(2026, 11, 4, 10, 0))
    assert await on_app(floor, stock.fine_second_tier_recalls, clock()) == 2  # 2 days late
    assert await on_app(floor, stock.fine_second_tier_recalls, clock()) == 0
    assert [f["amountCny"] for f in await fines(floor, "officer", "R6-54")] == [50, 50]
    overdue = "{ automotiveSecondTierOverdue(first: 10) { nodes { daysLate limitDays vehicle { vin } } } }"
    nodes = (await ok(floor["consultant"], overdue, "automotiveSecondTierOverdue"))["nodes"]
    assert [(n["vehicle"]["vin"], n["daysLate"], n["limitDays"]) for n in nodes] == [(old, 2, 30)]


async def test_r6_55_second_tier_car_reallocated_only_by_local_dealer_staff_after_inspection(floor, clock, kehu_client,
                                                                                            kehu_tenant):
    """R6-55: only the local dealer staff move a second-tier store car, and only after an inspection that
    passed; back at the 4S store the R6-54 count stops."""
    vin = await register(floor, 19, location="second_tier", arrived=date(2026, 9, 1))
    dealer, _ = await user_with(kehu_client, kehu_tenant, "dealer", {"automotive.stock.reallocate": "tenant"})
    assert (await refused(floor["officer"], MOVE, "automotiveVehicleMove", v=vin, l="4s"))["code"] == "PERMISSION_DENIED"
    assert (await refused(dealer, MOVE, "automotiveVehicleMove", v=vin, l="4s"))["code"] \
        == "AUTOMOTIVE_INSPECTION_REQUIRED"
    inspect = ("mutation($v: String!, $p: Boolean!) { automotiveVehicleInspect(vin: $v, passed: $p, note: \"外观、电瓶\") "
               "{ record { id } %s } }" % ERR)
    await ok(dealer, inspect, "automotiveVehicleInspect", v=vin, p=False)
    assert (await refused(dealer, MOVE, "automotiveVehicleMove", v=vin, l="4s"))["code"] \
        == "AUTOMOTIVE_INSPECTION_REQUIRED"
    await ok(dealer, inspect, "automotiveVehicleInspect", v=vin, p=True)
    moved = await ok(dealer, MOVE, "automotiveVehicleMove", v=vin, l="4s")
    assert moved["vehicle"]["location"] == "4s"
    overdue = "{ automotiveSecondTierOverdue(first: 10) { nodes { vehicle { vin } } } }"
    assert (await ok(floor["officer"], overdue, "automotiveSecondTierOverdue"))["nodes"] == []


async def test_r6_46_inventory_reports_twice_daily_late_or_missed_fined_once_per_slot(floor, clock):
    """R6-46: the 5S officer reports before 9:00 and before 17:00 on working days; late or missed is 50, once
    per slot; weekends are no working days."""
    clock.set(local(2026, 11, 2, 8, 0))
    await ok(floor["manager"], DESIGNATE, "automotiveStockOfficerDesignate", u=floor["ids"]["officer"])
    made = await ok(floor["officer"], REPORT, "automotiveInventoryReport", s="morning")
    assert made["report"]["late"] is False
    assert (await refused(floor["officer"], REPORT, "automotiveInventoryReport", s="morning"))["code"] \
        == "AUTOMOTIVE_INVENTORY_REPORTED"
    clock.set(local(2026, 11, 2, 17, 30))
    assert (await ok(floor["officer"], REPORT, "automotiveInventoryReport", s="afternoon"))["report"]["late"] is True
    assert [f["amountCny"] for f in await fines(floor, "officer", "R6-46")] == [50]
    assert await on_app(floor, stock.fine_missed_inventory_reports, clock()) == 0  # the late one counted once
    clock.set(local(2026, 11, 3, 9, 1))  # Tuesday: the morning slot missed
    assert await on_app(floor, stock.fine_missed_inventory_reports, clock()) == 1
    assert await on_app(floor, stock.fine_missed_inventory_reports, clock()) == 0
    clock.set(local(2026, 11, 9, 8, 0))  # the next Monday morning: Tue pm, Wed-Fri missed; Sat and Sun are off
    assert await on_app(floor, stock.fine_missed_inventory_reports, clock()) == 7
    assert len(await fines(floor, "officer", "R6-46")) == 9


async def test_r6_58_main_warehouse_visit_fines_the_officer_and_r6_57_board_lapses(floor, clock):
    """R6-58: a customer taken to the main warehouse fines the 5S officer 50; R6-57: the board's last update
    and the cars still shown in transit after their expected arrival."""
    await ok(floor["manager"], DESIGNATE, "automotiveStockOfficerDesignate", u=floor["ids"]["officer"])
    buyer = await customer(floor["consultant"])
    visit = ("mutation($c: ID!, $b: ID) { automotiveWarehouseVisitRecord(consultantId: $c, customerId: $b, "
             "note: \"带客户去大库选车\") { record { id } %s } }" % ERR)
    await ok(floor["manager"], visit, "automotiveWarehouseVisitRecord", c=floor["ids"]["consultant"], b=buyer)
    assert [f["amountCny"] for f in await fines(floor, "officer", "R6-58")] == [50]
    due = await register(floor, 20, location="in_transit", expected=date(2026, 11, 3))
    lapses = "{ automotiveInventoryBoardLapses(first: 10) { nodes { vin } } }"
    assert (await ok(floor["consultant"], lapses, "automotiveInventoryBoardLapses"))["nodes"] == []
    clock.set(local(2026, 11, 4, 10, 0))
    assert [n["vin"] for n in (await ok(floor["consultant"], lapses, "automotiveInventoryBoardLapses"))["nodes"]] \
        == [due]
    updated = (await ok(floor["consultant"], "{ automotiveInventoryBoardUpdatedAt }",
                        "automotiveInventoryBoardUpdatedAt"))
    moved = await ok(floor["officer"], MOVE, "automotiveVehicleMove", v=due, l="4s")
    assert moved["vehicle"]["arrivedOn"] == "2026-11-04"
    assert (await ok(floor["consultant"], lapses, "automotiveInventoryBoardLapses"))["nodes"] == []
    assert (await ok(floor["consultant"], "{ automotiveInventoryBoardUpdatedAt }",
                     "automotiveInventoryBoardUpdatedAt")) != updated


async def test_a_vehicle_needs_a_valid_vin_once_and_the_officers_permission(floor):
    vin = a_vin(21)
    bad = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    assert (await refused(floor["officer"], REGISTER, "automotiveVehicleRegister", v=bad, k="stock", l="4s"))["field"] \
        == "vin"
    await register(floor, 21)
    assert (await refused(floor["officer"], REGISTER, "automotiveVehicleRegister", v=vin, k="stock", l="4s"))["code"] \
        == "AUTOMOTIVE_VEHICLE_EXISTS"
    assert (await refused(floor["consultant"], REGISTER, "automotiveVehicleRegister", v=a_vin(22), k="stock",
                          l="4s"))["code"] == "PERMISSION_DENIED"
