"""The archive engine on a test vertical: lifecycle, checks, overrides, KPI, sealing,
reconciliation, retention, quality, tenancy; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.archives import common as archive_common

from core.archives import folders as archive_folders

from core.archives import kpi as archive_kpi

from core.archives import lifecycle as archive_lifecycle

from core.archives import quality as archive_quality

from core.archives import reconciliation as archive_reconciliation

from core.archives import retention as archive_retention
from core.archives.tables import Archive, ArchiveTransition, KpiEntry, MissingReport
from core.audit.tables import AuditEntry
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.calendar.days import TenantCalendar
from core.jobs.tables import OutboxEvent
from tests.archives.conftest import GOOD
from tests.support import SYSTEM


async def _filed(people, registry, key="LFV2A21K0N3000001", docs=GOOD):
    folder = await archive_folders.create_folder(people.advisor, registry, "dealer", key, facts={"plate": "吉A12345"})
    archive = await archive_lifecycle.create_archive(people.advisor, registry, folder.id, "sales")
    for position, (code, fields) in enumerate(docs.items(), start=1):
        archive = await archive_lifecycle.put_document(people.advisor, registry, archive.id, code, fields, position=position)
    return folder, archive


async def _submitted(people, registry, **kwargs):
    folder, archive = await _filed(people, registry, **kwargs)
    return folder, await archive_lifecycle.submit_archive(people.advisor, registry, archive.id)


async def _counts(tenant_id, archive_id=None):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return {"transitions": await uow.count(ArchiveTransition),
                "kpi": await uow.count(KpiEntry),
                "audit": await uow.count(AuditEntry),
                "events": await uow.count(OutboxEvent)}


def _freeze(monkeypatch, at):
    monkeypatch.setattr(archive_common, "now", lambda: at)


async def _events(tenant_id, event_type):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.count(OutboxEvent).where(OutboxEvent.event_type == event_type)


async def test_a_complete_archive_goes_from_assembling_to_sealed_with_every_step_registered(people, registry, seeded):
    folder, archive = await _submitted(people, registry)
    checked = await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    manual = [r for r in checked.results if r.status == "manual"]
    assert [r.rule_code for r in manual] == ["S7"]  # the legibility check is the checker's eye
    assert all(r.status == "pass" for r in checked.results if r.status != "manual")
    accepted = await archive_lifecycle.accept_archive(people.clerk, registry, archive.id)
    assert {r.status for r in accepted.results} == {"pass"}
    filed = await archive_lifecycle.file_archive(people.clerk, registry, archive.id)
    sealed = await archive_lifecycle.seal_archive(people.keeper, registry, archive.id)
    assert [(t.from_state, t.to_state) for t in sealed.transitions] == [
        (None, "assembling"), ("assembling", "submitted"), ("submitted", "under_check"),
        ("under_check", "accepted"), ("accepted", "archived"), ("archived", "sealed")]
    assert sealed.transitions[1].actor == people.advisor.actor  # the handover register names the submitter
    assert filed.state == "archived" and sealed.state == "sealed"
    for event in ("archive.submitted", "archive.accepted", "archive.sealed"):
        assert await _events(seeded.acme.id, event) == 1
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        actions = [r["action"] for r in await uow.select(AuditEntry.action).where(
            AuditEntry.target_id == str(archive.id)).order_by(AuditEntry.seq)]
    assert [a for a in actions if a.split(".")[1] in archive_common.STATES] == [
        "archive.submitted", "archive.under_check", "archive.accepted", "archive.archived", "archive.sealed"]


async def test_data_driven_rules_name_the_document_and_field_in_both_languages(people, registry):
    docs = {"id_card": {"name": "王小明"},
            "invoice": {"date": "", "buyer": "王小明", "amount": "1.00", "signatures": [], "seals": []},
            "pdi": {"tyre_pressure": "2.5"}}  # out of order, blank date, unsigned, unsealed, no unit
    _, archive = await _submitted(people, registry, docs=docs)
    checked = await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    failed = {(r.rule_code, r.document, r.field) for r in checked.results if r.status == "fail"}
    assert failed == {("documents.order", None, None), ("fields.filled", "invoice", "date"),
                      ("signatures.present", "invoice", "signatures"), ("seals.present", "invoice", "seals"),
                      ("units.present", "pdi", "tyre_pressure")}
    date = next(r for r in checked.results if r.field == "date")
    assert "Date" in date.message_en and "日期" in date.message_zh
    missing = {**GOOD}
    del missing["id_card"]
    _, other = await _submitted(people, registry, key="LFV2A21K0N3000002", docs=missing)
    checked = await archive_lifecycle.check_archive(people.clerk, registry, other.id)
    assert [(r.rule_code, r.document) for r in checked.results if r.status == "fail"] == [
        ("documents.present", "id_card")]


async def test_a_filled_mark_counts_as_filled(people, registry):
    docs = {**GOOD, "invoice": {**GOOD["invoice"], "amount": "无"}, "pdi": {"tyre_pressure": "✓"}}
    _, archive = await _submitted(people, registry, docs=docs)
    checked = await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    assert not [r for r in checked.results if r.status == "fail"]


async def test_the_checker_is_never_the_submitter(people, registry, seeded):
    both = people.manager  # holds check; give the same person submit too
    from tests.archives.conftest import _as
    same = _as(seeded.acme.id, both.user_id, "dealer.archive.submit", "dealer.archive.check")
    folder = await archive_folders.create_folder(same, registry, "dealer", "VIN-SOD")
    archive = await archive_lifecycle.create_archive(same, registry, folder.id, "sales")
    await archive_lifecycle.submit_archive(same, registry, archive.id)
    before = await _counts(seeded.acme.id)
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.check_archive(same, registry, archive.id)
    assert refused.value.code == "SEPARATION_OF_DUTIES"
    assert await _counts(seeded.acme.id) == before  # nothing written
    assert (await archive_lifecycle.get_archive(same, registry, archive.id)).state == "submitted"


async def test_a_failed_rule_passes_only_when_overridden_with_a_reason_by_a_permitted_role(people, registry, seeded):
    docs = {**GOOD, "id_card": {"name": "王大明"}}
    _, archive = await _submitted(people, registry, docs=docs)
    checked = await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    s4 = next(r for r in checked.results if r.rule_code == "S4")
    assert (s4.status, s4.document, s4.field) == ("fail", "invoice", "buyer")
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.accept_archive(people.clerk, registry, archive.id)
    assert refused.value.code == "ARCHIVE_CHECKS_FAILED" and "S4" in refused.value.message_en
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.override_rule(people.clerk, registry, s4.id, "special case")
    assert refused.value.code == "PERMISSION_DENIED"
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.override_rule(people.manager, registry, s4.id, "  ")
    assert refused.value.code == "REASON_REQUIRED"
    overridden = await archive_lifecycle.override_rule(people.manager, registry, s4.id, "更名证明已附（特殊情况）")
    s4 = next(r for r in overridden.results if r.rule_code == "S4")
    assert (s4.status, s4.override_reason, s4.overridden_by) == ("overridden", "更名证明已附（特殊情况）",
                                                                  people.manager.actor)
    assert (await archive_lifecycle.accept_archive(people.clerk, registry, archive.id)).state == "accepted"


async def test_reject_and_resubmit_loops_record_kpi_for_late_and_unchanged_resubmissions(people, registry, seeded,
                                                                                         monkeypatch):
    friday = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai, a working Friday
    _freeze(monkeypatch, friday)
    docs = {**GOOD, "id_card": {"name": "王大明"}}
    _, archive = await _submitted(people, registry, docs=docs)
    await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    rejected = await archive_lifecycle.reject_archive(people.clerk, registry, archive.id, ["发票抬头错误"])
    assert rejected.state == "rejected"
    assert rejected.deadline_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # 24 working-day hours: Monday 16:00
    assert "S4" in rejected.transitions[-1].note and "发票抬头错误" in rejected.transitions[-1].note
    # returned unchanged, in time: the unchanged-resubmission KPI only
    _freeze(monkeypatch, friday + timedelta(hours=2))
    await archive_lifecycle.resubmit_archive(people.advisor, registry, archive.id)
    ledger = await archive_kpi.kpi_ledger(people.clerk, registry, user_id=people.advisor.user_id)
    assert [(e.rule_code, e.points) for e in ledger] == [("nonconforming_archive", 1), ("unchanged_resubmission", 2)]
    # second loop: rectified, but after the deadline
    await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    await archive_lifecycle.reject_archive(people.clerk, registry, archive.id)
    await archive_lifecycle.put_document(people.advisor, registry, archive.id, "id_card", {"name": "王小明"})
    _freeze(monkeypatch, friday + timedelta(days=4))  # Tuesday, past Monday's deadline
    await archive_lifecycle.resubmit_archive(people.advisor, registry, archive.id)
    ledger = await archive_kpi.kpi_ledger(people.clerk, registry, user_id=people.advisor.user_id)
    assert [e.rule_code for e in ledger][-2:] == ["nonconforming_archive", "late_rectification"]
    assert await _events(seeded.acme.id, "kpi.recorded") == 4
    assert await _events(seeded.acme.id, "archive.rejected") == 2
    checked = await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    assert checked.check_round == 3
    assert (await archive_lifecycle.accept_archive(people.clerk, registry, archive.id)).rejections == 2


async def test_rectification_hours_skip_non_working_days():
    calendar = TenantCalendar()
    start = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)  # 20:00 Thursday; May Day holiday 1-5 May 2026
    assert archive_common.rectification_due(calendar, start, 24) == datetime(2026, 5, 6, 12, 0, tzinfo=UTC)
    assert archive_common.rectification_due(calendar, datetime(2026, 3, 3, 1, tzinfo=UTC), 24) == \
        datetime(2026, 3, 4, 1, tzinfo=UTC)


async def test_a_sealed_archive_is_read_only(people, registry, seeded):
    folder, archive = await _submitted(people, registry)
    await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    await archive_lifecycle.accept_archive(people.clerk, registry, archive.id)
    await archive_lifecycle.file_archive(people.clerk, registry, archive.id)
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.seal_archive(people.clerk, registry, archive.id)
    assert refused.value.code == "PERMISSION_DENIED"
    await archive_lifecycle.seal_archive(people.keeper, registry, archive.id)
    before = await _counts(seeded.acme.id)
    attempts = [archive_lifecycle.put_document(people.advisor, registry, archive.id, "pdi", {"tyre_pressure": "2.4Bar"}),
                archive_lifecycle.seal_archive(people.keeper, registry, archive.id),
                archive_lifecycle.check_archive(people.clerk, registry, archive.id)]
    for attempt in attempts:
        with pytest.raises(KehuError) as refused:
            await attempt
        assert refused.value.code == "ARCHIVE_SEALED"
    assert await _counts(seeded.acme.id) == before


async def test_the_retention_sweep_seals_folders_past_retention(people, registry, seeded):
    folder, archive = await _submitted(people, registry)
    await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    accepted = await archive_lifecycle.accept_archive(people.clerk, registry, archive.id)
    folder = (await archive_folders.get_folder(people.clerk, registry, folder.id))[0]
    assert folder.retention_rule == "A7"
    assert folder.retention_until.year == folder.created_at.year + 5
    assert await archive_retention.seal_expired(datetime.now(UTC)) == 0
    assert await archive_retention.seal_expired(folder.retention_until + timedelta(seconds=1)) == 1
    sealed = await archive_lifecycle.get_archive(people.clerk, registry, accepted.id)
    assert sealed.state == "sealed" and sealed.transitions[-1].note == "retention ended"
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.create_archive(people.advisor, registry, folder.id, "service_archive")
    assert refused.value.code == "ARCHIVE_SEALED"


async def test_retention_is_the_latest_end_and_is_recomputed_when_the_facts_change(people, registry, monkeypatch):
    folder, sales = await _submitted(people, registry)
    await archive_lifecycle.check_archive(people.clerk, registry, sales.id)
    await archive_lifecycle.accept_archive(people.clerk, registry, sales.id)
    created_end = (await archive_folders.get_folder(people.clerk, registry, folder.id))[0].retention_until
    later = datetime.now(UTC) + timedelta(days=400)
    _freeze(monkeypatch, later)
    service = await archive_lifecycle.create_archive(people.advisor, registry, folder.id, "service_archive")
    await archive_lifecycle.put_document(people.advisor, registry, service.id, "work_order", {})
    await archive_lifecycle.submit_archive(people.advisor, registry, service.id)
    await archive_lifecycle.check_archive(people.clerk, registry, service.id)
    await archive_lifecycle.accept_archive(people.clerk, registry, service.id)
    after_service = (await archive_folders.get_folder(people.clerk, registry, folder.id))[0]
    assert (after_service.retention_rule, after_service.retention_until) == ("A6", later.replace(year=later.year + 5))
    assert after_service.retention_until > created_end
    # a fact the rules count from changes: retention follows
    changed = await archive_folders.update_folder_facts(people.advisor, registry, folder.id,
                                                 {"last_service": "2099-01-01T00:00:00+00:00"})
    assert changed.retention_until == after_service.retention_until  # accepted services win over the fact
    assert changed.facts["last_service"] == "2099-01-01T00:00:00+00:00"


async def test_reconciliation_excludes_unreported_and_reports_missing_archives_due_in_working_days(
        people, registry, seeded, monkeypatch):
    thursday = datetime(2026, 4, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, before the May Day holiday
    _freeze(monkeypatch, thursday)
    await _submitted(people, registry, key="VIN-RECEIVED")
    text = ("key,responsible,excluded_reason\nVIN-RECEIVED,advisor,\nVIN-MISSING,advisor,\n"
            "VIN-NOINVOICE,advisor,未开发票\n")
    result = await archive_reconciliation.import_expected(people.clerk, registry, "dealer", "sales", source="AAK",
                                            period="2026-W18", rows=archive_reconciliation.parse_expected_csv(text))
    assert (result.expected_count, result.received_count) == (2, 1)
    assert result.excluded == {"VIN-NOINVOICE": "未开发票"}
    assert [m.subject_key for m in result.missing] == ["VIN-MISSING"]
    # two working days after Thursday 30 April: 1-5 May are holidays, so Wednesday 6 and Thursday 7 May
    assert result.missing[0].due_at == datetime(2026, 5, 7, 10, 0, tzinfo=UTC)  # 18:00 closing in Shanghai
    ledger = await archive_kpi.kpi_ledger(people.clerk, registry, user_id=people.advisor.user_id)
    assert [(e.rule_code, e.points, e.subject_key) for e in ledger] == [("missing_archive", 3, "VIN-MISSING")]
    assert [m.subject_key for m in await archive_reconciliation.missing_reports(people.clerk, registry)] == ["VIN-MISSING"]
    await _submitted(people, registry, key="VIN-MISSING")  # handing it in resolves the report
    assert await archive_reconciliation.missing_reports(people.clerk, registry) == []


async def test_an_import_with_an_unknown_responsible_writes_nothing(people, registry, seeded):
    before = await _counts(seeded.acme.id)
    with pytest.raises(KehuError) as refused:
        await archive_reconciliation.import_expected(people.clerk, registry, "dealer", "sales", source="AAK", period="W1",
                                       rows=[archive_common.ExpectedRow("VIN-1", "nobody")])
    assert refused.value.code == "USER_UNKNOWN"
    assert await _counts(seeded.acme.id) == before
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        assert await uow.count(MissingReport) == 0


async def test_fines_go_to_each_named_person_at_the_tenant_amount(people, registry):
    _, archive = await _submitted(people, registry)
    entries = await archive_kpi.record_fine(people.clerk, registry, archive.id,
                                         [people.advisor.user_id, people.clerk.user_id], "徇私舞弊")
    assert sorted((e.user_id, e.fine_cny, e.rule_code) for e in entries) == sorted(
        [(people.advisor.user_id, 10, "fraud"), (people.clerk.user_id, 10, "fraud")])
    mine = await archive_kpi.kpi_ledger(people.advisor, registry)  # no check permission: own entries only
    assert [e.user_id for e in mine] == [people.advisor.user_id]


async def test_quality_report_rates_completeness_and_authenticity_against_targets(people, registry, seeded):
    _, good = await _submitted(people, registry, key="VIN-GOOD")
    _, fake = await _submitted(people, registry, key="VIN-FAKE", docs={**GOOD, "id_card": {"name": "李四"}})
    _, gap = await _submitted(people, registry, key="VIN-GAP",
                              docs={k: v for k, v in GOOD.items() if k != "pdi"})
    for archive in (good, fake, gap):
        await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    await archive_lifecycle.accept_archive(people.clerk, registry, good.id)
    await archive_reconciliation.import_expected(people.clerk, registry, "dealer", "sales", source="AAK", period="W",
                                   rows=[archive_common.ExpectedRow("VIN-LOST")])
    period = datetime.now(UTC).astimezone(TenantCalendar().zone).strftime("%Y-%m")
    report = await archive_quality.quality_report(people.clerk, registry, "dealer", period)
    # expected: 3 submitted + 1 missing; complete: good and fake (nothing missing); gap lacks a document
    assert (report.expected, report.complete) == (4, 2)
    assert (report.checked, report.authentic) == (3, 2)  # fake failed the content check S4
    assert report.completeness_percent == 50.0 and report.completeness_met is False
    assert report.authenticity_percent == pytest.approx(66.67)
    assert report.authenticity_target_percent == 95.0
    with pytest.raises(KehuError) as refused:
        await archive_quality.quality_report(people.clerk, registry, "dealer", "March")
    assert refused.value.code == "PERIOD_INVALID"


async def test_another_tenant_cannot_see_or_touch_archives(people, registry):
    folder, archive = await _submitted(people, registry)
    for call in (archive_lifecycle.get_archive(people.globex, registry, archive.id),
                 archive_lifecycle.check_archive(people.globex, registry, archive.id),
                 archive_lifecycle.put_document(people.globex, registry, archive.id, "pdi", {})):
        with pytest.raises(KehuError) as refused:
            await call
        assert refused.value.code == "NOT_FOUND"
    assert await archive_lifecycle.list_archives(people.globex, registry) == []
    assert await archive_folders.list_folders(people.globex, registry) == []
    # the same subject key is free in another tenant
    assert (await archive_folders.create_folder(people.globex, registry, "dealer", folder.subject_key)).subject_key


async def test_permissions_and_enablement_are_enforced(people, registry, seeded):
    with pytest.raises(KehuError) as refused:
        await archive_folders.create_folder(people.outsider, registry, "dealer", "VIN-X")
    assert refused.value.code == "PERMISSION_DENIED"
    folder, archive = await _submitted(people, registry)
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.get_archive(people.outsider, registry, archive.id)
    assert refused.value.code == "PERMISSION_DENIED"
    from core.verticals import service as verticals
    await verticals.disable_vertical(SYSTEM.for_tenant(seeded.acme.id), registry, "dealer")
    with pytest.raises(KehuError) as refused:
        await archive_lifecycle.check_archive(people.clerk, registry, archive.id)
    assert refused.value.code == "VERTICAL_NOT_ENABLED"


async def test_one_folder_per_subject_and_failed_operations_write_nothing(people, registry, seeded):
    folder, archive = await _filed(people, registry)
    before = await _counts(seeded.acme.id)
    failures = [
        (archive_folders.create_folder(people.advisor, registry, "dealer", folder.subject_key), "ARCHIVE_FOLDER_EXISTS"),
        (archive_lifecycle.put_document(people.advisor, registry, archive.id, "brochure", {}), "ARCHIVE_DOCUMENT_UNKNOWN"),
        (archive_lifecycle.create_archive(people.advisor, registry, folder.id, "lease"), "ARCHIVE_STANDARD_UNKNOWN"),
        (archive_lifecycle.accept_archive(people.clerk, registry, archive.id), "ARCHIVE_STATE_INVALID"),
        (archive_lifecycle.resubmit_archive(people.advisor, registry, archive.id), "ARCHIVE_STATE_INVALID"),
    ]
    for call, code in failures:
        with pytest.raises(KehuError) as refused:
            await call
        assert refused.value.code == code
    assert await _counts(seeded.acme.id) == before
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        assert await uow.count(Archive) == 1
