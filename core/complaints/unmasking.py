"""A complainant's contact data in clear (issue 19: a free-text complainant's personal data is
masked like a customer's). Reads mask the phone and the address for everyone; a caller holding
``customer.pii.unmask`` and the flow's read permission may ask for them in clear with a reason,
as ``customerUnmask`` does for a customer. Audited as ``complaint.complainant_unmasked`` with the
reason, never the values."""

from __future__ import annotations

from uuid import UUID

from core.audit.chain import record
from core.complaints import service
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.access import require
from core.plugins.manager import VerticalRegistry
from core.privacy import crypto
from core.privacy.masking import UNMASK_PERMISSION

MIN_REASON = 5


async def unmask_complainant(ctx: Context, registry: VerticalRegistry, complaint_id: UUID,
                             reason: str) -> dict[str, str] | None:
    """The complainant (name, phone, address) in clear; None when the case names a customer instead."""
    require(ctx, UNMASK_PERMISSION)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise KehuError("REASON_REQUIRED", "say why you need the values in clear (at least 5 characters)",
                        "请说明查看明文的原因（至少 5 个字）", field="reason")
    async with unit_of_work(ctx) as uow:
        row = await service._load(uow, complaint_id)
        definition = service.flow_of(registry, row["vertical"], row["flow"])
        service._require(ctx, definition.read_permission)
        await service._enabled(uow, registry, row["vertical"])
        await service._refuse_if_frozen(uow, row, reading=True)
        if not row["complainant"]:
            return None
        person = crypto.open_json(row["tenant_id"], service.SEALED_COMPLAINANT, row["complainant"])
        await record(uow, "complaint.complainant_unmasked", "complaint", complaint_id,
                     {"fields": sorted(person), "reason": reason})
    return person
