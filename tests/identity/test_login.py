"""Signing in: one answer for every wrong credential, lockout, throttling, rehash on login."""

from dataclasses import replace
from datetime import timedelta

import pytest

from core.context import Context
from core.errors import KehuError
from core.identity import policies, sessions, users
from core.identity.passwords import FAST, OWASP, PasswordHashing
from core.identity import runtime
from core.identity.runtime import identity
from core.identity.tables import User
from core.db import unit_of_work
from tests.support import PASSWORD, SYSTEM, add_user, sign_in

ANON = Context.anonymous(client_address="192.0.2.7")


async def _login(tenant="acme", username="admin", password=PASSWORD, ctx=ANON):
    return await sessions.login(ctx, tenant=tenant, username=username, password=password)


async def _code(**kwargs) -> str:
    with pytest.raises(KehuError) as caught:
        await _login(**kwargs)
    return caught.value.code


async def test_a_user_signs_in_and_gets_working_tokens(seeded):
    tokens = await _login()
    principal = await sessions.authenticate_access_token(tokens.access_token)
    assert principal.tenant_id == seeded.acme.id
    assert principal.permissions["user.manage"].value == "tenant"
    assert tokens.refresh_token.startswith("rt_")


async def test_username_is_case_insensitive(seeded):
    assert (await _login(username="ADMIN")).user_id


async def test_every_wrong_credential_gives_the_same_answer(seeded):
    await add_user(seeded.acme, "leaver")
    await users.disable_user(SYSTEM.for_tenant(seeded.acme.id), (await _login(username="leaver")).user_id,
                             successor_id=None, reason="left")
    codes = {
        await _code(password="wrong-password-123"),
        await _code(username="nobody"),
        await _code(tenant="no-such-tenant"),
        await _code(username="leaver"),
    }
    assert codes == {"INVALID_CREDENTIALS"}


async def test_a_sign_in_finds_only_the_named_tenants_user_and_opens_its_session_there(seeded):
    """Tenant isolation of the sign-in (on PostgreSQL the read and the write are functions that set
    row-level security's tenant themselves): a user of globex does not exist under acme's slug,
    the same username in both tenants signs into the one named, and the session, refresh token
    and audit entry it opens are that tenant's alone."""
    from core.audit.tables import AuditEntry
    from core.identity.tables import AuthSession

    await add_user(seeded.globex, "only-globex")
    assert await _code(tenant="acme", username="only-globex") == "INVALID_CREDENTIALS"
    for tenant in (seeded.acme, seeded.globex):
        for _ in range(2):  # the first sign-in of a process, then one with the audit head known
            tokens = await _login(tenant=tenant.slug)
            assert tokens.tenant_id == tenant.id
            principal = await sessions.authenticate_access_token(tokens.access_token)
            assert principal.tenant_id == tenant.id
    for tenant, other in ((seeded.acme, seeded.globex), (seeded.globex, seeded.acme)):
        async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
            mine = {r["id"] for r in await uow.select(AuthSession.id)}
            entries = await uow.count(AuditEntry)
        async with unit_of_work(SYSTEM.for_tenant(other.id), write=False) as uow:
            theirs = {r["id"] for r in await uow.select(AuthSession.id)}
        assert len(mine) == 2 and not mine & theirs and entries > 0


async def test_unknown_users_cost_a_password_hash_like_known_ones(seeded, monkeypatch):
    spent = []
    hashing = identity().hashing
    real_burn, real_verify = hashing.burn, hashing.verify

    async def burn(password):
        spent.append("burn")
        await real_burn(password)

    async def verify(stored, password):
        spent.append("verify")
        return await real_verify(stored, password)

    monkeypatch.setattr(hashing, "burn", burn)
    monkeypatch.setattr(hashing, "verify", verify)
    for kwargs in ({"username": "nobody"}, {"tenant": "no-such-tenant"}, {"password": "wrong-password-123"}):
        spent.clear()
        await _code(**kwargs)
        assert len(spent) == 1, kwargs  # exactly one argon2 operation on every path


async def test_lockout_after_the_configured_failures(seeded):
    admin = SYSTEM.for_tenant(seeded.acme.id)
    await policies.update_identity_policy(admin, lockout={"max_failures_per_account": 3,
                                                          "max_failures_per_address": 100,
                                                          "window_minutes": 15, "lock_minutes": 15})
    for _ in range(3):
        assert await _code(password="wrong-password-123") == "INVALID_CREDENTIALS"
    assert await _code() == "ACCOUNT_LOCKED"  # even the right password is refused now
    # Another account is not affected.
    await add_user(seeded.acme, "colleague")
    assert (await _login(username="colleague")).user_id


