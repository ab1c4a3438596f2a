"""Background sweeps work tenant by tenant (row-level security shows one tenant per transaction);
this lists the tenants to visit and runs a sweep's work in each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from uuid import UUID

import structlog

from core.context import Context
from core.db import unit_of_work
from core.tenancy.tables import Tenant

log = structlog.get_logger("kehu.tenancy")


async def tenant_ids(actor: str) -> list[UUID]:
    """Every tenant's id, read as the system actor ``actor`` (e.g. ``job:relay``)."""
    async with unit_of_work(Context.system(actor), write=False) as uow:
        return [row["id"] for row in await uow.select(Tenant.id)]


async def for_each_tenant(actor: str, work: Callable[[UUID], Awaitable[int]], failure_event: str, *,
                          tenants: Iterable[UUID] | None = None) -> int:
    """Run ``work(tenant_id)`` for every tenant (or only ``tenants``, e.g. those a due probe named:
    core.db.due.tenants_due) and add up what it handled. One tenant's failure is logged as
    ``failure_event`` and does not stop the others (its own transaction rolled back)."""
    total = 0
    visit = await tenant_ids(actor) if tenants is None else list(tenants)
    for tenant_id in visit:
        try:
            total += await work(tenant_id)
        except Exception as error:  # noqa: BLE001 - one tenant's failure must not stop the others
            log.error(failure_event, tenant_id=str(tenant_id), error=repr(error), exc_info=error)
    return total
