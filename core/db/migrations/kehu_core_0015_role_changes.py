"""Pending role changes (issue 16 point 1): a widening of a role its requester holds waits here
until another user who holds what it gives approves it.

No foreign key to ``role``: decided changes outlive a deleted role (the audit log names it too);
deleting a role cancels its pending changes.
"""

from core.db.migrations import raw_migration, tenant_table

ID = "0015-role-changes"
VERSION = "1.38.0"
DESCRIPTION = "role_change with RLS"

_CHANGE = tenant_table(
    "role_change",
    [
        "role_id UUID NOT NULL",
        "requested_by VARCHAR(100) NOT NULL",
        "base_permissions TEXT NOT NULL",
        "permissions TEXT NOT NULL",
        "reason TEXT NOT NULL DEFAULT ''",
        "state VARCHAR(16) NOT NULL",
        "decided_by VARCHAR(100)",
        "decided_at TIMESTAMPTZ",
        "decision_reason TEXT",
    ],
    indexes=(("state",), ("role_id",)),
)

SQLITE = _CHANGE[0]
POSTGRES = _CHANGE[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
