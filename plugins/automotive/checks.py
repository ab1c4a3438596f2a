"""The policies behind the automotive archive checks (seed-000 §1.5, rules S1–S16 and V1–V25).

Each policy is ``check(archive, parameters)`` on the plain archive mapping of the archive contract
(docs/plugins.md, "Archive checks") and returns ``None`` or ``CheckFinding``s naming the document
and field. Document codes and field names are those declared in ``plugins.automotive.documents``.
Rules that only a person can judge (legibility, reachability) have no policy here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from core.plugins import CheckFinding
from plugins.automotive import vehicles
from plugins.automotive.documents import (DOCUMENTS, ITEM_ZH, MAINTENANCE_ITEMS, OUT_SIGNERS, PRE_SIGNERS,  # noqa: F401
                                          SERVICE_ITEMS, STORAGE_TICKS, document_fields)

Archive = Mapping[str, Any]
Params = Mapping[str, Any]
Findings = list[CheckFinding]

FILLED_MARKS = ("无", "✓", "√")  # "does not apply" marks that count as filled (S2)
STRUCK_MARKS = ("划除", "×", "x", "X", "—", "-")  # an item struck out on the maintenance form (V21)
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MEASURE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z%]+)\s*$")
_WAN_KM = re.compile(r"^\s*\d+\.\d+\s*(万公里)?\s*$")


# --- reading the archive ------------------------------------------------------------------------

def finding(en: str, zh: str, document: str | None = None, field: str | None = None) -> CheckFinding:
    return CheckFinding(message_en=en, message_zh=zh, document=document, field=field)


def documents(archive: Archive) -> list[Mapping[str, Any]]:
    return list(archive.get("documents") or ())


def document(archive: Archive, code: str) -> Mapping[str, Any] | None:
    return next((d for d in documents(archive) if d.get("code") == code), None)


def fields_of(archive: Archive, code: str) -> Mapping[str, Any]:
    doc = document(archive, code)
    return (doc.get("fields") or {}) if doc else {}


def facts(archive: Archive) -> Mapping[str, Any]:
    return archive.get("facts") or {}


def subject_facts(archive: Archive) -> Mapping[str, Any]:
    return (archive.get("subject") or {}).get("facts") or {}


def fact(archive: Archive, name: str) -> Any:
    """An archive fact, else the subject's (reference values may sit on the vehicle)."""
    value = facts(archive).get(name)
    return value if value is not None else subject_facts(archive).get(name)


def filled(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, dict)):
        return bool(value)
    return True


def ticked(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip() in ("✓", "√", "true"))


def signatures(fields: Mapping[str, Any], *roles: str) -> list[Mapping[str, Any]]:
    return [s for s in fields.get("signatures") or () if s.get("role") in roles and filled(s.get("name"))]


def seals(fields: Mapping[str, Any]) -> list[str]:
    return list(fields.get("seals") or ())


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATETIME.match(value.strip()):
        return None
    return datetime.fromisoformat(value.strip())


def amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        return None


def measure(value: Any) -> tuple[Decimal, str] | None:
    """``"2.5Bar"`` -> (2.5, "Bar"); ``None`` when the value lacks a number or a unit."""
    if not isinstance(value, str):
        return None
    match = _MEASURE.match(value)
    return (Decimal(match.group(1)), match.group(2)) if match else None


def number(value: Any) -> Decimal | None:
    """A reference value given as a number or as a measure string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    found = measure(value) if isinstance(value, str) else None
    return found[0] if found else amount(value)


def items(value: Any) -> list[str]:
    """A list field (repair items, suggestions); a text value splits on Chinese or Latin separators."""
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[；;，,、\n]", value) if part.strip() and part.strip() != "无"]
    return [str(v).strip() for v in value or () if str(v).strip()]


def order_type(archive: Archive) -> str:
    """The work order's type prefix ("2-", "5-", "8-", "P-"): the fact, else the order number's prefix."""
    kind = facts(archive).get("order_type")
    if isinstance(kind, str) and kind:
        return kind if kind.endswith("-") else f"{kind}-"
    number_ = fields_of(archive, "work_order").get("order_no")
    match = re.match(r"^\s*([0-9A-Za-z])-", number_ or "") if isinstance(number_, str) else None
    return f"{match.group(1).upper()}-" if match else ""


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    for candidate in range(day.day, 27, -1):  # 31 Jan + 1 month is the end of February
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def _blanks(fields: Mapping[str, Any], names: Iterable[str], doc: str, label_zh: str) -> Findings:
    return [finding(f"{name} is blank; write 无 or ✓ where it does not apply", f"{label_zh}“{name}”未填写，不适用处须填“无”或打✓",
                    doc, name) for name in names if not filled(fields.get(name))]


def _declared(standard: str, code: str, *, required_only: bool = False) -> tuple[str, ...]:
    doc = next(d for d in DOCUMENTS[standard] if d.code == code)
    return tuple(f.name for f in doc.fields if f.required or not required_only)


def _missing(code: str, zh: str) -> CheckFinding:
    return finding(f"the {code} document is missing", f"缺少《{zh}》", code)


def _as_findings(result: Iterable[CheckFinding]) -> Findings | None:
    found = list(result)
    return found or None


# --- vehicle -------------------------------------------------------------------------------------

def vehicle_identity(archive: Archive, parameters: Params) -> Findings | None:
    """The folder's vehicle: a VIN with a valid check digit, a complete plate once registered."""
    return _as_findings(finding(en, zh, None, f"subject.{name}")
                        for name, en, zh in vehicles.subject_problems(archive.get("subject") or {}))


