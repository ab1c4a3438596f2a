"""Strict decoding of request bodies, and the coded answer to anything that still escapes.

A GraphQL body must be one UTF-8 JSON object (a list is a batch, refused by the controller),
nested no deeper than ``MAX_BODY_DEPTH``. Strawberry's own decoding answers a scalar body, bytes
that are not UTF-8 or a very deep body with an uncoded 500 and no log line; here each is a coded
400 (``BODY_INVALID_UTF8``, ``BODY_NOT_AN_OBJECT``, ``BODY_TOO_DEEP``, ``BODY_NOT_JSON``) that the
controller logs with the request id.

The depth is bounded at the edge because a deep value inside a JSON scalar would be stored and
then fail whoever decodes it later, deeper in a call stack. The checks run in C-speed passes
(``json.loads``, one regular expression, ``bytes.translate``, ``itertools.accumulate``): a body
of the largest allowed size is checked in milliseconds.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate, repeat
from typing import Any

import structlog
from cross_web import HTTPException  # what Strawberry's views catch and answer
from litestar import Request, Response

from gateway.request_id import current_request_id

MAX_BODY_DEPTH = 64  # arrays and objects inside each other; a real request needs a handful
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string, escapes included (the body parsed)
_OPENERS = bytes(range(256)).translate(bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00"))
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Escapes of UTF-16 surrogates: valid in pairs, but JSON lets a lone one through.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
log = structlog.get_logger("kehu.http")


class BodyRefused(HTTPException):
    """A request body refused with a code; HTTP 400."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(400, reason)
        self.code = code


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw``, a body that parses as JSON."""
    brackets = _STRING.sub(b'""', raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    # '[' and '{' count +1, ']' and '}' count -1: the deepest running sum is the depth.
    return max(accumulate(map(int.__sub__, brackets.translate(_OPENERS), repeat(1))))


def decode_body(raw: bytes | str) -> Any:
    """The JSON object (or list: a batch) of a request body; raises BodyRefused otherwise."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused("BODY_INVALID_UTF8", "the request body is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BodyRefused("BODY_TOO_DEEP", f"the request body nests deeper than {MAX_BODY_DEPTH} levels") from None
    except ValueError:
        raise BodyRefused("BODY_NOT_JSON", "Unable to parse request body as JSON") from None
    if not isinstance(data, dict | list):
        raise BodyRefused("BODY_NOT_AN_OBJECT", "the request body must be a JSON object")
    if raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH and nesting_depth(raw) > MAX_BODY_DEPTH:
        raise BodyRefused("BODY_TOO_DEEP", f"the request body nests deeper than {MAX_BODY_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(raw):
        try:  # a lone surrogate cannot be encoded: it is no text, and would fail whoever stores it
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BodyRefused("BODY_INVALID_UTF8", "the request body holds an unpaired surrogate escape") from None
    return data


def _coded(code: str, message: str, status: int, request: Request) -> Response:
    request_id = current_request_id() or request.scope.get("state", {}).get("request_id")
    extensions = {"code": code, **({"requestId": request_id} if request_id else {})}
    return Response({"data": None, "errors": [{"message": message, "extensions": extensions}]}, status_code=status)


def body_too_large(request: Request, exc: Exception) -> Response:
    """Litestar's 413 for a body over ``KEHU_REQUEST_MAX_BODY_BYTES``, coded and logged."""
    log.info("http.request_refused", code="BODY_TOO_LARGE", status=413)
    return _coded("BODY_TOO_LARGE", "the request body is larger than the server accepts", 413, request)


def internal_error(request: Request, exc: Exception) -> Response:
    """Litestar's answer to an exception no handler caught: coded, masked and logged with the
    request id (Litestar's own is uncoded and, with kehu's logging, silent)."""
    from gateway.graphql.errors import MASKED_MESSAGE  # errors imports this module

    # The handler's name, not the path: a path may carry a credential (a download link).
    handler = getattr(request.scope.get("route_handler"), "handler_name", None)
    log.error("http.unexpected_error", method=request.method, handler=handler, error=repr(exc), exc_info=exc)
    return _coded("INTERNAL_ERROR", MASKED_MESSAGE, 500, request)
