"""Issue #9 acceptance with the automotive plugin enabled for the tenant, through the engine
(core.archives): S3 and V11 with overrides, KPI entries for late and unchanged
resubmissions, the weekly reconciliation, retention A6/A7 and sealing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.archives import common as archive_common

from core.archives import folders as archive_folders

from core.archives import kpi as archive_kpi

from core.archives import lifecycle as archive_lifecycle

from core.archives import reconciliation as archive_reconciliation

from core.archives import retention as archive_retention
from core.archives.tables import ArchiveTransition, KpiEntry
from core.audit.tables import AuditEntry
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import OutboxEvent
from core.verticals import service as verticals
from tests.archives.conftest import _as
from tests.archives.test_automotive_flow import file_fixture, submitted
from tests.automotive.fixtures import VIN, sales_archive, service_archive
from tests.support import SYSTEM


def _fields(mapping, code):
    return next(d for d in mapping["documents"] if d["code"] == code)["fields"]


def _at(monkeypatch, at):
    monkeypatch.setattr(archive_common, "now", lambda: at)


async def _checked(crew, registry, mapping, folder_id=None):
    folder_id, archive = await submitted(crew, registry, mapping, folder_id)
    return folder_id, await archive_lifecycle.check_archive(crew.clerk, registry, archive.id)


def _rule(view, code):
    return next(r for r in view.results if r.rule_code == code)


async def _written(tenant_id):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return (await uow.count(ArchiveTransition), await uow.count(KpiEntry), await uow.count(AuditEntry),
                await uow.count(OutboxEvent))


# --- acceptance 2: S3 and V11 -------------------------------------------------------------------

@pytest.mark.parametrize(("stamp", "status"), [("2026-03-01T04:00", "fail"), ("2026-03-01T11:00", "pass")],
                         ids=["30-hours", "23-hours"])
async def test_s3_invoice_and_pdi_stamp_at_most_24_hours_apart(crew, automotive, stamp, status):
    mapping = sales_archive()
    _fields(mapping, "invoice")["date"] = "2026-03-02T10:00"
    _fields(mapping, "pdi_certificate")["stamp_date"] = stamp
    _, checked = await _checked(crew, automotive, mapping)
    s3 = _rule(checked, "S3")
    assert s3.status == status
    if status == "fail":
        assert (s3.document, s3.field) == ("invoice", "date") and "30" in s3.message_en


def _over_estimate(mapping):
    _fields(mapping, "work_order")["estimate"] = "1000.00"
    _fields(mapping, "settlement")["amount_received"] = "1120.00"  # 12 % over, the tolerance is 10 %
    return mapping


async def test_v11_fails_and_passes_only_when_a_permitted_role_overrides_it_with_a_reason_audited(
        crew, automotive, seeded):
    _, checked = await _checked(crew, automotive, _over_estimate(service_archive()))
    v11 = _rule(checked, "V11")
    assert (v11.status, v11.document, v11.field) == ("fail", "work_order", "estimate")
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.accept_archive(crew.clerk, automotive, checked.id)
    assert refused.value.code == "ARCHIVE_CHECKS_FAILED" and "V11" in refused.value.message_en
    before = await _written(seeded.acme.id)
    for who, reason, code in ((crew.clerk, "客户同意", "PERMISSION_DENIED"),  # checks, may not approve exceptions
                              (crew.advisor, "客户同意", "PERMISSION_DENIED"),
                              (crew.manager, " ", "REASON_REQUIRED")):
        with pytest.raises(KehuError) as refused:
            await archive_lifecycle.override_rule(who, automotive, v11.id, reason)
        assert refused.value.code == code
    assert await _written(seeded.acme.id) == before
    overridden = await archive_lifecycle.override_rule(crew.manager, automotive, v11.id, "客户追加更换雨刮片，已签字确认")
    assert _rule(overridden, "V11").status == "overridden"
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        entry = await uow.select(AuditEntry).where((AuditEntry.action == "archive.rule_overridden")
                                                   & (AuditEntry.target_id == str(checked.id))).first()
    assert entry["actor"] == crew.manager.actor
    assert "V11" in entry["diff"] and "客户追加更换雨刮片" in entry["diff"]
    assert (await archive_lifecycle.accept_archive(crew.clerk, automotive, checked.id)).state == "accepted"


async def test_v11_follows_the_tenants_tolerance(crew, automotive, seeded):
    await verticals.update_vertical_parameters(SYSTEM.for_tenant(seeded.acme.id), automotive, "automotive",
                                               {"estimate_tolerance_percent": 15.0})
    _, checked = await _checked(crew, automotive, _over_estimate(service_archive()))
    assert _rule(checked, "V11").status == "pass"


# --- acceptance 3: KPI for late and unchanged resubmissions; separation of duties -----------------

TUESDAY = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a working day


async def _rejected(crew, registry, folder_id=None):
    folder_id, archive = await submitted(crew, registry, sales_archive(), folder_id)
    await archive_lifecycle.check_archive(crew.clerk, registry, archive.id)
    rejected = await archive_lifecycle.reject_archive(crew.clerk, registry, archive.id, ["购车协议书骑缝章不清晰"])
    assert rejected.deadline_at == TUESDAY + timedelta(hours=24)  # rectification_hours 24, working days
    return folder_id, rejected


async def test_late_and_unchanged_resubmissions_each_cost_the_submitter_one_kpi_point(crew, automotive, monkeypatch):
    _at(monkeypatch, TUESDAY)
    folder_id, late = await _rejected(crew, automotive)
    _, unchanged = await _rejected(crew, automotive, folder_id)
    # rectified, but handed back 25 hours after the rejection
    await archive_lifecycle.put_document(crew.advisor, automotive, late.id, "purchase_agreement",
                                {**_fields(sales_archive(), "purchase_agreement"), "payment_method": "贷款"})
    _at(monkeypatch, TUESDAY + timedelta(hours=25))
    await archive_lifecycle.resubmit_archive(crew.advisor, automotive, late.id)
    # returned unchanged (原封返回), in time
    _at(monkeypatch, TUESDAY + timedelta(hours=1))
    await archive_lifecycle.resubmit_archive(crew.advisor, automotive, unchanged.id)
    ledger = await archive_kpi.kpi_ledger(crew.clerk, automotive, user_id=crew.advisor.user_id)
    resubmissions = sorted((e.archive_id, e.rule_code, e.points) for e in ledger if e.rule_code != "nonconforming_archive")
    assert resubmissions == sorted([(late.id, "late_rectification", 1), (unchanged.id, "unchanged_resubmission", 1)])
    assert all(e.vertical == "automotive" and e.user_id == crew.advisor.user_id for e in ledger)


async def test_the_kpi_points_are_the_tenants_automotive_parameters(crew, automotive, seeded, monkeypatch):
    await verticals.update_vertical_parameters(SYSTEM.for_tenant(seeded.acme.id), automotive, "automotive",
                                               {"kpi_points_unchanged_resubmission": 3})
    _at(monkeypatch, TUESDAY)
    _, archive = await _rejected(crew, automotive)
    await archive_lifecycle.resubmit_archive(crew.advisor, automotive, archive.id)
    ledger = await archive_kpi.kpi_ledger(crew.clerk, automotive, user_id=crew.advisor.user_id)
    assert [(e.rule_code, e.points) for e in ledger if e.rule_code == "unchanged_resubmission"] == [
        ("unchanged_resubmission", 3)]


async def test_the_checker_of_an_automotive_archive_is_never_its_submitter(crew, automotive, seeded):
    both = _as(seeded.acme.id, crew.manager.user_id, "automotive.archive.submit", "automotive.archive.check",
               "automotive.exception.approve")
    folder_id, archive = await file_fixture(crew, automotive, sales_archive())
    await archive_lifecycle.submit_archive(both, automotive, archive.id)
    before = await _written(seeded.acme.id)
    for attempt in (archive_lifecycle.check_archive(both, automotive, archive.id),
                    archive_lifecycle.accept_archive(both, automotive, archive.id),
                    archive_lifecycle.reject_archive(both, automotive, archive.id, ["x"])):
        with pytest.raises(KehuError) as refused:
            await attempt
        assert refused.value.code == "SEPARATION_OF_DUTIES"
    assert await _written(seeded.acme.id) == before
    assert (await archive_lifecycle.check_archive(crew.clerk, automotive, archive.id)).state == "under_check"


# --- acceptance 4: the weekly reconciliation ----------------------------------------------------

MONDAY = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def test_the_weekly_reconciliation_reports_exactly_the_missing_archives_due_in_two_working_days(
        crew, automotive, seeded, monkeypatch):
    _at(monkeypatch, MONDAY)
    await submitted(crew, automotive, sales_archive())  # VIN received this week
    assembling = await archive_folders.create_folder(crew.advisor, automotive, "automotive", "LSVAU2180N2184637")
    await archive_lifecycle.create_archive(crew.advisor, automotive, assembling.id, "sales_archive")  # filed, not handed in
    rows = [archive_common.ExpectedRow(VIN, "advisor"),
            archive_common.ExpectedRow("LSVAU2180N2184637", "advisor"),
            archive_common.ExpectedRow("LFV3A23C5J3001234", "advisor"),
            archive_common.ExpectedRow("LFV2A2150K3012345", "advisor", "未开票（未上报记录）")]
    result = await archive_reconciliation.import_expected(crew.clerk, automotive, "automotive", "sales_archive", source="AAK",
                                            period="2026-W11", rows=rows)
    assert [m.subject_key for m in result.missing] == ["LFV3A23C5J3001234", "LSVAU2180N2184637"]
    assert result.excluded == {"LFV2A2150K3012345": "未开票（未上报记录）"}
    assert (result.expected_count, result.received_count) == (3, 1)
    # missing_archive_deadline_days = 2 working days: Tuesday and Wednesday, by 18:00 in Shanghai
    assert {m.due_at for m in result.missing} == {datetime(2026, 3, 11, 10, 0, tzinfo=UTC)}
    ledger = await archive_kpi.kpi_ledger(crew.clerk, automotive, user_id=crew.advisor.user_id)
    assert sorted((e.rule_code, e.subject_key) for e in ledger) == [
        ("missing_archive", "LFV3A23C5J3001234"), ("missing_archive", "LSVAU2180N2184637")]


async def test_the_missing_archive_deadline_is_the_tenants_parameter(crew, automotive, seeded, monkeypatch):
    await verticals.update_vertical_parameters(SYSTEM.for_tenant(seeded.acme.id), automotive, "automotive",
                                               {"missing_archive_deadline_days": 3})
    _at(monkeypatch, MONDAY)
    result = await archive_reconciliation.import_expected(crew.clerk, automotive, "automotive", "sales_archive", source="AAK",
                                            period="2026-W11", rows=[archive_common.ExpectedRow(VIN)])
    assert [m.due_at for m in result.missing] == [datetime(2026, 3, 12, 10, 0, tzinfo=UTC)]


# --- acceptance 5: retention A6/A7 and sealing ---------------------------------------------------

CREATED = datetime(2019, 1, 1, 2, 0, tzinfo=UTC)


async def _accepted(crew, registry, monkeypatch, mapping, at, folder_id=None):
    _at(monkeypatch, at)
    folder_id, archive = await submitted(crew, registry, mapping, folder_id)
    await archive_lifecycle.check_archive(crew.clerk, registry, archive.id)
    return folder_id, await archive_lifecycle.accept_archive(crew.clerk, registry, archive.id)


async def _folder(crew, registry, folder_id):
    return (await archive_folders.get_folder(crew.clerk, registry, folder_id))[0]


async def test_a_vehicle_never_serviced_here_is_kept_five_years_from_the_archives_creation_then_sealed(
        crew, automotive, monkeypatch):
    _at(monkeypatch, CREATED)
    folder_id, _ = await file_fixture(crew, automotive, sales_archive())
    folder_id, sales = await _accepted(crew, automotive, monkeypatch, sales_archive(), CREATED + timedelta(days=20),
                                       folder_id)
    folder = await _folder(crew, automotive, folder_id)
    assert (folder.retention_rule, folder.retention_until) == ("A7", datetime(2024, 1, 1, 2, 0, tzinfo=UTC))
    assert await archive_retention.seal_expired(folder.retention_until - timedelta(seconds=1)) == 0
    assert await archive_retention.seal_expired(folder.retention_until + timedelta(seconds=1)) == 1
    assert (await _folder(crew, automotive, folder_id)).sealed_at is not None
    assert {a.state for a in (await archive_folders.get_folder(crew.clerk, automotive, folder_id))[1]} == {"sealed"}


async def test_a_vehicle_serviced_here_is_kept_five_years_after_its_last_service(crew, automotive, monkeypatch,
                                                                                 seeded):
    folder_id, _ = await _accepted(crew, automotive, monkeypatch, sales_archive(), CREATED)
    serviced = datetime(2020, 6, 1, 2, 0, tzinfo=UTC)
    await _accepted(crew, automotive, monkeypatch, service_archive(), serviced, folder_id)
    folder = await _folder(crew, automotive, folder_id)
    assert (folder.retention_rule, folder.retention_until) == ("A6", datetime(2025, 6, 1, 2, 0, tzinfo=UTC))
    # a later sales-type archive is no service: the date stays
    await archive_folders.update_folder_facts(crew.advisor, automotive, folder_id, {"colour": "黑"})
    assert (await _folder(crew, automotive, folder_id)).retention_until == folder.retention_until
    # the tenant keeps serviced vehicles 6 years
    await verticals.update_vertical_parameters(SYSTEM.for_tenant(seeded.acme.id), automotive, "automotive",
                                               {"retention_years_after_last_service": 6})
    again = await archive_folders.recompute_retention(crew.clerk, automotive, folder_id)
    assert (again.retention_rule, again.retention_until) == ("A6", datetime(2026, 6, 1, 2, 0, tzinfo=UTC))


async def test_a_service_before_kehu_counts_from_the_folders_last_service_date(crew, automotive, monkeypatch):
    _at(monkeypatch, CREATED)
    folder = await archive_folders.create_folder(crew.advisor, automotive, "automotive", VIN,
                                          facts={"last_service": "2021-09-30T00:00:00+08:00"})
    await _accepted(crew, automotive, monkeypatch, sales_archive(), CREATED, folder.id)
    folder = await _folder(crew, automotive, folder.id)
    assert (folder.retention_rule, folder.retention_until.astimezone(UTC)) == (
        "A6", datetime(2026, 9, 29, 16, 0, tzinfo=UTC))


async def test_a_sealed_automotive_archive_refuses_every_change(crew, automotive, monkeypatch, seeded):
    folder_id, accepted = await _accepted(crew, automotive, monkeypatch, sales_archive(), CREATED)
    _, rejected = await _rejected_at(crew, automotive, folder_id)
    _, assembling = await file_fixture(crew, automotive, service_archive(), folder_id)
    folder = await _folder(crew, automotive, folder_id)
    assert await archive_retention.seal_expired(folder.retention_until + timedelta(days=1)) == 1
    result = _rule(await archive_lifecycle.get_archive(crew.clerk, automotive, rejected.id), "S1")
    before = await _written(seeded.acme.id)
    attempts = [
        archive_folders.update_folder_facts(crew.advisor, automotive, folder_id, {"colour": "黑"}),
        archive_folders.recompute_retention(crew.clerk, automotive, folder_id),
        archive_lifecycle.create_archive(crew.advisor, automotive, folder_id, "service_archive"),
        archive_lifecycle.put_document(crew.advisor, automotive, assembling.id, "work_order", {"order_no": "2-1"}),
        archive_lifecycle.submit_archive(crew.advisor, automotive, assembling.id),
        archive_lifecycle.check_archive(crew.clerk, automotive, accepted.id),
        archive_lifecycle.override_rule(crew.manager, automotive, result.id, "特殊情况"),
        archive_lifecycle.accept_archive(crew.clerk, automotive, accepted.id),
        archive_lifecycle.reject_archive(crew.clerk, automotive, accepted.id, ["x"]),
        archive_lifecycle.resubmit_archive(crew.advisor, automotive, rejected.id),
        archive_lifecycle.file_archive(crew.clerk, automotive, accepted.id),
        archive_lifecycle.seal_archive(crew.keeper, automotive, accepted.id),
    ]
    for attempt in attempts:
        with pytest.raises(KehuError) as refused:
            await attempt
        assert refused.value.code == "ARCHIVE_SEALED"
    assert await _written(seeded.acme.id) == before


async def _rejected_at(crew, registry, folder_id):
    folder_id, archive = await submitted(crew, registry, sales_archive(), folder_id)
    await archive_lifecycle.check_archive(crew.clerk, registry, archive.id)
    return folder_id, await archive_lifecycle.reject_archive(crew.clerk, registry, archive.id, ["协议书金额涂改"])
