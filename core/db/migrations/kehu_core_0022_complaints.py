"""The complaint engine (issue 19): complaints, their clocks (indexed on the next due time, so the
tick reads only what is due), their event register and per-period numbering sequences."""

from core.db.migrations import raw_migration, tenant_table

ID = "0022-complaints"
VERSION = "1.38.0"
DESCRIPTION = "complaint, complaint_clock, complaint_event, complaint_sequence with RLS"

_COMPLAINT = tenant_table(
    "complaint",
    [
        "vertical VARCHAR(40) NOT NULL",
        "flow VARCHAR(40) NOT NULL",
        "number VARCHAR(60) NOT NULL",
        "source VARCHAR(16) NOT NULL",
        "channel VARCHAR(16) NOT NULL",
        "category VARCHAR(40) NOT NULL",
        "severity VARCHAR(40) NOT NULL",
        "branch VARCHAR(40)",
        "state VARCHAR(40) NOT NULL",
        "resume_state VARCHAR(40)",
        "subject TEXT NOT NULL",
        "customer_id UUID",
        "complainant TEXT",
        "first_responder VARCHAR(100) NOT NULL",
        "assignee_id UUID",
        "department_id UUID",
        "archive_id UUID",
        "previous_id UUID",
        "escalated_to VARCHAR(40)",
        "fields TEXT NOT NULL DEFAULT '{}'",
        "attachments TEXT NOT NULL DEFAULT '[]'",
        "opened_at TIMESTAMPTZ NOT NULL",
        "closed_at TIMESTAMPTZ",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    unique=(("vertical", "flow", "number"),),
    indexes=(("state",), ("customer_id",), ("opened_at",)),
)  # previous_id is checked by the service (a table cannot refer to its own (tenant_id, id) index before it exists)
_CLOCK = tenant_table(
    "complaint_clock",
    [
        "complaint_id UUID NOT NULL",
        "timer VARCHAR(60) NOT NULL",
        "kind VARCHAR(16) NOT NULL",
        "role VARCHAR(40)",
        "unit VARCHAR(16) NOT NULL",
        "status VARCHAR(16) NOT NULL",
        "started_at TIMESTAMPTZ NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL",
        "hard_due_at TIMESTAMPTZ",
        "next_due_at TIMESTAMPTZ",
        "breached_at TIMESTAMPTZ",
        "hard_breached_at TIMESTAMPTZ",
        "paused_at TIMESTAMPTZ",
        "stopped_at TIMESTAMPTZ",
        "provisional BOOLEAN NOT NULL DEFAULT false",
    ],
    indexes=(("next_due_at",), ("complaint_id",)),
    references=(("complaint_id", "complaint"),),
)
_EVENT = tenant_table(
    "complaint_event",
    [
        "complaint_id UUID NOT NULL",
        "at TIMESTAMPTZ NOT NULL",
        "actor VARCHAR(100) NOT NULL",
        "kind VARCHAR(40) NOT NULL",
        "action VARCHAR(40)",
        "from_state VARCHAR(40)",
        "to_state VARCHAR(40)",
        "timer VARCHAR(60)",
        "detail TEXT NOT NULL DEFAULT '{}'",
    ],
    indexes=(("complaint_id", "at"),),
    references=(("complaint_id", "complaint"),),
)
_SEQUENCE = tenant_table(
    "complaint_sequence",
    [
        "scope VARCHAR(100) NOT NULL",
        "period VARCHAR(20) NOT NULL",
        "last INTEGER NOT NULL DEFAULT 0",
    ],
    unique=(("scope", "period"),),
)

SQLITE = _COMPLAINT[0] + _CLOCK[0] + _EVENT[0] + _SEQUENCE[0]
POSTGRES = _COMPLAINT[1] + _CLOCK[1] + _EVENT[1] + _SEQUENCE[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
