"""Assembly of the GraphQL schema from core's types and the verticals' types."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.types import Info

import core
from core.plugins.manager import VerticalRegistry, load_verticals
from core.plugins.types import VerticalInfo
from core.settings import Settings
from gateway.graphql.audit import AuditMutation, AuditQuery
from gateway.graphql.calendar import CalendarMutation, CalendarQuery
from gateway.graphql.customer_jobs import CustomerJobMutation
from gateway.graphql.customers import CustomerMutation, CustomerQuery
from gateway.graphql.errors import log_errors
from gateway.graphql.execution import PageExecutionContext
from gateway.graphql.identity import IdentityMutation, IdentityQuery
from gateway.graphql.jobs import JobMutation, JobQuery
from gateway.graphql.webhooks import WebhookMutation, WebhookQuery
from gateway.graphql.limits import limit_extensions
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


@strawberry.type
class Query(IdentityQuery, CustomerQuery, AuditQuery, WebhookQuery, JobQuery, CalendarQuery, MetaQuery):
    pass


@strawberry.type
class Mutation(IdentityMutation, CustomerMutation, CustomerJobMutation, AuditMutation, WebhookMutation, JobMutation,
               CalendarMutation):
    pass


class KehuSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_errors(errors)


def build_schema(settings: Settings, registry: VerticalRegistry | None = None) -> KehuSchema:
    """Core's types plus the verticals' (``registry``, by default the installed verticals)."""
    if registry is None:
        registry = load_verticals(settings.disabled_plugins)
    extra_rules = () if settings.introspection_enabled else (NoSchemaIntrospectionCustomRule,)
    query, mutation, types = root_types(registry, Query, Mutation)
    return KehuSchema(query=query, mutation=mutation, types=types, extensions=limit_extensions(settings, extra_rules),
                      execution_context_class=PageExecutionContext)
