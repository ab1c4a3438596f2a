"""Issue 16 point 9: the bad-input table, generated from the schema itself.

For every argument of every query and mutation, and every field of every input object reachable
from it, a case puts a bidirectional override (U+202E) into the text there (or into a JSON value
there); for every list, a case sends one item more than its bound. Each must be refused with its
code, naming the field, and change nothing: a new argument or input field is covered the day it is
added, without anyone writing its case by hand.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from litestar.testing import AsyncTestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.graphql.input_checks import DEFAULT_LIST_BOUND, LIST_BOUNDS
from gateway.graphql.schema import build_schema
from tests.support import PASSWORD

BAD = "a\u202eb"
SAMPLES = {"String": "x", "Int": 1, "Float": 1.0, "Boolean": False, "DateTime": "2026-01-02T03:04:05+08:00",
           "JSON": {}, "Date": "2026-01-02", "Decimal": "60"}


def _unwrap(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def sample(type_: GraphQLInputType, depth: int = 0) -> Any:
    """A value of ``type_`` with every part filled: what the bad one is put into (so the check
    walks past every kind of value, enums and dates included, before it reaches the bad one)."""
    type_ = _unwrap(type_)
    if isinstance(type_, GraphQLList):
        return [sample(type_.of_type, depth + 1)]
    if isinstance(type_, GraphQLInputObjectType):
        return {name: sample(f.type, depth + 1) for name, f in type_.fields.items() if depth < 8}
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if type_.name == "ID":
        return str(uuid.uuid4())
    return SAMPLES[type_.name]


def leaves(type_: GraphQLInputType, depth: int = 0) -> Iterator[tuple[Any, ...]]:
    """Paths (field names, 0 for a list item, "note" inside JSON) to every text a value can hold."""
    type_ = _unwrap(type_)
    if depth > 8:  # no input type of the schema is this deep; a recursive one would be cut here
        return
    if isinstance(type_, GraphQLList):
        yield from ((0, *rest) for rest in leaves(type_.of_type, depth + 1))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from ((name, *rest) for rest in leaves(field.type, depth + 1))
    elif isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID"):
        yield ()
    elif isinstance(type_, GraphQLScalarType) and type_.name == "JSON":
        yield ("note",)


def lists(type_: GraphQLInputType, depth: int = 0) -> Iterator[tuple[Any, ...]]:
    """Paths to every list a value can hold (outside JSON)."""
    type_ = _unwrap(type_)
    if depth > 8:
        return
    if isinstance(type_, GraphQLList):
        yield ()
        yield from ((0, *rest) for rest in lists(type_.of_type, depth + 1))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from ((name, *rest) for rest in lists(field.type, depth + 1))


def build(type_: GraphQLInputType, path: tuple[Any, ...], bad: Any) -> Any:
    """The sample value of ``type_`` with ``bad`` at ``path``."""
    type_ = _unwrap(type_)
    if not path:
        return bad
    if isinstance(type_, GraphQLList):
        return [build(type_.of_type, path[1:], bad)]
    if isinstance(type_, GraphQLInputObjectType):
        value = sample(type_)
        value[path[0]] = build(type_.fields[path[0]].type, path[1:], bad)
        return value
    assert type_.name == "JSON" and len(path) == 1
    return {path[0]: bad}


def _at(type_: GraphQLInputType, path: tuple[Any, ...]) -> Any:
    """The type of the value at ``path`` inside a value of ``type_``."""
    for step in path:
        type_ = _unwrap(type_)
        type_ = type_.of_type if isinstance(type_, GraphQLList) else type_.fields[step].type
    return type_


def list_item(type_: GraphQLInputType) -> Any:
    type_ = _unwrap(type_)
    assert isinstance(type_, GraphQLList)
    return sample(type_.of_type)


def field_name(argument: str, path: tuple[Any, ...]) -> str:
    """How a refusal names the place: the schema's names, without the ``input`` wrapper."""
    parts = [str(p) for p in (argument, *path)]
    return ".".join(parts[1:] if argument == "input" and path else parts)


