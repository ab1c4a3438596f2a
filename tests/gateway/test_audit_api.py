"""The audit log over HTTP: filtered, paged reading for auditors, verification, JSON Lines export."""

import asyncio
import json

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login as login_payload, new_user


async def login(client, **kwargs) -> str:
    return (await login_payload(client, **kwargs))["accessToken"]


@pytest.fixture
async def client(settings, seeded):
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    async with AsyncTestClient(create_app(relaxed)) as test_client:
        yield test_client


ENTRIES = '''query($filter: AuditFilterInput, $first: Int, $after: String) {
  auditEntries(filter: $filter, first: $first, after: $after) {
    edges { cursor node { seq action actor targetType targetId diff requestId } }
    pageInfo { hasNextPage endCursor } } }'''


async def test_auditors_read_what_happened_newest_first(client):
    admin = await login(client)
    user_id = await new_user(client, admin, "auditee")
    body = (await gql(client, ENTRIES, admin, filter={"action": "user.created", "targetId": user_id})).json()
    [edge] = body["data"]["auditEntries"]["edges"]
    assert edge["node"]["targetType"] == "user" and edge["node"]["actor"].startswith("user:")
    assert json.loads(edge["node"]["diff"])["username"] == {"to": "auditee"}
    everything = (await gql(client, ENTRIES, admin, first=100)).json()["data"]["auditEntries"]["edges"]
    seqs = [e["node"]["seq"] for e in everything]
    assert seqs == sorted(seqs, reverse=True)


async def test_audit_pages_with_cursors(client):
    admin = await login(client)
    for i in range(3):
        await new_user(client, admin, f"paged{i}")
    seen, after = [], None
    while True:
        page = (await gql(client, ENTRIES, admin, first=2, after=after)).json()["data"]["auditEntries"]
        seen += [e["node"]["seq"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(set(seen), reverse=True) and len(seen) >= 6


async def test_audit_verify_over_graphql(client):
    admin = await login(client)
    result = (await gql(client, "{ auditVerify { ok checked position kind } }", admin)).json()["data"]["auditVerify"]
    assert result["ok"] is True and result["checked"] > 0 and result["position"] is None


async def test_export_streams_json_lines(client):
    admin = await login(client)
    await new_user(client, admin, "exported")
    response = await client.get("/audit/export", params={"action": "user.created"},
                                headers={"authorization": f"Bearer {admin}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines and all(line["action"] == "user.created" for line in lines)
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)


async def test_export_needs_audit_read(client):
    assert (await client.get("/audit/export")).status_code == 401
    admin = await login(client)
    await new_user(client, admin, "noaudit")
    plain = await login(client, username="noaudit")
    denied = await client.get("/audit/export", headers={"authorization": f"Bearer {plain}"})
    assert denied.status_code == 403 and denied.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    bad = await client.get("/audit/export", params={"since": "yesterday"}, headers={"authorization": f"Bearer {admin}"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["code"] == "DATE_INVALID"


async def test_each_tenant_reads_only_its_own_audit(client):
    acme = await login(client)
    globex = await login(client, tenant="globex")
    await new_user(client, acme, "acme-only")
    hits = (await gql(client, ENTRIES, globex, filter={"action": "user.created"}, first=100)).json()
    assert all("acme-only" not in e["node"]["diff"] for e in hits["data"]["auditEntries"]["edges"])


JOB = "query($id: ID!) { job(id: $id) { status progressDone progressTotal progressPercent result downloadUrl errorCode } }"


async def test_an_audit_export_runs_as_a_job_with_progress_and_downloads_once_done(client):
    admin = await login(client)
    for i in range(3):
        await new_user(client, admin, f"exported{i}")
    started = (await gql(client, 'mutation { auditExportStart(filter: {action: "user.created"}) '
                                 '{ job { id status kind } errors { code } } }', admin)).json()["data"]["auditExportStart"]
    assert started["errors"] == [] and started["job"]["kind"] == "audit.export"
    job_id = started["job"]["id"]
    job = started["job"]
    for _ in range(200):  # the embedded worker runs it in the background
        job = (await gql(client, JOB, admin, id=job_id)).json()["data"]["job"]
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "succeeded", job
    # the founding administrator and the three above
    assert (job["progressDone"], job["progressTotal"], job["progressPercent"]) == (4, 4, 100.0)
    assert json.loads(job["result"]) == {"entries": 4}
    response = await client.get(job["downloadUrl"], headers={"authorization": f"Bearer {admin}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["action"] for line in lines] == ["user.created"] * 4
    assert {line["targetType"] for line in lines} == {"user"}

    # Another tenant's administrator neither sees the job nor downloads its output.
    other = await login(client, tenant="globex")
    assert (await gql(client, JOB, other, id=job_id)).json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    refused = await client.get(job["downloadUrl"], headers={"authorization": f"Bearer {other}"})
    assert refused.status_code == 404 and refused.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    anonymous = await client.get(job["downloadUrl"])
    assert anonymous.status_code == 401
