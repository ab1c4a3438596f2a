"""Issue 17 point 3: every list of the schema is a Relay connection (first/after, last/before, a
full pageInfo, edges and nodes, under the page cap), cursors are checked, and node(id:) fetches
each Node type again by its id while refusing what the caller may not read, like every lookup."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType
from litestar.testing import AsyncTestClient

from core.identity import roles, users
from core.identity.permissions import Scope
from gateway.app import create_app
from gateway.graphql.common import global_id
from gateway.graphql.schema import build_schema
from tests.gateway.test_identity_api import gql, login, new_user
from tests.isolation.machine import ARCHIVE_PERMISSIONS, VIN
from tests.support import SYSTEM

# Lists that are catalogs of the deployment or the tenant's configuration, not records: a few
# entries each, no ids of their own.
CATALOGS = {"permissions", "verticals", "tenantVerticals", "retentionPolicies", "complaintFlows"}
PAGE_ARGUMENTS = {"first", "after", "last", "before"}


def _unwrap(graphql_type):
    while isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return graphql_type


def _connections(schema) -> dict[str, GraphQLObjectType]:
    return {name: _unwrap(field.type) for name, field in schema.query_type.fields.items()
            if isinstance(_unwrap(field.type), GraphQLObjectType) and _unwrap(field.type).name.endswith("Connection")}


def test_every_list_of_records_is_a_full_relay_connection(sqlite_settings):
    """Issue 17 point 3: no root list of records is a bare [X!]!; each connection takes first, after,
    last and before and answers edges { cursor node }, nodes and the four pageInfo fields."""
    schema = build_schema(sqlite_settings)._schema
    bare = [name for name, field in schema.query_type.fields.items()
            if isinstance(_unwrap(field.type), GraphQLList) and name not in CATALOGS]
    assert bare == [], f"lists that are not connections: {bare}"
    connections = _connections(schema)
    for expected in ("users", "customers", "auditEntries", "roleChanges", "customerHistory", "customerMerges",
                     "archiveFolders", "archives", "kpiLedger", "missingArchiveReports", "webhookDeliveries",
                     "webhookAttempts", "jobs", "customerConsents", "consentHistory", "incidents", "archiveLoans",
                     "accessRequests", "subjectRequests", "complaints", "customerTimeline"):
        assert expected in connections, expected
    for name, connection in connections.items():
        assert PAGE_ARGUMENTS <= set(schema.query_type.fields[name].args), name
        assert {"edges", "nodes", "pageInfo"} <= set(connection.fields), name
        edge = _unwrap(_unwrap(connection.fields["edges"].type).of_type)
        assert set(edge.fields) == {"cursor", "node"}, name
    page_info = schema.type_map["PageInfo"]
    assert set(page_info.fields) == {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
    node = schema.type_map["Node"]
    assert set(node.fields) == {"id"}
    assert {t.name for t in schema.get_implementations(node).objects} == {
        "User", "Customer", "ArchiveFolder", "Archive", "Job", "AccessRequest", "SubjectRequest", "Complaint", "GradeReview"}


@pytest.fixture
async def client(settings, seeded):
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                          "tick_interval_seconds": 3600})
    app = create_app(relaxed)  # knows the verticals' permissions from here on
    # Acme's administrator also archives for the automotive vertical (granted before the app runs:
    # giving oneself permissions through the API is PERMISSION_ESCALATION).
    system = SYSTEM.for_tenant(seeded.acme.id)
    [admin] = [u for u in (await users.list_users(system, first=10))[0] if u.username == "admin"]
    archivist = await roles.create_role(system, name="档案", permissions=dict.fromkeys(ARCHIVE_PERMISSIONS, Scope.TENANT))
    await roles.grant_role(system, user_id=admin.id, role_id=archivist.id)
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def _data(client, token, query, **variables) -> dict:
    body = (await gql(client, query, token, **variables)).json()
    assert not body.get("errors"), body
    return body["data"]


async def _errors(client, token, query, **variables) -> list[tuple[str, str | None]]:
    body = (await gql(client, query, token, **variables)).json()
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body.get("errors") or []]


async def _customer(client, token, name: str) -> dict:
    created = (await _data(client, token, 'mutation($n: String!) { customerCreate(input: {kind: "organisation", '
                                          'orgName: $n}) { customer { id version } errors { code } } }',
                           n=name))["customerCreate"]
    assert created["errors"] == [], created
    return created["customer"]


@pytest.fixture
async def world(client):
    """Acme with a few rows in many lists: users, departments, API keys, customers (one changed
    several times), access requests, export jobs, assessments and incidents; an archive folder and
    an archive of the automotive vertical; a subject request."""
    token = (await login(client))["accessToken"]
    admin = (await _data(client, token, "{ me { user { id } } }"))["me"]["user"]
    for i in range(3):
        await new_user(client, token, f"staff{i}")
        await _data(client, token, 'mutation($n: String!) { departmentCreate(name: $n) { errors { code } } }',
                    n=f"部门{i}")
        await _data(client, token, 'mutation($n: String!) { apiKeyCreate(name: $n, permissions: ["customer.read"]) '
                                   '{ errors { code } } }', n=f"key{i}")
        await _data(client, token, 'mutation($n: String!) { accessRequestCreate(purpose: $n) { errors { code } } }',
                    n=f"用途{i}")
        await _data(client, token, "mutation { auditExportStart { job { id } errors { code } } }")
        await _data(client, token, 'mutation($n: String!) { assessmentCreate(input: {subject: $n, processing: "p", '
                                   'risks: "r", measures: "m", conclusion: "c", assessor: "a", '
                                   'assessedAt: "2026-01-01T00:00:00Z"}) { errors { code } } }', n=f"评估{i}")
        await _data(client, token, 'mutation($n: String!) { incidentCreate(input: {summary: $n, '
                                   'discoveredAt: "2026-01-01T00:00:00Z", affectedCount: 1}) { errors { code } } }',
                    n=f"事件{i}")
    customers = [await _customer(client, token, f"客户{i}") for i in range(5)]
    first = customers[0]
    for i in range(3):
        updated = (await _data(client, token, 'mutation($id: ID!, $v: Int!, $t: String!) { customerUpdate(id: $id, '
                                              'version: $v, input: {tags: [$t]}, reason: "relay") '
                                              '{ customer { version } errors { code } } }',
                               id=first["id"], v=first["version"], t=f"标签{i}"))["customerUpdate"]
        assert updated["errors"] == [], updated
        first = {**first, "version": updated["customer"]["version"]}
    await gql(client, 'mutation { verticalEnable(verticalId: "automotive") { errors { code } } }', token)
    # the medical-devices lists are connections too (walked empty here; tests/medical_devices pages them)
    await gql(client, 'mutation { verticalEnable(verticalId: "medical_devices") { errors { code } } }', token)
    # and the real-estate lists (receptions, campaigns, violations, follow-ups: tests/plugins/real_estate pages them)
    await gql(client, 'mutation { verticalEnable(verticalId: "real_estate") { errors { code } } }', token)
    await gql(client, 'mutation { verticalEnable(verticalId: "tobacco") { errors { code } } }', token)
    folder = (await _data(client, token, 'mutation($c: ID!, $k: String!) { archiveFolderCreate(vertical: "automotive", '
                                         'subjectKey: $k, ownerCustomerId: $c, facts: {}) '
                                         '{ folder { id } errors { code } } }', c=first["id"], k=VIN))["archiveFolderCreate"]
    assert folder["errors"] == [], folder
    archive = (await _data(client, token, 'mutation($f: ID!) { archiveCreate(folderId: $f, standard: '
                                          '"service_archive", facts: {}) { archive { id } errors { code } } }',
                           f=folder["folder"]["id"]))["archiveCreate"]
    assert archive["errors"] == [], archive
    subject = (await _data(client, token, 'mutation($c: ID!) { subjectRequestCreate(customerId: $c, kind: "access", '
                                          'channel: "web") { request { id } errors { code } } }',
                           c=first["id"]))["subjectRequestCreate"]
    assert subject["errors"] == [], subject
    job = (await _data(client, token, "{ jobs(first: 1) { nodes { id } } }"))["jobs"]["nodes"][0]
    access = (await _data(client, token, "{ accessRequests(first: 1) { nodes { id } } }"))["accessRequests"]["nodes"][0]
    ids = {"User": admin["id"], "Customer": first["id"], "ArchiveFolder": folder["folder"]["id"],
           "Archive": archive["archive"]["id"], "Job": job["id"], "AccessRequest": access["id"],
           "SubjectRequest": subject["request"]["id"]}
    return {"token": token, "customer": first["id"], "ids": ids}


# Arguments the connections need, from the world.
def _arguments(name: str, world: dict) -> tuple[str, str, dict]:
    """(variable declarations, field arguments, variables) of the connection ``name``."""
    by_customer = {"customerHistory": "id", "customerTimeline": "id", "customerMerges": "id", "customerConsents": "customerId",
                   "consentHistory": "customerId", "gradeHistory": "customerId", "customerGrades": "customerId",
                   "attributionLedger": "customerId", "customerRelations": "customerId"}
    if name in by_customer:
        return ", $id: ID!", f"{by_customer[name]}: $id, ", {"id": world["customer"]}
    if name == "webhookAttempts":
        return ", $id: ID!", "deliveryId: $id, ", {"id": str(uuid.uuid4())}
    if name == "missingArchiveReports":
        return "", "openOnly: false, ", {}
    if name == "tobaccoPhoneChanges":
        return "", 'day: "2026-09-28", ', {}
    if name == "workingDays":
        return "", 'from: "2026-09-28", to: "2026-10-09", ', {}  # National Day week and the days around it
    return "", "", {}


async def _page(client, token, name, world, **page) -> dict:
    declared, arguments, variables = _arguments(name, world)
    query = (f"query($first: Int, $after: String, $last: Int, $before: String{declared}) {{ {name}({arguments}"
             "first: $first, after: $after, last: $last, before: $before) { edges { cursor } "
             "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }")
    body = (await gql(client, query, token, **variables, **page)).json()
    assert not body.get("errors"), (name, body)
    return body["data"][name]


async def test_every_connection_pages_forward_and_backward_to_the_same_rows(client, world, sqlite_settings):
    """Issue 17 point 3: walking any connection two rows at a time with first/after, or backward
    with last/before, gives exactly the rows of one whole page, in the same order; pageInfo says
    at every page whether rows lie after and before it, and names its first and last cursor."""
    token = world["token"]
    walked = {}
    for name in _connections(build_schema(sqlite_settings)._schema):
        if name == "webhookAttempts":
            continue  # no delivery exists here: test_webhook_attempts_page_in_sql_... walks one
        whole = [e["cursor"] for e in (await _page(client, token, name, world, first=100))["edges"]]
        forward, after, pages = [], None, 0
        while True:
            page = await _page(client, token, name, world, first=2, after=after)
            cursors = [e["cursor"] for e in page["edges"]]
            info = page["pageInfo"]
            assert info["hasPreviousPage"] is (pages > 0), (name, pages, info)
            assert info["startCursor"] == (cursors[0] if cursors else None), name
            assert info["endCursor"] == (cursors[-1] if cursors else None), name
            forward += cursors
            pages += 1
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        assert forward == whole, name
        backward, before, pages = [], None, 0
        while True:
            page = await _page(client, token, name, world, last=2, before=before)
            cursors = [e["cursor"] for e in page["edges"]]
            info = page["pageInfo"]
            assert info["hasNextPage"] is (pages > 0), (name, pages, info)
            backward = cursors + backward
            pages += 1
            if not info["hasPreviousPage"]:
                break
            before = info["startCursor"]
        assert backward == whole, name
        walked[name] = len(whole)
    # the lists the world filled were walked over more than one page each way
    for name in ("users", "departments", "apiKeys", "customers", "auditEntries", "customerHistory", "customerConsents",
                 "jobs", "accessRequests", "assessments", "incidents"):
        assert walked[name] >= 3, (name, walked[name])


async def test_page_info_at_the_ends_of_a_list(client, world):
    """Issue 17 point 3: a page holding the whole list has no next or previous page; one row short
    of it has a next page going forward and a previous page going backward."""
    token = world["token"]
    for name in ("users", "departments", "customers", "jobs"):
        total = len((await _page(client, token, name, world, first=100))["edges"])
        whole = (await _page(client, token, name, world, first=total))["pageInfo"]
        assert (whole["hasNextPage"], whole["hasPreviousPage"]) == (False, False), name
        short = (await _page(client, token, name, world, first=total - 1))["pageInfo"]
        assert (short["hasNextPage"], short["hasPreviousPage"]) == (True, False), name
        tail = (await _page(client, token, name, world, last=total - 1))["pageInfo"]
        assert (tail["hasNextPage"], tail["hasPreviousPage"]) == (False, True), name
        everything = (await _page(client, token, name, world, last=total))["pageInfo"]
        assert (everything["hasNextPage"], everything["hasPreviousPage"]) == (False, False), name


def _tampered(cursor: str) -> list[str]:
    raw = json.loads(base64.urlsafe_b64decode(cursor))
    other_list = base64.urlsafe_b64encode(json.dumps(["departments", raw[1]]).encode()).decode()
    bad_key = base64.urlsafe_b64encode(json.dumps([raw[0], ["yesterday", "x"]]).encode()).decode()
    not_a_list = base64.urlsafe_b64encode(json.dumps({"seq": 1}).encode()).decode()
    return ["garbage!", cursor[:-4], other_list, bad_key, not_a_list, "W10="]


async def test_tampered_and_foreign_cursors_are_refused_with_cursor_invalid(client, world):
    """Issue 17 point 3: a cursor that is not one this list gave out (garbage, cut short, another
    list's, a key of the wrong shape) is CURSOR_INVALID on after and on before, never a page."""
    token = world["token"]
    for name in ("jobs", "customers", "auditEntries", "roleChanges", "accessRequests", "incidents", "users"):
        page = await _page(client, token, name, world, first=1)
        if not page["edges"]:
            continue
        for bad in _tampered(page["edges"][0]["cursor"]):
            for argument in ("after", "before"):
                declared, arguments, variables = _arguments(name, world)
                codes = await _errors(client, token, f"query($c: String{declared}) {{ {name}({arguments}"
                                                     f"{argument}: $c) {{ nodes {{ __typename }} }} }}",
                                      c=bad, **variables)
                assert codes == [("CURSOR_INVALID", argument)], (name, bad, argument, codes)


async def test_first_and_last_together_and_sizes_beyond_the_cap_are_refused(client, world, settings):
    """Issue 17 point 3: first with last is PAGE_ARGUMENTS_CONFLICT; a size below 1 is
    PAGE_SIZE_INVALID naming the argument, one above the page cap PAGE_SIZE_TOO_LARGE, on every
    connection (last as well as first)."""
    token = world["token"]
    cap = settings.page_size_max
    assert await _errors(client, token, "{ jobs(first: 2, last: 2) { nodes { id } } }") == [
        ("PAGE_ARGUMENTS_CONFLICT", "last")]
    for argument, value in (("first", 0), ("first", cap + 1), ("last", 0), ("last", cap + 1)):
        for name in ("incidents", "jobs", "customers"):
            codes = await _errors(client, token, f"{{ {name}({argument}: {value}) {{ nodes {{ __typename }} }} }}")
            if value == 0:
                assert codes == [("PAGE_SIZE_INVALID", argument)], (name, codes)
            else:  # the validation rules (gateway/graphql/limits.py) refuse it before it runs
                assert [code for code, _ in codes] == ["PAGE_SIZE_TOO_LARGE"], (name, codes)


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_node_fetches_every_node_type_by_its_id_and_by_its_global_id(client, world):
    """Issue 17 point 3: node(id:) answers each Node type again, from the id the type gives and
    from its global id (base64 of "Type:uuid"); ID arguments take the global id too."""
    token = world["token"]
    for type_name, id_ in world["ids"].items():
        for asked in (id_, global_id(type_name, uuid.UUID(id_))):
            node = (await _data(client, token, NODE, id=asked))["node"]
            assert node == {"__typename": type_name, "id": id_}, (type_name, asked, node)
    customer = (await _data(client, token, "query($id: ID!) { customer(id: $id) { id } }",
                            id=global_id("Customer", uuid.UUID(world["customer"]))))["customer"]
    assert customer == {"id": world["customer"]}


async def test_node_masks_like_the_types_own_query(client, world):
    """Issue 17 point 3: node goes through the type's own service call, so a customer read through
    node shows the same masked personal fields as customer(id:)."""
    token = world["token"]
    query = "query($id: ID!) { node(id: $id) { ... on Customer { id phones displayName } } }"
    own = "query($id: ID!) { customer(id: $id) { id phones displayName } }"
    assert (await _data(client, token, query, id=world["customer"]))["node"] == \
        (await _data(client, token, own, id=world["customer"]))["customer"]


async def test_node_refuses_other_tenants_ids_like_a_missing_id(client, world):
    """Issue 17 point 3: another tenant's id, raw or global, answers null exactly as an id that
    does not exist; so does an id that is not one, or names no Node type. The type's own lookup
    says NOT_FOUND for the same ids."""
    other = (await login(client, tenant="globex"))["accessToken"]
    for type_name, id_ in world["ids"].items():
        for asked in (id_, global_id(type_name, uuid.UUID(id_))):
            assert (await _data(client, other, NODE, id=asked)) == {"node": None}, (type_name, asked)
    for nothing in (str(uuid.uuid4()), global_id("Customer", uuid.uuid4()), "not-an-id",
                    global_id("Nonsense", uuid.UUID(world["customer"]))):
        assert (await _data(client, other, NODE, id=nothing)) == {"node": None}, nothing
    codes = await _errors(client, other, "query($id: ID!) { customer(id: $id) { id } }", id=world["customer"])
    assert codes and codes[0][0] == "NOT_FOUND"


async def test_node_needs_the_types_permission_and_a_signed_in_caller(client, world):
    """Issue 17 point 3: a user without customer.read reads no customer through node (null), and
    an anonymous caller is told to sign in rather than answered."""
    token = world["token"]
    await new_user(client, token, "nobody")
    nobody = (await login(client, username="nobody"))["accessToken"]
    assert (await _data(client, nobody, NODE, id=world["customer"])) == {"node": None}
    assert (await _errors(client, None, NODE, id=world["customer"]))[0][0] == "UNAUTHENTICATED"


async def test_a_row_added_meanwhile_does_not_shift_the_next_page(client, world):
    """Issue 17 point 3: long lists page from the cursor's row, not an offset: a job started
    between two pages (newest, so first in the list) neither repeats nor hides a row of the next."""
    token = world["token"]
    whole = [e["cursor"] for e in (await _page(client, token, "jobs", world, first=100))["edges"]]
    first = await _page(client, token, "jobs", world, first=2)
    await _data(client, token, "mutation { auditExportStart { job { id } errors { code } } }")
    second = await _page(client, token, "jobs", world, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["cursor"] for e in second["edges"]] == whole[2:4]
    assert second["pageInfo"]["hasPreviousPage"] is True


# --- lists that moved from in-memory pages to SQL keyset pages (issue 17 point 3) -----------------

async def _walk(client, token, name: str, arguments: str = "", fields: str = "id", declared: str = "",
                **variables) -> list[dict]:
    """The whole of the connection ``name`` (one page of 100), after checking that walking it two
    rows at a time forward (first/after) and backward (last/before) gives exactly those rows, in
    that order, none skipped or repeated, with pageInfo telling at every page what lies beyond."""
    query = (f"query($first: Int, $after: String, $last: Int, $before: String{declared}) {{ {name}({arguments}"
             f"first: $first, after: $after, last: $last, before: $before) {{ edges {{ cursor node {{ {fields} }} }} "
             "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }")

    async def page(**window) -> dict:
        return (await _data(client, token, query, **variables, **window))[name]

    whole = (await page(first=100))["edges"]
    assert len(whole) < 100, name
    forward, after, pages = [], None, 0
    while True:
        got = await page(first=2, after=after)
        info = got["pageInfo"]
        assert info["hasPreviousPage"] is (pages > 0), (name, pages, info)
        forward += got["edges"]
        pages += 1
        if not info["hasNextPage"]:
            break
        assert len(got["edges"]) == 2, (name, "a page cut short", got)
        after = info["endCursor"]
    assert forward == whole, (name, "forward")
    backward, before, pages = [], None, 0
    while True:
        got = await page(last=2, before=before)
        info = got["pageInfo"]
        assert info["hasNextPage"] is (pages > 0), (name, pages, info)
        backward = got["edges"] + backward
        pages += 1
        if not info["hasPreviousPage"]:
            break
        assert len(got["edges"]) == 2, (name, "a page cut short", got)
        before = info["startCursor"]
    assert backward == whole, (name, "backward")
    # a page from the middle, both ways, lies exactly between its cursors
    if len(whole) >= 5:
        middle = await page(first=2, after=whole[1]["cursor"])
        assert middle["edges"] == whole[2:4], name
        middle = await page(last=2, before=whole[4]["cursor"])
        assert middle["edges"] == whole[2:4], name
    rows = [json.dumps(e["node"], sort_keys=True) for e in whole]
    assert len(set(rows)) == len(rows), (name, "a row twice")
    return [e["node"] for e in whole]


async def _refuses_other_lists_cursors(client, token, name: str, cursor: str, arguments: str = "",
                                       declared: str = "", **variables) -> None:
    for bad in _tampered(cursor):
        for argument in ("after", "before"):
            codes = await _errors(client, token, f"query($c: String{declared}) {{ {name}({arguments}{argument}: $c) "
                                                 "{ nodes { __typename } } }", c=bad, **variables)
            assert codes == [("CURSOR_INVALID", argument)], (name, bad, argument, codes)


async def test_missing_archive_reports_page_in_sql_soonest_due_first(client, world):
    """Issue 17 point 3: missingArchiveReports pages in the database (keyset on due_at, subject key,
    id): walked two at a time forward and backward with openOnly on and off, it gives every report
    once, soonest due first then by subject key, the open-only filter applied before paging so no
    page is cut short; another list's cursor is CURSOR_INVALID."""
    token = world["token"]
    query = ('mutation($s: String!, $rows: [ExpectedArchiveInput!]!) { archiveExpectedImport(vertical: "automotive", '
             'standard: "service_archive", source: $s, period: "2026-11", rows: $rows) '
             '{ reconciliation { id } errors { code } } }')
    keys = ["VIN-E", "VIN-B", VIN, "VIN-D", "VIN-A", "VIN-C"]
    for source, chosen in (("DMS", keys), ("CRM", keys[:4])):  # the same keys twice: ties broken by id
        done = (await _data(client, token, query, s=source, rows=[{"key": k} for k in chosen]))["archiveExpectedImport"]
        assert done["errors"] == [], done
    submitted = (await _data(client, token, 'mutation($id: ID!) { archiveSubmit(id: $id) { errors { code } } }',
                             id=world["ids"]["Archive"]))["archiveSubmit"]
    assert submitted["errors"] == [], submitted  # resolves both reports of VIN
    fields = "id subjectKey dueAt resolvedAt"
    everything = await _walk(client, token, "missingArchiveReports", "openOnly: false, ", fields)
    assert len(everything) == 10
    assert everything == sorted(everything, key=lambda m: (datetime.fromisoformat(m["dueAt"]), m["subjectKey"], m["id"]))
    assert sorted(m["subjectKey"] for m in everything if m["resolvedAt"]) == [VIN, VIN]
    open_ = await _walk(client, token, "missingArchiveReports", "openOnly: true, ", fields)
    assert open_ == [m for m in everything if m["resolvedAt"] is None] and len(open_) == 8
    page = (await _data(client, token, "{ missingArchiveReports(first: 1) { edges { cursor } } }"))
    await _refuses_other_lists_cursors(client, token, "missingArchiveReports",
                                       page["missingArchiveReports"]["edges"][0]["cursor"])


async def test_archive_loans_page_in_sql_newest_first_with_their_filters(client, world, monkeypatch):
    """Issue 17 point 3: archiveLoans pages in the database (keyset on lent_at, id, newest first);
    its filters (overdue, openOnly, customerId) are in the query, so walking it two at a time
    forward and backward under each filter gives exactly the loans the filter keeps, none skipped
    or repeated, no page cut short; another list's cursor is CURSOR_INVALID."""
    from core.privacy import borrowing  # the register's clock, moved ahead to make loans overdue

    token = world["token"]
    other = (await _customer(client, token, "借阅客户"))["id"]
    lend = ('mutation($c: ID!, $b: ID!, $t: String!, $d: DateTime!) { archiveLend(customerId: $c, borrowerId: $b, '
            'content: $t, dueAt: $d) { loan { id } errors { code } } }')
    start = borrowing.now()
    loans = []
    for i in range(9):
        due = start + timedelta(days=2 if i % 3 else 30)
        lent = (await _data(client, token, lend, c=world["customer"] if i % 2 else other, b=world["ids"]["User"],
                            t=f"卷{i}", d=due.isoformat()))["archiveLend"]
        assert lent["errors"] == [], lent
        loans.append(lent["loan"]["id"])
    for loan in loans[:3]:
        back = (await _data(client, token, 'mutation($id: ID!) { archiveReturn(loanId: $id) { errors { code } } }',
                            id=loan))["archiveReturn"]
        assert back["errors"] == [], back
    monkeypatch.setattr(borrowing, "now", lambda: start + timedelta(days=10))
    fields = "id customerId lentAt returnedAt overdue"
    everything = await _walk(client, token, "archiveLoans", fields=fields)
    assert [loan["id"] for loan in everything] == loans[::-1]  # newest first
    for arguments, keeps in (
            ("overdue: true, ", lambda loan: loan["overdue"]),
            ("overdue: false, ", lambda loan: not loan["overdue"]),
            ("openOnly: true, ", lambda loan: loan["returnedAt"] is None),
            ("customerId: $id, openOnly: true, ",
             lambda loan: loan["customerId"] == world["customer"] and loan["returnedAt"] is None),
            ("customerId: $id, ", lambda loan: loan["customerId"] == world["customer"])):
        kept = [loan for loan in everything if keeps(loan)]
        declared, variables = (", $id: ID!", {"id": world["customer"]}) if "$id" in arguments else ("", {})
        assert await _walk(client, token, "archiveLoans", arguments, fields, declared, **variables) == kept, arguments
        assert 0 < len(kept) < len(everything), arguments
    page = await _data(client, token, "{ archiveLoans(first: 1) { edges { cursor } } }")
    await _refuses_other_lists_cursors(client, token, "archiveLoans", page["archiveLoans"]["edges"][0]["cursor"])


async def _update(client, token, customer: dict, tag: str) -> dict:
    updated = (await _data(client, token, 'mutation($id: ID!, $v: Int!, $t: String!) { customerUpdate(id: $id, '
                                          'version: $v, input: {tags: [$t]}, reason: "relay") '
                                          '{ customer { id version } errors { code } } }',
                           id=customer["id"], v=customer["version"], t=tag))["customerUpdate"]
    assert updated["errors"] == [], updated
    return updated["customer"]


async def test_customer_history_pages_in_sql_oldest_first_with_merged_histories(client, world):
    """Issue 17 point 3: customerHistory pages in the database (keyset on changed_at, version,
    customer id, oldest first): walked two at a time forward and backward, with and without
    includeMerged, it gives every change once in order, the merged customer's changes among the
    survivor's by time; another list's cursor is CURSOR_INVALID."""
    token = world["token"]
    survivor, merged = await _customer(client, token, "存续客户"), await _customer(client, token, "被并客户")
    for i in range(3):
        survivor = await _update(client, token, survivor, f"存{i}")
        merged = await _update(client, token, merged, f"并{i}")
    done = (await _data(client, token, 'mutation($s: ID!, $m: ID!) { customerMerge(survivorId: $s, mergedId: $m, '
                                       'reason: "重复") { errors { code } } }',
                        s=survivor["id"], m=merged["id"]))["customerMerge"]
    assert done["errors"] == [], done
    fields = "customerId version changedAt"
    own = await _walk(client, token, "customerHistory", "id: $id, ", fields, ", $id: ID!", id=survivor["id"])
    assert {h["customerId"] for h in own} == {survivor["id"]}
    assert [h["version"] for h in own] == list(range(1, len(own) + 1)) and len(own) >= 4
    both = await _walk(client, token, "customerHistory", "id: $id, includeMerged: true, ", fields, ", $id: ID!",
                       id=survivor["id"])
    assert both == sorted(both, key=lambda h: (datetime.fromisoformat(h["changedAt"]), h["version"], h["customerId"]))
    assert [h for h in both if h["customerId"] == survivor["id"]] == own
    carried = [h["version"] for h in both if h["customerId"] == merged["id"]]
    assert carried == list(range(1, len(carried) + 1)) and len(carried) >= 4
    assert len(both) == len(own) + len(carried)
    page = await _data(client, token, 'query($id: ID!) { customerHistory(id: $id, first: 1) { edges { cursor } } }',
                       id=survivor["id"])
    await _refuses_other_lists_cursors(client, token, "customerHistory", page["customerHistory"]["edges"][0]["cursor"],
                                       "id: $id, ", ", $id: ID!", id=survivor["id"])


async def test_consent_history_pages_in_sql_in_ledger_order_with_a_purpose(client, world):
    """Issue 17 point 3: consentHistory pages in the database (keyset on the ledger's seq, id):
    walked two at a time forward and backward, whole or for one purpose, it gives every entry
    once in ledger order, the purpose filter applied before paging so no page is cut short;
    another list's cursor is CURSOR_INVALID."""
    token = world["token"]
    customer = (await _customer(client, token, "同意客户"))["id"]
    for i in range(4):
        for action, purposes in (("consentGrant", '["marketing_sms", "marketing_email"]'),
                                 ("consentWithdraw", '["marketing_sms"]')):
            notice = ', noticeVersion: "v1"' if action == "consentGrant" else ""
            done = (await _data(client, token, f'mutation($c: ID!) {{ {action}(customerId: $c, purposes: {purposes}'
                                               f'{notice}, channel: "web") {{ errors {{ code }} }} }}',
                                c=customer))[action]
            assert done["errors"] == [], (i, action, done)
    fields = "id seq purpose action"
    ledger = await _walk(client, token, "consentHistory", "customerId: $id, ", fields, ", $id: ID!", id=customer)
    assert [e["seq"] for e in ledger] == list(range(1, 13))
    for purpose in ("marketing_sms", "marketing_email"):
        one = await _walk(client, token, "consentHistory", "customerId: $id, purpose: $p, ", fields,
                          ", $id: ID!, $p: String", id=customer, p=purpose)
        assert one == [e for e in ledger if e["purpose"] == purpose] and len(one) >= 4, purpose
    page = await _data(client, token, 'query($id: ID!) { consentHistory(customerId: $id, first: 1) '
                                      '{ edges { cursor } } }', id=customer)
    await _refuses_other_lists_cursors(client, token, "consentHistory", page["consentHistory"]["edges"][0]["cursor"],
                                       "customerId: $id, ", ", $id: ID!", id=customer)


async def test_webhook_attempts_page_in_sql_oldest_first_of_one_delivery(client, world, seeded):
    """Issue 17 point 3: webhookAttempts pages in the database (keyset on attempted_at, id, oldest
    first): walked two at a time forward and backward it gives every attempt of the delivery asked
    for once, in order (attempts at the same instant by id), none of another delivery's, no page
    cut short; another list's cursor is CURSOR_INVALID."""
    from core.db import unit_of_work
    from core.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint

    token = world["token"]
    at = datetime.fromisoformat("2026-11-02T09:00:00+00:00")
    made: dict[uuid.UUID, list[uuid.UUID]] = {}

    async def log_failures() -> None:  # two failed deliveries of seven attempts each
        async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:
            endpoint = WebhookEndpoint(url="https://hooks.example.com/kehu", event_types='["*"]', secret="whsec_x")
            await uow.insert(endpoint)
            for _ in range(2):
                delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=uuid.uuid4(),
                                           event_type="customer.created", payload="{}", status="failed", attempts=7,
                                           due_at=at)
                await uow.insert(delivery)
                made[delivery.id] = []
                for i in (3, 0, 5, 1, 1, 4, 2):  # two attempts at the same instant
                    attempt = WebhookAttempt(delivery_id=delivery.id, attempted_at=at + timedelta(minutes=i),
                                             status_code=500, error="WEBHOOK_HTTP_500", duration_ms=i)
                    await uow.insert(attempt)
                    made[delivery.id].append(attempt.id)

    client.blocking_portal.call(log_failures)  # on the app's own loop (its database pool)
    for delivery_id, attempt_ids in made.items():
        log = await _walk(client, token, "webhookAttempts", "deliveryId: $id, ", "id attemptedAt durationMs",
                          ", $id: ID!", id=str(delivery_id))
        assert sorted(a["id"] for a in log) == sorted(str(i) for i in attempt_ids)
        assert log == sorted(log, key=lambda a: (datetime.fromisoformat(a["attemptedAt"]), a["id"]))
        assert [a["durationMs"] for a in log] == [0, 1, 1, 2, 3, 4, 5]
    page = await _data(client, token, 'query($id: ID!) { webhookAttempts(deliveryId: $id, first: 1) '
                                      '{ edges { cursor } } }', id=str(delivery_id))
    await _refuses_other_lists_cursors(client, token, "webhookAttempts", page["webhookAttempts"]["edges"][0]["cursor"],
                                       "deliveryId: $id, ", ", $id: ID!", id=str(delivery_id))


