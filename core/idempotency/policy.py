"""The pure rules of idempotent mutations (the IETF draft httpapi-idempotency-key-header): what
a key may be, what makes two requests "the same", which mutations cannot be replayed, and which
responses are kept. No I/O here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import KehuError

MAX_KEY_LENGTH = 255

# Their responses hold a fresh credential (tokens, an API key, a webhook signing secret). A
# replay would hand the same credential out again from storage, and replaying a rotated refresh
# token would defeat reuse detection; retrying them without a key is safe (a second credential,
# which can be revoked), so a key on them is refused rather than silently ignored.
CREDENTIAL_MUTATIONS = frozenset({"login", "tokenRefresh", "apiKeyCreate", "webhookEndpointCreate"})

# Response headers a replay repeats; the others (request id, rate limits) describe the new request.
REPLAYED_HEADERS = ("content-type", "content-language")
REPLAYED_HEADER = "Idempotent-Replayed"

# A response with one of these codes did not complete: the key is released, a retry runs again.
RELEASING_CODES = frozenset({"INTERNAL_ERROR", "RATE_LIMITED"})


def parse_key(values: Iterable[str]) -> str:
    """The key of the ``Idempotency-Key`` header's values: one value, 1-255 printable ASCII
    characters, either bare or as a Structured Field string (``"…"``) as the draft writes it."""
    values = list(values)
    if len(values) != 1:
        raise _invalid("send exactly one Idempotency-Key header", "只能发送一个 Idempotency-Key 请求头")
    key = values[0].strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise _invalid(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                       f"Idempotency-Key 必须是 1 至 {MAX_KEY_LENGTH} 个可打印 ASCII 字符")
    return key


def _invalid(en: str, zh: str) -> KehuError:
    return KehuError("IDEMPOTENCY_KEY_INVALID", en, zh, field="Idempotency-Key")


def body_digest(body: Mapping[str, Any]) -> str:
    """SHA-256 of the request's canonical form: its query text, variables and operation name as
    JSON with sorted keys, so key order and whitespace of the JSON body do not matter (the query
    text itself must be the same)."""
    canonical = json.dumps({"query": body.get("query"), "variables": body.get("variables") or {},
                            "operationName": body.get("operationName") or None},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def refuse_credential_mutations(fields: Iterable[str]) -> None:
    issuing = sorted(set(fields) & CREDENTIAL_MUTATIONS)
    if issuing:
        raise KehuError(
            "IDEMPOTENCY_KEY_NOT_SUPPORTED",
            f"{', '.join(issuing)} issues a credential and cannot be replayed: send it without Idempotency-Key",
            f"{', '.join(issuing)} 会签发凭据，不能重放：请不带 Idempotency-Key 发送",
            field="Idempotency-Key")


def keeps(status_code: int, error_codes: Iterable[str]) -> bool:
    """Whether a first response is stored for replays. A server error, a rate-limit refusal or an
    unexpected error did not (knowingly) complete, so its key is released and a retry runs again;
    any other answer, coded refusals included, is the request's answer and is replayed."""
    if status_code >= 500 or status_code == 429:
        return False
    return not RELEASING_CODES.intersection(error_codes)


def reused() -> KehuError:
    return KehuError("IDEMPOTENCY_KEY_REUSED",
                     "this Idempotency-Key was used with another request body; use a new key for a new request",
                     "此 Idempotency-Key 已用于另一个请求体；新的请求请使用新的键", field="Idempotency-Key")


def in_progress() -> KehuError:
    return KehuError("IDEMPOTENCY_KEY_IN_PROGRESS",
                     "a request with this Idempotency-Key is still running; retry later",
                     "使用此 Idempotency-Key 的请求仍在处理中，请稍后重试", field="Idempotency-Key")


# HTTP status of each refusal (the draft: 400 for a bad key, 422 for a reused one, 409 while the
# first request runs).
STATUS = {"IDEMPOTENCY_KEY_INVALID": 400, "IDEMPOTENCY_KEY_NOT_SUPPORTED": 400,
          "IDEMPOTENCY_KEY_REUSED": 422, "IDEMPOTENCY_KEY_IN_PROGRESS": 409, "DATABASE_UNAVAILABLE": 503}
