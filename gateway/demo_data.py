"""Realistic data for the demo tenants (issue 17 point 11): so that the first query a newcomer
runs in GraphiQL shows something of the tenant's vertical.

Every record goes through the same service functions as the API (validation, audit, outbox), so
the demo only holds data the product would accept: resident ID numbers and unified social credit
codes with correct check digits (python-stdnum), mobile numbers phonenumbers accepts, VINs with
their ISO 3779 check digit, addresses down to the house number. The choices come from a fixed
random seed, so every demo database holds the same people.

The real-estate tenant also gets its sales office (issue 21): consultants, a sales clerk and a
manager, the attribution ledgers of nine of its people (registrations confirmed by the clerk,
follow-ups, a couple, a deal), and today's reception queue; ``sales_office`` dates them back from
the tenant's today with a fixed seed.

Running it again adds nothing: each customer carries its own identifier and each vehicle its own
VIN, and the services refuse a second customer with the same identifier (DUPLICATE_IDENTIFIER) and
a second folder for the same vehicle (ARCHIVE_FOLDER_EXISTS); those are skipped. Staff are
recognised by username, a customer whose ledger holds anything is left alone, and the queue's
members by who signed in today.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from core.archives import folders as archive_folders
from core.archives import lifecycle as archive_lifecycle
from core.attribution import service as attribution
from core.attribution.tables import AttributionEntry
from core.context import Context, Principal
from core.customers import service as customers
from core.customers import validation
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles, users
from core.identity.permissions import Scope
from core.identity.tables import User, UserDepartment
from core.plugins import tenant_calendar
from core.plugins.manager import VerticalRegistry
from core.privacy import consent
from core.tenancy import service as tenancy
from core.verticals import service as verticals

SEED = 17_2026
CUSTOMERS_PER_TENANT = 20
DEMO_TAG = "演示数据"
NOTICE_VERSION = "2026-01"
ALREADY_SEEDED = frozenset({"DUPLICATE_IDENTIFIER", "ARCHIVE_FOLDER_EXISTS"})

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁沈"
GIVEN_NAMES = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
               "超", "秀兰", "霞", "平", "刚", "桂英", "晓东", "建华", "海燕", "子涵", "浩然", "欣怡", "宇轩", "思远",
               "雨桐", "志强", "丽华", "文博", "佳怡")


@dataclass(frozen=True)
class Region:
    """A county-level division: its code (the first six digits of a resident ID), address and postcode."""

    code: str
    province: str
    city: str
    county: str
    streets: tuple[str, ...]
    postcode: str
    plate: str  # the licence plate prefix of the city


REGIONS = (
    Region("110105", "北京市", "北京市", "朝阳区", ("建国路", "朝阳北路", "望京街"), "100020", "京A"),
    Region("310104", "上海市", "上海市", "徐汇区", ("漕溪北路", "天钥桥路", "宜山路"), "200030", "沪A"),
    Region("440106", "广东省", "广州市", "天河区", ("天河路", "体育西路", "黄埔大道西"), "510620", "粤A"),
    Region("330106", "浙江省", "杭州市", "西湖区", ("文三路", "天目山路", "教工路"), "310012", "浙A"),
    Region("510107", "四川省", "成都市", "武侯区", ("人民南路四段", "科华北路", "武侯祠大街"), "610041", "川A"),
    Region("420106", "湖北省", "武汉市", "武昌区", ("中南路", "武珞路", "友谊大道"), "430071", "鄂A"),
    Region("220104", "吉林省", "长春市", "朝阳区", ("人民大街", "西安大路", "湖西路"), "130012", "吉A"),
    Region("320106", "江苏省", "南京市", "鼓楼区", ("中山北路", "汉中路", "湖南路"), "210009", "苏A"),
)
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "180",
                   "181", "186", "187", "188", "189", "198", "199")


# --- identifiers, each with its check digit ------------------------------------------------------

def resident_id(rng: random.Random, region: Region, birth: date, female: bool) -> str:
    """An 18-digit resident ID: region, birth date, sequence (odd for men), ISO 7064 check digit."""
    sequence = rng.randrange(0, 500) * 2 + (0 if female else 1)
    body = f"{region.code}{birth:%Y%m%d}{sequence:03d}"
    number = body + ric.calc_check_digit(body + "0")  # stdnum expects a check digit in place
    ric.validate(number)  # region, birth date and check digit, as the customer service will check them
    return number


def _organisation_code(rng: random.Random) -> str:
    """The 9-character organisation code inside a credit code (GB 11714, with its own check digit)."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2)))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, region: Region, category: str = "91") -> str:
    """A unified social credit code: registering authority and kind (91: a company; 12: a public
    institution such as a hospital), region, organisation code, then the GB 32100 check digit."""
    body = f"{category}{region.code}{_organisation_code(rng)}"
    return uscc.validate(body + uscc.calc_check_digit(body))


def mobile(rng: random.Random) -> str:
    while True:
        number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        try:
            return validation.phone(number)
        except KehuError:
            continue


def vin(rng: random.Random) -> str:
    """A FAW-Volkswagen VIN (WMI LFV) with the ISO 3779 check digit at position 9."""
    from plugins.automotive.vehicles import vin_check_digit

    model_year = rng.choice("NPRS")  # 2022-2025
    body = f"LFV2A21K0{model_year}3{rng.randrange(10**6):06d}"
    digit = vin_check_digit(body)
    return body[:8] + digit + body[9:]


def plate(rng: random.Random, region: Region) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return region.plate + rng.choice(letters) + "".join(rng.choice("0123456789") for _ in range(4))