async def test_unknown_usernames_lock_the_same_way(seeded):
    await policies.update_identity_policy(SYSTEM.for_tenant(seeded.acme.id),
                                          lockout={"max_failures_per_account": 2, "max_failures_per_address": 100,
                                                   "window_minutes": 15, "lock_minutes": 15})
    codes = [await _code(username="ghost") for _ in range(3)]
    assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "ACCOUNT_LOCKED"]


async def test_lock_ends_after_the_lock_time(seeded, monkeypatch):
    await policies.update_identity_policy(SYSTEM.for_tenant(seeded.acme.id),
                                          lockout={"max_failures_per_account": 1, "max_failures_per_address": 100,
                                                   "window_minutes": 15, "lock_minutes": 10})
    await _code(password="wrong-password-123")
    assert await _code() == "ACCOUNT_LOCKED"
    later = users.now() + timedelta(minutes=11)
    monkeypatch.setattr(sessions, "now", lambda: later)
    assert (await _login()).user_id


async def test_one_client_address_is_throttled_across_usernames(seeded):
    await policies.update_identity_policy(SYSTEM.for_tenant(seeded.acme.id),
                                          lockout={"max_failures_per_account": 100, "max_failures_per_address": 3,
                                                   "window_minutes": 15, "lock_minutes": 15})
    for name in ("a1", "a2", "a3"):
        await _code(username=name)
    assert await _code(username="admin") == "ACCOUNT_LOCKED"
    other = Context.anonymous(client_address="198.51.100.9")
    assert (await _login(ctx=other)).user_id


async def test_lockout_settings_are_per_tenant(seeded):
    await policies.update_identity_policy(SYSTEM.for_tenant(seeded.acme.id),
                                          lockout={"max_failures_per_account": 1, "max_failures_per_address": 100,
                                                   "window_minutes": 15, "lock_minutes": 15})
    await _code(password="wrong-password-123")
    assert await _code() == "ACCOUNT_LOCKED"
    await _code(tenant="globex", password="wrong-password-123")
    assert (await _login(tenant="globex")).user_id  # globex keeps the default of 5


async def test_login_rehashes_when_parameters_change(seeded, monkeypatch):
    current = identity()
    stronger = PasswordHashing(OWASP if current.hashing.parameters == FAST else FAST)
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        before = (await uow.select(User.password_hash).where(User.username == "admin").first())["password_hash"]
    assert stronger.needs_rehash(before)
    monkeypatch.setattr(runtime, "_runtime", replace(current, hashing=stronger))  # the operator raised the cost
    await _login()
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        after = (await uow.select(User.password_hash).where(User.username == "admin").first())["password_hash"]
    assert after != before and not stronger.needs_rehash(after)
    assert await stronger.verify(after, PASSWORD)


async def test_expired_password_is_flagged_at_login(seeded, monkeypatch):
    await policies.update_identity_policy(SYSTEM.for_tenant(seeded.acme.id), password={"max_age_days": 90})
    assert not (await _login()).must_change_password
    later = users.now() + timedelta(days=91)
    monkeypatch.setattr(sessions, "now", lambda: later)
    assert (await _login()).must_change_password


async def test_sign_in_helper_builds_a_context(seeded):
    ctx = await sign_in("acme", "admin")
    assert ctx.tenant_id == seeded.acme.id and ctx.actor.startswith("user:")


GQL_LOGIN = ("mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
             "{ accessToken mustChangePassword errors { code } } }")
GQL_CHANGE = ("mutation($cur: String!, $new: String!) { passwordChange(currentPassword: $cur, newPassword: $new) "
              "{ ok errors { code } } }")


def _codes(body: dict) -> list[str]:
    """Every error code of a GraphQL answer: top-level errors and each mutation payload's."""
    codes = [e["extensions"]["code"] for e in body.get("errors") or []]
    for root in (body.get("data") or {}).values():
        if isinstance(root, dict):
            codes += [e["code"] for e in root.get("errors") or []]
    return codes