# --- sales archive -------------------------------------------------------------------------------

def order_of(archive: Archive, standard: str, missing_ok: Iterable[str] = ()) -> Findings:
    declared = DOCUMENTS[standard]
    order = [d.code for d in declared]
    filed = [d.get("code") for d in documents(archive)]
    found: Findings = [_missing(d.code, d.name_zh) for d in declared
                       if d.required and d.code not in filed and d.code not in missing_ok]
    known = [code for code in filed if code in order]
    if known != sorted(known, key=order.index):
        found.append(finding("the documents are not filed in the prescribed order: " + ", ".join(order),
                             "资料未按规定顺序整理：" + "、".join(d.name_zh for d in declared)))
    return found


def s1_documents_in_order(archive: Archive, parameters: Params) -> Findings | None:
    return _as_findings(order_of(archive, "sales_archive"))


def s2_delivery_form_complete(archive: Archive, parameters: Params) -> Findings | None:
    if document(archive, "delivery_form") is None:
        return None  # S1 reports the missing document
    return _as_findings(_blanks(fields_of(archive, "delivery_form"), _declared("sales_archive", "delivery_form"),
                                "delivery_form", "客户交车表"))


def _invoice_pdi_problem(invoice_value: Any, pdi_value: Any, max_hours: float) -> tuple[str, str] | None:
    start, end = parse_datetime(invoice_value), parse_datetime(pdi_value)
    if start and end:
        hours = abs((start - end).total_seconds()) / 3600
        if hours <= max_hours:
            return None
        return (f"the invoice and the PDI certificate are {hours:g} hours apart (at most {max_hours:g})",
                f"发票日期与PDI盖章证明日期相差 {hours:g} 小时（最多 {max_hours:g} 小时）")
    first, second = parse_date(invoice_value), parse_date(pdi_value)
    if first is None or second is None:
        return "the invoice date or the PDI stamp date is missing or not a date", "发票日期或PDI盖章日期缺失或格式错误"
    days = abs((first - second).days)
    allowed = -(-max_hours // 24)  # dates only: 24 hours is one calendar day (§1.10)
    if days <= allowed:
        return None
    return (f"the invoice and the PDI certificate are {days} days apart (at most {allowed:g})",
            f"发票日期与PDI盖章证明日期相差 {days} 天（最多 {allowed:g} 天）")


def s3_invoice_matches_pdi(archive: Archive, parameters: Params) -> CheckFinding | None:
    invoice, pdi = fields_of(archive, "invoice"), fields_of(archive, "pdi_certificate")
    if not invoice or not pdi:
        return None
    problem = _invoice_pdi_problem(invoice.get("date"), pdi.get("stamp_date"),
                                   float(parameters.get("invoice_pdi_max_hours", 24)))
    return finding(*problem, "invoice", "date") if problem else None


def _same_name(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.replace(" ", "") == b.replace(" ", "") and bool(a.strip())


def s4_invoice_buyer_is_owner(archive: Archive, parameters: Params) -> CheckFinding | None:
    buyer, owner = fields_of(archive, "invoice").get("buyer"), fields_of(archive, "owner_id").get("name")
    if _same_name(buyer, owner) or document(archive, "invoice") is None:
        return None
    return finding(f"the invoice buyer {buyer!r} differs from the name on the ID certificate {owner!r}",
                   f"发票购车单位“{buyer}”与证件名称“{owner}”不一致", "invoice", "buyer")


def s6_owner_matches_invoice(archive: Archive, parameters: Params) -> CheckFinding | None:
    buyer, owner = fields_of(archive, "invoice").get("buyer"), fields_of(archive, "owner_id").get("name")
    if _same_name(owner, buyer) or document(archive, "owner_id") is None:
        return None
    return finding(f"the name on the ID certificate {owner!r} differs from the invoice name {buyer!r}",
                   f"证件名称“{owner}”与发票名称“{buyer}”不符", "owner_id", "name")


def _stamp_equals(archive: Archive, field: str, label_en: str, label_zh: str) -> CheckFinding | None:
    stamp = parse_date(fields_of(archive, "pdi_certificate").get("stamp_date"))
    other = parse_date(fields_of(archive, "pdi_maintenance_form").get(field))
    if document(archive, "pdi_certificate") is None or document(archive, "pdi_maintenance_form") is None:
        return None
    if stamp is not None and stamp == other:
        return None
    return finding(f"the PDI stamp date {stamp} is not the {label_en} {other}",
                   f"PDI盖章证明日期 {stamp} 与{label_zh} {other} 不同", "pdi_certificate", "stamp_date")


def s5_stamp_is_final_pdi_form_date(archive: Archive, parameters: Params) -> CheckFinding | None:
    return _stamp_equals(archive, "out_form_date", "date of the final delivery PDI maintenance form",
                         "最后交车PDI保养表日期")


def s11_stamp_is_outbound_pdi_date(archive: Archive, parameters: Params) -> CheckFinding | None:
    return _stamp_equals(archive, "out_date", "outbound PDI date", "出库PDI日期")


AGREEMENT_LINES = ("vehicle_price", "accessories_amount", "insurance_amount", "service_fee_amount")


def s8_purchase_agreement(archive: Archive, parameters: Params) -> Findings | None:
    doc = "purchase_agreement"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found = _blanks(fields, _declared("sales_archive", doc), doc, "购车协议书")
    lines = [amount(fields.get(name)) for name in AGREEMENT_LINES if fields.get(name) not in FILLED_MARKS]
    total = amount(fields.get("total"))
    if filled(fields.get("total")) and None not in lines and total != sum(lines, Decimal(0)):
        found.append(finding(f"the total {total} is not the sum of the lines {sum(lines, Decimal(0))}",
                             f"合计金额 {total} 与各项之和 {sum(lines, Decimal(0))} 不符", doc, "total"))
    for seal, zh in (("sales_contract", "销售合同章"), ("cross_page", "骑缝章")):
        if seal not in seals(fields):
            found.append(finding(f"the {seal.replace('_', '-')} seal is missing", f"缺少{zh}", doc, "seals"))
    if not signatures(fields, "sales_manager", "sales_director"):
        found.append(finding("neither the sales manager nor the sales director signed",
                             "缺少销售经理或销售总监签字", doc, "signatures"))
    return _as_findings(found)


PACKET_DOCUMENTS = ("work_order", "settlement", "check_form", "maintenance_form")
PACKET_ZH = {"work_order": "任务委托书", "settlement": "结算单", "check_form": "交/接车检查表", "maintenance_form": "保养表"}


def _packet(archive: Archive, prefix: str, label: str, signers: Mapping[str, str]) -> Findings | None:
    doc = "pdi_maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found = [finding(f"the {label} packet lacks its {name.replace('_', ' ')}", f"{label}单缺少{PACKET_ZH[name]}",
                     doc, f"{prefix}_{name}") for name in PACKET_DOCUMENTS if not ticked(fields.get(f"{prefix}_{name}"))]
    found += [finding(f"the {label} packet lacks the {role.split('_', 1)[1].replace('_', ' ')}'s signature",
                      f"{label}单缺少{zh}签字", doc, role) for role, zh in signers.items() if not signatures(fields, role)]
    return _as_findings(found)


