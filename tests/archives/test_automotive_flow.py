"""A real automotive sales archive (tests/automotive/fixtures.py) through the archive engine with the
automotive plugin enabled for the tenant: assembling → submitted → checked → accepted → archived,
once through the use cases of core.archives and once over GraphQL."""

from __future__ import annotations

from typing import Any

from core.archives import folders as archive_folders

from core.archives import lifecycle as archive_lifecycle
from tests.automotive.fixtures import sales_archive, service_archive


async def file_fixture(people, registry, mapping: dict[str, Any], folder_id=None):
    """Folder (the vehicle) and archive with the fixture's facts and documents, as an advisor files them."""
    if folder_id is None:
        subject = mapping["subject"]
        folder_id = (await archive_folders.create_folder(people.advisor, registry, "automotive", subject["key"],
                                                  facts=subject["facts"])).id
    archive = await archive_lifecycle.create_archive(people.advisor, registry, folder_id, mapping["standard"],
                                            facts=mapping["facts"])
    for document in mapping["documents"]:
        archive = await archive_lifecycle.put_document(people.advisor, registry, archive.id, document["code"],
                                              document["fields"], position=document["position"])
    return folder_id, archive


async def submitted(people, registry, mapping, folder_id=None):
    folder_id, archive = await file_fixture(people, registry, mapping, folder_id)
    return folder_id, await archive_lifecycle.submit_archive(people.advisor, registry, archive.id)


async def test_a_complete_sales_archive_is_checked_accepted_and_archived_through_the_engine(crew, automotive):
    _, archive = await submitted(crew, automotive, sales_archive())
    checked = await archive_lifecycle.check_archive(crew.clerk, automotive, archive.id)
    failed = [(r.rule_code, r.document, r.field, r.message_en) for r in checked.results if r.status == "fail"]
    assert failed == []
    ran = {r.rule_code for r in checked.results}
    assert {f"S{n}" for n in range(1, 17)} <= ran  # every sales rule ran, S7 as a manual item
    assert [r.rule_code for r in checked.results if r.status == "manual"] == ["S7"]
    accepted = await archive_lifecycle.accept_archive(crew.clerk, automotive, archive.id)
    filed = await archive_lifecycle.file_archive(crew.clerk, automotive, archive.id)
    assert (accepted.state, filed.state) == ("accepted", "archived")
    assert [t.to_state for t in filed.transitions] == ["assembling", "submitted", "under_check", "accepted", "archived"]


async def test_a_complete_service_archive_passes_every_automatic_rule_through_the_engine(crew, automotive):
    _, archive = await submitted(crew, automotive, service_archive())
    checked = await archive_lifecycle.check_archive(crew.clerk, automotive, archive.id)
    assert [(r.rule_code, r.document, r.field) for r in checked.results if r.status == "fail"] == []
    assert {f"V{n}" for n in range(1, 26)} <= {r.rule_code for r in checked.results}


def _without(mapping: dict[str, Any], code: str) -> None:
    mapping["documents"] = [d for d in mapping["documents"] if d["code"] != code]


def _blank(mapping: dict[str, Any], code: str, field: str) -> None:
    next(d for d in mapping["documents"] if d["code"] == code)["fields"][field] = ""


async def test_the_engine_passes_the_facts_the_automotive_checks_read(crew, automotive):
    """Each archive fact flips the outcome of the rule reading it, so the engine must hand it over."""
    cases = [  # (archive, change of the documents, fact, a value passing, a value failing the rule)
        (sales_archive, None, "stock_in_date", "2026-01-05", "2025-01-01", "S14"),  # a year in stock: ticks due
        (sales_archive, None, "on_duty_advisor_present", True, False, "S15"),
        (sales_archive, None, "elsa_tyre_pressure_bar", 2.3, 3.3, "S13"),
        (service_archive, None, "half_load_tyre_pressure_bar", 2.5, 3.1, "V19"),
        (service_archive, lambda m: _without(m, "road_test"), "order_type", "2-", "1-", "V24"),
        (service_archive, lambda m: _without(m, "first_maintenance_voucher"), "customer_kind", "repair",
         "first_maintenance", "V2"),
        (service_archive, lambda m: _blank(m, "settlement", "mileage_km"), "mileage_km", 30200, 60200, "V17"),
    ]
    folder_id = None
    for make, change, fact, good, bad, rule in cases:
        outcomes = []
        for value in (good, bad):
            mapping = make()
            if change:
                change(mapping)
            mapping["facts"][fact] = value
            folder_id, archive = await submitted(crew, automotive, mapping, folder_id)  # one vehicle, one folder
            checked = await archive_lifecycle.check_archive(crew.clerk, automotive, archive.id)
            outcomes.append(rule in {r.rule_code for r in checked.results if r.status == "fail"})
        assert outcomes == [False, True], (fact, rule)


