"""Tenants and departments, with row-level security on departments."""

from core.db.migrations import raw_migration
from core.db.rls import tenant_rls_statements

ID = "0001-foundation"
VERSION = "1.38.0"
DESCRIPTION = "tenant and department tables; RLS on department"

SQLITE = [
    """CREATE TABLE tenant (
        id UUID PRIMARY KEY NOT NULL,
        slug VARCHAR(63) NOT NULL UNIQUE,
        name VARCHAR(200) NOT NULL,
        status VARCHAR(20) NOT NULL DEFAULT 'active',
        created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE department (
        id UUID PRIMARY KEY NOT NULL,
        tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        parent_id UUID REFERENCES department (id) ON DELETE RESTRICT,
        name VARCHAR(200) NOT NULL,
        code VARCHAR(63)
    )""",
    "CREATE UNIQUE INDEX department_tenant_id_id ON department (tenant_id, id)",
    "CREATE INDEX department_tenant_parent ON department (tenant_id, parent_id)",
]

POSTGRES = [
    statement.replace("TIMESTAMPTZ", "timestamptz").replace("UUID", "uuid") for statement in SQLITE
] + tenant_rls_statements("department")


forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
