"""The real-estate reception queue (seed-000 §2.3–2.6: RE1, RE3–RE8, RE10, RE11, RE13–RE17, RE22,
RE26, RE27; seed-002 §4.3, §4.6, §4.10): the pure decision of who receives, table-driven, then the
queue through the public GraphQL API on SQLite and PostgreSQL (CI=true), the attribution ledger it
writes, and two consultants calling for the next customer at the same moment (issue 21 acceptance 5)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

import plugins.real_estate as real_estate
from plugins.real_estate import queue as service
from plugins.real_estate.queue import Seat, after_lost_turn, after_priority, after_swap, decide_reception

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the pure decision ---------------------------------------------------------------------------

A, B, C, D = "A", "B", "C", "D"

# (rule, seats in order, owner, designated) -> (receiver, kind, counted, on behalf of, order after, lost)
CASES = [
    ("RE5 a new customer goes to whoever's turn it is, who moves to the end",
     [Seat(A), Seat(B), Seat(C)], None, None, (A, "rotation", True, None, (B, C, A), ())),
    ("RE10 a consultant with an active reception is not assignable; a busy rotation keeps its place",
     [Seat(A, busy="rotation"), Seat(B), Seat(C)], None, None, (B, "rotation", True, None, (A, C, B), ())),
    ("RE1 RE4 eligibility removed: the turn passes and is lost for this round",
     [Seat(A, eligible=False), Seat(B), Seat(C)], None, None, (B, "rotation", True, None, (C, A, B), (A,))),
    ("RE3 the sales control not acknowledged: not eligible",
     [Seat(A, acknowledged=False), Seat(B)], None, None, (B, "rotation", True, None, (A, B), (A,))),
    ("RE15 busy with a designated reception at one's turn: no make-up turn",
     [Seat(A, busy="designated"), Seat(B), Seat(C)], None, None, (B, "rotation", True, None, (C, A, B), (A,))),
    ("RE26 RE27 busy with a duty reception: the place is kept, the next customer is still theirs",
     [Seat(A, busy="duty"), Seat(B), Seat(C)], None, None, (B, "rotation", True, None, (A, C, B), ())),
    ("RE8 RE13 a returning customer goes to the owner, not counted, nobody moves",
     [Seat(A), Seat(B), Seat(C)], C, None, (C, "owner", False, None, (A, B, C), ())),
    ("RE14 RE22 the owner absent: the last in the schedule gives a duty reception, not counted",
     [Seat(A), Seat(B), Seat(C)], D, None, (C, "duty", False, D, (A, B, C), ())),
    ("RE14 the owner here but busy: a duty reception by the last free one",
     [Seat(A), Seat(B), Seat(C, busy="rotation")], C, None, (B, "duty", False, C, (A, B, C), ())),
    ("RE22 the last in the schedule not eligible: the last eligible one",
     [Seat(A), Seat(B), Seat(C, eligible=False)], D, None, (B, "duty", False, D, (A, B, C), ())),
    ("RE15 a named consultant receives, not counted, order unchanged",
     [Seat(A), Seat(B), Seat(C)], None, B, (B, "designated", False, None, (A, B, C), ())),
    ("RE15 naming overrides a returning customer's owner",
     [Seat(A), Seat(B), Seat(C)], A, B, (B, "designated", False, None, (A, B, C), ())),
    ("RE27 the named consultant absent: a duty reception on their behalf",
     [Seat(A), Seat(B)], None, D, (B, "duty", False, D, (A, B), ())),
]


@pytest.mark.parametrize("rule,seats,owner,designated,expected", CASES, ids=[c[0][:40] for c in CASES])
def test_who_receives(rule, seats, owner, designated, expected):
    turn = decide_reception(seats, owner=owner, designated=designated)
    assert turn is not None, rule
    assert (turn.consultant, turn.kind, turn.counted, turn.on_behalf_of, turn.order, turn.lost) == expected, rule


def test_re26_re27_the_duty_consultant_can_still_take_the_next_customer():
    """RE26, RE27: a duty reception does not count: the one who gave it is still at their place, and
    when it is their turn and they are free they take the next new customer."""
    seats = [Seat(A), Seat(B)]
    duty = decide_reception(seats, owner=D)
    assert (duty.consultant, duty.counted, duty.order) == (B, False, (A, B))
    first = decide_reception([Seat(A), Seat(B, busy="duty")])
    assert (first.consultant, first.order) == (A, (B, A))
    second = decide_reception([Seat(B), Seat(A, busy="rotation")])
    assert (second.consultant, second.counted) == (B, True)


def test_re15_a_designation_that_made_them_miss_their_turn_gives_no_make_up_turn():
    """RE15: B, whose turn was next, was named by a customer; the next new customer goes to C and B
    goes to the end: B is not put back at the head afterwards."""
    order = [Seat(A), Seat(B), Seat(C)]
    first = decide_reception(order)
    assert first.order == (B, C, A)
    named = decide_reception([Seat(B), Seat(C), Seat(A)], designated=B)
    assert (named.consultant, named.counted, named.order) == (B, False, (B, C, A))
    passed = decide_reception([Seat(B, busy="designated"), Seat(C), Seat(A)])
    assert (passed.consultant, passed.order, passed.lost) == (C, (A, B, C), (B,))
    again = decide_reception([Seat(A), Seat(B), Seat(C)])
    assert again.consultant == A  # B's turn does not come back before A's


def test_re7_lost_turn_goes_to_the_end_and_priority_to_the_head():
    """RE7: unexcused absence at one's turn: to the end of the order; an approved extra task: to the head."""
    assert after_lost_turn((A, B, C), A) == (B, C, A)
    assert after_priority((A, B, C), C) == (C, A, B)


