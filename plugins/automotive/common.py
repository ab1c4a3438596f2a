"""Small helpers the sales-floor modules share: coded input errors, text checks, page keys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from core.plugins import KehuError

VERTICAL = "automotive"


def invalid(field: str, en: str, zh: str, code: str = "AUTOMOTIVE_INPUT_INVALID") -> KehuError:
    return KehuError(code, en, zh, field=field)


def text(value: object, field: str, limit: int = 1000, *, required: bool = True) -> str:
    found = value.strip() if isinstance(value, str) else ""
    if not found and required:
        raise invalid(field, f"{field} is required", f"{field} 为必填项")
    if len(found) > limit:
        raise invalid(field, f"{field} is longer than {limit} characters", f"{field} 超过 {limit} 个字符")
    return found


def holds(ctx: Any, permission: str) -> bool:
    """Whether the caller holds ``permission`` (at any scope), without refusing."""
    from core.plugins import require_permission

    try:
        require_permission(ctx, permission)
        return True
    except KehuError:
        return False


def choice(value: object, field: str, choices: tuple[str, ...] | Mapping[str, Any]) -> str:
    if value not in choices:
        raise invalid(field, f"{field} is one of {', '.join(choices)}", f"{field} 须为 {'、'.join(choices)} 之一")
    return str(value)


def aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise invalid(field, f"{field} needs its time zone", f"{field} 须带时区")
    return value


def time_key(raw: list[Any]) -> tuple[datetime, UUID]:
    """A page cursor's key (a time, an id) back into column values."""
    return datetime.fromisoformat(raw[0]), UUID(raw[1])


def user_id_of(actor: str | None) -> UUID | None:
    """The user id in a context's actor (``user:<uuid>``), None for the system or an API key."""
    if actor and actor.startswith("user:"):
        try:
            return UUID(actor.split(":", 1)[1])
        except ValueError:
            return None
    return None
