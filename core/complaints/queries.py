"""Reads of one complaint for the API (issue 19): the case alone, checked like its timeline (the
flow's read permission) and only while its vertical is enabled for the tenant, as the list shows
it; and the same check before an action that decides its answer from the case's state (pause,
resume), so a caller without the flow's read permission learns nothing of a case."""

from __future__ import annotations

from uuid import UUID

from core.complaints import service
from core.context import Context
from core.db import unit_of_work
from core.identity.access import require_signed_in
from core.plugins.manager import VerticalRegistry


async def get_complaint(ctx: Context, registry: VerticalRegistry, complaint_id: UUID) -> service.ComplaintView:
    """One complaint the caller may read: COMPLAINT_NOT_FOUND for none of this tenant's,
    PERMISSION_DENIED without the flow's read permission, VERTICAL_NOT_ENABLED while its vertical is off,
    CUSTOMER_FROZEN for a frozen customer's case unless the caller audits."""
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        row = await service._load(uow, complaint_id)
        definition = service.flow_of(registry, row["vertical"], row["flow"])
        service._require(ctx, definition.read_permission)
        await service._enabled(uow, registry, row["vertical"])
        await service._refuse_if_frozen(uow, row, reading=True)  # as its timeline: only an auditor reads it
    return service._view(ctx, row)


async def require_readable(ctx: Context, registry: VerticalRegistry, complaint_id: UUID) -> None:
    """Refuse as get_complaint does; nothing is returned."""
    await get_complaint(ctx, registry, complaint_id)
