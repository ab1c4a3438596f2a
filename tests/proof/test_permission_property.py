"""Property (issue 16 point 1): no sequence of operations by any user ends with a user holding a
permission that no other user who held it approved.

Hypothesis draws sequences of role creations and edits, grants and revocations, requested role
changes with their approvals and rejections, API keys, department moves and user creations, each
by a random user or API key of one fresh tenant, and calls the services in process (SQLite). After
every step, whatever any user or key gained is checked against who acted: the gain is another
user's (a key counts as its creator), who held it, over those departments, at that moment. Every
permission held at the end was gained at some step, so this proves the property for the end state.

Reach, per permission: ``*`` (tenant scope), a department id (department scope: that department's
records) or ``own`` (any scope reaches the holder's own records).
Bounded under CI; KEHU_FUZZ=long runs many more and longer sequences.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from dataclasses import dataclass, field
from uuid import UUID

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from core.context import Context
from core.db import Database, unit_of_work, use_database
from core.db.migrate import migrate
from core.errors import KehuError
from core.identity import api_keys, roles, sessions, users
from core.identity.permissions import Scope
from core.identity.runtime import configure_identity
from core.identity.tables import ApiKey, RoleChange
from core.privacy.crypto import configure_data_keys
from core.tenancy import service as tenancy
from tests.support import PASSWORD, SYSTEM

LONG = os.environ.get("KEHU_FUZZ") == "long"
EXAMPLES = 400 if LONG else 12 if os.environ.get("CI") else 30
STEPS = 40 if LONG else 14

PERMISSIONS = ("role.manage", "role.grant", "role.read", "user.manage", "user.read", "apikey.manage",
               "customer.read", "customer.pii.unmask")
SCOPES = (Scope.OWN, Scope.DEPARTMENT, Scope.TENANT)
KINDS = ("create_role", "update_role", "grant", "revoke", "request", "approve", "reject", "api_key", "move",
         "create_user")

# A step is plain numbers, so Hypothesis can replay and shrink it whatever ids a run made.
step_strategy = st.tuples(st.sampled_from(KINDS), st.integers(0, 1 << 16), st.integers(0, 1 << 16),
                          st.dictionaries(st.sampled_from(PERMISSIONS), st.sampled_from(SCOPES), max_size=4),
                          st.lists(st.integers(0, 1), max_size=2))

Reach = dict[str, frozenset[str]]  # permission -> reach


def reach(permissions: dict[str, Scope], departments: frozenset[UUID]) -> Reach:
    out = {}
    for permission, scope in permissions.items():
        if scope is Scope.TENANT:
            out[permission] = frozenset({"*"})
        elif scope is Scope.DEPARTMENT:
            out[permission] = frozenset({"own", *(str(d) for d in departments)})
        else:
            out[permission] = frozenset({"own"})
    return out


def gained(before: Reach, after: Reach) -> dict[str, frozenset[str]]:
    out = {}
    for permission, items in after.items():
        had = before.get(permission, frozenset())
        if "*" in had:
            continue
        if new := items - had:
            out[permission] = new
    return out


def covers(actor: Reach, permission: str, items: frozenset[str]) -> bool:
    held = actor.get(permission, frozenset())
    if "*" in held:
        return True
    return bool(held) and all(item in held for item in items)  # "own" is in every scope's reach


@dataclass
class World:
    tenant: tenancy.TenantView
    departments: list[UUID]
    tokens: dict[UUID, str] = field(default_factory=dict)  # user -> access token
    keys: dict[UUID, tuple[str, UUID]] = field(default_factory=dict)  # key -> (secret, creator)
    numbers: itertools.count = field(default_factory=itertools.count)

    @property
    def system(self) -> Context:
        return SYSTEM.for_tenant(self.tenant.id)


async def principals(world: World) -> dict[str, Reach]:
    """Every user's and key's reach now, straight from the database."""
    out: dict[str, Reach] = {}
    for user_id in world.tokens:
        async with unit_of_work(world.system, write=False) as uow:
            permissions = await roles.effective_permissions(uow, user_id)
            departments = frozenset(await roles.departments_of(uow, [user_id]))
        out[f"user:{user_id}"] = reach(permissions, departments)
    async with unit_of_work(world.system, write=False) as uow:
        for row in await uow.select(ApiKey.id, ApiKey.permissions).where(ApiKey.revoked_at.is_null()):
            out[f"apikey:{row['id']}"] = {p: frozenset({"*"}) for p in json.loads(row["permissions"])}
    return out


async def context_of(world: World, actor: str) -> Context:
    """A request's context, built as the HTTP edge builds it: permissions read afresh."""
    kind, _, raw = actor.partition(":")
    if kind == "user":
        return Context.for_principal(await sessions.authenticate_access_token(world.tokens[UUID(raw)]))
    return Context.for_principal(await sessions.authenticate_api_key(world.keys[UUID(raw)][0]))


async def add_user(world: World, ctx: Context, role_ids: list[UUID], departments: list[UUID]) -> UUID:
    name = f"u{next(world.numbers)}"
    view = await users.create_user(ctx, username=name, display_name=name, password=PASSWORD,
                                   department_ids=departments, role_ids=role_ids)
    tokens = await sessions.login(Context.anonymous(client_address="10.9.0.1"), tenant=world.tenant.slug,
                                  username=name, password=PASSWORD)
    world.tokens[view.id] = tokens.access_token
    return view.id