def cases(settings: Settings) -> list[tuple[str, str, str, dict, str, str]]:
    """(operation kind, root field, document, variables, expected code, expected field)."""
    schema = build_schema(settings)._schema
    found = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, field in root.fields.items():
            selection = " { errors { field code } }" if kind == "mutation" else (
                "" if isinstance(_unwrap(field.type), GraphQLScalarType | GraphQLEnumType) else " { __typename }")
            for argument, definition in field.args.items():
                arguments = list(field.args)
                declared = ", ".join(f"${a}: {field.args[a].type}" for a in arguments)
                document = f"{kind}({declared}) {{ {name}({', '.join(f'{a}: ${a}' for a in arguments)}){selection} }}"
                others = {a: sample(field.args[a].type) for a in arguments if a != argument}
                for path in leaves(definition.type):
                    found.append((kind, name, document, {**others, argument: build(definition.type, path, BAD)},
                                  "TEXT_INVALID_CHARACTERS", field_name(argument, path)))
                for path in lists(definition.type):
                    list_name = ([argument] + [p for p in path if isinstance(p, str)])[-1]
                    bound = LIST_BOUNDS.get(list_name, DEFAULT_LIST_BOUND)
                    too_many = [list_item(_at(definition.type, path))] * (bound + 1)
                    found.append((kind, name, document, {**others, argument: build(definition.type, path, too_many)},
                                  "LIST_TOO_LONG", field_name(argument, path)))
    return found


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    # No timer sweeps mid-test (they would write beside the refused operations), no rate limits:
    # the table is hundreds of requests.
    return settings.model_copy(update={"tick_interval_seconds": 3600, "rate_limit_per_minute": 1_000_000,
                                       "rate_limit_anonymous_per_minute": 1_000_000,
                                       "rate_limit_cost_per_minute": 1_000_000_000,
                                       "rate_limit_caller_cost_per_minute": 1_000_000_000})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def _gql(client, query: str, token: str | None = None, **variables) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _admin_token(client) -> str:
    body = await _gql(client, 'mutation($p: String!) { login(tenant: "acme", username: "admin", password: $p) '
                              '{ accessToken } }', p=PASSWORD)
    return body["data"]["login"]["accessToken"]


def _columns(table: str) -> str:
    # The in-process worker moves outbox events along; which events exist is what must not change.
    return "id, event_type, aggregate_id" if table == "outbox_event" else "*"


