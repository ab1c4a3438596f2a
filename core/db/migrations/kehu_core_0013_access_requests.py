"""Access requests: bulk customer exports need an approved request (issue #8)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0013-access-requests"
VERSION = "1.38.0"
DESCRIPTION = "access_request with RLS"

_REQUEST = tenant_table(
    "access_request",
    [
        "requested_by VARCHAR(100) NOT NULL",
        "purpose TEXT NOT NULL",
        "scope TEXT NOT NULL",
        "state VARCHAR(16) NOT NULL",
        "approver_role VARCHAR(100) NOT NULL",
        "decided_by VARCHAR(100)",
        "decided_at TIMESTAMPTZ",
        "reason TEXT",
        "expires_at TIMESTAMPTZ",
        "used_at TIMESTAMPTZ",
        "job_id UUID",
    ],
    indexes=(("state",), ("requested_by",)),
    references=(("job_id", "long_job"),),
)

SQLITE = _REQUEST[0]
POSTGRES = _REQUEST[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