def s9_pre_pdi_packet(archive: Archive, parameters: Params) -> Findings | None:
    return _packet(archive, "pre", "P-", PRE_SIGNERS)


def s10_outbound_pdi_packet(archive: Archive, parameters: Params) -> Findings | None:
    return _packet(archive, "out", "8-", OUT_SIGNERS)


def s12_outbound_signature_dates(archive: Archive, parameters: Params) -> Findings | None:
    doc = "pdi_maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found = [finding(f"the {zh} signature on the outbound PDI form carries no date", f"出库PDI保养表{zh}签字无日期",
                     doc, role) for role, zh in (("out_executor", "执行人"), ("out_final_inspector", "终检人"))
             if signatures(fields, role) and parse_date(signatures(fields, role)[0].get("signed_at")) is None]
    dates = {parse_date(s.get("signed_at")) for s in signatures(fields, *OUT_SIGNERS)} - {None}
    if len(dates) > 1:
        found.append(finding("the outbound PDI signatures carry different dates: " + ", ".join(map(str, sorted(dates))),
                             "出库PDI签字日期不一致：" + "、".join(map(str, sorted(dates))), doc, "signatures"))
    return _as_findings(found)


WHEELS = ("fl", "fr", "rl", "rr")
WHEEL_ZH = {"fl": "左前", "fr": "右前", "rl": "左后", "rr": "右后", "spare": "备胎"}
_PRESSURE_TOLERANCE = Decimal("0.05")


def _pressure(fields: Mapping[str, Any], doc: str, name: str, reference: Decimal, source_en: str,
              source_zh: str) -> CheckFinding | None:
    value = measure(fields.get(name))
    if value is not None and abs(value[0] - reference) <= _PRESSURE_TOLERANCE:
        return None
    wheel = name.rsplit("_", 1)[1]
    return finding(f"{name} is {fields.get(name)!r}; the reference is {reference}Bar ({source_en})",
                   f"{WHEEL_ZH[wheel]}胎压为“{fields.get(name)}”，应为 {reference}Bar（{source_zh}）", doc, name)


