"""Every automotive archive rule (seed-000 §1.5, S1–S16 and V1–V25): the valid archive passes, and
one change per case makes exactly the expected rule report the expected document and field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from plugins.automotive import checks, rules
from tests.automotive.fixtures import clone, sales_archive, service_archive, sig

PARAMETERS = {p.key: p.default for p in rules.PARAMETERS}
STANDARDS = {s.id: s for s in rules.ARCHIVE_STANDARDS}
Mutation = Callable[[dict[str, Any]], None]


def run(archive: dict[str, Any], parameters: dict[str, Any] | None = None) -> set[tuple[str, str | None, str | None]]:
    """(rule, document, field) of every finding of every policy of the archive's standard."""
    found = set()
    for check in STANDARDS[archive["standard"]].checks:
        if check.check is None:
            continue
        for f in checks.walk(check.check(archive, parameters or PARAMETERS)):
            assert f.message_en.strip() and f.message_zh.strip()
            found.add((check.code, f.document, f.field))
    return found


def fields(archive: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in archive["documents"] if d["code"] == code)["fields"]


# --- mutations, one thing each -------------------------------------------------------------------

def put(code: str, name: str, value: Any) -> Mutation:
    return lambda a: fields(a, code).__setitem__(name, value)


def delete(code: str, name: str) -> Mutation:
    return lambda a: fields(a, code).pop(name)


def drop_document(code: str) -> Mutation:
    return lambda a: a.__setitem__("documents", [d for d in a["documents"] if d["code"] != code])


def drop_signature(code: str, role: str, keep: int = 0) -> Mutation:
    def apply(a: dict[str, Any]) -> None:
        signed = fields(a, code)["signatures"]
        matching = [s for s in signed if s["role"] == role]
        fields(a, code)["signatures"] = [s for s in signed if s["role"] != role] + matching[:keep]
    return apply


def set_signed_at(code: str, role: str, at: str) -> Mutation:
    return lambda a: [s.__setitem__("signed_at", at) for s in fields(a, code)["signatures"] if s["role"] == role]


def fact(name: str, value: Any) -> Mutation:
    return lambda a: a["facts"].__setitem__(name, value)


def both(*mutations: Mutation) -> Mutation:
    return lambda a: [m(a) for m in mutations]


def swap(first: str, second: str) -> Mutation:
    def apply(a: dict[str, Any]) -> None:
        docs = a["documents"]
        i = next(n for n, d in enumerate(docs) if d["code"] == first)
        j = next(n for n, d in enumerate(docs) if d["code"] == second)
        docs[i], docs[j] = docs[j], docs[i]
    return apply


S, V = "sales", "service"
BASE = {S: sales_archive, V: service_archive}

