"""The tobacco vertical's tables (its migrations 1–13). The master data itself are customer extension
fields (rules.MASTER_FIELDS); these tables hold the work around them:

- ``tobacco_retailer``: a licensed retailer's onboarding (licence day, working day 1);
- ``tobacco_deadline``: one row per onboarding step and retailer with its due time; the sweep reads
  only the rows falling due (index on state, due_at), so its cost follows the due fields (Art7);
- ``tobacco_change``: special changes with their written application, two sign-offs, execution and
  filing (Art9–Art14);
- ``tobacco_temporary_change``: temporary switches reverted one working day after the order (Art8,
  Art9, Art11, Art12);
- ``tobacco_phone_change``, ``tobacco_phone_key``, ``tobacco_watch``, ``tobacco_phone_report``: every
  order-phone change, the blind index of each retailer's order phone (duplicate check), the watch
  list and the daily reports to the internal-management section (Art12);
- ``tobacco_route_meeting``, ``tobacco_route_change``, ``tobacco_visit_plan``: the monthly
  route-optimisation minutes, the route changes made after them and the delivery-order changes
  (address changes refused and reported), the visit-sale plans per route and month (Art13);
- ``tobacco_evaluation``: grade evaluations and the review due three working days after (Art14).

Personal values (an order phone a temporary change replaced, a change's requested phone or card) are
sealed with the tenant's data key (``sealed`` columns); nothing here holds a value in clear.
"""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.plugins import PluginMigration, TenantTable, tenant_table_migration


class Retailer(TenantTable, tablename="tobacco_retailer"):
    customer_id = UUID()
    licence_date = Varchar(length=10)  # YYYY-MM-DD
    day_one = Varchar(length=10)  # onboarding working day 1
    evaluation_on = Varchar(length=10, null=True, default=None)  # a grade evaluation inside onboarding
    registered_by = Varchar(length=100)
    registered_at = Timestamptz()


class Deadline(TenantTable, tablename="tobacco_deadline"):
    customer_id = UUID()
    step = Varchar(length=24)  # rules.STEP_KEYS
    due_at = Timestamptz()
    state = Varchar(length=16)  # pending | met | overdue
    checked_at = Timestamptz(null=True, default=None)
    missing = Text(default="")  # field names missing when it fell due, comma-separated


class Change(TenantTable, tablename="tobacco_change"):
    customer_id = UUID()
    kind = Varchar(length=24)  # policy.SPECIAL_CHANGES
    state = Varchar(length=16)  # requested | approved | rejected | executed | filed
    application_ref = Varchar(length=100)  # the written application (form number)
    reason = Text()
    sealed = Text()  # the requested values, sealed
    requested_by = Varchar(length=100)
    requested_at = Timestamptz()
    first_role = Varchar(length=24, null=True, default=None)
    first_by = Varchar(length=100, null=True, default=None)
    first_at = Timestamptz(null=True, default=None)
    second_role = Varchar(length=24, null=True, default=None)
    second_by = Varchar(length=100, null=True, default=None)
    second_at = Timestamptz(null=True, default=None)
    rejected_by = Varchar(length=100, null=True, default=None)
    execute_due_at = Timestamptz(null=True, default=None)
    executed_by = Varchar(length=100, null=True, default=None)
    executed_at = Timestamptz(null=True, default=None)
    filed_by = Varchar(length=100, null=True, default=None)
    filed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    visited_at = Timestamptz(null=True, default=None)  # internal management's last visit (duplicate phone)


class TemporaryChange(TenantTable, tablename="tobacco_temporary_change"):
    customer_id = UUID()
    kind = Varchar(length=24)  # ordering_method | order_phone | settlement_method
    reason = Varchar(length=32)
    sealed = Text()  # {"original": …, "temporary": …}, sealed
    state = Varchar(length=16)  # applied | ordered | reverted | unreverted
    applied_by = Varchar(length=100)
    applied_at = Timestamptz()
    ordered_at = Timestamptz(null=True, default=None)
    revert_at = Timestamptz(null=True, default=None)  # the tick reverts from then on
    revert_due_at = Timestamptz(null=True, default=None)  # one working day after the order (Art11)
    reverted_at = Timestamptz(null=True, default=None)
    failure = Varchar(length=40, null=True, default=None)  # why it could not revert


