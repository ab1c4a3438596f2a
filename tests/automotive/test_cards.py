"""Lead cards and the visit register through the public API (seed-003 R6-1 to R6-14, seed-001 S17), on the
floor's pinned clock (Monday 2026-11-02 09:00 Shanghai) and the tenant's working-day calendar."""

from __future__ import annotations

from plugins.automotive import cards
from tests.automotive.conftest import ERR, customer, local, on_app
from tests.medical_devices.api import ok, refused

CARD = ("id consultantId state valid validUntil voidSince effectiveOn signedAt duplicateOf status revokeReason "
        "intention followUps { id day channel validitySignedAt }")
CREATE = ("mutation($c: ID!, $f: Date!, $s: String!, $i: String, $r: ID, $n: Date) { automotiveCardCreate(input: "
          "{customerId: $c, source: $s, firstContact: $f, intention: $i, referrerCustomerId: $r, nextCallbackOn: $n}) "
          "{ card { %s } %s } }" % (CARD, ERR))
SIGN = "mutation($id: ID!) { automotiveCardSign(id: $id) { card { %s } %s } }" % (CARD, ERR)
FOLLOW = ("mutation($id: ID!, $ch: String!) { automotiveCardFollowUp(id: $id, channel: $ch) { card { %s } %s } }"
          % (CARD, ERR))
SIGN_FOLLOW = "mutation($id: ID!) { automotiveFollowUpSign(id: $id) { card { %s } %s } }" % (CARD, ERR)
REASSIGN = ("mutation($id: ID!, $u: ID!) { automotiveCardReassign(id: $id, consultantId: $u) { card { %s } %s } }"
            % (CARD, ERR))
REVOKE = ("mutation($id: ID!, $r: String!) { automotiveCardRevoke(id: $id, reason: $r) { card { %s } %s } }"
          % (CARD, ERR))
GET = "query($id: ID!) { automotiveCard(id: $id) { %s } }" % CARD
DECISION = ('query($c: ID!) { attributionDecision(customerId: $c, vertical: "automotive") '
            '{ ownerId rule explanationEn } }')
PENALTIES = "query($u: ID) { automotivePenalties(userId: $u, first: 50) { nodes { rule amountCny reason } } }"


async def _card(floor, first_contact="2026-11-02", seat="consultant", customer_id=None, **extra):
    customer_id = customer_id or await customer(floor["admin"])
    made = await ok(floor[seat], CREATE, "automotiveCardCreate", c=customer_id, f=first_contact,
                    s=extra.pop("source", "walk_in"), **extra)
    return customer_id, made["card"]


async def _get(client, card_id):
    body = await client.execute(GET, id=card_id)
    assert "errors" not in body, body
    return body["data"]["automotiveCard"]


async def _owner(floor, customer_id):
    body = await floor["admin"].execute(DECISION, c=customer_id)
    assert "errors" not in body, body
    return body["data"]["attributionDecision"]


async def test_r6_1_a_card_is_created_the_day_of_the_first_contact_and_waits_for_a_signature(floor):
    customer_id = await customer(floor["admin"])
    late = await refused(floor["consultant"], CREATE, "automotiveCardCreate", c=customer_id, f="2026-11-01", s="walk_in")
    assert late["code"] == "AUTOMOTIVE_CARD_NOT_SAME_DAY" and late["field"] == "firstContact"
    _, card = await _card(floor, customer_id=customer_id)
    assert card["state"] == "unsigned" and not card["valid"] and card["effectiveOn"] is None
    # S17: an unsigned card is in the pending-signature list; nobody signs their own card
    pending = await ok(floor["leader"], "{ automotiveCards(pendingSignature: true, first: 20) { nodes { id } } }",
                       "automotiveCards")
    assert [n["id"] for n in pending["nodes"]] == [card["id"]]
    assert (await refused(floor["consultant"], SIGN, "automotiveCardSign", id=card["id"]))["code"] == "PERMISSION_DENIED"
    # a consultant sees only their own cards (R6-10: another's card shows nothing)
    assert (await floor["consultant2"].execute(GET, id=card["id"]))["errors"][0]["extensions"]["code"] \
        == "AUTOMOTIVE_CARD_NOT_FOUND"


