"""The transactional outbox: nothing enqueued on rollback, effects once even when an actor runs
twice, retries with backoff then dead and replayable, nothing lost when the broker is down."""

from datetime import timedelta

import pytest

from core.context import Context
from core.db import unit_of_work
from core.jobs import outbox
from core.jobs.tables import OutboxEvent
from core.tenancy import service as tenancy
from core.tenancy.tables import Department

SYSTEM = Context.system()


@pytest.fixture
async def tenant(database):
    return await tenancy.create_tenant(SYSTEM, slug="jobs", name="Jobs")


@pytest.fixture
def handled():
    """A handler with a database effect: one department named after each event it handles."""
    seen = []

    async def handler(uow, event):
        seen.append(event.id)
        await uow.insert(Department(name=f"effect-{event.id}"))

    outbox.on_event("thing.happened")(handler)
    yield seen
    outbox.remove_handler(handler)


async def _add(tenant, event_type="thing.happened") -> object:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
        return await outbox.add(uow, event_type, "thing", "t1", ["name"])


async def _status(tenant, event_id) -> dict:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return await uow.select(OutboxEvent).where(OutboxEvent.id == event_id).first()


async def _effects(tenant, event_id) -> int:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return await uow.count(Department).where(Department.name == f"effect-{event_id}")


async def _run_inline(tenant_id, event_id):
    await outbox.run_event(tenant_id, event_id)


async def test_a_rolled_back_change_enqueues_nothing(tenant):
    with pytest.raises(RuntimeError):
        async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
            await outbox.add(uow, "thing.happened", "thing", "t1")
            raise RuntimeError("the change failed after announcing itself")
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        assert await uow.count(OutboxEvent).where(OutboxEvent.event_type == "thing.happened") == 0


async def test_a_committed_event_takes_effect_once_even_when_its_actor_runs_twice(tenant, handled):
    event_id = await _add(tenant)
    assert await outbox.relay_once(_run_inline) >= 1
    assert await outbox.run_event(tenant.id, event_id) is False  # the duplicate delivery does nothing
    assert handled == [event_id]
    assert await _effects(tenant, event_id) == 1
    assert (await _status(tenant, event_id))["status"] == "done"


async def test_payload_carries_changed_field_names_not_values(tenant):
    event_id = await _add(tenant)
    assert (await _status(tenant, event_id))["payload"] == '{"changed": ["name"]}'


async def test_a_failing_event_is_retried_with_backoff_then_parked_dead_and_replayable(tenant, monkeypatch):
    calls = []

    async def flaky(uow, event):
        calls.append(event.id)
        raise ConnectionError("receiver down")

    outbox.on_event("thing.flaky")(flaky)
    try:
        event_id = await _add(tenant, "thing.flaky")
        await outbox.relay_once(_run_inline)
        first = await _status(tenant, event_id)
        assert first["status"] == "pending" and first["attempts"] == 1 and "receiver down" in first["last_error"]
        assert await outbox.relay_once(_run_inline) == 0  # not before its backoff has passed
        clock = outbox.now()
        for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
            clock += outbox.backoff(attempt) + timedelta(seconds=1)
            monkeypatch.setattr(outbox, "now", lambda c=clock: c)
            await outbox.relay_once(_run_inline)
        assert (await _status(tenant, event_id))["status"] == "dead"
        assert len(calls) == outbox.MAX_ATTEMPTS
        assert [d.id for d in await outbox.dead_events(SYSTEM)] == [event_id]
    finally:
        outbox.remove_handler(flaky)
    assert await outbox.replay(SYSTEM, [event_id]) == 1  # the receiver is fixed
    await outbox.relay_once(_run_inline)
    assert (await _status(tenant, event_id))["status"] == "done"


async def test_events_wait_in_the_outbox_while_the_broker_is_down(tenant, handled):
    async def broker_down(tenant_id, event_id):
        raise ConnectionError("redis is down")

    ids = [await _add(tenant) for _ in range(3)]
    with pytest.raises(outbox.BrokerUnavailable):
        await outbox.relay_once(broker_down)
    assert {(await _status(tenant, i))["status"] for i in ids} == {"pending"}
    assert await outbox.relay_once(_run_inline) == 3  # the broker is back
    assert sorted(handled, key=str) == sorted(ids, key=str)


async def test_the_relay_backs_off_while_the_broker_is_down_and_says_so_once_R3(tenant, handled):
    """R3 (issue 26): with the broker down a poll stops at the first refused event (the rest are
    pending again at once, not each waiting out its own connection attempt), the polls back off
    up to their ceiling, the outage is logged once and its end once; then every event runs once."""
    import asyncio
    import time

    from structlog.testing import capture_logs

    from core.jobs.worker import run_embedded_worker

    ids = [await _add(tenant) for _ in range(5)]
    refused: list[float] = []
    broker_up = asyncio.Event()

    async def dispatch(tenant_id, event_id):
        if not broker_up.is_set():
            refused.append(time.monotonic())
            raise ConnectionError("redis is down")
        await outbox.run_event(tenant_id, event_id)

    stop = asyncio.Event()
    with capture_logs() as logs:
        loop = asyncio.create_task(run_embedded_worker(stop, interval_seconds=0.05, dispatch=dispatch,
                                                       max_backoff_seconds=0.4))
        await asyncio.sleep(2.0)
        # a poll may hold its batch as dispatched for a moment before handing it back
        assert {(await _status(tenant, i))["status"] for i in ids} <= {"pending", "dispatched"} and not handled
        broker_up.set()
        down_tries = len(refused)  # counted once no poll can be refused any more
        deadline = time.monotonic() + 10
        while {(await _status(tenant, i))["status"] for i in ids} != {"done"}:
            assert time.monotonic() < deadline, "events not delivered after the broker came back"
            await asyncio.sleep(0.05)
        stop.set()
        await loop
    # one event tried per poll: 0.1, 0.2, 0.4, then every 0.4 s: about 7 polls in 2 s (40 without
    # backoff, each trying all 5 events)
    assert 3 <= down_tries <= 12, down_tries
    events = [entry["event"] for entry in logs]
    assert events.count("outbox.broker_unreachable") == 1 and events.count("outbox.broker_back") == 1, events
    assert events.count("outbox.dispatch_failed") == down_tries  # one line a poll, not one an event
    assert sorted(handled, key=str) == sorted(ids, key=str)


async def test_an_event_lost_after_dispatch_is_handed_out_again(tenant, handled, monkeypatch):
    async def lost(tenant_id, event_id):
        return None  # accepted by a broker that then lost it, or a worker killed mid-way

    event_id = await _add(tenant)
    await outbox.relay_once(lost)
    assert (await _status(tenant, event_id))["status"] == "dispatched"
    assert await outbox.relay_once(_run_inline) == 0  # still within its visibility timeout
    later = outbox.now() + outbox.VISIBILITY_TIMEOUT + timedelta(seconds=1)
    monkeypatch.setattr(outbox, "now", lambda: later)
    assert await outbox.relay_once(_run_inline) == 1
    assert handled == [event_id] and await _effects(tenant, event_id) == 1


async def test_services_announce_their_changes(tenant):
    department = await tenancy.create_department(SYSTEM.for_tenant(tenant.id), name="新部门")
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        [event] = await uow.select(OutboxEvent).where(OutboxEvent.aggregate_id == str(department.id))
    assert event["event_type"] == "department.created"