# --- over GraphQL ------------------------------------------------------------------------------

FOLDER = """mutation($key: String!, $facts: JSON) { archiveFolderCreate(vertical: "automotive", subjectKey: $key,
  facts: $facts) { folder { id subjectKey retentionRule } errors { code field } } }"""
CREATE = """mutation($f: ID!, $facts: JSON) { archiveCreate(folderId: $f, standard: "sales_archive", facts: $facts) {
  archive { id state } errors { code field } } }"""
PUT = """mutation($a: ID!, $code: String!, $fields: JSON!, $p: Int) { archiveDocumentPut(archiveId: $a, code: $code,
  fields: $fields, position: $p) { archive { id } errors { code field } } }"""
STEP = """mutation($id: ID!) { %s(id: $id) { archive { state checkResults { ruleCode status }
  transitions { toState actor } } errors { code field } } }"""


async def test_the_sales_archive_over_graphql(settings, seeded, automotive):
    from litestar.testing import AsyncTestClient

    from core.identity import roles
    from core.identity.permissions import Scope, install_catalog
    from core.verticals import service as verticals
    from gateway.app import create_app
    from tests.gateway.test_identity_api import gql, login
    from tests.support import SYSTEM, add_user

    acme = SYSTEM.for_tenant(seeded.acme.id)
    install_catalog(automotive.permissions)  # as the app does at start
    await verticals.enable_vertical(acme, automotive, "automotive")
    for username, permission in (("advisor", "automotive.archive.submit"), ("clerk", "automotive.archive.check")):
        role = await roles.create_role(acme, name=username, permissions={permission: Scope.TENANT})
        await roles.grant_role(acme, user_id=(await add_user(seeded.acme, username)).id, role_id=role.id)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})
    async with AsyncTestClient(create_app(relaxed)) as client:  # the app's own registry, from the entry point
        advisor = (await login(client, username="advisor"))["accessToken"]
        clerk = (await login(client, username="clerk"))["accessToken"]
        mapping = sales_archive()

        async def call(query, token, name, **variables):
            body = (await gql(client, query, token, **variables)).json()
            payload = body["data"][name]
            assert payload["errors"] == [], payload
            return payload

        folder = (await call(FOLDER, advisor, "archiveFolderCreate", key=mapping["subject"]["key"],
                             facts=mapping["subject"]["facts"]))["folder"]
        archive = (await call(CREATE, advisor, "archiveCreate", f=folder["id"], facts=mapping["facts"]))["archive"]
        for document in mapping["documents"]:
            await call(PUT, advisor, "archiveDocumentPut", a=archive["id"], code=document["code"],
                       fields=document["fields"], p=document["position"])
        await call(STEP % "archiveSubmit", advisor, "archiveSubmit", id=archive["id"])
        refused = (await gql(client, STEP % "archiveCheck", advisor, id=archive["id"])).json()["data"]["archiveCheck"]
        assert refused["archive"] is None and refused["errors"][0]["code"] == "PERMISSION_DENIED"
        checked = (await call(STEP % "archiveCheck", clerk, "archiveCheck", id=archive["id"]))["archive"]
        assert [r["ruleCode"] for r in checked["checkResults"] if r["status"] == "fail"] == []
        await call(STEP % "archiveAccept", clerk, "archiveAccept", id=archive["id"])
        filed = (await call(STEP % "archiveArchive", clerk, "archiveArchive", id=archive["id"]))["archive"]
        assert filed["state"] == "archived"
        assert [t["toState"] for t in filed["transitions"]] == [
            "assembling", "submitted", "under_check", "accepted", "archived"]

        # CSM masking: the numbers typed into the documents reach a reader without unmask masked.
        read = (await gql(client, "query($id: ID!) { archive(id: $id) { facts documents { code fields } } }", clerk,
                          id=archive["id"])).json()["data"]["archive"]
        fields = {d["code"]: d["fields"] for d in read["documents"]}
        assert fields["delivery_form"]["phone"] == "139****5678"
        assert fields["owner_id"]["number"] == "2201**********1234"
        assert "13912345678" not in str(read) and "220102199001011234" not in str(read)
