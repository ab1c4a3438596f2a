"""GraphQL for the audit log: filtered, paged reading, verification, anchoring and retention."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.types import Info

from core.auditing import service as audit
from core.jobs import service as job_service
from gateway.graphql.jobs import Job, JobPayload
from gateway.graphql.common import Connection, UserError, ctx_of, keyset_connection, mutate, page_request


@strawberry.type(description="One entry of the tenant's tamper-evident audit log.")
class AuditEntry:
    seq: int
    occurred_at: datetime
    actor: str
    client_address: str | None
    request_id: str | None
    action: str
    target_type: str
    target_id: str | None
    diff: str = strawberry.field(description="JSON: field -> {from, to}, or {changed: true} for sensitive fields.")
    hash: str

    @classmethod
    def of(cls, view: audit.AuditEntryView) -> AuditEntry:
        return cls(seq=view.seq, occurred_at=view.occurred_at, actor=view.actor, client_address=view.client_address,
                   request_id=view.request_id, action=view.action, target_type=view.target_type,
                   target_id=view.target_id, diff=json.dumps(view.diff, ensure_ascii=False, sort_keys=True),
                   hash=view.hash)


@strawberry.type(description="The chain checked against itself and against its signed anchors, which are kept "
                             "outside the database.")
class AuditVerification:
    ok: bool
    checked: int
    position: int | None = strawberry.field(description="The first entry that does not hold (the first one "
                                                         "changed, when an anchor tells which).")
    kind: str | None = strawberry.field(description="missing, modified, relinked, truncated, rewritten, pruned, "
                                                     "unanchored or anchor_invalid (see the operators' guide).")
    anchored: int | None = strawberry.field(description="The newest position a signed anchor covers.")


@strawberry.input
class AuditFilterInput:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_filter(self) -> audit.AuditFilter:
        return audit.AuditFilter(actor=self.actor, action=self.action, target_type=self.target_type,
                                 target_id=self.target_id, since=self.since, until=self.until)


@strawberry.type
class AuditAnchorPayload:
    position: int | None = strawberry.field(default=None, description="The newest anchored position.")
    errors: list[UserError]


@strawberry.type
class AuditRetentionPayload:
    days: int | None = None
    errors: list[UserError]


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Audit entries, newest first. Needs audit.read.")
    async def audit_entries(self, info: Info, filter: AuditFilterInput | None = None, first: int | None = None,
                            after: str | None = None, last: int | None = None,
                            before: str | None = None) -> Connection[AuditEntry]:
        request = page_request(info, "auditEntries", first, after, last, before)
        views, more = await audit.entries_page(ctx_of(info), (filter or AuditFilterInput()).to_filter(),
                                               request.window(lambda key: (int(key[0]),)))
        return keyset_connection(request, views, more, lambda v: [v.seq], AuditEntry.of)

    @strawberry.field(description="Check the tenant's chain; the first broken position and its kind.")
    async def audit_verify(self, info: Info) -> AuditVerification:
        result = await audit.verify(ctx_of(info))
        return AuditVerification(ok=result.ok, checked=result.checked, position=result.position, kind=result.kind,
                                 anchored=result.anchored)


@strawberry.type
class AuditMutation:
    @strawberry.mutation(description="Export matching entries as JSON Lines in a background job; watch it with "
                                     "`job(id)` and download from its downloadUrl. Needs audit.read.")
    async def audit_export_start(self, info: Info, filter: AuditFilterInput | None = None) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await audit.start_export(ctx, (filter or AuditFilterInput()).to_filter())
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)

    @strawberry.mutation(description="Anchor the tenant's chain now: its head and every entry hash since the last "
                                     "anchor, signed with a key the database does not hold and stored outside it "
                                     "(e.g. before and after an inspection). Needs audit.read.")
    async def audit_anchor(self, info: Info) -> AuditAnchorPayload:
        async def call() -> dict:
            return {"position": await audit.anchor(ctx_of(info))}
        return await mutate(info, AuditAnchorPayload, call)

    @strawberry.mutation(description="How long audit entries are kept (days, 365 to 36500; default 1095).")
    async def audit_retention_update(self, info: Info, days: int) -> AuditRetentionPayload:
        async def call() -> dict:
            return {"days": await audit.set_audit_retention_days(ctx_of(info), days)}
        return await mutate(info, AuditRetentionPayload, call)
