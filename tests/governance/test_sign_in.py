"""Sign-in controls over the public API (seed-004 CSM-15, CSM-17, CSM-18, CSM-25; issue 24 point 3):
a network allow-list for staff and for API keys, a TOTP second factor, a challenge after repeated
failures, the lockout of an account reported compromised, and HTTPS only.

The app runs behind uvicorn's own proxy-header middleware, trusting the test client as a proxy,
so ``X-Forwarded-For`` and ``X-Forwarded-Proto`` set the caller's address and scheme exactly as a
trusted reverse proxy does in production.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta

import asyncpg
import pyotp
import pytest
from litestar.testing import AsyncTestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.identity import challenges, networks, sessions, totp
from core.identity.policies import SignInPolicy
from core.errors import KehuError
from core.settings import Profile, Settings, load_settings
from gateway.app import create_app
from tests.support import PASSWORD, Clock

STRONG = "a-strong-new-phrase-42"
INTRANET, VPN, PUBLIC = "10.20.30.40", "172.16.5.5", "203.0.113.7"
LOGIN = ("mutation($t: String!, $u: String!, $p: String!, $c: String, $ci: String, $ca: String) { "
         "login(tenant: $t, username: $u, password: $p, totpCode: $c, challengeId: $ci, challengeAnswer: $ca) "
         "{ accessToken mustChangePassword totpEnrolmentRequired errors { code field } } }")
POLICY = ("mutation($i: SignInPolicyInput!) { signInPolicyUpdate(input: $i) { policy { staffNetworks apiKeyNetworks "
          "totpRequired challengeAfterFailures } errors { code field } } }")
REFUSED = ("{ refusedAttempts(first: 50) { nodes { at actor username clientAddress operation code result summary } } }")


def _with_proxy(app, trusted="*"):
    """The app as uvicorn serves it behind a proxy it trusts (FORWARDED_ALLOW_IPS)."""
    wrapped = ProxyHeadersMiddleware(app, trusted_hosts=trusted)
    return wrapped


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    app = create_app(api_settings)
    async with AsyncTestClient(app) as test_client:
        test_client.app = _with_proxy(app)  # requests go through the proxy-header middleware
        yield test_client


async def gql(client, query: str, token: str | None = None, *, address: str = INTRANET, api_key: str | None = None,
              **variables):
    headers = {"x-forwarded-for": address}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if api_key:
        headers["x-api-key"] = api_key
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def login(client, username="admin", password=PASSWORD, *, address=INTRANET, code=None, challenge=None,
                tenant="acme") -> dict:
    challenge_id, answer = challenge or (None, None)
    body = (await gql(client, LOGIN, address=address, t=tenant, u=username, p=password, c=code, ci=challenge_id,
                      ca=answer)).json()
    return body["data"]["login"]


async def admin_token(client) -> str:
    signed_in = await login(client)
    assert signed_in["errors"] == [], signed_in
    return signed_in["accessToken"]


async def new_user(client, token: str, username: str, password: str = PASSWORD) -> str:
    body = (await gql(client, 'mutation($u: String!, $p: String!) { userCreate(input: {username: $u, '
                              'displayName: $u, password: $p}) { user { id } errors { code } } }',
                      token, u=username, p=password)).json()
    assert body["data"]["userCreate"]["errors"] == [], body
    return body["data"]["userCreate"]["user"]["id"]


async def set_policy(client, token: str, address: str = INTRANET, **changes) -> dict:
    body = (await gql(client, POLICY, token, address=address, i=changes)).json()
    assert body["data"]["signInPolicyUpdate"]["errors"] == [], body
    return body["data"]["signInPolicyUpdate"]["policy"]


async def refused(client, token: str) -> list[dict]:
    body = (await gql(client, REFUSED, token)).json()
    assert "errors" not in body, body
    return body["data"]["refusedAttempts"]["nodes"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


# --- CSM-17: networks ------------------------------------------------------------------------------


async def test_CSM_17_sign_in_from_outside_the_allow_list_is_refused_and_recorded(client):
    """CSM-17: with intranet and VPN networks allowed, a sign-in from a public address is refused even
    with the right password, and the register of refused attempts records it as denied; from the
    VPN it succeeds."""
    token = await admin_token(client)
    policy = await set_policy(client, token, staffNetworks=["10.0.0.0/8", "172.16.0.0/12"])
    assert policy["staffNetworks"] == ["10.0.0.0/8", "172.16.0.0/12"]
    outside = await login(client, address=PUBLIC)
    assert codes(outside) == ["NETWORK_NOT_ALLOWED"] and outside["accessToken"] is None
    inside = await login(client, address=VPN)
    assert inside["errors"] == [] and inside["accessToken"]
    rows = [r for r in await refused(client, inside["accessToken"]) if r["code"] == "NETWORK_NOT_ALLOWED"]
    assert len(rows) == 1, rows
    assert rows[0]["operation"] == "login" and rows[0]["result"] == "denied"
    assert rows[0]["clientAddress"] == PUBLIC and rows[0]["username"] == "admin"
    assert PASSWORD not in json.dumps(rows)


async def test_CSM_17_ipv6_networks_are_honoured(client):
    """CSM-17: an IPv6 allow-list admits its own addresses only."""
    token = await admin_token(client)
    await set_policy(client, token, staffNetworks=["2001:db8:1::/48", "10.0.0.0/8"])
    assert codes(await login(client, address="2001:db8:2::5")) == ["NETWORK_NOT_ALLOWED"]
    assert (await login(client, address="2001:db8:1::5"))["errors"] == []


async def test_CSM_17_api_keys_honour_their_allow_list(client):
    """CSM-17 (issue 24 point 3): an API key used from outside the tenant's API-key networks is
    refused with a coded error and no data, and the refusal is recorded; inside, it works."""
    token = await admin_token(client)
    key = (await gql(client, 'mutation { apiKeyCreate(name: "erp", permissions: ["user.read"]) { secret } }',
                     token)).json()["data"]["apiKeyCreate"]["secret"]
    await set_policy(client, token, apiKeyNetworks=["192.0.2.0/24"])
    outside = await gql(client, "{ users { nodes { username } } }", api_key=key, address="198.51.100.1")
    assert outside.status_code == 403
    assert outside.json()["data"] is None
    assert outside.json()["errors"][0]["extensions"]["code"] == "NETWORK_NOT_ALLOWED"
    inside = await gql(client, "{ users { nodes { username } } }", api_key=key, address="192.0.2.10")
    assert inside.status_code == 200 and inside.json()["data"]["users"]["nodes"]
    rows = [r for r in await refused(client, token) if r["operation"] == "apikey.use"]
    assert len(rows) == 1 and rows[0]["code"] == "NETWORK_NOT_ALLOWED" and rows[0]["clientAddress"] == "198.51.100.1"
    assert rows[0]["actor"].startswith("apikey:") and key not in json.dumps(rows)
    # Staff sign-in is not bound by the API-key list.
    assert (await login(client, address="198.51.100.1"))["errors"] == []


async def test_CSM_17_a_bad_network_is_refused_with_its_field(client):
    """CSM-17: the allow-list takes CIDR networks only; a bad entry changes nothing."""
    token = await admin_token(client)
    body = (await gql(client, POLICY, token, i={"staffNetworks": ["10.0.0.0/8", "intranet"]})).json()
    assert codes(body["data"]["signInPolicyUpdate"]) == ["SETTING_INVALID"]
    assert (await login(client, address=PUBLIC))["errors"] == []  # still no list


def test_CSM_17_network_matching_is_cidr_for_ipv4_and_ipv6():
    """CSM-17 (pure): CIDR matching, IPv4 seen as IPv6, and what is not an address."""
    allowed = networks.parse_networks(["10.1.2.3/8", "2001:db8::/32"], "staff_networks")
    assert allowed == ("10.0.0.0/8", "2001:db8::/32")
    assert networks.allowed("10.255.0.1", allowed) and networks.allowed("::ffff:10.0.0.9", allowed)
    assert networks.allowed("2001:db8:ffff::1", allowed)
    assert not networks.allowed("11.0.0.1", allowed) and not networks.allowed("testclient", allowed)
    assert not networks.allowed(None, allowed) and networks.allowed(None, ())
    with pytest.raises(KehuError) as refused_:
        networks.parse_networks(["10.0.0.0/33"], "staff_networks")
    assert refused_.value.code == "SETTING_INVALID"


# --- CSM-18: TOTP and the challenge ---------------------------------------------------------------


async def _enrol(client, token: str, clock: Clock) -> tuple[str, list[str]]:
    started = (await gql(client, "mutation { totpEnrolmentStart { secret uri errors { code } } }", token)).json()
    payload = started["data"]["totpEnrolmentStart"]
    assert payload["errors"] == [] and payload["uri"].startswith("otpauth://totp/"), started
    secret = payload["secret"]
    wrong = (await gql(client, 'mutation { totpEnrolmentConfirm(code: "000000") { recoveryCodes errors { code } } }',
                       token)).json()["data"]["totpEnrolmentConfirm"]
    if pyotp.TOTP(secret).at(clock()) != "000000":
        assert codes(wrong) == ["TOTP_INVALID"]
    confirmed = (await gql(client, 'mutation($c: String!) { totpEnrolmentConfirm(code: $c) { recoveryCodes '
                                    'errors { code } } }', token, c=pyotp.TOTP(secret).at(clock()))).json()
    payload = confirmed["data"]["totpEnrolmentConfirm"]
    assert payload["errors"] == [] and len(payload["recoveryCodes"]) == 10, confirmed
    return secret, payload["recoveryCodes"]


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(sessions, "now", clock)
    monkeypatch.setattr(totp, "now", clock)
    return clock


async def test_CSM_18_a_correct_password_without_a_valid_totp_code_is_refused(client, clock):
    """CSM-18 (issue 24 point 3): once a user has enrolled, the right password alone, or with a wrong
    or replayed code, is refused (TOTP_REQUIRED / TOTP_INVALID) and recorded; a fresh code or an
    unused recovery code signs in."""
    token = await admin_token(client)
    user_id = await new_user(client, token, "li.na")
    user_token = (await login(client, "li.na"))["accessToken"]
    secret, recovery = await _enrol(client, user_token, clock)
    assert codes(await login(client, "li.na")) == ["TOTP_REQUIRED"]
    assert codes(await login(client, "li.na", code="12345x")) == ["TOTP_INVALID"]
    clock.advance(seconds=60)
    good = pyotp.TOTP(secret).at(clock())
    assert (await login(client, "li.na", code=good))["errors"] == []
    assert codes(await login(client, "li.na", code=good)) == ["TOTP_INVALID"]  # a code works once
    assert (await login(client, "li.na", code=recovery[0]))["errors"] == []
    assert codes(await login(client, "li.na", code=recovery[0])) == ["TOTP_INVALID"]
    # A wrong password never reaches the code: it is the usual answer.
    assert codes(await login(client, "li.na", "wrong-password-99", code=good)) == ["INVALID_CREDENTIALS"]
    rows = await refused(client, token)
    assert {r["code"] for r in rows if r["username"] == "li.na"} >= {"TOTP_REQUIRED", "TOTP_INVALID"}
    text = json.dumps(rows)
    assert good not in text and recovery[0] not in text and secret not in text
    assert user_id


async def test_CSM_18_totp_failures_count_towards_the_lockout(client, clock):
    """CSM-18: a missing or wrong code is a failed sign-in: enough of them lock the account even for
    the right password and code."""
    token = await admin_token(client)
    await new_user(client, token, "wang.wu")
    secret, _ = await _enrol(client, (await login(client, "wang.wu"))["accessToken"], clock)
    body = (await gql(client, 'mutation { identityPolicyUpdate(input: {lockoutMaxFailuresPerAccount: 3}) '
                              '{ errors { code } } }', token)).json()
    assert body["data"]["identityPolicyUpdate"]["errors"] == []
    for _ in range(3):
        assert codes(await login(client, "wang.wu", code="999999" if _ else None))[0] in ("TOTP_REQUIRED",
                                                                                          "TOTP_INVALID")
    clock.advance(seconds=60)
    assert codes(await login(client, "wang.wu", code=pyotp.TOTP(secret).at(clock()))) == ["ACCOUNT_LOCKED"]


async def test_CSM_18_the_totp_secret_is_sealed_and_never_audited(client, clock, api_settings):
    """CSM-18: the secret is stored sealed (not in clear in its column), and no audit entry holds the
    secret or a code; disabling needs a valid code, and afterwards the password alone signs in."""
    token = await admin_token(client)
    await new_user(client, token, "zhao.liu")
    user_token = (await login(client, "zhao.liu"))["accessToken"]
    secret, recovery = await _enrol(client, user_token, clock)
    stored = await _column(api_settings, "SELECT secret FROM totp_enrolment")
    assert stored and secret not in stored[0]
    # Read beside the app (its pool belongs to the app's loop), every entry's text columns.
    entries = await _column(api_settings, "SELECT action || ' ' || coalesce(target_id, '') || ' ' || diff "
                                          "FROM audit_entry")
    assert any(e.startswith("totp.enrolled") for e in entries)
    assert not [e for e in entries if secret in e or recovery[0] in e or recovery[0].replace("-", "") in e]
    body = (await gql(client, 'mutation { totpDisable(code: "000001") { ok errors { code } } }', user_token)).json()
    assert codes(body["data"]["totpDisable"]) == ["TOTP_INVALID"]
    clock.advance(seconds=60)
    body = (await gql(client, 'mutation($c: String!) { totpDisable(code: $c) { ok errors { code } } }', user_token,
                      c=pyotp.TOTP(secret).at(clock()))).json()
    assert body["data"]["totpDisable"] == {"ok": True, "errors": []}
    assert (await login(client, "zhao.liu"))["errors"] == []


async def test_CSM_18_an_administrator_resets_a_lost_second_factor(client, clock):
    """CSM-18: totpReset (user.manage) turns a user's factor off: the password signs in again."""
    token = await admin_token(client)
    user_id = await new_user(client, token, "qian.qi")
    await _enrol(client, (await login(client, "qian.qi"))["accessToken"], clock)
    assert codes(await login(client, "qian.qi")) == ["TOTP_REQUIRED"]
    body = (await gql(client, 'mutation($u: ID!) { totpReset(userId: $u) { ok errors { code } } }', token,
                      u=user_id)).json()
    assert body["data"]["totpReset"] == {"ok": True, "errors": []}
    assert (await login(client, "qian.qi"))["errors"] == []


