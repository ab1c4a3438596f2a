"""The real-estate attribution policy on its own (no database): one row per rule of seed-000 §2
(RE9–RE31), built from ledger entries as core hands them over, asserting the owner, the current
split, each deal's split and the rule the explanations name; then the issue's acceptance 2 and 3,
calendar-month edges and the tenant parameters. Consultants are A, B, C; the customer is BUYER."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.plugins import DIRECT_RELATIONS, AttributionDecision, AttributionFacts, LedgerEntry, RelatedLedger
from plugins.real_estate import attribution, rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUYER = "buyer"
OLD = "old-customer"  # the referrer of RE26-RE29


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Step:
    name: str
    kind: str
    at: datetime
    consultant: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    refers_to: str | None = None
    confirmed: bool = True
    customer: str = BUYER


def reg(name, when, who, *, customer=BUYER, confirmed=True):
    return Step(name, "registration", when, who, {"first_visit": True}, customer=customer, confirmed=confirmed)


def visit(name, when, who, *, customer=BUYER, confirmed=True, reception="rotation", **data):
    return Step(name, "visit", when, who, {"reception": reception, **data}, customer=customer, confirmed=confirmed)


def follow_up(name, when, who, *, customer=BUYER):
    return Step(name, "follow_up", when, who, {"note": "called"}, customer=customer)


def deal(name, when, who, **data):
    return Step(name, "deal", when, who, {"unit": "3-1201", "buyer_name": "Wang", **data})


def recognise(name, when, who, forgot_visit):
    return Step(name, "recognition", when, who, refers_to=forgot_visit)


def declare(name, when, who):
    return Step(name, "pre_declaration", when, who, {"referrer": OLD, "expected_at": when.isoformat()})


def phone(name, when, who):
    return Step(name, "phone_inquiry", when, who, {"note": "asked about prices"})


def change(name, when, the_deal, kind, **data):
    return Step(name, "deal_change", when, None, {"change": kind, **data}, refers_to=the_deal)


def transfer(name, when, new, old, reason):
    return Step(name, "transfer", when, new, {"reason": reason, "from": old})


def dispute(name, when, the_deal, shares, owner):
    return Step(name, "dispute_decision", when, None, {"shares": shares, "owner": owner, "dispute": "D-7"},
                refers_to=the_deal)


def confirm(name, when, entry):
    return Step(name, "confirmation", when, None, refers_to=entry)


def facts_of(steps, as_of, relatives: dict[str, str] | None = None) -> AttributionFacts:
    """The customer's and its relatives' entries, numbered in the order given (the tenant's seq)."""
    ledgers: dict[str, list[LedgerEntry]] = {}
    for seq, step in enumerate(steps, start=1):
        ledgers.setdefault(step.customer, []).append(LedgerEntry(
            id=step.name, seq=seq, customer=step.customer, kind=step.kind, at=step.at.astimezone(UTC),
            consultant=step.consultant, data=step.data, refers_to=step.refers_to, confirmed=step.confirmed))
    related = tuple(RelatedLedger(customer=other, relation=relation, direct=relation in DIRECT_RELATIONS,
                                  entries=tuple(ledgers.get(other, ())))
                    for other, relation in (relatives or {}).items())
    return AttributionFacts(customer=BUYER, entries=tuple(ledgers.get(BUYER, ())), relatives=related,
                            as_of=as_of.astimezone(UTC))


def decide(steps, as_of, relatives=None, zone="Asia/Shanghai", **parameters) -> AttributionDecision:
    facts = dataclasses.replace(facts_of(steps, as_of, relatives), zone=zone)
    return attribution.decide(facts, {**attribution.DEFAULTS, **parameters})


def names_rule(text_holder, rule: str) -> bool:
    return f"{rule})" in text_holder.explanation_en and f"{rule}）" in text_holder.explanation_zh


@dataclass(frozen=True)
class Case:
    id: str
    steps: tuple[Step, ...]
    as_of: datetime
    owner: str | None
    rule: str
    shares: dict[str, int]
    deals: tuple[tuple[dict[str, int], str], ...] = ()
    relatives: dict[str, str] = field(default_factory=dict)


FORGOT = visit("forgot", at(3, 20), "C", forgot_original=True)
MID_SWITCH = (visit("first", at(3, 2, 10), "A"),
              visit("switch", at(3, 2, 11), "B", reception="designated", mid_reception_from="A"),
              deal("d1", at(3, 2, 12), "B"))

CASES = [
    Case("RE20-a-registration-owns-the-customer", (reg("r", at(3, 2), "A"),), at(3, 20), "A", "RE20", {"A": 100}),
    Case("RE20-the-earliest-valid-registration-prevails",
         (reg("ra", at(3, 2), "A"), reg("rb", at(3, 5), "B")), at(3, 20), "A", "RE20", {"A": 100}),
    Case("RE20-more-than-a-month-without-follow-up-leaves-no-owner",
         (reg("r", at(3, 2), "A"),), at(4, 3), None, "RE20", {}),
    Case("RE20-the-last-follow-up-restarts-the-month",
         (reg("r", at(3, 2), "A"), follow_up("f", at(3, 25), "A")), at(4, 20), "A", "RE20", {"A": 100}),
    Case("RE20-a-later-registration-owns-once-the-earlier-lapsed",
         (reg("ra", at(3, 2), "A"), reg("rb", at(3, 20), "B"), follow_up("fb", at(4, 10), "B")),
         at(4, 15), "B", "RE20", {"B": 100}),
    Case("RE20-a-deal-after-the-lapse-belongs-to-the-receiving-colleague",
         (reg("r", at(3, 2), "A"), visit("v", at(4, 10), "C"), deal("d1", at(4, 10, 12), "C")),
         at(4, 11), "C", "RE20", {"C": 100}, deals=(({"C": 100}, "RE20"),)),
    Case("RE20-a-follow-up-after-the-lapse-revives-nothing",
         (reg("r", at(3, 2), "A"), follow_up("f", at(4, 10), "A"), visit("v", at(4, 12), "B")),
         at(4, 13), "B", "RE20", {"B": 100}),
    Case("RE12-a-phone-inquiry-is-no-basis", (phone("p", at(3, 2), "A"),), at(3, 3), None, "RE12", {}),
    Case("RE12-after-a-phone-inquiry-the-receiver-owns",
         (phone("p", at(3, 2), "A"), visit("v", at(3, 5), "C")), at(3, 6), "C", "RE20", {"C": 100}),
    Case("RE19-no-registration-no-owner", (), at(3, 3), None, "RE19", {}),
    Case("RE21-an-unconfirmed-registration-is-no-basis",
         (reg("r", at(3, 2), "A", confirmed=False),), at(3, 3), None, "RE21", {}),
    Case("RE21-a-confirmed-visit-beats-an-earlier-unconfirmed-registration",
         (reg("r", at(3, 2), "A", confirmed=False), visit("v", at(3, 5), "B")), at(3, 6), "B", "RE20", {"B": 100}),
    Case("RE13-the-registrant-receives-the-returning-customer",
         (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "A")), at(3, 21), "A", "RE13", {"A": 100}),
    Case("RE14-a-duty-reception-keeps-the-customer-with-the-absent-owner",
         (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "C", reception="duty", on_behalf_of="A"),
          deal("d1", at(3, 20, 12), "C")),
         at(3, 21), "A", "RE14", {"A": 100}, deals=(({"A": 100}, "RE14"),)),
    Case("RE22-a-colleagues-old-customer-stays-with-the-colleague",
         (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "C")), at(3, 21), "A", "RE22", {"A": 100}),
    Case("RE15-a-consultant-named-before-the-reception-owns",
         (visit("v", at(3, 2), "B", reception="designated", designated=True),), at(3, 3), "B", "RE15", {"B": 100}),
    Case("RE15-a-consultant-named-in-their-absence-owns-after-the-duty-reception",
         (visit("v", at(3, 2), "C", reception="duty", on_behalf_of="B", designated=True),), at(3, 3), "B", "RE15",
         {"B": 100}),
    Case("RE16-a-mid-reception-switch-splits-55-45", MID_SWITCH, at(3, 3), "A", "RE16", {"A": 55, "B": 45},
         deals=(({"A": 55, "B": 45}, "RE16"),)),
    Case("RE16-instigated-gives-100-to-the-first",
         (MID_SWITCH[0], visit("switch", at(3, 2, 11), "B", reception="designated", mid_reception_from="A",
                               instigated=True), MID_SWITCH[2]),
         at(3, 3), "A", "RE16-instigated", {"A": 100}, deals=(({"A": 100}, "RE16-instigated"),)),
    Case("RE17-a-returning-customer-naming-another-is-a-duty-reception",
         (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "B", reception="designated", returning_designation=True),
          deal("d1", at(3, 20, 12), "B")),
         at(3, 21), "A", "RE17", {"A": 100}, deals=(({"A": 100}, "RE17"),)),
    Case("RE9-A-recognised-the-same-day-the-original-receives",
         (reg("r", at(3, 2), "A"), FORGOT, recognise("k", at(3, 20, 11), "A", "forgot"),
          deal("d1", at(3, 20, 12), "C")),
         at(3, 21), "A", "RE9-A", {"A": 100}, deals=(({"A": 100}, "RE9-A"),)),
    Case("RE9-B-closed-on-the-spot-before-recognition-100-new",
         (reg("r", at(3, 2), "A"), FORGOT, deal("d1", at(3, 20, 12), "C", on_the_spot=True),
          recognise("k", at(3, 20, 14), "A", "forgot")),
         at(3, 21), "C", "RE9-B", {"C": 100}, deals=(({"C": 100}, "RE9-B"),)),
    Case("RE9-C-recognised-within-the-month-splits-50-50",
         (reg("r", at(3, 2), "A"), FORGOT, recognise("k", at(4, 10), "A", "forgot"), deal("d1", at(4, 15), "C")),
         at(4, 16), "C", "RE9-C", {"A": 50, "C": 50}, deals=(({"A": 50, "C": 50}, "RE9-C"),)),
    Case("RE9-D-not-recognised-within-the-month-100-new",
         (reg("r", at(3, 2), "A"), FORGOT, follow_up("fc", at(4, 10), "C"), deal("d1", at(4, 25), "C")),
         at(4, 26), "C", "RE9-D", {"C": 100}, deals=(({"C": 100}, "RE9-D"),)),
    Case("RE9-D-recognised-after-the-window-100-new",
         (reg("r", at(3, 2), "A"), FORGOT, recognise("k", at(4, 22), "A", "forgot"), follow_up("fc", at(4, 10), "C")),
         at(4, 26), "C", "RE9-D", {"C": 100}),
    Case("RE23-forgot-but-the-registration-lapsed-a-new-customer",
         (reg("r", at(1, 5), "A"), FORGOT), at(3, 21), "C", "RE23", {"C": 100}),
    Case("RE11-C-serious-fault-the-original-loses-all-rights",
         (visit("v", at(3, 2), "A"), transfer("t", at(3, 2, 11), "B", "A", "serious_fault"),
          follow_up("fa", at(3, 5), "A"), deal("d1", at(3, 10), "B")),
         at(3, 11), "B", "RE11-C", {"B": 100}, deals=(({"B": 100}, "RE11-C"),)),
    Case("RE11-C-the-customer-firmly-refuses",
         (visit("v", at(3, 2), "A"), transfer("t", at(3, 2, 11), "B", "A", "customer_refused")),
         at(3, 3), "B", "RE11-C", {"B": 100}),
    Case("RE24-spouses-the-earliest-registration-of-the-family-prevails",
         (reg("rw", at(3, 2), "A", customer="wife"), reg("rb", at(3, 10), "B"), deal("d1", at(3, 20), "B")),
         at(3, 21), "A", "RE24", {"A": 100}, deals=(({"A": 100}, "RE24"),), relatives={"wife": "spouse"}),
    Case("RE24-a-sibling-is-a-separate-customer",
         (reg("rs", at(3, 2), "A", customer="sister"), reg("rb", at(3, 10), "B")),
         at(3, 21), "B", "RE20", {"B": 100}, relatives={"sister": "sibling"}),
    Case("RE24-the-customers-own-earlier-registration-prevails",
         (reg("rb", at(3, 2), "B"), reg("rw", at(3, 5), "A", customer="wife")),
         at(3, 21), "B", "RE20", {"B": 100}, relatives={"wife": "spouse"}),
    Case("RE25-the-buyer-a-direct-relative-of-the-registered-customer",
         (reg("rp", at(3, 2), "A", customer="father"), deal("d1", at(3, 25), "C")),
         at(3, 26), "A", "RE25", {"A": 100}, deals=(({"A": 100}, "RE25"),), relatives={"father": "parent"}),
    Case("RE25-validity-counts-from-the-earliest-visit",
         (reg("rp", at(3, 2), "A", customer="father"), follow_up("fp", at(3, 25), "A", customer="father"),
          deal("d1", at(4, 5), "C")),
         at(4, 6), "C", "RE20", {"C": 100}, deals=(({"C": 100}, "RE20"),), relatives={"father": "parent"}),
    Case("RE26-pre-declared-the-customer-belongs-to-the-absent-declarer",
         (declare("p", at(3, 1), "A"), visit("v", at(3, 2), "C", reception="duty", on_behalf_of="A", referrer=OLD),
          deal("d1", at(3, 2, 12), "C")),
         at(3, 3), "A", "RE26", {"A": 100}, deals=(({"A": 100}, "RE26"),)),
    Case("RE27-the-referrer-asks-for-the-absent-consultant",
         (visit("v", at(3, 2), "C", reception="duty", on_behalf_of="A", referrer=OLD),), at(3, 3), "A", "RE27",
         {"A": 100}),
    Case("RE27-the-referrer-asks-for-the-present-consultant",
         (visit("v", at(3, 2), "A", reception="designated", referrer=OLD),), at(3, 3), "A", "RE27", {"A": 100}),
    Case("RE28-a-referred-customer-alone-belongs-to-the-rotation",
         (visit("v", at(3, 2), "C", referrer=OLD),), at(3, 3), "C", "RE28", {"C": 100}),
    Case("RE29-a-pre-declaration-after-the-visit-comes-too-late",
         (visit("v", at(3, 2, 10), "C", referrer=OLD), declare("p", at(3, 2, 15), "A")), at(3, 3), "C", "RE29",
         {"C": 100}),
    Case("RE30-a-rename-keeps-the-consultant-and-the-split",
         (*MID_SWITCH, change("x", at(3, 10), "d1", "rename", buyer_name="Wang Li")), at(3, 11), "A", "RE16",
         {"A": 55, "B": 45}, deals=(({"A": 55, "B": 45}, "RE30"),)),
    Case("RE30-a-unit-change-keeps-the-consultant-and-the-split",
         (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "C", reception="duty", on_behalf_of="A"),
          deal("d1", at(3, 20, 12), "C"), change("x", at(3, 25), "d1", "unit_change", unit="5-0801")),
         at(3, 26), "A", "RE14", {"A": 100}, deals=(({"A": 100}, "RE30"),)),
    Case("RE31-an-approved-dispute-decision-overrides-split-and-owner",
         (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "C", reception="duty", on_behalf_of="A"),
          deal("d1", at(3, 20, 12), "C"), dispute("j", at(3, 25), "d1", {"A": 30, "C": 70}, "C")),
         at(3, 26), "C", "RE31", {"C": 100}, deals=(({"A": 30, "C": 70}, "RE31"),)),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule(case: Case):
    decision = decide(case.steps, case.as_of, case.relatives)
    assert (decision.owner, decision.rule, decision.shares) == (case.owner, case.rule, case.shares)
    assert names_rule(decision, case.rule), decision.explanation_en
    if case.owner is not None:
        assert case.owner in decision.explanation_en and case.owner in decision.explanation_zh
        assert decision.facts["valid_until"] is not None
        datetime.fromisoformat(decision.facts["valid_until"])
    else:
        assert decision.facts["valid_until"] is None
    assert [(split.shares, split.rule) for split in decision.deals] == list(case.deals)
    for split in decision.deals:
        assert names_rule(split, split.rule), split.explanation_en
        assert split.deal in split.entries
    json.dumps(decision.facts)
    json.dumps([split.facts for split in decision.deals])


