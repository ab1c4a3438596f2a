"""The pure delivery policy (core/webhooks/policy.py): the circuit breaker's states and what each
allows, and the fair order in which a sweep claims deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.webhooks.policy import CLOSED, HALF_OPEN, OPEN, Breaker, interleave, rotate, round_quotas

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BREAKER = Breaker(threshold=3, cooldown=timedelta(seconds=60))


def test_the_breaker_opens_at_the_threshold_and_stays_closed_below_it():
    assert BREAKER.after_failure(1, None, NOW) is None
    assert BREAKER.after_failure(2, None, NOW) is None
    opened = BREAKER.after_failure(3, None, NOW)
    assert opened == NOW + timedelta(seconds=60)
    assert BREAKER.state(opened, NOW) == OPEN and BREAKER.state(None, NOW) == CLOSED


def test_an_open_breaker_allows_no_attempt_then_one_probe_after_the_cool_down():
    open_until = NOW + timedelta(seconds=60)
    assert BREAKER.slots(4, 0, None, NOW) == 4  # closed: the per-endpoint limit
    assert BREAKER.slots(4, 3, None, NOW) == 1
    assert BREAKER.slots(4, 0, open_until, NOW) == 0  # open: nothing, whatever the limit
    assert BREAKER.slots(4, 0, open_until, NOW + timedelta(seconds=59)) == 0
    later = NOW + timedelta(seconds=60)
    assert BREAKER.state(open_until, later) == HALF_OPEN
    assert BREAKER.slots(4, 0, open_until, later) == 1  # half-open: a single probe
    assert BREAKER.slots(4, 1, open_until, later) == 0  # … and none while the probe is in flight


def test_a_failed_probe_reopens_and_a_success_closes():
    open_until = NOW + timedelta(seconds=60)
    probe_at = NOW + timedelta(seconds=61)
    assert BREAKER.after_failure(4, open_until, probe_at) == probe_at + timedelta(seconds=60)
    # A re-enabled endpoint (failures reset to 0) whose breaker was left half-open: a failed probe reopens it too.
    assert BREAKER.after_failure(1, open_until, probe_at) == probe_at + timedelta(seconds=60)
    assert BREAKER.after_success() is None


def test_tenants_take_turns_starting_after_the_last_one_served():
    assert rotate(["a", "b", "c"], None) == ["a", "b", "c"]
    assert rotate(["a", "b", "c"], "a") == ["b", "c", "a"]
    assert rotate(["a", "b", "c"], "c") == ["a", "b", "c"]
    assert rotate(["a", "b", "c"], "gone") == ["a", "b", "c"]


def test_a_round_shares_the_free_slots_so_every_tenant_gets_some():
    assert round_quotas(["big", "small"], 32, 4) == [("big", 16), ("small", 16)]
    # More tenants than the slots go round: at least per_tenant each, the rest next round.
    assert round_quotas(["a", "b", "c", "d"], 10, 4) == [("a", 4), ("b", 4), ("c", 2)]
    assert round_quotas(["a"], 0, 4) == [] and round_quotas([], 8, 4) == []


def test_endpoints_of_a_tenant_are_taken_in_turn():
    assert interleave([[1, 2, 3, 4], [10], [20, 21]], 5) == [1, 10, 20, 2, 21]
    assert interleave([[1, 2, 3]], 2) == [1, 2]
    assert interleave([], 3) == []
