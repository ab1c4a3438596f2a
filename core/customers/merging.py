"""Merging duplicate customers, and undoing a merge within the tenant's window.

A merge moves every record linked to the merged customer (its contacts, and whatever engines and
verticals register with ``register_customer_link``) to the survivor, hides the merged customer
(``merged_into``) and keeps the lineage: exactly which records moved. Undoing moves exactly those
back, so both customers, their contacts and their histories are as they were. Neither customer's
fields change; the survivor's history can be read together with the merged ones'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from core.audit.chain import record as audit
from core.context import Context
from core.customers.service import TARGET, _load, _require_reach, _view, customer_rules, now
from core.customers.tables import Customer, CustomerContact, CustomerMerge
from core.db import unit_of_work
from core.db.tables import TenantOwned
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.jobs import outbox


@dataclass(frozen=True, slots=True)
class CustomerLink:
    label: str
    table: type[TenantOwned]
    column: str


_links: dict[str, CustomerLink] = {}


def register_customer_link(label: str, table: type[TenantOwned], column: str = "customer_id") -> None:
    """Declare that rows of ``table`` belong to the customer in ``column``: a merge carries them."""
    if not hasattr(table, column):
        raise ValueError(f"{table.__name__} has no column {column!r}")
    _links[label] = CustomerLink(label=label, table=table, column=column)


def unregister_customer_link(label: str) -> None:
    _links.pop(label, None)


register_customer_link("contact", CustomerContact)


@dataclass(frozen=True, slots=True)
class MergeView:
    id: UUID
    survivor_id: UUID
    merged_id: UUID
    moved: dict[str, list[str]]
    reason: str
    actor: str
    created_at: datetime
    undo_until: datetime
    undone_at: datetime | None


def _merge_view(row: dict[str, Any]) -> MergeView:
    return MergeView(id=row["id"], survivor_id=row["survivor_id"], merged_id=row["merged_id"],
                     moved=json.loads(row["moved"]), reason=row["reason"], actor=row["actor"],
                     created_at=row["created_at"], undo_until=row["undo_until"], undone_at=row["undone_at"])


async def merge_customers(ctx: Context, *, survivor_id: UUID, merged_id: UUID, reason: str) -> MergeView:
    """Merge ``merged_id`` into ``survivor_id`` (both of the caller's tenant, both live)."""
    require(ctx, "customer.merge")
    reason = (reason or "").strip()
    if not reason:
        raise KehuError("REASON_REQUIRED", "a merge needs a reason", "合并客户须填写原因", field="reason")
    if survivor_id == merged_id:
        raise KehuError("MERGE_SAME_CUSTOMER", "a customer cannot be merged into itself", "不能将客户与自身合并",
                        field="mergedId")
    async with unit_of_work(ctx) as uow:
        survivor = _view(await _load(uow, survivor_id))  # another tenant's id is simply not found here
        merged = _view(await _load(uow, merged_id))
        _require_reach(ctx, "customer.merge", survivor.record, survivor_id)
        _require_reach(ctx, "customer.merge", merged.record, merged_id)
        if survivor.kind != merged.kind:
            raise KehuError("MERGE_KIND_MISMATCH", "a person and an organisation cannot be merged",
                            "个人客户与机构客户不能合并", field="mergedId")
        moved: dict[str, list[str]] = {}
        for link in _links.values():
            column = getattr(link.table, link.column)
            ids = [row["id"] for row in await uow.select(link.table.id).where(column == merged_id)]
            if ids:
                await uow.update(link.table, {column: survivor_id}).where(link.table.id.is_in(ids))
                moved[link.label] = sorted(str(i) for i in ids)
        await uow.update(Customer, {Customer.merged_into: survivor_id}).where(Customer.id == merged_id)
        days = (await customer_rules(uow))["merge_undo_days"]
        merge = CustomerMerge(survivor_id=survivor_id, merged_id=merged_id, moved=json.dumps(moved, sort_keys=True),
                              reason=reason, actor=ctx.actor, undo_until=now() + timedelta(days=days))
        await uow.insert(merge)
        await audit(uow, "customer.merged", TARGET, merged_id,
                    {"merged_into": survivor_id, "moved": {k: len(v) for k, v in moved.items()}, "reason": reason})
        await outbox.add(uow, "customer.merged", TARGET, merged_id, ("merged_into",))
        return _merge_view(await uow.select(CustomerMerge).where(CustomerMerge.id == merge.id).first())


async def unmerge_customers(ctx: Context, merge_id: UUID) -> MergeView:
    """Undo a merge within the window: exactly what moved goes back, the merged customer reappears."""
    require(ctx, "customer.merge")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(CustomerMerge).where(CustomerMerge.id == merge_id).first()
        if row is None:
            raise NotFound("merge", merge_id)
        if row["undone_at"] is not None:
            raise KehuError("MERGE_ALREADY_UNDONE", "this merge was already undone", "该合并已撤销", field="mergeId")
        if now() > row["undo_until"]:
            raise KehuError("MERGE_UNDO_EXPIRED", f"a merge can be undone until {row['undo_until']:%Y-%m-%d %H:%M} UTC",
                            f"合并只能在 {row['undo_until']:%Y-%m-%d %H:%M} (UTC) 前撤销", field="mergeId")
        survivor = _view(await _load(uow, row["survivor_id"]))
        _require_reach(ctx, "customer.merge", survivor.record, row["survivor_id"])
        later = await uow.exists(CustomerMerge).where(
            (CustomerMerge.merged_id == row["survivor_id"]) & CustomerMerge.undone_at.is_null())
        if later:
            raise KehuError("MERGE_UNDO_BLOCKED", "the survivor was itself merged later; undo that merge first",
                            "保留的客户之后又被合并，请先撤销后一次合并", field="mergeId")
        for label, ids in json.loads(row["moved"]).items():
            link = _links.get(label)
            if link is None:  # a vertical that linked records is no longer loaded: keep them put, say so
                raise KehuError("MERGE_LINK_UNKNOWN", f"records of {label!r} moved with this merge but nothing "
                                "here knows them", f"合并时移动了 {label!r} 记录，但当前无法识别该类记录")
            column = getattr(link.table, link.column)
            await uow.update(link.table, {column: row["merged_id"]}).where(
                link.table.id.is_in([UUID(i) for i in ids]) & (column == row["survivor_id"]))
        await uow.update(Customer, {Customer.merged_into: None}).where(Customer.id == row["merged_id"])
        await uow.update(CustomerMerge, {CustomerMerge.undone_at: now(), CustomerMerge.undone_by: ctx.actor}).where(
            CustomerMerge.id == merge_id)
        await audit(uow, "customer.unmerged", TARGET, row["merged_id"],
                    {"merged_into": (row["survivor_id"], None), "merge_id": merge_id})
        await outbox.add(uow, "customer.unmerged", TARGET, row["merged_id"], ("merged_into",))
        return _merge_view(await uow.select(CustomerMerge).where(CustomerMerge.id == merge_id).first())


async def merges_of(ctx: Context, customer_id: UUID) -> list[MergeView]:
    """The lineage of a customer: merges into it and out of it, newest first."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        view = _view(await _load(uow, customer_id, live=False))
        _require_reach(ctx, "customer.read", view.record, customer_id)
        rows = await uow.select(CustomerMerge).where(
            (CustomerMerge.survivor_id == customer_id) | (CustomerMerge.merged_id == customer_id)).order_by(
            CustomerMerge.created_at, ascending=False)
    return [_merge_view(r) for r in rows]
