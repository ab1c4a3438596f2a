"""GraphQL for customer imports and exports: each starts a job to watch with ``job(id)``."""

from __future__ import annotations

import base64
import binascii

import strawberry
from strawberry.types import Info

from core.customers import exporting, importing
from core.errors import KehuError
from core.jobs import service as job_service
from gateway.graphql.common import ctx_of, mutate, parse_id
from gateway.graphql.jobs import Job, JobPayload


def _decode(file: str) -> bytes:
    if len(file) > importing.MAX_FILE_BYTES * 4 // 3 + 4:
        raise KehuError("IMPORT_FILE_TOO_LARGE", f"the file is larger than {importing.MAX_FILE_BYTES} bytes",
                        f"文件超过 {importing.MAX_FILE_BYTES} 字节", field="file")
    try:
        return base64.b64decode(file, validate=True)
    except (binascii.Error, ValueError):
        raise KehuError("FILE_ENCODING_INVALID", "file must be the file's bytes in base64", "file 须为文件内容的 base64",
                        field="file") from None


@strawberry.type
class CustomerJobMutation:
    @strawberry.mutation(description="Import customers from a CSV or XLSX file (base64, at most 10 MiB) in a "
                                     "background job; mode all-or-nothing or skip-bad-rows; dryRun checks and writes "
                                     "nothing. The job's output is the report of bad rows (CSV: line, field, code, "
                                     "message). Needs customer.import.")
    async def customer_import_start(self, info: Info, file: str, filename: str = "import.csv",
                                    mode: str = importing.SKIP_BAD_ROWS, dry_run: bool = False) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await importing.start_import(ctx, _decode(file), filename, mode=mode, dry_run=dry_run)
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)

    @strawberry.mutation(description="Export, as csv or xlsx in the import's columns, the customers your approved "
                                     "access request covers (its filter and columns, within what you may read) in a "
                                     "background job; the request is used by it. Personal values are masked unless "
                                     "you hold customer.pii.unmask. Get the file with customerExportLink. Needs "
                                     "customer.export.")
    async def customer_export_start(self, info: Info, access_request_id: strawberry.ID,
                                    format: str = "csv") -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await exporting.start_export(ctx, parse_id(access_request_id, "accessRequestId"), fmt=format)
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)
