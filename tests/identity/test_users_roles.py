"""Users, roles and scopes: uniqueness, one account per person, approval, least privilege,
separation of duties, and handover of everything a leaver owns."""

import pytest
from piccolo.columns import UUID, Varchar

from core.context import Context
from core.db import current_database, unit_of_work
from core.db.tables import TenantOwned
from core.errors import KehuError
from core.identity import access, ownership, roles, sessions, users
from core.identity.runtime import identity
from core.identity.tokens import TokenInvalid
from core.identity.permissions import Scope
from core.tenancy import service as tenancy
from tests.support import PASSWORD, SYSTEM, add_user, create_test_table, sign_in


def _code(caught) -> str:
    return caught.value.code


async def test_usernames_are_unique_within_a_tenant_only(seeded):
    await add_user(seeded.acme, "wang.fang")
    await add_user(seeded.globex, "wang.fang")  # another company may use the same name
    with pytest.raises(KehuError) as caught:
        await add_user(seeded.acme, "Wang.Fang")
    assert _code(caught) == "USERNAME_TAKEN"


async def test_one_account_per_person(seeded):
    first = await add_user(seeded.acme, "li.lei", employee_no="E-1001")
    with pytest.raises(KehuError) as caught:
        await add_user(seeded.acme, "lilei2", employee_no="E-1001")
    assert _code(caught) == "PERSON_HAS_ACCOUNT"
    admin = SYSTEM.for_tenant(seeded.acme.id)
    await users.disable_user(admin, first.id, successor_id=None, reason="left")
    with pytest.raises(KehuError):  # leaving does not free the person for a second account...
        await add_user(seeded.acme, "lilei3", employee_no="E-1001")
    assert (await users.enable_user(admin, first.id)).status == "active"  # ...re-enabling does


async def test_weak_passwords_are_refused_by_the_tenant_policy(seeded):
    with pytest.raises(KehuError) as caught:
        await add_user(seeded.acme, "weak", password="password1234")
    assert _code(caught) == "PASSWORD_TOO_WEAK"


async def test_users_belong_to_departments_of_their_tenant(seeded):
    admin = SYSTEM.for_tenant(seeded.acme.id)
    sales, service = sorted(await tenancy.list_departments(admin), key=lambda d: d.name)
    user = await add_user(seeded.acme, "zhao", department_ids=[sales.id])
    assert user.department_ids == (sales.id,)
    [globex_sales] = await tenancy.list_departments(SYSTEM.for_tenant(seeded.globex.id))
    with pytest.raises(KehuError) as caught:
        await users.update_user(admin, user.id, department_ids=[globex_sales.id])
    assert _code(caught) == "NOT_FOUND"
    assert (await users.get_user(admin, user.id)).department_ids == (sales.id,)


async def test_a_new_tenant_has_editable_default_roles(seeded):
    admin = await sign_in("acme", "admin")
    names = {r.name for r in await roles.list_roles(admin)}
    assert {"系统管理员", "总经理", "客户总监", "客服部档案管理员", "销售顾问"} <= names
    consultant = next(r for r in await roles.list_roles(admin) if r.name == "销售顾问")
    assert consultant.permissions == {"customer.read": Scope.OWN, "customer.write": Scope.OWN}
    edited = await roles.update_role(admin, consultant.id, permissions={"customer.read": Scope.DEPARTMENT})
    assert edited.permissions == {"customer.read": Scope.DEPARTMENT}


async def test_roles_refuse_unknown_permissions(seeded):
    admin = await sign_in("acme", "admin")
    with pytest.raises(KehuError) as caught:
        await roles.create_role(admin, name="typo", permissions={"customer.raed": Scope.OWN})
    assert _code(caught) == "UNKNOWN_PERMISSION"


async def test_nobody_approves_their_own_role(seeded):
    admin = await sign_in("acme", "admin")
    any_role = (await roles.list_roles(admin))[0]
    with pytest.raises(KehuError) as caught:
        await roles.grant_role(admin, user_id=admin.user_id, role_id=any_role.id)
    assert _code(caught) == "SEPARATION_OF_DUTIES"


