"""One complete, valid sales archive and one valid service archive, as the engine passes them."""

from __future__ import annotations

import copy
from typing import Any

VIN = "LFV2A21K173140612"  # FAW-VW prefix LFV, check digit 1 computed per ISO 3779
PLATE = "吉A12345"


def sig(role: str, name: str, at: str) -> dict[str, str]:
    return {"role": role, "name": name, "signed_at": at}


def _subject() -> dict[str, Any]:
    return {"key": VIN, "facts": {"plate": PLATE, "model": "迈腾 2.0T", "series": "迈腾", "colour": "白",
                                  "production_date": "2024-03-01", "registration_date": "2024-03-01"}}


def sales_archive() -> dict[str, Any]:
    out_day = "2026-03-01"
    pdi_form: dict[str, Any] = {
        "key_handover_on": "2026-01-05", "key_handover_to": "服务前台 李娜",
        "pre_order_no": "P-0001", "pre_date": "2026-01-06",
        "out_order_no": "8-0001", "out_date": out_day, "out_form_date": out_day, "out_pdi_by": "service_advisor",
        "storage_weekly": True, "storage_2_weeks": True, "storage_before_delivery": True,
        "signatures": [sig("pre_warehouse_keeper", "赵库管", "2026-01-06"), sig("pre_executor", "钱技师", "2026-01-06"),
                       sig("pre_final_inspector", "孙终检", "2026-01-06"),
                       sig("out_warehouse_keeper", "赵库管", out_day), sig("out_sales_consultant", "周顾问", out_day),
                       sig("out_customer", "王小明", out_day), sig("out_executor", "钱技师", out_day),
                       sig("out_final_inspector", "孙终检", out_day)],
    }
    for prefix, pressure in (("pre", "2.3Bar"), ("out", "2.5Bar")):
        for part in ("work_order", "settlement", "check_form", "maintenance_form"):
            pdi_form[f"{prefix}_{part}"] = True
        for wheel in ("fl", "fr", "rl", "rr"):
            pdi_form[f"{prefix}_tyre_pressure_{wheel}"] = pressure
    documents = [
        ("delivery_form", {"delivered_on": "2026-03-02", "customer_name": "王小明", "phone": "13912345678", "vin": VIN,
                           "model": "迈腾 2.0T", "colour": "白", "consultant": "周顾问", "tools_handed_over": "✓",
                           "manual_handed_over": "✓", "functions_explained": "无",
                           "signatures": [sig("customer", "王小明", "2026-03-02"),
                                          sig("sales_consultant", "周顾问", "2026-03-02")]}),
        ("invoice", {"date": "2026-03-02", "buyer": "王小明", "vin": VIN, "amount": "158000.00", "seals": ["invoice"]}),
        ("pdi_certificate", {"stamp_date": out_day, "vin": VIN, "seals": ["pdi"]}),
        ("owner_id", {"name": "王小明", "number": "220102199001011234"}),
        ("conformity_certificate", {"vin": VIN, "model": "迈腾 2.0T", "production_date": "2024-03-01"}),
        ("purchase_agreement", {"signed_on": "2026-02-20", "buyer": "王小明", "vin": VIN, "model": "迈腾 2.0T",
                                "vehicle_price": "150000.00", "accessories_amount": "3000.00",
                                "insurance_amount": "5000.00", "service_fee_amount": "无", "total": "158000.00",
                                "payment_method": "全款", "seals": ["sales_contract", "cross_page"],
                                "signatures": [sig("customer", "王小明", "2026-02-20"),
                                               sig("sales_manager", "吴经理", "2026-02-20")]}),
        ("pdi_maintenance_form", pdi_form),
    ]
    return {"id": "00000000-0000-0000-0000-000000000001", "standard": "sales_archive", "state": "under_check",
            "subject": _subject(),
            "facts": {"stock_in_date": "2026-01-05", "delivered_at": "2026-03-02", "on_duty_advisor_present": True,
                      "elsa_tyre_pressure_bar": 2.3, "half_load_tyre_pressure_bar": "2.5Bar"},
            "documents": [{"code": code, "position": i + 1, "fields": fields} for i, (code, fields) in enumerate(documents)]}