# --- people and companies --------------------------------------------------------------------------

@dataclass
class Person:
    surname: str
    given_name: str
    female: bool
    birth: date
    region: Region
    resident_id: str
    phone: str

    @property
    def name(self) -> str:
        return self.surname + self.given_name


def person(rng: random.Random) -> Person:
    region = rng.choice(REGIONS)
    female = rng.random() < 0.5
    while True:
        birth = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 35))
        try:  # a region code is valid only for people born after it was created (python-stdnum knows)
            number = resident_id(rng, region, birth, female)
            break
        except ValidationError:
            continue
    return Person(rng.choice(SURNAMES), rng.choice(GIVEN_NAMES), female, birth, region, number, mobile(rng))


def address(rng: random.Random, region: Region) -> dict[str, str]:
    return {"province": region.province, "city": region.city, "county": region.county,
            "street": rng.choice(region.streets), "house_number": f"{rng.randrange(1, 400)}号"}


def contact(rng: random.Random, position: str, primary: bool = False) -> customers.ContactInput:
    someone = person(rng)
    return customers.ContactInput(surname=someone.surname, given_name=someone.given_name, position=position,
                                  phones=[someone.phone], is_primary=primary)


@dataclass
class Planned:
    """One customer to create, what to record with it, the person it is, and (automotive) its vehicle."""

    fields: dict[str, Any]
    contacts: list[customers.ContactInput] = field(default_factory=list)
    consents: list[tuple[str, str]] = field(default_factory=list)  # (purpose, grant | withdraw)
    buyer: Person | None = None
    vehicle: dict[str, str] | None = None


def _person_fields(rng: random.Random, who: Person, status: str, tags: list[str], channel: str) -> dict[str, Any]:
    return {"kind": "person", "status": status, "surname": who.surname, "given_name": who.given_name,
            "identifier": {"type": "resident_id", "number": who.resident_id}, "phones": [who.phone],
            "address": address(rng, who.region), "tags": [DEMO_TAG, *tags], "source_channel": channel}


def _organisation_fields(rng: random.Random, name: str, region: Region, status: str, tags: list[str],
                         category: str = "91") -> dict[str, Any]:
    return {"kind": "organisation", "status": status, "org_name": name,
            "legal_representative": person(rng).name,
            "identifier": {"type": "credit_code", "number": credit_code(rng, region, category)},
            "phones": [mobile(rng)], "address": address(rng, region), "tags": [DEMO_TAG, *tags],
            "source_channel": rng.choice(("sales", "partner", "exhibition"))}


def _consents(rng: random.Random) -> list[tuple[str, str]]:
    """Most people agree to SMS marketing, fewer to calls; a few later withdraw (PIPL art. 15)."""
    chosen = []
    if rng.random() < 0.8:
        chosen.append(("marketing_sms", "grant"))
        if rng.random() < 0.2:
            chosen.append(("marketing_sms", "withdraw"))
    if rng.random() < 0.4:
        chosen.append(("marketing_phone", "grant"))
    return chosen or [("marketing_email", "grant")]


SERIES = (("迈腾", "迈腾 380TSI"), ("速腾", "速腾 300TSI"), ("宝来", "宝来 1.5L"), ("探岳", "探岳 330TSI"),
          ("揽境", "揽境 380TSI"), ("高尔夫", "高尔夫 280TSI"))
COLOURS = ("白", "黑", "银", "灰", "蓝", "红")


def _automotive(rng: random.Random) -> list[Planned]:
    plans = []
    for i in range(CUSTOMERS_PER_TENANT):
        if i < 14:  # vehicle owners: the dealer's master data (D1) needs the vehicle's fields
            who = person(rng)
            series, model = rng.choice(SERIES)
            car = {"vin": vin(rng), "plate": plate(rng, who.region), "series": series, "model": model,
                   "colour": rng.choice(COLOURS)}
            fields = _person_fields(rng, who, "active", ["车主"], rng.choice(("sales", "exhibition", "online")))
            fields["extensions"] = {"automotive": {
                "customer_category": "个人", "evaluation_category": rng.choice(("A类", "B类", "C类")),
                "postcode": who.region.postcode, "vin": car["vin"], "plate": car["plate"],
                "product_code": model, "series": series, "colour": car["colour"]}}
            plans.append(Planned(fields, consents=_consents(rng), buyer=who, vehicle=car))
        elif i < 17:  # prospects from test drives
            who = person(rng)
            plans.append(Planned(_person_fields(rng, who, "potential", ["意向客户", "试驾"], "exhibition"),
                                 consents=_consents(rng)))
        else:  # fleet customers
            region = rng.choice(REGIONS)
            name = f"{region.city.removesuffix('市')}{rng.choice(('顺达', '安行', '通程'))}{rng.choice(('汽车租赁', '物流'))}有限公司"
            fields = _organisation_fields(rng, name, region, "potential", ["车队客户"])
            plans.append(Planned(fields, contacts=[contact(rng, "车队经理", primary=True), contact(rng, "采购专员")],
                                 consents=[("marketing_email", "grant")]))
    return plans


