"""Importing customers from CSV and XLSX (dry run, all-or-nothing, skip-bad-rows, per-row coded
errors with their line) and exporting them back in the same format."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import openpyxl
import pytest
from stdnum.cn import ric, uscc

from core.plugins import manager
from core.audit.chain import verify_chain
from core.audit.tables import AuditEntry
from core.customers import exporting, importing
from core.customers.import_tables import CustomerImportUpload
from core.customers.service import CustomerFilter
from core.customers import service as customers
from core.customers.importing import ALL_OR_NOTHING, SKIP_BAD_ROWS, import_customers
from core.customers.tables import Customer, CustomerHistory, CustomerKey
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles
from core.jobs import long_jobs
from core.jobs import service as job_service
from core.jobs.tables import OutboxEvent
from core.privacy import access_requests
from core.verticals import service as verticals
from tests.customers.conftest import PERSON
from tests.support import SYSTEM, add_user, sign_in

ROWS = 10_000
HEADER = ["kind", "surname", "given_name", "org_name", "identifier_type", "identifier_number", "phones", "emails",
          "province", "city", "county", "street", "house_number", "status", "tags", "owner", "business.scope",
          "ext.dealer.vin", "ext.dealer.purchases"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
# Which rows are bad, and how: every 33rd row (3%), cycling through these.
BAD_KINDS = [
    ("identifier_number", "RESIDENT_ID_INVALID"),
    ("phones", "PHONE_INVALID"),
    ("given_name", "NAME_PLACEHOLDER"),
    ("county", "ADDRESS_INCOMPLETE"),
    ("ext.dealer.purchases", "EXTENSION_FIELD_INVALID"),
    ("kind", "CUSTOMER_KIND_INVALID"),
    ("owner", "OWNER_UNKNOWN"),
    ("identifier_number", "DUPLICATE_IDENTIFIER"),  # the identifier of the row before
]


def resident_id(i: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=i // 900)
    body = f"110105{born:%Y%m%d}{i % 900 + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(i: int) -> str:
    body = f"91110000{i:09d}"
    return body + uscc.calc_check_digit(body)


def good_row(i: int) -> dict:
    if i % 10 == 9:
        row = {"kind": "organisation", "org_name": f"北京测试{i}号贸易有限公司", "identifier_type": "credit_code",
               "identifier_number": credit_code(i), "business.scope": "汽车销售"}
    else:
        row = {"kind": "person", "surname": SURNAMES[i % 20], "given_name": GIVEN[(i // 20) % 20] + GIVEN[i % 7],
               "identifier_number": resident_id(i), "ext.dealer.vin": "LSVAB4182E2" + f"{i:06d}",
               "ext.dealer.purchases": str(i % 3)}
    return {**row, "phones": f"139{i:08d}", "emails": f"c{i}@example.cn", "province": "北京市", "city": "北京市",
            "county": "朝阳区", "street": "建国路", "house_number": f"{i}号", "status": "active", "tags": "import;vip"}


def make_rows(n: int, *, bad_every: int = 33) -> tuple[list[dict], dict[int, tuple[str, str]]]:
    """Rows and the bad ones' expected (column, code) by line (header = line 1)."""
    rows, bad = [], {}
    for i in range(n):
        row = good_row(i)
        if bad_every and i % bad_every == bad_every - 1:
            column, code = BAD_KINDS[(i // bad_every) % len(BAD_KINDS)]
            if i % 10 == 9 and column in ("given_name", "ext.dealer.purchases", "identifier_number"):
                column, code = ("phones", "PHONE_INVALID")  # organisations: keep it simple
            row[column] = {"RESIDENT_ID_INVALID": resident_id(i)[:-1] + ("0" if resident_id(i)[-1] != "0" else "1"),
                           "PHONE_INVALID": "12345", "NAME_PLACEHOLDER": "女士", "ADDRESS_INCOMPLETE": "",
                           "EXTENSION_FIELD_INVALID": "many", "CUSTOMER_KIND_INVALID": "alien",
                           "OWNER_UNKNOWN": "nobody",
                           "DUPLICATE_IDENTIFIER": resident_id(i - 1 if (i - 1) % 10 != 9 else i - 2)}[code]
            bad[i + 2] = (column, code)
        rows.append(row)
    return rows, bad


def to_csv(rows: list[dict], header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def to_xlsx(rows: list[dict], header=HEADER) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(name) for name in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def big_file() -> tuple[bytes, dict[int, tuple[str, str]]]:
    """10,000 customers as XLSX, 3% of them bad in their own ways (made once per module)."""
    rows, bad = make_rows(ROWS)
    return to_xlsx(rows), bad


async def _counts(tenant_id) -> dict[str, int]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return {"customers": await uow.count(Customer),
                "history": await uow.count(CustomerHistory),
                "keys": await uow.count(CustomerKey),
                "imported_entries": await uow.count(AuditEntry).where(AuditEntry.action == "customer.imported"),
                "created_events": await uow.count(OutboxEvent).where(OutboxEvent.event_type == "customer.created")}


# --- acceptance 4: 10,000 rows, 3% bad ------------------------------------------------------------

async def test_skip_mode_imports_the_good_rows_and_reports_each_bad_row_with_line_and_code(acme, registry, big_file):
    data, bad = big_file
    admin = await sign_in("acme", "admin")
    await add_user(acme, "sales1")
    # A customer already in the tenant with the identifier of line 50 makes that row a duplicate.
    existing = {**PERSON, "identifier": {"type": "resident_id", "number": resident_id(48)}, "phones": ["13700000001"]}
    await customers.create_customer(admin, registry, existing)
    bad = {**bad, 50: ("identifier_number", "DUPLICATE_IDENTIFIER")}
    before = await _counts(acme.id)

    seen = []

    async def progress(done, total, message):
        seen.append((done, total, message))

    report = await import_customers(admin, registry, data, "客户.xlsx", mode=SKIP_BAD_ROWS, progress=progress)

    assert report.rows == ROWS and report.bad_rows == len(bad) and 250 <= len(bad) <= 320
    assert {e.line: (e.field, e.code) for e in report.errors} == bad
    assert report.imported == ROWS - len(bad)
    after = await _counts(acme.id)
    assert after["customers"] - before["customers"] == report.imported
    assert after["history"] - before["history"] == report.imported  # version 1 of each
    assert after["imported_entries"] == report.imported  # one audit entry per imported customer
    assert after["created_events"] - before["created_events"] == report.imported
    assert after["keys"] - before["keys"] >= 3 * report.imported  # phone, identifier, name+address
    assert seen[-1][0] == seen[-1][1] and [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)

    # The report downloads as CSV: line, field, code, message.
    lines = list(csv.reader(io.StringIO(report.as_csv().removeprefix("\ufeff"))))  # after its BOM
    assert lines[0] == ["line", "field", "code", "message"] and len(lines) == len(bad) + 1
    assert (lines[1][0], lines[1][2]) == ("34", "RESIDENT_ID_INVALID")

    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        assert (await verify_chain(uow)).ok
        history = await uow.select(CustomerHistory.version, CustomerHistory.actor, CustomerHistory.reason).where(
            CustomerHistory.reason.like("imported%")).limit(3)
        entry = await uow.select(AuditEntry.actor, AuditEntry.diff).where(
            AuditEntry.action == "customer.imported").first()
        row = await uow.select(Customer.id, Customer.owner_id, Customer.data).where(
            Customer.display_name == SURNAMES[0] + GIVEN[0] + GIVEN[0]).first()
    assert {h["version"] for h in history} == {1} and history[0]["reason"].startswith("imported from 客户.xlsx, line")
    assert entry["actor"] == admin.actor and resident_id(0) not in entry["diff"]  # personal values masked
    assert row["owner_id"] == admin.user_id  # rows without an owner belong to the importer
    assert "LSVAB4182E2000000" not in row["data"]  # a personal extension value is stored sealed
    imported = await customers.get_customer(admin, row["id"])
    assert imported.record["extensions"]["dealer"] == {"vin": "LSVAB4182E2000000", "purchases": 0}


async def test_all_or_nothing_imports_none_when_a_row_is_bad(acme, registry, big_file):
    data, bad = big_file
    before = await _counts(acme.id)
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, data, "customers.xlsx",
                                    mode=ALL_OR_NOTHING)
    assert report.imported == 0 and report.bad_rows == len(bad)
    assert {e.line for e in report.errors} == set(bad)
    assert await _counts(acme.id) == before


async def test_all_or_nothing_imports_none_when_a_row_repeats_an_identifier_already_in_the_tenant(acme, registry):
    rows, _ = make_rows(1200, bad_every=0)  # the repeat is in the third write batch
    admin = await sign_in("acme", "admin")
    existing = {**PERSON, "identifier": {"type": "resident_id", "number": rows[1100]["identifier_number"]}, "phones": ["13700000002"]}
    await customers.create_customer(admin, registry, existing)
    before = await _counts(acme.id)
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv",
                                    mode=ALL_OR_NOTHING)
    assert (report.imported, report.valid) == (0, 1199)
    assert [(e.line, e.code) for e in report.errors] == [(1102, "DUPLICATE_IDENTIFIER")]
    assert await _counts(acme.id) == before


async def test_a_dry_run_checks_everything_and_writes_nothing(acme, registry):
    rows, bad = make_rows(200)
    before = await _counts(acme.id)
    for mode in (SKIP_BAD_ROWS, ALL_OR_NOTHING):
        report = await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv", mode=mode,
                                        dry_run=True)
        assert (report.imported, report.valid, report.bad_rows) == (0, 200 - len(bad), len(bad))
        assert {e.line: (e.field, e.code) for e in report.errors} == bad
    assert await _counts(acme.id) == before


