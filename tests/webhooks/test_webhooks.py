"""Outgoing webhooks: one delivery per subscribed active endpoint, exactly once per event; signed
Standard Webhooks requests to a real local HTTP receiver (loopback allowed, as
KEHU_WEBHOOKS_ALLOW_LOOPBACK does; test_targets.py covers where webhooks may not go); retries with
backoff logged per attempt, then failed and replayable; a failing endpoint disabled with an audit
entry; no values in payloads."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs import outbox
from core.tenancy import service as tenancy
from core.webhooks import delivery, service
from core.webhooks.tables import WebhookDelivery
from tests.webhooks.support import attempts_of, audit_entries, ctx_of, deliveries_of, emit_event, run_inline


async def test_urls_must_be_https(tenant):
    for bad in ("http://example.com/hook", "ftp://example.com/x", "not a url", "https://user:pw@example.com/"):
        with pytest.raises(KehuError) as caught:
            await service.create_endpoint(ctx_of(tenant), bad, ["*"])
        assert caught.value.code == "URL_INVALID"
    with pytest.raises(KehuError) as caught:
        await service.create_endpoint(ctx_of(tenant), "https://example.com/hook", ["Not An Event"])
    assert caught.value.code == "EVENT_TYPES_INVALID"
    view, secret = await service.create_endpoint(ctx_of(tenant), "https://example.com/hook", ["department.created"])
    assert secret.startswith("whsec_") and view.status == "active" and view.event_types == ("department.created",)
    [entry] = await audit_entries(tenant, "webhook.created")
    assert secret not in entry["diff"] and json.loads(entry["diff"])["secret"] == {"changed": True}


async def test_an_event_becomes_one_delivery_per_subscribed_active_endpoint_once(tenant, receiver):
    exact, _ = await service.create_endpoint(ctx_of(tenant), receiver.url("/exact"), ["department.created"])
    wildcard, _ = await service.create_endpoint(ctx_of(tenant), receiver.url("/all"), ["*"])
    await service.create_endpoint(ctx_of(tenant), receiver.url("/other"), ["department.renamed"])
    disabled, _ = await service.create_endpoint(ctx_of(tenant), receiver.url("/off"), ["*"])
    await service.update_endpoint(ctx_of(tenant), disabled.id, status="disabled")

    event_id = await emit_event(tenant)
    rows = await deliveries_of(tenant)
    assert sorted(str(r["endpoint_id"]) for r in rows) == sorted([str(exact.id), str(wildcard.id)])
    assert {r["event_id"] for r in rows} == {event_id} and {r["status"] for r in rows} == {"pending"}

    assert await outbox.run_event(tenant.id, event_id) is False  # the duplicate run adds nothing
    async with unit_of_work(ctx_of(tenant)) as uow:  # nor does running the handler itself again
        event = outbox.Event(id=event_id, tenant_id=tenant.id, event_type="department.created",
                             aggregate_type="department", aggregate_id="d1", payload={"changed": ["name"]},
                             attempts=1)
        await delivery.enqueue(uow, event)
    assert len(await deliveries_of(tenant)) == 2


async def test_the_sweep_delivers_signed_requests_the_receiver_can_verify(tenant, receiver):
    endpoint, secret = await service.create_endpoint(ctx_of(tenant), receiver.url(), ["department.created"])
    other_secret = (await service.create_endpoint(ctx_of(tenant), "https://example.com/x", ["user.created"]))[1]
    event_id = await emit_event(tenant)

    assert await delivery.deliver_due(delivery.now()) == 1
    assert await delivery.deliver_due(delivery.now()) == 0  # delivered once
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["webhook-id"] == str(event_id) and headers["content-type"] == "application/json"
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    message = json.loads(body)
    assert message["type"] == "department.created"
    assert message["data"] == {"id": "d1", "type": "department", "changed": ["name"]}

    assert delivery.verify_signature(secret, headers, body)
    assert not delivery.verify_signature(secret, headers, body.replace(b"d1", b"d2"))  # tampered body
    assert not delivery.verify_signature(other_secret, headers, body)  # wrong secret
    assert not delivery.verify_signature(secret, headers, body, at=time.time() + 301)  # too old
    assert not delivery.verify_signature(secret, {**headers, "webhook-id": "msg_other"}, body)

    [row] = await deliveries_of(tenant)
    assert row["status"] == "succeeded" and row["attempts"] == 1 and row["last_status_code"] == 200
    [attempt] = await attempts_of(tenant, row["id"])
    assert attempt["status_code"] == 200 and attempt["error"] is None
    assert (await service.get_endpoint(ctx_of(tenant), endpoint.id)).consecutive_failures == 0


async def test_failures_are_retried_with_backoff_then_failed_the_endpoint_disabled_and_replay_works(
        tenant, receiver, monkeypatch):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(delivery, "DISABLE_AFTER", 3)
    receiver.status = 500
    endpoint, _ = await service.create_endpoint(ctx_of(tenant), receiver.url(), ["*"])
    await emit_event(tenant)
    [row] = await deliveries_of(tenant)

    clock = delivery.now()
    assert await delivery.deliver_due(clock) == 1
    first = (await deliveries_of(tenant))[0]
    assert first["status"] == "pending" and first["attempts"] == 1 and first["last_status_code"] == 500
    assert first["due_at"] >= clock + delivery.backoff(1) - timedelta(seconds=1)
    assert await delivery.deliver_due(clock + timedelta(seconds=5)) == 0  # not before its backoff
    for attempt in (2, 3):
        clock += delivery.backoff(attempt - 1) + timedelta(seconds=1)
        assert await delivery.deliver_due(clock) == 1
    assert delivery.backoff(2) == 2 * delivery.backoff(1) and delivery.backoff(40) == delivery.BACKOFF_CAP

    failed = (await deliveries_of(tenant))[0]
    assert failed["status"] == "failed" and failed["attempts"] == 3 and failed["last_error"] == "WEBHOOK_HTTP_500"
    attempts = await attempts_of(tenant, row["id"])
    assert len(attempts) == 3 == len(receiver.requests) and {a["status_code"] for a in attempts} == {500}

    disabled = await service.get_endpoint(ctx_of(tenant), endpoint.id)
    assert disabled.status == "disabled" and disabled.consecutive_failures == 3 and disabled.disabled_reason
    [notice] = await audit_entries(tenant, "webhook.disabled")
    assert notice["target_id"] == str(endpoint.id)

    # Deliveries of a disabled endpoint wait; re-enabling resets its failures; replay sends it again.
    receiver.status = 200
    replayed = await service.replay_delivery(ctx_of(tenant), row["id"])
    assert replayed.status == "pending" and replayed.attempts == 0
    assert await delivery.deliver_due(clock + timedelta(days=1)) == 0
    enabled = await service.update_endpoint(ctx_of(tenant), endpoint.id, status="active")
    assert enabled.status == "active" and enabled.consecutive_failures == 0 and enabled.disabled_at is None
    assert await delivery.deliver_due(delivery.now()) == 1
    done = (await deliveries_of(tenant))[0]
    assert done["status"] == "succeeded" and done["delivered_at"] is not None
    log = await service.list_attempts(ctx_of(tenant), row["id"])  # the attempt log integrators read
    assert sorted(a.status_code for a in log) == [200, 500, 500, 500]  # (this test moves the clock about)
    assert [a.attempted_at for a in log] == sorted(a.attempted_at for a in log)
    assert [d.status for d in await service.list_deliveries(ctx_of(tenant), endpoint.id)] == ["succeeded"]
    assert len(await audit_entries(tenant, "webhook.replayed")) == 1


async def test_an_unreachable_endpoint_counts_as_a_failed_attempt(tenant, receiver):
    url = receiver.url()
    receiver.server.shutdown()
    receiver.server.server_close()
    await service.create_endpoint(ctx_of(tenant), url, ["*"])
    await emit_event(tenant)
    assert await delivery.deliver_due(delivery.now()) == 1
    [row] = await deliveries_of(tenant)
    assert row["status"] == "pending" and row["last_status_code"] is None
    assert row["last_error"] == "WEBHOOK_CONNECT_FAILED"  # coded: the transport's text would tell ports apart


async def test_a_claimed_delivery_is_not_sent_twice_and_a_lost_claim_is_retried(tenant, receiver):
    await service.create_endpoint(ctx_of(tenant), receiver.url(), ["*"])
    await emit_event(tenant)
    [row] = await deliveries_of(tenant)
    async with unit_of_work(ctx_of(tenant)) as uow:  # another sweep claimed it and then died
        await uow.update(WebhookDelivery, {WebhookDelivery.status: "delivering",
                                           WebhookDelivery.due_at: delivery.now() + delivery.CLAIM_TIMEOUT}).where(
            WebhookDelivery.id == row["id"])
    assert await delivery.deliver_due(delivery.now()) == 0
    later = delivery.now() + delivery.CLAIM_TIMEOUT + timedelta(seconds=1)
    assert await delivery.deliver_due(later) == 1 and len(receiver.requests) == 1


async def test_payloads_carry_field_names_never_values(tenant, receiver):
    await service.create_endpoint(ctx_of(tenant), receiver.url(), ["department.created"])
    department = await tenancy.create_department(ctx_of(tenant), name="机密部门")
    await outbox.relay_once(run_inline)
    assert await delivery.deliver_due(delivery.now()) == 1
    [request] = receiver.requests
    assert "机密部门".encode() not in request["body"] and "机密部门" not in request["body"].decode()
    message = json.loads(request["body"])
    assert message["data"]["id"] == str(department.id) and "name" in message["data"]["changed"]
    [row] = await deliveries_of(tenant)
    assert "机密部门" not in row["payload"]


async def test_endpoints_are_listed_updated_and_deleted_with_audit(tenant, receiver):
    endpoint, _ = await service.create_endpoint(ctx_of(tenant), receiver.url(), ["*"], description="crm sync")
    await emit_event(tenant)
    await delivery.deliver_due(delivery.now())
    updated = await service.update_endpoint(ctx_of(tenant), endpoint.id, event_types=["department.renamed"],
                                            description="only renames")
    assert updated.event_types == ("department.renamed",) and updated.description == "only renames"
    assert [e.id for e in await service.list_endpoints(ctx_of(tenant))] == [endpoint.id]
    await service.delete_endpoint(ctx_of(tenant), endpoint.id)
    assert await service.list_endpoints(ctx_of(tenant)) == []
    assert await deliveries_of(tenant) == []
    assert len(await audit_entries(tenant, "webhook.updated")) == 1 and len(await audit_entries(tenant, "webhook.deleted")) == 1


async def test_webhook_management_needs_the_permission(tenant):
    from core.context import Principal
    from core.identity.access import PermissionDenied

    nobody = Context.for_principal(Principal(tenant_id=tenant.id, user_id=None, api_key_id=None, permissions={}))
    with pytest.raises(PermissionDenied):
        await service.create_endpoint(nobody, "https://example.com/hook", ["*"])
    with pytest.raises(PermissionDenied):
        await service.list_deliveries(nobody)