def s13_pdi_tyre_pressure(archive: Archive, parameters: Params) -> Findings | None:
    doc = "pdi_maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    notice = number(fact(archive, "notice_tyre_pressure_bar"))
    found: Findings = []
    for prefix, reference_fact, en, zh in (("pre", "elsa_tyre_pressure_bar", "ELSA value", "厂家ELSA设定值"),
                                           ("out", "half_load_tyre_pressure_bar", "half-load label value",
                                            "车型标签半载值")):
        reference = notice if notice is not None else number(fact(archive, reference_fact))
        if notice is not None:
            en, zh = "manufacturer notice", "厂家通知"
        if reference is None:
            found.append(finding(f"no reference tyre pressure ({en}) is recorded for this vehicle",
                                 f"未记录该车的参考胎压（{zh}）", doc, f"{prefix}_tyre_pressure_fl"))
            continue
        found += [f for wheel in WHEELS
                  if (f := _pressure(fields, doc, f"{prefix}_tyre_pressure_{wheel}", reference, en, zh))]
    return _as_findings(found)




def storage_ticks_due(stock_in: date, delivered: date) -> set[str]:
    """The storage-period boxes that apply to a car in stock from ``stock_in`` to ``delivered``
    (S14 as interpreted in seed-000: weekly and before-delivery always)."""
    due = {"storage_weekly", "storage_before_delivery"}
    if delivered - stock_in >= timedelta(weeks=2):
        due.add("storage_2_weeks")
    if delivered >= add_months(stock_in, 3):
        due.add("storage_3_months")
    if delivered >= add_months(stock_in, 6):
        due |= {"storage_6_months", "storage_6_9_12_months"}
    return due


def s14_storage_ticks(archive: Archive, parameters: Params) -> Findings | None:
    doc = "pdi_maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    stock_in = parse_date(fact(archive, "stock_in_date"))
    delivered = parse_date(fact(archive, "delivered_at")) or parse_date(fields.get("out_date"))
    if stock_in is None or delivered is None:
        return finding("the stock-in or delivery date is unknown, so the storage ticks cannot be checked",
                       "缺少入库或交车日期，无法核对库存期限勾选", doc, "storage_weekly")
    due = storage_ticks_due(stock_in, delivered)
    days = (delivered - stock_in).days
    found = []
    for name, (en, zh) in STORAGE_TICKS.items():
        if name in due and not ticked(fields.get(name)):
            found.append(finding(f"'{en}' is not ticked after {days} days in stock", f"库存 {days} 天，未勾选“{zh}”",
                                 doc, name))
        elif name not in due and ticked(fields.get(name)):
            found.append(finding(f"'{en}' is ticked though the car was in stock only {days} days",
                                 f"库存仅 {days} 天，却勾选了“{zh}”", doc, name))
    return _as_findings(found)


def s15_outbound_pdi_by(archive: Archive, parameters: Params) -> CheckFinding | None:
    doc = "pdi_maintenance_form"
    by = fields_of(archive, doc).get("out_pdi_by")
    present = facts(archive).get("on_duty_advisor_present", True)
    if document(archive, doc) is None:
        return None
    if by == "service_advisor" and present is False:
        return finding("the on-duty advisor was absent, so the outbound PDI goes to the service supervisor",
                       "当班服务顾问不在时出库PDI应由服务主管负责", doc, "out_pdi_by")
    if by not in ("service_advisor", "service_supervisor"):
        return finding("the outbound PDI names neither the on-duty advisor nor the service supervisor",
                       "出库PDI未注明由当班服务顾问或服务主管负责", doc, "out_pdi_by")
    return None


def s16_key_handover(archive: Archive, parameters: Params) -> Findings | None:
    doc = "pdi_maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    handed = parse_date(fields.get("key_handover_on"))
    found = []
    if handed is None:
        found.append(finding("the key hand-over to the service front desk is not recorded",
                             "缺少库管员向服务前台交接钥匙的记录", doc, "key_handover_on"))
    elif (pre := parse_date(fields.get("pre_date"))) is not None and handed > pre:
        found.append(finding(f"the keys were handed over on {handed}, after the pre-PDI on {pre}",
                             f"钥匙交接日期 {handed} 晚于预PDI日期 {pre}", doc, "key_handover_on"))
    if not filled(fields.get("key_handover_to")):
        found.append(finding("the key hand-over record names no receiver", "钥匙交接记录缺少接收人", doc,
                             "key_handover_to"))
    return _as_findings(found)


# --- service archive -----------------------------------------------------------------------------

def v1_documents_in_order(archive: Archive, parameters: Params) -> Findings | None:
    found = order_of(archive, "service_archive")
    if facts(archive).get("customer_kind") in ("first_maintenance", "claim"):
        found += [_missing(code, zh) for code, zh in (("warranty_certificate", "保修证明"),
                                                      ("maintenance_certificate", "保养证明复印件"))
                  if document(archive, code) is None]
    return _as_findings(found)


def v2_first_maintenance_voucher(archive: Archive, parameters: Params) -> Findings | None:
    doc = "first_maintenance_voucher"
    if document(archive, doc) is None:
        if facts(archive).get("customer_kind") == "first_maintenance":
            return [_missing(doc, "首保凭证")]
        return None
    fields = fields_of(archive, doc)
    found = _blanks(fields, _declared("service_archive", doc), doc, "首保凭证")
    if "official" not in seals(fields):
        found.append(finding("the first-maintenance voucher carries no official seal", "首保凭证未加盖公章", doc, "seals"))
    return _as_findings(found)


