"""The plugin contract. A vertical imports only this package: ``hookimpl``, the definition types,
``tenant_parameters`` for its GraphQL resolvers, and ``core.plugins.testing`` in its tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.plugins.hookspecs import PROJECT_NAME, hookimpl, hookspec
from core.plugins.types import (
    ArchiveCheck,
    CheckFinding,
    ArchiveDocument,
    ArchiveStandard,
    AttributionDecision,
    AttributionPolicy,
    BlacklistScope,
    ComplaintDeadline,
    ComplaintFlow,
    ComplaintState,
    ComplaintTransition,
    ContractError,
    CustomerField,
    DeadlineUnit,
    DocumentField,
    DocumentFieldKind,
    ErasureMode,
    EscalationStep,
    FieldKind,
    Frequency,
    Grade,
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


async def tenant_parameters(info: Any, vertical_id: str) -> Mapping[str, ParameterValue]:
    """In a vertical's GraphQL resolver: the caller's tenant's effective parameters of
    ``vertical_id`` (defaults overlaid with the tenant's overrides)."""
    from core.verticals.service import vertical_parameters

    return await vertical_parameters(info.context.ctx, info.context.registry, vertical_id)


__all__ = [
    "PROJECT_NAME", "ArchiveCheck", "CheckFinding", "ArchiveDocument", "ArchiveStandard", "AttributionDecision",
    "AttributionPolicy", "BlacklistScope", "ComplaintDeadline", "ComplaintFlow", "ComplaintState",
    "ComplaintTransition", "ContractError", "CustomerField", "DeadlineUnit", "DocumentField", "DocumentFieldKind", "ErasureMode", "EscalationStep", "FieldKind",
    "Frequency", "Grade", "GradingScheme", "GraphQLTypes", "Parameter", "ParameterKind", "ParameterValue",
    "Permission", "PersonalDataTable", "PluginError", "PrivacyClass", "RetentionEnd", "RetentionRule", "SubmissionSchedule",
    "VerticalInfo", "VisitChannel", "VisitPlan", "hookimpl", "hookspec", "tenant_parameters",
]