def _real_estate(rng: random.Random) -> list[Planned]:
    plans = []
    for i in range(CUSTOMERS_PER_TENANT):
        if i < 16:
            who = person(rng)
            status = rng.choice(("potential", "potential", "active"))
            tags = ["已签约"] if status == "active" else [rng.choice(("首次到访", "复访", "意向强"))]
            fields = _person_fields(rng, who, status, tags, rng.choice(("sales", "online", "partner")))
            fields["needs"] = {"budget_wan": rng.choice((180, 250, 320, 450)), "rooms": rng.choice((2, 3, 4)),
                               "purpose": rng.choice(("自住", "改善", "学区"))}
            plans.append(Planned(fields, consents=_consents(rng), buyer=who))
        else:
            region = rng.choice(REGIONS)
            name = f"{region.city.removesuffix('市')}{rng.choice(('华信', '鼎盛', '恒通', '瑞丰'))}科技有限公司"
            plans.append(Planned(_organisation_fields(rng, name, region, "potential", ["团购"]),
                                 contacts=[contact(rng, "行政总监", primary=True)],
                                 consents=[("marketing_email", "grant")]))
    return plans


def _medical_devices(rng: random.Random) -> list[Planned]:
    plans = []
    for i in range(CUSTOMERS_PER_TENANT):
        region = rng.choice(REGIONS)
        if i < 8:  # hospitals are public institutions (credit code 12…) and key customers
            name = f"{region.city.removesuffix('市')}{rng.choice(('第一', '第二', '第三', '中心', '中医'))}人民医院"
            if "中心" in name or "中医" in name:
                name = name.replace("人民", "")
            fields = _organisation_fields(rng, name, region, "active", ["医院", rng.choice(("三级甲等", "二级甲等"))],
                                          category="12")
            fields["is_key"] = True
            plans.append(Planned(fields, contacts=[contact(rng, "设备科科长", primary=True), contact(rng, "采购办主任"),
                                                   contact(rng, "临床科室主任")],
                                 consents=[("marketing_email", "grant")]))
        elif i < 15:
            name = f"{region.city.removesuffix('市')}{rng.choice(('康健', '瑞康', '安泰', '仁和'))}医疗器械有限公司"
            plans.append(Planned(_organisation_fields(rng, name, region, rng.choice(("active", "potential")),
                                                      ["经销商"]),
                                 contacts=[contact(rng, "总经理", primary=True), contact(rng, "质量负责人")],
                                 consents=[("marketing_email", "grant")]))
        else:  # doctors of private clinics
            who = person(rng)
            plans.append(Planned(_person_fields(rng, who, "potential", ["诊所"], "exhibition"),
                                 consents=_consents(rng)))
    return plans


def _tobacco(rng: random.Random) -> list[Planned]:
    plans = []
    for i in range(CUSTOMERS_PER_TENANT):
        if i < 14:  # individual retailers (个体工商户)
            who = person(rng)
            fields = _person_fields(rng, who, "active", ["零售户", rng.choice(("便利店", "食杂店", "超市"))], "sales")
            fields["business"] = {"store_name": f"{who.surname}记{rng.choice(('便利店', '烟酒店', '食杂店'))}",
                                  "licence_no": f"{who.region.code}{rng.randrange(10**6):06d}"}
            plans.append(Planned(fields, consents=_consents(rng)))
        else:
            region = rng.choice(REGIONS)
            name = f"{region.city.removesuffix('市')}{rng.choice(('快客', '美宜', '好邻'))}便利连锁有限公司"
            plans.append(Planned(_organisation_fields(rng, name, region, "active", ["连锁零售"]),
                                 contacts=[contact(rng, "门店经理", primary=True)],
                                 consents=[("marketing_email", "grant")]))
    return plans


PLANS = {"automotive": _automotive, "real_estate": _real_estate, "medical_devices": _medical_devices,
         "tobacco": _tobacco}


def plan(vertical: str) -> list[Planned]:
    """The customers of a vertical's demo tenant; the same every time (fixed seed per vertical)."""
    make = PLANS.get(vertical)
    if make is None:
        return []
    return make(random.Random(f"{SEED}:{vertical}"))


# --- automotive archives -----------------------------------------------------------------------------

def _signature(role: str, name: str, at: str) -> dict[str, str]:
    return {"role": role, "name": name, "signed_at": at}