WORK_ORDER_COMPLETE = ("order_no", "customer_name", "phone", "printed_phone", "plate", "vin", "production_date",
                       "mileage_km", "opened_at", "completed_at", "repair_items", "parts", "estimate", "labour_hours",
                       "parts_cost", "total")


def v3_work_order_complete(archive: Archive, parameters: Params) -> Findings | None:
    if order_type(archive) == "5-" or document(archive, "work_order") is None:
        return None  # 5- orders are exempt (seed: 5-单子除外)
    return _as_findings(_blanks(fields_of(archive, "work_order"), WORK_ORDER_COMPLETE, "work_order", "任务委托书"))


def v4_plate_complete(archive: Archive, parameters: Params) -> CheckFinding | None:
    fields = fields_of(archive, "work_order")
    if document(archive, "work_order") is None or filled(fields.get("plate_exception_reason")):
        return None  # a recorded special circumstance allows an incomplete plate
    problem = vehicles.plate_problem(fields.get("plate"))
    return finding(*problem, "work_order", "plate") if problem else None


def v5_production_date(archive: Archive, parameters: Params) -> CheckFinding | None:
    doc = "work_order"
    value = fields_of(archive, doc).get("production_date")
    if document(archive, doc) is None:
        return None
    if isinstance(value, str) and value.strip().replace("/", "-").startswith("1900"):
        return finding(f"the production date {value} is a placeholder", f"生产日期“{value}”为无效日期", doc,
                       "production_date")
    produced, registered = parse_date(value), parse_date(subject_facts(archive).get("registration_date"))
    if produced is None:
        return finding(f"the production date {value!r} is not a date", f"生产日期“{value}”不是有效日期", doc,
                       "production_date")
    if registered is not None and produced != registered:
        return finding(f"the production date {produced} differs from the driving-licence registration date {registered}",
                       f"生产日期 {produced} 与行车证登记日期 {registered} 不符", doc, "production_date")
    return None


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", value) if isinstance(value, str) else ""


def v6_phone_matches_printed(archive: Archive, parameters: Params) -> CheckFinding | None:
    fields = fields_of(archive, "work_order")
    if document(archive, "work_order") is None:
        return None
    phone, printed = _digits(fields.get("phone")), _digits(fields.get("printed_phone"))
    if phone and phone == printed:
        return None
    return finding(f"the contact number {fields.get('phone')!r} differs from the printed {fields.get('printed_phone')!r}",
                   f"客户联系方式“{fields.get('phone')}”与委托书打印电话“{fields.get('printed_phone')}”不符",
                   "work_order", "phone")


def v7_main_repairer(archive: Archive, parameters: Params) -> Findings | None:
    doc = "work_order"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    signed = signatures(fields, "main_repairer")
    if not signed:
        return [finding("the main repairer has not signed after the repair", "主修人未在维修结束后签字", doc, "main_repairer")]
    found = []
    completed = parse_datetime(fields.get("completed_at"))
    opened = parse_datetime(fields.get("opened_at"))
    for s in signed:
        at = parse_datetime(s.get("signed_at"))
        if at is not None and opened is not None and at < opened:
            found.append(finding("the main repairer signed before the repair started (the box stays empty until then)",
                                 "主修人在维修开始前已签字（维修结束前须预留空白）", doc, "main_repairer"))
        if at is not None and completed is not None and at > completed:
            found.append(finding("the main repairer signed after the order was completed", "主修人签字晚于完工时间",
                                 doc, "main_repairer"))
    if len(items(fields.get("repair_items"))) > 1 and len(signed) == 1 and not filled(fields.get("repairer_marking")):
        found.append(finding("one signature covers several repair items without marking them",
                             "主修人修理多项只签名一次，未做明确标识", doc, "repairer_marking"))
    return _as_findings(found)


def v8_qc_and_team_leader_times(archive: Archive, parameters: Params) -> Findings | None:
    doc = "work_order"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found: Findings = []
    times: dict[str, datetime] = {}
    for role, zh in (("team_leader", "组长"), ("qc_inspector", "质检员")):
        signed = signatures(fields, role)
        at = parse_datetime(signed[0].get("signed_at")) if signed else None
        if at is None:
            found.append(finding(f"the {role.replace('_', ' ')} signature carries no time", f"{zh}签字无签字时间", doc, role))
        else:
            times[role] = at
    opened = parse_datetime(fields.get("opened_at"))
    repaired = [t for s in signatures(fields, "main_repairer") if (t := parse_datetime(s.get("signed_at")))]
    if len(times) == 2 and times["qc_inspector"] < times["team_leader"]:
        found.append(finding("the QC inspector signed before the team leader", "质检员签字时间早于组长签字时间", doc,
                             "qc_inspector"))
    for role, at in times.items():
        if (opened and at < opened) or (repaired and at < max(repaired)):
            found.append(finding(f"the {role.replace('_', ' ')} signed before the repair was done",
                                 f"{'组长' if role == 'team_leader' else '质检员'}签字时间早于维修完成", doc, role))
    return _as_findings(found)


