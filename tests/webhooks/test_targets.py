"""Issue 16 point 3: webhooks may not reach into the private network. A tenant chooses the URL, so
kehu refuses private, loopback, link-local, multicast and reserved targets when an endpoint is
created or changed and again, on the address it is about to connect to, at every delivery (DNS
rebinding); it follows no redirect and stores only a coded error, so the delivery log cannot be
used as a port scanner. The resolver here answers whatever a test says (see conftest.py)."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpcore
import pytest

from core.db import unit_of_work
from core.errors import ConfigurationError, KehuError
from core.settings import load_settings, new_signing_secret
from core.webhooks import delivery, service, targets
from core.webhooks.tables import WebhookAttempt
from tests.webhooks.support import Receiver, attempts_of, audit_entries, ctx_of, deliveries_of, emit_event

PUBLIC = "93.184.215.14"
CODES = {"WEBHOOK_TARGET_FORBIDDEN", "WEBHOOK_NAME_UNRESOLVED", "WEBHOOK_CONNECT_FAILED", "WEBHOOK_TLS_FAILED",
         "WEBHOOK_TIMEOUT", "WEBHOOK_TRANSPORT_FAILED"}

FORBIDDEN = [
    "https://169.254.169.254/latest/meta-data/iam/",  # cloud instance metadata
    "https://10.0.0.5/hook", "https://172.16.0.1/", "https://192.168.1.1/",
    "https://localhost:5432/", "https://LOCALHOST./", "https://api.localhost:8443/",
    "https://127.0.0.1:8443/", "https://[::1]:8443/", "https://[::]:8443/", "https://0.0.0.0:8443/",
    "https://[::ffff:10.0.0.5]/", "https://[::ffff:169.254.169.254]/", "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[64:ff9b::a00:5]/",  # NAT64 of 10.0.0.5
    "https://[2002:a00:5::1]/",  # 6to4 of 10.0.0.5
    "https://[::a00:5]/",  # IPv4-compatible
    "https://100.64.0.1/",  # carrier-grade NAT
    "https://224.0.0.1/", "https://[ff02::1]/", "https://255.255.255.255/",  # multicast, broadcast
    "https://[fe80::1]/", "https://[fc00::1]/", "https://[fec0::1]/", "https://198.18.0.1/", "https://240.0.0.1/",
    "https://2130706433/", "https://0x7f.1/", "https://017700000001/", "https://10.1/",  # other spellings
    "https://metadata/", "https://metadata.google.internal/computeMetadata/v1/", "https://printer.local/",
    "https://intranet.example.com/hook",  # resolves to a private address
    "https://mixed.example.com/hook",  # resolves to a public and a private address
    "https://example.com:22/", "https://example.com:25/",  # well-known ports other than 443
]


@pytest.fixture
def names(resolver):
    resolver.answers.update({"intranet.example.com": ["10.1.2.3"], "mixed.example.com": [PUBLIC, "10.1.2.3"],
                             "hooks.example.com": [PUBLIC],
                             "v6.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})
    return resolver


@pytest.mark.parametrize("url", FORBIDDEN)
async def test_an_endpoint_for_a_private_target_is_refused_and_nothing_is_written(tenant, names, url):
    """Issue 16 point 3: creation refuses private, loopback, link-local, multicast and reserved
    targets, in any spelling, and names resolving to any such address; nothing is written, and the
    message does not tell the caller what the name resolved to."""
    with pytest.raises(KehuError) as caught:
        await service.create_endpoint(ctx_of(tenant), url, ["*"])
    assert caught.value.code == "WEBHOOK_URL_FORBIDDEN" and caught.value.field == "url"
    assert "10.1.2.3" not in caught.value.message("en") + caught.value.message("zh")
    assert await service.list_endpoints(ctx_of(tenant)) == []
    assert await audit_entries(tenant, "webhook.created") == []


async def test_an_endpoint_cannot_be_moved_to_a_private_target(tenant, names):
    """Issue 16 point 3: updating the URL is checked like creating it; the stored URL stays."""
    endpoint, _ = await service.create_endpoint(ctx_of(tenant), "https://hooks.example.com/hook", ["*"])
    for url in ("https://169.254.169.254/", "https://intranet.example.com/", "https://[::ffff:10.0.0.5]/"):
        with pytest.raises(KehuError) as caught:
            await service.update_endpoint(ctx_of(tenant), endpoint.id, url=url)
        assert caught.value.code == "WEBHOOK_URL_FORBIDDEN"
    assert (await service.get_endpoint(ctx_of(tenant), endpoint.id)).url == "https://hooks.example.com/hook"
    assert await audit_entries(tenant, "webhook.updated") == []


async def test_public_targets_are_accepted(tenant, names):
    """Issue 16 point 3: the rules refuse only what is not public; a name that does not resolve yet
    is accepted (every delivery checks it again)."""
    for url in ("https://example.com/hook", "https://hooks.example.com:8443/x", f"https://{PUBLIC}/",
                "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", "https://v6.example.com/",
                "https://not-yet.example.org/hook"):
        view, _ = await service.create_endpoint(ctx_of(tenant), url, ["*"])
        assert view.url == url


async def test_loopback_only_behind_the_setting_and_never_in_production(tenant, names, monkeypatch):
    """Issue 16 point 3: KEHU_WEBHOOKS_ALLOW_LOOPBACK lets local development reach loopback (plain
    http too), still nothing private; the production profile refuses the setting at start."""
    monkeypatch.setattr(targets, "ALLOW_LOOPBACK", False)
    targets.configure_webhooks(load_settings(webhooks_allow_loopback=True))
    assert targets.ALLOW_LOOPBACK
    for url in ("https://localhost:5432/", "http://127.0.0.1:8080/hook", "https://[::1]:8443/"):
        assert (await service.create_endpoint(ctx_of(tenant), url, ["*"]))[0].url == url
    for url, code in (("https://10.0.0.5/", "WEBHOOK_URL_FORBIDDEN"), ("https://169.254.169.254/", "WEBHOOK_URL_FORBIDDEN"),
                      ("http://hooks.example.com:8080/", "URL_INVALID"), ("http://10.0.0.5:8080/", "WEBHOOK_URL_FORBIDDEN")):
        with pytest.raises(KehuError) as caught:
            await service.create_endpoint(ctx_of(tenant), url, ["*"])
        assert caught.value.code == code, url
    targets.configure_webhooks(load_settings())
    assert not targets.ALLOW_LOOPBACK  # the default

    with pytest.raises(ConfigurationError) as refused:
        load_settings(profile="production", database_url="postgresql://app@db:5432/kehu", broker_url="redis://r:6379/0",
                      jwt_signing_keys=f"k1:{new_signing_secret()}", webhooks_allow_loopback=True)
    assert "KEHU_WEBHOOKS_ALLOW_LOOPBACK" in str(refused.value)


async def test_a_name_rebound_to_a_private_address_after_creation_is_never_contacted(
        tenant, receiver, names, monkeypatch):
    """Issue 16 point 3 (DNS rebinding): a name public at creation that later answers a private
    address is refused at delivery, before any connection, with a coded error; an answer mixing a
    public and a private address is refused too."""
    monkeypatch.setattr(targets, "ALLOW_LOOPBACK", False)
    # The port is the local receiver's, so a connection to 127.0.0.1 would be seen.
    await service.create_endpoint(ctx_of(tenant), f"https://hooks.example.com:{receiver.port}/hook", ["*"])
    await emit_event(tenant)
    clock = delivery.now()
    for answer in (["127.0.0.1"], ["10.0.0.5"], ["169.254.169.254"], [PUBLIC, "127.0.0.1"], ["::ffff:127.0.0.1"],
                   ["fd00::1"]):
        names.answers["hooks.example.com"] = answer
        clock += timedelta(days=1)
        assert await delivery.deliver_due(clock) == 1
        [row] = await deliveries_of(tenant)
        assert row["status"] == "pending" and row["last_status_code"] is None, answer
        assert row["last_error"] == "WEBHOOK_TARGET_FORBIDDEN", answer
    assert receiver.connections == 0 and receiver.requests == []


async def test_the_address_checked_is_the_address_connected_to(tenant, receiver, names):
    """Issue 16 point 3 (DNS rebinding between check and connect): a delivery asks the resolver
    once and connects to the address it checked, sending the URL's own name as Host. Here the name
    would answer a private address to any second question."""
    names.answers["pin.example.com"] = [["127.0.0.1"], ["127.0.0.1"], ["10.0.0.5"]]
    await service.create_endpoint(ctx_of(tenant), f"http://pin.example.com:{receiver.port}/hook", ["*"])
    await emit_event(tenant)
    assert await delivery.deliver_due(delivery.now()) == 1
    [row] = await deliveries_of(tenant)
    assert row["status"] == "succeeded" and row["last_error"] is None
    [request] = receiver.requests
    assert request["headers"]["host"] == f"pin.example.com:{receiver.port}"
    assert names.asked == ["pin.example.com", "pin.example.com"]  # at creation, then once to connect


async def test_tls_keeps_the_urls_name_while_connecting_to_the_pinned_address(names):
    """Issue 16 point 3: pinning the address does not weaken TLS: the certificate is checked for
    the URL's name (SNI) while the socket goes to the address that was checked."""
    seen: dict = {}

    class Stream(httpcore.AsyncNetworkStream):
        async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            seen["server_hostname"] = server_hostname
            raise httpcore.ConnectError("stop here")

        async def aclose(self) -> None:
            pass

    class Network(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            seen["connected_to"] = (host, port)
            return Stream()

    pool = httpcore.AsyncConnectionPool(network_backend=targets.PinnedBackend(plain_http=False, inner=Network()))
    with pytest.raises(httpcore.ConnectError):
        await pool.request("POST", "https://hooks.example.com/hook", content=b"{}")
    assert seen == {"connected_to": (PUBLIC, 443), "server_hostname": "hooks.example.com"}


@pytest.mark.parametrize("location", ["http://127.0.0.1:{internal}/admin", "https://169.254.169.254/latest/meta-data/"])
async def test_a_redirect_is_not_followed(tenant, receiver, location):
    """Issue 16 point 3: a receiver answering a redirect (here to a service inside the network)
    gets a failed attempt coded with its status; nothing follows the redirect."""
    internal = Receiver()  # stands for a service inside the network
    internal.thread.start()
    try:
        receiver.status = 307
        receiver.headers = {"location": location.format(internal=internal.port)}
        await service.create_endpoint(ctx_of(tenant), receiver.url(), ["*"])
        await emit_event(tenant)
        assert await delivery.deliver_due(delivery.now()) == 1
        [row] = await deliveries_of(tenant)
        assert row["status"] == "pending" and row["last_status_code"] == 307
        assert row["last_error"] == "WEBHOOK_HTTP_307"
        assert len(receiver.requests) == 1 and internal.connections == 0
    finally:
        internal.server.shutdown()
        internal.server.server_close()


async def test_the_delivery_log_holds_only_coded_errors(tenant, receiver, names, monkeypatch):
    """Issue 16 point 3: a failed attempt stores a stable code, never the transport's text (which
    tells a refused port from a silent one and names hosts), in the delivery and its attempt log;
    text stored by older versions is shown as a generic code."""
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.3)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    receiver.delay = 2.0
    expected = {f"http://127.0.0.1:{closed_port}/hook": "WEBHOOK_CONNECT_FAILED",
                receiver.url("/slow"): "WEBHOOK_TIMEOUT",
                "https://gone.example.com/hook": "WEBHOOK_NAME_UNRESOLVED"}
    by_endpoint = {}
    for url, code in expected.items():
        endpoint, _ = await service.create_endpoint(ctx_of(tenant), url, ["*"])
        by_endpoint[endpoint.id] = code
    await emit_event(tenant)
    assert await delivery.deliver_due(delivery.now()) == 3

    for view in await service.list_deliveries(ctx_of(tenant)):
        assert view.last_error == by_endpoint[view.endpoint_id] and view.last_status_code is None
        [attempt] = await service.list_attempts(ctx_of(tenant), view.id)
        assert attempt.error == view.last_error
        [stored] = await attempts_of(tenant, view.id)
        assert stored["error"] in CODES and str(closed_port) not in stored["error"]

    # An attempt logged by an older version, with the transport's text:
    view = (await service.list_deliveries(ctx_of(tenant)))[0]
    async with unit_of_work(ctx_of(tenant)) as uow:
        await uow.update(WebhookAttempt, {WebhookAttempt.error: "ConnectError('[Errno 111] Connection refused')"}).where(
            WebhookAttempt.delivery_id == view.id)
    assert [a.error for a in await service.list_attempts(ctx_of(tenant), view.id)] == ["WEBHOOK_DELIVERY_FAILED"]