async def test_CSM_18_a_required_second_factor_gives_an_enrolment_only_login(client, clock):
    """CSM-18: where the tenant requires TOTP, a user not yet enrolled gets a login that may only
    enrol; once enrolled, the password alone is refused."""
    token = await admin_token(client)
    await new_user(client, token, "sun.ba")
    await set_policy(client, token, totpRequired=True)
    first = await login(client, "sun.ba")
    assert first["errors"] == [] and first["totpEnrolmentRequired"] is True
    body = (await gql(client, "{ users { nodes { id } } }", first["accessToken"])).json()
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    secret, _ = await _enrol(client, first["accessToken"], clock)
    assert codes(await login(client, "sun.ba")) == ["TOTP_REQUIRED"]
    clock.advance(seconds=60)
    signed_in = await login(client, "sun.ba", code=pyotp.TOTP(secret).at(clock()))
    assert signed_in["errors"] == [] and signed_in["totpEnrolmentRequired"] is False


async def test_CSM_18_after_repeated_failures_a_sign_in_needs_a_challenge_answer(client):
    """CSM-18 ("captcha"): after the tenant's number of failures, the right password without a
    valid challenge answer is refused (CHALLENGE_REQUIRED / CHALLENGE_INVALID); with one it signs
    in, and a challenge works once."""
    token = await admin_token(client)
    await new_user(client, token, "zhou.jiu")
    await set_policy(client, token, challengeAfterFailures=2)
    for _ in range(2):
        assert codes(await login(client, "zhou.jiu", "wrong-password-1")) == ["INVALID_CREDENTIALS"]
    assert codes(await login(client, "zhou.jiu")) == ["CHALLENGE_REQUIRED"]

    async def challenge() -> tuple[str, str]:
        body = (await gql(client, 'mutation { signInChallenge(tenant: "acme", username: "zhou.jiu") '
                                  '{ challengeId question errors { code } } }')).json()["data"]["signInChallenge"]
        assert body["errors"] == [], body
        a, op, b = re.match(r"What is (\d+) (plus|times) (\d+)\?", body["question"]).groups()
        return body["challengeId"], str(int(a) + int(b) if op == "plus" else int(a) * int(b))

    challenge_id, answer = await challenge()
    assert codes(await login(client, "zhou.jiu", challenge=(challenge_id, str(int(answer) + 1)))) == \
        ["CHALLENGE_INVALID"]
    assert codes(await login(client, "zhou.jiu", challenge=(challenge_id, answer))) == ["CHALLENGE_INVALID"]  # used
    challenge_id, answer = await challenge()
    assert (await login(client, "zhou.jiu", challenge=(challenge_id, answer)))["errors"] == []
    assert (await login(client, "zhou.jiu"))["errors"] == []  # the success forgave the failures
    assert {"CHALLENGE_REQUIRED", "CHALLENGE_INVALID"} <= {r["code"] for r in await refused(client, token)}


