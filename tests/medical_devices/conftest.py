"""The medical-devices vertical through its public GraphQL API, on kehu's vertical harness
(``kehu_client`` signed in as the tenant's administrator, who holds the vertical's permissions):
once on SQLite and once on PostgreSQL (when CI is set). The vertical's clock is pinned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import plugins.medical_devices as medical_devices
from plugins.medical_devices import service

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def kehu_vertical():
    return ("medical_devices", medical_devices)


@pytest.fixture
def kehu_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, *args: int) -> datetime:
        self.at = datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from core.blacklists import service as blacklists

    c = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    monkeypatch.setattr(service, "now", c)
    monkeypatch.setattr(blacklists, "now", c)
    return c