def test_re6_a_swap_exchanges_two_places():
    assert after_swap((A, B, C), A, C) == (C, B, A)
    assert after_swap((A, B, C), B, B) == (A, B, C)


def test_nobody_can_receive():
    assert decide_reception([Seat(A, busy="rotation"), Seat(B, eligible=False)]) is None
    assert decide_reception([Seat(A, busy="rotation")], owner=B) is None
    assert decide_reception([]) is None


# --- through the API ---------------------------------------------------------------------------------

ERR = "errors { field code message }"
QUEUE = ("queue { office day turn lastInSchedule members { consultantId position eligible eligibilityReason "
         "salesControlAcknowledged lostTurns priorityTurns countedReceptions busyWith } waiting { id customerId } "
         "active { id consultantId } }")
RECEPTION = ("reception { id consultantId customerId kind counted rule onBehalfOf fromReceptionId status "
             "visitEntryId arrivalId }")
SIGN_IN = "mutation($o: String!) { realEstateReceptionSignIn(office: $o) { %s %s } }" % (QUEUE, ERR)
ACK = "mutation($o: String!) { realEstateSalesControlAcknowledge(office: $o) { %s %s } }" % (QUEUE, ERR)
ELIGIBILITY = ("mutation($o: String!, $u: ID!, $e: Boolean!, $r: String) { realEstateReceptionEligibility(office: $o, "
               "consultantId: $u, eligible: $e, reason: $r) { %s %s } }" % (QUEUE, ERR))
SWAP = ("mutation($o: String!, $u: ID!, $v: ID!) { realEstateReceptionSwap(office: $o, consultantId: $u, "
        "otherConsultantId: $v) { %s %s } }" % (QUEUE, ERR))
SKIP = ("mutation($o: String!, $u: ID!) { realEstateReceptionSkip(office: $o, consultantId: $u) { %s %s } }"
        % (QUEUE, ERR))
PRIORITY = ("mutation($o: String!, $u: ID!) { realEstateReceptionPriority(office: $o, consultantId: $u, "
            "reason: \"项目经理核准：临时外派\") { %s %s } }" % (QUEUE, ERR))
ARRIVE = ("mutation($o: String!, $c: ID, $f: Boolean!) { realEstateReceptionArrive(office: $o, customerId: $c, "
          "firstVisit: $f) { arrival { id customerId status } %s } }" % ERR)
NEXT = "mutation($o: String!) { realEstateReceptionNext(office: $o) { %s %s } }" % (RECEPTION, ERR)
DESIGNATE = ("mutation($a: ID!, $u: ID!) { realEstateReceptionDesignate(arrivalId: $a, consultantId: $u) { %s %s } }"
             % (RECEPTION, ERR))
END = "mutation($r: ID!, $c: ID) { realEstateReceptionEnd(receptionId: $r, customerId: $c) { %s %s } }" % (RECEPTION, ERR)
REASSIGN = ("mutation($r: ID!, $why: String!, $u: ID, $i: Boolean) { realEstateReceptionReassign(receptionId: $r, "
            "reason: $why, consultantId: $u, instigated: $i) { %s %s } }" % (RECEPTION, ERR))
CONFIRM = ("mutation($o: String!, $d: String!) { realEstateRegisterConfirm(office: $o, day: $d) { confirmed %s } }"
           % ERR)
QUEUE_Q = "query($o: String!) { realEstateQueue(office: $o) { %s } }" % QUEUE.removeprefix("queue { ").removesuffix(" }")
RECEPTIONS = ("query($o: String, $first: Int, $after: String) { realEstateReceptions(office: $o, first: $first, "
              "after: $after) { nodes { id consultantId kind counted } pageInfo { hasNextPage endCursor } } }")
PASSWORD = "another-strong-phrase-77"
CONSULTANT = ["real_estate.reception.sign_in"]


@pytest.fixture
def kehu_vertical():
    return ("real_estate", real_estate)


@pytest.fixture
def kehu_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 100000})


@pytest.fixture
def clock(monkeypatch):
    at = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
    monkeypatch.setattr(service, "now", lambda: at)
    return at


