"""Running an archive standard's rules: the data-driven ones the declarations imply (documents
present and in order, fields filled, signatures, seals, units), then the vertical's policies.
Pure functions of the archive mapping (see docs/plugins.md, "Archive checks")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.plugins.types import ArchiveStandard, CheckFinding, DocumentFieldKind, ParameterValue

FILLED_MARKS = ("无", "✓")  # S2: a field that does not apply shows 无 or a tick
DATA, POLICY, MANUAL = "data", "policy", "manual"
PASS, FAIL, OVERRIDDEN = "pass", "fail", "overridden"
# Codes of the data-driven rules (a vertical's own rule codes are upper-case, S1, V11...).
DOCUMENTS_PRESENT, DOCUMENTS_ORDER = "documents.present", "documents.order"
FIELDS_FILLED, SIGNATURES_PRESENT, SEALS_PRESENT, UNITS_PRESENT = (
    "fields.filled", "signatures.present", "seals.present", "units.present")
DATA_RULES = (DOCUMENTS_PRESENT, DOCUMENTS_ORDER, FIELDS_FILLED, SIGNATURES_PRESENT, SEALS_PRESENT, UNITS_PRESENT)
_NUMBER_WITH_UNIT = re.compile(r"^\s*-?\d+(\.\d+)?\s*(?P<unit>\S.*)$")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One result row: a rule passed, or one finding of a failed rule, or a manual item."""

    rule_code: str
    kind: str
    status: str
    message_en: str = ""
    message_zh: str = ""
    document: str | None = None
    field: str | None = None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def _data_findings(standard: ArchiveStandard, archive: Mapping[str, Any]) -> dict[str, list[CheckFinding]]:
    found: dict[str, list[CheckFinding]] = {code: [] for code in DATA_RULES}
    filed = {d["code"]: d for d in archive["documents"]}
    for declared in standard.documents:
        if declared.required and declared.code not in filed:
            found[DOCUMENTS_PRESENT].append(CheckFinding(
                f"{declared.name_en} is missing", f"缺少《{declared.name_zh}》", document=declared.code))
    order = [d.code for d in standard.documents]
    filed_order = [d["code"] for d in sorted(archive["documents"], key=lambda d: d["position"]) if d["code"] in order]
    if filed_order != sorted(filed_order, key=order.index):
        found[DOCUMENTS_ORDER].append(CheckFinding(
            "documents are not in the standard's order: " + ", ".join(filed_order),
            "文件未按规定顺序整理：" + "、".join(filed_order)))
    for declared in standard.documents:
        document = filed.get(declared.code)
        if document is None:
            continue
        fields = document["fields"]
        for f in declared.fields:
            value = fields.get(f.name)
            if f.required and blank(value):
                found[FIELDS_FILLED].append(CheckFinding(
                    f"{declared.name_en}: {f.label_en} is blank (write 无 or ✓ where it does not apply)",
                    f"《{declared.name_zh}》{f.label_zh}未填写（不适用处须填“无”或“√”）", declared.code, f.name))
            elif (f.kind is DocumentFieldKind.CHOICE and not blank(value) and value not in FILLED_MARKS
                  and value not in f.choices):
                found[FIELDS_FILLED].append(CheckFinding(
                    f"{declared.name_en}: {f.label_en} must be one of {', '.join(f.choices)}, not {value!r}",
                    f"《{declared.name_zh}》{f.label_zh}须为以下之一：{'、'.join(f.choices)}", declared.code, f.name))
            elif f.kind is DocumentFieldKind.MEASURE and not blank(value) and value not in FILLED_MARKS:
                match = _NUMBER_WITH_UNIT.match(str(value))
                if match is None or match["unit"].strip().lower() != (f.unit or "").lower():
                    found[UNITS_PRESENT].append(CheckFinding(
                        f"{declared.name_en}: {f.label_en} must carry its unit {f.unit} (e.g. 2.5{f.unit})",
                        f"《{declared.name_zh}》{f.label_zh}须注明单位 {f.unit}", declared.code, f.name))
        signed = {s.get("role") for s in fields.get("signatures") or () if isinstance(s, Mapping)
                  and not blank(s.get("name"))}
        for role in declared.signatures:
            if role not in signed:
                found[SIGNATURES_PRESENT].append(CheckFinding(
                    f"{declared.name_en}: the {role} has not signed", f"《{declared.name_zh}》缺少 {role} 签字",
                    declared.code, "signatures"))
        seals = set(fields.get("seals") or ())
        for seal in declared.seals:
            if seal not in seals:
                found[SEALS_PRESENT].append(CheckFinding(
                    f"{declared.name_en}: the {seal} seal is missing", f"《{declared.name_zh}》缺少 {seal} 章",
                    declared.code, "seals"))
    return found


_DATA_NAMES = {
    DOCUMENTS_PRESENT: ("every required document is present", "规定文件齐全"),
    DOCUMENTS_ORDER: ("documents are in the standard's order", "文件按规定顺序整理"),
    FIELDS_FILLED: ("every required field is filled", "必填项均已填写"),
    SIGNATURES_PRESENT: ("every required signature is present", "规定签字齐全"),
    SEALS_PRESENT: ("every required seal is present", "规定印章齐全"),
    UNITS_PRESENT: ("measured values carry their units", "测量值注明单位"),
}


def _findings(answer: object) -> list[CheckFinding]:
    if answer is None:
        return []
    if isinstance(answer, str):
        return [CheckFinding(answer, answer)]
    if isinstance(answer, CheckFinding):
        return [answer]
    if isinstance(answer, Iterable):
        return [item if isinstance(item, CheckFinding) else CheckFinding(str(item), str(item)) for item in answer]
    return [CheckFinding(str(answer), str(answer))]


def run_checks(standard: ArchiveStandard, archive: Mapping[str, Any],
               parameters: Mapping[str, ParameterValue]) -> list[Outcome]:
    """Every rule's outcome: data-driven first, then the vertical's rules in declared order. A
    policy that raises fails its rule (the checker sees why) rather than the whole check."""
    outcomes: list[Outcome] = []
    for code, findings in _data_findings(standard, archive).items():
        en, zh = _DATA_NAMES[code]
        outcomes += ([Outcome(code, DATA, FAIL, f.message_en, f.message_zh, f.document, f.field) for f in findings]
                     or [Outcome(code, DATA, PASS, en, zh)])
    for rule in standard.checks:
        if rule.check is None:
            outcomes.append(Outcome(rule.code, MANUAL, MANUAL, rule.description_en, rule.description_zh))
            continue
        try:
            findings = _findings(rule.check(archive, parameters))
        except Exception as error:  # noqa: BLE001 - a broken policy must not pass an archive silently
            findings = [CheckFinding(f"the check could not run ({type(error).__name__})",
                                     f"检查无法执行（{type(error).__name__}）")]
        outcomes += ([Outcome(rule.code, POLICY, FAIL, f.message_en, f.message_zh, f.document, f.field)
                      for f in findings]
                     or [Outcome(rule.code, POLICY, PASS, rule.description_en, rule.description_zh)])
    return outcomes
