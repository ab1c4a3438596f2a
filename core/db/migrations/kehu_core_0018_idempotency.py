"""Idempotency keys of mutations (issue 17 point 1): one row per (tenant, caller, key), holding a
keyed fingerprint of the request body and, once the first request completed, its sealed response."""

from core.db.migrations import raw_migration, tenant_table

ID = "0018-idempotency"
VERSION = "1.38.0"
DESCRIPTION = "idempotency_record with RLS"

_RECORD = tenant_table(
    "idempotency_record",
    [
        "caller VARCHAR(100) NOT NULL",
        "idempotency_key VARCHAR(255) NOT NULL",
        "fingerprint VARCHAR(120) NOT NULL",
        "owner UUID NOT NULL",
        "locked_until TIMESTAMPTZ NOT NULL",
        "status_code INTEGER",
        "response TEXT",
        "completed_at TIMESTAMPTZ",
        "expires_at TIMESTAMPTZ NOT NULL",
    ],
    unique=(("caller", "idempotency_key"),),
    indexes=(("expires_at",),),
)

SQLITE = _RECORD[0]
POSTGRES = _RECORD[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