async def ok(client: Any, doc: str, **variables: Any) -> dict:
    body = await client.execute(doc, **variables)
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    if isinstance(payload, dict) and "errors" in payload:
        assert payload["errors"] == [], payload
    return payload


async def refused(client: Any, doc: str, **variables: Any) -> dict:
    body = await client.execute(doc, **variables)
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert len(payload["errors"]) == 1, payload
    return payload["errors"][0]


class User:
    def __init__(self, client: Any, user_id: str) -> None:
        self.client, self.id = client, user_id

    async def execute(self, doc: str, **variables: Any) -> dict:
        return await self.client.execute(doc, **variables)


async def user(admin: Any, tenant: Any, permissions: list[str], scope: str = "TENANT") -> User:
    """A user of the tenant holding ``permissions`` (with ``scope``), signed in."""
    from core.plugins.testing import GraphQLClient

    name = f"u{uuid4().hex[:8]}"
    role = await ok(admin, "mutation($n: String!, $p: [GrantInput!]) { roleCreate(input: {name: $n, permissions: $p}) "
                    "{ role { id } errors { code } } }", n=name, p=[{"permission": p, "scope": scope} for p in permissions])
    made = await ok(admin, "mutation($u: String!, $p: String!, $r: [ID!]!) { userCreate(input: {username: $u, "
                    "displayName: $u, password: $p, roleIds: $r}) { user { id } errors { code } } }",
                    u=name, p=PASSWORD, r=[role["role"]["id"]])
    login = await admin.http.post("/graphql", json={
        "query": "mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
                 "{ accessToken errors { code } } }", "variables": {"t": tenant.slug, "u": name, "p": PASSWORD}})
    token = login.json()["data"]["login"]["accessToken"]
    assert token, login.text
    return User(GraphQLClient(admin.http, token), made["user"]["id"])


async def consultants(admin: Any, tenant: Any, office: str, n: int, *, acknowledge: bool = True) -> list[User]:
    """``n`` consultants signed in at ``office`` in this order (and acknowledged the sales control)."""
    made = []
    for _ in range(n):
        c = await user(admin, tenant, CONSULTANT, "OWN")
        await ok(c, SIGN_IN, o=office)
        if acknowledge:
            await ok(c, ACK, o=office)
        made.append(c)
    return made


async def customer(admin: Any) -> str:
    made = await ok(admin, 'mutation($n: String!) { customerCreate(input: {kind: "person", surname: "王", '
                    'givenName: $n}) { customer { id } errors { code } } }', n=f"客{uuid4().hex[:4]}")
    return made["customer"]["id"]


async def order(client: Any, office: str) -> list[str]:
    found = (await client.execute(QUEUE_Q, o=office))["data"]["realEstateQueue"]
    return [m["consultantId"] for m in found["members"]]


async def arrive_and_next(client: Any, office: str, customer_id: str | None = None, first_visit: bool = True) -> dict:
    await ok(client, ARRIVE, o=office, c=customer_id, f=first_visit)
    return (await ok(client, NEXT, o=office))["reception"]


async def ledger(client: Any, tenant: Any, customer_id: str) -> list[Any]:
    """The customer's attribution ledger, read on the app's event loop (its database pool's)."""
    from core.context import Context
    from core.plugins import ledger_entries, unit_of_work

    async def read() -> list[Any]:
        async with unit_of_work(Context.system("test", tenant.id), write=False) as uow:
            return await ledger_entries(uow, "real_estate")

    entries = await asyncio.to_thread(client.http.blocking_portal.call, read)
    return [e for e in entries if str(e.customer) == customer_id]


async def audit(client: Any, target_type: str) -> list[dict]:
    body = await client.execute('query($t: String!) { auditEntries(filter: {targetType: $t}) '
                                '{ nodes { action actor targetId diff } } }', t=target_type)
    return body["data"]["auditEntries"]["nodes"]


