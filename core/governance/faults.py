"""Fault tickets of the customer system itself (issue 24, seed-004 §3.3, CSM-27/28), one function
per use case: report a fault (symptom, occurrence time and impact scope required), move it through
reported -> acknowledged -> in_progress -> resolved -> closed, read the tenant's fix hours per
severity and change them, list tickets (by state, breached, overdue).

The fix deadline is stored when the fault is reported (reported_at + the severity's hours, clock
hours); resolving after it flags the ticket as breached, once and for good.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import record as audit
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.governance import fault_policy as policy
from core.governance.fault_tables import FaultTicket
from core.identity.access import require
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.jobs import outbox

REPORT, HANDLE = "fault.report", "fault.handle"
TARGET = "fault_ticket"
MAX_TEXT = 10_000


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FaultView:
    id: UUID
    version: int
    symptom: str
    occurred_at: datetime
    impact_scope: str
    severity: str
    status: str
    reported_at: datetime
    reported_by: str
    fix_hours: int
    due_at: datetime
    acknowledged_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str
    breached: bool
    overdue: bool  # open and past its deadline now


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _view(row: Mapping[str, Any], at: datetime) -> FaultView:
    due = _utc(row["due_at"])
    return FaultView(id=row["id"], version=int(row["version"]), symptom=row["symptom"],
                     occurred_at=_utc(row["occurred_at"]), impact_scope=row["impact_scope"],  # type: ignore[arg-type]
                     severity=row["severity"], status=row["status"], reported_at=_utc(row["reported_at"]),  # type: ignore[arg-type]
                     reported_by=row["reported_by"], fix_hours=int(row["fix_hours"]), due_at=due,  # type: ignore[arg-type]
                     acknowledged_at=_utc(row["acknowledged_at"]), started_at=_utc(row["started_at"]),
                     resolved_at=_utc(row["resolved_at"]), closed_at=_utc(row["closed_at"]),
                     resolution=row["resolution"], breached=bool(row["breached"]),
                     overdue=policy.overdue(row["status"], due, at))  # type: ignore[arg-type]


def _invalid(field: str, en: str, zh: str) -> KehuError:
    return KehuError("FAULT_INPUT_INVALID", en, zh, field=field)


# --- settings ------------------------------------------------------------------------------------

async def _hours(uow: UnitOfWork, severity: str) -> int:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == policy.SETTING_KEYS[severity]).first()
    return int(json.loads(row["value"])) if row else policy.DEFAULT_FIX_HOURS[severity]


async def fault_settings(ctx: Context) -> dict[str, int]:
    """The tenant's fix hours per severity (defaults critical 2, major 4, general 8)."""
    require(ctx, HANDLE)
    async with unit_of_work(ctx, write=False) as uow:
        return {severity: await _hours(uow, severity) for severity in policy.SEVERITIES}


