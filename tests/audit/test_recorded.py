"""Every change a service makes is in its tenant's audit log: one entry per changed record, written
in the change's own transaction (a refused or failed change leaves none), with the caller, the
request and the diff; secrets and sensitive fields never in clear; the chains still verify."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Varchar

from core.audit import chain
from core.audit.chain import declare_sensitive, record, verify_chain
from core.audit.tables import AuditChain, AuditEntry
from core.context import Context
from core.db import unit_of_work
from core.db.tables import TenantOwned
from core.errors import KehuError
from core.db.keyset import Window
from core.identity import api_keys, ownership, policies, reviews, roles, sessions, users
from core.identity.permissions import Scope
from core.identity.tables import ApiKey, AuthSession, Role, User
from core.identity.tokens import TokenInvalid, hash_opaque_token
from core.tenancy import service as tenancy
from core.tenancy.tables import Tenant
from tests.support import PASSWORD, SYSTEM, add_user, create_test_table, sign_in

PHONE, ID_NUMBER = "13812345678", "110101199003074578"
NEW_PHONE, NEW_ID_NUMBER = "13987654321", "11010119850101123X"
NEW_PASSWORD = "an-entirely-new-phrase-9"
WRONG_PASSWORD = "wrong-horse-battery-2"
ANON = Context.anonymous(client_address="192.0.2.7")
CHANGED = {"changed": True}


def to(value: Any) -> dict[str, Any]:
    return {"to": value}


def change(old: Any, new: Any) -> dict[str, Any]:
    return {"from": old, "to": new}


def entry(action: str, target_type: str, target_id: object, **diff: Any) -> tuple:
    return action, target_type, None if target_id is None else str(target_id), diff


def _shape(entries: list[tuple]) -> list[tuple]:
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True, default=str))


# --- a test-only record type with personal data, owned by a user ------------------------------

class Contact(TenantOwned, tablename="test_contact"):
    """Stands for a customer record: a name in clear, a phone and an ID number that are sensitive."""

    owner_id = UUIDColumn(null=True, default=None)
    name = Varchar(length=100)
    phone = Varchar(length=32)
    id_number = Varchar(length=32)


@pytest.fixture
async def contacts(seeded, settings):
    """Create ``test_contact`` (as the owner on PostgreSQL, with RLS), register it as an owned
    record type and declare its sensitive fields."""
    await create_test_table(settings, Contact, "owner_id UUID, name VARCHAR(100), phone VARCHAR(32), "
                                               "id_number VARCHAR(32)")
    declare_sensitive("contact", "phone", "id_number")
    ownership.register_owned("contact", Contact)
    yield Contact
    ownership.unregister_owned("contact")


async def _add_contacts(tenant_id: UUID, owner_id: UUID, count: int) -> list[UUID]:
    rows = [Contact(owner_id=owner_id, name=f"客户{i}", phone=PHONE, id_number=ID_NUMBER) for i in range(count)]
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        await uow.insert(*rows)
    return [r.id for r in rows]


# --- reading the log ------------------------------------------------------------------------

async def _head(tenant_id: UUID) -> int:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        [row] = await uow.fetch("SELECT max(seq) AS n FROM audit_entry WHERE tenant_id = {}", tenant_id)
    return int(row["n"] or 0)


async def _entries(tenant_id: UUID, after: int = 0) -> list[dict[str, Any]]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq)
    return [{**row, "diff": json.loads(row["diff"])} for row in rows]


def _summary(rows: list[dict[str, Any]]) -> list[tuple]:
    return _shape([(r["action"], r["target_type"], r["target_id"], r["diff"]) for r in rows])


async def _counts() -> dict[UUID, int]:
    """Entries per tenant, every tenant."""
    async with unit_of_work(SYSTEM, write=False) as uow:
        tenant_ids = [r["id"] for r in await uow.select(Tenant.id)]
    counts = {}
    for tenant_id in tenant_ids:
        async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
            counts[tenant_id] = await uow.count(AuditEntry)
    return counts


async def _verify(tenant_id: UUID):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await verify_chain(uow)


# --- the services, table-driven ------------------------------------------------------------

@dataclass
class Env:
    seeded: Any
    admin: Context  # acme's administrator, signed in: user:<id>
    root: Context  # a system context for acme, for setting things up
    departments: dict[str, UUID]
    roles: dict[str, UUID]


@dataclass
class Step:
    run: Callable[[Context], Awaitable[Any]]
    expect: Callable[[Any], list[tuple]]  # the result of run -> the entries it must leave
    ctx: Context | None = None  # who calls; env.admin unless set
    secrets: Callable[[Any], tuple[str, ...]] = field(default=lambda result: ())  # never in the log


async def _env(seeded) -> Env:
    root = SYSTEM.for_tenant(seeded.acme.id)
    return Env(seeded=seeded, admin=await sign_in("acme", "admin"), root=root,
               departments={d.name: d.id for d in await tenancy.list_departments(root)},
               roles={r.name: r.id for r in await roles.list_roles(root)})


CASES: dict[str, Callable[[Env], Awaitable[Step]]] = {}


def case(fn: Callable[[Env], Awaitable[Step]]) -> Callable[[Env], Awaitable[Step]]:
    CASES[fn.__name__] = fn
    return fn


@case
async def create_department(env: Env) -> Step:
    return Step(lambda ctx: tenancy.create_department(ctx, name="财务部", code="FIN"),
                lambda d: [entry("department.created", "department", d.id, name=to("财务部"), parent_id=to(None),
                                 code=to("FIN"))])


@case
async def create_sub_department(env: Env) -> Step:
    sales = env.departments["销售部"]
    return Step(lambda ctx: tenancy.create_department(ctx, name="二组", parent_id=sales),
                lambda d: [entry("department.created", "department", d.id, name=to("二组"), parent_id=to(str(sales)),
                                 code=to(None))])


@case
async def rename_department(env: Env) -> Step:
    sales = env.departments["销售部"]
    return Step(lambda ctx: tenancy.rename_department(ctx, sales, name="销售一部"),
                lambda d: [entry("department.renamed", "department", sales, name=change("销售部", "销售一部"))])


@case
async def rename_department_to_its_own_name(env: Env) -> Step:
    sales = env.departments["销售部"]
    return Step(lambda ctx: tenancy.rename_department(ctx, sales, name="销售部"), lambda d: [])


@case
async def create_user(env: Env) -> Step:
    sales = env.departments["销售部"]
    return Step(lambda ctx: users.create_user(ctx, username="Zhang.San", display_name="张三", password=NEW_PASSWORD,
                                              employee_no="E-7", department_ids=[sales]),
                lambda u: [entry("user.created", "user", u.id, username=to("zhang.san"), display_name=to("张三"),
                                 employee_no=to("E-7"), department_ids=to([str(sales)]))],
                secrets=lambda u: (NEW_PASSWORD,))


@case
async def create_user_with_a_role(env: Env) -> Step:
    consultant = env.roles["销售顾问"]
    return Step(lambda ctx: users.create_user(ctx, username="qian", display_name="钱", password=NEW_PASSWORD,
                                              role_ids=[consultant]),
                lambda u: [entry("user.created", "user", u.id, username=to("qian"), display_name=to("钱"),
                                 employee_no=to(None), department_ids=to([])),
                           entry("role.granted", "user", u.id, role_id=to(str(consultant)))],
                secrets=lambda u: (NEW_PASSWORD,))


@case
async def update_user(env: Env) -> Step:
    sales, service = env.departments["销售部"], env.departments["客服部"]
    user = await add_user(env.seeded.acme, "li.si", department_ids=[sales])

    async def run(ctx: Context) -> UUID:
        await users.update_user(ctx, user.id, display_name="李四", department_ids=[service, sales])
        [review], _ = await reviews.reviews_page(ctx, Window(size=5), user_id=user.id)
        return review.id

    # CSM-22: a department change opens a permission review in the same unit of work, audited
    return Step(run, lambda review_id: [
        entry("user.updated", "user", user.id, display_name=change("Li.Si", "李四"),
              department_ids=change([str(sales)], [str(d) for d in sorted([sales, service])])),
        entry("permission_review.opened", "permission_review", review_id, user_id=to(str(user.id)),
              trigger=to("department_changed"))])


@case
async def update_user_without_a_change(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "li.si")
    return Step(lambda ctx: users.update_user(ctx, user.id, display_name=" Li.Si ", department_ids=[]),
                lambda u: [])


@case
async def reset_password(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "wang.wu")
    logins = [await sign_in("acme", "wang.wu"), await sign_in("acme", "wang.wu")]
    return Step(lambda ctx: users.reset_password(ctx, user.id, new_password=NEW_PASSWORD),
                lambda _: [entry("user.password_reset", "user", user.id, password=CHANGED,
                                 must_change_password=to(True))] + [
                    entry("session.revoked", "session", login.principal.session_id, user_id=to(str(user.id)),
                          reason=to("password_reset")) for login in logins],
                secrets=lambda _: (NEW_PASSWORD, PASSWORD))


@case
async def change_own_password(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "zhao.liu")
    me = await sign_in("acme", "zhao.liu")
    return Step(lambda ctx: users.change_password(ctx, current_password=PASSWORD, new_password=NEW_PASSWORD),
                lambda _: [entry("user.password_changed", "user", user.id, password=CHANGED),
                           entry("session.revoked", "session", me.principal.session_id, user_id=to(str(user.id)),
                                 reason=to("password_changed"))],
                ctx=me, secrets=lambda _: (NEW_PASSWORD, PASSWORD))


@case
async def disable_user_handing_over_records(env: Env) -> Step:
    leaver = await add_user(env.seeded.acme, "leaver")
    successor = await add_user(env.seeded.acme, "successor")
    login = await sign_in("acme", "leaver")
    moving = await _add_contacts(env.seeded.acme.id, leaver.id, 2)
    await _add_contacts(env.seeded.acme.id, successor.id, 1)  # already the successor's: not moved
    return Step(lambda ctx: users.disable_user(ctx, leaver.id, successor_id=successor.id, reason="resigned"),
                lambda _: [entry("user.disabled", "user", leaver.id, status=change("active", "disabled"),
                                 reason=to("resigned"), successor_id=to(str(successor.id))),
                           entry("session.revoked", "session", login.principal.session_id, user_id=to(str(leaver.id)),
                                 reason=to("account_disabled"))] + [
                    entry("contact.owner_changed", "contact", c, owner_id=change(str(leaver.id), str(successor.id)))
                    for c in moving],
                secrets=lambda _: (PHONE, ID_NUMBER))


@case
async def disable_user_owning_nothing(env: Env) -> Step:
    leaver = await add_user(env.seeded.acme, "leaver")
    return Step(lambda ctx: users.disable_user(ctx, leaver.id, successor_id=None, reason="contract ended"),
                lambda _: [entry("user.disabled", "user", leaver.id, status=change("active", "disabled"),
                                 reason=to("contract ended"), successor_id=to(None))])


@case
async def enable_user(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "returner")
    await users.disable_user(env.root, user.id, successor_id=None, reason="sabbatical")
    return Step(lambda ctx: users.enable_user(ctx, user.id),
                lambda _: [entry("user.enabled", "user", user.id, status=change("disabled", "active"))])


@case
async def enable_an_active_user(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "present")
    return Step(lambda ctx: users.enable_user(ctx, user.id), lambda _: [])


@case
async def create_role(env: Env) -> Step:
    return Step(lambda ctx: roles.create_role(ctx, name="质检员", description="QA",
                                              permissions={"user.read": Scope.TENANT, "customer.read": Scope.OWN}),
                lambda r: [entry("role.created", "role", r.id, name=to("质检员"),
                                 permissions=to(["customer.read:own", "user.read:tenant"]))])


@case
async def update_role(env: Env) -> Step:
    role = await roles.create_role(env.root, name="质检员", description="QA", permissions={"user.read": Scope.TENANT})
    return Step(lambda ctx: roles.update_role(ctx, role.id, name="质检专员", description="QA",
                                              permissions={"user.read": Scope.TENANT, "role.read": Scope.TENANT}),
                lambda r: [entry("role.updated", "role", role.id, name=change("质检员", "质检专员"),
                                 permissions=change(["user.read:tenant"], ["role.read:tenant", "user.read:tenant"]))])


@case
async def update_role_to_what_it_is(env: Env) -> Step:
    role = await roles.create_role(env.root, name="质检员", permissions={"user.read": Scope.TENANT})
    return Step(lambda ctx: roles.update_role(ctx, role.id, name="质检员", permissions={"user.read": Scope.TENANT}),
                lambda r: [])


@case
async def delete_role(env: Env) -> Step:
    role = await roles.create_role(env.root, name="临时", permissions={"user.read": Scope.TENANT})
    return Step(lambda ctx: roles.delete_role(ctx, role.id),
                lambda _: [entry("role.deleted", "role", role.id, name=change("临时", None),
                                 permissions=change(["user.read:tenant"], None))])


@case
async def grant_role(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "grantee")
    role_id = env.roles["销售顾问"]
    return Step(lambda ctx: roles.grant_role(ctx, user_id=user.id, role_id=role_id),
                lambda _: [entry("role.granted", "user", user.id, role_id=to(str(role_id)))])


@case
async def grant_a_role_already_held(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "grantee", role_ids=[env.roles["销售顾问"]])
    return Step(lambda ctx: roles.grant_role(ctx, user_id=user.id, role_id=env.roles["销售顾问"]), lambda _: [])


@case
async def revoke_role(env: Env) -> Step:
    role_id = env.roles["销售顾问"]
    user = await add_user(env.seeded.acme, "grantee", role_ids=[role_id])
    return Step(lambda ctx: roles.revoke_role(ctx, user_id=user.id, role_id=role_id),
                lambda _: [entry("role.revoked", "user", user.id, role_id=to(str(role_id)))])


@case
async def revoke_a_role_not_held(env: Env) -> Step:
    user = await add_user(env.seeded.acme, "grantee")
    return Step(lambda ctx: roles.revoke_role(ctx, user_id=user.id, role_id=env.roles["销售顾问"]), lambda _: [])


EXPIRY = datetime(2099, 1, 1, tzinfo=UTC)


@case
async def create_api_key(env: Env) -> Step:
    return Step(lambda ctx: api_keys.create_api_key(ctx, name="crm-sync", permissions=["user.read", "role.read"],
                                                    expires_at=EXPIRY),
                lambda r: [entry("apikey.created", "apikey", r[0].id, name=to("crm-sync"),
                                 permissions=to(["role.read", "user.read"]), expires_at=to(EXPIRY.isoformat()))],
                secrets=lambda r: (r[1], hash_opaque_token(r[1])))


@case
async def revoke_api_key(env: Env) -> Step:
    view, secret = await api_keys.create_api_key(env.root, name="old-sync", permissions=[])
    return Step(lambda ctx: api_keys.revoke_api_key(ctx, view.id),
                lambda _: [entry("apikey.revoked", "apikey", view.id, name=to("old-sync"))],
                secrets=lambda _: (secret,))


@case
async def revoke_a_revoked_api_key(env: Env) -> Step:
    view, _ = await api_keys.create_api_key(env.root, name="old-sync", permissions=[])
    await api_keys.revoke_api_key(env.root, view.id)
    return Step(lambda ctx: api_keys.revoke_api_key(ctx, view.id), lambda _: [])


@case
async def update_password_policy(env: Env) -> Step:
    return Step(lambda ctx: policies.update_identity_policy(ctx, password={"min_length": 14},
                                                            lockout=policies.LockoutPolicy().to_mapping()),
                lambda _: [entry("setting.updated", "tenant_setting", policies.PASSWORD_POLICY_KEY,
                                 min_length=change(12, 14))])


@case
async def update_both_policies(env: Env) -> Step:
    await policies.update_identity_policy(env.root, lockout={"lock_minutes": 30})
    return Step(lambda ctx: policies.update_identity_policy(ctx, password={"max_age_days": 90},
                                                            lockout={"lock_minutes": 60, "window_minutes": 20}),
                lambda _: [entry("setting.updated", "tenant_setting", policies.PASSWORD_POLICY_KEY,
                                 max_age_days=change(None, 90)),
                           entry("setting.updated", "tenant_setting", policies.LOCKOUT_POLICY_KEY,
                                 lock_minutes=change(30, 60), window_minutes=change(15, 20))])


@case
async def logout(env: Env) -> Step:
    return Step(lambda ctx: sessions.logout(ctx),
                lambda _: [entry("session.revoked", "session", env.admin.principal.session_id,
                                 user_id=to(str(env.admin.user_id)), reason=to("logout"))])


@pytest.mark.parametrize("name", list(CASES))
async def test_a_change_leaves_one_entry_per_changed_record(name, seeded, contacts, audit_scan):
    env = await _env(seeded)
    step = await CASES[name](env)
    ctx = replace(step.ctx or env.admin, request_id=f"req-{name}"[:64])
    assert ctx.actor == f"user:{ctx.user_id}"
    mark = await _head(seeded.acme.id)
    others = await _head(seeded.globex.id)
    result = await step.run(ctx)
    written = await _entries(seeded.acme.id, after=mark)
    assert _summary(written) == _shape(step.expect(result))
    for row in written:
        assert (row["actor"], row["request_id"], row["client_address"]) == (ctx.actor, ctx.request_id,
                                                                           ctx.client_address)
    assert await _head(seeded.globex.id) == others  # nothing in another tenant's chain
    if secrets := step.secrets(result):
        await audit_scan(*secrets)
    assert (await _verify(seeded.acme.id)).ok


async def test_a_new_tenant_chain_opens_with_its_creation(seeded):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    role_ids = {r.name: r.id for r in await roles.list_roles(acme)}
    departments = {d.name: d.id for d in await tenancy.list_departments(acme)}
    [admin] = (await users.list_users(acme, first=10))[0]
    rows = await _entries(seeded.acme.id)
    assert rows[0]["seq"] == 1 and (rows[0]["action"], rows[0]["target_id"]) == ("tenant.created", str(seeded.acme.id))
    assert rows[0]["diff"] == {"slug": to("acme"), "name": to("Acme 汽车")}
    expected = [entry("tenant.created", "tenant", seeded.acme.id, slug=to("acme"), name=to("Acme 汽车"))]
    expected += [entry("role.created", "role", role_ids[name], name=to(name),
                       permissions=to(roles.permission_list(permissions)))
                 for name, (_, permissions) in roles.DEFAULT_ROLES.items()]
    expected += [entry("department.created", "department", departments[name], name=to(name))
                 for name in ("销售部", "客服部")]
    expected += [entry("user.created", "user", admin.id, username=to("admin"), display_name=to("管理员"),
                       employee_no=to(None), department_ids=to([]))]
    expected += [entry("role.granted", "user", admin.id, role_id=to(str(role_ids[name])))
                 for name in roles.FOUNDER_ROLES]
    creation = [r for r in rows if r["request_id"] == SYSTEM.request_id]
    assert _summary(creation) == _shape(expected)
    assert {r["actor"] for r in creation} == {"cli"}
    globex = await _entries(seeded.globex.id)
    assert [r["action"] for r in globex if r["target_type"] == "department"] == ["department.created"]
    assert (await _verify(seeded.acme.id)).ok and (await _verify(seeded.globex.id)).ok


# --- signing in ----------------------------------------------------------------------------

async def test_logins_are_recorded_and_never_with_the_password(seeded, audit_scan):
    leaver = await add_user(seeded.acme, "leaver")
    await users.disable_user(SYSTEM.for_tenant(seeded.acme.id), leaver.id, successor_id=None, reason="left")
    [admin] = [u for u in (await users.list_users(SYSTEM.for_tenant(seeded.acme.id), first=10))[0]
               if u.username == "admin"]
    mark = await _head(seeded.acme.id)

    ok = replace(ANON, request_id="req-login-ok")
    tokens = await sessions.login(ok, tenant="acme", username=" Admin ", password=PASSWORD)
    session_id = (await sessions.authenticate_access_token(tokens.access_token)).session_id
    attempts = [("req-wrong", "admin", WRONG_PASSWORD, "wrong_password"),
                ("req-nobody", "  NoBody ", PASSWORD, "unknown_user"),
                ("req-leaver", "leaver", PASSWORD, "account_disabled")]
    for request_id, username, password, _ in attempts:
        with pytest.raises(KehuError) as caught:
            await sessions.login(replace(ANON, request_id=request_id), tenant="acme", username=username,
                                 password=password)
        assert caught.value.code == "INVALID_CREDENTIALS"
    before = await _counts()
    with pytest.raises(KehuError):  # no tenant, so no chain to write to
        await sessions.login(ANON, tenant="no-such-tenant", username="admin", password=WRONG_PASSWORD)
    assert await _counts() == before

    rows = await _entries(seeded.acme.id, after=mark)
    assert _summary(rows) == _shape(
        [entry("login.succeeded", "user", admin.id, session_id=to(str(session_id)))]
        + [entry("login.failed", "account", typed.strip().lower(), reason=to(reason))
           for _, typed, _, reason in attempts])
    by_request = {r["request_id"]: r for r in rows}
    assert set(by_request) == {"req-login-ok", "req-wrong", "req-nobody", "req-leaver"}
    assert {(r["actor"], r["client_address"]) for r in rows} == {("anonymous", "192.0.2.7")}
    scanned = await audit_scan(PASSWORD, WRONG_PASSWORD, tokens.access_token, tokens.refresh_token)
    assert scanned >= len(rows)
    for tenant in (seeded.acme, seeded.globex):
        assert (await _verify(tenant.id)).ok


async def test_refresh_and_refresh_reuse_are_recorded(seeded, audit_scan):
    first = await sessions.login(ANON, tenant="acme", username="admin", password=PASSWORD)
    session_id = (await sessions.authenticate_access_token(first.access_token)).session_id
    mark = await _head(seeded.acme.id)
    second = await sessions.refresh(replace(ANON, request_id="req-refresh"), refresh_token=first.refresh_token)
    for attempt in range(2):  # the stolen copy comes back, twice: the login ends once
        with pytest.raises(KehuError) as caught:
            await sessions.refresh(replace(ANON, request_id=f"req-reuse-{attempt}"), refresh_token=first.refresh_token)
        assert caught.value.code == "TOKEN_REUSED"
    with pytest.raises(TokenInvalid):
        await sessions.refresh(ANON, refresh_token=second.refresh_token)
    rows = await _entries(seeded.acme.id, after=mark)
    user_id = str(first.user_id)
    assert [(r["action"], r["target_id"], r["diff"], r["request_id"]) for r in rows] == [
        ("token.refreshed", str(session_id), {"user_id": to(user_id)}, "req-refresh"),
        ("session.revoked", str(session_id), {"user_id": to(user_id), "reason": to("refresh_reused")}, "req-reuse-0")]
    await audit_scan(first.refresh_token, second.refresh_token, hash_opaque_token(first.refresh_token))
    assert (await _verify(seeded.acme.id)).ok


async def test_api_key_use_is_recorded_at_most_once_a_minute(seeded, audit_scan):
    admin = await sign_in("acme", "admin")
    view, secret = await api_keys.create_api_key(admin, name="crm-sync", permissions=["user.read"])
    mark = await _head(seeded.acme.id)
    for _ in range(3):
        await sessions.authenticate_api_key(secret)
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:  # a minute and more goes by
        await uow.update(ApiKey, {ApiKey.last_used_at: datetime.now(UTC) - timedelta(minutes=2)}).where(
            ApiKey.id == view.id)
    await sessions.authenticate_api_key(secret)
    rows = await _entries(seeded.acme.id, after=mark)
    assert [(r["action"], r["target_type"], r["target_id"], r["actor"]) for r in rows] == [
        ("apikey.used", "apikey", str(view.id), f"apikey:{view.id}")] * 2
    await audit_scan(secret)
    assert (await _verify(seeded.acme.id)).ok


# --- refused and failed changes leave nothing ----------------------------------------------

REFUSALS: dict[str, Callable[[Env], Awaitable[tuple[Callable[[], Awaitable[Any]], str]]]] = {}


def refusal(fn):
    REFUSALS[fn.__name__] = fn
    return fn


@refusal
async def disable_an_owner_without_a_successor(env: Env):
    leaver = await add_user(env.seeded.acme, "leaver")
    await _add_contacts(env.seeded.acme.id, leaver.id, 2)
    return lambda: users.disable_user(env.admin, leaver.id, successor_id=None, reason="resigned"), "SUCCESSOR_REQUIRED"


@refusal
async def disable_with_an_inactive_successor(env: Env):
    leaver = await add_user(env.seeded.acme, "leaver")
    gone = await add_user(env.seeded.acme, "gone")
    await users.disable_user(env.root, gone.id, successor_id=None, reason="left")
    await _add_contacts(env.seeded.acme.id, leaver.id, 1)
    return (lambda: users.disable_user(env.admin, leaver.id, successor_id=gone.id, reason="resigned"),
            "SUCCESSOR_INVALID")


@refusal
async def disable_oneself(env: Env):
    other = await add_user(env.seeded.acme, "other")
    return (lambda: users.disable_user(env.admin, env.admin.user_id, successor_id=other.id, reason="x"),
            "CANNOT_DISABLE_SELF")


@refusal
async def create_a_user_with_a_taken_username(env: Env):
    return lambda: users.create_user(env.admin, username="ADMIN", display_name="x", password=NEW_PASSWORD), \
        "USERNAME_TAKEN"


@refusal
async def create_a_second_account_for_a_person(env: Env):
    await add_user(env.seeded.acme, "li.lei", employee_no="E-1")
    return (lambda: users.create_user(env.admin, username="lilei2", display_name="x", password=NEW_PASSWORD,
                                      employee_no="E-1"), "PERSON_HAS_ACCOUNT")


@refusal
async def create_a_user_in_a_missing_department(env: Env):
    globex_sales = (await tenancy.list_departments(SYSTEM.for_tenant(env.seeded.globex.id)))[0].id
    return (lambda: users.create_user(env.admin, username="nomad", display_name="x", password=NEW_PASSWORD,
                                      department_ids=[globex_sales]), "NOT_FOUND")


@refusal
async def grant_a_role_to_oneself(env: Env):
    return lambda: roles.grant_role(env.admin, user_id=env.admin.user_id, role_id=env.roles["销售顾问"]), \
        "SEPARATION_OF_DUTIES"


@refusal
async def grant_more_than_one_holds(env: Env):
    manager = await add_user(env.seeded.acme, "manager", role_ids=[env.roles["总经理"]])
    target = await add_user(env.seeded.acme, "target")
    manager_ctx = await sign_in("acme", manager.username)
    return (lambda: roles.grant_role(manager_ctx, user_id=target.id, role_id=env.roles["系统管理员"]),
            "PERMISSION_ESCALATION")


@refusal
async def create_a_role_with_a_taken_name(env: Env):
    return lambda: roles.create_role(env.admin, name="销售顾问", permissions={}), "ROLE_NAME_TAKEN"


@refusal
async def update_a_role_with_an_unknown_permission(env: Env):
    return (lambda: roles.update_role(env.admin, env.roles["销售顾问"], name="顾问",
                                      permissions={"customer.raed": Scope.OWN}), "UNKNOWN_PERMISSION")


@refusal
async def delete_a_role_in_use(env: Env):
    return lambda: roles.delete_role(env.admin, env.roles["系统管理员"]), "ROLE_IN_USE"


@refusal
async def rename_a_missing_department(env: Env):
    return lambda: tenancy.rename_department(env.admin, uuid4(), name="x"), "NOT_FOUND"


@refusal
async def create_a_department_under_a_missing_parent(env: Env):
    return lambda: tenancy.create_department(env.admin, name="x", parent_id=uuid4()), "NOT_FOUND"


@refusal
async def create_an_api_key_with_a_taken_name(env: Env):
    await api_keys.create_api_key(env.root, name="crm-sync", permissions=[])
    return lambda: api_keys.create_api_key(env.admin, name="crm-sync", permissions=[]), "API_KEY_NAME_TAKEN"


@refusal
async def set_an_invalid_policy(env: Env):
    return (lambda: policies.update_identity_policy(env.admin, password={"min_length": 14},
                                                    lockout={"lock_minutes": 0}), "SETTING_INVALID")


@refusal
async def change_a_password_without_the_current_one(env: Env):
    return (lambda: users.change_password(env.admin, current_password=WRONG_PASSWORD, new_password=NEW_PASSWORD),
            "INVALID_CREDENTIALS")


@refusal
async def reset_to_a_weak_password(env: Env):
    user = await add_user(env.seeded.acme, "weak")
    return lambda: users.reset_password(env.admin, user.id, new_password="password1234"), "PASSWORD_TOO_WEAK"


@refusal
async def create_a_tenant_with_a_taken_slug(env: Env):
    return (lambda: tenancy.create_tenant(SYSTEM, slug="acme", name="Again",
                                          admin=tenancy.TenantAdmin(username="admin", password=PASSWORD)),
            "TENANT_SLUG_TAKEN")


@pytest.mark.parametrize("name", list(REFUSALS))
async def test_a_refused_change_leaves_no_entry(name, seeded, contacts):
    env = await _env(seeded)
    attempt, code = await REFUSALS[name](env)
    before = await _counts()
    with pytest.raises(KehuError) as caught:
        await attempt()
    assert caught.value.code == code
    assert await _counts() == before


class Boom(Exception):
    """A failure after the change and its entry were written, before the transaction commits."""


def _raise_after(real):
    async def wrapper(*args, **kwargs):
        await real(*args, **kwargs)
        raise Boom()
    return wrapper


async def _no_entries_for(tenant_ids: list[UUID]) -> None:
    for tenant_id in tenant_ids:
        async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
            assert await uow.count(AuditEntry) == 0
            assert not await uow.exists(AuditChain)


async def test_a_user_created_then_failing_leaves_neither_user_nor_entry(seeded, monkeypatch):
    env = await _env(seeded)
    before = await _counts()

    async def fail(*args, **kwargs):  # _view runs after user.created was recorded
        raise Boom()

    monkeypatch.setattr(users, "_view", fail)
    with pytest.raises(Boom):
        await users.create_user(env.admin, username="sun.qi", display_name="孙七", password=NEW_PASSWORD)
    monkeypatch.undo()
    async with unit_of_work(env.root, write=False) as uow:
        assert not await uow.exists(User).where(User.username == "sun.qi")
    assert await _counts() == before


async def test_a_role_created_then_failing_leaves_neither_role_nor_entry(seeded, monkeypatch):
    env = await _env(seeded)
    before = await _counts()
    monkeypatch.setattr(roles, "record", _raise_after(chain.record))
    with pytest.raises(Boom):
        await roles.create_role(env.admin, name="质检员", permissions={"user.read": Scope.TENANT})
    monkeypatch.undo()
    async with unit_of_work(env.root, write=False) as uow:
        assert not await uow.exists(Role).where(Role.name == "质检员")
    assert await _counts() == before


async def test_a_handover_failing_at_the_end_moves_nothing_and_records_nothing(seeded, contacts, monkeypatch):
    env = await _env(seeded)
    leaver = await add_user(seeded.acme, "leaver")
    successor = await add_user(seeded.acme, "successor")
    await sign_in("acme", "leaver")
    moving = await _add_contacts(seeded.acme.id, leaver.id, 2)
    before = await _counts()

    async def fail(*args, **kwargs):  # after user.disabled and each contact.owner_changed were recorded
        raise Boom()

    monkeypatch.setattr(users, "record_sessions_revoked", fail)
    with pytest.raises(Boom):
        await users.disable_user(env.admin, leaver.id, successor_id=successor.id, reason="resigned")
    monkeypatch.undo()
    assert await _counts() == before
    assert (await users.get_user(env.root, leaver.id)).status == "active"
    async with unit_of_work(env.root, write=False) as uow:
        owners = {r["id"]: r["owner_id"] for r in await uow.select(Contact.id, Contact.owner_id)}
        assert {owners[c] for c in moving} == {leaver.id}
        assert await uow.count(AuthSession).where(
            (AuthSession.user_id == leaver.id) & AuthSession.revoked_at.is_null()) == 1


async def test_a_tenant_failing_at_the_end_leaves_no_tenant_and_no_chain(seeded, monkeypatch):
    chains: list[UUID] = []

    async def record_then_fail(uow, action, *args, **kwargs):
        chains.append(uow.ctx.tenant_id)
        seq = await chain.record(uow, action, *args, **kwargs)
        if action == "role.granted":  # the last kind of entry create_tenant writes
            raise Boom()
        return seq

    monkeypatch.setattr(tenancy, "record", record_then_fail)
    with pytest.raises(Boom):
        await tenancy.create_tenant(SYSTEM, slug="initech", name="Initech", departments=("IT",),
                                    admin=tenancy.TenantAdmin(username="admin", password=PASSWORD))
    monkeypatch.undo()
    assert chains and len(set(chains)) == 1
    with pytest.raises(KehuError):
        await tenancy.get_tenant(SYSTEM, "initech")
    await _no_entries_for(chains[:1])


async def test_a_login_failing_after_its_entry_leaves_no_session_and_no_entry(seeded, monkeypatch):
    """The unit of work's way (SQLite, and PostgreSQL when this process knows no audit head)."""
    before = await _counts()
    chain._heads.pop(seeded.acme.id, None)
    monkeypatch.setattr(sessions, "record", _raise_after(chain.record))
    with pytest.raises(Boom):
        await sessions.login(ANON, tenant="acme", username="admin", password=PASSWORD)
    monkeypatch.undo()
    assert await _counts() == before
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        assert await uow.count(AuthSession) == 0
        assert (await uow.select(User.last_login_at).where(User.username == "admin").first())["last_login_at"] is None


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # SQLite signs in through a unit of work
async def test_a_one_statement_login_whose_entry_fails_leaves_no_session_and_no_entry(seeded, database,
                                                                                     monkeypatch):
    """P4 (issue 27), PostgreSQL's one-statement sign-in (``kehu_sign_in_open``): its audit entry
    is written last, after the head moved, the last login, the session and its token; when that
    insert fails (here an entry id already taken) the statement writes none of them."""
    await sessions.login(ANON, tenant="acme", username="admin", password=PASSWORD)  # the head is known
    tenant_id = seeded.acme.id
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        taken = (await uow.select(AuditEntry.id).first())["id"]
        sessions_before = await uow.count(AuthSession)
        last_login = (await uow.select(User.last_login_at).where(User.username == "admin").first())["last_login_at"]
    head = dict(chain._heads)[tenant_id]
    real = sessions.next_entry

    def clashing(*args, **kwargs):
        entry = real(*args, **kwargs)
        return replace(entry, row=(taken, *entry.row[1:]))

    monkeypatch.setattr(sessions, "next_entry", clashing)
    before = await _counts()
    with pytest.raises(Exception) as caught:
        await sessions.login(ANON, tenant="acme", username="admin", password=PASSWORD)
    monkeypatch.undo()
    assert "audit_entry" in str(caught.value)
    assert await _counts() == before
    assert chain._heads[tenant_id] == head
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        assert await uow.count(AuthSession) == sessions_before
        assert (await uow.select(User.last_login_at).where(User.username == "admin").first())["last_login_at"] \
            == last_login
    assert (await _verify(tenant_id)).ok
    assert (await sessions.login(ANON, tenant="acme", username="admin", password=PASSWORD)).tenant_id == tenant_id