async def test_re5_new_customers_are_received_in_sign_in_order_and_counted(kehu_client, kehu_tenant, clock):
    """RE5: in the day's sign-in order, each counted reception moves the receiver to the end; the
    new customer is registered to the receiver (REGISTRATION + VISIT rotation in the ledger)."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "南区售楼处", 3)
    assert await order(kehu_client, "南区售楼处") == [a.id, b.id, c.id]
    first = await customer(kehu_client)
    received = await arrive_and_next(kehu_client, "南区售楼处", first)
    assert (received["consultantId"], received["kind"], received["counted"], received["rule"]) == (a.id, "rotation", True, "RE5")
    assert await order(kehu_client, "南区售楼处") == [b.id, c.id, a.id]
    second = await arrive_and_next(a, "南区售楼处")  # a walk-in not identified yet
    assert second["consultantId"] == b.id and second["visitEntryId"] is None
    entries = await ledger(kehu_client, kehu_tenant, first)
    assert [(e.kind, str(e.consultant)) for e in entries] == [("registration", a.id), ("visit", a.id)]
    assert entries[1].data["reception"] == "rotation" and received["visitEntryId"] == str(entries[1].id)
    # identified at the end of the reception: its entries are written then
    walk_in = await customer(kehu_client)
    ended = await ok(b, END, r=second["id"], c=walk_in)
    assert ended["reception"]["status"] == "ended" and ended["reception"]["visitEntryId"]
    assert [e.kind for e in await ledger(kehu_client, kehu_tenant, walk_in)] == ["registration", "visit"]
    queue = (await kehu_client.execute(QUEUE_Q, o="南区售楼处"))["data"]["realEstateQueue"]
    assert {m["consultantId"]: m["countedReceptions"] for m in queue["members"]} == {a.id: 1, b.id: 1, c.id: 0}
    assert queue["turn"] == c.id


async def test_re10_one_active_reception_per_consultant(kehu_client, kehu_tenant, clock):
    """RE10: a consultant receiving a customer is not given another; ending frees them."""
    a, b = await consultants(kehu_client, kehu_tenant, "O1", 2)
    first = await arrive_and_next(kehu_client, "O1")
    second = await arrive_and_next(kehu_client, "O1")
    assert (first["consultantId"], second["consultantId"]) == (a.id, b.id)
    await ok(kehu_client, ARRIVE, o="O1", c=None, f=True)
    assert (await refused(kehu_client, NEXT, o="O1"))["code"] == "REAL_ESTATE_NO_CONSULTANT_AVAILABLE"
    other = await refused(b, END, r=first["id"], c=None)  # only the receiving consultant (or the manager)
    assert other["code"] == "PERMISSION_DENIED"
    await ok(a, END, r=first["id"], c=None)
    assert (await ok(kehu_client, NEXT, o="O1"))["reception"]["consultantId"] == a.id


async def test_re3_sales_control_must_be_acknowledged_before_receiving(kehu_client, kehu_tenant, clock):
    """RE3: signed in without acknowledging today's sales control: the turn passes over them (lost);
    a tenant that sets require_sales_control_ack false receives without it."""
    a, b = await consultants(kehu_client, kehu_tenant, "O3", 2, acknowledge=False)
    await ok(b, ACK, o="O3")
    queue = (await kehu_client.execute(QUEUE_Q, o="O3"))["data"]["realEstateQueue"]
    assert [m["salesControlAcknowledged"] for m in queue["members"]] == [False, True] and queue["turn"] == b.id
    assert (await arrive_and_next(kehu_client, "O3"))["consultantId"] == b.id
    await ok(kehu_client, 'mutation { verticalParametersUpdate(verticalId: "real_estate", parameters: '
             '[{key: "require_sales_control_ack", value: false}]) { errors { field code } } }')
    assert (await kehu_client.execute(QUEUE_Q, o="O3"))["data"]["realEstateQueue"]["turn"] == a.id


async def test_re1_re4_manager_removes_and_restores_eligibility_for_the_round(kehu_client, kehu_tenant, clock):
    """RE1, RE4: eligibility removed (with a reason) by the manager: the turn passes and is lost;
    restored: the consultant's turn comes in the next round. A consultant may not do it."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "O4", 3)
    denied = await refused(b, ELIGIBILITY, o="O4", u=a.id, e=False, r="着装不规范")
    assert denied["code"] == "PERMISSION_DENIED"
    assert (await refused(kehu_client, ELIGIBILITY, o="O4", u=a.id, e=False, r=None))["field"] == "reason"
    removed = await ok(kehu_client, ELIGIBILITY, o="O4", u=a.id, e=False, r="着装不规范")
    assert removed["queue"]["members"][0]["eligibilityReason"] == "着装不规范"
    assert (await arrive_and_next(kehu_client, "O4"))["consultantId"] == b.id
    assert await order(kehu_client, "O4") == [c.id, a.id, b.id]
    await ok(kehu_client, ELIGIBILITY, o="O4", u=a.id, e=True, r=None)
    assert (await arrive_and_next(kehu_client, "O4"))["consultantId"] == c.id
    assert (await arrive_and_next(kehu_client, "O4"))["consultantId"] == a.id
    actions = [e["action"] for e in await audit(kehu_client, "real_estate_queue_day")]
    assert "real_estate.eligibility_removed" in actions and "real_estate.eligibility_restored" in actions


