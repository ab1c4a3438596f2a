"""Schemathesis over every operation of the app's GraphQL schema, signed in as a tenant
administrator (the caller who reaches the most code): no response is a 5xx, none shows a stack
trace, every error carries a code.

The schema comes from the app under test (its installed verticals included), so operations added
later are fuzzed without touching this file. Schemathesis (hypothesis-graphql) writes the
documents; they are sent through the running app. A few examples per operation under CI;
``KEHU_FUZZ=long`` for many more, ``KEHU_FUZZ_EXAMPLES`` to choose.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from graphql import NameNode, ObjectFieldNode
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from schemathesis.graphql import nodes

from gateway.graphql.schema import build_schema
from tests.proof.conftest import sign_in

LONG = os.environ.get("KEHU_FUZZ") == "long"
EXAMPLES = int(os.environ.get("KEHU_FUZZ_EXAMPLES") or (100 if LONG else 4 if os.environ.get("CI") else 6))
TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")

json_leaf = st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int),
                      st.booleans().map(nodes.Boolean), st.just(nodes.Null))
schemathesis.graphql.scalar("JSON", st.one_of(
    json_leaf, st.lists(json_leaf, max_size=3).map(nodes.List),
    st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), json_leaf, max_size=3).map(
        lambda d: nodes.Object([ObjectFieldNode(name=NameNode(value=k), value=v) for k, v in d.items()])),
))
# Not only well-formed instants: what a client may send.
schemathesis.graphql.scalar("DateTime", st.one_of(
    st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=30)).map(nodes.String))

schemathesis.graphql.scalar("Decimal", st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str), st.text(max_size=12)).map(nodes.String))


@pytest.fixture
def app_settings(settings):
    # Cost budgets are proven in test_limits; here they must not cut the fuzzing short.
    return settings.model_copy(update={"rate_limit_cost_per_minute": 10**9, "rate_limit_caller_cost_per_minute": 10**9})


LOCKS_OUT = ("accountCompromiseReport", "signInPolicyUpdate")


async def _login(client) -> dict:
    from tests.proof.conftest import LOGIN, PASSWORD, gql

    return (await gql(client, LOGIN, t="acme", u="admin", p=PASSWORD)).json()


def locked_out(body: dict) -> bool:
    return any(e["code"] in ("ACCOUNT_COMPROMISED", "TOTP_REQUIRED", "NETWORK_NOT_ALLOWED")
               for e in body["data"]["login"]["errors"])


def problems_of(response) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    if TRACE.search(response.text):
        found.append("a stack trace in the response")
    try:
        body = response.json()
    except json.JSONDecodeError:
        return [*found, f"not JSON: {response.text[:200]!r}"]
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            found.append(f"an error without a code: {error}")
        elif code == "INTERNAL_ERROR":  # masked, but an unexpected exception all the same
            found.append(f"an unexpected exception at {error.get('path')}")
    return found


def _outcome(response) -> str:
    try:
        errors = response.json().get("errors") or []
    except (json.JSONDecodeError, AttributeError):
        return f"status {response.status_code}"
    return errors[0].get("extensions", {}).get("code", "uncoded") if errors else "ok"


def documents(operation) -> list[str]:
    """The documents Schemathesis writes for one operation."""
    made: list[str] = []

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def collect(case):
        made.append(case.body)

    collect()
    return made


async def test_every_operation_answers_without_5xx_traces_or_uncoded_errors(client, app_settings):
    schema = schemathesis.graphql.from_file(build_schema(app_settings).as_str())
    # Operations that may lock the fuzzing administrator out (a compromise report on themselves, a
    # sign-in policy requiring TOTP or another network) run last: nothing needs a new login after them.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda operation: operation.label.split(".")[-1] in LOCKS_OUT)
    assert len(operations) > 50
    token = await sign_in(client)
    # Every installed vertical enabled, so the fuzzed documents reach each vertical's code, not
    # only its VERTICAL_NOT_ENABLED guard.
    auth = {"authorization": f"Bearer {token}"}
    verticals = (await client.post("/graphql", headers=auth, json={"query": "{ tenantVerticals { id } }"})).json()
    for vertical in [v["id"] for v in verticals["data"]["tenantVerticals"]]:
        enabled = await client.post("/graphql", headers=auth, json={
            "query": "mutation($v: String!) { verticalEnable(verticalId: $v) { errors { code } } }",
            "variables": {"v": vertical}})
        assert not enabled.json().get("errors"), enabled.text
    failures, sent, outcomes = [], 0, {}
    for operation in operations:
        for document in documents(operation):
            body = document if isinstance(document, dict) else {"query": document}
            response = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
            if response.status_code == 401:  # a fuzzed logout or password change ended the login
                if operation.label.split(".")[-1] in LOCKS_OUT and locked_out(await _login(client)):
                    break  # the administrator reported themselves compromised: the rest cannot sign in
                token = await sign_in(client)
                response = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
            sent += 1
            outcomes[_outcome(response)] = outcomes.get(_outcome(response), 0) + 1
            if problems := problems_of(response):
                failures.append(f"{operation.label}: {problems}\n  query: {body['query']}\n  "
                                f"response: {response.text[:500]}")
    print(f"{sent} requests:", sorted(outcomes.items(), key=lambda item: -item[1]))
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:20])
    # Most documents must get past the limits, or the fuzzing would prove little.
    assert outcomes.get("ok", 0) > sent // 3, outcomes
