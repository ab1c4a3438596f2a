"""The grading engine (issue 20): facts, current grades, grade history, review runs and the
deadlines of required changes (indexed on the next due time, so the tick reads only what is due)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0024-grading"
VERSION = "1.38.0"
DESCRIPTION = "grade_fact, customer_grade, grade_change, grade_review, grade_deadline with RLS"

_FACT = tenant_table(
    "grade_fact",
    ["customer_id UUID NOT NULL", "scope_key VARCHAR(64) NOT NULL", "name VARCHAR(60) NOT NULL",
     "value TEXT NOT NULL", "recorded_at TIMESTAMPTZ NOT NULL", "recorded_by VARCHAR(100) NOT NULL"],
    indexes=(("customer_id", "scope_key", "name", "recorded_at"),),
    references=(("customer_id", "customer"),),
)
_GRADE = tenant_table(
    "customer_grade",
    ["vertical VARCHAR(40) NOT NULL", "scheme VARCHAR(40) NOT NULL", "customer_id UUID NOT NULL",
     "scope_key VARCHAR(64) NOT NULL", "grade VARCHAR(40) NOT NULL", "since TIMESTAMPTZ NOT NULL",
     "version INTEGER NOT NULL DEFAULT 1"],
    unique=(("vertical", "scheme", "customer_id", "scope_key"),),
    indexes=(("vertical", "scheme", "scope_key", "grade"),),
    references=(("customer_id", "customer"),),
)
_CHANGE = tenant_table(
    "grade_change",
    ["vertical VARCHAR(40) NOT NULL", "scheme VARCHAR(40) NOT NULL", "customer_id UUID NOT NULL",
     "scope_key VARCHAR(64) NOT NULL", "from_grade VARCHAR(40)", "to_grade VARCHAR(40) NOT NULL",
     "at TIMESTAMPTZ NOT NULL", "actor VARCHAR(100) NOT NULL", "source VARCHAR(16) NOT NULL",
     "reason TEXT NOT NULL DEFAULT ''", "review_id UUID"],
    indexes=(("customer_id", "at"),),
    references=(("customer_id", "customer"),),
)
_REVIEW = tenant_table(
    "grade_review",
    ["vertical VARCHAR(40) NOT NULL", "scheme VARCHAR(40) NOT NULL", "scope_key VARCHAR(64) NOT NULL",
     "status VARCHAR(16) NOT NULL", "proposed_by VARCHAR(100) NOT NULL", "proposed_at TIMESTAMPTZ NOT NULL",
     "approved_by VARCHAR(100)", "approved_at TIMESTAMPTZ", "published_at TIMESTAMPTZ",
     "proposals TEXT NOT NULL DEFAULT '{}'", "violations TEXT NOT NULL DEFAULT '[]'"],
    indexes=(("scheme", "scope_key", "proposed_at"),),
)
_DEADLINE = tenant_table(
    "grade_deadline",
    ["vertical VARCHAR(40) NOT NULL", "scheme VARCHAR(40) NOT NULL", "customer_id UUID NOT NULL",
     "scope_key VARCHAR(64) NOT NULL", "required_grade VARCHAR(40) NOT NULL", "reason TEXT NOT NULL",
     "flagged_by VARCHAR(100) NOT NULL", "flagged_at TIMESTAMPTZ NOT NULL", "due_at TIMESTAMPTZ NOT NULL",
     "next_due_at TIMESTAMPTZ", "status VARCHAR(16) NOT NULL", "resolved_at TIMESTAMPTZ"],
    indexes=(("next_due_at",), ("customer_id",)),
    references=(("customer_id", "customer"),),
)

_ALL = (_FACT, _GRADE, _CHANGE, _REVIEW, _DEADLINE)
SQLITE = [statement for table in _ALL for statement in table[0]]
POSTGRES = [statement for table in _ALL for statement in table[1]]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
