"""The customer database's backups and its change and extract applications (seed 002 part 1).

- R1-08: the dealer's register of the monthly backup (每月保存备份文件): one backup per month with
  when it was taken, by whom, the medium or place it is kept (secure and confidential) and its
  checksum or reference; each restore drill of a backup (when, by whom, ok or failed, notes); a
  report of the months without a backup and the backups never restore-tested. Taking the backup
  itself is core's database tooling (a later issue): this is only the dealer's register of it.
- R1-04 / R1-09: any department applies to 客户部 to change or extract (调用) database data (what,
  why, scope); only the general manager or the customer director signs it (holding
  ``automotive.database.extract.sign``), never the applicant, or refuses it with a reason; an
  extract is released (by 客户部, ``automotive.database.release``) only once signed.
- R1-15: an archivist's transfer is a formal handover record (交接记录): the leader
  (``automotive.archivist.handover``) records who hands over to whom, when and what (the
  registers, keys, loans still out); the successor acknowledges it. A deputy while the archivist
  is on leave is core's post delegation (``postDelegationCreate``), documented in docs/automotive.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Date, Text, Timestamptz, Varchar

from core.plugins import (
    EventType,
    KehuError,
    TenantTable,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_table_migration,
    tenant_user,
    unit_of_work,
)
from plugins.automotive import clock
from plugins.automotive.common import aware, choice, invalid, text

READ, BACKUP = "automotive.database.read", "automotive.database.backup"
APPLY, SIGN, RELEASE = "automotive.database.apply", "automotive.database.extract.sign", "automotive.database.release"
HANDOVER = "automotive.archivist.handover"
RESULTS = ("ok", "failed")
KINDS = ("change", "extract")
APPLIED, SIGNED, REFUSED, RELEASED = "applied", "signed", "refused", "released"
STATES = (APPLIED, SIGNED, REFUSED, RELEASED)


class DatabaseBackup(TenantTable, tablename="automotive_db_backup"):
    month = Date()  # the first day of the month backed up
    taken_at = Timestamptz()
    taken_by = UUIDColumn()
    medium = Varchar(length=200)  # the medium and where it is kept, locked away
    reference = Varchar(length=200)  # a checksum or the file's reference
    recorded_by = UUIDColumn()
    recorded_at = Timestamptz()


class DatabaseRestore(TenantTable, tablename="automotive_db_restore"):
    backup_id = UUIDColumn()
    restored_at = Timestamptz()
    restored_by = UUIDColumn()
    result = Varchar(length=16)
    notes = Text(default="")


class DatabaseApplication(TenantTable, tablename="automotive_db_application"):
    kind = Varchar(length=16)
    department = Varchar(length=100)
    what = Text()
    why = Text()
    scope = Text()
    status = Varchar(length=16, default=APPLIED)
    applied_by = UUIDColumn()
    applied_at = Timestamptz()
    decided_by = UUIDColumn(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    refusal = Text(default="")
    released_by = UUIDColumn(null=True, default=None)
    released_at = Timestamptz(null=True, default=None)


class ArchivistHandover(TenantTable, tablename="automotive_archivist_handover"):
    archivist_id = UUIDColumn()
    successor_id = UUIDColumn()
    handed_over_at = Timestamptz()
    items = Text()  # 交接清单: the registers, keys, loans still out, open applications
    recorded_by = UUIDColumn()
    recorded_at = Timestamptz()
    acknowledged_at = Timestamptz(null=True, default=None)


TABLES = (DatabaseBackup, DatabaseRestore, DatabaseApplication, ArchivistHandover)
MIGRATIONS = (
    tenant_table_migration(65, "the register of the monthly database backups (seed 002 R1-08)", "automotive_db_backup", [
        "month DATE NOT NULL", "taken_at TIMESTAMPTZ NOT NULL", "taken_by UUID NOT NULL", "medium VARCHAR(200) NOT NULL",
        "reference VARCHAR(200) NOT NULL", "recorded_by UUID NOT NULL", "recorded_at TIMESTAMPTZ NOT NULL"],
        unique=(("month",),), indexes=(("taken_at",),)),
    tenant_table_migration(66, "the restore drills of the database backups (seed 002 R1-08)", "automotive_db_restore", [
        "backup_id UUID NOT NULL", "restored_at TIMESTAMPTZ NOT NULL", "restored_by UUID NOT NULL",
        "result VARCHAR(16) NOT NULL", "notes TEXT NOT NULL DEFAULT ''"], indexes=(("backup_id",),),
        references=(("backup_id", "automotive_db_backup"),)),
    tenant_table_migration(67, "applications to change or extract database data (seed 002 R1-04, R1-09)",
                           "automotive_db_application", [
        "kind VARCHAR(16) NOT NULL", "department VARCHAR(100) NOT NULL", "what TEXT NOT NULL", "why TEXT NOT NULL",
        "scope TEXT NOT NULL", "status VARCHAR(16) NOT NULL DEFAULT 'applied'", "applied_by UUID NOT NULL",
        "applied_at TIMESTAMPTZ NOT NULL", "decided_by UUID", "decided_at TIMESTAMPTZ", "refusal TEXT NOT NULL DEFAULT ''",
        "released_by UUID", "released_at TIMESTAMPTZ"], indexes=(("applied_at",), ("status",))),
    tenant_table_migration(68, "the formal handover of an archivist's transfer (seed 002 R1-15)",
                           "automotive_archivist_handover", [
        "archivist_id UUID NOT NULL", "successor_id UUID NOT NULL", "handed_over_at TIMESTAMPTZ NOT NULL",
        "items TEXT NOT NULL", "recorded_by UUID NOT NULL", "recorded_at TIMESTAMPTZ NOT NULL",
        "acknowledged_at TIMESTAMPTZ"], indexes=(("handed_over_at",), ("successor_id",))),
)
EVENT_TYPES = (
    EventType("automotive.db_backup_recorded", "automotive_db_backup", "month, taken_at, medium, reference",
              "客户部 records the month's database backup (R1-08)"),
    EventType("automotive.db_restore_recorded", "automotive_db_backup", "restores",
              "a restore drill of a backup is recorded, ok or failed (R1-08)"),
    EventType("automotive.db_application_made", "automotive_db_application", "kind, what, why, scope",
              "a department applies to change or extract database data (R1-04)"),
    EventType("automotive.db_application_signed", "automotive_db_application", "status, decided_by",
              "the general manager or the customer director signs an application (R1-09)"),
    EventType("automotive.db_application_refused", "automotive_db_application", "status, decided_by, refusal",
              "an application is refused with a reason"),
    EventType("automotive.db_extract_released", "automotive_db_application", "status, released_by",
              "客户部 releases the data of a signed extract (R1-09)"),
    EventType("automotive.archivist_handover_recorded", "automotive_archivist_handover",
              "archivist_id, successor_id, handed_over_at, items", "the leader records an archivist's handover (R1-15)"),
    EventType("automotive.archivist_handover_acknowledged", "automotive_archivist_handover", "acknowledged_at",
              "the successor acknowledges the handover (R1-15)"),
)
PERMISSIONS = ()  # roles.PERMISSIONS holds the automotive.database.* permissions


def _me(ctx: Any) -> UUID:
    if ctx.user_id is None:
        raise KehuError("PERMISSION_DENIED", "a person does this, not a key", "须由本人操作，不能使用 API 密钥", field=None)
    return ctx.user_id


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


# --- R1-08: the monthly backup and its restore drills ---------------------------------------------

async def _backup(uow: Any, backup_id: UUID) -> dict[str, Any]:
    row = await uow.select(DatabaseBackup).where(DatabaseBackup.id == backup_id).first()
    if row is None:
        raise KehuError("AUTOMOTIVE_BACKUP_NOT_FOUND", f"no database backup {backup_id}", f"未找到数据库备份 {backup_id}",
                        field="backupId")
    return row


async def backup_view(uow: Any, backup_id: UUID) -> dict[str, Any]:
    row = dict(await _backup(uow, backup_id))
    row["restores"] = await uow.select(DatabaseRestore).where(DatabaseRestore.backup_id == backup_id).order_by(
        DatabaseRestore.restored_at)
    return row


async def record_backup(ctx: Any, month: date, *, taken_at: datetime, medium: str, reference: str,
                        taken_by: UUID | None = None) -> dict[str, Any]:
    """客户部 records the month's backup (any day of the month; stored as its first day): when it was
    taken, by whom (the caller unless named), the medium and where it is kept, its checksum or
    reference. One backup per month (R1-08)."""
    require_permission(ctx, BACKUP)
    me = _me(ctx)
    aware(taken_at, "takenAt")
    medium, reference = text(medium, "medium", 200), text(reference, "reference", 200)
    month = first_of_month(month)
    now = clock.now()
    if taken_at > now:
        raise invalid("takenAt", "a backup cannot be taken in the future", "备份时间不能晚于当前时间")
    if first_of_month(taken_at.date()) < month:
        raise invalid("takenAt", "a month's backup is taken in that month or later", "月度备份须在该月或之后进行")
    async with unit_of_work(ctx) as uow:
        who = taken_by or me
        if not await tenant_user(uow, who):
            raise invalid("takenBy", "who took the backup is no user of this tenant", "备份人不是本单位用户")
        if await uow.exists(DatabaseBackup).where(DatabaseBackup.month == month):
            raise KehuError("AUTOMOTIVE_BACKUP_EXISTS", f"the month of {month:%Y-%m} has its backup already (one a month)",
                            f"{month:%Y-%m} 已登记备份（每月一次）", field="month")
        backup_id = uuid4()
        await uow.insert(DatabaseBackup(id=backup_id, month=month, taken_at=taken_at, taken_by=who, medium=medium,
                                        reference=reference, recorded_by=me, recorded_at=now))
        await record(uow, "automotive.db_backup_recorded", "automotive_db_backup", backup_id,
                     {"month": month, "taken_at": taken_at, "taken_by": who, "reference": reference})
        await emit(uow, "automotive.db_backup_recorded", "automotive_db_backup", backup_id,
                   ("month", "taken_at", "medium", "reference"))
        return await backup_view(uow, backup_id)


async def record_restore(ctx: Any, backup_id: UUID, *, restored_at: datetime, result: str,
                         notes: str = "") -> dict[str, Any]:
    """A restore drill of a backup: when, by whom (the caller), ok or failed, notes (R1-08: the
    backup must allow a quick restore)."""
    require_permission(ctx, BACKUP)
    me = _me(ctx)
    aware(restored_at, "restoredAt")
    result = choice(result, "result", RESULTS)
    notes = text(notes, "notes", 2000, required=result == "failed")
    if restored_at > clock.now():
        raise invalid("restoredAt", "a restore cannot lie in the future", "恢复时间不能晚于当前时间")
    async with unit_of_work(ctx) as uow:
        backup = await _backup(uow, backup_id)
        if restored_at < backup["taken_at"]:
            raise invalid("restoredAt", "a backup is restored after it was taken", "恢复时间须晚于备份时间")
        restore_id = uuid4()
        await uow.insert(DatabaseRestore(id=restore_id, backup_id=backup_id, restored_at=restored_at, restored_by=me,
                                         result=result, notes=notes))
        await record(uow, "automotive.db_restore_recorded", "automotive_db_backup", backup_id,
                     {"restore_id": restore_id, "restored_at": restored_at, "result": result})
        await emit(uow, "automotive.db_restore_recorded", "automotive_db_backup", backup_id, ("restores",))
        return await backup_view(uow, backup_id)


async def backups(ctx: Any, window: Any) -> tuple[list[dict[str, Any]], bool]:
    """The backups, newest first, each with its restore drills."""
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await fetch_page(uow.select(DatabaseBackup), [DatabaseBackup.taken_at, DatabaseBackup.id], window,
                                      descending=True)
        return [await backup_view(uow, row["id"]) for row in rows], more


async def backup_report(ctx: Any, since: date, until: date) -> dict[str, Any]:
    """The months from ``since`` to ``until`` (inclusive): each with its backup or none; the months
    without a backup; the backups never restore-tested and those whose last drill failed."""
    require_permission(ctx, READ)
    first, last = first_of_month(since), first_of_month(until)
    if last < first or (last.year - first.year) * 12 + last.month - first.month > 60:
        raise invalid("until", "until lies after since, five years at most", "截止日期须晚于开始日期，最长五年")
    async with unit_of_work(ctx, write=False) as uow:
        found = await uow.select(DatabaseBackup).where((DatabaseBackup.month >= first) & (DatabaseBackup.month <= last))
        restores = await uow.select(DatabaseRestore).where(
            DatabaseRestore.backup_id.is_in([b["id"] for b in found])).order_by(DatabaseRestore.restored_at) \
            if found else []
    drills: dict[UUID, list[dict[str, Any]]] = {}
    for restore in restores:
        drills.setdefault(restore["backup_id"], []).append(restore)
    by_month = {b["month"]: {**b, "restores": drills.get(b["id"], [])} for b in found}
    months = []
    month = first
    while month <= last:
        months.append({"month": month, "backup": by_month.get(month)})
        month = _next_month(month)
    ordered = [by_month[m] for m in sorted(by_month)]
    return {"months": months, "months_without_backup": [m["month"] for m in months if m["backup"] is None],
            "never_restored": [b for b in ordered if not b["restores"]],
            "last_restore_failed": [b for b in ordered if b["restores"] and b["restores"][-1]["result"] == "failed"]}


# --- R1-04 / R1-09: change and extract applications -----------------------------------------------

def _state(expected: str) -> KehuError:
    return KehuError("AUTOMOTIVE_APPLICATION_STATE", f"the application must be {expected} for this",
                     f"申请须处于 {expected} 状态", field="id")


async def _application(uow: Any, application_id: UUID) -> dict[str, Any]:
    row = await uow.select(DatabaseApplication).where(DatabaseApplication.id == application_id).first()
    if row is None:
        raise KehuError("AUTOMOTIVE_APPLICATION_NOT_FOUND", f"no database application {application_id}",
                        f"未找到数据申请 {application_id}", field="id")
    return row


async def apply(ctx: Any, *, kind: str, department: str, what: str, why: str, scope: str) -> dict[str, Any]:
    """A department applies to 客户部 to change or extract database data: what, why and the scope (R1-04)."""
    require_permission(ctx, APPLY)
    me = _me(ctx)
    kind = choice(kind, "kind", KINDS)
    department, what = text(department, "department", 100), text(what, "what", 5000)
    why, scope = text(why, "why", 5000), text(scope, "scope", 5000)
    async with unit_of_work(ctx) as uow:
        application_id = uuid4()
        await uow.insert(DatabaseApplication(id=application_id, kind=kind, department=department, what=what, why=why,
                                             scope=scope, status=APPLIED, applied_by=me, applied_at=clock.now()))
        await record(uow, "automotive.db_application_made", "automotive_db_application", application_id,
                     {"kind": kind, "department": department, "scope": scope})
        await emit(uow, "automotive.db_application_made", "automotive_db_application", application_id,
                   ("kind", "what", "why", "scope"))
        return await _application(uow, application_id)


async def _decide(ctx: Any, application_id: UUID, status: str, refusal: str = "") -> dict[str, Any]:
    require_permission(ctx, SIGN)
    me = _me(ctx)
    async with unit_of_work(ctx) as uow:
        application = await _application(uow, application_id)
        if application["applied_by"] == me:
            raise KehuError("AUTOMOTIVE_APPLICATION_SELF", "nobody decides their own application",
                            "不能审批自己提出的申请", field="id")
        done = await uow.update(DatabaseApplication, {
            DatabaseApplication.status: status, DatabaseApplication.decided_by: me,
            DatabaseApplication.decided_at: clock.now(), DatabaseApplication.refusal: refusal}).where(
            (DatabaseApplication.id == application_id) & (DatabaseApplication.status == APPLIED)).returning(
            DatabaseApplication.id)
        if not done:
            raise _state(APPLIED)
        event = "automotive.db_application_signed" if status == SIGNED else "automotive.db_application_refused"
        await record(uow, event, "automotive_db_application", application_id,
                     {"decided_by": me, "status": status, **({"refusal": refusal} if refusal else {})})
        await emit(uow, event, "automotive_db_application", application_id,
                   ("status", "decided_by") if status == SIGNED else ("status", "decided_by", "refusal"))
        return await _application(uow, application_id)


async def sign_application(ctx: Any, application_id: UUID) -> dict[str, Any]:
    """The general manager or the customer director signs an application; never its applicant (R1-09)."""
    return await _decide(ctx, application_id, SIGNED)


async def refuse_application(ctx: Any, application_id: UUID, reason: str) -> dict[str, Any]:
    """The general manager or the customer director refuses an application, with a reason."""
    reason = text(reason, "reason", 2000)
    return await _decide(ctx, application_id, REFUSED, reason)


async def release_extract(ctx: Any, application_id: UUID) -> dict[str, Any]:
    """客户部 releases the data of an extract, only once it is signed (R1-09); who released it is kept."""
    require_permission(ctx, RELEASE)
    me = _me(ctx)
    async with unit_of_work(ctx) as uow:
        application = await _application(uow, application_id)
        if application["kind"] != "extract":
            raise KehuError("AUTOMOTIVE_APPLICATION_NOT_EXTRACT", "only an extract is released",
                            "只有调用数据的申请才能发放", field="id")
        done = await uow.update(DatabaseApplication, {
            DatabaseApplication.status: RELEASED, DatabaseApplication.released_by: me,
            DatabaseApplication.released_at: clock.now()}).where(
            (DatabaseApplication.id == application_id) & (DatabaseApplication.status == SIGNED)).returning(
            DatabaseApplication.id)
        if not done:
            raise _state(SIGNED)
        await record(uow, "automotive.db_extract_released", "automotive_db_application", application_id,
                     {"released_by": me})
        await emit(uow, "automotive.db_extract_released", "automotive_db_application", application_id,
                   ("status", "released_by"))
        return await _application(uow, application_id)


async def applications(ctx: Any, window: Any, *, status: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Change and extract applications, newest first; ``status`` filters by state."""
    require_permission(ctx, READ)
    if status is not None:
        choice(status, "status", STATES)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(DatabaseApplication)
        if status is not None:
            query = query.where(DatabaseApplication.status == status)
        return await fetch_page(query, [DatabaseApplication.applied_at, DatabaseApplication.id], window,
                                descending=True)


