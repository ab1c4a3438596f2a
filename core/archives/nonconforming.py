"""Non-conforming archive records and damaged archives (seed-000 T4, T5).

Each rejection writes a non-conforming archive record (不合格档案记录: the archive, its defects,
the person responsible, the checker, the time); a manager holding ``<vertical>.exception.approve``
who is not the checker who rejected it countersigns it (T5). The KPI deduction per rejected
archive is unchanged (the rejection charges it).

The archive department records an archive handed in damaged (破损, T4): the person responsible
(its submitter, else its creator) gets the missing-archive KPI entry
(``kpi_points_missing_archive``); an archive is recorded damaged once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from core.archives import common
from core.archives.common import (ASSEMBLING, KPI_MISSING, TARGET, ArchiveView, add_kpi_entry, archive_row,
                                  archive_view, checked_text, enabled_vertical, folder_row, holds, int_parameter,
                                  invalid, permission, refuse_read_only, require_reader, require_somewhere,
                                  require_vertical_permission, user_of)
from core.archives.folders import readable_verticals
from core.archives.tables import Archive, Nonconformity
from core.audit.chain import record as audit
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.errors import NotFound
from core.identity.access import require, require_different_actor
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry

RECORD_TARGET = "archive_nonconformity"


@dataclass(frozen=True, slots=True)
class NonconformityView:
    id: UUID
    archive_id: UUID
    vertical: str
    standard: str
    round: int
    defects: str
    responsible_user_id: UUID | None
    rejected_by: str
    rejected_at: datetime
    countersigned_by: str | None
    countersigned_at: datetime | None
    countersign_note: str


def _view(row: Mapping[str, Any]) -> NonconformityView:
    return NonconformityView(id=row["id"], archive_id=row["archive_id"], vertical=row["vertical"],
                             standard=row["standard"], round=row["round"], defects=row["defects"],
                             responsible_user_id=row["responsible_user_id"], rejected_by=row["rejected_by"],
                             rejected_at=row["rejected_at"], countersigned_by=row["countersigned_by"],
                             countersigned_at=row["countersigned_at"], countersign_note=row["countersign_note"])


async def countersign(ctx: Context, registry: VerticalRegistry, record_id: UUID, note: str = "") -> NonconformityView:
    """The manager's countersignature on a non-conforming archive record (T5): never the checker
    who rejected the archive; once."""
    require_somewhere(ctx, registry, "exception")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Nonconformity).where(Nonconformity.id == record_id).first()
        if row is None or not any(holds(ctx, permission(row["vertical"], w)) for w in ("submit", "check", "seal",
                                                                                         "exception")):
            raise NotFound("non-conforming archive record", record_id)
        require(ctx, permission(row["vertical"], "exception"))
        await enabled_vertical(uow, registry, row["vertical"])
        require_different_actor(ctx, row["rejected_by"], "countersigning a rejection")
        note = (note or "").strip()
        if len(note) > 2000:
            raise invalid("REASON_REQUIRED", "note", "the note has at most 2000 characters", "说明最多 2000 个字符")
        at = common.now()
        signed = await uow.update(Nonconformity, {Nonconformity.countersigned_by: ctx.actor,
                                                  Nonconformity.countersigned_at: at,
                                                  Nonconformity.countersign_note: note}).where(
            (Nonconformity.id == record_id) & Nonconformity.countersigned_at.is_null()).returning(Nonconformity.id)
        if not signed:
            raise invalid("ALREADY_COUNTERSIGNED", "id", "the record is already countersigned", "该记录已会签")
        await audit(uow, "archive.rejection_countersigned", RECORD_TARGET, record_id,
                    {"archive_id": str(row["archive_id"]), **({"note": note} if note else {})})
        await outbox.add(uow, "archive.rejection_countersigned", RECORD_TARGET, record_id, ("countersigned_at",))
        return _view(await uow.select(Nonconformity).where(Nonconformity.id == record_id).first())


async def records_page(ctx: Context, registry: VerticalRegistry, window: Window, *,
                       awaiting_countersignature: bool = False) -> tuple[list[NonconformityView], bool]:
    """Non-conforming archive records of the verticals whose archives the caller handles, oldest
    rejection first (keyset on rejected_at, id); optionally only those awaiting countersignature."""
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, None)
        if not verticals:
            return [], False
        where = Nonconformity.vertical.is_in(verticals)
        if awaiting_countersignature:
            where &= Nonconformity.countersigned_at.is_null()
        rows, more = await keyset.fetch(uow.select(Nonconformity).where(where),
                                        [Nonconformity.rejected_at, Nonconformity.id], window)
    return [_view(r) for r in rows], more


async def record_damage(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str) -> ArchiveView:
    """T4: the archive was handed in damaged (破损); the person responsible gets the
    missing-archive KPI entry. Needs ``<vertical>.archive.check``; once per archive."""
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await archive_row(uow, archive_id)
        require_vertical_permission(ctx, archive["vertical"], "check", archive_id)
        _, parameters = await enabled_vertical(uow, registry, archive["vertical"])
        await refuse_read_only(uow, await folder_row(uow, archive["folder_id"]), archive)
        note = checked_text(note, "note", "say how the archive is damaged", "请说明档案破损情况")
        if archive["state"] == ASSEMBLING:
            raise invalid("ARCHIVE_STATE_INVALID", "state", "an archive not handed in yet cannot be recorded damaged",
                          "尚未上交的档案不能记录为破损")
        require_different_actor(ctx, archive["submitted_by"] or "", "recording an archive damaged")
        at = common.now()
        marked = await uow.update(Archive, {Archive.damaged_at: at, Archive.damaged_by: ctx.actor,
                                            Archive.damage_note: note, Archive.version: archive["version"] + 1}).where(
            (Archive.id == archive_id) & Archive.damaged_at.is_null()).returning(Archive.id)
        if not marked:
            raise invalid("ARCHIVE_ALREADY_DAMAGED", "id", "the archive is already recorded damaged", "该档案已记录为破损")
        await add_kpi_entry(uow, archive["vertical"], user_of(archive["submitted_by"]) or user_of(archive["created_by"]),
                            "damaged_archive", f"archive damaged (破损): {note}",
                            points=int_parameter(parameters, KPI_MISSING, 0), archive_id=archive_id, at=at)
        await audit(uow, "archive.damaged", TARGET, archive_id, {"note": note})
        await outbox.add(uow, "archive.damaged", TARGET, archive_id, ("damaged_at",))
        return await archive_view(uow, await archive_row(uow, archive_id))
