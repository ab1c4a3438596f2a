"""Imported by the worker subprocess of tests/jobs/test_redis_worker.py: a slow handler with a
database effect, so the test can kill a worker in the middle of it."""

import asyncio
import os
from pathlib import Path

from core.jobs import outbox
from core.tenancy.tables import Department


@outbox.on_event("test.slow")
async def slow(uow, event) -> None:
    await uow.insert(Department(name=f"effect-{event.id}"))
    Path(os.environ["KEHU_TEST_MARKER"]).touch()  # the handler is running: kill me now
    await asyncio.sleep(float(os.environ.get("KEHU_TEST_SLOW_SECONDS", "0")))
