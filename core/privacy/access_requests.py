"""Access requests: a bulk export of customer data needs a request (requester, purpose, scope)
approved by someone else holding the tenant's approver role, used once before it expires.

- The scope is the customer filter the export will run with and the columns it may hold; the
  export takes both from the request, never from its own arguments.
- States: requested -> approved | rejected; approved -> used (by one export job) | expired.
- Tenant settings (key ``privacy.exports``): ``export_approver_role`` (default the tenant admin
  role), ``export_approval_hours`` (how long an approval stays valid, default 72) and
  ``export_link_minutes`` (how long a single-use download link works, default 10, at most 60).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import record
from core.context import Context
from core.customers.service import CustomerFilter, extension_schema
from core.plugins.manager import started_verticals
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require, require_different_actor
from core.identity.policies import write_setting
from core.identity.roles import ADMIN_ROLE
from core.identity.tables import Role, TenantSetting, UserRole
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.privacy.access_tables import AccessRequest

TARGET = "access_request"
REQUEST, APPROVE = "privacy.export.request", "privacy.export.approve"
REQUESTED, APPROVED, REJECTED, USED, EXPIRED = "requested", "approved", "rejected", "used", "expired"
STATES = (REQUESTED, APPROVED, REJECTED, USED, EXPIRED)
SETTINGS_KEY = "privacy.exports"
DEFAULT_RULES: dict[str, Any] = {"export_approver_role": ADMIN_ROLE, "export_approval_hours": 72,
                                 "export_link_minutes": 10}
MAX_LINK_MINUTES = 60  # a download link is short-lived (issue 16 point 4)
FILTER_FIELDS = ("status", "kind", "owner_id", "department_id", "tag", "text", "review_due", "extension")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AccessRequestView:
    id: UUID
    requested_by: str
    purpose: str
    filter: CustomerFilter
    fields: tuple[str, ...] | None  # None: every column of the export
    state: str
    approver_role: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    expires_at: datetime | None
    used_at: datetime | None
    job_id: UUID | None
    created_at: datetime


def filter_params(where: CustomerFilter) -> dict[str, Any]:
    """A customer filter as JSON-ready values (stored in requests and export jobs)."""
    return {"status": where.status, "kind": where.kind, "owner_id": str(where.owner_id) if where.owner_id else None,
            "department_id": str(where.department_id) if where.department_id else None, "tag": where.tag,
            "text": where.text, "review_due": where.review_due,
            "extension": list(where.extension) if where.extension else None}


def filter_of(params: Mapping[str, Any]) -> CustomerFilter:
    return CustomerFilter(status=params.get("status"), kind=params.get("kind"),
                          owner_id=UUID(params["owner_id"]) if params.get("owner_id") else None,
                          department_id=UUID(params["department_id"]) if params.get("department_id") else None,
                          tag=params.get("tag"), text=params.get("text"), review_due=params.get("review_due"),
                          extension=tuple(params["extension"])  # type: ignore[arg-type]
                          if params.get("extension") else None)


def _effective_state(row: Mapping[str, Any], at: datetime) -> str:
    """An approval past its expiry is expired even before the sweep marks it."""
    if row["state"] == APPROVED and row["expires_at"] is not None and row["expires_at"] <= at:
        return EXPIRED
    return row["state"]


def _view(row: Mapping[str, Any]) -> AccessRequestView:
    scope = json.loads(row["scope"])
    return AccessRequestView(
        id=row["id"], requested_by=row["requested_by"], purpose=row["purpose"], filter=filter_of(scope["filter"]),
        fields=tuple(scope["fields"]) if scope.get("fields") is not None else None,
        state=_effective_state(row, now()), approver_role=row["approver_role"], decided_by=row["decided_by"],
        decided_at=row["decided_at"], reason=row["reason"], expires_at=row["expires_at"], used_at=row["used_at"],
        job_id=row["job_id"], created_at=row["created_at"])


async def export_rules(uow: UnitOfWork) -> dict[str, Any]:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == SETTINGS_KEY).first()
    stored = json.loads(row["value"]) if row else {}
    # Only known keys: an old ``export_link_hours`` must not linger as if it still applied.
    return {**DEFAULT_RULES, **{k: v for k, v in stored.items() if k in DEFAULT_RULES}}


def _check_fields(fields: Sequence[str]) -> list[str]:
    from core.customers import importing

    schema = extension_schema(started_verticals())
    checked: list[str] = []
    for name in fields:
        ext = importing._EXT_COLUMN.match(name)
        known = name in importing.STANDARD_COLUMNS or importing._SECTION_COLUMN.match(name) or (
            ext is not None and ext.group(1) in schema and ext.group(2) in schema[ext.group(1)])
        if not known:
            raise KehuError("ACCESS_REQUEST_FIELD_UNKNOWN", f"{name!r} is not a column of the customer export",
                            f"{name!r} 不是客户导出的列", field="scope.fields")
        if name not in checked:
            checked.append(name)
    if not checked:
        raise KehuError("ACCESS_REQUEST_FIELDS_EMPTY", "name at least one column, or none for all of them",
                        "请至少列出一列（或不填以导出全部列）", field="scope.fields")
    return checked


async def create_request(ctx: Context, *, purpose: str, where: CustomerFilter,
                         fields: Sequence[str] | None = None) -> AccessRequestView:
    """Ask for an export of the customers matching ``where`` (``fields``: the columns; None for all)."""
    require(ctx, REQUEST)
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise KehuError("PURPOSE_REQUIRED", "say what the export is for", "请填写导出用途", field="purpose")
    if len(purpose) > 2000:
        raise KehuError("PURPOSE_TOO_LONG", "the purpose has at most 2000 characters", "用途最多 2000 字",
                        field="purpose")
    scope = {"filter": filter_params(where), "fields": _check_fields(fields) if fields is not None else None}
    request_id = uuid4()
    async with unit_of_work(ctx) as uow:
        role = (await export_rules(uow))["export_approver_role"]
        await uow.insert(AccessRequest(id=request_id, requested_by=ctx.actor, purpose=purpose,
                                       scope=json.dumps(scope, sort_keys=True, ensure_ascii=False), state=REQUESTED,
                                       approver_role=role))
        await record(uow, "access_request.created", TARGET, request_id,
                     {"purpose": purpose, "scope": _shown(scope), "approver_role": role})
        await outbox.add(uow, "access_request.created", TARGET, request_id)
        return _view(await _load(uow, request_id))


def shown_filter(params: Mapping[str, Any]) -> dict[str, Any]:
    """A filter as the audit log shows it: its set fields; a text search (a name or phone number)
    only as given, since the log keeps no personal values."""
    return {k: "(given)" if k == "text" else v for k, v in params.items() if v is not None}


def _shown(scope: Mapping[str, Any]) -> dict[str, Any]:
    return {"filter": shown_filter(scope["filter"]), "fields": scope["fields"]}


async def _load(uow: UnitOfWork, request_id: UUID) -> dict[str, Any]:
    row = await uow.select(AccessRequest).where(AccessRequest.id == request_id).first()
    if row is None:
        raise NotFound("access request", request_id)
    return row


def _may_read(ctx: Context, row: Mapping[str, Any]) -> bool:
    return ctx.is_system or row["requested_by"] == ctx.actor or (
        ctx.principal is not None and APPROVE in ctx.principal.permissions)


def _require_reader(ctx: Context) -> None:
    if ctx.is_system or (ctx.principal is not None and APPROVE in ctx.principal.permissions):
        return
    require(ctx, REQUEST)


async def get_request(ctx: Context, request_id: UUID) -> AccessRequestView:
    """One request: the caller's own, or any with ``privacy.export.approve``."""
    _require_reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        row = await _load(uow, request_id)
    if not _may_read(ctx, row):
        raise NotFound("access request", request_id)  # someone else's request is not revealed
    return _view(row)


