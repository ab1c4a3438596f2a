"""GraphQL for per-tenant verticals, and the merging of the verticals' own types into the schema.

Every root field a vertical contributes is guarded: the resolver runs only for a caller whose
tenant has enabled that vertical; anyone else gets ``VERTICAL_NOT_ENABLED``.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.tools import merge_types
from strawberry.types import Info

from core.plugins.manager import VerticalRegistry
from core.plugins.types import decimal_text
from core.verticals import service
from gateway.graphql.common import UserError, ctx_of, mutate


def _json(value: Any) -> Any:
    """A parameter value for JSON: a decimal as its exact decimal text ("12.50"), never a float."""
    return decimal_text(value) if isinstance(value, Decimal) else value


@strawberry.type(description="A parameter of a vertical as the caller's tenant has it.")
class VerticalParameter:
    key: str
    kind: str = strawberry.field(description="integer | decimal | boolean | text | choice")
    value: JSON = strawberry.field(description="The effective value: the tenant's override or the default.")
    default: JSON
    overridden: bool
    minimum: float | None
    maximum: float | None
    unit: str
    choices: list[str]
    help_en: str
    help_zh: str

    @classmethod
    def of(cls, state: service.ParameterState) -> VerticalParameter:
        p = state.definition
        return cls(key=p.key, kind=p.kind.value, value=_json(state.value), default=_json(p.default),
                   overridden=state.overridden,
                   minimum=p.minimum, maximum=p.maximum, unit=p.unit, choices=list(p.choices), help_en=p.help_en,
                   help_zh=p.help_zh)


@strawberry.type(description="An installed vertical plugin and whether the caller's tenant has enabled it.")
class TenantVertical:
    id: str
    name_zh: str
    name_en: str
    plugin_version: str
    enabled: bool
    version: int = strawberry.field(description="The tenant's settings version; pass it as expectedVersion.")
    parameters: list[VerticalParameter]

    @classmethod
    def of(cls, view: service.TenantVertical) -> TenantVertical:
        info = view.definition.info
        return cls(id=info.id, name_zh=info.name_zh, name_en=info.name_en, plugin_version=info.version,
                   enabled=view.enabled, version=view.version,
                   parameters=[VerticalParameter.of(p) for p in view.parameters])


@strawberry.input
class VerticalParameterInput:
    key: str
    value: JSON | None = strawberry.field(default=None, description="null restores the default.")


@strawberry.type
class TenantVerticalPayload:
    vertical: TenantVertical | None = None
    errors: list[UserError]


def _registry(info: Info) -> VerticalRegistry:
    return info.context.registry


@strawberry.type
class VerticalQuery:
    @strawberry.field(description="The installed verticals with the caller's tenant's enablement and parameters.")
    async def tenant_verticals(self, info: Info) -> list[TenantVertical]:
        return [TenantVertical.of(v) for v in await service.tenant_verticals(ctx_of(info), _registry(info))]


@strawberry.type
class VerticalMutation:
    @strawberry.mutation(description="Enable an installed vertical for your tenant (needs vertical.manage).")
    async def vertical_enable(self, info: Info, vertical_id: str) -> TenantVerticalPayload:
        async def call() -> dict:
            return {"vertical": TenantVertical.of(await service.enable_vertical(ctx_of(info), _registry(info),
                                                                                vertical_id))}
        return await mutate(info, TenantVerticalPayload, call)

    @strawberry.mutation(description="Disable a vertical for your tenant; its parameters are kept.")
    async def vertical_disable(self, info: Info, vertical_id: str) -> TenantVerticalPayload:
        async def call() -> dict:
            return {"vertical": TenantVertical.of(await service.disable_vertical(ctx_of(info), _registry(info),
                                                                                 vertical_id))}
        return await mutate(info, TenantVerticalPayload, call)

    @strawberry.mutation(description="Override parameters of an enabled vertical; each value is checked "
                                     "against the vertical's definition and audited with old and new value.")
    async def vertical_parameters_update(self, info: Info, vertical_id: str, parameters: list[VerticalParameterInput],
                                         expected_version: int | None = None) -> TenantVerticalPayload:
        async def call() -> dict:
            changes = {p.key: p.value for p in parameters}
            view = await service.update_vertical_parameters(ctx_of(info), _registry(info), vertical_id, changes,
                                                            expected_version=expected_version)
            return {"vertical": TenantVertical.of(view)}
        return await mutate(info, TenantVerticalPayload, call)


class VerticalGuard(FieldExtension):
    """Runs the field only when the caller's tenant has enabled ``vertical_id``."""

    def __init__(self, vertical_id: str) -> None:
        self.vertical_id = vertical_id

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        await service.require_enabled(ctx_of(info), self.vertical_id)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


def _guard(vertical_id: str, root: type) -> type:
    for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if not any(isinstance(e, VerticalGuard) and e.vertical_id == vertical_id for e in field.extensions):
            field.extensions.append(VerticalGuard(vertical_id))
    return root


def root_types(registry: VerticalRegistry, query: type, mutation: type) -> tuple[type, type, list[type]]:
    """Core's roots merged with ``VerticalQuery``/``VerticalMutation`` and every enabled-or-not
    vertical's contributions (guarded), plus the extra types verticals register."""
    queries, mutations, extra = [query, VerticalQuery], [mutation, VerticalMutation], []
    for definition in registry.definitions:
        for contribution in definition.graphql:
            if contribution.query is not None:
                queries.append(_guard(definition.id, contribution.query))
            if contribution.mutation is not None:
                mutations.append(_guard(definition.id, contribution.mutation))
            extra.extend(contribution.types)
    return merge_types("Query", tuple(queries)), merge_types("Mutation", tuple(mutations)), extra
