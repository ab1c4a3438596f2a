"""Pending grants of high-risk permissions (issue 24, seed-004 CSM-21) and permission reviews on a
department change (CSM-22)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0035-high-risk-grants"
VERSION = "1.42.0"
DESCRIPTION = "pending_grant, permission_review with RLS"

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

_REVIEW = tenant_table(
    "permission_review",
    [
        "user_id UUID NOT NULL",
        "trigger VARCHAR(32) NOT NULL",
        "change TEXT NOT NULL",
        "state VARCHAR(16) NOT NULL",
        "outcome VARCHAR(16)",
        "note TEXT",
        "closed_by VARCHAR(100)",
        "closed_at TIMESTAMPTZ",
    ],
    indexes=(("state", "created_at"), ("user_id",)),
)

SQLITE = _GRANT[0] + _REVIEW[0]
POSTGRES = _GRANT[1] + _REVIEW[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
