"""The tobacco vertical's GraphQL fields (``tobacco…``): onboarding, settlement and ordering, temporary
and special changes, phone changes and the S21 reports. Resolvers only call the use cases of
``service`` and ``reports``."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from core.plugins import Connection, KehuError, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.tobacco import policy, reports, rules, service


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _enum(name: str, values: Any, description: str) -> Any:
    return strawberry.enum(Enum(name, {v.upper(): v for v in values}), name=name, description=description)


OrderingMethod = _enum("TobaccoOrderingMethod", rules.ORDERING_METHODS, "phone | online (新商盟) | mobile | yixintong (烟信通)")
SettlementMethod = _enum("TobaccoElectronicSettlement", rules.ELECTRONIC_SETTLEMENT, "Electronic settlement (Art7.5)")
SettlementBank = _enum("TobaccoSettlementBank", rules.SETTLEMENT_BANKS, "icbc (工行) | abc (农行) | postal (邮政) | other")
ChangeKind = _enum("TobaccoChangeKind", tuple(policy.SPECIAL_CHANGES), "A special change (Art9–Art14)")
SignOffRole = _enum("TobaccoSignOffRole", policy.SIGN_OFF_ROLES, "Who signs a special change")
TemporaryKind = _enum("TobaccoTemporaryKind", tuple(policy.TEMPORARY_KINDS), "A temporary change (Art8–Art12)")
TemporaryReason = _enum("TobaccoTemporaryReason",
                        tuple(r for reasons in policy.TEMPORARY_KINDS.values() for r in reasons),
                        "Why a temporary change is made")
Report = _enum("TobaccoReport", reports.REPORTS, "An S21 report")
ExportFormat = _enum("TobaccoExportFormat", tuple(reports.FORMATS), "csv | xlsx")


@strawberry.type(name="TobaccoOnboardingStep", description="One onboarding step of a retailer and its deadline (Art7).")
class Step:
    step: str = strawberry.field(description="decide | core | market | display | deferred | importance | "
                                             "quota_approval | password_handover")
    due_at: datetime
    state: str = strawberry.field(description="pending | met | overdue (an SLA breach, kept when fixed later)")
    checked_at: datetime | None
    missing_then: list[str] = strawberry.field(description="Fields missing when it fell due.")
    missing_now: list[str] = strawberry.field(description="Visible fields of the step still empty now.")


@strawberry.type(name="TobaccoOnboarding", description="A licensed retailer's onboarding (S21 Art7).")
class Onboarding:
    customer_id: strawberry.ID
    licence_date: date
    day_one: date = strawberry.field(description="Onboarding working day 1.")
    steps: list[Step]


def _onboarding(found: dict[str, Any]) -> Onboarding:
    return Onboarding(customer_id=strawberry.ID(str(found["customer_id"])),
                      licence_date=date.fromisoformat(found["licence_date"]),
                      day_one=date.fromisoformat(found["day_one"]),
                      steps=[Step(step=s["step"], due_at=s["due_at"], state=s["state"], checked_at=s["checked_at"],
                                  missing_then=list(s["missing_then"]), missing_now=list(s["missing_now"]))
                             for s in found["steps"]])


@strawberry.type(name="TobaccoOverdueStep", description="An onboarding step that fell due with fields missing.")
class OverdueStep:
    id: strawberry.ID
    customer_id: strawberry.ID
    step: str
    due_at: datetime
    checked_at: datetime | None
    missing: list[str]


def _overdue(row: dict[str, Any]) -> OverdueStep:
    return OverdueStep(id=strawberry.ID(str(row["id"])), customer_id=strawberry.ID(str(row["customer_id"])),
                       step=row["step"], due_at=row["due_at"], checked_at=row["checked_at"],
                       missing=[n for n in row["missing"].split(",") if n])


@strawberry.type(name="TobaccoChange", description="A special change (Art9–Art14); the values it sets are personal "
                                                   "data and not shown.")
class ChangeNode:
    id: strawberry.ID
    customer_id: strawberry.ID
    kind: str
    state: str = strawberry.field(description="requested | approved | rejected | executed | filed")
    application_ref: str = strawberry.field(description="The written application's form number.")
    reason: str
    requested_by: str
    requested_at: datetime
    first_role: str | None
    first_by: str | None
    first_at: datetime | None
    second_role: str | None
    second_by: str | None
    second_at: datetime | None
    rejected_by: str | None
    execute_due_at: datetime | None = strawberry.field(description="One working day after both sign-offs.")
    executed_by: str | None
    executed_at: datetime | None
    filed_by: str | None
    filed_at: datetime | None
    filing_required: bool = strawberry.field(description="Filed with the internal-management section (Art12, Art14).")
    visited_at: datetime | None = strawberry.field(description="Internal management's last visit (duplicate phone).")
    visit_due_at: datetime | None = strawberry.field(description="When internal management next visits the customers "
                                                                 "sharing the phone (duplicate_phone_visit_days).")


def _change(row: dict[str, Any]) -> ChangeNode:
    return ChangeNode(id=strawberry.ID(str(row["id"])), customer_id=strawberry.ID(str(row["customer_id"])),
                      kind=row["kind"], state=row["state"], application_ref=row["application_ref"], reason=row["reason"],
                      requested_by=row["requested_by"], requested_at=row["requested_at"], first_role=row["first_role"],
                      first_by=row["first_by"], first_at=row["first_at"], second_role=row["second_role"],
                      second_by=row["second_by"], second_at=row["second_at"], rejected_by=row["rejected_by"],
                      execute_due_at=row["execute_due_at"], executed_by=row["executed_by"],
                      executed_at=row["executed_at"], filed_by=row["filed_by"], filed_at=row["filed_at"],
                      filing_required=policy.SPECIAL_CHANGES[row["kind"]].filed, visited_at=row.get("visited_at"),
                      visit_due_at=row.get("visit_due_at"))


@strawberry.type(name="TobaccoTemporaryChange", description="A temporary change that reverts one working day after "
                                                            "the customer's order (Art8–Art12).")
class TemporaryNode:
    id: strawberry.ID
    customer_id: strawberry.ID
    kind: str
    reason: str
    state: str = strawberry.field(description="applied | ordered | reverted | unreverted")
    applied_at: datetime
    applied_by: str
    ordered_at: datetime | None
    revert_at: datetime | None = strawberry.field(description="When kehu reverts it: the next working day's opening.")
    revert_due_at: datetime | None = strawberry.field(description="Overdue after this: one working day after the order.")
    reverted_at: datetime | None
    failure: str | None = strawberry.field(description="Why it could not revert: changed_since | "
                                                       "customer_not_processable | an error code.")


def _temporary(row: dict[str, Any]) -> TemporaryNode:
    return TemporaryNode(id=strawberry.ID(str(row["id"])), customer_id=strawberry.ID(str(row["customer_id"])),
                         kind=row["kind"], reason=row["reason"], state=row["state"], applied_at=row["applied_at"],
                         applied_by=row["applied_by"], ordered_at=row["ordered_at"], revert_at=row["revert_at"],
                         revert_due_at=row["revert_due_at"], reverted_at=row["reverted_at"], failure=row["failure"])


@strawberry.type(name="TobaccoPhoneChange", description="An order-phone change (the number is not shown).")
class PhoneChangeNode:
    id: strawberry.ID
    customer_id: strawberry.ID
    at: datetime
    kind: str = strawberry.field(description="first | temporary | revert | long_term | duplicate")
    changed_by: str


@strawberry.type(name="TobaccoWatchEntry", description="A customer on the phone-change watch list (Art12).")
class WatchNode:
    customer_id: strawberry.ID
    added_at: datetime
    last_change_at: datetime
    changes: int = strawberry.field(description="Phone changes within the month when last listed.")


@strawberry.type(name="TobaccoPhoneReport", description="A day's phone-change report sent to internal management.")
class PhoneReportNode:
    id: strawberry.ID
    day: date
    changes: int
    produced_at: datetime


@strawberry.type(name="TobaccoMasterDataPayload")
class MasterDataPayload:
    customer_id: strawberry.ID | None = None
    version: int | None = strawberry.field(default=None, description="The customer record's version now.")
    errors: list[UserError]


@strawberry.type(name="TobaccoOnboardingPayload")
class OnboardingPayload:
    onboarding: Onboarding | None = None
    errors: list[UserError]


@strawberry.type(name="TobaccoChangePayload")
class ChangePayload:
    change: ChangeNode | None = None
    errors: list[UserError]


@strawberry.type(name="TobaccoTemporaryChangePayload")
class TemporaryPayload:
    temporary_change: TemporaryNode | None = None
    errors: list[UserError]


@strawberry.type(name="TobaccoOrderPayload")
class OrderPayload:
    waiting_to_revert: int | None = strawberry.field(default=None, description="Temporary changes now set to revert.")
    errors: list[UserError]


@strawberry.type(name="TobaccoReportExportPayload")
class ExportPayload:
    job_id: strawberry.ID | None = strawberry.field(default=None, description="Follow it with job(id:).")
    errors: list[UserError]


def _maybeparse_id(value: Any) -> UUID | None:
    try:
        return parse_id(value, "id")
    except KehuError:
        return None


@strawberry.type
class TobaccoQuery:
    @strawberry.field(description="A retailer's onboarding: each step's deadline and state, what is missing now; null "
                                  "when the customer is not onboarded.")
    async def tobacco_onboarding(self, info: strawberry.Info, customer_id: strawberry.ID) -> Onboarding | None:
        ident = _maybeparse_id(customer_id)
        if ident is None:
            return None
        try:
            return _onboarding(await service.onboarding(context(info), ident))
        except KehuError as error:
            if error.code in ("TOBACCO_RETAILER_NOT_FOUND", "CUSTOMER_NOT_FOUND"):
                return None
            raise

    @strawberry.field(description="Onboarding steps that fell due with fields missing, by due time (S21 Art7).")
    async def tobacco_onboarding_overdue(self, info: strawberry.Info, step: str | None = None, first: int | None = None,
                                         after: str | None = None, last: int | None = None,
                                         before: str | None = None) -> Connection[OverdueStep]:
        request = page_request(info, "tobacco.onboarding_overdue", first, after, last, before)
        rows, more = await reports.onboarding_overdue(context(info), request.window(reports.time_key), step=step)
        return connection(request, rows, more, lambda r: (r["due_at"], r["id"]), _overdue)

    @strawberry.field(description="Temporary changes not reverted within one working day after the order (Art11, "
                                  "Art12).")
    async def tobacco_temporary_changes_unreverted(
            self, info: strawberry.Info, first: int | None = None, after: str | None = None, last: int | None = None,
            before: str | None = None) -> Connection[TemporaryNode]:
        request = page_request(info, "tobacco.temporary_unreverted", first, after, last, before)
        rows, more = await reports.temporary_unreverted(context(info), request.window(reports.time_key))
        return connection(request, rows, more, lambda r: (r["applied_at"], r["id"]), _temporary)

    @strawberry.field(description="A temporary change; null when there is none of that id.")
    async def tobacco_temporary_change(self, info: strawberry.Info, id: strawberry.ID) -> TemporaryNode | None:
        ident = _maybeparse_id(id)
        if ident is None:
            return None
        try:
            return _temporary(await service.temporary_change(context(info), ident))
        except KehuError as error:
            if error.code == "TOBACCO_TEMPORARY_CHANGE_NOT_FOUND":
                return None
            raise

    @strawberry.field(description="The phone-change watch list, latest change first (Art12).")
    async def tobacco_watch_list(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                                 last: int | None = None, before: str | None = None) -> Connection[WatchNode]:
        request = page_request(info, "tobacco.watch_list", first, after, last, before)
        rows, more = await reports.watch_list(context(info), request.window(reports.time_key))
        return connection(request, rows, more, lambda r: (r["last_change_at"], r["id"]),
                          lambda r: WatchNode(customer_id=strawberry.ID(str(r["customer_id"])), added_at=r["added_at"],
                                              last_change_at=r["last_change_at"], changes=r["changes"]))

    @strawberry.field(description="The order-phone changes of a day (the tenant's local day), each once, in time "
                                  "order: the daily report to internal management (Art12).")
    async def tobacco_phone_changes(self, info: strawberry.Info, day: date, first: int | None = None,
                                    after: str | None = None, last: int | None = None,
                                    before: str | None = None) -> Connection[PhoneChangeNode]:
        request = page_request(info, "tobacco.phone_changes", first, after, last, before)
        rows, more = await reports.phone_changes(context(info), day, request.window(reports.time_key))
        return connection(request, rows, more, lambda r: (r["at"], r["id"]),
                          lambda r: PhoneChangeNode(id=strawberry.ID(str(r["id"])),
                                                    customer_id=strawberry.ID(str(r["customer_id"])), at=r["at"],
                                                    kind=r["kind"], changed_by=r["changed_by"]))

    @strawberry.field(description="The daily phone-change reports produced, newest first.")
    async def tobacco_phone_reports(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                                    last: int | None = None, before: str | None = None) -> Connection[PhoneReportNode]:
        request = page_request(info, "tobacco.phone_reports", first, after, last, before)
        rows, more = await reports.phone_reports(context(info), request.window(reports.time_key))
        return connection(request, rows, more, lambda r: (r["produced_at"], r["id"]),
                          lambda r: PhoneReportNode(id=strawberry.ID(str(r["id"])), day=date.fromisoformat(r["day"]), changes=r["changes"],
                                                    produced_at=r["produced_at"]))

    @strawberry.field(description="A special change; null when there is none of that id.")
    async def tobacco_change(self, info: strawberry.Info, id: strawberry.ID) -> ChangeNode | None:
        ident = _maybeparse_id(id)
        if ident is None:
            return None
        try:
            return _change(await service.change(context(info), ident))
        except KehuError as error:
            if error.code == "TOBACCO_CHANGE_NOT_FOUND":
                return None
            raise

    @strawberry.field(description="Special changes, newest first: the duplicate-phone register (kind DUPLICATE_PHONE), "
                                  "the grade-change log (GRADE), approved changes past their execution day (overdue).")
    async def tobacco_changes(self, info: strawberry.Info, kind: ChangeKind | None = None, state: str | None = None,
                              overdue: bool = False, first: int | None = None, after: str | None = None,
                              last: int | None = None, before: str | None = None) -> Connection[ChangeNode]:
        request = page_request(info, "tobacco.changes", first, after, last, before)
        rows, more = await reports.changes(context(info), request.window(reports.time_key),
                                           kind=kind.value if kind else None, state=state, overdue=overdue)
        return connection(request, rows, more, lambda r: (r["requested_at"], r["id"]), _change)


@strawberry.type
class TobaccoMutation:
    @strawberry.mutation(description="A newly licensed retailer (an existing customer) enters onboarding: every step's "
                                     "deadline on the working-day calendar (Art7).")
    async def tobacco_retailer_register(self, info: strawberry.Info, customer_id: strawberry.ID, licence_date: date,
                                        evaluation_on: date | None = None) -> OnboardingPayload:
        async def call() -> dict:
            return {"onboarding": _onboarding(await service.register_retailer(
                context(info), parse_id(customer_id, "customerId"), licence_date, evaluation_on=evaluation_on))}

        return await run_mutation(info, OnboardingPayload, call)

    @strawberry.mutation(description="Maintain master-data fields ({field: value}); a managed field only takes its first "
                                     "value here.")
    async def tobacco_master_data_maintain(self, info: strawberry.Info, customer_id: strawberry.ID,
                                           values: JSON) -> MasterDataPayload:
        async def call() -> dict:
            if not isinstance(values, dict):
                raise KehuError("TOBACCO_INPUT_INVALID", "values is an object {field: value}", "values 须为字段集合",
                                field="values")
            found = await service.maintain(context(info), parse_id(customer_id, "customerId"), values)
            return {"customer_id": _id(found["customer_id"]), "version": found["version"]}

        return await run_mutation(info, MasterDataPayload, call)

    @strawberry.mutation(description="The section chief approves the new customer's scientific quota (Art7.9).")
    async def tobacco_quota_approve(self, info: strawberry.Info, customer_id: strawberry.ID) -> OnboardingPayload:
        async def call() -> dict:
            return {"onboarding": _onboarding(await service.approve_quota(context(info), parse_id(customer_id, "customerId")))}

        return await run_mutation(info, OnboardingPayload, call)

    @strawberry.mutation(description="The 新商盟 password was handed over (Art7.4); the password itself is never sent.")
    async def tobacco_password_handover(self, info: strawberry.Info, customer_id: strawberry.ID) -> OnboardingPayload:
        async def call() -> dict:
            return {"onboarding": _onboarding(await service.hand_over_password(context(info),
                                                                               parse_id(customer_id, "customerId")))}

        return await run_mutation(info, OnboardingPayload, call)

    @strawberry.mutation(description="Electronic settlement on the tripartite agreement: the settlement name equals the "
                                     "licence's legal person, or a power of attorney with the official seal (Art7.5).")
    async def tobacco_settlement_enrol(self, info: strawberry.Info, customer_id: strawberry.ID, method: SettlementMethod,
                                       bank: SettlementBank, card_number: str, settlement_name: str,
                                       sealed_power_of_attorney: bool = False) -> MasterDataPayload:
        async def call() -> dict:
            found = await service.enrol_settlement(context(info), parse_id(customer_id, "customerId"), method=method.value,
                                                   bank=bank.value, card_number=card_number,
                                                   settlement_name=settlement_name,
                                                   sealed_authority=sealed_power_of_attorney)
            return {"customer_id": _id(found["customer_id"]), "version": found["version"]}

        return await run_mutation(info, MasterDataPayload, call)

    @strawberry.mutation(description="Set the ordering method where no special change is needed (a first one, phone to "
                                     "another, online after a mobile or 烟信通 agreement ended; Art11).")
    async def tobacco_ordering_method_set(self, info: strawberry.Info, customer_id: strawberry.ID,
                                          method: OrderingMethod, agreement_until: date | None = None
                                          ) -> MasterDataPayload:
        async def call() -> dict:
            found = await service.set_ordering_method(context(info), parse_id(customer_id, "customerId"),
                                                      method=method.value, agreement_until=agreement_until)
            return {"customer_id": _id(found["customer_id"]), "version": found["version"]}

        return await run_mutation(info, MasterDataPayload, call)

    @strawberry.mutation(description="A temporary change (phone ordering, an order phone, cash) that reverts one working "
                                     "day after the customer's order (Art8–Art12).")
    async def tobacco_temporary_change_apply(self, info: strawberry.Info, customer_id: strawberry.ID,
                                             kind: TemporaryKind, reason: TemporaryReason,
                                             phone: str | None = None) -> TemporaryPayload:
        async def call() -> dict:
            found = await service.apply_temporary(context(info), parse_id(customer_id, "customerId"), kind=kind.value,
                                                  reason=reason.value, phone=phone)
            return {"temporary_change": _temporary(found)}

        return await run_mutation(info, TemporaryPayload, call)

    @strawberry.mutation(description="The customer ordered (from the ordering system): its temporary changes revert from "
                                     "the next working day.")
    async def tobacco_order_record(self, info: strawberry.Info, customer_id: strawberry.ID,
                                   at: datetime) -> OrderPayload:
        async def call() -> dict:
            return {"waiting_to_revert": await service.record_order(context(info), parse_id(customer_id, "customerId"), at)}

        return await run_mutation(info, OrderPayload, call)

    @strawberry.mutation(description="Apply for a special change on the customer's written application; values per kind: "
                                     "SETTLEMENT_BANK {bank, card_number, settlement_name, method?, sealed_authority?}, "
                                     "ORDERING_METHOD {ordering_method, agreement_until?}, LONG_TERM_PHONE and "
                                     "DUPLICATE_PHONE {order_phone}, GRADE {grade}, URGENT_ROUTE {delivery_route?, "
                                     "delivery_sequence?, visit_route?, visit_batch?}, SETTLEMENT_TO_CASH {}.")
    async def tobacco_change_request(self, info: strawberry.Info, customer_id: strawberry.ID, kind: ChangeKind,
                                     application_ref: str, reason: str, values: JSON | None = None) -> ChangePayload:
        async def call() -> dict:
            if values is not None and not isinstance(values, dict):
                raise KehuError("TOBACCO_INPUT_INVALID", "values is an object", "values 须为字段集合", field="values")
            found = await service.request_change(context(info), parse_id(customer_id, "customerId"), kind=kind.value,
                                                 application_ref=application_ref, reason=reason, values=values or {})
            return {"change": _change(found)}

        return await run_mutation(info, ChangePayload, call)

    @strawberry.mutation(description="Sign a special change as one of its two roles, or reject it (approve: false); the "
                                     "applicant never signs, the two sign-offs come from two people.")
    async def tobacco_change_sign(self, info: strawberry.Info, id: strawberry.ID, role: SignOffRole,
                                  approve: bool = True, note: str | None = None) -> ChangePayload:
        async def call() -> dict:
            return {"change": _change(await service.sign_change(context(info), parse_id(id, "id"), role=role.value,
                                                                approve=approve, note=note))}

        return await run_mutation(info, ChangePayload, call)

    @strawberry.mutation(description="Execute a change both signers approved (the analyst; the section chief for a grade).")
    async def tobacco_change_execute(self, info: strawberry.Info, id: strawberry.ID) -> ChangePayload:
        async def call() -> dict:
            return {"change": _change(await service.execute_change(context(info), parse_id(id, "id")))}

        return await run_mutation(info, ChangePayload, call)

    @strawberry.mutation(description="The internal-management section files an executed change.")
    async def tobacco_change_file(self, info: strawberry.Info, id: strawberry.ID) -> ChangePayload:
        async def call() -> dict:
            return {"change": _change(await service.file_change(context(info), parse_id(id, "id")))}

        return await run_mutation(info, ChangePayload, call)

    @strawberry.mutation(description="Export an S21 report as CSV or XLSX (a long job; PHONE_CHANGES needs the day).")
    async def tobacco_report_export(self, info: strawberry.Info, report: Report, format: ExportFormat,
                                    day: date | None = None) -> ExportPayload:
        async def call() -> dict:
            job_id = await reports.start_export(context(info), report.value, format.value, day=day)
            return {"job_id": strawberry.ID(str(job_id))}

        return await run_mutation(info, ExportPayload, call)


# --- the isolation suite's operations (kehu_isolation_operations) ---------------------------------------

_CUSTOMER = ('mutation($mark: String!) { customerCreate(input: {kind: "organisation", orgName: $mark}) '
             '{ customer { id } errors { code } } }')


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    c, t, k, j = "customer", "tobacco_temporary_change", "tobacco_change", "long_job"
    m, e = "tobacco_route_meeting", "tobacco_evaluation"
    cust = (("c", c),)
    return (
        Op(_CUSTOMER, makes=(c, "customer.id")),
        Op('mutation($c: ID!) { tobaccoMasterDataMaintain(customerId: $c, values: {licence_legal_person: "张三", '
           'location: "一号街", quota: 20, order_weekday: 3}) '
           '{ customerId version errors { code } } }', ids=cust),
        Op('mutation($c: ID!) { tobaccoRetailerRegister(customerId: $c, licenceDate: "2026-01-05") '
           '{ onboarding { customerId steps { step dueAt } } errors { code } } }', ids=cust),
        Op("query($c: ID!) { tobaccoOnboarding(customerId: $c) { customerId dayOne steps { step state missingNow } } }",
           ids=cust),
        Op('mutation($c: ID!) { tobaccoQuotaApprove(customerId: $c) { onboarding { customerId } errors { code } } }',
           ids=cust),
        Op('mutation($c: ID!) { tobaccoSettlementEnrol(customerId: $c, method: DEBIT_CARD, bank: ICBC, '
           'cardNumber: "622200000000000001", settlementName: "张三") { customerId version errors { code } } }',
           ids=cust),
        Op('mutation($c: ID!) { tobaccoOrderingMethodSet(customerId: $c, method: ONLINE) '
           '{ customerId version errors { code } } }', ids=cust),
        Op('mutation($c: ID!) { tobaccoPasswordHandover(customerId: $c) { onboarding { customerId } errors { code } } }',
           ids=cust),
        Op('mutation($c: ID!) { tobaccoTemporaryChangeApply(customerId: $c, kind: ORDERING_METHOD, '
           'reason: SYSTEM_FAILURE) { temporaryChange { id customerId } errors { code } } }', ids=cust,
           makes=(t, "temporaryChange.id")),
        Op("query($t: ID!) { tobaccoTemporaryChange(id: $t) { id customerId state } }", ids=(("t", t),)),
        Op('mutation($c: ID!) { tobaccoOrderRecord(customerId: $c, at: "2026-01-05T10:00:00+08:00") '
           '{ waitingToRevert errors { code } } }', ids=cust),
        Op("{ tobaccoTemporaryChangesUnreverted(first: 100) { nodes { id customerId } } }"),
        Op('mutation($c: ID!, $mark: String!) { tobaccoChangeRequest(customerId: $c, kind: URGENT_ROUTE, '
           'applicationRef: $mark, reason: "路线调整", values: {delivery_route: "R2"}) '
           '{ change { id customerId applicationRef } errors { code } } }', ids=cust, makes=(k, "change.id")),
        Op("query($k: ID!) { tobaccoChange(id: $k) { id customerId applicationRef } }", ids=(("k", k),)),
        Op("{ tobaccoChanges(first: 100) { nodes { id customerId applicationRef } } }", lists=(k, "nodes.*.id")),
        # A change is signed by two people other than its applicant and executed once, so the suite (one
        # administrator, each operation repeated) cannot drive them on its own changes; another tenant's change
        # is refused in tests/plugins/tobacco/test_settlement_and_changes.py.
        Op('mutation { tobaccoChangeSign(id: "00000000-0000-0000-0000-000000000000", role: SECTION_CHIEF) '
           '{ change { id state } errors { code } } }'),
        Op('mutation { tobaccoChangeExecute(id: "00000000-0000-0000-0000-000000000000") '
           '{ change { id state } errors { code } } }'),
        Op('mutation { tobaccoChangeFile(id: "00000000-0000-0000-0000-000000000000") '
           '{ change { id state } errors { code } } }'),
        Op("{ tobaccoOnboardingOverdue(first: 100) { nodes { id customerId step } } }"),
        Op("{ tobaccoWatchList(first: 100) { nodes { customerId changes } } }"),
        Op('{ tobaccoPhoneChanges(day: "2026-01-05", first: 100) { nodes { id customerId kind } } }'),
        Op("{ tobaccoPhoneReports(first: 100) { nodes { id day changes } } }"),
        Op("mutation { tobaccoReportExport(report: CHANGES_OVERDUE, format: CSV) { jobId errors { code } } }",
           makes=(j, "jobId")),
        # routes (Art13), grade reviews (Art14), duplicate-phone visits (Art12)
        Op('mutation($mark: String!) { tobaccoRouteMeetingRecord(month: "2026-09", heldOn: "2026-09-29", minutes: $mark) '
           '{ meeting { id month minutes } errors { code } } }', makes=(m, "meeting.id")),
        Op("{ tobaccoRouteMeetings(first: 100) { nodes { id month minutes } } }", lists=(m, "nodes.*.id")),
        Op('{ tobaccoRouteMinutesMissing(from: "2026-01", to: "2026-12") { missingMonths } }'),
        Op('mutation($m: ID!, $c: ID!) { tobaccoRouteChangeApply(meetingId: $m, customerId: $c, '
           'values: {delivery_route: "R5"}) { routeChange { id customerId meetingId } errors { code } } }',
           ids=(("m", m), ("c", c))),
        Op('mutation($c: ID!) { tobaccoDeliveryOrderChange(customerId: $c, sequence: 3, reason: ADDRESS_CHANGE) '
           '{ routeChange { id customerId outcome } errors { code } } }', ids=cust),
        Op("{ tobaccoRouteChanges(first: 100) { nodes { id customerId outcome } } }"),
        Op('mutation($c: ID!) { tobaccoVisitPlanSave(route: "R1", month: "2026-10", visits: [{customerId: $c, '
           'day: "2026-10-12"}]) { plan { id visits { customerId } } errors { code } } }', ids=cust),
        Op('{ tobaccoVisitPlan(route: "R1", month: "2026-10") { id visits { customerId day } } }'),
        Op('mutation { tobaccoGradeEvaluationClose(closedOn: "2026-09-24") { evaluation { id } errors { code } } }',
           makes=(e, "evaluation.id")),
        Op("{ tobaccoGradeEvaluations(first: 100) { nodes { id closedOn } } }", lists=(e, "nodes.*.id")),
        # reviewed once and visited after an executed duplicate-phone change: driven by tests/isolation/operations.py
        Op('mutation { tobaccoGradeReviewComplete(id: "00000000-0000-0000-0000-000000000000", note: "x") '
           '{ evaluation { id } errors { code } } }'),
        Op('mutation { tobaccoDuplicatePhoneVisit(id: "00000000-0000-0000-0000-000000000000") '
           '{ change { id } errors { code } } }'),
    )


ISOLATION_OPERATIONS = _isolation_operations()