class PhoneChange(TenantTable, tablename="tobacco_phone_change"):
    customer_id = UUID()
    at = Timestamptz()
    kind = Varchar(length=16)  # temporary | revert | long_term | duplicate | first
    source_id = UUID(null=True, default=None)  # the temporary or special change
    changed_by = Varchar(length=100)


class PhoneKey(TenantTable, tablename="tobacco_phone_key"):
    customer_id = UUID()
    digest = Varchar(length=120)


class Watch(TenantTable, tablename="tobacco_watch"):
    customer_id = UUID()
    added_at = Timestamptz()
    last_change_at = Timestamptz()
    changes = Integer()  # phone changes within the month when last added


class PhoneReport(TenantTable, tablename="tobacco_phone_report"):
    day = Varchar(length=10)
    changes = Integer()
    produced_at = Timestamptz()
    complete = Boolean(default=True)


class RouteMeeting(TenantTable, tablename="tobacco_route_meeting"):
    month = Varchar(length=7)  # YYYY-MM: one route-optimisation meeting a month (Art13)
    held_on = Varchar(length=10)
    minutes = Text()
    recorded_by = Varchar(length=100)
    recorded_at = Timestamptz()


class RouteChange(TenantTable, tablename="tobacco_route_change"):
    customer_id = UUID()
    meeting_id = UUID(null=True, default=None)
    kind = Varchar(length=16)  # meeting | delivery_order
    reason = Varchar(length=24)
    note = Text(default="")
    outcome = Varchar(length=24)  # applied | refused_reported
    late = Boolean(default=False)
    changed_by = Varchar(length=100)
    at = Timestamptz()


class VisitPlanRow(TenantTable, tablename="tobacco_visit_plan"):
    route = Varchar(length=40)
    month = Varchar(length=7)
    entries = Text()  # JSON [[customer id, YYYY-MM-DD], …]
    saved_by = Varchar(length=100)
    saved_at = Timestamptz()
    version = Integer(default=1)


class Evaluation(TenantTable, tablename="tobacco_evaluation"):
    closed_on = Varchar(length=10)  # the day the grade evaluation ended (Art14)
    review_due_at = Timestamptz()
    reviewed_at = Timestamptz(null=True, default=None)
    reviewed_by = Varchar(length=100, null=True, default=None)
    note = Text(default="")
    recorded_by = Varchar(length=100)


TABLES = (Retailer, Deadline, Change, TemporaryChange, PhoneChange, PhoneKey, Watch, PhoneReport, RouteMeeting,
          RouteChange, VisitPlanRow, Evaluation)