def sales_archive(buyer: Person, car: Mapping[str, str], start: date) -> dict[str, Any]:
    """A complete sales archive (一车一档) of one vehicle, as the automotive plugin's checks want it."""
    stock_in, pre, agreement, out_day, delivered = (start, start + timedelta(days=1), start + timedelta(days=46),
                                                    start + timedelta(days=55), start + timedelta(days=56))
    d = {k: v.isoformat() for k, v in (("stock_in", stock_in), ("pre", pre), ("agreement", agreement),
                                       ("out", out_day), ("delivered", delivered))}
    name, vin_ = buyer.name, car["vin"]
    pdi: dict[str, Any] = {
        "key_handover_on": d["stock_in"], "key_handover_to": "服务前台 李娜", "pre_order_no": f"P-{vin_[-4:]}",
        "pre_date": d["pre"], "out_order_no": f"8-{vin_[-4:]}", "out_date": d["out"], "out_form_date": d["out"],
        "out_pdi_by": "service_advisor", "storage_weekly": True, "storage_2_weeks": True,
        "storage_before_delivery": True,
        "signatures": [_signature("pre_warehouse_keeper", "赵库管", d["pre"]), _signature("pre_executor", "钱技师", d["pre"]),
                       _signature("pre_final_inspector", "孙终检", d["pre"]),
                       _signature("out_warehouse_keeper", "赵库管", d["out"]),
                       _signature("out_sales_consultant", "周顾问", d["out"]), _signature("out_customer", name, d["out"]),
                       _signature("out_executor", "钱技师", d["out"]), _signature("out_final_inspector", "孙终检", d["out"])],
    }
    for prefix, pressure in (("pre", "2.3Bar"), ("out", "2.5Bar")):
        for part in ("work_order", "settlement", "check_form", "maintenance_form"):
            pdi[f"{prefix}_{part}"] = True
        for wheel in ("fl", "fr", "rl", "rr"):
            pdi[f"{prefix}_tyre_pressure_{wheel}"] = pressure
    price = 150000 + (int(vin_[-3:]) % 50) * 1000
    total = f"{price + 8000}.00"
    documents = [
        ("delivery_form", {"delivered_on": d["delivered"], "customer_name": name, "phone": buyer.phone[3:], "vin": vin_,
                           "model": car["model"], "colour": car["colour"], "consultant": "周顾问",
                           "tools_handed_over": "✓", "manual_handed_over": "✓", "functions_explained": "无",
                           "signatures": [_signature("customer", name, d["delivered"]),
                                          _signature("sales_consultant", "周顾问", d["delivered"])]}),
        ("invoice", {"date": d["delivered"], "buyer": name, "vin": vin_, "amount": total, "seals": ["invoice"]}),
        ("pdi_certificate", {"stamp_date": d["out"], "vin": vin_, "seals": ["pdi"]}),
        ("owner_id", {"name": name, "number": buyer.resident_id}),
        ("conformity_certificate", {"vin": vin_, "model": car["model"], "production_date": d["stock_in"]}),
        ("purchase_agreement", {"signed_on": d["agreement"], "buyer": name, "vin": vin_, "model": car["model"],
                                "vehicle_price": f"{price}.00", "accessories_amount": "3000.00",
                                "insurance_amount": "5000.00", "service_fee_amount": "无", "total": total,
                                "payment_method": "全款", "seals": ["sales_contract", "cross_page"],
                                "signatures": [_signature("customer", name, d["agreement"]),
                                               _signature("sales_manager", "吴经理", d["agreement"])]}),
        ("pdi_maintenance_form", pdi),
    ]
    return {"subject_facts": {"plate": car["plate"], "model": car["model"], "series": car["series"],
                              "colour": car["colour"], "production_date": d["stock_in"],
                              "registration_date": d["delivered"]},
            "facts": {"stock_in_date": d["stock_in"], "delivered_at": d["delivered"], "on_duty_advisor_present": True,
                      "elsa_tyre_pressure_bar": 2.3, "half_load_tyre_pressure_bar": "2.5Bar"},
            "documents": documents}


# How far each demo vehicle's sales archive gets: every state of the archive workflow is shown.
ARCHIVE_STATES = ("sealed", "archived", "archived", "accepted", "under_check", "rejected", "submitted", "assembling")


async def _archive_vehicle(tenant_id: UUID, registry: VerticalRegistry, customer_id: UUID, buyer: Person,
                           car: Mapping[str, str], target: str, start: date) -> bool:
    """Take one vehicle's sales archive to ``target`` through the archive workflow; False if its
    folder exists already (seeded by an earlier run)."""
    # Two people: the sales advisor files and submits, the archive clerk checks (never the same).
    advisor = Context.system("demo:sales-advisor", tenant_id)
    clerk = Context.system("demo:archive-clerk", tenant_id)
    mapping = sales_archive(buyer, car, start)
    try:
        folder = await archive_folders.create_folder(advisor, registry, "automotive", car["vin"],
                                              facts=mapping["subject_facts"], owner_customer_id=customer_id)
    except KehuError as error:
        if error.code in ALREADY_SEEDED:
            return False
        raise
    archive = await archive_lifecycle.create_archive(advisor, registry, folder.id, "sales_archive", facts=mapping["facts"])
    documents = mapping["documents"]
    if target == "assembling":
        documents = documents[:3]  # still being put together
    elif target == "rejected":
        documents = [doc for doc in documents if doc[0] != "pdi_certificate"]  # a document is missing
    for position, (code, fields) in enumerate(documents, start=1):
        await archive_lifecycle.put_document(advisor, registry, archive.id, code, fields, position=position)
    if target == "assembling":
        return True
    await archive_lifecycle.submit_archive(advisor, registry, archive.id)
    if target == "submitted":
        return True
    checked = await archive_lifecycle.check_archive(clerk, registry, archive.id)
    if target == "under_check":
        return True
    if target == "rejected":
        await archive_lifecycle.reject_archive(clerk, registry, archive.id, ["PDI合格证缺失"] if checked.passed else [])
        return True
    await archive_lifecycle.accept_archive(clerk, registry, archive.id)
    if target == "accepted":
        return True
    await archive_lifecycle.file_archive(clerk, registry, archive.id)
    if target == "sealed":
        await archive_lifecycle.seal_archive(clerk, registry, archive.id, note="演示：封存")
    return True


# --- the real-estate sales office -----------------------------------------------------------------
# Issue 21: the demo-real-estate tenant shows the attribution ledger, the follow-up lists and the
# reception queue. Its staff sign in with the demo password; the customers' histories are dated
# back from the tenant's today, the same for a given day (fixed seed).

