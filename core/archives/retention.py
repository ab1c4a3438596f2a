"""The retention sweep: folders whose retention has ended are sealed with their archives."""

from __future__ import annotations

from datetime import datetime

import core.archives.exceptions  # noqa: F401 - archive_late_submissions sweep (core.background imports this module)
from core.archives.common import FOLDER_TARGET, SEALED, STATES, move
from core.archives.tables import Archive, ArchiveFolder
from core.audit.chain import record as audit
from core.context import Context
from core.db import unit_of_work
from core.db.due import tenants_due
from core.jobs import outbox
from core.jobs.timers import register_sweep


async def seal_expired(at: datetime) -> int:
    """Sweep: a folder whose vehicle has been idle long enough (A7: no service here for the
    tenant's ``no_service_years``) takes the retention counted from its creation; then a folder
    whose retention has ended is sealed (转入档案库封存) with its archives."""
    sealed = 0
    for tenant_id in await tenants_due("archive_retention", at):  # only tenants with a folder due (core.db.due)
        async with unit_of_work(Context.system("job:archive-retention", tenant_id)) as uow:
            for folder in await uow.select(ArchiveFolder.id, ArchiveFolder.retention_until,
                                           ArchiveFolder.retention_idle_until, ArchiveFolder.retention_idle_rule).where(
                    (ArchiveFolder.retention_idle_at <= at) & ArchiveFolder.sealed_at.is_null()):
                await uow.update(ArchiveFolder, {ArchiveFolder.retention_until: folder["retention_idle_until"],
                                                 ArchiveFolder.retention_rule: folder["retention_idle_rule"],
                                                 ArchiveFolder.retention_idle_at: None,
                                                 ArchiveFolder.retention_idle_until: None,
                                                 ArchiveFolder.retention_idle_rule: None}).where(
                    ArchiveFolder.id == folder["id"])
                await audit(uow, "archive_folder.retention_changed", FOLDER_TARGET, folder["id"],
                            {"retention_until": (str(folder["retention_until"]) if folder["retention_until"] else None,
                                                 str(folder["retention_idle_until"])),
                             "retention_rule": folder["retention_idle_rule"], "reason": "no service (idle)"})
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