async def test_re6_only_the_site_supervisor_swaps(kehu_client, kehu_tenant, clock):
    """RE6: the order changes only with the site supervisor's approval (the swap permission)."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "O6", 3)
    manager = await user(kehu_client, kehu_tenant, ["real_estate.reception.manage"])
    assert (await refused(manager, SWAP, o="O6", u=a.id, v=c.id))["code"] == "PERMISSION_DENIED"
    supervisor = await user(kehu_client, kehu_tenant, ["real_estate.reception.swap"])
    await ok(supervisor, SWAP, o="O6", u=a.id, v=c.id)
    assert await order(kehu_client, "O6") == [c.id, b.id, a.id]
    assert (await arrive_and_next(kehu_client, "O6"))["consultantId"] == c.id


async def test_re7_lost_turn_and_approved_priority(kehu_client, kehu_tenant, clock):
    """RE7: the consultant whose turn it is, absent without reason, loses it (to the end); only the
    current turn can be marked. A priority turn approved by the project manager puts them first."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "O7", 3)
    assert (await refused(kehu_client, SKIP, o="O7", u=b.id))["code"] == "REAL_ESTATE_NOT_THEIR_TURN"
    skipped = await ok(kehu_client, SKIP, o="O7", u=a.id)
    assert [m["consultantId"] for m in skipped["queue"]["members"]] == [b.id, c.id, a.id]
    assert skipped["queue"]["members"][2]["lostTurns"] == 1
    assert (await arrive_and_next(kehu_client, "O7"))["consultantId"] == b.id
    manager = await user(kehu_client, kehu_tenant, ["real_estate.reception.manage"])
    assert (await refused(manager, PRIORITY, o="O7", u=a.id))["code"] == "PERMISSION_DENIED"
    project_manager = await user(kehu_client, kehu_tenant, ["real_estate.reception.priority"])
    await ok(project_manager, PRIORITY, o="O7", u=a.id)
    assert (await arrive_and_next(kehu_client, "O7"))["consultantId"] == a.id


async def test_re8_re13_re14_returning_customer_owner_or_duty_reception(kehu_client, kehu_tenant, clock):
    """RE8, RE13: a returning customer goes to the consultant who registered them, not counted;
    RE14, RE22: with that consultant absent, the last in the schedule gives a duty reception on
    their behalf, not counted, and the customer stays theirs."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "北区", 3)
    returning = await customer(kehu_client)
    first = await arrive_and_next(kehu_client, "北区", returning)
    assert first["consultantId"] == a.id
    await ok(a, END, r=first["id"], c=None)
    # RE21: until the sales clerk confirms the day's register it is no basis for attribution
    clerk = await user(kehu_client, kehu_tenant, ["real_estate.register.confirm"])
    assert (await refused(a, CONFIRM, o="北区", d="2026-03-02"))["code"] == "PERMISSION_DENIED"
    assert (await ok(clerk, CONFIRM, o="北区", d="2026-03-02"))["confirmed"] == 2
    assert (await ok(clerk, CONFIRM, o="北区", d="2026-03-02"))["confirmed"] == 0
    assert [e.confirmed for e in await ledger(kehu_client, kehu_tenant, returning)][:2] == [True, True]
    again = await arrive_and_next(kehu_client, "北区", returning, first_visit=False)
    assert (again["consultantId"], again["kind"], again["counted"], again["rule"]) == (a.id, "owner", False, "RE13")
    await ok(a, END, r=again["id"], c=None)
    assert await order(kehu_client, "北区") == [b.id, c.id, a.id]  # nobody moved
    # at another office A has not signed in: a duty reception by the last in the schedule there
    d, e = await consultants(kehu_client, kehu_tenant, "东区", 2)
    duty = await arrive_and_next(kehu_client, "东区", returning, first_visit=False)
    assert (duty["consultantId"], duty["kind"], duty["counted"], duty["onBehalfOf"], duty["rule"]) == (
        e.id, "duty", False, a.id, "RE14")
    entry = (await ledger(kehu_client, kehu_tenant, returning))[-1]
    assert (entry.kind, str(entry.consultant), entry.data["reception"], entry.data["on_behalf_of"]) == (
        "visit", e.id, "duty", a.id)
    # RE26/RE27: the duty reception did not count: E still takes the next new customer after D
    assert (await arrive_and_next(kehu_client, "东区"))["consultantId"] == d.id


async def test_re15_designation_before_reception_not_counted_no_make_up(kehu_client, kehu_tenant, clock):
    """RE15: a new customer names B before the reception: B receives, not counted; B's turn came
    while B was busy with it: lost, no make-up turn. RE27: a named consultant not here gives way to a
    duty reception on their behalf."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "O15", 3)
    await arrive_and_next(kehu_client, "O15")  # A, who goes to the end: B's turn is next
    named = await customer(kehu_client)
    arrival = await ok(kehu_client, ARRIVE, o="O15", c=named, f=True)
    designated = (await ok(kehu_client, DESIGNATE, a=arrival["arrival"]["id"], u=b.id))["reception"]
    assert (designated["consultantId"], designated["kind"], designated["counted"], designated["rule"]) == (
        b.id, "designated", False, "RE15")
    entries = await ledger(kehu_client, kehu_tenant, named)
    assert [(e.kind, str(e.consultant)) for e in entries] == [("registration", b.id), ("visit", b.id)]
    assert entries[1].data["designated"] is True and entries[1].data["reception"] == "designated"
    # naming again the consultant receiving changes nothing; naming someone else now needs the manager
    again = await ok(kehu_client, DESIGNATE, a=arrival["arrival"]["id"], u=b.id)
    assert again["reception"]["id"] == designated["id"]
    assert (await refused(kehu_client, DESIGNATE, a=arrival["arrival"]["id"], u=c.id))["code"] == \
        "REAL_ESTATE_ARRIVAL_ALREADY_RECEIVED"
    nxt = await arrive_and_next(kehu_client, "O15")
    assert nxt["consultantId"] == c.id
    await ok(b, END, r=designated["id"], c=None)
    assert await order(kehu_client, "O15") == [a.id, b.id, c.id]  # B passed over: no make-up before A
    absent = await user(kehu_client, kehu_tenant, CONSULTANT)
    waiting = await ok(kehu_client, ARRIVE, o="O15", c=None, f=True)
    duty = (await ok(kehu_client, DESIGNATE, a=waiting["arrival"]["id"], u=absent.id))["reception"]
    assert (duty["kind"], duty["onBehalfOf"], duty["counted"], duty["rule"]) == ("duty", absent.id, False, "RE27")
    foreign = await ok(kehu_client, ARRIVE, o="O15", c=None, f=True)
    unknown = await refused(kehu_client, DESIGNATE, a=foreign["arrival"]["id"], u=str(uuid4()))
    assert unknown["code"] == "REAL_ESTATE_CONSULTANT_UNKNOWN"


