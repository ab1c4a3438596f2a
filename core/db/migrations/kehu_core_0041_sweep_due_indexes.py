"""Cross-tenant due probes of the tick's sweeps (issue 27, core/db/due.py): the indexes that let one
statement find which tenants have a review, an expiry, a clock, a deadline or a reminder due,
reading only the rows still open.

As in 0040: partial indexes on the open states, led by the due column then ``tenant_id``, so the
rows that are done (nearly all of them) never enter them. The audit anchor probe reads
``audit_chain`` through its ``(tenant_id, id)`` index and the import upload probe joins
``long_job`` on its ``(tenant_id, id)`` index: both exist already.
"""

from core.db.migrations import raw_migration

ID = "0041-sweep-due-indexes"
VERSION = "1.43.0"
DESCRIPTION = "partial indexes for the cross-tenant due probes of the tick's sweeps"

_STATEMENTS = [
    # customer_reviews
    "CREATE INDEX customer_review_due_idx ON customer (review_due_at, tenant_id) "
    "WHERE review_notified_at IS NULL AND deleted_at IS NULL AND merged_into IS NULL AND review_due_at IS NOT NULL",
    # blacklist_expiry
    "CREATE INDEX blacklist_entry_active_due_idx ON blacklist_entry (expires_at, tenant_id) "
    "WHERE status = 'active' AND expires_at IS NOT NULL",
    # archive_late_submissions
    "CREATE INDEX archive_exception_promise_due_idx ON archive_exception (promised_at, tenant_id) "
    "WHERE kind = 'late_submission' AND state = 'approved' AND settled_at IS NULL",
    # archive_retention
    "CREATE INDEX archive_folder_idle_due_idx ON archive_folder (retention_idle_at, tenant_id) "
    "WHERE sealed_at IS NULL AND retention_idle_at IS NOT NULL",
    "CREATE INDEX archive_folder_retention_due_idx ON archive_folder (retention_until, tenant_id) "
    "WHERE sealed_at IS NULL AND retention_until IS NOT NULL",
    # complaint_clocks
    "CREATE INDEX complaint_clock_running_due_idx ON complaint_clock (next_due_at, tenant_id) "
    "WHERE status = 'running' AND next_due_at IS NOT NULL",
    # grade_deadlines
    "CREATE INDEX grade_deadline_open_due_idx ON grade_deadline (next_due_at, tenant_id) "
    "WHERE status = 'open' AND next_due_at IS NOT NULL",
    # idempotency_keys: every row expires, none is ever "done" before it goes
    "CREATE INDEX idempotency_record_expiry_due_idx ON idempotency_record (expires_at, tenant_id)",
    # access_requests
    "CREATE INDEX access_request_approved_due_idx ON access_request (expires_at, tenant_id) "
    "WHERE state = 'approved' AND expires_at IS NOT NULL",
    # subject_requests: overdue not yet announced, and due soon not yet announced
    "CREATE INDEX subject_request_overdue_due_idx ON subject_request (due_at, tenant_id) "
    "WHERE state IN ('received', 'identity_verified') AND overdue_notified_at IS NULL",
    "CREATE INDEX subject_request_soon_due_idx ON subject_request (due_at, tenant_id) "
    "WHERE state IN ('received', 'identity_verified') AND due_soon_notified_at IS NULL",
    # privacy_purge: the purges started lately, and those still queued or running
    "CREATE INDEX long_job_purge_recent_due_idx ON long_job (created_at, tenant_id) WHERE kind = 'privacy.purge'",
    "CREATE INDEX long_job_purge_open_due_idx ON long_job (tenant_id) "
    "WHERE kind = 'privacy.purge' AND status IN ('queued', 'running')",
    # archive_loans
    "CREATE INDEX archive_loan_overdue_due_idx ON archive_loan (due_at, tenant_id) "
    "WHERE status = 'lent' AND overdue_notified_at IS NULL",
    # visit_schedules
    "CREATE INDEX visit_schedule_due_due_idx ON visit_schedule (due_at, tenant_id) WHERE status = 'due'",
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=_STATEMENTS, postgres=_STATEMENTS)
