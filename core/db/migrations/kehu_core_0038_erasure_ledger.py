"""The erasure ledger (issue 26, seed-004 §2.4.2 PRIV-05, W11): one row per erased customer, so a
restored backup re-erases everyone erased after it was taken (docs/backups.md).

Tenant-owned with the forced RLS policy like every tenant table, but without the foreign key to
``tenant``: the ledger must outlive the tenant's data, which an operator drops before restoring it.
Backups leave it out for the same reason.
"""

from core.db.migrations import raw_migration
from core.db.rls import tenant_rls_statements

ID = "0038-erasure-ledger"
VERSION = "1.43.0"
DESCRIPTION = "erasure_ledger with RLS"

_TABLE = [
    "CREATE TABLE erasure_ledger (\n"
    "    id UUID PRIMARY KEY NOT NULL,\n"
    "    tenant_id UUID NOT NULL,\n"
    "    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,\n"
    "    customer_id UUID NOT NULL,\n"
    "    erased_at TIMESTAMPTZ NOT NULL\n"
    ")",
    "CREATE UNIQUE INDEX erasure_ledger_tenant_id_id ON erasure_ledger (tenant_id, id)",
    "CREATE INDEX erasure_ledger_erased_at_idx ON erasure_ledger (tenant_id, erased_at)",
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=_TABLE, postgres=_TABLE + tenant_rls_statements("erasure_ledger"))
