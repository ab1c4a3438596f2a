"""The blacklist engine (issue 20, MD13–MD16): blacklist entries, indexed on the customer (the
check every business action makes) and on the expiry of active entries (the tick)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0025-blacklists"
VERSION = "1.38.0"
DESCRIPTION = "blacklist_entry with RLS"

_ENTRY = tenant_table(
    "blacklist_entry",
    [
        "customer_id UUID NOT NULL",
        "scope VARCHAR(16) NOT NULL",
        "department_id UUID",
        "status VARCHAR(16) NOT NULL",
        "reason TEXT NOT NULL",
        "evidence TEXT NOT NULL DEFAULT '[]'",
        "proposed_by VARCHAR(100) NOT NULL",
        "proposed_at TIMESTAMPTZ NOT NULL",
        "approved_by VARCHAR(100)",
        "approved_at TIMESTAMPTZ",
        "starts_at TIMESTAMPTZ",
        "expires_at TIMESTAMPTZ",
        "validity_days INTEGER",
        "decided_note TEXT",
        "ended_at TIMESTAMPTZ",
        "ended_by VARCHAR(100)",
        "end_reason TEXT",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    indexes=(("customer_id", "status"), ("status", "expires_at")),
    references=(("customer_id", "customer"), ("department_id", "department")),
)

SQLITE = _ENTRY[0]
POSTGRES = _ENTRY[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