# --- R1-15: the formal handover of an archivist's transfer ----------------------------------------

async def _handover(uow: Any, handover_id: UUID) -> dict[str, Any]:
    row = await uow.select(ArchivistHandover).where(ArchivistHandover.id == handover_id).first()
    if row is None:
        raise KehuError("AUTOMOTIVE_HANDOVER_NOT_FOUND", f"no archivist handover {handover_id}",
                        f"未找到档案管理员交接记录 {handover_id}", field="id")
    return row


async def record_handover(ctx: Any, *, archivist_id: UUID, successor_id: UUID, handed_over_at: datetime,
                          items: str) -> dict[str, Any]:
    """The leader records an archivist's transfer: who hands over to whom, when, and the list of
    what is handed over (R1-15)."""
    require_permission(ctx, HANDOVER)
    me = _me(ctx)
    aware(handed_over_at, "handedOverAt")
    items = text(items, "items", 20_000)
    if archivist_id == successor_id:
        raise invalid("successorId", "the successor is another person than the archivist", "接任者须为他人",
                      code="AUTOMOTIVE_HANDOVER_SAME_PERSON")
    if handed_over_at > clock.now():
        raise invalid("handedOverAt", "a handover is recorded once it took place", "交接须在发生后登记")
    async with unit_of_work(ctx) as uow:
        for who, field in ((archivist_id, "archivistId"), (successor_id, "successorId")):
            if not await tenant_user(uow, who):
                raise invalid(field, "no user of this tenant", "不是本单位用户")
        handover_id = uuid4()
        await uow.insert(ArchivistHandover(id=handover_id, archivist_id=archivist_id, successor_id=successor_id,
                                           handed_over_at=handed_over_at, items=items, recorded_by=me,
                                           recorded_at=clock.now()))
        await record(uow, "automotive.archivist_handover_recorded", "automotive_archivist_handover", handover_id,
                     {"archivist_id": archivist_id, "successor_id": successor_id, "handed_over_at": handed_over_at})
        await emit(uow, "automotive.archivist_handover_recorded", "automotive_archivist_handover", handover_id,
                   ("archivist_id", "successor_id", "handed_over_at", "items"))
        return await _handover(uow, handover_id)