def test_address_rules():
    """Issue 16 point 3: the address table behind both checks."""
    allowed = [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"]
    refused = ["10.0.0.5", "127.0.0.1", "169.254.169.254", "100.64.0.1", "192.0.0.1", "192.0.2.1", "198.51.100.1",
               "203.0.113.1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "0.0.0.0", "::", "::1",
               "::ffff:10.0.0.5", "64:ff9b::a00:5", "64:ff9b:1::a00:5", "2002:a00:5::1", "::a00:5", "fe80::1",
               "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1", "2001::1", "100::1"]
    for address in allowed:
        assert targets.address_allowed(targets.literal_address(address), allow_loopback=False), address
    for address in refused:
        assert not targets.address_allowed(targets.literal_address(address), allow_loopback=False), address
    assert targets.address_allowed(targets.literal_address("127.0.0.1"), allow_loopback=True)
    assert targets.address_allowed(targets.literal_address("::ffff:127.0.0.1"), allow_loopback=True)
    assert not targets.address_allowed(targets.literal_address("10.0.0.5"), allow_loopback=True)


async def test_an_internationalised_name_is_checked_and_sent_in_its_ascii_form(tenant, receiver, names):
    """Issue 16 point 3: the name checked is the name connected to, also for a non-ASCII host: the
    resolver is asked for its IDNA form, both at creation and at delivery."""
    ascii_name = "钩子.example.com".encode("idna").decode()
    names.answers[ascii_name] = ["127.0.0.1"]
    await service.create_endpoint(ctx_of(tenant), f"http://钩子.example.com:{receiver.port}/hook", ["*"])
    await emit_event(tenant)
    assert await delivery.deliver_due(delivery.now()) == 1
    [row] = await deliveries_of(tenant)
    assert row["status"] == "succeeded" and len(receiver.requests) == 1
    assert names.asked == [ascii_name, ascii_name]
    names.answers[ascii_name] = ["10.0.0.5"]
    with pytest.raises(KehuError) as caught:
        await service.create_endpoint(ctx_of(tenant), "https://钩子.example.com/hook", ["*"])
    assert caught.value.code == "WEBHOOK_URL_FORBIDDEN"