async def test_re11c_re16_re17_manager_reassigns_mid_reception(kehu_client, kehu_tenant, clock):
    """RE11 C: serious fault or the customer refuses: the manager gives the customer to the next
    consultant of the rotation, as a new customer (counted), and a TRANSFER entry takes every right
    from the first. RE16: the customer insists on a named consultant mid-reception: a designated VISIT
    naming the first consultant (and whether the named one instigated it). RE17: a returning
    customer insists on another consultant: a duty reception on behalf of the first."""
    a, b, c = await consultants(kehu_client, kehu_tenant, "O11", 3)
    first_customer = await customer(kehu_client)
    first = await arrive_and_next(kehu_client, "O11", first_customer)
    assert (await refused(a, REASSIGN, r=first["id"], why="customer_refused", u=None, i=False))["code"] == \
        "PERMISSION_DENIED"
    moved = (await ok(kehu_client, REASSIGN, r=first["id"], why="customer_refused", u=None, i=False))["reception"]
    assert (moved["consultantId"], moved["kind"], moved["counted"], moved["rule"], moved["fromReceptionId"]) == (
        b.id, "transfer", True, "RE11", first["id"])
    transfer = (await ledger(kehu_client, kehu_tenant, first_customer))[-1]
    assert (transfer.kind, str(transfer.consultant), transfer.data) == (
        "transfer", b.id, {"reason": "customer_refused", "from": a.id})
    assert (await refused(kehu_client, REASSIGN, r=first["id"], why="customer_refused", u=None, i=False))["code"] == \
        "REAL_ESTATE_RECEPTION_NOT_ACTIVE"
    assert (await refused(kehu_client, REASSIGN, r=moved["id"], why="rudeness", u=None, i=False))["field"] == "reason"
    second_customer = await customer(kehu_client)
    second = await arrive_and_next(kehu_client, "O11", second_customer)
    assert second["consultantId"] == c.id
    await ok(kehu_client, END, r=moved["id"], c=None)
    named = (await ok(kehu_client, REASSIGN, r=second["id"], why="mid_reception_designation", u=b.id,
                      i=True))["reception"]
    assert (named["consultantId"], named["kind"], named["counted"], named["rule"]) == (b.id, "designated", False, "RE16")
    visit = (await ledger(kehu_client, kehu_tenant, second_customer))[-1]
    assert visit.data["mid_reception_from"] == c.id and visit.data["instigated"] is True
    await ok(kehu_client, END, r=named["id"], c=None)
    back = await arrive_and_next(kehu_client, "O11", first_customer, first_visit=False)
    assert (back["consultantId"], back["kind"]) == (b.id, "owner")  # the transfer made B the owner
    duty = (await ok(kehu_client, REASSIGN, r=back["id"], why="returning_designation", u=a.id, i=False))["reception"]
    assert (duty["consultantId"], duty["kind"], duty["onBehalfOf"], duty["rule"]) == (a.id, "duty", b.id, "RE17")
    last = (await ledger(kehu_client, kehu_tenant, first_customer))[-1]
    assert last.data["returning_designation"] is True and last.data["on_behalf_of"] == b.id