FAILS = [  # (rule, archive, mutation, document, field)
    ("S1", S, drop_document("owner_id"), "owner_id", None),
    ("S1", S, swap("invoice", "pdi_certificate"), None, None),
    ("S2", S, put("delivery_form", "colour", ""), "delivery_form", "colour"),
    ("S2", S, put("delivery_form", "tools_handed_over", False), "delivery_form", "tools_handed_over"),
    ("S3", S, put("invoice", "date", "2026-03-03"), "invoice", "date"),
    ("S3", S, both(put("invoice", "date", "2026-03-02T10:00"), put("pdi_certificate", "stamp_date", "2026-03-01T09:00")),
     "invoice", "date"),
    ("S4", S, put("invoice", "buyer", "王晓明"), "invoice", "buyer"),
    ("S5", S, put("pdi_maintenance_form", "out_form_date", "2026-02-28"), "pdi_certificate", "stamp_date"),
    ("S6", S, put("owner_id", "name", "王小"), "owner_id", "name"),
    ("S8", S, put("purchase_agreement", "insurance_amount", ""), "purchase_agreement", "insurance_amount"),
    ("S8", S, put("purchase_agreement", "total", "157000.00"), "purchase_agreement", "total"),
    ("S8", S, put("purchase_agreement", "seals", ["sales_contract"]), "purchase_agreement", "seals"),
    ("S8", S, drop_signature("purchase_agreement", "sales_manager"), "purchase_agreement", "signatures"),
    ("S9", S, put("pdi_maintenance_form", "pre_settlement", False), "pdi_maintenance_form", "pre_settlement"),
    ("S9", S, drop_signature("pdi_maintenance_form", "pre_final_inspector"), "pdi_maintenance_form", "pre_final_inspector"),
    ("S10", S, delete("pdi_maintenance_form", "out_check_form"), "pdi_maintenance_form", "out_check_form"),
    ("S10", S, drop_signature("pdi_maintenance_form", "out_customer"), "pdi_maintenance_form", "out_customer"),
    ("S11", S, put("pdi_maintenance_form", "out_date", "2026-02-27"), "pdi_certificate", "stamp_date"),
    ("S12", S, set_signed_at("pdi_maintenance_form", "out_executor", ""), "pdi_maintenance_form", "out_executor"),
    ("S12", S, set_signed_at("pdi_maintenance_form", "out_customer", "2026-03-02"), "pdi_maintenance_form", "signatures"),
    ("S13", S, put("pdi_maintenance_form", "pre_tyre_pressure_rl", "2.5Bar"), "pdi_maintenance_form", "pre_tyre_pressure_rl"),
    ("S13", S, put("pdi_maintenance_form", "out_tyre_pressure_fr", "2.3Bar"), "pdi_maintenance_form", "out_tyre_pressure_fr"),
    ("S13", S, fact("notice_tyre_pressure_bar", 2.7), "pdi_maintenance_form", "out_tyre_pressure_fl"),
    ("S14", S, put("pdi_maintenance_form", "storage_2_weeks", False), "pdi_maintenance_form", "storage_2_weeks"),
    ("S14", S, fact("stock_in_date", "2025-11-20"), "pdi_maintenance_form", "storage_3_months"),
    ("S14", S, put("pdi_maintenance_form", "storage_6_months", True), "pdi_maintenance_form", "storage_6_months"),
    ("S15", S, fact("on_duty_advisor_present", False), "pdi_maintenance_form", "out_pdi_by"),
    ("S16", S, delete("pdi_maintenance_form", "key_handover_on"), "pdi_maintenance_form", "key_handover_on"),
    ("S16", S, put("pdi_maintenance_form", "key_handover_on", "2026-01-07"), "pdi_maintenance_form", "key_handover_on"),
    ("V1", V, swap("settlement", "work_order"), None, None),
    ("V1", V, drop_document("maintenance_certificate"), "maintenance_certificate", None),
    ("V1", V, both(fact("customer_kind", "claim"), drop_document("warranty_certificate")), "warranty_certificate", None),
    ("V2", V, put("first_maintenance_voucher", "seals", []), "first_maintenance_voucher", "seals"),
    ("V2", V, put("first_maintenance_voucher", "dealer", ""), "first_maintenance_voucher", "dealer"),
    ("V3", V, put("work_order", "labour_hours", ""), "work_order", "labour_hours"),
    ("V4", V, put("work_order", "plate", "吉A"), "work_order", "plate"),
    ("V5", V, put("work_order", "production_date", "1900/00/00"), "work_order", "production_date"),
    ("V5", V, put("work_order", "production_date", "2024-02-01"), "work_order", "production_date"),
    ("V6", V, put("work_order", "phone", "13912345679"), "work_order", "phone"),
    ("V7", V, drop_signature("work_order", "main_repairer"), "work_order", "main_repairer"),
    ("V7", V, put("work_order", "repairer_marking", ""), "work_order", "repairer_marking"),
    ("V7", V, set_signed_at("work_order", "main_repairer", "2026-03-02T08:00"), "work_order", "main_repairer"),
    ("V8", V, set_signed_at("work_order", "qc_inspector", "2026-03-02T11:10"), "work_order", "qc_inspector"),
    ("V8", V, set_signed_at("work_order", "team_leader", "2026-03-02"), "work_order", "team_leader"),
    ("V9", V, put("work_order", "completed_at", "2026-03-02 3:45 PM"), "work_order", "completed_at"),
    ("V9", V, put("work_order", "completed_at", "08:10"), "work_order", "completed_at"),
    ("V10", V, put("work_order", "changed_items", ["更换雨刮"]), "work_order", "changed_items"),
    ("V10", V, put("work_order", "added_items", ["四轮定位"]), "work_order", "add_on_quotation_signed"),
    ("V10", V, drop_signature("work_order", "customer"), "work_order", "customer"),
    ("V11", V, put("settlement", "amount_received", "900.00"), "work_order", "estimate"),
    ("V11", V, put("work_order", "parts_cost", ""), "work_order", "parts_cost"),
    ("V12", V, put("settlement", "parts", ["机油"]), "settlement", "parts"),
    ("V12", V, put("settlement", "repair_items", ["更换机油", "更换空滤"]), "settlement", "repair_items"),
    ("V13", V, put("settlement", "seals", []), "settlement", "seals"),
    ("V14", V, drop_signature("settlement", "customer", keep=1), "settlement", "signatures"),
    ("V15", V, put("settlement", "suggestions", []), "settlement", "suggestions"),
    ("V15", V, put("reception_check", "repair_suggestions", ["更换火花塞"]), "settlement", "suggestions"),
    ("V16", V, put("settlement", "suggestions", ["检查刹车片"]), "settlement", "suggestions"),
    ("V16", V, put("settlement", "replaced_oil_filters", False), "settlement", "suggestions"),
    ("V17", V, both(put("settlement", "mileage_km", "60100"), put("settlement", "replaced_spark_plugs", True)),
     "settlement", "suggestions"),
    ("V18", V, put("maintenance_form", "tread_depth_rl", "6.5"), "maintenance_form", "tread_depth_rl"),
    ("V18", V, put("maintenance_form", "tyre_pressure_fl", "2.5"), "maintenance_form", "tyre_pressure_fl"),
    ("V19", V, put("maintenance_form", "tyre_pressure_rr", "2.9Bar"), "maintenance_form", "tyre_pressure_rr"),
    ("V19", V, put("maintenance_form", "spare_type", "normal"), "maintenance_form", "tyre_pressure_spare"),
    ("V19", V, put("maintenance_form", "tyre_pressure_spare", "2.5Bar"), "maintenance_form", "tyre_pressure_spare"),
    ("V20", V, put("maintenance_form", "tread_depth_fr", "2.8MM"), "maintenance_form", "tread_depth_fr"),
    ("V21", V, put("maintenance_form", "item_battery", ""), "maintenance_form", "item_battery"),
    ("V21", V, set_signed_at("maintenance_form", "final_inspector", ""), "maintenance_form", "final_inspector"),
    ("V21", V, drop_signature("maintenance_form", "customer"), "maintenance_form", "customer"),
    ("V21", V, put("maintenance_form", "tyre_pressure_spare", ""), "maintenance_form", "tyre_pressure_spare"),
    ("V22", V, drop_signature("reception_check", "customer", keep=1), "reception_check", "signatures"),
    ("V22", V, put("reception_check", "usage_suggestions", ""), "reception_check", "usage_suggestions"),
    ("V22", V, put("reception_check", "customer_name", "王"), "reception_check", "customer_name"),
    ("V22", V, put("reception_check", "plate", "吉A123"), "reception_check", "plate"),
    ("V23", V, put("reception_check", "mileage_wan_km", "30200"), "reception_check", "mileage_wan_km"),
    ("V23", V, put("reception_check", "mileage_wan_km", "3万公里"), "reception_check", "mileage_wan_km"),
    ("V24", V, both(fact("order_type", "1-"), drop_document("road_test")), "road_test", None),
    ("V24", V, both(fact("order_type", "1-"), drop_signature("road_test", "approver")), "road_test", "approver"),
    ("V24", V, both(fact("order_type", "1-"), put("road_test", "vin", "LSGPC52U6AF102554")), "road_test", "vin"),
    ("V24", V, both(fact("order_type", "1-"), put("road_test", "test_items", "")), "road_test", "test_items"),
    ("V25", V, put("rescue_form", "fault", ""), "rescue_form", "fault"),
    ("V25", V, drop_signature("rescue_form", "service_director"), "rescue_form", "service_director"),
    ("E1", V, lambda a: a["subject"].__setitem__("key", "LFV2A21K573140612"), None, "subject.key"),
    ("E1", S, lambda a: a["subject"]["facts"].__setitem__("plate", "吉A"), None, "subject.plate"),
]

