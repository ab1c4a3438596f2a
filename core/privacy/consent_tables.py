"""Privacy records: the consent ledger, impact assessments, incidents and the archive lending register."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class ConsentRecord(TenantOwned, tablename="consent_record"):
    """One grant or withdrawal of a customer's consent for one purpose. Append-only: the latest
    entry per purpose (highest ``seq`` of the customer) decides."""

    customer_id = UUID()
    seq = Integer()  # per customer, gapless order of the ledger (times may tie)
    purpose = Varchar(length=40)
    action = Varchar(length=8)  # grant | withdraw
    notice_version = Varchar(length=50, null=True, default=None)
    channel = Varchar(length=16)
    recorded_at = Timestamptz()
    recorded_by = Varchar(length=100)
    evidence = Text(default="")


class PrivacyAssessment(TenantOwned, tablename="privacy_assessment"):
    """A personal-information protection impact assessment (PIPL art. 55-56)."""

    subject = Varchar(length=200)
    processing = Text()
    risks = Text()
    measures = Text()
    conclusion = Text()
    assessor = Varchar(length=100)
    assessed_at = Timestamptz()
    keep_until = Timestamptz()  # at least three years after the assessment (art. 56)
    version = Integer(default=1)
    updated_at = Timestamptz()
    updated_by = Varchar(length=100)


class PrivacyIncident(TenantOwned, tablename="privacy_incident"):
    """A personal-information security incident and what was done about it (PIPL art. 57)."""

    summary = Text()
    discovered_at = Timestamptz()
    report_due_at = Timestamptz()  # discovered_at + the tenant's report window
    affected_count = Integer(default=0)
    categories = Text(default="[]")  # JSON list of data categories
    measures = Text(default="")
    reported_at = Timestamptz(null=True, default=None)
    subjects_notified_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    updated_at = Timestamptz()
    updated_by = Varchar(length=100)


class ArchiveLoan(TenantOwned, tablename="archive_loan"):
    """One lending of a customer's archive (《档案借阅登记表》)."""

    customer_id = UUID()
    borrower_id = UUID()
    content = Text()
    lent_at = Timestamptz()
    lent_by = Varchar(length=100)
    due_at = Timestamptz()
    returned_at = Timestamptz(null=True, default=None)
    returned_by = Varchar(length=100, null=True, default=None)
    overdue_notified_at = Timestamptz(null=True, default=None)


PRIVACY_RECORD_TABLES = (ConsentRecord, PrivacyAssessment, PrivacyIncident, ArchiveLoan)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = PRIVACY_RECORD_TABLES
