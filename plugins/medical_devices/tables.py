"""The medical-devices vertical's own tables (tenant tables: ``id``, ``tenant_id``, ``created_at``
lead their columns; core gives them row-level security on PostgreSQL). Dates a person gives
(a licence's expiry, a sale's date, an event's planned day) are ``YYYY-MM-DD`` text.

- ``medical_devices_qualification``: a customer's qualification documents (MD2 a, e), one current
  document per kind, with its number and expiry; ``reminded_for`` is the expiry a reminder was
  raised for (once per document and expiry).
- ``medical_devices_admission``: each admission of a customer into a department (MD1, MD2, MD20,
  MD21 d: who verified it and what they judged), the grade it was given and whether it was a
  re-admission after a blacklist (MD15).
- ``medical_devices_event`` and ``medical_devices_invitation``: forums and promotions (MD26,
  MD27): plan → approved → held → reported, and the customers invited.
- ``medical_devices_sale``: sales and the after-sale contact with its satisfaction (MD29).
- ``medical_devices_change_notice``: a customer's notice of a business change or deregistration
  (MD18), which calls for re-qualification.
"""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.plugins import TenantTable, tenant_table_migration


class Qualification(TenantTable, tablename="medical_devices_qualification"):
    customer_id = UUID()
    kind = Varchar(length=40)
    number = Varchar(length=100)
    issued_on = Varchar(length=10, null=True, default=None)
    expires_on = Varchar(length=10, null=True, default=None)  # None: the document does not expire
    reminded_for = Varchar(length=10, null=True, default=None)
    recorded_by = Varchar(length=100)
    recorded_at = Timestamptz()
    version = Integer(default=1)


class Admission(TenantTable, tablename="medical_devices_admission"):
    customer_id = UUID()
    department_id = UUID()
    customer_type = Varchar(length=40)
    contract_number = Varchar(length=100, null=True, default=None)
    verified_by = Varchar(length=100)
    verification_note = Text(default="")
    admitted_at = Timestamptz()
    readmission = Boolean(default=False)
    readmission_reason = Text(null=True, default=None)
    grade = Varchar(length=40, null=True, default=None)


class Event(TenantTable, tablename="medical_devices_event"):
    kind = Varchar(length=40)
    title = Varchar(length=200)
    department_id = UUID(null=True, default=None)
    planned_on = Varchar(length=10)
    plan = Text()
    state = Varchar(length=16)  # planned approved held reported
    planned_by = Varchar(length=100)
    approved_by = Varchar(length=100, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    approval_note = Text(null=True, default=None)
    held_at = Timestamptz(null=True, default=None)
    held_by = Varchar(length=100, null=True, default=None)
    report = Text(null=True, default=None)
    reported_by = Varchar(length=100, null=True, default=None)
    reported_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class Invitation(TenantTable, tablename="medical_devices_invitation"):
    event_id = UUID()
    customer_id = UUID()
    invited_by = Varchar(length=100)
    invited_at = Timestamptz()


class Sale(TenantTable, tablename="medical_devices_sale"):
    customer_id = UUID()
    department_id = UUID(null=True, default=None)
    reference = Varchar(length=100)
    sold_on = Varchar(length=10)
    recorded_by = Varchar(length=100)
    contacted_at = Timestamptz(null=True, default=None)
    contacted_by = Varchar(length=100, null=True, default=None)
    satisfaction = Integer(null=True, default=None)
    contact_note = Text(null=True, default=None)


class ChangeNotice(TenantTable, tablename="medical_devices_change_notice"):
    customer_id = UUID()
    kind = Varchar(length=20)  # change | deregistration
    channel = Varchar(length=20)  # written | online
    received_on = Varchar(length=10)
    description = Text()
    recorded_by = Varchar(length=100)


TABLES = (Qualification, Admission, Event, Invitation, Sale, ChangeNotice)

MIGRATIONS = (
    tenant_table_migration(1, "qualification documents", "medical_devices_qualification", [
        "customer_id UUID NOT NULL",
        "kind VARCHAR(40) NOT NULL",
        "number VARCHAR(100) NOT NULL",
        "issued_on VARCHAR(10)",
        "expires_on VARCHAR(10)",
        "reminded_for VARCHAR(10)",
        "recorded_by VARCHAR(100) NOT NULL",
        "recorded_at TIMESTAMPTZ NOT NULL",
        "version INTEGER NOT NULL DEFAULT 1",
    ], unique=(("customer_id", "kind"),), indexes=(("expires_on",),)),
    tenant_table_migration(2, "admissions", "medical_devices_admission", [
        "customer_id UUID NOT NULL",
        "department_id UUID NOT NULL",
        "customer_type VARCHAR(40) NOT NULL",
        "contract_number VARCHAR(100)",
        "verified_by VARCHAR(100) NOT NULL",
        "verification_note TEXT NOT NULL DEFAULT ''",
        "admitted_at TIMESTAMPTZ NOT NULL",
        "readmission BOOLEAN NOT NULL DEFAULT FALSE",
        "readmission_reason TEXT",
        "grade VARCHAR(40)",
    ], indexes=(("customer_id", "department_id"),)),
    tenant_table_migration(3, "forums and promotions", "medical_devices_event", [
        "kind VARCHAR(40) NOT NULL",
        "title VARCHAR(200) NOT NULL",
        "department_id UUID",
        "planned_on VARCHAR(10) NOT NULL",
        "plan TEXT NOT NULL",
        "state VARCHAR(16) NOT NULL",
        "planned_by VARCHAR(100) NOT NULL",
        "approved_by VARCHAR(100)",
        "approved_at TIMESTAMPTZ",
        "approval_note TEXT",
        "held_at TIMESTAMPTZ",
        "held_by VARCHAR(100)",
        "report TEXT",
        "reported_by VARCHAR(100)",
        "reported_at TIMESTAMPTZ",
        "version INTEGER NOT NULL DEFAULT 1",
    ], indexes=(("state",),)),
    tenant_table_migration(4, "event invitations", "medical_devices_invitation", [
        "event_id UUID NOT NULL",
        "customer_id UUID NOT NULL",
        "invited_by VARCHAR(100) NOT NULL",
        "invited_at TIMESTAMPTZ NOT NULL",
    ], unique=(("event_id", "customer_id"),)),
    tenant_table_migration(5, "sales and after-sale contact", "medical_devices_sale", [
        "customer_id UUID NOT NULL",
        "department_id UUID",
        "reference VARCHAR(100) NOT NULL",
        "sold_on VARCHAR(10) NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
        "contacted_at TIMESTAMPTZ",
        "contacted_by VARCHAR(100)",
        "satisfaction INTEGER",
        "contact_note TEXT",
    ], indexes=(("customer_id",), ("contacted_at",))),
    tenant_table_migration(6, "business change notices", "medical_devices_change_notice", [
        "customer_id UUID NOT NULL",
        "kind VARCHAR(20) NOT NULL",
        "channel VARCHAR(20) NOT NULL",
        "received_on VARCHAR(10) NOT NULL",
        "description TEXT NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
    ], indexes=(("customer_id",),)),
)

