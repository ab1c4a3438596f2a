"""Requests an attacker sends: a fragment bomb against a running server, malformed bodies, and
typos fishing for the schema through "Did you mean …" (issue 16 points 2, 6 and 7)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, get
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.testing import AsyncTestClient, TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.request_body import internal_error, nesting_depth
from gateway.request_id import request_id_middleware
from tests.support import PASSWORD, wait_until_healthy

REPO = Path(__file__).resolve().parents[2]


def fragment_bomb(levels: int) -> str:
    """`{...F0} fragment F0 on Query{...F1 ...F1} … fragment Fn on Query{version}`: a few hundred
    bytes whose expansion doubles per level."""
    fragments = " ".join(f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}" for i in range(levels))
    return f"{{...F0}} {fragments} fragment F{levels} on Query{{version}}"


# --- Point 2: one request must not stop the server ---------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """kehu served by uvicorn in its own process (embedded profile), so a request that held its
    event loop could be seen from outside, and the process killed whatever it does."""
    var = tmp_path / "var"
    var.mkdir()
    port = _free_port()
    env = {**os.environ, "KEHU_DATABASE_URL": f"sqlite:///{var}/kehu.sqlite3", "KEHU_VAR_DIR": str(var),
           "KEHU_PASSWORD_HASHING": "fast", "KEHU_LOG_LEVEL": "WARNING", "KEHU_TICK_INTERVAL_SECONDS": "3600",
           "KEHU_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:create_app_from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, 60, "the server")
        yield base
    finally:
        process.kill()
        process.communicate(timeout=30)  # the secret scan reads the server's log lines from here


@pytest.mark.parametrize("levels", [20, 30, 60])
def test_a_fragment_bomb_is_refused_promptly_while_healthz_keeps_answering(server, levels):
    """Issue 16 point 2: the 876-byte fragment bomb (20 levels held /healthz 14.6 s; at 30 the
    process ignored SIGTERM) is refused with QUERY_TOO_LARGE within a second, before validation
    and planning, and /healthz keeps answering within a second throughout."""
    outcome: dict[str, object] = {}

    def attack() -> None:
        started = time.monotonic()
        try:
            outcome["response"] = httpx.post(f"{server}/graphql", json={"query": fragment_bomb(levels)}, timeout=10)
        except httpx.TransportError as error:
            outcome["response"] = error
        outcome["seconds"] = time.monotonic() - started

    attacker = threading.Thread(target=attack)
    attacker.start()
    health_waits = []
    while attacker.is_alive() or len(health_waits) < 3:
        started = time.monotonic()
        try:
            assert httpx.get(f"{server}/healthz", timeout=5).status_code == 200
        except httpx.TimeoutException:
            pass
        health_waits.append(time.monotonic() - started)
        time.sleep(0.02)
    attacker.join()

    assert max(health_waits) < 1.0, health_waits
    response = outcome["response"]
    assert isinstance(response, httpx.Response), response
    assert outcome["seconds"] < 1.0
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_LARGE"]


def test_the_expanded_size_decides_and_cycles_are_refused(client):
    """Issue 16 point 2: the refusal depends on the expanded size, not on the document's bytes:
    10 levels (about 9,000 selections) still run, 11 and more are refused with a coded error; a
    fragment spreading itself (directly or around a loop) expands without end and is refused with a
    coded validation error, never an internal error or a hang."""
    assert client.post("/graphql", json={"query": fragment_bomb(10)}).json()["data"] == {"version": "0.1.0"}
    for levels in (11, 14, 100):
        body = client.post("/graphql", json={"query": fragment_bomb(levels)}).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
    for query in ("{...A} fragment A on Query{version ...A}",
                  "{...A} fragment A on Query{...B} fragment B on Query{...C} fragment C on Query{...A}"):
        errors = client.post("/graphql", json={"query": query}).json()["errors"]
        assert errors and all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors)


# --- Point 6: malformed bodies get a coded 400 and one logged line with the request id -------------

DEEP = 20_000
BAD_BODIES = {
    "a number": (b"42", "BODY_NOT_AN_OBJECT"),
    "a string": (b'"{ version }"', "BODY_NOT_AN_OBJECT"),
    "null": (b"null", "BODY_NOT_AN_OBJECT"),
    "true": (b"true", "BODY_NOT_AN_OBJECT"),
    "a list (a batch)": (b'[{"query": "{ version }"}]', "BATCHING_DISABLED"),
    "a list of scalars": (b"[1, 2]", "BATCHING_DISABLED"),
    "invalid UTF-8 in a value": (b'{"query": "{ version }\xff"}', "BODY_INVALID_UTF8"),
    "invalid UTF-8 in a key": (b'{"qu\xc3ery": "{ version }"}', "BODY_INVALID_UTF8"),
    "UTF-16": ('{"query": "{ version }"}'.encode("utf-16"), "BODY_INVALID_UTF8"),
    "an unpaired surrogate escape": (b'{"query": "{ version }\\ud800"}', "BODY_INVALID_UTF8"),
    "nested 20,000 deep": (b"[" * DEEP + b"]" * DEEP, "BODY_TOO_DEEP"),
    "variables nested 20,000 deep": (b'{"query": "{ version }", "variables": {"x": ' + b"[" * DEEP + b"]" * DEEP
                                     + b"}}", "BODY_TOO_DEEP"),
    "variables nested 100 deep": (b'{"query": "{ version }", "variables": {"x": ' + b'{"a": ' * 100 + b"1"
                                  + b"}" * 100 + b"}}", "BODY_TOO_DEEP"),
    "not JSON": (b"{ version }", "BODY_NOT_JSON"),
    "empty": (b"", "BODY_NOT_JSON"),
}


def _refusals(caplog, request_id: str) -> list[dict]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("request_id") == request_id]


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_malformed_body_gets_a_coded_400_and_a_logged_request_id(client, caplog, case):
    """Issue 16 point 6: a JSON body that is a scalar, a list, invalid UTF-8 or nested 20,000 deep
    answered an uncoded 500 with no log line; now a coded 400 in the GraphQL error shape, with the
    request id, and one log line carrying the same id and code."""
    body, code = BAD_BODIES[case]
    caplog.set_level(logging.INFO)
    request_id = f"abuse-{abs(hash(case)):x}"
    response = client.post("/graphql", content=body,
                           headers={"content-type": "application/json", "x-request-id": request_id})
    assert response.status_code == 400, response.text
    assert response.headers["x-request-id"] == request_id
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": code, "requestId": request_id}
    assert "Traceback" not in response.text
    logged = [line for line in _refusals(caplog, request_id) if line.get("code") == code]
    assert len(logged) == 1, _refusals(caplog, request_id)


def test_a_body_over_the_size_limit_gets_a_coded_413_and_a_logged_request_id(client, sqlite_settings, caplog):
    """Issue 16 point 6: a body over KEHU_REQUEST_MAX_BODY_BYTES answered Litestar's uncoded 413;
    now the GraphQL error shape with BODY_TOO_LARGE and the request id, logged once."""
    caplog.set_level(logging.INFO)
    body = b'{"query": "{ version }", "x": "' + b"a" * sqlite_settings.request_max_body_bytes + b'"}'
    response = client.post("/graphql", content=body,
                           headers={"content-type": "application/json", "x-request-id": "big-12345678"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "BODY_TOO_LARGE", "requestId": "big-12345678"}
    assert [line["code"] for line in _refusals(caplog, "big-12345678")] == ["BODY_TOO_LARGE"]


def test_the_depth_bound_counts_json_nesting_and_leaves_real_requests_alone(client):
    """Issue 16 point 6: the depth is the JSON's, not the text's (brackets in strings do not
    count), and a body within the bound (variables 40 levels deep) still runs."""
    assert nesting_depth(b'{"a": "[[[[[[{{{{", "b": [{"c": "]]]\\"[["}]}') == 3
    assert nesting_depth(b"1") == 0
    variables = {"x": json.loads('{"a": ' * 40 + "1" + "}" * 40)}
    response = client.post("/graphql", json={"query": "{ version }", "variables": variables})
    assert response.status_code == 200 and response.json()["data"] == {"version": "0.1.0"}


@pytest.mark.parametrize("accept", ["application/json", "*/*", "multipart/mixed;deferSpec=20220824, application/json"])
def test_a_post_answers_the_same_on_the_lean_path_and_on_strawberrys(client, accept):
    """P1 (issue 27): a plain POST skips Strawberry's per-request checks for websockets, the IDE
    page and streamed results; one asking for a streamed answer still goes Strawberry's way. Both
    answer a query, a refused field and a form body alike."""
    headers = {"accept": accept}
    ok = client.post("/graphql", json={"query": "{ version }"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["data"] == {"version": "0.1.0"}
    refused = client.post("/graphql", json={"query": "{ customers(first: 10) { edges { node { id } } } }"},
                          headers=headers)
    assert refused.status_code == 200
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    form = client.post("/graphql", content=b"query=%7B+version+%7D",
                       headers={**headers, "content-type": "application/x-www-form-urlencoded"})
    assert form.status_code in (400, 415) and "Traceback" not in form.text


def test_an_uncaught_exception_is_a_coded_logged_500(caplog):
    """Issue 16 point 6: whatever still escapes a handler answers a coded INTERNAL_ERROR with the
    request id and is logged with it, instead of Litestar's bare, unlogged 500."""
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("the database password is hunter2")

    app = Litestar([boom], middleware=[request_id_middleware], logging_config=None,
                   exception_handlers={HTTP_500_INTERNAL_SERVER_ERROR: internal_error})
    caplog.set_level(logging.INFO)
    with TestClient(app) as test_client:
        response = test_client.get("/boom", headers={"x-request-id": "boom-12345678"})
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "boom-12345678"}
    assert [line["event"] for line in _refusals(caplog, "boom-12345678")] == ["http.unexpected_error"]


