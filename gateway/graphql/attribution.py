"""GraphQL for the attribution engine (issue 21): thin resolvers over core.attribution.service.

A customer's ledger of a vertical is append-only: ``attributionEntryRecord`` adds an entry
(a correction or a confirmation is an entry naming the one it concerns) and answers the
customer's decision after it; no operation edits or deletes an entry. ``attributionDecision``
decides again from the ledger (``asOf``: as of that moment), with the rule, the explanation in
English and Chinese, the facts and the entries it rests on, and each deal's split. Customers are
related with ``customerRelationAdd`` (read both ways). Disputes: a party opens one over a deal,
the project manager writes the opinion, the sales director (not the opinion's writer) approves
it, which records a DISPUTE_DECISION entry (RE31), or rejects it.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.attribution import policy as rules
from core.attribution import service as attribution
from core.plugins.types import AttributionDecision as Decision
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _optional_id(value: strawberry.ID | None, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


@strawberry.enum(description="What a ledger entry records (the ledger is append-only: CONFIRMATION and CORRECTION "
                             "name the entry they concern; DISPUTE_DECISION comes only from an approved dispute).")
class LedgerKind(Enum):
    REGISTRATION = "registration"
    FOLLOW_UP = "follow_up"
    PRE_DECLARATION = "pre_declaration"
    PHONE_INQUIRY = "phone_inquiry"
    VISIT = "visit"
    RECOGNITION = "recognition"
    CONFIRMATION = "confirmation"
    DEAL = "deal"
    DEAL_CHANGE = "deal_change"
    TRANSFER = "transfer"
    DISPUTE_DECISION = "dispute_decision"
    CORRECTION = "correction"


@strawberry.enum(description="How a related customer is related to the customer: SPOUSE, PARENT, CHILD, "
                             "PARENT_IN_LAW, CHILD_IN_LAW are direct relatives (直系亲属, RE24); SIBLING and OTHER "
                             "are not (RE25).")
class CustomerRelationKind(Enum):
    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    PARENT_IN_LAW = "parent_in_law"
    CHILD_IN_LAW = "child_in_law"
    SIBLING = "sibling"
    OTHER = "other"


@strawberry.enum(description="OPEN -> OPINION_GIVEN (the project manager's opinion) -> APPROVED (the sales "
                             "director: a DISPUTE_DECISION entry) | REJECTED.")
class AttributionDisputeState(Enum):
    OPEN = "open"
    OPINION_GIVEN = "opinion_given"
    APPROVED = "approved"
    REJECTED = "rejected"


@strawberry.type(description="One entry of a customer's attribution ledger (never edited, never deleted).")
class AttributionEntry:
    id: strawberry.ID
    seq: int = strawberry.field(description="Its position in the organisation's ledger.")
    customer_id: strawberry.ID
    vertical: str
    kind: LedgerKind
    at: datetime = strawberry.field(description="When it happened.")
    consultant_id: strawberry.ID | None
    data: JSON = strawberry.field(description="What the vertical records with this kind (docs/integrators.md).")
    refers_to: strawberry.ID | None = strawberry.field(description="The entry it confirms, corrects or changes.")
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, e: attribution.EntryView) -> AttributionEntry:
        return cls(id=strawberry.ID(str(e.id)), seq=e.seq, customer_id=strawberry.ID(str(e.customer_id)),
                   vertical=e.vertical, kind=LedgerKind(e.kind), at=e.at, consultant_id=_id(e.consultant_id),
                   data=dict(e.data), refers_to=_id(e.refers_to), recorded_by=e.recorded_by,
                   recorded_at=e.recorded_at)


@strawberry.type(description="A consultant's share of a commission, in percent.")
class AttributionShare:
    consultant_id: strawberry.ID
    percent: int


@strawberry.type(description="A consultant a decision names.")
class AttributionConsultant:
    id: strawberry.ID
    display_name: str | None


@strawberry.type(description="How one deal's commission splits, and why.")
class AttributionDealSplit:
    deal_id: strawberry.ID = strawberry.field(description="The DEAL entry.")
    shares: list[AttributionShare]
    rule: str
    explanation_en: str
    explanation_zh: str
    entries: list[strawberry.ID]
    facts: JSON


def _json(value: Any) -> Any:
    """Facts as JSON (moments as ISO text)."""
    return json.loads(rules.dumps(value))


def _shares(shares: Any) -> list[AttributionShare]:
    return [AttributionShare(consultant_id=strawberry.ID(str(k)), percent=int(v))
            for k, v in sorted(shares.items(), key=lambda kv: (-kv[1], str(kv[0])))]


@strawberry.type(description="Who owns a customer in a vertical, how commission splits and why: the rule, the "
                             "explanation (English and Chinese), the facts used and the ledger entries it rests on.")
class AttributionDecision:
    customer_id: strawberry.ID
    vertical: str
    owner_id: strawberry.ID | None
    owner: AttributionConsultant | None
    shares: list[AttributionShare]
    rule: str
    explanation_en: str
    explanation_zh: str
    facts: JSON
    entries: list[strawberry.ID]
    deals: list[AttributionDealSplit]

    @classmethod
    def of(cls, customer_id: Any, vertical: str, d: Decision, names: dict[UUID, str] | None = None
           ) -> AttributionDecision:
        owner = None
        if d.owner is not None:
            owner = AttributionConsultant(id=strawberry.ID(d.owner), display_name=(names or {}).get(UUID(d.owner)))
        return cls(customer_id=strawberry.ID(str(customer_id)), vertical=vertical, owner_id=_id(d.owner), owner=owner,
                   shares=_shares(d.shares), rule=d.rule, explanation_en=d.explanation_en,
                   explanation_zh=d.explanation_zh, facts=_json(d.facts),
                   entries=[strawberry.ID(e) for e in d.entries],
                   deals=[AttributionDealSplit(deal_id=strawberry.ID(s.deal), shares=_shares(s.shares), rule=s.rule,
                                               explanation_en=s.explanation_en, explanation_zh=s.explanation_zh,
                                               entries=[strawberry.ID(e) for e in s.entries],
                                               facts=_json(s.facts))
                          for s in d.deals])


async def _decision(info: Info, customer_id: Any, vertical: str, d: Decision) -> AttributionDecision:
    names = await attribution.consultant_names(ctx_of(info), [UUID(d.owner)] if d.owner else [])
    return AttributionDecision.of(customer_id, vertical, d, names)


@strawberry.type(description="A customer's stored owner in a vertical (the projection of its ledger): reports list "
                             "valid and invalid customers by validUntil.")
class AttributionOwner:
    customer_id: strawberry.ID
    vertical: str
    owner_id: strawberry.ID | None
    valid_until: datetime | None = strawberry.field(description="When the attribution lapses (the real-estate "
                                                                "policy: the last follow-up plus the validity months).")
    decided_at: datetime
    decision: AttributionDecision

    @classmethod
    def of(cls, o: attribution.OwnerView, names: dict[UUID, str] | None = None) -> AttributionOwner:
        return cls(customer_id=strawberry.ID(str(o.customer_id)), vertical=o.vertical, owner_id=_id(o.owner_id),
                   valid_until=o.valid_until, decided_at=o.decided_at,
                   decision=AttributionDecision.of(o.customer_id, o.vertical, o.decision, names))


@strawberry.type(description="How a related customer is related to the customer (stored once, read both ways).")
class CustomerRelation:
    id: strawberry.ID
    customer_id: strawberry.ID
    related_id: strawberry.ID
    relation: CustomerRelationKind
    direct: bool = strawberry.field(description="A direct relative (直系亲属: spouse, parent, child, in-laws).")
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, r: attribution.RelationView) -> CustomerRelation:
        return cls(id=strawberry.ID(str(r.id)), customer_id=strawberry.ID(str(r.customer_id)),
                   related_id=strawberry.ID(str(r.related_id)), relation=CustomerRelationKind(r.relation),
                   direct=r.direct, recorded_by=r.recorded_by, recorded_at=r.recorded_at)


@strawberry.type(description="A dispute over a deal's attribution (RE31).")
class AttributionDispute:
    id: strawberry.ID
    customer_id: strawberry.ID
    vertical: str
    deal_entry_id: strawberry.ID
    opened_by: str
    opened_at: datetime
    claim: str
    state: AttributionDisputeState
    opinion: str | None
    fault: str | None
    contribution: str | None
    proposed_owner_id: strawberry.ID | None
    proposed_shares: list[AttributionShare] | None
    opinion_by: str | None
    opinion_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    decision_entry_id: strawberry.ID | None = strawberry.field(description="The DISPUTE_DECISION entry of an "
                                                                           "approval.")
    version: int

    @classmethod
    def of(cls, d: attribution.DisputeView) -> AttributionDispute:
        return cls(id=strawberry.ID(str(d.id)), customer_id=strawberry.ID(str(d.customer_id)), vertical=d.vertical,
                   deal_entry_id=strawberry.ID(str(d.deal_entry_id)), opened_by=d.opened_by, opened_at=d.opened_at,
                   claim=d.claim, state=AttributionDisputeState(d.state), opinion=d.opinion, fault=d.fault,
                   contribution=d.contribution, proposed_owner_id=_id(d.proposed_owner),
                   proposed_shares=None if d.proposed_shares is None else _shares(d.proposed_shares),
                   opinion_by=d.opinion_by, opinion_at=d.opinion_at, decided_by=d.decided_by, decided_at=d.decided_at,
                   decision_note=d.decision_note, decision_entry_id=_id(d.decision_entry_id), version=d.version)


@strawberry.input
class AttributionEntryRecordInput:
    customer_id: strawberry.ID
    vertical: str
    kind: LedgerKind
    at: datetime = strawberry.field(description="When it happened (with its offset; not in the future).")
    consultant_id: strawberry.ID | None = None
    data: JSON | None = strawberry.field(default=None, description="A JSON object of at most 8,000 characters.")
    refers_to: strawberry.ID | None = strawberry.field(default=None, description=(
        "For CONFIRMATION, CORRECTION, DEAL_CHANGE, RECOGNITION: the entry of the same customer it concerns."))


@strawberry.input
class AttributionShareInput:
    consultant_id: strawberry.ID
    percent: int


@strawberry.type
class AttributionEntryPayload:
    entry: AttributionEntry | None = None
    decision: AttributionDecision | None = None
    errors: list[UserError]


@strawberry.type
class CustomerRelationPayload:
    relation: CustomerRelation | None = None
    errors: list[UserError]


@strawberry.type
class AttributionDisputePayload:
    dispute: AttributionDispute | None = None
    entry: AttributionEntry | None = strawberry.field(default=None, description="The DISPUTE_DECISION entry of an "
                                                                                 "approval.")
    decision: AttributionDecision | None = None
    errors: list[UserError]


def _registry(info: Info) -> Any:
    return info.context.registry


def _seq_key(key: list[Any]) -> tuple[int]:
    (seq,) = key
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise ValueError("seq")
    return (seq,)


def _owner_key(key: list[Any]) -> tuple[UUID, str]:
    customer, vertical = key
    return UUID(customer), str(vertical)


@strawberry.type
class AttributionQuery:
    @strawberry.field(description="A customer's attribution ledger in order (attribution.read, within your reach: own "
                                  "scope reads the customers you own or are on the ledger of), of one vertical or all, "
                                  "corrected entries included.")
    async def attribution_ledger(self, info: Info, customer_id: strawberry.ID, vertical: str | None = None,
                                 kinds: list[LedgerKind] | None = None, first: int | None = None,
                                 after: str | None = None, last: int | None = None,
                                 before: str | None = None) -> Connection[AttributionEntry]:
        customer = parse_id(customer_id, "customerId")
        request = page_request(info, "attributionLedger", first, after, last, before)
        found, more = await attribution.ledger(ctx_of(info), _registry(info), customer, request.window(_seq_key),
                                               vertical=vertical, kinds=[k.value for k in kinds] if kinds else None)
        return keyset_connection(request, found, more, lambda e: [e.seq], AttributionEntry.of)

    @strawberry.field(description="Who owns the customer in the vertical and how commission splits, decided now from "
                                  "the ledger, or as of asOf (entries after it ignored); attribution.read.")
    async def attribution_decision(self, info: Info, customer_id: strawberry.ID, vertical: str,
                                   as_of: datetime | None = None) -> AttributionDecision:
        customer = parse_id(customer_id, "customerId")
        decided = await attribution.decision(ctx_of(info), _registry(info), customer, vertical, as_of)
        return await _decision(info, customer, vertical, decided)

    @strawberry.field(description="The customer's relations, each as seen from it (customer.read).")
    async def customer_relations(self, info: Info, customer_id: strawberry.ID, first: int | None = None,
                                 after: str | None = None, last: int | None = None,
                                 before: str | None = None) -> Connection[CustomerRelation]:
        customer = parse_id(customer_id, "customerId")
        request = page_request(info, "customerRelations", first, after, last, before)
        found = await attribution.relations(ctx_of(info), customer)
        return list_connection(request, found, lambda r: [str(r.id)], CustomerRelation.of)

    @strawberry.field(description="An attribution dispute (attribution.read).")
    async def attribution_dispute(self, info: Info, id: strawberry.ID) -> AttributionDispute:
        return AttributionDispute.of(await attribution.get_dispute(ctx_of(info), parse_id(id, "id")))

    @strawberry.field(description="Attribution disputes, newest first (attribution.read; with own or department "
                                  "scope, those you opened), by state and customer.")
    async def attribution_disputes(self, info: Info, state: AttributionDisputeState | None = None,
                                   customer_id: strawberry.ID | None = None, first: int | None = None,
                                   after: str | None = None, last: int | None = None,
                                   before: str | None = None) -> Connection[AttributionDispute]:
        customer = _optional_id(customer_id, "customerId")
        request = page_request(info, "attributionDisputes", first, after, last, before)
        found, more = await attribution.list_disputes(ctx_of(info), request.window(time_id_key),
                                                      state=None if state is None else state.value,
                                                      customer_id=customer)
        return keyset_connection(request, found, more, lambda d: [d.opened_at, d.id], AttributionDispute.of)

    @strawberry.field(description="The stored owners (the ledger's projection) by customer, of one vertical or all "
                                  "(attribution.read; own scope: the customers you own): by owner, and valid (true: "
                                  "no validUntil or one still ahead; false: lapsed).")
    async def attribution_owners(self, info: Info, vertical: str | None = None, owner_id: strawberry.ID | None = None,
                                 valid: bool | None = None, first: int | None = None, after: str | None = None,
                                 last: int | None = None, before: str | None = None) -> Connection[AttributionOwner]:
        owner = _optional_id(owner_id, "ownerId")
        request = page_request(info, "attributionOwners", first, after, last, before)
        found, more = await attribution.owners(ctx_of(info), _registry(info), vertical, request.window(_owner_key),
                                               owner_id=owner, valid=valid)
        # the owners' names in one look-up for the page (bounded by its size), as a single decision has them
        names = await attribution.consultant_names(
            ctx_of(info), sorted({UUID(str(o.decision.owner)) for o in found if o.decision.owner}, key=str))
        return keyset_connection(request, found, more, lambda o: [str(o.customer_id), o.vertical],
                                 lambda o: AttributionOwner.of(o, names))


@strawberry.type
class AttributionMutation:
    @strawberry.mutation(description="Append an entry to a customer's attribution ledger (attribution.record; a "
                                     "CONFIRMATION needs attribution.confirm) and answer the customer's decision "
                                     "after it. Nothing edits or deletes an entry: a CORRECTION voids the entry it "
                                     "names (never a confirmed one: ATTRIBUTION_ENTRY_CONFIRMED).")
    async def attribution_entry_record(self, info: Info, input: AttributionEntryRecordInput) -> AttributionEntryPayload:
        async def call() -> dict:
            recorded = await attribution.record_entry(
                ctx_of(info), _registry(info), parse_id(input.customer_id, "customer_id"), vertical=input.vertical,
                kind=input.kind.value, at=input.at,
                consultant_id=_optional_id(input.consultant_id, "consultant_id"), data=input.data,
                refers_to=_optional_id(input.refers_to, "refers_to"))
            return {"entry": AttributionEntry.of(recorded.entry),
                    "decision": await _decision(info, recorded.entry.customer_id, input.vertical, recorded.decision)}
        return await mutate(info, AttributionEntryPayload, call)

    @strawberry.mutation(description="Record how two customers are related (customer.relate): relatedId is relation "
                                     "of customerId (PARENT: the related customer is a parent). Read both ways.")
    async def customer_relation_add(self, info: Info, customer_id: strawberry.ID, related_id: strawberry.ID,
                                    relation: CustomerRelationKind) -> CustomerRelationPayload:
        async def call() -> dict:
            made = await attribution.relate(ctx_of(info), _registry(info), parse_id(customer_id, "customer_id"),
                                            parse_id(related_id, "related_id"), relation.value)
            return {"relation": CustomerRelation.of(made)}
        return await mutate(info, CustomerRelationPayload, call)

    @strawberry.mutation(description="Open a dispute over a deal (attribution.dispute.open; a consultant of the "
                                     "customer's ledger, or a project manager).")
    async def attribution_dispute_open(self, info: Info, deal_entry_id: strawberry.ID,
                                       claim: str) -> AttributionDisputePayload:
        async def call() -> dict:
            made = await attribution.open_dispute(ctx_of(info), parse_id(deal_entry_id, "deal_entry_id"), claim=claim)
            return {"dispute": AttributionDispute.of(made)}
        return await mutate(info, AttributionDisputePayload, call)

    @strawberry.mutation(description="The project manager's written opinion (attribution.dispute.opinion): fault, "
                                     "contribution, the proposed owner and shares summing to 100.")
    async def attribution_dispute_opinion(self, info: Info, id: strawberry.ID, version: int, opinion: str,
                                          owner_id: strawberry.ID, shares: list[AttributionShareInput],
                                          fault: str | None = None,
                                          contribution: str | None = None) -> AttributionDisputePayload:
        async def call() -> dict:
            split: dict[str, int] = {}
            for share in shares:
                consultant = str(parse_id(share.consultant_id, "shares"))
                split[consultant] = split.get(consultant, 0) + share.percent
            made = await attribution.give_opinion(ctx_of(info), parse_id(id, "id"), version=version, opinion=opinion,
                                                  fault=fault, contribution=contribution,
                                                  owner_id=parse_id(owner_id, "owner_id"), shares=split)
            return {"dispute": AttributionDispute.of(made)}
        return await mutate(info, AttributionDisputePayload, call)

    @strawberry.mutation(description="Approve a dispute's opinion (attribution.dispute.approve; not the opinion's "
                                     "writer): a DISPUTE_DECISION entry naming the deal joins the ledger (RE31).")
    async def attribution_dispute_approve(self, info: Info, id: strawberry.ID, version: int,
                                          note: str | None = None) -> AttributionDisputePayload:
        async def call() -> dict:
            made, recorded = await attribution.approve_dispute(ctx_of(info), _registry(info), parse_id(id, "id"),
                                                               version=version, note=note)
            return {"dispute": AttributionDispute.of(made), "entry": AttributionEntry.of(recorded.entry),
                    "decision": await _decision(info, made.customer_id, made.vertical, recorded.decision)}
        return await mutate(info, AttributionDisputePayload, call)

    @strawberry.mutation(description="Reject a dispute, with a reason (attribution.dispute.approve; not the opinion's "
                                     "writer): the ledger is unchanged.")
    async def attribution_dispute_reject(self, info: Info, id: strawberry.ID, version: int,
                                         reason: str) -> AttributionDisputePayload:
        async def call() -> dict:
            made = await attribution.reject_dispute(ctx_of(info), parse_id(id, "id"), version=version, reason=reason)
            return {"dispute": AttributionDispute.of(made)}
        return await mutate(info, AttributionDisputePayload, call)
