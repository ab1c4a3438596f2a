"""Tenant isolation, proven by a Hypothesis state machine over the public GraphQL API (see
machine.py): on SQLite with the application's tenant filter, on PostgreSQL with it, and on
PostgreSQL with the filter switched off so row-level security alone must hold. A last test
removes the filter from one table on SQLite and asserts the machine notices.

Default: about 250 steps per run (CI); ``KEHU_ISOLATION=long`` runs many more.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis.errors import FlakyFailure
from litestar.testing import TestClient

from core.db import uow
from gateway.app import create_app
from tests.isolation.machine import Leak, run_machine

LONG = os.environ.get("KEHU_ISOLATION") == "long"
EXAMPLES, STEPS = (40, 60) if LONG else (10, 25)
MIN_STEPS = 200


@pytest.fixture(params=["sqlite", "postgres", "postgres-rls-only"])
def settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Overrides the shared fixture: a third run on PostgreSQL without the application's filter."""
    if request.param == "postgres-rls-only":
        monkeypatch.setattr(uow, "_test_unfiltered_tables", frozenset({"*"}))
    kind = request.param.split("-")[0]
    return request.getfixturevalue(f"{kind}_settings").model_copy(update={
        "rate_limit_anonymous_per_minute": 1_000_000, "rate_limit_per_minute": 1_000_000})


async def _run(settings, **kwargs):
    def run():
        with TestClient(create_app(settings)) as client:
            return run_machine(client, **kwargs)

    return await asyncio.to_thread(run)


async def test_every_read_by_a_tenant_returns_exactly_its_own_data(database, settings):
    run = await _run(settings, examples=EXAMPLES, steps=STEPS)
    assert run.steps >= MIN_STEPS, f"only {run.steps} steps ran"
    assert run.probes > run.steps // 4, "too few cross-tenant probes to mean anything"


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_the_machine_finds_a_missing_tenant_filter(database, settings, monkeypatch):
    # Wall 1 gone for customers on SQLite, where no RLS can save it: the suite must say so.
    monkeypatch.setattr(uow, "_test_unfiltered_tables", frozenset({"customer"}))
    with pytest.raises((Leak, FlakyFailure)) as caught:
        await _run(settings, examples=EXAMPLES * 2, steps=STEPS, shrink=False)
    if isinstance(caught.value, FlakyFailure):
        assert caught.value.subgroup(Leak) is not None, caught.value