OFFICE = "南区售楼处"
TENANT, OWN = Scope.TENANT, Scope.OWN
# role name -> (description, permissions); the consultant's are those the vertical's docs name
SALES_OFFICE_ROLES: dict[str, tuple[str, dict[str, Scope]]] = {
    "置业顾问": ("Real-estate consultant: the reception queue, own customers, their ledger and follow-ups", {
        "customer.read": OWN, "customer.write": OWN, "attribution.read": OWN, "attribution.record": OWN,
        "attribution.dispute.open": OWN, "real_estate.reception.sign_in": OWN,
        "real_estate.reception.register": OWN, "real_estate.follow_up.record": OWN,
        "real_estate.violation.read": OWN}),
    "销售内勤": ("Sales clerk: confirms the daily visit register (RE19, RE21)", {
        "customer.read": TENANT, "attribution.read": TENANT, "attribution.confirm": TENANT,
        "real_estate.register.confirm": TENANT}),
    "案场销售经理": ("On-site sales manager: the queue, relatives, follow-ups, violations and reports", {
        "customer.read": TENANT, "customer.write": TENANT, "customer.relate": TENANT, "attribution.read": TENANT,
        "attribution.record": TENANT, "real_estate.reception.manage": TENANT,
        "real_estate.follow_up.record": TENANT, "real_estate.violation.record": TENANT,
        "real_estate.violation.read": TENANT, "real_estate.report.read": TENANT}),
}
# username -> (display name, role); the consultants sign in to the queue in this order
SALES_OFFICE_STAFF = {
    "consultant1": ("陈晓东（置业顾问）", "置业顾问"),
    "consultant2": ("林佳怡（置业顾问）", "置业顾问"),
    "consultant3": ("周子涵（置业顾问）", "置业顾问"),
    "clerk": ("吴静（销售内勤）", "销售内勤"),
    "manager": ("郑建华（案场销售经理）", "案场销售经理"),
}
CONSULTANTS = tuple(name for name, (_, role) in SALES_OFFICE_STAFF.items() if role == "置业顾问")
FOLLOW_UP = "follow_up_record"  # the vertical's use case (realEstateFollowUpRecord), not a raw ledger entry
GRADE = "grade"  # realEstateCustomerGrade


@dataclass(frozen=True)
class Step:
    """One thing a member of the sales office records about a customer."""

    what: str  # a LedgerKind value (attributionEntryRecord), FOLLOW_UP or GRADE
    by: str  # the username of who records it
    at: datetime | None = None
    consultant: str | None = None  # the username the entry names
    data: Mapping[str, Any] = field(default_factory=dict)
    staff_data: Mapping[str, str] = field(default_factory=dict)  # data keys whose value is a staff member's id
    confirms: int | None = None  # a CONFIRMATION: the position of the step it confirms


@dataclass(frozen=True)
class Story:
    """A customer of the sales office and what happened with them, oldest first."""

    customer: int  # position in plan("real_estate")
    shows: str  # what a newcomer sees in it
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class SalesOffice:
    stories: tuple[Story, ...]
    spouses: tuple[int, int]  # registered first (and owner of both, RE24), registered later


def sales_office(today: date, zone: ZoneInfo) -> SalesOffice:
    """The sales office's history of nine of the tenant's people, dated back from ``today``.

    The gaps keep their meaning in every month: "still valid" contacts are at most 27 days old (a
    calendar month is 28 days or more), "lapsed" ones at least 32 (a month is 31 days at most)."""
    rng = random.Random(f"{SEED}:real_estate:sales-office")
    customers_ = plan("real_estate")
    people = [i for i, p in enumerate(customers_) if p.buyer is not None]
    husband = next(i for i in people if not customers_[i].buyer.female)  # type: ignore[union-attr]
    wife = next(i for i in people if customers_[i].buyer.female)  # type: ignore[union-attr]
    others = [i for i in people if i not in (husband, wife)]
    buyer = next((i for i in others if customers_[i].fields["status"] == "active"), others[0])
    others.remove(buyer)

    def at(age: int, hour: int | None = None, minute: int | None = None) -> datetime:
        hour = rng.randint(9, 17) if hour is None else hour
        minute = rng.randrange(0, 60, 5) if minute is None else minute
        return datetime.combine(today - timedelta(days=age), time(hour, minute), tzinfo=zone)

    def registered(consultant: str, age: int) -> tuple[Step, Step]:
        """A registration and the clerk's confirmation of it that evening (RE21)."""
        when = at(age)
        return (Step("registration", consultant, when, consultant, {"first_visit": True}),
                Step("confirmation", "clerk", datetime.combine(when.date(), time(18, 30), tzinfo=zone)))

    def confirmed(steps: list[Step]) -> tuple[Step, ...]:
        """The confirmations name the registration just before them."""
        return tuple(replace(step, confirms=n - 1) if step.what == "confirmation" and step.confirms is None else step
                     for n, step in enumerate(steps))

    def follow_up(consultant: str, age: int, note: str, *, late: bool = False) -> Step:
        # a follow-up of a customer whose registration has lapsed by now can only be entered in
        # the ledger itself (the vertical's use case asks who owns the customer today)
        return Step("follow_up" if late else FOLLOW_UP, consultant, at(age), consultant, {"note": note})

    stories = []
    # graded A (a follow-up every 7 days by default) and last followed up 8 days ago or more: due now
    stories.append(Story(others[0], "RE20: registered, followed up twice, valid; graded A, due", confirmed([
        *registered("consultant1", rng.randint(22, 27)),
        follow_up("consultant1", rng.randint(15, 19), "电话回访：关注三居室，周末带家人看样板间"),
        follow_up("consultant1", rng.randint(8, 11), "微信回访：已发送 3 号楼户型图"),
        Step(GRADE, "consultant1", data={"grade": "A", "reason": "预算明确，近期购房"})])))
    age = rng.randint(8, 15)
    stories.append(Story(others[1], "RE20: registered and followed up, valid; graded B", confirmed([
        *registered("consultant2", age),
        follow_up("consultant2", rng.randint(2, 5), "电话回访：等待贷款预审结果"),
        Step(GRADE, "consultant2", data={"grade": "B", "reason": "有意向，资金待落实"})])))
    stories.append(Story(others[2], "RE20: a new registration, no follow-up yet", confirmed([
        *registered("consultant3", rng.randint(3, 10))])))
    age = rng.randint(55, 70)
    stories.append(Story(others[3], "RE20: followed up once, then lapsed (overdue list)", confirmed([
        *registered("consultant1", age),
        follow_up("consultant1", age - rng.randint(10, 20), "电话回访：暂缓购房", late=True)])))
    stories.append(Story(others[4], "RE20: registered, never followed up, lapsed (overdue list)", confirmed([
        *registered("consultant2", rng.randint(35, 45))])))
    stories.append(Story(husband, "RE24: registered first by consultant1; owner of the couple", confirmed([
        *registered("consultant1", rng.randint(15, 20))])))
    stories.append(Story(wife, "RE24: registered later by consultant2; the spouse's earlier registration wins",
                         confirmed([*registered("consultant2", rng.randint(4, 9))])))
    age = rng.randint(20, 26)
    unit = f"{rng.randint(1, 8)}号楼{rng.randint(1, 3)}单元{rng.randint(2, 26)}0{rng.randint(1, 4)}"
    name = customers_[buyer].buyer.name  # type: ignore[union-attr]
    steps = [*registered("consultant3", age),
             follow_up("consultant3", rng.randint(9, 12), "电话回访：约好近期来选房")]
    # two days ago the customer came back to consultant3 and mid-reception asked for consultant1 (RE16)
    steps += [Step("visit", "consultant3", at(2, 10, 0), "consultant3",
                   {"reception": "rotation", "counted": False, "rule": "RE13"}),
              Step("visit", "consultant1", at(2, 10, 40), "consultant1",
                   {"reception": "designated", "counted": False, "rule": "RE16", "designated": True,
                    "instigated": False}, staff_data={"mid_reception_from": "consultant3"}),
              Step("deal", "consultant1", at(2, 16, 30), "consultant1",
                   {"unit": unit, "buyer_name": name, "on_the_spot": False})]
    clerk_at = at(2, 18, 30)
    steps += [Step("confirmation", "clerk", clerk_at, confirms=len(steps) - 3),
              Step("confirmation", "clerk", clerk_at, confirms=len(steps) - 2)]
    stories.append(Story(buyer, "RE16: a deal split 55/45 between the owner and the consultant the customer "
                                "switched to", confirmed(steps)))
    stories.append(Story(others[5], "RE21: registered yesterday, awaiting the clerk's confirmation (no owner yet)",
                         (Step("registration", "consultant2", at(1), "consultant2", {"first_visit": True}),)))
    return SalesOffice(tuple(stories), (husband, wife))


