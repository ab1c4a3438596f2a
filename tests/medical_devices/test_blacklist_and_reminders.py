"""Admission and the blacklists (MD14, MD15, MD16) and the qualification expiry reminder (issue 20
acceptance 5) through GraphQL, on a controlled clock."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

from core.jobs.timers import tick
from tests.medical_devices.api import (
    nodes,
    ADMISSIONS,
    CUSTOMER,
    DOCS,
    PARAMS,
    admit,
    audit,
    blacklist,
    colleague,
    customer,
    department,
    documents,
    ok,
)
from tests.medical_devices.conftest import SHANGHAI



async def run_tick(kehu_client, at: datetime) -> dict:
    """The tick on the app's own loop (its PostgreSQL pool belongs to that loop), at ``at``."""
    return await asyncio.to_thread(kehu_client.http.blocking_portal.call, tick, at)


REMINDERS = "medical_devices.qualification_reminders"
EXPIRING = "query($w: Int) { medicalDevicesQualificationsExpiring(withinDays: $w) { nodes { kind expiresOn remindedFor } } }"


async def _approver(kehu_client, kehu_tenant):
    return await colleague(kehu_client, kehu_tenant, ["blacklist.read", "blacklist.approve"])


async def test_md16_the_company_blacklist_refuses_admission_in_every_department_before_documents(
        kehu_client, kehu_tenant, clock):
    """MD16 with MD14: admission checks the blacklists first — a customer on the company blacklist is
    refused in every department with CUSTOMER_BLACKLISTED, even without any document (no
    QUALIFICATION_MISSING first); nothing is written."""
    x, y, cust = await department(kehu_client), await department(kehu_client), await customer(kehu_client)
    await blacklist(kehu_client, await _approver(kehu_client, kehu_tenant), cust, "COMPANY")
    for dep in (x, y):
        errors = (await admit(kehu_client, cust, dep))["data"]["medicalDevicesAdmit"]["errors"]
        assert [e["code"] for e in errors] == ["CUSTOMER_BLACKLISTED"] and "company blacklist" in errors[0]["message"]
    assert await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions") == []


async def test_md14_a_department_blacklist_refuses_admission_only_in_that_department(kehu_client, kehu_tenant, clock):
    """MD14: a department entry blocks admission in its department; another department admits."""
    x, y, cust = await department(kehu_client), await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    await blacklist(kehu_client, await _approver(kehu_client, kehu_tenant), cust, "DEPARTMENT", x)
    errors = (await admit(kehu_client, cust, x))["data"]["medicalDevicesAdmit"]["errors"]
    assert [e["code"] for e in errors] == ["CUSTOMER_BLACKLISTED"]
    assert (await admit(kehu_client, cust, y))["data"]["medicalDevicesAdmit"]["errors"] == []


async def test_md15_after_the_department_entry_expires_the_customer_returns_only_as_qualified(
        kehu_client, kehu_tenant, clock):
    """MD15: a VIP of department X is put on X's blacklist; for its 6 months it cannot be admitted
    there; afterwards it returns only as a re-admission — approved by a holder of
    medical_devices.blacklist.readmit, with the reason — and only at the lowest grade (合格类)."""
    x, cust = await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    first = (await admit(kehu_client, cust, x, g="vip"))["data"]["medicalDevicesAdmit"]
    assert first["admission"]["grade"] == "vip"
    entry = await blacklist(kehu_client, await _approver(kehu_client, kehu_tenant), cust, "DEPARTMENT", x)
    expires = datetime.fromisoformat(entry["expiresAt"])
    assert (expires - clock.at).days >= 181  # the engine's 6 months (MD15)
    clock.at = expires - timedelta(minutes=1)
    errors = (await admit(kehu_client, cust, x, why="经营状况已根本改善"))["data"]["medicalDevicesAdmit"]["errors"]
    assert [e["code"] for e in errors] == ["CUSTOMER_BLACKLISTED"]
    clock.at = expires
    errors = (await admit(kehu_client, cust, x))["data"]["medicalDevicesAdmit"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("MEDICAL_DEVICES_INPUT_INVALID", "readmissionReason")]
    errors = (await admit(kehu_client, cust, x, g="vip", why="经营状况已根本改善"))["data"]["medicalDevicesAdmit"]["errors"]
    assert [e["code"] for e in errors] == ["MEDICAL_DEVICES_READMISSION_GRADE"]
    verifier = await colleague(kehu_client, kehu_tenant, ["medical_devices.admission.verify"])
    errors = (await admit(verifier, cust, x, why="经营状况已根本改善"))["data"]["medicalDevicesAdmit"]["errors"]
    assert [e["code"] for e in errors] == ["PERMISSION_DENIED"]  # re-entry needs the leaders' approval
    back = (await admit(kehu_client, cust, x, why="经营状况已根本改善"))["data"]["medicalDevicesAdmit"]
    assert back["errors"] == [] and back["admission"]["readmission"] is True
    assert back["admission"]["grade"] == "qualified"
    grades = await kehu_client.execute("query($c: ID!) { customerGrades(customerId: $c) { nodes { scopeKey grade } } }",
                                       c=cust)
    assert grades["data"]["customerGrades"]["nodes"] == [{"scopeKey": x, "grade": "qualified"}]


