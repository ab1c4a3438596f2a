"""Abuse limits refuse documents before execution, with codes; unexpected errors are masked."""

import logging

import pytest
import strawberry

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
    return schema.KehuSchema(query=DeepQuery, gate=limits.DocumentGate(sqlite_settings))


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


def test_validation_is_cached_across_requests(client, monkeypatch):
    """A document text is validated once; later requests with it reuse the result."""
    validated = []
    real = limits.validate
    monkeypatch.setattr(limits, "validate", lambda *args: validated.append(args[1]) or real(*args))
    query = "{ verticals { id nameEn } cachedVersion: version }"
    first, second = graphql(client, query), graphql(client, query)
    assert first == second and first["data"]["cachedVersion"]
    assert len(validated) == 1


def test_expanded_size_counts_fragments_as_often_as_they_are_spread():
    """Issue 16 point 2: every selection counts once per place it ends up after expansion."""
    from graphql import parse

    document = parse("{ a ...F b { ...F } } fragment F on Query { c d { e } }")
    # operation: a, ...F, b, ...F (4) + 2 x F; F: c, d, e (3), counted once more as a definition
    assert limits.check_expanded_size(document, 100) == 4 + 2 * 3 + 3


def test_expanded_size_is_linear_and_stops_at_the_bound():
    """Issue 16 point 2: a doubling chain as long as the token limit allows (2^300 selections once
    expanded) is measured in milliseconds and refused; a loop of fragments is refused, not followed."""
    import time

    from graphql import parse

    levels = 300
    chain = " ".join(f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}" for i in range(levels))
    document = parse(f"{{...F0}} {chain} fragment F{levels} on Query{{version}}")
    started = time.perf_counter()
    with pytest.raises(limits.KehuError) as refused:
        limits.check_expanded_size(document, 10_000)
    assert refused.value.code == "QUERY_TOO_LARGE"
    assert time.perf_counter() - started < 0.05
    with pytest.raises(limits.KehuError) as looped:
        limits.check_expanded_size(parse("{...A} fragment A on Query{...B} fragment B on Query{...A}"), 10_000)
    assert looped.value.code == "GRAPHQL_VALIDATION_FAILED"
    # Validation expands the last of two fragments with one name: a harmless first one must not
    # hide a bomb behind it.
    with pytest.raises(limits.KehuError) as twice:
        limits.check_expanded_size(parse(f"{{...F0}} fragment F0 on Query{{version}} {chain} "
                                         f"fragment F{levels} on Query{{version}}"), 10_000)
    assert twice.value.code == "GRAPHQL_VALIDATION_FAILED"


async def test_long_documents_are_validated_off_the_event_loop(sqlite_settings):
    """Issue 16 point 2: validating a long document can take a good part of a second within every
    bound (graphql-core's overlap check has its own budget): it runs in a thread, so the event loop
    keeps serving; short documents validate inline, where a thread hop would cost more."""
    import threading

    from graphql import ASTValidationRule

    threads: list[str] = []

    class WhereAmI(ASTValidationRule):
        def enter_document(self, *_):
            threads.append(threading.current_thread().name)

    EXECUTED.clear()
    deep = schema.KehuSchema(query=DeepQuery, gate=limits.DocumentGate(sqlite_settings, (WhereAmI,)))
    short = "{ root { name } }"
    long = "{ root { " + " ".join(f"a{i}: name" for i in range(25)) + " } }" + " " * limits.INLINE_VALIDATION_CHARS
    assert (await deep.execute(short)).errors is None
    assert (await deep.execute(long)).errors is None
    main = threading.main_thread().name
    assert threads[0] == main and threads[1] != main