PASSES = [  # (rule, archive, mutation): a change the rule accepts, exemptions included
    ("S1", S, lambda a: None),
    ("S2", S, put("delivery_form", "colour", "无")),
    ("S3", S, both(put("invoice", "date", "2026-03-02T08:00"), put("pdi_certificate", "stamp_date", "2026-03-01T09:00"))),
    ("S4", S, put("invoice", "buyer", "王 小明")),
    ("S5", S, lambda a: None),
    ("S6", S, lambda a: None),
    ("S8", S, both(drop_signature("purchase_agreement", "sales_manager"),
                   lambda a: fields(a, "purchase_agreement")["signatures"].append(sig("sales_director", "郑总监", "2026-02-20")))),
    ("S9", S, lambda a: None),
    ("S10", S, lambda a: None),
    ("S11", S, lambda a: None),
    ("S12", S, lambda a: None),
    ("S13", S, both(fact("notice_tyre_pressure_bar", 2.7),
                    *(put("pdi_maintenance_form", f"{p}_tyre_pressure_{w}", "2.7Bar") for p in ("pre", "out")
                      for w in ("fl", "fr", "rl", "rr")))),
    ("S14", S, both(fact("stock_in_date", "2025-08-01"),
                    *(put("pdi_maintenance_form", n, True) for n in checks.STORAGE_TICKS))),
    ("S14", S, both(fact("stock_in_date", "2026-02-20"), put("pdi_maintenance_form", "storage_2_weeks", False))),
    ("S15", S, both(fact("on_duty_advisor_present", False), put("pdi_maintenance_form", "out_pdi_by", "service_supervisor"))),
    ("S16", S, lambda a: None),
    ("V1", V, both(fact("customer_kind", "regular"), drop_document("warranty_certificate"),
                   drop_document("maintenance_certificate"), drop_document("first_maintenance_voucher"))),
    ("V2", V, both(fact("customer_kind", "regular"), drop_document("first_maintenance_voucher"))),
    ("V3", V, both(fact("order_type", "5-"), put("work_order", "labour_hours", ""))),  # 5- exempt
    ("V4", V, both(put("work_order", "plate", "吉A"), put("work_order", "plate_exception_reason", "新车未上牌"))),
    ("V4", V, put("work_order", "plate", "吉AD12345")),  # new-energy plate
    ("V5", V, lambda a: None),
    ("V6", V, lambda a: None),
    ("V7", V, both(put("work_order", "repairer_marking", ""),
                   lambda a: fields(a, "work_order")["signatures"].append(sig("main_repairer", "何钣金", "2026-03-02T11:05")))),
    ("V8", V, lambda a: None),
    ("V9", V, put("work_order", "completed_at", "2026-03-03T09:10")),  # finished next day, with the date
    ("V10", V, both(put("work_order", "changed_items", ["更换雨刮"]),
                    lambda a: fields(a, "work_order")["signatures"].append(sig("customer_change", "王小明", "2026-03-02T10:00")),
                    put("work_order", "added_items", ["四轮定位"]), put("work_order", "add_on_quotation_signed", True))),
    ("V11", V, put("settlement", "amount_received", "880.00")),  # 10% exactly
    ("V11", V, both(put("settlement", "amount_received", "1200.00"), put("work_order", "estimate_override_reason", "客户追加更换轮胎"))),
    ("V11", V, both(fact("order_type", "5-"), put("settlement", "amount_received", "2000.00"),
                    put("work_order", "parts_cost", ""))),  # 5- exempt
    ("V12", V, both(fact("order_type", "5-"), put("settlement", "parts", ["机油"]))),  # 5- exempt
    ("V13", V, both(put("settlement", "seals", []), put("settlement", "amount_received", "0.00"),
                    put("work_order", "estimate", "0.00"))),
    ("V14", V, lambda a: None),
    ("V15", V, lambda a: None),
    ("V16", V, put("settlement", "mileage_km", "28000")),  # outside 29,000-31,000 km
    ("V16", V, both(put("settlement", "replaced_spark_plugs", True), put("settlement", "suggestions", ["检查刹车片"]),
                    put("reception_check", "repair_suggestions", ["检查刹车片"]))),
    ("V17", V, both(put("settlement", "mileage_km", "60100"), put("settlement", "gearbox", "manual"),
                    put("settlement", "suggestions", ["更换火花塞", "更换刹车油", "更换转向助力油"]),
                    put("reception_check", "repair_suggestions", ["更换火花塞", "更换刹车油", "更换转向助力油"]))),  # manual: no gearbox oil
    ("V18", V, put("maintenance_form", "tread_depth_rl", "6.5mm")),
    ("V19", V, both(put("maintenance_form", "spare_type", "normal"), put("maintenance_form", "tyre_pressure_spare", "2.9Bar"))),
    ("V20", V, both(put("maintenance_form", "tread_depth_fr", "2.8MM"),
                    put("settlement", "suggestions", ["更换火花塞", "检查刹车片", "更换右前轮胎"]),
                    put("reception_check", "repair_suggestions", ["更换火花塞", "检查刹车片", "更换右前轮胎"]))),
    ("V20", V, put("maintenance_form", "tread_depth_fr", "3.0MM")),
    ("V21", V, lambda a: None),
    ("V22", V, lambda a: None),
    ("V23", V, put("reception_check", "mileage_wan_km", "3.02万公里")),
    ("V24", V, drop_document("road_test")),  # 2- maintenance orders need no road test
    ("V24", V, fact("order_type", "1-")),
    ("V25", V, both(fact("working_hours", False), drop_signature("rescue_form", "service_manager"),
                    drop_signature("rescue_form", "service_director"))),  # after hours
    ("V25", V, drop_document("rescue_form")),
    ("E1", V, lambda a: a["subject"].__setitem__("key", "1M8GDM9AXKP042788")),
]


