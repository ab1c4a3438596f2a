"""Issue 21 acceptance 4, as a property: whatever sequence of entries, corrections, confirmations
and relations is recorded, replaying the vertical's ledger from empty reproduces every stored owner
and split exactly (SQLite, and PostgreSQL with CI=true). Bounded under CI; KEHU_ATTRIBUTION_EXAMPLES
chooses."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.attribution import policy as rules
from core.attribution import service
from core.errors import KehuError
from tests.attribution.conftest import START, VERTICAL, add_customer

EXAMPLES = int(os.environ.get("KEHU_ATTRIBUTION_EXAMPLES") or (8 if os.environ.get("CI") else 20))
KINDS = ("registration", "follow_up", "visit", "deal", "transfer", "phone_inquiry", "pre_declaration")
RELATIONS = ("spouse", "parent", "child", "parent_in_law", "child_in_law", "sibling", "other")

STEP = st.one_of(
    st.tuples(st.just("entry"), st.integers(0, 2), st.sampled_from(KINDS), st.integers(0, 2), st.integers(0, 80)),
    st.tuples(st.just("correct"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("confirm"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("relate"), st.integers(0, 2), st.integers(0, 2), st.sampled_from(RELATIONS)),
)


@hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=14))
async def test_replay_from_empty_reproduces_every_owner_and_split(world, registry, clock, steps):
    customers = [await add_customer(world.acme, f"客户{i}") for i in range(3)]
    consultants = (world.a, world.b, world.c)
    recorded: dict[int, list] = {0: [], 1: [], 2: []}
    day = 0
    for step in steps:
        try:
            if step[0] == "entry":
                _, who, kind, consultant, days = step
                day = max(day, days)
                made = await service.record_entry(world.admin, registry, customers[who], vertical=VERTICAL, kind=kind,
                                                  at=START + timedelta(days=days), consultant_id=consultants[consultant])
                recorded[who].append(made.entry.id)
            elif step[0] in ("correct", "confirm") and recorded[step[1]]:
                _, who, pick = step
                target = recorded[who][pick % len(recorded[who])]
                kind = "correction" if step[0] == "correct" else "confirmation"
                made = await service.record_entry(world.admin, registry, customers[who], vertical=VERTICAL, kind=kind,
                                                  at=START + timedelta(days=day), refers_to=target)
                recorded[who].append(made.entry.id)
            elif step[0] == "relate":
                _, one, other, relation = step
                await service.relate(world.admin, registry, customers[one], customers[other], relation)
        except KehuError:
            pass  # a refused step (a confirmed entry corrected, a pair related twice) writes nothing
    replayed = await service.replay(world.admin, registry, VERTICAL)
    stored = await service.projection(world.admin, VERTICAL)
    assert {customers[who] for who, ids in recorded.items() if ids} <= set(stored)  # not vacuous
    assert {c: rules.stored(d) for c, d in replayed.items()} == {c: rules.stored(d) for c, d in stored.items()}
