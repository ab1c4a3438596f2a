"""Issue 16 point 4: a customer export's download link is no credential.

The URL holds no key material and nothing that opens the file by itself: the download needs the
requester's own sign-in, works once and for minutes; another user, a second use, an expired link
or no sign-in are refused with codes (and audited where someone tried a link not theirs to use).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from core.audit.tables import AuditEntry
from core.context import Context
from core.customers import exporting
from core.customers import service as customers
from core.customers.export_tables import CustomerExportLink
from core.customers.service import CustomerFilter
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles
from core.identity.permissions import Scope
from core.jobs import long_jobs
from core.jobs.tables import LongJob
from core.privacy import access_requests
from tests.customers.conftest import ORGANISATION, PERSON
from tests.support import SYSTEM, add_user, sign_in

CLEAR_ID = PERSON["identifier"]["number"]


@pytest.fixture
async def export(acme, registry):
    """A finished export of acme's vip customers (in clear) by its director, approved by the admin."""
    system = SYSTEM.for_tenant(acme.id)
    role_ids = {r.name: r.id for r in await roles.list_roles(system)}
    clerk_role = await roles.create_role(system, name="导出专员", permissions={
        "customer.read": Scope.TENANT, "customer.export": Scope.TENANT, "privacy.export.request": Scope.TENANT})
    await add_user(acme, "director", role_ids=[role_ids["客户总监"]])
    await add_user(acme, "clerk", role_ids=[clerk_role.id])
    await customers.create_customer(system, registry, {**PERSON, "tags": ["vip"], "status": "active"})
    await customers.create_customer(system, registry, {**ORGANISATION, "tags": ["other"]})
    director, admin = await sign_in("acme", "director"), await sign_in("acme", "admin")
    request = await access_requests.create_request(director, purpose="年度回访", where=CustomerFilter(tag="vip"))
    await access_requests.approve_request(admin, request.id)
    job_id = await exporting.start_export(director, request.id)
    assert await long_jobs.run_job(acme.id, job_id)
    return {"job_id": job_id, "director": director, "admin": admin, "clerk": await sign_in("acme", "clerk")}


async def _file_key(tenant_id: UUID, job_id: UUID) -> bytes:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        params = json.loads((await uow.select(LongJob.params).where(LongJob.id == job_id).first())["params"])
    return exporting._file_key(params["key_id"], params["salt"], tenant_id, job_id)


def _decoded_parts(url: str) -> list[str]:
    """Every path segment (and dot-separated piece) of ``url`` read as base64url, where it decodes."""
    parts = []
    for piece in url.replace(".", "/").split("/"):
        try:
            parts.append(base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4)).decode("latin-1"))
        except ValueError:
            continue
    return parts


async def _read(download: exporting.ExportDownload) -> list[dict[str, str]]:
    data = b"".join([chunk async for chunk in download.chunks])
    assert download.size == len(data)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def _audited(tenant_id: UUID, action: str) -> list[dict]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.select(AuditEntry.actor, AuditEntry.diff, AuditEntry.target_id).where(
            AuditEntry.action == action).order_by(AuditEntry.seq)


def _detail(diff: str, key: str):
    value = json.loads(diff)[key]
    return value["to"] if isinstance(value, dict) else value  # the audit log keeps a plain value as {"to": …}


async def _expire(tenant_id: UUID, link_id: UUID) -> None:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        await uow.update(CustomerExportLink, {CustomerExportLink.expires_at: exporting.now() - timedelta(seconds=1)}
                         ).where(CustomerExportLink.id == link_id)


async def test_the_link_holds_no_key_material_and_the_key_is_in_no_row(acme, export):
    """Issue 16 point 4: the URL is /exports/<link id>; neither it nor any stored link row holds
    the file key (raw, base64 or hex), so an access log line or a copied URL decrypts nothing."""
    job_id, director = export["job_id"], export["director"]
    link = await exporting.export_link(director, job_id)
    key = await _file_key(acme.id, job_id)
    assert link.url == f"/exports/{link.id}" and len(link.url) < 60
    shown = (base64.urlsafe_b64encode(key).decode().rstrip("="), base64.b64encode(key).decode().rstrip("="),
             key.hex(), key.decode("latin-1"))
    for part in [link.url, *_decoded_parts(link.url)]:  # a signed token would carry it one encoding deeper
        assert not any(s in part for s in shown), "the link carries the file key"
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        stored = await uow.select(CustomerExportLink).where(CustomerExportLink.id == link.id).first()
        entries = await uow.select(AuditEntry.diff).where(AuditEntry.target_id == str(job_id))
    text = json.dumps(stored, default=str) + json.dumps(entries)
    for shown in (base64.urlsafe_b64encode(key).decode().rstrip("="), base64.b64encode(key).decode().rstrip("="),
                  key.hex()):
        assert shown not in text
    assert stored["issued_to"] == director.actor and stored["used_at"] is None


