"""Row-level security for tenant-owned tables (PostgreSQL), used by migrations of core and plugins."""

from __future__ import annotations

TENANT_SETTING = "app.tenant_id"
_CURRENT_TENANT = f"nullif(current_setting('{TENANT_SETTING}', true), '')::uuid"
POLICY_NAME = "tenant_isolation"


def tenant_rls_statements(table: str) -> list[str]:
    """Enable and force RLS on ``table`` with a policy that admits only the current tenant's rows.

    ``nullif`` matters: a pooled connection that once had the setting returns '' rather than NULL.
    """
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'CREATE POLICY {POLICY_NAME} ON "{table}" '
        f"USING (tenant_id = {_CURRENT_TENANT}) WITH CHECK (tenant_id = {_CURRENT_TENANT})",
    ]