def test_acceptance_2_RE14_duty_reception_within_the_month_RE20_new_after_35_days():
    """Registered by A, followed up 20 days later, back 25 days after that while A is absent: a
    duty reception by the last in the schedule, still A's; 35 days without follow-up: new."""
    registered = reg("r", at(3, 2), "A")
    followed = follow_up("f", at(3, 22), "A")
    duty = visit("v1", at(4, 16), "C", reception="duty", on_behalf_of="A")
    kept = decide((registered, followed, duty), at(4, 16, 12))
    assert (kept.owner, kept.rule, kept.shares) == ("A", "RE14", {"A": 100})
    assert "C" in kept.explanation_en and "2026-03-22" in kept.explanation_en
    assert kept.facts["last_follow_up"] == followed.at.astimezone(UTC).isoformat()
    assert kept.facts["valid_until"].startswith("2026-04-22")

    back = visit("v2", at(4, 26), "C", reception="duty", on_behalf_of="A")  # 35 days after the follow-up
    new = decide((registered, followed, back), at(4, 26, 12))
    assert (new.owner, new.rule, new.shares) == ("C", "RE20", {"C": 100})
    assert "A's registration lapsed after 2026-04-22" in new.explanation_en


def test_acceptance_3_RE24_spouses_the_deal_to_the_first_registrant_siblings_each_their_own():
    wife, husband = reg("rw", at(3, 2), "A", customer="wife"), reg("rh", at(3, 6), "B")
    closed = deal("d1", at(3, 12), "B")
    spouses = decide((wife, husband, closed), at(3, 13), {"wife": "spouse"})
    assert spouses.owner == "A" and spouses.deals[0].shares == {"A": 100} and spouses.deals[0].rule == "RE24"
    assert "wife" in spouses.deals[0].explanation_en and "配偶" in spouses.deals[0].explanation_zh

    sister, brother = reg("rs", at(3, 2), "A", customer="sister"), reg("rb", at(3, 6), "B")
    siblings = decide((sister, brother, deal("d1", at(3, 12), "B")), at(3, 13), {"sister": "sibling"})
    assert siblings.owner == "B" and siblings.deals[0].shares == {"B": 100}
    assert siblings.facts["separate_customers"] == ["sister"]