@pytest.mark.parametrize("kind", [S, V])
def test_the_complete_archives_pass_every_check(kind):
    assert run(BASE[kind]()) == set()


@pytest.mark.parametrize(("rule", "kind", "mutate", "document", "field"), FAILS,
                         ids=[f"{r}-{i}" for i, (r, *_) in enumerate(FAILS)])
def test_one_defect_is_reported_by_its_rule_on_its_document_and_field(rule, kind, mutate, document, field):
    archive = clone(BASE[kind]())
    mutate(archive)
    found = run(archive)
    assert (rule, document, field) in found, found


@pytest.mark.parametrize(("rule", "kind", "mutate"), PASSES, ids=[f"{r}-{i}" for i, (r, *_) in enumerate(PASSES)])
def test_an_acceptable_variant_passes_its_rule(rule, kind, mutate):
    archive = clone(BASE[kind]())
    mutate(archive)
    assert {f for f in run(archive) if f[0] == rule} == set()


def _codes(prefix: str, last: int) -> set[str]:
    return {f"{prefix}{n}" for n in range(1, last + 1)}


def test_every_rule_of_the_regulation_is_declared_and_tested_both_ways():
    declared = {c.code for s in rules.ARCHIVE_STANDARDS for c in s.checks}
    assert _codes("S", 16) | _codes("V", 25) <= declared
    automatic = {c.code for s in rules.ARCHIVE_STANDARDS for c in s.checks if c.check is not None}
    assert automatic >= (_codes("S", 16) - {"S7"}) | _codes("V", 25)
    assert {r for r, *_ in FAILS} == automatic and {r for r, *_ in PASSES} == automatic