async def test_granting_needs_role_grant_and_never_escalates(seeded):
    admin = await sign_in("acme", "admin")
    everything = {r.name: r for r in await roles.list_roles(admin)}
    approver = await add_user(seeded.acme, "approver")
    target = await add_user(seeded.acme, "target")
    await roles.grant_role(SYSTEM.for_tenant(seeded.acme.id), user_id=approver.id, role_id=everything["总经理"].id)
    manager = await sign_in("acme", "approver")
    # 总经理 approves roles but does not manage users: granting 系统管理员 would escalate.
    with pytest.raises(KehuError) as caught:
        await roles.grant_role(manager, user_id=target.id, role_id=everything["系统管理员"].id)
    assert _code(caught) == "PERMISSION_ESCALATION"
    # A plain 系统管理员 does not see personal data in clear: 客户总监 is the manager's to approve.
    it = await add_user(seeded.acme, "it.admin")
    await roles.grant_role(admin, user_id=it.id, role_id=everything["系统管理员"].id)
    with pytest.raises(KehuError) as caught:
        await roles.grant_role(await sign_in("acme", "it.admin"), user_id=target.id,
                               role_id=everything["客户总监"].id)
    assert _code(caught) == "PERMISSION_ESCALATION"
    await roles.grant_role(manager, user_id=target.id, role_id=everything["客户总监"].id)
    await roles.grant_role(manager, user_id=target.id, role_id=everything["销售顾问"].id)
    assert {everything["销售顾问"].id, everything["客户总监"].id} <= set((await users.get_user(admin, target.id)).role_ids)
    plain = await sign_in("acme", "target")
    with pytest.raises(KehuError) as caught:
        await roles.grant_role(plain, user_id=approver.id, role_id=everything["销售顾问"].id)
    assert _code(caught) == "PERMISSION_DENIED"


async def test_a_role_in_use_cannot_be_deleted(seeded):
    admin = await sign_in("acme", "admin")
    role = await roles.create_role(admin, name="Temp", permissions={"user.read": Scope.TENANT})
    user = await add_user(seeded.acme, "temp")
    await roles.grant_role(admin, user_id=user.id, role_id=role.id)
    with pytest.raises(KehuError) as caught:
        await roles.delete_role(admin, role.id)
    assert _code(caught) == "ROLE_IN_USE"
    await roles.revoke_role(admin, user_id=user.id, role_id=role.id)
    await roles.delete_role(admin, role.id)
    assert "Temp" not in {r.name for r in await roles.list_roles(admin)}


async def test_scopes_limit_which_records_a_permission_reaches(seeded):
    admin = await sign_in("acme", "admin")
    sales, service = sorted(await tenancy.list_departments(admin), key=lambda d: d.name)
    by_name = {r.name: r for r in await roles.list_roles(admin)}
    for username, role, department in (("own", "销售顾问", sales), ("dept", "客服部档案管理员", service),
                                       ("all", "客户总监", sales)):
        user = await add_user(seeded.acme, username, department_ids=[department.id])
        await roles.grant_role(SYSTEM.for_tenant(seeded.acme.id), user_id=user.id, role_id=by_name[role].id)
    own, dept, everyone = [await sign_in("acme", n) for n in ("own", "dept", "all")]
    mine = {"owner_id": own.user_id, "department_id": sales.id}
    colleagues = {"owner_id": everyone.user_id, "department_id": service.id}
    assert access.may_reach(own, "customer.read", **mine)
    assert not access.may_reach(own, "customer.read", **colleagues)
    assert access.may_reach(dept, "customer.read", **colleagues)
    assert not access.may_reach(dept, "customer.read", **mine)
    assert access.may_reach(everyone, "customer.read", **mine) and access.may_reach(everyone, "customer.read", **colleagues)
    assert not access.may_reach(own, "customer.pii.unmask", **mine)


def test_separation_of_duties_primitive():
    submitter = Context(tenant_id=None, actor="user:1")
    checker = Context(tenant_id=None, actor="user:2")
    access.require_different_actor(checker, submitter.actor, "checking an archive")
    with pytest.raises(KehuError) as caught:
        access.require_different_actor(submitter, submitter.actor, "checking an archive")
    assert _code(caught) == "SEPARATION_OF_DUTIES"


