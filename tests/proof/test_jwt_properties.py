"""Property: a valid access token, changed in any way, is refused by the token service and by the
HTTP endpoint (401 with a code), while the token as issued is accepted.

The mutations an attacker can make without the signing key: change any byte of the header, the
claims or the signature; switch alg (none, HS256 signed with the public key, HS512, RS256, ES256);
change or drop a claim or header field and keep the old signature; re-sign with another key
(under our kid or another). With the key itself, a token must still be refused when its claims
are wrong (expired, not yet valid, other issuer or audience, missing or non-canonical claims),
and one naming another tenant, user or session than its login is refused at the HTTP edge.

Hypothesis drives the service check (fast, shrinks); every token it refused is then sent over
HTTP. Bounded under CI, more examples locally (KEHU_JWT_EXAMPLES overrides).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, assume, given, settings as hypothesis_settings, strategies as st

from core.identity.runtime import identity
from core.identity.tokens import TokenInvalid
from tests.proof.conftest import gql, sign_in

EXAMPLES = int(os.environ.get("KEHU_JWT_EXAMPLES") or (60 if os.environ.get("CI") else 400))
REFUSED_CODES = {"TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_REVOKED"}
CLAIMS = ("sub", "tid", "sid", "jti", "exp", "iat", "nbf", "aud", "iss")
HEADER_FIELDS = ("alg", "typ", "kid", "jku", "x5u", "jwk", "crit", "b64")


def b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64json(data: dict[str, Any]) -> str:
    return b64e(json.dumps(data, separators=(",", ":")).encode())


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(b64d(header)), json.loads(b64d(payload)), signature


def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def signed(key: Ed25519PrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Sign by hand: PyJWT would refuse to encode some of the claims tried here."""
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    return f"{signing_input}.{b64e(key.sign(signing_input.encode()))}"


# --- Mutations: each a function of the valid token ---------------------------------------------

values = st.one_of(
    st.none(),  # drop the field
    st.integers(min_value=-2**63, max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["../../etc/passwd", "' OR 1=1 --", "https://kehu", "kehu ", "KEHU", "kehu-api ", "JWT", "at+jwt",
                     "refresh+jwt", "none", "", str(uuid4()), str(uuid4()).upper(), "00000000-0000-0000-0000-000000000000"]),
    st.lists(st.text(max_size=8), max_size=3),
    st.builds(lambda: str(uuid4())),
)