async def test_the_link_is_short_lived_by_a_tenant_setting_in_minutes(acme, export):
    """Issue 16 point 4: a link lasts minutes (10 by default, the tenant's export_link_minutes,
    at most 60), not the day it used to."""
    director, admin = export["director"], export["admin"]
    at = exporting.now()
    link = await exporting.export_link(director, export["job_id"])
    assert timedelta(minutes=9) < link.expires_at - at <= timedelta(minutes=10, seconds=5)
    await access_requests.update_export_rules(admin, {"export_link_minutes": 3})
    at = exporting.now()
    shorter = await exporting.export_link(director, export["job_id"])
    assert timedelta(minutes=2) < shorter.expires_at - at <= timedelta(minutes=3, seconds=5)
    for wrong in (0, 61, "5", 24 * 60):
        with pytest.raises(KehuError) as refused:
            await access_requests.update_export_rules(admin, {"export_link_minutes": wrong})
        assert refused.value.code == "SETTING_INVALID"
    with pytest.raises(KehuError) as gone:
        await access_requests.update_export_rules(admin, {"export_link_hours": 24})
    assert gone.value.code == "SETTING_UNKNOWN"


async def test_only_the_signed_in_requester_downloads_once_and_the_right_content(acme, export):
    """Issue 16 point 4: without sign-in, as another user, a second time or after expiry the link
    is refused with a code; the requester's one download decrypts the exported customers."""
    job_id, director, clerk, admin = export["job_id"], export["director"], export["clerk"], export["admin"]
    link = await exporting.export_link(director, job_id)

    refusals = [
        (Context.anonymous(), "UNAUTHENTICATED"),  # the link id alone opens nothing
        (clerk, "EXPORT_LINK_REQUESTER_ONLY"),  # may export, but this link is not theirs
        (admin, "EXPORT_LINK_REQUESTER_ONLY"),  # holds every permission, still not theirs
    ]
    for ctx, code in refusals:
        with pytest.raises(KehuError) as refused:
            await exporting.open_link(ctx, link.id)
        assert refused.value.code == code

    rows = await _read(await exporting.open_link(director, link.id))
    assert [(r["surname"], r["identifier_number"]) for r in rows] == [("王", CLEAR_ID)]

    with pytest.raises(KehuError) as again:
        await exporting.open_link(director, link.id)
    assert again.value.code == "EXPORT_LINK_USED"

    expiring = await exporting.export_link(director, job_id)
    await _expire(acme.id, expiring.id)
    with pytest.raises(KehuError) as expired:
        await exporting.open_link(director, expiring.id)
    assert expired.value.code == "EXPORT_LINK_EXPIRED"

    with pytest.raises(KehuError) as unknown:
        await exporting.open_link(director, uuid4())
    assert unknown.value.code == "EXPORT_LINK_INVALID"

    refused = await _audited(acme.id, "customer.export_link_refused")
    assert [(r["actor"], _detail(r["diff"], "reason")) for r in refused] == [
        (clerk.actor, "EXPORT_LINK_REQUESTER_ONLY"), (admin.actor, "EXPORT_LINK_REQUESTER_ONLY"),
        (director.actor, "EXPORT_LINK_USED"), (director.actor, "EXPORT_LINK_EXPIRED")]
    downloaded = await _audited(acme.id, "customer.export_downloaded")
    assert [(r["actor"], _detail(r["diff"], "link")) for r in downloaded] == [(director.actor, str(link.id))]


async def test_a_refused_attempt_does_not_use_up_the_link(acme, export):
    """Issue 16 point 4: another user's try, or one without sign-in, leaves the link to its requester."""
    director, clerk = export["director"], export["clerk"]
    link = await exporting.export_link(director, export["job_id"])
    for ctx in (Context.anonymous(), clerk):
        with pytest.raises(KehuError):
            await exporting.open_link(ctx, link.id)
    assert len(await _read(await exporting.open_link(director, link.id))) == 1


async def test_the_requester_must_still_hold_the_permissions_the_file_was_made_with(acme, export):
    """Issue 16 point 4: the download is a read as the requester now: without customer.export,
    or without unmask for a file in clear, it is refused and the link stays unused."""
    director = export["director"]
    link = await exporting.export_link(director, export["job_id"])
    held = dict(director.principal.permissions)
    for dropped in ("customer.export", "customer.pii.unmask"):
        weaker = replace(director, principal=replace(
            director.principal, permissions={k: v for k, v in held.items() if k != dropped}))
        with pytest.raises(KehuError) as refused:
            await exporting.open_link(weaker, link.id)
        assert refused.value.code == "PERMISSION_DENIED"
    assert len(await _read(await exporting.open_link(director, link.id))) == 1


