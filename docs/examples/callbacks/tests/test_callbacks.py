"""The callbacks vertical end to end on kehu's embedded profile, through kehu's test harness: the
contract, a GraphQL mutation and query, the coded error, the audit entry, the working-day deadline
on the tenant's calendar and the tick."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import kehu_callbacks
from core.jobs.timers import tick
from core.plugins.testing import ContractSuite
from kehu_callbacks import service

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADD = ("mutation($s: String!) { callbacksRequestAdd(subject: $s) { request { id subject status dueAt } "
       "errors { field code message } } }")
LIST = "{ callbacksRequests { id subject status dueAt } }"


class TestContract(ContractSuite):
    plugin = kehu_callbacks
    name = "callbacks"


async def test_a_callback_request_end_to_end(kehu_client, monkeypatch):
    # Received on Wednesday 30 September 2026, 10:00: 1-7 October are the National Day holidays
    # (official calendar) and the tenant is also closed on 8 October (its own calendar).
    monkeypatch.setattr(service, "now", lambda: datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))
    closed = await kehu_client.execute('mutation { workingCalendarUpdate(input: {extraHolidays: ["2026-10-08"]}) '
                                       '{ errors { code } } }')
    assert closed["data"]["workingCalendarUpdate"]["errors"] == []

    # The coded error reaches the client with its code, field and message; nothing is written.
    refused = await kehu_client.execute(ADD, s="   ")
    assert refused["data"]["callbacksRequestAdd"] == {"request": None, "errors": [{
        "field": "subject", "code": "CALLBACKS_SUBJECT_REQUIRED", "message": "a callback request needs a subject"}]}
    assert (await kehu_client.execute(LIST))["data"]["callbacksRequests"] == []

    added = (await kehu_client.execute(ADD, s="call about the brochure"))["data"]["callbacksRequestAdd"]
    assert added["errors"] == []
    request = added["request"]
    # 2 working days (the parameter's default): 9 October, then Saturday 10 October (a 调休 make-up
    # working day); closing time 18:00 in the tenant's zone.
    assert datetime.fromisoformat(request["dueAt"]) == datetime(2026, 10, 10, 18, 0, tzinfo=SHANGHAI)
    listed = (await kehu_client.execute(LIST))["data"]["callbacksRequests"]
    assert listed == [request] and request["status"] == "open"

    audit = await kehu_client.execute('{ auditEntries(filter: {targetType: "callbacks_request"}) '
                                      "{ nodes { action targetId diff } } }")
    entries = audit["data"]["auditEntries"]["nodes"]
    assert [(e["action"], e["targetId"]) for e in entries] == [("callbacks.request_added", request["id"])]
    assert json.loads(entries[0]["diff"])["subject"] == {"to": "call about the brochure"}

    # The tick: nothing is late at 17:59 on the due day; at 18:00 the request becomes overdue, once.
    assert (await tick(datetime(2026, 10, 10, 17, 59, tzinfo=SHANGHAI))).get("callbacks.overdue") == 0
    assert (await tick(datetime(2026, 10, 10, 18, 0, tzinfo=SHANGHAI)))["callbacks.overdue"] == 1
    assert (await tick(datetime(2026, 10, 11, 9, 0, tzinfo=SHANGHAI)))["callbacks.overdue"] == 0
    assert (await kehu_client.execute(LIST))["data"]["callbacksRequests"][0]["status"] == "overdue"
