"""Archive folders (one per subject, 一车一档), archives and their documents, check results, the
transition register, the KPI and fine ledger, reconciliations and missing-archive reports.
JSON columns hold plain JSON text."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class ArchiveFolder(TenantOwned, tablename="archive_folder"):
    """One subject (a vehicle) of a vertical: its key (VIN) is unique per tenant."""

    vertical = Varchar(length=40)
    subject_kind = Varchar(length=40)
    subject_key = Varchar(length=100)
    facts = Text(default="{}")  # JSON: plate, model, dates...
    owner_customer_id = UUID(null=True, default=None)
    contact_customer_id = UUID(null=True, default=None)
    retention_until = Timestamptz(null=True, default=None)
    retention_rule = Varchar(length=40, null=True, default=None)  # the rule giving retention_until
    sealed_at = Timestamptz(null=True, default=None)
    created_by = Varchar(length=100)
    # A7: from retention_idle_at (no service for the idle years) retention_idle_until by that rule applies
    retention_idle_at = Timestamptz(null=True, default=None)
    retention_idle_until = Timestamptz(null=True, default=None)
    retention_idle_rule = Varchar(length=40, null=True, default=None)
    version = Integer(default=1)


class Archive(TenantOwned, tablename="archive"):
    folder_id = UUID()
    vertical = Varchar(length=40)
    standard = Varchar(length=40)
    state = Varchar(length=16)  # assembling submitted under_check accepted rejected resubmitted archived sealed
    facts = Text(default="{}")
    created_by = Varchar(length=100)
    submitted_by = Varchar(length=100, null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    checked_by = Varchar(length=100, null=True, default=None)
    deadline_at = Timestamptz(null=True, default=None)  # a rejected archive's rectification deadline
    deadline_from = Timestamptz(null=True, default=None)  # the rejection it counts from
    deadline_hours = Integer(null=True, default=None)  # working-day hours it counts
    deadline_provisional = Integer(default=0)  # 1: deadline_at counted days of a provisional calendar year
    rejected_hash = Varchar(length=64, null=True, default=None)  # documents as rejected
    rejections = Integer(default=0)
    check_round = Integer(default=0)
    accepted_at = Timestamptz(null=True, default=None)
    sealed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    submission_due_at = Timestamptz(null=True, default=None)  # S17/T1: when the first submission was due
    submitted_on_time = Integer(null=True, default=None)  # 1 on time, 0 late, None: no schedule or event date
    extended_until = Timestamptz(null=True, default=None)  # T6: an approved extension's promised time
    damaged_at = Timestamptz(null=True, default=None)  # T4: recorded as damaged (破损)
    damaged_by = Varchar(length=100, null=True, default=None)
    damage_note = Text(null=True, default=None)


class ArchiveDocumentRow(TenantOwned, tablename="archive_document"):
    archive_id = UUID()
    code = Varchar(length=40)
    position = Integer()
    fields = Text(default="{}")
    updated_by = Varchar(length=100)


class ArchiveCheckResult(TenantOwned, tablename="archive_check_result"):
    archive_id = UUID()
    round = Integer()
    rule_code = Varchar(length=60)
    kind = Varchar(length=16)  # data (declared documents and fields) | policy | manual
    status = Varchar(length=16)  # pass | fail | overridden | manual
    document = Varchar(length=40, null=True, default=None)
    field = Varchar(length=100, null=True, default=None)
    message_en = Text(default="")
    message_zh = Text(default="")
    override_reason = Text(null=True, default=None)
    overridden_by = Varchar(length=100, null=True, default=None)
    overridden_at = Timestamptz(null=True, default=None)


class ArchiveTransition(TenantOwned, tablename="archive_transition"):
    """The register of state changes; the ``submitted``/``resubmitted`` ones are the handover register."""

    archive_id = UUID()
    from_state = Varchar(length=16, null=True, default=None)
    to_state = Varchar(length=16)
    actor = Varchar(length=100)
    at = Timestamptz()
    note = Text(default="")


class KpiEntry(TenantOwned, tablename="kpi_entry"):
    """One KPI deduction or fine for one person (E13)."""

    user_id = UUID()
    vertical = Varchar(length=40)
    points = Integer(default=0)
    fine_cny = Integer(default=0)
    rule_code = Varchar(length=60)
    archive_id = UUID(null=True, default=None)
    subject_key = Varchar(length=100, null=True, default=None)
    reason = Text(default="")
    at = Timestamptz()
    recorded_by = Varchar(length=100)


class Reconciliation(TenantOwned, tablename="archive_reconciliation"):
    """Expected archives imported from an external system (AAK, 小R3, CRM) for a period, with the
    excluded subjects and why (未上报记录)."""

    vertical = Varchar(length=40)
    standard = Varchar(length=40)
    source = Varchar(length=40)
    period = Varchar(length=40)
    expected = Text(default="[]")  # JSON [{"key", "responsible_user_id"}]
    exclusions = Text(default="{}")  # JSON {key: reason}
    expected_count = Integer(default=0)
    received_count = Integer(default=0)
    imported_by = Varchar(length=100)


class MissingReport(TenantOwned, tablename="archive_missing_report"):
    """档案缺失报告: an expected archive not received, due within working days."""

    reconciliation_id = UUID()
    vertical = Varchar(length=40)
    standard = Varchar(length=40)
    subject_key = Varchar(length=100)
    responsible_user_id = UUID(null=True, default=None)
    due_at = Timestamptz()
    due_working_days = Integer(null=True, default=None)  # working days counted from created_at
    due_provisional = Integer(default=0)  # 1: due_at counted days of a provisional calendar year
    resolved_at = Timestamptz(null=True, default=None)
    kpi_charged_at = Timestamptz(null=True, default=None)  # the missing-archive KPI entry was written
    exception_id = UUID(null=True, default=None)  # an approved late-submission explanation suspended it (W5)


class ArchiveException(TenantOwned, tablename="archive_exception"):
    """A late-submission explanation (S18, T3, W5: kind ``late_submission``, by subject and archive
    type, with a promised date) or a rectification extension (T6: kind ``rectification``, of a
    rejected archive, with a promised time); a manager who did not file it approves or refuses it."""

    vertical = Varchar(length=40)
    standard = Varchar(length=40)
    subject_key = Varchar(length=100)
    archive_id = UUID(null=True, default=None)
    kind = Varchar(length=24)
    reason = Text()
    promised_on = Varchar(length=10, null=True, default=None)  # ISO date of a late-submission explanation
    promised_at = Timestamptz()  # the moment the promise ends (the end of promised_on, tenant's zone)
    requested_by = Varchar(length=100)
    requested_user_id = UUID(null=True, default=None)
    state = Varchar(length=16)  # pending approved refused
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    kpi_points = Integer(default=0)  # the missing-archive points at approval, charged if the promise is broken
    settled_at = Timestamptz(null=True, default=None)  # the sweep looked at it after promised_at
    kpi_charged = Integer(default=0)
    version = Integer(default=1)


class Nonconformity(TenantOwned, tablename="archive_nonconformity"):
    """不合格档案记录 (T5): one per rejection, countersigned by a manager other than the checker."""

    archive_id = UUID()
    vertical = Varchar(length=40)
    standard = Varchar(length=40)
    round = Integer()
    defects = Text()
    responsible_user_id = UUID(null=True, default=None)
    rejected_by = Varchar(length=100)
    rejected_at = Timestamptz()
    countersigned_by = Varchar(length=100, null=True, default=None)
    countersigned_at = Timestamptz(null=True, default=None)
    countersign_note = Text(default="")


ARCHIVE_TABLES = (ArchiveFolder, Archive, ArchiveDocumentRow, ArchiveCheckResult, ArchiveTransition, KpiEntry,
                  Reconciliation, MissingReport, ArchiveException, Nonconformity)

# Personal data in these tables, for erasure and subject-access exports: (table, customer column,
# personal columns). Folders name their customers; documents and facts hold names, signatures, plates.
PERSONAL_DATA = (
    ("archive_folder", "owner_customer_id", ("facts",)),
    ("archive_folder", "contact_customer_id", ("facts",)),
)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = ARCHIVE_TABLES