async def acknowledge_handover(ctx: Any, handover_id: UUID) -> dict[str, Any]:
    """The successor, and only they, acknowledges the handover once (R1-15)."""
    require_permission(ctx, READ)
    me = _me(ctx)
    async with unit_of_work(ctx) as uow:
        handover = await _handover(uow, handover_id)
        if handover["successor_id"] != me:
            raise KehuError("AUTOMOTIVE_HANDOVER_NOT_SUCCESSOR", "only the successor acknowledges a handover",
                            "只有接任者才能确认交接", field="id")
        done = await uow.update(ArchivistHandover, {ArchivistHandover.acknowledged_at: clock.now()}).where(
            (ArchivistHandover.id == handover_id) & ArchivistHandover.acknowledged_at.is_null()).returning(
            ArchivistHandover.id)
        if not done:
            raise KehuError("AUTOMOTIVE_HANDOVER_ACKNOWLEDGED", "the handover is acknowledged already", "交接已确认",
                            field="id")
        await record(uow, "automotive.archivist_handover_acknowledged", "automotive_archivist_handover", handover_id,
                     {"successor_id": me})
        await emit(uow, "automotive.archivist_handover_acknowledged", "automotive_archivist_handover", handover_id,
                   ("acknowledged_at",))
        return await _handover(uow, handover_id)


async def handovers(ctx: Any, window: Any) -> tuple[list[dict[str, Any]], bool]:
    """Archivist handovers, newest first."""
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(ArchivistHandover), [ArchivistHandover.handed_over_at, ArchivistHandover.id],
                                window, descending=True)
