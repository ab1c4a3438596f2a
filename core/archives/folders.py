"""Archive folders (档案袋): one per subject and vertical, with its facts and retention."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from core.archives import common
from core.archives.common import (ArchiveView, FOLDER_TARGET, FolderView,
                                  archive_view, check_customer, folder_row,
                                  folder_view, invalid, json_object, may_read,
                                  recompute_folder_retention, refuse_read_only, require_vertical_permission,
                                  require_reader, require_somewhere, enabled_vertical,
                                  permission)
from core.archives.tables import Archive, ArchiveFolder
from core.audit.chain import record as audit
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import NotFound
from core.identity.access import Unauthenticated, require
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry
from core.verticals.tables import VerticalEnablement


async def create_folder(ctx: Context, registry: VerticalRegistry, vertical: str, subject_key: str, *,
                        facts: Mapping[str, Any] | None = None, owner_customer_id: UUID | None = None,
                        contact_customer_id: UUID | None = None) -> FolderView:
    """One folder per subject (一车一档): the key (a VIN) is unique in the tenant."""
    require(ctx, permission(vertical, "submit"))
    key = (subject_key or "").strip()
    if not key or len(key) > 100:
        raise invalid("SUBJECT_KEY_INVALID", "subjectKey", "the subject key has 1 to 100 characters",
                       "档案主体编号须为 1 至 100 个字符")
    facts = json_object(facts, "facts")
    async with unit_of_work(ctx) as uow:
        definition, _ = await enabled_vertical(uow, registry, vertical)
        if await uow.exists(ArchiveFolder).where(ArchiveFolder.subject_key == key):
            raise invalid("ARCHIVE_FOLDER_EXISTS", "subjectKey", f"a folder for {key} exists (one folder per subject)",
                           f"{key} 已建档（一车一档）")
        await check_customer(uow, owner_customer_id, "ownerCustomerId")
        await check_customer(uow, contact_customer_id, "contactCustomerId")
        subject = next((s.subject for s in definition.archive_standards), "subject")
        folder = ArchiveFolder(vertical=vertical, subject_kind=subject, subject_key=key,
                               facts=json.dumps(facts, ensure_ascii=False), owner_customer_id=owner_customer_id,
                               contact_customer_id=contact_customer_id, created_by=ctx.actor, created_at=common.now())
        await uow.insert(folder)
        # no key: a VIN is personal data and the audit chain is never edited (erasure)
        await audit(uow, "archive_folder.created", FOLDER_TARGET, folder.id,
                    {"vertical": vertical, "facts": sorted(facts)})
        await outbox.add(uow, "archive_folder.created", FOLDER_TARGET, folder.id, ("subject_key", "facts"))
        return folder_view(await folder_row(uow, folder.id))


async def update_folder_facts(ctx: Context, registry: VerticalRegistry, folder_id: UUID,
                              facts: Mapping[str, Any]) -> FolderView:
    """Change some facts of the subject (a key set to None is removed); retention is recomputed."""
    require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        folder = await folder_row(uow, folder_id)
        require_vertical_permission(ctx, folder["vertical"], "submit")
        definition, parameters = await enabled_vertical(uow, registry, folder["vertical"])
        await refuse_read_only(uow, folder)
        before = json.loads(folder["facts"])
        after = {k: v for k, v in {**before, **json_object(facts, "facts")}.items() if v is not None}
        await uow.update(ArchiveFolder, {ArchiveFolder.facts: json.dumps(after, ensure_ascii=False),
                                         ArchiveFolder.version: folder["version"] + 1}).where(
            ArchiveFolder.id == folder_id)
        await audit(uow, "archive_folder.updated", FOLDER_TARGET, folder_id,
                    {"facts": sorted(k for k in {*before, *after} if before.get(k) != after.get(k))})
        await outbox.add(uow, "archive_folder.updated", FOLDER_TARGET, folder_id, ("facts",))
        return await recompute_folder_retention(uow, definition, parameters, await folder_row(uow, folder_id))


async def recompute_retention(ctx: Context, registry: VerticalRegistry, folder_id: UUID) -> FolderView:
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        folder = await folder_row(uow, folder_id)
        require_vertical_permission(ctx, folder["vertical"], "check")
        definition, parameters = await enabled_vertical(uow, registry, folder["vertical"])
        await refuse_read_only(uow, folder)
        return await recompute_folder_retention(uow, definition, parameters, folder)


async def list_folders(ctx: Context, registry: VerticalRegistry, vertical: str | None = None) -> list[FolderView]:
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, vertical)
        rows = await uow.select(ArchiveFolder).where(ArchiveFolder.vertical.is_in(verticals)).order_by(
            ArchiveFolder.subject_key) if verticals else []
    return [folder_view(r) for r in rows]


async def folders_page(ctx: Context, registry: VerticalRegistry, window: Window,
                       vertical: str | None = None) -> tuple[list[FolderView], bool]:
    """A window of list_folders (keyset on subject_key, id) and whether more lie beyond it."""
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await readable_verticals(ctx, uow, registry, vertical)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(ArchiveFolder).where(ArchiveFolder.vertical.is_in(verticals)),
                                        [ArchiveFolder.subject_key, ArchiveFolder.id], window)
    return [folder_view(r) for r in rows], more


async def get_folder(ctx: Context, registry: VerticalRegistry, folder_id: UUID) -> tuple[FolderView, list[ArchiveView]]:
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        folder = await uow.select(ArchiveFolder).where(ArchiveFolder.id == folder_id).first()
        if folder is None or not may_read(ctx, folder["vertical"]):
            if folder is not None:
                require(ctx, permission(folder["vertical"], "check"))
            raise NotFound("archive folder", folder_id)
        await enabled_vertical(uow, registry, folder["vertical"])
        rows = await uow.select(Archive).where(Archive.folder_id == folder_id).order_by(Archive.created_at)
        return folder_view(folder), [await archive_view(uow, r, full=False) for r in rows]


async def readable_verticals(ctx: Context, uow: UnitOfWork, registry: VerticalRegistry, vertical: str | None) -> list[str]:
    """Enabled verticals whose archives the caller may read (one, if named)."""
    if vertical is not None:
        await enabled_vertical(uow, registry, vertical)
        if not may_read(ctx, vertical):
            require(ctx, permission(vertical, "check"))
        return [vertical]
    enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
        VerticalEnablement.status == "enabled")}
    readable = [d.id for d in registry.definitions if d.id in enabled and d.archive_standards and may_read(ctx, d.id)]
    if not readable and ctx.principal is None and not ctx.is_system:
        raise Unauthenticated()
    return readable
