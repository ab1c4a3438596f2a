"""Outbox cost and lag.

1. The GraphQL mutation ``departmentRename`` with its outbox event against the same mutation with
   the outbox write switched off, same app and user (goal: at most 1.2x).
2. Relay lag at steady load: with the in-process worker running, mutations at a fixed rate; the
   time from an event's commit to its ``done`` (median and 95th percentile).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

import core.jobs.outbox as outbox
from bench.timing import compare
from core.context import Context
from core.db import Database, use_database, unit_of_work
from core.db.migrate import migrate
from core.identity.runtime import configure_identity
from core.jobs.tables import OutboxEvent
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from gateway.app import create_app

GOAL_RATIO = 1.2
PASSWORD = "bench-password-2026!"
LOGIN = 'mutation { login(tenant: "bench", username: "admin", password: "%s") { accessToken } }' % PASSWORD
RENAME = 'mutation($id: ID!, $name: String!) { departmentRename(id: $id, name: $name) { errors { code } } }'


async def _no_event(*args: object, **kwargs: object) -> None:
    return None


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        tmp = Path(var)
        settings = load_settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", var_dir=tmp, log_level="WARNING",
                                 password_hashing="fast", rate_limit_per_minute=1_000_000,
                                 rate_limit_anonymous_per_minute=1_000_000, tick_interval_seconds=60)
        await migrate(settings)
        configure_identity(settings)
        setup = Database(settings.database)
        use_database(setup)
        await setup.start()
        tenant = await create_tenant(Context.system(), slug="bench", name="Bench", departments=("销售部",),
                                     admin=TenantAdmin("admin", PASSWORD))
        await setup.close()
        app = create_app(settings)
        async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                      base_url="http://bench") as client:
            token = (await client.post("/graphql", json={"query": LOGIN})).json()["data"]["login"]["accessToken"]
            headers = {"authorization": f"Bearer {token}"}
            departments = await client.post("/graphql", json={"query": "{ departments { id } }"}, headers=headers)
            department_id = departments.json()["data"]["departments"][0]["id"]
            counter = iter(range(10**9))
            announce = outbox.add

            async def rename() -> None:
                body = {"query": RENAME, "variables": {"id": department_id, "name": f"部门{next(counter)}"}}
                response = await client.post("/graphql", json=body, headers=headers)
                assert response.json()["data"]["departmentRename"]["errors"] == [], response.text

            async def with_outbox() -> None:
                outbox.add = announce
                await rename()

            async def without_outbox() -> None:
                outbox.add = _no_event
                await rename()

            try:
                subject, baseline = await compare(with_outbox, without_outbox, iterations=20 if quick else 150,
                                                  rounds=3 if quick else 7)
            finally:
                outbox.add = announce

            # Relay lag: a steady rate of mutations, then wait for every event to be done.
            rate, seconds = (20, 1) if quick else (40, 5)
            started = time.monotonic()
            for i in range(rate * seconds):
                await rename()
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
            deadline = time.monotonic() + 30
            ctx = Context.system("bench", tenant.id)
            while time.monotonic() < deadline:
                async with unit_of_work(ctx, write=False) as uow:
                    if not await uow.count(OutboxEvent).where(OutboxEvent.status != "done"):
                        break
                await asyncio.sleep(0.2)
            async with unit_of_work(ctx, write=False) as uow:
                rows = await uow.select(OutboxEvent.created_at, OutboxEvent.done_at).where(
                    OutboxEvent.status == "done")
    lags = sorted((r["done_at"] - r["created_at"]).total_seconds() * 1000 for r in rows if r["done_at"])
    ratio = subject / baseline
    return {
        "name": "outbox_overhead",
        "subject": "GraphQL departmentRename with its outbox event (SQLite, in-process worker)",
        "baseline": "the same mutation with the outbox write switched off",
        "subject_us": round(subject * 1e6, 1),
        "baseline_us": round(baseline * 1e6, 1),
        "ratio": round(ratio, 2),
        "relay_lag_ms_median": round(statistics.median(lags), 1) if lags else None,
        "relay_lag_ms_p95": round(lags[int(len(lags) * 0.95) - 1], 1) if lags else None,
        "relay_load_per_s": rate,
        "goal": f"ratio <= {GOAL_RATIO}",
        "met": ratio <= GOAL_RATIO,
    }
