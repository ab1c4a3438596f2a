"""Archives of vertical-defined types (issue #9): folders, archives, documents, check results,
transitions, KPI ledger, reconciliations and missing reports, all tenant tables with RLS."""

from core.db.migrations import raw_migration, tenant_table

ID = "0014-archives"
VERSION = "1.38.0"
DESCRIPTION = "archive_folder, archive, archive_document, archive_check_result, archive_transition, kpi_entry, " \
              "archive_reconciliation, archive_missing_report with RLS"

_TABLES = [
    tenant_table("archive_folder", [
        "vertical VARCHAR(40) NOT NULL", "subject_kind VARCHAR(40) NOT NULL", "subject_key VARCHAR(100) NOT NULL",
        "facts TEXT NOT NULL", "owner_customer_id UUID", "contact_customer_id UUID", "retention_until TIMESTAMPTZ",
        "retention_rule VARCHAR(40)", "sealed_at TIMESTAMPTZ", "created_by VARCHAR(100) NOT NULL",
        "version INTEGER NOT NULL DEFAULT 1",
    ], unique=(("subject_key",),), indexes=(("owner_customer_id",), ("contact_customer_id",), ("retention_until",)),
        references=(("owner_customer_id", "customer"), ("contact_customer_id", "customer"))),
    tenant_table("archive", [
        "folder_id UUID NOT NULL", "vertical VARCHAR(40) NOT NULL", "standard VARCHAR(40) NOT NULL",
        "state VARCHAR(16) NOT NULL", "facts TEXT NOT NULL", "created_by VARCHAR(100) NOT NULL",
        "submitted_by VARCHAR(100)", "submitted_at TIMESTAMPTZ", "checked_by VARCHAR(100)",
        "deadline_at TIMESTAMPTZ", "rejected_hash VARCHAR(64)", "rejections INTEGER NOT NULL DEFAULT 0",
        "check_round INTEGER NOT NULL DEFAULT 0", "accepted_at TIMESTAMPTZ", "sealed_at TIMESTAMPTZ",
        "version INTEGER NOT NULL DEFAULT 1",
    ], indexes=(("folder_id",), ("state",), ("submitted_at",)), references=(("folder_id", "archive_folder"),)),
    tenant_table("archive_document", [
        "archive_id UUID NOT NULL", "code VARCHAR(40) NOT NULL", "position INTEGER NOT NULL", "fields TEXT NOT NULL",
        "updated_by VARCHAR(100) NOT NULL",
    ], unique=(("archive_id", "code"),), references=(("archive_id", "archive"),)),
    tenant_table("archive_check_result", [
        "archive_id UUID NOT NULL", "round INTEGER NOT NULL", "rule_code VARCHAR(60) NOT NULL",
        "kind VARCHAR(16) NOT NULL", "status VARCHAR(16) NOT NULL", "document VARCHAR(40)", "field VARCHAR(100)",
        "message_en TEXT NOT NULL", "message_zh TEXT NOT NULL", "override_reason TEXT",
        "overridden_by VARCHAR(100)", "overridden_at TIMESTAMPTZ",
    ], indexes=(("archive_id", "round"),), references=(("archive_id", "archive"),)),
    tenant_table("archive_transition", [
        "archive_id UUID NOT NULL", "from_state VARCHAR(16)", "to_state VARCHAR(16) NOT NULL",
        "actor VARCHAR(100) NOT NULL", "at TIMESTAMPTZ NOT NULL", "note TEXT NOT NULL",
    ], indexes=(("archive_id",), ("to_state", "at")), references=(("archive_id", "archive"),)),
    tenant_table("kpi_entry", [
        "user_id UUID NOT NULL", "vertical VARCHAR(40) NOT NULL", "points INTEGER NOT NULL DEFAULT 0",
        "fine_cny INTEGER NOT NULL DEFAULT 0", "rule_code VARCHAR(60) NOT NULL", "archive_id UUID",
        "subject_key VARCHAR(100)", "reason TEXT NOT NULL", "at TIMESTAMPTZ NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
    ], indexes=(("user_id", "at"), ("archive_id",)), references=(("archive_id", "archive"), ("user_id", "app_user"))),
    tenant_table("archive_reconciliation", [
        "vertical VARCHAR(40) NOT NULL", "standard VARCHAR(40) NOT NULL", "source VARCHAR(40) NOT NULL",
        "period VARCHAR(40) NOT NULL", "expected TEXT NOT NULL", "exclusions TEXT NOT NULL",
        "expected_count INTEGER NOT NULL DEFAULT 0", "received_count INTEGER NOT NULL DEFAULT 0",
        "imported_by VARCHAR(100) NOT NULL",
    ], indexes=(("standard", "period"),)),
    tenant_table("archive_missing_report", [
        "reconciliation_id UUID NOT NULL", "vertical VARCHAR(40) NOT NULL", "standard VARCHAR(40) NOT NULL",
        "subject_key VARCHAR(100) NOT NULL", "responsible_user_id UUID", "due_at TIMESTAMPTZ NOT NULL",
        "resolved_at TIMESTAMPTZ",
    ], indexes=(("subject_key",), ("due_at",)),
        references=(("reconciliation_id", "archive_reconciliation"), ("responsible_user_id", "app_user"))),
]

SQLITE = [statement for sqlite, _ in _TABLES for statement in sqlite]
POSTGRES = [statement for _, postgres in _TABLES for statement in postgres]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
