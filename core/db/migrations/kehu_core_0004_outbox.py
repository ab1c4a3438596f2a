"""The transactional outbox."""

from core.db.migrations import raw_migration, tenant_table

ID = "0004-outbox"
VERSION = "1.38.0"
DESCRIPTION = "outbox_event with RLS"

SQLITE, POSTGRES = tenant_table(
    "outbox_event",
    [
        "event_type VARCHAR(100) NOT NULL",
        "aggregate_type VARCHAR(64) NOT NULL",
        "aggregate_id VARCHAR(64)",
        "payload TEXT NOT NULL",
        "status VARCHAR(16) NOT NULL DEFAULT 'pending'",
        "attempts INTEGER NOT NULL DEFAULT 0",
        "available_at TIMESTAMPTZ NOT NULL",
        "dispatched_at TIMESTAMPTZ",
        "done_at TIMESTAMPTZ",
        "last_error TEXT",
    ],
    indexes=(("status", "available_at"),),
)

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
