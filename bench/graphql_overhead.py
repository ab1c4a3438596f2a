"""GraphQL overhead: ``{ __typename }`` through Strawberry vs a plain Litestar JSON handler.

Both run in the same app and process (same middleware, same ASGI transport), so the ratio is the
cost of kehu's GraphQL layer: parsing (cached), validation with limits (cached), execution and
error shaping. Goal (issue 27, P1): at most 1.5x (an earlier issue asked for 2x).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from litestar import post

from bench.timing import compare
from core.db.migrate import migrate
from core.settings import load_settings
from gateway.app import create_app

GOAL_RATIO = 1.5


@post("/bench/plain-json", sync_to_thread=False)
def plain_json(data: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"data": {"__typename": "Query"}}


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        settings = load_settings(database_url=f"sqlite:///{Path(var)}/bench.sqlite3", var_dir=Path(var),
                                 log_level="WARNING", rate_limit_anonymous_per_minute=1_000_000,
                                 rate_limit_cost_per_minute=10**9, rate_limit_caller_cost_per_minute=10**9)
        await migrate(settings)  # the app's background loops read their tables while the bench runs
        app = create_app(settings)
        app.register(plain_json)
        body = {"query": "{ __typename }"}
        async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                      base_url="http://bench") as client:
            async def graphql() -> None:
                response = await client.post("/graphql", json=body)
                assert response.json() == {"data": {"__typename": "Query"}}

            async def plain() -> None:
                response = await client.post("/bench/plain-json", json=body)
                assert response.json() == {"data": {"__typename": "Query"}}

            subject, baseline = await compare(graphql, plain, iterations=50 if quick else 100,
                                              rounds=3 if quick else 45)
    ratio = subject / baseline
    return {
        "name": "graphql_overhead",
        "subject": "POST /graphql { __typename }",
        "baseline": "POST plain Litestar JSON handler",
        "subject_us": round(subject * 1e6, 1),
        "baseline_us": round(baseline * 1e6, 1),
        "ratio": round(ratio, 2),
        "goal": f"ratio <= {GOAL_RATIO}",
        "met": ratio <= GOAL_RATIO,
    }