def test_CSM_18_challenge_and_policy_rules():
    """CSM-18 (pure): questions and their hashed answers; the policy's validation."""
    question, answer = challenges.new_question()
    assert question.startswith("What is") and answer.isdigit()
    from uuid import uuid4
    challenge_id = uuid4()
    stored = challenges.answer_hash(challenge_id, answer)
    # stored as a 64-hex digest, never the answer (a short answer may appear inside a digest by chance)
    assert len(stored) == 64 and stored != answer and challenges.answer_matches(challenge_id, f" {answer} ", stored)
    assert not challenges.answer_matches(uuid4(), answer, stored)
    assert not challenges.challenge_due(5, 0) and challenges.challenge_due(3, 3) and not challenges.challenge_due(2, 3)
    policy = SignInPolicy.from_mapping({"totp_required_roles": ["财务"], "challenge_after_failures": 3})
    assert policy.totp_required_for({"财务", "销售"}) and not policy.totp_required_for({"销售"})
    for bad in ({"challenge_after_failures": -1}, {"totp_required": "yes"}, {"unknown": 1},
                {"api_key_networks": "10.0.0.0/8"}):
        with pytest.raises(KehuError):
            SignInPolicy.from_mapping(bad)


def test_CSM_18_totp_codes_match_their_step_once():
    """CSM-18 (pure): a code of now or one step either side matches, an older step or a used one not."""
    secret = pyotp.random_base32()
    at = datetime(2026, 1, 5, 9, 0, 15, tzinfo=UTC)
    code = pyotp.TOTP(secret).at(at)
    step = totp.matching_step(secret, code, at, 0)
    assert step == int(at.timestamp()) // 30
    assert totp.matching_step(secret, code, at + timedelta(seconds=30), 0) == step
    assert totp.matching_step(secret, code, at + timedelta(seconds=95), 0) is None
    assert totp.matching_step(secret, code, at, step) is None


