"""Reconciliation: expected archives imported from a source system, and missing-archive reports
(档案缺失报告) for those not received in time."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any
from uuid import uuid4

from core.archives import common
from core.archives import exceptions
from core.archives.common import (DEFAULT_MISSING_DAYS, EXCLUSION_REASONS, ExpectedRow, KPI_MISSING,
                                  MISSING_DAYS_PARAMETER, MissingView,
                                  ReconciliationView, int_parameter, invalid, add_kpi_entry,
                                  require_reader, standard_of, enabled_vertical, permission)
from core.archives.folders import readable_verticals
from core.archives.tables import Archive, ArchiveFolder, MissingReport, Reconciliation
from core.audit.chain import record as audit
from core.calendar.days import DeadlineUnit, Duration
from core.calendar.schedules import on_schedule_loaded
from core.calendar.settings import load_calendar as tenant_calendar
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.identity.access import require
from core.identity.tables import User
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry
from core.tenancy.every_tenant import tenant_ids


def parse_expected_csv(text: str) -> list[ExpectedRow]:
    """CSV with a header: ``key`` and optionally ``responsible`` (username) and ``excluded_reason``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "key" not in [f.strip() for f in reader.fieldnames]:
        raise invalid("CSV_INVALID", "csv", "the CSV needs a header row with a key column",
                       "CSV 须有含 key 列的表头")
    rows = []
    for line in reader:
        line = {(k or "").strip(): (v or "").strip() for k, v in line.items()}
        if line.get("key"):
            rows.append(ExpectedRow(line["key"], line.get("responsible") or None, line.get("excluded_reason") or None,
                                    line.get("excluded") or None))
    return rows


def exclusion_text(row: ExpectedRow) -> str | None:
    """What 未上报记录 keeps for an excluded subject: its structured reason (``in_repair``,
    ``unsettled``, ``warranty_claim``, ``no_invoice``), with a free note after a colon, or free
    text alone; None when the subject is expected."""
    code = (row.excluded_code or "").strip() or None
    note = (row.excluded_reason or "").strip() or None
    if code is not None and code not in EXCLUSION_REASONS:
        raise invalid("EXCLUSION_REASON_UNKNOWN", "rows", f"unknown exclusion reason {code!r} (one of "
                      f"{', '.join(EXCLUSION_REASONS)})", f"未知的不计入原因 {code!r}（可选 {'、'.join(EXCLUSION_REASONS)}）")
    if code is None:
        return note
    return code if note is None or note == code else f"{code}: {note}"


def _missing_view(row: Mapping[str, Any]) -> MissingView:
    return MissingView(id=row["id"], reconciliation_id=row["reconciliation_id"], vertical=row["vertical"],
                       standard=row["standard"], subject_key=row["subject_key"],
                       responsible_user_id=row["responsible_user_id"], due_at=row["due_at"],
                       resolved_at=row["resolved_at"], due_provisional=bool(row.get("due_provisional")))


