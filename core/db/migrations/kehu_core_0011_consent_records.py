"""Privacy records: consent ledger, impact assessments, incidents, archive lending register."""

from core.db.migrations import raw_migration, tenant_table

ID = "0011-consent-records"
VERSION = "1.38.0"
DESCRIPTION = "consent_record, privacy_assessment, privacy_incident, archive_loan with RLS"

_CONSENT = tenant_table(
    "consent_record",
    [
        "customer_id UUID NOT NULL",
        "seq INTEGER NOT NULL",
        "purpose VARCHAR(40) NOT NULL",
        "action VARCHAR(8) NOT NULL",
        "notice_version VARCHAR(50)",
        "channel VARCHAR(16) NOT NULL",
        "recorded_at TIMESTAMPTZ NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
        "evidence TEXT NOT NULL DEFAULT ''",
    ],
    unique=(("customer_id", "seq"),),  # two writers of one customer's ledger cannot both append
    indexes=(("customer_id", "purpose"),),
    references=(("customer_id", "customer"),),
)
_ASSESSMENT = tenant_table(
    "privacy_assessment",
    [
        "subject VARCHAR(200) NOT NULL",
        "processing TEXT NOT NULL",
        "risks TEXT NOT NULL",
        "measures TEXT NOT NULL",
        "conclusion TEXT NOT NULL",
        "assessor VARCHAR(100) NOT NULL",
        "assessed_at TIMESTAMPTZ NOT NULL",
        "keep_until TIMESTAMPTZ NOT NULL",
        "version INTEGER NOT NULL DEFAULT 1",
        "updated_at TIMESTAMPTZ NOT NULL",
        "updated_by VARCHAR(100) NOT NULL",
    ],
    indexes=(("assessed_at",),),
)
_INCIDENT = tenant_table(
    "privacy_incident",
    [
        "summary TEXT NOT NULL",
        "discovered_at TIMESTAMPTZ NOT NULL",
        "report_due_at TIMESTAMPTZ NOT NULL",
        "affected_count INTEGER NOT NULL DEFAULT 0",
        "categories TEXT NOT NULL DEFAULT '[]'",
        "measures TEXT NOT NULL DEFAULT ''",
        "reported_at TIMESTAMPTZ",
        "subjects_notified_at TIMESTAMPTZ",
        "version INTEGER NOT NULL DEFAULT 1",
        "updated_at TIMESTAMPTZ NOT NULL",
        "updated_by VARCHAR(100) NOT NULL",
    ],
    indexes=(("discovered_at",),),
)
_LOAN = tenant_table(
    "archive_loan",
    [
        "customer_id UUID NOT NULL",
        "borrower_id UUID NOT NULL",
        "content TEXT NOT NULL",
        "lent_at TIMESTAMPTZ NOT NULL",
        "lent_by VARCHAR(100) NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL",
        "returned_at TIMESTAMPTZ",
        "returned_by VARCHAR(100)",
        "overdue_notified_at TIMESTAMPTZ",
    ],
    indexes=(("customer_id",), ("due_at",)),
    references=(("customer_id", "customer"), ("borrower_id", "app_user")),
)

_ALL = (_CONSENT, _ASSESSMENT, _INCIDENT, _LOAN)
SQLITE = [statement for table in _ALL for statement in table[0]]
POSTGRES = [statement for table in _ALL for statement in table[1]]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