async def test_all_or_nothing_imports_everything_when_every_row_is_good(acme, registry):
    rows, _ = make_rows(1200, bad_every=0)  # three write batches, one transaction
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, to_csv(rows), "c.csv",
                                    mode=ALL_OR_NOTHING)
    assert (report.imported, report.errors) == (1200, [])
    assert (await _counts(acme.id))["imported_entries"] == 1200


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_csv_and_xlsx_import_alike(acme, registry, fmt):
    rows, bad = make_rows(100)
    data = to_csv(rows) if fmt == "csv" else to_xlsx(rows)
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, data, f"c.{fmt}")
    assert report.imported == 100 - len(bad) and {e.line: e.code for e in report.errors} == {
        line: code for line, (_, code) in bad.items()}


async def test_gbk_csv_from_excel_and_numbers_typed_in_xlsx_cells(acme, registry):
    header = ["kind", "surname", "given_name", "phones", "ext.dealer.purchases", "is_key"]
    gbk = "\n".join([",".join(header), "person,李,四,13912345678,2,否"]).encode("gb18030")
    assert (await import_customers(SYSTEM.for_tenant(acme.id), registry, gbk, "gbk.csv")).imported == 1
    typed = to_xlsx([{"kind": "person", "surname": "赵", "given_name": "六", "phones": 13912345679,
                      "ext.dealer.purchases": 3, "is_key": False}], header)
    report = await import_customers(SYSTEM.for_tenant(acme.id), registry, typed, "typed.xlsx")
    assert report.imported == 1, report.errors


