"""Archives and a customer's erasure (PIPL art. 47 with seed-000 A6/A7).

An archive folder names its customers (owner, contact). While a folder is under retention (its
``retention_until`` is in the future, or not yet fixed while it holds archives) the regulation
keeps it, so erasing the customer is refused with ``ARCHIVE_RETENTION`` and the customer is frozen
instead. A folder past retention is anonymised with the customer: the personal columns of
``PERSONAL_DATA`` and of its archives (facts, documents, check messages, notes) are emptied and the
subject key (a VIN) is replaced; rows, states and dates stay (counts, the KPI ledger and the
register keep their meaning)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from core.archives.tables import (
    PERSONAL_DATA,
    Archive,
    ArchiveCheckResult,
    ArchiveDocumentRow,
    ArchiveFolder,
    ArchiveTransition,
    KpiEntry,
    MissingReport,
)
from core.db.uow import UnitOfWork
from core.errors import KehuError

RETENTION_CODE = "ARCHIVE_RETENTION"
ERASED_KEY = "erased:{}"  # the subject key of an anonymised folder (keys stay unique)
REPLACEMENT = "[erased]"


@dataclass(frozen=True, slots=True)
class Retained:
    folder_id: UUID
    vertical: str
    rule: str | None
    until: datetime | None  # None: archives filed, retention not fixed yet


def _customer_columns() -> tuple[str, ...]:
    return tuple(dict.fromkeys(column for table, column, _ in PERSONAL_DATA if table == "archive_folder"))


def _of_customers(customer_ids: Sequence[UUID]) -> Any:
    where = None
    for column in _customer_columns():
        clause = getattr(ArchiveFolder, column).is_in(list(customer_ids))
        where = clause if where is None else (where | clause)
    return where


async def _folders(uow: UnitOfWork, customer_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    if not customer_ids:
        return []
    return await uow.select(ArchiveFolder).where(_of_customers(customer_ids)).order_by(ArchiveFolder.retention_until)


async def retained(uow: UnitOfWork, customer_ids: Sequence[UUID], at: datetime) -> list[Retained]:
    """The customers' folders the regulation still keeps at ``at``, longest kept last."""
    kept = []
    for folder in await _folders(uow, customer_ids):
        until = folder["retention_until"]
        if until is None and not await uow.exists(Archive).where(Archive.folder_id == folder["id"]):
            continue  # an empty folder keeps nothing
        if until is None or until > at:
            kept.append(Retained(folder["id"], folder["vertical"], folder["retention_rule"], until))
    return sorted(kept, key=lambda r: (r.until is None, r.until or at))


def longest(kept: Sequence[Retained]) -> Retained:
    return kept[-1]


class ArchiveRetention(KehuError):
    def __init__(self, kept: Retained) -> None:
        rule = f"{kept.vertical} {kept.rule}" if kept.rule else kept.vertical
        if kept.until is None:
            en, zh = (f"kept by an archive rule ({rule}) while its archives are filed; freeze instead",
                      f"档案保管规则（{rule}）要求保留该客户的档案；请改为冻结")
        else:
            day = kept.until.date().isoformat()
            en, zh = (f"kept by an archive rule ({rule}) until {day}; freeze instead",
                      f"档案保管规则（{rule}）要求保留至 {day}；请改为冻结")
        super().__init__(RETENTION_CODE, en, zh, field="id")
        self.kept = kept


async def refuse_if_retained(uow: UnitOfWork, customer_ids: Sequence[UUID], at: datetime) -> None:
    kept = await retained(uow, customer_ids, at)
    if kept:
        raise ArchiveRetention(longest(kept))


async def erase_folders(uow: UnitOfWork, customer_ids: Sequence[UUID]) -> dict[str, int]:
    """Anonymise the customers' folders (all past retention: refuse_if_retained ran first) and
    their archives; returns rows anonymised per table."""
    folders = await _folders(uow, customer_ids)
    if not folders:
        return {}
    ids = [f["id"] for f in folders]
    archive_ids = [a["id"] for a in await uow.select(Archive.id).where(Archive.folder_id.is_in(ids))]
    done: dict[str, int] = {"archive_folder": len(folders), "archive": len(archive_ids)}
    for folder in folders:
        key = ERASED_KEY.format(folder["id"])
        await uow.update(ArchiveFolder, {ArchiveFolder.facts: "{}", ArchiveFolder.subject_key: key}).where(
            ArchiveFolder.id == folder["id"])
        # the same vehicle in the ledger and the missing-archive reports
        await uow.update(KpiEntry, {KpiEntry.subject_key: key}).where(KpiEntry.subject_key == folder["subject_key"])
        await uow.update(MissingReport, {MissingReport.subject_key: key}).where(
            MissingReport.subject_key == folder["subject_key"])
    if archive_ids:
        await uow.update(Archive, {Archive.facts: "{}"}).where(Archive.id.is_in(archive_ids))
        done["archive_document"] = len(await uow.update(ArchiveDocumentRow, {ArchiveDocumentRow.fields: "{}"}).where(
            ArchiveDocumentRow.archive_id.is_in(archive_ids)).returning(ArchiveDocumentRow.id))
        # messages quote document values (names, numbers); reasons and notes are free text
        done["archive_check_result"] = len(await uow.update(ArchiveCheckResult, {
            ArchiveCheckResult.message_en: "", ArchiveCheckResult.message_zh: ""}).where(
            ArchiveCheckResult.archive_id.is_in(archive_ids)).returning(ArchiveCheckResult.id))
        await uow.update(ArchiveCheckResult, {ArchiveCheckResult.override_reason: REPLACEMENT}).where(
            ArchiveCheckResult.archive_id.is_in(archive_ids) & ArchiveCheckResult.override_reason.is_not_null())
        done["archive_transition"] = len(await uow.update(ArchiveTransition, {ArchiveTransition.note: ""}).where(
            ArchiveTransition.archive_id.is_in(archive_ids) & (ArchiveTransition.note != "")).returning(
            ArchiveTransition.id))
        done["kpi_entry"] = len(await uow.update(KpiEntry, {KpiEntry.reason: REPLACEMENT}).where(
            KpiEntry.archive_id.is_in(archive_ids)).returning(KpiEntry.id))
    return done
