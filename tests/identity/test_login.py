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
