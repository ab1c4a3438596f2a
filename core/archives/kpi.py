"""KPI entries and fraud fines of the archive rules, and the KPI ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from core.archives import common
from core.archives.common import (FINE, KpiView, archive_row, holds, int_parameter, invalid,
                                  add_kpi_entry, require_vertical_permission, require_reader,
                                  require_somewhere, checked_text, enabled_vertical, permission)
from core.archives.tables import KpiEntry
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.identity.access import Unauthenticated
from core.identity.tables import User
from core.plugins.manager import VerticalRegistry
from core.verticals.tables import VerticalEnablement


async def record_fine(ctx: Context, registry: VerticalRegistry, archive_id: UUID, user_ids: Sequence[UUID],
                      reason: str) -> list[KpiView]:
    """Fine each named person the tenant's amount per archive (徇私舞弊, T8)."""
    require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await archive_row(uow, archive_id)
        require_vertical_permission(ctx, archive["vertical"], "check", archive_id)
        _, parameters = await enabled_vertical(uow, registry, archive["vertical"])
        reason = checked_text(reason, "reason", "a fine needs a reason", "罚款须说明理由")
        people = list(dict.fromkeys(user_ids))
        if not people:
            raise invalid("USERS_REQUIRED", "userIds", "name who is fined", "请指明被罚款人")
        known = {r["id"] for r in await uow.select(User.id).where(User.id.is_in(people))}
        if set(people) - known:
            raise invalid("USER_UNKNOWN", "userIds", "no such user in this tenant", "本租户没有该用户")
        at = common.now()
        amount = int_parameter(parameters, FINE, 0)  # a vertical that declares no fine charges none
        if amount <= 0:
            raise invalid("FINE_NOT_SET", "userIds", "the tenant's fine amount is 0", "本单位罚款金额为 0")
        for person in people:
            await add_kpi_entry(uow, archive["vertical"], person, "fraud", reason, fine_cny=amount, archive_id=archive_id, at=at)
        rows = await uow.select(KpiEntry).where((KpiEntry.archive_id == archive_id) & (KpiEntry.at == at))
    return [_kpi_view(r) for r in rows]


def _kpi_view(row: Mapping[str, Any]) -> KpiView:
    return KpiView(id=row["id"], user_id=row["user_id"], vertical=row["vertical"], points=row["points"],
                   fine_cny=row["fine_cny"], rule_code=row["rule_code"], archive_id=row["archive_id"],
                   subject_key=row["subject_key"], reason=row["reason"], at=row["at"])


async def kpi_ledger(ctx: Context, registry: VerticalRegistry, *, user_id: UUID | None = None,
                     start: datetime | None = None, end: datetime | None = None) -> list[KpiView]:
    """Entries of the verticals whose archives the caller checks; anyone sees their own."""
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        where = await _kpi_where(ctx, uow, registry, user_id, start, end)
        if where is None:
            return []
        rows = await uow.select(KpiEntry).where(where).order_by(KpiEntry.at)
    return [_kpi_view(r) for r in rows]


async def _kpi_where(ctx: Context, uow: UnitOfWork, registry: VerticalRegistry, user_id: UUID | None,
                     start: datetime | None, end: datetime | None) -> Any:
    """The entries the caller may read (None: none); only enabled verticals', filtered in SQL so a
    keyset page is never cut short by rows dropped after reading."""
    enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
        VerticalEnablement.status == "enabled")}
    checked = [d.id for d in registry.definitions if d.id in enabled and holds(ctx, permission(d.id, "check"))]
    own = ctx.user_id
    if not checked and own is None and not ctx.is_system:
        raise Unauthenticated()
    where = KpiEntry.vertical.is_in(checked) if checked else None
    if own is not None:
        mine = KpiEntry.user_id == own
        where = mine if where is None else (where | mine)
    if where is None or not enabled:
        return None
    where &= KpiEntry.vertical.is_in(sorted(enabled))
    if user_id is not None:
        where &= KpiEntry.user_id == user_id
    if start is not None:
        where &= KpiEntry.at >= start
    if end is not None:
        where &= KpiEntry.at < end
    return where


async def kpi_page(ctx: Context, registry: VerticalRegistry, window: Window, *, user_id: UUID | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> tuple[list[KpiView], bool]:
    """A window of kpi_ledger (keyset on at, id, oldest first) and whether more lie beyond it."""
    require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        where = await _kpi_where(ctx, uow, registry, user_id, start, end)
        if where is None:
            return [], False
        rows, more = await keyset.fetch(uow.select(KpiEntry).where(where), [KpiEntry.at, KpiEntry.id], window)
    return [_kpi_view(r) for r in rows], more
