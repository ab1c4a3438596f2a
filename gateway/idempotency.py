"""``Idempotency-Key`` on POST /graphql (issue 17 point 1; docs/integrators.md, Idempotency).

Mixed into the GraphQL controller ahead of everything that executes: a mutation sent with the
header claims the key for (tenant, caller, key) before it runs and stores its response after, so a
retry with the same body gets that response again (``Idempotent-Replayed: true``) and causes no
second effect. Queries ignore the header; so do anonymous callers, whose only mutations are the
sign-in ones, refused below like every credential-issuing mutation.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from functools import lru_cache
from typing import Any

import structlog
from graphql import GraphQLError, OperationType, parse
from graphql.language import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode
from litestar import Request, Response

from core.errors import KehuError
from core.idempotency import policy, service
from gateway.language import of_headers
from gateway.request_body import BodyRefused, decode_body
from gateway.request_id import current_request_id

HEADER = "idempotency-key"
log = structlog.get_logger("kehu.idempotency")


@lru_cache(maxsize=512)
def mutation_fields(query: str, operation_name: str | None) -> tuple[str, ...] | None:
    """The root fields of the mutation this request runs, or None when it runs no mutation (a
    query, or a document execution will refuse anyway: it then has no effect to repeat)."""
    try:
        document: DocumentNode = parse(query, no_location=True)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    from gateway.graphql.limits import root_fields  # here: gateway.graphql imports the app's middleware

    return tuple(field.name.value for field in root_fields(operations[0].selection_set, fragments))


def _refusal(error: KehuError, request: Request) -> Response:
    log.info("idempotency.refused", code=error.code)
    request_id = current_request_id() or request.scope.get("state", {}).get("request_id")
    extensions: dict[str, Any] = {"code": error.code, "field": error.field}
    if request_id:
        extensions["requestId"] = request_id
    return Response({"data": None, "errors": [{"message": error.message(of_headers(request.headers)),
                                               "extensions": extensions}]},
                    status_code=policy.STATUS.get(error.code, 400))


def _replay(stored: service.StoredResponse) -> Response:
    headers = {k: v for k, v in stored.headers.items() if k != "content-type"}
    return Response(stored.body, status_code=stored.status_code,
                    media_type=stored.headers.get("content-type", "application/json"),
                    headers={**headers, policy.REPLAYED_HEADER: "true"})


def _error_codes(response: Response) -> list[str]:
    body = response.content
    if not isinstance(body, bytes) or b'"errors"' not in body:
        return []
    try:
        errors = json.loads(body).get("errors") or []
    except ValueError:
        return []
    return [str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)]


class IdempotentMutations:
    """Controller mixin: ``execute_request`` with the ``Idempotency-Key`` semantics around it."""

    async def execute_request(self, request: Request, context: Any, root_value: Any) -> Response:
        run = super().execute_request  # type: ignore[misc]
        values = request.headers.getall(HEADER, [])
        if not values or request.method != "POST":
            return await run(request, context, root_value)
        try:
            body = decode_body(await request.body())
        except BodyRefused:
            return await run(request, context, root_value)  # refused there, coded; nothing runs
        query = body.get("query") if isinstance(body, dict) else None
        operation_name = body.get("operationName") if isinstance(body, dict) else None
        if not isinstance(query, str) or not isinstance(operation_name, str | None):
            return await run(request, context, root_value)
        fields = mutation_fields(query, operation_name)
        if fields is None:  # queries have no effect to repeat: the header is ignored
            return await run(request, context, root_value)
        ctx = context.ctx
        settings = context.settings
        try:
            key = policy.parse_key(values)
            policy.refuse_credential_mutations(fields)
            if ctx.principal is None:  # no caller to scope the key to; the mutation is refused anyway
                return await run(request, context, root_value)
            outcome = await service.claim_or_wait(ctx, key, policy.body_digest(body),
                                                  ttl=timedelta(hours=settings.idempotency_ttl_hours),
                                                  wait_seconds=settings.idempotency_wait_seconds)
        except KehuError as error:
            return _refusal(error, request)
        if isinstance(outcome, service.StoredResponse):
            log.info("idempotency.replayed", status=outcome.status_code)
            return _replay(outcome)
        try:
            response = await run(request, context, root_value)
        except BaseException:
            await asyncio.shield(self._release(ctx, outcome))
            raise
        if not policy.keeps(response.status_code, _error_codes(response)):
            await self._release(ctx, outcome)
            return response
        headers = {name: response.headers[name] for name in policy.REPLAYED_HEADERS if name in response.headers}
        media_type = str(getattr(response.media_type, "value", response.media_type))
        headers.setdefault("content-type", media_type)
        body_bytes = response.content if isinstance(response.content, bytes) else \
            response.render(response.content, media_type)
        try:
            await service.complete(ctx, outcome, service.StoredResponse(response.status_code, body_bytes, headers))
        except Exception as error:  # noqa: BLE001 - the mutation ran: its answer still goes back
            log.error("idempotency.store_failed", error=repr(error), exc_info=error)
        return response

    @staticmethod
    async def _release(ctx: Any, claim: service.Claim) -> None:
        try:
            await service.release(ctx, claim)
        except Exception as error:  # noqa: BLE001 - the claim then runs out after its lease
            log.error("idempotency.release_failed", error=repr(error), exc_info=error)
