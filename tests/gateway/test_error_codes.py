"""Issue 17 point 4: errors an integrator can act on.

``UserError.field`` in the schema's input names, ``DUPLICATE_IDENTIFIER`` naming the customer it
collides with (only when the caller may read it), unknown filter values refused like unknown
sorts, parse and validation errors in zh-CN too, and ``Accept-Language`` q-values honoured.
"""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from core.identity import roles
from gateway.app import create_app
from gateway.graphql.errors import input_path
from gateway.language import negotiate
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user

CREATE = """mutation($input: CustomerInput!, $contacts: [ContactInput!]) {
  customerCreate(input: $input, contacts: $contacts) { customer { id } errors { field code message customerId } } }"""
PERSON = {"kind": "person", "surname": "王", "givenName": "小明", "phones": ["13912345678"],
          "identifier": {"type": "resident_id", "number": "11010519491231002X"}}
CONTACT_ADD = """mutation($id: ID!, $input: ContactInput!) {
  customerContactAdd(customerId: $id, input: $input) { contact { id } errors { field code } } }"""


@pytest.fixture
async def client(settings, seeded):
    """Acme with a sales consultant, who reads only their own customers (set up before the app
    runs: on PostgreSQL the app's pool belongs to its own event loop)."""
    admin = SYSTEM.for_tenant(seeded.acme.id)
    consultant_role = next(r for r in await roles.list_roles(admin) if r.name == "销售顾问")
    consultant = await add_user(seeded.acme, "consultant")
    await roles.grant_role(admin, user_id=consultant.id, role_id=consultant_role.id)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    async with AsyncTestClient(create_app(relaxed)) as test_client:
        yield test_client


async def _token(client, username: str = "admin") -> str:
    return (await login(client, username=username))["accessToken"]


async def _post(client, query: str, language: str | None = None, token: str | None = None, **variables) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if language is not None:
        headers["accept-language"] = language
    return (await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()


# --- field names --------------------------------------------------------------------------------

@pytest.mark.parametrize(("core", "graphql"), [
    ("given_name", "givenName"),
    ("contacts.0.given_name", "contacts.0.givenName"),
    ("address.house_number", "address.houseNumber"),
    ("identifier.number", "identifier.number"),
    ("owner_id", "ownerId"),
    ("givenName", "givenName"),  # already the schema's name (the input checks name fields so)
    ("business.birth_date", "business.birth_date"),  # a key inside a JSON value is the client's own
    ("extensions.dealer.purchase_date", "extensions.dealer.purchase_date"),
])
def test_core_field_paths_become_the_mutations_input_names(core, graphql):
    """Issue 17 point 4: the path core names is turned into the schema's input names, looked up in
    the operation's own arguments (JSON keys are kept as sent)."""
    from gateway.graphql.schema import build_schema
    from core.settings import load_settings

    schema = build_schema(load_settings())._schema
    assert input_path(core, schema.mutation_type.fields["customerCreate"].args) == graphql


async def test_user_errors_name_fields_as_the_schema_does(client):
    """Issue 17 point 4: UserError.field is ``givenName``, ``contacts.0.givenName``, not core's
    ``given_name`` (which no client sent)."""
    token = await _token(client)
    body = await _post(client, CREATE, token=token, input={**PERSON, "givenName": "女士"})
    assert [(e["field"], e["code"]) for e in body["data"]["customerCreate"]["errors"]] == [
        ("givenName", "NAME_PLACEHOLDER")]
    body = await _post(client, CREATE, token=token, input={**PERSON, "identifier": None},
                       contacts=[{"surname": "李", "givenName": "雷"}, {"surname": "韩", "givenName": "先生"}])
    assert [(e["field"], e["code"]) for e in body["data"]["customerCreate"]["errors"]] == [
        ("contacts.1.givenName", "NAME_PLACEHOLDER")]
    body = await _post(client, CREATE, token=token, input={**PERSON, "identifier": None, "address": {
        "province": "北京市", "city": "北京市", "county": "朝阳区", "street": "建国路"}})
    assert [(e["field"], e["code"]) for e in body["data"]["customerCreate"]["errors"]] == [
        ("address.houseNumber", "ADDRESS_INCOMPLETE")]
    created = await _post(client, CREATE, token=token, input={**PERSON, "identifier": None, "phones": []})
    customer_id = created["data"]["customerCreate"]["customer"]["id"]
    # One contact added on its own: its fields stand at the top of ``input``.
    body = await _post(client, CONTACT_ADD, token=token, id=customer_id,
                       input={"surname": "李", "givenName": "雷", "email": "not-an-address"})
    assert body["data"]["customerContactAdd"]["errors"] == [{"field": "email", "code": "EMAIL_INVALID"}]


async def test_a_query_error_names_its_field_as_the_schema_does(client):
    """Issue 17 point 4: extensions.field of a query's error uses the schema's names too."""
    token = await _token(client)
    body = await _post(client, "{ customers(filter: {ownerId: \"nope\"}) { edges { cursor } } }", token=token)
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("ID_INVALID", "ownerId")]


