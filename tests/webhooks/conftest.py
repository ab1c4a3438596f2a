"""Fixtures of the webhook tests: no test asks the real DNS; loopback only where a receiver needs it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.tenancy import service as tenancy
from core.webhooks import targets
from core.webhooks.tables import WEBHOOK_TABLES
from tests.webhooks.support import SYSTEM, FakeResolver, Receiver


@pytest.fixture(autouse=True)
def resolver() -> Iterator[FakeResolver]:
    """No test here asks the real DNS."""
    fake = FakeResolver()
    targets.use_resolver(fake)
    try:
        yield fake
    finally:
        targets.use_resolver(None)


@pytest.fixture
def allow_loopback(monkeypatch) -> None:
    monkeypatch.setattr(targets, "ALLOW_LOOPBACK", True)


@pytest.fixture
def receiver(allow_loopback) -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


@pytest.fixture
async def tenant(database):
    # Until core.piccolo_app lists the webhook tables, bind them to this test's database here.
    for table in WEBHOOK_TABLES:
        table._meta.db = database.engine
    return await tenancy.create_tenant(SYSTEM, slug="hooks", name="Hooks")
