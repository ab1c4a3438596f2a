"""The hooks a vertical plugin may implement. Each is called once, at start; none on a request.

A plugin implements only the hooks it needs, with ``@hookimpl`` from ``core.plugins``. Every hook
takes no arguments and returns definitions from ``core.plugins.types``; the registry validates
them and freezes them. docs/plugins.md documents each hook with this exact signature (a test
keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from core.plugins.types import (
    ArchiveStandard,
    AttributionPolicy,
    ComplaintFlow,
    EventType,
    CustomerField,
    GradingScheme,
    GraphQLTypes,
    Parameter,
    Permission,
    PersonalDataTable,
    VerticalInfo,
    VisitPlan,
)
from core.plugins.tables import IsolationOperation, PluginMigration

PROJECT_NAME = "kehu"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def kehu_vertical_info() -> VerticalInfo:  # type: ignore[empty-body]
    """Return who this vertical is: id (equal to its entry-point name), names, version.

    Required: a plugin without it is refused at start.
    """


@hookspec
def kehu_permissions() -> Iterable[Permission]:  # type: ignore[empty-body]
    """Return the permissions this vertical adds; each name starts with the vertical's id.

    Tenants grant them through roles like core's own (``customer.read``, ``role.grant``, …).
    """


@hookspec
def kehu_parameters() -> Iterable[Parameter]:  # type: ignore[empty-body]
    """Return the parameters a tenant may tune (KPI points, caps, validity periods, deadlines).

    Keys are unique within the vertical; each default lies within its bounds or choices. A
    tenant's overrides are checked against these definitions before they are stored.
    """


@hookspec
def kehu_customer_fields() -> Iterable[CustomerField]:  # type: ignore[empty-body]
    """Return the extension fields this vertical adds to customer records, each with its
    privacy class and validation (length, pattern, choices). Names are unique within the vertical.
    """


@hookspec
def kehu_archive_standards() -> Iterable[ArchiveStandard]:  # type: ignore[empty-body]
    """Return the archive types: required documents in order, check rules (optionally with a
    ``check(archive, parameters)`` policy), submission schedule and retention rules.
    """


@hookspec
def kehu_attribution_policy() -> Iterable[AttributionPolicy]:  # type: ignore[empty-body]
    """Return the policy deciding who owns a customer and how each deal's commission splits:
    ``decide(facts, parameters) -> AttributionDecision``, pure, from the facts core assembles out of
    the attribution ledger (``AttributionFacts``), with the rule, explanation and entries it rests on.
    """


@hookspec
def kehu_grading_schemes() -> Iterable[GradingScheme]:  # type: ignore[empty-body]
    """Return grade scales (best first, with caps), optional scoring policies, review cycles and
    blacklist scopes and durations.
    """


@hookspec
def kehu_complaint_flows() -> Iterable[ComplaintFlow]:  # type: ignore[empty-body]
    """Return complaint flows: categories, severities, states and transitions (every state must
    reach a terminal state), deadlines per severity and escalation steps.
    """


@hookspec
def kehu_visit_plans() -> Iterable[VisitPlan]:  # type: ignore[empty-body]
    """Return visit frequencies by grade or segment, with the channel (on site, phone)."""


@hookspec
def kehu_graphql_types() -> Iterable[GraphQLTypes]:  # type: ignore[empty-body]
    """Return the Strawberry query and mutation classes this vertical adds to the schema.

    Root fields are named with the vertical's id as prefix; each answers ``VERTICAL_NOT_ENABLED``
    to a tenant that has not enabled the vertical.
    """


@hookspec
def kehu_personal_data() -> Iterable[PersonalDataTable]:  # type: ignore[empty-body]
    """Return the vertical's tables holding customers' personal data: table, customer id column,
    personal columns, and whether erasure deletes the rows or anonymises those columns.

    Core erases them with the customer (PIPL art. 47) and puts them in subject-access exports.
    Table names start with the vertical's id.
    """


@hookspec
def kehu_tables() -> Iterable[Any]:  # type: ignore[empty-body]
    """Return the Piccolo table classes of the vertical's own tables, each a subclass of
    ``core.plugins.TenantTable`` (so it has ``tenant_id`` and the unit of work filters it) whose name
    starts with the vertical's id and which one of its migrations creates.
    """


@hookspec
def kehu_migrations() -> Iterable[PluginMigration]:  # type: ignore[empty-body]
    """Return the vertical's migrations, versioned 1, 2, … per vertical, each with its DDL for SQLite
    and PostgreSQL. ``kehu migrate`` applies the pending ones in version order and records them;
    every table of the vertical with a ``tenant_id`` gets core's forced row-level-security policy.
    """


@hookspec
def kehu_isolation_operations() -> Iterable[IsolationOperation]:  # type: ignore[empty-body]
    """Return the GraphQL operations of the vertical that the tenant-isolation suite drives as one
    tenant and then probes with the other tenant's ids.
    """


@hookspec
def kehu_event_types() -> Iterable[EventType]:  # type: ignore[empty-body]
    """Return the event types the vertical emits (``emit``): webhook endpoints may subscribe to
    these by name, like core's. An emitted type that is not declared reaches only ``*`` endpoints.
    """
