"""The retention sweep: folders whose retention has ended are sealed with their archives."""

from __future__ import annotations

from datetime import datetime

from core.archives.common import FOLDER_TARGET, SEALED, STATES, move
from core.archives.tables import Archive, ArchiveFolder
from core.audit.chain import record as audit
from core.context import Context
from core.db import unit_of_work
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.tenancy.every_tenant import tenant_ids


async def seal_expired(at: datetime) -> int:
    """Sweep: a folder whose retention has ended is sealed (转入档案库封存) with its archives."""
    sealed = 0
    for tenant_id in await tenant_ids("job:archive-retention"):
        async with unit_of_work(Context.system("job:archive-retention", tenant_id)) as uow:
            folders = await uow.update(ArchiveFolder, {ArchiveFolder.sealed_at: at}).where(
                (ArchiveFolder.retention_until <= at) & ArchiveFolder.sealed_at.is_null()).returning(ArchiveFolder.id)
            for folder in folders:
                for archive in await uow.select(Archive).where(
                        (Archive.folder_id == folder["id"]) & (Archive.state != SEALED)):
                    await move(uow, archive, STATES, SEALED, {Archive.sealed_at: at}, note="retention ended", at=at)
                await audit(uow, "archive_folder.sealed", FOLDER_TARGET, folder["id"], {"reason": "retention ended"})
                await outbox.add(uow, "archive_folder.sealed", FOLDER_TARGET, folder["id"], ("sealed_at",))
        sealed += len(folders)
    return sealed


register_sweep("archive_retention", seal_expired)