def test_RE20_a_calendar_month_31_january_is_valid_through_28_february():
    registered = reg("r", at(1, 31), "A")
    last_day = decide((registered, visit("v", at(2, 28, 21), "C", reception="duty", on_behalf_of="A")),
                      at(2, 28, 22))
    assert last_day.owner == "A" and last_day.facts["valid_until"].startswith("2026-02-28T23:59:59")
    next_day = decide((registered, visit("v", at(3, 1, 9), "C", reception="duty", on_behalf_of="A")), at(3, 1, 10))
    assert next_day.owner == "C"


def test_RE20_a_leap_year_31_january_is_valid_through_29_february():
    registered = reg("r", at(1, 31, year=2028), "A")
    assert decide((registered,), at(2, 29, 20, year=2028)).owner == "A"
    assert decide((registered,), at(3, 1, 9, year=2028)).owner is None


def test_RE20_days_are_the_offices_calendar_days():
    """At 00:30 in Shanghai on 1 February it is still 31 January in UTC: the day of the tenant's
    calendar zone counts."""
    registered = reg("r", datetime(2026, 2, 1, 0, 30, tzinfo=SHANGHAI), "A")
    assert decide((registered,), at(3, 1, 12)).owner == "A"
    assert decide((registered,), at(3, 1, 12), zone="UTC").owner is None


