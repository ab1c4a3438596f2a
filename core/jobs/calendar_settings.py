"""A tenant's working calendar (time zone, own closures and working days, business hours), kept
as a tenant setting and used by every deadline computed for that tenant."""

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
from core.jobs.calendar import TenantCalendar

CALENDAR_KEY = "jobs.calendar"


async def tenant_calendar(uow: UnitOfWork) -> TenantCalendar:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == CALENDAR_KEY).first()
    return TenantCalendar.from_mapping(json.loads(row["value"])) if row else TenantCalendar()


async def read_calendar(ctx: Context) -> TenantCalendar:
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return await tenant_calendar(uow)


async def update_calendar(ctx: Context, changes: Mapping[str, object]) -> TenantCalendar:
    """Change some calendar settings (validated); the rest keep their values."""
    require(ctx, "tenant.settings.manage")
    async with unit_of_work(ctx) as uow:
        before = (await tenant_calendar(uow)).to_mapping()
        after = TenantCalendar.from_mapping({**before, **changes}).to_mapping()
        if after != before:
            await write_setting(uow, CALENDAR_KEY, after)
            changed = {key: (before[key], after[key]) for key in after if before.get(key) != after[key]}
            await record(uow, "setting.updated", "tenant_setting", CALENDAR_KEY, changed)
            await outbox.add(uow, "setting.updated", "tenant_setting", CALENDAR_KEY, changed)
        return TenantCalendar.from_mapping(after)
