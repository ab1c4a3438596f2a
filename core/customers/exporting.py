"""Exporting customers as CSV or XLSX, in the import's columns (an export re-imports), through a
long job, under an approved access request (core.privacy.access_requests).

- The export covers exactly the request's scope (its filter and columns) within the requester's
  read scope; personal values are masked for a requester without ``customer.pii.unmask``
  (core.privacy.masking, the one place for every path out). It is audited with its row count.
- The file is stored only encrypted (AES-GCM, in framed segments) under a per-file key that is
  in no table: it is derived from the app's signing secret and a random salt, and handed out only
  inside a signed download link (HS256, its own audience) that expires after the tenant's
  ``export_link_hours``. Each download is audited.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import secrets
import struct
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.audit.chain import record
from core.context import Context
from core.customers import service
from core.customers.importing import STANDARD_COLUMNS, _acting, _current_registry
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.access import require
from core.identity.tables import User
from core.jobs import long_jobs
from core.jobs.tables import JobOutputChunk, LongJob
from core.privacy import access_requests
from core.privacy.masking import UNMASK_PERMISSION, for_reader
from core.tenancy.tables import Department

EXPORT_JOB = "customer.export"
FORMATS = ("csv", "xlsx")
PAGE = 500
MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SEGMENT = 64 * 1024  # plaintext bytes per encrypted segment
_FRAME = struct.Struct(">IB")  # sealed length, final flag
OVERHEAD = _FRAME.size + 12 + 16  # frame header, nonce, GCM tag
LINK_AUDIENCE = "kehu:export-link"
LINK_TYPE = "kehu-export+jwt"


def now() -> datetime:
    return datetime.now(UTC)


# --- keys: derived from the app's signing keys, never stored ---------------------------------------

def _signing_seeds() -> dict[str, bytes]:
    """The app's signing keys by id (the first signs): the secret links and file keys derive from."""
    from core.identity.runtime import identity

    tokens = identity().tokens
    seeds = {kid: key.private.private_bytes_raw() for kid, key in tokens._by_kid.items()}
    return {tokens._signing.kid: seeds[tokens._signing.kid], **seeds}


