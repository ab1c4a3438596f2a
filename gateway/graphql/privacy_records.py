"""GraphQL for the privacy registers: the consent ledger and the processing check, impact
assessments, incidents and the archive lending register. Thin resolvers over core.privacy."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.privacy import assessments, borrowing, consent
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)


def _id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="One grant or withdrawal of a customer's consent for one purpose.")
class ConsentEntry:
    id: strawberry.ID
    customer_id: strawberry.ID
    seq: int = strawberry.field(description="Order in the customer's ledger; the highest per purpose decides.")
    purpose: str
    action: str = strawberry.field(description="grant | withdraw")
    notice_version: str | None
    channel: str = strawberry.field(description="paper | web | app | phone | sms | in_store")
    recorded_at: datetime
    recorded_by: str
    evidence: str

    @classmethod
    def of(cls, entry: consent.ConsentEntry) -> ConsentEntry:
        return cls(id=_id(entry.id), customer_id=_id(entry.customer_id), seq=entry.seq, purpose=entry.purpose,
                   action=entry.action, notice_version=entry.notice_version, channel=entry.channel,
                   recorded_at=entry.recorded_at, recorded_by=entry.recorded_by, evidence=entry.evidence)


@strawberry.type(description="Where one purpose stands for a customer.")
class ConsentStatus:
    purpose: str
    granted: bool = strawberry.field(description="True only if the latest entry for the purpose is a grant.")
    latest: ConsentEntry | None = strawberry.field(description="null: never asked")


@strawberry.type
class ConsentPayload:
    entries: list[ConsentEntry] = strawberry.field(default_factory=list)
    errors: list[UserError]


@strawberry.type(description="A personal-information protection impact assessment (kept at least three years).")
class Assessment:
    id: strawberry.ID
    version: int
    subject: str
    processing: str
    risks: str
    measures: str
    conclusion: str
    assessor: str
    assessed_at: datetime
    keep_until: datetime
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, view: assessments.AssessmentView) -> Assessment:
        return cls(id=_id(view.id), version=view.version, subject=view.subject, processing=view.processing,
                   risks=view.risks, measures=view.measures, conclusion=view.conclusion, assessor=view.assessor,
                   assessed_at=view.assessed_at, keep_until=view.keep_until, updated_at=view.updated_at,
                   updated_by=view.updated_by)


@strawberry.input(description="Fields of an assessment; on update, fields left out keep their value.")
class AssessmentInput:
    subject: str | None = strawberry.UNSET
    processing: str | None = strawberry.UNSET
    risks: str | None = strawberry.UNSET
    measures: str | None = strawberry.UNSET
    conclusion: str | None = strawberry.UNSET
    assessor: str | None = strawberry.UNSET
    assessed_at: datetime | None = strawberry.UNSET

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not strawberry.UNSET}


@strawberry.type
class AssessmentPayload:
    assessment: Assessment | None = None
    errors: list[UserError]


@strawberry.type(description="A personal-information security incident with its report deadline.")
class Incident:
    id: strawberry.ID
    version: int
    summary: str
    discovered_at: datetime
    report_due_at: datetime = strawberry.field(description="discoveredAt + the tenant's incident report hours")
    affected_count: int
    categories: list[str]
    measures: str
    reported_at: datetime | None
    subjects_notified_at: datetime | None
    updated_at: datetime
    updated_by: str
    overdue: bool = strawberry.field(description="Not reported to the authority and past its deadline.")
    reported_late: bool
    status: str = strawberry.field(description="investigating | closed (closing needs the post-incident review).")
    closed_at: datetime | None
    review: IncidentReview | None = strawberry.field(description="The post-incident review, once closed.")

    @classmethod
    def of(cls, view: assessments.IncidentView) -> Incident:
        review = (IncidentReview(summary=view.review_summary, effectiveness=view.review_effectiveness,
                                 improvements=view.review_improvements) if view.review_summary else None)
        return cls(id=_id(view.id), version=view.version, summary=view.summary, discovered_at=view.discovered_at,
                   report_due_at=view.report_due_at, affected_count=view.affected_count,
                   categories=list(view.categories), measures=view.measures, reported_at=view.reported_at,
                   subjects_notified_at=view.subjects_notified_at, updated_at=view.updated_at,
                   updated_by=view.updated_by, overdue=view.overdue, reported_late=view.reported_late,
                   status=view.status, closed_at=view.closed_at, review=review)


@strawberry.type(description="The post-incident review (seed-004 §4.5.2): summary, evaluation of the response's "
                             "effectiveness, suggestions for improvement.")
class IncidentReview:
    summary: str
    effectiveness: str
    improvements: str


@strawberry.input(description="The post-incident review; all three parts are required to close an incident.")
class IncidentReviewInput:
    summary: str | None = None
    effectiveness: str | None = None
    improvements: str | None = None


@strawberry.input(description="Fields of an incident; on update, fields left out keep their value and null clears one.")
class IncidentInput:
    summary: str | None = strawberry.UNSET
    discovered_at: datetime | None = strawberry.UNSET
    affected_count: int | None = strawberry.UNSET
    categories: list[str] | None = strawberry.UNSET
    measures: str | None = strawberry.UNSET
    reported_at: datetime | None = strawberry.UNSET
    subjects_notified_at: datetime | None = strawberry.UNSET

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not strawberry.UNSET}


@strawberry.type
class IncidentPayload:
    incident: Incident | None = None
    errors: list[UserError]


@strawberry.type(description="The archivist's consent to copy items of a lent archive (never beyond what was lent).")
class ArchiveLoanCopy:
    id: strawberry.ID
    scope: list[str] = strawberry.field(description="The items of the loan's content that may be copied.")
    approved_by: strawberry.ID
    approved_at: datetime


@strawberry.type(description="One lending of a customer's archive (档案借阅登记).")
class ArchiveLoan:
    id: strawberry.ID
    customer_id: strawberry.ID
    borrower_id: strawberry.ID | None = strawberry.field(description="null: a person of an external unit.")
    borrower_name: str = strawberry.field(description="The user's name, or an external borrower's name (unit).")
    external_name: str | None
    external_unit: str | None
    content: str
    status: str = strawberry.field(description="pending (waiting for approvals or a signature) | lent | returned | lost")
    lent_at: datetime = strawberry.field(description="When it went out; while pending, when it was asked for.")
    lent_by: str
    due_at: datetime = strawberry.field(description="When it is due back; while pending, as proposed.")
    returned_at: datetime | None
    returned_by: str | None
    overdue: bool = strawberry.field(description="Still out after its due date.")
    returned_late: bool
    needs_approvals: bool = strawberry.field(description="Needs the lender's and the custodian's approvals.")
    lender_approved_by: strawberry.ID | None
    keeper_approved_by: strawberry.ID | None = strawberry.field(description="The custodian who approved it.")
    signed_by: strawberry.ID | None = strawberry.field(description="Who signed a loan to an external unit.")
    incident: str | None = strawberry.field(description="lost | damaged, once recorded.")
    incident_note: str | None
    copies: list[ArchiveLoanCopy]

    @classmethod
    def of(cls, view: borrowing.LoanView) -> ArchiveLoan:
        def opt(value: Any) -> strawberry.ID | None:
            return None if value is None else _id(value)

        return cls(id=_id(view.id), customer_id=_id(view.customer_id), borrower_id=opt(view.borrower_id),
                   borrower_name=view.borrower_name, external_name=view.external_name,
                   external_unit=view.external_unit, content=view.content, status=view.status, lent_at=view.lent_at,
                   lent_by=view.lent_by, due_at=view.due_at, returned_at=view.returned_at, returned_by=view.returned_by,
                   overdue=view.overdue, returned_late=view.returned_late, needs_approvals=view.needs_approvals,
                   lender_approved_by=opt(view.lender_approved_by), keeper_approved_by=opt(view.keeper_approved_by),
                   signed_by=opt(view.signed_by), incident=view.incident, incident_note=view.incident_note,
                   copies=[ArchiveLoanCopy(id=_id(c.id), scope=list(c.scope), approved_by=_id(c.approved_by),
                                           approved_at=c.approved_at) for c in view.copies])


@strawberry.type(description="A borrower refused further archive loans after a late return, a loss or a damage.")
class ArchiveBorrowerBan:
    id: strawberry.ID
    borrower_id: strawberry.ID | None = strawberry.field(description="null: a person of an external unit.")
    borrower_name: str
    loan_id: strawberry.ID
    cause: str = strawberry.field(description="late | lost | damaged")
    banned_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None

    @classmethod
    def of(cls, view: borrowing.BanView) -> ArchiveBorrowerBan:
        return cls(id=_id(view.id), borrower_id=None if view.borrower_id is None else _id(view.borrower_id),
                   borrower_name=view.borrower_name, loan_id=_id(view.loan_id), cause=view.cause,
                   banned_at=view.banned_at, lifted_at=view.lifted_at, lifted_by=view.lifted_by,
                   lift_reason=view.lift_reason)


@strawberry.type
class ArchiveBorrowerBanPayload:
    ban: ArchiveBorrowerBan | None = None
    errors: list[UserError]


@strawberry.type
class ArchiveLoanPayload:
    loan: ArchiveLoan | None = None
    ban: ArchiveBorrowerBan | None = strawberry.field(
        default=None, description="The borrower's ban this step caused (a late return, a loss, a damage), if any.")
    errors: list[UserError]


@strawberry.type
class PrivacySettings:
    incident_report_hours: int = strawberry.field(description="Hours to report an incident (default 72).")
    loan_days: int = strawberry.field(description="Default archive loan period in days (default 7).")
    loan_approvals: int = strawberry.field(
        description="1: every archive loan waits for two approvals, the lending side's and the custodian's; "
                    "0 (default): lent when registered.")
    approved_loan_days: int = strawberry.field(
        description="Loan period in days of a loan that needed the two approvals (default 1).")
    loan_ban: int = strawberry.field(
        description="1 (default): a late return, a loss or a damage bans the borrower from further loans; 0: no new "
                    "bans (existing ones stay until lifted).")
    request_days: int = strawberry.field(description="Days to answer a data-subject request (default 15).")
    request_working_days: int = strawberry.field(
        description="1: requestDays counts working days of the tenant's calendar; 0 (default): calendar days.")
    retention_years: int = strawberry.field(description="Years inactive customers are kept (default 5).")

    @classmethod
    def of(cls, values: dict[str, int]) -> PrivacySettings:
        return cls(**{key.removeprefix("privacy."): value for key, value in values.items()})


@strawberry.input
class PrivacySettingsInput:
    incident_report_hours: int | None = None
    loan_days: int | None = None
    loan_approvals: int | None = None
    approved_loan_days: int | None = None
    loan_ban: int | None = None
    request_days: int | None = None
    request_working_days: int | None = None
    retention_years: int | None = None


@strawberry.type
class PrivacySettingsPayload:
    settings: PrivacySettings | None = None
    errors: list[UserError]


def _seq_id_key(key: list[Any]) -> tuple[int, UUID]:
    """The key of consentHistory: (seq, id)."""
    seq, id_ = key
    if not isinstance(seq, int):
        raise ValueError("a ledger position is a number")
    return seq, UUID(id_)


@strawberry.type
class PrivacyRecordQuery:
    @strawberry.field(description="The tenant's privacy settings (needs tenant.settings.manage).")
    async def privacy_settings(self, info: Info) -> PrivacySettings:
        return PrivacySettings.of(await assessments.privacy_settings(ctx_of(info)))

    @strawberry.field(description="Every consent purpose of a customer, granted or not (needs privacy.consent.read).")
    async def customer_consents(self, info: Info, customer_id: strawberry.ID, first: int | None = None,
                                after: str | None = None, last: int | None = None,
                                before: str | None = None) -> Connection[ConsentStatus]:
        request = page_request(info, "customerConsents", first, after, last, before)
        states = await consent.consent_state(ctx_of(info), parse_id(customer_id, "customerId"))
        return list_connection(request, states, lambda s: [s.purpose], lambda s: ConsentStatus(
            purpose=s.purpose, granted=s.granted, latest=ConsentEntry.of(s.latest) if s.latest else None))

    @strawberry.field(description="A customer's consent ledger, oldest first; one purpose's if given.")
    async def consent_history(self, info: Info, customer_id: strawberry.ID, purpose: str | None = None,
                              first: int | None = None, after: str | None = None, last: int | None = None,
                              before: str | None = None) -> Connection[ConsentEntry]:
        request = page_request(info, "consentHistory", first, after, last, before)
        entries, more = await consent.consent_history_page(ctx_of(info), parse_id(customer_id, "customerId"),
                                                           request.window(_seq_id_key), purpose)
        return keyset_connection(request, entries, more, lambda e: [e.seq, e.id], ConsentEntry.of)

    @strawberry.field(description="Whether the customer's information may be processed for the purpose now "
                                  "(latest consent is a grant; sensitive: the separate sensitive-data consent too).")
    async def may_process(self, info: Info, customer_id: strawberry.ID, purpose: str,
                          sensitive: bool = False) -> bool:
        return await consent.check_consent(ctx_of(info), parse_id(customer_id, "customerId"), purpose,
                                           sensitive=sensitive)

    @strawberry.field(description="Impact assessments, newest first (needs privacy.assessment.manage).")
    async def assessments(self, info: Info, first: int | None = None, after: str | None = None,
                          last: int | None = None, before: str | None = None) -> Connection[Assessment]:
        request = page_request(info, "assessments", first, after, last, before)
        found, more = await assessments.assessments_page(ctx_of(info), request.window(time_id_key))
        return keyset_connection(request, found, more, lambda a: [a.assessed_at, a.id], Assessment.of)

    @strawberry.field(description="Incidents, newest first; overdue filters on the report deadline "
                                  "(needs privacy.incident.manage).")
    async def incidents(self, info: Info, overdue: bool | None = None, first: int | None = None,
                        after: str | None = None, last: int | None = None,
                        before: str | None = None) -> Connection[Incident]:
        request = page_request(info, "incidents", first, after, last, before)
        found, more = await assessments.incidents_page(ctx_of(info), request.window(time_id_key), overdue=overdue)
        return keyset_connection(request, found, more, lambda i: [i.discovered_at, i.id], Incident.of)

    @strawberry.field(description="The archive lending register, newest first; overdue: only loans out past their "
                                  "due date (true) or the others (false). Needs privacy.archive.lend.")
    async def archive_loans(self, info: Info, overdue: bool | None = None, open_only: bool = False,
                            customer_id: strawberry.ID | None = None, first: int | None = None,
                            after: str | None = None, last: int | None = None,
                            before: str | None = None) -> Connection[ArchiveLoan]:
        request = page_request(info, "archiveLoans", first, after, last, before)
        loans, more = await borrowing.loans_page(
            ctx_of(info), request.window(time_id_key), overdue=overdue, open_only=open_only,
            customer_id=parse_id(customer_id, "customerId") if customer_id else None)
        return keyset_connection(request, loans, more, lambda loan: [loan.lent_at, loan.id], ArchiveLoan.of)

    @strawberry.field(description="Borrowers refused further archive loans, newest first; activeOnly: not lifted. "
                                  "Needs one of the archive lending permissions.")
    async def archive_borrower_bans(self, info: Info, borrower_id: strawberry.ID | None = None,
                                    active_only: bool = False, first: int | None = None, after: str | None = None,
                                    last: int | None = None,
                                    before: str | None = None) -> Connection[ArchiveBorrowerBan]:
        request = page_request(info, "archiveBorrowerBans", first, after, last, before)
        bans, more = await borrowing.bans_page(
            ctx_of(info), request.window(time_id_key), active_only=active_only,
            borrower_id=parse_id(borrower_id, "borrowerId") if borrower_id else None)
        return keyset_connection(request, bans, more, lambda ban: [ban.banned_at, ban.id], ArchiveBorrowerBan.of)


@strawberry.type
class PrivacyRecordMutation:
    @strawberry.mutation(description="Change the tenant's privacy settings (needs tenant.settings.manage); "
                                     "each change is audited.")
    async def privacy_settings_update(self, info: Info, input: PrivacySettingsInput) -> PrivacySettingsPayload:
        async def call() -> dict:
            changes = {f"privacy.{k}": v for k, v in vars(input).items() if v is not None}
            return {"settings": PrivacySettings.of(await assessments.update_privacy_settings(ctx_of(info), changes))}
        return await mutate(info, PrivacySettingsPayload, call)

    @strawberry.mutation(description="Record a customer's consent to purposes under a privacy notice version. "
                                     "sensitive_processing is granted on its own. Needs privacy.consent.manage.")
    async def consent_grant(self, info: Info, customer_id: strawberry.ID, purposes: list[str], notice_version: str,
                            channel: str, evidence: str = "") -> ConsentPayload:
        async def call() -> dict:
            entries = await consent.grant_consent(ctx_of(info), parse_id(customer_id, "customerId"), purposes,
                                                  notice_version=notice_version, channel=channel, evidence=evidence)
            return {"entries": [ConsentEntry.of(e) for e in entries]}
        return await mutate(info, ConsentPayload, call)

    @strawberry.mutation(description="Record a customer's withdrawal of consent for purposes; every later check "
                                     "refuses them. Needs privacy.consent.manage.")
    async def consent_withdraw(self, info: Info, customer_id: strawberry.ID, purposes: list[str], channel: str,
                               evidence: str = "") -> ConsentPayload:
        async def call() -> dict:
            entries = await consent.withdraw_consent(ctx_of(info), parse_id(customer_id, "customerId"), purposes,
                                                     channel=channel, evidence=evidence)
            return {"entries": [ConsentEntry.of(e) for e in entries]}
        return await mutate(info, ConsentPayload, call)

    @strawberry.mutation(description="Record an impact assessment (needs privacy.assessment.manage).")
    async def assessment_create(self, info: Info, input: AssessmentInput) -> AssessmentPayload:
        async def call() -> dict:
            return {"assessment": Assessment.of(await assessments.create_assessment(ctx_of(info), input.fields()))}
        return await mutate(info, AssessmentPayload, call)

    @strawberry.mutation(description="Change an assessment; version is the one you read.")
    async def assessment_update(self, info: Info, id: strawberry.ID, version: int,
                                input: AssessmentInput) -> AssessmentPayload:
        async def call() -> dict:
            view = await assessments.update_assessment(ctx_of(info), parse_id(id, "id"), version=version,
                                                       changes=input.fields())
            return {"assessment": Assessment.of(view)}
        return await mutate(info, AssessmentPayload, call)

    @strawberry.mutation(description="Record an incident; its report falls due the tenant's incident report hours "
                                     "after discovery (needs privacy.incident.manage).")
    async def incident_create(self, info: Info, input: IncidentInput) -> IncidentPayload:
        async def call() -> dict:
            return {"incident": Incident.of(await assessments.create_incident(ctx_of(info), input.fields()))}
        return await mutate(info, IncidentPayload, call)

    @strawberry.mutation(description="Change an incident (measures, reportedAt, subjectsNotifiedAt, …); version is "
                                     "the one you read.")
    async def incident_update(self, info: Info, id: strawberry.ID, version: int, input: IncidentInput) -> IncidentPayload:
        async def call() -> dict:
            view = await assessments.update_incident(ctx_of(info), parse_id(id, "id"), version=version,
                                                     changes=input.fields())
            return {"incident": Incident.of(view)}
        return await mutate(info, IncidentPayload, call)

    @strawberry.mutation(description="Close an incident with its post-incident review (summary, effectiveness, "
                                     "improvements; all required, else INCIDENT_REVIEW_REQUIRED and the incident "
                                     "stays open); version is the one you read (privacy.incident.manage).")
    async def incident_close(self, info: Info, id: strawberry.ID, version: int,
                             review: IncidentReviewInput | None = None) -> IncidentPayload:
        async def call() -> dict:
            parts = {} if review is None else {k: v for k, v in (
                ("summary", review.summary), ("effectiveness", review.effectiveness),
                ("improvements", review.improvements)) if v is not None}
            view = await assessments.close_incident(ctx_of(info), parse_id(id, "id"), version=version, review=parts)
            return {"incident": Incident.of(view)}
        return await mutate(info, IncidentPayload, call)

    @strawberry.mutation(description="Lend a customer's archive to a user (borrowerId) or to a person of an external "
                                     "unit (externalName, externalUnit); due back by dueAt or after the tenant's loan "
                                     "days. Pending until the approvals (privacy setting loanApprovals) and, for an "
                                     "external unit, the signature are in. A banned borrower is refused "
                                     "(BORROWER_BANNED). Needs privacy.archive.lend.")
    async def archive_lend(self, info: Info, customer_id: strawberry.ID, content: str,
                           borrower_id: strawberry.ID | None = None, due_at: datetime | None = None,
                           external_name: str | None = None, external_unit: str | None = None) -> ArchiveLoanPayload:
        async def call() -> dict:
            view = await borrowing.lend_archive(ctx_of(info), parse_id(customer_id, "customerId"),
                                                borrower_id=parse_id(borrower_id, "borrowerId") if borrower_id else None,
                                                content=content, due_at=due_at, external_name=external_name,
                                                external_unit=external_unit)
            return {"loan": ArchiveLoan.of(view)}
        return await mutate(info, ArchiveLoanPayload, call)

    @strawberry.mutation(description="Approve a pending archive loan as the lending side (capacity \"lender\": "
                                     "privacy.archive.approve) or as its custodian (\"custodian\": "
                                     "privacy.archive.keep); two different people, neither the borrower. The loan "
                                     "goes out with the last approval it needs.")
    async def archive_loan_approve(self, info: Info, loan_id: strawberry.ID, capacity: str) -> ArchiveLoanPayload:
        async def call() -> dict:
            return {"loan": ArchiveLoan.of(await borrowing.approve_loan(ctx_of(info), parse_id(loan_id, "loanId"),
                                                                        capacity))}
        return await mutate(info, ArchiveLoanPayload, call)

    @strawberry.mutation(description="Sign a pending loan to a person of an external unit (privacy.archive.external: "
                                     "the general manager or the customer director).")
    async def archive_loan_sign(self, info: Info, loan_id: strawberry.ID) -> ArchiveLoanPayload:
        async def call() -> dict:
            return {"loan": ArchiveLoan.of(await borrowing.sign_external_loan(ctx_of(info),
                                                                              parse_id(loan_id, "loanId")))}
        return await mutate(info, ArchiveLoanPayload, call)

    @strawberry.mutation(description="Record that lent data was lost (kind \"lost\", the loan ends) or damaged "
                                     "(\"damaged\"); the borrower is banned when the tenant bans. Needs "
                                     "privacy.archive.lend.")
    async def archive_loan_incident(self, info: Info, loan_id: strawberry.ID, kind: str,
                                    note: str) -> ArchiveLoanPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            view = await borrowing.record_loan_incident(ctx, parse_id(loan_id, "loanId"), kind, note)
            ban = await borrowing.ban_of_loan(ctx, view.id)
            return {"loan": ArchiveLoan.of(view), "ban": ArchiveBorrowerBan.of(ban) if ban else None}
        return await mutate(info, ArchiveLoanPayload, call)

    @strawberry.mutation(description="The archivist consents to copying items of a lent archive; each item must be one "
                                     "the loan lent (COPY_EXCEEDS_LOAN). Needs privacy.archive.keep.")
    async def archive_copy_approve(self, info: Info, loan_id: strawberry.ID, scope: list[str]) -> ArchiveLoanPayload:
        async def call() -> dict:
            return {"loan": ArchiveLoan.of(await borrowing.approve_copy(ctx_of(info), parse_id(loan_id, "loanId"),
                                                                        scope))}
        return await mutate(info, ArchiveLoanPayload, call)

    @strawberry.mutation(description="Lift a borrower's ban with the reason (audited); never one's own. Needs "
                                     "privacy.archive.ban.lift.")
    async def archive_ban_lift(self, info: Info, id: strawberry.ID, reason: str) -> ArchiveBorrowerBanPayload:
        async def call() -> dict:
            return {"ban": ArchiveBorrowerBan.of(await borrowing.lift_ban(ctx_of(info), parse_id(id, "id"), reason))}
        return await mutate(info, ArchiveBorrowerBanPayload, call)

    @strawberry.mutation(description="Record that a lent archive came back (you are recorded as who took it back).")
    async def archive_return(self, info: Info, loan_id: strawberry.ID) -> ArchiveLoanPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            view = await borrowing.return_archive(ctx, parse_id(loan_id, "loanId"))
            ban = await borrowing.ban_of_loan(ctx, view.id)
            return {"loan": ArchiveLoan.of(view), "ban": ArchiveBorrowerBan.of(ban) if ban else None}
        return await mutate(info, ArchiveLoanPayload, call)