async def list_requests(ctx: Context, *, state: str | None = None, first: int = 50) -> list[AccessRequestView]:
    """Newest first: the caller's own requests, or every request for approvers."""
    return (await requests_page(ctx, Window(first), state=state))[0]


async def requests_page(ctx: Context, window: Window, *,
                        state: str | None = None) -> tuple[list[AccessRequestView], bool]:
    """A window of list_requests (keyset on created_at, id, newest first) and whether more lie beyond it."""
    _require_reader(ctx)
    if state is not None and state not in STATES:
        raise KehuError("STATE_INVALID", f"state must be one of {', '.join(STATES)}", "状态无效", field="state")
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(AccessRequest)
        if not (ctx.is_system or (ctx.principal is not None and APPROVE in ctx.principal.permissions)):
            query = query.where(AccessRequest.requested_by == ctx.actor)
        if state == EXPIRED:
            query = query.where((AccessRequest.state == EXPIRED) | (
                (AccessRequest.state == APPROVED) & (AccessRequest.expires_at <= at)))
        elif state == APPROVED:
            query = query.where((AccessRequest.state == APPROVED) & (AccessRequest.expires_at > at))
        elif state is not None:
            query = query.where(AccessRequest.state == state)
        rows, more = await keyset.fetch(query, [AccessRequest.created_at, AccessRequest.id], window, descending=True)
    return [_view(row) for row in rows], more