async def test_acceptance5_a_reminder_is_raised_30_days_before_expiry_once(kehu_client, clock):
    """Issue 20 acceptance 5: the tick raises a reminder 30 days (the tenant parameter
    qualification_reminder_days) before a document expires — not 31 days before — once per
    document and expiry, audited with the tick as actor and sent as the outbox event
    medical_devices.qualification_expiring; a renewal's new expiry gets its own reminder."""
    cust = await customer(kehu_client)
    await documents(kehu_client, cust, ["device_operation_licence"], expires="2026-07-31")
    await documents(kehu_client, cust, ["business_licence"], expires=None)  # never expires: no reminder
    assert (await run_tick(kehu_client, datetime(2026, 6, 30, 9, 0, tzinfo=SHANGHAI)))[REMINDERS] == 0
    assert (await run_tick(kehu_client, datetime(2026, 7, 1, 0, 0, tzinfo=SHANGHAI)))[REMINDERS] == 1
    assert (await run_tick(kehu_client, datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI)))[REMINDERS] == 0
    entries = await audit(kehu_client, "medical_devices_qualification")
    reminders = [e for e in entries if e["action"] == "medical_devices.qualification_expiring"]
    assert len(reminders) == 1 and reminders[0]["actor"] == "job:medical_devices.qualification_reminders"
    diff = json.loads(reminders[0]["diff"])
    assert diff["kind"] == {"to": "device_operation_licence"} and diff["days_left"] == {"to": 30}
    listed = await nodes(kehu_client, EXPIRING, "medicalDevicesQualificationsExpiring", w=36500)
    assert listed == [{"kind": "device_operation_licence", "expiresOn": "2026-07-31", "remindedFor": "2026-07-31"}]

    await documents(kehu_client, cust, ["device_operation_licence"], expires="2031-07-31")  # renewed
    assert (await run_tick(kehu_client, datetime(2031, 7, 1, 9, 0, tzinfo=SHANGHAI)))[REMINDERS] == 1


async def test_acceptance5_the_reminder_days_are_a_tenant_parameter(kehu_client, clock):
    """The days before expiry are the tenant parameter qualification_reminder_days (default 30)."""
    cust = await customer(kehu_client)
    await documents(kehu_client, cust, ["practice_licence"], expires="2026-07-31")
    await ok(kehu_client, PARAMS, "verticalParametersUpdate", k="qualification_reminder_days", v=10)
    assert (await run_tick(kehu_client, datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI)))[REMINDERS] == 0
    assert (await run_tick(kehu_client, datetime(2026, 7, 21, 9, 0, tzinfo=SHANGHAI)))[REMINDERS] == 1
    profile = await ok(kehu_client, CUSTOMER, "medicalDevicesCustomer", c=cust)
    assert profile["qualifications"][0]["expiresOn"] == "2026-07-31"
