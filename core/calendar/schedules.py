"""Official schedules loaded by an operator: stored platform-wide (``calendar_year``), read by every
tenant's calendar, and, once a year is loaded, deadlines that counted its provisional days are
recomputed by whoever registered a recompute (:func:`on_schedule_loaded`).

Loading is an operator's act (``kehu calendar load``, a system context); reading needs nobody's
permission: it is the national calendar.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from core.calendar.days import DEFAULT_TIMEZONE
from core.calendar.official import OfficialCalendar, YearSchedule
from core.calendar.schedule_file import parse_schedule, schedule_from_stored
from core.calendar.tables import CalendarYear
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.jobs.timers import register_sweep

log = structlog.get_logger("kehu.calendar")

#: How far ahead /healthz and the startup log look for provisional days.
WARNING_HORIZON_DAYS = 90

Recompute = Callable[[int], Awaitable[int]]
_recomputes: dict[str, Recompute] = {}

# Parsed loaded years, keyed by (year, checksum): rows are re-read on every calendar read (a
# handful of rows), parsed once.
_parsed: dict[tuple[int, str], YearSchedule] = {}


def on_schedule_loaded(name: str, recompute: Recompute) -> None:
    """Register ``await recompute(year)``, run after ``year``'s official schedule is loaded: it
    recomputes the stored deadlines that counted provisional days of that year and returns how
    many it changed."""
    _recomputes[name] = recompute


async def official_calendar(uow: UnitOfWork) -> OfficialCalendar:
    """The national calendar with every loaded year, read in ``uow``."""
    rows = await uow.select(CalendarYear.year, CalendarYear.holidays, CalendarYear.workdays,
                            CalendarYear.notice, CalendarYear.checksum)
    loaded: dict[int, YearSchedule] = {}
    for row in rows:
        key = (row["year"], row["checksum"])
        if key not in _parsed:
            _parsed[key] = schedule_from_stored(row["year"], row["holidays"], row["workdays"], row["notice"])
        loaded[row["year"]] = _parsed[key]
    return OfficialCalendar(loaded)


async def read_official_calendar() -> OfficialCalendar:
    async with unit_of_work(Context.system("calendar"), write=False) as uow:
        return await official_calendar(uow)


@dataclass(frozen=True, slots=True)
class LoadReport:
    year: int
    holidays: int
    workdays: int
    replaced: bool
    recomputed: dict[str, int]


async def load_schedule(ctx: Context, text: str) -> LoadReport:
    """Validate a schedule file (:mod:`core.calendar.schedule_file`) and store it for its year,
    replacing an earlier load; then run the registered recomputes for that year. Operators only."""
    if not ctx.is_system:
        raise KehuError("PERMISSION_DENIED", "only operators load the official calendar", "仅运维人员可加载官方日历")
    schedule = parse_schedule(text)
    stored = schedule.to_mapping()
    values = {"notice": schedule.notice, "holidays": json.dumps(stored["holidays"], ensure_ascii=False),
              "workdays": json.dumps(stored["workdays"], ensure_ascii=False),
              "checksum": hashlib.sha256(text.encode()).hexdigest(), "loaded_at": datetime.now(UTC),
              "loaded_by": ctx.actor[:100]}
    async with unit_of_work(ctx) as uow:
        replaced = await uow.exists(CalendarYear).where(CalendarYear.year == schedule.year)
        if replaced:
            await uow.update(CalendarYear, {getattr(CalendarYear, k): v for k, v in values.items()}).where(
                CalendarYear.year == schedule.year)
        else:
            await uow.insert(CalendarYear(year=schedule.year, **values))
    recomputed = {name: await recompute(schedule.year) for name, recompute in sorted(_recomputes.items())}
    log.info("calendar.loaded", year=schedule.year, holidays=len(schedule.holidays),
             workdays=len(schedule.workdays), replaced=replaced, recomputed=recomputed)
    return LoadReport(schedule.year, len(schedule.holidays), len(schedule.workdays), replaced, recomputed)


async def loaded_years() -> list[dict[str, object]]:
    async with unit_of_work(Context.system("calendar"), write=False) as uow:
        rows = await uow.select(CalendarYear.year, CalendarYear.notice, CalendarYear.loaded_at,
                                CalendarYear.loaded_by).order_by(CalendarYear.year)
    return list(rows)


def provisional_ahead(official: OfficialCalendar, today: date,
                      days: int = WARNING_HORIZON_DAYS) -> list[date]:
    """The provisional days among the next ``days`` days from ``today`` (included)."""
    return list(official.provisional_days(today, today + timedelta(days=days - 1)))


def provisional_warning(official: OfficialCalendar, today: date) -> dict[str, object] | None:
    """What /healthz and the log say when the next 90 days hold provisional days, else None."""
    ahead = provisional_ahead(official, today)
    if not ahead:
        return None
    years = sorted({day.year for day in ahead})
    return {"provisional_from": ahead[0].isoformat(), "years": years,
            "message": f"no official holiday schedule for {', '.join(map(str, years))}: working-day deadlines "
                       f"from {ahead[0].isoformat()} use a provisional schedule; load it with `kehu calendar load`"}


_warned_on: dict[str, date] = {}


async def warn_provisional_ahead(now: datetime) -> int:
    """Tick work: once a day per process, log ``calendar.provisional_ahead`` (a warning) when the
    next 90 days hold provisional days; returns 1 when it warned."""
    today = now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
    if _warned_on.get("day") == today:
        return 0
    _warned_on["day"] = today
    warning = provisional_warning(await read_official_calendar(), today)
    if warning is None:
        return 0
    log.warning("calendar.provisional_ahead", **warning)
    return 1


register_sweep("calendar_provisional_warning", warn_provisional_ahead)
