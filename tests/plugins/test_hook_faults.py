"""R18 (issue 26 acceptance 7): a vertical's code that raises or hangs fails its request with a
coded error, never the process.

Hooks run once, at start; on a request kehu calls the rule functions a vertical declared (archive
checks, attribution ``decide``, grading ``score``), each wrapped in the registry by
``core.plugins.manager.guarded``. A test vertical defined here, loaded through the plugin harness,
has an attribution policy that raises or hangs on demand: the mutation answers ``PLUGIN_FAILED`` or
``PLUGIN_TIMEOUT`` (after ``plugin_hook_timeout_seconds``), nothing is written (no ledger row, no
audit entry), and the app answers the next request."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.plugins import hookimpl
from core.plugins.manager import PLUGIN_FAILED, PLUGIN_TIMEOUT, configure_hook_timeout, guarded
from core.plugins.testing import make_registry
from core.plugins.types import AttributionDecision, AttributionPolicy, VerticalInfo

VERTICAL = "faulty"
TIMEOUT = 0.3
MODE = {"now": "ok"}  # ok | raise | hang


def decide(facts, parameters) -> AttributionDecision:
    if MODE["now"] == "raise":
        raise ZeroDivisionError("secret internal detail")
    if MODE["now"] == "hang":
        time.sleep(TIMEOUT * 6)
    return AttributionDecision(owner=None, shares={}, rule="none", explanation_en="nobody", explanation_zh="无人")


class FaultyVertical:
    @hookimpl
    def kehu_vertical_info(self):
        return VerticalInfo(id=VERTICAL, name_zh="故障行业", name_en="Faulty vertical", version="0.1.0")

    @hookimpl
    def kehu_attribution_policy(self):
        return [AttributionPolicy(id="faulty_owner", name_en="Faulty", name_zh="故障", decide=decide)]


@pytest.fixture
def kehu_vertical():
    return (VERTICAL, FaultyVertical())


@pytest.fixture
def kehu_settings(kehu_settings):
    return kehu_settings.model_copy(update={"plugin_hook_timeout_seconds": TIMEOUT})


@pytest.fixture(autouse=True)
def hook_timeout(kehu_settings) -> Iterator[None]:
    configure_hook_timeout(kehu_settings.plugin_hook_timeout_seconds)
    MODE["now"] = "ok"
    yield
    MODE["now"] = "ok"
    configure_hook_timeout(None)


RECORD = ('mutation($c: ID!, $at: DateTime!) { attributionEntryRecord(input: {customerId: $c, vertical: "%s", '
          'kind: VISIT, at: $at}) { entry { id } decision { rule } errors { code message } } }' % VERTICAL)


async def _customer(client) -> str:
    created = await client.execute('mutation { customerCreate(input: {kind: "organisation", orgName: "甲公司"}) '
                                   '{ customer { id } errors { code } } }')
    return created["data"]["customerCreate"]["customer"]["id"]


async def _written(tenant) -> tuple[int, int]:
    from core.attribution.tables import AttributionEntry
    from core.audit.tables import AuditEntry

    async with unit_of_work(Context.system().for_tenant(tenant.id), write=False) as uow:
        return (await uow.count(AttributionEntry), await uow.count(AuditEntry))


@pytest.mark.parametrize(("mode", "code"), [("raise", PLUGIN_FAILED), ("hang", PLUGIN_TIMEOUT)])
async def test_a_raising_or_hanging_rule_fails_its_request_with_a_code_and_writes_nothing(
        kehu_client, kehu_tenant, mode, code):
    """R18: the request fails with PLUGIN_FAILED / PLUGIN_TIMEOUT naming the vertical, no internals;
    no ledger row or audit entry is written; the app answers the next request, and the vertical's
    next good call works."""
    customer = await _customer(kehu_client)
    before = await _written(kehu_tenant)
    MODE["now"] = mode
    started = time.monotonic()
    answer = (await kehu_client.execute(RECORD, c=customer, at="2025-03-02T10:00:00+08:00"))
    elapsed = time.monotonic() - started
    payload = answer["data"]["attributionEntryRecord"]
    assert payload["entry"] is None and [e["code"] for e in payload["errors"]] == [code], answer
    message = payload["errors"][0]["message"]
    assert VERTICAL in message and "secret" not in message and "ZeroDivision" not in message
    assert "Traceback" not in str(answer)
    if mode == "hang":
        assert elapsed < TIMEOUT * 5  # answered at the timeout, not when the rule returned
    assert await _written(kehu_tenant) == before  # the unit of work rolled back

    me = await kehu_client.execute("{ me { user { id } } }")
    assert me["data"]["me"]["user"]["id"]
    MODE["now"] = "ok"
    again = (await kehu_client.execute(RECORD, c=customer, at="2025-03-02T10:00:00+08:00"))
    assert again["data"]["attributionEntryRecord"]["errors"] == [], again
    assert (await _written(kehu_tenant))[0] == before[0] + 1


def test_the_registry_holds_the_rules_guarded_and_a_vertical_s_own_coded_error_passes():
    """R18: the registry's rule functions are the guarded ones (the one choke point); a KehuError the
    vertical raises on purpose reaches the caller unchanged, anything else becomes PLUGIN_FAILED."""
    policy = make_registry((VERTICAL, FaultyVertical())).definition(VERTICAL).attribution_policies[0]
    assert getattr(policy.decide, "__kehu_guarded__", False)

    def refuses(*_):
        raise KehuError("FAULTY_REFUSED", "refused on purpose")

    with pytest.raises(KehuError) as refused:
        guarded(VERTICAL, "test rule", refuses)()
    assert refused.value.code == "FAULTY_REFUSED"
    with pytest.raises(KehuError) as failed:
        guarded(VERTICAL, "test rule", lambda: 1 / 0)()
    assert failed.value.code == PLUGIN_FAILED and failed.value.__cause__ is None


def test_a_hanging_rule_times_out_and_the_worker_pool_keeps_serving():
    """R18: a sync rule that blocks times out after plugin_hook_timeout_seconds; later calls run."""
    configure_hook_timeout(0.05)
    started = time.monotonic()
    with pytest.raises(KehuError) as hung:
        guarded(VERTICAL, "test rule", lambda: time.sleep(1))()
    assert hung.value.code == PLUGIN_TIMEOUT and time.monotonic() - started < 0.5
    assert guarded(VERTICAL, "test rule", lambda x: x + 1)(1) == 2
