"""Test helpers: two tenants with an administrator each, adding users, signing in as anyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from core.context import Context, Principal
from core.identity import sessions, users
from core.identity.permissions import Scope
from core.tenancy import service as tenancy

PASSWORD = "correct-horse-battery-1"
SYSTEM = Context.system()


@dataclass(frozen=True)
class Seeded:
    acme: tenancy.TenantView
    globex: tenancy.TenantView


class Clock:
    """A service's clock, moved by hand (``monkeypatch.setattr(service, "now", clock)``): deadline
    tests run on it and the real working-day calendar."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> datetime:
        self.at = at
        return at

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at


def as_user(tenant_id: UUID, user_id: UUID, *permissions: str) -> Context:
    """A signed-in user of ``tenant_id`` holding ``permissions`` tenant-wide (no session needed)."""
    return Context.for_principal(Principal(tenant_id=tenant_id, user_id=user_id, api_key_id=None,
                                           permissions={p: Scope.TENANT for p in permissions}))


async def sign_in(slug: str, username: str, password: str = PASSWORD, address: str = "10.0.0.1") -> Context:
    """Log in through the real service and turn the access token into a request context."""
    tokens = await sessions.login(Context.anonymous(client_address=address), tenant=slug, username=username,
                                  password=password)
    principal = await sessions.authenticate_access_token(tokens.access_token)
    return Context.for_principal(principal, client_address=address)


async def add_user(tenant: tenancy.TenantView, username: str, **kwargs) -> users.UserView:
    return await users.create_user(SYSTEM.for_tenant(tenant.id), username=username,
                                   display_name=kwargs.pop("display_name", username.title()),
                                   password=kwargs.pop("password", PASSWORD), **kwargs)


async def seed_two_tenants() -> Seeded:
    admin = tenancy.TenantAdmin(username="admin", password=PASSWORD)
    acme = await tenancy.create_tenant(SYSTEM, slug="acme", name="Acme 汽车", departments=("销售部", "客服部"),
                                       admin=admin)
    globex = await tenancy.create_tenant(SYSTEM, slug="globex", name="Globex 地产", departments=("销售部",),
                                         admin=admin)
    return Seeded(acme=acme, globex=globex)


async def create_test_table(settings, table, columns: str) -> None:
    """Create a test-only tenant table the way a migration would: ``id, tenant_id, created_at``
    first and, on PostgreSQL, as the owner with forced RLS and the app role's grant. Binds the
    Piccolo ``table`` to the database in use."""
    import asyncpg

    from core.db import current_database
    from core.db.rls import tenant_rls_statements

    name = table._meta.tablename
    ddl = (f"CREATE TABLE {name} (id UUID PRIMARY KEY, tenant_id UUID NOT NULL, "
           f"created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, {columns})")
    database = current_database()
    if database.is_postgres:
        owner = await asyncpg.connect(settings.migrate_database.raw)
        try:
            for statement in [ddl, *tenant_rls_statements(name),
                              f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {settings.database_app_role}"]:
                await owner.execute(statement)
        finally:
            await owner.close()
    else:
        await database.fetch(ddl)
    table._meta.db = database.engine


def wait_until_healthy(base: str, process, seconds: float, what: str = "kehu") -> None:
    """Poll ``/healthz`` of a kehu started as a subprocess until it answers 200; fail if the process
    ends first or the deadline passes."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, f"{what} stopped before it answered /healthz"
        assert time.monotonic() < deadline, f"{what} did not come up within {seconds:.0f} s"
        time.sleep(0.2)


def chromium_path(what: str = "the browser tests") -> str:
    """Debian's Chromium for the browser tests: under CI it must be there (.ci/run installs it);
    elsewhere the test skips and says how to enable it."""
    import os
    import shutil

    import pytest

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        raise AssertionError(f"CI needs Chromium for {what} (.ci/run installs Debian's chromium)")
    pytest.skip(f"Chromium is not installed (apt-get install chromium); CI runs {what}")
