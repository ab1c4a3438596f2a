"""GraphQL for archives (档案): thin resolvers over the use cases of core.archives."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.archives import common as archive_common
from core.privacy.masking import free_text_for_reader

from core.archives import folders as archive_folders

from core.archives import kpi as archive_kpi

from core.archives import lifecycle as archive_lifecycle

from core.archives import quality as archive_quality

from core.archives import reconciliation as archive_reconciliation

from core.archives import exceptions as archive_exceptions

from core.archives import nonconforming as archive_nonconforming

from core.archives import schedule as archive_schedule
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
    time_id_key,
)


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(description="One folder per subject (一车一档: one per vehicle), linked to its customers.")
class ArchiveFolder(Node):
    id: strawberry.ID
    vertical: str
    subject_kind: str
    subject_key: str
    raw_facts: strawberry.Private[Any]
    owner_customer_id: strawberry.ID | None
    contact_customer_id: strawberry.ID | None
    retention_until: datetime | None
    retention_rule: str | None
    sealed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, f: archive_common.FolderView) -> ArchiveFolder:
        return cls(id=_id(f.id), vertical=f.vertical, subject_kind=f.subject_kind, subject_key=f.subject_key,
                   raw_facts=f.facts, owner_customer_id=_id(f.owner_customer_id),
                   contact_customer_id=_id(f.contact_customer_id), retention_until=f.retention_until,
                   retention_rule=f.retention_rule, sealed_at=f.sealed_at, created_at=f.created_at)

    @strawberry.field(description="Phone and ID numbers in them masked for a reader without customer.pii.unmask.")
    def facts(self, info: Info) -> JSON:
        return free_text_for_reader(ctx_of(info), self.raw_facts)


@strawberry.type
class ArchiveDocument:
    code: str
    position: int
    fields: JSON


@strawberry.type(description="One rule's outcome: pass, fail (one row per finding), overridden or manual.")
class ArchiveCheckResult:
    id: strawberry.ID
    round: int
    rule_code: str
    kind: str = strawberry.field(description="data | policy | manual")
    status: str
    document: str | None
    field: str | None
    message_en: str
    message_zh: str
    override_reason: str | None
    overridden_by: str | None


@strawberry.type(description="A state change; the submitted and resubmitted ones are the handover register.")
class ArchiveTransition:
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    note: str


@strawberry.type
class Archive(Node):
    id: strawberry.ID
    folder_id: strawberry.ID
    vertical: str
    standard: str
    state: str
    raw_facts: strawberry.Private[Any]
    submitted_by: str | None
    submitted_at: datetime | None
    checked_by: str | None
    deadline_at: datetime | None = strawberry.field(description="When a rejected archive must be back.")
    provisional: bool = strawberry.field(description=(
        "Whether deadlineAt counted working days of a year whose official holiday schedule is not loaded yet "
        "(a provisional schedule): it is recomputed when the schedule is loaded."))
    rejections: int
    check_round: int
    raw_documents: strawberry.Private[Any]
    check_results: list[ArchiveCheckResult] = strawberry.field(description="Of the latest check.")
    transitions: list[ArchiveTransition]
    submission_due_at: datetime | None = strawberry.field(default=None, description=(
        "When the hand-over was due (S17/T1: the type's schedule from the archive's event date); null without "
        "a schedule or event date."))
    submitted_on_time: bool | None = strawberry.field(default=None, name="submittedPunctually", description=(
        "Whether the first hand-over came by submissionDueAt; null when there is no due moment."))
    extended_until: datetime | None = strawberry.field(default=None, description=(
        "T6: the promised time of an approved rectification extension (a resubmission until then is not late)."))
    damaged_at: datetime | None = strawberry.field(default=None, description="T4: when it was recorded damaged (破损).")
    damage_note: str | None = None

    @classmethod
    def of(cls, a: archive_common.ArchiveView) -> Archive:
        return cls(id=_id(a.id), folder_id=_id(a.folder_id), vertical=a.vertical, standard=a.standard, state=a.state,
                   raw_facts=a.facts, submitted_by=a.submitted_by, submitted_at=a.submitted_at, checked_by=a.checked_by,
                   deadline_at=a.deadline_at, provisional=a.deadline_provisional, rejections=a.rejections, check_round=a.check_round,
                   raw_documents=a.documents,
                   check_results=[ArchiveCheckResult(
                       id=_id(r.id), round=r.round, rule_code=r.rule_code, kind=r.kind, status=r.status,
                       document=r.document, field=r.field, message_en=r.message_en, message_zh=r.message_zh,
                       override_reason=r.override_reason, overridden_by=r.overridden_by) for r in a.results],
                   transitions=[ArchiveTransition(from_state=t.from_state, to_state=t.to_state, actor=t.actor, at=t.at,
                                                  note=t.note) for t in a.transitions],
                   submission_due_at=a.submission_due_at, submitted_on_time=a.submitted_on_time,
                   extended_until=a.extended_until, damaged_at=a.damaged_at, damage_note=a.damage_note)

    # Documents are forms filled by hand: the numbers typed in them are masked like a customer's.
    @strawberry.field(description="Phone and ID numbers in them masked for a reader without customer.pii.unmask.")
    def facts(self, info: Info) -> JSON:
        return free_text_for_reader(ctx_of(info), self.raw_facts)

    @strawberry.field(description="Their fields' phone and ID numbers masked for a reader without customer.pii.unmask.")
    def documents(self, info: Info) -> list[ArchiveDocument]:
        ctx = ctx_of(info)
        return [ArchiveDocument(code=d.code, position=d.position, fields=free_text_for_reader(ctx, d.fields))
                for d in self.raw_documents]


@strawberry.type(description="A KPI deduction or fine for one person.")
class KpiEntry:
    id: strawberry.ID
    user_id: strawberry.ID
    vertical: str
    points: int
    fine_cny: int
    rule_code: str
    archive_id: strawberry.ID | None
    subject_key: str | None
    reason: str
    at: datetime

    @classmethod
    def of(cls, e: archive_common.KpiView) -> KpiEntry:
        return cls(id=_id(e.id), user_id=_id(e.user_id), vertical=e.vertical, points=e.points, fine_cny=e.fine_cny,
                   rule_code=e.rule_code, archive_id=_id(e.archive_id), subject_key=e.subject_key, reason=e.reason,
                   at=e.at)


@strawberry.type(description="档案缺失报告: an expected archive not received, with its deadline.")
class MissingArchiveReport:
    id: strawberry.ID
    vertical: str
    standard: str
    subject_key: str
    responsible_user_id: strawberry.ID | None
    due_at: datetime
    provisional: bool = strawberry.field(description=(
        "Whether dueAt counted working days of a year whose official holiday schedule is not loaded yet "
        "(a provisional schedule): it is recomputed when the schedule is loaded."))
    resolved_at: datetime | None

    @classmethod
    def of(cls, m: archive_common.MissingView) -> MissingArchiveReport:
        return cls(id=_id(m.id), vertical=m.vertical, standard=m.standard, subject_key=m.subject_key,
                   responsible_user_id=_id(m.responsible_user_id), due_at=m.due_at, provisional=m.due_provisional,
                   resolved_at=m.resolved_at)


@strawberry.type
class ArchiveExclusion:
    key: str
    reason: str
    reason_code: str | None = strawberry.field(default=None, description=(
        "The structured reason: in_repair, unsettled, warranty_claim or no_invoice; null for free text."))


@strawberry.enum(description="Why an expected subject is not counted (T2, T4, A4).")
class ArchiveExclusionReason(Enum):
    IN_REPAIR = "in_repair"
    UNSETTLED = "unsettled"
    WARRANTY_CLAIM = "warranty_claim"
    NO_INVOICE = "no_invoice"


@strawberry.type(description=(
    "A late-submission explanation (S18/T3/W5, kind late_submission: by subject and archive type, with a "
    "promised date) or a rectification extension (T6, kind rectification: of a rejected archive, with a promised "
    "time), signed (approved) or refused by a manager who did not file it."))
class ArchiveException:
    id: strawberry.ID
    vertical: str
    standard: str
    subject_key: str
    archive_id: strawberry.ID | None
    kind: str
    reason: str
    promised_on: date | None = strawberry.field(description="The promised date (late submissions).")
    promised_at: datetime = strawberry.field(description="When the promise ends: the end of promisedOn in the "
                                                         "tenant's time zone, or the promised time of an extension.")
    requested_by: str
    state: str = strawberry.field(description="pending | approved | refused")
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    settled_at: datetime | None = strawberry.field(description="When the sweep settled a late-submission promise "
                                                               "after its date.")
    kpi_charged: bool = strawberry.field(description="Whether the broken promise cost the missing-archive point.")
    created_at: datetime

    @classmethod
    def of(cls, e: archive_exceptions.ExceptionView) -> ArchiveException:
        return cls(id=_id(e.id), vertical=e.vertical, standard=e.standard, subject_key=e.subject_key,
                   archive_id=_id(e.archive_id), kind=e.kind, reason=e.reason, promised_on=e.promised_on,
                   promised_at=e.promised_at, requested_by=e.requested_by, state=e.state, decided_by=e.decided_by,
                   decided_at=e.decided_at, decision_note=e.decision_note, settled_at=e.settled_at,
                   kpi_charged=e.kpi_charged, created_at=e.created_at)


@strawberry.type(description="不合格档案记录 (T5): one per rejection, countersigned by a manager who is not the checker.")
class ArchiveNonconformity:
    id: strawberry.ID
    archive_id: strawberry.ID
    vertical: str
    standard: str
    round: int
    defects: str
    responsible_user_id: strawberry.ID | None
    rejected_by: str
    rejected_at: datetime
    countersigned_by: str | None
    countersigned_at: datetime | None
    countersign_note: str

    @classmethod
    def of(cls, n: archive_nonconforming.NonconformityView) -> ArchiveNonconformity:
        return cls(id=_id(n.id), archive_id=_id(n.archive_id), vertical=n.vertical, standard=n.standard,
                   round=n.round, defects=n.defects, responsible_user_id=_id(n.responsible_user_id),
                   rejected_by=n.rejected_by, rejected_at=n.rejected_at, countersigned_by=n.countersigned_by,
                   countersigned_at=n.countersigned_at, countersign_note=n.countersign_note)


@strawberry.type(description="On-time submission (S17, T1, T2) of the archives of one type first handed in in a period.")
class ArchiveSubmissionReport:
    vertical: str
    standard: str
    period: str
    submitted: int
    on_time: int
    late: int
    unscheduled: int = strawberry.field(description="Handed in without a due moment (no event date).")
    on_time_percent: float | None = strawberry.field(description="onTime over onTime + late.")
    collected_on_time: int | None = strawberry.field(name="collectedPunctually", description=(
        "Daily types with a collection hour (T2): handed in by the archive department's collection the day after "
        "the event."))


@strawberry.type
class ArchiveExceptionPayload:
    exception: ArchiveException | None = None
    errors: list[UserError]


@strawberry.type
class ArchiveNonconformityPayload:
    record: ArchiveNonconformity | None = None
    errors: list[UserError]


@strawberry.type
class ArchiveReconciliation:
    id: strawberry.ID
    source: str
    period: str
    standard: str
    expected_count: int
    received_count: int
    excluded: list[ArchiveExclusion] = strawberry.field(description="未上报记录, with reasons.")
    missing: list[MissingArchiveReport]


@strawberry.type
class ArchiveQualityReport:
    vertical: str
    period: str
    expected: int
    complete: int
    checked: int
    authentic: int
    completeness_percent: float | None
    authenticity_percent: float | None
    completeness_target_percent: float
    authenticity_target_percent: float
    completeness_met: bool | None
    authenticity_met: bool | None


@strawberry.input
class ExpectedArchiveInput:
    key: str
    responsible: str | None = strawberry.field(default=None, description="username")
    excluded_reason: str | None = strawberry.field(default=None, description="puts the subject in 未上报记录")
    excluded: ArchiveExclusionReason | None = strawberry.field(default=None, description=(
        "a structured reason that puts the subject in 未上报记录 (excludedReason then adds a note)"))


@strawberry.type
class ArchiveFolderPayload:
    folder: ArchiveFolder | None = None
    errors: list[UserError]


@strawberry.type
class ArchivePayload:
    archive: Archive | None = None
    errors: list[UserError]


@strawberry.type
class KpiPayload:
    entries: list[KpiEntry] = strawberry.field(default_factory=list)
    errors: list[UserError]


@strawberry.type
class ArchiveReconciliationPayload:
    reconciliation: ArchiveReconciliation | None = None
    errors: list[UserError]


def _registry(info: Info) -> Any:
    return info.context.registry


@node_loader("ArchiveFolder")
async def _folder(info: Info, folder_id: UUID) -> ArchiveFolder:
    folder, _ = await archive_folders.get_folder(ctx_of(info), _registry(info), folder_id)
    return ArchiveFolder.of(folder)


@node_loader("Archive")
async def _one_archive(info: Info, archive_id: UUID) -> Archive:
    return Archive.of(await archive_lifecycle.get_archive(ctx_of(info), _registry(info), archive_id))


@strawberry.type
class ArchiveLifecycleQuery:
    @strawberry.field(description="Folders of the verticals whose archives you handle.")
    async def archive_folders(self, info: Info, vertical: str | None = None, first: int | None = None,
                              after: str | None = None, last: int | None = None,
                              before: str | None = None) -> Connection[ArchiveFolder]:
        request = page_request(info, "archiveFolders", first, after, last, before)
        folders, more = await archive_folders.folders_page(ctx_of(info), _registry(info),
                                                    request.window(lambda key: (str(key[0]), UUID(key[1]))), vertical)
        return keyset_connection(request, folders, more, lambda f: [f.subject_key, f.id], ArchiveFolder.of)

    @strawberry.field
    async def archive_folder(self, info: Info, id: strawberry.ID) -> ArchiveFolder:
        return await _folder(info, parse_id(id, "id"))

    @strawberry.field
    async def archives(self, info: Info, state: str | None = None, standard: str | None = None,
                       first: int | None = None, after: str | None = None, last: int | None = None,
                       before: str | None = None) -> Connection[Archive]:
        request = page_request(info, "archives", first, after, last, before)
        found, more = await archive_lifecycle.archives_page(ctx_of(info), _registry(info), request.window(time_id_key),
                                                   state=state, standard=standard)
        return keyset_connection(request, found, more, lambda a: [a.created_at, a.id], Archive.of)

    @strawberry.field(description="An archive with its documents, latest check results and transitions.")
    async def archive(self, info: Info, id: strawberry.ID) -> Archive:
        return await _one_archive(info, parse_id(id, "id"))

    @strawberry.field(description="KPI deductions and fines: your own, and all of verticals whose archives you check.")
    async def kpi_ledger(self, info: Info, user_id: strawberry.ID | None = None, from_: Annotated[
                         datetime | None, strawberry.argument(name="from")] = None, to: datetime | None = None,
                         first: int | None = None, after: str | None = None, last: int | None = None,
                         before: str | None = None) -> Connection[KpiEntry]:
        user = parse_id(user_id, "userId") if user_id is not None else None
        request = page_request(info, "kpiLedger", first, after, last, before)
        entries, more = await archive_kpi.kpi_page(ctx_of(info), _registry(info), request.window(time_id_key),
                                                user_id=user, start=from_, end=to)
        return keyset_connection(request, entries, more, lambda e: [e.at, e.id], KpiEntry.of)

    @strawberry.field(description="Completeness and authenticity for a period (YYYY-MM or YYYY) against targets.")
    async def archive_quality_report(self, info: Info, vertical: str, period: str) -> ArchiveQualityReport:
        r = await archive_quality.quality_report(ctx_of(info), _registry(info), vertical, period)
        return ArchiveQualityReport(vertical=r.vertical, period=r.period, expected=r.expected, complete=r.complete,
                                    checked=r.checked, authentic=r.authentic,
                                    completeness_percent=r.completeness_percent,
                                    authenticity_percent=r.authenticity_percent,
                                    completeness_target_percent=r.completeness_target_percent,
                                    authenticity_target_percent=r.authenticity_target_percent,
                                    completeness_met=r.completeness_met, authenticity_met=r.authenticity_met)

    @strawberry.field(description="Missing-archive reports (档案缺失报告) of the verticals whose archives you "
                                  "handle, soonest due first (then by subject key); openOnly: only unresolved ones.")
    async def missing_archive_reports(self, info: Info, open_only: bool = True, first: int | None = None,
                                      after: str | None = None, last: int | None = None,
                                      before: str | None = None) -> Connection[MissingArchiveReport]:
        request = page_request(info, "missingArchiveReports", first, after, last, before)
        reports, more = await archive_reconciliation.missing_reports_page(ctx_of(info), _registry(info),
                                                            request.window(_due_key_id), open_only=open_only)
        return keyset_connection(request, reports, more, lambda m: [m.due_at, m.subject_key, m.id],
                                 MissingArchiveReport.of)


@strawberry.type
class ArchiveRulesQuery:
    @strawberry.field(description="Late-submission explanations and rectification extensions of the verticals whose "
                                  "archives you handle, oldest first; state: pending | approved | refused; kind: "
                                  "late_submission | rectification.")
    async def archive_exceptions(self, info: Info, state: str | None = None, kind: str | None = None,
                                 first: int | None = None, after: str | None = None, last: int | None = None,
                                 before: str | None = None) -> Connection[ArchiveException]:
        request = page_request(info, "archiveExceptions", first, after, last, before)
        found, more = await archive_exceptions.exceptions_page(ctx_of(info), _registry(info), request.window(time_id_key),
                                                               state=state, kind=kind)
        return keyset_connection(request, found, more, lambda e: [e.created_at, e.id], ArchiveException.of)

    @strawberry.field(description="Non-conforming archive records (不合格档案记录, T5), oldest rejection first; "
                                  "awaitingCountersignature: only those no manager has countersigned yet.")
    async def archive_nonconformities(self, info: Info, awaiting_countersignature: bool = False,
                                      first: int | None = None, after: str | None = None, last: int | None = None,
                                      before: str | None = None) -> Connection[ArchiveNonconformity]:
        request = page_request(info, "archiveNonconformities", first, after, last, before)
        found, more = await archive_nonconforming.records_page(ctx_of(info), _registry(info),
                                                               request.window(time_id_key),
                                                               awaiting_countersignature=awaiting_countersignature)
        return keyset_connection(request, found, more, lambda n: [n.rejected_at, n.id], ArchiveNonconformity.of)

    @strawberry.field(description="On-time submission (S17 weekly, T1 daily by the handover hour, T2 collection) of "
                                  "one archive type for a period (YYYY-MM or YYYY).")
    async def archive_submission_report(self, info: Info, vertical: str, standard: str,
                                        period: str) -> ArchiveSubmissionReport:
        r = await archive_schedule.submission_report(ctx_of(info), _registry(info), vertical, standard, period)
        return ArchiveSubmissionReport(vertical=r.vertical, standard=r.standard, period=r.period, submitted=r.submitted,
                                       on_time=r.on_time, late=r.late, unscheduled=r.unscheduled,
                                       on_time_percent=r.on_time_percent, collected_on_time=r.collected_on_time)


def _due_key_id(key: list[Any]) -> tuple[datetime, str, UUID]:
    """The key of missingArchiveReports: (due_at, subject_key, id)."""
    at, subject_key, id_ = key
    return datetime.fromisoformat(at), str(subject_key), UUID(id_)


def _archive(view: archive_common.ArchiveView) -> dict:
    return {"archive": Archive.of(view)}


@strawberry.type
class ArchiveLifecycleMutation:
    @strawberry.mutation(description="Open the folder of a subject (one per subject key).")
    async def archive_folder_create(self, info: Info, vertical: str, subject_key: str, facts: JSON | None = None,
                                    owner_customer_id: strawberry.ID | None = None,
                                    contact_customer_id: strawberry.ID | None = None) -> ArchiveFolderPayload:
        async def call() -> dict:
            folder = await archive_folders.create_folder(
                ctx_of(info), _registry(info), vertical, subject_key, facts=facts,
                owner_customer_id=parse_id(owner_customer_id, "ownerCustomerId") if owner_customer_id else None,
                contact_customer_id=parse_id(contact_customer_id, "contactCustomerId") if contact_customer_id else None)
            return {"folder": ArchiveFolder.of(folder)}
        return await mutate(info, ArchiveFolderPayload, call)

    @strawberry.mutation
    async def archive_create(self, info: Info, folder_id: strawberry.ID, standard: str,
                             facts: JSON | None = None) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.create_archive(ctx_of(info), _registry(info), parse_id(folder_id, "folderId"),
                                                          standard, facts=facts))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="File or replace a document while assembling or rejected.")
    async def archive_document_put(self, info: Info, archive_id: strawberry.ID, code: str, fields: JSON,
                                   position: int | None = None) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.put_document(ctx_of(info), _registry(info), parse_id(archive_id, "archiveId"),
                                                        code, fields, position=position))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="Hand the archive over (档案交接表).")
    async def archive_submit(self, info: Info, id: strawberry.ID, note: str = "") -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.submit_archive(ctx_of(info), _registry(info), parse_id(id, "id"), note))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="Start the check: every rule runs. Not by the submitter.")
    async def archive_check(self, info: Info, id: strawberry.ID) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.check_archive(ctx_of(info), _registry(info), parse_id(id, "id")))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="Let a failed rule pass for a reason (特殊情况除外); needs <vertical>.exception.approve.")
    async def archive_rule_override(self, info: Info, result_id: strawberry.ID, reason: str) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.override_rule(ctx_of(info), _registry(info), parse_id(result_id, "resultId"),
                                                         reason))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation
    async def archive_accept(self, info: Info, id: strawberry.ID) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.accept_archive(ctx_of(info), _registry(info), parse_id(id, "id")))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="Send back for rectification with the defects; sets the deadline.")
    async def archive_reject(self, info: Info, id: strawberry.ID, defects: list[str] | None = None) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.reject_archive(ctx_of(info), _registry(info), parse_id(id, "id"),
                                                          defects or []))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation
    async def archive_resubmit(self, info: Info, id: strawberry.ID, note: str = "") -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.resubmit_archive(ctx_of(info), _registry(info), parse_id(id, "id"), note))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation
    async def archive_archive(self, info: Info, id: strawberry.ID) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.file_archive(ctx_of(info), _registry(info), parse_id(id, "id")))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="Seal (封存): read-only afterwards.")
    async def archive_seal(self, info: Info, id: strawberry.ID, note: str = "") -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_lifecycle.seal_archive(ctx_of(info), _registry(info), parse_id(id, "id"), note))
        return await mutate(info, ArchivePayload, call)

    @strawberry.mutation(description="Fine each named person the tenant's amount for this archive.")
    async def archive_fine_record(self, info: Info, archive_id: strawberry.ID, user_ids: list[strawberry.ID],
                                  reason: str) -> KpiPayload:
        async def call() -> dict:
            entries = await archive_kpi.record_fine(ctx_of(info), _registry(info), parse_id(archive_id, "archiveId"),
                                                 [parse_id(u, "userIds") for u in user_ids], reason)
            return {"entries": [KpiEntry.of(e) for e in entries]}
        return await mutate(info, KpiPayload, call)

    @strawberry.mutation(description="Import the archives an external system expects (CSV text with a header "
                                     "key,responsible,excluded_reason, or a list) and reconcile them.")
    async def archive_expected_import(self, info: Info, vertical: str, standard: str, source: str, period: str,
                                      csv: str | None = None,
                                      rows: list[ExpectedArchiveInput] | None = None) -> ArchiveReconciliationPayload:
        async def call() -> dict:
            expected = archive_reconciliation.parse_expected_csv(csv) if csv else [
                archive_common.ExpectedRow(r.key, r.responsible, r.excluded_reason,
                                           r.excluded.value if r.excluded else None) for r in rows or []]
            r = await archive_reconciliation.import_expected(ctx_of(info), _registry(info), vertical, standard, source=source,
                                               period=period, rows=expected)
            return {"reconciliation": ArchiveReconciliation(
                id=_id(r.id), source=r.source, period=r.period, standard=r.standard, expected_count=r.expected_count,
                received_count=r.received_count,
                excluded=[ArchiveExclusion(key=k, reason=v, reason_code=archive_common.exclusion_code(v))
                          for k, v in sorted(r.excluded.items())],
                missing=[MissingArchiveReport.of(m) for m in r.missing])}
        return await mutate(info, ArchiveReconciliationPayload, call)


def _exception(view: archive_exceptions.ExceptionView) -> dict:
    return {"exception": ArchiveException.of(view)}


@strawberry.type
class ArchiveRulesMutation:
    @strawberry.mutation(description="S18/T3: the reason and promised date for an archive (by subject key and type) "
                                     "that cannot be handed in on time; needs <vertical>.archive.submit. Once a manager "
                                     "approves it, the missing-archive KPI waits until the promised date has passed (W5).")
    async def archive_late_submission_explain(self, info: Info, vertical: str, standard: str, subject_key: str,
                                              reason: str, promised_on: date) -> ArchiveExceptionPayload:
        async def call() -> dict:
            return _exception(await archive_exceptions.explain_late_submission(
                ctx_of(info), _registry(info), vertical, standard, subject_key, reason, promised_on))
        return await mutate(info, ArchiveExceptionPayload, call)

    @strawberry.mutation(description="T6: ask for more time to rectify a rejected archive, with the reason and the "
                                     "promised time; needs <vertical>.archive.submit.")
    async def archive_rectification_extend(self, info: Info, archive_id: strawberry.ID, reason: str,
                                           promised_at: datetime) -> ArchiveExceptionPayload:
        async def call() -> dict:
            return _exception(await archive_exceptions.request_extension(
                ctx_of(info), _registry(info), parse_id(archive_id, "archiveId"), reason, promised_at))
        return await mutate(info, ArchiveExceptionPayload, call)

    @strawberry.mutation(description="Sign (approve: true) or refuse (with a note) an explanation or extension; needs "
                                     "<vertical>.exception.approve and is never done by the person who filed it.")
    async def archive_exception_decide(self, info: Info, id: strawberry.ID, approve: bool,
                                       note: str = "") -> ArchiveExceptionPayload:
        async def call() -> dict:
            return _exception(await archive_exceptions.decide_exception(ctx_of(info), _registry(info),
                                                                        parse_id(id, "id"), approve, note))
        return await mutate(info, ArchiveExceptionPayload, call)

    @strawberry.mutation(description="T5: countersign a non-conforming archive record; needs "
                                     "<vertical>.exception.approve, never the checker who rejected the archive.")
    async def archive_rejection_countersign(self, info: Info, id: strawberry.ID,
                                            note: str = "") -> ArchiveNonconformityPayload:
        async def call() -> dict:
            record = await archive_nonconforming.countersign(ctx_of(info), _registry(info), parse_id(id, "id"), note)
            return {"record": ArchiveNonconformity.of(record)}
        return await mutate(info, ArchiveNonconformityPayload, call)

    @strawberry.mutation(description="T4: record an archive handed in damaged (破损); the person responsible gets the "
                                     "missing-archive KPI entry. Needs <vertical>.archive.check.")
    async def archive_damage_record(self, info: Info, id: strawberry.ID, note: str) -> ArchivePayload:
        async def call() -> dict:
            return _archive(await archive_nonconforming.record_damage(ctx_of(info), _registry(info),
                                                                      parse_id(id, "id"), note))
        return await mutate(info, ArchivePayload, call)


@strawberry.type
class ArchiveQuery(ArchiveLifecycleQuery, ArchiveRulesQuery):
    """The archive queries: the lifecycle's and those of the rules of seed 000 part 1."""


@strawberry.type
class ArchiveMutation(ArchiveLifecycleMutation, ArchiveRulesMutation):
    """The archive mutations: the lifecycle's and those of the rules of seed 000 part 1."""
