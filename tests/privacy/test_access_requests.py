"""Issue #8, acceptance 6 (and 1 for exports): a customer export needs an approved access request;
it holds exactly the approved scope, masked for readers without customer.pii.unmask, is audited
with its row count, is stored only encrypted and downloads, once, through a short-lived link that only its requester,
signed in, can use (issue 16 point 4)."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from datetime import timedelta
from uuid import uuid4

import pytest

from core.audit.tables import AuditEntry
from core.customers import exporting
from core.customers import service as customers
from core.customers.service import CustomerFilter
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles
from core.identity.permissions import Scope
from core.jobs import long_jobs
from core.jobs import service as job_service
from core.jobs.tables import JobOutputChunk, LongJob
from core.privacy import access_requests
from core.privacy.access_tables import AccessRequest
from tests.customers.conftest import ORGANISATION, PERSON, acme, registry  # noqa: F401 - fixtures
from tests.support import SYSTEM, add_user, sign_in

T = Scope.TENANT
CLEAR_PHONE, CLEAR_ID = "+8613812345678", PERSON["identifier"]["number"]
SECOND = {"kind": "person", "surname": "李", "given_name": "娜", "phones": ["139 8765 4321"], "tags": ["vip"],
          "status": "active"}


async def _role_ids(tenant) -> dict[str, object]:
    return {r.name: r.id for r in await roles.list_roles(SYSTEM.for_tenant(tenant.id))}


@pytest.fixture
async def people(acme, registry):
    """director (客户总监: may unmask), clerk (may export, may not unmask), admin (the default
    approver, 系统管理员), and customers: two vip persons and an organisation without the tag."""
    ids = await _role_ids(acme)
    clerk_role = await roles.create_role(SYSTEM.for_tenant(acme.id), name="导出专员", permissions={
        "customer.read": T, "customer.export": T, "privacy.export.request": T})
    await add_user(acme, "director", role_ids=[ids["客户总监"]])
    await add_user(acme, "clerk", role_ids=[clerk_role.id])
    system = SYSTEM.for_tenant(acme.id)
    await customers.create_customer(system, registry, {**PERSON, "tags": ["vip"], "status": "active"})
    await customers.create_customer(system, registry, SECOND)
    await customers.create_customer(system, registry, {**ORGANISATION, "tags": ["other"]})
    return {"director": await sign_in("acme", "director"), "clerk": await sign_in("acme", "clerk"),
            "admin": await sign_in("acme", "admin")}


async def _approved(requester, approver, *, where=CustomerFilter(tag="vip"), fields=None):
    request = await access_requests.create_request(requester, purpose="年度客户回访名单", where=where, fields=fields)
    return await access_requests.approve_request(approver, request.id)


async def _export(tenant_id, ctx, request_id, fmt="csv"):
    job_id = await exporting.start_export(ctx, request_id, fmt=fmt)
    assert await long_jobs.run_job(tenant_id, job_id)
    job = await job_service.get_job(ctx, job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message)
    return job


async def _download(ctx, job_id) -> bytes:
    link = await exporting.export_link(ctx, job_id)
    opened = await exporting.open_link(ctx, link.id)
    data = b"".join([chunk async for chunk in opened.chunks])
    assert opened.size == len(data)
    return data


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def _written(tenant_id) -> tuple[int, int, int]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return (await uow.count(LongJob), await uow.count(AuditEntry),
                await uow.count(AccessRequest).where(AccessRequest.state == "used"))


async def _refused(ctx, request_id, code, tenant_id):
    before = await _written(tenant_id)
    with pytest.raises(KehuError) as refused:
        await exporting.start_export(ctx, request_id)
    assert refused.value.code == code
    assert await _written(tenant_id) == before  # no job, no audit entry, the request not used


# --- refused without an approved request --------------------------------------------------------------

async def test_an_export_without_an_approved_request_is_refused_and_writes_nothing(acme, people):
    director, admin, clerk = people["director"], people["admin"], people["clerk"]
    await _refused(director, uuid4(), "EXPORT_NOT_APPROVED", acme.id)  # no request at all

    pending = await access_requests.create_request(director, purpose="回访", where=CustomerFilter())
    await _refused(director, pending.id, "EXPORT_NOT_APPROVED", acme.id)  # not yet approved

    rejected = await access_requests.create_request(director, purpose="回访", where=CustomerFilter())
    rejected = await access_requests.reject_request(admin, rejected.id, reason="范围过大")
    assert rejected.state == "rejected" and rejected.reason == "范围过大"
    await _refused(director, rejected.id, "EXPORT_NOT_APPROVED", acme.id)

    theirs = await _approved(clerk, admin)  # approved, but someone else's
    await _refused(director, theirs.id, "EXPORT_NOT_APPROVED", acme.id)

    expired = await _approved(director, admin)
    async with unit_of_work(SYSTEM.for_tenant(acme.id)) as uow:  # its approval hours have passed
        await uow.update(AccessRequest, {AccessRequest.expires_at: expired.expires_at - timedelta(hours=73)}).where(
            AccessRequest.id == expired.id)
    assert (await access_requests.get_request(director, expired.id)).state == "expired"
    await _refused(director, expired.id, "ACCESS_REQUEST_EXPIRED", acme.id)

    used = await _approved(director, admin)
    await _export(acme.id, director, used.id)
    assert (await access_requests.get_request(director, used.id)).state == "used"
    await _refused(director, used.id, "ACCESS_REQUEST_USED", acme.id)


async def test_approvals_last_the_tenants_hours_and_the_sweep_marks_them_expired(acme, people):
    director, admin = people["director"], people["admin"]
    await access_requests.update_export_rules(admin, {"export_approval_hours": 5})
    request = await _approved(director, admin)
    assert timedelta(hours=4, minutes=59) < request.expires_at - request.decided_at <= timedelta(hours=5)
    assert await access_requests.expire_requests(request.expires_at - timedelta(minutes=1)) == 0
    assert await access_requests.expire_requests(request.expires_at + timedelta(seconds=1)) == 1
    assert [r.id for r in await access_requests.list_requests(admin, state="expired")] == [request.id]


async def test_a_request_needs_a_purpose_and_known_columns(acme, people):
    for purpose, fields, code in (("  ", None, "PURPOSE_REQUIRED"),
                                  ("回访", ["shoe_size"], "ACCESS_REQUEST_FIELD_UNKNOWN"),
                                  ("回访", [], "ACCESS_REQUEST_FIELDS_EMPTY")):
        with pytest.raises(KehuError) as refused:
            await access_requests.create_request(people["director"], purpose=purpose, where=CustomerFilter(),
                                                 fields=fields)
        assert refused.value.code == code
    assert await access_requests.list_requests(people["admin"]) == []


# --- who approves -----------------------------------------------------------------------------------------

async def test_nobody_approves_their_own_request_and_only_the_approver_role_decides(acme, people):
    admin, director = people["admin"], people["director"]
    own = await access_requests.create_request(admin, purpose="审计抽查", where=CustomerFilter())
    with pytest.raises(KehuError) as refused:
        await access_requests.approve_request(admin, own.id)
    assert refused.value.code == "SEPARATION_OF_DUTIES"
    assert (await access_requests.get_request(admin, own.id)).state == "requested"

    with pytest.raises(KehuError) as denied:  # 客户总监 may ask, not approve
        await access_requests.approve_request(director, own.id)
    assert denied.value.code == "PERMISSION_DENIED"

    checker_role = await roles.create_role(SYSTEM.for_tenant(acme.id), name="数据审批员",
                                           permissions={"privacy.export.approve": T})
    await add_user(acme, "checker", role_ids=[checker_role.id])
    checker = await sign_in("acme", "checker")
    with pytest.raises(KehuError) as not_the_role:  # the permission alone is not the tenant's approver role
        await access_requests.approve_request(checker, own.id)
    assert not_the_role.value.code == "APPROVER_ROLE_REQUIRED"

    with pytest.raises(KehuError) as unknown:
        await access_requests.update_export_rules(admin, {"export_approver_role": "无此角色"})
    assert unknown.value.code == "ROLE_UNKNOWN"
    await access_requests.update_export_rules(admin, {"export_approver_role": "数据审批员"})
    approved = await access_requests.approve_request(checker, own.id)
    assert (approved.state, approved.decided_by) == ("approved", checker.actor)

    mine = await access_requests.create_request(director, purpose="回访", where=CustomerFilter())
    with pytest.raises(KehuError) as no_longer:  # the admin no longer holds the approver role
        await access_requests.approve_request(admin, mine.id)
    assert no_longer.value.code == "APPROVER_ROLE_REQUIRED"


async def test_requesters_see_their_own_requests_and_approvers_see_all(acme, people):
    director, clerk, admin = people["director"], people["clerk"], people["admin"]
    a = await access_requests.create_request(director, purpose="回访", where=CustomerFilter(tag="vip"))
    b = await access_requests.create_request(clerk, purpose="核对", where=CustomerFilter())
    assert [r.id for r in await access_requests.list_requests(director)] == [a.id]
    assert {r.id for r in await access_requests.list_requests(admin, state="requested")} == {a.id, b.id}
    with pytest.raises(KehuError) as hidden:
        await access_requests.get_request(director, b.id)
    assert hidden.value.code == "NOT_FOUND"
    assert (await access_requests.get_request(admin, a.id)).filter == CustomerFilter(tag="vip")


# --- what the export holds --------------------------------------------------------------------------------

async def test_the_export_holds_exactly_the_approved_scope_and_is_audited_with_its_row_count(acme, people):
    director, admin = people["director"], people["admin"]
    fields = ["kind", "surname", "given_name", "phones", "identifier_number", "tags"]
    request = await _approved(director, admin, fields=fields)
    job = await _export(acme.id, director, request.id)
    rows = _rows(await _download(director, job.id))
    vip, _ = await customers.list_customers(SYSTEM.for_tenant(acme.id), CustomerFilter(tag="vip"), first=100)
    assert len(rows) == len(vip) == 2  # the organisation is outside the approved filter
    assert list(rows[0]) == fields  # only the approved columns
    assert {r["phones"] for r in rows} == {";".join(c.record["phones"]) for c in vip}
    assert CLEAR_ID in {r["identifier_number"] for r in rows}  # a reader who may unmask gets clear values

    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        exported = await uow.select(AuditEntry.actor, AuditEntry.diff).where(
            (AuditEntry.action == "customer.exported") & (AuditEntry.target_id == str(job.id))).first()
        downloads = await uow.count(AuditEntry).where(AuditEntry.action == "customer.export_downloaded")
    diff = json.loads(exported["diff"])
    assert exported["actor"] == director.actor and diff["rows"] == {"to": len(rows)}
    assert diff["access_request_id"] == {"to": str(request.id)}
    assert downloads == 1
    await _download(director, job.id)
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        assert await uow.count(AuditEntry).where(AuditEntry.action == "customer.export_downloaded") == 2


async def test_a_reader_without_unmask_never_gets_a_full_phone_or_resident_id(acme, people, audit_scan):
    clerk, admin = people["clerk"], people["admin"]
    job = await _export(acme.id, clerk, (await _approved(clerk, admin)).id)
    data = await _download(clerk, job.id)
    rows = _rows(data)
    assert len(rows) == 2 and all(r["surname"] for r in rows)  # names stay readable
    text = data.decode("utf-8-sig")
    for clear in (CLEAR_PHONE, CLEAR_PHONE.removeprefix("+86"), "13987654321", CLEAR_ID):
        assert clear not in text
    assert {r["phones"] for r in rows} == {"138****5678", "139****4321"}
    assert {r["identifier_number"] for r in rows} == {"1101**********002X", ""}
    await audit_scan(CLEAR_PHONE, CLEAR_ID, "13987654321")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_the_stored_output_is_ciphertext_not_the_file(acme, people, fmt):
    director, admin = people["director"], people["admin"]
    job = await _export(acme.id, director, (await _approved(director, admin)).id, fmt)
    clear = await _download(director, job.id)
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        chunks = await uow.select(JobOutputChunk.data).where(JobOutputChunk.job_id == job.id).order_by(
            JobOutputChunk.seq)
    stored = b"".join(base64.b64decode(c["data"]) for c in chunks)
    assert stored and clear[:4] not in stored[:64] and b"PK\x03\x04" not in stored
    for needle in (CLEAR_ID.encode(), "王".encode(), b"vip"):
        assert needle not in stored
    assert len(stored) > len(clear)  # sealed segments carry their nonces and tags


# --- links ------------------------------------------------------------------------------------------------

async def test_only_the_requester_gets_a_link_once_the_export_succeeded(acme, people):
    director, admin = people["director"], people["admin"]
    request = await _approved(director, admin)
    job_id = await exporting.start_export(director, request.id)
    with pytest.raises(KehuError) as early:
        await exporting.export_link(director, job_id)
    assert early.value.code == "EXPORT_NOT_READY"
    assert await long_jobs.run_job(acme.id, job_id)
    with pytest.raises(KehuError) as other:
        await exporting.export_link(await sign_in("acme", "clerk"), job_id)
    assert other.value.code == "EXPORT_LINK_REQUESTER_ONLY"
    link = await exporting.export_link(director, job_id)
    assert link.url.startswith("/exports/")


async def test_links_are_short_lived_and_other_tenant_or_made_up_links_are_refused_over_http(
        settings, seeded, acme, registry, people):
    """Issue 16 point 4: a link lasts the tenant's minutes and downloads only with its requester's
    own credentials; made-up, old signed-token and other-tenant links are refused alike."""
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app
    from tests.gateway.test_identity_api import gql, login

    director, admin = people["director"], people["admin"]
    job = await _export(acme.id, director, (await _approved(director, admin)).id)
    await access_requests.update_export_rules(admin, {"export_link_minutes": 2})
    link = await exporting.export_link(director, job.id)
    assert timedelta(minutes=1) < link.expires_at - exporting.now() <= timedelta(minutes=2)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    async with AsyncTestClient(create_app(relaxed, registry=registry)) as client:
        def code(response) -> str:
            return response.json()["errors"][0]["extensions"]["code"]

        as_director = {"authorization": f"Bearer {(await login(client, username='director'))['accessToken']}"}
        old_style = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoia2VodS1leHBvcnQrand0In0.e30.c2ln"
        for made_up in (str(uuid4()), "not-a-link", old_style):
            refused = await client.get(f"/exports/{made_up}", headers=as_director)
            assert (refused.status_code, code(refused)) == (404, "EXPORT_LINK_INVALID"), made_up
        globex_token = (await login(client, tenant="globex"))["accessToken"]
        other = await client.get(link.url, headers={"authorization": f"Bearer {globex_token}"})
        assert (other.status_code, code(other)) == (404, "EXPORT_LINK_INVALID")

        ok = await client.get(link.url, headers=as_director)
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/csv")
        assert len(_rows(ok.content)) == 2 and int(ok.headers["content-length"]) == len(ok.content)

        acme_token = (await login(client))["accessToken"]
        old_route = await client.get(f"/jobs/{job.id}/output", headers={"authorization": f"Bearer {acme_token}"})
        assert (old_route.status_code, code(old_route)) == (403, "EXPORT_LINK_REQUIRED")

        # The whole workflow over GraphQL: ask, approve, start, link.
        director_token = (await login(client, username="director"))["accessToken"]
        created = (await gql(client, 'mutation { accessRequestCreate(purpose: "回访", scope: {filter: {tag: "vip"}, '
                                     'fields: ["kind", "surname", "phones"]}) { request { id state scope { filter '
                                     'fields } } errors { code } } }', director_token)).json()
        request = created["data"]["accessRequestCreate"]["request"]
        assert request["state"] == "requested" and request["scope"] == {"filter": {"tag": "vip"},
                                                                        "fields": ["kind", "surname", "phones"]}
        start = ('mutation($r: ID!) { customerExportStart(accessRequestId: $r, format: "csv") { job { id } '
                 'errors { code } } }')
        early = (await gql(client, start, director_token, r=request["id"])).json()["data"]["customerExportStart"]
        assert early == {"job": None, "errors": [{"code": "EXPORT_NOT_APPROVED"}]}
        not_an_approver = (await gql(client, 'mutation($r: ID!) { accessRequestApprove(id: $r) { errors { code } } }',
                                     director_token, r=request["id"])).json()
        assert not_an_approver["data"]["accessRequestApprove"]["errors"][0]["code"] == "PERMISSION_DENIED"
        approved = (await gql(client, 'mutation($r: ID!) { accessRequestApprove(id: $r) { request { state } '
                                      'errors { code } } }', acme_token, r=request["id"])).json()
        assert approved["data"]["accessRequestApprove"] == {"request": {"state": "approved"}, "errors": []}
        started = (await gql(client, start, director_token, r=request["id"])).json()["data"]["customerExportStart"]
        assert started["errors"] == []  # the app's own worker runs it
        link_mutation = 'mutation($j: ID!) { customerExportLink(jobId: $j) { url expiresAt errors { code } } }'
        for _ in range(400):  # the app's worker finishes the job in the background
            body = (await gql(client, link_mutation, director_token, j=started["job"]["id"])).json()
            issued = body["data"]["customerExportLink"]
            if issued["errors"] != [{"code": "EXPORT_NOT_READY"}]:
                break
            await asyncio.sleep(0.05)
        assert issued["errors"] == [] and issued["url"].startswith("/exports/"), body
        download = await client.get(issued["url"], headers={"authorization": f"Bearer {director_token}"})
        assert download.status_code == 200
        assert [list(r) for r in _rows(download.content)][0] == ["kind", "surname", "phones"]
        listed = (await gql(client, '{ accessRequests(state: "used") { nodes { id jobId } } }', acme_token)).json()
        assert {"id": request["id"], "jobId": started["job"]["id"]} in listed["data"]["accessRequests"]["nodes"]
