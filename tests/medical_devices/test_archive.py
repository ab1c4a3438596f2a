"""The customer-archive standard of the medical-devices vertical through core's archive API
(seed-000 §4.5 AR1, AR2; seed-003 R12-1; MD23): created within a week of the first contact,
numbered and coded, checked by someone other than its creator."""

from __future__ import annotations

import pytest

from tests.medical_devices.api import colleague, customer, nodes, ok

RESULTS = "checkResults { ruleCode kind status }"
FOLDER = ('mutation($k: String!, $c: ID!) { archiveFolderCreate(vertical: "medical_devices", subjectKey: $k, '
          'ownerCustomerId: $c, facts: {}) { folder { id } errors { code message } } }')
CREATE = ('mutation($f: ID!, $facts: JSON) { archiveCreate(folderId: $f, standard: "customer_archive", facts: $facts) '
          '{ archive { id state } errors { code message } } }')
PUT = ('mutation($a: ID!, $code: String!, $fields: JSON!) { archiveDocumentPut(archiveId: $a, code: $code, '
       'fields: $fields) { archive { id } errors { code message field } } }')
SUBMIT = 'mutation($a: ID!) { archiveSubmit(id: $a) { archive { state } errors { code message } } }'
CHECK = 'mutation($a: ID!) { archiveCheck(id: $a) { archive { state %s } errors { code message } } }' % RESULTS


def _survey(first: str, created: str) -> dict:
    return {"first_contact_date": first, "created_on": created, "operating_status": "经营正常",
            "product_flow": "本院骨科", "signatures": [{"role": "contact_person", "name": "李明",
                                                     "signed_at": f"{created}T10:00"}]}


@pytest.mark.parametrize("first,created,facts,failed", [
    ("2026-03-02", "2026-03-09", {"archive_number": "KA-001", "category_code": "H3"}, set()),  # AR1: 7 days
    ("2026-03-02", "2026-03-10", {"archive_number": "KA-002", "category_code": "H3"}, {"AR1"}),  # 8 days
    ("2026-03-09", "2026-03-02", {"archive_number": "KA-003", "category_code": "H3"}, {"AR1"}),  # before contact
    ("2026-03-02", "2026-03-03", {"archive_number": "KA-004"}, {"MD23"}),  # no category code
])
async def test_r12_ar1_md23_the_customer_archive_checks(kehu_client, kehu_tenant, first, created, facts, failed):
    """AR1 / R12-1: the archive is created within archive_creation_days (7) of the first contact;
    MD23: it carries its archive number and the marketing division's category code; AR2: another
    person (the direct superior, holding medical_devices.archive.check) checks it — a manual item."""
    cust = await customer(kehu_client)
    folder = (await ok(kehu_client, FOLDER, "archiveFolderCreate", k=facts["archive_number"], c=cust))["folder"]["id"]
    archive = (await ok(kehu_client, CREATE, "archiveCreate", f=folder, facts=facts))["archive"]["id"]
    await ok(kehu_client, PUT, "archiveDocumentPut", a=archive, code="survey", fields=_survey(first, created))
    await ok(kehu_client, PUT, "archiveDocumentPut", a=archive, code="qualifications", fields={})
    await ok(kehu_client, SUBMIT, "archiveSubmit", a=archive)
    own = (await kehu_client.execute(CHECK, a=archive))["data"]["archiveCheck"]
    assert own["archive"] is None and own["errors"], own  # AR2: never checked by its creator
    superior = await colleague(kehu_client, kehu_tenant, ["medical_devices.archive.check"])
    checked = (await ok(superior, CHECK, "archiveCheck", a=archive))["archive"]
    status = {r["ruleCode"]: (r["kind"], r["status"]) for r in checked["checkResults"]}
    assert {code for code, (_kind, state) in status.items() if state == "fail"} == failed, checked
    assert {code: status.get(code) for code in ("AR1", "MD23", "AR2")} == {
        "AR1": ("policy", "fail" if "AR1" in failed else "pass"),
        "MD23": ("policy", "fail" if "MD23" in failed else "pass"), "AR2": ("manual", "manual")}, checked


UPDATES = "{ medicalDevicesArchiveUpdatesDue { nodes { customerId grades { grade } lastAcceptedAt dueSince } } }"
ACCEPT = ("mutation($a: ID!) { archiveAccept(id: $a) { archive { state transitions { toState at } } "
          "errors { code message } } }")


async def test_ar3_key_customers_archives_are_updated_every_quarter(kehu_client, kehu_tenant, clock):
    """AR3 / R12-2: a key customer's (VIP or preferred) archive is supplemented every quarter
    (archive_update_months, 3): listed while it has no accepted archive, not within 3 months of
    the latest acceptance, listed again from then on; a qualified customer is no key customer."""
    from datetime import datetime, timedelta

    from tests.medical_devices.api import DOCS, admit, department, documents

    dep = await department(kehu_client)
    key, plain = await customer(kehu_client), await customer(kehu_client)
    for cust, grade in ((key, "vip"), (plain, "qualified")):
        await documents(kehu_client, cust, DOCS["medical_institution"])
        assert (await admit(kehu_client, cust, dep, g=grade))["data"]["medicalDevicesAdmit"]["errors"] == []
    due = await nodes(kehu_client, UPDATES, "medicalDevicesArchiveUpdatesDue")
    assert due == [{"customerId": key, "grades": [{"grade": "vip"}], "lastAcceptedAt": None, "dueSince": None}]

    folder = (await ok(kehu_client, FOLDER, "archiveFolderCreate", k="KA-100", c=key))["folder"]["id"]
    archive = (await ok(kehu_client, CREATE, "archiveCreate", f=folder,
                        facts={"archive_number": "KA-100", "category_code": "H3"}))["archive"]["id"]
    await ok(kehu_client, PUT, "archiveDocumentPut", a=archive, code="survey", fields=_survey("2026-03-02", "2026-03-03"))
    await ok(kehu_client, PUT, "archiveDocumentPut", a=archive, code="qualifications", fields={})
    await ok(kehu_client, SUBMIT, "archiveSubmit", a=archive)
    superior = await colleague(kehu_client, kehu_tenant, ["medical_devices.archive.check"])
    await ok(superior, CHECK, "archiveCheck", a=archive)
    moves = (await ok(superior, ACCEPT, "archiveAccept", a=archive))["archive"]["transitions"]
    accepted = datetime.fromisoformat([m["at"] for m in moves if m["toState"] == "accepted"][-1])

    clock.at = accepted + timedelta(days=80)  # within the quarter
    assert await nodes(kehu_client, UPDATES, "medicalDevicesArchiveUpdatesDue") == []
    clock.at = accepted + timedelta(days=93)  # past 3 calendar months
    due = await nodes(kehu_client, UPDATES, "medicalDevicesArchiveUpdatesDue")
    assert [d["customerId"] for d in due] == [key]
    assert abs(datetime.fromisoformat(due[0]["lastAcceptedAt"]) - accepted) < timedelta(seconds=1)
    assert datetime.fromisoformat(due[0]["dueSince"]).date() > (accepted + timedelta(days=80)).date()
    assert datetime.fromisoformat(due[0]["dueSince"]) <= clock.at
