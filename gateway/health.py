"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: database and broker answer)."""

from __future__ import annotations

import asyncio

import structlog
from litestar import Request, get
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from core.db import current_database
from core.jobs.broker import ping_broker

CHECK_TIMEOUT_SECONDS = 2.0
log = structlog.get_logger("kehu.health")


@get("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
        return name, "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure as "down"
        log.warning("readiness.check_failed", check=name, error=repr(exc))
        return name, "down"


@get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response[dict[str, object]]:
    settings = request.app.state.settings
    checks = dict(
        await asyncio.gather(
            _check("database", current_database().ping),
            _check("broker", lambda: ping_broker(settings.broker_url)),
        )
    )
    ready = all(state == "ok" for state in checks.values())
    return Response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )
