"""The official holiday schedules loaded by operators (issue 18 point 11): ``calendar_year`` is
platform data (no tenant_id, no RLS); subject requests remember a working-day deadline's length and
whether it counted provisional days, so loading a year's schedule can recompute them."""

from core.db.migrations import raw_migration

ID = "0020-calendar-years"
VERSION = "1.38.0"
DESCRIPTION = "calendar_year (platform); subject_request working-day deadline columns"

SQLITE = [
    """CREATE TABLE calendar_year (
    id UUID PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL UNIQUE,
    notice TEXT NOT NULL DEFAULT '',
    holidays TEXT NOT NULL,
    workdays TEXT NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    loaded_by VARCHAR(100) NOT NULL
)""",
    "ALTER TABLE subject_request ADD COLUMN due_working_days INTEGER",
    "ALTER TABLE subject_request ADD COLUMN due_provisional INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX subject_request_due_provisional_idx ON subject_request (tenant_id, due_provisional)",
]

POSTGRES = [
    statement.replace("TIMESTAMPTZ", "timestamptz").replace("UUID", "uuid") for statement in SQLITE
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
