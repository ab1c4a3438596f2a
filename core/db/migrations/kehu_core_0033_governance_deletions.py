"""Customer deletion requests with two-level approval (issue 24, seed-004 §2.4.2 W6, CSM-9 to
CSM-13): the form, the department head's signature, the approval of the head of customer
information management, the execution and the backup purge confirmation."""

from core.db.migrations import raw_migration, tenant_table

ID = "0033-governance-deletions"
VERSION = "1.43.0"
DESCRIPTION = "customer_deletion_request with RLS"

_REQUEST = tenant_table(
    "customer_deletion_request",
    [
        "subject_customer_id UUID NOT NULL",
        "department_id UUID NOT NULL",
        "reason VARCHAR(40) NOT NULL",
        "reason_details TEXT NOT NULL",
        "customer_details TEXT NOT NULL",
        "state VARCHAR(20) NOT NULL",
        "submitted_by VARCHAR(100) NOT NULL",
        "submitted_by_id UUID",
        "signed_by VARCHAR(100)",
        "signed_at TIMESTAMPTZ",
        "approved_by VARCHAR(100)",
        "approved_at TIMESTAMPTZ",
        "executed_by VARCHAR(100)",
        "executed_at TIMESTAMPTZ",
        "purge_confirmed_by VARCHAR(100)",
        "purge_confirmed_at TIMESTAMPTZ",
        "purge_note TEXT NOT NULL DEFAULT ''",
        "closed_by VARCHAR(100)",
        "closed_at TIMESTAMPTZ",
        "rejected_by VARCHAR(100)",
        "rejected_at TIMESTAMPTZ",
        "rejection_reason TEXT NOT NULL DEFAULT ''",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    indexes=(("state",), ("subject_customer_id",), ("created_at",)),
    references=(("subject_customer_id", "customer"), ("department_id", "department")),
)

SQLITE = _REQUEST[0]
POSTGRES = _REQUEST[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
