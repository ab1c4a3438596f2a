"""One place where every GraphQL error gets its stable code, and unexpected ones are masked.

Masking happens here, at the HTTP edge, rather than in an extension: an exception raised by an
extension skips the other extensions' exit hooks, but every response passes through here.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from graphql import GraphQLError, GraphQLSyntaxError
from litestar import Request, Response
from cross_web import HTTPException  # what Strawberry raises for a bad request body

from core.errors import KehuError
from gateway.request_body import decode_body

MASKED_MESSAGE = "Internal error; quote the request id when reporting it"
# graphql-core's guesses: "… Did you mean 'customer'?", "Did you mean the enum value 'TENANT'?",
# "Did you mean to use an inline fragment on 'X'?"; at the end of a message, or inside one
# ("… unknown field 'statu'. Did you mean 'status'? Found: …"). Names never hold a '?'.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
# Strawberry refuses malformed HTTP bodies with plain text; the codes clients get instead.
_HTTP_CODES = {"Batching is not enabled": "BATCHING_DISABLED", "Unsupported content type": "UNSUPPORTED_CONTENT_TYPE"}
log = structlog.get_logger("kehu.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (KehuError, GraphQLError))


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, KehuError):
        return original.code
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if is_unexpected(error):
        return "INTERNAL_ERROR"
    if isinstance(error, GraphQLSyntaxError):
        # Strawberry's MaxTokensLimiter aborts the parser with a syntax error.
        return "TOO_MANY_TOKENS" if "tokens" in error.message else "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_REQUEST"


def strip_suggestions(message: str) -> str:
    """The message without graphql-core's guesses at names of the schema."""
    return _SUGGESTION.sub("", message) if "Did you mean" in message else message


def shape_error(error: GraphQLError, request_id: str | None, language: str = "en", *,
                suggestions: bool = True) -> dict[str, Any]:
    """The error as the client sees it: a code always, never an internal message; no guessed field
    names unless ``suggestions`` (callers who may not introspect must not learn the schema so)."""
    formatted = error.formatted
    if not suggestions:
        formatted["message"] = strip_suggestions(formatted["message"])
    extensions = dict(formatted.get("extensions") or {})
    extensions["code"] = error_code(error)
    if request_id:
        extensions["requestId"] = request_id
    if is_unexpected(error):
        formatted = {"message": MASKED_MESSAGE, **{k: v for k, v in formatted.items() if k in ("locations", "path")}}
    elif isinstance(error.original_error, KehuError):
        formatted["message"] = error.original_error.message(language)
        if error.original_error.field:
            extensions["field"] = error.original_error.field
    formatted["extensions"] = extensions
    return formatted


def log_errors(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            log.error(
                "graphql.unexpected_error",
                path=error.path,
                error=repr(error.original_error),
                exc_info=error.original_error,
            )
        else:
            log.info("graphql.request_error", code=error_code(error), message=error.message)


def http_error(error: HTTPException, request_id: str | None) -> Response:
    """Strawberry's plain-text refusal of a request body, as a coded GraphQL error; logged."""
    code = getattr(error, "code", None) or _HTTP_CODES.get(
        error.reason, "BAD_REQUEST" if error.status_code == 400 else "HTTP_ERROR")
    log.info("graphql.request_refused", code=code, status=error.status_code, message=error.reason)
    extensions: dict[str, Any] = {"code": code}
    if request_id:
        extensions["requestId"] = request_id
    return Response({"data": None, "errors": [{"message": error.reason, "extensions": extensions}]},
                    status_code=error.status_code)


class CodedHTTPErrors:
    """Mixed into the GraphQL controller: a batch (a JSON list) or a malformed body is refused
    with a code like any other error. Batching stays off: one request, one operation."""

    def decode_json(self, data: str | bytes) -> object:
        # Strawberry's json.loads answers invalid UTF-8, a scalar or a deep body with a 500.
        return decode_body(data)

    async def execute_request(self, request: Request, context: Any, root_value: Any) -> Response:
        try:
            return await self.run(request, context=context, root_value=root_value)  # type: ignore[attr-defined]
        except HTTPException as error:
            return http_error(error, request.scope.get("state", {}).get("request_id"))
