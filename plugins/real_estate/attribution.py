"""The real-estate attribution policy: who owns a customer and how each deal's commission splits,
decided from core's attribution ledger by the rules of seed-000 §2 (RE9–RE31; seed-002 §4).

``decide(facts, parameters)`` is pure and deterministic: no I/O, no clock (``facts.as_of`` is
"now"; entries after it are not yet history). It reads the customer's entries and its direct
relatives' entries once, in time order.

The model. A registration (a confirmed REGISTRATION or a reception that makes its consultant the
owner, a PRE_DECLARATION) is a *claim* of its consultant. A claim is valid while the check day
is not more than ``registration_validity_months`` calendar months after the day its consultant
last followed up (or registered, received or closed with the customer) (RE20); a lapsed claim
never revives: a follow-up after the lapse is too late, a new registration is needed. The owner
is the consultant of the earliest registered valid claim (RE20, RE24). Claims are created in time
order, so they sit in a queue sorted by registration and the owner is the first one still valid.
A reception by someone else while the owner's claim is valid creates no claim for the receiver
(duty, designated, hand-over: RE13, RE14, RE17, RE22, RE26, RE27); only when there is no valid
claim is the customer new and the receiver's (RE20, RE23). Special rules replace the claims:
RE9 (forgot the consultant), RE11 C (transfer), RE31 (dispute decision). Each deal's split is
fixed when it is closed (RE9 B: recognition must come before the deal) and then never moves with
renames or unit changes (RE30); a dispute decision replaces it (RE31).

Days are calendar days in the tenant's time zone (``facts.zone``, its working calendar's), months calendar months.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from core.plugins import (AttributionDecision, AttributionFacts, DealSplit, LedgerEntry, LedgerKind, RelatedLedger,
                          add_months)

# The policy's parameters with the defaults rules.PARAMETERS declares (a test keeps them equal).
DEFAULTS: Mapping[str, Any] = {
    "registration_validity_months": 1,
    "recognition_window_months": 1,
    "unrecognised_commission_policy": "split",
    "unrecognised_original_share_percent": 50,
    "designation_first_share_percent": 55,
    "require_confirmation": True,
    "relative_validity_from": "earliest_visit",
}

REFUSAL_REASONS = frozenset({"serious_fault", "customer_refused"})  # RE11 C

_RELATION_ZH = {"spouse": "配偶", "parent": "父母", "child": "子女", "parent_in_law": "公婆/岳父母",
                "child_in_law": "女婿/儿媳", "sibling": "兄弟姐妹", "other": "其他亲属"}

Text = tuple[str, str]  # (en, zh)

# What last started a claim's month (RE20: the last follow-up, or the registration when none; a
# reception, deal or recognition by the owner is a registration in the visit register too).
_CONTACTS = {"follow_up": ("the last follow-up", "最后一次回访"), "registration": ("the registration", "登记"),
             "visit": ("the owner's reception", "本人接待"), "deal": ("the owner's deal", "本人成交"),
             "recognition": ("the recognition", "认出客户"), "pre_declaration": ("the pre-declaration", "报备"),
             "transfer": ("the transfer", "转由其接待"), "dispute_decision": ("the dispute decision", "争议裁定")}


@dataclass(slots=True, eq=False)
class _Forgot:
    """RE9: the customer could not name ``original`` when ``visit`` was received by someone else."""

    original: str
    visit: LedgerEntry
    window_until: date
    snapshot: list[_Claim]  # the claims before the visit, restored by a same-day recognition (RE9 A)
    original_claim: _Claim
    recognised: LedgerEntry | None = None
    late_recognition: LedgerEntry | None = None
    closed_on_the_spot: bool = False


@dataclass(slots=True, eq=False)
class _Claim:
    consultant: str
    registered_at: datetime
    rule: str  # the rule that made the claim
    text: Text
    entries: list[str]
    anchor: datetime  # validity counts from here
    anchor_kind: str
    until: date
    relative: RelatedLedger | None = None
    renews: bool = True  # False: validity fixed from the earliest visit (RE25)
    last_follow_up: LedgerEntry | None = None
    latest: tuple[str, Text, LedgerEntry] | None = None  # the latest reception that kept the claim
    kept: dict[str, tuple[str, Text]] = field(default_factory=dict)  # receiver -> why the customer stayed
    split: tuple[dict[str, int], str, Text, str] | None = None  # shares, rule, why, entry id
    forgot: _Forgot | None = None
    received: bool = False  # a reception happened since the claim was made
    dead: bool = False


@dataclass(slots=True)
class _Deal:
    entry: LedgerEntry
    shares: dict[str, int]
    rule: str
    text: Text
    entries: list[str]
    facts: dict[str, Any]


def _zone(name: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name))
    except (KeyError, ValueError, OSError):  # an unknown zone: days of the entries' own offsets
        return None


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _percent(shares: Mapping[str, int]) -> str:
    return " / ".join(f"{who} {share}%" for who, share in shares.items())


class _Attribution:
    def __init__(self, facts: AttributionFacts, parameters: Mapping[str, Any]) -> None:
        given = {key: value for key, value in parameters.items() if value is not None}
        p = {**DEFAULTS, **given}
        self.customer = facts.customer
        self.months = int(p["registration_validity_months"])
        self.window = int(p["recognition_window_months"])
        self.split_unrecognised = p["unrecognised_commission_policy"] == "split"
        self.original_share = int(p["unrecognised_original_share_percent"])
        self.first_share = int(p["designation_first_share_percent"])
        self.require_confirmation = bool(p["require_confirmation"])
        self.relatives_renew = p["relative_validity_from"] == "last_follow_up"
        self.zone = _zone(facts.zone)
        self.claims: deque[_Claim] = deque()
        self.own: dict[str, _Claim] = {}
        self.related: dict[tuple[str, str], _Claim] = {}
        self.forgotten: dict[str, _Claim] = {}  # forgot-visit id -> the receiver's RE9 claim
        self.lapsed: _Claim | None = None
        self.own_registered = False  # the customer has a registration of its own (RE24 vs RE25)
        self.deals: list[_Deal] = []
        self.changes: dict[str, list[LedgerEntry]] = {}
        self.disputes: dict[str, LedgerEntry] = {}
        self.confirmations: dict[str, str] = {}
        self.unconfirmed = 0
        self.phone_inquiries = 0
        self.separate: list[str] = []
        self.untils: dict[date, date] = {}

    # --- days and validity ------------------------------------------------------------------

    def day(self, moment: Any) -> date:
        if isinstance(moment, datetime):
            return moment.astimezone(self.zone).date() if moment.tzinfo and self.zone else moment.date()
        return moment

    def until(self, moment: datetime) -> date:
        day = self.day(moment)
        until = self.untils.get(day)
        if until is None:  # relativedelta is the slow part of a pass: once per day
            until = self.untils[day] = add_months(day, self.months)
        return until

    def until_iso(self, claim: _Claim) -> str:
        zone = self.zone or claim.anchor.tzinfo
        return datetime.combine(claim.until, time.max, tzinfo=zone).isoformat()

    def live(self, claim: _Claim | None, day: date) -> bool:
        return claim is not None and not claim.dead and day <= claim.until

    def owner(self, day: date) -> _Claim | None:
        """The earliest registered claim still valid on ``day`` (RE20, RE24); lapsed ones leave."""
        while self.claims:
            claim = self.claims[0]
            if self.live(claim, day):
                return claim
            self.claims.popleft()
            if not claim.dead:
                claim.dead = True
                if self.lapsed is None or claim.until >= self.lapsed.until:
                    self.lapsed = claim
        return None

    def renew(self, claim: _Claim, entry: LedgerEntry, kind: str) -> None:
        if claim.renews and entry.at >= claim.anchor:
            claim.anchor, claim.anchor_kind, claim.until = entry.at, kind, self.until(entry.at)
            if kind == "follow_up":
                claim.last_follow_up = entry

    def add(self, consultant: str, entry: LedgerEntry, rule: str, text: Text, *, kind: str = "registration",
            relative: RelatedLedger | None = None, anchor: datetime | None = None) -> _Claim:
        anchor = anchor or entry.at
        claim = _Claim(consultant=consultant, registered_at=entry.at, rule=rule, text=text, entries=[entry.id],
                       anchor=anchor, anchor_kind=kind, until=self.until(anchor), relative=relative,
                       renews=relative is None or self.relatives_renew)
        self.claims.append(claim)
        if relative is None:
            self.own[consultant] = claim
        else:
            self.related[(relative.customer, consultant)] = claim
        return claim

    def reset(self) -> list[_Claim]:
        """Every claim ends (RE9, RE11 C, RE31); returns those that were in force."""
        previous = list(self.claims)
        for claim in previous:
            claim.dead = True
        self.claims, self.own, self.related = deque(), {}, {}
        return previous

    def lapsed_text(self) -> tuple[str, str] | None:
        if self.lapsed is None:
            return None
        return self.lapsed.consultant, self.lapsed.until.isoformat()

    # --- the ledger, one entry at a time ----------------------------------------------------

    def run(self, facts: AttributionFacts) -> AttributionDecision:
        stream = [(entry.at, entry.seq, entry, None) for entry in facts.entries]
        for related in facts.relatives:
            if related.direct:
                stream.extend((entry.at, entry.seq, entry, related) for entry in related.entries)
            else:  # siblings and others are separate customers and never take this one away (RE24)
                self.separate.append(related.customer)
        stream.sort(key=lambda item: (item[0], item[1]))  # already in order: linear
        as_of = facts.as_of if facts.as_of is not None else (stream[-1][0] if stream else None)
        for at, _, entry, related in stream:
            if as_of is not None and at > as_of:
                break
            if entry.kind == LedgerKind.CONFIRMATION and entry.refers_to:
                self.confirmations[entry.refers_to] = entry.id
            elif related is None:
                self.own_entry(entry)
            else:
                self.relative_entry(entry, related)
        return self.decision(as_of)

    def counts(self, entry: LedgerEntry) -> bool:
        """RE19/RE21: a visit or registration is a basis only once the sales clerk confirmed it."""
        if entry.confirmed or not self.require_confirmation:
            return True
        self.unconfirmed += 1
        return False

    def own_entry(self, entry: LedgerEntry) -> None:
        kind = entry.kind
        if kind in (LedgerKind.REGISTRATION, LedgerKind.VISIT) and not entry.consultant:
            return
        if kind == LedgerKind.REGISTRATION:
            if self.counts(entry):
                self.registration(entry)
        elif kind == LedgerKind.VISIT:
            if self.counts(entry):
                self.visit(entry)
        elif kind == LedgerKind.FOLLOW_UP:
            claim = self.own.get(entry.consultant or "")
            if self.live(claim, self.day(entry.at)):
                self.renew(claim, entry, "follow_up")  # type: ignore[arg-type]
        elif kind == LedgerKind.PRE_DECLARATION and entry.consultant:
            self.pre_declaration(entry)
        elif kind == LedgerKind.PHONE_INQUIRY:
            self.phone_inquiries += 1  # never a basis for attribution (RE12)
        elif kind == LedgerKind.RECOGNITION:
            self.recognition(entry)
        elif kind == LedgerKind.DEAL and entry.consultant:
            self.deal(entry)
        elif kind == LedgerKind.DEAL_CHANGE and entry.refers_to:
            self.changes.setdefault(entry.refers_to, []).append(entry)
        elif kind == LedgerKind.TRANSFER and entry.consultant:
            self.transfer(entry)
        elif kind == LedgerKind.DISPUTE_DECISION:
            self.dispute_decision(entry)

    def relative_entry(self, entry: LedgerEntry, related: RelatedLedger) -> None:
        """RE24/RE25: a direct relative's registration competes by the earliest registration;
        its validity counts from the earliest visit unless ``relative_validity_from`` says
        ``last_follow_up``."""
        day = self.day(entry.at)
        consultant = entry.consultant
        if not consultant:
            return
        claim = self.related.get((related.customer, consultant))
        if entry.kind == LedgerKind.FOLLOW_UP:
            if self.live(claim, day):
                self.renew(claim, entry, "follow_up")  # type: ignore[arg-type]
            return
        if entry.kind not in (LedgerKind.REGISTRATION, LedgerKind.VISIT) or not self.counts(entry):
            return
        data = entry.data or {}
        if entry.kind == LedgerKind.VISIT and (data.get("reception") == "duty" or data.get("on_behalf_of")):
            return  # a duty reception makes no registration of the receiver
        if self.live(claim, day):
            self.renew(claim, entry, "registration")  # type: ignore[arg-type]
            return
        self.owner(day)
        self.add(consultant, entry, "RE24", ("", ""), relative=related)

    def registration(self, entry: LedgerEntry) -> None:
        consultant = entry.consultant or ""
        day = self.day(entry.at)
        self.owner(day)
        self.own_registered = True
        claim = self.own.get(consultant)
        if self.live(claim, day):
            self.renew(claim, entry, "registration")  # type: ignore[arg-type]
            return
        # a later registration by another consultant waits behind the earlier valid one (RE20)
        self.add(consultant, entry, "RE20", self.new_customer_text(consultant, entry))

    def new_customer_text(self, consultant: str, entry: LedgerEntry, rule: str = "RE20") -> Text:
        on = self.day(entry.at).isoformat()
        lapsed = self.lapsed_text()
        if rule == "RE23" and lapsed:
            return (f"the customer could not name their consultant; {lapsed[0]}'s registration lapsed after "
                    f"{lapsed[1]}, so the customer is new and belongs to {consultant}, who received them on {on} "
                    f"(RE23)",
                    f"客户记不起原置业顾问；{lapsed[0]} 的登记已于 {lapsed[1]} 后失效，视为新客户，"
                    f"归 {on} 接待的 {consultant}（RE23）")
        if lapsed:
            return (f"{lapsed[0]}'s registration lapsed after {lapsed[1]} with no follow-up within "
                    f"{self.months} month(s); the customer was new and {consultant} registered them on {on} (RE20)",
                    f"{lapsed[0]} 的登记在 {self.months} 个月内无回访，已于 {lapsed[1]} 后失效；"
                    f"客户视为新客户，由 {consultant} 于 {on} 登记（RE20）")
        return (f"{consultant} registered the customer on {on}; the earliest valid registration prevails (RE20)",
                f"{consultant} 于 {on} 登记该客户，以最先有效登记为准（RE20）")

    def visit(self, entry: LedgerEntry) -> None:
        receiver = entry.consultant or ""
        data = entry.data or {}
        day = self.day(entry.at)
        on = day.isoformat()
        reception = data.get("reception", "rotation")
        designated = bool(data.get("designated")) or reception == "designated"
        first = data.get("mid_reception_from")
        referrer = data.get("referrer")
        owner = self.owner(day)
        self.own_registered = True
        if owner is not None and owner.consultant == receiver:
            self.renew(owner, entry, "visit")
            if day > self.day(owner.registered_at):  # a returning customer received by the registrant
                owner.latest = ("RE13", (f"{receiver} received the returning customer on {on} (RE13)",
                                         f"{receiver} 于 {on} 接待了该老客户（RE13）"), entry)
            owner.received = True
            return
        if owner is not None:
            self.visit_of_owned(entry, owner, receiver, data, designated, first)
            return
        # no valid claim: the customer is new, or invalid again
        if first and first != receiver:  # RE16 on a new customer: the first consultant keeps them
            claim = self.add(first, entry, "RE16", (
                f"on {on} the customer switched mid-reception from {first} to {receiver}; "
                f"{first} keeps the customer (RE16)",
                f"客户于 {on} 接待中途由 {first} 改指定 {receiver}，客户仍归 {first}（RE16）"), kind="visit")
            self.mid_reception(claim, entry, receiver)
        elif reception == "duty" and data.get("on_behalf_of") and referrer:
            asked = str(data["on_behalf_of"])
            self.add(asked, entry, "RE27", (
                f"the referrer brought the customer and asked for {asked}; {receiver} gave a duty reception "
                f"on {on}, so the customer belongs to {asked} (RE27)",
                f"老客户带新客户指定 {asked}；{receiver} 于 {on} 义务接待，客户归 {asked}（RE27）"), kind="visit")
        elif reception == "duty" and data.get("on_behalf_of") and designated:
            asked = str(data["on_behalf_of"])
            self.add(asked, entry, "RE15", (
                f"the customer named {asked} before the substantive reception on {on}; {asked} was absent and "
                f"{receiver} gave a duty reception, so the customer belongs to {asked} (RE15)",
                f"客户于 {on} 在实质性接待前指定 {asked}；{asked} 不在，{receiver} 义务接待，客户归 {asked}（RE15）"),
                kind="visit")
        elif designated and referrer:
            self.add(receiver, entry, "RE27", (
                f"the referrer brought the customer and asked for {receiver}, who received them on {on} (RE27)",
                f"老客户带新客户指定 {receiver}，由其于 {on} 接待（RE27）"), kind="visit")
        elif designated:
            self.add(receiver, entry, "RE15", (
                f"the customer named {receiver} before the substantive reception on {on}: a designated "
                f"reception, the customer belongs to {receiver} (RE15)",
                f"客户于 {on} 在实质性接待前指定 {receiver}：指定接待，客户归 {receiver}（RE15）"), kind="visit")
        elif referrer:
            self.add(receiver, entry, "RE28", (
                f"the referred customer came on {on} with no pre-declaration and was received in rotation "
                f"by {receiver} (RE28)",
                f"老客户介绍的新客户于 {on} 到访，无报备，由轮值的 {receiver} 接待（RE28）"), kind="visit")
        elif data.get("forgot_original") and self.lapsed is not None:
            self.add(receiver, entry, "RE23", self.new_customer_text(receiver, entry, "RE23"), kind="visit")
        else:
            self.add(receiver, entry, "RE20", self.new_customer_text(receiver, entry), kind="visit")

    def visit_of_owned(self, entry: LedgerEntry, owner: _Claim, receiver: str, data: Mapping[str, Any],
                       designated: bool, first: Any) -> None:
        """Someone else received a customer whose owner's claim is valid: it stays with the owner,
        but for RE9 (the customer forgot the owner) and RE16 (a switch away from the owner)."""
        on = self.day(entry.at).isoformat()
        who = owner.consultant
        if data.get("forgot_original"):
            self.forgot(entry, owner, receiver)
            return
        if first == who:
            self.mid_reception(owner, entry, receiver)
            return
        if owner.relative is not None:  # RE24: the receiver registers this customer, the relative's stays first
            rule = "RE24"
            text = (f"{receiver} received the customer on {on}, but {who} registered a direct relative earlier (RE24)",
                    f"{receiver} 于 {on} 接待该客户，但 {who} 更早登记了其直系亲属（RE24）")
            if not self.live(self.own.get(receiver), self.day(entry.at)):
                self.add(receiver, entry, "RE20", self.new_customer_text(receiver, entry), kind="visit")
        elif designated or data.get("returning_designation"):
            rule = "RE17"
            text = (f"the returning customer named {receiver} on {on}: a duty reception; the customer and a deal "
                    f"stay 100% with the original consultant {who} (RE17)",
                    f"老客户于 {on} 指定 {receiver}：按义务接待处理，客户及成交佣金 100% 归原置业顾问 {who}（RE17）")
        elif data.get("reception") == "duty" or data.get("on_behalf_of"):
            if owner.rule == "RE26" and not owner.received:
                rule = "RE26"
                text = (f"{who} pre-declared the referred customer, who came on {on} while {who} was absent; "
                        f"{receiver} gave a duty reception and the customer belongs to {who} (RE26)",
                        f"{who} 已报备该客户；客户于 {on} 到访时 {who} 不在，{receiver} 义务接待，客户归 {who}（RE26）")
            elif data.get("referrer"):
                rule = "RE27"
                text = (f"the referrer brought the customer and asked for {who}; {who} was absent and {receiver} "
                        f"gave a duty reception on {on}: the customer belongs to {who} (RE27)",
                        f"老客户带新客户指定 {who}；{who} 不在，{receiver} 于 {on} 义务接待，客户归 {who}（RE27）")
            else:
                rule = "RE14"
                text = (f"{receiver} gave a duty reception on {on} while {who} was absent; the returning customer "
                        f"stays with {who} (RE14)",
                        f"{who} 不在，{receiver} 于 {on} 义务接待；老客户仍归 {who}（RE14）")
        else:
            rule = "RE22"
            text = (f"{receiver} received {who}'s customer on {on} and hands them over; the customer stays with "
                    f"{who} (RE22)",
                    f"{receiver} 于 {on} 接待了 {who} 的老客户，应移交；客户仍归 {who}（RE22）")
        owner.kept[receiver] = (rule, text)
        owner.latest = (rule, text, entry)
        owner.received = True

    def mid_reception(self, claim: _Claim, entry: LedgerEntry, named: str) -> None:
        """RE16: a deal splits ``designation_first_share_percent`` to the first consultant, the rest
        to the named one; 100% to the first when the named one instigated the switch."""
        first = claim.consultant
        on = self.day(entry.at).isoformat()
        if (entry.data or {}).get("instigated"):
            shares, rule = {first: 100}, "RE16-instigated"
            text = (f"{named} instigated the customer's switch from {first} on {on}: a deal goes 100% to {first} "
                    f"(RE16-instigated)",
                    f"{named} 于 {on} 怂恿客户从 {first} 改指定：成交佣金 100% 归 {first}（RE16-instigated）")
        else:
            shares = {who: share for who, share in ((first, self.first_share), (named, 100 - self.first_share))
                      if share}
            rule = "RE16"
            text = (f"the customer switched mid-reception from {first} to {named} on {on}: a deal splits "
                    f"{_percent(shares)} (RE16)",
                    f"客户于 {on} 接待中途由 {first} 改指定 {named}：成交佣金 {_percent(shares)}（RE16）")
        claim.split = (shares, rule, text, entry.id)
        claim.kept[named] = (rule, text)
        claim.received = True

    def forgot(self, entry: LedgerEntry, owner: _Claim, receiver: str) -> None:
        """RE9: the new consultant takes the customer until (and unless) the original one
        recognises them; the claims in force are kept for a same-day recognition (RE9 A)."""
        snapshot = self.reset()
        day = self.day(entry.at)
        window_until = add_months(day, self.window)
        claim = self.add(receiver, entry, "RE9-D", ("", ""), kind="visit")
        claim.forgot = _Forgot(original=owner.consultant, visit=entry, window_until=window_until,
                               snapshot=snapshot, original_claim=owner)
        self.forgotten[entry.id] = claim

    def recognition(self, entry: LedgerEntry) -> None:
        claim = self.forgotten.get(entry.refers_to or "")
        if claim is None or claim.dead or claim.forgot is None or claim.forgot.closed_on_the_spot:
            return  # nothing to recognise, or closed on the spot first (RE9 B)
        forgot = claim.forgot
        day = self.day(entry.at)
        if forgot.recognised is not None:
            return
        if day == self.day(forgot.visit.at):
            self.restore(claim, entry)
        elif day <= forgot.window_until:
            forgot.recognised = entry
            if self.split_unrecognised:
                shares = {who: share for who, share in ((forgot.original, self.original_share),
                                                        (claim.consultant, 100 - self.original_share)) if share}
                claim.split = (shares, "RE9-C", self.forgot_text(claim, "RE9-C", shares), entry.id)
        else:
            forgot.late_recognition = entry

    def restore(self, claim: _Claim, entry: LedgerEntry) -> None:
        """RE9 A: recognised the same day: the original consultant receives the customer."""
        forgot = claim.forgot
        assert forgot is not None
        claim.dead = True
        since = [c for c in self.claims if not c.dead]
        for previous in forgot.snapshot:
            previous.dead = False
        self.claims, self.own, self.related = deque(forgot.snapshot + since), {}, {}
        for kept in self.claims:
            if kept.relative is None:
                self.own[kept.consultant] = kept
            else:
                self.related[(kept.relative.customer, kept.consultant)] = kept
        original = forgot.original_claim
        receiver = claim.consultant
        on = self.day(entry.at).isoformat()
        text = (f"the customer could not name their consultant when {receiver} received them on {on}; "
                f"{original.consultant} recognised them the same day and receives them (RE9-A)",
                f"客户于 {on} 由 {receiver} 接待时记不起原置业顾问；{original.consultant} 当天认出，"
                f"由原置业顾问接待（RE9-A）")
        original.kept[receiver] = ("RE9-A", text)
        original.latest = ("RE9-A", text, entry)
        original.received = True
        if self.live(original, self.day(entry.at)):
            self.renew(original, entry, "recognition")

    def forgot_text(self, claim: _Claim, rule: str, shares: Mapping[str, int] | None = None,
                    deal_at: datetime | None = None) -> Text:
        forgot = claim.forgot
        assert forgot is not None
        new, original = claim.consultant, forgot.original
        on = self.day(forgot.visit.at).isoformat()
        until = forgot.window_until.isoformat()
        head_en = (f"on {on} the customer could not name their consultant ({original}) and {new} received them")
        head_zh = f"客户于 {on} 记不起原置业顾问（{original}），由 {new} 接待"
        if rule == "RE9-B":
            return (f"{head_en}; {new} closed on the spot before {original} was recognised: the customer and "
                    f"100% of the commission go to {new} (RE9-B)",
                    f"{head_zh}；{new} 当场成交，成交前未认出原置业顾问：客户及佣金 100% 归 {new}（RE9-B）")
        if rule == "RE9-C":
            recognised = self.day(forgot.recognised.at).isoformat() if forgot.recognised else ""
            return (f"{head_en}; {original} recognised the customer on {recognised}, within the window to {until}: "
                    f"{new} follows up and the commission splits {_percent(shares or {})} (RE9-C)",
                    f"{head_zh}；{original} 于 {recognised} 认出客户（追认期至 {until}）：由 {new} 跟进，"
                    f"佣金 {_percent(shares or {})}（RE9-C）")
        if forgot.recognised is not None and not self.split_unrecognised \
                and (deal_at is None or forgot.recognised.at <= deal_at):
            recognised = self.day(forgot.recognised.at).isoformat()
            why_en = (f"{original} recognised the customer on {recognised}, but the office's RE9 policy gives "
                      f"all to the new consultant")
            why_zh = f"{original} 于 {recognised} 认出客户，但本案场 RE9 规则为全部归新置业顾问"
        elif deal_at is not None:
            why_en, why_zh = f"not recognised by {original} before the deal", f"成交前 {original} 未认出客户"
        elif forgot.late_recognition is not None:
            late = self.day(forgot.late_recognition.at).isoformat()
            why_en = f"{original} recognised the customer only on {late}, after the window that ended on {until}"
            why_zh = f"{original} 于 {late} 才认出客户，已过追认期（至 {until}）"
        else:
            why_en = f"not recognised by {original} (the window ends on {until})"
            why_zh = f"{original} 未认出客户（追认期至 {until}）"
        return (f"{head_en}; {why_en}: the customer and 100% of the commission go to {new} (RE9-D)",
                f"{head_zh}；{why_zh}：客户及佣金 100% 归 {new}（RE9-D）")

    def pre_declaration(self, entry: LedgerEntry) -> None:
        """RE26: A's pre-declaration is A's registration of the referred customer; made after the
        customer came, it takes nothing from the consultant who received them (RE29)."""
        declarer = entry.consultant or ""
        day = self.day(entry.at)
        owner = self.owner(day)
        on = day.isoformat()
        if owner is not None and owner.consultant != declarer and owner.rule == "RE28":
            visit_on = self.day(owner.registered_at).isoformat()
            owner.rule = "RE29"
            owner.text = (f"{declarer} pre-declared the referral only on {on}, after the customer came on {visit_on}; "
                          f"{owner.consultant}, the on-site consultant who received them, keeps the customer (RE29)",
                          f"{declarer} 于 {on} 才报备，晚于客户 {visit_on} 到访；客户归现场接待的 "
                          f"{owner.consultant}（RE29）")
        claim = self.own.get(declarer)
        if self.live(claim, day):
            self.renew(claim, entry, "pre_declaration")  # type: ignore[arg-type]
            return
        expected = _parse((entry.data or {}).get("expected_at"))
        anchor = expected if expected is not None and expected > entry.at else entry.at
        self.add(declarer, entry, "RE26", (
            f"{declarer} pre-declared the referred customer on {on} (RE26: the customer belongs to the consultant "
            f"who pre-declared, even when absent)",
            f"{declarer} 于 {on} 报备该老带新客户（RE26：客户归报备的置业顾问，即使其不在现场）"),
            kind="pre_declaration", anchor=anchor)

    def deal(self, entry: LedgerEntry) -> None:
        closer = entry.consultant or ""
        data = entry.data or {}
        day = self.day(entry.at)
        owner = self.owner(day)
        if owner is None:  # an invalid or unknown customer: the deal belongs to who closed it (RE20)
            owner = self.add(closer, entry, "RE20", self.new_customer_text(closer, entry), kind="deal")
        forgot = owner.forgot
        entries = [entry.id, *owner.entries]
        if owner.split is not None:
            shares, rule, text, basis = owner.split
            entries.append(basis)
        elif forgot is not None and forgot.recognised is None and data.get("on_the_spot") \
                and day == self.day(forgot.visit.at) and closer == owner.consultant:
            forgot.closed_on_the_spot = True
            owner.rule = "RE9-B"
            shares, rule, text = {closer: 100}, "RE9-B", self.forgot_text(owner, "RE9-B")
        elif forgot is not None:
            shares, rule = {owner.consultant: 100}, "RE9-D"
            text = self.forgot_text(owner, "RE9-D", deal_at=entry.at)
        elif closer != owner.consultant and closer in owner.kept:
            rule, text = owner.kept[closer]
            shares = {owner.consultant: 100}
        else:
            rule = self.rule_of(owner)
            shares = {owner.consultant: 100}
            text = self.claim_text(owner)
        if forgot is not None:
            entries.append(forgot.visit.id)
            if forgot.recognised is not None:
                entries.append(forgot.recognised.id)
        if closer == owner.consultant:
            self.renew(owner, entry, "deal")
        on = day.isoformat()
        unit = data.get("unit")
        label_en = f"deal {unit} on {on}" if unit else f"deal on {on}"
        label_zh = f"{on} 成交（{unit}）" if unit else f"{on} 成交"
        self.deals.append(_Deal(
            entry=entry, shares=shares, rule=rule,
            text=(f"{label_en} closed by {closer}: {text[0]}; commission {_percent(shares)} ({rule})",
                  f"{label_zh}，成交人 {closer}：{text[1]}；佣金 {_percent(shares)}（{rule}）"),
            entries=entries,
            facts={"deal_at": _iso(entry.at), "closed_by": closer, "unit": unit, "buyer_name": data.get("buyer_name"),
                   "on_the_spot": bool(data.get("on_the_spot")), "owner": owner.consultant,
                   "registered_at": _iso(owner.registered_at), "valid_until": self.until_iso(owner)}))

    def transfer(self, entry: LedgerEntry) -> None:
        """RE11 C: after a serious fault or the customer's firm refusal the next consultant owns a
        customer treated as new; the original consultant loses all rights."""
        data = entry.data or {}
        new = entry.consultant or ""
        reason, old = str(data.get("reason", "")), data.get("from")
        on = self.day(entry.at).isoformat()
        self.reset()
        if reason in REFUSAL_REASONS:
            rule = "RE11-C"
            text = (f"on {on} the customer was transferred from {old} to {new} ({reason}): treated as a new "
                    f"customer, {old} loses all rights (RE11-C)",
                    f"{on} 因{'严重过失' if reason == 'serious_fault' else '客户坚决拒绝'}，客户由 {old} 改由 {new} 接待："
                    f"视为新客户，{old} 不再享有任何权益（RE11-C）")
        else:
            rule = "TRANSFER"
            text = (f"on {on} the customer was transferred from {old} to {new} ({reason}) (TRANSFER)",
                    f"{on} 客户由 {old} 转给 {new}（{reason}）（TRANSFER）")
        self.add(new, entry, rule, text, kind="transfer")

    def dispute_decision(self, entry: LedgerEntry) -> None:
        """RE31: the director-approved outcome replaces the deal's split and, when it names one,
        the owner."""
        if entry.refers_to:
            self.disputes[entry.refers_to] = entry
        owner = (entry.data or {}).get("owner")
        if owner:
            on = self.day(entry.at).isoformat()
            dispute = (entry.data or {}).get("dispute")
            self.reset()
            self.add(str(owner), entry, "RE31", (
                f"dispute {dispute} decided on {on} on the project manager's opinion approved by the sales "
                f"director: {owner} owns the customer (RE31)",
                f"争议 {dispute} 于 {on} 裁定（项目经理意见，销售总监审批）：客户归 {owner}（RE31）"),
                kind="dispute_decision")

    # --- the decision -----------------------------------------------------------------------

    def rule_of(self, claim: _Claim) -> str:
        if claim.relative is not None:
            return "RE24" if self.own_registered else "RE25"
        return claim.rule

    def claim_text(self, claim: _Claim) -> Text:
        if claim.forgot is not None:
            return self.forgot_text(claim, claim.rule)
        if claim.relative is None:
            return claim.text
        relative, relation = claim.relative.customer, claim.relative.relation
        on = self.day(claim.registered_at).isoformat()
        relation_zh = _RELATION_ZH.get(relation, relation)
        if self.own_registered:
            return (f"the customer's {relation} ({relative}) was registered by {claim.consultant} on {on}, the "
                    f"earliest valid registration among direct relatives (RE24)",
                    f"客户的直系亲属（{relation_zh}，{relative}）于 {on} 由 {claim.consultant} 登记，"
                    f"为直系亲属中最早的有效登记（RE24）")
        return (f"the buyer is a direct relative ({relation}) of customer {relative}, registered by "
                f"{claim.consultant} on {on}; the earliest valid registration prevails (RE25)",
                f"购房人为客户 {relative} 的直系亲属（{relation_zh}），该客户于 {on} 由 {claim.consultant} "
                f"登记，以最早有效登记为准（RE25）")

    def validity_text(self, claim: _Claim) -> Text:
        until = claim.until.isoformat()
        if not claim.renews:
            return (f"valid until {until}: {self.months} calendar month(s) from the earliest visit (RE25)",
                    f"有效期至 {until}：自最早来访起 {self.months} 个自然月（RE25）")
        what, what_zh = _CONTACTS.get(claim.anchor_kind, (claim.anchor_kind, claim.anchor_kind))
        since = f"{what} on {self.day(claim.anchor).isoformat()}"
        since_zh = f"{what_zh} {self.day(claim.anchor).isoformat()}"
        return (f"valid until {until}: {self.months} calendar month(s) after {since} (RE20)",
                f"有效期至 {until}：{since_zh} 起 {self.months} 个自然月（RE20）")

    def decision(self, as_of: Any) -> AttributionDecision:
        base: dict[str, Any] = {"customer": self.customer, "as_of": _iso(as_of), "validity_months": self.months,
                                "unconfirmed_entries": self.unconfirmed, "phone_inquiries": self.phone_inquiries,
                                "separate_customers": list(self.separate), "valid_until": None}
        owner = self.owner(self.day(as_of)) if as_of is not None else None
        deals = tuple(self.deal_split(deal) for deal in self.deals)
        if owner is None:
            return self.no_owner(base, deals)
        who = owner.consultant
        shares: dict[str, int] = {who: 100}
        rule = self.rule_of(owner)
        # an RE9 C split tells the whole story of the claim
        parts = [] if owner.forgot is not None and owner.split is not None else [self.claim_text(owner)]
        entries = list(owner.entries)
        if owner.split is not None:
            shares, rule, split_text, basis = owner.split
            parts.append(split_text)
            entries.append(basis)
        elif owner.latest is not None and owner.forgot is None:
            rule = owner.latest[0]
        if owner.latest is not None and owner.forgot is None:
            parts.append(owner.latest[1])
            entries.append(owner.latest[2].id)
        if owner.forgot is not None:
            entries.append(owner.forgot.visit.id)
            if owner.forgot.recognised is not None:
                entries.append(owner.forgot.recognised.id)
            base.update(original_consultant=owner.forgot.original, forgot_visit_at=_iso(owner.forgot.visit.at),
                        recognised_at=_iso(owner.forgot.recognised.at) if owner.forgot.recognised else None,
                        recognition_window_until=owner.forgot.window_until.isoformat())
        if owner.last_follow_up is not None:
            entries.append(owner.last_follow_up.id)
        parts.append(self.validity_text(owner))
        base.update(owner=who, registered_by=who, registered_at=_iso(owner.registered_at),
                    last_follow_up=_iso(owner.last_follow_up.at) if owner.last_follow_up else None,
                    valid_from=_iso(owner.anchor), valid_from_kind=owner.anchor_kind,
                    validity_basis="last_follow_up" if owner.renews else "earliest_visit",
                    valid_until=self.until_iso(owner), shares=dict(shares))
        if owner.relative is not None:
            base.update(relative=owner.relative.customer, relation=owner.relative.relation)
        if owner.latest is not None:
            base.update(last_reception_at=_iso(owner.latest[2].at), last_reception_rule=owner.latest[0])
        return AttributionDecision(
            owner=who, shares=shares, rule=rule,
            explanation_en=f"{who} owns the customer ({rule}): " + "; ".join(part[0] for part in parts) + ".",
            explanation_zh=f"客户归 {who}（{rule}）：" + "；".join(part[1] for part in parts) + "。",
            entries=self.with_confirmations(entries), facts=base, deals=deals)

    def no_owner(self, base: dict[str, Any], deals: tuple[DealSplit, ...]) -> AttributionDecision:
        if self.lapsed is not None:
            lapsed = self.lapsed
            until = lapsed.until.isoformat()
            base.update(owner=None, lapsed_owner=lapsed.consultant, lapsed_after=until,
                        registered_at=_iso(lapsed.registered_at))
            return AttributionDecision(
                owner=None, shares={}, rule="RE20",
                explanation_en=(f"no owner (RE20): {lapsed.consultant}'s registration lapsed after {until}, more than "
                                f"{self.months} calendar month(s) after the last follow-up; the customer is invalid "
                                f"and belongs to the next consultant who receives them."),
                explanation_zh=(f"无归属（RE20）：{lapsed.consultant} 的登记在最后一次回访后超过 {self.months} 个自然月，"
                                f"已于 {until} 后失效；客户为无效客户，归下一位接待的同事。"),
                entries=self.with_confirmations(lapsed.entries), facts=base, deals=deals)
        if self.unconfirmed:
            rule = "RE21"
            en = (f"no owner (RE21): {self.unconfirmed} visit-register entr(y/ies) await the sales clerk's "
                  f"confirmation; an unconfirmed register is not a basis for attribution.")
            zh = f"无归属（RE21）：{self.unconfirmed} 条来访登记待销售文员审核确认，未确认的登记不作为归属依据。"
        elif self.phone_inquiries:
            rule = "RE12"
            en = ("no owner (RE12): only phone inquiries are recorded, and a phone registration is not a basis for "
                  "attribution.")
            zh = "无归属（RE12）：仅有来电登记，来电登记不作为确定客户归属的依据。"
        else:
            rule = "RE19"
            en = "no owner (RE19): the visit register holds no registration of this customer."
            zh = "无归属（RE19）：来访登记表中没有该客户的登记。"
        base.update(owner=None)
        return AttributionDecision(owner=None, shares={}, rule=rule, explanation_en=en, explanation_zh=zh,
                                   facts=base, deals=deals)

    def deal_split(self, deal: _Deal) -> DealSplit:
        """The split fixed at the deal; a rename or unit change keeps it (RE30); an approved dispute
        decision replaces it (RE31)."""
        entry_id = deal.entry.id
        shares, rule, text = deal.shares, deal.rule, deal.text
        facts = dict(deal.facts)
        entries = list(deal.entries)
        changes = self.changes.get(entry_id, ())
        if changes:
            described = []
            for change in changes:
                data = change.data or {}
                kind = data.get("change", "change")
                detail = ", ".join(f"{key} {data[key]}" for key in ("unit", "buyer_name") if data.get(key))
                described.append(f"{kind} on {self.day(change.at).isoformat()}" + (f" ({detail})" if detail else ""))
                entries.append(change.id)
            facts["changes"] = described
            facts["original_rule"] = rule
            rule = "RE30"
            text = (f"{'; '.join(described)}: a rename or unit change keeps the consultant and the split (RE30); "
                    f"{text[0]}",
                    f"成交后{'；'.join(described)}：更名或换房不改变置业顾问及佣金分配（RE30）；{text[1]}")
        dispute = self.disputes.get(entry_id)
        decided = _shares(dispute.data.get("shares") if dispute is not None and dispute.data else None)
        if dispute is not None and decided is not None:
            data = dispute.data or {}
            facts.setdefault("original_rule", deal.rule)
            facts["dispute"] = data.get("dispute")
            entries.append(dispute.id)
            shares, rule = decided, "RE31"
            on = self.day(dispute.at).isoformat()
            text = (f"dispute {data.get('dispute')} decided on {on} (project manager's opinion approved by the sales "
                    f"director): commission {_percent(decided)} (RE31); before it: {text[0]}",
                    f"争议 {data.get('dispute')} 于 {on} 裁定（项目经理意见，销售总监审批）：佣金 {_percent(decided)}"
                    f"（RE31）；此前：{text[1]}")
        return DealSplit(deal=entry_id, shares=shares, rule=rule, explanation_en=text[0], explanation_zh=text[1],
                         entries=tuple(self.with_confirmations(entries)), facts=facts)

    def with_confirmations(self, entries: list[str]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for entry_id in entries:
            seen.setdefault(entry_id)
            if entry_id in self.confirmations:
                seen.setdefault(self.confirmations[entry_id])
        return tuple(seen)


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _shares(value: Any) -> dict[str, int] | None:
    """A dispute decision's shares when they are whole percents adding up to 100, else None."""
    if not isinstance(value, Mapping) or not value:
        return None
    try:
        shares = {str(who): int(share) for who, share in value.items()}
    except (TypeError, ValueError):
        return None
    if any(not 0 <= share <= 100 for share in shares.values()) or sum(shares.values()) != 100:
        return None
    return shares


def decide(facts: AttributionFacts, parameters: Mapping[str, Any]) -> AttributionDecision:
    """Who owns ``facts.customer`` at ``facts.as_of`` and how each of its deals splits, with the
    rule, the facts used and the ledger entries the decision rests on (RE9–RE31)."""
    return _Attribution(facts, parameters).run(facts)
