"""Background sweeps work tenant by tenant (row-level security shows one tenant per transaction);
this lists the tenants to visit."""

from __future__ import annotations

from uuid import UUID

from core.context import Context
from core.db import unit_of_work
from core.tenancy.tables import Tenant


async def tenant_ids(actor: str) -> list[UUID]:
    """Every tenant's id, read as the system actor ``actor`` (e.g. ``job:relay``)."""
    async with unit_of_work(Context.system(actor), write=False) as uow:
        return [row["id"] for row in await uow.select(Tenant.id)]