async def new_world(number: int) -> World:
    tenant = await tenancy.create_tenant(SYSTEM, slug=f"prop-{number}", name=f"性质 {number}",
                                         departments=("甲部", "乙部"),
                                         admin=tenancy.TenantAdmin(username="admin", password=PASSWORD))
    world = World(tenant=tenant, departments=[d.id for d in await tenancy.list_departments(
        SYSTEM.for_tenant(tenant.id))])
    tokens = await sessions.login(Context.anonymous(client_address="10.9.0.1"), tenant=tenant.slug,
                                  username="admin", password=PASSWORD)
    admin = await sessions.authenticate_access_token(tokens.access_token)
    world.tokens[admin.user_id] = tokens.access_token
    # A few staff with roles the system gave them: the starting point, approved by the operator.
    system = world.system
    for permissions, departments in (({"role.manage": Scope.TENANT, "role.read": Scope.TENANT}, [0]),
                                     ({"role.grant": Scope.TENANT, "role.read": Scope.TENANT,
                                       "customer.read": Scope.DEPARTMENT, "user.manage": Scope.TENANT}, [0]),
                                     ({"apikey.manage": Scope.TENANT, "role.grant": Scope.TENANT,
                                       "role.manage": Scope.TENANT, "customer.read": Scope.TENANT}, [1])):
        role = await roles.create_role(system, name=f"start {next(world.numbers)}", permissions=permissions)
        await add_user(world, system, [role.id], [world.departments[i] for i in departments])
    return world


async def act(world: World, step: tuple) -> str | None:
    """Run one step; returns the acting principal, or None when the step had nothing to act on."""
    kind, a, b, permissions, picks = step
    actors = sorted([f"user:{u}" for u in world.tokens] + [f"apikey:{k}" for k in world.keys])
    actor = actors[a % len(actors)]
    ctx = await context_of(world, actor)
    all_roles = sorted(await roles.list_roles(world.system), key=lambda r: str(r.id))
    role = all_roles[b % len(all_roles)]
    user_ids = sorted(world.tokens, key=str)
    target = user_ids[b % len(user_ids)]
    departments = sorted({world.departments[i] for i in picks}, key=str)
    if kind == "create_role":
        await roles.create_role(ctx, name=f"r{next(world.numbers)}", permissions=permissions)
    elif kind == "update_role":
        await roles.update_role(ctx, role.id, permissions=permissions)
    elif kind == "grant":
        await roles.grant_role(ctx, user_id=target, role_id=all_roles[a % len(all_roles)].id)
    elif kind == "revoke":
        await roles.revoke_role(ctx, user_id=target, role_id=role.id)
    elif kind == "request":
        await roles.request_role_change(ctx, role.id, permissions=permissions)
    elif kind in ("approve", "reject"):
        async with unit_of_work(world.system, write=False) as uow:
            pending = sorted(r["id"] for r in await uow.select(RoleChange.id).where(RoleChange.state == "pending"))
        if not pending:
            return None
        change = pending[b % len(pending)]
        if kind == "approve":
            await roles.approve_role_change(ctx, change)
        else:
            await roles.reject_role_change(ctx, change)
    elif kind == "api_key":
        view, secret = await api_keys.create_api_key(ctx, name=f"k{next(world.numbers)}", permissions=list(permissions))
        creator = UUID(actor.partition(":")[2]) if actor.startswith("user:") else world.keys[ctx.principal.api_key_id][1]
        world.keys[view.id] = (secret, creator)
    elif kind == "move":
        await users.update_user(ctx, target, department_ids=departments)
    elif kind == "create_user":
        await add_user(world, ctx, [all_roles[a % len(all_roles)].id] if permissions else [], departments)
    return actor


def approver_user(world: World, actor: str) -> str:
    """The person behind an actor: a key is its creator's."""
    if actor.startswith("apikey:"):
        return f"user:{world.keys[UUID(actor.partition(':')[2])][1]}"
    return actor


async def run_sequence(world: World, steps: list[tuple]) -> None:
    before = await principals(world)
    for number, step in enumerate(steps):
        actor_reach = dict(before)
        try:
            actor = await act(world, step)
        except KehuError:
            actor = None  # refused: must have changed nothing (checked below like any step)
        after = await principals(world)
        for who, now in after.items():
            gains = gained(before.get(who, {}), now)
            if not gains:
                continue
            assert actor is not None, f"step {number} {step[0]} was refused yet {who} gained {gains}"
            person = approver_user(world, actor)
            if who.startswith("user:"):
                assert who != person, f"step {number} {step[0]}: {who} approved their own gain {gains}"
            else:  # a new key holds what its creator, the actor, held
                assert approver_user(world, who) == person, f"step {number}: key {who} made by someone else"
            for permission, items in gains.items():
                assert covers(actor_reach.get(actor, {}), permission, items), (
                    f"step {number} {step[0]} by {actor}: {who} gained {permission} over {set(items)}, "
                    f"which {actor} did not hold")
        before = after


def test_nobody_ends_with_a_permission_no_other_holder_approved(sqlite_settings):
    """Issue 16 point 1: no sequence of operations by any user ends with a user holding a
    permission that no other user who held it approved."""
    loop = asyncio.new_event_loop()
    database: Database | None = None
    worlds = itertools.count()

    async def start() -> Database:
        await migrate(sqlite_settings)
        configure_identity(sqlite_settings)
        configure_data_keys(sqlite_settings)
        db = Database(sqlite_settings.database, pool_size=2)
        use_database(db)
        await db.start()
        return db

    async def example(steps: list[tuple]) -> None:
        await run_sequence(await new_world(next(worlds)), steps)

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
    @given(st.lists(step_strategy, min_size=1, max_size=STEPS))
    def property_(steps: list[tuple]) -> None:
        loop.run_until_complete(example(steps))

    try:
        database = loop.run_until_complete(start())
        property_()
    finally:
        if database is not None:
            loop.run_until_complete(database.close())
        loop.close()
