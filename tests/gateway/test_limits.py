"""Abuse limits refuse documents before execution, with codes; unexpected errors are masked."""

import logging

import pytest
import strawberry
from strawberry.extensions.validation_cache import _get_validate_cache

from gateway.graphql import limits, schema
from tests.gateway.conftest import graphql


@pytest.fixture
def resolver_calls(monkeypatch):
    """Count executions of the `verticals` resolver, to prove refused documents never run."""
    calls = []
    original = schema.Vertical.from_info

    def counting(info):
        calls.append(info.id)
        return original(info)

    monkeypatch.setattr(schema.Vertical, "from_info", staticmethod(counting))
    return calls


@strawberry.type
class Node:
    """A recursive type, so documents of any depth can be written against it."""

    @strawberry.field
    def child(self) -> "Node":
        EXECUTED.append("child")
        return Node()

    name: str = "node"


@strawberry.type
class DeepQuery:
    @strawberry.field
    def root(self) -> Node:
        EXECUTED.append("root")
        return Node()


EXECUTED: list[str] = []


def _deep_query(depth: int) -> str:
    inner = "name"
    for _ in range(depth - 1):
        inner = f"child {{ {inner} }}"
    return f"{{ root {{ {inner} }} }}"


@pytest.fixture
def deep_schema(sqlite_settings):
    """kehu's own limit extensions on a schema with a recursive type."""
    EXECUTED.clear()
    return schema.KehuSchema(query=DeepQuery, extensions=limits.limit_extensions(sqlite_settings))


async def test_depth_20_is_refused_before_execution(deep_schema):
    result = await deep_schema.execute(_deep_query(20))
    assert result.data is None
    assert result.errors[0].extensions["code"] == "QUERY_TOO_DEEP"
    assert EXECUTED == []


async def test_depth_within_the_limit_runs(deep_schema, sqlite_settings):
    result = await deep_schema.execute(_deep_query(sqlite_settings.graphql_max_depth - 1))
    assert result.errors is None and EXECUTED


def test_200_aliases_are_refused_before_execution(client, resolver_calls):
    query = "{ " + " ".join(f"a{i}: verticals {{ id }}" for i in range(200)) + " }"
    body = graphql(client, query)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
    assert resolver_calls == []


def test_100_kb_document_is_refused_before_execution(client, resolver_calls):
    query = "{ verticals { id } }" + "#" * 100_000
    body = graphql(client, query)
    assert body["errors"][0]["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert resolver_calls == []


def test_too_many_tokens_are_refused(client, resolver_calls):
    body = graphql(client, "{ " + "verticals { id } " * 1000 + "}")
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_TOKENS"
    assert resolver_calls == []


def test_every_error_carries_a_code(client):
    for query in ("{ nosuchfield }", "{ verticals { id }", "query ($x: Int!) { version }"):
        for error in graphql(client, query)["errors"]:
            assert error["extensions"]["code"]


def test_unexpected_error_is_masked_and_logged_with_the_request_id(client, monkeypatch, caplog):
    def explode(info):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(schema.Vertical, "from_info", staticmethod(explode))
    caplog.set_level(logging.INFO)
    response = client.post("/graphql", json={"query": "{ verticals { id } }"},
                           headers={"x-request-id": "trace-abcdef12"})
    error = response.json()["errors"][0]
    assert "hunter2" not in response.text
    assert error["message"].startswith("Internal error")
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "trace-abcdef12"}
    logged = [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "graphql.unexpected_error"]
    assert logged and logged[0]["request_id"] == "trace-abcdef12"
    assert "hunter2" in logged[0]["error"]  # the operator sees the cause; the client does not


def test_validation_is_cached_across_requests(client):
    cache = _get_validate_cache(limits.CACHE_SIZE)
    query = "{ verticals { id nameEn } version }"
    graphql(client, query)
    hits = cache.cache_info().hits
    graphql(client, query)
    assert cache.cache_info().hits == hits + 1