def v9_clock(archive: Archive, parameters: Params) -> Findings | None:
    doc = "work_order"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    opened = parse_datetime(fields.get("opened_at"))
    values = [("opened_at", fields.get("opened_at")), ("completed_at", fields.get("completed_at"))]
    values += [(s.get("role"), s.get("signed_at")) for s in fields.get("signatures") or () if s.get("signed_at")]
    found = []
    for name, value in values:
        if not isinstance(value, str) or parse_datetime(value):
            continue
        match = _TIME.match(value.strip())
        if match and opened is not None and name == "completed_at":
            if (int(match.group(1)), int(match.group(2))) < (opened.hour, opened.minute):
                found.append(finding(f"completed next day at {value} without the date", f"第二天修完，完工时间 {value} 未填写日期",
                                     doc, name))
            continue
        if match:
            continue  # a same-day time, 24-hour clock
        found.append(finding(f"{name} {value!r} is not a 24-hour time with its date", f"{name}“{value}”未按24小时制填写时间和日期",
                             doc, name))
    return _as_findings(found)


def v10_changes_confirmed(archive: Archive, parameters: Params) -> Findings | None:
    doc = "work_order"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found = []
    changed = items(fields.get("changed_items"))
    confirmations = signatures(fields, "customer_change")
    if len(confirmations) < len(changed):
        found.append(finding(f"{len(changed)} changed repair items but {len(confirmations)} customer confirmations",
                             f"维修项目更改 {len(changed)} 项，客户确认签字仅 {len(confirmations)} 处", doc, "changed_items"))
    if items(fields.get("added_items")) and not ticked(fields.get("add_on_quotation_signed")):
        found.append(finding("add-on items without an add-on quotation signed by the customer",
                             "增项未填写增项报价单并由客户确认签字", doc, "add_on_quotation_signed"))
    if not signatures(fields, "customer"):
        found.append(finding("the customer-signature box is not signed", "客户签名处无用户签字", doc, "customer"))
    return _as_findings(found)


def v11_estimate_within_tolerance(archive: Archive, parameters: Params) -> Findings | None:
    doc = "work_order"
    fields = fields_of(archive, doc)
    if order_type(archive) == "5-" or document(archive, doc) is None:
        return None  # 5- orders are exempt
    found = _blanks(fields, ("labour_hours", "parts_cost", "total"), doc, "任务委托书")
    estimate = amount(fields.get("estimate"))
    actual = amount(fields_of(archive, "settlement").get("amount_received"))
    if actual is None:
        actual = amount(fields.get("total"))
    if estimate is None or actual is None:
        found.append(finding("the estimate or the amount charged is missing", "缺少预估价格或实收价格", doc, "estimate"))
        return found
    limit = Decimal(str(parameters.get("estimate_tolerance_percent", 10)))
    if filled(fields.get("estimate_override_reason")):
        return _as_findings(found)  # a special case with its reason recorded
    off = abs(actual - estimate) * 100 / estimate if estimate else (Decimal(0) if not actual else Decimal(100))
    if off > limit:
        found.append(finding(f"the amount charged {actual} is {off:.1f}% off the estimate {estimate} (at most {limit}%)",
                             f"实收价格 {actual} 与预估价格 {estimate} 相差 {off:.1f}%（不得超过 {limit}%）", doc, "estimate"))
    return _as_findings(found)


def v12_settlement_matches_order(archive: Archive, parameters: Params) -> Findings | None:
    order, settled = fields_of(archive, "work_order"), fields_of(archive, "settlement")
    if order_type(archive) == "5-" or not order or not settled:
        return None
    found = []
    for name, zh in (("repair_items", "修理项目"), ("parts", "备件")):
        if sorted(items(order.get(name))) != sorted(items(settled.get(name))):
            found.append(finding(f"the settlement's {name.replace('_', ' ')} differ from the work order's",
                                 f"结算单{zh}与任务委托书不符", "settlement", name))
    return _as_findings(found)


def v13_finance_seal(archive: Archive, parameters: Params) -> CheckFinding | None:
    fields = fields_of(archive, "settlement")
    if document(archive, "settlement") is None or "finance" in seals(fields):
        return None
    if amount(fields.get("amount_received")) == 0:
        return None  # no charge, no finance seal
    return finding("the settlement carries no finance seal", "结算单未加盖财务章", "settlement", "seals")


def v14_settlement_customer_signatures(archive: Archive, parameters: Params) -> CheckFinding | None:
    fields = fields_of(archive, "settlement")
    if document(archive, "settlement") is None or len(signatures(fields, "customer")) >= 2:
        return None
    return finding(f"the settlement has {len(signatures(fields, 'customer'))} customer signatures, not 2",
                   f"结算单用户签字 {len(signatures(fields, 'customer'))} 次，应为2次", "settlement", "signatures")