async def _holds_role(uow: UnitOfWork, ctx: Context, role_name: str) -> bool:
    if ctx.is_system:
        return True
    if ctx.user_id is None:
        return False  # API keys hold no roles: a person approves
    role = await uow.select(Role.id).where(Role.name == role_name).first()
    return role is not None and await uow.exists(UserRole).where(
        (UserRole.user_id == ctx.user_id) & (UserRole.role_id == role["id"]))


async def _decide(ctx: Context, request_id: UUID, *, approve: bool, reason: str = "") -> AccessRequestView:
    require(ctx, APPROVE)
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, request_id)
        if row["state"] != REQUESTED:
            raise KehuError("ACCESS_REQUEST_DECIDED", f"the request is already {row['state']}", "该申请已处理",
                            field="id")
        require_different_actor(ctx, row["requested_by"], "approving an export request")
        rules = await export_rules(uow)
        role = rules["export_approver_role"]
        if not await _holds_role(uow, ctx, role):
            raise KehuError("APPROVER_ROLE_REQUIRED", f"only holders of the role {role} decide export requests",
                            f"仅 {role} 角色可审批导出申请", field="id")
        at = now()
        values: dict[Any, Any] = {AccessRequest.decided_by: ctx.actor, AccessRequest.decided_at: at}
        if approve:
            expires = at + timedelta(hours=int(rules["export_approval_hours"]))
            values.update({AccessRequest.state: APPROVED, AccessRequest.expires_at: expires})
            changes: dict[str, Any] = {"state": (REQUESTED, APPROVED), "expires_at": expires.isoformat()}
        else:
            values.update({AccessRequest.state: REJECTED, AccessRequest.reason: reason})
            changes = {"state": (REQUESTED, REJECTED), "reason": reason}
        await uow.update(AccessRequest, values).where(AccessRequest.id == request_id)
        action = "access_request.approved" if approve else "access_request.rejected"
        await record(uow, action, TARGET, request_id, changes)
        await outbox.add(uow, action, TARGET, request_id, ["state"])
        return _view(await _load(uow, request_id))


async def approve_request(ctx: Context, request_id: UUID) -> AccessRequestView:
    """Approve a request: by a holder of the approver role who is not the requester; valid for the
    tenant's approval hours."""
    return await _decide(ctx, request_id, approve=True)


async def reject_request(ctx: Context, request_id: UUID, *, reason: str) -> AccessRequestView:
    reason = " ".join((reason or "").split())
    if not reason:
        raise KehuError("REASON_REQUIRED", "a rejection needs a reason", "驳回须填写原因", field="reason")
    return await _decide(ctx, request_id, approve=False, reason=reason[:2000])


