"""Lending rules of the archive register (seed-003 R6-61 to R6-63, seed-002 R1-16, R1-18): a loan
may wait for two approvals (the lender side and the custodian) and, to a person of an external
unit, for a signature; it records a late return, a loss or a damage; the archivist's copy
approvals with their scope; and the borrowers refused further loans, lifted only with a reason.

An external borrower has no user id, so ``borrower_id`` becomes nullable: PostgreSQL drops the
constraint, SQLite (which cannot) rebuilds the table with its rows."""

from core.db.migrations import raw_migration, tenant_table

ID = "0031-archive-lending-rules"
VERSION = "1.43.0"
DESCRIPTION = "archive_loan: status, approvals, signature, late return, loss; archive_loan_copy, archive_borrower_ban"

_NEW_COLUMNS = [
    ("external_name", "VARCHAR(100)"),
    ("external_unit", "VARCHAR(200)"),
    ("status", "VARCHAR(16) NOT NULL DEFAULT 'lent'"),
    ("requested_by", "VARCHAR(100)"),
    ("needs_approvals", "BOOLEAN NOT NULL DEFAULT false"),
    ("lender_approved_by", "UUID"),
    ("lender_approved_at", "TIMESTAMPTZ"),
    ("keeper_approved_by", "UUID"),
    ("keeper_approved_at", "TIMESTAMPTZ"),
    ("signed_by", "UUID"),
    ("signed_at", "TIMESTAMPTZ"),
    ("returned_late", "BOOLEAN NOT NULL DEFAULT false"),
    ("incident", "VARCHAR(16)"),
    ("incident_note", "TEXT"),
    ("incident_at", "TIMESTAMPTZ"),
    ("incident_by", "VARCHAR(100)"),
]
_OLD = ["id", "tenant_id", "created_at", "customer_id", "borrower_id", "content", "lent_at", "lent_by", "due_at",
        "returned_at", "returned_by", "overdue_notified_at"]

_LOAN = tenant_table(
    "archive_loan",
    [
        "customer_id UUID NOT NULL",
        "borrower_id UUID",
        "content TEXT NOT NULL",
        "lent_at TIMESTAMPTZ NOT NULL",
        "lent_by VARCHAR(100) NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL",
        "returned_at TIMESTAMPTZ",
        "returned_by VARCHAR(100)",
        "overdue_notified_at TIMESTAMPTZ",
        *(f"{name} {kind}" for name, kind in _NEW_COLUMNS),
    ],
    indexes=(("customer_id",), ("due_at",), ("borrower_id", "status")),
    references=(("customer_id", "customer"), ("borrower_id", "app_user")),
)
_COPY = tenant_table(
    "archive_loan_copy",
    ["loan_id UUID NOT NULL", "scope TEXT NOT NULL", "approved_by UUID NOT NULL", "approved_at TIMESTAMPTZ NOT NULL"],
    indexes=(("loan_id",),),
    references=(("loan_id", "archive_loan"), ("approved_by", "app_user")),
)
_BAN = tenant_table(
    "archive_borrower_ban",
    ["borrower_id UUID", "external_name VARCHAR(100)", "external_unit VARCHAR(200)", "loan_id UUID NOT NULL",
     "cause VARCHAR(16) NOT NULL", "banned_at TIMESTAMPTZ NOT NULL", "lifted_at TIMESTAMPTZ", "lifted_by VARCHAR(100)",
     "lift_reason TEXT"],
    unique=(("loan_id", "cause"),),
    indexes=(("borrower_id",), ("external_name", "external_unit"), ("banned_at",)),
    # no key to archive_loan: erasing the customer whose loan caused a ban deletes the loan, never the ban
    references=(("borrower_id", "app_user"),),
)

_create_loan, *_loan_indexes = _LOAN[0]
SQLITE = [
    _create_loan.replace("CREATE TABLE archive_loan (", "CREATE TABLE archive_loan_next (", 1),
    f"INSERT INTO archive_loan_next ({', '.join(_OLD)}) SELECT {', '.join(_OLD)} FROM archive_loan",
    "DROP TABLE archive_loan",
    "ALTER TABLE archive_loan_next RENAME TO archive_loan",
    *_loan_indexes,
    "UPDATE archive_loan SET status = 'returned' WHERE returned_at IS NOT NULL",
    *_COPY[0],
    *_BAN[0],
]
POSTGRES = [  # archive_loan keeps its row-level security policy; the new tables get theirs
    "ALTER TABLE archive_loan ALTER COLUMN borrower_id DROP NOT NULL",
    *(f"ALTER TABLE archive_loan ADD COLUMN {name} {kind}" for name, kind in _NEW_COLUMNS),
    "CREATE INDEX archive_loan_borrower_id_status_idx ON archive_loan (tenant_id, borrower_id, status)",
    "UPDATE archive_loan SET status = 'returned' WHERE returned_at IS NOT NULL",
    *_COPY[1],
    *_BAN[1],
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
