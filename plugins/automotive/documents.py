"""The automotive archive documents as data: the sales and service archives' documents in filing
order, their fields, signatures and seals (requirements/seed-000.md §1). The rules (``rules``) and
the check policies (``checks``) both read them here, so neither imports the other's module."""

from __future__ import annotations

from core.plugins import ArchiveDocument, DocumentField

PRE_SIGNERS = {"pre_warehouse_keeper": "库管员", "pre_executor": "执行人", "pre_final_inspector": "终检"}
OUT_SIGNERS = {"out_warehouse_keeper": "库管员", "out_sales_consultant": "销售顾问", "out_customer": "客户",
               "out_executor": "执行人", "out_final_inspector": "终检"}

SERVICE_ITEMS = {  # replaced-item tick -> (en, words that name it in a suggestion)
    "replaced_spark_plugs": ("spark plugs", ("火花塞",)),
    "replaced_oil_filters": ("oil and four filters", ("机油四滤", "机油", "四滤")),
    "replaced_gearbox_oil": ("gearbox oil", ("变速箱油",)),
    "replaced_brake_fluid": ("brake fluid", ("刹车油", "制动液")),
    "replaced_power_steering_fluid": ("power-steering fluid", ("转向助力油", "助力油")),
}
ITEM_ZH = {"replaced_spark_plugs": "火花塞", "replaced_oil_filters": "机油四滤", "replaced_gearbox_oil": "变速箱油",
           "replaced_brake_fluid": "刹车油", "replaced_power_steering_fluid": "转向助力油"}

MAINTENANCE_ITEMS = ("item_engine_oil", "item_brakes", "item_lights", "item_battery", "item_wipers")

STORAGE_TICKS = {  # field -> (en, zh): the storage-period boxes of the PDI maintenance form
    "storage_weekly": ("at least weekly", "至少每周"),
    "storage_2_weeks": ("at the latest after 2 weeks", "最晚2周后"),
    "storage_3_months": ("at the latest every 3 months", "最晚每3个月"),
    "storage_6_months": ("at the latest every 6 months", "最晚每6个月"),
    "storage_6_9_12_months": ("additionally after 6, 9 or 12 months", "额外在6、9或12个月后"),
    "storage_before_delivery": ("before handing the car to the customer", "汽车供给客户前"),
}


# --- documents ----------------------------------------------------------------------------------
# Field names are the plugin's (docs/plugins.md, "Archive checks"). A field a rule exempts on some
# orders (5- orders, V3) or that applies only sometimes is declared not required, and its policy
# in checks.py enforces it, so the engine's data-driven check never contradicts an exemption.


def _f(name: str, kind: str, en: str, zh: str, required: bool = True, unit: str | None = None,
       choices: tuple[str, ...] = ()) -> DocumentField:
    return DocumentField(name=name, kind=kind, label_en=en, label_zh=zh, required=required, unit=unit,
                         choices=choices)


def _doc(code: str, en: str, zh: str, required: bool = True, fields: tuple[DocumentField, ...] = (),
         signatures: tuple[str, ...] = (), seals: tuple[str, ...] = ()) -> ArchiveDocument:
    return ArchiveDocument(code=code, name_en=en, name_zh=zh, required=required, fields=fields, signatures=signatures,
                           seals=seals)


def _wheels(prefix: str, what_en: str, what_zh: str, unit: str) -> tuple[DocumentField, ...]:
    return tuple(_f(f"{prefix}_{w}", "measure", f"{what_en}, {en}", f"{zh}{what_zh}", unit=unit)
                 for w, en, zh in (("fl", "front left", "左前"), ("fr", "front right", "右前"),
                                   ("rl", "rear left", "左后"), ("rr", "rear right", "右后")))


def _packet(prefix: str, label: str) -> tuple[DocumentField, ...]:
    name = "pre-PDI" if prefix == "pre" else "outbound PDI"
    return (
        _f(f"{prefix}_order_no", "text", f"{label} order number", f"{label}单号"),
        _f(f"{prefix}_date", "date", f"{name} date", f"{'预' if prefix == 'pre' else '出库'}PDI日期"),
        _f(f"{prefix}_work_order", "tick", f"{label} packet: work order", f"{label}单：任务委托书"),
        _f(f"{prefix}_settlement", "tick", f"{label} packet: settlement", f"{label}单：结算单"),
        _f(f"{prefix}_check_form", "tick", f"{label} packet: hand-over check form", f"{label}单：交/接车检查表"),
        _f(f"{prefix}_maintenance_form", "tick", f"{label} packet: maintenance form", f"{label}单：保养表"),
        *_wheels(f"{prefix}_tyre_pressure", f"{name} tyre pressure", "胎压", "Bar"),
    )


_STORAGE = tuple(_f(name, "tick", f"Storage period: {en}", f"库存期限：{zh}", required=False)
                 for name, (en, zh) in STORAGE_TICKS.items())