async def use_request(uow: UnitOfWork, request_id: UUID, job_id: UUID) -> AccessRequestView:
    """Inside the export's unit of work: the caller's approved, unexpired, unused request, now
    used by ``job_id``. Refused with a code otherwise (and then nothing is written)."""
    ctx = uow.ctx
    row = await uow.select(AccessRequest).where(AccessRequest.id == request_id).first()
    if row is None or (row["requested_by"] != ctx.actor and not ctx.is_system):
        raise KehuError("EXPORT_NOT_APPROVED", "no approved access request of yours with this id",
                        "没有您本人的已批准导出申请", field="accessRequestId")
    state = _effective_state(row, now())
    if state == USED:
        raise KehuError("ACCESS_REQUEST_USED", "this access request has already been used for an export",
                        "该导出申请已使用", field="accessRequestId")
    if state == EXPIRED:
        raise KehuError("ACCESS_REQUEST_EXPIRED", "the approval of this access request has expired",
                        "该导出申请的批准已过期", field="accessRequestId")
    if state != APPROVED:
        raise KehuError("EXPORT_NOT_APPROVED", f"the access request is {state}, not approved",
                        f"导出申请未获批准（{state}）", field="accessRequestId")
    updated = await uow.update(AccessRequest, {AccessRequest.state: USED, AccessRequest.used_at: now(),
                                               AccessRequest.job_id: job_id}).where(
        (AccessRequest.id == request_id) & (AccessRequest.state == APPROVED)).returning(AccessRequest.id)
    if not updated:  # a concurrent export took it between our read and write
        raise KehuError("ACCESS_REQUEST_USED", "this access request has already been used for an export",
                        "该导出申请已使用", field="accessRequestId")
    await record(uow, "access_request.used", TARGET, request_id, {"state": (APPROVED, USED), "job_id": str(job_id)})
    return _view(await _load(uow, request_id))


async def update_export_rules(ctx: Context, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the approver role, approval hours or link minutes (``tenant.settings.manage``)."""
    require(ctx, "tenant.settings.manage")
    for key, value in changes.items():
        if key not in DEFAULT_RULES:
            raise KehuError("SETTING_UNKNOWN", f"no export setting {key!r}", f"没有导出设置 {key!r}", field=key)
        if key.endswith("_hours") and (type(value) is not int or not 1 <= value <= 24 * 90):
            raise KehuError("SETTING_INVALID", f"{key} must be whole hours from 1 to 2160",
                            f"{key} 须为 1 至 2160 的整数小时", field=key)
        if key.endswith("_minutes") and (type(value) is not int or not 1 <= value <= MAX_LINK_MINUTES):
            raise KehuError("SETTING_INVALID", f"{key} must be whole minutes from 1 to {MAX_LINK_MINUTES}",
                            f"{key} 须为 1 至 {MAX_LINK_MINUTES} 的整数分钟", field=key)
    async with unit_of_work(ctx) as uow:
        role = changes.get("export_approver_role")
        if role is not None and not await uow.exists(Role).where(Role.name == role):
            raise KehuError("ROLE_UNKNOWN", f"no role named {role!r}", f"没有名为 {role!r} 的角色",
                            field="export_approver_role")
        before = await export_rules(uow)
        if role is not None and role != before["export_approver_role"]:
            # who approves exports changes: only a current approver hands the duty on, else a
            # settings manager would name a role of their own (issue 16 point 1)
            require(ctx, APPROVE)
            if not await _holds_role(uow, ctx, before["export_approver_role"]):
                raise KehuError("APPROVER_ROLE_REQUIRED",
                                f"only holders of the role {before['export_approver_role']} name the approver role",
                                f"仅 {before['export_approver_role']} 角色可指定审批角色", field="export_approver_role")
        after = {**before, **changes}
        changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
        if changed:
            await write_setting(uow, SETTINGS_KEY, after)
            await record(uow, "setting.updated", "tenant_setting", SETTINGS_KEY, changed)
            await outbox.add(uow, "setting.updated", "tenant_setting", SETTINGS_KEY, changed)
        return after


async def expire_requests(at: datetime) -> int:
    """Sweep: mark approvals past their expiry as expired."""
    expired = 0
    for tenant_id in await tenants_due("access_requests", at):  # only tenants with an approval expired
        async with unit_of_work(Context.system("privacy:access-requests", tenant_id)) as uow:
            rows = await uow.update(AccessRequest, {AccessRequest.state: EXPIRED}).where(
                (AccessRequest.state == APPROVED) & (AccessRequest.expires_at <= at)).returning(AccessRequest.id)
            for row in rows:
                await record(uow, "access_request.expired", TARGET, row["id"], {"state": (APPROVED, EXPIRED)})
        expired += len(rows)
    return expired


register_sweep("access_requests", expire_requests)