@pytest.mark.parametrize("content, code", [
    (b"", "IMPORT_FILE_EMPTY"),
    ("kind,surname,shoe_size\nperson,王,42\n".encode(), "IMPORT_COLUMN_UNKNOWN"),
    (b"surname,given_name\n\xe7\x8e\x8b,\xe4\xba\x8c\n", "IMPORT_COLUMN_MISSING"),
    (b"kind,kind\nperson,person\n", "IMPORT_COLUMN_DUPLICATE"),
    (b"PK\x03\x04 not really a workbook", "IMPORT_FILE_UNREADABLE"),
])
async def test_a_file_kehu_cannot_read_is_refused_whole_and_writes_nothing(acme, registry, content, code):
    before = await _counts(acme.id)
    with pytest.raises(KehuError) as refused:
        await import_customers(SYSTEM.for_tenant(acme.id), registry, content, "file.csv")
    assert refused.value.code == code and refused.value.field == "file"
    assert await _counts(acme.id) == before


async def test_importing_needs_the_permission(acme, registry):
    await add_user(acme, "plain")
    plain = await sign_in("acme", "plain")
    with pytest.raises(KehuError) as denied:
        await import_customers(plain, registry, to_csv(make_rows(3)[0]), "c.csv")
    assert denied.value.code == "PERMISSION_DENIED"


