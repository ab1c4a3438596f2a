"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers).

The broker's Redis is the workers' dependency, not the API's (R3): while it is away the API keeps
committing (the outbox holds the jobs) and limits rates with its own counters, so `/readyz` stays
ready and reports ``checks.broker`` as ``down``; `/healthz` carries ``details.broker``
(``ok``/``unreachable``, production only), checked within a short timeout at most every few seconds.

`/healthz` also carries ``details.calendar`` when the next 90 days hold provisional calendar days
(a year whose official holiday schedule is neither loaded nor in the library); the same warning is
logged (``calendar.provisional_ahead``) whenever it first appears or changes. The loaded years are
re-read at most once a minute, within a short timeout: a slow or absent database never fails
liveness (the last known calendar is used)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import structlog
from litestar import Request, get
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from core.calendar.days import DEFAULT_TIMEZONE
from core.calendar.official import NATIONAL, OfficialCalendar
from core.calendar.schedules import provisional_warning, read_official_calendar
from core.db import current_database
from core.jobs.broker import EMBEDDED
from gateway.rate_limits import broker_state

CHECK_TIMEOUT_SECONDS = 2.0
log = structlog.get_logger("kehu.health")


CALENDAR_REFRESH_SECONDS = 60.0
CALENDAR_TIMEOUT_SECONDS = 1.0
_official: dict[str, object] = {"calendar": NATIONAL, "read_at": None, "warned": None}


def today() -> date:
    """Today in China (the clock tests control)."""
    return datetime.now(UTC).astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()


async def refresh_official_calendar() -> None:
    """Re-read the loaded years (within a timeout); on failure the last known calendar stays."""
    _official["read_at"] = time.monotonic()
    try:
        _official["calendar"] = await asyncio.wait_for(read_official_calendar(), CALENDAR_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - liveness never fails on the calendar
        log.warning("calendar.read_failed", error=repr(exc))


_refreshing: set[asyncio.Task[None]] = set()


async def _official_calendar() -> OfficialCalendar:
    read_at = _official["read_at"]
    if read_at is None:  # the first answer waits for the read (bounded); later ones never wait
        await refresh_official_calendar()
    elif time.monotonic() - read_at >= CALENDAR_REFRESH_SECONDS and not _refreshing:  # type: ignore[operator]
        _official["read_at"] = time.monotonic()
        task = asyncio.get_running_loop().create_task(refresh_official_calendar())
        _refreshing.add(task)
        task.add_done_callback(_refreshing.discard)
    return _official["calendar"]  # type: ignore[return-value]


async def calendar_warning() -> dict[str, object] | None:
    """The provisional-days warning for the next 90 days, logged when it first appears or changes."""
    warning = provisional_warning(await _official_calendar(), today())
    if warning is not None and warning != _official["warned"]:
        log.warning("calendar.provisional_ahead", **warning)
    _official["warned"] = warning
    return warning


@get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> dict[str, object]:
    settings = request.app.state.settings
    details: dict[str, object] = {}
    if warning := await calendar_warning():
        details["calendar"] = warning
    if settings.broker_url != EMBEDDED:
        details["broker"] = await broker_state(settings)
    return {"status": "ok", "details": details} if details else {"status": "ok"}


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
    database, broker = await asyncio.gather(_check("database", current_database().ping), broker_state(settings))
    # The broker is reported, not required (R3); its state is this process's view, logged when it
    # changes (rate_limit.redis_unreachable / rate_limit.redis_back), not at every probe.
    checks = {"database": database[1], "broker": "down" if broker == "unreachable" else "ok"}
    ready = checks["database"] == "ok"
    return Response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )
