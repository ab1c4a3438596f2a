"""Self-granted permissions (issue 16 point 1): nobody gives anyone, themselves included, more than
they hold, and a widening of a role its requester holds waits for another user's approval.

Each test names the rule it proves; they run on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import UUID

import pytest

from core.audit.tables import AuditEntry
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import api_keys, roles, users
from core.identity.permissions import Scope
from core.identity.sessions import authenticate_api_key
from core.tenancy import service as tenancy
from tests.support import SYSTEM, add_user, sign_in

T, D, O = Scope.TENANT, Scope.DEPARTMENT, Scope.OWN


async def _code(call) -> str:
    with pytest.raises(KehuError) as caught:
        await call
    return caught.value.code


async def _user_with(tenant, username: str, permissions: dict[str, Scope], *, departments=()) -> Context:
    """A user holding exactly ``permissions`` (through a role of their own), signed in."""
    system = SYSTEM.for_tenant(tenant.id)
    role = await roles.create_role(system, name=f"role of {username}", permissions=permissions)
    user = await add_user(tenant, username, department_ids=list(departments))
    await roles.grant_role(system, user_id=user.id, role_id=role.id)
    return await sign_in(tenant.slug, username)


async def _role_named(ctx: Context, name: str) -> roles.RoleView:
    return next(r for r in await roles.list_roles(ctx) if r.name == name)


async def _actions(tenant_id: UUID, target_id: UUID) -> list[str]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(AuditEntry.action).where(AuditEntry.target_id == str(target_id)).order_by(
            AuditEntry.seq)
    return [r["action"] for r in rows]


async def _departments(tenant) -> dict[str, UUID]:
    return {d.name: d.id for d in await tenancy.list_departments(SYSTEM.for_tenant(tenant.id))}


async def test_role_manage_alone_cannot_unmask_by_editing_its_own_role(seeded):
    """Issue 16 point 1, the reproduction: a user holding only role.manage adds
    customer.pii.unmask to the role it holds, signs in again, and must still not hold it."""
    manager = await _user_with(seeded.acme, "rolemgr", {"role.manage": T, "role.read": T})
    own = await _role_named(manager, "role of rolemgr")
    wanted = {**own.permissions, "customer.pii.unmask": T}
    assert await _code(roles.update_role(manager, own.id, permissions=wanted)) in {
        "PERMISSION_ESCALATION", "ROLE_CHANGE_NEEDS_APPROVAL"}
    again = await sign_in("acme", "rolemgr")
    assert "customer.pii.unmask" not in again.principal.permissions
    assert (await _role_named(again, "role of rolemgr")).permissions == own.permissions


async def test_creating_or_editing_a_role_refuses_what_the_caller_lacks(seeded):
    """Issue 16 point 1: roleCreate and roleUpdate refuse any permission, or scope broader than,
    the caller holds (PERMISSION_ESCALATION), and write nothing."""
    lead = await _user_with(seeded.acme, "lead", {"role.manage": T, "role.read": T, "customer.read": D})
    assert await _code(roles.create_role(lead, name="unmaskers", permissions={"customer.pii.unmask": T})) \
        == "PERMISSION_ESCALATION"
    assert await _code(roles.create_role(lead, name="readers", permissions={"customer.read": T})) \
        == "PERMISSION_ESCALATION"
    assert "readers" not in {r.name for r in await roles.list_roles(lead)}
    narrow = await roles.create_role(lead, name="dept readers", permissions={"customer.read": D})
    assert await _code(roles.update_role(lead, narrow.id, permissions={"customer.read": T})) \
        == "PERMISSION_ESCALATION"
    assert await _code(roles.update_role(lead, narrow.id, permissions={"customer.read": D, "audit.read": T})) \
        == "PERMISSION_ESCALATION"
    assert (await _role_named(lead, "dept readers")).permissions == {"customer.read": D}
    # narrowing, and editing a role that keeps a permission the caller lacks, are no escalation
    director = await _role_named(lead, "客户总监")
    kept = {p: s for p, s in director.permissions.items() if p != "customer.export"}
    assert (await roles.update_role(lead, director.id, permissions=kept)).permissions == kept
    assert (await roles.update_role(lead, narrow.id, permissions={"customer.read": O})).permissions == \
        {"customer.read": O}


async def test_widening_a_role_the_caller_holds_waits_for_another_users_approval(seeded):
    """Issue 16 point 1: a change that widens a role the caller holds is not applied; as a
    pending role change it changes nothing until another user holding role.grant and what the
    change gives approves it; the requester cannot approve it, nor can someone lacking what it
    gives; every step is audited."""
    # holds customer.read at tenant scope through another role: still may not widen its own role
    manager = await _user_with(seeded.acme, "mgr", {"role.manage": T, "role.read": T, "role.grant": T,
                                                     "customer.read": O})
    system = SYSTEM.for_tenant(seeded.acme.id)
    own = await _role_named(manager, "role of mgr")
    wanted = {**own.permissions, "customer.read": T, "customer.pii.unmask": T}
    assert await _code(roles.update_role(manager, own.id, permissions=wanted)) == "ROLE_CHANGE_NEEDS_APPROVAL"

    change = await roles.request_role_change(manager, own.id, permissions=wanted, reason="needs to unmask")
    assert change.state == "pending"
    assert (await _role_named(manager, "role of mgr")).permissions == own.permissions  # nothing changed yet
    assert [c.id for c in await roles.list_role_changes(manager, state="pending")] == [change.id]

    assert await _code(roles.approve_role_change(manager, change.id)) == "SEPARATION_OF_DUTIES"
    it = await _user_with(seeded.acme, "it", {"role.grant": T, "role.read": T, "customer.read": T})
    assert await _code(roles.approve_role_change(it, change.id)) == "PERMISSION_ESCALATION"  # lacks unmask
    assert (await _role_named(manager, "role of mgr")).permissions == own.permissions

    general = await add_user(seeded.acme, "general")
    await roles.grant_role(system, user_id=general.id, role_id=(await _role_named(manager, "总经理")).id)
    approved = await roles.approve_role_change(await sign_in("acme", "general"), change.id)
    assert approved.state == "approved" and approved.decided_by == f"user:{general.id}"
    assert (await _role_named(manager, "role of mgr")).permissions == wanted
    assert (await sign_in("acme", "mgr")).principal.permissions["customer.pii.unmask"] is T
    assert await _code(roles.approve_role_change(system, change.id)) == "ROLE_CHANGE_DECIDED"
    assert await _actions(seeded.acme.id, change.id) == ["role.change_requested", "role.change_approved"]
    assert (await _actions(seeded.acme.id, own.id))[-1] == "role.updated"


async def test_a_key_of_the_requester_cannot_approve_the_request(seeded):
    """Issue 16 point 1: approvals are a person's: an API key (even one holding role.grant and
    everything the change gives) cannot approve, so nobody approves their own change with a key."""
    manager = await _user_with(seeded.acme, "keymgr", {"role.manage": T, "role.read": T, "role.grant": T,
                                                        "apikey.manage": T, "customer.read": T})
    own = await _role_named(manager, "role of keymgr")
    change = await roles.request_role_change(manager, own.id, permissions={**own.permissions, "audit.read": T})
    _, secret = await api_keys.create_api_key(manager, name="approver key", permissions=["role.grant"])
    key = Context.for_principal(await authenticate_api_key(secret))
    assert await _code(roles.approve_role_change(key, change.id)) == "APPROVAL_BY_USER_ONLY"
    assert (await _role_named(manager, "role of keymgr")).permissions == own.permissions


async def test_a_stale_or_rejected_change_changes_nothing(seeded):
    """Issue 16 point 1: a change approved after its role was edited is refused
    (ROLE_CHANGE_STALE); a rejected or withdrawn change leaves the role as it was; deleting the
    role cancels its pending changes."""
    admin = await sign_in("acme", "admin")
    system = SYSTEM.for_tenant(seeded.acme.id)
    role = await roles.create_role(admin, name="clerks", permissions={"customer.read": O})
    first = await roles.request_role_change(admin, role.id, permissions={"customer.read": T})
    await roles.update_role(admin, role.id, permissions={"customer.read": D})
    assert await _code(roles.approve_role_change(system, first.id)) == "ROLE_CHANGE_STALE"
    second = await roles.request_role_change(admin, role.id, permissions={"customer.read": T})
    rejected = await roles.reject_role_change(system, second.id, reason="not needed")
    assert rejected.state == "rejected" and rejected.decision_reason == "not needed"
    third = await roles.request_role_change(admin, role.id, permissions={"customer.write": O})
    assert (await roles.reject_role_change(admin, third.id)).state == "rejected"  # the requester withdraws
    fourth = await roles.request_role_change(admin, role.id, permissions={"customer.write": O})
    await roles.delete_role(admin, role.id)
    assert [c.state for c in await roles.list_role_changes(admin) if c.id == fourth.id] == ["cancelled"]
    assert await _code(roles.request_role_change(admin, first.role_id, permissions={})) == "NOT_FOUND"


async def test_department_scoped_grants_and_moves_stay_within_the_callers_departments(seeded):
    """Issue 16 point 1: moving a user into a department, or granting a department-scoped role to
    a user of another department, opens that department's records to them: refused unless the
    caller reaches those records with the same permission (PERMISSION_ESCALATION)."""
    departments = await _departments(seeded.acme)
    sales, service = departments["销售部"], departments["客服部"]
    lead = await _user_with(seeded.acme, "saleslead", {"user.manage": T, "user.read": T, "role.grant": T, "customer.read": D},
                            departments=[sales])
    archivist_role = await roles.create_role(SYSTEM.for_tenant(seeded.acme.id), name="dept readers",
                                             permissions={"customer.read": D})
    colleague = await add_user(seeded.acme, "colleague", department_ids=[sales])
    stranger = await add_user(seeded.acme, "stranger", department_ids=[service])
    await roles.grant_role(lead, user_id=colleague.id, role_id=archivist_role.id)  # within sales: fine
    assert await _code(roles.grant_role(lead, user_id=stranger.id, role_id=archivist_role.id)) \
        == "PERMISSION_ESCALATION"
    assert await _code(users.update_user(lead, colleague.id, department_ids=[sales, service])) \
        == "PERMISSION_ESCALATION"
    assert await _code(users.update_user(lead, lead.user_id, department_ids=[sales, service])) \
        == "PERMISSION_ESCALATION"  # nor into another department themselves
    assert (await users.get_user(lead, colleague.id)).department_ids == (sales,)
    # leaving a department, or a move by someone who reaches the whole tenant, is fine
    admin = await sign_in("acme", "admin")
    assert (await users.update_user(admin, colleague.id, department_ids=[service])).department_ids == (service,)
    assert (await users.update_user(lead, lead.user_id, department_ids=[])).department_ids == ()


async def test_an_api_key_gets_no_permission_its_creator_lacks(seeded):
    """Issue 16 point 1 (sweep): API key scopes are always tenant-wide, so the creator must hold
    each of them at tenant scope."""
    creator = await _user_with(seeded.acme, "integrator", {"apikey.manage": T, "customer.read": D})
    assert await _code(api_keys.create_api_key(creator, name="reader", permissions=["customer.read"])) \
        == "PERMISSION_ESCALATION"
    assert await _code(api_keys.create_api_key(creator, name="unmask", permissions=["customer.pii.unmask"])) \
        == "PERMISSION_ESCALATION"
    assert await api_keys.list_api_keys(creator) == []


async def test_nobody_grants_themselves_a_role_through_a_key_of_their_own(seeded):
    """Issue 16 point 1: a key is its creator's: it may not grant its creator a role, which would
    give back a permission taken from them after the key was made."""
    system = SYSTEM.for_tenant(seeded.acme.id)
    granter = await _user_with(seeded.acme, "granter", {"role.grant": T, "apikey.manage": T, "customer.read": T})
    _, secret = await api_keys.create_api_key(granter, name="grant key", permissions=["role.grant", "customer.read"])
    readers = await roles.create_role(system, name="readers", permissions={"customer.read": T})
    own = await _role_named(system, "role of granter")
    await roles.update_role(system, own.id, permissions={"role.grant": T, "apikey.manage": T})  # taken away
    key = Context.for_principal(await authenticate_api_key(secret))
    assert await _code(roles.grant_role(key, user_id=granter.user_id, role_id=readers.id)) == "SEPARATION_OF_DUTIES"
    assert "customer.read" not in (await sign_in("acme", "granter")).principal.permissions


async def test_a_settings_manager_cannot_name_their_own_role_the_export_approver(seeded):
    """Issue 16 point 1 (sweep): the export approver role decides who may approve bulk exports;
    only a holder of the current approver role may name another (APPROVER_ROLE_REQUIRED)."""
    from core.privacy import access_requests

    settings_manager = await _user_with(seeded.acme, "settings", {"tenant.settings.manage": T,
                                                                   "privacy.export.approve": T})
    assert await _code(access_requests.update_export_rules(
        settings_manager, {"export_approver_role": "role of settings"})) == "APPROVER_ROLE_REQUIRED"
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        assert (await access_requests.export_rules(uow))["export_approver_role"] == roles.ADMIN_ROLE
    # hours are not who decides: still the settings manager's to change
    assert (await access_requests.update_export_rules(settings_manager, {"export_approval_hours": 24}))[
        "export_approval_hours"] == 24
    admin = await sign_in("acme", "admin")  # holds the current approver role: may hand it on
    assert (await access_requests.update_export_rules(admin, {"export_approver_role": "role of settings"}))[
        "export_approver_role"] == "role of settings"


async def test_nobody_takes_over_an_account_that_holds_more_than_they_do(seeded):
    """Issue 16 point 1 (sweep): resetting a password lets the resetter sign in as that user, so
    a user manager may reset only users holding nothing the manager lacks (PERMISSION_ESCALATION)."""
    helpdesk = await _user_with(seeded.acme, "helpdesk", {"user.manage": T, "customer.read": T})
    general = await add_user(seeded.acme, "general2")
    await roles.grant_role(SYSTEM.for_tenant(seeded.acme.id), user_id=general.id,
                           role_id=(await _role_named(SYSTEM.for_tenant(seeded.acme.id), "总经理")).id)
    assert await _code(users.reset_password(helpdesk, general.id, new_password="a-new-phrase-for-you-9")) \
        == "PERMISSION_ESCALATION"
    await sign_in("acme", "general2")  # the old password still works: nothing was written
    clerk = await add_user(seeded.acme, "clerk2")
    await users.reset_password(helpdesk, clerk.id, new_password="a-new-phrase-for-you-9")