async def import_expected(ctx: Context, registry: VerticalRegistry, vertical: str, standard: str, *, source: str,
                          period: str, rows: Sequence[ExpectedRow]) -> ReconciliationView:
    """Reconcile the archives expected by an external system (AAK, 小R3, CRM) with those received:
    excluded subjects go to 未上报记录 with their reason; each other subject without a submitted
    archive gets a missing-archive report (档案缺失报告) due in the vertical's working days, and
    its responsible person the missing-archive KPI entry. A due date that counted provisional
    calendar days says so and is recomputed when the year's official schedule is loaded."""
    require(ctx, permission(vertical, "check"))
    source = (source or "").strip()
    period = (period or "").strip()
    if not source or len(source) > 40 or not period or len(period) > 40:
        raise invalid("RECONCILIATION_INVALID", "source" if not source or len(source) > 40 else "period",
                       "source and period have 1 to 40 characters", "来源与期间须为 1 至 40 个字符")
    keys = [r.key.strip() for r in rows]
    if not keys or any(not k or len(k) > 100 for k in keys) or len(set(keys)) != len(keys):
        raise invalid("RECONCILIATION_INVALID", "rows", "list each expected subject once (keys of 1 to 100 characters)",
                       "每个应交档案主体列一次（编号 1 至 100 个字符）")
    async with unit_of_work(ctx) as uow:
        definition, parameters = await enabled_vertical(uow, registry, vertical)
        standard_of(definition, standard)
        names = {r.responsible for r in rows if r.responsible}
        users = {u["username"]: u["id"] for u in await uow.select(User.id, User.username).where(
            User.username.is_in(list(names)))} if names else {}
        if names - set(users):
            raise invalid("USER_UNKNOWN", "rows", f"no such users: {', '.join(sorted(names - set(users)))}",
                           f"没有这些用户：{'、'.join(sorted(names - set(users)))}")
        excluded = {r.key.strip(): text for r in rows if (text := exclusion_text(r))}
        wanted = [r for r in rows if r.key.strip() not in excluded]
        received = {f["subject_key"] for f in await uow.select(ArchiveFolder.subject_key).where(
            ArchiveFolder.id.is_in(
                [a["folder_id"] for a in await uow.select(Archive.folder_id).where(
                    (Archive.standard == standard) & (Archive.vertical == vertical) & Archive.submitted_at.is_not_null())]
                or [uuid4()]))}
        at = common.now()
        reconciliation = Reconciliation(vertical=vertical, standard=standard, source=source, period=period,
                                        expected=json.dumps([{"key": r.key.strip(), "responsible": r.responsible}
                                                             for r in rows], ensure_ascii=False),
                                        exclusions=json.dumps(excluded, ensure_ascii=False),
                                        expected_count=len(wanted),
                                        received_count=sum(1 for r in wanted if r.key.strip() in received),
                                        imported_by=ctx.actor, created_at=at)
        await uow.insert(reconciliation)
        days = int_parameter(parameters, MISSING_DAYS_PARAMETER, DEFAULT_MISSING_DAYS)
        due = (await tenant_calendar(uow)).deadline(at, Duration(days, DeadlineUnit.WORKING_DAYS))
        missing = [r for r in wanted if r.key.strip() not in received]
        points = int_parameter(parameters, KPI_MISSING, 0)
        for row in missing:
            key = row.key.strip()
            person = users.get(row.responsible) if row.responsible else None
            # W5: an approved explanation whose promised date has not passed suspends the KPI entry;
            # its report is due at the end of the promised date (the sweep charges a broken promise)
            waiting = await exceptions.suspending_exception(uow, vertical, standard, key, at)
            charged = waiting is None
            await uow.insert(MissingReport(reconciliation_id=reconciliation.id, vertical=vertical, standard=standard,
                                           subject_key=key, responsible_user_id=person,
                                           due_at=waiting["promised_at"] if waiting else due.at.astimezone(UTC),
                                           due_working_days=None if waiting else days,
                                           due_provisional=0 if waiting else int(due.provisional),
                                           exception_id=waiting["id"] if waiting else None,
                                           kpi_charged_at=at if charged and person is not None and points else None,
                                           created_at=at))
            if charged:
                await add_kpi_entry(uow, vertical, person, "missing_archive", f"{source} {period}: archive missing",
                                    points=points, subject_key=key, at=at)
        await audit(uow, "archive.reconciled", "archive_reconciliation", reconciliation.id,
                    {"source": source, "period": period, "standard": standard, "expected": len(wanted),
                     "excluded": len(excluded), "missing": len(missing)})
        await outbox.add(uow, "archive.reconciled", "archive_reconciliation", reconciliation.id, ("missing",))
        reports = await uow.select(MissingReport).where(MissingReport.reconciliation_id == reconciliation.id).order_by(
            MissingReport.subject_key)
    return ReconciliationView(id=reconciliation.id, vertical=vertical, standard=standard, source=source, period=period,
                              expected_count=len(wanted), excluded=excluded, received_count=len(wanted) - len(missing),
                              missing=tuple(_missing_view(r) for r in reports))


async def missing_reports(ctx: Context, registry: VerticalRegistry, *, open_only: bool = True) -> list[MissingView]:
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, None)
        if not verticals:
            return []
        rows = await uow.select(MissingReport).where(_missing_where(verticals, open_only)).order_by(
            *_MISSING_ORDER)
    return [_missing_view(r) for r in rows]


_MISSING_ORDER = (MissingReport.due_at, MissingReport.subject_key, MissingReport.id)


def _missing_where(verticals: Sequence[str], open_only: bool) -> Any:
    where = MissingReport.vertical.is_in(list(verticals))
    if open_only:
        where &= MissingReport.resolved_at.is_null()
    return where


async def missing_reports_page(ctx: Context, registry: VerticalRegistry, window: Window, *,
                               open_only: bool = True) -> tuple[list[MissingView], bool]:
    """A window of missing_reports (keyset on due_at, subject_key, id: soonest due first) and whether
    more lie beyond it; the open-only filter is in the query so a page is never cut short."""
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, None)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(MissingReport).where(_missing_where(verticals, open_only)),
                                        _MISSING_ORDER, window)
    return [_missing_view(r) for r in rows], more


async def recompute_provisional_due(year: int) -> int:
    """After ``year``'s official schedule is loaded (issue 18 point 11): every open missing-archive
    report whose due date counted provisional days of that year is computed again from its creation
    on the tenant's calendar (audited as ``archive.missing_report_due_recomputed`` when it moves);
    returns how many moved."""
    changed = 0
    for tenant_id in await tenant_ids("job:calendar"):
        async with unit_of_work(Context.system("job:calendar", tenant_id)) as uow:
            rows = await uow.select(MissingReport.id, MissingReport.created_at, MissingReport.due_at,
                                    MissingReport.due_working_days).where(
                MissingReport.resolved_at.is_null() & (MissingReport.due_provisional == 1)
                & MissingReport.due_working_days.is_not_null())
            if not rows:
                continue
            calendar = await tenant_calendar(uow)
            for r in rows:
                zone = calendar.zone
                if not (r["created_at"].astimezone(zone).year <= year <= r["due_at"].astimezone(zone).year):
                    continue  # its provisional days are of another year
                deadline = calendar.deadline(r["created_at"], Duration(r["due_working_days"], DeadlineUnit.WORKING_DAYS))
                due_at = deadline.at.astimezone(UTC)
                await uow.update(MissingReport, {MissingReport.due_at: due_at,
                                                 MissingReport.due_provisional: int(deadline.provisional)}).where(
                    MissingReport.id == r["id"])
                if due_at != r["due_at"]:
                    changed += 1
                    await audit(uow, "archive.missing_report_due_recomputed", "archive_missing_report", r["id"],
                                {"due_at": (r["due_at"], due_at), "calendar_year": year})
    return changed


on_schedule_loaded("missing_archive_reports", recompute_provisional_due)