def test_RE20_registration_validity_months_is_the_tenants():
    registered = reg("r", at(3, 2), "A")
    assert decide((registered,), at(4, 20)).owner is None
    assert decide((registered,), at(4, 20), registration_validity_months=2).owner == "A"


def test_RE21_an_office_without_a_clerk_counts_unconfirmed_entries():
    unconfirmed = reg("r", at(3, 2), "A", confirmed=False)
    assert decide((unconfirmed,), at(3, 3)).owner is None
    assert decide((unconfirmed,), at(3, 3), require_confirmation=False).owner == "A"


def test_RE9_the_all_to_new_reading_gives_a_recognised_customer_100_to_the_new_consultant():
    steps = (reg("r", at(3, 2), "A"), FORGOT, recognise("k", at(4, 10), "A", "forgot"), deal("d1", at(4, 15), "C"))
    decision = decide(steps, at(4, 16), unrecognised_commission_policy="all_to_new")
    assert (decision.owner, decision.shares, decision.deals[0].shares) == ("C", {"C": 100}, {"C": 100})
    assert decision.deals[0].rule == "RE9-D" and "policy" in decision.deals[0].explanation_en


def test_RE9_C_the_original_share_is_the_tenants():
    steps = (reg("r", at(3, 2), "A"), FORGOT, recognise("k", at(3, 25), "A", "forgot"), deal("d1", at(3, 28), "C"))
    decision = decide(steps, at(3, 29), unrecognised_original_share_percent=30)
    assert decision.deals[0].shares == {"A": 30, "C": 70} and decision.deals[0].rule == "RE9-C"


