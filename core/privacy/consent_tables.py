"""Privacy records: the consent ledger, impact assessments, incidents and the archive lending register."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

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
    # closing needs the post-incident review's three parts (seed-004 CSM-29, migration 0036)
    status = Varchar(length=16, default="investigating")  # investigating | closed
    closed_at = Timestamptz(null=True, default=None)
    review_summary = Text(default="")
    review_effectiveness = Text(default="")
    review_improvements = Text(default="")


class ArchiveLoan(TenantOwned, tablename="archive_loan"):
    """One lending of a customer's archive (《档案借阅登记表》): to a user of the tenant
    (``borrower_id``) or to a person of an external unit (``external_name``, ``external_unit``).
    A loan that needs approvals or a signature is ``pending`` until they are in; then ``lent``,
    later ``returned`` or ``lost``. While pending, ``lent_at`` and ``due_at`` hold the request's
    time and proposed due time; the lending sets both."""

    customer_id = UUID()
    borrower_id = UUID(null=True, default=None)
    external_name = Varchar(length=100, null=True, default=None)
    external_unit = Varchar(length=200, null=True, default=None)
    content = Text()
    status = Varchar(length=16, default="lent")  # pending | lent | returned | lost
    requested_by = Varchar(length=100, null=True, default=None)
    needs_approvals = Boolean(default=False)  # the two approvals of privacy.loan_approvals
    lender_approved_by = UUID(null=True, default=None)
    lender_approved_at = Timestamptz(null=True, default=None)
    keeper_approved_by = UUID(null=True, default=None)
    keeper_approved_at = Timestamptz(null=True, default=None)
    signed_by = UUID(null=True, default=None)  # an external borrower's signature (general manager)
    signed_at = Timestamptz(null=True, default=None)
    lent_at = Timestamptz()
    lent_by = Varchar(length=100)
    due_at = Timestamptz()
    returned_at = Timestamptz(null=True, default=None)
    returned_by = Varchar(length=100, null=True, default=None)
    returned_late = Boolean(default=False)
    overdue_notified_at = Timestamptz(null=True, default=None)
    incident = Varchar(length=16, null=True, default=None)  # lost | damaged
    incident_note = Text(null=True, default=None)
    incident_at = Timestamptz(null=True, default=None)
    incident_by = Varchar(length=100, null=True, default=None)


class ArchiveLoanCopy(TenantOwned, tablename="archive_loan_copy"):
    """The archivist's consent to copy part of a lent archive (seed-002 R1-18): never more than
    what was lent."""

    loan_id = UUID()
    scope = Text()  # the items of the loan's content that may be copied, one a line
    approved_by = UUID()
    approved_at = Timestamptz()


class ArchiveBorrowerBan(TenantOwned, tablename="archive_borrower_ban"):
    """A borrower refused any further loan (seed-003 R6-62, R6-63): after a late return, a loss
    or a damage. Never lifted silently: only by a holder of privacy.archive.ban.lift, with a reason."""

    borrower_id = UUID(null=True, default=None)
    external_name = Varchar(length=100, null=True, default=None)
    external_unit = Varchar(length=200, null=True, default=None)
    loan_id = UUID()
    cause = Varchar(length=16)  # late | lost | damaged
    banned_at = Timestamptz()
    lifted_at = Timestamptz(null=True, default=None)
    lifted_by = Varchar(length=100, null=True, default=None)
    lift_reason = Text(null=True, default=None)


PRIVACY_RECORD_TABLES = (ConsentRecord, PrivacyAssessment, PrivacyIncident, ArchiveLoan, ArchiveLoanCopy,
                         ArchiveBorrowerBan)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = PRIVACY_RECORD_TABLES