def test_rules_only_a_person_can_judge_are_manual_checklist_items():
    manual = {c.code: c for s in rules.ARCHIVE_STANDARDS for c in s.checks if c.check is None}
    assert set(manual) == {"S7", "V5b", "V6b", "V7b"}
    assert all(c.description_en.startswith("Manual:") and c.description_zh.startswith("人工检查") for c in manual.values())


def test_s3_dates_only_allow_one_calendar_day_and_follow_the_parameter():
    archive = sales_archive()
    fields(archive, "invoice")["date"] = "2026-03-02"  # stamp 2026-03-01: one day
    assert ("S3", "invoice", "date") not in run(archive)
    assert ("S3", "invoice", "date") in run(archive, {**PARAMETERS, "invoice_pdi_max_hours": 0})
    fields(archive, "invoice")["date"] = "2026-03-03"
    assert ("S3", "invoice", "date") not in run(archive, {**PARAMETERS, "invoice_pdi_max_hours": 48})


def test_v11_and_v20_follow_the_tenants_parameters():
    archive = service_archive()
    fields(archive, "settlement")["amount_received"] = "900.00"  # 12.5% over the estimate
    assert ("V11", "work_order", "estimate") not in run(archive, {**PARAMETERS, "estimate_tolerance_percent": 15.0})
    archive = service_archive()
    fields(archive, "maintenance_form")["tread_depth_fl"] = "3.5MM"
    assert ("V20", "maintenance_form", "tread_depth_fl") in run(archive, {**PARAMETERS, "tread_depth_min_mm": 4.0})