async def _staff(tenant_id: UUID, password: str, report: SeedReport,
                 role_specs: Mapping[str, tuple[str, Mapping[str, Scope]]] | None = None,
                 staff_specs: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Context]:
    """The office's roles and users (made once; recognised by name), and a signed-in context of
    each, holding what their roles give, as an access token would."""
    role_specs = SALES_OFFICE_ROLES if role_specs is None else role_specs
    staff_specs = SALES_OFFICE_STAFF if staff_specs is None else staff_specs
    ctx = Context.system("cli:demo", tenant_id)
    known = {role.name: role.id for role in await roles.list_roles(ctx)}
    for name, (description, permissions) in role_specs.items():
        if name not in known:
            known[name] = (await roles.create_role(ctx, name=name, description=description,
                                                   permissions=permissions)).id
    sales = [d.id for d in await tenancy.list_departments(ctx) if d.name == "销售部"]
    async with unit_of_work(ctx, write=False) as uow:
        ids = {row["username"]: row["id"] for row in await uow.select(User.id, User.username).where(
            User.username.is_in(list(staff_specs)))}
    for username, (display_name, role) in staff_specs.items():
        if username not in ids:
            ids[username] = (await users.create_user(ctx, username=username, display_name=display_name,
                                                     password=password, department_ids=sales,
                                                     role_ids=[known[role]])).id
            report.staff += 1
    contexts = {}
    async with unit_of_work(ctx, write=False) as uow:
        for username, user_id in ids.items():
            departments = await uow.select(UserDepartment.department_id).where(UserDepartment.user_id == user_id)
            contexts[username] = Context.for_principal(Principal(
                tenant_id=tenant_id, user_id=user_id, api_key_id=None,
                permissions=await roles.effective_permissions(uow, user_id),
                department_ids=frozenset(d["department_id"] for d in departments)))
    return contexts


async def _tell_story(story: Story, customer_id: UUID, staff: Mapping[str, Context],
                      registry: VerticalRegistry) -> int:
    """Record a customer's history through the use cases, each by the member of staff who does it."""
    from plugins.real_estate import management as re_management

    entries: dict[int, UUID] = {}
    for position, step in enumerate(story.steps):
        ctx = staff[step.by]
        if step.what == FOLLOW_UP:
            assert step.at is not None
            done = await re_management.record_follow_up(ctx, customer_id, at=step.at, note=step.data["note"])
            entries[position] = UUID(done.entry_id)
        elif step.what == GRADE:
            await re_management.grade_customer(ctx, customer_id, step.data["grade"], reason=step.data.get("reason"))
        else:
            data = {**step.data, **{key: str(staff[who].user_id) for key, who in step.staff_data.items()}}
            consultant = staff[step.consultant].user_id if step.consultant else None
            recorded = await attribution.record_entry(
                ctx, registry, customer_id, vertical="real_estate", kind=step.what, at=step.at,
                consultant_id=consultant, data=data or None,
                refers_to=entries[step.confirms] if step.confirms is not None else None)
            entries[position] = recorded.entry.id
    return len(entries)