def test_the_app_answers_uncaught_exceptions_with_the_coded_handler(sqlite_settings):
    """Issue 16 point 6: the coded handler is the one kehu's app uses."""
    assert create_app(sqlite_settings).exception_handlers[HTTP_500_INTERNAL_SERVER_ERROR] is internal_error


# --- Point 7: no "Did you mean …" for callers who may not introspect ----------------------------

TYPOS = [
    # input-object field in a literal: graphql-core put the guess mid-message ("… Did you mean
    # 'status'? Found: …"), where it survived the old end-of-message stripping
    ({"query": '{ customers(filter: {statu: "active"}) { edges { cursor } } }'}, "statu"),
    # input-object field in variables
    ({"query": "query($f: CustomerFilterInput) { customers(filter: $f) { edges { cursor } } }",
      "variables": {"f": {"statu": "active"}}}, "statu"),
    # nested input object in variables
    ({"query": "mutation($i: RoleInput!) { roleCreate(input: $i) { errors { code } } }",
      "variables": {"i": {"name": "x", "permissions": [{"permision": "customer.read", "scope": "TENANT"}]}}},
     "permision"),
    # enum value in a literal and in variables
    ({"query": 'mutation { roleCreate(input: {name: "x", permissions: [{permission: "customer.read", '
               'scope: TENAN}]}) { errors { code } } }'}, "TENAN"),
    ({"query": "mutation($s: PermissionScope!) { roleCreate(input: {name: \"x\", permissions: "
               "[{permission: \"customer.read\", scope: $s}]}) { errors { code } } }",
      "variables": {"s": "TENAN"}}, "TENAN"),
    # argument, field, type and inline-fragment type names
    ({"query": '{ customers(filtr: {status: "active"}) { edges { cursor } } }'}, "filtr"),
    ({"query": "{ versio }"}, "versio"),
    ({"query": "query($f: CustomerFilterInpt) { version }"}, "CustomerFilterInpt"),
    ({"query": "{ ... on Quer { version } }"}, "Quer"),
]


