"""Every event type kehu emits through the outbox, in one place.

Webhook endpoints may subscribe only to these (or to ``*``), so a typo such as
``customer.create`` is refused at registration instead of silently never firing. A test
(tests/webhooks/test_event_types.py) reads every ``outbox.add`` call of core/ and plugins/ and
fails when an emitted type is missing here; docs/webhooks.md lists each one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    data_type: str  # the payload's data.type: what data.id names
    changed: str  # what data.changed lists
    when: str


def _each(names: str, data_type: str, changed: str, when: str) -> list[EventType]:
    return [EventType(n, data_type, changed, when) for n in names.split()]


_ARCHIVE_STATES = "submitted under_check accepted rejected resubmitted archived sealed"

EVENT_TYPES: tuple[EventType, ...] = (  # grouped as docs/webhooks.md lists them
    # identity and tenancy
    *_each("user.created", "user", "display_name, department_ids, employee_no, username", "a user is added"),
    *_each("user.updated", "user", "the fields changed", "a user is changed"),
    *_each("user.disabled user.enabled", "user", "status", "an account is closed or reopened"),
    *_each("user.role_granted user.role_revoked", "user", "roles", "a role is given to or taken from a user"),
    *_each("user.post_delegated user.post_delegation_ended", "post_delegation", "roles",
           "a post (role) is delegated to a colleague for a time window, or the delegation ends (A/B posts)"),
    *_each("role.created", "role", "name, description, permissions", "a role is created"),
    *_each("role.updated", "role", "the fields changed", "a role is changed (its permissions once a change is approved)"),
    *_each("role.deleted", "role", "nothing", "a role is deleted"),
    *_each("role.change_requested role.change_approved role.change_rejected", "role_change", "state",
           "a change of a role's permissions is asked for, approved or rejected (four eyes)"),
    *_each("department.created", "department", "name, parent_id, code", "a department is added"),
    *_each("department.renamed", "department", "name", "a department is renamed"),
    *_each("apikey.created", "apikey", "name, permissions, expires_at", "an integration key is issued"),
    *_each("apikey.revoked", "apikey", "revoked_at", "an integration key is revoked"),
    *_each("setting.updated", "tenant_setting", "the fields changed",
           "a tenant setting changes; data.id names it"),
    *_each("vertical.enabled vertical.disabled", "vertical", "status", "a vertical is switched on or off"),
    *_each("vertical.parameters_updated", "vertical", "the parameters changed",
           "a vertical's parameters are overridden"),
    # long jobs
    *_each("job.queued job.succeeded job.failed job.cancelled", "job", "nothing",
           "a long job (an import or export) starts or ends"),
    # customers
    *_each("customer.created", "customer", "the fields set", "a customer is created (by hand or by an import)"),
    *_each("customer.updated", "customer", "the fields changed", "a customer is changed"),
    *_each("customer.transferred", "customer", "owner_id", "a customer gets another owner"),
    *_each("customer.reviewed", "customer", "last_reviewed_at", "a customer's periodic review is recorded"),
    *_each("customer.review_due", "customer", "review_due_at", "a customer's review falls due (daily sweep)"),
    *_each("customer.deleted", "customer", "deleted_at", "a customer is deleted"),
    *_each("customer.contact_added customer.contact_removed", "customer", "contacts",
           "a contact person is added to or removed from a customer"),
    *_each("customer.merged customer.unmerged", "customer", "merged_into",
           "a duplicate is merged into another customer, or the merge is undone; data.id is the merged one"),
    *_each("customer.frozen", "customer", "frozen", "a customer's processing is restricted"),
    *_each("customer.erased", "customer", "erased", "a customer's personal data is erased"),
    *_each("customer.legal_hold_placed customer.legal_hold_released", "customer", "legal_hold",
           "a legal hold keeps a customer past retention, or ends"),
    # privacy
    *_each("consent.granted consent.withdrawn", "customer", "the purposes", "a customer grants or withdraws consent"),
    *_each("access_request.created", "access_request", "nothing", "someone asks to export personal data"),
    *_each("access_request.approved access_request.rejected", "access_request", "state",
           "an export request is approved or rejected"),
    *_each("privacy.request_received", "subject_request", "state",
           "a data subject's request (access, copy, correction, deletion) is received"),
    *_each("privacy.request_rejected privacy.request_fulfilled", "subject_request", "state",
           "a data subject's request is closed"),
    *_each("privacy.request_due_soon privacy.request_overdue", "subject_request", "due_at",
           "an open subject request is about to fall due, or is overdue (sweep)"),
    *_each("assessment.created", "privacy_assessment", "the fields set",
           "a personal-information protection impact assessment is written"),
    *_each("assessment.updated", "privacy_assessment", "the fields changed", "an impact assessment is changed"),
    *_each("incident.created", "privacy_incident", "the fields set", "a personal-information incident is recorded"),
    *_each("incident.updated", "privacy_incident", "the fields changed", "an incident record is changed"),
    *_each("archive.lent", "archive_loan", "customer_id, borrower_id, due_at", "a customer's archive is lent"),
    *_each("archive.returned", "archive_loan", "returned_at", "a lent archive comes back"),
    *_each("archive.loan_overdue", "archive_loan", "due_at", "a lent archive is not back by its date (sweep)"),
    *_each("archive.loan_requested", "archive_loan", "customer_id, borrower_id, due_at",
           "a loan waits for its approvals or an external borrower's signature"),
    *_each("archive.loan_approved", "archive_loan", "lender_approved_by or keeper_approved_by",
           "the lending side or the custodian approves a loan"),
    *_each("archive.loan_signed", "archive_loan", "signed_by", "a loan to an external unit is signed"),
    *_each("archive.returned_late", "archive_loan", "returned_at, returned_late",
           "a lent archive came back after its due time (seed-003 R6-62)"),
    *_each("archive.loan_lost", "archive_loan", "incident", "lent data is recorded lost (R6-63)"),
    *_each("archive.loan_damaged", "archive_loan", "incident", "lent data is recorded damaged (R6-63)"),
    *_each("archive.copy_approved", "archive_loan", "copies", "the custodian consents to copying items of a lent archive"),
    *_each("archive.borrower_banned", "archive_borrower_ban", "loan_id, cause",
           "a borrower is refused further loans (late, lost, damaged)"),
    *_each("archive.ban_lifted", "archive_borrower_ban", "lifted_at", "a borrower's ban is lifted with a reason"),
    # archives
    *_each("archive.created", "archive", "standard, facts", "an archive is opened"),
    *_each("archive.document_put", "archive", "documents", "a document is added to an archive"),
    *_each("archive.rule_overridden", "archive", "results", "a checker overrides a rule's result"),
    *_each(" ".join(f"archive.{s}" for s in _ARCHIVE_STATES.split()), "archive", "state",
           "an archive moves to that state"),
    *_each("archive.reconciled", "archive_reconciliation", "missing",
           "expected archives are reconciled with a source"),
    *_each("archive_folder.created", "archive_folder", "subject_key, facts", "an archive folder is opened"),
    *_each("archive_folder.updated", "archive_folder", "facts", "an archive folder's facts change"),
    *_each("archive_folder.sealed", "archive_folder", "sealed_at", "an archive folder is sealed at retention end"),
    *_each("archive.damaged", "archive", "damaged_at", "an archive handed in is recorded damaged (破损, T4)"),
    *_each("archive.rejection_countersigned", "archive_nonconformity", "countersigned_at",
           "a manager countersigns a non-conforming archive record (T5)"),
    *_each("archive_exception.requested", "archive_exception", "state",
           "a late-submission explanation or a rectification extension is filed (S18, T3, T6)"),
    *_each("archive_exception.approved archive_exception.refused", "archive_exception", "state",
           "a manager signs or refuses an explanation or extension (W5, T6)"),
    *_each("kpi.recorded", "kpi_entry", "points, fine_cny", "an archive rule awards or fines KPI points"),
    # complaints
    *_each("complaint.opened", "complaint", "number, category, severity, state, channel, source",
           "a complaint is taken in and numbered"),
    *_each("complaint.transitioned", "complaint", "state and the fields the action recorded",
           "a complaint moves to another state of its flow (pauses and resumes included)"),
    *_each("complaint.assigned", "complaint", "assignee_id, department_id", "a complaint gets an assignee or department"),
    *_each("complaint.breached", "complaint", "clocks", "a complaint's clock passes its target or hard limit (tick)"),
    *_each("complaint.escalated", "complaint", "escalated_to, report_due_at",
           "a breach escalates a complaint to a role of its flow, maybe with a written report due (tick)"),
    *_each("complaint.reminded", "complaint", "department_id",
           "a breach sends a reminder notice (催办单) to the responsible department (tick)"),
    *_each("complaint.first_responder_notified", "complaint", "first_responder",
           "a breach notifies the complaint's first responder (首问责任人) (tick)"),
    # blacklists
    *_each("blacklist.proposed", "blacklist_entry", "customer_id, scope, department_id, reason, evidence",
           "a customer is proposed for the company or a department blacklist (MD13)"),
    *_each("blacklist.approved", "blacklist_entry", "status, approved_by, starts_at, expires_at",
           "another user approves a blacklist proposal: the entry takes effect (MD14)"),
    *_each("blacklist.filed", "blacklist_entry", "scope, department_id, expires_at",
           "an approved blacklist entry is filed with the company level (marketing division) (MD13)"),
    *_each("blacklist.rejected", "blacklist_entry", "status, end_reason", "a blacklist proposal is rejected"),
    *_each("blacklist.lifted", "blacklist_entry", "status, end_reason", "a blacklist entry is lifted before its expiry"),
    *_each("blacklist.expired", "blacklist_entry", "status", "a blacklist entry reaches its expiry (tick) (MD15)"),
    # grading
    *_each("grade.changed", "customer", "grade", "a customer's grade in a scheme and scope changes (review, override or deadline)"),
    *_each("grade.fact_recorded", "customer", "facts", "a fact a grading scheme scores is recorded for a customer"),
    *_each("grade.review_proposed grade.review_approved grade.review_published", "grade_review", "status",
           "a grade review run is proposed (what-if), approved by another person, or published"),
    *_each("grade.deadline_flagged", "grade_deadline", "due_at, required_grade",
           "a required grade change (a downgrade) is flagged with its deadline"),
    *_each("grade.deadline_enforced", "grade_deadline", "status", "the tick carries out a required grade change past its deadline"),
    # visits
    *_each("visit.planned", "visit_schedule", "due_at, plan_id, status",
           "a customer joins a visit plan its grade calls for, with its first due date"),
    *_each("visit.plan_ended", "visit_schedule", "status", "a customer's grade no longer calls for a visit plan"),
    *_each("visit.recorded", "visit", "channel, report, visited_at", "a visit is recorded with its summary report"),
    *_each("visit.overdue", "visit_schedule", "status, overdue_at", "a planned visit passes its due date unmet (tick)"),
    # attribution
    *_each("attribution.owner_changed", "customer", "owner_id, shares, rule",
           "a ledger entry, a relation or an approved dispute changes who owns a customer in a vertical, or its split"),
    # governance of the customer system (seed-004)
    *_each("customer.export_flagged", "job", "dlp",
           "a bulk export of contact methods passes the tenant's DLP threshold and is flagged for review (CSM-26)"),
    *_each("customer_change.submitted", "customer_change_request", "customer_id, key, due_on",
           "a change of a customer's fields waits for the specialist (CSM-5 to CSM-7)"),
    *_each("customer_change.applied", "customer_change_request", "customer_id, breached",
           "the specialist applies a change request; breached when past its working-day deadline"),
    *_each("customer_change.rejected", "customer_change_request", "customer_id",
           "the specialist rejects a change request with a reason (CSM-8)"),
    *_each("customer_deletion.submitted", "customer_deletion_request", "customer_id, reason, state",
           "a customer deletion request (deletion application form) is filed (CSM-9)"),
    *_each("customer_deletion.signed customer_deletion.approved customer_deletion.rejected", "customer_deletion_request",
           "state", "the department head signs, the head of customer information management approves, or either "
           "rejects a deletion request (CSM-10, CSM-13)"),
    *_each("customer_deletion.executed", "customer_deletion_request", "state",
           "the system administrator executes an approved deletion: the customer is erased (CSM-11)"),
    *_each("customer_deletion.backups_purged customer_deletion.closed", "customer_deletion_request", "state",
           "the purge of the backups is confirmed, then the deletion request is closed (CSM-12)"),
    *_each("role.grant_requested", "pending_grant", "state",
           "a grant of a high-risk permission waits for a department head (CSM-21)"),
    *_each("role.grant_approved role.grant_rejected", "pending_grant", "state",
           "a department head approves or rejects a pending high-risk grant"),
    *_each("permission_review.opened permission_review.closed", "permission_review", "state",
           "a user's department or post change opens a permission review, or it is closed (CSM-22)"),
    *_each("fault.reported", "fault_ticket", "severity, due_at", "a system fault is reported with its fix deadline (CSM-27)"),
    *_each("fault.updated", "fault_ticket", "status, action",
           "a fault is acknowledged, started, resolved, closed or reopened"),
    *_each("training_course.created", "training_course", "title", "a training course is set up (CSM-30)"),
    *_each("training_record.updated", "training_record", "user_id", "a user's training record changes"),
    *_each("training_result.recorded", "training_result", "user_id, outcome, status",
           "an assessment score is recorded: passed, or failed with a retake due"),
)

NAMES: frozenset[str] = frozenset(e.name for e in EVENT_TYPES)
