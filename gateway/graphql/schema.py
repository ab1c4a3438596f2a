"""Assembly of the GraphQL schema from core's types and the verticals' types."""

from __future__ import annotations

import contextlib
import copy
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionContext, PreExecutionError
from strawberry.types import Info

import core
from core.errors import KehuError
from core.plugins.manager import VerticalRegistry, load_verticals
from core.plugins.types import VerticalInfo
from core.settings import Settings
from gateway.graphql.archives import ArchiveMutation, ArchiveQuery
from gateway.graphql.attribution import AttributionMutation, AttributionQuery
from gateway.graphql.audit import AuditMutation, AuditQuery
from gateway.graphql.blacklists import BlacklistMutation, BlacklistQuery
from gateway.graphql.calendar import CalendarMutation, CalendarQuery
from gateway.graphql.common import NODE_LOADERS, Node, parse_global_id
from gateway.graphql.complaint_reports import ComplaintReportMutation, ComplaintReportQuery
from gateway.graphql.complaints import ComplaintMutation, ComplaintQuery
from gateway.graphql.customer_jobs import CustomerJobMutation
from gateway.graphql.customers import CustomerMutation, CustomerQuery
from gateway.graphql.delegations import DelegationMutation, DelegationQuery
from gateway.graphql.errors import log_errors
from gateway.graphql.execution import PageExecutionContext
from gateway.graphql.grading import GradingMutation, GradingQuery
from gateway.graphql.identity import IdentityMutation, IdentityQuery
from gateway.graphql.sign_in import SignInMutation, SignInQuery
from gateway.graphql.input_checks import check_inputs
from gateway.graphql.jobs import JobMutation, JobQuery
from gateway.graphql.privacy_access import AccessRequestMutation, AccessRequestQuery
from gateway.graphql.privacy_records import PrivacyRecordMutation, PrivacyRecordQuery
from gateway.graphql.privacy_requests import PrivacyRequestMutation, PrivacyRequestQuery
from gateway.graphql.visits import VisitMutation, VisitQuery
from gateway.graphql.grants import GrantMutation, GrantQuery
from gateway.graphql.governance_faults import FaultMutation, FaultQuery
from gateway.graphql.governance_changes import GovernanceChangeMutation, GovernanceChangeQuery
from gateway.graphql.governance_deletions import GovernanceDeletionMutation, GovernanceDeletionQuery
from gateway.graphql.training import TrainingMutation, TrainingQuery
from gateway.graphql.webhooks import WebhookMutation, WebhookQuery
from gateway.graphql.limits import DocumentGate
from gateway.graphql.verticals import root_types


@strawberry.type(description="An installed vertical plugin (行业插件).")
class Vertical:
    id: str
    name_zh: str
    name_en: str
    version: str

    @classmethod
    def from_info(cls, info: VerticalInfo) -> Vertical:
        return cls(id=info.id, name_zh=info.name_zh, name_en=info.name_en, version=info.version)


@strawberry.type
class MetaQuery:
    @strawberry.field(description="The running kehu version.")
    def version(self) -> str:
        return core.__version__

    @strawberry.field(description="The vertical plugins loaded in this deployment.")
    def verticals(self, info: Info) -> list[Vertical]:
        return [Vertical.from_info(v) for v in info.context.registry.verticals]


# What a lookup says when the object is not the caller's to see (or not of that type): node(id:) then
# answers null, like a missing id. Errors about the caller itself (not signed in) still stand.
_NOT_THIS_NODE = frozenset({"NOT_FOUND", "CUSTOMER_NOT_FOUND", "COMPLAINT_NOT_FOUND", "GRADE_REVIEW_NOT_FOUND", "PERMISSION_DENIED", "VERTICAL_NOT_ENABLED", "ID_INVALID"})


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its id (Relay): the id a Node type gives, or a global id "
                                  "(base64 of \"Type:uuid\"). Null when there is no such object the caller may read.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        try:
            # A raw id names no type: ask each type's own lookup (ids are random UUIDs, unique across tables).
            raw = UUID(str(id))
            candidates = [(load, raw) for load in NODE_LOADERS.values()]
        except ValueError:
            parsed = parse_global_id(str(id))
            if parsed is None or parsed[0] not in NODE_LOADERS:
                return None
            candidates = [(NODE_LOADERS[parsed[0]], parsed[1])]
        for load, object_id in candidates:
            try:
                return await load(info, object_id)
            except KehuError as error:
                if error.code not in _NOT_THIS_NODE:
                    raise
        return None


@strawberry.type
class Query(IdentityQuery, SignInQuery, CustomerQuery, ArchiveQuery, AuditQuery, WebhookQuery, JobQuery, CalendarQuery,
            PrivacyRecordQuery, AccessRequestQuery, PrivacyRequestQuery, ComplaintQuery, ComplaintReportQuery, GradingQuery, MetaQuery,
            BlacklistQuery, VisitQuery, AttributionQuery, DelegationQuery, NodeQuery, FaultQuery, TrainingQuery, GrantQuery,
            GovernanceChangeQuery, GovernanceDeletionQuery):
    pass


