"""Archive deadlines on the working-day calendar say whether they counted provisional days (issue
18 point 11): a rejected archive remembers its rectification deadline's start and length, a
missing-archive report its length in working days, and both whether the deadline counted days of
a year without an official schedule, so loading that year's schedule can recompute them."""

from core.db.migrations import raw_migration

ID = "0023-archive-deadlines"
VERSION = "1.38.0"
DESCRIPTION = "archive and archive_missing_report: working-day deadline start, length and provisional flag"

SQLITE = [
    "ALTER TABLE archive ADD COLUMN deadline_from TIMESTAMPTZ",
    "ALTER TABLE archive ADD COLUMN deadline_hours INTEGER",
    "ALTER TABLE archive ADD COLUMN deadline_provisional INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX archive_deadline_provisional_idx ON archive (tenant_id, deadline_provisional)",
    "ALTER TABLE archive_missing_report ADD COLUMN due_working_days INTEGER",
    "ALTER TABLE archive_missing_report ADD COLUMN due_provisional INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX archive_missing_report_due_provisional_idx ON archive_missing_report (tenant_id, due_provisional)",
]

POSTGRES = [statement.replace("TIMESTAMPTZ", "timestamptz") for statement in SQLITE]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