# --- as jobs: the import report and the export file download ---------------------------------------

async def _run(tenant_id, job_id):
    assert await long_jobs.run_job(tenant_id, job_id)
    return await job_service.get_job(SYSTEM.for_tenant(tenant_id), job_id)


async def _download(ctx, job_id) -> bytes:
    output = await job_service.open_output(ctx, job_id)
    return b"".join([c if isinstance(c, bytes) else c.encode() async for c in output.chunks])


async def _director(tenant):
    """A 客户总监 (may ask for exports and see personal values in clear, so the file re-imports)."""
    role_id = next(r.id for r in await roles.list_roles(SYSTEM.for_tenant(tenant.id)) if r.name == "客户总监")
    await add_user(tenant, "director", role_ids=[role_id])
    return await sign_in(tenant.slug, "director")


async def _approved_export(requester, approver, where: CustomerFilter, fmt: str):
    """Start an export the way it must go: an access request, approved by someone else."""
    request = await access_requests.create_request(requester, purpose="导出后重新导入", where=where)
    await access_requests.approve_request(approver, request.id)
    return await exporting.start_export(requester, request.id, fmt=fmt)


async def _download_export(ctx, job_id) -> bytes:
    link = await exporting.export_link(ctx, job_id)
    opened = await exporting.open_link(ctx, link.id)  # as the requester: the link alone opens nothing
    return b"".join([chunk async for chunk in opened.chunks])


async def test_an_import_job_reports_progress_and_its_report_downloads(acme, registry, monkeypatch):
    monkeypatch.setattr(manager, "_started", registry)
    admin = await sign_in("acme", "admin")
    rows, bad = make_rows(120)
    job_id = await importing.start_import(admin, to_xlsx(rows), "客户.xlsx", mode=SKIP_BAD_ROWS)
    job = await _run(acme.id, job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message)
    assert job.result == {"mode": SKIP_BAD_ROWS, "dry_run": False, "rows": 120, "valid": 120 - len(bad),
                          "imported": 120 - len(bad), "bad_rows": len(bad)}
    assert job.progress_done == job.progress_total == 240 and job.percent == 100.0
    report = list(csv.reader(io.StringIO((await _download(admin, job_id)).decode())))
    assert [(int(line), code) for line, _, code, _ in report[1:]] == [(k, c) for k, (_, c) in sorted(bad.items())]
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:  # the file is not kept
        assert await uow.count(CustomerImportUpload) == 0


