"""Lead cards (客户信息卡 / 三表卡) of seed-003 R6 as pure functions: when a card counts as created
on time, when it is void, who owns it among duplicates, and the vertical's attribution policy,
which replays a customer's ledger entries through these rules. Storage and the GraphQL API are in
``cards``; the day limits are the vertical's parameters (lead_first_follow_up_days, …).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.plugins import AttributionDecision, AttributionFacts, AttributionPolicy, LedgerKind

SMS = "sms"
CHANNELS = (SMS, "phone", "visit")


@dataclass(frozen=True)
class FollowUp:
    on: date
    channel: str  # sms | phone | visit
    # R6-3: the team leader's signature of the follow-up's validity (the second one needs it)
    signed_at: datetime | None = None
    at: datetime | None = None  # when it happened, if known (the 24 hours of R6-3 count from it)


@dataclass(frozen=True)
class LeadCard:
    id: str
    consultant: str
    first_contact: date
    created: date
    signed_at: datetime | None  # the team leader's signature; the card is effective from it
    follow_ups: tuple[FollowUp, ...] = ()
    # R6-5: a void card reassigned by its signer starts again on this day; earlier follow-ups no longer count
    restarted_on: date | None = None


@dataclass(frozen=True)
class CardStatus:
    valid: bool
    reason_en: str
    reason_zh: str
    void_on: date | None = None
    valid_until: date | None = None  # the last day a valid card stays valid without a new follow-up


def created_on_time(card: LeadCard) -> bool:
    """R6-1: the card is created the same day as the first contact."""
    return card.created == card.first_contact


def effective_date(card: LeadCard) -> date | None:
    """R6-1: effective when the team leader signs; signed on a later day, that day counts."""
    if card.signed_at is None:
        return None
    start = max(card.created, card.signed_at.date())
    return max(start, card.restarted_on) if card.restarted_on else start


def validity_start(follow_up: FollowUp, index: int) -> date:
    """R6-3: the second follow-up counts from its own day when the leader signed its validity within
    24 hours (or not yet); signed later, from the day of the signature."""
    if index != 1 or follow_up.signed_at is None:
        return follow_up.on
    happened = follow_up.at or datetime.combine(follow_up.on, time.max, follow_up.signed_at.tzinfo)
    if follow_up.signed_at - happened > timedelta(hours=24):
        return max(follow_up.on, follow_up.signed_at.date())
    return follow_up.on


def card_status(card: LeadCard, today: date, parameters: Mapping[str, Any] | None = None) -> CardStatus:
    """Valid or void on ``today``: first follow-up within ``lead_first_follow_up_days`` (3) of the
    effective date, each later one within ``lead_follow_up_interval_days`` (7) of the previous,
    and ``lead_sms_only_limit`` (3) SMS-only follow-ups in a row void the card (R6-2, R6-4, R6-6)."""
    parameters = parameters or {}
    first_days = int(parameters.get("lead_first_follow_up_days", 3))
    interval = int(parameters.get("lead_follow_up_interval_days", 7))
    sms_limit = int(parameters.get("lead_sms_only_limit", 3))
    if not created_on_time(card):
        return CardStatus(False, f"created {card.created}, not on the day of first contact {card.first_contact}",
                          f"建卡日期 {card.created} 不是首次接触当天 {card.first_contact}", card.created)
    start = effective_date(card)
    if start is None:
        return CardStatus(False, "not signed by the team leader", "未经组长签字确认")
    deadline = start + timedelta(days=first_days)
    sms_run = 0
    counted = [f for f in card.follow_ups if card.restarted_on is None or f.on >= card.restarted_on]
    for index, follow_up in enumerate(sorted(counted, key=lambda f: f.on)):
        if follow_up.on > deadline:
            which = "first follow-up" if index == 0 else "follow-up"
            return CardStatus(False, f"no {which} by {deadline}", f"{deadline} 前未回访，该卡作废", deadline)
        sms_run = sms_run + 1 if follow_up.channel == SMS else 0
        if sms_run >= sms_limit:
            return CardStatus(False, f"{sms_limit} SMS-only follow-ups in a row", f"连续{sms_limit}次短信回访视为无效回访，该卡作废",
                              follow_up.on)
        deadline = validity_start(follow_up, index) + timedelta(days=interval)
    if today > deadline:
        return CardStatus(False, f"no follow-up by {deadline}", f"{deadline} 前未回访，该卡作废", deadline)
    return CardStatus(True, f"valid until {deadline}", f"有效期至 {deadline}", valid_until=deadline)


def duplicate_owner(cards: Sequence[LeadCard]) -> LeadCard | None:
    """R6-7: among duplicate cards of one customer, the one signed first owns the customer;
    unsigned cards never win."""
    signed = [c for c in cards if c.signed_at is not None]
    return min(signed, key=lambda c: (c.signed_at, c.id)) if signed else None


# --- the attribution policy: a customer's lead cards on the ledger ------------------------------
# Entries the cards module writes: REGISTRATION when the team leader signs a card (``at`` the
# signature, data: card, created_on, first_contact), FOLLOW_UP (data: card, channel, on), a
# CONFIRMATION of a follow-up when the leader signs its validity (R6-3), TRANSFER when a void card is
# reassigned (data: card) or when the team leader and the sales manager settle a referred customer
# (data: decision = "R6-11"), and a CORRECTION of the registration when a card is revoked (R6-12).


def _local_date(at: Any, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date() if isinstance(at, datetime) else date.fromisoformat(str(at)[:10])


def cards_of(facts: AttributionFacts) -> list[LeadCard]:
    """The customer's signed, unrevoked cards rebuilt from its ledger entries."""
    zone = ZoneInfo(facts.zone)
    registrations = {e.data.get("card"): e for e in facts.entries if e.kind == LedgerKind.REGISTRATION}
    signatures = {e.refers_to: e.at for e in facts.entries if e.kind == LedgerKind.CONFIRMATION}
    cards = []
    for card_id, entry in registrations.items():
        holder, restarted = entry.consultant, None
        follow_ups = []
        for other in facts.entries:
            if other.data.get("card") != card_id:
                continue
            if other.kind == LedgerKind.TRANSFER:
                holder, restarted = other.consultant, _local_date(other.at, zone)
            elif other.kind == LedgerKind.FOLLOW_UP:
                follow_ups.append(FollowUp(on=date.fromisoformat(other.data["on"]), channel=other.data.get("channel", SMS),
                                           signed_at=signatures.get(other.id), at=other.at))
        cards.append(LeadCard(id=str(card_id), consultant=str(holder), first_contact=date.fromisoformat(
            entry.data["first_contact"]), created=date.fromisoformat(entry.data["created_on"]), signed_at=entry.at,
            follow_ups=tuple(follow_ups), restarted_on=restarted))
    return cards


