"""The attribution engine over GraphQL (issue 21 acceptance 4): no operation edits or deletes a
ledger entry (the schema is introspected), a correction leaves the original in the ledger, and a
decision answers its owner, split and explanation in English and Chinese."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient

from core.plugins.manager import load_verticals
from core.plugins.testing import make_registry
from gateway.app import create_app
from gateway.graphql.schema import build_schema
from tests.attribution.conftest import VERTICAL, estate
from tests.gateway.test_identity_api import gql, login

RECORD = ('mutation($c: ID!, $kind: LedgerKind!, $at: DateTime!, $u: ID, $data: JSON, $e: ID) { '
          'attributionEntryRecord(input: {customerId: $c, vertical: "%s", kind: $kind, at: $at, consultantId: $u, '
          'data: $data, refersTo: $e}) { entry { id seq kind refersTo data } decision { ownerId owner { id displayName } '
          'rule explanationEn explanationZh entries shares { consultantId percent } } errors { code field } } }'
          % VERTICAL)
LEDGER = ('query($c: ID!, $after: String) { attributionLedger(customerId: $c, vertical: "%s", first: 1, after: $after) '
          '{ nodes { id kind refersTo } pageInfo { hasNextPage endCursor } } }' % VERTICAL)
# What would edit or delete an entry, were it there.
CHANGING = re.compile(r"(Update|Delete|Edit|Remove|Change|Void|Replace|Set)$")


@pytest.mark.parametrize("registry", [load_verticals(), make_registry((VERTICAL, estate))], ids=["installed", "test"])
def test_acceptance_4_no_operation_edits_or_deletes_a_ledger_entry(sqlite_settings, registry):
    """Issue 21 acceptance 4: the only mutations that touch the attribution ledger append to it
    (an entry, an approved dispute's decision); none updates, edits or deletes an entry."""
    schema = build_schema(sqlite_settings, registry)._schema
    mutations = set(schema.mutation_type.fields)
    ledger = {name for name in mutations if name.startswith("attribution") or "Ledger" in name}
    assert ledger == {"attributionEntryRecord", "attributionDisputeOpen", "attributionDisputeOpinion",
                      "attributionDisputeApprove", "attributionDisputeReject"}
    assert not [name for name in ledger if CHANGING.search(name)]
    assert not [name for name in mutations if ("Entry" in name or "Ledger" in name) and "ttribution" in name
                and CHANGING.search(name)]
    entry_input = schema.type_map["AttributionEntryRecordInput"]
    assert "id" not in entry_input.fields and "seq" not in entry_input.fields  # it names no entry to overwrite


@pytest.fixture
async def client(settings, seeded):
    quiet = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                        "tick_interval_seconds": 3600})
    async with AsyncTestClient(create_app(quiet, registry=make_registry((VERTICAL, estate)))) as test_client:
        yield test_client


async def _data(client, token, doc, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_a_correction_leaves_the_original_in_the_ledger_and_the_decision_explains_itself(client):
    """Issue 21 acceptance 4 over the API: the corrected registration is still in the ledger, the
    decision names its rule and explains it in both languages, with the entries it rests on."""
    token = (await login(client))["accessToken"]
    enabled = await _data(client, token, 'mutation { verticalEnable(verticalId: "%s") { errors { code } } }' % VERTICAL)
    assert enabled["errors"] == []
    me = (await _data(client, token, "{ me { user { id } } }"))["user"]["id"]
    customer = (await _data(client, token, 'mutation { customerCreate(input: {kind: "organisation", orgName: "甲公司"}) '
                                           '{ customer { id } errors { code } } }'))["customer"]["id"]
    first = await _data(client, token, RECORD, c=customer, kind="REGISTRATION", at="2025-03-02T10:00:00+08:00", u=me,
                        data={"first_visit": True})
    assert first["errors"] == [] and first["entry"]["data"] == {"first_visit": True}
    decision = first["decision"]
    assert decision["ownerId"] == decision["owner"]["id"] == me
    assert decision["rule"] == "RE20" and decision["explanationEn"] and decision["explanationZh"]
    assert decision["entries"] == [first["entry"]["id"]] and decision["shares"] == [{"consultantId": me, "percent": 100}]
    # the owners list names each owner as a single decision does (the console's reception screen shows them)
    owners = await _data(client, token, 'query { attributionOwners(vertical: "%s", first: 50) { nodes { customerId '
                                        'decision { owner { id displayName } } } } }' % VERTICAL)
    listed = next(n for n in owners["nodes"] if n["customerId"] == customer)
    assert decision["owner"]["displayName"] and listed["decision"]["owner"] == decision["owner"]
    direct = await _data(client, token, RECORD, c=customer, kind="DISPUTE_DECISION", at="2025-03-02T11:00:00+08:00",
                         e=first["entry"]["id"])
    assert direct["errors"] == [{"code": "ATTRIBUTION_DISPUTE_DECISION_DIRECT", "field": "kind"}]
    corrected = await _data(client, token, RECORD, c=customer, kind="CORRECTION", at="2025-03-02T11:00:00+08:00",
                            e=first["entry"]["id"])
    assert corrected["errors"] == [] and corrected["decision"]["ownerId"] is None
    seen, after = [], None
    while True:  # a page at a time, in ledger order
        page = await _data(client, token, LEDGER, c=customer, after=after)
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [(n["kind"], n["refersTo"]) for n in seen] == [("REGISTRATION", None),
                                                         ("CORRECTION", first["entry"]["id"])]
    as_of = await _data(client, token, 'query($c: ID!) { attributionDecision(customerId: $c, vertical: "%s", '
                                       'asOf: "2025-03-02T10:30:00+08:00") { ownerId rule } }' % VERTICAL, c=customer)
    assert as_of == {"ownerId": me, "rule": "RE20"}  # before the correction happened


@pytest.fixture
async def installed(settings, seeded):
    """The app with the installed verticals: the real-estate policy decides."""
    quiet = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                        "tick_interval_seconds": 3600})
    async with AsyncTestClient(create_app(quiet)) as test_client:
        yield test_client


