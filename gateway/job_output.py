"""``GET /jobs/{id}/output``: download what a job produced (an export), streamed chunk by chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Response, Stream

from core.errors import KehuError
from core.jobs import long_jobs
from gateway.auth import error_response, request_context


@get("/jobs/{job_id:uuid}/output", include_in_schema=False)
async def download_job_output(request: Request, job_id: FromPath[UUID]) -> Response:
    try:
        output = await long_jobs.open_output(request_context(request), job_id)
    except KehuError as error:
        return error_response(error)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in output.chunks:
            yield chunk if isinstance(chunk, bytes) else chunk.encode()

    return Stream(body(), media_type=output.media_type,
                  headers={"content-disposition": f'attachment; filename="{output.name}"',
                           "content-length": str(output.size)})
