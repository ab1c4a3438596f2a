"""Downloads: ``GET /jobs/{id}/output`` streams what a job produced (audit exports, import
reports) to its requester; ``GET /exports/{link id}`` streams a customer export, decrypted on the
server, to the signed-in user the link was issued to, once (issue 16 point 4: no credential in a
URL, so an access log or a copied link gives nothing away)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Response, Stream

from core.customers import exporting
from core.errors import KehuError
from core.jobs import service as job_service
from gateway.auth import error_response, request_context

# A customer export's stored file is ciphertext: only its requester, signed in, opens it through a link.
LINK_STATUS = {"EXPORT_LINK_EXPIRED": 410, "EXPORT_LINK_USED": 410, "EXPORT_LINK_GONE": 410,
               "EXPORT_LINK_INVALID": 404, "EXPORT_LINK_REQUESTER_ONLY": 403, "EXPORT_LINK_REQUIRED": 403}


def _refusal(error: KehuError) -> Response:
    if error.code not in LINK_STATUS:
        return error_response(error)
    return Response({"errors": [{"message": error.message_en, "extensions": {"code": error.code}}]},
                    status_code=LINK_STATUS[error.code])


@get("/jobs/{job_id:uuid}/output", include_in_schema=False)
async def download_job_output(request: Request, job_id: FromPath[UUID]) -> Response:
    ctx = request_context(request)
    try:
        if (await job_service.get_job(ctx, job_id)).kind == exporting.EXPORT_JOB:
            raise KehuError("EXPORT_LINK_REQUIRED", "download customer exports through customerExportLink",
                            "客户导出文件须通过 customerExportLink 获取的链接下载")
        output = await job_service.open_output(ctx, job_id)
    except KehuError as error:
        return _refusal(error)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in output.chunks:
            yield chunk if isinstance(chunk, bytes) else chunk.encode()

    return Stream(body(), media_type=output.media_type,
                  headers={"content-disposition": f'attachment; filename="{output.name}"',
                           "content-length": str(output.size)})


@get("/exports/{link:str}", include_in_schema=False)
async def download_export(request: Request, link: FromPath[str]) -> Response:
    try:
        download = await exporting.open_link(request_context(request), exporting.parse_link_id(link))
    except KehuError as error:
        return _refusal(error)
    return Stream(download.chunks, media_type=download.media_type,
                  headers={"content-disposition": f'attachment; filename="{download.name}"',
                           "content-length": str(download.size), "cache-control": "no-store"})