SALES_DOCUMENTS = (
    _doc("delivery_form", "Customer vehicle-delivery form", "客户交车表", fields=(
        _f("delivered_on", "date", "Delivery date", "交车日期"),
        _f("customer_name", "text", "Customer name", "客户姓名"),
        _f("phone", "text", "Customer phone", "客户电话"),
        _f("vin", "text", "VIN", "车架号"),
        _f("model", "text", "Model", "车型"),
        _f("colour", "text", "Colour", "颜色"),
        _f("consultant", "text", "Sales consultant", "销售顾问"),
        _f("tools_handed_over", "tick", "Tools handed over", "随车工具交接"),
        _f("manual_handed_over", "tick", "Owner's manual and warranty book handed over", "使用手册及保修手册交接"),
        _f("functions_explained", "tick", "Functions explained", "功能讲解"),
    ), signatures=("customer", "sales_consultant")),
    _doc("invoice", "Purchase invoice", "购车发票", fields=(
        _f("date", "date", "Invoice date (a time may be added)", "发票日期"),
        _f("buyer", "text", "Buyer (购车单位)", "购车单位"),
        _f("vin", "text", "VIN", "车架号"),
        _f("amount", "amount", "Amount", "金额"),
    ), seals=("invoice",)),
    _doc("pdi_certificate", "Copy of the stamped PDI certificate", "交车检查PDI盖章证明复印件", fields=(
        _f("stamp_date", "date", "Stamp date", "盖章日期"),
        _f("vin", "text", "VIN", "车架号"),
    ), seals=("pdi",)),
    _doc("owner_id", "Owner ID card or organisation-code certificate", "身份证/组织机构代码证", fields=(
        _f("name", "text", "Name on the certificate", "证件名称"),
        _f("number", "text", "Certificate number", "证件号码"),
    )),
    _doc("conformity_certificate", "Copy of the certificate of conformity", "合格证复印件", fields=(
        _f("vin", "text", "VIN", "车架号"),
        _f("model", "text", "Model", "车型"),
        _f("production_date", "date", "Production date", "生产日期"),
    )),
    _doc("purchase_agreement", "Purchase agreement", "购车协议书", fields=(
        _f("signed_on", "date", "Date", "签订日期"),
        _f("buyer", "text", "Buyer", "购车人"),
        _f("vin", "text", "VIN", "车架号"),
        _f("model", "text", "Model", "车型"),
        _f("vehicle_price", "amount", "Vehicle price", "车价"),
        _f("accessories_amount", "amount", "Accessories (无 if none)", "精品附件（无则填“无”）"),
        _f("insurance_amount", "amount", "Insurance (无 if none)", "保险（无则填“无”）"),
        _f("service_fee_amount", "amount", "Service fees (无 if none)", "服务费（无则填“无”）"),
        _f("total", "amount", "Total", "合计金额"),
        _f("payment_method", "choice", "Payment (全款 in full / 贷款 on loan)", "付款方式", choices=("全款", "贷款")),
    ), signatures=("customer",), seals=("sales_contract", "cross_page")),
    _doc("pdi_maintenance_form", "PDI maintenance form (P- and 8- packets)", "PDI保养表", fields=(
        _f("key_handover_on", "date", "Keys handed to the service front desk on", "钥匙交服务前台日期"),
        _f("key_handover_to", "text", "Keys received by", "钥匙接收人"),
        *_packet("pre", "P-"),
        *_packet("out", "8-"),
        _f("out_form_date", "date", "Date of the final delivery PDI maintenance form", "最后交车PDI保养表日期"),
        _f("out_pdi_by", "choice", "Outbound PDI by (service_advisor / service_supervisor)", "出库PDI负责人",
           choices=("service_advisor", "service_supervisor")),
        *_STORAGE,
    ), signatures=(*PRE_SIGNERS, *OUT_SIGNERS)),
)