def test_RE9_C_D_a_deal_closed_before_the_recognition_keeps_100_to_the_new_consultant():
    """The split is fixed at the deal: a recognition after it splits only later deals."""
    steps = (reg("r", at(3, 2), "A"), FORGOT, deal("d1", at(3, 25), "C"), recognise("k", at(3, 28), "A", "forgot"),
             deal("d2", at(4, 2), "C"))
    decision = decide(steps, at(4, 3))
    assert [(d.shares, d.rule) for d in decision.deals] == [({"C": 100}, "RE9-D"), ({"A": 50, "C": 50}, "RE9-C")]


def test_RE16_the_first_share_is_the_tenants():
    decision = decide(MID_SWITCH, at(3, 3), designation_first_share_percent=60)
    assert decision.deals[0].shares == {"A": 60, "B": 40}


def test_RE25_relatives_validity_may_count_from_the_last_follow_up():
    steps = (reg("rp", at(3, 2), "A", customer="father"), follow_up("fp", at(3, 25), "A", customer="father"),
             deal("d1", at(4, 5), "C"))
    decision = decide(steps, at(4, 6), {"father": "parent"}, relative_validity_from="last_follow_up")
    assert decision.deals[0].shares == {"A": 100} and decision.deals[0].rule == "RE25"


def test_RE24_a_relatives_duty_reception_registers_nobody():
    steps = (visit("vw", at(3, 2), "C", customer="wife", reception="duty", on_behalf_of="A"),
             reg("rh", at(3, 6), "B"))
    assert decide(steps, at(3, 7), {"wife": "spouse"}).owner == "B"


