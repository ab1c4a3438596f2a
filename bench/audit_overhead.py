"""Audit overhead: the GraphQL mutation ``departmentRename`` with its audit entry against the same
mutation with the audit write switched off, in one run, same app, same signed-in user.

The audit entry is written in the mutation's own transaction (head row update, entry insert,
head hash update) — that is the cost measured. Goal: at most 1.3x.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

import core.tenancy.service as tenancy_service
from bench.timing import compare
from core.context import Context
from core.db import Database, use_database
from core.db.migrate import migrate
from core.identity.runtime import configure_identity
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from gateway.app import create_app

GOAL_RATIO = 1.3
PASSWORD = "bench-password-2026!"
LOGIN = 'mutation { login(tenant: "bench", username: "admin", password: "%s") { accessToken } }' % PASSWORD
RENAME = 'mutation($id: ID!, $name: String!) { departmentRename(id: $id, name: $name) { errors { code } } }'


async def _no_audit(*args: object, **kwargs: object) -> int:
    return 0


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        tmp = Path(var)
        settings = load_settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", var_dir=tmp, log_level="WARNING",
                                 password_hashing="fast", rate_limit_per_minute=1_000_000,
                                 rate_limit_anonymous_per_minute=1_000_000)
        await migrate(settings)
        configure_identity(settings)
        setup = Database(settings.database)
        use_database(setup)
        await setup.start()
        await create_tenant(Context.system(), slug="bench", name="Bench", departments=("销售部",),
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
            audited = tenancy_service.record

            async def rename() -> None:
                body = {"query": RENAME, "variables": {"id": department_id, "name": f"部门{next(counter)}"}}
                response = await client.post("/graphql", json=body, headers=headers)
                assert response.json()["data"]["departmentRename"]["errors"] == [], response.text

            async def with_audit() -> None:
                tenancy_service.record = audited
                await rename()

            async def without_audit() -> None:
                tenancy_service.record = _no_audit
                await rename()

            try:
                subject, baseline = await compare(with_audit, without_audit, iterations=20 if quick else 200,
                                                  rounds=3 if quick else 9)
            finally:
                tenancy_service.record = audited
    ratio = subject / baseline
    return {
        "name": "audit_overhead",
        "subject": "GraphQL departmentRename with its audit entry (SQLite)",
        "baseline": "the same mutation with the audit write switched off",
        "subject_us": round(subject * 1e6, 1),
        "baseline_us": round(baseline * 1e6, 1),
        "ratio": round(ratio, 2),
        "goal": f"ratio <= {GOAL_RATIO}",
        "met": ratio <= GOAL_RATIO,
    }
