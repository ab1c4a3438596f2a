"""Temporary changes that revert one working day after the customer's order (S21 Art8, Art9, Art11, Art12),
order-phone changes, the watch list of customers who changed phone twice within a month and the daily
report to the internal-management section (Art12). On a controlled clock and the real working-day calendar
(the Mid-Autumn and National Day holidays of 2026)."""

from __future__ import annotations

from datetime import datetime

from plugins.tobacco import reports, service
from tests.medical_devices.api import ok, refused
from tests.plugins.tobacco.conftest import ERR, extensions, local, maintain, on_app, retailer

APPLY = ("mutation($c: ID!, $k: TobaccoTemporaryKind!, $r: TobaccoTemporaryReason!, $p: String) { "
         "tobaccoTemporaryChangeApply(customerId: $c, kind: $k, reason: $r, phone: $p) { temporaryChange { id state "
         "kind } %s } }" % ERR)
ORDER = "mutation($c: ID!, $at: DateTime!) { tobaccoOrderRecord(customerId: $c, at: $at) { waitingToRevert %s } }" % ERR
TEMPORARY = ("query($id: ID!) { tobaccoTemporaryChange(id: $id) { state orderedAt revertAt revertDueAt revertedAt "
             "failure } }")
UNREVERTED = "{ tobaccoTemporaryChangesUnreverted(first: 100) { nodes { id customerId state failure } } }"
WATCH = "{ tobaccoWatchList(first: 100) { nodes { customerId changes } } }"
PHONES = ("query($d: Date!, $after: String) { tobaccoPhoneChanges(day: $d, first: 2, after: $after) { nodes { id "
          "customerId kind } pageInfo { hasNextPage endCursor } } }")
REPORTS = "{ tobaccoPhoneReports(first: 100) { nodes { day changes } } }"
ORDERING = "mutation($c: ID!) { tobaccoOrderingMethodSet(customerId: $c, method: ONLINE) { version %s } }" % ERR


async def _online(company, phone: str) -> str:
    customer = await retailer(company["analyst"], phone=phone)
    await ok(company["analyst"], ORDERING, "tobaccoOrderingMethodSet", c=customer)
    return customer


async def test_s21_art11_a_temporary_switch_to_phone_ordering_reverts_one_working_day_after_the_order(company, clock):
    analyst = company["analyst"]
    customer = await _online(company, "13800000011")
    made = (await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDERING_METHOD",
                     r="SYSTEM_FAILURE", p=None))["temporaryChange"]
    assert (await extensions(analyst, customer))["extensions"]["tobacco"]["ordering_method"] == "phone"
    again = await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDERING_METHOD",
                     r="DEVICE_FAILURE", p=None)
    assert again["temporaryChange"]["id"] == made["id"]  # the open switch stands; no second one
    # nothing reverts before the customer orders
    assert await on_app(company, service.revert_due, local(2026, 9, 30, 9, 0)) == 0
    clock.set(local(2026, 9, 24, 15, 0))
    await ok(analyst, ORDER, "tobaccoOrderRecord", c=customer, at=local(2026, 9, 24, 14, 30).isoformat())
    view = await ok(analyst, TEMPORARY, "tobaccoTemporaryChange", id=made["id"])
    # ordered on Thursday 24 Sep: Friday is Mid-Autumn, so the next working day is Monday 28 Sep
    assert datetime.fromisoformat(view["revertAt"]) == local(2026, 9, 28, 9, 0)
    assert datetime.fromisoformat(view["revertDueAt"]) == local(2026, 9, 28, 18, 0)
    assert await on_app(company, service.revert_due, local(2026, 9, 25, 12, 0)) == 0  # the holiday: not yet
    assert await on_app(company, service.revert_due, local(2026, 9, 28, 9, 0)) == 1
    assert await on_app(company, service.revert_due, local(2026, 9, 28, 9, 0)) == 0  # once
    view = await ok(analyst, TEMPORARY, "tobaccoTemporaryChange", id=made["id"])
    assert view["state"] == "reverted"
    assert (await extensions(analyst, customer))["extensions"]["tobacco"]["ordering_method"] == "online"
    assert (await ok(analyst, UNREVERTED, "tobaccoTemporaryChangesUnreverted"))["nodes"] == []


async def test_s21_art11_a_temporary_change_that_could_not_revert_is_reported(company, clock):
    analyst = company["analyst"]
    changed = await _online(company, "13800000012")
    waiting = await _online(company, "13800000013")
    first = (await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=changed, k="ORDERING_METHOD",
                      r="DEVICE_FAILURE", p=None))["temporaryChange"]
    second = (await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=waiting, k="ORDERING_METHOD",
                       r="SYSTEM_FAILURE", p=None))["temporaryChange"]
    clock.set(local(2026, 9, 29, 16, 0))
    for customer in (changed, waiting):
        await ok(analyst, ORDER, "tobaccoOrderRecord", c=customer, at=local(2026, 9, 29, 15, 0).isoformat())
    # the first customer's ordering method was set again meanwhile (from phone, no special change needed)
    await ok(analyst, "mutation($c: ID!) { tobaccoOrderingMethodSet(customerId: $c, method: MOBILE, agreementUntil: "
             "\"2027-12-31\") { version %s } }" % ERR, "tobaccoOrderingMethodSet", c=changed)
    clock.set(local(2026, 9, 30, 9, 30))
    # the revert of the first runs on 30 Sep and finds its field changed: it leaves it and reports it
    assert await on_app(company, service.revert_due_one, first["id"], local(2026, 9, 30, 9, 30)) == 1
    view = await ok(analyst, TEMPORARY, "tobaccoTemporaryChange", id=first["id"])
    assert view["state"] == "unreverted" and view["failure"] == "changed_since"
    assert (await extensions(analyst, changed))["extensions"]["tobacco"]["ordering_method"] == "mobile"
    # the second has not run by the close of its working day (the tick stopped): overdue, reported too
    clock.set(local(2026, 9, 30, 18, 1))
    listed = (await ok(analyst, UNREVERTED, "tobaccoTemporaryChangesUnreverted"))["nodes"]
    assert {(n["id"], n["state"]) for n in listed} == {(first["id"], "unreverted"), (second["id"], "ordered")}


