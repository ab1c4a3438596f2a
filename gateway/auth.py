"""Authentication at the edge: a bearer access token (users) or an ``X-API-Key`` (integrators)
becomes the request's Principal; a presented but bad credential is refused with 401 at once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Receive, Scope, Send

from core.context import Context
from core.errors import KehuError
from core.identity.sessions import authenticate_access_token, authenticate_api_key
from gateway.language import negotiate

if TYPE_CHECKING:
    from litestar import Request, Response

AUTH_SCOPE_KEY = "auth"


UNGUARDED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes speak plain HTTP inside the cluster


def https_refusal(scope: Scope) -> KehuError | None:
    """CSM-25 (TLS only): a plain-HTTP request is refused where HTTPS is required. ``scheme`` is
    https when the connection is TLS, or when a proxy uvicorn trusts (FORWARDED_ALLOW_IPS) said
    ``X-Forwarded-Proto: https``; an untrusted client's header changes nothing."""
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    if settings is None or not settings.https_required or scope.get("path") in UNGUARDED_PATHS:
        return None
    if scope.get("scheme") == "https":
        return None
    return KehuError("HTTPS_REQUIRED", "this service answers over HTTPS only; nothing was read or changed",
                     "本服务仅通过 HTTPS 提供，未读取或更改任何数据")


async def _refuse(send: Send, error: KehuError, language: str, request_id: str | None) -> None:
    body = {"data": None, "errors": [{"message": error.message(language),
                                      "extensions": {"code": error.code, "requestId": request_id}}]}
    headers = [(b"content-type", b"application/json")]
    if error.code in ("HTTPS_REQUIRED", "NETWORK_NOT_ALLOWED"):
        status = 403
    elif error.code == "DATABASE_UNAVAILABLE":  # the credential could not be checked: retry, not re-sign-in (R5)
        status = 503
        headers.append((b"retry-after", b"1"))
    else:
        status = 401
        headers.append((b"www-authenticate", b'Bearer realm="kehu"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body, ensure_ascii=False).encode()})


def authentication_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        refusal = https_refusal(scope)
        if refusal is not None:  # before any credential is looked at
            await _refuse(send, refusal, negotiate(headers.get("accept-language", "")),
                          scope.get("state", {}).get("request_id"))
            return
        authorization = headers.get("authorization", "")
        api_key = headers.get("x-api-key", "")
        principal = None
        try:
            if authorization[:7].lower() == "bearer ":
                principal = await authenticate_access_token(authorization[7:].strip())
            elif api_key:
                client = scope.get("client")
                principal = await authenticate_api_key(api_key.strip(), client[0] if client else None,
                                                       scope.get("state", {}).get("request_id"))
            elif authorization:
                raise KehuError("TOKEN_INVALID", "use 'Authorization: Bearer <token>' or 'X-API-Key: <key>'",
                                "请使用 Authorization: Bearer <令牌> 或 X-API-Key: <密钥>")
        except KehuError as error:
            language = negotiate(headers.get("accept-language", ""))
            await _refuse(send, error, language, scope.get("state", {}).get("request_id"))
            return
        scope[AUTH_SCOPE_KEY] = principal  # type: ignore[typeddict-unknown-key]
        await app(scope, receive, send)

    return middleware


def request_context(request: Request) -> Context:
    """The service context of a plain HTTP route (downloads): the caller, or anonymous."""
    principal = request.scope.get(AUTH_SCOPE_KEY)
    request_id = request.scope.get("state", {}).get("request_id")
    client = request.client.host if request.client else None
    if principal is None:
        return Context.anonymous(request_id=request_id, client_address=client)
    return Context.for_principal(principal, request_id=request_id, client_address=client)


def error_response(error: KehuError) -> Response:
    """A coded error of a plain HTTP route, with the status HTTP clients expect."""
    from litestar.response import Response

    status = {"UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
              "DATABASE_UNAVAILABLE": 503}.get(error.code, 400)
    return Response({"errors": [{"message": error.message_en, "extensions": {"code": error.code}}]},
                    status_code=status)
