"""Change requests of customer records (issue 24, seed-004 §2.3.2 W5, CSM-5 to CSM-8): the maker's
change, its key fields and working-day deadline, and the specialist's decision."""

from core.db.migrations import raw_migration, tenant_table

ID = "0032-governance-changes"
VERSION = "1.43.0"
DESCRIPTION = "customer_change_request with RLS"

_REQUEST = tenant_table(
    "customer_change_request",
    [
        "customer_id UUID NOT NULL",
        "base_version INTEGER NOT NULL",
        "changes TEXT NOT NULL",
        "fields TEXT NOT NULL DEFAULT '[]'",
        "key_fields TEXT NOT NULL DEFAULT '[]'",
        "is_key BOOLEAN NOT NULL DEFAULT false",
        "reason TEXT NOT NULL DEFAULT ''",
        "change_occurred_on VARCHAR(10) NOT NULL",
        "sla_working_days INTEGER",
        "due_on VARCHAR(10)",
        "due_at TIMESTAMPTZ",
        "state VARCHAR(16) NOT NULL",
        "submitted_by VARCHAR(100) NOT NULL",
        "submitted_by_id UUID",
        "decided_by VARCHAR(100)",
        "decided_at TIMESTAMPTZ",
        "rejection_reason TEXT NOT NULL DEFAULT ''",
        "applied_version INTEGER",
        "breached BOOLEAN NOT NULL DEFAULT false",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    indexes=(("state", "due_at"), ("customer_id",), ("created_at",)),
    references=(("customer_id", "customer"),),
)

SQLITE = _REQUEST[0]
POSTGRES = _REQUEST[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
