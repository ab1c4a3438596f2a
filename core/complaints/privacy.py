"""The complaint engine's part in key rotation: re-seal a free-text complainant still on an old
data key. Shaped as a step of ``core.privacy.rekey`` (``(label, table, columns, fix)``):
``("complaints", Complaint, ("id", "complainant"), reseal_complainants)``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.complaints.tables import Complaint
from core.db.uow import UnitOfWork
from core.privacy import crypto

SEALED_COMPLAINANT = "complaint.complainant"
REKEY_STEP_COLUMNS = ("id", "complainant")


async def reseal_complainants(uow: UnitOfWork, tenant_id: UUID, rows: list[dict[str, Any]]) -> int:
    """Re-seal each row's complainant that is not on the active key; how many changed."""
    done = 0
    for row in rows:
        text = row["complainant"]
        if not crypto.is_sealed(text) or crypto.on_active_key(text):
            continue
        person = crypto.open_json(tenant_id, SEALED_COMPLAINANT, text)
        await uow.update(Complaint, {Complaint.complainant: crypto.seal_json(tenant_id, SEALED_COMPLAINANT, person)}) \
            .where(Complaint.id == row["id"])
        done += 1
    return done
