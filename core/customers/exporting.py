"""Exporting a filtered set of customers as CSV or XLSX, in the import's columns (an export
re-imports), through a long job. Only customers the requester may read are exported; the request
is audited. Personal fields are exported in clear here; masking them is the privacy issue's."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from core.audit.chain import record
from core.context import Context
from core.customers import service
from core.customers.importing import STANDARD_COLUMNS, _acting
from core.customers.service import CustomerFilter
from core.customers.tables import Customer
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.access import require
from core.identity.tables import User
from core.jobs import long_jobs
from core.tenancy.tables import Department

EXPORT_JOB = "customer.export"
FORMATS = ("csv", "xlsx")
PAGE = 500
MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _filter_params(where: CustomerFilter) -> dict[str, Any]:
    return {"status": where.status, "kind": where.kind, "owner_id": str(where.owner_id) if where.owner_id else None,
            "department_id": str(where.department_id) if where.department_id else None, "tag": where.tag,
            "text": where.text, "review_due": where.review_due,
            "extension": list(where.extension) if where.extension else None}


def _filter_of(params: Mapping[str, Any]) -> CustomerFilter:
    return CustomerFilter(status=params["status"], kind=params["kind"],
                          owner_id=UUID(params["owner_id"]) if params["owner_id"] else None,
                          department_id=UUID(params["department_id"]) if params["department_id"] else None,
                          tag=params["tag"], text=params["text"], review_due=params["review_due"],
                          extension=tuple(params["extension"]) if params["extension"] else None)


async def start_export(ctx: Context, where: CustomerFilter, *, fmt: str = "csv") -> UUID:
    """Queue an export of the customers matching ``where`` that the caller may read."""
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
               "department_ids": sorted(str(d) for d in p.department_ids), "language": ctx.language}
    params = {"filter": _filter_params(where), "format": fmt, "as": who, "actor": ctx.actor}
    async with unit_of_work(ctx) as uow:
        job_id = await long_jobs.submit(uow, EXPORT_JOB, params)
        await record(uow, "customer.export_requested", "job", job_id,
                     {"format": fmt, "filter": {k: v for k, v in params["filter"].items() if v is not None}})
    return job_id


def _row(view: service.CustomerView, users: Mapping[UUID, str], departments: Mapping[UUID, str],
         columns: list[str]) -> list[Any]:
    rec = view.record
    ident = rec.get("identifier") or {}
    address = rec.get("address") or {}
    cells: dict[str, Any] = {name: rec.get(name) for name in ("kind", "status", "surname", "given_name", "org_name",
                                                               "legal_representative", "source_channel")}
    cells.update({"identifier_type": ident.get("type"), "identifier_number": ident.get("number"),
                  "phones": ";".join(rec.get("phones", [])) or None, "emails": ";".join(rec.get("emails", [])) or None,
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


@long_jobs.job_kind(EXPORT_JOB, read_permission="customer.export")
async def _run_export(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params
    ctx = _acting(job.tenant_id, p, permissions=("customer.read",))
    where = _filter_of(p["filter"])
    async with unit_of_work(job.ctx, write=False) as uow:
        users = {row["id"]: row["username"] for row in await uow.select(User.id, User.username)}
        departments = {row["id"]: row["name"] for row in await uow.select(Department.id, Department.name)}
    views: list[service.CustomerView] = []
    after = None
    while True:  # the caller's scope and the filter, page by page
        page, more = await service.list_customers(ctx, where, first=PAGE, after=after, sort="created")
        views.extend(page)
        await job.progress(len(views), None, "reading customers")
        if not more:
            break
        after = service.cursor_of(page[-1], "created")
    extra = sorted({f"{s}.{k}" for v in views for s in ("business", "needs", "credit", "other")
                    for k in (v.record.get(s) or {})})
    extra += sorted({f"ext.{vertical}.{k}" for v in views for vertical, fields in
                     (v.record.get("extensions") or {}).items() for k in fields})
    columns = [*STANDARD_COLUMNS, *extra]
    rows = [_row(v, users, departments, columns) for v in views]
    fmt = p["format"]
    job.output(f"customers.{fmt}", MEDIA[fmt])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if c is None else json.dumps(c) if isinstance(c, bool) else c for c in row]
                          for row in rows])
        await job.write("\ufeff" + out.getvalue())  # with a BOM, so Excel reads it as UTF-8
    else:
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "customers"
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        await job.write_bytes(buffer.getvalue())
    await job.progress(len(views), len(views), "done")
    return {"customers": len(views), "format": fmt}