async def seed_sales_office(tenant_id: UUID, registry: VerticalRegistry, customer_ids: Mapping[int, UUID],
                            report: SeedReport) -> None:
    """The real-estate tenant's staff, its customers' ledgers, the spouses and today's queue; a
    customer whose ledger holds anything, a relation and a sign-in already there are left alone."""
    from gateway.cli import DEMO_ADMIN  # the one demo password (the CLI prints it)
    from plugins.real_estate import queue as re_queue

    staff = await _staff(tenant_id, DEMO_ADMIN.password, report)
    system = Context.system("cli:demo", tenant_id)
    zone = (await tenant_calendar(system)).zone
    office = sales_office(datetime.now(zone).date(), zone)
    async with unit_of_work(system, write=False) as uow:
        recorded = {row["customer_id"] for row in await uow.select(AttributionEntry.customer_id).where(
            AttributionEntry.vertical == "real_estate").distinct()}
    for story in office.stories:
        customer_id = customer_ids.get(story.customer)
        if customer_id is not None and customer_id not in recorded:
            report.ledger_entries += await _tell_story(story, customer_id, staff, registry)
    first, later = (customer_ids.get(i) for i in office.spouses)
    if first is not None and later is not None:
        try:
            await attribution.relate(staff["manager"], registry, first, later, "spouse")
        except KehuError as error:
            if error.code != "CUSTOMER_RELATION_EXISTS":
                raise
    # today's queue: the consultants signed in, in order, each having acknowledged the sales control (RE3, RE5)
    today_queue = await re_queue.queue(staff["manager"], OFFICE)
    members = {m.consultant_id: m for m in today_queue.members} if today_queue else {}
    for username in CONSULTANTS:
        consultant = staff[username]
        if consultant.user_id not in members:
            await re_queue.sign_in(consultant, OFFICE)
            report.signed_in += 1
        if consultant.user_id not in members or not members[consultant.user_id].acknowledged:
            await re_queue.acknowledge_sales_control(consultant, OFFICE)


# --- the dealer's sales floor (issue 23) ---------------------------------------------------------------

def _dealer_roles() -> dict[str, tuple[str, dict[str, Scope]]]:
    from plugins.automotive.roles import POSTS

    names = {"consultant": "销售部·销售顾问", "leader": "销售部·销售组长", "manager": "销售部·销售经理",
             "assistant": "销售部·销售助理", "cashier": "销售部·财务收银", "officer": "销售部·5S专员"}
    return {zh: (f"Automotive sales floor: {post} (seed 003 R6)", {p: Scope(scope) for p, scope in POSTS[post].items()})
            for post, zh in names.items()}


# username -> (display name, role)
DEALER_STAFF = {
    "consultant1": ("王磊（销售顾问）", "销售部·销售顾问"),
    "consultant2": ("刘芳（销售顾问）", "销售部·销售顾问"),
    "leader": ("陈刚（销售组长）", "销售部·销售组长"),
    "manager": ("张伟（销售经理）", "销售部·销售经理"),
    "assistant": ("李静（销售助理）", "销售部·销售助理"),
    "cashier": ("赵敏（财务收银）", "销售部·财务收银"),
    "officer": ("孙强（5S专员）", "销售部·5S专员"),
}


async def seed_sales_floor(tenant_id: UUID, customer_ids: Mapping[int, UUID], report: SeedReport) -> None:
    """The dealer's sales-floor staff, two lead cards made today (one signed by the team leader, one waiting
    for the signature) and an order signed, registered and paid in full, waiting in the delivery queue. A
    tenant whose floor has a card already is left alone."""
    from gateway.cli import DEMO_ADMIN  # the one demo password (the CLI prints it)
    from plugins.automotive import cards as floor_cards
    from core.plugins.services import unit_of_work as plugin_unit_of_work
    from plugins.automotive import orders as floor_orders

    tenant_id = UUID(str(tenant_id))  # a plain UUID whichever driver read it
    staff = await _staff(tenant_id, DEMO_ADMIN.password, report, _dealer_roles(), DEALER_STAFF)
    system = Context.system("cli:demo", tenant_id)
    async with plugin_unit_of_work(system, write=False) as uow:  # binds the vertical's tables to this database
        if await uow.select(floor_cards.Card.id).first() is not None:
            return
    today = datetime.now((await tenant_calendar(system)).zone).date()
    prospects = [customer_ids[i] for i in sorted(customer_ids)][:3]
    if len(prospects) < 3:
        return
    signed = await floor_cards.create_card(staff["consultant1"], prospects[0], source="walk_in", first_contact=today,
                                           intended_model="途胜", intention="A")
    await floor_cards.sign_card(staff["leader"], signed["id"])
    await floor_cards.create_card(staff["consultant2"], prospects[1], source="call_in", first_contact=today,
                                  intended_model="伊兰特", intention="B")
    order = await floor_orders.draft_order(staff["consultant1"], prospects[2], model="途胜", price_cny=159_800,
                                           payment_type="full")
    await floor_orders.sign_order(staff["leader"], order["id"])
    await floor_orders.register_order(staff["assistant"], order["id"])
    await floor_orders.record_payment(staff["cashier"], order["id"], kind="payment", amount_cny=159_800)
    report.ledger_entries += 2


# --- the tobacco company's retailers (issue 22) ---------------------------------------------------------

