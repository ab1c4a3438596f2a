"""An archive's life: assembling, submission, checks, overrides, acceptance or rejection and
resubmission, filing and sealing; lists and the handover register."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from core.archives import checks
from core.archives import common
from core.archives.common import (ACCEPTED, ARCHIVED, ASSEMBLING, ArchiveView,
                                  DEFAULT_RECTIFICATION_HOURS, KPI_LATE,
                                  KPI_NONCONFORMING, KPI_UNCHANGED, REJECTED,
                                  RESUBMITTED, RESULT_COLUMNS, SEALED, STATES,
                                  SUBMITTED, TARGET, TransitionView, UNDER_CHECK,
                                  archive_row, archive_mapping, archive_view,
                                  documents_of, documents_hash, folder_row, int_parameter,
                                  invalid, json_object, add_kpi_entry, may_read, move,
                                  recompute_folder_retention, refuse_read_only, require_vertical_permission,
                                  require_reader, require_somewhere, standard_of,
                                  checked_text, user_of, enabled_vertical, rectification_deadline)
from core.archives.folders import readable_verticals
from core.archives.schedule import event_day, submission_due
from core.archives.tables import (Archive, ArchiveCheckResult, ArchiveDocumentRow, ArchiveTransition, MissingReport,
                                  Nonconformity)
from core.audit.chain import record as audit
from core.calendar.schedules import on_schedule_loaded
from core.calendar.settings import load_calendar as tenant_calendar
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.errors import NotFound
from core.filters import one_of
from core.identity.access import require_different_actor
from core.jobs import outbox
from core.plugins.manager import VerticalDefinition, VerticalRegistry
from core.plugins.types import ParameterValue
from core.tenancy.every_tenant import tenant_ids


async def create_archive(ctx: Context, registry: VerticalRegistry, folder_id: UUID, standard: str, *,
                         facts: Mapping[str, Any] | None = None) -> ArchiveView:
    require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        folder = await folder_row(uow, folder_id)
        require_vertical_permission(ctx, folder["vertical"], "submit")
        definition, parameters = await enabled_vertical(uow, registry, folder["vertical"])
        standard_of(definition, standard)
        await refuse_read_only(uow, folder)
        facts = json_object(facts, "facts")
        archive = Archive(folder_id=folder_id, vertical=folder["vertical"], standard=standard, state=ASSEMBLING,
                          facts=json.dumps(facts, ensure_ascii=False), created_by=ctx.actor, created_at=common.now())
        await uow.insert(archive)
        await uow.insert(ArchiveTransition(archive_id=archive.id, from_state=None, to_state=ASSEMBLING,
                                           actor=ctx.actor, at=archive.created_at, note=""))
        await audit(uow, "archive.created", TARGET, archive.id, {"folder_id": str(folder_id), "standard": standard})
        await outbox.add(uow, "archive.created", TARGET, archive.id, ("standard", "facts"))
        await recompute_folder_retention(uow, definition, parameters, folder)  # kept from its creation on (A7)
        return await archive_view(uow, await archive_row(uow, archive.id))


async def put_document(ctx: Context, registry: VerticalRegistry, archive_id: UUID, code: str,
                       fields: Mapping[str, Any], *, position: int | None = None) -> ArchiveView:
    """File or replace one document (while assembling, or when rejected for rectification)."""
    require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        archive = await archive_row(uow, archive_id)
        require_vertical_permission(ctx, archive["vertical"], "submit", archive_id)
        definition, _ = await enabled_vertical(uow, registry, archive["vertical"])
        standard = standard_of(definition, archive["standard"])
        await refuse_read_only(uow, await folder_row(uow, archive["folder_id"]), archive)
        if archive["state"] not in (ASSEMBLING, REJECTED):
            raise invalid("ARCHIVE_STATE_INVALID", "state", f"documents change only while assembling or rejected, "
                           f"not {archive['state']}", f"仅在整理中或被退回时可修改文件（当前 {archive['state']}）")
        if code not in {d.code for d in standard.documents}:
            raise invalid("ARCHIVE_DOCUMENT_UNKNOWN", "code", f"{standard.id} has no document {code!r}",
                           f"{standard.id} 没有文件 {code!r}")
        fields = json_object(fields, "fields")
        existing = {d["code"]: d for d in await documents_of(uow, archive_id)}
        if position is None:
            position = existing[code]["position"] if code in existing else \
                max((d["position"] for d in existing.values()), default=0) + 1
        if not isinstance(position, int) or not 1 <= position <= 1000:
            raise invalid("POSITION_INVALID", "position", "position is from 1 to 1000", "位置须为 1 至 1000")
        text = json.dumps(fields, ensure_ascii=False)
        if code in existing:
            await uow.update(ArchiveDocumentRow, {ArchiveDocumentRow.fields: text, ArchiveDocumentRow.position: position,
                                                  ArchiveDocumentRow.updated_by: ctx.actor}).where(
                ArchiveDocumentRow.id == existing[code]["id"])
        else:
            await uow.insert(ArchiveDocumentRow(archive_id=archive_id, code=code, position=position, fields=text,
                                                updated_by=ctx.actor))
        await uow.update(Archive, {Archive.version: archive["version"] + 1}).where(Archive.id == archive_id)
        # field names only: documents hold names, signatures and ID numbers
        await audit(uow, "archive.document_put", TARGET, archive_id, {"document": code, "position": position,
                                                                      "fields": sorted(fields)})
        await outbox.add(uow, "archive.document_put", TARGET, archive_id, ("documents",))
        return await archive_view(uow, await archive_row(uow, archive_id))


@dataclass(frozen=True, slots=True)
class _Opened:
    archive: Mapping[str, Any]
    folder: Mapping[str, Any]
    definition: VerticalDefinition
    parameters: Mapping[str, ParameterValue]


async def _open(uow: Any, ctx: Context, registry: VerticalRegistry, archive_id: UUID, action: str) -> _Opened:
    """What every transition starts from: the archive, once the caller may ``action`` it in its
    vertical, that vertical is enabled for the tenant and the archive is not read-only."""
    archive = await archive_row(uow, archive_id)
    require_vertical_permission(ctx, archive["vertical"], action, archive_id)
    definition, parameters = await enabled_vertical(uow, registry, archive["vertical"])
    folder = await folder_row(uow, archive["folder_id"])
    await refuse_read_only(uow, folder, archive)
    return _Opened(archive, folder, definition, parameters)


async def submit_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str = "") -> ArchiveView:
    """Hand the archive to the archive department: an entry of the handover register (档案交接表);
    an open missing-archive report for the subject is resolved."""
    require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        opened = await _open(uow, ctx, registry, archive_id, "submit")
        archive, folder = opened.archive, opened.folder
        at = common.now()
        # S17/T1: when the hand-over was due, from the type's schedule and the archive's event date
        schedule = standard_of(opened.definition, archive["standard"]).submission
        zone = (await tenant_calendar(uow)).zone
        due = submission_due(schedule, opened.parameters, event_day(schedule, json.loads(archive["facts"]), zone), zone)
        await move(uow, archive, (ASSEMBLING,), SUBMITTED,
                    {Archive.submitted_by: ctx.actor, Archive.submitted_at: at, Archive.submission_due_at: due,
                     Archive.submitted_on_time: None if due is None else int(at <= due)}, note=note.strip(), at=at)
        await uow.update(MissingReport, {MissingReport.resolved_at: at}).where(
            (MissingReport.subject_key == folder["subject_key"]) & (MissingReport.standard == archive["standard"])
            & MissingReport.resolved_at.is_null())
        return await archive_view(uow, await archive_row(uow, archive_id))


async def check_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    """Start the check: run every rule (data-driven, then the vertical's policies) and keep each
    outcome. The checker is never the submitter."""
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        opened = await _open(uow, ctx, registry, archive_id, "check")
        archive, folder, parameters = opened.archive, opened.folder, opened.parameters
        standard = standard_of(opened.definition, archive["standard"])
        require_different_actor(ctx, archive["submitted_by"] or "", "checking an archive")
        round_ = archive["check_round"] + 1
        outcomes = checks.run_checks(standard, archive_mapping(folder, archive, UNDER_CHECK,
                                                                await documents_of(uow, archive_id)), parameters)
        await move(uow, archive, (SUBMITTED, RESUBMITTED), UNDER_CHECK,
                    {Archive.checked_by: ctx.actor, Archive.check_round: round_})
        at = common.now()
        # plain value tuples: ~50 rows a check, the query builder's objects cost more than the rules
        await uow.insert_many("archive_check_result", RESULT_COLUMNS, [
            (uuid4(), ctx.tenant_id, at, archive_id, round_, o.rule_code, o.kind, o.status, o.document, o.field,
             o.message_en, o.message_zh) for o in outcomes])
        failed = sorted({o.rule_code for o in outcomes if o.status == checks.FAIL})
        await audit(uow, "archive.checked", TARGET, archive_id, {"round": round_, "failed": failed})
        return await archive_view(uow, await archive_row(uow, archive_id))


async def override_rule(ctx: Context, registry: VerticalRegistry, result_id: UUID, reason: str) -> ArchiveView:
    """Let a failed rule pass for a stated reason (特殊情况除外); needs ``<vertical>.exception.approve``
    and is never done by the submitter."""
    require_somewhere(ctx, registry, "exception")
    async with unit_of_work(ctx) as uow:
        result = await uow.select(ArchiveCheckResult).where(ArchiveCheckResult.id == result_id).first()
        if result is None:
            raise NotFound("check result", result_id)
        archive = (await _open(uow, ctx, registry, result["archive_id"], "exception")).archive
        reason = checked_text(reason, "reason", "an override needs a reason", "特殊情况须说明理由")
        require_different_actor(ctx, archive["submitted_by"] or "", "overriding a check")
        if archive["state"] != UNDER_CHECK or result["round"] != archive["check_round"] or result["status"] != checks.FAIL:
            raise invalid("ARCHIVE_STATE_INVALID", "resultId", "only a failed rule of an archive under check can be "
                           "overridden", "仅可对审核中档案未通过的规则作例外处理")
        await uow.update(ArchiveCheckResult, {ArchiveCheckResult.status: checks.OVERRIDDEN,
                                              ArchiveCheckResult.override_reason: reason,
                                              ArchiveCheckResult.overridden_by: ctx.actor,
                                              ArchiveCheckResult.overridden_at: common.now()}).where(
            ArchiveCheckResult.id == result_id)
        await audit(uow, "archive.rule_overridden", TARGET, archive["id"],
                    {"rule_code": result["rule_code"], "document": result["document"], "field": result["field"],
                     "reason": reason})
        await outbox.add(uow, "archive.rule_overridden", TARGET, archive["id"], ("results",))
        return await archive_view(uow, archive)


async def accept_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    """Accept when every rule passed or was overridden; manual checklist items are confirmed by
    the accepting checker. Retention of the folder is recomputed."""
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        opened = await _open(uow, ctx, registry, archive_id, "check")
        archive, folder = opened.archive, opened.folder
        require_different_actor(ctx, archive["submitted_by"] or "", "accepting an archive")
        if archive["state"] == UNDER_CHECK:
            failed = await uow.select(ArchiveCheckResult.rule_code).where(
                (ArchiveCheckResult.archive_id == archive_id) & (ArchiveCheckResult.round == archive["check_round"])
                & (ArchiveCheckResult.status == checks.FAIL))
            if failed:
                codes = ", ".join(sorted({r["rule_code"] for r in failed}))
                raise invalid("ARCHIVE_CHECKS_FAILED", None, f"rules failed and are not overridden: {codes}",
                               f"以下规则未通过且未作例外处理：{codes}")
        at = await move(uow, archive, (UNDER_CHECK,), ACCEPTED, {Archive.accepted_at: common.now()})
        await uow.update(ArchiveCheckResult, {ArchiveCheckResult.status: checks.PASS,
                                              ArchiveCheckResult.overridden_by: ctx.actor,
                                              ArchiveCheckResult.overridden_at: at}).where(
            (ArchiveCheckResult.archive_id == archive_id) & (ArchiveCheckResult.round == archive["check_round"])
            & (ArchiveCheckResult.status == checks.MANUAL))
        await recompute_folder_retention(uow, opened.definition, opened.parameters, folder)
        return await archive_view(uow, await archive_row(uow, archive_id))


async def reject_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID,
                         defects: Sequence[str] = ()) -> ArchiveView:
    """Send back for rectification (不合格档案记录): the defects are the failed rules plus any the
    checker lists; the deadline is the vertical's rectification hours on working days (with
    whether it counted provisional calendar days, and what it counts from, so loading the year's
    official schedule recomputes it); the submitter gets the non-conforming-archive KPI entry."""
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        opened = await _open(uow, ctx, registry, archive_id, "check")
        archive, parameters = opened.archive, opened.parameters
        standard = standard_of(opened.definition, archive["standard"])
        require_different_actor(ctx, archive["submitted_by"] or "", "rejecting an archive")
        listed = [d.strip() for d in defects if d and d.strip()]
        failed = sorted({r["rule_code"] for r in await uow.select(ArchiveCheckResult.rule_code).where(
            (ArchiveCheckResult.archive_id == archive_id) & (ArchiveCheckResult.round == archive["check_round"])
            & (ArchiveCheckResult.status == checks.FAIL))})
        if not listed and not failed:
            raise invalid("DEFECTS_REQUIRED", "defects", "name the defects: no rule failed",
                           "请列明不合格项：没有未通过的规则")
        at = common.now()
        hours = int_parameter(parameters, standard.rectification_hours_parameter or "", DEFAULT_RECTIFICATION_HOURS)
        deadline = rectification_deadline(await tenant_calendar(uow), at, hours)
        note = "; ".join([*failed, *listed])[:4000]
        await move(uow, archive, (UNDER_CHECK,), REJECTED,
                    {Archive.deadline_at: deadline.at, Archive.deadline_from: at, Archive.deadline_hours: hours,
                     Archive.deadline_provisional: int(deadline.provisional),
                     Archive.rejections: archive["rejections"] + 1,
                     Archive.rejected_hash: documents_hash(await documents_of(uow, archive_id))}, note=note, at=at)
        # 不合格档案记录 (T5): the record a manager countersigns
        await uow.insert(Nonconformity(archive_id=archive_id, vertical=archive["vertical"], standard=archive["standard"],
                                       round=archive["check_round"], defects=note,
                                       responsible_user_id=user_of(archive["submitted_by"]), rejected_by=ctx.actor,
                                       rejected_at=at, created_at=at))
        await add_kpi_entry(uow, archive["vertical"], user_of(archive["submitted_by"]), "nonconforming_archive",
                   f"non-conforming archive: {note}", points=int_parameter(parameters, KPI_NONCONFORMING, 0),
                   archive_id=archive_id, at=at)
        return await archive_view(uow, await archive_row(uow, archive_id))


async def resubmit_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str = "") -> ArchiveView:
    """Return a rectified archive. After the deadline, the submitter gets the late-rectification
    KPI entry (T6); unchanged since the rejection (原封返回), the unchanged-resubmission one (T7)."""
    require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        opened = await _open(uow, ctx, registry, archive_id, "submit")
        archive, parameters = opened.archive, opened.parameters
        at = common.now()
        unchanged = documents_hash(await documents_of(uow, archive_id)) == archive["rejected_hash"]
        # T6: an approved extension's promised time replaces the deadline if it is later
        deadline = archive["deadline_at"]
        if deadline is not None and archive["extended_until"] is not None:
            deadline = max(deadline, archive["extended_until"])
        late = deadline is not None and at > deadline
        await move(uow, archive, (REJECTED,), RESUBMITTED, {Archive.submitted_at: at, Archive.extended_until: None},
                   note=note.strip(), at=at)
        person = user_of(archive["submitted_by"])
        if late:
            await add_kpi_entry(uow, archive["vertical"], person, "late_rectification",
                       f"resubmitted after the deadline {deadline.isoformat()}",
                       points=int_parameter(parameters, KPI_LATE, 0), archive_id=archive_id, at=at)
        if unchanged:
            await add_kpi_entry(uow, archive["vertical"], person, "unchanged_resubmission", "resubmitted unchanged (原封返回)",
                       points=int_parameter(parameters, KPI_UNCHANGED, 0), archive_id=archive_id, at=at)
        return await archive_view(uow, await archive_row(uow, archive_id))


async def file_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    """Move an accepted archive into the archive store (归档)."""
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = (await _open(uow, ctx, registry, archive_id, "check")).archive
        await move(uow, archive, (ACCEPTED,), ARCHIVED)
        return await archive_view(uow, await archive_row(uow, archive_id))


async def seal_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str = "") -> ArchiveView:
    """Seal (封存): read-only from now on."""
    require_somewhere(ctx, registry, "seal")
    async with unit_of_work(ctx) as uow:
        archive = (await _open(uow, ctx, registry, archive_id, "seal")).archive
        await move(uow, archive, (ARCHIVED,), SEALED, {Archive.sealed_at: common.now()}, note=note.strip())
        return await archive_view(uow, await archive_row(uow, archive_id))


async def list_archives(ctx: Context, registry: VerticalRegistry, *, state: str | None = None,
                        standard: str | None = None, vertical: str | None = None) -> list[ArchiveView]:
    require_reader(ctx, registry)
    one_of(state, STATES, "state")  # unknown values are refused, not answered with an empty list
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, vertical)
        if not verticals:
            return []
        rows = await uow.select(Archive).where(_archives_where(verticals, state, standard)).order_by(Archive.created_at)
        return [await archive_view(uow, r, full=False) for r in rows]


def _archives_where(verticals: list[str], state: str | None, standard: str | None) -> Any:
    where = Archive.vertical.is_in(verticals)
    if state is not None:
        where &= Archive.state == state
    if standard is not None:
        where &= Archive.standard == standard
    return where


async def archives_page(ctx: Context, registry: VerticalRegistry, window: Window, *, state: str | None = None,
                        standard: str | None = None, vertical: str | None = None) -> tuple[list[ArchiveView], bool]:
    """A window of list_archives (keyset on created_at, id, oldest first) and whether more lie beyond it."""
    require_reader(ctx, registry)
    one_of(state, STATES, "state")  # unknown values are refused, not answered with an empty list
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, vertical)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(Archive).where(_archives_where(verticals, state, standard)),
                                        [Archive.created_at, Archive.id], window)
        return [await archive_view(uow, r, full=False) for r in rows], more


async def get_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        archive = await uow.select(Archive).where(Archive.id == archive_id).first()
        if archive is None or not may_read(ctx, archive["vertical"]):
            raise NotFound("archive", archive_id)
        await enabled_vertical(uow, registry, archive["vertical"])
        return await archive_view(uow, archive)


async def handover_register(ctx: Context, registry: VerticalRegistry, vertical: str, start: datetime,
                            end: datetime) -> list[tuple[UUID, TransitionView]]:
    """档案交接表: the submissions and resubmissions between ``start`` and ``end``."""
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        await readable_verticals(ctx, uow, registry, vertical)
        archives = {r["id"] for r in await uow.select(Archive.id).where(Archive.vertical == vertical)}
        rows = await uow.select(ArchiveTransition).where(
            ArchiveTransition.to_state.is_in([SUBMITTED, RESUBMITTED]) & (ArchiveTransition.at >= start)
            & (ArchiveTransition.at < end)).order_by(ArchiveTransition.at)
    return [(t["archive_id"], TransitionView(t["from_state"], t["to_state"], t["actor"], t["at"], t["note"]))
            for t in rows if t["archive_id"] in archives]


async def recompute_provisional_deadlines(year: int) -> int:
    """After ``year``'s official schedule is loaded (issue 18 point 11): every rejected archive
    whose rectification deadline counted provisional days of that year is computed again from its
    rejection on the tenant's calendar (audited as ``archive.deadline_recomputed`` when it moves);
    returns how many moved."""
    changed = 0
    for tenant_id in await tenant_ids("job:calendar"):
        async with unit_of_work(Context.system("job:calendar", tenant_id)) as uow:
            rows = await uow.select(Archive.id, Archive.deadline_at, Archive.deadline_from,
                                    Archive.deadline_hours).where(
                (Archive.state == REJECTED) & (Archive.deadline_provisional == 1)
                & Archive.deadline_from.is_not_null() & Archive.deadline_hours.is_not_null())
            if not rows:
                continue
            calendar = await tenant_calendar(uow)
            for r in rows:
                zone = calendar.zone
                if not (r["deadline_from"].astimezone(zone).year <= year <= r["deadline_at"].astimezone(zone).year):
                    continue  # its provisional days are of another year
                deadline = rectification_deadline(calendar, r["deadline_from"], r["deadline_hours"])
                await uow.update(Archive, {Archive.deadline_at: deadline.at,
                                           Archive.deadline_provisional: int(deadline.provisional)}).where(
                    Archive.id == r["id"])
                if deadline.at != r["deadline_at"]:
                    changed += 1
                    await audit(uow, "archive.deadline_recomputed", TARGET, r["id"],
                                {"deadline_at": (r["deadline_at"], deadline.at), "calendar_year": year})
    return changed


on_schedule_loaded("archive_rectifications", recompute_provisional_deadlines)
