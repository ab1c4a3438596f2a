"""The sales floor's clock: every use case and tick of the vertical reads the time here, so a test
pins one place (``monkeypatch.setattr(clock, "now", …)``)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
