"""Issue 17 point 3 for the vertical's lists: admissions, expiring qualifications, events, sales and
archive updates due are Relay connections, read one keyset window at a time under the page cap,
with the caller's department scope (MD19, MD20) applied in the query, so every page is full."""

from __future__ import annotations

from tests.medical_devices.api import (
    ADMISSIONS,
    DOCS,
    ERR,
    SALE,
    admit,
    colleague,
    customer,
    department,
    documents,
    ok,
)

SALES = ("query($first: Int, $after: String, $last: Int, $before: String) { medicalDevicesSales(first: $first, "
         "after: $after, last: $last, before: $before) { edges { cursor node { id reference } } "
         "nodes { reference } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }")
RECORD_SALE = ('mutation($c: ID!, $d: ID!, $r: String!, $on: String!) { medicalDevicesSaleRecord(customerId: $c, '
               'departmentId: $d, reference: $r, soldOn: $on) { %s %s } }' % (SALE, ERR))
EVENTS = "query($after: String) { medicalDevicesEvents(first: 1, after: $after) { nodes { id } } }"


async def _admitted(client, dep):
    cust = await customer(client)
    await documents(client, cust, DOCS["medical_institution"])
    assert (await admit(client, cust, dep))["data"]["medicalDevicesAdmit"]["errors"] == []
    return cust


async def test_md29_sales_page_forward_and_backward_in_order(kehu_client, clock):
    """MD29's sales list pages by (sold day, id): forward with first/after, backward with
    last/before, the same rows in the same order, pageInfo telling where the page lies."""
    dep = await department(kehu_client)
    cust = await _admitted(kehu_client, dep)
    for i, day in enumerate(["2026-03-05", "2026-03-01", "2026-03-04", "2026-03-02", "2026-03-03"]):
        await ok(kehu_client, RECORD_SALE, "medicalDevicesSaleRecord", c=cust, d=dep, r=f"SO-{i}", on=day)
    expected = ["SO-1", "SO-3", "SO-4", "SO-2", "SO-0"]  # oldest first
    seen, after, pages = [], None, []
    while True:
        page = await ok(kehu_client, SALES, "medicalDevicesSales", first=2, after=after)
        seen += [e["node"]["reference"] for e in page["edges"]]
        assert [n["reference"] for n in page["nodes"]] == [e["node"]["reference"] for e in page["edges"]]
        pages.append(page["pageInfo"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected and len(pages) == 3
    assert [(p["hasPreviousPage"], p["hasNextPage"]) for p in pages] == [(False, True), (True, True), (True, False)]
    back, before = [], None
    while True:
        page = await ok(kehu_client, SALES, "medicalDevicesSales", last=2, before=before)
        back = [n["reference"] for n in page["nodes"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == expected


async def test_md29_page_size_is_capped_and_cursors_belong_to_their_list(kehu_client, clock):
    """The page cap holds (PAGE_SIZE_TOO_LARGE, below 1 PAGE_SIZE_INVALID), first and last together are refused, and a cursor
    of the events list is not taken by the sales list (CURSOR_INVALID)."""
    body = await kehu_client.execute(SALES, first=100_000)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_TOO_LARGE"]
    body = await kehu_client.execute(SALES, first=0)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_INVALID"]
    body = await kehu_client.execute(SALES, first=1, last=1)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_ARGUMENTS_CONFLICT"]
    for i in range(2):
        await ok(kehu_client, 'mutation($t: String!) { medicalDevicesEventPlan(kind: "forum", title: $t, '
                 'plannedOn: "2026-06-01", plan: "议程") { event { id } errors { code } } }',
                 "medicalDevicesEventPlan", t=f"恳谈会{i}")
    cursor = (await kehu_client.execute(
        "{ medicalDevicesEvents(first: 1) { pageInfo { endCursor } } }"))["data"]["medicalDevicesEvents"]["pageInfo"]["endCursor"]
    assert len((await ok(kehu_client, EVENTS, "medicalDevicesEvents", after=cursor))["nodes"]) == 1
    body = await kehu_client.execute(SALES, first=1, after=cursor)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["CURSOR_INVALID"]


async def test_md20_a_department_reader_gets_full_pages_of_its_departments_admissions(kehu_client, kehu_tenant, clock):
    """MD19, MD20: a reader with department scope sees only its department's admissions (newest
    first) and each page is full: the scope is in the query, not applied to a page already read."""
    x, y = await department(kehu_client), await department(kehu_client)
    mine = []
    for _ in range(3):
        clock.advance(minutes=1)
        await _admitted(kehu_client, y)  # another department's, interleaved
        clock.advance(minutes=1)
        mine.append(await _admitted(kehu_client, x))
    reader = await colleague(kehu_client, kehu_tenant, ["medical_devices.customer.read"], scope="DEPARTMENT",
                             department_ids=[x])
    first = await ok(reader, ADMISSIONS, "medicalDevicesAdmissions", first=2)
    assert [a["customerId"] for a in first["nodes"]] == mine[::-1][:2] and first["pageInfo"]["hasNextPage"]
    rest = await ok(reader, ADMISSIONS, "medicalDevicesAdmissions", first=2, after=first["pageInfo"]["endCursor"])
    assert [a["customerId"] for a in rest["nodes"]] == mine[:1] and not rest["pageInfo"]["hasNextPage"]
    assert await ok(reader, ADMISSIONS, "medicalDevicesAdmissions", d=y, first=2) == {
        "nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    everyone = await ok(kehu_client, ADMISSIONS, "medicalDevicesAdmissions", first=50)
    assert len(everyone["nodes"]) == 6