async def update_fault_settings(ctx: Context, changes: Mapping[str, int | None]) -> dict[str, int]:
    """Set the fix hours of some severities (1 to 720 each); needs tenant.settings.manage."""
    require(ctx, "tenant.settings.manage")
    for severity, value in changes.items():
        if severity not in policy.SEVERITIES:
            raise _invalid("severity", f"no severity {severity!r}", f"没有故障级别 {severity!r}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= policy.MAX_FIX_HOURS):
            raise KehuError("SETTING_INVALID", f"the fix hours of {severity} faults must be 1 to {policy.MAX_FIX_HOURS}",
                            f"{severity} 故障的修复时限须为 1 至 {policy.MAX_FIX_HOURS} 小时",
                            field=f"{severity}Hours")
    async with unit_of_work(ctx) as uow:
        before = {severity: await _hours(uow, severity) for severity in policy.SEVERITIES}
        after = dict(before)
        for severity, value in changes.items():
            if value is not None and value != before[severity]:
                key = policy.SETTING_KEYS[severity]
                await write_setting(uow, key, value)  # type: ignore[arg-type]  # a bare number
                await audit(uow, "setting.updated", "tenant_setting", key, {key: (before[severity], value)})
                await outbox.add(uow, "setting.updated", "tenant_setting", key, (key,))
                after[severity] = value
        return after


# --- use cases -----------------------------------------------------------------------------------

def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise _invalid(name, f"{name} must be text", f"{name} 须为文本")
    if len(value) > MAX_TEXT:
        raise _invalid(name, f"{name} has at most {MAX_TEXT} characters", f"{name} 最多 {MAX_TEXT} 字")
    return value.strip()


_NAMES_ZH = {"symptom": "故障现象", "occurred_at": "出现时间", "impact_scope": "影响范围"}


async def report_fault(ctx: Context, fields: Mapping[str, Any]) -> FaultView:
    """Report a fault (CSM-28): symptom, occurrence time and impact scope are required
    (FAULT_FIELD_REQUIRED naming the field, nothing written); the severity's fix hours fix its
    deadline (CSM-27)."""
    require(ctx, REPORT)
    missing = policy.missing_field(dict(fields))
    if missing is not None:
        raise KehuError("FAULT_FIELD_REQUIRED", f"a fault report needs its {missing}",
                        f"故障报告须填写{_NAMES_ZH[missing]}", field=missing)
    at = now()
    severity = fields.get("severity") or "general"
    if severity not in policy.SEVERITIES:
        raise _invalid("severity", f"severity is one of {', '.join(policy.SEVERITIES)}",
                       f"故障级别须为 {', '.join(policy.SEVERITIES)} 之一")
    occurred = fields["occurred_at"]
    if not isinstance(occurred, datetime) or occurred.tzinfo is None:
        raise _invalid("occurred_at", "occurred_at must be a time with its zone", "出现时间须为带时区的时间")
    if occurred > at + timedelta(minutes=5):
        raise _invalid("occurred_at", "occurred_at cannot lie in the future", "出现时间不能晚于当前时间")
    values = {"symptom": _text(fields, "symptom"), "occurred_at": occurred,
              "impact_scope": _text(fields, "impact_scope"), "severity": severity}
    async with unit_of_work(ctx) as uow:
        hours = await _hours(uow, severity)
        due = policy.due_at(at, hours)
        row_id = uuid4()
        await uow.insert(FaultTicket(id=row_id, status="reported", reported_at=at, reported_by=ctx.actor,
                                     fix_hours=hours, due_at=due, version=1, **values))
        await audit(uow, "fault.reported", TARGET, row_id,
                    {**{k: (None, v) for k, v in values.items()}, "due_at": (None, due)})
        await outbox.add(uow, "fault.reported", TARGET, row_id, {"severity": severity, "due_at": due.isoformat()})
        return _view(await uow.select(FaultTicket).where(FaultTicket.id == row_id).first(), at)


_STAMP = {"acknowledged": "acknowledged_at", "in_progress": "started_at", "resolved": "resolved_at",
          "closed": "closed_at"}


async def advance_fault(ctx: Context, fault_id: UUID, *, version: int, action: str,
                        resolution: str | None = None) -> FaultView:
    """Move a fault last read at ``version`` on: acknowledge, start, resolve (resolution notes
    required; after the deadline the ticket is flagged breached), close, reopen."""
    require(ctx, HANDLE)
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await uow.select(FaultTicket).where(FaultTicket.id == fault_id).first()
        if row is None:
            raise NotFound("fault", fault_id)
        if int(row["version"]) != version:
            raise KehuError("VERSION_CONFLICT", f"the fault changed since you read it (version {version}, now "
                            f"{row['version']}); read it again", "故障单已被他人修改，请重新读取后再操作", field="version")
        status = row["status"]
        target = policy.next_state(status, action)
        if target is None:
            raise KehuError("FAULT_TRANSITION_INVALID", f"a {status} fault cannot {action}",
                            f"处于 {status} 状态的故障单不能执行 {action}", field="action")
        changes: dict[Any, Any] = {FaultTicket.status: target, FaultTicket.version: version + 1}
        diff: dict[str, Any] = {"status": (status, target)}
        # a reopened fault keeps the time work first started on it
        if target in _STAMP and (target != "in_progress" or row["started_at"] is None):
            changes[getattr(FaultTicket, _STAMP[target])] = at
            diff[_STAMP[target]] = (row[_STAMP[target]], at)
        if target == "resolved":
            notes = (resolution or "").strip()
            if not notes:
                raise KehuError("FAULT_FIELD_REQUIRED", "resolving a fault needs its resolution notes",
                                "解决故障须填写处理说明", field="resolution")
            if len(notes) > MAX_TEXT:
                raise _invalid("resolution", f"resolution has at most {MAX_TEXT} characters",
                               f"处理说明最多 {MAX_TEXT} 字")
            late = policy.breached(_utc(row["due_at"]), at)  # type: ignore[arg-type]
            changes[FaultTicket.resolution] = notes
            diff["resolution"] = (row["resolution"], notes)
            if late and not row["breached"]:
                changes[FaultTicket.breached] = True
                diff["breached"] = (False, True)
        await uow.update(FaultTicket, changes).where(FaultTicket.id == fault_id)
        await audit(uow, f"fault.{action}", TARGET, fault_id, diff)
        await outbox.add(uow, "fault.updated", TARGET, fault_id, {"status": target, "action": action})
        return _view(await uow.select(FaultTicket).where(FaultTicket.id == fault_id).first(), at)


async def get_fault(ctx: Context, fault_id: UUID) -> FaultView:
    require(ctx, REPORT)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(FaultTicket).where(FaultTicket.id == fault_id).first()
    if row is None:
        raise NotFound("fault", fault_id)
    return _view(row, now())


async def faults_page(ctx: Context, window: Window, *, status: str | None = None, breached: bool | None = None,
                      overdue: bool | None = None) -> tuple[list[FaultView], bool]:
    """Fault tickets, newest report first (keyset on reported_at, id), filtered by state, breach
    and whether they are open past their deadline now."""
    require(ctx, REPORT)
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        query = keyset.matching(uow.select(FaultTicket), (FaultTicket.status, status),
                                (FaultTicket.breached, breached))
        if overdue is True:
            query = query.where(FaultTicket.status.is_in(list(policy.OPEN)) & (FaultTicket.due_at < at))
        elif overdue is False:
            query = query.where(FaultTicket.status.not_in(list(policy.OPEN)) | (FaultTicket.due_at >= at))
        rows, more = await keyset.fetch(query, (FaultTicket.reported_at, FaultTicket.id), window, descending=True)
    return [_view(r, at) for r in rows], more