def service_archive() -> dict[str, Any]:
    day = "2026-03-02"
    suggestions = ["更换火花塞", "检查刹车片"]
    documents = [
        ("first_maintenance_voucher", {"date": day, "vin": VIN, "mileage_km": "30200", "dealer": "长春一汽大众4S店",
                                       "seals": ["official"]}),
        ("work_order", {"order_no": "2-0001234", "customer_name": "王小明", "phone": "13912345678",
                        "printed_phone": "139 1234 5678", "plate": PLATE, "vin": VIN, "production_date": "2024-03-01",
                        "mileage_km": "30200", "opened_at": f"{day}T08:30", "completed_at": f"{day}T11:45",
                        "repair_items": ["更换机油", "更换机滤"], "parts": ["机油", "机油滤清器"], "estimate": "800.00",
                        "labour_hours": "1.5", "parts_cost": "520.00", "total": "820.00", "repairer_marking": "✓",
                        "signatures": [sig("customer", "王小明", f"{day}T08:35"),
                                       sig("main_repairer", "钱技师", f"{day}T11:00"),
                                       sig("team_leader", "郑组长", f"{day}T11:15"),
                                       sig("qc_inspector", "冯质检", f"{day}T11:30")]}),
        ("settlement", {"order_no": "2-0001234", "repair_items": ["更换机油", "更换机滤"], "parts": ["机油", "机油滤清器"],
                        "amount_received": "820.00", "mileage_km": "30200", "gearbox": "automatic",
                        "suggestions": list(suggestions), "replaced_oil_filters": True, "replaced_spark_plugs": False,
                        "seals": ["finance"],
                        "signatures": [sig("customer", "王小明", f"{day}T11:50"), sig("customer", "王小明", f"{day}T11:55")]}),
        ("maintenance_form", {**{f"tyre_pressure_{w}": "2.5Bar" for w in ("fl", "fr", "rl", "rr")},
                              **{f"tread_depth_{w}": "6.5MM" for w in ("fl", "fr", "rl", "rr")},
                              "spare_type": "emergency", "tyre_pressure_spare": "4.2Bar",
                              **{name: "✓" for name in ("item_engine_oil", "item_brakes", "item_lights", "item_battery")},
                              "item_wipers": "划除",
                              "signatures": [sig("executor", "钱技师", f"{day}T11:00"),
                                             sig("final_inspector", "冯质检", f"{day}T11:30"),
                                             sig("customer", "王小明", f"{day}T11:50")]}),
        ("reception_check", {"customer_name": "王小明", "plate": PLATE, "mileage_wan_km": "3.02",
                             "repair_suggestions": list(suggestions), "usage_suggestions": "每月检查胎压",
                             "signatures": [sig("customer", "王小明", f"{day}T08:35"), sig("customer", "王小明", f"{day}T11:55")]}),
        ("road_test", {"test_items": "制动、转向、异响", "vin": VIN, "plate": PLATE, "tested_at": f"{day}T11:20",
                       "signatures": [sig("approver", "冯质检", f"{day}T11:10"), sig("test_driver", "钱技师", f"{day}T11:20"),
                                      sig("customer", "王小明", f"{day}T11:40")]}),
        ("rescue_form", {"rescue_at": "2026-03-01T14:00", "location": "长春市朝阳区人民大街100号", "fault": "无法启动",
                         "measures": "搭电后拖回店内", "rescuer": "钱技师",
                         "signatures": [sig("service_manager", "陈经理", "2026-03-01T14:05"),
                                        sig("service_director", "林总监", "2026-03-01T14:06")]}),
        ("warranty_certificate", {"vin": VIN, "date": day}),
        ("maintenance_certificate", {"vin": VIN, "date": day}),
    ]
    return {"id": "00000000-0000-0000-0000-000000000002", "standard": "service_archive", "state": "under_check",
            "subject": _subject(),
            "facts": {"order_type": "2-", "mileage_km": 30200, "gearbox": "automatic", "customer_kind": "first_maintenance",
                      "working_hours": True, "half_load_tyre_pressure_bar": 2.5, "spare_max_tyre_pressure_bar": "4.2Bar",
                      "full_load_rear_tyre_pressure_bar": 2.9},
            "documents": [{"code": code, "position": i + 1, "fields": fields} for i, (code, fields) in enumerate(documents)]}


def clone(archive: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(archive)