# --- CSM-15: compromise lockout -------------------------------------------------------------------


async def test_CSM_15_a_reported_compromise_locks_until_an_administrator_resets_the_password(client):
    """CSM-15: reportAccountCompromise locks the account (status locked), ends its logins; the old
    password signs in to nothing (ACCOUNT_COMPROMISED), enabling does not open it; only an
    administrator's password reset does."""
    token = await admin_token(client)
    user_id = await new_user(client, token, "wu.shi")
    user_token = (await login(client, "wu.shi"))["accessToken"]
    body = (await gql(client, 'mutation($u: ID!) { accountCompromiseReport(userId: $u) { ok errors { code } } }',
                      token, u=user_id)).json()
    assert body["data"]["accountCompromiseReport"] == {"ok": True, "errors": []}
    status = (await gql(client, "query($u: ID!) { user(id: $u) { status } }", token, u=user_id)).json()
    assert status["data"]["user"]["status"] == "locked"
    assert (await gql(client, "{ me { tenantId } }", user_token)).status_code == 401  # its logins ended
    assert codes(await login(client, "wu.shi")) == ["ACCOUNT_COMPROMISED"]
    assert codes(await login(client, "wu.shi", "wrong-password-1")) == ["INVALID_CREDENTIALS"]
    body = (await gql(client, 'mutation($u: ID!) { userEnable(id: $u) { errors { code } } }', token, u=user_id)).json()
    assert codes(body["data"]["userEnable"]) == ["ACCOUNT_COMPROMISED"]
    body = (await gql(client, 'mutation($u: ID!, $p: String!) { userPasswordReset(id: $u, newPassword: $p) '
                              '{ ok errors { code } } }', token, u=user_id, p=STRONG)).json()
    assert body["data"]["userPasswordReset"]["errors"] == [], body
    assert codes(await login(client, "wu.shi")) == ["INVALID_CREDENTIALS"]  # the old password is gone
    fresh = await login(client, "wu.shi", STRONG)
    assert fresh["errors"] == [] and fresh["mustChangePassword"] is True
    status = (await gql(client, "query($u: ID!) { user(id: $u) { status } }", token, u=user_id)).json()
    assert status["data"]["user"]["status"] == "active"


