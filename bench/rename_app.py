"""A running kehu app with one tenant, its admin signed in, and the GraphQL mutation
``departmentRename`` ready to call: the subject of the benchmarks that weigh a mutation's
side-writes (audit entry, outbox event)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx

from core.context import Context
from core.db import Database, use_database
from core.db.migrate import migrate
from core.identity.runtime import configure_identity
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from gateway.app import create_app

PASSWORD = "bench-password-2026!"
LOGIN = 'mutation { login(tenant: "bench", username: "admin", password: "%s") { accessToken } }' % PASSWORD
RENAME = 'mutation($id: ID!, $name: String!) { departmentRename(id: $id, name: $name) { errors { code } } }'


@dataclass(frozen=True)
class RenameApp:
    tenant_id: UUID
    rename: Callable[[], Awaitable[None]]  # one departmentRename, asserted to succeed


@asynccontextmanager
async def rename_app(**settings: object) -> AsyncIterator[RenameApp]:
    with tempfile.TemporaryDirectory() as var:
        tmp = Path(var)
        config = load_settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", var_dir=tmp, log_level="WARNING",
                               password_hashing="fast", rate_limit_per_minute=1_000_000,
                               rate_limit_anonymous_per_minute=1_000_000,
                           rate_limit_cost_per_minute=10**9, rate_limit_caller_cost_per_minute=10**9, **settings)
        await migrate(config)
        configure_identity(config)
        setup = Database(config.database)
        use_database(setup)
        await setup.start()
        tenant = await create_tenant(Context.system(), slug="bench", name="Bench", departments=("销售部",),
                                     admin=TenantAdmin("admin", PASSWORD))
        await setup.close()
        app = create_app(config)
        async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                      base_url="http://bench") as client:
            token = (await client.post("/graphql", json={"query": LOGIN})).json()["data"]["login"]["accessToken"]
            headers = {"authorization": f"Bearer {token}"}
            departments = await client.post("/graphql", json={"query": "{ departments { nodes { id } } }"}, headers=headers)
            department_id = departments.json()["data"]["departments"]["nodes"][0]["id"]
            counter = iter(range(10**9))

            async def rename() -> None:
                body = {"query": RENAME, "variables": {"id": department_id, "name": f"部门{next(counter)}"}}
                response = await client.post("/graphql", json=body, headers=headers)
                assert response.json()["data"]["departmentRename"]["errors"] == [], response.text

            yield RenameApp(tenant_id=tenant.id, rename=rename)
