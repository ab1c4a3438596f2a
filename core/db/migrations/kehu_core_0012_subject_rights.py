"""Data-subject requests, customer freezes and legal holds."""

from core.db.migrations import raw_migration, tenant_table

ID = "0012-subject-rights"
VERSION = "1.38.0"
DESCRIPTION = "subject_request, customer_freeze, legal_hold with RLS"

_REQUEST = tenant_table(
    "subject_request",
    [
        "customer_id UUID NOT NULL",
        "kind VARCHAR(16) NOT NULL",
        "state VARCHAR(24) NOT NULL DEFAULT 'received'",
        "channel VARCHAR(32) NOT NULL DEFAULT ''",
        "due_at TIMESTAMPTZ NOT NULL",
        "requested_by VARCHAR(100) NOT NULL",
        "changes TEXT",
        "identity_method VARCHAR(64)",
        "identity_verified_at TIMESTAMPTZ",
        "identity_verified_by VARCHAR(100)",
        "finished_at TIMESTAMPTZ",
        "finished_by VARCHAR(100)",
        "outcome TEXT",
        "rejection_reason TEXT",
        "job_id UUID",
        "due_soon_notified_at TIMESTAMPTZ",
        "overdue_notified_at TIMESTAMPTZ",
    ],
    indexes=(("state", "due_at"), ("customer_id",)),
    references=(("customer_id", "customer"),),
)
_FREEZE = tenant_table(
    "customer_freeze",
    [
        "customer_id UUID NOT NULL",
        "reason TEXT NOT NULL",
        "basis VARCHAR(200) NOT NULL",
        "frozen_by VARCHAR(100) NOT NULL",
    ],
    unique=(("customer_id",),),
    references=(("customer_id", "customer"),),
)
_HOLD = tenant_table(
    "legal_hold",
    [
        "customer_id UUID NOT NULL",
        "reason TEXT NOT NULL",
        "placed_by VARCHAR(100) NOT NULL",
        "released_at TIMESTAMPTZ",
        "released_by VARCHAR(100)",
    ],
    indexes=(("customer_id",),),
    references=(("customer_id", "customer"),),
)

_ALL = (_REQUEST, _FREEZE, _HOLD)
SQLITE = [statement for table in _ALL for statement in table[0]]
POSTGRES = [statement for table in _ALL for statement in table[1]]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
