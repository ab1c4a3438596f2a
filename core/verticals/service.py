"""Use cases of per-tenant verticals: list, enable, disable, override parameters, read the
effective parameters. The registry (what is installed) is passed in; the tenant's choices are rows
of ``vertical_enablement``. Every change is validated first, then written, audited with old and
new values and announced in one unit of work: a refused change leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog

from core.audit.chain import record
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import require, require_signed_in
from core.jobs import outbox
from core.plugins.manager import VerticalDefinition, VerticalRegistry
from core.plugins.types import Parameter, ParameterValue, check_order, decimal_text
from core.verticals.tables import VerticalEnablement
from core.identity.permissions import Scope
from core.identity.tables import Role, RolePermission

ENABLED, DISABLED = "enabled", "disabled"
MANAGE = "vertical.manage"
log = structlog.get_logger("kehu.verticals")


class VerticalNotEnabled(KehuError):
    def __init__(self, vertical_id: str) -> None:
        super().__init__("VERTICAL_NOT_ENABLED", f"your organisation has not enabled the vertical {vertical_id}",
                         f"贵单位未启用行业插件 {vertical_id}", field="vertical_id")


class VerticalUnknown(KehuError):
    def __init__(self, vertical_id: str) -> None:
        super().__init__("VERTICAL_UNKNOWN", f"no vertical {vertical_id!r} is installed",
                         f"未安装行业插件 {vertical_id!r}", field="vertical_id")


@dataclass(frozen=True, slots=True)
class ParameterState:
    definition: Parameter
    value: ParameterValue
    overridden: bool


@dataclass(frozen=True, slots=True)
class TenantVertical:
    """An installed vertical as one tenant sees it."""

    definition: VerticalDefinition
    enabled: bool
    version: int  # 0 when the tenant has never enabled it
    parameters: tuple[ParameterState, ...]


def _definition(registry: VerticalRegistry, vertical_id: str) -> VerticalDefinition:
    definition = registry.definition(vertical_id)
    if definition is None:
        raise VerticalUnknown(vertical_id)
    return definition


def effective_parameters(definition: VerticalDefinition, overrides: Mapping[str, Any]) -> dict[str, ParameterValue]:
    """Defaults overlaid with the overrides the current plugin version still accepts.

    An override stored under an older version of the plugin (a key since removed, a bound since
    narrowed) falls back to the default rather than feeding an engine a value the plugin refuses."""
    values = definition.defaults()
    for key, value in overrides.items():
        parameter = definition.parameter(key)
        if parameter is None:
            continue
        try:
            values[key] = parameter.check(value)
        except KehuError:
            log.warning("verticals.stale_override", vertical=definition.id, parameter=key)
    return values


def _view(definition: VerticalDefinition, row: Mapping[str, Any] | None) -> TenantVertical:
    overrides = json.loads(row["overrides"]) if row else {}
    values = effective_parameters(definition, overrides)
    states = tuple(ParameterState(p, values[p.key], p.key in overrides and values[p.key] != p.default)
                   for p in definition.parameters)
    return TenantVertical(definition=definition, enabled=bool(row) and row["status"] == ENABLED,
                          version=int(row["version"]) if row else 0, parameters=states)


async def _row(uow: UnitOfWork, vertical_id: str) -> dict[str, Any] | None:
    return await uow.select(VerticalEnablement).where(VerticalEnablement.vertical_id == vertical_id).first()


async def tenant_verticals(ctx: Context, registry: VerticalRegistry) -> list[TenantVertical]:
    """Every installed vertical with this tenant's state: enabled or not, effective parameters."""
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        rows = {r["vertical_id"]: r for r in await uow.select(VerticalEnablement)}
    return [_view(d, rows.get(d.id)) for d in registry.definitions]


async def enabled_vertical_ids(ctx: Context) -> frozenset[str]:
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(VerticalEnablement.vertical_id).where(VerticalEnablement.status == ENABLED)
    return frozenset(r["vertical_id"] for r in rows)


async def require_enabled(ctx: Context, vertical_id: str) -> None:
    """Refuse with ``VERTICAL_NOT_ENABLED`` unless the caller's tenant has enabled ``vertical_id``."""
    if vertical_id not in await enabled_vertical_ids(ctx):
        raise VerticalNotEnabled(vertical_id)


async def vertical_parameters(ctx: Context, registry: VerticalRegistry, vertical_id: str) -> dict[str, ParameterValue]:
    """The tenant's effective parameters of an enabled vertical: defaults overlaid with overrides."""
    definition = _definition(registry, vertical_id)
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        row = await _row(uow, vertical_id)
    if row is None or row["status"] != ENABLED:
        raise VerticalNotEnabled(vertical_id)
    return effective_parameters(definition, json.loads(row["overrides"]))


async def _set_status(ctx: Context, registry: VerticalRegistry, vertical_id: str, status: str) -> TenantVertical:
    require(ctx, MANAGE)
    definition = _definition(registry, vertical_id)
    async with unit_of_work(ctx) as uow:
        row = await _row(uow, vertical_id)
        before = row["status"] if row else DISABLED
        if before == status:
            return _view(definition, row)
        now = datetime.now(UTC)
        if row is None:
            await uow.insert(VerticalEnablement(vertical_id=vertical_id, status=status, overrides="{}", version=1,
                                                updated_at=now, updated_by=ctx.actor))
            version = (0, 1)
        else:
            version = (int(row["version"]), int(row["version"]) + 1)
            await uow.update(VerticalEnablement, {VerticalEnablement.status: status, VerticalEnablement.version: version[1],
                                                  VerticalEnablement.updated_at: now,
                                                  VerticalEnablement.updated_by: ctx.actor}).where(
                VerticalEnablement.vertical_id == vertical_id)
        action = "vertical.enabled" if status == ENABLED else "vertical.disabled"
        if status == ENABLED:
            await _offer_permissions(uow, definition)
        await record(uow, action, "vertical", vertical_id,
                     {"status": (before, status), "version": version, "plugin_version": definition.info.version})
        await outbox.add(uow, action, "vertical", vertical_id, ("status",))
        return _view(definition, await _row(uow, vertical_id))


