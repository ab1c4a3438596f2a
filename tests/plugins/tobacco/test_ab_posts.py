"""A/B posts (S21 Art5; seed-001 §5 rule 39): the section chief (A) hands the post to a colleague (B) while on
leave, with a handover record; B holds the post's permissions inside the window only — before it, after it
and once it is ended B is refused. Whoever delegates holds what the post gives; nobody delegates to themselves.
Through core's access layer (core/identity/delegations.py): the permissions are rebuilt on every request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.identity import post_grants
from tests.medical_devices.api import colleague, ok, refused
from tests.plugins.tobacco.conftest import ERR, Clock, local, maintain, retailer

CREATE = ("mutation($r: ID!, $a: ID!, $b: ID!, $s: DateTime!, $e: DateTime!, $h: String!) { postDelegationCreate("
          "roleId: $r, fromUserId: $a, toUserId: $b, startsAt: $s, endsAt: $e, handover: $h) { delegation { id active "
          "handover } %s } }" % ERR)
END = "mutation($id: ID!) { postDelegationEnd(id: $id, note: \"已交回\") { delegation { id active endedAt returnNote } %s } }" % ERR
LIST = "{ postDelegations(first: 10) { nodes { id fromUserId toUserId handover returnNote } } }"
APPROVE = "mutation($c: ID!) { tobaccoQuotaApprove(customerId: $c) { onboarding { customerId } %s } }" % ERR
REGISTER = ('mutation($c: ID!) { tobaccoRetailerRegister(customerId: $c, licenceDate: "2026-09-24") '
            '{ onboarding { customerId } %s } }' % ERR)


@pytest.fixture
def leave_clock(monkeypatch, clock) -> Clock:
    monkeypatch.setattr(post_grants, "now", clock)
    return clock


async def _me(client) -> str:
    return (await client.execute("{ me { user { id } } }"))["data"]["me"]["user"]["id"]


async def _role_of(admin, username_role: str) -> str:
    roles = (await admin.execute("{ roles(first: 100) { nodes { id name } } }"))["data"]["roles"]["nodes"]
    return next(r["id"] for r in roles if r["name"] == username_role)


async def test_s21_art5_b_holds_a_s_post_only_inside_the_window_with_the_handover_record(company, leave_clock):
    admin, analyst = company["admin"], company["analyst"]
    chief = company["chief"]
    b = await colleague(admin, company["tenant"], ["customer.read"])
    chief_id, b_id = await _me(chief), await _me(b)
    role = (await chief.execute("{ me { user { roleIds } } }"))["data"]["me"]["user"]["roleIds"][0]
    customer = await retailer(analyst)
    await ok(analyst, REGISTER, "tobaccoRetailerRegister", c=customer)
    await maintain(analyst, customer, quota=20, order_weekday=2)
    leave = {"s": local(2026, 9, 28, 9, 0).isoformat(), "e": local(2026, 10, 9, 18, 0).isoformat()}
    no_record = await refused(chief, CREATE, "postDelegationCreate", r=role, a=chief_id, b=b_id, h="  ", **leave)
    assert no_record["code"] == "DELEGATION_HANDOVER_REQUIRED"
    self_given = await refused(chief, CREATE, "postDelegationCreate", r=role, a=chief_id, b=chief_id, h="x", **leave)
    assert self_given["code"] == "SEPARATION_OF_DUTIES"
    made = (await ok(chief, CREATE, "postDelegationCreate", r=role, a=chief_id, b=b_id,
                     h="休假期间科学定量审批由B岗代理；待审批客户清单已交接", **leave))["delegation"]
    assert made["active"] is False  # it starts on Monday
    assert (await refused(b, APPROVE, "tobaccoQuotaApprove", c=customer))["code"] == "PERMISSION_DENIED"
    leave_clock.set(local(2026, 9, 29, 10, 0))  # inside the window
    assert (await ok(b, APPROVE, "tobaccoQuotaApprove", c=customer))["onboarding"]["customerId"] == customer
    leave_clock.set(local(2026, 10, 9, 18, 0))  # the window's end
    assert (await refused(b, APPROVE, "tobaccoQuotaApprove", c=customer))["code"] == "PERMISSION_DENIED"
    records = (await ok(chief, LIST, "postDelegations"))["nodes"]
    assert [(r["fromUserId"], r["toUserId"]) for r in records] == [(chief_id, b_id)]
    assert (await ok(b, LIST, "postDelegations"))["nodes"][0]["handover"].startswith("休假期间")


async def test_s21_art5_an_ended_delegation_gives_nothing_and_keeps_the_return_note(company, leave_clock):
    admin, chief = company["admin"], company["chief"]
    b = await colleague(admin, company["tenant"], ["customer.read"])
    chief_id, b_id = await _me(chief), await _me(b)
    role = (await chief.execute("{ me { user { roleIds } } }"))["data"]["me"]["user"]["roleIds"][0]
    window = {"s": local(2026, 9, 24, 9, 0).isoformat(), "e": local(2026, 9, 30, 18, 0).isoformat()}
    made = (await ok(chief, CREATE, "postDelegationCreate", r=role, a=chief_id, b=b_id, h="交接", **window))["delegation"]
    assert made["active"] is True
    evaluation = 'mutation { tobaccoGradeEvaluationClose(closedOn: "2026-09-24") { evaluation { id } %s } }' % ERR
    await ok(b, evaluation, "tobaccoGradeEvaluationClose")  # the chief's grade permission, held by B now
    ended = (await ok(chief, END, "postDelegationEnd", id=made["id"]))["delegation"]
    assert ended["active"] is False and ended["returnNote"] == "已交回"
    assert (await refused(b, evaluation, "tobaccoGradeEvaluationClose"))["code"] == "PERMISSION_DENIED"


async def test_s21_art5_whoever_delegates_holds_what_the_post_gives(company, leave_clock):
    admin = company["admin"]
    granter = await colleague(admin, company["tenant"], ["role.grant", "customer.read"])  # but no tobacco posts
    chief_id = await _me(company["chief"])
    b = await colleague(admin, company["tenant"], ["customer.read"])
    role = (await company["chief"].execute("{ me { user { roleIds } } }"))["data"]["me"]["user"]["roleIds"][0]
    window = {"s": local(2026, 9, 24, 9, 0).isoformat(), "e": (local(2026, 9, 24, 9, 0) + timedelta(days=3)).isoformat()}
    error = await refused(granter, CREATE, "postDelegationCreate", r=role, a=chief_id, b=await _me(b), h="交接", **window)
    assert error["code"] == "PERMISSION_ESCALATION"
    # someone else's post needs role.grant: the analyst cannot hand the chief's post around
    other = await refused(company["analyst"], CREATE, "postDelegationCreate", r=role, a=chief_id, b=await _me(b),
                          h="交接", **window)
    assert other["code"] == "PERMISSION_DENIED"
    too_long = {"s": window["s"], "e": local(2027, 1, 24, 9, 0).isoformat()}
    long_error = await refused(company["chief"], CREATE, "postDelegationCreate", r=role, a=chief_id, b=await _me(b),
                               h="交接", **too_long)
    assert long_error["code"] == "DELEGATION_WINDOW_INVALID"