async def test_role_changes_page_in_sql_newest_first_with_a_state(client, world):
    """Issue 17 point 3: roleChanges pages in the database (keyset on requested time, id, newest
    first) and is no longer cut at 100: walked two at a time forward and backward, whole or for
    one state, it gives every change once in order, the state filter applied before paging;
    another list's cursor is CURSOR_INVALID."""
    token = world["token"]
    asked = []
    for i in range(7):
        role = (await _data(client, token, 'mutation($n: String!) { roleCreate(input: {name: $n, permissions: []}) '
                                           '{ role { id } errors { code } } }', n=f"变更{i}"))["roleCreate"]
        assert role["errors"] == [], role
        change = (await _data(client, token, 'mutation($r: ID!) { roleChangeRequest(roleId: $r, permissions: '
                                             '[{permission: "customer.read", scope: TENANT}], reason: "relay") '
                                             '{ change { id } errors { code } } }',
                              r=role["role"]["id"]))["roleChangeRequest"]
        assert change["errors"] == [], change
        asked.append(change["change"]["id"])
    for change_id in asked[1::2]:  # withdraw every other request
        done = (await _data(client, token, 'mutation($id: ID!) { roleChangeReject(id: $id) { errors { code } } }',
                            id=change_id))["roleChangeReject"]
        assert done["errors"] == [], done
    fields = "id state requestedAt"
    everything = await _walk(client, token, "roleChanges", fields=fields)
    assert [c["id"] for c in everything][:7] == asked[::-1]  # newest first
    withdrawn = {c["state"] for c in everything if c["id"] in asked[1::2]}
    assert len(withdrawn) == 1 and withdrawn != {"PENDING"}, withdrawn
    for state in ("PENDING", *withdrawn):
        kept = [c for c in everything if c["state"] == state]
        assert await _walk(client, token, "roleChanges", "state: $s, ", fields, ", $s: RoleChangeState", s=state) == kept
        assert len(kept) >= 3, state
    page = await _data(client, token, "{ roleChanges(first: 1) { edges { cursor } } }")
    await _refuses_other_lists_cursors(client, token, "roleChanges", page["roleChanges"]["edges"][0]["cursor"])


