"""Consent checks for plugins: before a vertical processes a customer's personal information for
a purpose (an SMS campaign, sharing with a manufacturer, …), it asks ``may_process``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.privacy.purposes import PURPOSES  # every purpose consent is recorded for (core's one list)


async def may_process(info_or_ctx: Any, customer_id: UUID, purpose: str, *, sensitive: bool = False) -> bool:
    """Whether the customer's latest consent for ``purpose`` is a grant (with ``sensitive``, the
    separate sensitive-data consent too). ``info_or_ctx`` is a resolver's ``info`` or the context
    core handed the plugin. An unknown purpose is refused with PURPOSE_UNKNOWN."""
    from core.privacy import consent  # core.privacy never imports this module: no circle

    ctx = getattr(getattr(info_or_ctx, "context", None), "ctx", info_or_ctx)
    return await consent.may_process(ctx, customer_id, purpose, sensitive=sensitive)


__all__ = ["PURPOSES", "may_process"]