def _end_of(day: date, zone: ZoneInfo) -> str:
    return datetime.combine(day + timedelta(days=1), time(), zone).isoformat()


def decide(facts: AttributionFacts, parameters: Mapping[str, Any]) -> AttributionDecision:
    """Who owns the customer: the consultant the team leader and the sales manager settled on for a
    referred customer (R6-11); else, among the valid cards, the one signed first (R6-7: duplicates
    go to the earliest signature), valid until its follow-up deadline (R6-2, R6-4); no valid card,
    no owner."""
    zone = ZoneInfo(facts.zone)
    today = _local_date(facts.as_of, zone)
    decisions = [e for e in facts.entries if e.kind == LedgerKind.TRANSFER and e.data.get("decision") == "R6-11"]
    if decisions:
        last = decisions[-1]
        return AttributionDecision(
            owner=last.consultant, shares={}, rule="R6-11",
            explanation_en="a referred customer settled by the team leader and the sales manager",
            explanation_zh="朋友介绍客户，经销售组长和销售经理确认归属", entries=(last.id,),
            facts={"settled_at": last.at.isoformat() if isinstance(last.at, datetime) else str(last.at)})
    cards = cards_of(facts)
    statuses = {card.id: card_status(card, today, parameters) for card in cards}
    valid = [card for card in cards if statuses[card.id].valid]
    entry_of = {e.data.get("card"): e.id for e in facts.entries if e.kind == LedgerKind.REGISTRATION}
    if not valid:
        if not cards:
            return AttributionDecision(owner=None, shares={}, rule="R6-1", explanation_en="no signed lead card",
                                       explanation_zh="没有经组长签字的信息卡")
        reasons = "; ".join(statuses[c.id].reason_en for c in cards)
        return AttributionDecision(owner=None, shares={}, rule="R6-2", explanation_en=f"every card is void: {reasons}",
                                   explanation_zh="信息卡均已作废：" + "；".join(statuses[c.id].reason_zh for c in cards),
                                   entries=tuple(str(entry_of[c.id]) for c in cards if c.id in entry_of),
                                   facts={"void": [c.id for c in cards]})
    owner = duplicate_owner(valid)
    assert owner is not None
    status = statuses[owner.id]
    duplicates = [c.id for c in cards if c.id != owner.id]
    rule = "R6-7" if duplicates else "R6-1"
    en = (f"the card signed first ({owner.signed_at.isoformat()}) owns the customer; duplicates: {len(duplicates)}"
          if duplicates else f"the card signed {owner.signed_at.isoformat()}, {status.reason_en}")
    zh = (f"重卡以最早签字时间为准（{owner.signed_at.isoformat()}），重卡 {len(duplicates)} 张" if duplicates
          else f"信息卡于 {owner.signed_at.isoformat()} 签字生效，{status.reason_zh}")
    assert status.valid_until is not None
    return AttributionDecision(owner=owner.consultant, shares={}, rule=rule, explanation_en=en, explanation_zh=zh,
                               entries=(str(entry_of[owner.id]),),
                               facts={"card": owner.id, "valid_until": _end_of(status.valid_until, zone),
                                      "duplicates": duplicates})


POLICY = AttributionPolicy("lead_cards", "Lead cards: earliest signature, void without follow-up",
                           "信息卡：以最早签字为准，未按期回访作废", decide)