class Gadget(TenantOwned, tablename="test_gadget"):
    """A test-only owned record type: stands for customers and vertical records."""

    owner_id = UUID(null=True, default=None)
    label = Varchar(length=50)


@pytest.fixture
async def gadgets(seeded, settings):
    """Create the test-only table (as the owner on PostgreSQL, with RLS) and register it."""
    await create_test_table(settings, Gadget, "owner_id UUID, label VARCHAR(50)")
    ownership.register_owned("gadget", Gadget)
    yield Gadget
    ownership.unregister_owned("gadget")


async def test_disabling_an_owner_without_a_successor_is_refused(seeded, gadgets):
    leaver = await add_user(seeded.acme, "leaver")
    admin = await sign_in("acme", "admin")
    async with unit_of_work(admin) as uow:
        await uow.insert(Gadget(owner_id=leaver.id, label="vin-1"), Gadget(owner_id=leaver.id, label="vin-2"))
    with pytest.raises(KehuError) as caught:
        await users.disable_user(admin, leaver.id, successor_id=None, reason="resigned")
    assert _code(caught) == "SUCCESSOR_REQUIRED"
    assert (await users.get_user(admin, leaver.id)).status == "active"  # nothing changed


async def test_disabling_with_a_successor_moves_every_owned_record(seeded, gadgets):
    leaver = await add_user(seeded.acme, "leaver")
    successor = await add_user(seeded.acme, "successor")
    leaver_login = await sign_in("acme", "leaver")
    admin = await sign_in("acme", "admin")
    globex_user = await add_user(seeded.globex, "leaver")
    async with unit_of_work(admin) as uow:
        await uow.insert(Gadget(owner_id=leaver.id, label="a"), Gadget(owner_id=leaver.id, label="b"),
                         Gadget(owner_id=successor.id, label="c"))
    async with unit_of_work(SYSTEM.for_tenant(seeded.globex.id)) as uow:
        await uow.insert(Gadget(owner_id=globex_user.id, label="other tenant"))
    disabled = await users.disable_user(admin, leaver.id, successor_id=successor.id, reason="resigned")
    assert disabled.status == "disabled"
    async with unit_of_work(admin, write=False) as uow:
        owners = sorted((r["label"], r["owner_id"]) for r in await uow.select(Gadget.label, Gadget.owner_id))
    assert owners == [("a", successor.id), ("b", successor.id), ("c", successor.id)]
    async with unit_of_work(SYSTEM.for_tenant(seeded.globex.id), write=False) as uow:
        assert (await uow.select(Gadget.owner_id).first())["owner_id"] == globex_user.id  # untouched
    [handover] = await users.handovers(admin, leaver.id)
    assert handover["to_user_id"] == successor.id and handover["moved"] == {"gadget": 2}
    with pytest.raises(TokenInvalid):  # the leaver's login ended with the account
        await sessions.authenticate_access_token(_token_for(leaver_login))


def _token_for(ctx: Context) -> str:
    """A fresh access token for the login (session) behind ``ctx``."""
    token, _ = identity().tokens.issue_access(user_id=ctx.user_id, tenant_id=ctx.tenant_id,
                                              session_id=ctx.principal.session_id)
    return token


async def test_the_successor_must_be_another_active_user_of_the_tenant(seeded, gadgets):
    leaver = await add_user(seeded.acme, "leaver")
    admin = await sign_in("acme", "admin")
    async with unit_of_work(admin) as uow:
        await uow.insert(Gadget(owner_id=leaver.id, label="a"))
    outsider = await add_user(seeded.globex, "outsider")
    for successor in (leaver.id, outsider.id):
        with pytest.raises(KehuError) as caught:
            await users.disable_user(admin, leaver.id, successor_id=successor, reason="resigned")
        assert _code(caught) in ("SUCCESSOR_INVALID", "NOT_FOUND")
    with pytest.raises(KehuError) as caught:
        await users.disable_user(admin, admin.user_id, successor_id=leaver.id, reason="oops")
    assert _code(caught) == "CANNOT_DISABLE_SELF"