def test_v17_requires_gearbox_oil_on_an_automatic_but_not_on_a_manual_gearbox():
    archive = service_archive()
    settlement = fields(archive, "settlement")
    settlement.update(mileage_km="59500", replaced_spark_plugs=True, replaced_brake_fluid=True,
                      replaced_power_steering_fluid=True)
    found = {m.message_en for m in checks.walk(checks.v17_60000_km_service(archive, PARAMETERS))}
    assert any("gearbox oil" in m for m in found)
    settlement["gearbox"] = "manual"
    assert checks.v17_60000_km_service(archive, PARAMETERS) is None


def test_findings_say_what_is_wrong_in_both_languages():
    archive = service_archive()
    fields(archive, "work_order")["plate"] = "吉A"
    (found,) = checks.walk(checks.v4_plate_complete(archive, PARAMETERS))
    assert "吉A" in found.message_en and "吉A" in found.message_zh and re.search(r"[\u4e00-\u9fff]{4}", found.message_zh)


def test_declared_documents_match_the_regulation():
    sales = [d.code for d in STANDARDS["sales_archive"].documents]
    service = STANDARDS["service_archive"].documents
    assert len(sales) == 7 and len(service) == 10
    assert [d.name_zh for d in service][:2] == ["首保凭证", "任务委托书"]
    pdi = next(d for d in STANDARDS["sales_archive"].documents if d.code == "pdi_maintenance_form")
    assert len([r for r in pdi.signatures if r.startswith("pre_")]) == 3  # S9
    assert len([r for r in pdi.signatures if r.startswith("out_")]) == 5  # S10
    agreement = next(d for d in STANDARDS["sales_archive"].documents if d.code == "purchase_agreement")
    assert set(agreement.seals) == {"sales_contract", "cross_page"}
    units = {f.unit for f in rules.document_fields("service_archive", "maintenance_form") if f.kind == "measure"}
    assert units == {"Bar", "MM"}
    for standard in STANDARDS.values():
        assert standard.subject == "vehicle" and standard.rectification_hours_parameter == "rectification_hours"
