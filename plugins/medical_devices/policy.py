"""Pure policies of the medical-devices vertical: which documents a customer type needs to be
admitted (MD1, MD2 a, e), whether a document is valid on a day, the grade the facts earn (MD3–MD7)
and the customer-archive checks (seed-000 §4.5 AR1, MD23). No I/O: core hands them data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

# --- customer types and qualification documents --------------------------------------------------

CUSTOMER_TYPES = ("distributor", "medical_institution", "enterprise", "retail", "internal_related", "direct")
EXEMPT_TYPES = frozenset({"retail", "internal_related"})  # MD1: admission does not apply

DOCUMENT_KINDS = ("business_licence", "practice_licence", "device_operation_licence", "tax_registration",
                  "special_qualification")
DOCUMENT_NAMES = {
    "business_licence": ("business licence", "工商营业执照"),
    "practice_licence": ("medical-institution practice licence", "医疗机构执业许可证"),
    "device_operation_licence": ("medical-device operation licence or filing record", "医疗器械经营许可证/备案凭证"),
    "tax_registration": ("tax registration", "税务登记证"),
    "special_qualification": ("special product qualification", "专项资质"),
}

# MD2 a: an enterprise with a valid business licence and tax registration; a medical institution
# with every legally required qualification (its practice licence); MD2 e: a customer that sells
# devices holds the operation licence or filing record.
REQUIRED = {
    "distributor": ("business_licence", "tax_registration", "device_operation_licence"),
    "direct": ("business_licence", "tax_registration", "device_operation_licence"),
    "enterprise": ("business_licence", "tax_registration"),
    "medical_institution": ("practice_licence",),
    "retail": (),
    "internal_related": (),
}


def required_documents(customer_type: str, *, special_products: bool = False,
                       tax_registration: bool = True) -> tuple[str, ...]:
    """The documents an admission of this type needs (MD1, MD2 a, e). ``special_products``: the
    customer deals in products that need a special national qualification (MD2 e);
    ``tax_registration`` False: the tenant accepts the unified business licence (三证合一) in
    place of a separate tax registration."""
    if customer_type in EXEMPT_TYPES:
        return ()
    kinds = tuple(k for k in REQUIRED[customer_type] if tax_registration or k != "tax_registration")
    return (*kinds, "special_qualification") if special_products else kinds


def is_expired(expires_on: str | None, today: date) -> bool:
    """A document is valid through its expiry day; None never expires."""
    return expires_on is not None and date.fromisoformat(expires_on) < today


def reminder_due(expires_on: str | None, reminded_for: str | None, today: date, days: int) -> bool:
    """A reminder is raised once per document and expiry, from ``days`` days before it."""
    if expires_on is None or reminded_for == expires_on:
        return False
    return (date.fromisoformat(expires_on) - today).days <= days


# --- grading (MD3–MD7) ---------------------------------------------------------------------------

_TIER = {"三": 3, "二": 2, "一": 1}
_CLASS = {"特": 4, "甲": 3, "乙": 2, "丙": 1}
_LEVEL = re.compile(r"^\s*([一二三])\s*[级級]\s*([特甲乙丙])\s*等?\s*$")
VIP_LEVEL = (3, 2)  # 三级乙等 or above (MD4 a)
PREFERRED_LEVEL = (2, 3)  # 二级甲等 or above (MD5 a)
VIP_TYPES = frozenset({"distributor", "direct", "medical_institution"})  # MD4 a: a direct distributor or medical institution


def hospital_level(value: object) -> tuple[int, int] | None:
    """``三级乙等`` → (3, 2); None when it is no hospital level."""
    match = _LEVEL.match(value) if isinstance(value, str) else None
    return (_TIER[match.group(1)], _CLASS[match.group(2)]) if match else None


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _threshold(parameters: Mapping[str, Any], key: str) -> Decimal | None:
    value = _number(parameters.get(key))
    return value if value is not None and value > 0 else None  # 0: the blank threshold is not used


@dataclass(frozen=True)
class Assessment:
    grade: str
    reasons: tuple[str, ...]


def _scale(facts: Mapping[str, Any], parameters: Mapping[str, Any], level: tuple[int, int], prefix: str) -> str | None:
    """The scale criterion of MD4 a / MD5 a: which of its three alternatives holds, if any."""
    found = hospital_level(facts.get("hospital_level"))
    if found is not None and found >= level:
        return "hospital_level"
    beds, min_beds = _number(facts.get("beds")), _threshold(parameters, f"{prefix}_min_beds")
    if min_beds is not None and facts.get("orthopaedic_trauma") is True and beds is not None and beds >= min_beds:
        return "beds"
    business, min_business = (_number(facts.get("annual_business_wan")),
                              _threshold(parameters, f"{prefix}_min_annual_business_wan"))
    if min_business is not None and business is not None and business >= min_business:
        return "annual_business"
    return None


def assess(facts: Mapping[str, Any], parameters: Mapping[str, Any]) -> Assessment:
    """The grade the customer's facts earn, with the reasons: VIP (MD4 a–c), preferred (MD5 a, d) or
    qualified (MD6). Facts: ``hospital_level`` (三级乙等 …), ``orthopaedic_trauma`` (true/false),
    ``beds``, ``annual_business_wan``, ``late_payment`` and ``overdue_pickup`` (true: a default in the
    period), ``customer_type``, ``long_term_partner`` (false: the customer declined a long-term
    partnership, MD4 c). Caps (MD4 d, MD5 e) are the grading engine's, applied to the result."""
    reasons: list[str] = []
    defaults = [name for name in ("late_payment", "overdue_pickup") if facts.get(name) is True]
    if defaults:
        reasons.append("payment_default:" + ",".join(defaults))  # MD4 b, MD5 d
        return Assessment("qualified", tuple(reasons))
    vip_scale = _scale(facts, parameters, VIP_LEVEL, "vip")
    customer_type = facts.get("customer_type")
    vip_type = customer_type is None or customer_type in VIP_TYPES
    if vip_scale and vip_type and facts.get("long_term_partner") is not False:
        return Assessment("vip", (f"vip_scale:{vip_scale}",))
    if vip_scale and not vip_type:
        reasons.append(f"not_vip_type:{customer_type}")
    if vip_scale and facts.get("long_term_partner") is False:
        reasons.append("no_long_term_partnership")
    preferred_scale = _scale(facts, parameters, PREFERRED_LEVEL, "preferred")
    if preferred_scale:
        return Assessment("preferred", (*reasons, f"preferred_scale:{preferred_scale}"))
    return Assessment("qualified", (*reasons, "no_scale"))


