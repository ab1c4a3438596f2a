"""The register of refused attempts (seed-004 CSM-1 "result = failure", CSM-17, CSM-19 "result =
denied", AUD-05; issue 24 point 3): the security log of what was refused.

A refused operation writes nothing in its own transaction (no row, no audit entry, no job): so its
refusal is written here, in a unit of work of its own, after the refused one rolled back. A row
names who (actor, username typed), from where (address), what (operation, a bounded summary of
its arguments: their names, ids and enum-like words; never a password, code, token, key or
answer, and no free text, which may be personal data) and why (the error code);
``result`` is ``denied`` for refusals of access, ``failure`` for invalid input.

Volume is bounded per tenant and minute (``BOUND_PER_MINUTE``, per process): beyond it refusals
are counted, not written, and the count is logged and written as one ``refusals.dropped`` row
with the next refusal of that tenant written. Nothing here ever turns a refusal into a crash."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.identity.access import require
from core.identity.tables import RefusedAttempt

log = structlog.get_logger("kehu.refusals")

BOUND_PER_MINUTE = 120
SUMMARY_MAX = 1000
DENIED = frozenset({"PERMISSION_DENIED", "UNAUTHENTICATED", "PASSWORD_CHANGE_REQUIRED", "SEPARATION_OF_DUTIES",
                    "INVALID_CREDENTIALS", "ACCOUNT_LOCKED", "ACCOUNT_COMPROMISED", "NETWORK_NOT_ALLOWED",
                    "TOTP_REQUIRED", "TOTP_INVALID", "CHALLENGE_REQUIRED", "CHALLENGE_INVALID", "HTTPS_REQUIRED"})
# Argument names whose values never reach the register (matched as parts of the lower-cased name).
_SECRET_PARTS = ("password", "secret", "token", "code", "key", "answer", "recovery", "otp", "credential",
                 "signature")

_counts: dict[UUID, tuple[int, int, int]] = {}  # tenant -> (minute, written, dropped)


def now() -> datetime:
    return datetime.now(UTC)


def _harmless(value: Any, depth: int = 0) -> Any:
    if isinstance(value, Mapping):
        if depth > 3:
            return "…"
        return {str(k)[:60]: ("***" if _secret(str(k)) else _harmless(v, depth + 1)) for k, v in list(value.items())[:30]}
    if isinstance(value, (list, tuple)):
        return [_harmless(v, depth + 1) for v in list(value)[:10]]
    if isinstance(value, str):
        return value if _plain_word(value) else f"<text, {len(value)} characters>"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)[:80]


_WORD = re.compile(r"^[a-z_][a-z0-9_.]{0,39}$")


def _plain_word(value: str) -> bool:
    """An id, or an enum-like word: kept. Anything else (names, phone numbers, free text: personal
    data that is encrypted where it is stored) is replaced by its length."""
    if _WORD.match(value):
        return True
    try:
        UUID(value)
        return True
    except ValueError:
        pass
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        UUID(decoded.rsplit(":", 1)[1])
        return True
    except (ValueError, IndexError, UnicodeDecodeError, binascii.Error):
        return False


def _secret(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_PARTS)


def summary_of(arguments: Mapping[str, Any] | None) -> str:
    """The operation's arguments as bounded JSON, every secret-like argument masked."""
    text = json.dumps(_harmless(arguments or {}), ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > SUMMARY_MAX:
        text = json.dumps({"truncated": text[:SUMMARY_MAX - 40]}, ensure_ascii=False)
    return text


def _admit(tenant_id: UUID, at: datetime) -> tuple[bool, int]:
    """Whether this refusal may be written, and how many of an earlier minute were dropped."""
    minute = int(at.timestamp() // 60)
    current, written, dropped = _counts.get(tenant_id, (minute, 0, 0))
    carried = 0
    if current != minute:
        carried, written, dropped = dropped, 0, 0
    if written >= BOUND_PER_MINUTE:
        if dropped == 0:
            log.warning("refusals.bound_reached", tenant_id=str(tenant_id), bound=BOUND_PER_MINUTE)
        _counts[tenant_id] = (minute, written, dropped + 1)
        return False, 0
    _counts[tenant_id] = (minute, written + 1, dropped)
    if len(_counts) > 10_000:  # forget tenants of earlier minutes
        for key in [k for k, (m, _, d) in _counts.items() if m != minute and not d]:
            _counts.pop(key, None)
    return True, carried


def dropped_now(tenant_id: UUID) -> int:
    """Refusals of the current minute counted but not written (for tests and operators)."""
    return _counts.get(tenant_id, (0, 0, 0))[2]


async def record_refusal(ctx: Context, *, operation: str, code: str, username: str | None = None,
                         arguments: Mapping[str, Any] | None = None, tenant_id: UUID | None = None) -> None:
    """Write one refused attempt in its own unit of work (call it after the refused one ended)."""
    tenant = tenant_id or ctx.tenant_id
    if tenant is None:
        return
    at = now()
    admitted, carried = _admit(tenant, at)
    if not admitted:
        return
    if carried:
        log.warning("refusals.dropped", tenant_id=str(tenant), dropped=carried)
    result = "denied" if code in DENIED else "failure"
    try:
        async with unit_of_work(ctx.for_tenant(tenant)) as uow:
            if carried:
                await uow.insert(RefusedAttempt(created_at=at, actor="system", operation="refusals.dropped", code="BOUND_REACHED",
                                                result="failure", summary=json.dumps({"dropped": carried})))
            await uow.insert(RefusedAttempt(
                created_at=at, actor=ctx.actor[:100], username=(username or None) and username[:64],
                client_address=(ctx.client_address or None) and ctx.client_address[:64],
                request_id=(ctx.request_id or None) and ctx.request_id[:64], operation=operation[:100],
                code=code[:64], result=result, summary=summary_of(arguments)))
    except Exception:  # the refusal stands; its record is best effort
        log.exception("refusals.not_recorded", operation=operation, code=code)


@dataclass(frozen=True, slots=True)
class RefusedAttemptView:
    id: UUID
    at: datetime
    actor: str
    username: str | None
    client_address: str | None
    request_id: str | None
    operation: str
    code: str
    result: str
    summary: str


async def refused_attempts_page(ctx: Context, window: Window) -> tuple[list[RefusedAttemptView], bool]:
    """The tenant's refused attempts, newest first (keyset on time and id)."""
    require(ctx, "audit.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(uow.select(RefusedAttempt), [RefusedAttempt.created_at, RefusedAttempt.id],
                                        window, descending=True)
    return [RefusedAttemptView(id=r["id"], at=r["created_at"], actor=r["actor"], username=r["username"],
                               client_address=r["client_address"], request_id=r["request_id"],
                               operation=r["operation"], code=r["code"], result=r["result"], summary=r["summary"])
            for r in rows], more
