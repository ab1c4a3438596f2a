"""The penalty ledger (R6 fines as configurable amounts, never a pay deduction)."""

from __future__ import annotations

from tests.automotive.conftest import ERR
from tests.medical_devices.api import ok, refused

RECORD = ("mutation($u: ID!, $r: String!, $q: Int, $a: Int) { automotivePenaltyRecord(userId: $u, rule: $r, "
          "reason: \"与客户面前争吵\", quantity: $q, amountCny: $a) { penalty { id rule amountCny quantity } %s } }" % ERR)
LEDGER = "query($u: ID) { automotivePenalties(userId: $u, first: 50) { nodes { id rule amountCny cancelledAt } } }"
PARAMS = ('mutation($k: String!, $v: JSON) { verticalParametersUpdate(verticalId: "automotive", parameters: '
          '[{key: $k, value: $v}]) { errors { field code } } }')


async def test_r6_36_fine_at_the_tenants_amount_times_quantity_and_never_for_oneself(floor):
    manager, consultant = floor["manager"], floor["ids"]["consultant"]
    made = await ok(manager, RECORD, "automotivePenaltyRecord", u=consultant, r="R6-36", q=2)
    assert made["penalty"]["amountCny"] == 40 and made["penalty"]["quantity"] == 2
    await ok(floor["admin"], PARAMS, "verticalParametersUpdate", k="fine_r6_36_cny", v=30)
    again = await ok(manager, RECORD, "automotivePenaltyRecord", u=consultant, r="R6-36")
    assert again["penalty"]["amountCny"] == 30
    assert (await refused(manager, RECORD, "automotivePenaltyRecord", u=floor["ids"]["manager"], r="R6-36"))["code"] \
        == "AUTOMOTIVE_SELF_PENALTY"
    assert (await refused(manager, RECORD, "automotivePenaltyRecord", u=consultant, r="R6-99"))["code"] \
        == "AUTOMOTIVE_INPUT_INVALID"
    # R6-39: ten times the gift's value, stated by the manager
    gift = await ok(manager, RECORD, "automotivePenaltyRecord", u=consultant, r="R6-39", a=1500)
    assert gift["penalty"]["amountCny"] == 1500
    # the consultant sees only their own fines; the assistant sees everyone's
    own = (await ok(floor["consultant"], LEDGER, "automotivePenalties"))["nodes"]
    assert {n["id"] for n in own} == {made["penalty"]["id"], again["penalty"]["id"], gift["penalty"]["id"]}
    assert (await ok(floor["consultant2"], LEDGER, "automotivePenalties"))["nodes"] == []
    assert len((await ok(floor["assistant"], LEDGER, "automotivePenalties"))["nodes"]) == 3


async def test_a_cancelled_fine_stays_in_the_ledger_and_a_consultant_cannot_record_one(floor):
    manager, consultant = floor["manager"], floor["ids"]["consultant"]
    made = await ok(manager, RECORD, "automotivePenaltyRecord", u=consultant, r="R6-32")
    cancel = ("mutation($id: ID!) { automotivePenaltyCancel(id: $id, reason: \"日志核对无误\") "
              "{ penalty { id cancelledAt cancelReason } %s } }" % ERR)
    done = await ok(manager, cancel, "automotivePenaltyCancel", id=made["penalty"]["id"])
    assert done["penalty"]["cancelledAt"] and done["penalty"]["cancelReason"] == "日志核对无误"
    assert (await refused(manager, cancel, "automotivePenaltyCancel", id=made["penalty"]["id"]))["code"] \
        == "AUTOMOTIVE_PENALTY_CANCELLED"
    nodes = (await ok(manager, LEDGER, "automotivePenalties", u=consultant))["nodes"]
    assert [n["cancelledAt"] is not None for n in nodes] == [True]
    assert (await refused(floor["consultant"], RECORD, "automotivePenaltyRecord", u=floor["ids"]["consultant2"],
                          r="R6-36"))["code"] == "PERMISSION_DENIED"
