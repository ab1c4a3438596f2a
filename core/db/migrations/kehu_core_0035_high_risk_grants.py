"""Pending grants of high-risk permissions (issue 24, seed-004 CSM-21)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0035-high-risk-grants"
VERSION = "1.42.0"
DESCRIPTION = "pending_grant with RLS"

_GRANT = tenant_table(
    "pending_grant",
    [
        "user_id UUID NOT NULL",
        "role_id UUID NOT NULL",
        "requested_by VARCHAR(100) NOT NULL",
        "high_risk TEXT NOT NULL",
        "state VARCHAR(16) NOT NULL",
        "decided_by VARCHAR(100)",
        "decided_at TIMESTAMPTZ",
        "decision_reason TEXT",
    ],
    indexes=(("state", "created_at"), ("user_id",)),
)

SQLITE = _GRANT[0]
POSTGRES = _GRANT[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
