"""A tenant's working calendar (time zone, own closures and working days, business hours), kept
as a tenant setting and used by every deadline computed for that tenant.

This is a use-case module (it checks permissions), above ``core/identity``; the pure calendar
arithmetic is in :mod:`core.calendar.days`."""

from __future__ import annotations

import json
from collections.abc import Mapping

from core.audit.chain import record
from core.jobs import outbox
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.identity.access import require, require_signed_in
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.calendar.days import TenantCalendar

CALENDAR_KEY = "jobs.calendar"


async def load_calendar(uow: UnitOfWork) -> TenantCalendar:
    """The calendar of the unit of work's tenant (no permission check: for services that already
    hold a unit of work)."""
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == CALENDAR_KEY).first()
    return TenantCalendar.from_mapping(json.loads(row["value"])) if row else TenantCalendar()


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
        before = (await load_calendar(uow)).to_mapping()
        after = TenantCalendar.from_mapping({**before, **changes}).to_mapping()
        if after != before:
            await write_setting(uow, CALENDAR_KEY, after)
            changed = {key: (before[key], after[key]) for key in after if before.get(key) != after[key]}
            await record(uow, "setting.updated", "tenant_setting", CALENDAR_KEY, changed)
            await outbox.add(uow, "setting.updated", "tenant_setting", CALENDAR_KEY, changed)
        return TenantCalendar.from_mapping(after)
