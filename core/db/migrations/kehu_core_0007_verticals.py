"""Per-tenant enablement of verticals and their parameter overrides."""

from core.db.migrations import raw_migration, tenant_table

ID = "0007-verticals"
VERSION = "1.38.0"
DESCRIPTION = "vertical_enablement with RLS"

_ENABLEMENT = tenant_table(
    "vertical_enablement",
    [
        "vertical_id VARCHAR(40) NOT NULL",
        "status VARCHAR(16) NOT NULL DEFAULT 'enabled'",
        "overrides TEXT NOT NULL DEFAULT '{}'",
        "version INTEGER NOT NULL DEFAULT 1",
        "updated_at TIMESTAMPTZ NOT NULL",
        "updated_by VARCHAR(100) NOT NULL",
    ],
    unique=(("vertical_id",),),
)

SQLITE = _ENABLEMENT[0]
POSTGRES = _ENABLEMENT[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
