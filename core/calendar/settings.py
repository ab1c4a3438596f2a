"""A tenant's working calendar (time zone, own closures and working days, business hours), kept
as a tenant setting and used by every deadline computed for that tenant.

This is a use-case module (it checks permissions), above ``core/identity``; the pure calendar
arithmetic is in :mod:`core.calendar.days`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from core.audit.chain import record
from core.jobs import outbox
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.identity.access import require, require_signed_in
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.calendar.days import DEFAULT_TIMEZONE, TenantCalendar
from core.errors import KehuError
from core.calendar.schedules import official_calendar

CALENDAR_KEY = "jobs.calendar"
MAX_DAYS = 366  # the longest span working_days answers at once


async def load_calendar(uow: UnitOfWork) -> TenantCalendar:
    """The calendar of the unit of work's tenant (no permission check: for services that already
    hold a unit of work)."""
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == CALENDAR_KEY).first()
    official = await official_calendar(uow)
    return TenantCalendar.from_mapping(json.loads(row["value"]) if row else {}, official)


async def tenant_timezone(uow: UnitOfWork) -> str:
    """The tenant's time zone alone (one small read: rules that only need where a day begins)."""
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == CALENDAR_KEY).first()
    return str(json.loads(row["value"]).get("timezone") or DEFAULT_TIMEZONE) if row else DEFAULT_TIMEZONE


async def read_calendar(ctx: Context) -> TenantCalendar:
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return await load_calendar(uow)


async def tenant_calendar(ctx: Context) -> TenantCalendar:
    """The caller's tenant calendar, for any signed-in caller: the service a vertical uses for its
    working-day deadlines (the official calendar with the tenant's own holidays on top). Stable
    name and signature."""
    return await read_calendar(ctx)


async def update_calendar(ctx: Context, changes: Mapping[str, object]) -> TenantCalendar:
    """Change some calendar settings (validated); the rest keep their values."""
    require(ctx, "tenant.settings.manage")
    async with unit_of_work(ctx) as uow:
        current = await load_calendar(uow)
        before = current.to_mapping()
        after = TenantCalendar.from_mapping({**before, **changes}).to_mapping()
        if after != before:
            await write_setting(uow, CALENDAR_KEY, after)
            changed = {key: (before[key], after[key]) for key in after if before.get(key) != after[key]}
            await record(uow, "setting.updated", "tenant_setting", CALENDAR_KEY, changed)
            await outbox.add(uow, "setting.updated", "tenant_setting", CALENDAR_KEY, changed)
        return TenantCalendar.from_mapping(after, current.official)


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    working: bool
    provisional: bool
    holiday: str | None  # the official holiday's name, or "tenant" for the tenant's own closure


def calendar_days(calendar: TenantCalendar, first: date, last: date) -> list[CalendarDay]:
    """Each day from ``first`` to ``last`` (both included, at most :data:`MAX_DAYS`): working or not,
    provisional or not, and the holiday that closes it."""
    if last < first or (last - first).days >= MAX_DAYS:
        raise KehuError("DATE_INVALID", f"give a range of 1 to {MAX_DAYS} days, to not before from",
                        f"日期范围须为 1 至 {MAX_DAYS} 天，且结束不早于开始", field="to")
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        working = calendar.is_working_day(day)
        name = None
        if not working:
            name = "tenant" if day in calendar.extra_holidays else calendar.official.year(day.year).holidays.get(day)
        days.append(CalendarDay(day, working, calendar.is_provisional(day), name))
    return days


async def working_days(ctx: Context, first: date, last: date) -> list[CalendarDay]:
    """The caller's tenant calendar, day by day (any signed-in caller)."""
    return calendar_days(await tenant_calendar(ctx), first, last)