async def test_two_concurrent_downloads_of_one_link_give_one_file(acme, export):
    """Issue 16 point 4: single use holds under concurrency: exactly one of two racing downloads
    gets the file, the other EXPORT_LINK_USED."""
    director = export["director"]
    link = await exporting.export_link(director, export["job_id"])
    results = await asyncio.gather(*(exporting.open_link(director, link.id) for _ in range(2)),
                                   return_exceptions=True)
    opened = [r for r in results if isinstance(r, exporting.ExportDownload)]
    refused = [r.code for r in results if isinstance(r, KehuError)]
    assert len(opened) == 1 and refused == ["EXPORT_LINK_USED"], results
    assert len(await _read(opened[0])) == 1


async def test_over_http_the_download_needs_the_requesters_own_authorization(settings, seeded, acme, registry,
                                                                              export):
    """Issue 16 point 4, over HTTP: GET /exports/<id> answers 401 without credentials, 403 to
    another user, 404 to another tenant and to an old signed-token link, 200 with the file once to
    the requester's bearer token, then 410 (used; expired)."""
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app
    from tests.gateway.test_identity_api import gql, login

    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    job_id = str(export["job_id"])

    def code(response) -> tuple[int, str]:
        return response.status_code, response.json()["errors"][0]["extensions"]["code"]

    async with AsyncTestClient(create_app(relaxed, registry=registry)) as client:
        director = {"authorization": f"Bearer {(await login(client, username='director'))['accessToken']}"}
        clerk = {"authorization": f"Bearer {(await login(client, username='clerk'))['accessToken']}"}
        globex = {"authorization": f"Bearer {(await login(client, tenant='globex'))['accessToken']}"}
        link_mutation = 'mutation($j: ID!) { customerExportLink(jobId: $j) { url expiresAt errors { code } } }'
        issued = (await gql(client, link_mutation, director["authorization"][7:], j=job_id)).json()
        issued = issued["data"]["customerExportLink"]
        assert issued["errors"] == [] and issued["url"].startswith("/exports/"), issued
        url = issued["url"]

        assert code(await client.get(url)) == (401, "UNAUTHENTICATED")
        assert code(await client.get(url, headers=clerk)) == (403, "EXPORT_LINK_REQUESTER_ONLY")
        assert code(await client.get(url, headers=globex)) == (404, "EXPORT_LINK_INVALID")
        old_style = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoia2VodS1leHBvcnQrand0In0.e30.c2ln"
        assert code(await client.get(f"/exports/{old_style}", headers=director)) == (404, "EXPORT_LINK_INVALID")

        ok = await client.get(url, headers=director)
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/csv")
        assert ok.headers["cache-control"] == "no-store" and int(ok.headers["content-length"]) == len(ok.content)
        rows = list(csv.DictReader(io.StringIO(ok.content.decode("utf-8-sig"))))
        assert [r["identifier_number"] for r in rows] == [CLEAR_ID]
        assert code(await client.get(url, headers=director)) == (410, "EXPORT_LINK_USED")

        again = (await gql(client, link_mutation, director["authorization"][7:], j=job_id)).json()
        fresh = again["data"]["customerExportLink"]["url"]
        assert fresh != url
    await _expire(acme.id, UUID(fresh.removeprefix("/exports/")))  # not while the app holds the database
    async with AsyncTestClient(create_app(relaxed, registry=registry)) as client:
        assert code(await client.get(fresh, headers=director)) == (410, "EXPORT_LINK_EXPIRED")


async def test_an_api_keys_link_opens_only_with_that_key(acme, export):
    """Issue 16 point 4: a link asked for by an integrator's API key is bound to that key: the same
    key downloads it, a user of the tenant (even the key's creator) or another key may not."""
    from core.identity import api_keys, sessions

    admin = export["admin"]
    wanted = ["customer.read", "customer.export", "privacy.export.request"]
    keys = []
    for name in ("crm-sync", "crm-other"):
        _, secret = await api_keys.create_api_key(admin, name=name, permissions=wanted)
        keys.append(Context.for_principal(await sessions.authenticate_api_key(secret)))
    key, other_key = keys
    request = await access_requests.create_request(key, purpose="同步", where=CustomerFilter(tag="vip"))
    await access_requests.approve_request(admin, request.id)
    job_id = await exporting.start_export(key, request.id)
    assert await long_jobs.run_job(acme.id, job_id)
    link = await exporting.export_link(key, job_id)
    for ctx in (admin, other_key):
        with pytest.raises(KehuError) as refused:
            await exporting.open_link(ctx, link.id)
        assert refused.value.code == "EXPORT_LINK_REQUESTER_ONLY"
    rows = await _read(await exporting.open_link(key, link.id))
    assert [r["surname"] for r in rows] == ["王"] and rows[0]["identifier_number"] != CLEAR_ID  # masked for a key