async def _offer_permissions(uow: UnitOfWork, definition: VerticalDefinition) -> None:
    """Issue 18 point 3: enabling a vertical offers its permissions to the tenant's administrator
    role (系统管理员, tenant-wide), so the administrator may grant them through roles like core's;
    a role the tenant renamed or deleted gets nothing. Audited as ``role.updated``. Disabling takes
    nothing back (the permissions do nothing while the vertical is off)."""
    from core.identity.roles import ADMIN_ROLE, permission_list

    role = await uow.select(Role.id).where(Role.name == ADMIN_ROLE).first()
    if role is None or not definition.permissions:
        return
    rows = await uow.select(RolePermission.permission, RolePermission.scope).where(RolePermission.role_id == role["id"])
    before = {r["permission"]: Scope(r["scope"]) for r in rows}
    added = {p.name: Scope.TENANT for p in definition.permissions if p.name not in before}
    if not added:
        return
    await uow.insert(*(RolePermission(role_id=role["id"], permission=name, scope=scope.value)
                       for name, scope in added.items()))
    diff = {"permissions": (permission_list(before), permission_list({**before, **added})),
            "reason": f"vertical {definition.id} enabled"}
    await record(uow, "role.updated", "role", role["id"], diff)
    await outbox.add(uow, "role.updated", "role", role["id"], ("permissions",))


async def enable_vertical(ctx: Context, registry: VerticalRegistry, vertical_id: str) -> TenantVertical:
    """Enable an installed vertical for the caller's tenant (earlier overrides come back)."""
    return await _set_status(ctx, registry, vertical_id, ENABLED)


async def disable_vertical(ctx: Context, registry: VerticalRegistry, vertical_id: str) -> TenantVertical:
    """Disable a vertical: its GraphQL fields answer VERTICAL_NOT_ENABLED; overrides are kept. Its
    customers stay editable: their extension data of this vertical is kept as stored, hidden from
    reads, refused if changed, and shown again when the vertical is enabled (issue 18 point 7)."""
    return await _set_status(ctx, registry, vertical_id, DISABLED)


def _conflict(version: int) -> KehuError:
    return KehuError("VERSION_CONFLICT", f"the parameters changed meanwhile (now version {version})",
                     f"参数已被他人修改（当前版本 {version}）", field="expected_version")


def _overrides_text(stored: Mapping[str, Any]) -> str:
    """Overrides as stored: JSON, a decimal parameter's value as its decimal string (never a float)."""
    return json.dumps({key: decimal_text(value) if isinstance(value, Decimal) else value
                       for key, value in stored.items()}, sort_keys=True)


def _checked(definition: VerticalDefinition, changes: Mapping[str, Any]) -> dict[str, ParameterValue | None]:
    checked: dict[str, ParameterValue | None] = {}
    for key, value in changes.items():
        parameter = definition.parameter(key)
        if parameter is None:
            raise KehuError("PARAMETER_UNKNOWN", f"the vertical {definition.id} has no parameter {key!r}",
                            f"行业插件 {definition.id} 没有参数 {key!r}", field=key)
        checked[key] = None if value is None else parameter.check(value)
    return checked


async def update_vertical_parameters(ctx: Context, registry: VerticalRegistry, vertical_id: str,
                                     changes: Mapping[str, Any], *, expected_version: int | None = None
                                     ) -> TenantVertical:
    """Override some parameters of an enabled vertical (``None`` restores the default). Each value
    is checked against the plugin's definition before anything is written; the entry in the audit
    log holds each changed parameter's effective value before and after, and the version."""
    require(ctx, MANAGE)
    definition = _definition(registry, vertical_id)
    checked = _checked(definition, changes)
    async with unit_of_work(ctx) as uow:
        row = await _row(uow, vertical_id)
        if row is None or row["status"] != ENABLED:
            raise VerticalNotEnabled(vertical_id)
        version = int(row["version"])
        if expected_version is not None and expected_version != version:
            raise _conflict(version)
        stored = json.loads(row["overrides"])
        before = effective_parameters(definition, stored)
        for key, value in checked.items():
            if value is None or value == definition.parameter(key).default:  # type: ignore[union-attr]
                stored.pop(key, None)
            else:
                stored[key] = value
        after = effective_parameters(definition, stored)
        check_order(definition.parameters, after, checked)  # PARAMETER_ORDER: e.g. a B threshold above the A one
        diff: dict[str, Any] = {key: (before[key], after[key]) for key in after if before[key] != after[key]}
        if not diff:
            return _view(definition, row)
        diff["version"] = (version, version + 1)
        # Guarded by the version read above, so two concurrent overrides never silently merge.
        moved = await uow.update(VerticalEnablement, {
            VerticalEnablement.overrides: _overrides_text(stored), VerticalEnablement.version: version + 1,
            VerticalEnablement.updated_at: datetime.now(UTC), VerticalEnablement.updated_by: ctx.actor,
        }).where((VerticalEnablement.vertical_id == vertical_id) & (VerticalEnablement.version == version)).returning(
            VerticalEnablement.id)
        if not moved:
            raise _conflict(version + 1)
        await record(uow, "vertical.parameters_updated", "vertical", vertical_id, diff)
        await outbox.add(uow, "vertical.parameters_updated", "vertical", vertical_id,
                         [key for key in diff if key != "version"])
        return _view(definition, await _row(uow, vertical_id))