# --- DUPLICATE_IDENTIFIER -----------------------------------------------------------------------

async def test_a_duplicate_identifier_names_the_customer_the_caller_may_read(client):
    """Issue 17 point 4: DUPLICATE_IDENTIFIER carries the id of the customer holding the identifier
    when the caller may read it; a caller whose scope does not reach it learns no id."""
    token = await _token(client)
    first = await _post(client, CREATE, token=token, input=PERSON)
    existing = first["data"]["customerCreate"]["customer"]["id"]
    again = await _post(client, CREATE, token=token, input={**PERSON, "phones": []})
    [error] = again["data"]["customerCreate"]["errors"]
    assert (error["code"], error["field"], error["customerId"]) == ("DUPLICATE_IDENTIFIER", "identifier.number",
                                                                    existing)
    assert existing in error["message"]
    # A sales consultant reads only their own customers: the same refusal, without the id.
    body = await _post(client, CREATE, token=await _token(client, "consultant"), input={**PERSON, "phones": []})
    [error] = body["data"]["customerCreate"]["errors"]
    assert (error["code"], error["customerId"]) == ("DUPLICATE_IDENTIFIER", None)
    assert existing not in error["message"]


# --- filters ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ('{ customers(filter: {status: "actve"}) { edges { cursor } } }', "filter.status"),
    ('{ customers(filter: {kind: "people"}) { edges { cursor } } }', "filter.kind"),
    ('{ jobs(status: "done") { nodes { __typename } } }', "status"),
    ('{ jobs(kind: "no.such.kind") { nodes { __typename } } }', "kind"),
    ('{ subjectRequests(state: "open") { nodes { __typename } } }', "state"),
])
async def test_unknown_filter_values_are_refused_like_unknown_sorts(client, query, field):
    """Issue 17 point 4: a filter value a list can never hold is FILTER_INVALID naming the filter,
    not an empty page that reads as "there are none"."""
    token = await _token(client)
    body = await _post(client, query, token=token)
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        ("FILTER_INVALID", field)], body
    assert "must be one of" in body["errors"][0]["message"]


async def test_an_unknown_archive_state_is_refused(seeded):
    """Issue 17 point 4: archives(state:) refuses a state no archive can be in."""
    from core.archives import lifecycle as archive_lifecycle
    from core.errors import KehuError
    from core.plugins.manager import load_verticals

    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.list_archives(SYSTEM.for_tenant(seeded.acme.id), load_verticals(), state="lost")
    assert (refused.value.code, refused.value.field) == ("FILTER_INVALID", "state")


async def test_known_filter_values_still_filter(client):
    """Issue 17 point 4: the check refuses only what cannot match."""
    token = await _token(client)
    body = await _post(client, '{ customers(filter: {status: "active", kind: "person"}) { edges { cursor } } }',
                       token=token)
    assert "errors" not in body and body["data"]["customers"]["edges"] == []


