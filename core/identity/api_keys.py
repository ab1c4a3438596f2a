"""API keys: an integrator's service account with chosen permissions, shown once, stored hashed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.audit.chain import record
from core.jobs import outbox
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.identity.permissions import Scope, catalog
from core.identity.roles import check_no_escalation
from core.identity.sessions import API_KEY_PREFIX
from core.identity.tables import ApiKey
from core.identity.tokens import hash_opaque_token, new_opaque_token
from core.identity.users import now


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: UUID
    name: str
    hint: str
    permissions: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _view(row: dict) -> ApiKeyView:
    return ApiKeyView(id=row["id"], name=row["name"], hint=row["hint"], permissions=tuple(json.loads(row["permissions"])),
                      created_by=row["created_by"], created_at=row["created_at"], expires_at=row["expires_at"],
                      last_used_at=row["last_used_at"], revoked_at=row["revoked_at"])


async def create_api_key(ctx: Context, *, name: str, permissions: list[str],
                         expires_at: datetime | None = None) -> tuple[ApiKeyView, str]:
    """Create a key; the secret is returned here once and never again."""
    require(ctx, "apikey.manage")
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise KehuError("NAME_INVALID", "a key name has 1 to 100 characters", "密钥名称须为 1 至 100 个字符", field="name")
    unknown = [p for p in permissions if p not in catalog()]
    if unknown:
        raise KehuError("UNKNOWN_PERMISSION", f"no permission named {unknown[0]!r}", f"没有名为 {unknown[0]!r} 的权限",
                        field="permissions")
    if expires_at is not None and expires_at <= now():
        raise KehuError("EXPIRY_IN_PAST", "the expiry must be in the future", "到期时间须在将来", field="expiresAt")
    check_no_escalation(ctx, {p: Scope.TENANT for p in permissions})
    assert ctx.tenant_id is not None
    secret = new_opaque_token(ctx.tenant_id, API_KEY_PREFIX)
    async with unit_of_work(ctx) as uow:
        if await uow.exists(ApiKey).where(ApiKey.name == name):
            raise KehuError("API_KEY_NAME_TAKEN", f"a key named {name!r} exists", f"密钥 {name!r} 已存在", field="name")
        key = ApiKey(name=name, token_hash=hash_opaque_token(secret), hint=secret[:3] + "…" + secret[-4:],
                     permissions=json.dumps(sorted(set(permissions))), created_by=ctx.actor, expires_at=expires_at)
        await uow.insert(key)
        await record(uow, "apikey.created", "apikey", key.id,  # never the secret, nor its hash
                     {"name": name, "permissions": sorted(set(permissions)), "expires_at": expires_at})
        await outbox.add(uow, "apikey.created", "apikey", key.id, ("name", "permissions", "expires_at"))
        row = await uow.select(ApiKey).where(ApiKey.id == key.id).first()
    return _view(row), secret


async def list_api_keys(ctx: Context) -> list[ApiKeyView]:
    require(ctx, "apikey.manage")
    async with unit_of_work(ctx, write=False) as uow:
        return [_view(r) for r in await uow.select(ApiKey).order_by(ApiKey.name)]


async def revoke_api_key(ctx: Context, key_id: UUID) -> ApiKeyView:
    require(ctx, "apikey.manage")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(ApiKey).where(ApiKey.id == key_id).first()
        if row is None:
            raise NotFound("API key", key_id)
        if row["revoked_at"] is None:
            await uow.update(ApiKey, {ApiKey.revoked_at: now()}).where(ApiKey.id == key_id)
            await record(uow, "apikey.revoked", "apikey", key_id, {"name": row["name"]})
            await outbox.add(uow, "apikey.revoked", "apikey", key_id, ("revoked_at",))
        return _view(await uow.select(ApiKey).where(ApiKey.id == key_id).first())