async def test_acceptance_2_signed_two_days_late_effective_from_the_signature_void_after_3_days_then_reassigned(
        floor, clock):
    """R6-1, R6-2, R6-5: created Monday, signed Wednesday: effective Wednesday; no follow-up by Saturday, the card is
    void on Sunday; the team leader who signed it gives it to another consultant, and the clock starts again."""
    customer_id, card = await _card(floor)
    clock.set(local(2026, 11, 4, 16, 0))
    signed = (await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"]))["card"]
    assert signed["effectiveOn"] == "2026-11-04" and signed["valid"] and signed["validUntil"] == "2026-11-07"
    owner = await _owner(floor, customer_id)
    assert owner["ownerId"] == floor["ids"]["consultant"] and owner["rule"] == "R6-1"
    clock.set(local(2026, 11, 7, 20, 0))  # three days after the signature: still valid
    assert (await _get(floor["leader"], card["id"]))["valid"]
    assert (await refused(floor["leader"], REASSIGN, "automotiveCardReassign", id=card["id"],
                          u=floor["ids"]["consultant2"]))["code"] == "AUTOMOTIVE_CARD_NOT_VOID"
    clock.set(local(2026, 11, 8, 9, 0))
    void = await _get(floor["leader"], card["id"])
    assert not void["valid"] and void["voidSince"] == "2026-11-07"
    assert (await _owner(floor, customer_id))["ownerId"] is None  # nobody owns a customer whose card is void
    # a follow-up after the deadline does not revive it
    assert (await refused(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone"))["code"] \
        == "AUTOMOTIVE_CARD_VOID"
    assert await on_app(floor, cards.sweep_card_validity) == 1
    assert (await _get(floor["leader"], card["id"]))["state"] == "void"
    # only the signer reassigns (R6-5)
    assert (await refused(floor["leader2"], REASSIGN, "automotiveCardReassign", id=card["id"],
                          u=floor["ids"]["consultant2"]))["code"] == "AUTOMOTIVE_NOT_SIGNER"
    moved = (await ok(floor["leader"], REASSIGN, "automotiveCardReassign", id=card["id"],
                      u=floor["ids"]["consultant2"]))["card"]
    assert moved["consultantId"] == floor["ids"]["consultant2"] and moved["state"] == "active"
    assert moved["valid"] and moved["effectiveOn"] == "2026-11-08" and moved["validUntil"] == "2026-11-11"
    assert (await _owner(floor, customer_id))["ownerId"] == floor["ids"]["consultant2"]
    # the new holder follows it up; the old one no longer can
    assert (await refused(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone"))["code"] \
        in ("PERMISSION_DENIED", "AUTOMOTIVE_CARD_NOT_FOUND")
    followed = (await ok(floor["consultant2"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="visit"))["card"]
    assert followed["validUntil"] == "2026-11-15"


async def test_r6_2_r6_4_first_follow_up_within_3_days_then_each_within_a_week(floor, clock):
    _, card = await _card(floor)
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    clock.set(local(2026, 11, 5, 10, 0))  # the third day
    first = (await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone"))["card"]
    assert first["valid"] and first["validUntil"] == "2026-11-12"
    clock.set(local(2026, 11, 12, 18, 0))
    assert (await _get(floor["consultant"], card["id"]))["valid"]
    clock.set(local(2026, 11, 13, 8, 0))  # a week passed without a follow-up
    assert not (await _get(floor["consultant"], card["id"]))["valid"]


async def test_r6_3_the_second_follow_up_signed_after_24_hours_counts_from_the_signature(floor, clock):
    _, card = await _card(floor)
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    clock.set(local(2026, 11, 3, 10, 0))
    await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone")
    clock.set(local(2026, 11, 9, 10, 0))
    second = (await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="visit"))["card"]
    assert second["validUntil"] == "2026-11-16"
    follow_up_id = second["followUps"][1]["id"]
    assert (await refused(floor["consultant"], SIGN_FOLLOW, "automotiveFollowUpSign", id=follow_up_id))["code"] \
        == "PERMISSION_DENIED"
    clock.set(local(2026, 11, 11, 12, 0))  # 50 hours after the follow-up
    signed = (await ok(floor["leader"], SIGN_FOLLOW, "automotiveFollowUpSign", id=follow_up_id))["card"]
    assert signed["followUps"][1]["validitySignedAt"] and signed["validUntil"] == "2026-11-18"


async def test_r6_3_signed_within_24_hours_the_second_follow_up_counts_from_its_own_day(floor, clock):
    _, card = await _card(floor)
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    clock.set(local(2026, 11, 3, 10, 0))
    await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone")
    clock.set(local(2026, 11, 9, 10, 0))
    second = (await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="visit"))["card"]
    clock.set(local(2026, 11, 10, 9, 0))  # 23 hours later
    signed = (await ok(floor["leader"], SIGN_FOLLOW, "automotiveFollowUpSign", id=second["followUps"][1]["id"]))["card"]
    assert signed["validUntil"] == "2026-11-16"


async def test_r6_6_three_sms_only_follow_ups_in_a_row_void_the_card_at_once(floor, clock):
    customer_id, card = await _card(floor)
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    for day in (3, 5):
        clock.set(local(2026, 11, day, 10, 0))
        assert (await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="sms"))["card"]["valid"]
    clock.set(local(2026, 11, 7, 10, 0))
    third = (await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="sms"))["card"]
    assert not third["valid"] and third["state"] == "void" and "SMS" in third["status"]
    assert (await _owner(floor, customer_id))["ownerId"] is None


async def test_r6_7_duplicates_go_to_the_earliest_signature_whoever_created_first(floor, clock):
    customer_id, first = await _card(floor)
    _, second = await _card(floor, seat="consultant2", customer_id=customer_id)
    assert second["duplicateOf"] == first["id"]
    # the later card is signed first: it owns the customer
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=second["id"])
    clock.set(local(2026, 11, 2, 11, 0))
    await ok(floor["leader2"], SIGN, "automotiveCardSign", id=first["id"])
    owner = await _owner(floor, customer_id)
    assert owner["ownerId"] == floor["ids"]["consultant2"] and owner["rule"] == "R6-7"
    # R6-12: revoking it (reason and the leader's signature) hands the customer to the other valid card
    revoked = (await ok(floor["leader"], REVOKE, "automotiveCardRevoke", id=second["id"],
                        r="客户确认由第一位顾问接待，重卡撤销"))["card"]
    assert revoked["state"] == "revoked" and revoked["revokeReason"]
    assert (await _owner(floor, customer_id))["ownerId"] == floor["ids"]["consultant"]
    # the revoked card is kept (soft delete): still readable, and no operation deletes a card
    assert (await _get(floor["leader"], second["id"]))["state"] == "revoked"
    short = await refused(floor["leader"], REVOKE, "automotiveCardRevoke", id=first["id"], r="不要")
    assert short["field"] == "reason"


async def test_r6_9_a_duplicate_born_of_a_missed_follow_up_fines_the_void_cards_holder(floor, clock):
    customer_id, card = await _card(floor)
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    clock.set(local(2026, 11, 9, 10, 0))
    assert await on_app(floor, cards.sweep_card_validity) == 1
    await _card(floor, first_contact="2026-11-09", seat="consultant2", customer_id=customer_id)
    fines = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant"]))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in fines] == [("R6-9", 20)]
    assert (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant2"]))["nodes"] == []


async def test_r6_11_a_referred_customer_is_settled_by_a_team_leader_and_the_sales_manager(floor):
    customer_id, card = await _card(floor, source="friend_referral")
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    propose = ("mutation($c: ID!, $u: ID!) { automotiveOwnershipPropose(customerId: $c, consultantId: $u, "
               "reason: \"客户确认与顾问二为直接朋友关系\") { settlement { id state } %s } }" % ERR)
    decide = ("mutation($id: ID!, $a: Boolean!) { automotiveOwnershipDecide(id: $id, approve: $a) "
              "{ settlement { id state } %s } }" % ERR)
    made = (await ok(floor["leader"], propose, "automotiveOwnershipPropose", c=customer_id,
                     u=floor["ids"]["consultant2"]))["settlement"]
    assert (await _owner(floor, customer_id))["ownerId"] == floor["ids"]["consultant"]  # a proposal changes nothing
    assert (await refused(floor["leader"], decide, "automotiveOwnershipDecide", id=made["id"], a=True))["code"] \
        == "PERMISSION_DENIED"
    done = (await ok(floor["manager"], decide, "automotiveOwnershipDecide", id=made["id"], a=True))["settlement"]
    assert done["state"] == "approved"
    owner = await _owner(floor, customer_id)
    assert owner["ownerId"] == floor["ids"]["consultant2"] and owner["rule"] == "R6-11"
    assert (await refused(floor["manager"], decide, "automotiveOwnershipDecide", id=made["id"], a=False))["code"] \
        == "AUTOMOTIVE_SETTLEMENT_DECIDED"


async def test_r6_13_active_cards_wait_for_the_rotation_signature(floor, clock):
    _, card = await _card(floor)
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    due = "{ automotiveCardsReviewDue(first: 20) { nodes { id } } }"
    clock.set(local(2026, 11, 4, 10, 0))
    await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone")
    assert (await ok(floor["leader"], due, "automotiveCardsReviewDue"))["nodes"] == []
    for day in (10, 16, 22, 28):  # kept valid by weekly follow-ups
        clock.set(local(2026, 11, day, 10, 0))
        await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="visit")
    clock.set(local(2026, 12, 3, 10, 0))  # 31 days after the signature
    assert [n["id"] for n in (await ok(floor["leader"], due, "automotiveCardsReviewDue"))["nodes"]] == [card["id"]]
    await ok(floor["leader"], "mutation($id: ID!) { automotiveCardReview(id: $id) { card { id } %s } }" % ERR,
             "automotiveCardReview", id=card["id"])
    assert (await ok(floor["leader"], due, "automotiveCardsReviewDue"))["nodes"] == []


async def test_s17_register_every_visitor_with_a_source_and_intention_levels_are_grades(floor, clock):
    register = ("mutation($in: AutomotiveVisitInput!) { automotiveVisitRegister(input: $in) "
                "{ visit { id day source phoneLeft } %s } }" % ERR)
    blank = await refused(floor["consultant"], register, "automotiveVisitRegister",
                          **{"in": {"kind": "visit", "source": " ", "arrivedAt": "2026-11-02T09:30:00+08:00"}})
    assert blank["field"] == "source"
    anonymous = await ok(floor["consultant"], register, "automotiveVisitRegister", **{"in": {
        "kind": "call", "source": "internet", "arrivedAt": "2026-11-02T09:30:00+08:00", "visitor": "来电未留姓名"}})
    assert anonymous["visit"]["day"] == "2026-11-02"
    customer_id, card = await _card(floor, i="H", n="2026-11-04")
    grade = await floor["admin"].execute('query($c: ID!) { customerGrades(customerId: $c, first: 10) { nodes { scheme grade } } }',
                                         c=customer_id)
    assert {"scheme": "intention", "grade": "H"} in grade["data"]["customerGrades"]["nodes"]
    await ok(floor["leader"], SIGN, "automotiveCardSign", id=card["id"])
    # S17: a card whose planned callback day passed without a follow-up is overdue
    overdue = "{ automotiveCardsOverdueCallback(first: 20) { nodes { id } } }"
    clock.set(local(2026, 11, 4, 10, 0))
    assert (await ok(floor["leader"], overdue, "automotiveCardsOverdueCallback"))["nodes"] == []
    clock.set(local(2026, 11, 5, 8, 0))
    assert [n["id"] for n in (await ok(floor["leader"], overdue, "automotiveCardsOverdueCallback"))["nodes"]] \
        == [card["id"]]
    await ok(floor["consultant"], FOLLOW, "automotiveCardFollowUp", id=card["id"], ch="phone")
    assert (await ok(floor["leader"], overdue, "automotiveCardsOverdueCallback"))["nodes"] == []


async def test_r6_14_a_lead_who_left_a_phone_gets_the_same_day_sms_or_the_consultant_is_fined(floor, clock):
    register = ("mutation($in: AutomotiveVisitInput!) { automotiveVisitRegister(input: $in) "
                "{ visit { id smsSentAt } %s } }" % ERR)
    send = "mutation($v: ID!) { automotiveLeadSmsSend(visitId: $v) { visit { id smsSentAt } %s } }" % ERR
    consented = await ok(floor["admin"], 'mutation { customerCreate(input: {kind: "person", surname: "李", '
                         'givenName: "娜", status: "potential", phones: ["13812345678"]}) { customer { id } } }',
                         "customerCreate")
    lead = consented["customer"]["id"]
    await ok(floor["admin"], 'mutation($id: ID!) { consentGrant(customerId: $id, purposes: ["marketing_sms"], '
             'noticeVersion: "v1", channel: "web", evidence: "到店登记") { entries { id } errors { code } } }',
             "consentGrant", id=lead)
    other = await customer(floor["admin"], "赵", "强")
    answered = await ok(floor["consultant"], register, "automotiveVisitRegister", **{"in": {
        "kind": "visit", "source": "walk_in", "arrivedAt": "2026-11-02T10:00:00+08:00", "customerId": lead,
        "phoneLeft": True}})
    missed = await ok(floor["consultant2"], register, "automotiveVisitRegister", **{"in": {
        "kind": "call", "source": "call_in", "arrivedAt": "2026-11-02T11:00:00+08:00", "customerId": other,
        "phoneLeft": True}})
    sent = await ok(floor["consultant"], send, "automotiveLeadSmsSend", v=answered["visit"]["id"])
    assert sent["visit"]["smsSentAt"]
    assert (await refused(floor["consultant"], send, "automotiveLeadSmsSend", v=answered["visit"]["id"]))["code"] \
        == "AUTOMOTIVE_SMS_ALREADY_SENT"
    # no consent: nothing is sent and nothing recorded
    assert (await refused(floor["consultant2"], send, "automotiveLeadSmsSend", v=missed["visit"]["id"]))["code"] \
        == "AUTOMOTIVE_SMS_NOT_SENT"
    assert await on_app(floor, cards.check_lead_sms) == 0  # the day is not over
    clock.set(local(2026, 11, 3, 0, 30))
    assert await on_app(floor, cards.check_lead_sms) == 1
    assert await on_app(floor, cards.check_lead_sms) == 0  # once
    fines = (await ok(floor["manager"], PENALTIES, "automotivePenalties"))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in fines] == [("R6-14", 20)]
    own = (await ok(floor["consultant2"], PENALTIES, "automotivePenalties"))["nodes"]
    assert len(own) == 1
