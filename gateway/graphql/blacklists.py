"""GraphQL for the blacklists (issue 20, MD13–MD16): thin resolvers over core.blacklists.service.

A customer is proposed for the company blacklist or a department's with a reason and evidence
(``blacklistPropose``); another user approves (the entry takes effect and is filed with the company
level) or rejects it; an active entry may be lifted early; the tick expires it. Every business
action on a listed customer in its scope is refused with ``CUSTOMER_BLACKLISTED``, whose message
names the scope and the expiry. The grading scheme whose rules apply (allowed scopes, default
validity) is the one named by ``vertical`` and ``scheme``, else the one scheme of the tenant's
enabled verticals that declares blacklist rules, else core's defaults.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.blacklists import service as blacklists
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)


@strawberry.enum(description="Where a blacklist entry applies: COMPANY (every department, 公司黑名单) or "
                             "DEPARTMENT (one department, 部门黑名单).")
class BlacklistScope(Enum):
    COMPANY = "tenant"
    DEPARTMENT = "department"


@strawberry.enum(description="PROPOSED (blocks nothing yet), ACTIVE (in force until its expiry), REJECTED, "
                             "LIFTED (ended early, with a reason), EXPIRED (ended by the tick at its expiry).")
class BlacklistState(Enum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"
    LIFTED = "lifted"
    EXPIRED = "expired"


@strawberry.type(description="One item of a blacklist entry's evidence: a text and/or a reference (a document "
                             "number, a file reference; never the file).")
class BlacklistEvidence:
    text: str | None
    reference: str | None


@strawberry.input
class BlacklistEvidenceInput:
    text: str | None = None
    reference: str | None = None


@strawberry.type(description="A customer on the company blacklist or a department's (MD13–MD15).")
class BlacklistEntry:
    id: strawberry.ID
    customer_id: strawberry.ID
    scope: BlacklistScope
    department_id: strawberry.ID | None = strawberry.field(description="The department of a DEPARTMENT entry.")
    state: BlacklistState
    in_force: bool = strawberry.field(description="Whether it blocks business now: active and not past its expiry.")
    reason: str
    evidence: list[BlacklistEvidence]
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    starts_at: datetime | None = strawberry.field(description="When it took effect (its approval).")
    expires_at: datetime | None = strawberry.field(description="Null: no expiry (the company blacklist by default).")
    validity_days: int | None = strawberry.field(description="A shortened validity asked for at proposal (MD15); "
                                                             "null: the default.")
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    version: int

    @classmethod
    def of(cls, e: blacklists.EntryView) -> BlacklistEntry:
        at = blacklists.now()
        return cls(id=strawberry.ID(str(e.id)), customer_id=strawberry.ID(str(e.customer_id)),
                   scope=BlacklistScope(e.scope),
                   department_id=None if e.department_id is None else strawberry.ID(str(e.department_id)),
                   state=BlacklistState(e.status),
                   in_force=e.status == "active" and (e.expires_at is None or e.expires_at > at),
                   reason=e.reason, evidence=[BlacklistEvidence(text=i.get("text"), reference=i.get("reference"))
                                              for i in e.evidence],
                   proposed_by=e.proposed_by, proposed_at=e.proposed_at, approved_by=e.approved_by,
                   approved_at=e.approved_at, starts_at=e.starts_at, expires_at=e.expires_at,
                   validity_days=e.validity_days, ended_at=e.ended_at, ended_by=e.ended_by, end_reason=e.end_reason,
                   version=e.version)


@strawberry.type(description="A customer's standing on the blacklists: the entries in force (company first) and "
                             "every entry it ever had, newest proposal first.")
class CustomerBlacklist:
    customer_id: strawberry.ID
    blocked: bool = strawberry.field(description="Whether an entry is in force for the department asked about (or, "
                                                 "with none named, on the company blacklist or any department's).")
    in_force: list[BlacklistEntry]
    entries: list[BlacklistEntry]


@strawberry.type(description="The tenant's blacklist rules (seed-002 R5-16).")
class BlacklistRules:
    company_days: int = strawberry.field(description="Days a company blacklist entry lasts; 0: no expiry.")


@strawberry.input
class BlacklistProposeInput:
    customer_id: strawberry.ID
    scope: BlacklistScope
    department_id: strawberry.ID | None = strawberry.field(default=None, description="For a DEPARTMENT entry.")
    reason: str
    evidence: list[BlacklistEvidenceInput]
    validity_days: int | None = strawberry.field(default=None, description=(
        "A validity shorter than the default, in days (MD15: may be shortened, never lengthened)."))
    vertical: str | None = strawberry.field(default=None, description="With scheme: the grading scheme whose "
                                                                      "blacklist scopes and validity apply.")
    scheme: str | None = None


@strawberry.type
class BlacklistEntryPayload:
    entry: BlacklistEntry | None = None
    errors: list[UserError]


@strawberry.type
class BlacklistRulesPayload:
    rules: BlacklistRules | None = None
    errors: list[UserError]


def _optional_id(value: strawberry.ID | None, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


def _registry(info: Info) -> Any:
    return info.context.registry


@strawberry.type
class BlacklistQuery:
    @strawberry.field(description="A blacklist entry (blacklist.read).")
    async def blacklist_entry(self, info: Info, id: strawberry.ID) -> BlacklistEntry:
        return BlacklistEntry.of(await blacklists.get_entry(ctx_of(info), parse_id(id, "id")))

    @strawberry.field(description="A customer's standing on the blacklists (blacklist.read): departmentId: only the "
                                  "entries that bind that department (every company entry and its own).")
    async def customer_blacklist(self, info: Info, customer_id: strawberry.ID,
                                 department_id: strawberry.ID | None = None) -> CustomerBlacklist:
        customer = parse_id(customer_id, "customerId")
        department = _optional_id(department_id, "departmentId")
        in_force = await blacklists.customer_in_force(ctx_of(info), customer, department_id=department)
        entries = await blacklists.customer_entries(ctx_of(info), customer)
        return CustomerBlacklist(customer_id=strawberry.ID(str(customer)), blocked=bool(in_force),
                                 in_force=[BlacklistEntry.of(e) for e in in_force],
                                 entries=[BlacklistEntry.of(e) for e in entries])

    @strawberry.field(description="The tenant's blacklist entries, newest proposal first (blacklist.read), by scope, "
                                  "state, department and customer.")
    async def blacklist_entries(self, info: Info, scope: BlacklistScope | None = None,
                                state: BlacklistState | None = None, department_id: strawberry.ID | None = None,
                                customer_id: strawberry.ID | None = None, first: int | None = None,
                                after: str | None = None, last: int | None = None,
                                before: str | None = None) -> Connection[BlacklistEntry]:
        department = _optional_id(department_id, "departmentId")
        customer = _optional_id(customer_id, "customerId")
        request = page_request(info, "blacklistEntries", first, after, last, before)
        found, more = await blacklists.list_entries(
            ctx_of(info), request.window(time_id_key), scope=None if scope is None else scope.value,
            status=None if state is None else state.value, department_id=department, customer_id=customer)
        return keyset_connection(request, found, more, lambda e: [e.proposed_at, e.id], BlacklistEntry.of)

    @strawberry.field(description="The tenant's blacklist rules.")
    async def blacklist_rules(self, info: Info) -> BlacklistRules:
        rules = await blacklists.read_blacklist_rules(ctx_of(info))
        return BlacklistRules(company_days=rules["company_days"])


@strawberry.type
class BlacklistMutation:
    @strawberry.mutation(description="Propose a customer for the company blacklist or a department's, with a reason "
                                     "and evidence (blacklist.propose, MD13); it blocks nothing until another user "
                                     "approves it.")
    async def blacklist_propose(self, info: Info, input: BlacklistProposeInput) -> BlacklistEntryPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            scheme = await blacklists.scheme_for(ctx, _registry(info), input.vertical, input.scheme)
            evidence = [{k: v for k, v in (("text", i.text), ("reference", i.reference)) if v is not None}
                        for i in input.evidence]
            view = await blacklists.propose(
                ctx, parse_id(input.customer_id, "customer_id"), scope=input.scope.value, reason=input.reason,
                evidence=evidence, department_id=_optional_id(input.department_id, "department_id"),
                validity_days=input.validity_days, scheme=scheme)
            return {"entry": BlacklistEntry.of(view)}
        return await mutate(info, BlacklistEntryPayload, call)

    @strawberry.mutation(description="Approve a proposal (blacklist.approve; not its proposer): the entry takes "
                                     "effect now, expires after its validity and is filed with the company level "
                                     "(MD13). version: the entry's version as read (VERSION_CONFLICT otherwise).")
    async def blacklist_approve(self, info: Info, id: strawberry.ID, version: int, note: str | None = None,
                                vertical: str | None = None, scheme: str | None = None) -> BlacklistEntryPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            rules = await blacklists.scheme_for(ctx, _registry(info), vertical, scheme)
            view = await blacklists.approve(ctx, parse_id(id, "id"), version=version, note=note, scheme=rules)
            return {"entry": BlacklistEntry.of(view)}
        return await mutate(info, BlacklistEntryPayload, call)

    @strawberry.mutation(description="Reject a proposal with a reason (blacklist.approve; not its proposer).")
    async def blacklist_reject(self, info: Info, id: strawberry.ID, version: int, reason: str) -> BlacklistEntryPayload:
        async def call() -> dict:
            view = await blacklists.reject(ctx_of(info), parse_id(id, "id"), version=version, reason=reason)
            return {"entry": BlacklistEntry.of(view)}
        return await mutate(info, BlacklistEntryPayload, call)

    @strawberry.mutation(description="Lift an active entry before its expiry, with a reason (blacklist.lift).")
    async def blacklist_lift(self, info: Info, id: strawberry.ID, version: int, reason: str) -> BlacklistEntryPayload:
        async def call() -> dict:
            view = await blacklists.lift(ctx_of(info), parse_id(id, "id"), version=version, reason=reason)
            return {"entry": BlacklistEntry.of(view)}
        return await mutate(info, BlacklistEntryPayload, call)

    @strawberry.mutation(description="Set the tenant's blacklist rules (tenant.settings.manage): companyDays, the "
                                     "validity of a company entry in days (0: no expiry; seed-002 R5-16).")
    async def blacklist_rules_update(self, info: Info, company_days: int) -> BlacklistRulesPayload:
        async def call() -> dict:
            rules = await blacklists.update_blacklist_rules(ctx_of(info), {"company_days": company_days})
            return {"rules": BlacklistRules(company_days=rules["company_days"])}
        return await mutate(info, BlacklistRulesPayload, call)