def _set(data: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    changed = dict(data)
    if value is None:
        changed.pop(name, None)
    else:
        changed[name] = value
    return changed


@st.composite
def byte_changes(draw: st.DrawFn) -> tuple[str, Any]:
    """Replace or flip one byte of the decoded header, payload or signature."""
    part = draw(st.sampled_from([0, 1, 2]))
    position = draw(st.integers(min_value=0, max_value=10_000))
    flip = draw(st.integers(min_value=1, max_value=255))

    def apply(token: str) -> str:
        parts = token.split(".")
        data = bytearray(b64d(parts[part]))
        data[position % len(data)] ^= flip
        parts[part] = b64e(bytes(data))
        return ".".join(parts)

    return f"xor byte {position} of part {part} with {flip}", apply


@st.composite
def alg_switches(draw: st.DrawFn) -> tuple[str, Any]:
    alg = draw(st.sampled_from(["none", "None", "NONE", "HS256", "HS512", "RS256", "ES256", "PS256", "EdDSA", "Ed25519"]))
    signature = draw(st.sampled_from(["keep", "empty", "hmac-public-key", "other-key"]))

    def apply(token: str) -> str:
        header, payload, old = split(token)
        signing_input = f"{b64json({**header, 'alg': alg})}.{b64json(payload)}"
        if signature == "keep":
            sig = old
        elif signature == "empty":
            sig = ""
        elif signature == "hmac-public-key":
            # The classic confusion: the verifier's public key used as an HMAC secret.
            public = identity().tokens._signing.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
            digest = hashlib.sha512 if alg.endswith("512") else hashlib.sha256
            sig = b64e(hmac.new(public, signing_input.encode(), digest).digest())
        else:
            sig = b64e(other_key().sign(signing_input.encode()))
        return f"{signing_input}.{sig}"

    return f"alg {alg}, signature {signature}", apply


@st.composite
def field_changes(draw: st.DrawFn) -> tuple[str, Any]:
    """Change or drop a claim or header field; keep the signature or sign with a key we don't hold."""
    in_header = draw(st.booleans())
    name = draw(st.sampled_from(HEADER_FIELDS if in_header else CLAIMS))
    value = draw(values)
    signing = draw(st.sampled_from(["unsigned", "other-key-same-kid", "other-key-other-kid"]))

    def apply(token: str) -> str:
        header, payload, old = split(token)
        header, payload = (_set(header, name, value), payload) if in_header else (header, _set(payload, name, value))
        if signing == "unsigned":
            return f"{b64json(header)}.{b64json(payload)}.{old}"
        if signing == "other-key-other-kid":
            header = {**header, "kid": "attacker"}
        return signed(other_key(), header, payload)

    where = "header" if in_header else "claim"
    return f"{where} {name} = {value!r}, {signing}", apply


@st.composite
def bad_claims_with_our_key(draw: st.DrawFn) -> tuple[str, Any]:
    """Signed with the real key, so only the claims themselves can make it invalid."""
    now = int(time.time())
    change = draw(st.sampled_from([
        ("exp", now - 31), ("exp", now - 10**6), ("exp", float(now + 600)), ("exp", str(now + 600)),
        ("iat", now + 10**4), ("iat", float(now)), ("nbf", now + 10**4), ("nbf", float("inf")),
        ("aud", "kehu-api-other"), ("aud", "kehu"), ("aud", ["other"]), ("iss", "https://kehu"), ("iss", "kehu2"),
        ("iss", ""), ("sub", "not-a-uuid"), ("tid", "UPPER"), ("sid", 7),  # UPPER: the same id in capitals
        *((claim, None) for claim in ("iss", "aud", "sub", "tid", "sid", "jti", "iat", "exp")),
    ]))
    name, value = change

    def apply(token: str) -> str:
        header, payload, _ = split(token)
        if value == "UPPER":
            changed = _set(payload, name, payload[name].upper())
        else:
            changed = _set(payload, name, value)
        return signed(identity().tokens._signing.private, header, changed)

    return f"{name} = {value!r}, signed with our key", apply


attacks = st.one_of(byte_changes(), alg_switches(), field_changes())


def _refused_by_service(token: str) -> None:
    with pytest.raises(TokenInvalid):
        identity().tokens.verify_access(token)


async def _refused_over_http(client, tokens: list[tuple[str, str]]) -> None:
    for description, token in tokens:
        response = await client.post("/graphql", json={"query": "{ me { tenantId } }"},
                                     headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 401, (description, token, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] in REFUSED_CODES, description


def _run(strategy, token: str, check) -> list[tuple[str, str]]:
    """Run ``check`` on every mutated token Hypothesis makes; return them for the HTTP round."""
    made: list[tuple[str, str]] = []

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(strategy)
    def property_(mutation):
        description, apply = mutation
        mutated = apply(token)
        assume(mutated != token)
        check(mutated)
        made.append((description, mutated))

    property_()
    return made


async def test_the_token_as_issued_is_accepted(client):
    token = await sign_in(client)
    assert identity().tokens.verify_access(token)
    response = await gql(client, "{ me { tenantId } }", token)
    assert response.status_code == 200 and response.json()["data"]["me"]["tenantId"]


async def test_any_change_without_the_key_is_refused(client):
    token = await sign_in(client)
    made = _run(attacks, token, _refused_by_service)
    assert len({mutated for _, mutated in made}) > EXAMPLES // 2  # many distinct tokens went over HTTP
    await _refused_over_http(client, made)
    # The token itself still works: the refusals were about the changes, not about the login.
    assert (await gql(client, "{ me { tenantId } }", token)).status_code == 200


async def test_wrong_claims_are_refused_even_when_signed_with_our_key(client):
    token = await sign_in(client)
    made = _run(bad_claims_with_our_key(), token, _refused_by_service)
    await _refused_over_http(client, made)


@st.composite
def identity_swaps(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(["sub", "tid", "sid"]))
    target = draw(st.sampled_from(["random", "other tenant"]))

    def apply(token: str) -> str:
        header, payload, _ = split(token)
        value = OTHER_TENANT[0] if target == "other tenant" and name == "tid" else str(uuid4())
        return signed(identity().tokens._signing.private, header, {**payload, name: value})

    return f"{name} -> {target}", apply


OTHER_TENANT: list[str] = []


async def test_a_validly_signed_token_for_another_login_is_refused_at_the_edge(client, seeded):
    """Someone holding the key could mint these; the edge still checks the login behind them."""
    OTHER_TENANT[:] = [str(seeded.globex.id)]
    token = await sign_in(client)
    made = _run(identity_swaps(), token, identity().tokens.verify_access)
    await _refused_over_http(client, made)