async def test_an_unreadable_upload_fails_its_job_with_the_code_and_imports_nothing(acme, registry, monkeypatch):
    monkeypatch.setattr(manager, "_started", registry)
    job_id = await importing.start_import(SYSTEM.for_tenant(acme.id), b"kind,shoe_size\nperson,42\n", "x.csv")
    job = await _run(acme.id, job_id)
    assert (job.status, job.error_code) == ("failed", "IMPORT_COLUMN_UNKNOWN")
    assert (await _counts(acme.id))["customers"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_an_export_re_imports_to_the_same_records(seeded, acme, registry, fmt):
    admin = await sign_in("acme", "admin")
    director = await _director(acme)
    rows, _ = make_rows(40, bad_every=0)
    rows[0]["business.scope"] = "整车销售"
    assert (await import_customers(admin, registry, to_csv(rows), "c.csv")).imported == 40
    await customers.create_customer(admin, registry, {**PERSON, "tags": ["other"]})  # filtered out
    job_id = await _approved_export(director, admin, CustomerFilter(tag="vip"), fmt)
    job = await _run(acme.id, job_id)
    assert job.status == "succeeded" and job.result == {"customers": 40, "format": fmt}
    data = await _download_export(director, job_id)
    if fmt == "xlsx":
        assert data[:4] == b"PK\x03\x04"

    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.globex.id), registry, "dealer")
    report = await import_customers(SYSTEM.for_tenant(seeded.globex.id), registry, data, f"customers.{fmt}")
    assert (report.imported, report.errors) == (40, [])

    async def records(tenant_id):
        found, _ = await customers.list_customers(SYSTEM.for_tenant(tenant_id), CustomerFilter(tag="vip"), first=100)
        return sorted(({k: v for k, v in c.record.items() if k != "owner_id"} for c in found),
                      key=lambda rec: rec["phones"])

    assert await records(seeded.globex.id) == await records(acme.id)
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        requested = await uow.select(AuditEntry.actor, AuditEntry.diff).where(
            AuditEntry.action == "customer.export_requested").first()
    assert requested["actor"] == director.actor and '"vip"' in requested["diff"]


async def test_an_export_without_a_filter_holds_every_customer_and_a_wrong_format_is_refused(acme, registry):
    admin = await sign_in("acme", "admin")
    director = await _director(acme)
    await import_customers(admin, registry, to_csv(make_rows(5, bad_every=0)[0]), "c.csv")
    job_id = await _approved_export(director, admin, CustomerFilter(), "csv")
    job = await _run(acme.id, job_id)
    assert job.result["customers"] == 5
    with pytest.raises(KehuError) as refused:
        await _approved_export(director, admin, CustomerFilter(), "pdf")
    assert refused.value.code == "EXPORT_FORMAT_INVALID"


# --- the command line -------------------------------------------------------------------------------

def test_kehu_customers_import_shows_a_progress_bar_and_the_bad_rows(sqlite_settings, tmp_path):
    from click.testing import CliRunner

    from gateway.cli import cli

    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url, "COLUMNS": "120"}
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    assert runner.invoke(cli, ["tenants", "create", "acme", "Acme", "--admin", "boss"], env=env).exit_code == 0
    header = [c for c in HEADER if not c.startswith("ext.")]
    rows, bad = make_rows(60)
    rows = [{k: v for k, v in row.items() if not k.startswith("ext.")} for row in rows]
    bad = {line: fc for line, fc in bad.items() if not fc[0].startswith("ext.")}
    for row in rows:
        row["owner"] = "boss" if row.get("owner") is None else row["owner"]
    path = tmp_path / "customers.xlsx"
    path.write_bytes(to_xlsx(rows, header))

    dry = runner.invoke(cli, ["customers", "import", str(path), "--tenant", "acme", "--dry-run"], env=env)
    assert dry.exit_code == 1 and f"would import {60 - len(bad)} of 60 rows; {len(bad)} bad" in dry.output
    report = tmp_path / "report.csv"
    done = runner.invoke(cli, ["customers", "import", str(path), "--tenant", "acme", "--as", "boss",
                               "--report", str(report)], env=env)
    assert done.exit_code == 0, done.output
    assert "━" in done.output and "done" in done.output  # rich's bar, at its end
    assert f"imported {60 - len(bad)} of 60 rows; {len(bad)} bad" in done.output
    first = min(bad)
    assert f"line {first}: {bad[first][0]} {bad[first][1]}" in done.output
    assert len(report.read_text().splitlines()) == len(bad) + 1
    unknown = runner.invoke(cli, ["customers", "import", str(path), "--tenant", "nope"], env=env)
    assert unknown.exit_code == 1 and "NOT_FOUND" in unknown.output


# --- over HTTP: upload, progress over GraphQL, download -------------------------------------------

