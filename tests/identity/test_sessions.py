"""Tokens in use: refresh rotation and theft detection, logout, revocation, tenant binding, API keys."""

from datetime import UTC, datetime

import pytest

from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.tables import ApiKey
from core.identity import api_keys, roles, sessions, users
from core.identity.permissions import Scope
from core.identity.runtime import identity
from core.identity.tokens import TokenInvalid
from tests.support import PASSWORD, SYSTEM, add_user, sign_in

ANON = Context.anonymous(client_address="192.0.2.7")


async def _login(tenant="acme", username="admin", password=PASSWORD):
    return await sessions.login(ANON, tenant=tenant, username=username, password=password)


async def _refused(token: str) -> str:
    with pytest.raises(TokenInvalid) as caught:
        await sessions.authenticate_access_token(token)
    return caught.value.code


async def test_refresh_rotates_the_refresh_token(seeded):
    first = await _login()
    second = await sessions.refresh(ANON, refresh_token=first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert (await sessions.authenticate_access_token(second.access_token)).user_id == first.user_id


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(seeded):
    first = await _login()
    second = await sessions.refresh(ANON, refresh_token=first.refresh_token)
    with pytest.raises(KehuError) as caught:
        await sessions.refresh(ANON, refresh_token=first.refresh_token)  # the stolen copy comes back
    assert caught.value.code == "TOKEN_REUSED"
    with pytest.raises(TokenInvalid):
        await sessions.refresh(ANON, refresh_token=second.refresh_token)  # the thief's rotation is dead too
    assert await _refused(second.access_token) == "TOKEN_REVOKED"
    assert await _refused(first.access_token) == "TOKEN_REVOKED"


async def test_reuse_revokes_only_that_login(seeded):
    laptop, phone = await _login(), await _login()
    await sessions.refresh(ANON, refresh_token=laptop.refresh_token)
    with pytest.raises(KehuError):
        await sessions.refresh(ANON, refresh_token=laptop.refresh_token)
    assert (await sessions.authenticate_access_token(phone.access_token)).user_id == phone.user_id


@pytest.mark.parametrize("token", ["", "garbage", "rt_nothex_x", "kk_" + "0" * 32 + "_" + "a" * 43])
async def test_malformed_refresh_tokens_are_refused(seeded, token):
    with pytest.raises(TokenInvalid):
        await sessions.refresh(ANON, refresh_token=token)


async def test_logout_makes_the_access_token_fail_on_its_next_use(seeded):
    tokens = await _login()
    principal = await sessions.authenticate_access_token(tokens.access_token)
    await sessions.logout(Context.for_principal(principal))
    assert await _refused(tokens.access_token) == "TOKEN_REVOKED"
    with pytest.raises(TokenInvalid):
        await sessions.refresh(ANON, refresh_token=tokens.refresh_token)


async def test_password_change_revokes_every_login_at_once(seeded):
    other_login = await _login()
    ctx = await sign_in("acme", "admin")
    await users.change_password(ctx, current_password=PASSWORD, new_password="an-entirely-new-phrase-9")
    assert await _refused(other_login.access_token) == "TOKEN_REVOKED"
    with pytest.raises(KehuError):
        await _login()  # the old password no longer works
    assert (await _login(password="an-entirely-new-phrase-9")).user_id


async def test_password_change_needs_the_current_password(seeded):
    ctx = await sign_in("acme", "admin")
    with pytest.raises(KehuError) as caught:
        await users.change_password(ctx, current_password="not-it-at-all-1", new_password="an-entirely-new-phrase-9")
    assert caught.value.code == "INVALID_CREDENTIALS"
    with pytest.raises(KehuError) as caught:
        await users.change_password(ctx, current_password=PASSWORD, new_password="short")
    assert caught.value.code == "PASSWORD_TOO_WEAK"


async def test_disabling_an_account_revokes_its_tokens_at_once(seeded):
    await add_user(seeded.acme, "clerk")
    clerk = await _login(username="clerk")
    admin = await sign_in("acme", "admin")
    await users.disable_user(admin, clerk.user_id, successor_id=None, reason="left the company")
    assert await _refused(clerk.access_token) == "TOKEN_REVOKED"
    with pytest.raises(TokenInvalid):
        await sessions.refresh(ANON, refresh_token=clerk.refresh_token)


async def test_a_token_with_another_tenants_tid_is_refused(seeded):
    """A's user id and session inside a token claiming tenant B: B has no such user or session."""
    acme_login = await _login()
    forged, _ = identity().tokens.issue_access(user_id=acme_login.user_id, tenant_id=seeded.globex.id,
                                               session_id=(await sessions.authenticate_access_token(
                                                   acme_login.access_token)).session_id)
    assert await _refused(forged) == "TOKEN_REVOKED"


async def test_an_api_key_reads_only_its_own_tenant(seeded):
    admin = await sign_in("acme", "admin")
    _, secret = await api_keys.create_api_key(admin, name="crm-sync", permissions=["user.read"])
    principal = await sessions.authenticate_api_key(secret)
    assert principal.tenant_id == seeded.acme.id and principal.user_id is None
    key_ctx = Context.for_principal(principal)
    listed, _ = await users.list_users(key_ctx, first=50)
    assert {u.username for u in listed} == {"admin"}
    globex_admin = await sign_in("globex", "admin")
    with pytest.raises(KehuError) as caught:
        await users.get_user(key_ctx, globex_admin.user_id)
    assert caught.value.code == "NOT_FOUND"
    # The key's tenant is part of the key; pointing it at another tenant breaks it.
    tampered = secret.replace(seeded.acme.id.hex, seeded.globex.id.hex)
    with pytest.raises(TokenInvalid):
        await sessions.authenticate_api_key(tampered)


async def test_api_keys_expire_and_revoke(seeded):
    admin = await sign_in("acme", "admin")
    view, secret = await api_keys.create_api_key(admin, name="short-lived", permissions=[])
    assert (await sessions.authenticate_api_key(secret)).api_key_id == view.id
    await api_keys.revoke_api_key(admin, view.id)
    with pytest.raises(TokenInvalid):
        await sessions.authenticate_api_key(secret)


async def test_api_key_secret_is_shown_once_and_stored_hashed(seeded):
    admin = await sign_in("acme", "admin")
    view, secret = await api_keys.create_api_key(admin, name="once", permissions=["user.read"])
    async with unit_of_work(admin, write=False) as uow:
        stored = await uow.select(ApiKey).where(ApiKey.id == view.id).first()
    assert secret not in str(stored) and stored["token_hash"] != secret
    assert not hasattr(view, "secret") and secret not in str(await api_keys.list_api_keys(admin))


async def test_api_key_cannot_carry_more_than_its_creator_holds(seeded):
    await add_user(seeded.acme, "keymaker")
    admin = await sign_in("acme", "admin")
    role = await roles.create_role(admin, name="Key maker", permissions={"apikey.manage": Scope.TENANT})
    keymaker_id = (await _login(username="keymaker")).user_id
    await roles.grant_role(admin, user_id=keymaker_id, role_id=role.id)
    keymaker = await sign_in("acme", "keymaker")
    with pytest.raises(KehuError) as caught:
        await api_keys.create_api_key(keymaker, name="too-strong", permissions=["user.manage"])
    assert caught.value.code == "PERMISSION_ESCALATION"


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # the round trips counted are PostgreSQL's
async def test_a_sign_in_on_postgresql_is_two_statements_and_its_session_works(seeded, database, monkeypatch):
    """P4 (issue 27): a sign-in's database work competes with argon2 for the same cores, so it is
    kept to few round trips. On PostgreSQL, two statements, each a transaction of its own (no
    BEGIN, no COMMIT): the joined read, whose row-level-security tenant the function sets from
    the slug, and one that records the last login, opens the session with its first refresh token
    and appends the audit entry. The session it opens authenticates and refreshes, the user's
    last sign-in time moved, and the audit chain stays whole."""
    import asyncpg

    from core.audit.chain import verify_chain

    await _login()  # the audit head is known to this process from here on, as in a running server
    sent: list[str] = []
    for method in ("fetch", "fetchrow", "fetchval", "execute", "executemany"):
        original = getattr(asyncpg.connection.Connection, method)

        async def counted(self, query, *args, _original=original, **kwargs):
            sent.append(query)
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.connection.Connection, method, counted)
    started = datetime.now(UTC)
    tokens = await _login()
    monkeypatch.undo()
    assert len(sent) == 2, sent
    assert "kehu_sign_in_read" in sent[0] and "kehu_sign_in_open" in sent[1]
    async with unit_of_work(Context.system("test", tokens.tenant_id), write=False) as uow:
        [user] = await uow.fetch("SELECT last_login_at FROM app_user WHERE id = {}", tokens.user_id)
        [entry] = await uow.fetch("SELECT action, diff FROM audit_entry WHERE tenant_id = {} ORDER BY seq DESC "
                                  "LIMIT 1", tokens.tenant_id)
        assert (await verify_chain(uow)).ok
    assert user["last_login_at"] is not None and user["last_login_at"] >= started
    assert entry["action"] == "login.succeeded"
    assert (await sessions.authenticate_access_token(tokens.access_token)).user_id == tokens.user_id
    refreshed = await sessions.refresh(ANON, refresh_token=tokens.refresh_token)
    assert refreshed.refresh_token != tokens.refresh_token