def score(facts: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    """The grading scheme's policy (``GradingScheme.score``)."""
    return assess(facts, parameters).grade


# --- the customer archive (seed-000 §4.5, seed-003 R12, MD23) -----------------------------------


def _survey(archive: Mapping[str, Any]) -> Mapping[str, Any]:
    for document in archive.get("documents") or ():
        if document.get("code") == "survey":
            return document.get("fields") or {}
    return {}


def created_within(archive: Mapping[str, Any], parameters: Mapping[str, Any]) -> str | None:
    """AR1 / R12-1: the person in contact creates the archive within a week of the first contact."""
    fields = _survey(archive)
    try:
        first, created = date.fromisoformat(fields["first_contact_date"]), date.fromisoformat(fields["created_on"])
    except (KeyError, TypeError, ValueError):
        return "the survey form needs the first contact date and the date the archive was created (YYYY-MM-DD)"
    days = int(parameters.get("archive_creation_days", 7))
    if created < first:
        return "the archive is dated before the first contact"
    if (created - first).days > days:
        return f"created {(created - first).days} days after the first contact, more than {days}"
    return None


def numbered(archive: Mapping[str, Any], parameters: Mapping[str, Any]) -> str | None:
    """MD23: every archive has its number and the category code the marketing division assigns."""
    facts = archive.get("facts") or {}
    missing = [name for name in ("archive_number", "category_code") if not str(facts.get(name) or "").strip()]
    return f"missing {', '.join(missing)}" if missing else None