# --- languages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "language"), [
    (None, "en"), ("", "en"), ("zh-CN", "zh"), ("zh", "zh"), ("en-US", "en"),
    ("en;q=0.9, zh-CN;q=0.8", "en"),
    ("zh;q=0.1, en", "en"),
    ("fr, zh-CN;q=0.8, en;q=0.5", "zh"),
    ("zh-TW;q=0.3, en-GB;q=0.7", "en"),
    ("de, *;q=0.5", "en"),
    ("en;q=0, *", "zh"),
    ("zh;q=0.5, *", "en"),
    ("*", "en"),
    ("zh-CN;q=bogus, en;q=0.2", "en"),
    ("fr", "en"),
])
def test_accept_language_q_values_are_honoured(header, language):
    """Issue 17 point 4: the language with the highest q-value wins; ``*`` is any language not
    named; q=0 refuses one; without a usable preference the default (English) stays."""
    assert negotiate(header) == language


async def test_the_negotiated_language_reaches_every_message(client):
    """Issue 17 point 4: ``zh;q=0.1, en`` prefers English (it used to be Chinese because the header
    started with zh); ``fr, zh-CN;q=0.8`` Chinese (it used to be English)."""
    token = await _token(client)
    bad = {**PERSON, "givenName": "女士"}
    english = await _post(client, CREATE, "zh;q=0.1, en", token=token, input=bad)
    assert "is a form of address" in english["data"]["customerCreate"]["errors"][0]["message"]
    chinese = await _post(client, CREATE, "fr, zh-CN;q=0.8", token=token, input=bad)
    assert "是称呼而非姓名" in chinese["data"]["customerCreate"]["errors"][0]["message"]
    refused = await client.post("/graphql", json={"query": "{ __typename }"},
                                headers={"authorization": "Basic x", "accept-language": "en;q=0.2, zh-CN"})
    assert "请使用" in refused.json()["errors"][0]["message"]


@pytest.mark.parametrize(("query", "code", "zh"), [
    ("{ customerz { id } }", "GRAPHQL_VALIDATION_FAILED", "类型 'Query' 上没有字段 'customerz'"),
    ("{ customers { edges } }", "GRAPHQL_VALIDATION_FAILED", "须选择子字段"),
    ("{ customer { id } }", "GRAPHQL_VALIDATION_FAILED", "缺少必填参数 'Query.customer(id:)'"),
    ("{ customers(colour: 1) { edges { cursor } } }", "GRAPHQL_VALIDATION_FAILED", "没有参数 'colour'"),
    ("{ customers(first: \"x\") { edges { cursor } } }", "GRAPHQL_VALIDATION_FAILED", 'Int 类型不能表示值 "x"'),
    ("{ customers(filter: {colour: 1}) { edges { cursor } } }", "GRAPHQL_VALIDATION_FAILED",
     "输入类型 'CustomerFilterInput' 没有字段 'colour'"),
    ("query($id: ID!) { customer(id: $id) { id } }", "GRAPHQL_VALIDATION_FAILED",
     "变量 '$id' 的值无效：须提供非空类型 'ID!' 的值"),
    ("{ customers { ", "GRAPHQL_PARSE_FAILED", "语法错误"),
    ("query A { __typename } query A { __typename }", "GRAPHQL_VALIDATION_FAILED", "只能有一个名为 'A' 的操作"),
])
async def test_parse_and_validation_errors_speak_chinese_too(client, query, code, zh):
    """Issue 17 point 4: parse and validation errors carry zh-CN messages for a zh-CN caller (they
    were English whatever the header), and stay English for others."""
    token = await _token(client)
    chinese = await _post(client, query, "zh-CN", token=token)
    assert chinese["errors"][0]["extensions"]["code"] == code, chinese
    assert zh in chinese["errors"][0]["message"], chinese
    english = await _post(client, query, "en", token=token)
    assert not any("\u4e00" <= c <= "\u9fff" for c in english["errors"][0]["message"]), english


async def test_a_message_no_pattern_knows_gets_a_chinese_lead_with_its_code(client):
    """Issue 17 point 4: graphql-core messages without a translation still open in Chinese, with
    the code, then the English text."""
    from gateway.graphql.errors import message_zh

    assert message_zh("Something graphql-core says one day.", "GRAPHQL_VALIDATION_FAILED") == (
        "查询无效（GRAPHQL_VALIDATION_FAILED）：Something graphql-core says one day.")
    token = await _token(client)
    body = await _post(client, "{ __typename @nosuch }", "zh-CN", token=token)
    assert body["errors"][0]["message"].startswith(("未知指令", "查询无效")), body