_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(1, "licensed retailers", "tobacco_retailer", [
        "customer_id UUID NOT NULL", "licence_date VARCHAR(10) NOT NULL", "day_one VARCHAR(10) NOT NULL",
        "evaluation_on VARCHAR(10)", f"registered_by {_WHO} NOT NULL", "registered_at TIMESTAMPTZ NOT NULL",
    ], unique=(("customer_id",),)),
    tenant_table_migration(2, "onboarding deadlines", "tobacco_deadline", [
        "customer_id UUID NOT NULL", "step VARCHAR(24) NOT NULL", "due_at TIMESTAMPTZ NOT NULL",
        "state VARCHAR(16) NOT NULL", "checked_at TIMESTAMPTZ", "missing TEXT NOT NULL DEFAULT ''",
    ], unique=(("customer_id", "step"),), indexes=(("state", "due_at"),)),
    tenant_table_migration(3, "special changes", "tobacco_change", [
        "customer_id UUID NOT NULL", "kind VARCHAR(24) NOT NULL", "state VARCHAR(16) NOT NULL",
        "application_ref VARCHAR(100) NOT NULL", "reason TEXT NOT NULL", "sealed TEXT NOT NULL",
        f"requested_by {_WHO} NOT NULL", "requested_at TIMESTAMPTZ NOT NULL",
        "first_role VARCHAR(24)", f"first_by {_WHO}", "first_at TIMESTAMPTZ",
        "second_role VARCHAR(24)", f"second_by {_WHO}", "second_at TIMESTAMPTZ", f"rejected_by {_WHO}",
        "execute_due_at TIMESTAMPTZ", f"executed_by {_WHO}", "executed_at TIMESTAMPTZ",
        f"filed_by {_WHO}", "filed_at TIMESTAMPTZ", "version INTEGER NOT NULL DEFAULT 1",
    ], indexes=(("customer_id", "requested_at"), ("state", "execute_due_at"), ("kind", "state"))),
    tenant_table_migration(4, "temporary changes", "tobacco_temporary_change", [
        "customer_id UUID NOT NULL", "kind VARCHAR(24) NOT NULL", "reason VARCHAR(32) NOT NULL",
        "sealed TEXT NOT NULL", "state VARCHAR(16) NOT NULL", f"applied_by {_WHO} NOT NULL",
        "applied_at TIMESTAMPTZ NOT NULL", "ordered_at TIMESTAMPTZ", "revert_at TIMESTAMPTZ",
        "revert_due_at TIMESTAMPTZ", "reverted_at TIMESTAMPTZ", "failure VARCHAR(40)",
    ], indexes=(("customer_id", "state"), ("state", "revert_at"), ("state", "revert_due_at"))),
    tenant_table_migration(5, "order-phone changes", "tobacco_phone_change", [
        "customer_id UUID NOT NULL", "at TIMESTAMPTZ NOT NULL", "kind VARCHAR(16) NOT NULL", "source_id UUID",
        f"changed_by {_WHO} NOT NULL",
    ], indexes=(("at",), ("customer_id", "at"))),
    tenant_table_migration(6, "order-phone blind index", "tobacco_phone_key", [
        "customer_id UUID NOT NULL", "digest VARCHAR(120) NOT NULL",
    ], unique=(("customer_id",),), indexes=(("digest",),)),
    tenant_table_migration(7, "phone-change watch list", "tobacco_watch", [
        "customer_id UUID NOT NULL", "added_at TIMESTAMPTZ NOT NULL", "last_change_at TIMESTAMPTZ NOT NULL",
        "changes INTEGER NOT NULL",
    ], unique=(("customer_id",),), indexes=(("last_change_at",),)),
    tenant_table_migration(8, "daily phone-change reports", "tobacco_phone_report", [
        "day VARCHAR(10) NOT NULL", "changes INTEGER NOT NULL", "produced_at TIMESTAMPTZ NOT NULL",
        "complete BOOLEAN NOT NULL DEFAULT TRUE",
    ], unique=(("day",),)),
    tenant_table_migration(9, "route-optimisation meetings", "tobacco_route_meeting", [
        "month VARCHAR(7) NOT NULL", "held_on VARCHAR(10) NOT NULL", "minutes TEXT NOT NULL",
        f"recorded_by {_WHO} NOT NULL", "recorded_at TIMESTAMPTZ NOT NULL",
    ], unique=(("month",),)),
    tenant_table_migration(10, "route and delivery-order changes", "tobacco_route_change", [
        "customer_id UUID NOT NULL", "meeting_id UUID", "kind VARCHAR(16) NOT NULL", "reason VARCHAR(24) NOT NULL",
        "note TEXT NOT NULL DEFAULT ''", "outcome VARCHAR(24) NOT NULL", "late BOOLEAN NOT NULL DEFAULT FALSE",
        f"changed_by {_WHO} NOT NULL", "at TIMESTAMPTZ NOT NULL",
    ], indexes=(("at",), ("outcome", "at"), ("customer_id", "at")),
        references=(("meeting_id", "tobacco_route_meeting"),)),
    tenant_table_migration(11, "visit-sale plans", "tobacco_visit_plan", [
        "route VARCHAR(40) NOT NULL", "month VARCHAR(7) NOT NULL", "entries TEXT NOT NULL",
        f"saved_by {_WHO} NOT NULL", "saved_at TIMESTAMPTZ NOT NULL", "version INTEGER NOT NULL DEFAULT 1",
    ], unique=(("route", "month"),)),
    tenant_table_migration(12, "grade evaluations and their reviews", "tobacco_evaluation", [
        "closed_on VARCHAR(10) NOT NULL", "review_due_at TIMESTAMPTZ NOT NULL", "reviewed_at TIMESTAMPTZ",
        f"reviewed_by {_WHO}", "note TEXT NOT NULL DEFAULT ''", f"recorded_by {_WHO} NOT NULL",
    ], indexes=(("review_due_at",),)),
    PluginMigration(13, "internal management's visits to customers sharing a phone",
                    sqlite=["ALTER TABLE tobacco_change ADD COLUMN visited_at TIMESTAMPTZ"],
                    postgres=["ALTER TABLE tobacco_change ADD COLUMN visited_at TIMESTAMPTZ"]),
)