async def test_listing_users_costs_the_same_statements_for_any_page_size(seeded, monkeypatch):
    """No N+1: a page of 10 users takes as many database statements as a page of 2."""
    admin = SYSTEM.for_tenant(seeded.acme.id)
    [department] = (await tenancy.list_departments(admin))[:1]
    for i in range(9):
        await add_user(seeded.acme, f"paged{i}", department_ids=[department.id])
    engine_class = type(current_database().engine)
    original = engine_class.run_querystring
    counted = []

    async def counting(self, querystring, *args, **kwargs):
        counted.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    small, _ = await users.list_users(admin, first=2)
    few = len(counted)
    counted.clear()
    large, _ = await users.list_users(admin, first=10)
    assert len(small) == 2 and len(large) == 10
    assert len(counted) == few
    assert any(department.id in u.department_ids for u in large)


async def _written_about(tenant_id, username: str) -> dict[str, int]:
    """What the tenant's database holds about a username: users, audit entries, outbox events."""
    from core.audit.tables import AuditEntry
    from core.identity.tables import User
    from core.jobs.tables import OutboxEvent

    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        user = await uow.select(User.id).where(User.username == username).first()
        if user is None:
            return {"users": 0, "audit": 0, "outbox": 0}
        return {"users": 1,
                "audit": await uow.count(AuditEntry).where(AuditEntry.target_id == str(user["id"])),
                "outbox": await uow.count(OutboxEvent).where(OutboxEvent.aggregate_id == str(user["id"]))}


async def test_creating_a_user_with_a_refused_or_unknown_role_writes_nothing(seeded):
    """Issue 16 point 5: userCreate committed the user before its roles, so a refused or unknown
    role left an account that could sign in. Now the user, roles, entries and events are one unit
    of work, and the roles pass the same least-privilege check as roleGrant."""
    import uuid

    founder = await sign_in("acme", "admin")
    everything = {r.name: r for r in await roles.list_roles(founder)}
    it = await add_user(seeded.acme, "it.admin")
    await roles.grant_role(founder, user_id=it.id, role_id=everything["系统管理员"].id)
    admin = await sign_in("acme", "it.admin")
    nothing = {"users": 0, "audit": 0, "outbox": 0}
    # 系统管理员 holds no customer.pii.unmask: handing out 客户总监 would be escalation.
    with pytest.raises(KehuError) as caught:
        await users.create_user(admin, username="escalated", display_name="E", password=PASSWORD,
                                role_ids=[everything["销售顾问"].id, everything["客户总监"].id])
    assert _code(caught) == "PERMISSION_ESCALATION"
    assert await _written_about(seeded.acme.id, "escalated") == nothing
    with pytest.raises(KehuError) as caught:
        await users.create_user(admin, username="ghost", display_name="G", password=PASSWORD,
                                role_ids=[everything["销售顾问"].id, uuid.uuid4()])
    assert (_code(caught), caught.value.field) == ("NOT_FOUND", "roleIds")
    assert await _written_about(seeded.acme.id, "ghost") == nothing
    [globex_role] = [r for r in await roles.list_roles(SYSTEM.for_tenant(seeded.globex.id)) if r.name == "销售顾问"]
    with pytest.raises(KehuError):  # another tenant's role is unknown here
        await users.create_user(admin, username="foreign", display_name="F", password=PASSWORD,
                                role_ids=[globex_role.id])
    assert await _written_about(seeded.acme.id, "foreign") == nothing
    with pytest.raises(sessions.InvalidCredentials):
        await sign_in("acme", "escalated")
    # Allowed roles: the user, the roles, user.created and one role.granted per role, together.
    made = await users.create_user(admin, username="hired", display_name="H", password=PASSWORD,
                                   role_ids=[everything["销售顾问"].id])
    assert made.role_ids == (everything["销售顾问"].id,)
    assert await _written_about(seeded.acme.id, "hired") == {"users": 1, "audit": 2, "outbox": 2}
