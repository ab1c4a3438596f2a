"""Lead cards (客户信息卡 / 三表卡) of seed-003 R6 as pure functions: when a card counts as created
on time, when it is void, and who owns it among duplicates. Storage and the GraphQL API are not
here; the day limits are the vertical's parameters (lead_first_follow_up_days, …).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

SMS = "sms"
CHANNELS = (SMS, "phone", "visit")


@dataclass(frozen=True)
class FollowUp:
    on: date
    channel: str  # sms | phone | visit


@dataclass(frozen=True)
class LeadCard:
    id: str
    consultant: str
    first_contact: date
    created: date
    signed_at: datetime | None  # the team leader's signature; the card is effective from it
    follow_ups: tuple[FollowUp, ...] = ()


@dataclass(frozen=True)
class CardStatus:
    valid: bool
    reason_en: str
    reason_zh: str
    void_on: date | None = None


def created_on_time(card: LeadCard) -> bool:
    """R6-1: the card is created the same day as the first contact."""
    return card.created == card.first_contact


def effective_date(card: LeadCard) -> date | None:
    """R6-1: effective when the team leader signs; signed on a later day, that day counts."""
    if card.signed_at is None:
        return None
    return max(card.created, card.signed_at.date())


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
    for index, follow_up in enumerate(sorted(card.follow_ups, key=lambda f: f.on)):
        if follow_up.on > deadline:
            which = "first follow-up" if index == 0 else "follow-up"
            return CardStatus(False, f"no {which} by {deadline}", f"{deadline} 前未回访，该卡作废", deadline)
        sms_run = sms_run + 1 if follow_up.channel == SMS else 0
        if sms_run >= sms_limit:
            return CardStatus(False, f"{sms_limit} SMS-only follow-ups in a row", f"连续{sms_limit}次短信回访视为无效回访，该卡作废",
                              follow_up.on)
        deadline = follow_up.on + timedelta(days=interval)
    if today > deadline:
        return CardStatus(False, f"no follow-up by {deadline}", f"{deadline} 前未回访，该卡作废", deadline)
    return CardStatus(True, f"valid until {deadline}", f"有效期至 {deadline}")


def duplicate_owner(cards: Sequence[LeadCard]) -> LeadCard | None:
    """R6-7: among duplicate cards of one customer, the one signed first owns the customer;
    unsigned cards never win."""
    signed = [c for c in cards if c.signed_at is not None]
    return min(signed, key=lambda c: (c.signed_at, c.id)) if signed else None
