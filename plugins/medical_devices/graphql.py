"""The vertical's GraphQL fields (root fields ``medicalDevices…``): resolvers only call the use cases
of ``service``. kehu answers ``VERTICAL_NOT_ENABLED`` to a tenant that has not enabled the vertical
and never runs the resolver."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from core.plugins import Connection, KehuError, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.medical_devices import service


def _maybe(value: Any, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


def _id(value: UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(name="MedicalDevicesQualification", description="A customer's qualification document (MD2 a, e).")
class Qualification:
    id: strawberry.ID
    customer_id: strawberry.ID
    kind: str = strawberry.field(description="business_licence | practice_licence | device_operation_licence | "
                                             "tax_registration | special_qualification")
    number: str
    issued_on: str | None
    expires_on: str | None = strawberry.field(description="YYYY-MM-DD; null: it does not expire")
    expired: bool = strawberry.field(description="Past its expiry day in the tenant's time zone.")
    reminded_for: str | None = strawberry.field(description="The expiry a reminder was raised for.")


def _qualification(q: service.QualificationView) -> Qualification:
    return Qualification(id=strawberry.ID(str(q.id)), customer_id=strawberry.ID(str(q.customer_id)), kind=q.kind,
                         number=q.number, issued_on=q.issued_on, expires_on=q.expires_on, expired=q.expired,
                         reminded_for=q.reminded_for)


@strawberry.type(name="MedicalDevicesAdmission", description="A customer's admission into a department (MD1, MD2, MD20).")
class Admission:
    id: strawberry.ID
    customer_id: strawberry.ID
    department_id: strawberry.ID
    customer_type: str
    contract_number: str | None
    verified_by: str = strawberry.field(description="Who verified the customer (MD21 d).")
    verification_note: str
    admitted_at: datetime
    readmission: bool = strawberry.field(description="A return after a blacklist (MD15).")
    readmission_reason: str | None
    grade: str | None = strawberry.field(description="The grade given in the department's customer_grade scheme.")


def _admission(a: service.AdmissionView) -> Admission:
    return Admission(id=strawberry.ID(str(a.id)), customer_id=strawberry.ID(str(a.customer_id)),
                     department_id=strawberry.ID(str(a.department_id)), customer_type=a.customer_type,
                     contract_number=a.contract_number, verified_by=a.verified_by,
                     verification_note=a.verification_note, admitted_at=a.admitted_at, readmission=a.readmission,
                     readmission_reason=a.readmission_reason, grade=a.grade)


@strawberry.type(name="MedicalDevicesChangeNotice", description="A business change or deregistration reported (MD18).")
class ChangeNotice:
    id: strawberry.ID
    kind: str
    channel: str
    received_on: str
    description: str


@strawberry.type(name="MedicalDevicesCustomer", description="A customer's qualifications, admissions and notices.")
class Customer:
    customer_id: strawberry.ID
    qualifications: list[Qualification]
    admissions: list[Admission]
    change_notices: list[ChangeNotice]
    requalification_due: bool = strawberry.field(description="A change was reported after the latest admission (MD18).")


@strawberry.type(name="MedicalDevicesEvent", description="A forum, promotion, trade show or appreciation event (MD26, MD27).")
class Event:
    id: strawberry.ID
    kind: str
    title: str
    department_id: strawberry.ID | None
    planned_on: str
    plan: str
    state: str = strawberry.field(description="planned | approved | held | reported")
    planned_by: str
    approved_by: str | None
    approval_note: str | None
    report: str | None
    reported_by: str | None
    invited_customer_ids: list[strawberry.ID]


def _event(e: service.EventView) -> Event:
    return Event(id=strawberry.ID(str(e.id)), kind=e.kind, title=e.title, department_id=_id(e.department_id),
                 planned_on=e.planned_on, plan=e.plan, state=e.state, planned_by=e.planned_by,
                 approved_by=e.approved_by, approval_note=e.approval_note, report=e.report,
                 reported_by=e.reported_by, invited_customer_ids=[strawberry.ID(str(c)) for c in e.invited])


@strawberry.type(name="MedicalDevicesSale", description="A sale and its after-sale contact (MD29).")
class Sale:
    id: strawberry.ID
    customer_id: strawberry.ID
    department_id: strawberry.ID | None
    reference: str
    sold_on: str
    contacted_at: datetime | None
    contacted_by: str | None
    satisfaction: int | None = strawberry.field(description="1 (very unsatisfied) to 5 (very satisfied).")
    contact_note: str | None


def _sale(s: service.SaleView) -> Sale:
    return Sale(id=strawberry.ID(str(s.id)), customer_id=strawberry.ID(str(s.customer_id)),
                department_id=_id(s.department_id), reference=s.reference, sold_on=s.sold_on,
                contacted_at=s.contacted_at, contacted_by=s.contacted_by, satisfaction=s.satisfaction,
                contact_note=s.contact_note)


@strawberry.input(name="MedicalDevicesFactsInput", description="The facts the grade criteria read (MD4, MD5).")
class FactsInput:
    hospital_level: str | None = strawberry.field(default=None, description="医院等级, e.g. 三级乙等")
    orthopaedic_trauma: bool | None = strawberry.field(default=None, description="An orthopaedic or trauma institution.")
    beds: int | None = None
    annual_business_wan: str | None = strawberry.field(default=None, description="Annual business in 万元 (decimal text).")
    late_payment: bool | None = strawberry.field(default=None, description="A late payment (滞期付款) in the period.")
    overdue_pickup: bool | None = strawberry.field(default=None, description="Goods not collected in time (逾期未提货).")
    customer_type: str | None = None
    long_term_partner: bool | None = strawberry.field(default=None, description="false: declined a long-term partnership.")


@strawberry.type(name="MedicalDevicesAssessment", description="The grade the facts earn, before caps.")
class Assessment:
    grade: str
    reasons: list[str]


@strawberry.type(name="MedicalDevicesGradeHeld")
class GradeHeld:
    scope_key: str = strawberry.field(description="The department's id (MD19).")
    grade: str


@strawberry.type(name="MedicalDevicesArchiveUpdateDue",
                 description="A key customer whose archive is due its quarterly update (AR3, R12-2).")
class ArchiveUpdateDue:
    customer_id: strawberry.ID
    grades: list[GradeHeld]
    last_accepted_at: datetime | None = strawberry.field(description="The latest accepted customer archive; null: none.")
    due_since: datetime | None


def _update_due(d: service.ArchiveUpdateDue) -> ArchiveUpdateDue:
    return ArchiveUpdateDue(customer_id=strawberry.ID(str(d.customer_id)),
                            grades=[GradeHeld(scope_key=k, grade=g) for k, g in d.grades],
                            last_accepted_at=d.last_accepted_at, due_since=d.due_since)


@strawberry.type(name="MedicalDevicesQualificationPayload")
class QualificationPayload:
    qualification: Qualification | None = None
    errors: list[UserError]


@strawberry.type(name="MedicalDevicesAdmitPayload")
class AdmitPayload:
    admission: Admission | None = None
    errors: list[UserError]


@strawberry.type(name="MedicalDevicesChangeNoticePayload")
class ChangeNoticePayload:
    notice: ChangeNotice | None = None
    errors: list[UserError]


@strawberry.type(name="MedicalDevicesEventPayload")
class EventPayload:
    event: Event | None = None
    errors: list[UserError]


@strawberry.type(name="MedicalDevicesSalePayload")
class SalePayload:
    sale: Sale | None = None
    errors: list[UserError]


def _notice(row: Any) -> ChangeNotice:
    return ChangeNotice(id=strawberry.ID(str(row["id"])), kind=row["kind"], channel=row["channel"],
                        received_on=row["received_on"], description=row["description"])


@strawberry.type
class MedicalDevicesQuery:
    @strawberry.field(description="A customer's qualification documents, admissions and change notices.")
    async def medical_devices_customer(self, info: strawberry.Info, customer_id: strawberry.ID) -> Customer | None:
        try:
            found = await service.customer(context(info), parse_id(customer_id, "customer_id"))
        except KehuError as error:
            if error.code == "ID_INVALID":
                return None
            raise
        if found is None:
            return None
        return Customer(customer_id=strawberry.ID(str(found.customer_id)),
                        qualifications=[_qualification(q) for q in found.qualifications],
                        admissions=[_admission(a) for a in found.admissions],
                        change_notices=[_notice(n) for n in found.change_notices],
                        requalification_due=found.requalification_due)

    @strawberry.field(description="Admissions the caller may read, newest first, optionally of one department.")
    async def medical_devices_admissions(self, info: strawberry.Info, department_id: strawberry.ID | None = None,
                                         first: int | None = None, after: str | None = None,
                                         last: int | None = None, before: str | None = None) -> Connection[Admission]:
        request = page_request(info, "medical_devices.admissions", first, after, last, before)
        rows, more = await service.admissions(context(info), request.window(service.admission_key),
                                              department_id=_maybe(department_id, "department_id"))
        return connection(request, rows, more, lambda a: (a.admitted_at, a.id), _admission)

    @strawberry.field(description="Qualification documents expired or expiring within withinDays (default: the "
                                  "tenant's qualification_reminder_days), soonest first.")
    async def medical_devices_qualifications_expiring(
            self, info: strawberry.Info, within_days: int | None = None, first: int | None = None,
            after: str | None = None, last: int | None = None,
            before: str | None = None) -> Connection[Qualification]:
        request = page_request(info, "medical_devices.qualifications_expiring", first, after, last, before)
        rows, more = await service.expiring_qualifications(context(info), request.window(service.qualification_key),
                                                           within_days)
        return connection(request, rows, more, lambda q: (q.expires_on, q.id), _qualification)

    @strawberry.field(description="Forums and promotions the caller may read, by planned day.")
    async def medical_devices_events(self, info: strawberry.Info, state: str | None = None, first: int | None = None,
                                     after: str | None = None, last: int | None = None,
                                     before: str | None = None) -> Connection[Event]:
        request = page_request(info, "medical_devices.events", first, after, last, before)
        rows, more = await service.events(context(info), request.window(service.event_key), state=state)
        return connection(request, rows, more, lambda e: (e.planned_on, e.id), _event)

    @strawberry.field(description="One event; null when the tenant has none of that id.")
    async def medical_devices_event(self, info: strawberry.Info, id: strawberry.ID) -> Event | None:
        try:
            event_id = parse_id(id, "id")
        except KehuError:
            return None
        found = await service.event(context(info), event_id)
        return _event(found) if found else None

    @strawberry.field(description="Sales, oldest first; uncontactedOnly: those without their after-sale contact (MD29).")
    async def medical_devices_sales(self, info: strawberry.Info, uncontacted_only: bool = False,
                                    department_id: strawberry.ID | None = None, first: int | None = None,
                                    after: str | None = None, last: int | None = None,
                                    before: str | None = None) -> Connection[Sale]:
        request = page_request(info, "medical_devices.sales", first, after, last, before)
        rows, more = await service.sales(context(info), request.window(service.sale_key),
                                         uncontacted_only=uncontacted_only,
                                         department_id=_maybe(department_id, "department_id"))
        return connection(request, rows, more, lambda s: (s.sold_on, s.id), _sale)

    @strawberry.field(description="Key customers (VIP or preferred) whose customer archive was not updated within "
                                  "archive_update_months (3: quarterly, AR3, R12-2); those without any first.")
    async def medical_devices_archive_updates_due(
            self, info: strawberry.Info, first: int | None = None, after: str | None = None,
            last: int | None = None, before: str | None = None) -> Connection[ArchiveUpdateDue]:
        request = page_request(info, "medical_devices.archive_updates_due", first, after, last, before)
        rows, more = await service.archive_updates_due(context(info), request.window(service.due_key))
        return connection(request, rows, more, service.due_order, _update_due)

    @strawberry.field(description="The grade these facts earn under the tenant's thresholds (MD4–MD6), before caps.")
    async def medical_devices_grade_assessment(self, info: strawberry.Info, facts: FactsInput) -> Assessment:
        given = {k: v for k, v in vars(facts).items() if v is not None}
        found = await service.assess(context(info), given)
        return Assessment(grade=found.grade, reasons=list(found.reasons))


@strawberry.type
class MedicalDevicesMutation:
    @strawberry.mutation(description="Record a customer's qualification document or replace the one of that kind.")
    async def medical_devices_qualification_record(
            self, info: strawberry.Info, customer_id: strawberry.ID, kind: str, number: str,
            expires_on: str | None = None, issued_on: str | None = None) -> QualificationPayload:
        async def call() -> dict:
            found = await service.record_qualification(context(info), parse_id(customer_id, "customer_id"), kind=kind,
                                                       number=number, expires_on=expires_on, issued_on=issued_on)
            return {"qualification": _qualification(found)}

        return await run_mutation(info, QualificationPayload, call)

    @strawberry.mutation(description="Admit a customer into a department: blacklists first (MD16), then the "
                                     "admission criteria and documents (MD1, MD2); re-admission after a blacklist "
                                     "only at the lowest grade (MD15).")
    async def medical_devices_admit(
            self, info: strawberry.Info, customer_id: strawberry.ID, department_id: strawberry.ID, customer_type: str,
            contract_number: str | None = None, verification_note: str | None = None, illegal_record: bool = False,
            special_products: bool = False, grade: str | None = None,
            readmission_reason: str | None = None) -> AdmitPayload:
        async def call() -> dict:
            found = await service.admit(
                context(info), parse_id(customer_id, "customer_id"), parse_id(department_id, "department_id"),
                customer_type=customer_type, contract_number=contract_number, verification_note=verification_note,
                illegal_record=illegal_record, special_products=special_products, grade=grade,
                readmission_reason=readmission_reason)
            return {"admission": _admission(found)}

        return await run_mutation(info, AdmitPayload, call)

    @strawberry.mutation(description="Record a customer's report of a business change or deregistration (MD18).")
    async def medical_devices_change_notice_record(
            self, info: strawberry.Info, customer_id: strawberry.ID, kind: str, channel: str, received_on: str,
            description: str) -> ChangeNoticePayload:
        async def call() -> dict:
            row = await service.record_change_notice(context(info), parse_id(customer_id, "customer_id"), kind=kind,
                                                     channel=channel, received_on=received_on, description=description)
            return {"notice": _notice(row)}

        return await run_mutation(info, ChangeNoticePayload, call)

    @strawberry.mutation(description="Plan a forum, promotion, trade show or appreciation event (MD26, MD27).")
    async def medical_devices_event_plan(self, info: strawberry.Info, kind: str, title: str, planned_on: str,
                                         plan: str, department_id: strawberry.ID | None = None) -> EventPayload:
        async def call() -> dict:
            found = await service.plan_event(context(info), kind=kind, title=title, planned_on=planned_on, plan=plan,
                                             department_id=_maybe(department_id, "department_id"))
            return {"event": _event(found)}

        return await run_mutation(info, EventPayload, call)

    @strawberry.mutation(description="The marketing division approves the plan (MD27).")
    async def medical_devices_event_approve(self, info: strawberry.Info, id: strawberry.ID,
                                            note: str | None = None) -> EventPayload:
        async def call() -> dict:
            return {"event": _event(await service.advance_event(context(info), parse_id(id, "id"), "approve", text=note))}

        return await run_mutation(info, EventPayload, call)

    @strawberry.mutation(description="The approved event took place.")
    async def medical_devices_event_hold(self, info: strawberry.Info, id: strawberry.ID) -> EventPayload:
        async def call() -> dict:
            return {"event": _event(await service.advance_event(context(info), parse_id(id, "id"), "hold"))}

        return await run_mutation(info, EventPayload, call)

    @strawberry.mutation(description="File the written report after the event (MD27).")
    async def medical_devices_event_report(self, info: strawberry.Info, id: strawberry.ID,
                                           report: str) -> EventPayload:
        async def call() -> dict:
            return {"event": _event(await service.advance_event(context(info), parse_id(id, "id"), "report",
                                                                text=report))}

        return await run_mutation(info, EventPayload, call)

    @strawberry.mutation(description="Invite a customer; a blacklisted one cannot be invited (MD14).")
    async def medical_devices_event_invite(self, info: strawberry.Info, id: strawberry.ID,
                                           customer_id: strawberry.ID) -> EventPayload:
        async def call() -> dict:
            found = await service.invite(context(info), parse_id(id, "id"), parse_id(customer_id, "customer_id"))
            return {"event": _event(found)}

        return await run_mutation(info, EventPayload, call)

    @strawberry.mutation(description="Record a sale to a customer admitted in the department.")
    async def medical_devices_sale_record(self, info: strawberry.Info, customer_id: strawberry.ID,
                                          department_id: strawberry.ID, reference: str, sold_on: str) -> SalePayload:
        async def call() -> dict:
            found = await service.record_sale(context(info), parse_id(customer_id, "customer_id"),
                                              parse_id(department_id, "department_id"), reference=reference,
                                              sold_on=sold_on)
            return {"sale": _sale(found)}

        return await run_mutation(info, SalePayload, call)

    @strawberry.mutation(description="Record the after-sale contact with the customer's satisfaction (MD29).")
    async def medical_devices_sale_contact(self, info: strawberry.Info, id: strawberry.ID, satisfaction: int,
                                           note: str | None = None) -> SalePayload:
        async def call() -> dict:
            found = await service.record_contact(context(info), parse_id(id, "id"), satisfaction=satisfaction, note=note)
            return {"sale": _sale(found)}

        return await run_mutation(info, SalePayload, call)