DISPUTE = "dispute { id state version } entry { id kind refersTo } decision { rule deals { dealId shares { consultantId percent } } } errors { code field }"


async def test_re31_the_dispute_flow_over_the_api_with_the_real_estate_policy(installed):
    """RE31 over the API with the installed real-estate policy: a deal disputed, the opinion of one
    administrator, the approval of another (the writer of the opinion may not approve it); the
    approved split becomes the deal's DISPUTE_DECISION entry."""
    client = installed
    token = (await login(client))["accessToken"]
    assert (await _data(client, token, 'mutation { verticalEnable(verticalId: "real_estate") '
                                       '{ errors { code } } }'))["errors"] == []
    admin_role = next(r["id"] for r in (await _data(client, token, "{ roles { nodes { id name } } }"))["nodes"]
                      if r["name"] == "系统管理员")
    second = await _data(client, token, 'mutation($r: [ID!]) { userCreate(input: {username: "director", '
                                        'displayName: "Director", password: "correct-horse-battery-1", roleIds: $r}) '
                                        '{ user { id } errors { code } } }', r=[admin_role])
    assert second["errors"] == [], second
    director = (await login(client, username="director"))["accessToken"]
    me = (await _data(client, token, "{ me { user { id } } }"))["user"]["id"]
    other = second["user"]["id"]
    customer = (await _data(client, token, 'mutation { customerCreate(input: {kind: "organisation", orgName: "乙公司"}) '
                                           '{ customer { id } errors { code } } }'))["customer"]["id"]
    record = RECORD.replace(f'vertical: "{VERTICAL}"', 'vertical: "real_estate"')
    registered = await _data(client, token, record, c=customer, kind="REGISTRATION", at="2025-03-02T10:00:00+08:00",
                             u=me, data={"first_visit": True})
    assert registered["errors"] == [] and registered["decision"]["explanationEn"], registered
    deal = await _data(client, token, record, c=customer, kind="DEAL", at="2025-03-05T10:00:00+08:00", u=other,
                       data={"unit": "3-1201", "on_the_spot": False})
    assert deal["errors"] == [], deal
    opened = await _data(client, token, 'mutation($d: ID!) { attributionDisputeOpen(dealEntryId: $d, claim: "共同接待") '
                                        '{ %s } }' % DISPUTE, d=deal["entry"]["id"])
    assert opened["errors"] == [], opened
    shares = [{"consultantId": me, "percent": 55}, {"consultantId": other, "percent": 45}]
    opinion = await _data(client, token, 'mutation($id: ID!, $u: ID!, $s: [AttributionShareInput!]!) { '
                                         'attributionDisputeOpinion(id: $id, version: 1, opinion: "双方均有贡献", '
                                         'fault: "未查登记", contribution: "带看", ownerId: $u, shares: $s) { %s } }'
                          % DISPUTE, id=opened["dispute"]["id"], u=me, s=shares)
    assert opinion["errors"] == [] and opinion["dispute"]["state"] == "OPINION_GIVEN", opinion
    approve = 'mutation($id: ID!) { attributionDisputeApprove(id: $id, version: 2) { %s } }' % DISPUTE
    same = await _data(client, token, approve, id=opened["dispute"]["id"])
    assert same["errors"] == [{"code": "ATTRIBUTION_DISPUTE_SAME_PERSON", "field": "id"}]
    approved = await _data(client, director, approve, id=opened["dispute"]["id"])
    assert approved["errors"] == [] and approved["dispute"]["state"] == "APPROVED", approved
    assert approved["entry"]["kind"] == "DISPUTE_DECISION" and approved["entry"]["refersTo"] == deal["entry"]["id"]
    [split] = [d for d in approved["decision"]["deals"] if d["dealId"] == deal["entry"]["id"]]
    assert sorted(split["shares"], key=lambda s: -s["percent"]) == shares