async def test_assessments_page_in_sql_newest_first(client, world):
    """Issue 17 point 3: assessments pages in the database (keyset on assessed_at, id, newest
    first): walked two at a time forward and backward it gives every assessment once, in order
    (assessments of the same moment by id); another list's cursor is CURSOR_INVALID."""
    token = world["token"]
    for i, day in enumerate((3, 1, 4, 1, 5, 9, 2)):
        await _data(client, token, 'mutation($n: String!, $at: DateTime!) { assessmentCreate(input: {subject: $n, '
                                   'processing: "p", risks: "r", measures: "m", conclusion: "c", assessor: "a", '
                                   'assessedAt: $at}) { errors { code } } }',
                    n=f"分页评估{i}", at=f"2026-03-{day:02d}T08:00:00+08:00")
    everything = await _walk(client, token, "assessments", fields="id subject assessedAt")
    assert len(everything) >= 10
    key = [(datetime.fromisoformat(a["assessedAt"]), a["id"]) for a in everything]
    assert key == sorted(key, reverse=True)
    page = await _data(client, token, "{ assessments(first: 1) { edges { cursor } } }")
    await _refuses_other_lists_cursors(client, token, "assessments", page["assessments"]["edges"][0]["cursor"])


async def test_a_department_scoped_archivist_gets_full_pages_of_the_loans_it_may_see(seeded):
    """Issue 17 point 3: archiveLoans applies the caller's scope in the query too: an archivist of
    one department paging two at a time gets full pages holding only its department's loans,
    every one of them once, while the other department's loans lie between them in the register."""
    from core.customers import service as customer_service
    from core.db.keyset import Window
    from core.plugins.testing import make_registry
    from core.privacy import borrowing
    from core.tenancy import service as tenancy
    from tests.support import add_user, sign_in

    admin = await sign_in("acme", "admin")
    departments = {d.name: d.id for d in await tenancy.list_departments(admin)}
    role = {r.name: r.id for r in await roles.list_roles(admin)}["客服部档案管理员"]
    await add_user(seeded.acme, "archivist", department_ids=[departments["客服部"]], role_ids=[role])
    borrower = await add_user(seeded.acme, "borrower")
    system = SYSTEM.for_tenant(seeded.acme.id)
    ours, theirs = [], []
    for i in range(3):
        for department, kept in (("客服部", ours), ("销售部", theirs)):
            kept.append((await customer_service.create_customer(system, make_registry(), {
                "kind": "organisation", "org_name": f"{department}客户{i}",
                "department_id": str(departments[department])})).customer.id)
    lent = {}
    for i in range(4):
        for customer_id in (*ours, *theirs):
            loan = await borrowing.lend_archive(admin, customer_id, borrower_id=borrower.id, content=f"卷{i}")
            lent[loan.id] = customer_id
    archivist = await sign_in("acme", "archivist")
    seen, after = [], None
    while True:
        page, more = await borrowing.loans_page(archivist, Window(2, after=after))
        assert all(loan.customer_id in ours for loan in page)
        seen += page
        if not more:
            break
        assert len(page) == 2, "a page cut short by rows of another department"
        after = (page[-1].lent_at, page[-1].id)
    assert [loan.id for loan in seen] == [loan.id for loan in await borrowing.list_loans(archivist)]
    assert sorted(loan.id for loan in seen) == sorted(k for k, c in lent.items() if c in ours) and len(seen) == 12
