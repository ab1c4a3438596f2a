"""GraphQL of vehicles, keys, test drives and inventory (R6-45 to R6-58): the inventory board, the
key-use register, test drives, second-tier recalls and inventory reports. Resolvers only call
``stock``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import strawberry

from core.plugins import Connection, GraphQLTypes, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.automotive import clock, stock
from plugins.automotive.common import time_key


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(name="AutomotiveVehicle", description="A car on the inventory board (库存看板): where it is, its age "
                                                       "and the reserved mark; never a price (R6-35).")
class VehicleNode:
    id: strawberry.ID
    vin: str
    model: str
    kind: str = strawberry.field(description="stock (商品车) | show (展车) | test (试驾车).")
    location: str = strawberry.field(description="4s | second_tier | main_warehouse | in_transit.")
    location_since: date
    arrived_on: date | None
    expected_on: date | None = strawberry.field(description="Expected arrival while in transit.")
    age_days: int | None = strawberry.field(description="Inventory age: days since arrival (none in transit).")
    reserved: bool
    reserved_mark: str | None = strawberry.field(description="「该车已订」 on a reserved car (R6-23).")
    delivered_at: datetime | None
    pdi_passed: bool | None
    pdi_note: str | None
    damage_note: str | None = strawberry.field(description="Transport damage found on arrival (R6-45).")
    claim_state: str | None = strawberry.field(description="open | recovered | unrecovered (R6-45).")
    key_state: str = strawberry.field(description="kept (5S officer) | out | lost | handed_over.")
    tools_state: str = strawberry.field(description="kept (assistant) | issued | lost (R6-52, R6-56).")
    updated_at: datetime


def vehicle_node(row: dict[str, Any]) -> VehicleNode:
    today = clock.now().date()
    reserved = row["reserved_order_id"] is not None
    return VehicleNode(
        id=strawberry.ID(str(row["id"])), vin=row["vin"], model=row["model"], kind=row["kind"],
        location=row["location"], location_since=row["location_since"], arrived_on=row["arrived_on"],
        expected_on=row["expected_on"], age_days=stock.age_days(row, today), reserved=reserved,
        reserved_mark=stock.RESERVED_MARK if reserved else None, delivered_at=row["delivered_at"],
        pdi_passed=row["pdi_passed"], pdi_note=row["pdi_note"], damage_note=row["damage_note"],
        claim_state=row["claim_state"], key_state=row["key_state"], tools_state=row["tools_state"],
        updated_at=row["updated_at"])


@strawberry.type(name="AutomotiveOverdueVehicle", description="A second-tier store car past the recall limit (R6-54).")
class OverdueNode:
    vehicle: VehicleNode
    days_late: int = strawberry.field(description="Days past the limit: one R6-54 fine each.")
    limit_days: int


@strawberry.type(name="AutomotiveKeyUse", description="One line of the key-use register (钥匙领用登记表).")
class KeyUseNode:
    id: strawberry.ID
    vin: str
    user_id: strawberry.ID
    purpose: str = strawberry.field(description="test_drive | show | commute | cash_run | transfer.")
    order_id: strawberry.ID | None
    taken_at: datetime
    returned_at: datetime | None
    lost_at: datetime | None


def key_use_node(row: dict[str, Any]) -> KeyUseNode:
    return KeyUseNode(id=strawberry.ID(str(row["id"])), vin=row.get("vin", ""), user_id=strawberry.ID(str(row["user_id"])),
                      purpose=row["purpose"], order_id=_id(row["order_id"]), taken_at=row["taken_at"],
                      returned_at=row["returned_at"], lost_at=row["lost_at"])


@strawberry.type(name="AutomotiveTestDrive", description="A test drive and its paperwork (R6-51).")
class TestDriveNode:
    id: strawberry.ID
    vin: str
    key_use_id: strawberry.ID
    consultant_id: strawberry.ID
    customer_id: strawberry.ID
    guide_id: strawberry.ID
    agreement: bool
    licence_copy: bool
    confirmation: bool | None
    survey_report: bool | None
    started_at: datetime
    ended_at: datetime | None
    key_due_at: datetime | None = strawberry.field(description="The key is back by then (R6-51D).")
    paperwork_complete: bool | None
    incomplete_sets: int | None = strawberry.field(description="In the paperwork report: the consultant's incomplete "
                                                               "sets in all.")
    dismissal: bool | None = strawberry.field(description="In the paperwork report: 2 or more incomplete sets (R6-51C).")


def test_drive_node(row: dict[str, Any]) -> TestDriveNode:
    return TestDriveNode(
        id=strawberry.ID(str(row["id"])), vin=row.get("vin", ""), key_use_id=strawberry.ID(str(row["key_use_id"])),
        consultant_id=strawberry.ID(str(row["consultant_id"])), customer_id=strawberry.ID(str(row["customer_id"])),
        guide_id=strawberry.ID(str(row["guide_id"])), agreement=row["agreement"], licence_copy=row["licence_copy"],
        confirmation=row["confirmation"], survey_report=row["survey_report"], started_at=row["started_at"],
        ended_at=row["ended_at"], key_due_at=row["key_due_at"], paperwork_complete=row["paperwork_complete"],
        incomplete_sets=row.get("incomplete_sets"), dismissal=row.get("dismissal"))


@strawberry.type(name="AutomotiveInventoryReport", description="The 5S officer's inventory report (R6-46).")
class InventoryReportNode:
    id: strawberry.ID
    day: date
    slot: str = strawberry.field(description="morning (before 9:00) | afternoon (before 17:00).")
    reported_at: datetime
    reported_by: strawberry.ID
    late: bool
    note: str


def report_node(row: dict[str, Any]) -> InventoryReportNode:
    return InventoryReportNode(id=strawberry.ID(str(row["id"])), day=row["day"], slot=row["slot"],
                               reported_at=row["reported_at"], reported_by=strawberry.ID(str(row["reported_by"])),
                               late=row["late"], note=row["note"])


@strawberry.type(name="AutomotiveVehicleUse", description="A commute or cash run the manager approved (R6-49, R6-50).")
class VehicleUseNode:
    id: strawberry.ID
    user_id: strawberry.ID
    purpose: str
    escort_id: strawberry.ID | None
    note: str
    approved_at: datetime


@strawberry.type(name="AutomotiveStockRecord", description="A record of the stock part: the designated 5S officer, a "
                                                           "second-tier inspection or a main-warehouse visit.")
class StockRecordNode:
    id: strawberry.ID
    at: datetime


@strawberry.type(name="AutomotiveVehiclePayload")
class VehiclePayload:
    vehicle: VehicleNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveKeyUsePayload")
class KeyUsePayload:
    key_use: KeyUseNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveTestDrivePayload")
class TestDrivePayload:
    test_drive: TestDriveNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveInventoryReportPayload")
class InventoryReportPayload:
    report: InventoryReportNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveVehicleUsePayload")
class VehicleUsePayload:
    use: VehicleUseNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveStockRecordPayload")
class StockRecordPayload:
    record: StockRecordNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _vin_key(raw: list[Any]) -> tuple[str, UUID]:
    return str(raw[0]), UUID(raw[1])


def _date_key(raw: list[Any]) -> tuple[date, UUID]:
    return date.fromisoformat(raw[0]), UUID(raw[1])


async def _with_vin(info: strawberry.Info, rows: list[dict]) -> list[dict]:
    return await stock.with_vins(context(info), rows)


@strawberry.type
class StockQuery:
    @strawberry.field(description="The inventory board (库存看板): cars in stock and in transit by VIN, with location, "
                                  "age and 「该车已订」 (R6-23); no price (R6-35). Needs automotive.stock.read.")
    async def automotive_inventory_board(self, info: strawberry.Info, location: str | None = None,
                                         kind: str | None = None, first: int | None = None, after: str | None = None,
                                         last: int | None = None, before: str | None = None
                                         ) -> Connection[VehicleNode]:
        request = page_request(info, "automotive.inventory_board", first, after, last, before)
        rows, more = await stock.board(context(info), request.window(_vin_key), location=location, kind=kind)
        return connection(request, rows, more, lambda r: (r["vin"], r["id"]), vehicle_node)

    @strawberry.field(description="When the inventory board last changed (R6-57); none before the first car.")
    async def automotive_inventory_board_updated_at(self, info: strawberry.Info) -> datetime | None:
        return await stock.board_updated_at(context(info))

    @strawberry.field(description="R6-57's lapse report: cars the board still shows in transit after their expected "
                                  "arrival, oldest first.")
    async def automotive_inventory_board_lapses(self, info: strawberry.Info, first: int | None = None,
                                                after: str | None = None, last: int | None = None,
                                                before: str | None = None) -> Connection[VehicleNode]:
        request = page_request(info, "automotive.inventory_board_lapses", first, after, last, before)
        rows, more = await stock.board_lapses(context(info), request.window(_date_key))
        return connection(request, rows, more, lambda r: (r["expected_on"], r["id"]), vehicle_node)

    @strawberry.field(description="Second-tier store cars past the recall limit, oldest first, with the days late "
                                  "(R6-54).")
    async def automotive_second_tier_overdue(self, info: strawberry.Info, first: int | None = None,
                                             after: str | None = None, last: int | None = None,
                                             before: str | None = None) -> Connection[OverdueNode]:
        request = page_request(info, "automotive.second_tier_overdue", first, after, last, before)
        rows, more, limit = await stock.second_tier_overdue(context(info), request.window(_date_key))
        return connection(request, rows, more, lambda r: (r["location_since"], r["id"]),
                          lambda r: OverdueNode(vehicle=vehicle_node(r), days_late=r["days_late"], limit_days=limit))

    @strawberry.field(description="The key-use register, newest first: all of it with automotive.stock.manage, else "
                                  "one's own entries.")
    async def automotive_key_register(self, info: strawberry.Info, vin: str | None = None, open_only: bool = False,
                                      first: int | None = None, after: str | None = None, last: int | None = None,
                                      before: str | None = None) -> Connection[KeyUseNode]:
        request = page_request(info, "automotive.key_register", first, after, last, before)
        rows, more = await stock.key_register(context(info), request.window(time_key), vin=vin, open_only=open_only)
        rows = await _with_vin(info, rows)
        return connection(request, rows, more, lambda r: (r["taken_at"], r["id"]), key_use_node)

    @strawberry.field(description="R6-51C: test drives with incomplete paperwork, newest first, with the consultant's "
                                  "count and the dismissal mark (2 or more). Needs automotive.report.read.")
    async def automotive_test_drive_paperwork(self, info: strawberry.Info, consultant_id: strawberry.ID | None = None,
                                              first: int | None = None, after: str | None = None,
                                              last: int | None = None, before: str | None = None
                                              ) -> Connection[TestDriveNode]:
        request = page_request(info, "automotive.test_drive_paperwork", first, after, last, before)
        rows, more = await stock.incomplete_paperwork(
            context(info), request.window(time_key),
            consultant_id=parse_id(consultant_id, "consultantId") if consultant_id else None)
        return connection(request, rows, more, lambda r: (r["started_at"], r["id"]), test_drive_node)

    @strawberry.field(description="The 5S officer's inventory reports, newest first (R6-46).")
    async def automotive_inventory_reports(self, info: strawberry.Info, first: int | None = None,
                                           after: str | None = None, last: int | None = None,
                                           before: str | None = None) -> Connection[InventoryReportNode]:
        request = page_request(info, "automotive.inventory_reports", first, after, last, before)
        rows, more = await stock.inventory_reports(context(info), request.window(time_key))
        return connection(request, rows, more, lambda r: (r["reported_at"], r["id"]), report_node)


def _vehicle(fn: Any) -> Any:
    async def call() -> dict:
        return {"vehicle": vehicle_node(await fn())}
    return call


@strawberry.type
class StockMutation:
    @strawberry.mutation(description="The sales manager designates the 5S officer answering for keys, recalls, "
                                     "inventory reports and main-warehouse visits.")
    async def automotive_stock_officer_designate(self, info: strawberry.Info, user_id: strawberry.ID
                                                 ) -> StockRecordPayload:
        async def call() -> dict:
            row = await stock.designate_officer(context(info), parse_id(user_id, "userId"))
            return {"record": StockRecordNode(id=strawberry.ID(str(row["id"])), at=row["since"])}
        return await run_mutation(info, StockRecordPayload, call)

    @strawberry.mutation(description="The 5S officer enters a car: VIN, model, kind, location; arrival date, or the "
                                     "expected arrival while in transit.")
    async def automotive_vehicle_register(self, info: strawberry.Info, vin: str, model: str, kind: str, location: str,
                                          arrived_on: date | None = None, expected_on: date | None = None
                                          ) -> VehiclePayload:
        return await run_mutation(info, VehiclePayload, _vehicle(lambda: stock.register_vehicle(
            context(info), vin, model, kind, location, arrived_on=arrived_on, expected_on=expected_on)))

    @strawberry.mutation(description="A car arrives or moves; a second-tier store car only by its local dealer staff "
                                     "after an inspection (R6-55).")
    async def automotive_vehicle_move(self, info: strawberry.Info, vin: str, location: str, on: date | None = None
                                      ) -> VehiclePayload:
        return await run_mutation(info, VehiclePayload, _vehicle(lambda: stock.move_vehicle(
            context(info), vin, location, on=on)))

    @strawberry.mutation(description="The arrival inspection (PDI); a transport damage opens a claim (R6-45).")
    async def automotive_vehicle_pdi_record(self, info: strawberry.Info, vin: str, passed: bool, note: str = "",
                                            damage: str | None = None) -> VehiclePayload:
        return await run_mutation(info, VehiclePayload, _vehicle(lambda: stock.record_pdi(
            context(info), vin, passed=passed, note=note, damage=damage)))

    @strawberry.mutation(description="The sales manager closes a transport-damage claim; unrecovered, the consultant "
                                     "named bears the stated amount as an R6-45 fine.")
    async def automotive_vehicle_claim_close(self, info: strawberry.Info, vin: str, recovered: bool, note: str,
                                             consultant_id: strawberry.ID | None = None,
                                             amount_cny: int | None = None) -> VehiclePayload:
        return await run_mutation(info, VehiclePayload, _vehicle(lambda: stock.close_claim(
            context(info), vin, recovered=recovered, note=note,
            consultant_id=parse_id(consultant_id, "consultantId") if consultant_id else None, amount_cny=amount_cny)))

    @strawberry.mutation(description="The local dealer staff inspect a second-tier store car before reallocating it "
                                     "(R6-55).")
    async def automotive_vehicle_inspect(self, info: strawberry.Info, vin: str, passed: bool, note: str
                                         ) -> StockRecordPayload:
        async def call() -> dict:
            row = await stock.inspect_vehicle(context(info), vin, passed=passed, note=note)
            return {"record": StockRecordNode(id=strawberry.ID(str(row["id"])), at=row["at"])}
        return await run_mutation(info, StockRecordPayload, call)

    @strawberry.mutation(description="The assistant hands over the tools and warranty book at delivery only (R6-52).")
    async def automotive_tools_issue(self, info: strawberry.Info, vin: str) -> VehiclePayload:
        return await run_mutation(info, VehiclePayload, _vehicle(lambda: stock.issue_tools_at_delivery(
            context(info), vin)))

    @strawberry.mutation(description="The sales manager records a lost set of tools or warranty book, fined to who "
                                     "lost it (R6-56).")
    async def automotive_tools_lost(self, info: strawberry.Info, vin: str, user_id: strawberry.ID, reason: str
                                    ) -> VehiclePayload:
        return await run_mutation(info, VehiclePayload, _vehicle(lambda: stock.tools_lost(
            context(info), vin, parse_id(user_id, "userId"), reason=reason)))

    @strawberry.mutation(description="The sales manager approves a commute or cash run (with its escort) before the "
                                     "key goes out (R6-49, R6-50).")
    async def automotive_vehicle_use_approve(self, info: strawberry.Info, vin: str, user_id: strawberry.ID,
                                             purpose: str, note: str, escort_id: strawberry.ID | None = None
                                             ) -> VehicleUsePayload:
        async def call() -> dict:
            row = await stock.approve_use(context(info), vin, parse_id(user_id, "userId"), purpose, note=note,
                                          escort_id=parse_id(escort_id, "escortId") if escort_id else None)
            return {"use": VehicleUseNode(id=strawberry.ID(str(row["id"])), user_id=strawberry.ID(str(row["user_id"])),
                                          purpose=row["purpose"], escort_id=_id(row["escort_id"]), note=row["note"],
                                          approved_at=row["approved_at"])}
        return await run_mutation(info, VehicleUsePayload, call)

    @strawberry.mutation(description="A consultant fills in the key-use register and takes a key (R6-51A); a second "
                                     "new-car key only for a second order (R6-53).")
    async def automotive_key_take(self, info: strawberry.Info, vin: str, purpose: str,
                                  order_id: strawberry.ID | None = None) -> KeyUsePayload:
        async def call() -> dict:
            row = await stock.take_key(context(info), vin, purpose,
                                       order_id=parse_id(order_id, "orderId") if order_id else None)
            return {"key_use": key_use_node((await _with_vin(info, [row]))[0])}
        return await run_mutation(info, KeyUsePayload, call)

    @strawberry.mutation(description="The 5S officer records a key back; a test-drive key late is fined R6-51D.")
    async def automotive_key_return(self, info: strawberry.Info, id: strawberry.ID) -> KeyUsePayload:
        async def call() -> dict:
            row = await stock.return_key(context(info), parse_id(id, "id"))
            return {"key_use": key_use_node((await _with_vin(info, [row]))[0])}
        return await run_mutation(info, KeyUsePayload, call)

    @strawberry.mutation(description="The 5S officer records a key lost while out, fined to its holder (R6-47).")
    async def automotive_key_lost(self, info: strawberry.Info, id: strawberry.ID, reason: str) -> KeyUsePayload:
        async def call() -> dict:
            row = await stock.lose_key(context(info), parse_id(id, "id"), reason=reason)
            return {"key_use": key_use_node((await _with_vin(info, [row]))[0])}
        return await run_mutation(info, KeyUsePayload, call)

    @strawberry.mutation(description="A consultant starts a test drive: the key registered out to them first (else "
                                     "refused and fined R6-51A), a guide along (R6-51B).")
    async def automotive_test_drive_start(self, info: strawberry.Info, vin: str, customer_id: strawberry.ID,
                                          guide_id: strawberry.ID, agreement: bool, licence_copy: bool
                                          ) -> TestDrivePayload:
        async def call() -> dict:
            row = await stock.start_test_drive(context(info), vin, parse_id(customer_id, "customerId"),
                                               parse_id(guide_id, "guideId"), agreement=agreement,
                                               licence_copy=licence_copy)
            return {"test_drive": test_drive_node((await _with_vin(info, [row]))[0])}
        return await run_mutation(info, TestDrivePayload, call)

    @strawberry.mutation(description="The consultant ends the test drive: the set complete (else R6-51C), the key due "
                                     "back within the tenant's minutes (R6-51D).")
    async def automotive_test_drive_end(self, info: strawberry.Info, id: strawberry.ID, confirmation: bool,
                                        survey_report: bool, agreement: bool | None = None,
                                        licence_copy: bool | None = None) -> TestDrivePayload:
        async def call() -> dict:
            row = await stock.end_test_drive(context(info), parse_id(id, "id"), confirmation=confirmation,
                                             survey_report=survey_report, agreement=agreement,
                                             licence_copy=licence_copy)
            return {"test_drive": test_drive_node((await _with_vin(info, [row]))[0])}
        return await run_mutation(info, TestDrivePayload, call)

    @strawberry.mutation(description="The 5S officer's inventory report for today's morning or afternoon slot; late "
                                     "is fined R6-46.")
    async def automotive_inventory_report(self, info: strawberry.Info, slot: str, note: str
                                          ) -> InventoryReportPayload:
        async def call() -> dict:
            return {"report": report_node(await stock.report_inventory(context(info), slot, note=note))}
        return await run_mutation(info, InventoryReportPayload, call)

    @strawberry.mutation(description="The sales manager records a customer taken to the main warehouse; the 5S officer "
                                     "is fined R6-58.")
    async def automotive_warehouse_visit_record(self, info: strawberry.Info, consultant_id: strawberry.ID, note: str,
                                                customer_id: strawberry.ID | None = None) -> StockRecordPayload:
        async def call() -> dict:
            row = await stock.record_warehouse_visit(
                context(info), parse_id(consultant_id, "consultantId"), note=note,
                customer_id=parse_id(customer_id, "customerId") if customer_id else None)
            return {"record": StockRecordNode(id=strawberry.ID(str(row["id"])), at=row["at"])}
        return await run_mutation(info, StockRecordPayload, call)


GRAPHQL = (GraphQLTypes(query=StockQuery, mutation=StockMutation),)

ZERO = "00000000-0000-0000-0000-000000000000"
# A valid VIN no tenant registers in the isolation suite: operations on it answer VEHICLE_NOT_FOUND.
NO_CAR = "LSVAA4181E2123456"


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    err = "errors { code }"
    return (
        Op("{ automotiveInventoryBoard(first: 100) { nodes { id vin reservedMark } } }"),
        Op("{ automotiveInventoryBoardUpdatedAt }"),
        Op("{ automotiveInventoryBoardLapses(first: 100) { nodes { id vin } } }"),
        Op("{ automotiveSecondTierOverdue(first: 100) { nodes { daysLate vehicle { id } } } }"),
        Op("{ automotiveKeyRegister(first: 100) { nodes { id vin userId } } }"),
        Op("{ automotiveTestDrivePaperwork(first: 100) { nodes { id consultantId } } }"),
        Op("{ automotiveInventoryReports(first: 100) { nodes { id day slot } } }"),
        # Each mutation is driven to success in tests/automotive/test_stock.py; here they work on ids and
        # VINs no tenant holds (a VIN registers once, a slot reports once).
        Op(f'mutation {{ automotiveStockOfficerDesignate(userId: "{ZERO}") {{ record {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveVehicleRegister(vin: "{NO_CAR[:-1]}X", model: "x", kind: "stock", '
           f'location: "4s") {{ vehicle {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveVehicleMove(vin: "{NO_CAR}", location: "4s") {{ vehicle {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveVehiclePdiRecord(vin: "{NO_CAR}", passed: true) {{ vehicle {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveVehicleClaimClose(vin: "{NO_CAR}", recovered: true, note: "x") '
           f'{{ vehicle {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveVehicleInspect(vin: "{NO_CAR}", passed: true, note: "x") '
           f'{{ record {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveToolsIssue(vin: "{NO_CAR}") {{ vehicle {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveToolsLost(vin: "{NO_CAR}", userId: "{ZERO}", reason: "x") '
           f'{{ vehicle {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveVehicleUseApprove(vin: "{NO_CAR}", userId: "{ZERO}", purpose: "commute", '
           f'note: "x") {{ use {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveKeyTake(vin: "{NO_CAR}", purpose: "test_drive") {{ keyUse {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveKeyReturn(id: "{ZERO}") {{ keyUse {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveKeyLost(id: "{ZERO}", reason: "x") {{ keyUse {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveTestDriveStart(vin: "{NO_CAR}", customerId: "{ZERO}", guideId: "{ZERO}", '
           f'agreement: true, licenceCopy: true) {{ testDrive {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveTestDriveEnd(id: "{ZERO}", confirmation: true, surveyReport: true) '
           f'{{ testDrive {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveInventoryReport(slot: "noon", note: "x") {{ report {{ id }} {err} }} }}'),
        Op(f'mutation {{ automotiveWarehouseVisitRecord(consultantId: "{ZERO}", note: "x") '
           f'{{ record {{ id }} {err} }} }}'),
    )


ISOLATION_OPERATIONS = _isolation_operations()