async def test_import_and_export_over_graphql_with_progress_and_downloads(settings, acme, registry):
    import asyncio
    import base64

    from litestar.testing import AsyncTestClient

    from gateway.app import create_app
    from tests.gateway.test_identity_api import gql, login

    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    rows, bad = make_rows(150)
    await _director(acme)
    job_query = ("query($id: ID!) { job(id: $id) { status kind progressDone progressTotal progressPercent message "
                 "result errorCode downloadUrl } }")
    start = ('mutation($file: String!, $name: String!, $mode: String!) { customerImportStart(file: $file, '
             'filename: $name, mode: $mode) { job { id kind status } errors { field code } } }')
    async with AsyncTestClient(create_app(relaxed, registry=registry)) as client:
        token = (await login(client))["accessToken"]
        auth = {"authorization": f"Bearer {token}"}

        async def finished(job_id: str, who: str = token) -> dict:
            seen = []
            for _ in range(400):
                job = (await gql(client, job_query, who, id=job_id)).json()["data"]["job"]
                seen.append(job["progressDone"])
                if job["status"] in ("succeeded", "failed"):
                    assert seen == sorted(seen)  # progress only moves forward
                    return job
                await asyncio.sleep(0.05)
            raise AssertionError(job)

        upload = base64.b64encode(to_xlsx(rows)).decode()
        body = (await gql(client, start, token, file=upload, name="客户.xlsx", mode="skip-bad-rows")).json()
        started = body["data"]["customerImportStart"]
        assert started["errors"] == [] and started["job"]["kind"] == "customer.import", body
        job = await finished(started["job"]["id"])
        assert job["status"] == "succeeded", job
        assert (job["progressDone"], job["progressTotal"], job["progressPercent"]) == (300, 300, 100.0)
        assert json.loads(job["result"])["imported"] == 150 - len(bad)
        report = await client.get(job["downloadUrl"], headers=auth)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
        assert len(report.text.splitlines()) == len(bad) + 1

        refused = (await gql(client, start, token, file="not base64!", name="x.csv", mode="skip-bad-rows")).json()
        assert refused["data"]["customerImportStart"] == {"job": None, "errors": [
            {"field": "file", "code": "FILE_ENCODING_INVALID"}]}
        wrong_mode = (await gql(client, start, token, file=upload, name="x.xlsx", mode="some")).json()
        assert wrong_mode["data"]["customerImportStart"]["errors"][0]["code"] == "IMPORT_MODE_INVALID"

        director = (await login(client, username="director"))["accessToken"]
        asked = (await gql(client, 'mutation { accessRequestCreate(purpose: "回访", scope: {filter: {tag: "vip"}}) '
                                   '{ request { id } } }', director)).json()["data"]["accessRequestCreate"]["request"]
        approved = (await gql(client, 'mutation($id: ID!) { accessRequestApprove(id: $id) { errors { code } } }',
                              token, id=asked["id"])).json()
        assert approved["data"]["accessRequestApprove"]["errors"] == []
        export = ('mutation($id: ID!) { customerExportStart(accessRequestId: $id, format: "xlsx") '
                  '{ job { id } errors { code } } }')
        started = (await gql(client, export, director, id=asked["id"])).json()["data"]["customerExportStart"]
        job = await finished(started["job"]["id"], director)
        assert job["status"] == "succeeded" and json.loads(job["result"])["customers"] == 150 - len(bad)
        link = (await gql(client, 'mutation($id: ID!) { customerExportLink(jobId: $id) { url } }', director,
                          id=started["job"]["id"])).json()["data"]["customerExportLink"]
        assert (await client.get(link["url"])).status_code == 401  # the link is no credential (issue 16 point 4)
        download = await client.get(link["url"], headers={"authorization": f"Bearer {director}"})
        assert download.status_code == 200 and download.content[:4] == b"PK\x03\x04"
        assert int(download.headers["content-length"]) == len(download.content)
        book = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True)
        assert sum(1 for _ in book.worksheets[0].iter_rows()) == 150 - len(bad) + 1
