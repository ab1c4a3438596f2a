"""Visit plans and visits (issue 20, MD25/MD28): one schedule per customer and plan, holding the
stored due date (indexed with its status, so the tick reads only what is due), and the visits
recorded with their summary report."""

from core.db.migrations import raw_migration, tenant_table

ID = "0026-visits"
VERSION = "1.38.0"
DESCRIPTION = "visit_schedule, visit with RLS"

_SCHEDULE = tenant_table(
    "visit_schedule",
    [
        "customer_id UUID NOT NULL",
        "vertical VARCHAR(40) NOT NULL",
        "plan_id VARCHAR(60) NOT NULL",
        "grade VARCHAR(40)",
        "channel VARCHAR(16) NOT NULL",
        "every_days INTEGER NOT NULL",
        "monthly BOOLEAN NOT NULL DEFAULT false",
        "priority INTEGER NOT NULL",
        "owner_id UUID",
        "department_id UUID",
        "status VARCHAR(16) NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL",
        "last_visit_at TIMESTAMPTZ",
        "overdue_at TIMESTAMPTZ",
        "ended_at TIMESTAMPTZ",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    unique=(("customer_id", "plan_id"),),
    indexes=(("status", "due_at"), ("owner_id",), ("department_id",)),
    references=(("customer_id", "customer"),),
)
_VISIT = tenant_table(
    "visit",
    [
        "customer_id UUID NOT NULL",
        "schedule_id UUID",
        "plan_id VARCHAR(60)",
        "channel VARCHAR(16) NOT NULL",
        "visited_at TIMESTAMPTZ NOT NULL",
        "visitor VARCHAR(100) NOT NULL",
        "owner_id UUID",
        "department_id UUID",
        "report TEXT NOT NULL DEFAULT '{}'",
        "recorded_at TIMESTAMPTZ NOT NULL",
    ],
    indexes=(("customer_id", "visited_at"),),
    references=(("customer_id", "customer"),),
)

SQLITE = _SCHEDULE[0] + _VISIT[0]
POSTGRES = _SCHEDULE[1] + _VISIT[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
