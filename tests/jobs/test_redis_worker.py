"""`kehu worker` over a real Redis: killed with SIGKILL mid-actor, nothing is lost and nothing
applied twice; while the broker is down, events wait in the outbox."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from core.context import Context
from core.db import unit_of_work
from core.jobs import outbox, redis_worker
from core.jobs.tables import OutboxEvent
from core.tenancy import service as tenancy
from core.tenancy.tables import Department

SYSTEM = Context.system()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_redis(redis_broker_url):
    redis.Redis.from_url(redis_broker_url).flushdb()
    yield redis_broker_url
    redis.Redis.from_url(redis_broker_url).flushdb()


async def _events(tenant, count: int) -> list:
    ids = []
    for _ in range(count):
        async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
            ids.append(await outbox.add(uow, "test.slow", "thing", "t"))
    return ids


async def _state(tenant, ids) -> tuple[set, dict]:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        statuses = {r["status"] for r in await uow.select(OutboxEvent.status).where(OutboxEvent.id.is_in(ids))}
        effects = {i: await uow.count(Department).where(Department.name == f"effect-{i}") for i in ids}
    return statuses, effects


def _worker(settings, broker_url: str, marker: Path, slow_seconds: float) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    env.update(KEHU_DATABASE_URL=settings.database_url, KEHU_BROKER_URL=broker_url, KEHU_LOG_FORMAT="json",
               KEHU_JOB_VISIBILITY_TIMEOUT_SECONDS="3", KEHU_TEST_MARKER=str(marker),
               KEHU_TEST_SLOW_SECONDS=str(slow_seconds), KEHU_PASSWORD_HASHING="fast")
    code = "import sys, tests.jobs.slow_handler; from gateway.cli import main; sys.argv = ['kehu', 'worker']; main()"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def test_a_worker_killed_mid_actor_loses_nothing_and_applies_nothing_twice(database, settings, clean_redis,
                                                                                 tmp_path):
    tenant = await tenancy.create_tenant(SYSTEM, slug="killed", name="Killed")
    ids = await _events(tenant, 4)
    marker = tmp_path / "handler-running"
    first = _worker(settings, clean_redis, marker, slow_seconds=30)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the worker never started a handler"
            await asyncio.sleep(0.1)
    finally:
        first.send_signal(signal.SIGKILL)  # in the middle of the actor
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    statuses, effects = await _state(tenant, ids)
    assert "done" not in statuses or sum(effects.values()) < len(ids)

    second = _worker(settings, clean_redis, tmp_path / "again", slow_seconds=0)
    try:
        deadline = time.monotonic() + 60
        while True:
            statuses, effects = await _state(tenant, ids)
            if statuses == {"done"}:
                break
            assert second.poll() is None, second.communicate()
            assert time.monotonic() < deadline, f"events not done after restart: {statuses}"
            await asyncio.sleep(0.3)
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    assert effects == {i: 1 for i in ids}  # every committed event took effect exactly once
    assert '"event": "worker.stopped"' in stderr  # SIGTERM stops it cleanly


async def test_events_wait_while_redis_is_down_and_flow_when_it_returns(database, clean_redis):
    tenant = await tenancy.create_tenant(SYSTEM, slug="offline", name="Offline")
    ids = await _events(tenant, 3)  # the API keeps committing
    down = redis_worker.declare_actor(redis_worker.make_broker("redis://127.0.0.1:1/0"))
    with pytest.raises(outbox.BrokerUnavailable):
        await outbox.relay_once(redis_worker.dispatcher(down))
    assert (await _state(tenant, ids))[0] == {"pending"}
    broker = redis_worker.make_broker(clean_redis)
    actor = redis_worker.declare_actor(broker)
    assert await outbox.relay_once(redis_worker.dispatcher(actor)) == 3
    queued = redis.Redis.from_url(clean_redis).hlen(f"dramatiq:{redis_worker.QUEUE}.msgs")
    assert queued == 3  # handed to Redis, to be run by `kehu worker`