def _derive(seed: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(seed)


def _file_key(kid: str, salt: str, tenant_id: UUID, job_id: UUID) -> bytes:
    seed = _signing_seeds().get(kid)
    if seed is None:
        raise KehuError("EXPORT_KEY_UNAVAILABLE", "the key this export was made under is no longer configured",
                        "生成该导出文件的密钥已不再配置")
    return _derive(seed, f"kehu export file|{tenant_id}|{job_id}".encode(), base64.urlsafe_b64decode(salt))


def _aad(tenant_id: UUID, job_id: UUID, index: int, final: bool) -> bytes:
    # Binds each segment to its file and place: segments cannot be swapped, reordered or cut off.
    return f"{tenant_id}|{job_id}|{index}|{int(final)}".encode()


def encrypt_segments(key: bytes, data: bytes, tenant_id: UUID, job_id: UUID) -> list[bytes]:
    cipher = AESGCM(key)
    count = max(1, -(-len(data) // SEGMENT))
    frames = []
    for index in range(count):
        final = index == count - 1
        nonce = os.urandom(12)
        sealed = nonce + cipher.encrypt(nonce, data[index * SEGMENT:(index + 1) * SEGMENT],
                                        _aad(tenant_id, job_id, index, final))
        frames.append(_FRAME.pack(len(sealed), final) + sealed)
    return frames


async def decrypt_segments(key: bytes, chunks: AsyncIterator[bytes], tenant_id: UUID,
                           job_id: UUID) -> AsyncIterator[bytes]:
    cipher = AESGCM(key)
    buffer, index, finished = bytearray(), 0, False
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= _FRAME.size:
            length, final = _FRAME.unpack_from(buffer)
            if len(buffer) < _FRAME.size + length:
                break
            sealed = bytes(buffer[_FRAME.size:_FRAME.size + length])
            del buffer[:_FRAME.size + length]
            if finished:
                raise KehuError("EXPORT_FILE_CORRUPT", "the export file has data after its end", "导出文件已损坏")
            try:
                yield cipher.decrypt(sealed[:12], sealed[12:], _aad(tenant_id, job_id, index, bool(final)))
            except InvalidTag:
                raise KehuError("EXPORT_FILE_CORRUPT", "the export file does not decrypt with this link",
                                "导出文件无法用此链接解密") from None
            index, finished = index + 1, bool(final)
    if buffer or not finished:
        raise KehuError("EXPORT_FILE_CORRUPT", "the export file is cut short", "导出文件不完整")


def plaintext_size(sealed_size: int) -> int:
    """Every segment but the last holds SEGMENT bytes, so the clear size follows from the sealed one."""
    return sealed_size - OVERHEAD * max(1, -(-sealed_size // (SEGMENT + OVERHEAD)))


# --- starting an export ----------------------------------------------------------------------------

async def start_export(ctx: Context, access_request_id: UUID, *, fmt: str = "csv") -> UUID:
    """Queue the export an approved, unexpired, unused access request of the caller covers; the
    request is used by it."""
    scope = require(ctx, "customer.export")
    require(ctx, "customer.read")
    if fmt not in FORMATS:
        raise KehuError("EXPORT_FORMAT_INVALID", "format must be csv or xlsx", "格式须为 csv 或 xlsx", field="format")
    who = None
    if ctx.principal is not None:
        p = ctx.principal
        read = p.permissions["customer.read"]
        narrower = scope if scope.breadth < read.breadth else read
        who = {"user_id": str(p.user_id) if p.user_id else None,
               "api_key_id": str(p.api_key_id) if p.api_key_id else None, "scope": narrower.value,
               "department_ids": sorted(str(d) for d in p.department_ids), "language": ctx.language,
               "unmask": UNMASK_PERMISSION in p.permissions}
    kid = next(iter(_signing_seeds()))
    async with unit_of_work(ctx) as uow:
        request = await uow.select(access_requests.AccessRequest.scope).where(
            access_requests.AccessRequest.id == access_request_id).first()
        stored = json.loads(request["scope"]) if request else {"filter": {}, "fields": None}
        params = {"filter": stored["filter"], "fields": stored["fields"], "format": fmt, "as": who,
                  "actor": ctx.actor, "access_request_id": str(access_request_id), "key_id": kid,
                  "salt": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}
        job_id = await long_jobs.submit(uow, EXPORT_JOB, params)
        await access_requests.use_request(uow, access_request_id, job_id)  # refuses unless approved and unused
        await record(uow, "customer.export_requested", "job", job_id,
                     {"format": fmt, "access_request_id": str(access_request_id),
                      "filter": access_requests.shown_filter(stored["filter"]),
                      "fields": stored["fields"]})
    return job_id


# --- the job ---------------------------------------------------------------------------------------

def _row(view: service.CustomerView, rec: Mapping[str, Any], users: Mapping[UUID, str],
         departments: Mapping[UUID, str], columns: list[str]) -> list[Any]:
    ident = rec.get("identifier") or {}
    address = rec.get("address") or {}
    cells: dict[str, Any] = {name: rec.get(name) for name in ("kind", "status", "surname", "given_name", "org_name",
                                                               "legal_representative", "source_channel")}
    cells.update({"identifier_type": ident.get("type"), "identifier_number": ident.get("number"),
                  "phones": ";".join(rec.get("phones") or []) or None,
                  "emails": ";".join(rec.get("emails") or []) or None,
                  "tags": ";".join(rec.get("tags", [])) or None, "is_key": "true" if rec.get("is_key") else None,
                  "owner": users.get(view.owner_id) if view.owner_id else None,
                  "department": departments.get(view.department_id) if view.department_id else None,
                  **{part: address.get(part) for part in ("province", "city", "county", "street", "house_number",
                                                          "village")}})
    for section in ("business", "needs", "credit", "other"):
        for key, value in (rec.get(section) or {}).items():
            cells[f"{section}.{key}"] = value
    for vertical, fields in (rec.get("extensions") or {}).items():
        for key, value in fields.items():
            cells[f"ext.{vertical}.{key}"] = value
    return [cells.get(name) for name in columns]


def _file(fmt: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if c is None else json.dumps(c) if isinstance(c, bool) else c for c in row]
                          for row in rows])
        return ("\ufeff" + out.getvalue()).encode()  # with a BOM, so Excel reads it as UTF-8
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "customers"
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@long_jobs.job_kind(EXPORT_JOB, read_permission="customer.export")
async def _run_export(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params
    ctx = _acting(job.tenant_id, p, permissions=("customer.read", UNMASK_PERMISSION) if (p.get("as") or {}).get(
        "unmask") else ("customer.read",))
    where = access_requests.filter_of(p["filter"])
    schema = service.extension_schema(_current_registry())
    async with unit_of_work(job.ctx, write=False) as uow:
        users = {row["id"]: row["username"] for row in await uow.select(User.id, User.username)}
        departments = {row["id"]: row["name"] for row in await uow.select(Department.id, Department.name)}
    views: list[service.CustomerView] = []
    after = None
    while True:  # the caller's scope and the request's filter, page by page
        page, more = await service.list_customers(ctx, where, first=PAGE, after=after, sort="created")
        views.extend(page)
        await job.progress(len(views), None, "reading customers")
        if not more:
            break
        after = service.cursor_of(page[-1], "created")
    records = [for_reader(ctx, v.record, schema) for v in views]  # masked unless the requester may unmask
    if p.get("fields"):
        columns = list(p["fields"])
    else:
        extra = sorted({f"{s}.{k}" for rec in records for s in ("business", "needs", "credit", "other")
                        for k in (rec.get(s) or {})})
        extra += sorted({f"ext.{vertical}.{k}" for rec in records for vertical, fields in
                         (rec.get("extensions") or {}).items() for k in fields})
        columns = [*STANDARD_COLUMNS, *extra]
    rows = [_row(v, rec, users, departments, columns) for v, rec in zip(views, records, strict=True)]
    fmt = p["format"]
    key = _file_key(p["key_id"], p["salt"], job.tenant_id, job.id)
    job.output(f"customers.{fmt}", MEDIA[fmt])
    for frame in encrypt_segments(key, _file(fmt, columns, rows), job.tenant_id, job.id):
        await job.write_bytes(frame)
    async with unit_of_work(ctx) as uow:  # audited as the requester's
        await record(uow, "customer.exported", "job", job.id,
                     {"rows": len(rows), "format": fmt, "access_request_id": p["access_request_id"],
                      "columns": len(columns)})
    await job.progress(len(views), len(views), "done")
    return {"customers": len(views), "format": fmt}


# --- download links --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ExportLink:
    url: str
    expires_at: datetime


def _link_key(kid: str) -> bytes | None:
    seed = _signing_seeds().get(kid)
    return _derive(seed, b"kehu export link") if seed is not None else None


async def export_link(ctx: Context, job_id: UUID) -> ExportLink:
    """A download link for a finished export, to its requester only; it holds the file's key and
    works until the tenant's ``export_link_hours`` have passed (or the output expires)."""
    require(ctx, "customer.export")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(LongJob).where((LongJob.id == job_id) & (LongJob.kind == EXPORT_JOB)).first()
        if row is None or row["requested_by"] != ctx.actor:
            raise KehuError("EXPORT_LINK_REQUESTER_ONLY", "only the requester of this export gets its link",
                            "仅导出申请人可获取下载链接", field="jobId")
        if row["status"] != long_jobs.SUCCEEDED or row["output_deleted_at"] is not None:
            raise KehuError("EXPORT_NOT_READY", "the export has not succeeded, or its file has expired",
                            "导出未完成或文件已过期", field="jobId")
        params = json.loads(row["params"])
        hours = int((await access_requests.export_rules(uow))["export_link_hours"])
        at = now()
        expires = min(at + timedelta(hours=hours), row["output_expires_at"] or at + timedelta(hours=hours))
        kid = next(iter(_signing_seeds()))
        claims = {"aud": LINK_AUDIENCE, "tid": str(uow.ctx.tenant_id), "job": str(job_id),
                  "key": base64.urlsafe_b64encode(_file_key(params["key_id"], params["salt"], ctx.tenant_id,
                                                            job_id)).decode(),
                  "jti": secrets.token_hex(8), "iat": int(at.timestamp()), "exp": int(expires.timestamp())}
        link_key = _link_key(kid)
        assert link_key is not None
        token = jwt.encode(claims, link_key, algorithm="HS256", headers={"kid": kid, "typ": LINK_TYPE})
        await record(uow, "customer.export_link_issued", "job", job_id,
                     {"link": claims["jti"], "expires_at": expires.isoformat()})
    return ExportLink(url=f"/exports/{token}", expires_at=expires)


def _link_refused(code: str = "EXPORT_LINK_INVALID") -> KehuError:
    if code == "EXPORT_LINK_EXPIRED":
        return KehuError(code, "this download link has expired; ask for a new one", "下载链接已过期，请重新获取")
    if code == "EXPORT_LINK_GONE":
        return KehuError(code, "the export file has expired", "导出文件已过期")
    return KehuError(code, "this download link is not valid", "下载链接无效")


def read_link(token: str) -> dict[str, Any]:
    """The claims of a download link we signed, or a refusal (expired, or invalid)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _link_refused() from None
    kid = header.get("kid")
    key = _link_key(kid) if isinstance(kid, str) and header.get("typ") == LINK_TYPE else None
    if key is None:
        raise _link_refused()
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], audience=LINK_AUDIENCE,
                            options={"require": ["aud", "tid", "job", "key", "jti", "iat", "exp"]})
    except jwt.ExpiredSignatureError:
        raise _link_refused("EXPORT_LINK_EXPIRED") from None
    except jwt.PyJWTError:
        raise _link_refused() from None
    try:
        claims["tid"], claims["job"] = UUID(claims["tid"]), UUID(claims["job"])
        claims["key"] = base64.urlsafe_b64decode(claims["key"])
    except (TypeError, ValueError, AttributeError):
        raise _link_refused() from None
    return claims


@dataclass(frozen=True, slots=True)
class ExportDownload:
    name: str
    media_type: str
    size: int
    chunks: AsyncIterator[bytes]


async def open_link(ctx: Context, token: str) -> ExportDownload:
    """The decrypted export a link names. A signed-in caller of another tenant is refused; each
    download is audited."""
    claims = read_link(token)
    tenant_id, job_id = claims["tid"], claims["job"]
    if ctx.principal is not None and ctx.tenant_id != tenant_id:
        raise _link_refused()
    reader = ctx if ctx.principal is not None else replace(
        Context.system(f"export-link:{claims['jti']}", tenant_id), client_address=ctx.client_address,
        request_id=ctx.request_id)
    async with unit_of_work(reader) as uow:
        row = await uow.select(LongJob).where((LongJob.id == job_id) & (LongJob.kind == EXPORT_JOB)).first()
        if row is None:
            raise _link_refused()
        if row["status"] != long_jobs.SUCCEEDED or row["output_deleted_at"] is not None:
            raise _link_refused("EXPORT_LINK_GONE")
        rows = json.loads(row["result"] or "{}").get("customers")
        await record(uow, "customer.export_downloaded", "job", job_id, {"link": claims["jti"], "rows": rows})

    async def sealed() -> AsyncIterator[bytes]:
        seq = 0
        while True:
            async with unit_of_work(reader, write=False) as uow:
                chunk = await uow.select(JobOutputChunk.data).where(
                    (JobOutputChunk.job_id == job_id) & (JobOutputChunk.seq == seq)).first()
            if chunk is None:
                return
            yield base64.b64decode(chunk["data"])
            seq += 1

    return ExportDownload(name=row["output_name"], media_type=row["output_media_type"],
                          size=plaintext_size(int(row["output_bytes"])),
                          chunks=decrypt_segments(claims["key"], sealed(), tenant_id, job_id))
