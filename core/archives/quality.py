"""Archive quality per period: completeness and authenticity against the vertical's targets."""

from __future__ import annotations

from datetime import date, datetime, time

from core.archives import checks
from core.archives.common import QualityReport, SUBMITTED, invalid, enabled_vertical, permission
from core.archives.tables import Archive, ArchiveCheckResult, ArchiveTransition, MissingReport
from core.calendar.days import TenantCalendar
from core.calendar.settings import load_calendar as tenant_calendar
from core.context import Context
from core.db import unit_of_work
from core.identity.access import require
from core.plugins.manager import VerticalRegistry


def period_bounds(period: str, calendar: TenantCalendar) -> tuple[datetime, datetime]:
    """``YYYY-MM`` (a month) or ``YYYY`` (a year), in the tenant's time zone."""
    zone = calendar.zone
    try:
        if len(period) == 7 and period[4] == "-":
            first = date(int(period[:4]), int(period[5:]), 1)
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        elif len(period) == 4:
            first, after = date(int(period), 1, 1), date(int(period) + 1, 1, 1)
        else:
            raise ValueError(period)
    except ValueError:
        raise invalid("PERIOD_INVALID", "period", "a period is YYYY-MM or YYYY", "期间格式须为 YYYY-MM 或 YYYY") from None
    return (datetime.combine(first, time(0), tzinfo=zone), datetime.combine(after, time(0), tzinfo=zone))


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 2)


async def quality_report(ctx: Context, registry: VerticalRegistry, vertical: str, period: str) -> QualityReport:
    """Completeness and authenticity of the archives first submitted in ``period`` against the
    tenant's targets (see the module's docstring for the definitions)."""
    require(ctx, permission(vertical, "check"))
    async with unit_of_work(ctx, write=False) as uow:
        _, parameters = await enabled_vertical(uow, registry, vertical)
        start, end = period_bounds(period, await tenant_calendar(uow))
        first_submissions = await uow.select(ArchiveTransition.archive_id).where(
            (ArchiveTransition.to_state == SUBMITTED) & (ArchiveTransition.at >= start) & (ArchiveTransition.at < end))
        ids = [r["archive_id"] for r in first_submissions]
        archives = await uow.select(Archive.id, Archive.check_round, Archive.rejections, Archive.accepted_at).where(
            Archive.id.is_in(ids) & (Archive.vertical == vertical)) if ids else []
        ids = [a["id"] for a in archives]
        results = await uow.select(ArchiveCheckResult.archive_id, ArchiveCheckResult.round, ArchiveCheckResult.kind,
                                   ArchiveCheckResult.status).where(ArchiveCheckResult.archive_id.is_in(ids)) if ids else []
        missing = await uow.count(MissingReport).where(
            (MissingReport.vertical == vertical) & MissingReport.resolved_at.is_null()
            & (MissingReport.created_at >= start) & (MissingReport.created_at < end))
    incomplete_first = {r["archive_id"] for r in results
                        if r["round"] == 1 and r["kind"] == checks.DATA and r["status"] != checks.PASS}
    not_authentic = {r["archive_id"] for r in results
                     if r["kind"] == checks.POLICY and r["status"] in (checks.FAIL, checks.OVERRIDDEN)}
    checked = [a for a in archives if a["check_round"] > 0]
    complete = sum(1 for a in archives if (a["check_round"] > 0 and a["id"] not in incomplete_first)
                   or (a["accepted_at"] is not None and a["rejections"] == 0))
    authentic = sum(1 for a in checked if a["id"] not in not_authentic)
    expected = len(archives) + missing
    return QualityReport(vertical=vertical, period=period, expected=expected, complete=complete, checked=len(checked),
                         authentic=authentic, completeness_percent=_percent(complete, expected),
                         authenticity_percent=_percent(authentic, len(checked)),
                         completeness_target_percent=float(parameters.get("completeness_target_percent", 99.0)),
                         authenticity_target_percent=float(parameters.get("authenticity_target_percent", 95.0)))