@strawberry.type
class Mutation(IdentityMutation, SignInMutation, CustomerMutation, CustomerJobMutation, ArchiveMutation, AuditMutation,
               WebhookMutation, JobMutation, CalendarMutation, PrivacyRecordMutation, AccessRequestMutation,
               PrivacyRequestMutation, ComplaintMutation, ComplaintReportMutation, GradingMutation, BlacklistMutation,
               VisitMutation, AttributionMutation, DelegationMutation, FaultMutation, TrainingMutation, GrantMutation,
               GovernanceChangeMutation, GovernanceDeletionMutation):
    pass


def _aware_datetime(value: str) -> datetime:
    """A moment must say its offset (2026-11-22T09:30:00+08:00): a bare local time is ambiguous
    across the tenants' time zones, and compared with stored UTC times it would fail."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise KehuError("DATETIME_INVALID", f"{value!r} is not an ISO 8601 date and time",
                        f"“{value}”不是 ISO 8601 日期时间") from None
    if parsed.tzinfo is None:
        raise KehuError("DATETIME_OFFSET_REQUIRED", f"{value!r} has no time zone offset; send e.g. {value}+08:00",
                        f"“{value}”缺少时区偏移，请如 {value}+08:00 发送")
    return parsed


AWARE_DATETIME = strawberry.scalar(name="DateTime", serialize=lambda value: value.isoformat(),
                                   parse_value=_aware_datetime,
                                   description="An ISO 8601 date and time with its offset, e.g. 2026-11-22T09:30:00+08:00.")


class _NoHooks(SchemaExtensionsRunner):
    """The extensions runner of a schema without extensions: every phase a shared no-op, the
    answer's extensions what the gate put in the execution context (the cost)."""

    _NOTHING = contextlib.nullcontext()

    def operation(self) -> Any:
        return self._NOTHING

    def validation(self) -> Any:
        return self._NOTHING

    def parsing(self) -> Any:
        return self._NOTHING

    def executing(self) -> Any:
        return self._NOTHING


class KehuSchema(strawberry.Schema):
    """Strawberry's schema with kehu's ``DocumentGate`` in place of parsing and validation."""

    def __init__(self, *args: Any, gate: DocumentGate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_errors(errors)

    def create_extensions_runner(self, execution_context: ExecutionContext,
                                 extensions: list[SchemaExtension]) -> SchemaExtensionsRunner:
        if extensions:
            return super().create_extensions_runner(execution_context, extensions)
        return _NoHooks(execution_context)

    async def _prepare_operation_async(self, context: ExecutionContext,
                                       extensions_runner: SchemaExtensionsRunner) -> PreExecutionError | None:
        """Strawberry's parse, operation-type check and validation, with the gate's bounds, caches
        and cost checks; an exception (a refused document) is answered by ``execute`` as the
        request's one error, as it was from an extension hook."""
        if self.gate is None:
            return await super()._prepare_operation_async(context, extensions_runner)
        if not context.query:
            raise MissingQueryError
        context.graphql_document = self.gate.parse(context.query)
        try:
            operation_type = context.operation_type
        except RuntimeError as error:
            raise CannotGetOperationTypeError(context.operation_name) from error
        if operation_type not in context.allowed_operations:
            raise InvalidOperationTypeError(operation_type)
        errors = await self.gate.admit(context)
        if not errors:
            return None
        context.pre_execution_errors = errors
        return PreExecutionError(data=None, errors=errors)


# The converted schema of each set of GraphQL contributions: converting costs a fifth to a third of
# a second, and an app is built per test, per plugin-harness test, per `kehu schema`. Only the
# extensions (limits and the rate limiter: per-app state) differ between apps on the same types.
_CONVERTED: dict[tuple[Any, ...], KehuSchema] = {}
_CONVERTED_MAX = 8  # a test that builds plugins on the fly makes a new key each time: bounded


def _contributions(registry: VerticalRegistry) -> tuple[Any, ...]:
    return tuple((d.id, tuple((c.query, c.mutation, tuple(c.types)) for c in d.graphql))
                 for d in registry.definitions)


def build_schema(settings: Settings, registry: VerticalRegistry | None = None) -> KehuSchema:
    """Core's types plus the verticals' (``registry``, by default the installed verticals), with
    this app's own limit extensions."""
    if registry is None:
        registry = load_verticals(settings.disabled_plugins)
    key = _contributions(registry)
    converted = _CONVERTED.get(key)
    if converted is None:
        query, mutation, types = root_types(registry, Query, Mutation)
        check_inputs(query, mutation)  # after the verticals' guards, so it runs first
        converted = KehuSchema(query=query, mutation=mutation, types=types, execution_context_class=PageExecutionContext,
                               config=StrawberryConfig(scalar_map={datetime: AWARE_DATETIME}))
        while len(_CONVERTED) >= _CONVERTED_MAX:
            _CONVERTED.pop(next(iter(_CONVERTED)))
        _CONVERTED[key] = converted
    extra_rules = () if settings.introspection_enabled else (NoSchemaIntrospectionCustomRule,)
    schema = copy.copy(converted)  # shares the converted types, which nothing changes after conversion
    schema.gate = DocumentGate(settings, extra_rules)
    return schema