def test_the_printed_administrator_password_must_be_changed_before_anything_else(sqlite_settings):
    """Issue 16 point 11: the one-time password `kehu tenants create` prints signs in only to a
    login that can change it and do nothing else (PASSWORD_CHANGE_REQUIRED); once changed, the
    new password signs in normally and the old login is over."""
    import re

    from click.testing import CliRunner
    from litestar.testing import TestClient

    from gateway.app import create_app
    from gateway.cli import cli

    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url, "KEHU_PASSWORD_HASHING": "fast"}
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    created = runner.invoke(cli, ["tenants", "create", "first-co", "First"], env=env)
    assert created.exit_code == 0, created.output
    printed = re.search(r"administrator: admin / (\S+)", created.output).group(1)
    relaxed = sqlite_settings.model_copy(update={"rate_limit_anonymous_per_minute": 10_000})
    with TestClient(create_app(relaxed)) as client:
        def post(doc: str, token: str | None = None, **variables) -> dict:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            return client.post("/graphql", json={"query": doc, "variables": variables}, headers=headers).json()

        login = post(GQL_LOGIN, t="first-co", u="admin", p=printed)["data"]["login"]
        assert login["errors"] == [] and login["mustChangePassword"] is True
        token = login["accessToken"]
        # Reads, writes and the administrator's own permissions: all refused with one code.
        for doc in ("{ users(first: 5) { edges { node { id } } } }", "{ roles { nodes { id } } }",
                    "{ customers(first: 5) { edges { node { id } } } }", "{ auditVerify { ok } }",
                    'mutation { departmentCreate(name: "x") { department { id } errors { code } } }',
                    'mutation { userCreate(input: {username: "mole", displayName: "M", password: '
                    '"correct-horse-battery-9"}) { user { id } errors { code } } }'):
            assert _codes(post(doc, token)) == ["PASSWORD_CHANGE_REQUIRED"], doc
        assert post("{ me { permissions { permission } } }", token)["data"]["me"]["permissions"] == []
        # The printed password cannot be "changed" to itself.
        assert _codes(post(GQL_CHANGE, token, cur=printed, new=printed)) == ["PASSWORD_UNCHANGED"]
        assert post(GQL_CHANGE, token, cur=printed, new="my-own-secret-phrase-7")["data"]["passwordChange"]["ok"]
        assert _codes(post("{ roles { nodes { id } } }", token)) == ["TOKEN_REVOKED"]  # that login is over
        again = post(GQL_LOGIN, t="first-co", u="admin", p="my-own-secret-phrase-7")["data"]["login"]
        assert again["errors"] == [] and again["mustChangePassword"] is False
        assert _codes(post("{ roles { nodes { id } } }", again["accessToken"])) == []
        assert _codes(post(GQL_LOGIN, t="first-co", u="admin", p=printed)) == ["INVALID_CREDENTIALS"]


async def test_a_password_set_by_an_administrator_must_be_changed_by_its_user(seeded, monkeypatch):
    """Issue 16 point 11: a reset by an administrator (who then knows the password) signs its user
    in only to change it; the same restriction holds for an expired password, and a refresh of
    such a login stays restricted."""
    from core.identity.access import require

    admin = await sign_in("acme", "admin")
    user = await add_user(seeded.acme, "forgetful")
    await users.reset_password(admin, user.id, new_password="temporary-phrase-42")
    tokens = await _login(username="forgetful", password="temporary-phrase-42")
    assert tokens.must_change_password
    principal = await sessions.authenticate_access_token(tokens.access_token)
    assert principal.permissions == {} and principal.password_change_required
    with pytest.raises(KehuError) as caught:
        require(Context.for_principal(principal), "customer.read")
    assert caught.value.code == "PASSWORD_CHANGE_REQUIRED"
    refreshed = await sessions.refresh(ANON, refresh_token=tokens.refresh_token)
    assert refreshed.must_change_password
    assert (await sessions.authenticate_access_token(refreshed.access_token)).password_change_required
    await users.change_password(Context.for_principal(principal), current_password="temporary-phrase-42",
                                new_password="chosen-by-me-phrase-42")
    assert not (await _login(username="forgetful", password="chosen-by-me-phrase-42")).must_change_password
    # A password its user chose is not marked, even when reset by themselves.
    ctx = await sign_in("acme", "admin")
    await users.reset_password(ctx, ctx.user_id, new_password="self-chosen-phrase-42")
    assert not (await _login(password="self-chosen-phrase-42")).must_change_password
    # Expiry: the same restricted login.
    await policies.update_identity_policy(SYSTEM.for_tenant(seeded.acme.id), password={"max_age_days": 90})
    later = users.now() + timedelta(days=91)
    monkeypatch.setattr(sessions, "now", lambda: later)
    expired = await _login(username="forgetful", password="chosen-by-me-phrase-42")
    assert expired.must_change_password
    with pytest.raises(KehuError) as caught:
        require(Context.for_principal(await sessions.authenticate_access_token(expired.access_token)), "user.read")
    assert caught.value.code == "PASSWORD_CHANGE_REQUIRED"
