"""Which migrations of each vertical's own tables have been applied (issue 18 point 1): one row per
vertical and version, written by ``kehu migrate`` in the transaction that applies the version. Platform
bookkeeping like Piccolo's ``migration`` table: no tenant, and the app role may not read or write it."""

from core.db.migrations import raw_migration

ID = "0019-vertical-migrations"
VERSION = "1.38.0"
DESCRIPTION = "vertical_migration: applied versions of the verticals' own schema"

_TABLE = [
    """CREATE TABLE vertical_migration (
    id UUID PRIMARY KEY NOT NULL,
    vertical_id VARCHAR(40) NOT NULL,
    version INTEGER NOT NULL,
    description VARCHAR(200) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)""",
    "CREATE UNIQUE INDEX vertical_migration_vertical_id_version_key ON vertical_migration (vertical_id, version)",
]

SQLITE = _TABLE
POSTGRES = _TABLE

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
