"""The pure part of the attribution engine: ledger rows into the ``AttributionFacts`` a vertical's
policy decides on, corrections and confirmations applied, relations read both ways, a decision
turned into the projection's stored form and back. No I/O here: ``replay`` is the same code the
service runs after each entry, so the projection can be rebuilt from the ledger alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from core.plugins.types import (
    DIRECT_RELATIONS,
    AttributionDecision,
    AttributionFacts,
    AttributionPolicy,
    ContractError,
    DealSplit,
    LedgerEntry,
    LedgerKind,
    ParameterValue,
    RelatedLedger,
    Relation,
)

# Kinds that name (refers_to) the entry they concern; the others name none.
REFERRING = frozenset({LedgerKind.CONFIRMATION, LedgerKind.CORRECTION, LedgerKind.DEAL_CHANGE,
                       LedgerKind.DISPUTE_DECISION, LedgerKind.RECOGNITION})
# Kinds nothing may confirm (a confirmation confirms a fact, not another confirmation or a voiding).
UNCONFIRMABLE = frozenset({LedgerKind.CONFIRMATION, LedgerKind.CORRECTION})
DATA_MAX_CHARS = 8_000  # an entry's data as JSON text

INVERSE = {Relation.PARENT: Relation.CHILD, Relation.CHILD: Relation.PARENT,
           Relation.PARENT_IN_LAW: Relation.CHILD_IN_LAW, Relation.CHILD_IN_LAW: Relation.PARENT_IN_LAW,
           Relation.SPOUSE: Relation.SPOUSE, Relation.SIBLING: Relation.SIBLING, Relation.OTHER: Relation.OTHER}

# The columns a decision reads: no more (acceptance 6: deciding costs little more than reading).
Row = Mapping[str, Any]


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def inverse(relation: str) -> str:
    """How the customer is related to the related one: parent <-> child, spouse <-> spouse, ..."""
    return INVERSE[Relation(relation)].value


def is_direct(relation: str) -> bool:
    """Spouses, parents and children, parents- and children-in-law (RE24-RE25); not siblings."""
    return Relation(relation) in DIRECT_RELATIONS


def stored_pair(customer_id: Any, related_id: Any, relation: str) -> tuple[Any, Any, str]:
    """The pair as stored: the lower id first, the relation turned to match (one row per pair)."""
    if str(related_id) < str(customer_id):
        return related_id, customer_id, inverse(relation)
    return customer_id, related_id, Relation(relation).value


def seen_from(customer_id: Any, row: Row) -> tuple[Any, str]:
    """(the other customer, how it is related to ``customer_id``) of a stored relation row."""
    if row["customer_id"] == customer_id:
        return row["related_id"], row["relation"]
    return row["customer_id"], inverse(row["relation"])


def voided_and_confirmed(rows: Sequence[Row]) -> tuple[set[Any], set[Any]]:
    """The ids corrections void and the ids confirmations confirm. A correction may itself be
    voided by a later one (its target then stands again): an entry only refers to earlier ones,
    so walking the ledger backwards settles every correction before what it names."""
    voided: set[Any] = set()
    for row in sorted(rows, key=lambda r: r["seq"], reverse=True):
        if row["kind"] == LedgerKind.CORRECTION and row["id"] not in voided:
            voided.add(row["refers_to"])
    confirmed = {row["refers_to"] for row in rows
                 if row["kind"] == LedgerKind.CONFIRMATION and row["id"] not in voided}
    return voided, confirmed


def _data(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else json.loads(value or "{}")


def entries(rows: Sequence[Row], *, as_of: datetime | None = None) -> tuple[LedgerEntry, ...]:
    """A customer's ledger rows as a policy sees them, in ``seq`` order: entries after ``as_of``
    ignored, voided entries and the corrections themselves left out, confirmed ones marked."""
    ordered = sorted(rows, key=lambda r: r["seq"])
    if as_of is not None:
        ordered = [r for r in ordered if utc(r["at"]) <= as_of]
    voided, confirmed = voided_and_confirmed(ordered)
    return tuple(
        LedgerEntry(id=str(r["id"]), seq=int(r["seq"]), customer=str(r["customer_id"]), kind=r["kind"],
                    at=utc(r["at"]), consultant=None if r["consultant_id"] is None else str(r["consultant_id"]),
                    data=_data(r["data"]), refers_to=None if r["refers_to"] is None else str(r["refers_to"]),
                    confirmed=r["id"] in confirmed)
        for r in ordered if r["id"] not in voided and r["kind"] != LedgerKind.CORRECTION)


def moment(rows: Sequence[Row]) -> datetime | None:
    """The moment the projection is decided at: the latest ``at`` of the customer's entries, so
    the stored owner is a function of the ledger alone and replays exactly."""
    return max((utc(r["at"]) for r in rows), default=None)  # type: ignore[type-var]


def facts(customer_id: Any, rows: Sequence[Row], relatives: Iterable[tuple[Any, str, Sequence[Row]]], *,
          as_of: datetime | None, zone: str) -> AttributionFacts:
    """The facts of one customer: its entries and each related customer's (relation as seen
    from this customer, ``direct`` for direct relatives), all as of ``as_of``."""
    return AttributionFacts(
        customer=str(customer_id), entries=entries(rows, as_of=as_of),
        relatives=tuple(RelatedLedger(customer=str(other), relation=relation, direct=is_direct(relation),
                                      entries=entries(other_rows, as_of=as_of))
                        for other, relation, other_rows in sorted(relatives, key=lambda r: str(r[0]))),
        as_of=as_of, zone=zone)


def decide(policy: AttributionPolicy, facts_: AttributionFacts,
           parameters: Mapping[str, ParameterValue]) -> AttributionDecision:
    decision = policy.decide(facts_, parameters)
    if not isinstance(decision, AttributionDecision):
        raise ContractError(f"attribution policy {policy.id!r} returned {type(decision).__name__}, "
                            "not an AttributionDecision")
    return decision


def valid_until(decision: AttributionDecision) -> datetime | None:
    """``facts["valid_until"]`` of the decision (a moment, a date or ISO text), when the policy
    gives one: the real-estate policy gives the last follow-up plus the validity months."""
    value = decision.facts.get("valid_until")
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise ContractError(f"attribution rule {decision.rule!r}: valid_until is not a moment")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)


def stored(decision: AttributionDecision) -> dict[str, Any]:
    """The projection's columns of a decision (JSON as text)."""
    return {
        "owner": decision.owner, "shares": dumps(decision.shares), "rule": decision.rule,
        "explanation_en": decision.explanation_en, "explanation_zh": decision.explanation_zh,
        "facts": dumps(decision.facts), "entry_ids": dumps(list(decision.entries)),
        "deals": dumps([{"deal": d.deal, "shares": d.shares, "rule": d.rule, "explanation_en": d.explanation_en,
                         "explanation_zh": d.explanation_zh, "entries": list(d.entries), "facts": d.facts}
                        for d in decision.deals]),
        "valid_until": valid_until(decision)}


def from_stored(row: Row) -> AttributionDecision:
    """A decision read back from its projection row."""
    return AttributionDecision(
        owner=None if row["owner_id"] is None else str(row["owner_id"]), shares=json.loads(row["shares"]),
        rule=row["rule"], explanation_en=row["explanation_en"], explanation_zh=row["explanation_zh"],
        entries=tuple(json.loads(row["entry_ids"])), facts=json.loads(row["facts"]),
        deals=tuple(DealSplit(deal=d["deal"], shares=d["shares"], rule=d["rule"], explanation_en=d["explanation_en"],
                              explanation_zh=d["explanation_zh"], entries=tuple(d["entries"]), facts=d["facts"])
                    for d in json.loads(row["deals"])))


def same(a: AttributionDecision, b: AttributionDecision) -> bool:
    """Equal as stored: owner, shares, rule, explanations, facts, entries and every deal's split."""
    return stored(a) == stored(b)