def v15_suggestions_match_check_form(archive: Archive, parameters: Params) -> CheckFinding | None:
    settled, check = fields_of(archive, "settlement"), fields_of(archive, "reception_check")
    if document(archive, "settlement") is None:
        return None
    suggested = items(settled.get("suggestions"))
    if not suggested:
        return finding("the settlement lists no suggested repair items", "结算单无建议修理项目", "settlement", "suggestions")
    if document(archive, "reception_check") is not None and sorted(suggested) != sorted(items(check.get("repair_suggestions"))):
        return finding("the suggested repair items differ from the check form's repair suggestions",
                       "建议修理项目与接/交车检查表中维修建议不一致", "settlement", "suggestions")
    return None




def mileage(archive: Archive) -> int | None:
    value = fields_of(archive, "settlement").get("mileage_km")
    if value in (None, ""):
        value = facts(archive).get("mileage_km")
    found = amount(value)
    return int(found) if found is not None else None


def _due_items(archive: Archive, due: Iterable[str], rule: str) -> Findings | None:
    fields = fields_of(archive, "settlement")
    text = " ".join(items(fields.get("suggestions")))
    km = mileage(archive)
    return _as_findings(
        finding(f"at {km} km the {SERVICE_ITEMS[name][0]} were not replaced and are not in the suggestions",
                f"行驶 {km} 公里未更换{ITEM_ZH[name]}，须在建议项目中体现", "settlement", "suggestions")
        for name in due if not ticked(fields.get(name)) and not any(w in text for w in SERVICE_ITEMS[name][1]))


def v16_30000_km_service(archive: Archive, parameters: Params) -> Findings | None:
    km = mileage(archive)
    if document(archive, "settlement") is None or km is None or not 29_000 <= km <= 31_000:
        return None
    return _due_items(archive, ("replaced_spark_plugs", "replaced_oil_filters"), "V16")


def v17_60000_km_service(archive: Archive, parameters: Params) -> Findings | None:
    km = mileage(archive)
    if document(archive, "settlement") is None or km is None or not 59_000 <= km <= 61_000:
        return None
    gearbox = fields_of(archive, "settlement").get("gearbox") or facts(archive).get("gearbox")
    due = [name for name in SERVICE_ITEMS if not (name == "replaced_gearbox_oil" and gearbox == "manual")]
    return _due_items(archive, due, "V17")


def v18_units(archive: Archive, parameters: Params) -> Findings | None:
    fields = fields_of(archive, "maintenance_form")
    if document(archive, "maintenance_form") is None:
        return None
    found = []
    for spec in document_fields("service_archive", "maintenance_form"):
        value = fields.get(spec.name)
        if spec.unit is None or not filled(value):
            continue
        parsed = measure(value)
        if parsed is None or parsed[1].lower() != spec.unit.lower():
            found.append(finding(f"{spec.name} {value!r} lacks its unit (e.g. 2.5{spec.unit})",
                                 f"{spec.label_zh}“{value}”未填写单位（如 2.5{spec.unit}）", "maintenance_form", spec.name))
    return _as_findings(found)


def v19_tyre_pressure(archive: Archive, parameters: Params) -> Findings | None:
    doc = "maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found: Findings = []
    half = number(fact(archive, "half_load_tyre_pressure_bar"))
    if half is None:
        found.append(finding("no half-load reference pressure (B-pillar label) is recorded for this vehicle",
                             "未记录该车B柱/油箱盖半载参考胎压", doc, "tyre_pressure_fl"))
    else:
        found += [f for w in WHEELS if (f := _pressure(fields, doc, f"tyre_pressure_{w}", half, "half-load label",
                                                        "B柱或油箱盖半载值"))]
    spare = fields.get("spare_type")
    fact_name, en, zh = (("spare_max_tyre_pressure_bar", "sidewall maximum", "胎壁最高压力") if spare == "emergency"
                         else ("full_load_rear_tyre_pressure_bar", "rear full-load value", "后轮满载值"))
    reference = number(fact(archive, fact_name))
    if spare not in ("emergency", "normal"):
        found.append(finding("the spare-tyre type is not stated", "未注明备胎类型", doc, "spare_type"))
    elif reference is None:
        found.append(finding(f"no spare reference pressure ({en}) is recorded", f"未记录备胎参考胎压（{zh}）", doc,
                             "tyre_pressure_spare"))
    elif (f := _pressure(fields, doc, "tyre_pressure_spare", reference, en, zh)):
        found.append(f)
    return _as_findings(found)


def _recommends_tyres(archive: Archive) -> bool:
    text = " ".join(items(fields_of(archive, "settlement").get("suggestions"))
                    + items(fields_of(archive, "reception_check").get("repair_suggestions")))
    return "轮胎" in text or ("胎" in text and "更换" in text)


def v20_tread_depth(archive: Archive, parameters: Params) -> Findings | None:
    doc = "maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    limit = Decimal(str(parameters.get("tread_depth_min_mm", 3.0)))
    worn = [w for w in WHEELS if (m := measure(fields.get(f"tread_depth_{w}"))) is not None and m[0] < limit]
    if not worn or _recommends_tyres(archive):
        return None
    return [finding(f"tread depth {fields.get(f'tread_depth_{w}')} is below {limit}mm and no tyre change is recommended",
                    f"{WHEEL_ZH[w]}胎纹深度 {fields.get(f'tread_depth_{w}')} 低于 {limit}mm，未报建议更换", doc,
                    f"tread_depth_{w}") for w in worn]




