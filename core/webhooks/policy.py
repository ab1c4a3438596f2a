"""Pure delivery policy (no I/O, no clock: callers pass ``now``), so it is unit-tested alone.

- ``Breaker``: an endpoint's circuit breaker, kept in the database as ``breaker_open_until`` on
  its row (NULL: closed; in the future: open; in the past: half-open, one probe allowed) next to
  ``consecutive_failures``. A worker only reads and writes those two columns, so the state holds
  across sweeps and across worker processes.
- ``rotate``, ``round_quotas``, ``interleave``: the fair order in which a sweep claims due
  deliveries — tenants round-robin, starting after the one served last, and the endpoints of a
  tenant taken in turn, so a big backlog of one never makes another wait past a round.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Breaker:
    threshold: int = 5  # consecutive failed attempts (timeouts included) that open it
    cooldown: timedelta = timedelta(seconds=60)  # how long it stays open before one probe

    def state(self, open_until: datetime | None, now: datetime) -> str:
        if open_until is None:
            return CLOSED
        return OPEN if open_until > now else HALF_OPEN

    def slots(self, limit: int, in_flight: int, open_until: datetime | None, now: datetime) -> int:
        """How many more deliveries to this endpoint may start now: none while open, a single
        probe when half-open (counting one still in flight), else up to the per-endpoint limit."""
        cap = {CLOSED: limit, OPEN: 0, HALF_OPEN: 1}[self.state(open_until, now)]
        return max(cap - in_flight, 0)

    def after_failure(self, failures: int, open_until: datetime | None, now: datetime) -> datetime | None:
        """``breaker_open_until`` after a failed attempt that makes ``failures`` in a row: open for
        the cool-down once at the threshold, and again after a failed probe (half-open), whatever
        the count (a re-enabled endpoint starts at 0 failures); otherwise as it was."""
        if failures >= self.threshold or self.state(open_until, now) != CLOSED:
            return now + self.cooldown
        return open_until

    @staticmethod
    def after_success() -> None:
        """Any answered attempt closes it (a successful probe included)."""
        return None


def rotate(items: Sequence[K], after: K | None) -> list[K]:
    """``items`` starting just after ``after`` (the one served last), so each gets to go first in
    turn; from the start when ``after`` is None or gone."""
    items = list(items)
    if after is None or after not in items:
        return items
    at = items.index(after) + 1
    return items[at:] + items[:at]


def round_quotas(tenants: Sequence[K], free: int, per_tenant: int) -> list[tuple[K, int]]:
    """One claiming round: each tenant in order gets an equal share of the free slots (at least
    ``per_tenant``) until they are gone. Tenants past the free slots wait for the next round,
    which starts with them (``rotate``)."""
    if free <= 0 or not tenants:
        return []
    share = max(per_tenant, free // len(tenants))
    quotas = []
    for tenant in tenants:
        take = min(share, free)
        if take <= 0:
            break
        quotas.append((tenant, take))
        free -= take
    return quotas


def interleave(queues: Sequence[Sequence[T]], limit: int) -> list[T]:
    """The first of each queue, then the second of each, … up to ``limit``: one endpoint's long
    queue does not crowd the others out of a tenant's share."""
    picked: list[T] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(picked) < limit:
                picked.append(queue[depth])
        depth += 1
    return picked