async def test_a_sign_in_whose_audit_head_moved_elsewhere_writes_once_through_a_unit_of_work(seeded, database):
    """P4 (issue 27): the one-statement sign-in moves the audit head only if this process's head
    is still the tenant's. When another process wrote in between, that statement writes nothing
    (no session, no token, no entry) and the sign-in goes through a unit of work: one session, one
    ``login.succeeded`` entry, the chain whole. Also the way of a process's first sign-in."""
    from core.audit import chain

    first = await _login()
    stale = chain._heads[first.tenant_id]
    async with unit_of_work(SYSTEM.for_tenant(first.tenant_id)) as uow:
        await chain.record(uow, "thing.updated", "thing", "elsewhere")
    chain._heads[first.tenant_id] = stale  # as if another process had written that entry

    async def counts(uow):
        [row] = await uow.fetch(
            "SELECT (SELECT count(*) FROM auth_session WHERE tenant_id = {}) AS sessions, "
            "(SELECT count(*) FROM refresh_token WHERE tenant_id = {}) AS tokens, "
            "(SELECT count(*) FROM audit_entry WHERE tenant_id = {} AND action = 'login.succeeded') AS entries",
            first.tenant_id, first.tenant_id, first.tenant_id)
        return row["sessions"], row["tokens"], row["entries"]

    async with unit_of_work(Context.system("test", first.tenant_id), write=False) as uow:
        before = await counts(uow)
    second = await _login()
    async with unit_of_work(Context.system("test", first.tenant_id), write=False) as uow:
        after = await counts(uow)
        assert (await chain.verify_chain(uow)).ok
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert (await sessions.authenticate_access_token(second.access_token)).user_id == first.user_id
    assert chain._heads[first.tenant_id] != stale
