"""What the webhook tests share: a local receiver, a resolver that answers what a test says, and
small helpers for a tenant's deliveries."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.audit.tables import AuditEntry
from core.context import Context
from core.db import unit_of_work
from core.jobs import outbox
from core.webhooks.tables import WebhookAttempt, WebhookDelivery

SYSTEM = Context.system()


class Receiver:
    """A tiny HTTP server on 127.0.0.1 recording each connection and request and answering
    ``status`` (with ``headers``, after ``delay`` seconds)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.connections = 0
        self.status = 200
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request, client_address) -> bool:  # every accepted connection
                receiver.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class FakeResolver:
    """Answers host names from ``answers`` (a list of addresses, or a list of such lists served in
    turn, the last one repeated) and records each question; unknown names do not resolve."""

    def __init__(self) -> None:
        self.answers: dict[str, list] = {"example.com": ["93.184.215.14"]}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answer = self.answers.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if answer and isinstance(answer[0], list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer


def ctx_of(tenant) -> Context:
    return SYSTEM.for_tenant(tenant.id)


async def run_inline(tenant_id, event_id):
    await outbox.run_event(tenant_id, event_id)


async def emit_event(tenant, event_type="department.created", changed=("name",)):
    async with unit_of_work(ctx_of(tenant)) as uow:
        event_id = await outbox.add(uow, event_type, "department", "d1", changed)
    await outbox.relay_once(run_inline)
    return event_id


async def deliveries_of(tenant) -> list[dict]:
    async with unit_of_work(ctx_of(tenant), write=False) as uow:
        return await uow.select(WebhookDelivery).order_by(WebhookDelivery.created_at)


async def attempts_of(tenant, delivery_id) -> list[dict]:
    async with unit_of_work(ctx_of(tenant), write=False) as uow:
        return await uow.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)


async def audit_entries(tenant, action) -> list[dict]:
    async with unit_of_work(ctx_of(tenant), write=False) as uow:
        return await uow.select(AuditEntry).where(AuditEntry.action == action)
