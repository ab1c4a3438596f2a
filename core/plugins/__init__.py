"""The plugin contract. A vertical imports only this package: ``hookimpl``, the definition types,
its tables' base class and migrations (``TenantTable``, ``PluginMigration``,
``tenant_table_migration``), the services its resolvers, jobs and policies may use
(``core.plugins.services``: unit of work, coded errors, audit, outbox, permission checks, the
tenant's parameters and working-day calendar, tick work and long jobs), and
``core.plugins.testing`` in its tests. docs/plugins.md documents each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.plugins.hookspecs import PROJECT_NAME, hookimpl, hookspec
from core.plugins.types import (
    ArchiveCheck,
    CheckFinding,
    ArchiveDocument,
    ArchiveStandard,
    DIRECT_RELATIONS,
    AttributionDecision,
    AttributionFacts,
    AttributionPolicy,
    DealSplit,
    LedgerEntry,
    LedgerKind,
    RelatedLedger,
    Relation,
    BlacklistScope,
    ComplaintDeadline,
    ComplaintFlow,
    ComplaintState,
    ComplaintTransition,
    ContractError,
    EventType,
    CustomerField,
    DeadlineUnit,
    DocumentField,
    DocumentFieldKind,
    ErasureMode,
    EscalationStep,
    FieldKind,
    Frequency,
    Grade, GradeCriterion, GradeScope,
    GradingScheme,
    GraphQLTypes,
    Parameter,
    ParameterKind,
    ParameterValue,
    Permission,
    PersonalDataTable,
    PluginError,
    PrivacyClass,
    RetentionEnd,
    RetentionRule,
    SubmissionSchedule,
    VerticalInfo,
    VisitChannel,
    VisitPlan,
)
from core.plugins.complaint_flows import (  # the complaint engine's flow contract
    ComplaintFlowDefinition,
    Escalate,
    FlowBranch,
    FlowRole,
    FlowState,
    FlowTimer,
    FlowTransition,
    Limit,
    LimitUnit,
    NotifyFirstResponder,
    Numbering,
    RecordKind,
    Remind,
    ResetPeriod,
    calendar_days,
    hours,
    minutes,
    working_days,
)
from core.plugins.months import add_months, months_after
from core.plugins.tables import IsolationOperation, PluginMigration, TenantTable, tenant_table_migration
from core.errors import KehuError

# The services (core.plugins.services), loaded on first use: they reach into core's database, audit
# and jobs, which themselves import this contract.
_SERVICES = frozenset({
    "Duration", "TenantCalendar", "Event", "RunningJob", "Scope", "context", "emit", "long_job", "may_reach", "on_event", "record",
    "require_permission", "run_mutation", "submit_job", "tenant_calendar", "tick", "unit_of_work",
    "assign_grade", "customer_grade", "customer_record", "customers_out_of_processing", "lowest_grade", "refuse_if_blacklisted", "was_blacklisted",
    "archives_accepted", "department_exists", "graded_customers", "page_request", "fetch_page", "connection",
    "record_ledger_entry", "attribution_decision", "attribution_owners", "ledger_entries",
    "send_customer_sms", "tenant_user", "user_names",
    "customer_extensions", "update_customer_extensions", "customers_with_extensions", "seal", "unseal", "blind_index",
    "blind_indexes",
    "archive_loan_breaches",
})


def __getattr__(name: str) -> Any:
    if name in _SERVICES:
        from core.plugins import services

        return getattr(services, name)
    if name == "parse_id":  # an argument's id: a raw UUID or a global id (base64 of "Type:uuid"); ID_INVALID else
        from gateway.graphql.common import parse_id
        return parse_id
    if name == "UserError":  # the payload error type of kehu's mutations (field, code, message)
        from gateway.graphql.common import UserError

        return UserError
    if name == "Connection":  # a page of a root list (Relay): edges { cursor node }, nodes, pageInfo
        from gateway.graphql.common import Connection

        return Connection
    raise AttributeError(f"module 'core.plugins' has no attribute {name!r}")


async def tenant_parameters(info: Any, vertical_id: str, registry: Any = None) -> Mapping[str, ParameterValue]:
    """The caller's tenant's effective parameters of ``vertical_id`` (defaults overlaid with the
    tenant's overrides): pass a resolver's ``info``, or a ``Context`` (in a tick or a job)."""
    from core.plugins.services import tenant_parameters as parameters

    return await parameters(info, vertical_id, registry)


__all__ = [
    "ComplaintFlowDefinition", "Escalate", "FlowBranch", "FlowRole", "FlowState", "FlowTimer", "FlowTransition", "Limit", "LimitUnit", "NotifyFirstResponder", "Numbering", "RecordKind", "Remind", "ResetPeriod", "calendar_days", "hours", "minutes", "working_days",
    "PROJECT_NAME", "ArchiveCheck", "CheckFinding", "ArchiveDocument", "ArchiveStandard", "AttributionDecision",
    "AttributionPolicy", "AttributionFacts", "DealSplit", "LedgerEntry", "LedgerKind", "RelatedLedger", "Relation",
    "DIRECT_RELATIONS", "add_months", "months_after", "BlacklistScope", "ComplaintDeadline", "ComplaintFlow", "ComplaintState",
    "ComplaintTransition", "ContractError", "CustomerField", "EventType", "DeadlineUnit", "DocumentField", "DocumentFieldKind", "ErasureMode", "EscalationStep", "FieldKind",
    "Frequency", "Grade", "GradeCriterion", "GradeScope", "GradingScheme", "GraphQLTypes", "Parameter", "ParameterKind", "ParameterValue",
    "Permission", "PersonalDataTable", "PluginError", "PrivacyClass", "RetentionEnd", "RetentionRule", "SubmissionSchedule",
    "VerticalInfo", "VisitChannel", "VisitPlan", "hookimpl", "hookspec", "tenant_parameters",
    "IsolationOperation", "KehuError", "PluginMigration", "TenantTable", "tenant_table_migration", "UserError", "Connection", "parse_id",
    *sorted(_SERVICES),
]
