"""Exporting customers as CSV or XLSX, in the import's columns (an export re-imports), through a
long job, under an approved access request (core.privacy.access_requests).

- The export covers exactly the request's scope (its filter and columns) within the requester's
  read scope; personal values are masked for a requester without ``customer.pii.unmask``
  (core.privacy.masking, the one place for every path out). It is audited with its row count.
- The file is stored only encrypted (AES-GCM, in framed segments) under a per-file key that is
  in no table and no URL: the server derives it from the app's signing secret and a random salt
  whenever the file is read. A download link (``/exports/<link id>``) is no credential by itself:
  it needs its requester's own sign-in, works once, and only for the tenant's
  ``export_link_minutes`` (issue 16 point 4). Each download, and each refused use of a link, is
  audited.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.audit.chain import record
from core.context import Context
from core.customers import dlp, service
from core.customers.export_tables import CustomerExportLink
from core.customers.importing import STANDARD_COLUMNS, _acting
from core.plugins.manager import started_verticals
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.access import require, require_signed_in
from core.identity.tables import TenantSetting, User
from core.jobs import long_jobs, outbox
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


def now() -> datetime:
    return datetime.now(UTC)


# --- keys: derived from the app's signing keys, never stored ---------------------------------------

def _signing_seeds() -> dict[str, bytes]:
    """The app's signing keys by id (the first signs): the secret file keys derive from."""
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
                raise KehuError("EXPORT_FILE_CORRUPT", "the export file does not decrypt",
                                "导出文件无法解密") from None
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
               "unmask": UNMASK_PERMISSION in p.permissions, "clearance": p.clearance}
    kid = next(iter(_signing_seeds()))
    async with unit_of_work(ctx) as uow:
        request = await uow.select(access_requests.AccessRequest.scope).where(
            access_requests.AccessRequest.id == access_request_id).first()
        stored = json.loads(request["scope"]) if request else {"filter": {}, "fields": None}
        verdict = (await dlp_policy(uow)).verdict(stored["fields"])  # seed-004 CSM-26
        if verdict == dlp.BLOCKED:
            raise KehuError("EXPORT_BLOCKED_BY_DLP",
                            "the tenant's export policy blocks bulk exports of contact methods (phones, emails)",
                            "租户导出策略禁止批量导出联系方式（电话、邮箱）", field="accessRequestId")
        params = {"filter": stored["filter"], "fields": stored["fields"], "format": fmt, "as": who,
                  "actor": ctx.actor, "access_request_id": str(access_request_id), "key_id": kid,
                  "salt": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}
        job_id = await long_jobs.submit(uow, EXPORT_JOB, params)
        await access_requests.use_request(uow, access_request_id, job_id)  # refuses unless approved and unused
        await record(uow, "customer.export_requested", "job", job_id,
                     {"format": fmt, "access_request_id": str(access_request_id),
                      "filter": access_requests.shown_filter(stored["filter"]),
                      "fields": stored["fields"], "dlp": verdict})
        if verdict == dlp.FLAGGED:
            await outbox.add(uow, "customer.export_flagged", "job", job_id, ("dlp",))
    return job_id


async def dlp_policy(uow: Any) -> dlp.ExportDlpPolicy:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == dlp.SETTING_KEY).first()
    return dlp.ExportDlpPolicy.from_mapping(json.loads(row["value"])) if row else dlp.ExportDlpPolicy()


async def get_dlp_policy(ctx: Context) -> dlp.ExportDlpPolicy:
    require(ctx, "customer.export")
    async with unit_of_work(ctx, write=False) as uow:
        return await dlp_policy(uow)


async def set_dlp_policy(ctx: Context, *, mode: str) -> dlp.ExportDlpPolicy:
    """Set the tenant's export DLP mode (off, flag, block; ``tenant.settings.manage``; CSM-26)."""
    require(ctx, "tenant.settings.manage")
    policy = dlp.ExportDlpPolicy.from_mapping({"mode": mode})
    encoded = json.dumps(policy.as_dict(), sort_keys=True)
    async with unit_of_work(ctx) as uow:
        before = await dlp_policy(uow)
        if await uow.exists(TenantSetting).where(TenantSetting.key == dlp.SETTING_KEY):
            await uow.update(TenantSetting, {TenantSetting.value: encoded, TenantSetting.updated_by: ctx.actor}).where(
                TenantSetting.key == dlp.SETTING_KEY)
        else:
            await uow.insert(TenantSetting(key=dlp.SETTING_KEY, value=encoded, updated_by=ctx.actor))
        await record(uow, "setting.updated", "tenant_setting", dlp.SETTING_KEY, {"mode": (before.mode, policy.mode)})
        await outbox.add(uow, "setting.updated", "tenant_setting", dlp.SETTING_KEY, ("value",))
    return policy


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
    schema = service.extension_schema(started_verticals())
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
# A link is a row (CustomerExportLink) and its URL holds only the row's id: a URL copied into an
# access log, a browser history or a proxy opens nothing (issue 16 point 4). The download needs
# the requester's own sign-in, works once and for the tenant's ``export_link_minutes``; the file
# key never leaves the server, which derives it again for the download.

LINK_PATH = "/exports/"
LINK_REFUSALS = {
    "EXPORT_LINK_INVALID": ("this download link is not valid", "下载链接无效"),
    "EXPORT_LINK_REQUESTER_ONLY": ("only the user who asked for this link may use it", "仅申请该链接的用户可使用"),
    "EXPORT_LINK_USED": ("this download link has been used; ask for a new one", "下载链接已使用，请重新获取"),
    "EXPORT_LINK_EXPIRED": ("this download link has expired; ask for a new one", "下载链接已过期，请重新获取"),
    "EXPORT_LINK_GONE": ("the export file has expired", "导出文件已过期"),
}