async def test_CSM_15_users_report_their_own_account_but_not_others_without_user_manage(client):
    """CSM-15: a user may report their own account; another's needs user.manage."""
    token = await admin_token(client)
    other = await new_user(client, token, "chen.yi")
    await new_user(client, token, "lin.er")
    mine = (await login(client, "lin.er"))["accessToken"]
    body = (await gql(client, 'mutation($u: ID!) { accountCompromiseReport(userId: $u) { ok errors { code } } }',
                      mine, u=other)).json()
    assert codes(body["data"]["accountCompromiseReport"]) == ["PERMISSION_DENIED"]
    assert (await login(client, "chen.yi"))["errors"] == []
    body = (await gql(client, "mutation { accountCompromiseReport { ok errors { code } } }", mine)).json()
    assert body["data"]["accountCompromiseReport"] == {"ok": True, "errors": []}
    assert codes(await login(client, "lin.er")) == ["ACCOUNT_COMPROMISED"]


# --- CSM-25: TLS only ------------------------------------------------------------------------------


async def test_CSM_25_plain_http_is_refused_with_no_data(api_settings, seeded):
    """CSM-25: where HTTPS is required, a plain-HTTP GraphQL request is refused with a coded error and
    no data, even with valid credentials; over HTTPS, or from a trusted proxy saying
    X-Forwarded-Proto: https, it is answered; an untrusted caller's header changes nothing; the
    health probes stay plain."""
    app = create_app(api_settings.model_copy(update={"require_https": True}))
    query = {"query": "{ version }"}
    async with AsyncTestClient(app) as plain:
        refused_ = await plain.post("/graphql", json=query)
        assert refused_.status_code == 403
        assert refused_.json()["data"] is None
        assert refused_.json()["errors"][0]["extensions"]["code"] == "HTTPS_REQUIRED"
        assert (await plain.get("/healthz")).status_code == 200
        plain.app = _with_proxy(app, trusted="*")
        behind = await plain.post("/graphql", json=query, headers={"x-forwarded-proto": "https"})
        assert behind.status_code == 200 and behind.json()["data"]["version"]
        plain.app = _with_proxy(app, trusted="127.0.0.1")  # the test client is no trusted proxy
        spoofed = await plain.post("/graphql", json=query, headers={"x-forwarded-proto": "https"})
        assert spoofed.status_code == 403
    async with AsyncTestClient(app, base_url="https://testserver.local") as tls:
        assert (await tls.post("/graphql", json=query)).json()["data"]["version"]


def test_CSM_25_production_requires_https_by_default_and_embedded_does_not():
    """CSM-25: KEHU_REQUIRE_HTTPS defaults on in the production profile, off when embedded."""
    assert load_settings().https_required is False
    production = Settings.model_construct(profile=Profile.PRODUCTION, require_https=None)
    assert production.https_required is True
    assert Settings.model_construct(profile=Profile.PRODUCTION, require_https=False).https_required is False
    assert load_settings(require_https=True).https_required is True


# --- helpers ---------------------------------------------------------------------------------------


async def _column(settings: Settings, sql: str) -> list[str]:
    if settings.database.is_sqlite:
        with sqlite3.connect(settings.database.sqlite_path) as connection:
            return [str(r[0]) for r in connection.execute(sql).fetchall()]
    connection = await asyncpg.connect(settings.migrate_database.raw)
    try:
        return [str(r[0]) for r in await connection.fetch(sql)]
    finally:
        await connection.close()
