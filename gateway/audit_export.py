"""``GET /audit/export``: a range of the audit log as JSON Lines, streamed in batches."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Response, Stream

from core.auditing import service as audit
from core.errors import KehuError
from core.identity.access import require
from gateway.auth import error_response, request_context


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise KehuError("DATE_INVALID", f"{name} is not an ISO 8601 date-time", f"{name} 不是 ISO 8601 时间",
                        field=name) from None


@get("/audit/export", include_in_schema=False)
async def export_audit(request: Request, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None,
                       action: FromQuery[str | None] = None, actor: FromQuery[str | None] = None) -> Response:
    ctx = request_context(request)
    try:
        require(ctx, "audit.read")
        where = audit.AuditFilter(actor=actor, action=action, since=_moment(since, "since"),
                                  until=_moment(until, "until"))
    except KehuError as error:
        return error_response(error)

    async def lines() -> AsyncIterator[bytes]:
        async for entry in audit.export_entries(ctx, where):
            yield (json.dumps(entry.as_json(), ensure_ascii=False) + "\n").encode()

    return Stream(lines(), media_type="application/x-ndjson",
                  headers={"content-disposition": 'attachment; filename="audit.jsonl"'})