# (plan position, onboarding working days ago or None (onboarded long ago), what else is true of it)
RETAILERS = ((0, None, "online"), (1, None, "electronic"), (2, None, "temporary"), (3, 2, "core_missing"),
             (4, 0, "new"), (5, None, "change"))


async def seed_retailers(tenant_id: UUID, customer_ids: Mapping[int, UUID], report: SeedReport) -> None:
    """The tobacco tenant's licensed retailers, made through the vertical's use cases: master data
    (routes, ordering and settlement, an order phone each), two in onboarding (one licensed today, one
    two working days ago with its WD2 fields still missing), an online retailer, one settling
    electronically, one switched to phone ordering for a system failure, and a pending urgent route
    change waiting for its sign-offs. A second run leaves a retailer with an order phone alone."""
    from plugins.tobacco import service as tobacco

    system = Context.system("cli:demo", tenant_id)
    calendar = await tenant_calendar(system)
    today = datetime.now(calendar.zone).date()
    for position, onboarding, story in RETAILERS:
        customer_id = customer_ids.get(position)
        if customer_id is None:
            continue
        view = await customers.get_customer(system, customer_id)
        fields = view.record.get("extensions", {}).get("tobacco", {})
        if fields.get("order_phone"):
            continue  # seeded by an earlier run
        legal = view.display_name
        await tobacco.maintain(system, customer_id, {
            "licence_legal_person": legal, "customer_code": f"YC{3300 + position:06d}",
            "order_phone": f"1390571{position:04d}", "order_weekday": 1 + position % 5,
            **({} if story == "core_missing" else {
                "location": f"城关镇解放路{10 + position}号", "visit_batch": f"周{'一二三四五'[position % 5]}批",
                "delivery_route": f"R{1 + position % 2}", "delivery_sequence": position + 1,
                "invoice_type": "invoice", "service_staff": "客户经理王涛", "settlement_method": "cash",
                "ordering_method": "phone", "market_type": "城镇", "business_format": "便利店", "quota": 20 + position})})
        if onboarding is not None:
            licence = today
            for _ in range(onboarding):
                licence = licence - timedelta(days=1)
                while not calendar.is_working_day(licence):
                    licence -= timedelta(days=1)
            await tobacco.register_retailer(system, customer_id, licence)
        if story in ("online", "temporary"):
            await tobacco.set_ordering_method(system, customer_id, method="online")
        if story == "temporary":
            await tobacco.apply_temporary(system, customer_id, kind="ordering_method", reason="system_failure")
        if story == "electronic":
            await tobacco.enrol_settlement(system, customer_id, method="debit_card", bank="icbc",
                                           card_number=f"62220212{position:010d}", settlement_name=legal)
        if story == "change":
            await tobacco.request_change(system, customer_id, kind="urgent_route", application_ref="线路调整申请-001",
                                         reason="道路施工，送货车辆绕行", values={"delivery_route": "R3"})
        report.retailers += 1


# --- seeding -------------------------------------------------------------------------------------------

@dataclass
class SeedReport:
    customers: int = 0
    consents: int = 0
    archives: int = 0
    staff: int = 0
    ledger_entries: int = 0
    signed_in: int = 0
    retailers: int = 0


async def seed_tenant(tenant_id: UUID, vertical: str, registry: VerticalRegistry) -> SeedReport:
    """Give one demo tenant its vertical and its data; what exists already is left alone."""
    ctx = Context.system("cli:demo", tenant_id)
    report = SeedReport()
    if registry.definition(vertical) is not None:
        await verticals.enable_vertical(ctx, registry, vertical)  # nothing happens when it is enabled
    departments = [d.id for d in await tenancy.list_departments(ctx)]
    start = date(2026, 1, 5)
    vehicles = 0
    customer_ids: dict[int, UUID] = {}  # by position in the plan, those made earlier included
    for index, planned in enumerate(plan(vertical)):
        fields = dict(planned.fields)
        if departments:
            fields["department_id"] = str(departments[index % len(departments)])
        try:
            created = await customers.create_customer(ctx, registry, fields, contacts=planned.contacts)
        except KehuError as error:
            if error.code in ALREADY_SEEDED:
                if isinstance(error, validation.DuplicateIdentifier) and error.customer_id is not None:
                    customer_ids[index] = error.customer_id  # named to the system context: it reads everyone
                continue
            raise
        report.customers += 1
        customer_id = customer_ids[index] = created.customer.id
        for purpose, action in planned.consents:
            channel = "in_store" if action == "grant" else "phone"
            if action == "grant":
                await consent.grant_consent(ctx, customer_id, [purpose], notice_version=NOTICE_VERSION,
                                            channel=channel, evidence="演示：门店签署的授权书")
            else:
                await consent.withdraw_consent(ctx, customer_id, [purpose], channel=channel,
                                               evidence="演示：客户来电要求停止短信")
            report.consents += 1
        if planned.vehicle is not None and planned.buyer is not None and vehicles < len(ARCHIVE_STATES):
            target = ARCHIVE_STATES[vehicles]
            if await _archive_vehicle(tenant_id, registry, customer_id, planned.buyer, planned.vehicle, target,
                                      start + timedelta(days=7 * vehicles)):
                report.archives += 1
            vehicles += 1
    if vertical == "real_estate" and registry.definition(vertical) is not None:
        await seed_sales_office(tenant_id, registry, customer_ids, report)
    if vertical == "tobacco" and registry.definition(vertical) is not None:
        await seed_retailers(tenant_id, customer_ids, report)
    if vertical == "automotive" and registry.definition(vertical) is not None:
        await seed_sales_floor(tenant_id, customer_ids, report)
    return report