def test_RE31_the_decision_names_the_dispute_and_the_split_it_replaced():
    steps = (reg("r", at(3, 2), "A"), visit("v", at(3, 20), "C", reception="duty", on_behalf_of="A"),
             deal("d1", at(3, 20, 12), "C"), dispute("j", at(3, 25), "d1", {"A": 30, "C": 70}, "C"))
    split = decide(steps, at(3, 26)).deals[0]
    assert split.facts["dispute"] == "D-7" and split.facts["original_rule"] == "RE14"
    assert "D-7" in split.explanation_en and "RE14" in split.explanation_en and "j" in split.entries


def test_the_decision_rests_on_its_entries_and_their_confirmations():
    steps = (reg("r", at(3, 2), "A", confirmed=True), confirm("ok", at(3, 2, 18), "r"),
             follow_up("f", at(3, 20), "A"), phone("p", at(3, 21), "B"))
    decision = decide(steps, at(3, 22))
    assert decision.entries == ("r", "ok", "f")
    assert decision.facts["registered_at"] == at(3, 2).astimezone(UTC).isoformat()
    assert decision.facts["phone_inquiries"] == 1 and decision.facts["valid_from_kind"] == "follow_up"


def test_entries_after_as_of_are_not_yet_history_and_decisions_repeat():
    steps = (reg("r", at(3, 2), "A"), visit("v", at(4, 10), "C"))
    before = decide(steps, at(3, 20))
    assert before.owner == "A"
    assert decide(steps, at(3, 20)) == before


def test_unknown_parameters_fall_back_to_the_declared_defaults():
    declared = {p.key: p.default for p in rules.PARAMETERS}
    assert {key: declared[key] for key in attribution.DEFAULTS} == dict(attribution.DEFAULTS)
    facts = facts_of((reg("r", at(3, 2), "A"),), at(3, 3))
    assert attribution.decide(facts, {}).owner == "A"
    assert rules.ATTRIBUTION[0].decide is attribution.decide


def test_one_thousand_entries_are_decided_in_one_pass():
    """Acceptance 6 in small: many consultants, registrations, receptions and follow-ups."""
    steps = [reg("r0", at(1, 1, year=2025), "A")]
    kinds = ("follow_up", "visit", "registration", "phone_inquiry")
    for n in range(1, 1000):
        when = datetime(2025, 1, 1, 10, tzinfo=SHANGHAI).replace(day=1 + n % 28, month=1 + n // 84)
        who = f"U{n % 40}"
        steps.append(Step(f"e{n}", kinds[n % 4], when, who, {"reception": "rotation"}))
    steps.sort(key=lambda step: step.at)
    facts = facts_of(steps, datetime(2025, 12, 31, tzinfo=SHANGHAI))
    started = time.perf_counter()
    decision = attribution.decide(facts, attribution.DEFAULTS)
    assert time.perf_counter() - started < 0.5
    assert decision.owner is not None