async def test_failed_operations_write_nothing(kehu_client, kehu_tenant, clock):
    """A refused call writes no row, no audit entry, no ledger entry."""
    (a,) = await consultants(kehu_client, kehu_tenant, "O0", 1)
    before = len(await audit(kehu_client, "real_estate_queue_day"))
    assert (await refused(a, SIGN_IN, o="O0"))["code"] == "REAL_ESTATE_ALREADY_SIGNED_IN"
    assert (await refused(a, SIGN_IN, o=" "))["code"] == "REAL_ESTATE_QUEUE_INPUT_INVALID"
    assert (await refused(a, NEXT, o="O0"))["code"] == "REAL_ESTATE_NO_CUSTOMER_WAITING"
    assert (await refused(a, ARRIVE, o="nowhere", c=None, f=True))["code"] == "REAL_ESTATE_QUEUE_NOT_FOUND"
    assert (await refused(a, ARRIVE, o="O0", c=str(uuid4()), f=True))["code"] == "CUSTOMER_NOT_FOUND"
    assert len(await audit(kehu_client, "real_estate_queue_day")) == before
    assert (await kehu_client.execute(QUEUE_Q, o="O0"))["data"]["realEstateQueue"]["waiting"] == []


CANCEL = ("mutation($a: ID!, $why: String) { realEstateReceptionCancel(arrivalId: $a, reason: $why) "
          "{ arrival { id status } %s } }" % ERR)


async def test_a_customer_gone_since_arriving_does_not_stop_the_queue(kehu_client, kehu_tenant, clock, monkeypatch):
    """A waiting customer deleted or frozen (PIPL art. 47) after arriving can get no ledger entry:
    the next call passes over them to the next customer, and they leave the queue with it (audited);
    when only they wait, nothing is received and nothing written."""
    (a, b) = await consultants(kehu_client, kehu_tenant, "O9", 2)
    deleted, frozen, present = [await customer(kehu_client) for _ in range(3)]
    for minutes, c in enumerate((deleted, frozen, present)):  # they arrive in this order
        monkeypatch.setattr(service, "now", lambda at=clock + timedelta(minutes=minutes): at)
        await ok(kehu_client, ARRIVE, o="O9", c=c, f=True)
    await ok(kehu_client, 'mutation($id: ID!) { customerDelete(id: $id, reason: "重复建档") { errors { code } } }',
             id=deleted)
    await ok(kehu_client, 'mutation($id: ID!) { customerFreeze(id: $id, reason: "诉讼保全", basis: "PIPL 47") '
             '{ errors { code } } }', id=frozen)
    received = (await ok(a, NEXT, o="O9"))["reception"]
    assert (received["customerId"], received["consultantId"]) == (present, a.id)
    queue = (await kehu_client.execute(QUEUE_Q, o="O9"))["data"]["realEstateQueue"]
    assert queue["waiting"] == []
    left = [e for e in await audit(kehu_client, "real_estate_arrival") if e["action"] == "real_estate.arrival_left"]
    assert [json.loads(e["diff"])["reason"]["to"] for e in left] == ["customer_not_processable"] * 2
    assert [e.kind for e in await ledger(kehu_client, kehu_tenant, present)] == ["registration", "visit"]

    # only a gone customer waits: refused, and it stays until the clerk takes it off
    gone = await customer(kehu_client)
    waiting = (await ok(kehu_client, ARRIVE, o="O9", c=gone, f=True))["arrival"]
    await ok(kehu_client, 'mutation($id: ID!) { customerDelete(id: $id, reason: "重复建档") { errors { code } } }', id=gone)
    assert (await refused(b, NEXT, o="O9"))["code"] == "REAL_ESTATE_NO_CUSTOMER_WAITING"
    queue = (await kehu_client.execute(QUEUE_Q, o="O9"))["data"]["realEstateQueue"]
    assert [w["id"] for w in queue["waiting"]] == [waiting["id"]]
    cancelled = await ok(b, CANCEL, a=waiting["id"], why="客户已离开")
    assert cancelled["arrival"]["status"] == "left"
    assert (await kehu_client.execute(QUEUE_Q, o="O9"))["data"]["realEstateQueue"]["waiting"] == []


async def test_a_waiting_customer_who_walks_out_is_cancelled_and_nobody_s_turn_moves(kehu_client, kehu_tenant, clock):
    """The clerk takes a walk-in who left off the queue: the rotation is as it was, cancelling again
    changes nothing, a received arrival cannot be cancelled, an unknown one is not found."""
    a, b = await consultants(kehu_client, kehu_tenant, "O8", 2)
    waiting = (await ok(kehu_client, ARRIVE, o="O8", c=None, f=True))["arrival"]
    assert (await ok(kehu_client, CANCEL, a=waiting["id"], why=None))["arrival"]["status"] == "left"
    assert (await ok(kehu_client, CANCEL, a=waiting["id"], why=None))["arrival"]["status"] == "left"
    assert await order(kehu_client, "O8") == [a.id, b.id]
    assert (await refused(a, NEXT, o="O8"))["code"] == "REAL_ESTATE_NO_CUSTOMER_WAITING"
    received = await arrive_and_next(kehu_client, "O8")
    assert (await refused(kehu_client, CANCEL, a=received["arrivalId"], why=None))["code"] == \
        "REAL_ESTATE_ARRIVAL_ALREADY_RECEIVED"
    assert (await refused(kehu_client, CANCEL, a=str(uuid4()), why=None))["code"] == "REAL_ESTATE_ARRIVAL_NOT_FOUND"
    assert (await refused(kehu_client, CANCEL, a=received["arrivalId"], why="长" * 2001))["field"] == "reason"


