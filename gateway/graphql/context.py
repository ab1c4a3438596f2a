"""The per-request GraphQL context: the caller's service context plus what resolvers need."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from strawberry.litestar import BaseContext

from core.context import Context
from gateway.auth import AUTH_SCOPE_KEY
from gateway.language import negotiate
from core.plugins.manager import VerticalRegistry
from core.settings import Settings


class GraphQLContext(BaseContext, kw_only=True):
    ctx: Context
    settings: Settings
    registry: VerticalRegistry
    # DataLoaders of this request, made on first use (gateway.graphql.loaders)
    loaders: dict[str, Any] = msgspec.field(default_factory=dict)


def _language(request: Request) -> str:
    return negotiate(request.headers.get("accept-language", ""))


async def get_context(request: Request, response: Response, root_value: Any) -> GraphQLContext:
    """Litestar dependency; ``root_value`` is asked for only to order resolution (see gateway.app)."""
    state = request.app.state
    principal = request.scope.get(AUTH_SCOPE_KEY)
    meta = {"request_id": request.scope.get("state", {}).get("request_id"),
            "client_address": request.client.host if request.client else None, "language": _language(request)}
    ctx = Context.for_principal(principal, **meta) if principal else Context.anonymous(**meta)
    return GraphQLContext(ctx=ctx, settings=state.settings, registry=state.registry, request=request,
                          response=response)
