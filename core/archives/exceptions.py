"""Late-submission explanations and rectification extensions (seed-000 S18, T3, T6, W5).

The person responsible for an archive (holding ``<vertical>.archive.submit``) files an
explanation: the reason and a promised date for an archive that cannot be handed in on time
(``late_submission``, by subject key and archive type), or the reason and a promised time for a
rejected archive that cannot be rectified within its deadline (``rectification``). A manager
holding ``<vertical>.exception.approve``, never the person who filed it, approves or refuses it.

An approved late-submission explanation suspends the missing-archive KPI deduction until the
promised date has passed: a reconciliation that finds the archive missing raises its missing
report due at the end of the promised date and writes no KPI entry; the sweep
``archive_late_submissions`` writes the entry once (the points the tenant had set at approval)
if the promised date passes and no archive of that type was handed in for the subject by then.
An explanation that is pending or refused suspends nothing. An approved extension moves the time
after which a resubmission costs the late-rectification point (T6) to the promised time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from core.archives import common
from core.archives.common import (KPI_MISSING, REJECTED, add_kpi_entry, archive_row, checked_text,
                                  enabled_vertical, folder_row, holds, int_parameter, invalid, permission,
                                  refuse_read_only, require_reader, require_somewhere, require_vertical_permission,
                                  standard_of)
from core.archives.folders import readable_verticals
from core.archives.tables import Archive, ArchiveException, ArchiveFolder, MissingReport
from core.audit.chain import record as audit
from core.calendar.settings import load_calendar as tenant_calendar
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import NotFound
from core.identity.access import require, require_different_actor
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry

LATE_SUBMISSION, RECTIFICATION = "late_submission", "rectification"
KINDS = (LATE_SUBMISSION, RECTIFICATION)
PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
EXCEPTION_STATES = (PENDING, APPROVED, REFUSED)
TARGET = "archive_exception"
MAX_PROMISE_DAYS = 90  # a promise further away is no explanation of a delay


@dataclass(frozen=True, slots=True)
class ExceptionView:
    id: UUID
    vertical: str
    standard: str
    subject_key: str
    archive_id: UUID | None
    kind: str
    reason: str
    promised_on: date | None
    promised_at: datetime
    requested_by: str
    requested_user_id: UUID | None
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    settled_at: datetime | None
    kpi_charged: bool
    created_at: datetime


def exception_view(row: Mapping[str, Any]) -> ExceptionView:
    return ExceptionView(id=row["id"], vertical=row["vertical"], standard=row["standard"],
                         subject_key=row["subject_key"], archive_id=row["archive_id"], kind=row["kind"],
                         reason=row["reason"],
                         promised_on=date.fromisoformat(row["promised_on"]) if row["promised_on"] else None,
                         promised_at=row["promised_at"], requested_by=row["requested_by"],
                         requested_user_id=row["requested_user_id"], state=row["state"], decided_by=row["decided_by"],
                         decided_at=row["decided_at"], decision_note=row["decision_note"],
                         settled_at=row["settled_at"], kpi_charged=bool(row["kpi_charged"]),
                         created_at=row["created_at"])


async def _row(uow: UnitOfWork, exception_id: UUID) -> dict[str, Any]:
    row = await uow.select(ArchiveException).where(ArchiveException.id == exception_id).first()
    if row is None:
        raise NotFound("archive exception", exception_id)
    return row


async def _announce(uow: UnitOfWork, action: str, exception_id: UUID, details: Mapping[str, Any]) -> None:
    await audit(uow, f"archive_exception.{action}", TARGET, exception_id, dict(details))
    await outbox.add(uow, f"archive_exception.{action}", TARGET, exception_id, ("state",))


def _subject_key(value: str) -> str:
    key = (value or "").strip()
    if not key or len(key) > 100:
        raise invalid("SUBJECT_KEY_INVALID", "subjectKey", "the subject key has 1 to 100 characters",
                      "主体编号须为 1 至 100 个字符")
    return key


async def explain_late_submission(ctx: Context, registry: VerticalRegistry, vertical: str, standard: str,
                                  subject_key: str, reason: str, promised_on: date) -> ExceptionView:
    """File the reason and the promised date for an archive that cannot be handed in on time
    (S18, T3): pending until a manager signs it."""
    require(ctx, permission(vertical, "submit"))
    key = _subject_key(subject_key)
    reason = checked_text(reason, "reason", "an explanation needs a reason", "延迟上交须说明原因")
    async with unit_of_work(ctx) as uow:
        definition, _ = await enabled_vertical(uow, registry, vertical)
        standard_of(definition, standard)
        zone = (await tenant_calendar(uow)).zone
        today = common.now().astimezone(zone).date()
        if not isinstance(promised_on, date) or not today <= promised_on <= today + timedelta(days=MAX_PROMISE_DAYS):
            raise invalid("PROMISED_DATE_INVALID", "promisedOn",
                          f"the promised date is from today to {MAX_PROMISE_DAYS} days ahead",
                          f"承诺日期须在今天至 {MAX_PROMISE_DAYS} 天之内")
        folder = await uow.select(ArchiveFolder.id, ArchiveFolder.sealed_at).where(
            (ArchiveFolder.subject_key == key) & (ArchiveFolder.vertical == vertical)).first()
        if folder is not None and folder["sealed_at"] is not None:
            raise invalid("ARCHIVE_SEALED", None, "the archive is sealed (封存) and read-only", "档案已封存，只读")
        promised_at = datetime.combine(promised_on + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        row = ArchiveException(vertical=vertical, standard=standard, subject_key=key, archive_id=None,
                               kind=LATE_SUBMISSION, reason=reason, promised_on=promised_on.isoformat(),
                               promised_at=promised_at, requested_by=ctx.actor, requested_user_id=ctx.user_id,
                               state=PENDING, created_at=common.now())
        await uow.insert(row)
        await _announce(uow, "requested", row.id, {"kind": LATE_SUBMISSION, "standard": standard,
                                                   "subject_key": key, "promised_on": promised_on.isoformat(),
                                                   "reason": reason})
        return exception_view(await _row(uow, row.id))


async def request_extension(ctx: Context, registry: VerticalRegistry, archive_id: UUID, reason: str,
                            promised_at: datetime) -> ExceptionView:
    """Ask for more time to rectify a rejected archive (T6): the reason and the promised time,
    pending until a manager signs it."""
    require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        archive = await archive_row(uow, archive_id)
        require_vertical_permission(ctx, archive["vertical"], "submit", archive_id)
        await enabled_vertical(uow, registry, archive["vertical"])
        folder = await folder_row(uow, archive["folder_id"])
        await refuse_read_only(uow, folder, archive)
        reason = checked_text(reason, "reason", "an extension needs a reason", "延期须说明原因")
        if archive["state"] != REJECTED:
            raise invalid("ARCHIVE_STATE_INVALID", "state", "only a rejected archive's rectification can be extended",
                          "仅被退回整改的档案可申请延期")
        at = common.now()
        if promised_at.tzinfo is None or not at < promised_at <= at + timedelta(days=MAX_PROMISE_DAYS):
            raise invalid("PROMISED_DATE_INVALID", "promisedAt",
                          f"the promised time is after now and at most {MAX_PROMISE_DAYS} days ahead",
                          f"承诺时间须晚于现在且在 {MAX_PROMISE_DAYS} 天之内")
        row = ArchiveException(vertical=archive["vertical"], standard=archive["standard"],
                               subject_key=folder["subject_key"], archive_id=archive_id, kind=RECTIFICATION,
                               reason=reason, promised_on=None, promised_at=promised_at.astimezone(UTC),
                               requested_by=ctx.actor, requested_user_id=ctx.user_id, state=PENDING, created_at=at)
        await uow.insert(row)
        await _announce(uow, "requested", row.id, {"kind": RECTIFICATION, "archive_id": str(archive_id),
                                                   "promised_at": promised_at.isoformat(), "reason": reason})
        return exception_view(await _row(uow, row.id))


async def decide_exception(ctx: Context, registry: VerticalRegistry, exception_id: UUID, approve: bool,
                           note: str = "") -> ExceptionView:
    """Sign (approve) or refuse an explanation: ``<vertical>.exception.approve``, never by the
    person who filed it; a refusal states why. Approving a late-submission explanation moves the
    subject's open missing reports to the promised date; approving an extension moves the time
    after which the resubmission is late."""
    require_somewhere(ctx, registry, "exception")
    async with unit_of_work(ctx) as uow:
        row = await _row(uow, exception_id)
        if not holds(ctx, permission(row["vertical"], "exception")):
            if not any(holds(ctx, permission(row["vertical"], w)) for w in ("submit", "check", "seal")):
                raise NotFound("archive exception", exception_id)
            require(ctx, permission(row["vertical"], "exception"))
        _, parameters = await enabled_vertical(uow, registry, row["vertical"])
        require_different_actor(ctx, row["requested_by"], "signing an explanation")
        note = (note or "").strip()
        if not approve:
            note = checked_text(note, "note", "a refusal needs a reason", "不予批准须说明理由")
        if len(note) > 2000:
            raise invalid("REASON_REQUIRED", "note", "the note has at most 2000 characters", "说明最多 2000 个字符")
        if row["state"] != PENDING:
            raise invalid("EXCEPTION_STATE_INVALID", "id", f"the explanation is already {row['state']}",
                          f"该说明已{'批准' if row['state'] == APPROVED else '驳回'}")
        at = common.now()
        state = APPROVED if approve else REFUSED
        values: dict[Any, Any] = {ArchiveException.state: state, ArchiveException.decided_by: ctx.actor,
                                  ArchiveException.decided_at: at, ArchiveException.decision_note: note,
                                  ArchiveException.version: row["version"] + 1}
        if approve and row["kind"] == RECTIFICATION:
            archive = await archive_row(uow, row["archive_id"])
            if archive["state"] != REJECTED or (archive["deadline_from"] is not None
                                                 and row["created_at"] < archive["deadline_from"]):
                raise invalid("ARCHIVE_STATE_INVALID", "id", "the archive is no longer waiting for the rectification "
                              "this extension was asked for", "该档案已不在此次延期所针对的整改中")
            if archive["extended_until"] is None or archive["extended_until"] < row["promised_at"]:
                await uow.update(Archive, {Archive.extended_until: row["promised_at"],
                                           Archive.version: archive["version"] + 1}).where(Archive.id == archive["id"])
        if approve and row["kind"] == LATE_SUBMISSION:
            values[ArchiveException.kpi_points] = int_parameter(parameters, KPI_MISSING, 0)
            await uow.update(MissingReport, {MissingReport.due_at: row["promised_at"],
                                             MissingReport.exception_id: row["id"],
                                             MissingReport.due_working_days: None,
                                             MissingReport.due_provisional: 0}).where(
                (MissingReport.vertical == row["vertical"]) & (MissingReport.standard == row["standard"])
                & (MissingReport.subject_key == row["subject_key"]) & MissingReport.resolved_at.is_null()
                & (MissingReport.due_at < row["promised_at"]))
        decided = await uow.update(ArchiveException, values).where(
            (ArchiveException.id == exception_id) & (ArchiveException.version == row["version"])).returning(
            ArchiveException.id)
        if not decided:
            raise invalid("VERSION_CONFLICT", "version", "the explanation changed meanwhile; reload it",
                          "该说明已被他人修改，请刷新")
        await _announce(uow, state, exception_id, {"kind": row["kind"], "state": (PENDING, state),
                                                   **({"note": note} if note else {})})
        return exception_view(await _row(uow, exception_id))


async def suspending_exception(uow: UnitOfWork, vertical: str, standard: str, subject_key: str,
                               at: datetime) -> dict[str, Any] | None:
    """The approved late-submission explanation whose promised date has not passed at ``at``
    (the latest promise), if any: the missing-archive KPI of the subject waits for it (W5)."""
    return await uow.select(ArchiveException).where(
        (ArchiveException.vertical == vertical) & (ArchiveException.standard == standard)
        & (ArchiveException.subject_key == subject_key) & (ArchiveException.kind == LATE_SUBMISSION)
        & (ArchiveException.state == APPROVED) & (ArchiveException.promised_at > at)).order_by(
        ArchiveException.promised_at, ascending=False).first()


def _where(verticals: list[str], state: str | None, kind: str | None) -> Any:
    where = ArchiveException.vertical.is_in(verticals)
    if state is not None:
        where &= ArchiveException.state == state
    if kind is not None:
        where &= ArchiveException.kind == kind
    return where


async def exceptions_page(ctx: Context, registry: VerticalRegistry, window: Window, *, state: str | None = None,
                          kind: str | None = None) -> tuple[list[ExceptionView], bool]:
    """Explanations of the verticals whose archives the caller handles (keyset on created_at, id)."""
    require_reader(ctx, registry)
    if state is not None and state not in EXCEPTION_STATES:
        raise invalid("FILTER_INVALID", "state", f"state is one of {', '.join(EXCEPTION_STATES)}",
                      f"状态须为 {'、'.join(EXCEPTION_STATES)} 之一")
    if kind is not None and kind not in KINDS:
        raise invalid("FILTER_INVALID", "kind", f"kind is one of {', '.join(KINDS)}", f"类型须为 {'、'.join(KINDS)} 之一")
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, None)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(ArchiveException).where(_where(verticals, state, kind)),
                                        [ArchiveException.created_at, ArchiveException.id], window)
    return [exception_view(r) for r in rows], more


async def charge_broken_promises(at: datetime) -> int:
    """Sweep (W5): an approved late-submission explanation whose promised date has passed is
    settled once; if no archive of its type was handed in for the subject by then, the person
    responsible (of the subject's missing report, else who filed it) gets the missing-archive KPI
    entry, unless a reconciliation already charged it. Returns how many entries were written."""
    charged = 0
    for tenant_id in await tenants_due("archive_late_submissions", at):  # only tenants with a promise ended
        async with unit_of_work(Context.system("job:archive-exceptions", tenant_id)) as uow:
            due = await uow.select(ArchiveException).where(
                (ArchiveException.kind == LATE_SUBMISSION) & (ArchiveException.state == APPROVED)
                & ArchiveException.settled_at.is_null() & (ArchiveException.promised_at <= at))
            for row in due:
                folders = [f["id"] for f in await uow.select(ArchiveFolder.id).where(
                    (ArchiveFolder.subject_key == row["subject_key"]) & (ArchiveFolder.vertical == row["vertical"]))]
                handed_in = bool(folders) and await uow.exists(Archive).where(
                    Archive.folder_id.is_in(folders) & (Archive.standard == row["standard"])
                    & Archive.submitted_at.is_not_null() & (Archive.submitted_at <= row["promised_at"]))
                reports = await uow.select(MissingReport.id, MissingReport.responsible_user_id,
                                           MissingReport.kpi_charged_at, MissingReport.resolved_at).where(
                    (MissingReport.vertical == row["vertical"]) & (MissingReport.standard == row["standard"])
                    & (MissingReport.subject_key == row["subject_key"])).order_by(MissingReport.created_at)
                # a report of the same absence (still open when the explanation was filed) that a
                # reconciliation already charged has cost the point
                already = any(r["kpi_charged_at"] is not None
                              and (r["resolved_at"] is None or r["resolved_at"] >= row["created_at"]) for r in reports)
                charge = not handed_in and not already
                if charge:
                    person = next((r["responsible_user_id"] for r in reversed(reports) if r["responsible_user_id"]),
                                  row["requested_user_id"])
                    await add_kpi_entry(uow, row["vertical"], person, "missing_archive",
                                        f"promised by {row['promised_on']} and not handed in",
                                        points=row["kpi_points"], subject_key=row["subject_key"], at=at)
                    if reports:
                        await uow.update(MissingReport, {MissingReport.kpi_charged_at: at}).where(
                            MissingReport.id.is_in([r["id"] for r in reports]) & MissingReport.kpi_charged_at.is_null())
                    charged += 1
                await uow.update(ArchiveException, {ArchiveException.settled_at: at,
                                                    ArchiveException.kpi_charged: int(charge)}).where(
                    ArchiveException.id == row["id"])
                await audit(uow, "archive_exception.settled", TARGET, row["id"],
                            {"handed_in": handed_in, "kpi_charged": charge})
    return charged


register_sweep("archive_late_submissions", charge_broken_promises)
