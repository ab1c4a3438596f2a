"""The archive rules of seed 000 part 1 still open: late-submission explanations and rectification
extensions signed by a manager (S18, T3, T6, W5), the non-conforming archive records a manager
countersigns (T5), damaged archives (T4), whether a submission was on time (S17, T1), the KPI
suspended on a missing-archive report, and the date a vehicle's archive stops counting from its
last service (A7)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0029-archive-open-rules"
VERSION = "1.41.0"
DESCRIPTION = "archive_exception and archive_nonconformity with RLS; submission, damage, KPI and idle retention columns"

_EXCEPTION = tenant_table(
    "archive_exception",
    [
        "vertical VARCHAR(40) NOT NULL",
        "standard VARCHAR(40) NOT NULL",
        "subject_key VARCHAR(100) NOT NULL",
        "archive_id UUID",
        "kind VARCHAR(24) NOT NULL",
        "reason TEXT NOT NULL",
        "promised_on VARCHAR(10)",
        "promised_at TIMESTAMPTZ NOT NULL",
        "requested_by VARCHAR(100) NOT NULL",
        "requested_user_id UUID",
        "state VARCHAR(16) NOT NULL",
        "decided_by VARCHAR(100)",
        "decided_at TIMESTAMPTZ",
        "decision_note TEXT NOT NULL DEFAULT ''",
        "kpi_points INTEGER NOT NULL DEFAULT 0",
        "settled_at TIMESTAMPTZ",
        "kpi_charged INTEGER NOT NULL DEFAULT 0",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    indexes=(("vertical", "standard", "subject_key"), ("state", "promised_at"), ("archive_id",), ("created_at",)),
    references=(("archive_id", "archive"), ("requested_user_id", "app_user")),
)

_NONCONFORMITY = tenant_table(
    "archive_nonconformity",
    [
        "archive_id UUID NOT NULL",
        "vertical VARCHAR(40) NOT NULL",
        "standard VARCHAR(40) NOT NULL",
        "round INTEGER NOT NULL",
        "defects TEXT NOT NULL",
        "responsible_user_id UUID",
        "rejected_by VARCHAR(100) NOT NULL",
        "rejected_at TIMESTAMPTZ NOT NULL",
        "countersigned_by VARCHAR(100)",
        "countersigned_at TIMESTAMPTZ",
        "countersign_note TEXT NOT NULL DEFAULT ''",
    ],
    indexes=(("archive_id",), ("countersigned_at", "rejected_at")),
    references=(("archive_id", "archive"), ("responsible_user_id", "app_user")),
)

_COLUMNS = [
    "ALTER TABLE archive ADD COLUMN submission_due_at TIMESTAMPTZ",
    "ALTER TABLE archive ADD COLUMN submitted_on_time INTEGER",
    "ALTER TABLE archive ADD COLUMN extended_until TIMESTAMPTZ",
    "ALTER TABLE archive ADD COLUMN damaged_at TIMESTAMPTZ",
    "ALTER TABLE archive ADD COLUMN damaged_by VARCHAR(100)",
    "ALTER TABLE archive ADD COLUMN damage_note TEXT",
    "CREATE INDEX archive_submission_due_at_idx ON archive (tenant_id, submission_due_at)",
    "ALTER TABLE archive_missing_report ADD COLUMN kpi_charged_at TIMESTAMPTZ",
    "ALTER TABLE archive_missing_report ADD COLUMN exception_id UUID",
    "ALTER TABLE archive_folder ADD COLUMN retention_idle_at TIMESTAMPTZ",
    "ALTER TABLE archive_folder ADD COLUMN retention_idle_until TIMESTAMPTZ",
    "ALTER TABLE archive_folder ADD COLUMN retention_idle_rule VARCHAR(40)",
    "CREATE INDEX archive_folder_retention_idle_at_idx ON archive_folder (tenant_id, retention_idle_at)",
]

SQLITE = _EXCEPTION[0] + _NONCONFORMITY[0] + _COLUMNS
POSTGRES = _EXCEPTION[1] + _NONCONFORMITY[1] + [c.replace("TIMESTAMPTZ", "timestamptz") for c in _COLUMNS]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