def _messages(response: httpx.Response) -> list[str]:
    return [e["message"] for e in response.json()["errors"]]


def _assert_no_suggestions(responses: list[tuple[str, httpx.Response]]) -> None:
    for typo, response in responses:
        messages = _messages(response)
        assert messages, typo
        assert not any("Did you mean" in m for m in messages), messages
        assert any(typo in m for m in messages), messages  # the error still names the mistake
        assert all(e["extensions"]["code"] for e in response.json()["errors"])


def test_anonymous_callers_get_no_suggestions_anywhere(client):
    """Issue 16 point 7: for an anonymous caller (who may not introspect), no error names a field,
    argument, enum value or type of the schema by guessing: input-object fields in literals and
    variables, enum values, arguments, fields, types."""
    _assert_no_suggestions([(typo, client.post("/graphql", json=body)) for body, typo in TYPOS])


async def _login(client) -> str:
    response = await client.post("/graphql", json={
        "query": "mutation($p: String!) { login(tenant: \"acme\", username: \"admin\", password: $p) "
                 "{ accessToken errors { code } } }", "variables": {"p": PASSWORD}})
    return response.json()["data"]["login"]["accessToken"]


@pytest.fixture
def quiet_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})


async def _typos_signed_in(settings: Settings) -> list[tuple[str, httpx.Response]]:
    async with AsyncTestClient(create_app(settings)) as client:
        headers = {"authorization": f"Bearer {await _login(client)}"}
        return [(typo, await client.post("/graphql", json=body, headers=headers)) for body, typo in TYPOS]


async def test_signed_in_callers_get_no_suggestions_with_introspection_off(quiet_settings, seeded):
    """Issue 16 point 7: with introspection off, a signed-in caller gets no suggestions either;
    with it on, the same caller may read the schema anyway and keeps graphql-core's help."""
    _assert_no_suggestions(await _typos_signed_in(quiet_settings.model_copy(update={"graphql_introspection": False})))
    helped = await _typos_signed_in(quiet_settings.model_copy(update={"graphql_introspection": True}))
    assert any("Did you mean 'status'" in m for m in _messages(helped[0][1]))
