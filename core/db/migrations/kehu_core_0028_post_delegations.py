"""A/B posts (seed 001 S21 Art5): time-boxed delegations of a post's role with their handover
record, read by the access layer when it builds a caller's permissions (index on the delegate)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0028-post-delegations"
VERSION = "1.40.0"
DESCRIPTION = "post_delegation with RLS"

_DELEGATION = tenant_table(
    "post_delegation",
    [
        "role_id UUID NOT NULL",
        "from_user_id UUID NOT NULL",
        "to_user_id UUID NOT NULL",
        "starts_at TIMESTAMPTZ NOT NULL",
        "ends_at TIMESTAMPTZ NOT NULL",
        "handover TEXT NOT NULL",
        "created_by VARCHAR(100) NOT NULL",
        "ended_at TIMESTAMPTZ",
        "ended_by VARCHAR(100)",
        "return_note TEXT NOT NULL DEFAULT ''",
    ],
    indexes=(("to_user_id", "ends_at"), ("from_user_id",), ("starts_at",)),
    references=(("from_user_id", "app_user"), ("to_user_id", "app_user")),
)

forwards = raw_migration(ID, DESCRIPTION, sqlite=_DELEGATION[0], postgres=_DELEGATION[1])