SERVICE_DOCUMENTS = (
    _doc("first_maintenance_voucher", "First-maintenance voucher", "首保凭证", required=False, fields=(
        _f("date", "date", "Date", "日期"),
        _f("vin", "text", "VIN", "车架号"),
        _f("mileage_km", "text", "Mileage (km)", "行驶里程（公里）"),
        _f("dealer", "text", "Dealer", "经销商"),
    ), seals=("official",)),
    _doc("work_order", "Work order", "任务委托书", fields=(
        _f("order_no", "text", "Order number (2-, 5-, 8-, P-)", "委托书号"),
        *(_f(name, kind, en, zh, required=False) for name, kind, en, zh in (
            ("customer_name", "text", "Customer name", "客户姓名"),
            ("phone", "text", "Customer contact number", "客户联系方式"),
            ("printed_phone", "text", "Printed phone number", "打印电话号码"),
            ("plate", "text", "Plate", "车牌号码"),
            ("vin", "text", "VIN", "车架号"),
            ("production_date", "date", "Production date (= registration date)", "生产日期（行车证登记日期）"),
            ("mileage_km", "text", "Mileage (km)", "行驶里程（公里）"),
            ("opened_at", "datetime", "Opened at", "开单时间"),
            ("completed_at", "datetime", "Completed at (date and 24-hour time)", "完工时间（24小时制）"),
            ("repair_items", "text", "Repair items", "维修项目"),
            ("parts", "text", "Parts", "备件"),
            ("estimate", "amount", "Estimate", "预估价格"),
            ("labour_hours", "text", "Labour hours", "工时"),
            ("parts_cost", "amount", "Parts cost", "备件费用"),
            ("total", "amount", "Total", "合计"),
            ("changed_items", "text", "Changed repair items", "更改的维修项目"),
            ("added_items", "text", "Add-on items", "增项"),
            ("add_on_quotation_signed", "tick", "Add-on quotation signed by the customer", "增项报价单客户已签字"),
            ("repairer_marking", "text", "Marking of items one repairer signed once for", "主修人多项一次签名的标识"),
            ("plate_exception_reason", "text", "Special circumstance for an incomplete plate", "车牌不完整的特殊情况"),
            ("estimate_override_reason", "text", "Reason the charge differs from the estimate", "实收与预估偏差原因"),
        )),
    ), signatures=("customer",)),
    _doc("settlement", "Settlement statement", "结算单", fields=(
        _f("order_no", "text", "Order number", "委托书号"),
        _f("repair_items", "text", "Repair items", "修理项目", required=False),
        _f("parts", "text", "Parts used", "使用备件", required=False),
        _f("amount_received", "amount", "Amount charged", "实收价格"),
        _f("mileage_km", "text", "Mileage (km)", "行驶里程（公里）"),
        _f("gearbox", "choice", "Gearbox (manual / automatic)", "变速箱（手动/自动）", choices=("manual", "automatic")),
        _f("suggestions", "text", "Suggested repair items", "建议修理项目"),
        *(_f(name, "tick", f"Replaced: {en}", f"已更换：{ITEM_ZH[name]}", required=False)
          for name, (en, _) in SERVICE_ITEMS.items()),
    ), signatures=("customer",)),
    _doc("maintenance_form", "Maintenance form", "保养表", fields=(
        *_wheels("tyre_pressure", "Tyre pressure", "胎压", "Bar"),
        _f("spare_type", "choice", "Spare tyre (emergency / normal)", "备胎类型（应急备胎/普通胎）",
           choices=("emergency", "normal")),
        _f("tyre_pressure_spare", "measure", "Spare-tyre pressure", "备胎胎压", unit="Bar"),
        *_wheels("tread_depth", "Tread depth", "胎纹深度", "MM"),
        *(_f(name, "tick", f"Checked: {name[5:].replace('_', ' ')}", f"检查项目：{zh}") for name, zh in zip(
            MAINTENANCE_ITEMS, ("机油", "制动系统", "灯光", "蓄电池", "雨刮"))),
    ), signatures=("executor", "final_inspector", "customer")),
    _doc("reception_check", "Vehicle reception / hand-back check form", "一汽大众接/交车检查表", fields=(
        _f("customer_name", "text", "Customer name", "用户名"),
        _f("plate", "text", "Plate", "车牌号码"),
        _f("mileage_wan_km", "text", "Mileage in 10,000 km, with a decimal point", "行驶里程（万公里，带小数点）"),
        _f("repair_suggestions", "text", "Repair suggestions", "维修建议"),
        _f("usage_suggestions", "text", "Usage suggestions", "使用建议"),
    ), signatures=("customer",)),
    _doc("road_test", "Road-test record", "试车记录", required=False, fields=(
        _f("test_items", "text", "Test items", "试车项目"),
        _f("vin", "text", "VIN", "车架号"),
        _f("plate", "text", "Plate", "车牌号码"),
        _f("tested_at", "datetime", "Tested at", "试车时间"),
    ), signatures=("approver", "test_driver", "customer")),
    _doc("rescue_form", "Roadside-rescue form", "救援单", required=False, fields=(
        _f("rescue_at", "datetime", "Rescue time", "救援时间"),
        _f("location", "text", "Location", "救援地点"),
        _f("fault", "text", "Fault", "故障描述"),
        _f("measures", "text", "Measures taken", "处理措施"),
        _f("rescuer", "text", "Rescuer", "救援人员"),
    )),
    _doc("free_inspection", "Free-inspection form", "免费检查表", required=False, fields=(
        _f("inspected_on", "date", "Date", "检查日期"),
        _f("items", "text", "Items inspected", "检查项目"),
    )),
    _doc("warranty_certificate", "Warranty certificate", "保修证明", required=False, fields=(
        _f("vin", "text", "VIN", "车架号"),
        _f("date", "date", "Date", "日期"),
    )),
    _doc("maintenance_certificate", "Copy of the maintenance certificate", "保养证明复印件", required=False, fields=(
        _f("vin", "text", "VIN", "车架号"),
        _f("date", "date", "Date", "日期"),
    )),
)


DOCUMENTS = {"sales_archive": SALES_DOCUMENTS, "service_archive": SERVICE_DOCUMENTS}


def document_fields(standard: str, code: str) -> tuple[DocumentField, ...]:
    """The fields of document ``code`` of the archive type ``standard``."""
    return next(d for d in DOCUMENTS[standard] if d.code == code).fields
