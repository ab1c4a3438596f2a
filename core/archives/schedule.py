"""When archives are due (seed-000 S17, T1, T2) and the on-time submission report.

``submission_due`` is pure: from an archive type's submission schedule, the tenant's parameters,
the date of the event the archive documents (its ``event_fact``: a sales archive's delivery, a
service archive's settlement) and the tenant's time zone, the moment its hand-over is due:

- daily: the day after the event, by the handover hour (``hour_parameter``, else ``at``; T1:
  the service advisors hand a day's archives over before 10:00 the next day);
- weekly: the schedule's weekday (``weekday_parameter``, else ``weekday``; 1 = Monday) of the
  week after the event's week (Monday to Sunday), by ``at`` if given, else by the end of that day
  (S17: every Monday, the vehicles of the week before);
- monthly: ``day_of_month`` of the month after the event's, by ``at`` or the end of the day.

``collection_at`` is when the archive department collects a day's archives (T2: 15:00 the day
after, ``collection_hour_parameter``). A submission records its due moment and whether it came
by then; an archive without an event date has none (the report counts it as unscheduled).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.archives.common import SUBMITTED, enabled_vertical, int_parameter, permission, standard_of
from core.archives.quality import period_bounds
from core.archives.tables import Archive, ArchiveTransition
from core.calendar.settings import load_calendar as tenant_calendar
from core.context import Context
from core.db import unit_of_work
from core.identity.access import require
from core.plugins.manager import VerticalRegistry
from core.plugins.types import Frequency, ParameterValue, SubmissionSchedule


def _clock(schedule: SubmissionSchedule, parameters: Mapping[str, ParameterValue]) -> time | None:
    """The time of day the submission is due by (None: by the end of the day)."""
    default_hour, default_minute = (int(schedule.at[:2]), int(schedule.at[3:])) if schedule.at else (None, 0)
    if schedule.hour_parameter:
        hour = int_parameter(parameters, schedule.hour_parameter, default_hour if default_hour is not None else -1)
        if 0 <= hour <= 23:
            return time(hour, default_minute if hour == default_hour else 0)
    return time(default_hour, default_minute) if default_hour is not None else None


def _on(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    if at is None:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def submission_due(schedule: SubmissionSchedule | None, parameters: Mapping[str, ParameterValue],
                   event_day: date | None, zone: ZoneInfo) -> datetime | None:
    """The moment an archive documenting an event on ``event_day`` is due (see the module)."""
    if schedule is None or event_day is None:
        return None
    at = _clock(schedule, parameters)
    if schedule.frequency is Frequency.DAILY:
        return _on(event_day + timedelta(days=1), at, zone)
    if schedule.frequency is Frequency.WEEKLY:
        weekday = schedule.weekday or 1
        if schedule.weekday_parameter:
            weekday = int_parameter(parameters, schedule.weekday_parameter, weekday)
        weekday = weekday if 1 <= weekday <= 7 else 1
        next_monday = event_day - timedelta(days=event_day.weekday()) + timedelta(days=7)
        return _on(next_monday + timedelta(days=weekday - 1), at, zone)
    first_next = date(event_day.year + event_day.month // 12, event_day.month % 12 + 1, 1)
    return _on(first_next.replace(day=min(schedule.day_of_month or 1, 28)), at, zone)


def collection_at(schedule: SubmissionSchedule | None, parameters: Mapping[str, ParameterValue],
                  event_day: date | None, zone: ZoneInfo) -> datetime | None:
    """T2: when the archive department collects the archives of ``event_day`` (the next day at
    the collection hour); None without a collection hour."""
    if schedule is None or event_day is None or not schedule.collection_hour_parameter:
        return None
    hour = int_parameter(parameters, schedule.collection_hour_parameter, -1)
    if not 0 <= hour <= 23:
        return None
    return datetime.combine(event_day + timedelta(days=1), time(hour), tzinfo=zone).astimezone(UTC)


def event_day(schedule: SubmissionSchedule | None, facts: Mapping[str, Any], zone: ZoneInfo) -> date | None:
    """The event's local date from the archive fact the schedule names (an ISO date or date-time)."""
    if schedule is None or not schedule.event_fact:
        return None
    value = facts.get(schedule.event_fact)
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(zone).date()


@dataclass(frozen=True, slots=True)
class SubmissionReport:
    vertical: str
    standard: str
    period: str
    submitted: int
    on_time: int
    late: int
    unscheduled: int
    collected_on_time: int | None  # daily schedules with a collection hour: handed in by the collection

    @property
    def on_time_percent(self) -> float | None:
        scheduled = self.on_time + self.late
        return None if scheduled == 0 else round(100.0 * self.on_time / scheduled, 2)


async def submission_report(ctx: Context, registry: VerticalRegistry, vertical: str, standard: str,
                            period: str) -> SubmissionReport:
    """On-time submission (S17, T1, T2) of the archives of one type first handed in during
    ``period`` (YYYY-MM or YYYY, the tenant's time zone): on time, late, without a schedule or
    event date, and (daily types) handed in by the archive department's collection."""
    require(ctx, permission(vertical, "check"))
    async with unit_of_work(ctx, write=False) as uow:
        definition, parameters = await enabled_vertical(uow, registry, vertical)
        schedule = standard_of(definition, standard).submission
        calendar = await tenant_calendar(uow)
        zone = calendar.zone
        start, end = period_bounds(period, calendar)
        first = {r["archive_id"]: r["at"] for r in await uow.select(
            ArchiveTransition.archive_id, ArchiveTransition.at).where(
            (ArchiveTransition.to_state == SUBMITTED) & (ArchiveTransition.at >= start) & (ArchiveTransition.at < end))}
        rows = await uow.select(Archive.id, Archive.submitted_on_time, Archive.facts).where(
            Archive.id.is_in(list(first)) & (Archive.vertical == vertical) & (Archive.standard == standard)
        ) if first else []
    on_time = sum(1 for r in rows if r["submitted_on_time"] == 1)
    late = sum(1 for r in rows if r["submitted_on_time"] == 0)
    collected = None
    if schedule is not None and schedule.collection_hour_parameter:
        collected = 0
        for r in rows:
            moment = collection_at(schedule, parameters, event_day(schedule, json.loads(r["facts"]), zone), zone)
            if moment is not None and first[r["id"]] <= moment:
                collected += 1
    return SubmissionReport(vertical=vertical, standard=standard, period=period, submitted=len(rows), on_time=on_time,
                            late=late, unscheduled=len(rows) - on_time - late, collected_on_time=collected)