async def test_receptions_list_pages_and_a_consultant_sees_their_own(kehu_client, kehu_tenant, clock):
    a, b = await consultants(kehu_client, kehu_tenant, "OL", 2)
    made = [await arrive_and_next(kehu_client, "OL"), await arrive_and_next(kehu_client, "OL")]
    page = (await kehu_client.execute(RECEPTIONS, o="OL", first=1, after=None))["data"]["realEstateReceptions"]
    assert page["pageInfo"]["hasNextPage"]
    rest = (await kehu_client.execute(RECEPTIONS, o="OL", first=5, after=page["pageInfo"]["endCursor"])
            )["data"]["realEstateReceptions"]
    assert {n["id"] for n in page["nodes"] + rest["nodes"]} == {r["id"] for r in made}
    own = (await a.execute(RECEPTIONS, o=None, first=10, after=None))["data"]["realEstateReceptions"]["nodes"]
    assert [n["consultantId"] for n in own] == [a.id]


async def test_the_queue_of_one_tenant_is_not_reachable_from_another(kehu_client, kehu_tenant, clock):
    """Isolation of the reassignment the suite cannot repeat: another tenant's reception id is
    refused as not found and nothing changes."""
    from core.context import Context
    from core.plugins.testing import GraphQLClient
    from core.tenancy import service as tenancy
    from core.verticals.service import enable_vertical

    (a,) = await consultants(kehu_client, kehu_tenant, "OI", 1)
    reception = await arrive_and_next(kehu_client, "OI", await customer(kehu_client))
    slug = f"t{uuid4().hex[:10]}"
    from core.plugins.manager import started_verticals

    async def other_tenant() -> None:  # on the app's event loop (its database pool's)
        other = await tenancy.create_tenant(Context.system(), slug=slug, name="other",
                                            admin=tenancy.TenantAdmin(username="admin", password=kehu_tenant.password))
        await enable_vertical(Context.system().for_tenant(other.id), started_verticals(), "real_estate")

    await asyncio.to_thread(kehu_client.http.blocking_portal.call, other_tenant)
    login = await kehu_client.http.post("/graphql", json={
        "query": "mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
                 "{ accessToken } }", "variables": {"t": slug, "u": "admin", "p": kehu_tenant.password}})
    intruder = GraphQLClient(kehu_client.http, login.json()["data"]["login"]["accessToken"])
    for doc, variables in ((REASSIGN, {"r": reception["id"], "why": "customer_refused", "u": None, "i": False}),
                           (END, {"r": reception["id"], "c": None})):
        assert (await refused(intruder, doc, **variables))["code"] == "REAL_ESTATE_RECEPTION_NOT_FOUND"
    assert (await intruder.execute(QUEUE_Q, o="OI"))["data"]["realEstateQueue"] is None
    active = (await kehu_client.execute(QUEUE_Q, o="OI"))["data"]["realEstateQueue"]["active"]
    assert [r["id"] for r in active] == [reception["id"]]


# --- acceptance 5: two consultants at the same moment ----------------------------------------------


@pytest.mark.parametrize("waiting", [1, 2])
async def test_two_calls_at_the_same_moment_never_get_the_same_customer(kehu_client, kehu_tenant, clock, waiting):
    """Issue 21 acceptance 5: two consultants call for the next customer at the same moment, again
    and again: a customer is never received twice, nor a consultant given two customers (RE10)."""
    a, b = await consultants(kehu_client, kehu_tenant, "并发", 2)
    for _ in range(6):
        for _ in range(waiting):
            await ok(kehu_client, ARRIVE, o="并发", c=None, f=True)
        bodies = await asyncio.gather(a.execute(NEXT, o="并发"), b.execute(NEXT, o="并发"))
        payloads = [body["data"]["realEstateReceptionNext"] for body in bodies]
        received = [p["reception"] for p in payloads if p["reception"]]
        assert len(received) == waiting, payloads
        assert len({r["arrivalId"] for r in received}) == len(received)
        assert len({r["consultantId"] for r in received}) == len(received)
        assert all(p["errors"][0]["code"] == "REAL_ESTATE_NO_CUSTOMER_WAITING" for p in payloads if not p["reception"])
        for r in received:
            await ok(kehu_client, END, r=r["id"], c=None)
    queue = (await kehu_client.execute(QUEUE_Q, o="并发"))["data"]["realEstateQueue"]
    assert queue["waiting"] == [] and queue["active"] == []
    assert sum(m["countedReceptions"] for m in queue["members"]) == 6 * waiting