# --- sensitive fields ----------------------------------------------------------------------

async def test_sensitive_fields_are_recorded_only_as_changed(seeded, contacts, audit_scan):
    ctx = replace(await sign_in("acme", "admin"), request_id="req-contact")
    mark = await _head(seeded.acme.id)
    async with unit_of_work(ctx) as uow:
        first = Contact(owner_id=ctx.user_id, name="王芳", phone=PHONE, id_number=ID_NUMBER)
        second = Contact(owner_id=ctx.user_id, name="李雷", phone=NEW_PHONE, id_number=NEW_ID_NUMBER)
        await uow.insert(first, second)
        for contact in (first, second):
            await record(uow, "contact.created", "contact", contact.id,
                         {"name": contact.name, "phone": contact.phone, "id_number": contact.id_number,
                          "owner_id": contact.owner_id})
    async with unit_of_work(ctx) as uow:
        await uow.update(Contact, {Contact.name: "王芳芳", Contact.phone: NEW_PHONE,
                                   Contact.id_number: NEW_ID_NUMBER}).where(Contact.id == first.id)
        await record(uow, "contact.updated", "contact", first.id,
                     {"name": ("王芳", "王芳芳"), "phone": (PHONE, NEW_PHONE), "id_number": (ID_NUMBER, NEW_ID_NUMBER)})
    async with unit_of_work(ctx) as uow:  # only the sensitive field changes
        await uow.update(Contact, {Contact.phone: PHONE}).where(Contact.id == second.id)
        await record(uow, "contact.updated", "contact", second.id, {"phone": (NEW_PHONE, PHONE)})

    async with unit_of_work(ctx, write=False) as uow:  # the data itself holds the values...
        stored = {r["phone"] for r in await uow.select(Contact.phone)} | {
            r["id_number"] for r in await uow.select(Contact.id_number)}
    assert {PHONE, NEW_PHONE, NEW_ID_NUMBER} <= stored
    scanned = await audit_scan(PHONE, ID_NUMBER, NEW_PHONE, NEW_ID_NUMBER)  # ...the log never does
    assert scanned > 0
    rows = await _entries(seeded.acme.id, after=mark)
    owner = str(ctx.user_id)
    assert [(r["action"], r["target_id"], r["diff"]) for r in rows] == [
        ("contact.created", str(first.id),
         {"name": to("王芳"), "phone": CHANGED, "id_number": CHANGED, "owner_id": to(owner)}),
        ("contact.created", str(second.id),
         {"name": to("李雷"), "phone": CHANGED, "id_number": CHANGED, "owner_id": to(owner)}),
        ("contact.updated", str(first.id), {"name": change("王芳", "王芳芳"), "phone": CHANGED, "id_number": CHANGED}),
        ("contact.updated", str(second.id), {"phone": CHANGED}),
    ]
    assert {(r["actor"], r["request_id"]) for r in rows} == {(ctx.actor, "req-contact")}
    assert (await _verify(seeded.acme.id)).ok


async def test_the_scan_finds_a_value_in_any_column(seeded, contacts, audit_scan):
    """The fixture itself: a value written in clear is reported with its entry."""
    async with unit_of_work(SYSTEM.for_tenant(seeded.globex.id)) as uow:
        await record(uow, "contact.updated", "contact", "planted-target", {"note": f"call {PHONE}"})
    with pytest.raises(AssertionError, match=r"'13812345678' appears in audit entry .*contact\.updated.*column 'diff'"):
        await audit_scan(PHONE)
    with pytest.raises(AssertionError, match="column 'target_id'"):
        await audit_scan("planted-target")
    await audit_scan(ID_NUMBER)  # absent values pass