async def _snapshot(settings: Settings) -> list:
    """Every row of every table, read beside the app."""
    if settings.database.is_sqlite:
        with sqlite3.connect(settings.database.sqlite_path) as connection:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return [(t, sorted(map(repr, connection.execute(f"SELECT {_columns(t)} FROM {t}").fetchall())))
                    for t in sorted(tables)]
    connection = await asyncpg.connect(settings.migrate_database.raw)
    try:
        tables = [r["tablename"] for r in
                  await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        return [(t, sorted(repr(tuple(r)) for r in await connection.fetch(f'SELECT {_columns(t)} FROM "{t}"')))
                for t in sorted(tables)]
    finally:
        await connection.close()


def test_the_table_covers_every_text_and_list_input_of_the_schema(sqlite_settings):
    """Issue 16 point 9: every String or ID argument and input field (and every JSON one) has a
    generated case, and so has every list; spot checks that the generator reaches deep fields."""
    table = cases(sqlite_settings)
    named = {(name, code, field) for _, name, _, _, code, field in table}
    for expected in [("customerCreate", "TEXT_INVALID_CHARACTERS", "surname"),
                     ("customerCreate", "TEXT_INVALID_CHARACTERS", "address.houseNumber"),
                     ("customerCreate", "TEXT_INVALID_CHARACTERS", "contacts.0.givenName"),
                     ("customerCreate", "TEXT_INVALID_CHARACTERS", "business.note"),
                     ("customerCreate", "LIST_TOO_LONG", "tags"),
                     ("customers", "TEXT_INVALID_CHARACTERS", "filter.text"),
                     ("accessRequestCreate", "TEXT_INVALID_CHARACTERS", "scope.filter.extension.field"),
                     ("archiveExpectedImport", "LIST_TOO_LONG", "rows"),
                     ("login", "TEXT_INVALID_CHARACTERS", "password"),
                     ("roleCreate", "TEXT_INVALID_CHARACTERS", "permissions.0.permission")]:
        assert expected in named, expected
    schema = build_schema(sqlite_settings)._schema
    text_arguments = sum(1 for root in (schema.query_type, schema.mutation_type) for field in root.fields.values()
                         for argument in field.args.values() for _ in leaves(argument.type))
    assert len([c for c in table if c[4] == "TEXT_INVALID_CHARACTERS"]) == text_arguments > 200


async def test_every_bad_text_and_overlong_list_is_refused_with_its_code_and_changes_nothing(client, api_settings):
    """Issue 16 point 9: a control, bidi or invisible character in any text input, or a list over
    its bound, is refused with a coded error naming the field, before anything is written."""
    token = await _admin_token(client)  # may do everything: only the input check can stop it
    before = await _snapshot(api_settings)
    wrong = []
    for kind, name, document, variables, code, field in cases(api_settings):
        body = await _gql(client, document, token, **variables)
        if kind == "mutation":
            errors = ((body.get("data") or {}).get(name) or {}).get("errors") or []
            got = [(e["code"], e["field"]) for e in errors]
        else:
            got = [(e["extensions"].get("code"), e["extensions"].get("field")) for e in body.get("errors", [])]
        if got[:1] != [(code, field)]:
            wrong.append((name, code, field, got or body))
    assert wrong == []
    assert await _snapshot(api_settings) == before, "a refused operation wrote something"


async def test_line_breaks_are_refused_in_one_line_texts_and_kept_in_free_text(client):
    """Issue 16 point 9: a name is one line; a reason may span lines (it then fails on what it is
    about, here an unknown customer, not on its characters)."""
    token = await _admin_token(client)
    body = await _gql(client, 'mutation { customerCreate(input: {kind: "person", surname: "王\\n", givenName: "小明"}) '
                              '{ errors { field code } } }', token)
    assert body["data"]["customerCreate"]["errors"] == [{"field": "surname", "code": "TEXT_INVALID_CHARACTERS"}]
    body = await _gql(client, 'mutation($id: ID!) { customerDelete(id: $id, reason: "重复录入\\n第二行") '
                              '{ errors { field code } } }', token, id=str(uuid.uuid4()))
    assert [e["code"] for e in body["data"]["customerDelete"]["errors"]] == ["NOT_FOUND"]


async def test_a_search_for_percent_over_the_api_finds_only_names_holding_it(client):
    """Issue 16 point 8: customers(filter: {text: "%"}) matched every customer; over-long text is
    refused with SEARCH_TEXT_INVALID, not INTERNAL_ERROR."""
    token = await _admin_token(client)
    create = ('mutation($name: String!) { customerCreate(input: {kind: "organisation", orgName: $name, '
              'legalRepresentative: "张伟", phones: ["010-6512 3456"]}, force: true) { errors { code field } } }')
    for org in ("百分%商行", "普通商行"):
        body = await _gql(client, create, token, name=org)
        assert body["data"]["customerCreate"]["errors"] == [], body
    search = 'query($text: String!) { customers(filter: {text: $text}) { edges { node { displayName } } } }'
    body = await _gql(client, search, token, text="%")
    assert [e["node"]["displayName"] for e in body["data"]["customers"]["edges"]] == ["百分%商行"]
    body = await _gql(client, search, token, text="商" * 50_000)
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        ("SEARCH_TEXT_INVALID", "filter.text")]


async def test_valid_inputs_of_every_kind_pass_the_check_untouched(client):
    """Issue 16 point 9: the check refuses only what it must: enums, free multi-line text in JSON,
    a full list of 50 tags and Chinese, Latin and punctuation pass (an enum inside an input once
    made the check fail with INTERNAL_ERROR)."""
    token = await _admin_token(client)
    body = await _gql(client, 'mutation { roleCreate(input: {name: "质检 QA-2", description: "第一行\\n第二行", '
                              'permissions: [{permission: "customer.read", scope: DEPARTMENT}]}) '
                              '{ role { name } errors { field code } } }', token)
    assert body["data"]["roleCreate"]["errors"] == [], body
    body = await _gql(client, 'mutation($tags: [String!]) { customerCreate(input: {kind: "person", surname: "欧阳", '
                              'givenName: "小明·Li", tags: $tags, needs: {remark: "预算：十万\\n时间：Q3"}}) '
                              '{ customer { tags needs } errors { field code } } }', token,
                      tags=[f"标签{i}" for i in range(50)])
    assert body["data"]["customerCreate"]["errors"] == [], body
    assert len(body["data"]["customerCreate"]["customer"]["tags"]) == 50
