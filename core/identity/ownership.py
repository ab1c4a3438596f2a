"""Ownership is generic: any table with an owner column registers here, and a departing user's
records of every registered type move to a named successor in one unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from core.db.tables import TenantOwned
from core.db.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class OwnedRecordType:
    label: str  # e.g. "customer"; the key in handover records
    table: type[TenantOwned]
    owner_column: str
    # Called in the same unit of work after rows moved, e.g. to write the record's own history.
    after_transfer: AfterTransfer | None = None


AfterTransfer = Callable[[UnitOfWork, list[UUID], UUID, UUID], Awaitable[None]]
_registry: dict[str, OwnedRecordType] = {}


def register_owned(label: str, table: type[TenantOwned], owner_column: str = "owner_id",
                   after_transfer: AfterTransfer | None = None) -> None:
    """Declare that rows of ``table`` are owned by the user in ``owner_column``."""
    if not hasattr(table, owner_column):
        raise ValueError(f"{table.__name__} has no column {owner_column!r}")
    _registry[label] = OwnedRecordType(label=label, table=table, owner_column=owner_column,
                                       after_transfer=after_transfer)


def unregister_owned(label: str) -> None:
    _registry.pop(label, None)


def owned_record_types() -> tuple[OwnedRecordType, ...]:
    return tuple(_registry.values())


async def count_owned(uow: UnitOfWork, user_id: UUID) -> dict[str, int]:
    counts = {}
    for kind in owned_record_types():
        column = getattr(kind.table, kind.owner_column)
        counts[kind.label] = await uow.count(kind.table).where(column == user_id)
    return {label: n for label, n in counts.items() if n}


async def transfer_owned(uow: UnitOfWork, from_user: UUID, to_user: UUID) -> dict[str, int]:
    """Move every registered record of ``from_user`` to ``to_user``; return what moved."""
    moved = await count_owned(uow, from_user)
    for kind in owned_record_types():
        if kind.label in moved:
            column = getattr(kind.table, kind.owner_column)
            ids = [r["id"] for r in await uow.select(kind.table.id).where(column == from_user)]
            await uow.update(kind.table, {column: to_user}).where(column == from_user)
            if kind.after_transfer is not None:
                await kind.after_transfer(uow, ids, from_user, to_user)
    return moved