def v21_maintenance_form_complete(archive: Archive, parameters: Params) -> Findings | None:
    doc = "maintenance_form"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found = [finding(f"{name} is neither ticked nor struck out", f"保养项目“{name}”未打√也未划除", doc, name)
             for name in MAINTENANCE_ITEMS
             if not (ticked(fields.get(name)) or (isinstance(fields.get(name), str) and fields[name].strip() in STRUCK_MARKS))]
    for role, zh in (("executor", "执行人"), ("final_inspector", "终检人")):
        signed = signatures(fields, role)
        if not signed or parse_date(signed[0].get("signed_at")) is None:
            found.append(finding(f"the {role.replace('_', ' ')} signature with its date is missing", f"缺少{zh}签字及日期", doc,
                                 role))
    if not signatures(fields, "customer"):
        found.append(finding("the customer has not signed the maintenance form", "保养表无用户签字", doc, "customer"))
    if not filled(fields.get("tyre_pressure_spare")):
        found.append(finding("the spare-tyre pressure is not stated", "未标明备胎胎压", doc, "tyre_pressure_spare"))
    return _as_findings(found)


def v22_check_form(archive: Archive, parameters: Params) -> Findings | None:
    doc = "reception_check"
    fields = fields_of(archive, doc)
    if document(archive, doc) is None:
        return None
    found = _blanks(fields, _declared("service_archive", doc), doc, "接/交车检查表")
    if len(signatures(fields, "customer")) < 2:
        found.append(finding(f"the check form has {len(signatures(fields, 'customer'))} customer signatures, not 2",
                             "接/交车检查表用户签字不足2次", doc, "signatures"))
    owner = fields_of(archive, "work_order").get("customer_name")
    if filled(fields.get("customer_name")) and filled(owner) and not _same_name(fields.get("customer_name"), owner):
        found.append(finding("the customer name is incomplete or differs from the work order", "用户名填写不完整或与委托书不符",
                             doc, "customer_name"))
    if filled(fields.get("plate")) and (problem := vehicles.plate_problem(fields.get("plate"))):
        found.append(finding(*problem, doc, "plate"))
    return _as_findings(found)


def v23_mileage_in_wan_km(archive: Archive, parameters: Params) -> CheckFinding | None:
    doc = "reception_check"
    value = fields_of(archive, doc).get("mileage_wan_km")
    if document(archive, doc) is None:
        return None
    if isinstance(value, str) and _WAN_KM.match(value):
        return None
    return finding(f"the mileage {value!r} is not in 10,000 km with a decimal point (e.g. 3.02)",
                   f"行驶里程“{value}”未以万公里为单位并使用小数点（如 3.02）", doc, "mileage_wan_km")


def v24_road_test(archive: Archive, parameters: Params) -> Findings | None:
    doc = "road_test"
    if order_type(archive) == "2-":
        return None  # 2- maintenance orders need no road test
    if document(archive, doc) is None:
        return [finding("every order except a 2- maintenance order needs a road-test record", "除2-保养工单外须有试车记录", doc)]
    fields = fields_of(archive, doc)
    found = _blanks(fields, _declared("service_archive", doc), doc, "试车记录")
    subject = archive.get("subject") or {}
    for name, expected in (("vin", subject.get("key")), ("plate", subject_facts(archive).get("plate"))):
        if filled(fields.get(name)) and filled(expected) and str(fields[name]).upper() != str(expected).upper():
            found.append(finding(f"the road-test {name} {fields[name]} is not the vehicle's {expected}",
                                 f"试车记录{name}“{fields[name]}”与客户车辆信息“{expected}”不符", doc, name))
    found += [finding(f"the road test lacks the {role.replace('_', ' ')}'s signature", f"试车记录缺少{zh}签字", doc, role)
              for role, zh in (("approver", "试车批准人"), ("test_driver", "试车人"), ("customer", "用户"))
              if not signatures(fields, role)]
    return _as_findings(found)


def v25_rescue_form(archive: Archive, parameters: Params) -> Findings | None:
    doc = "rescue_form"
    if document(archive, doc) is None:
        return None
    fields = fields_of(archive, doc)
    found = _blanks(fields, _declared("service_archive", doc), doc, "救援单")
    if facts(archive).get("working_hours", True) is not False:  # after hours the leaders need not sign
        found += [finding(f"a rescue during working hours needs the {role.replace('_', ' ')}'s signature",
                          f"上班期间救援须有{zh}签字", doc, role)
                  for role, zh in (("service_manager", "服务经理"), ("service_director", "服务总监"))
                  if not signatures(fields, role)]
    return _as_findings(found)


def walk(result: Any) -> Iterator[CheckFinding]:
    """A policy's result as findings (for tests and callers that want one shape)."""
    if result is None:
        return
    if isinstance(result, str):
        yield finding(result, result)
    elif isinstance(result, CheckFinding):
        yield result
    else:
        yield from result
