"""Fault tickets, training courses, records and results (issue 24, seed-004 CSM-27/28/30), and the
post-incident review on the privacy incident register (CSM-29): its state, closing time and the
review's three parts."""

from core.db.migrations import raw_migration, tenant_table

ID = "0036-faults-and-training"
VERSION = "1.43.0"
DESCRIPTION = "fault_ticket, training_course, training_record, training_result with RLS; incident review"

_FAULT = tenant_table(
    "fault_ticket",
    [
        "symptom TEXT NOT NULL",
        "occurred_at TIMESTAMPTZ NOT NULL",
        "impact_scope TEXT NOT NULL",
        "severity VARCHAR(16) NOT NULL",
        "status VARCHAR(16) NOT NULL",
        "reported_at TIMESTAMPTZ NOT NULL",
        "reported_by VARCHAR(100) NOT NULL",
        "fix_hours INTEGER NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL",
        "acknowledged_at TIMESTAMPTZ",
        "started_at TIMESTAMPTZ",
        "resolved_at TIMESTAMPTZ",
        "closed_at TIMESTAMPTZ",
        "resolution TEXT NOT NULL DEFAULT ''",
        "breached BOOLEAN NOT NULL DEFAULT false",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    indexes=(("status", "due_at"), ("reported_at",)),
)
_COURSE = tenant_table(
    "training_course",
    [
        "title VARCHAR(200) NOT NULL",
        "scale INTEGER NOT NULL DEFAULT 100",
        "probation BOOLEAN NOT NULL DEFAULT false",
    ],
)
_RECORD = tenant_table(
    "training_record",
    [
        "user_id UUID NOT NULL",
        "hire_day VARCHAR(10)",
        "updated_at TIMESTAMPTZ NOT NULL",
    ],
    unique=(("user_id",),),
)
_RESULT = tenant_table(
    "training_result",
    [
        "course_id UUID NOT NULL",
        "user_id UUID NOT NULL",
        "score VARCHAR(20) NOT NULL",
        "pass_score VARCHAR(20) NOT NULL",
        "outcome VARCHAR(24) NOT NULL",
        "failures INTEGER NOT NULL DEFAULT 0",
        "assessed_at TIMESTAMPTZ NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
    ],
    indexes=(("user_id", "assessed_at"), ("course_id",)),
    references=(("course_id", "training_course"),),
)
_REVIEW = [
    "ALTER TABLE privacy_incident ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'investigating'",
    "ALTER TABLE privacy_incident ADD COLUMN closed_at TIMESTAMPTZ",
    "ALTER TABLE privacy_incident ADD COLUMN review_summary TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE privacy_incident ADD COLUMN review_effectiveness TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE privacy_incident ADD COLUMN review_improvements TEXT NOT NULL DEFAULT ''",
]

SQLITE = _FAULT[0] + _COURSE[0] + _RECORD[0] + _RESULT[0] + _REVIEW
POSTGRES = _FAULT[1] + _COURSE[1] + _RECORD[1] + _RESULT[1] + _REVIEW

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