@dataclass(frozen=True, slots=True)
class ExportLink:
    id: UUID
    url: str
    expires_at: datetime


def _link_refused(code: str = "EXPORT_LINK_INVALID") -> KehuError:
    english, chinese = LINK_REFUSALS[code]
    return KehuError(code, english, chinese)


def parse_link_id(text: str) -> UUID:
    """The link id of a download path, or EXPORT_LINK_INVALID (old signed links included)."""
    try:
        return UUID(text[:64])
    except ValueError:
        raise _link_refused() from None


async def export_link(ctx: Context, job_id: UUID) -> ExportLink:
    """A download link for a finished export, to its requester only: for that requester's own
    sign-in, once, until the tenant's ``export_link_minutes`` have passed (or the file expires)."""
    require(ctx, "customer.export")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(LongJob.requested_by, LongJob.status, LongJob.output_deleted_at,
                               LongJob.output_expires_at).where(
            (LongJob.id == job_id) & (LongJob.kind == EXPORT_JOB)).first()
        if row is None or row["requested_by"] != ctx.actor:
            raise KehuError("EXPORT_LINK_REQUESTER_ONLY", "only the requester of this export gets its link",
                            "仅导出申请人可获取下载链接", field="jobId")
        if row["status"] != long_jobs.SUCCEEDED or row["output_deleted_at"] is not None:
            raise KehuError("EXPORT_NOT_READY", "the export has not succeeded, or its file has expired",
                            "导出未完成或文件已过期", field="jobId")
        minutes = int((await access_requests.export_rules(uow))["export_link_minutes"])
        expires = now() + timedelta(minutes=minutes)
        if row["output_expires_at"] is not None:
            expires = min(expires, row["output_expires_at"])
        link = CustomerExportLink(id=uuid4(), job_id=job_id, issued_to=ctx.actor, expires_at=expires)
        await uow.insert(link)
        await record(uow, "customer.export_link_issued", "job", job_id,
                     {"link": str(link.id), "expires_at": expires.isoformat()})
    return ExportLink(id=link.id, url=f"{LINK_PATH}{link.id}", expires_at=expires)


@dataclass(frozen=True, slots=True)
class ExportDownload:
    name: str
    media_type: str
    size: int
    chunks: AsyncIterator[bytes]


def _refusal(ctx: Context, link: Mapping[str, Any], at: datetime) -> str | None:
    if link["issued_to"] != ctx.actor:  # a leaked link id is useless to anyone else, and is audited
        return "EXPORT_LINK_REQUESTER_ONLY"
    if link["used_at"] is not None:
        return "EXPORT_LINK_USED"
    if link["expires_at"] <= at:
        return "EXPORT_LINK_EXPIRED"
    return None


async def open_link(ctx: Context, link_id: UUID) -> ExportDownload:
    """The decrypted export a link names, for the signed-in requester it was issued to, once.

    Unknown here (another tenant's, or made up): EXPORT_LINK_INVALID. Another user's, used or
    expired: refused and audited as ``customer.export_link_refused``. The requester must still
    hold ``customer.export`` (and ``customer.pii.unmask`` for a file in clear). The link is used
    as the download starts (a broken transfer needs a new link); each download is audited."""
    require_signed_in(ctx)  # the link id alone opens nothing
    at = now()
    refused: str | None = None
    async with unit_of_work(ctx) as uow:
        link = await uow.select(CustomerExportLink).where(CustomerExportLink.id == link_id).first()
        if link is None:
            raise _link_refused()
        job_id = link["job_id"]
        refused = _refusal(ctx, link, at)
        if refused is None:
            row = await uow.select(LongJob).where((LongJob.id == job_id) & (LongJob.kind == EXPORT_JOB)).first()
            if row is None or row["requested_by"] != ctx.actor:
                raise _link_refused()
            params = json.loads(row["params"])
            require(ctx, "customer.export")
            if (params.get("as") or {}).get("unmask"):  # a file in clear: only while one may still unmask
                require(ctx, UNMASK_PERMISSION)
            if row["status"] != long_jobs.SUCCEEDED or row["output_deleted_at"] is not None:
                raise _link_refused("EXPORT_LINK_GONE")
            key = _file_key(params["key_id"], params["salt"], ctx.tenant_id, job_id)  # before the link is used
            used = await uow.update(CustomerExportLink, {CustomerExportLink.used_at: at}).where(
                (CustomerExportLink.id == link_id) & CustomerExportLink.used_at.is_null()
            ).returning(CustomerExportLink.id)
            if used:
                rows = json.loads(row["result"] or "{}").get("customers")
                await record(uow, "customer.export_downloaded", "job", job_id, {"link": str(link_id), "rows": rows})
            else:  # a concurrent download took it between our read and write
                refused = "EXPORT_LINK_USED"
        if refused is not None:  # committed with the refusal: who tried a link that was not theirs to use
            await record(uow, "customer.export_link_refused", "job", job_id, {"link": str(link_id), "reason": refused})
    if refused is not None:
        raise _link_refused(refused)

    async def sealed() -> AsyncIterator[bytes]:
        seq = 0
        while True:
            async with unit_of_work(ctx, write=False) as read:
                chunk = await read.select(JobOutputChunk.data).where(
                    (JobOutputChunk.job_id == job_id) & (JobOutputChunk.seq == seq)).first()
            if chunk is None:
                return
            yield base64.b64decode(chunk["data"])
            seq += 1

    assert ctx.tenant_id is not None
    return ExportDownload(name=row["output_name"], media_type=row["output_media_type"],
                          size=plaintext_size(int(row["output_bytes"])),
                          chunks=decrypt_segments(key, sealed(), ctx.tenant_id, job_id))