async def test_s21_art12_a_second_phone_change_within_a_month_puts_the_customer_on_the_watch_list(company, clock):
    analyst, internal = company["analyst"], company["internal"]
    customer = await retailer(analyst, phone="13800000021")
    quiet = await retailer(analyst, phone="13800000022")
    clock.set(local(2026, 9, 24, 10, 0))
    await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDER_PHONE", r="PHONES_FAULTY",
             p="13900000021")
    assert (await ok(internal, WATCH, "tobaccoWatchList"))["nodes"] == []  # one change
    other = await refused(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDER_PHONE",
                          r="PHONES_FAULTY", p="13900000099")
    assert other["code"] == "TOBACCO_TEMPORARY_CHANGE_OPEN"  # another number while one is open
    duplicate = await refused(analyst, APPLY, "tobaccoTemporaryChangeApply", c=quiet, k="ORDER_PHONE",
                              r="PHONES_FAULTY", p="13900000021")
    assert duplicate["code"] == "TOBACCO_PHONE_DUPLICATE"  # the duplicate check comes first (Art12)
    clock.set(local(2026, 9, 24, 11, 0))
    await ok(analyst, ORDER, "tobaccoOrderRecord", c=customer, at=local(2026, 9, 24, 10, 30).isoformat())
    assert await on_app(company, service.revert_due, local(2026, 9, 28, 9, 0)) == 1  # the revert is no new change
    assert (await ok(internal, WATCH, "tobaccoWatchList"))["nodes"] == []
    clock.set(local(2026, 10, 20, 10, 0))  # within a month of the first
    await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDER_PHONE", r="PHONES_FAULTY",
             p="13900000031")
    watched = (await ok(internal, WATCH, "tobaccoWatchList"))["nodes"]
    assert watched == [{"customerId": customer, "changes": 2}]


async def test_s21_art12_changes_a_month_apart_do_not_watch_list(company, clock):
    analyst = company["analyst"]
    customer = await retailer(analyst, phone="13800000041")
    clock.set(local(2026, 9, 1, 10, 0))
    await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDER_PHONE", r="PHONES_FAULTY",
             p="13900000041")
    clock.set(local(2026, 9, 1, 11, 0))
    await ok(analyst, ORDER, "tobaccoOrderRecord", c=customer, at=local(2026, 9, 1, 10, 30).isoformat())
    await on_app(company, service.revert_due, local(2026, 9, 2, 9, 0))
    clock.set(local(2026, 10, 2, 10, 0))  # more than a calendar month later
    await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customer, k="ORDER_PHONE", r="PHONES_FAULTY",
             p="13900000042")
    assert (await ok(company["internal"], WATCH, "tobaccoWatchList"))["nodes"] == []


async def test_s21_art12_the_daily_report_lists_every_phone_change_of_the_day_exactly_once(company, clock):
    analyst, internal = company["analyst"], company["internal"]
    clock.set(local(2026, 9, 28, 8, 0))
    customers = [await retailer(analyst, phone=f"1380000005{i}") for i in range(3)]  # three first phones on 28 Sep
    clock.set(local(2026, 9, 28, 23, 59))
    await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customers[0], k="ORDER_PHONE", r="PHONES_FAULTY",
             p="13900000051")
    clock.set(local(2026, 9, 29, 0, 0))  # the next local day starts here
    await ok(analyst, APPLY, "tobaccoTemporaryChangeApply", c=customers[1], k="ORDER_PHONE", r="PHONES_FAULTY",
             p="13900000052")
    seen: list[str] = []
    after = None
    while True:  # paged two at a time: each change once, none between the pages lost
        page = (await ok(internal, PHONES, "tobaccoPhoneChanges", d="2026-09-28", after=after))
        seen.extend(n["id"] for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 4
    day_after = (await ok(internal, PHONES, "tobaccoPhoneChanges", d="2026-09-29", after=None))["nodes"]
    assert [n["kind"] for n in day_after] == ["temporary"] and day_after[0]["customerId"] == customers[1]
    # the reports: one per ended day, from the first change on, produced once
    made = await on_app(company, reports.produce_phone_reports, local(2026, 9, 30, 0, 5))
    assert made == 2
    assert await on_app(company, reports.produce_phone_reports, local(2026, 9, 30, 0, 6)) == 0
    produced = (await ok(internal, REPORTS, "tobaccoPhoneReports"))["nodes"]
    assert sorted((r["day"], r["changes"]) for r in produced) == [("2026-09-28", 4), ("2026-09-29", 1)]


async def test_s21_art12_a_first_order_phone_is_checked_for_duplicates(company):
    analyst = company["analyst"]
    await retailer(analyst, phone="13800000061")
    other = await retailer(analyst)
    error = await refused(analyst, "mutation($c: ID!, $v: JSON!) { tobaccoMasterDataMaintain(customerId: $c, values: $v) "
                          "{ version %s } }" % ERR, "tobaccoMasterDataMaintain", c=other, v={"order_phone": "13800000061"})
    assert error["code"] == "TOBACCO_PHONE_DUPLICATE"
    assert await maintain(analyst, other, order_phone="13800000062")
