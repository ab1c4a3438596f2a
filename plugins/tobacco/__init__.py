"""The tobacco retail vertical (seed 001 S21 客户基础信息管理规定, seed 000 part 4.3 customer managers).

- ``rules``: permissions, parameters, the master-data fields in Art2's six groups, onboarding steps;
- ``policy``: the pure rules (deadlines on the working-day calendar, name match, sign-offs, reverts);
- ``service``: one function per use case; ``reports``: the S21 report lists, exports and tick work;
- ``tables``: the vertical's own tables; ``graphql``: its ``tobacco…`` fields.

docs/tobacco.md maps every article to what enforces it.
"""

from core.plugins import EventType, GraphQLTypes, PersonalDataTable, VerticalInfo, hookimpl
from plugins.tobacco import reports, rules, tables  # noqa: F401 (reports registers the ticks and the export job)
from plugins.tobacco.graphql import ISOLATION_OPERATIONS, TobaccoMutation, TobaccoQuery
from plugins.tobacco.routes_graphql import RoutesMutation, RoutesQuery

VERSION = "0.3.0"

EVENT_TYPES = (
    EventType("tobacco.retailer_registered", "customer", "licence_date, deadlines",
              "a licensed retailer enters onboarding (Art7)"),
    EventType("tobacco.onboarding_overdue", "tobacco_deadline", "state, missing",
              "an onboarding step fell due with fields missing (Art7)"),
    EventType("tobacco.quota_approved", "customer", "quota", "the section chief approved the quota (Art7.9)"),
    EventType("tobacco.settlement_enrolled", "customer", "settlement_method, settlement_bank, card_number, "
              "settlement_name", "electronic settlement enrolled (Art7.5)"),
    EventType("tobacco.ordering_method_set", "customer", "ordering_method", "the ordering method set (Art7.4, Art11)"),
    EventType("tobacco.temporary_change_applied", "tobacco_temporary_change", "state", "a temporary change made"),
    EventType("tobacco.temporary_change_reverted", "tobacco_temporary_change", "state", "a temporary change reverted"),
    EventType("tobacco.temporary_change_unreverted", "tobacco_temporary_change", "state, failure",
              "a temporary change could not revert (Art11, Art12)"),
    EventType("tobacco.change_requested", "tobacco_change", "state", "a special change applied for"),
    EventType("tobacco.change_signed", "tobacco_change", "state", "a special change signed"),
    EventType("tobacco.change_rejected", "tobacco_change", "state", "a special change rejected"),
    EventType("tobacco.change_executed", "tobacco_change", "state", "a special change executed"),
    EventType("tobacco.change_filed", "tobacco_change", "state", "a special change filed with internal management"),
    EventType("tobacco.watch_listed", "customer", "changes", "a customer changed phone twice within a month (Art12)"),
    EventType("tobacco.route_meeting_recorded", "tobacco_route_meeting", "month, minutes",
              "a month's route-optimisation minutes recorded (Art13)"),
    EventType("tobacco.route_changed", "tobacco_route_change", "the route fields set",
              "a change agreed in the route meeting maintained (Art13)"),
    EventType("tobacco.delivery_order_changed", "tobacco_route_change", "outcome", "a delivery order changed (Art13)"),
    EventType("tobacco.address_change_reported", "tobacco_route_change", "outcome",
              "a delivery-order change for an address change refused and reported to internal management (Art13)"),
    EventType("tobacco.visit_plan_saved", "tobacco_visit_plan", "entries", "a route's visit-sale plan saved (Art13)"),
    EventType("tobacco.grade_evaluation_closed", "tobacco_evaluation", "review_due_at",
              "a grade evaluation ended; its review is due in three working days (Art14)"),
    EventType("tobacco.grade_review_completed", "tobacco_evaluation", "reviewed_at", "a grade evaluation reviewed"),
    EventType("tobacco.phone_changes_reported", "tobacco_phone_report", "day, changes",
              "a day's phone-change report to the internal-management section (Art12)"),
)

PERSONAL_DATA = (
    PersonalDataTable("tobacco_change", "customer_id", ("sealed",)),
    PersonalDataTable("tobacco_temporary_change", "customer_id", ("sealed",)),
    PersonalDataTable("tobacco_phone_key", "customer_id", ("digest",)),
)


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="tobacco", name_zh="烟草零售", name_en="Tobacco retail", version=VERSION)


@hookimpl
def kehu_permissions():
    return rules.PERMISSIONS


@hookimpl
def kehu_parameters():
    return rules.PARAMETERS


@hookimpl
def kehu_customer_fields():
    return rules.CUSTOMER_FIELDS


@hookimpl
def kehu_grading_schemes():
    return rules.GRADING


@hookimpl
def kehu_visit_plans():
    return rules.VISITS


@hookimpl
def kehu_tables():
    return tables.TABLES


@hookimpl
def kehu_migrations():
    return tables.MIGRATIONS


@hookimpl
def kehu_graphql_types():
    return [GraphQLTypes(query=TobaccoQuery, mutation=TobaccoMutation),
            GraphQLTypes(query=RoutesQuery, mutation=RoutesMutation)]


@hookimpl
def kehu_event_types():
    return EVENT_TYPES


@hookimpl
def kehu_personal_data():
    return PERSONAL_DATA


@hookimpl
def kehu_isolation_operations():
    return ISOLATION_OPERATIONS

